"""``scim-processor serve``: the SCIM endpoint on a threaded WSGI server from the standard library.

One thread per request (the storage serialises SCIM operations, see
:mod:`~scim_processor.http.storage`); one log line per request (method, path, status, duration;
no bodies, no query strings, no headers); SIGINT and SIGTERM stop accepting connections, let the
requests in flight finish, then close the graph connection (and stop the embedded server if this
process started it). Binds to 127.0.0.1 unless told otherwise: put a TLS reverse proxy in front
of it for an identity provider (see the README).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from scim2_server.applications.wsgi import ForwardedHeaders

from ..config import Settings
from ..pipeline import ScimProcessor
from .app import MOUNT, create_app, logged
from .auth import TOKEN_VARIABLE, load_api_token

log = logging.getLogger("scim_processor.http")


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A WSGI server with a thread per request; closing it waits for the threads in flight."""

    daemon_threads = False
    block_on_close = True


class QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without its own access log (it prints the query string; ours does not)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Drops wsgiref's log line; :func:`~scim_processor.http.app.logged` writes one per request."""


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    dialect: str = "strict",
    *,
    trust_forwarded: bool = False,
    on_ready: Callable[[str], None] | None = None,
    install_signals: bool = True,
) -> None:
    """Serves ``/scim/v2`` until SIGINT or SIGTERM.

    Args:
        settings: the processor's settings (graph, limits, ``home`` for the token file).
        host: the interface to bind (127.0.0.1 by default: not reachable from other machines).
        port: the TCP port (0: any free port).
        dialect: ``strict``, ``entra`` or ``okta``.
        trust_forwarded: build URLs (``Location``, ``meta.location``) from the ``X-Forwarded-Proto``,
            ``-Host``, ``-Port`` and ``-Prefix`` headers of a TLS reverse proxy; only behind one.
        on_ready: called with the base URL once the server listens.
        install_signals: handle SIGINT/SIGTERM (only possible in the main thread).

    Raises:
        scim_processor.errors.SettingsError: the token is missing or its file is unsafe.
        scim_processor.errors.GraphError: the graph server cannot be reached.
        OSError: the port cannot be bound.
    """
    token = load_api_token(settings.home)
    with ScimProcessor.open(settings) as processor:
        application = create_app(processor, token, dialect)
        application = logged(ForwardedHeaders(application) if trust_forwarded else application)
        server = make_server(host, port, application, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
        bound_host, bound_port = server.server_address[:2]
        base_url = f"http://{bound_host!s}:{bound_port}{MOUNT}/v2"
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            if not stopping.is_set():
                stopping.set()
                log.info("stopping: finishing the requests in flight")
                threading.Thread(target=server.shutdown, daemon=True).start()

        if install_signals:
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
        where = TOKEN_VARIABLE if token.source == TOKEN_VARIABLE else f"the file {token.source}"
        log.info("SCIM 2.0 endpoint at %s (dialect %s); bearer token from %s", base_url, dialect, where)
        if on_ready:
            on_ready(base_url)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()  # joins the request threads still running
        log.info("stopped")


def configure_logging() -> None:
    """One line per record on stderr: ``<time> <message>`` for the endpoint's logger."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("scim_processor.http")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
