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
from pathlib import Path
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


def map_oracle(dataset: Path, noisy: bool = False) -> Callable[[dict[str, Any]], Any]:
    """Answers each map request with the expected resource of the eval item whose record it is.

    With ``noisy``, some items first get a wrong answer, deterministically by position: every 4th
    adds ``isAdmin`` (non-schema), every 5th an invented title (ungrounded), and every 8th never
    stops inventing it (rejected after N). Without it this is plumbing only (every metric 1.0).
    """
    items = [json.loads(line) for line in dataset.read_text().splitlines() if line.strip()]
    calls: dict[int, int] = {}

    def answer(body: dict[str, Any]) -> Any:
        if body.get("response_format", {}).get("json_schema", {}).get("name") == "scim_mapping":
            return shape_answer(items, body)
        text = user_text(body)
        index = next(n for n, i in enumerate(items) if (i["expected"].get("userName") or i["expected"]["displayName"]) in text)
        calls[index] = calls.get(index, 0) + 1
        expected = items[index]["expected"]
        if noisy and index % 8 == 3:
            return {**expected, "title": "Chief Executive Officer"}
        if noisy and calls[index] == 1 and index % 4 == 1:
            return {**expected, "isAdmin": True}
        if noisy and calls[index] == 1 and index % 5 == 2:
            return {**expected, "title": "Chief Executive Officer"}
        return expected

    return answer


def shape_answer(items: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """A whole-file item's labelled ``mapping`` entries for the fields the proposal request asks about.

    The item is the one whose text names every requested field (a JSON path by its last key).
    """
    schema = body["response_format"]["json_schema"]["schema"]
    requested = schema["properties"]["fields"]["items"]["properties"]["source"]["enum"]
    item = next(i for i in items if "mapping" in i and all(r.rsplit(".", 1)[-1] in i["text"] for r in requested))
    return {"fields": [{**e, "args": e.get("args")} for e in item["mapping"]["fields"] if e["source"] in requested]}


def ask_oracle(dataset: Path, noisy: bool = False) -> Callable[[dict[str, Any]], Any]:
    """Answers each question with the eval set's reference query, or a refusal.

    With ``noisy``: every 4th question first gets a ``DETACH DELETE``, every 5th a query with a
    string literal, and every 7th a query where a refusal (or an answer) was due.
    """
    items = [json.loads(line) for line in dataset.read_text().splitlines() if line.strip()]
    calls: dict[int, int] = {}

    def answer(body: dict[str, Any]) -> Any:
        question = user_text(body).removeprefix("Question: ")
        index = next(n for n, i in enumerate(items) if i["question"] == question)
        calls[index] = calls.get(index, 0) + 1
        item = items[index]
        if noisy and index % 7 == 3:
            if item.get("refusal"):
                return {"cypher": "MATCH (u:User) RETURN u.userName AS userName", "parameters": {}, "refusal": None}
            return {"cypher": None, "parameters": {}, "refusal": "I am not sure."}
        if noisy and calls[index] == 1 and index % 4 == 1:
            return {"cypher": "MATCH (u:User) DETACH DELETE u", "parameters": {}, "refusal": None}
        if noisy and calls[index] == 1 and index % 5 == 2:
            return {"cypher": "MATCH (u:User) WHERE u.title = 'x' RETURN u.userName AS userName", "parameters": {}, "refusal": None}
        if item.get("refusal"):
            return {"cypher": None, "parameters": {}, "refusal": "not in the graph"}
        return {"cypher": item["cypher"], "parameters": item["parameters"], "refusal": None}

    return answer
