"""The typer application and its command groups; SIGTERM unwinds like Ctrl-C."""

from __future__ import annotations

import signal

import typer

app = typer.Typer(help="Turn SCIM 2.0 payloads into a schema-checked identity graph.", no_args_is_help=True, add_completion=False)
schemas_app = typer.Typer(help="The SCIM schemas in the graph.", no_args_is_help=True)
cypher_app = typer.Typer(help="Check or run Cypher through the guard.", no_args_is_help=True)
db_app = typer.Typer(help="The embedded graph server (used when NEO4J_URI is unset).", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(cypher_app, name="cypher")
app.add_typer(db_app, name="db")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C (exit 143, POSIX: 128 + signal number).

    Connections close, and a server this command started is stopped unless another command still uses it.
    """
    raise SystemExit(128 + signum)


@app.callback()
def _main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

