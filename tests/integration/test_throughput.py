"""Issue 10 behaviours against the real server: unchanged detection, order with workers, streaming."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from scim_processor import ScimProcessor
from tests.integration.test_graph import RUN_STAMPS

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _user(n: int, **extra: Any) -> dict[str, Any]:
    return {"schemas": [CORE], "id": f"u{n}", "userName": f"user{n}", "emails": [{"value": f"user{n}@example.com"}], **extra}


def _read(processor: ScimProcessor, query: str) -> list[dict[str, Any]]:
    return processor.connection.read(query)


def _stable(result: dict[str, Any]) -> dict[str, Any]:
    """A results line without the write time stamped into its rows (it differs between two runs)."""
    for statement in result["cypher"]:
        for row in statement["parameters"].get("rows", []):
            for key in RUN_STAMPS:
                row.pop(key, None)
    return result


def test_an_unchanged_resource_is_reported_unchanged_and_a_changed_one_is_written(processor: ScimProcessor) -> None:
    first = processor.process([_user(n, title="Eng") for n in range(5)])
    assert [r.status for r in first] == ["accepted"] * 5
    versions = _read(processor, "MATCH (u:User) RETURN u.id AS id, u.meta_version AS v ORDER BY id")
    assert all(row["v"].startswith("W/\"") and len(row["v"]) == 20 for row in versions)  # a weak ETag fingerprint

    again = processor.process([_user(n, title="Eng") for n in range(5)])
    assert [r.status for r in again] == ["unchanged"] * 5
    assert all(r.accepted for r in again)
    assert _read(processor, "MATCH (u:User) RETURN u.id AS id, u.meta_version AS v ORDER BY id") == versions

    changed = processor.process([_user(n, title="Eng" if n != 3 else "Lead") for n in range(5)])
    assert [r.status for r in changed] == ["unchanged"] * 3 + ["accepted", "unchanged"]
    assert _read(processor, "MATCH (u:User {id: 'u3'}) RETURN u.title AS t") == [{"t": "Lead"}]
    assert _read(processor, "MATCH (:User {id: 'u3'})-[:HAS_EMAIL]->(e) RETURN count(e) AS c") == [{"c": 1}]


def test_a_node_created_as_a_reference_target_is_filled_in_when_the_resource_arrives(processor: ScimProcessor) -> None:
    manager = {"schemas": [CORE, ENTERPRISE], ENTERPRISE: {"manager": {"value": "u2"}}}
    assert processor.process([_user(1, **manager)])[0].status == "accepted"  # u2: a placeholder, no meta_version
    assert processor.process([_user(2, title="Boss")])[0].status == "accepted"
    assert _read(processor, "MATCH (:User {id: 'u1'})-[:REPORTS_TO]->(m:User) RETURN m.title AS t") == [{"t": "Boss"}]


def test_workers_return_the_same_results_in_input_order(processor: ScimProcessor) -> None:
    payloads = [_user(n) if n % 7 else {"schemas": [CORE], "userName": n} for n in range(700)]  # every 7th: bad userName
    pooled = ScimProcessor(processor.connection, processor.settings.model_copy(update={"workers": 2}))
    inline = ScimProcessor(processor.connection, processor.settings.model_copy(update={"workers": 1}))
    with_pool = [_stable(r.to_json(include_cypher=True)) for r in pooled.process(payloads, dry_run=True)]
    without = [_stable(r.to_json(include_cypher=True)) for r in inline.process(payloads, dry_run=True)]
    assert with_pool == without
    assert [r["source"] for r in with_pool] == [f"<payload {n}>" for n in range(1, 701)]
    assert [r["status"] for r in with_pool] == ["rejected" if n % 7 == 0 else "accepted" for n in range(700)]


def test_results_stream_from_an_endless_input(processor: ScimProcessor) -> None:
    def endless() -> Iterator[dict[str, Any]]:  # materialising it would never end
        for n in itertools.count():
            yield _user(n)

    settings = processor.settings.model_copy(update={"workers": 2})
    streamed = ScimProcessor(processor.connection, settings).iter_process(endless(), dry_run=True)
    first = list(itertools.islice(streamed, 600))
    assert [r.resource["id"] for r in first if r.resource] == [f"u{n}" for n in range(600)]


def test_concurrent_writers_give_the_same_graph_as_one_run(processor: ScimProcessor) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.integration.test_graph import _without_times, snapshot

    def part(offset: int) -> list[dict[str, Any]]:  # both halves MERGE the same ten managers as placeholders
        return [
            _user(n, schemas=[CORE, ENTERPRISE], **{ENTERPRISE: {"manager": {"value": f"m{n % 10}"}}})
            for n in range(offset, offset + 60)
        ]

    settings = processor.settings.model_copy(update={"workers": 1, "batch_size": 10})
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda offset: ScimProcessor(processor.connection, settings).process(part(offset)), [0, 60]))
    assert all(r.status == "accepted" for run in runs for r in run), [r.error for run in runs for r in run if r.error]
    concurrent = snapshot(processor)

    processor.connection.write([("MATCH (n:User) DETACH DELETE n", {}), ("MATCH (n:Email) DETACH DELETE n", {})])
    ScimProcessor(processor.connection, settings).process(part(0) + part(60))
    assert _without_times(snapshot(processor)) == _without_times(concurrent)
    assert _read(processor, "MATCH (m:User) WHERE m.id STARTS WITH 'm' RETURN count(m) AS c") == [{"c": 10}]


def test_a_transaction_refused_by_a_concurrent_merge_is_retried_not_rejected(processor: ScimProcessor) -> None:
    from neo4j.exceptions import ConstraintError

    from scim_processor.stages.apply import GraphWriter, PendingWrite

    class OneConflict:  # the real server, after one refusal like ArcadeDB's for concurrent MERGEs of one key
        def __init__(self) -> None:
            self.calls = 0

        def write(self, statements: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise ConstraintError("Duplicated key [m1] found on index 'User[id]'")
            return processor.connection.write(statements)

        def read(self, query: str, parameters: Any, **options: Any) -> Any:
            return processor.connection.read(query, parameters, **options)

    compiled = processor.compiled()
    flaky = OneConflict()
    writer = GraphWriter(flaky, compiled)  # type: ignore[arg-type]
    pending = [PendingWrite(0, compiled.statements("User", {"id": "u1", "userName": "ada"})[0])]
    report = writer.write(pending)
    assert (report.failures, report.unchanged, flaky.calls) == ({}, set(), 2)
    assert _read(processor, "MATCH (u:User {id: 'u1'}) RETURN u.userName AS n") == [{"n": "ada"}]
    assert GraphWriter(flaky, compiled).write(pending).unchanged == {0}  # type: ignore[arg-type]
    assert flaky.calls == 2  # unchanged: nothing sent
