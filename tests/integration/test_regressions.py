"""Regression tests for the faults found when the project was tried as a new user would (issue 7)."""

from __future__ import annotations

from scim_processor import ScimProcessor

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


def _count(processor: ScimProcessor, query: str) -> int:
    return int(processor.connection.read(query)[0]["c"])


def test_a_dry_run_on_an_empty_graph_does_not_leave_a_later_run_without_schemas(empty_processor: ScimProcessor) -> None:
    dry = empty_processor.process([{"schemas": [CORE], "userName": "ada"}], dry_run=True)
    assert dry[0].accepted and _count(empty_processor, "MATCH (n) RETURN count(n) AS c") == 0
    results = empty_processor.process([{"schemas": [CORE], "id": "1", "userName": "ada"}, {"schemas": [CORE], "id": "2", "userName": "ada"}])
    assert _count(empty_processor, "MATCH (s:ScimSchema) RETURN count(s) AS c") > 0  # the real run loaded the schema graph
    assert [r.status for r in results] == ["accepted", "rejected"]  # ... and its uniqueness constraints
    assert results[1].error is not None and results[1].error.scim_type == "uniqueness"


def test_meta_resource_type_alone_is_enough_in_a_dry_run_and_a_real_run(empty_processor: ScimProcessor) -> None:
    payload = {"meta": {"resourceType": "User"}, "userName": "ada"}
    assert empty_processor.process_payload(payload, dry_run=True).accepted
    assert empty_processor.process_payload(payload).accepted


def test_capitalised_member_names_are_accepted(processor: ScimProcessor) -> None:
    result = processor.process_payload({"Schemas": [CORE], "UserName": "ada", "Name": {"GivenName": "Ada"}, "ExternalId": "e1"})
    assert result.accepted, result.error
    assert processor.run_cypher("MATCH (u:User) RETURN u.name_givenName AS g, u.externalId AS e") == [{"g": "Ada", "e": "e1"}]


def test_error_types_match_the_documentation(processor: ScimProcessor) -> None:
    missing = processor.process_payload({"userName": "ada"})
    unknown = processor.process_payload({"schemas": ["urn:example:nothing"], "userName": "ada"})
    patch = processor.process_payload({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []})
    assert [r.error.to_dict()["scimType"] for r in (missing, unknown) if r.error] == ["invalidSyntax", "invalidSyntax"]
    assert patch.error is not None and patch.error.status == 501 and "not supported" in patch.error.detail


def test_one_bad_payload_never_sinks_the_run(processor: ScimProcessor) -> None:
    deep: dict = {}
    node = deep
    for _ in range(3000):
        node["a"] = {}
        node = node["a"]
    acme = "urn:example:scim:schemas:extension:acme:2.0:User"
    bad = [
        {"schemas": [CORE], "userName": "deep", "nested": deep},
        {"schemas": [CORE, acme], "userName": "big", acme: {"projects": [{"value": "p", "allocation": 2**80}]}},
        {"schemas": [CORE], "userName": "surrogate\ud800"},
        {"schemas": [CORE, acme], "userName": "nan", acme: {"projects": [{"value": "p", "allocation": float("nan")}]}},
    ]
    good = [{"schemas": [CORE], "userName": f"ok{i}"} for i in range(2)]
    results = processor.process([good[0], *bad, good[1]])
    assert [r.status for r in results] == ["accepted"] + ["rejected"] * 4 + ["accepted"]
    assert all(r.error is not None and r.error.status == 400 for r in results[1:5])
    assert _count(processor, "MATCH (u:User) RETURN count(u) AS c") == 2
