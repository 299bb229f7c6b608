"""What every command shares: the consoles, ``--format``, strict JSON output, one-line errors (exit 2), the progress rate column."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    ProgressColumn,
    Task,
)
from rich.text import Text

from ..errors import ScimError, ScimProcessorError, UsageError

out = Console()
err = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    """What a command prints: ``table`` for people, ``json`` for programs (errors included)."""

    table = "table"
    json = "json"


Format = Annotated[
    OutputFormat,
    typer.Option("--format", case_sensitive=False, help="table (for people) or json (for programs; errors are JSON too)."),
]
JsonAlias = Annotated[bool, typer.Option("--json", hidden=True, help="Deprecated: --format json.")]


def chosen(fmt: OutputFormat, json_alias: bool = False) -> OutputFormat:
    """The format asked for: ``--format``, or ``json`` under the deprecated ``--json``."""
    return OutputFormat.json if json_alias else fmt


def json_requested(args: Sequence[str]) -> bool:
    """True if a command line asks for JSON output (``--format json``, ``--format=json`` or ``--json``)."""
    for index, arg in enumerate(args):
        if arg == "--json" or arg.lower() == "--format=json":
            return True
        if arg == "--format" and index + 1 < len(args) and args[index + 1].lower() == "json":
            return True
    return False


def summary_console(results_on_stdout: bool = False) -> Console:
    """Where a summary goes: stdout on a terminal, else stderr (so stdout stays data for a pipe)."""
    return out if out.is_terminal and not results_on_stdout else err


def refuse_overwrite(path: Path | None, force: bool) -> None:
    """Refuses to overwrite an existing results file unless ``force`` (``None`` or ``-``, stdout: nothing to refuse).

    Raises:
        UsageError: ``path`` exists and ``force`` is false (the message names it; exit 2).
    """
    if path is not None and path != Path("-") and path.exists() and not force:
        raise UsageError(f"the results file {path} exists: give --force to overwrite it, or another --output")


def fail(message: str, *, json: bool = False) -> typer.Exit:
    """Prints the error, one line, and returns the exit 2 to raise.

    Table mode: ``error: MESSAGE`` on stderr. JSON mode: ``{"error": MESSAGE}`` on stdout.
    """
    if json:
        sys.stdout.write(strict_json({"error": message}) + "\n")
    else:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def print_error(error: ScimError, fmt: OutputFormat) -> None:
    """A SCIM error: its RFC 7644 §3.12 body on stdout (JSON mode), else ``error: <status> <scimType>: <detail>`` on stderr."""
    if fmt == OutputFormat.json:
        print_json(error.to_dict())
    else:
        kind = f" {error.scim_type}" if error.scim_type else ""
        err.print(f"[red]error:[/red] {error.status}{escape(kind)}: {escape(str(error.detail))}", highlight=False, soft_wrap=True)


def _finite(data: Any) -> Any:
    """``data`` with non-finite floats (which strict JSON has no form for) as strings."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def strict_json(data: Any, indent: int | None = None) -> str:
    """Strict JSON text (RFC 8259: no NaN/Infinity; other non-JSON values as strings).

    Characters that some line splitters treat as line breaks (U+2028, U+2029, U+0085) are
    escaped, so one JSON Lines record stays one line for every reader.
    """
    try:
        text = json.dumps(data, indent=indent, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), indent=indent, default=str, ensure_ascii=False, allow_nan=False)
    return text.translate(_LINE_BREAKS)


def print_json(data: Any) -> None:
    """Prints ``data`` as indented strict JSON on stdout."""
    sys.stdout.write(strict_json(data, indent=2) + "\n")


class RateColumn(ProgressColumn):
    """Payloads per second."""

    def render(self, task: Task) -> Text:
        """The task's rate, once rich has measured one."""
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


class Guarded:
    """Runs a command body, turning package errors into exit code 2 with one line.

    Args:
        fmt: the command's output format: under ``json`` the error is JSON on stdout, the SCIM
            error body (RFC 7644 §3.12) for a SCIM error, else ``{"error": "..."}``.
    """

    def __init__(self, fmt: OutputFormat = OutputFormat.table) -> None:
        self.fmt = fmt

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> Literal[False]:
        if error is None or isinstance(error, (typer.Exit, SystemExit, KeyboardInterrupt)):
            return False
        as_json = self.fmt == OutputFormat.json
        if isinstance(error, ScimError):
            print_error(error, self.fmt)
            raise typer.Exit(2) from None
        if isinstance(error, (ScimProcessorError, OSError, ValueError)):
            raise fail(str(error), json=as_json) from None
        raise fail(f"{type(error).__name__}: {error}", json=as_json) from None

