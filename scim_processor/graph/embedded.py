"""The embedded default graph server: ArcadeDB with its Bolt plugin, from the PyPI wheel.

No Docker and no Neo4j run on the project's machines, so with no ``NEO4J_URI`` the project starts
an ArcadeDB server (Apache-2.0) on 127.0.0.1 that speaks Bolt; the same ``neo4j`` driver and the
same Cypher drive it (``shared/notes/graph-backends.md``). The wheel ships the server jars and its
own JRE, so nothing else is needed.

Files under ``home``: ``arcadedb/`` (the server's root: databases, config, logs),
``server.json`` (uri, database, pid and ports of a running server), ``root-password`` (mode 0600,
generated at first start) and ``server.log`` (the server's console).
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import GraphError

DATABASE = "scim"
USERNAME = "root"


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server, as recorded in ``home/server.json``.

    Attributes:
        uri: the Bolt URI, ``bolt://127.0.0.1:PORT``.
        database: the database name the Bolt plugin serves by default.
        pid: the server's process id.
        http_port: the HTTP port (readiness probe).
        persistent: True if ``db start`` started it (it then runs until ``db stop``).
    """

    uri: str
    database: str
    pid: int
    http_port: int
    persistent: bool


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _package_dir() -> Path:
    spec = importlib.util.find_spec("arcadedb_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise GraphError("the embedded graph server is not installed (pip package arcadedb-embedded)")
    return Path(next(iter(spec.submodule_search_locations)))


class EmbeddedServer:
    """Starts, finds and stops the embedded ArcadeDB Bolt server kept under ``home``.

    Args:
        home: the directory that holds the server's data and state (created if missing).

    Raises:
        GraphError: from :meth:`start` if the server cannot start or is not ready in time.
    """

    def __init__(self, home: Path):
        self.home = Path(home)
        self.state_file = self.home / "server.json"
        self.log_file = self.home / "server.log"

    def password(self) -> str:
        """The root password, generated (48 hex chars) at first use and kept in a 0600 file."""
        path = self.home / "root-password"
        if path.exists():
            return path.read_text().strip()
        self.home.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value

    def status(self) -> ServerInfo | None:
        """The running server recorded in ``server.json``, or None (a stale file is removed)."""
        try:
            info = ServerInfo(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not _alive(info.pid):
            self.state_file.unlink(missing_ok=True)
            return None
        return info

    def start(self, *, persistent: bool = False, timeout: float = 90.0) -> ServerInfo:
        """Starts the server on free 127.0.0.1 ports, or returns the one already running.

        Args:
            persistent: record that ``db start`` started it, so commands leave it running.
            timeout: seconds to wait for HTTP readiness and the Bolt port.

        Returns:
            The server's :class:`ServerInfo`.

        Raises:
            GraphError: the package is missing, the process exited, or it was not ready in time.
        """
        running = self.status()
        if running is not None:
            return running
        package = _package_dir()
        java = package / "jre" / "bin" / "java"
        root = self.home / "arcadedb"
        root.mkdir(parents=True, exist_ok=True)
        password = self.password()
        http_port, bolt_port = _free_port(), _free_port()
        command = [
            str(java),
            "-Xms128m",
            "-Xmx2g",
            "-cp",
            str(package / "jars" / "*"),
            f"-Darcadedb.server.rootPath={root}",
            f"-Darcadedb.server.databaseDirectory={root / 'databases'}",
            f"-Darcadedb.server.defaultDatabases={DATABASE}[{USERNAME}]",
            "-Darcadedb.server.httpIncomingHost=127.0.0.1",
            f"-Darcadedb.server.httpIncomingPort={http_port}",
            "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "-Darcadedb.bolt.host=127.0.0.1",
            f"-Darcadedb.bolt.port={bolt_port}",
            f"-Darcadedb.bolt.defaultDatabase={DATABASE}",
            "com.arcadedb.server.ArcadeDBServer",
        ]
        if not (root / "config" / "server-users.jsonl").exists():
            # Needed at the first start only (the server then keeps a hash): later starts keep the
            # password off the process list.
            command.insert(-1, f"-Darcadedb.server.rootPassword={password}")
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=root,
                start_new_session=True,
            )
        info = ServerInfo(f"bolt://127.0.0.1:{bolt_port}", DATABASE, process.pid, http_port, persistent)
        try:
            self._wait_ready(process, info, bolt_port, timeout)
        except GraphError:
            self._terminate(process.pid)
            raise
        self.state_file.write_text(json.dumps(asdict(info)))
        return info

    def _wait_ready(self, process: subprocess.Popen[bytes], info: ServerInfo, bolt_port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise GraphError(f"the embedded graph server exited with code {process.returncode}; see {self.log_file}")
            try:
                url = f"http://127.0.0.1:{info.http_port}/api/v1/ready"
                with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback only)
                    ready = 200 <= response.status < 300
            except (urllib.error.URLError, OSError):
                ready = False
            if ready:
                try:
                    with socket.create_connection(("127.0.0.1", bolt_port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise GraphError(f"the embedded graph server was not ready after {timeout:.0f} s; see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Stops the recorded server (SIGTERM, then SIGKILL after ``timeout`` s).

        Returns:
            True if a server was running and is now stopped, False if none was running.
        """
        info = self.status()
        if info is None:
            return False
        self._terminate(info.pid, timeout)
        self.state_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _terminate(pid: int, timeout: float = 30.0) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
