"""Wall time of `scim-processor process` on the bundled examples and on generated users.

Run:  .venv/bin/python benchmarks/process_benchmark.py [N]     (N users, default 1000)

Each run is the CLI as a user runs it, with no NEO4J_URI: it starts the embedded ArcadeDB
server, processes, and stops it, so every figure includes a server start (a few seconds).
A fresh SCIM_PROCESSOR_HOME is used, so the first applied run also loads the schemas.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def users(n: int) -> list[dict]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        user = {
            "schemas": [CORE, ENTERPRISE],
            "id": f"u{i:06d}",
            "externalId": f"hr-{i:06d}",
            "userName": f"user{i:06d}@example.com",
            "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
            "displayName": f"Given{i} Family{i}",
            "active": rng.random() > 0.1,
            "emails": [{"value": f"user{i:06d}@example.com", "type": "work", "primary": True}],
            "phoneNumbers": [{"value": f"+1-555-{i:07d}", "type": rng.choice(["work", "mobile"])}],
            ENTERPRISE: {"employeeNumber": str(i), "department": rng.choice(["Sales", "R&D", "Ops", "HR"])},
        }
        out.append(user)
    return out


def groups(n_users: int, n_groups: int = 20) -> list[dict]:
    """Groups of every n_groups-th user, the last group nesting the first."""
    out = [
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": f"g{g:03d}", "displayName": f"Group {g}",
         "members": [{"value": f"u{i:06d}", "type": "User"} for i in range(g, n_users, n_groups)]}
        for g in range(n_groups)
    ]  # fmt: skip
    out[-1]["members"].append({"value": "g000", "type": "Group"})
    return out


def in_process(payloads: list[dict], home: Path) -> dict[str, float]:
    """Payloads per second through ScimProcessor with the server already running (no start-up)."""
    sys.path.insert(0, str(ROOT))
    from scim_processor import ScimProcessor, Settings

    with ScimProcessor.open(Settings(home=home)) as processor:
        processor.connection.write([("MATCH (n:User) DETACH DELETE n", {}), ("MATCH (n:Group) DETACH DELETE n", {})])
        processor.process(payloads[:10], dry_run=True)  # one-time: scim2-models classes, parser warm-up
        figures = {}
        for label, dry in [("dry run", True), ("applied, creates", False), ("applied, updates", False)]:
            start = time.perf_counter()
            results = processor.process(payloads, dry_run=dry)
            elapsed = time.perf_counter() - start
            assert all(r.accepted for r in results)
            figures[f"in-process {label}: payloads/s"] = len(payloads) / elapsed
        return figures


def run(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "scim_processor", *args], env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"scim-processor {' '.join(args)} failed: {done.stderr}")
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
        env["SCIM_PROCESSOR_HOME"] = str(work / "home")
        data = work / "users.jsonl"
        data.write_text("".join(json.dumps(item) + "\n" for item in users(n) + groups(n)))
        figures = {
            "process examples/ (fresh home: server start + schema load)": run(["process", str(ROOT / "examples"), "-o", str(work / "r0.jsonl")], env, work),
            f"process {n} users --dry-run": run(["process", str(data), "--dry-run", "-o", str(work / "r1.jsonl")], env, work),
            f"process {n} users, applied (creates)": run(["process", str(data), "-o", str(work / "r2.jsonl")], env, work),
            f"process {n} users, applied again (same graph)": run(["process", str(data), "-o", str(work / "r3.jsonl")], env, work),
        }
        accepted = sum(json.loads(line)["status"] == "accepted" for line in (work / "r2.jsonl").read_text().splitlines())
        figures["server start alone (db start)"] = run(["db", "start"], env, work)
        try:
            os.environ["SCIM_PROCESSOR_HOME"] = env["SCIM_PROCESSOR_HOME"]
            for key in [k for k in os.environ if k.startswith("NEO4J_")]:
                del os.environ[key]
            rates = in_process(users(n) + groups(n), work / "home")
        finally:
            run(["db", "stop"], env, work)
    print(f"{n} users + 20 groups; accepted {accepted}")
    for name, seconds in figures.items():
        print(f"{name}: {seconds:.2f} s")
    for name, rate in rates.items():
        print(f"{name} {rate:,.0f}")


if __name__ == "__main__":
    main()
