"""Guard accuracy and latency on tests/guard_cases.jsonl, with other libraries on the same set.

Run:  .venv/bin/python benchmarks/guard_benchmark.py
(the compared libraries: pip install -e '.[bench]' for cypher-guard; neo4j-guard is a dependency)

A "positive" is a query that must be rejected. Precision = rejected-and-invalid / rejected;
recall = rejected-and-invalid / invalid; "right reason" = our guard reported exactly the expected
code. Category ``w`` (type hints) holds valid queries that get a warning: they must be accepted.
"direction recall" is recall on the relationship-direction cases whose relationship is untyped,
negated or variable-length (quantified paths and shortest paths included).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scim_processor.guard import CypherGuard  # noqa: E402, RUF100
from tests.guard_support import cases, movies_graph_schema, scim_graph_schema  # noqa: E402, RUF100

SCHEMAS = {"scim": scim_graph_schema(), "movies": movies_graph_schema()}


@contextmanager
def silenced():
    """Silences file descriptors 1 and 2 (cypher-guard prints Rust debug output on every call)."""
    sys.stdout.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1), os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1), os.dup2(saved[1], 2)
        os.close(devnull), os.close(saved[0]), os.close(saved[1])


def ours() -> Callable[[dict], bool]:
    """The scim-processor guard: a query is rejected when its report is not valid."""
    guards = {name: CypherGuard(schema) for name, schema in SCHEMAS.items()}
    return lambda case: not guards[case["schema"]].check(case["query"], read_only=case["read_only"]).valid


def neo4j_guard() -> Callable[[dict], bool] | None:
    """neo4j-guard's read/write rules (it has no schema check); None when not installed."""
    try:
        from neo4j_guard._checker import GuardError, check_query
        from neo4j_guard._rules import Rules
    except ImportError:
        return None
    rules = {True: Rules.build("read", (), ()), False: Rules.build("write", (), ())}

    def rejects(case: dict) -> bool:
        try:
            check_query(case["query"], rules[case["read_only"]])
        except GuardError:
            return True
        return False

    return rejects


def cypher_guard() -> Callable[[dict], bool] | None:
    """cypher-guard's schema validation and write detection; None when not installed."""
    try:
        import cypher_guard as cg
    except ImportError:
        return None
    schemas = {}
    for name, schema in SCHEMAS.items():
        data = schema.to_structured()
        data["metadata"] = {"constraint": [], "index": []}
        schemas[name] = cg.DbSchema.from_dict(data)

    def rejects(case: dict) -> bool:
        if not case["query"].strip():
            return True
        with silenced():
            try:
                if case["read_only"] and cg.is_write(case["query"]):
                    return True
                return bool(cg.validate_cypher(case["query"], schemas[case["schema"]]))
            except BaseException:  # noqa: BLE001 (its parse errors include pyo3 panics, BaseException subclasses)
                return True

    return rejects


def is_invalid(case: dict) -> bool:
    """The query must be rejected (a warning-only case must be accepted)."""
    return case["expect"] is not None and case["category"] != "w"


def is_hard_direction(case: dict) -> bool:
    """A direction case on an untyped, negated or variable-length relationship or a quantified path."""
    query = case["query"]
    hard = (
        "*" in query,
        "-->" in query,
        "<--" in query,
        "[]" in query,
        "[r]" in query,
        ":!" in query,
        "){" in query,
        "+(" in query,
        ">{" in query,
    )
    return case["expect"] == "relationship_direction" and any(hard)


def score(name: str, rejects: Callable[[dict], bool], all_cases: list[dict]) -> dict:
    """One table row: valid accepted, precision, recall, direction recall, median ms per query."""
    times, tp, fp, fn, valid_ok, hard_hits = [], 0, 0, 0, 0, 0
    for case in all_cases:
        start = time.perf_counter()
        rejected = rejects(case)
        times.append(time.perf_counter() - start)
        invalid = is_invalid(case)
        tp += rejected and invalid
        fp += rejected and not invalid
        fn += (not rejected) and invalid
        valid_ok += (not rejected) and not invalid
        hard_hits += rejected and is_hard_direction(case)
    n_valid = sum(not is_invalid(c) for c in all_cases)
    n_hard = sum(is_hard_direction(c) for c in all_cases)
    return {
        "library": name,
        "valid accepted": f"{valid_ok}/{n_valid}",
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
        "direction recall": f"{hard_hits}/{n_hard}",
        "median ms/query": round(statistics.median(times) * 1000, 3),
    }


def our_latency(all_cases: list[dict]) -> dict:
    """Cold, first-check and cached latency of this project's guard (ms; cached in µs)."""
    typical = (
        "MATCH (u:User)-[:MEMBER_OF]->(g:Group) WHERE u.userName = $name "
        "RETURN g.displayName ORDER BY g.displayName LIMIT 10"
    )
    guard = CypherGuard(SCHEMAS["scim"])
    start = time.perf_counter()
    guard.check(typical, read_only=True)
    cold = time.perf_counter() - start  # the process's first parse of anything
    cached = []
    for _ in range(10_000):
        start = time.perf_counter()
        guard.check(typical, read_only=True)
        cached.append(time.perf_counter() - start)
    passes = []
    for _ in range(2):  # pass 1 warms ANTLR's process-wide prediction cache; pass 2 is the steady state
        first = []
        for case in all_cases:  # each query's first (uncached) check: a fresh guard every time
            fresh = CypherGuard(SCHEMAS[case["schema"]])
            start = time.perf_counter()
            fresh.check(case["query"], read_only=case["read_only"])
            first.append(time.perf_counter() - start)
        passes.append(first)
    typical_first = []
    for _ in range(50):  # a fresh guard each time: its first (uncached) check, parser warm
        fresh = CypherGuard(SCHEMAS["scim"])
        start = time.perf_counter()
        fresh.check(typical, read_only=True)
        typical_first.append(time.perf_counter() - start)
    return {
        "typical query, first check in a cold process (ms)": round(cold * 1000, 2),
        "typical query, first check, 50 fresh guards: median / p95 / max (ms)": _spread(typical_first),
        "first check over the set, parser warming up: median / p95 / max (ms)": _spread(passes[0]),
        "first check over the set, parser warm: median / p95 / max (ms)": _spread(passes[1]),
        "cached check: median (us)": round(statistics.median(cached) * 1e6, 2),
    }


def _spread(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    return (
        round(statistics.median(ordered) * 1000, 2),
        round(ordered[int(len(ordered) * 0.95)] * 1000, 2),
        round(ordered[-1] * 1000, 2),
    )


def main() -> None:
    """Prints the comparison table and latency figures (a JSON summary on stderr)."""
    all_cases = cases()
    invalid = [c for c in all_cases if is_invalid(c)]
    categories = sorted({c["category"] for c in invalid})
    per_category = ", ".join(f"{k}={sum(c['category'] == k for c in invalid)}" for k in categories)
    warned = sum(c["category"] == "w" for c in all_cases)
    print(
        f"{len(all_cases)} queries: {len(all_cases) - len(invalid)} valid "
        f"({warned} of them with a type warning), {len(invalid)} invalid ({per_category}); "
        f"{sum(map(is_hard_direction, all_cases))} direction cases on "
        "untyped, negated or variable-length relationships"
    )
    latency = our_latency(all_cases)
    rows = []
    for name, factory in [
        ("scim-processor guard", ours),
        ("neo4j-guard 0.1.1", neo4j_guard),
        ("cypher-guard 3.0.0", cypher_guard),
    ]:
        rejects = factory()
        if rejects is None:
            print(f"{name}: not installed, skipped")
            continue
        rows.append(score(name, rejects, all_cases))
    guards = {name: CypherGuard(schema) for name, schema in SCHEMAS.items()}
    right = sum(
        set(guards[c["schema"]].check(c["query"], read_only=c["read_only"]).codes) == {c["expect"]}
        for c in invalid
    )
    columns = list(rows[0])
    print()
    print(" | ".join(columns))
    print(" | ".join("---" for _ in columns))
    for row in rows:
        print(" | ".join(str(row[c]) for c in columns))
    print()
    print(
        "scim-processor guard, rejected for exactly the expected reason: "
        f"{right}/{len(invalid)} = {right / len(invalid):.3f}"
    )
    for key, value in latency.items():
        print(f"{key}: {value}")
    print(
        json.dumps({"rows": rows, "right_reason": right / len(invalid), "latency": latency}), file=sys.stderr
    )


if __name__ == "__main__":
    main()
