"""The embedded default graph server: ArcadeDB with its Bolt plugin, from the PyPI wheel.

No Docker and no Neo4j run on the project's machines, so with no ``NEO4J_URI`` the project starts
an ArcadeDB server (Apache-2.0) on 127.0.0.1 that speaks Bolt; the same ``neo4j`` driver and the
same Cypher drive it. The wheel ships the server jars and its own JRE, so nothing else is needed.

Files under ``home`` (the directory is mode 0700; every file below is 0600):

``arcadedb/``
    the server's root (databases, ``config/server-users.jsonl``, logs), written by the java child
    under umask 077.
``root-password``, ``reader-password``
    the generated passwords of the ``root`` user and of the read-only ``reader`` user. The root
    password reaches the server as a *path* (``-Darcadedb.server.rootPasswordPath``), never as a
    value on the command line or in the environment.
``server.json``
    the running server: Bolt URI, database, PID **and** the process start time from
    ``/proc/<pid>/stat``, so that a reused PID is never taken for the server nor signalled.
``lock``
    an advisory ``fcntl`` lock held while a command starts, adopts or stops the server.
``clients.lock``
    every open connection to the embedded server holds a *shared* lock on it for its lifetime (a
    lease). The kernel drops the lease when the process ends, however it ends, so a command that
    can take this lock *exclusively* knows nobody else uses the server: the last one out stops a
    transient server; a server that ``db start`` started (``persistent``) is only stopped by
    ``db stop``.
``server.log``
    the server's console.

The read-only user: ArcadeDB server users belong to groups with per-database permissions
(``config/server-groups.json``: ``access`` for ``updateSecurity`` / ``updateSchema`` /
``updateDatabaseSettings`` and, per type, ``createRecord`` / ``readRecord`` / ``updateRecord`` /
``deleteRecord``). The group ``reader`` of database ``scim`` has only ``readRecord``; the server then
refuses ``CREATE``, ``SET``, ``DELETE``, ``MERGE`` that writes, schema changes and ``LOAD CSV`` of local
files (which needs ``updateSecurity``) with ``Neo.ClientError.Security.Forbidden``. It is created
through the HTTP API on 127.0.0.1 (``POST /api/v1/server/groups``, ``POST|PUT /api/v1/server/users``),
with the root credentials in the request's ``Authorization`` header.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import GraphError

DATABASE = "scim"
USERNAME = "root"
READER_USERNAME = "reader"
READER_GROUP = "reader"

LOCK_TIMEOUT = 120.0
"""Seconds a command waits for another one's start or stop of the server (``home/lock``)."""

_READER_GROUP_DEFINITION: dict[str, Any] = {
    "resultSetLimit": -1,
    "readTimeout": -1,
    "access": [],
    "types": {"*": {"access": ["readRecord"]}},
}


def process_start_time(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22).

    Returns:
        The start time, or None if there is no such process (or it is a zombie).

    Source: proc(5), ``/proc/pid/stat``: ``(22) starttime``; ``(3) state`` Z for a zombie.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last one.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server, as recorded in ``home/server.json``.

    Attributes:
        uri: the Bolt URI, ``bolt://127.0.0.1:PORT``.
        database: the database name the Bolt plugin serves by default.
        pid: the server's process id.
        start_time: the process start time (``/proc/<pid>/stat`` field 22, clock ticks since boot).
        http_port: the HTTP port (readiness probe, user administration).
        persistent: True if ``db start`` started or adopted it (it then runs until ``db stop``).
    """

    uri: str
    database: str
    pid: int
    start_time: int
    http_port: int
    persistent: bool

    def alive(self) -> bool:
        """True while the recorded process runs and is the one recorded (same start time)."""
        return process_start_time(self.pid) == self.start_time


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _package_dir() -> Path:
    spec = importlib.util.find_spec("arcadedb_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise GraphError("the embedded graph server is not installed (pip package arcadedb-embedded)")
    return Path(next(iter(spec.submodule_search_locations)))


def _write_private(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` (mode 0600) atomically: a temporary file, then a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


class Lease:
    """A connection's share of the embedded server: a shared ``flock`` on ``home/clients.lock``.

    Released by :meth:`EmbeddedServer.release` (which stops a transient server if this was the last
    lease), or by the kernel when the process ends.
    """

    def __init__(self, fd: int):
        self.fd: int | None = fd

    def drop(self) -> None:
        """Closes the file descriptor, which releases the shared lock (idempotent)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class EmbeddedServer:
    """Starts, adopts, leases and stops the embedded ArcadeDB Bolt server kept under ``home``.

    Args:
        home: the directory that holds the server's data and state (created mode 0700 if missing).

    Raises:
        GraphError: from :meth:`start` / :meth:`acquire` if the server cannot start or is not ready
            in time, or another command holds ``home/lock`` for longer than :data:`LOCK_TIMEOUT`.
    """

    def __init__(self, home: Path):
        self.home = Path(home)
        self.state_file = self.home / "server.json"
        self.log_file = self.home / "server.log"
        self.lock_file = self.home / "lock"
        self.clients_file = self.home / "clients.lock"
        self.root_password_file = self.home / "root-password"
        self.reader_password_file = self.home / "reader-password"

    # ------------------------------------------------------------------ files
    def _ensure_home(self) -> None:
        """Creates ``home`` mode 0700 (and tightens an existing one that is ours)."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.home.stat().st_uid == os.getuid() and self.home.stat().st_mode & 0o077:
            self.home.chmod(0o700)

    def _secret(self, path: Path) -> str:
        if path.exists():
            return path.read_text().strip()
        self._ensure_home()
        value = secrets.token_hex(24)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value

    def password(self) -> str:
        """The root password, generated (48 hex chars) at first use and kept in a 0600 file."""
        return self._secret(self.root_password_file)

    def reader_password(self) -> str:
        """The read-only user's password, generated at first use and kept in a 0600 file."""
        return self._secret(self.reader_password_file)

    @contextlib.contextmanager
    def locked(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Holds the advisory lock ``home/lock`` (``fcntl.flock`` LOCK_EX) for the block.

        Raises:
            GraphError: another command held it for ``timeout`` seconds.
        """
        self._ensure_home()
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise GraphError(
                            f"another scim-processor command has been starting or stopping the embedded "
                            f"server in {self.home} for {timeout:.0f} s"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def _recorded(self) -> ServerInfo | None:
        try:
            data = json.loads(self.state_file.read_text())
            return ServerInfo(**data)
        except (OSError, ValueError, TypeError):
            return None

    def status(self) -> ServerInfo | None:
        """The running server recorded in ``server.json``, or None (no file, or not that process)."""
        info = self._recorded()
        return info if info is not None and info.alive() else None

    def has_database(self) -> bool:
        """True if the embedded graph exists under ``home`` (``arcadedb/databases/scim``, made by an earlier start).

        Such a graph may hold loaded schemas (custom extensions) and resources, which only a
        running server can tell; without it the graph would start empty.
        """
        return (self.home / "arcadedb" / "databases" / DATABASE).is_dir()

    def in_use(self) -> bool:
        """True if some connection (in any process) holds a lease on the server."""
        if not self.clients_file.exists():
            return False
        fd = os.open(self.clients_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    # ------------------------------------------------------------ life cycle
    def start(self, *, persistent: bool = False, timeout: float = 90.0) -> ServerInfo:
        """Starts the server on free 127.0.0.1 ports, or adopts the one already running.

        Adopting with ``persistent=True`` marks the server persistent (``db start`` on a server a
        ``process`` run started): the command that started it then leaves it running.

        Args:
            persistent: record that ``db start`` started it, so commands leave it running.
            timeout: seconds to wait for HTTP readiness and the Bolt port.

        Returns:
            The server's :class:`ServerInfo`, ready (HTTP ``/api/v1/ready`` answered 2xx and the
            Bolt port accepts connections).

        Raises:
            GraphError: the package is missing, the process exited, it was not ready in time,
                or the read-only user could not be created.
        """
        with self.locked():
            info = self._start_locked(persistent, timeout)
            if persistent and not info.persistent:
                info = replace(info, persistent=True)
                _write_private(self.state_file, json.dumps(asdict(info)))
            return info

    def acquire(self, timeout: float = 90.0) -> tuple[ServerInfo, Lease]:
        """Starts or adopts the server and takes a lease on it (see :meth:`release`).

        Returns:
            The ready server and the lease that keeps it running while held.

        Raises:
            GraphError: as :meth:`start`.
        """
        with self.locked():
            info = self._start_locked(False, timeout)
            fd = os.open(self.clients_file, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)  # never blocks for long: holders of LOCK_EX hold home/lock
            return info, Lease(fd)

    def release(self, lease: Lease) -> bool:
        """Gives back ``lease``; the last lease of a transient server stops it.

        Returns:
            True if this call stopped the server.
        """
        with self.locked():
            lease.drop()
            info = self.status()
            if info is None:
                self.state_file.unlink(missing_ok=True)
                return False
            if info.persistent or self.in_use():
                return False
            self._terminate(info)
            self.state_file.unlink(missing_ok=True)
            return True

    def stop(self, timeout: float = 30.0, *, force: bool = True) -> bool:
        """Stops the recorded server (SIGTERM, then SIGKILL after ``timeout`` s).

        Args:
            timeout: seconds between SIGTERM and SIGKILL.
            force: stop it even while other commands use it. With False, a server in use is marked
                transient instead, and the last command using it stops it.

        Returns:
            True if a server was running and is now stopped (or will stop when its last user ends),
            False if none was running.
        """
        with self.locked():
            info = self.status()
            if info is None:
                self.state_file.unlink(missing_ok=True)
                return False
            if not force and self.in_use():
                _write_private(self.state_file, json.dumps(asdict(replace(info, persistent=False))))
                return True
            self._terminate(info, timeout)
            self.state_file.unlink(missing_ok=True)
            return True

    def _start_locked(self, persistent: bool, timeout: float) -> ServerInfo:
        """With ``home/lock`` held: the running server (waited for if still starting), else a new one."""
        recorded = self._recorded()
        if recorded is not None:
            if recorded.alive():
                try:
                    # A server whose starter died before it was ready is waited for (adopted), or stopped.
                    self._wait_ready(recorded, None, timeout)
                    return recorded
                except GraphError:
                    self._terminate(recorded)
            self.state_file.unlink(missing_ok=True)
        return self._spawn(persistent, timeout)

    def _command(self, http_port: int, bolt_port: int) -> list[str]:
        package = _package_dir()
        root = self.home / "arcadedb"
        return [
            str(package / "jre" / "bin" / "java"),
            "-Xms128m",
            "-Xmx2g",
            "-cp",
            str(package / "jars" / "*"),
            f"-Darcadedb.server.rootPath={root}",
            f"-Darcadedb.server.databaseDirectory={root / 'databases'}",
            # A path, not the secret: read at the first start only (the server then keeps a hash).
            f"-Darcadedb.server.rootPasswordPath={self.root_password_file}",
            f"-Darcadedb.server.defaultDatabases={DATABASE}[{USERNAME}]",
            "-Darcadedb.server.httpIncomingHost=127.0.0.1",
            f"-Darcadedb.server.httpIncomingPort={http_port}",
            "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "-Darcadedb.bolt.host=127.0.0.1",
            f"-Darcadedb.bolt.port={bolt_port}",
            f"-Darcadedb.bolt.defaultDatabase={DATABASE}",
            # The project never loads CSV: no file:/// reads and no outbound fetches, for any user.
            "-Darcadedb.opencypher.loadCsv.allowFileUrls=false",
            "-Darcadedb.opencypher.loadCsv.allowRemoteUrls=false",
            "com.arcadedb.server.ArcadeDBServer",
        ]

    def _spawn(self, persistent: bool, timeout: float) -> ServerInfo:
        self._ensure_home()
        self.password()
        root = self.home / "arcadedb"
        root.mkdir(mode=0o700, exist_ok=True)
        http_port, bolt_port = _free_port(), _free_port()
        command = self._command(http_port, bolt_port)
        log_fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        process: subprocess.Popen[bytes] | None = None
        try:
            process = subprocess.Popen(  # noqa: S603 (our own JRE and jars, no shell)
                command,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=root,
                start_new_session=True,  # Ctrl-C in the terminal reaches the CLI, which then stops it
                umask=0o077,  # databases, config and logs readable by the owner only
                env=_child_environment(),
            )
            start_time = None
            while start_time is None and process.poll() is None:
                start_time = process_start_time(process.pid)
            info = ServerInfo(f"bolt://127.0.0.1:{bolt_port}", DATABASE, process.pid, start_time or 0, http_port, persistent)
            # Recorded before it is ready: if this command is killed now, the next one finds the child.
            _write_private(self.state_file, json.dumps(asdict(info)))
            self._wait_ready(info, process, timeout)
            self._provision_reader(info)
            return info
        except BaseException:  # KeyboardInterrupt included: never leave a half-started child behind
            if process is not None:
                self._terminate_process(process)
                self.state_file.unlink(missing_ok=True)
            raise
        finally:
            os.close(log_fd)

    def _wait_ready(self, info: ServerInfo, process: subprocess.Popen[bytes] | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise GraphError(f"the embedded graph server exited with code {process.returncode}; see {self.log_file}")
            if process is None and not info.alive():
                raise GraphError(f"the embedded graph server exited; see {self.log_file}")
            if self._ready(info):
                return
            time.sleep(0.1)
        raise GraphError(f"the embedded graph server was not ready after {timeout:.0f} s; see {self.log_file}")

    @staticmethod
    def _ready(info: ServerInfo) -> bool:
        try:
            url = f"http://127.0.0.1:{info.http_port}/api/v1/ready"
            with urllib.request.urlopen(url, timeout=1) as response:
                if not 200 <= response.status < 300:
                    return False
            port = urllib.parse.urlsplit(info.uri).port
            with socket.create_connection(("127.0.0.1", port or 0), timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            return False

    # ------------------------------------------------------- read-only user
    def _admin(self, info: ServerInfo, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call to the server's HTTP administration API as root (credentials in a header only)."""
        token = base64.b64encode(f"{USERNAME}:{self.password()}".encode()).decode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{info.http_port}/api/v1{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http://127.0.0.1 only)
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode("utf-8", "replace")
            raise GraphError(f"the embedded graph server refused {method} {path}: HTTP {error.code} {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise GraphError(f"the embedded graph server did not answer {method} {path}: {error}") from None

    def _provision_reader(self, info: ServerInfo) -> None:
        """Ensures the group ``reader`` (read-only on database ``scim``) and its user ``reader``.

        Idempotent; runs at every start, so a deleted password file or group is repaired.
        """
        self._admin(info, "POST", "/server/groups", {"database": DATABASE, "name": READER_GROUP, **_READER_GROUP_DEFINITION})
        user = {"name": READER_USERNAME, "password": self.reader_password(), "databases": {DATABASE: [READER_GROUP]}}
        users = self._admin(info, "GET", "/server/users") or {}
        if any(entry.get("name") == READER_USERNAME for entry in users.get("result", [])):
            query = urllib.parse.urlencode({"name": READER_USERNAME})
            self._admin(info, "PUT", f"/server/users?{query}", {"password": user["password"], "databases": user["databases"]})
        else:
            self._admin(info, "POST", "/server/users", user)

    # ------------------------------------------------------------- stopping
    @staticmethod
    def _terminate_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
        """Stops our own child (SIGTERM, then SIGKILL) and reaps it."""
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @staticmethod
    def _terminate(info: ServerInfo, timeout: float = 30.0) -> None:
        """Stops the recorded server, signalling the PID only while it is still that process."""
        if not info.alive():
            return
        try:
            os.kill(info.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info.pid, os.WNOHANG)  # reap it if it is our child
            if not info.alive():
                return
            time.sleep(0.1)
        if info.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)


def _child_environment() -> dict[str, str]:
    """The java child's environment: ours without credentials and JVM option variables.

    Left out: ``NEO4J_*``, ``*PASSWORD*``, ``*SECRET*``, ``*TOKEN*``, ``*KEY*``, and
    ``JAVA_TOOL_OPTIONS``/``JDK_JAVA_OPTIONS``, which would change what the JVM runs.
    """
    hidden = ("PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL")
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("NEO4J_")
        and name not in ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")
        and not any(word in name.upper() for word in hidden)
    }
