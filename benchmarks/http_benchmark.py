"""Requests per second of `scim-processor serve` on the embedded server, in a bounded loop on 127.0.0.1.

Run:  .venv/bin/python benchmarks/http_benchmark.py [N]
Starts `serve` in a temporary home (its own embedded graph server), then sends N sequential
`POST /Users` and N `GET /Users?filter=userName eq "…"` (one client, one connection per request:
the standard-library server speaks HTTP/1.0), and prints the rates. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, token: str, method: str = "GET", body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http://127.0.0.1 only
    request.add_header("Authorization", f"Bearer {token}")
    if data:
        request.add_header("Content-Type", "application/scim+json")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        response.read()
        return int(response.status)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    token = secrets.token_urlsafe(24)
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
        env.update(SCIM_PROCESSOR_HOME=home, SCIM_PROCESSOR_API_TOKEN=token)
        log = Path(home) / "serve.log"
        with log.open("w") as sink:
            server = subprocess.Popen([sys.executable, "-m", "scim_processor", "serve", "--port", str(port)], env=env, stdout=sink, stderr=sink)
        base = f"http://127.0.0.1:{port}/scim/v2"
        try:
            deadline = time.monotonic() + 120
            while "SCIM 2.0 endpoint at" not in log.read_text():
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(log.read_text())
                time.sleep(0.2)
            for i in range(20):  # warm-up (JIT of the graph server, guard caches)
                call(f"{base}/Users", token, "POST", {"schemas": [USER], "userName": f"warm{i}"})
            started = time.perf_counter()
            for i in range(n):
                assert call(f"{base}/Users", token, "POST", {"schemas": [USER], "userName": f"user{i}@example.com", "active": True}) == 201
            posts = n / (time.perf_counter() - started)
            started = time.perf_counter()
            for i in range(n):
                query = urllib.parse.quote(f'userName eq "USER{i}@example.com"')
                assert call(f"{base}/Users?filter={query}", token) == 200
            gets = n / (time.perf_counter() - started)
            print(f"POST /Users: {posts:.0f} requests/s; GET /Users?filter=userName eq: {gets:.0f} requests/s ({n} each, {n + 20} users)")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)


if __name__ == "__main__":
    main()
