"""Schema loading, retrieval and apply against the real graph server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from scim_processor import ScimProcessor
from scim_processor.resources import bundled_dir
from scim_processor.scim import GroundingContext

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def snapshot(processor: ScimProcessor) -> tuple[list, list]:
    """Every node (labels, properties) and relationship of the graph, sorted, without internal ids."""
    nodes = processor.connection.read("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    rels = processor.connection.read(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, "
        "coalesce(a.id, a.value, a.name) AS start, coalesce(b.id, b.value, b.name) AS end"
    )
    key = lambda row: json.dumps(row, sort_keys=True, default=str)  # noqa: E731
    return sorted(nodes, key=key), sorted(rels, key=key)


def count(processor: ScimProcessor, query: str, **params) -> int:
    return processor.connection.read(query, params)[0]["c"]


# ------------------------------------------------------------------ schema graph
def test_schema_load_creates_the_schema_graph(processor: ScimProcessor) -> None:
    assert count(processor, "MATCH (s:ScimSchema) RETURN count(s) AS c") == 4
    assert count(processor, "MATCH (:ScimResourceType)-[:HAS_EXTENSION]->(s:ScimSchema) RETURN count(s) AS c") == 2
    row = processor.connection.read(
        "MATCH (:ScimSchema {id: $urn})-[:HAS_ATTRIBUTE]->(:ScimAttribute {name: 'emails'})-[:HAS_SUB_ATTRIBUTE]->(t:ScimAttribute {name: 'type'}) "
        "RETURN t.canonicalValues AS values, t.caseExact AS caseExact, t.mutability AS mutability, t.id AS id",
        {"urn": CORE},
    )
    assert row == [{"values": ["work", "home", "other"], "caseExact": False, "mutability": "readWrite", "id": f"{CORE}:emails.type"}]


def test_schema_load_is_idempotent(processor: ScimProcessor) -> None:
    before = snapshot(processor)
    report = processor.load_schemas()
    assert report.loaded == [] and len(report.unchanged) == 4
    assert snapshot(processor) == before


def test_changed_schema_replaces_the_old_one_cleanly(processor: ScimProcessor, tmp_path: Path) -> None:
    directory = tmp_path / "schemas"
    shutil.copytree(bundled_dir("schemas"), directory)
    path = directory / "acme-extension-schema-user.json"
    schema = json.loads(path.read_text())
    schema["attributes"] = [a for a in schema["attributes"] if a["name"] != "projects"]
    schema["attributes"][0]["description"] = "changed"
    path.write_text(json.dumps(schema))
    report = processor.load_schemas(directory)
    assert report.loaded == ["urn:example:scim:schemas:extension:acme:2.0:User"]
    acme = "urn:example:scim:schemas:extension:acme:2.0:User"
    assert count(processor, "MATCH (:ScimSchema {id: $urn})-[:HAS_ATTRIBUTE]->(a:ScimAttribute) RETURN count(a) AS c", urn=acme) == 4
    assert count(processor, "MATCH (a:ScimAttribute) WHERE a.id STARTS WITH $p RETURN count(a) AS c", p=acme + ":projects") == 0
    assert "projects" not in [a.name for a in processor.compiled().contexts["User"].extensions[1].attributes]


# ------------------------------------------------------------------ retrieval
def test_retrieved_context_equals_the_schema_files(processor: ScimProcessor, schema_set) -> None:
    retrieved = processor.retriever.retrieve({"schemas": [CORE, ENTERPRISE], "userName": "x"})
    from_files = GroundingContext.from_schema_set(schema_set, "User")
    assert retrieved.core == from_files.core
    assert retrieved.extensions == from_files.extensions
    assert retrieved.declared == (ENTERPRISE,)
    assert "userName string required uniqueness=server" in retrieved.render_prompt()


def test_retrieval_is_cached_per_schema_version(processor: ScimProcessor) -> None:
    first = processor.compiled()
    processor.retriever.refresh()
    assert processor.compiled() is first  # same schema version: not read or compiled again


# ------------------------------------------------------------------ apply
def _user(uid: str, name: str, **extra) -> dict:
    return {"schemas": [CORE], "id": uid, "userName": name, **extra}


def test_users_groups_emails_and_manager_land_in_the_graph(processor: ScimProcessor) -> None:
    results = processor.process([
        _user("u1", "ada", emails=[{"value": "ada@example.com", "type": "work", "primary": True}]),
        {"schemas": [CORE, ENTERPRISE], "id": "u2", "userName": "bob", ENTERPRISE: {"manager": {"value": "u1"}}},
        {"schemas": [GROUP], "id": "g1", "displayName": "Team", "members": [{"value": "u1"}, {"value": "u2", "type": "User"}]},
    ])  # fmt: skip
    assert [r.status for r in results] == ["accepted"] * 3
    assert processor.connection.read("MATCH (u:User {id: 'u1'})-[:HAS_EMAIL]->(e:Email) RETURN e.value AS v, e.primary AS p") == [
        {"v": "ada@example.com", "p": True}
    ]
    assert count(processor, "MATCH (:User {id: 'u2'})-[:REPORTS_TO]->(:User {id: 'u1'}) RETURN count(*) AS c") == 1
    assert count(processor, "MATCH (:User)-[:MEMBER_OF]->(:Group {id: 'g1'}) RETURN count(*) AS c") == 2


def test_rerunning_the_same_payloads_leaves_the_same_graph(processor: ScimProcessor) -> None:
    from scim_processor.stages.read import read_paths
    from tests.conftest import EXAMPLES

    processor.process(read_paths([EXAMPLES]))
    first = snapshot(processor)
    processor.process(read_paths([EXAMPLES]))
    # RFC 7643 §8.1 and §8.2 are one user with two contents: each run changes it twice, so its
    # meta.lastModified moves; every content property and meta.version stay the same.
    assert _without_times(snapshot(processor)) == _without_times(first)
    stamps = processor.connection.read("MATCH (u:User {userName: 'ada.lovelace@example.com'}) RETURN u.meta_created AS c, u.meta_lastModified AS m")
    assert stamps == [{"c": stamps[0]["c"], "m": stamps[0]["c"]}]  # unchanged content: lastModified not moved


RUN_STAMPS = ("meta_created", "meta_lastModified")  # server-set write times: differ from run to run by design


def _without_times(snap: tuple[list, list]) -> tuple[list, list]:
    nodes = [{**n, "props": {k: v for k, v in n["props"].items() if k not in RUN_STAMPS}} for n in snap[0]]
    return sorted(nodes, key=lambda row: json.dumps(row, sort_keys=True, default=str)), snap[1]


def test_replace_removes_what_the_new_representation_leaves_out(processor: ScimProcessor) -> None:
    processor.process([_user("u1", "ada", title="Dr", emails=[{"value": "a@x"}, {"value": "b@x"}])])
    processor.process([_user("u1", "ada", emails=[{"value": "c@x"}])])
    row = processor.connection.read("MATCH (u:User {id: 'u1'}) RETURN u.title AS title")
    assert row == [{"title": None}]
    emails = processor.connection.read("MATCH (:User {id: 'u1'})-[:HAS_EMAIL]->(e:Email) RETURN e.value AS v")
    assert emails == [{"v": "c@x"}]
    assert count(processor, "MATCH (e:Email) RETURN count(e) AS c") == 1  # no orphaned child nodes


def test_a_uniqueness_conflict_rejects_only_that_payload(processor: ScimProcessor) -> None:
    results = processor.process([_user("u1", "same"), _user("u2", "same"), _user("u3", "other")])
    assert [r.status for r in results] == ["accepted", "rejected", "accepted"]
    assert (results[1].error.status, results[1].error.scim_type) == (409, "uniqueness")
    assert "userName 'same' is already held by User u1" in results[1].error.detail  # the holder is named
    assert sorted(r["id"] for r in processor.connection.read("MATCH (u:User) RETURN u.id AS id")) == ["u1", "u3"]


def test_dry_run_writes_nothing(processor: ScimProcessor) -> None:
    before = snapshot(processor)
    results = processor.process([_user("u1", "ada")], dry_run=True)
    assert results[0].accepted and results[0].cypher
    assert snapshot(processor) == before


def test_payload_size_limit_holds_for_the_python_api_too(processor: ScimProcessor) -> None:
    processor.settings.max_payload_bytes = 200
    try:
        result = processor.process_payload(_user("u1", "ada", title="x" * 300))
    finally:
        processor.settings.max_payload_bytes = 1_048_576
    assert (result.status, result.error.status) == ("rejected", 413)
    assert count(processor, "MATCH (u:User) RETURN count(u) AS c") == 0


def test_first_process_on_an_empty_graph_loads_the_bundled_schemas(empty_processor: ScimProcessor) -> None:
    assert not empty_processor.schemas_loaded()
    assert empty_processor.process([_user("u1", "ada")])[0].accepted
    assert empty_processor.schemas_loaded()


# ------------------------------------------------------------------ injection
INJECTIONS = ['"}) DETACH DELETE n //', "' OR 1=1 --", "`) MATCH (x) DETACH DELETE x //", "$rows}]->(", "\\u0027; DROP"]


def test_cypher_in_values_is_stored_verbatim_and_touches_nothing_else(processor: ScimProcessor) -> None:
    processor.process([_user("bystander", "bystander", title="keep me")])
    before = snapshot(processor)
    payload = _user("evil", INJECTIONS[0], displayName=INJECTIONS[1], title=INJECTIONS[2], nickName=INJECTIONS[3],
                    emails=[{"value": INJECTIONS[4], "type": "work"}])  # fmt: skip
    result = processor.process([payload])[0]
    assert result.accepted
    row = processor.connection.read(
        "MATCH (u:User {id: 'evil'})-[:HAS_EMAIL]->(e:Email) RETURN u.userName AS a, u.displayName AS b, u.title AS c, u.nickName AS d, e.value AS e"
    )
    assert row == [dict(zip("abcde", INJECTIONS, strict=True))]
    for statement in result.cypher:
        assert not any(value in statement.query for value in INJECTIONS)
    nodes, rels = snapshot(processor)
    others = [n for n in nodes if n["props"].get("id") != "evil" and n["props"].get("value") != INJECTIONS[4]]
    assert others == before[0]
    assert [r for r in rels if r["start"] != "evil"] == before[1]
    assert len(nodes) == len(before[0]) + 2


def test_cypher_in_attribute_names_is_rejected_and_nothing_is_written(processor: ScimProcessor) -> None:
    before = snapshot(processor)
    for name in ["userName}) DETACH DELETE n //", "`x` = 1 WITH *", "name.givenName"]:
        result = processor.process([{"schemas": [CORE], "userName": "x", name: "v"}])[0]
        assert (result.status, result.error.status, result.error.scim_type) == ("rejected", 400, "invalidSyntax")
        assert name in result.error.detail
    assert snapshot(processor) == before


# ------------------------------------------------------------------ read-only Cypher
def test_run_cypher_is_guarded_and_read_only(processor: ScimProcessor) -> None:
    import pytest

    from scim_processor.errors import CypherRejectedError

    processor.process([_user("u1", "ada")])
    assert processor.run_cypher("MATCH (u:User) RETURN u.userName AS n") == [{"n": "ada"}]
    with pytest.raises(CypherRejectedError) as caught:
        processor.run_cypher("MATCH (u:User) DETACH DELETE u")
    assert caught.value.report.codes == ["write_in_read_only"]
    assert count(processor, "MATCH (u:User) RETURN count(u) AS c") == 1
