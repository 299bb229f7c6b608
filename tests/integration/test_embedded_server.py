"""The embedded server's ownership and secrets, against the real ArcadeDB server in fresh homes.

Ownership: ``home/lock`` guards start and stop; every connection holds a shared lease on
``home/clients.lock``; the last lease of a transient server stops it; ``db start`` servers stay;
the state file's PID is trusted only with its start time. Secrets: no password on the java command
line or in its environment; the home 0700 and nothing under it readable by others.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from neo4j.exceptions import Neo4jError
from pydantic import SecretStr

from scim_processor import Settings
from scim_processor.config import GraphSettings
from scim_processor.errors import GraphError
from scim_processor.graph import EmbeddedServer, GraphConnection
from scim_processor.graph.connection import redact_uri
from scim_processor.graph.embedded import ServerInfo, process_start_time

pytestmark = pytest.mark.graph


def embedded_settings(home: Path) -> Settings:
    """Settings that select the embedded server under ``home`` (whatever NEO4J_* the environment has)."""
    return Settings(home=home, graph=GraphSettings(uri=None))


# ---------------------------------------------------------------- no server needed
def test_a_reused_pid_is_never_taken_for_the_server_nor_signalled(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        server = EmbeddedServer(tmp_path / "home")
        server.home.mkdir()
        started = process_start_time(stranger.pid)
        assert started is not None
        stale = ServerInfo("bolt://127.0.0.1:1", "scim", stranger.pid, started + 1, 1, False)
        server.state_file.write_text(json.dumps(stale.__dict__))
        assert server.status() is None
        assert server.stop() is False
        assert stranger.poll() is None  # still running: never signalled
        assert not server.state_file.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_uris_with_userinfo_are_never_echoed(tmp_path: Path) -> None:
    assert redact_uri("bolt://neo4j:s3cret@db.example:7687") == "bolt://db.example:7687"
    assert redact_uri("neo4j+s://db.example") == "neo4j+s://db.example"
    settings = Settings(home=tmp_path, graph=GraphSettings(uri="bolt://neo4j:s3cret@127.0.0.1:1", password=SecretStr("pw")))
    with pytest.raises(GraphError) as error:
        GraphConnection.open(settings)
    assert "s3cret" not in str(error.value) and "127.0.0.1:1" in str(error.value)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------- one server per test
def test_secrets_stay_off_the_process_list_and_the_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", "from-the-environment-7f3a")
    monkeypatch.setenv("SOME_API_TOKEN", "token-9c2e")
    server = EmbeddedServer(tmp_path / "home")
    info, lease = server.acquire()
    try:
        command_line = Path(f"/proc/{info.pid}/cmdline").read_bytes()
        environment = Path(f"/proc/{info.pid}/environ").read_bytes()
        for secret in (server.password(), server.reader_password(), "from-the-environment-7f3a", "token-9c2e"):
            assert secret.encode() not in command_line
            assert secret.encode() not in environment
        assert b"rootPasswordPath" in command_line  # the path is there, the value is not
        assert server.home.stat().st_mode & 0o777 == 0o700
        exposed = [str(path) for path in server.home.rglob("*") if path.stat().st_mode & 0o077]
        assert exposed == []  # databases, config, logs, state, passwords: owner only
        assert (server.home / "arcadedb" / "databases").is_dir()
        logs = (server.home / "server.log").read_text() + "".join(p.read_text(errors="replace") for p in (server.home / "arcadedb" / "log").glob("*"))
        assert server.password() not in logs and server.reader_password() not in logs
        with GraphConnection.open(embedded_settings(server.home)) as writer:  # root, who may write
            for url in ("file:///etc/passwd", f"http://127.0.0.1:{info.http_port}/api/v1/ready"):
                with pytest.raises(Neo4jError):
                    writer.read(f"LOAD CSV FROM '{url}' AS line RETURN line LIMIT 1")
    finally:
        server.release(lease)


def test_the_last_connection_out_stops_a_transient_server(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path / "home")
    server = EmbeddedServer(settings.home)
    first = GraphConnection.open(settings)
    second = GraphConnection.open(settings, read_only=True)
    info = server.status()
    assert info is not None and not info.persistent and server.in_use()
    first.close()
    assert server.status() == info  # the second connection still uses it
    assert second.read("RETURN 1 AS one") == [{"one": 1}]
    second.close()
    assert server.status() is None and not info.alive()


def test_db_start_adopts_a_transient_server_which_then_outlives_its_starter(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path / "home")
    server = EmbeddedServer(settings.home)
    connection = GraphConnection.open(settings)  # a `process` run's transient server
    adopted = server.start(persistent=True)  # `db start` meanwhile
    assert adopted.persistent and server.status() == adopted
    connection.close()
    assert server.status() == adopted  # the starter left it running
    with GraphConnection.open(settings) as again:
        assert again.read("RETURN 1 AS one") == [{"one": 1}]
    assert server.status() == adopted  # a db start server is never stopped by a command
    assert server.stop() is True and server.status() is None and not adopted.alive()


def test_db_stop_waits_for_the_commands_using_the_server(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path / "home")
    server = EmbeddedServer(settings.home)
    info = server.start(persistent=True)
    connection = GraphConnection.open(settings)
    assert server.stop(force=False) is True
    assert info.alive() and server.status() is not None and not server.status().persistent  # type: ignore[union-attr]
    connection.close()  # the last user out
    assert not info.alive()


ORPHAN_MAKER = """
import os, sys
from pathlib import Path
from scim_processor.graph import EmbeddedServer
info, lease = EmbeddedServer(Path(sys.argv[1])).acquire()
print(info.pid, flush=True)
os.kill(os.getpid(), 9)  # a CLI killed with its server running
"""


def test_an_orphan_of_a_killed_command_is_adopted_and_stopped_by_the_next(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = subprocess.run([sys.executable, "-c", ORPHAN_MAKER, str(home)], check=False, capture_output=True, text=True, timeout=180)
    assert run.returncode == -signal.SIGKILL
    server = EmbeddedServer(home)
    orphan = server.status()
    assert orphan is not None and orphan.pid == int(run.stdout) and not server.in_use()
    with GraphConnection.open(embedded_settings(home)) as connection:
        assert connection.read("RETURN 1 AS one") == [{"one": 1}]
        assert server.status() == orphan  # adopted, not restarted
    assert server.status() is None and not orphan.alive()


def test_a_server_that_dies_mid_run_is_one_line_within_seconds(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path / "home")
    connection = GraphConnection.open(settings)
    try:
        info = EmbeddedServer(settings.home).status()
        assert info is not None
        os.kill(info.pid, signal.SIGKILL)
        began = time.monotonic()
        with pytest.raises(GraphError) as error:
            connection.write([("UNWIND range(1, 10) AS i CREATE (:Probe {i: i})", {})])
        print(f"server killed: GraphError after {time.monotonic() - began:.1f} s: {error.value}")
        assert "\n" not in str(error.value) and "stopped running" in str(error.value)
    finally:
        connection.close()
    assert EmbeddedServer(settings.home).status() is None
