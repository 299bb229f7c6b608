"""Rate of ``map --mapping`` on a CSV vs ``process`` on the same users as SCIM JSON Lines (issue 16 §4), model calls counted.

Run:  .venv/bin/python benchmarks/map_benchmark.py [--users 5000]

It starts the embedded ArcadeDB server in a fresh temporary home (as ``db start`` does) and runs
the CLI as a user does, each on a wiped graph:

1. ``scim-processor process users.jsonl`` (the users as SCIM resources);
2. ``scim-processor map users.csv --mapping plan.json`` (the same users as an HR CSV export and a
   reviewed mapping; no model endpoint configured, so no model call is possible);
3. ``scim-processor map users.csv`` with a scripted OpenAI-compatible server: the first run of the
   shape (one proposal) and a second file of the same shape (none), model requests counted.

Goal (issue 16): (2) at >= 50 % of (1). Every figure is a wall-clock rate on a machine that may be
shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scim_processor import ScimProcessor, Settings  # noqa: E402
from scim_processor.config import GraphSettings  # noqa: E402
from scim_processor.graph import EmbeddedServer, GraphConnection  # noqa: E402
from tests.integration.llm.scripted_server import ScriptedServer  # noqa: E402

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HEADER = ["Employee ID", "First Name", "Last Name", "Work Email", "Status", "Department"]
MAPPING = {
    "resourceType": "User",
    "shape": {"format": "csv", "fields": HEADER},
    "fields": [
        {"source": "Work Email", "target": "userName", "transform": "lower"},
        {"source": "Work Email", "target": 'emails[type eq "work"].value', "transform": "lower"},
        {"source": "First Name", "target": "name.givenName", "transform": "copy"},
        {"source": "Last Name", "target": "name.familyName", "transform": "copy"},
        {"source": "Status", "target": "active", "transform": "boolean"},
        {"source": "Employee ID", "target": f"{ENTERPRISE}:employeeNumber", "transform": "copy"},
        {"source": "Department", "target": f"{ENTERPRISE}:department", "transform": "copy"},
    ],
}
DEPARTMENTS = ("Sales", "R&D", "Ops", "HR")


def write_inputs(work: Path, n: int, start: int = 0) -> tuple[Path, Path]:
    """The same ``n`` users as a CSV export and as SCIM JSON Lines."""
    csv_path, jsonl_path = work / f"users{start}.csv", work / f"users{start}.jsonl"
    with csv_path.open("w", encoding="utf-8") as csv_file, jsonl_path.open("w", encoding="utf-8") as jsonl:
        csv_file.write(",".join(HEADER) + "\n")
        for i in range(start, start + n):
            email, active, department = f"User{i:07d}@Example.com", i % 10 != 0, DEPARTMENTS[i % 4]
            csv_file.write(f"{i},Given{i},Family{i},{email},{'Active' if active else 'Terminated'},{department}\n")
            jsonl.write(json.dumps({
                "schemas": [CORE, ENTERPRISE], "userName": email.lower(), "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
                "active": active, "emails": [{"type": "work", "value": email.lower()}],
                ENTERPRISE: {"employeeNumber": str(i), "department": department},
            }) + "\n")  # fmt: skip
    return csv_path, jsonl_path


def cli(env: dict[str, str], *args: str) -> float:
    """Seconds of one CLI run (exit 0 or 1 expected)."""
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "scim_processor", *args], env=env, capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({run.returncode}): {run.stderr[-500:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5_000, help="users per run (keep small on a shared machine)")
    options = parser.parse_args()
    n = options.users
    print(f"machine: {len(os.sched_getaffinity(0))} cores, load average at start {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = EmbeddedServer(work / "home")
        info = server.start(persistent=True)
        try:
            graph = GraphSettings(uri=info.uri, username="root", password=server.password(), database=info.database)
            settings = Settings(home=work / "home", graph=graph)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEO4J_"))}
            env.update({"SCIM_PROCESSOR_HOME": str(work / "home"), "NO_PROXY": "127.0.0.1,localhost"})
            csv_path, jsonl_path = write_inputs(work, n)
            plan = work / "plan.json"
            plan.write_text(json.dumps(MAPPING), encoding="utf-8")
            out = str(work / "results.jsonl")
            with ScimProcessor(GraphConnection.open(settings), settings) as processor:

                def wipe() -> None:
                    processor.connection.write([("MATCH (n) WHERE n:User OR n:Email OR n:SourceShape OR n:SourceField DETACH DELETE n", {})])

                processor.load_schemas()
                cli(env, "process", str(write_inputs(work, 200, 10**6)[1]), "-o", out, "--force")  # warm-up (server JIT)
                wipe()
                process_seconds = cli(env, "process", str(jsonl_path), "-o", out, "--force")
                wipe()
                map_seconds = cli(env, "map", str(csv_path), "--mapping", str(plan), "-o", out, "--force")
                written = processor.connection.read("MATCH (u:User) RETURN count(u) AS n")[0]["n"]
                wipe()
                with ScriptedServer() as scripted:
                    answer = {"fields": [{"source": "Work Email", "target": "userName", "transform": "lower", "args": None}]}
                    scripted.fallback = lambda body: answer
                    model_env = {**env, "OPENAI_BASE_URL": scripted.base_url, "SCIM_PROCESSOR_LLM_MODEL": "scripted"}
                    first_seconds = cli(model_env, "map", str(csv_path), "-o", out, "--force")
                    first_calls = len(scripted.requests)
                    second_csv, _ = write_inputs(work, n, 2 * 10**6)
                    second_seconds = cli(model_env, "map", str(second_csv), "-o", out, "--force")
                    second_calls = len(scripted.requests) - first_calls
        finally:
            server.stop()
    process_rate, map_rate = n / process_seconds, n / map_seconds
    print(f"users: {n} (map --mapping wrote {written})")
    print(f"process (SCIM JSON Lines):          {process_rate:,.0f} users/s ({process_seconds:.1f} s)")
    print(f"map --mapping (CSV, reviewed):      {map_rate:,.0f} users/s ({map_seconds:.1f} s), {map_rate / process_rate:.0%} of process")
    print(f"map (new shape, scripted model):    {n / first_seconds:,.0f} users/s, {first_calls} model call(s) for {n} rows")
    print(f"map (same shape, second file):      {n / second_seconds:,.0f} users/s, {second_calls} model call(s)")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
