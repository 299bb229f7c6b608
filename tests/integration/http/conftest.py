"""A WSGI client for the endpoint, in process (no socket), and the app over the test graph."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from scim_processor import ScimProcessor
from scim_processor.http.app import create_app
from scim_processor.http.auth import TOKEN_VARIABLE, ApiToken, load_api_token

TOKEN = "test-token-0123456789abcdef"  # noqa: S105 - a test token


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


class WsgiClient:
    """Calls a WSGI app as a server would, on http://localhost."""

    def __init__(self, app: Callable[..., Any], token: str | None = TOKEN):
        self.app = app
        self.token = token

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, token: str | None | object = ...) -> Response:
        split = urlsplit(path)
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": split.path, "QUERY_STRING": split.query, "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "HTTP_HOST": "localhost", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
            "CONTENT_LENGTH": str(len(data)), "SCRIPT_NAME": "",
        }  # fmt: skip
        if data:
            environ["CONTENT_TYPE"] = "application/scim+json"
        bearer = self.token if token is ... else token
        if bearer is not None:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = int(status.split()[0]), dict(response_headers)

        raw = b"".join(self.app(environ, start_response))
        return Response(captured["status"], captured["headers"], json.loads(raw) if raw else None)


@pytest.fixture
def api_token(tmp_path: Any) -> ApiToken:
    return load_api_token(tmp_path, {TOKEN_VARIABLE: TOKEN})


@pytest.fixture
def client(processor: ScimProcessor, api_token: ApiToken) -> WsgiClient:
    """The endpoint over a wiped graph with the bundled schemas, with the resource store of this build."""
    return WsgiClient(create_app(processor, api_token))
