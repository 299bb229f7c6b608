"""The fault suite: kills and interrupts of the CLI and of the embedded server, then the next run.

Each test drives ``scim-processor`` as a user would (a subprocess, no ``NEO4J_URI``: the embedded
server in a fresh ``SCIM_PROCESSOR_HOME``) on generated input big enough for a kill to land
mid-apply (:data:`USERS` users with e-mails and managers, plus groups, as JSON Lines, in batches of
:data:`BATCH`). The graph after the fault and a re-run must be identical to the graph of a clean
run: canonical dumps (every node's labels and properties, every relationship with its endpoints)
compared as sorted lists, so a duplicate or a missing node shows.

Run alone with ``pytest -m faults``; figures (kills landed, seconds, diffs) are printed (``-s``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scim_processor import Settings
from scim_processor.config import GraphSettings
from scim_processor.graph import EmbeddedServer, GraphConnection
from scim_processor.graph.embedded import ServerInfo

pytestmark = [pytest.mark.faults, pytest.mark.graph]

USERS = 1200
GROUPS = 12
BATCH = 100
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _user(i: int, base: int) -> dict[str, object]:
    manager = base + (i - base) // 10
    user: dict[str, object] = {
        "schemas": [CORE_USER, ENTERPRISE],
        "id": f"u-{i:05d}",
        "externalId": f"ext-{i}",
        "userName": f"user{i}@example.com",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i % 97}"},
        "displayName": f"User {i}",
        "emails": [{"value": f"user{i}@example.com", "type": "work", "primary": True}, {"value": f"u{i}@home.example", "type": "home"}],
        "active": i % 7 != 0,
        ENTERPRISE: {"employeeNumber": str(100000 + i), "department": f"D{i % 13}"},
    }
    if manager != i:
        user[ENTERPRISE] = {**user[ENTERPRISE], "manager": {"value": f"u-{manager:05d}"}}  # type: ignore[dict-item]
    return user


def _group(g: int, members: range) -> dict[str, object]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": f"g-{g:03d}",
        "displayName": f"Group {g}",
        "members": [{"value": f"u-{i:05d}", "type": "User"} for i in members if i % GROUPS == g % GROUPS],
    }


def _write_half(path: Path, first: int, last: int, groups: range) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(first, last):
            handle.write(json.dumps(_user(i, first)) + "\n")
        for g in groups:
            handle.write(json.dumps(_group(g, range(first, last))) + "\n")
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two disjoint halves (users, managers and groups within each) and their concatenation."""
    directory = tmp_path_factory.mktemp("fault-input")
    half = USERS // 2
    first = _write_half(directory / "first.jsonl", 0, half, range(GROUPS // 2))
    second = _write_half(directory / "second.jsonl", half, USERS, range(GROUPS // 2, GROUPS))
    both = directory / "all.jsonl"
    both.write_text(first.read_text() + second.read_text())
    return {"first": first, "second": second, "all": both}


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "SCIM_PROCESSOR_"))}
    return {**env, "SCIM_PROCESSOR_HOME": str(home), "SCIM_PROCESSOR_BATCH_SIZE": str(BATCH)}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "scim_processor", *args]


def cli(home: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(*args), capture_output=True, text=True, env=_environment(home), cwd=home.parent, timeout=timeout, check=False)


def spawn(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_environment(home), cwd=home.parent
    )


def process(home: Path, source: Path, name: str = "results") -> subprocess.CompletedProcess[str]:
    run = cli(home, "process", str(source), "-o", str(home.parent / f"{name}.jsonl"), "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# Server-set timestamps (RFC 7643 §3.1 meta.created / lastModified) differ from run to run by
# design; meta_version (the content fingerprint) stays in the dump and must match.
_RUN_STAMPS = frozenset({"meta_created", "meta_lastModified"})


def _content(props: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in props.items() if key not in _RUN_STAMPS}


def dump(home: Path) -> list[str]:
    """The whole graph as a sorted list of canonical lines (nodes, then relationships)."""
    with GraphConnection.open(Settings(home=home, graph=GraphSettings(uri=None)), read_only=True) as connection:
        nodes = connection.read("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
        relationships = connection.read(
            "MATCH (a)-[r]->(b) RETURN labels(a) AS al, properties(a) AS ap, type(r) AS type, "
            "properties(r) AS props, labels(b) AS bl, properties(b) AS bp"
        )
    lines = ["N " + _canonical([sorted(row["labels"]), _content(row["props"])]) for row in nodes]
    for row in relationships:
        start = _canonical([sorted(row["al"]), _content(row["ap"])])
        end = _canonical([sorted(row["bl"]), _content(row["bp"])])
        lines.append("R " + _canonical([start, row["type"], row["props"], end]))
    return sorted(lines)


def assert_same_graph(got: list[str], want: list[str], label: str) -> None:
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    print(f"[faults] {label}: {len(got)} dump lines, clean run {len(want)}, diffs {len(missing) + len(extra)}")
    assert got == want, f"{label}: {len(missing)} missing, {len(extra)} extra; e.g. {(missing + extra)[:3]}"


def no_server_left(home: Path) -> None:
    """Nothing runs for this home any more: no live recorded server, no java child of ours."""
    server = EmbeddedServer(home)
    info = server.status()
    assert info is None, f"a server still runs: pid {info.pid if info else None}"


def wait_for(predicate: object, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def recorded(home: Path) -> ServerInfo | None:
    try:
        return ServerInfo(**json.loads((home / "server.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None


def results_written(home: Path, name: str) -> bool:
    path = home.parent / f"{name}.jsonl"
    return path.exists() and path.stat().st_size > 0


@pytest.fixture(scope="module")
def clean(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The dump of a clean run of all the input on a fresh home."""
    home = tmp_path_factory.mktemp("clean") / "home"
    began = time.monotonic()
    process(home, inputs["all"])
    print(f"\n[faults] clean run: {USERS} users + {GROUPS} groups in {time.monotonic() - began:.1f} s")
    no_server_left(home)
    return dump(home)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home"
    yield path
    info = recorded(path)  # never leave a server behind, whatever the test did
    if info is not None and info.alive():
        os.kill(info.pid, signal.SIGKILL)


def test_kill_9_of_the_cli_mid_apply_then_rerun(inputs: dict[str, Path], clean: list[str], home: Path) -> None:
    cli_run = spawn(home, "process", str(inputs["all"]), "-o", str(home.parent / "killed.jsonl"))
    wait_for(lambda: results_written(home, "killed") or cli_run.poll() is not None, what="the first committed batch")
    cli_run.send_signal(signal.SIGKILL)
    cli_run.communicate()
    written = len((home.parent / "killed.jsonl").read_text().splitlines())
    print(f"[faults] CLI killed (SIGKILL) after {written} of {USERS + GROUPS} results were written")
    assert cli_run.returncode == -signal.SIGKILL and written < USERS + GROUPS  # it landed mid-apply
    orphan = EmbeddedServer(home).status()
    assert orphan is not None and not EmbeddedServer(home).in_use()  # its server is an orphan now
    process(home, inputs["all"])  # adopts the orphan, and as the last user out stops it
    assert not orphan.alive()
    no_server_left(home)
    assert_same_graph(dump(home), clean, "kill -9 of the CLI, then re-run")


def test_kill_9_of_the_server_mid_apply_then_rerun(inputs: dict[str, Path], clean: list[str], home: Path) -> None:
    cli_run = spawn(home, "process", str(inputs["all"]), "-o", str(home.parent / "killed.jsonl"))
    wait_for(lambda: results_written(home, "killed") or cli_run.poll() is not None, what="the first committed batch")
    info = recorded(home)
    assert info is not None and cli_run.poll() is None
    os.kill(info.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    _stdout, stderr = cli_run.communicate(timeout=120)
    seconds = time.monotonic() - killed_at
    written = len((home.parent / "killed.jsonl").read_text().splitlines())
    print(f"[faults] server killed (SIGKILL) after {written} results; the CLI exited {cli_run.returncode} {seconds:.1f} s later: {stderr.strip()!r}")
    assert cli_run.returncode == 2 and written < USERS + GROUPS
    messages = [line for line in stderr.splitlines() if line.strip() and not line.startswith("processing")]  # not the progress bar
    assert len(messages) == 1 and messages[0].startswith("error:") and "graph server" in messages[0], stderr
    no_server_left(home)
    process(home, inputs["all"])
    no_server_left(home)
    assert_same_graph(dump(home), clean, "kill -9 of the server, then re-run")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "kill-9"])
def test_an_interrupted_start_leaves_the_next_command_working(inputs: dict[str, Path], home: Path, how: signal.Signals) -> None:
    cli_run = spawn(home, "process", str(inputs["first"]), "-o", str(home.parent / "interrupted.jsonl"))
    wait_for(lambda: recorded(home) is not None or cli_run.poll() is not None, what="the server's child process")
    child = recorded(home)
    assert child is not None and cli_run.poll() is None  # interrupted during the start-up
    ready = EmbeddedServer._ready(child)
    cli_run.send_signal(how)
    _, stderr = cli_run.communicate(timeout=120)
    print(f"[faults] start-up interrupted by {how.name} (server ready: {ready}); the CLI exited {cli_run.returncode}")
    assert "Traceback" not in stderr
    if how != signal.SIGKILL:
        assert not child.alive() and recorded(home) is None  # the interrupted start cleaned up its child
    process(home, inputs["first"])
    run = cli(home, "cypher", "run", "MATCH (u:User) RETURN count(u) AS users", "--json")
    assert run.returncode == 0 and json.loads(run.stdout) == [{"users": USERS // 2}], run.stderr
    assert not child.alive()  # adopted (kill -9) and stopped, or already gone (Ctrl-C)
    no_server_left(home)


def test_two_concurrent_runs_on_one_home_equal_a_sequential_run(inputs: dict[str, Path], clean: list[str], home: Path, tmp_path: Path) -> None:
    sequential_home = tmp_path / "sequential" / "home"
    sequential_home.parent.mkdir()
    process(sequential_home, inputs["first"])
    process(sequential_home, inputs["second"])
    sequential = dump(sequential_home)
    assert_same_graph(sequential, clean, "two sequential runs (halves)")
    runs = [spawn(home, "process", str(inputs[half]), "-o", str(home.parent / f"{half}.jsonl")) for half in ("first", "second")]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stdout + stderr
    no_server_left(home)  # the last of the two stopped the server they shared
    assert_same_graph(dump(home), sequential, "two concurrent runs on one home")
