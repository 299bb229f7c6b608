"""Throughput and memory of `scim-processor process` (issue 10), measured in one run.

Run:  .venv/bin/python benchmarks/process_benchmark.py [--users 10000] [--lines 1000000]

It starts the embedded ArcadeDB server in a fresh temporary home and, against that one server:

1. raw reference rate: ``reference_upsert.cypher`` (hand-written ``UNWIND … MERGE … FOREACH
   CREATE`` of the same users and child nodes), rows prepared beforehand, writes only;
2. the generated create (``User.create``, what a new resource goes through) and the generated
   replace (``User.replace``, what a changed one goes through) on the same rows, writes only, and
   their ratios to (1);
3. applied rate: ``ScimProcessor.process`` of the same users on the wiped graph (read, generate,
   validate, guard, state read, write), and its ratio to (1);
4. re-apply of the unchanged users (recognised by their source fingerprint: no generation, no
   validation, no write), and its ratio to (3);
5. dry-run rate of the same users;
6. ``scim-processor process --dry-run``, ``process`` and ``process`` again (unchanged) of a
   generated ``--lines`` JSON Lines file, as a user runs them: wall rate and peak RSS of the CLI and
   its worker processes (summed, sampled from /proc every 0.1 s; the server's JVM is not counted).

Every figure is a wall-clock rate on a machine that may be shared: the load average (1, 5, 15
minutes) is printed at the start and the end; compare ratios, not rates, between machines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scim_processor import ScimProcessor, Settings  # noqa: E402
from scim_processor.config import GraphSettings  # noqa: E402
from scim_processor.graph import EmbeddedServer, GraphConnection  # noqa: E402

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
REFERENCE = (Path(__file__).parent / "reference_upsert.cypher").read_text()


def user(i: int, rng: random.Random) -> dict[str, Any]:
    """One enterprise user with one email and one phone number (the issue's shape)."""
    return {
        "schemas": [CORE, ENTERPRISE],
        "id": f"u{i:07d}",
        "externalId": f"hr-{i:07d}",
        "userName": f"user{i:07d}@example.com",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
        "displayName": f"Given{i} Family{i}",
        "active": rng.random() > 0.1,
        "emails": [{"value": f"user{i:07d}@example.com", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": f"+1-555-{i:07d}", "type": rng.choice(["work", "mobile"])}],
        ENTERPRISE: {"employeeNumber": str(i), "department": rng.choice(["Sales", "R&D", "Ops", "HR"])},
    }


def users(n: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """``n`` users, lazily (the 1M-line file is written from this generator)."""
    rng = random.Random(7)
    return (user(i, rng) for i in range(start, start + n))


def wipe(processor: ScimProcessor) -> None:
    for label in ("User", "Email", "PhoneNumber"):
        processor.connection.write([(f"MATCH (n:{label}) DETACH DELETE n", {})])


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


class Meter:
    """Wall time and CPU time (this process and its reaped workers; the server JVM) of one phase.

    CPU time per payload does not depend on what else the machine runs, so it shows where the cost
    is even when the wall-clock rates are noisy.
    """

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def _server_cpu(self) -> float:
        with open(f"/proc/{self.server_pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _client_cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def __enter__(self) -> Meter:
        self.start = (time.perf_counter(), self._client_cpu(), self._server_cpu())
        return self

    def __exit__(self, *exc: object) -> None:
        end = (time.perf_counter(), self._client_cpu(), self._server_cpu())
        self.wall, self.client, self.server = (b - a for a, b in zip(self.start, end, strict=True))

    def describe(self, n: int) -> str:
        return f"CPU per payload: client {1000 * self.client / n:.2f} ms, server {1000 * self.server / n:.2f} ms"


def prepared_rows(processor: ScimProcessor, payloads: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The generated rows, and the reference query's rows for the same users."""
    rows, generated = [], []
    for result in processor.process(payloads, dry_run=True):
        row = result.cypher[0].parameters["rows"][0]
        props = {k: v for k, v in row.items() if k not in ("id", "emails", "phoneNumbers") and v is not None and not isinstance(v, list)}
        rows.append({"id": row["id"], "props": props, "emails": row["emails"], "phoneNumbers": row["phoneNumbers"]})
        generated.append(row)
    return generated, rows


def load() -> str:
    """The load average over 1, 5 and 15 minutes (``/proc/loadavg``)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def write_rows(processor: ScimProcessor, query: str, rows: list[dict[str, Any]]) -> None:
    """Writes only: ``rows`` in batches of the configured size, one transaction each."""
    size = processor.settings.batch_size
    for i in range(0, len(rows), size):
        processor.connection.write([(query, {"rows": rows[i : i + size]})])


def checked_process(processor: ScimProcessor, payloads: list[dict[str, Any]], dry_run: bool, expect: str) -> None:
    statuses = {r.status for r in processor.process(payloads, dry_run=dry_run)}
    if statuses != {expect}:
        raise SystemExit(f"expected every payload {expect}, got {statuses}")


def _tree_rss(pid: int) -> int:
    """RSS in bytes of ``pid`` and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return total


def cli_run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, process tree) of one CLI run."""
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "scim_processor", *args], env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.append(process.stderr.read() if process.stderr else ""))
    reader.start()
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.1)
    reader.join()
    elapsed = time.perf_counter() - start
    if process.returncode not in (0, 1):
        raise SystemExit(f"scim-processor {' '.join(args)} failed: {''.join(stderr)[-2000:]}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="users for the in-process rates")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the JSON Lines file for the CLI runs (0: skip)")
    options = parser.parse_args()
    figures: list[tuple[str, str]] = []
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {cores} cores, load average at start {load()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = EmbeddedServer(work / "home")
        info = server.start(persistent=True)  # as `db start` does: the CLI runs below use it and never stop it
        try:
            graph = GraphSettings(uri=info.uri, username="root", password=server.password(), database=info.database)
            settings = Settings(home=work / "home", graph=graph)
            payloads = list(users(options.users))
            with ScimProcessor(GraphConnection.open(settings), settings) as processor:
                processor.load_schemas()
                processor.process(payloads[:300], dry_run=True)  # warm-up: scim2-models classes, parser
                n = len(payloads)
                generated, reference_rows = prepared_rows(processor, payloads)
                plan = processor.compiled().plans["User"]
                create = plan.statement("create", {"rows": generated}).query  # as the writer sends it: the keys these users have
                meter = Meter(info.pid)
                for warm_up in (REFERENCE, create, plan.replace):  # the server's JIT, once per query, so that none is measured cold
                    wipe(processor)
                    write_rows(processor, warm_up, (reference_rows if warm_up == REFERENCE else generated)[:2000])
                wipe(processor)
                with meter:
                    write_rows(processor, REFERENCE, reference_rows)
                raw = rate(n, meter.wall)
                figures.append(("raw reference UNWIND (benchmarks/reference_upsert.cypher)", f"{raw:,.0f} users/s; {meter.describe(n)}"))
                for name, query in (("create", create), ("replace", plan.replace)):
                    wipe(processor)
                    with meter:
                        write_rows(processor, query, generated)
                    figures.append((f"generated User.{name}, writes only, same rows, empty graph",
                                    f"{rate(n, meter.wall):,.0f} users/s = {rate(n, meter.wall) / raw:.0%} of raw; {meter.describe(n)}"))  # fmt: skip
                wipe(processor)
                with meter:
                    checked_process(processor, payloads, False, "accepted")
                applied = rate(n, meter.wall)
                figures.append(("applied (ScimProcessor.process, empty graph)", f"{applied:,.0f} users/s = {applied / raw:.0%} of raw; {meter.describe(n)}"))
                with meter:
                    checked_process(processor, payloads, False, "unchanged")
                again = rate(n, meter.wall)
                figures.append(("re-apply unchanged", f"{again:,.0f} users/s = {again / applied:.1f}x the first apply; {meter.describe(n)}"))
                with meter:
                    checked_process(processor, payloads, True, "accepted")
                figures.append(("dry run (in process)", f"{rate(n, meter.wall):,.0f} payloads/s; {meter.describe(n)}"))
                for label, value in figures:
                    print(f"{label}: {value}", flush=True)
                wipe(processor)
            if options.lines:
                data = work / "big.jsonl"
                with data.open("w") as handle:
                    for item in users(options.lines, start=options.users):
                        handle.write(json.dumps(item) + "\n")
                env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
                env["SCIM_PROCESSOR_HOME"] = str(work / "home")  # the server started above answers there
                rates: dict[str, float] = {}
                for number, (label, extra) in enumerate([("dry run", ["--dry-run"]), ("applied", []), ("applied again (unchanged)", [])]):
                    results = work / f"results{number}.jsonl"
                    seconds, peak = cli_run(["process", str(data), "-o", str(results), "--force", *extra], env, work)
                    rates[label] = rate(options.lines, seconds)
                    value = (f"{rates[label]:,.0f} payloads/s, peak RSS {peak / 2**20:,.0f} MB, "
                             f"results {results.stat().st_size / options.lines:,.0f} bytes/line")  # fmt: skip
                    if label.startswith("applied again"):
                        value += f" = {rates[label] / rates['applied']:.1f}x the first apply"
                    figures.append((f"CLI process {label}, {options.lines:,} lines", value))
                    print(f"{figures[-1][0]}: {value}", flush=True)
        finally:
            server.stop()
    print(f"\nmachine: {cores} cores; load average at end {load()}; users {options.users:,}")
    for label, value in figures:
        print(f"{label}: {value}")


if __name__ == "__main__":
    main()
