"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (standard library only).

It answers ``POST /v1/chat/completions`` from a script: each request pops the next step, which is
the assistant's content (a string, or a dict/list sent as JSON text), a callable taking the
request body and returning either, an :class:`ApiRefusal` (OpenAI's ``refusal`` field), or an
``int`` HTTP status to fail with. With the script empty,
``fallback`` (if set) answers. Every request body is kept in ``requests`` so tests can assert the
request shape (``response_format`` json_schema, the correction messages).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class ApiRefusal(str):
    """A step answering with OpenAI's structured-outputs refusal: ``content`` null, ``refusal`` this text."""


Step = str | dict[str, Any] | list[Any] | int | Callable[[dict[str, Any]], Any]


class ScriptedServer:
    """The server; use as a context manager. ``base_url`` is ``http://127.0.0.1:PORT/v1``."""

    def __init__(self) -> None:
        self.script: list[Step] = []
        self.requests: list[dict[str, Any]] = []
        self.fallback: Callable[[dict[str, Any]], Any] | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                server.requests.append(body)
                step: Any = server.script.pop(0) if server.script else server.fallback
                if step is None:
                    self._send(500, {"error": {"message": "script exhausted"}})
                    return
                if callable(step):
                    step = step(body)
                if isinstance(step, int):
                    self._send(step, {"error": {"message": f"scripted status {step}", "type": "server_error"}})
                    return
                message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": str(step)}
                if not isinstance(step, ApiRefusal):
                    message = {"role": "assistant", "content": step if isinstance(step, str) else json.dumps(step)}
                content = str(message["content"] or message.get("refusal"))
                prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
                completion = len(content.split())
                self._send(200, {
                    "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
                })  # fmt: skip

            def _send(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self, *steps: Step) -> None:
        """Replaces the script and forgets the requests."""
        self.script = list(steps)
        self.requests = []
        self.fallback = None


def user_text(body: dict[str, Any]) -> str:
    """The first user message of a request."""
    return next(str(m["content"]) for m in body["messages"] if m["role"] == "user")
