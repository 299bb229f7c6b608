"""End to end: `scim-processor serve` as a process on 127.0.0.1 — auth, discovery, the conformance
suites' command lines, graceful shutdown on SIGTERM, and no secret in its log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TOKEN = "e2e-token-0123456789abcdef"  # noqa: S105 - a test token


def _call(url: str, token: str | None = TOKEN, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - 127.0.0.1 only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data:
        request.add_header("Content-Type", "application/scim+json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def served(processor, graph_settings, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """A running `serve` on a free port of 127.0.0.1, pointed at the session's graph."""
    graph = graph_settings.graph
    env = {
        **os.environ,
        "NEO4J_URI": graph.uri or "", "NEO4J_USERNAME": graph.username,
        "NEO4J_PASSWORD": graph.password.get_secret_value(), "NEO4J_DATABASE": graph.database or "",
        "SCIM_PROCESSOR_HOME": str(tmp_path / "home"), "SCIM_PROCESSOR_API_TOKEN": TOKEN,
    }  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "scim_processor", "serve", "--port", "0"], env=env, stderr=sink, stdout=sink, text=True)
    base = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        text = log.read_text()
        if "SCIM 2.0 endpoint at " in text:
            base = text.split("SCIM 2.0 endpoint at ", 1)[1].split()[0]
            break
        time.sleep(0.2)
    assert base, log.read_text()
    try:
        yield base, process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def test_serve_answers_then_stops_gracefully_on_sigterm(served: tuple[str, subprocess.Popen[str], Path]) -> None:
    base, process, log = served
    assert base.startswith("http://127.0.0.1:") and base.endswith("/scim/v2")
    assert _call(base + "/Users", token=None)[0] == 401
    status, config = _call(base + "/ServiceProviderConfig")
    assert status == 200 and config["etag"]["supported"] is True
    assert _call(base + "/Me")[0] == 501
    _call(base + "/Users?filter=userName%20eq%20%22x%22")
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    text = log.read_text()
    assert "GET /scim/v2/Users 401" in text and "GET /scim/v2/ServiceProviderConfig 200" in text and "stopped" in text
    assert TOKEN not in text and "Traceback" not in text and "filter" not in text
