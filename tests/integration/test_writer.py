"""Issue 15 §2 against the real server: only what changed is written, each row through the cheapest statement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scim_processor import ScimProcessor
from scim_processor.graph import GraphConnection
from scim_processor.operations.store import ResourceStore
from scim_processor.stages.apply import GraphWriter, PendingWrite

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _user(n: int, **extra: Any) -> dict[str, Any]:
    return {"schemas": [CORE], "id": f"u{n}", "userName": f"user{n}", "emails": [{"value": f"user{n}@example.com"}], **extra}


def _read(processor: ScimProcessor, query: str, **params: Any) -> list[dict[str, Any]]:
    return processor.connection.read(query, params)


class Counting:
    """The real connection, counting the write transactions and the statements sent (by name)."""

    def __init__(self, connection: GraphConnection, before_write: Any = None) -> None:
        self.connection = connection
        self.read_only = connection.read_only
        self.transactions = 0
        self.names: list[str] = []
        self.reads: list[str] = []
        self.before_write = before_write

    def write(self, statements: Iterable[Any]) -> list[list[dict[str, Any]]]:
        statements = list(statements)
        if self.before_write is not None:
            hook, self.before_write = self.before_write, None
            hook()
        self.transactions += 1
        self.names += [getattr(statement, "name", "?") for statement in statements]
        return self.connection.write(statements)

    def read(self, query: str, parameters: Mapping[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
        self.reads.append(query)
        return self.connection.read(query, parameters, **options)


def _counted(processor: ScimProcessor, **update: Any) -> tuple[ScimProcessor, Counting]:
    counting = Counting(processor.connection)
    settings = processor.settings.model_copy(update={"workers": 1, **update})
    return ScimProcessor(counting, settings, retriever=processor.retriever), counting  # type: ignore[arg-type]


class Refusing:
    """A validator that fails the test if it is called."""

    def validate(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the validator was called")


def test_new_resources_are_created_and_an_identical_second_run_sends_no_write_statement(processor: ScimProcessor) -> None:
    first, counting = _counted(processor)
    results = first.process([_user(n) for n in range(5)])
    assert [r.status for r in results] == ["accepted"] * 5
    assert [[s.name for s in r.cypher] for r in results] == [["User.create"]] * 5  # no OPTIONAL MATCH, no delete
    assert counting.names == ["User.create"] and counting.transactions == 1  # one statement for the batch
    state = processor.compiled().plans["User"].state
    assert counting.reads.count(state) == 1  # one read per batch: the writer uses what the read ahead of the batch found

    again, counting = _counted(processor)
    again.validator = Refusing()  # type: ignore[assignment]  # the source fingerprint skips validation altogether
    results = again.process([_user(n) for n in range(5)])
    assert [r.status for r in results] == ["unchanged"] * 5
    assert all(r.cypher == [] and r.resource is None and r.resource_type == "User" for r in results)
    assert (counting.transactions, counting.names) == (0, [])
    assert _read(processor, "MATCH (e:Email) RETURN count(e) AS c") == [{"c": 5}]


def test_a_dry_run_validates_every_payload_even_one_the_graph_holds(processor: ScimProcessor) -> None:
    processor.process([_user(1)])
    dry, _ = _counted(processor)
    dry.validator = Refusing()  # type: ignore[assignment]
    with pytest.raises(AssertionError, match="validator was called"):
        dry.process([_user(1)], dry_run=True)


def test_the_same_content_from_another_document_is_unchanged_and_recognised_next_time(processor: ScimProcessor) -> None:
    processor.process([_user(1, title="Eng")])
    reordered = dict(reversed(list(_user(1, title="Eng").items())))  # the same document: canonical bytes sort keys
    assert processor.process([reordered])[0].status == "unchanged"
    renamed = {**_user(1), "title": "Eng", "emails": [{"value": "user1@example.com", "type": None}]}  # null: unassigned
    second, counting = _counted(processor)
    assert second.process([renamed])[0].status == "unchanged"  # validated, same content: only its source is recorded
    assert counting.names == ["User.source"]
    third, counting = _counted(processor)
    third.validator = Refusing()  # type: ignore[assignment]
    assert third.process([renamed])[0].status == "unchanged"
    assert counting.transactions == 0


def test_a_changed_resource_is_replaced_with_its_children(processor: ScimProcessor) -> None:
    processor.process([_user(1, title="Dr", emails=[{"value": "a@x"}, {"value": "b@x"}])])
    changed, counting = _counted(processor)
    (result,) = changed.process([_user(1, emails=[{"value": "c@x"}])])
    assert result.status == "accepted" and [s.name for s in result.cypher] == ["User.replace"]
    assert counting.names == ["User.replace"]
    assert _read(processor, "MATCH (u:User {id: 'u1'}) RETURN u.title AS t") == [{"t": None}]
    assert _read(processor, "MATCH (:User {id: 'u1'})-[:HAS_EMAIL]->(e) RETURN e.value AS v") == [{"v": "c@x"}]
    assert _read(processor, "MATCH (e:Email) RETURN count(e) AS c") == [{"c": 1}]


def test_a_member_seen_before_its_user_is_a_placeholder_filled_in_by_the_create(processor: ScimProcessor) -> None:
    group = {"schemas": [GROUP], "id": "g1", "displayName": "Eng", "members": [{"value": "u7"}, {"value": "u7", "type": "User"}]}
    assert processor.process([group])[0].status == "accepted"
    assert _read(processor, "MATCH (u:User {id: 'u7'}) RETURN u.meta_version AS v, u.userName AS n") == [{"v": None, "n": None}]
    assert _read(processor, "MATCH (:User {id: 'u7'})-[r:MEMBER_OF]->(:Group) RETURN count(r) AS c") == [{"c": 1}]  # listed twice, one edge
    later, counting = _counted(processor)
    (result,) = later.process([_user(7, title="Boss")])
    assert result.status == "accepted" and counting.names == ["User.create"]
    assert _read(processor, "MATCH (u:User {id: 'u7'}) RETURN u.title AS t, u.meta_version IS NOT NULL AS stored") == [
        {"t": "Boss", "stored": True}
    ]
    assert _read(processor, "MATCH (u:User {id: 'u7'})-[:MEMBER_OF]->(g:Group) RETURN g.id AS g") == [{"g": "g1"}]
    assert _read(processor, "MATCH (u:User) RETURN count(u) AS c") == [{"c": 1}]
    assert _read(processor, "MATCH (:User {id: 'u7'})-[:HAS_EMAIL]->(e) RETURN count(e) AS c") == [{"c": 1}]


def test_a_create_of_an_id_another_writer_stored_meanwhile_is_retried_as_a_replace(processor: ScimProcessor) -> None:
    compiled = processor.compiled()

    def other_writer() -> None:  # between this writer's state read and its write
        processor.process([_user(1, title="Other", emails=[{"value": "x@x"}, {"value": "y@x"}])])

    counting = Counting(processor.connection, before_write=other_writer)
    writer = GraphWriter(counting, compiled)  # type: ignore[arg-type]
    row = compiled.statements("User", {"id": "u1", "userName": "user1", "title": "Mine", "emails": [{"value": "m@x"}]})
    report = writer.write([PendingWrite(0, row[0])])
    assert (report.failures, report.unchanged) == ({}, set())
    assert [s.name for s in report.sent[0]] == ["User.replace"]
    assert counting.names == ["User.create", "User.replace"]
    assert _read(processor, "MATCH (u:User) RETURN u.id AS id, u.title AS t") == [{"id": "u1", "t": "Mine"}]
    assert _read(processor, "MATCH (:User {id: 'u1'})-[:HAS_EMAIL]->(e) RETURN e.value AS v") == [{"v": "m@x"}]
    assert _read(processor, "MATCH (e:Email) RETURN count(e) AS c") == [{"c": 1}]


def test_two_writers_creating_the_same_ids_end_with_one_node_each(processor: ScimProcessor) -> None:
    settings = processor.settings.model_copy(update={"workers": 1, "batch_size": 10})
    payloads = [_user(n, emails=[{"value": f"{n}@a"}, {"value": f"{n}@b"}]) for n in range(40)]
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: ScimProcessor(processor.connection, settings).process(payloads), range(2)))
    assert all(r.accepted for run in runs for r in run), [r.error for run in runs for r in run if r.error]
    assert _read(processor, "MATCH (u:User) RETURN count(u) AS c") == [{"c": 40}]
    assert _read(processor, "MATCH (e:Email) RETURN count(e) AS c") == [{"c": 80}]
    assert _read(processor, "MATCH (u:User)-[:HAS_EMAIL]->(e) WITH u, count(e) AS c WHERE c <> 2 RETURN count(u) AS bad") == [{"bad": 0}]


def test_a_document_the_graph_held_before_the_run_is_written_again_after_the_run_changed_it(processor: ScimProcessor) -> None:
    processor.process([_user(1, title="One")])
    run, _ = _counted(processor)
    results = run.process([_user(1, title="Two"), _user(2), _user(1, title="One")])  # one batch, read before any write
    assert [r.status for r in results] == ["accepted", "accepted", "accepted"]
    assert _read(processor, "MATCH (u:User {id: 'u1'}) RETURN u.title AS t") == [{"t": "One"}]


def test_a_write_by_a_request_voids_the_source_fingerprint(processor: ScimProcessor) -> None:
    group = {"schemas": [GROUP], "id": "g1", "displayName": "Eng", "members": [{"value": "u1"}]}
    processor.process([_user(1, title="One"), group])
    store = ResourceStore(processor)
    store.replace("User", "u1", {**_user(1), "title": "Changed"})  # PUT: meta_source null
    add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": "u2"}]}]}
    store.patch("Group", "g1", add)  # a member-only PATCH: meta_version changes, meta_source is left as it was
    again, counting = _counted(processor)
    results = again.process([_user(1, title="One"), group])
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert sorted(counting.names) == ["Group.replace", "User.replace"]
    assert _read(processor, "MATCH (u:User {id: 'u1'}) RETURN u.title AS t") == [{"t": "One"}]
    assert _read(processor, "MATCH (m)-[:MEMBER_OF]->(:Group {id: 'g1'}) RETURN m.id AS id") == [{"id": "u1"}]


def test_recognised_documents_skip_the_worker_processes_and_results_keep_input_order(processor: ScimProcessor) -> None:
    settings = processor.settings.model_copy(update={"workers": 2, "batch_size": 100})
    payloads = [_user(n) for n in range(600)]
    assert {r.status for r in ScimProcessor(processor.connection, settings).process(payloads)} == {"accepted"}
    payloads[450] = _user(450, title="Changed")
    results = ScimProcessor(processor.connection, settings).process(payloads)
    assert [r.source for r in results] == [f"<payload {n}>" for n in range(1, 601)]
    assert [r.status for r in results] == ["unchanged"] * 450 + ["accepted"] + ["unchanged"] * 149
    assert _read(processor, "MATCH (u:User {id: 'u450'}) RETURN u.title AS t") == [{"t": "Changed"}]
