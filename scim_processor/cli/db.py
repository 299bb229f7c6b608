"""``db start|stop|status``: the embedded graph server."""

from __future__ import annotations

from typing import Annotated

import typer

from ..config import load_settings
from ..errors import GraphError
from ..graph import EmbeddedServer
from .app import db_app, exit_codes
from .output import Format, Guarded, JsonAlias, OutputFormat, chosen, out, print_json


@db_app.command("start", epilog=exit_codes())
def db_start() -> None:
    """Start the embedded server and leave it running until `db stop` (commands then reuse it).

    [bold]Example[/bold]
      scim-processor db start
    """
    with Guarded():
        server = EmbeddedServer(load_settings().home)
        info = server.start(persistent=True)
        # Adopting a server another command started: it is now marked persistent under the lock,
        # so its starter leaves it running; check it is still the same live process before saying so.
        if server.status() != info:
            raise GraphError("the embedded graph server stopped while being started; run `scim-processor db start` again")
    out.print(f"embedded graph server running: {info.uri} (database {info.database}, pid {info.pid})", highlight=False)


@db_app.command("stop", epilog=exit_codes())
def db_stop(
    force: Annotated[bool, typer.Option("--force", help="Stop it even while other commands use it.")] = False,
) -> None:
    """Stop the embedded server (once the commands using it are done, unless --force).

    [bold]Example[/bold]
      scim-processor db stop --force
    """
    with Guarded():
        server = EmbeddedServer(load_settings().home)
        busy = server.in_use()
        stopped = server.stop(force=force)
    if stopped and busy and not force:
        out.print("in use by another scim-processor command: it stops when that command ends (--force stops it now)")
    else:
        out.print("stopped" if stopped else "not running")


@db_app.command("status", epilog=exit_codes())
def db_status(fmt: Format = OutputFormat.table, as_json: JsonAlias = False) -> None:
    """Show whether the embedded server is running, who started it, and whether commands use it.

    JSON: {"running", "uri", "database", "pid", "persistent", "in_use", "home"}.

    [bold]Example[/bold]
      scim-processor db status --format json
    """
    fmt = chosen(fmt, as_json)
    with Guarded(fmt):
        settings = load_settings()
        server = EmbeddedServer(settings.home)
        info = server.status()
        in_use = info is not None and server.in_use()
    data = {"running": info is not None, "uri": info.uri if info else None, "database": info.database if info else None,
            "pid": info.pid if info else None, "persistent": info.persistent if info else None,
            "in_use": in_use, "home": str(settings.home)}  # fmt: skip
    if fmt == OutputFormat.json:
        print_json(data)
    elif info is None:
        out.print("not running")
    else:
        if info.persistent:
            how = "started by db start"
        else:
            how = "used by a running command" if in_use else "left by an interrupted command; the next command adopts and stops it"
        out.print(f"running at {info.uri} (pid {info.pid}; {how})", highlight=False)

