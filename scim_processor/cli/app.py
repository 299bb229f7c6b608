"""The typer application, its command groups and help panels, and the options every command shares.

Every command is built by :class:`App` with :class:`Command`: ``-h`` as well as ``--help``, flags
shown as flags (not ``--dry-run <bool>``), and a usage error printed as ``{"error": ...}`` when the
command line asks for ``--format json``. SIGTERM unwinds like Ctrl-C.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from typer._click import Context, Parameter  # typer >= 0.26 runs on its own copy of click
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup, TyperOption

from .output import err, fail, json_requested, out

CONTEXT = {"help_option_names": ["-h", "--help"]}

PROCESSING = "Processing"
GRAPH = "Graph"
LLM = "LLM"
SERVER = "Server"

EXIT_CODES = "Exit codes: 0 success; 1 {one}; 2 a usage, settings or graph-server error (one line, no traceback)."
EXIT_OK = "Exit codes: 0 success; 2 a usage, settings or graph-server error (one line, no traceback)."


def exit_codes(one: str | None = None) -> str:
    """The epilog of a command: its exit codes (``one``: what exit code 1 means for it, if it has one)."""
    return EXIT_CODES.format(one=one) if one else EXIT_OK


def _show_flags_as_flags(params: Sequence[Parameter]) -> None:
    """A boolean flag takes no value: show none (typer would show ``<bool>``)."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""


class Command(TyperCommand):
    """A typer command whose usage errors come as JSON under ``--format json``, and whose flags show as flags."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        """The parameters, flags without a value type."""
        params = super().get_params(ctx)
        _show_flags_as_flags(params)
        return params

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Parses as click does; under ``--format json`` a usage error is ``{"error": ...}`` on stdout (exit 2)."""
        asked_json = json_requested(args)
        try:
            return super().parse_args(ctx, args)
        except UsageError as error:
            if not asked_json:
                raise
            raise fail(error.format_message(), json=True) from None


class Group(TyperGroup):
    """A typer group with flags shown as flags."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        """The parameters, flags without a value type."""
        params = super().get_params(ctx)
        _show_flags_as_flags(params)
        return params


class App(typer.Typer):
    """``typer.Typer`` whose commands are :class:`Command` and groups :class:`Group`, with ``-h``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("context_settings", CONTEXT)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("rich_markup_mode", "rich")
        super().__init__(**kwargs)

    def command(self, name: str | None = None, **kwargs: Any) -> Callable[[Any], Any]:
        """Registers a command (a :class:`Command`, ``-h`` included)."""
        kwargs.setdefault("cls", Command)
        kwargs.setdefault("context_settings", CONTEXT)
        return super().command(name, **kwargs)


app = App(help="Turn SCIM 2.0 payloads into a schema-checked identity graph.", add_completion=True)
schemas_app = App(help="The SCIM schemas in the graph.")
cypher_app = App(help="Check or run Cypher through the guard.")
db_app = App(help="The embedded graph server (used when NEO4J_URI is unset).")
app.add_typer(schemas_app, name="schemas", rich_help_panel=GRAPH)
app.add_typer(cypher_app, name="cypher", rich_help_panel=GRAPH)
app.add_typer(db_app, name="db", rich_help_panel=GRAPH)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C (exit 143, POSIX: 128 + signal number).

    Connections close, and a server this command started is stopped unless another command still uses it.
    """
    raise SystemExit(128 + signum)


def package_version() -> str:
    """The installed version of the ``scim-processor`` distribution (its metadata, i.e. pyproject's ``version``)."""
    try:
        return version("scim-processor")
    except PackageNotFoundError:  # run from a tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        out.print(f"scim-processor {package_version()}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    _version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours in the output (as does the NO_COLOR variable).")] = False,
) -> None:
    """Turn SCIM 2.0 payloads into a schema-checked identity graph.

    Start with [bold]scim-processor process FILE[/bold] (bundled schemas are loaded on first use);
    every command takes -h.
    """
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if no_color:
        os.environ["NO_COLOR"] = "1"  # consoles made from now on (typer's error console) honour it too
        out.no_color = err.no_color = True
