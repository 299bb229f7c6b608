"""``serve``: the SCIM 2.0 endpoint over the graph."""

from __future__ import annotations

from typing import Annotated

import typer

from ..config import load_settings
from ..operations import dialect
from .app import SERVER, app, exit_codes
from .options import DialectOption
from .output import Guarded


@app.command("serve", rich_help_panel=SERVER, epilog=exit_codes())
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind; 127.0.0.1 keeps it local (TLS proxy for IdPs).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free port).")] = 8080,
    dialect_name: DialectOption = None,
    forwarded: Annotated[bool, typer.Option("--trust-forwarded-headers", help="Behind a TLS reverse proxy: URLs from X-Forwarded-*.")] = False,
) -> None:
    """Serve a SCIM 2.0 endpoint (RFC 7644) over the graph at http://HOST:PORT/scim/v2 (bearer token required).

    Runs until Ctrl-C or SIGTERM.

    [bold]Examples[/bold]
      scim-processor serve --port 8080
      scim-processor serve --host 0.0.0.0 --dialect entra --trust-forwarded-headers
    """
    from ..http import server as http_server

    http_server.configure_logging()
    with Guarded():
        settings = load_settings()
        http_server.serve(settings, host, port, dialect(dialect_name or settings.dialect).name, trust_forwarded=forwarded)

