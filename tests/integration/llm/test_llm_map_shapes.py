"""Shape mappings on the real embedded graph: stored subgraph, proposals through the scripted server, applied through ``process``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_openai import ChatOpenAI

from scim_processor import ScimProcessor
from scim_processor.llm.mapping_file import SourceMapping
from scim_processor.llm.mapping_store import MappingStore
from scim_processor.llm.proposer import MAX_CALLS, ProposalError
from scim_processor.llm.shape_mapper import ShapeMapper
from scim_processor.llm.shapes import Shape, SourceFile

from .scripted_server import ScriptedServer, user_text

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HEADER = "Employee ID,First Name,Last Name,Work Email,Status,Kostenstelle,Password"
ROWS = [
    "1041,Hedy,Lamarr,Hedy.Lamarr@example.net,Active,CC-7,Tr0ub4dor&3",
    "1042,Grace,Hopper,grace.hopper@example.net,Terminated,CC-9,hunter2hunter2",
    "1043,Alan,Turing,alan.turing@example.net,Active,CC-7,correcthorse",
]
GOOD_ANSWER = {"fields": [
    {"source": "Work Email", "target": "userName", "transform": "lower", "args": None},
    {"source": "Kostenstelle", "target": f"{ENT}:costCenter", "transform": "copy", "args": None},
    {"source": "Employee ID", "target": "externalId", "transform": "copy", "args": None},
]}  # fmt: skip


def csv_file(tmp_path: Path, name: str = "hr.csv", rows: list[str] = ROWS, header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def users(processor: ScimProcessor) -> list[dict[str, Any]]:
    query = "MATCH (u:User) RETURN u.userName AS userName, u.active AS active ORDER BY userName"
    return processor.run_cypher(query)


def test_a_good_proposal_costs_one_request_for_the_undecided_fields_only(
    processor: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.reset(GOOD_ANSWER)
    mapper = ShapeMapper(processor, lambda: chat)
    source = SourceFile.open(csv_file(tmp_path))
    plan = mapper.plan(source)
    assert (plan.origin, plan.model_calls, len(scripted.requests)) == ("proposed", 1, 1)
    entries = {(e.sources[0], e.target, e.transform) for e in plan.mapping.entries}
    assert entries == {
        ("Employee ID", f"{ENT}:employeeNumber", "copy"), ("First Name", "name.givenName", "copy"),
        ("Last Name", "name.familyName", "copy"), ("Work Email", 'emails[type eq "work"].value', "copy"),
        ("Status", "active", "boolean"), ("Work Email", "userName", "lower"), ("Kostenstelle", f"{ENT}:costCenter", "copy"),
    }, entries  # fmt: skip
    assert plan.proposal is not None and plan.proposal.decided_by["First Name"] == "graph"
    assert plan.proposal.decided_by["Kostenstelle"] == "model" and plan.proposal.decided_by["Password"] == "unmapped"  # noqa: S105 - a field name
    assert any("'Employee ID'" in note and "ignored" in note for note in plan.proposal.notes)  # outside the request
    [request] = scripted.requests
    schema = request["response_format"]["json_schema"]
    assert schema["name"] == "scim_mapping" and schema["strict"] is True
    item = schema["schema"]["properties"]["fields"]["items"]["properties"]
    assert set(item["source"]["enum"]) == {"Work Email", "Kostenstelle", "Password"}  # undecided, contested (userName), secret
    assert 'emails[type eq "work"].value' in item["target"]["enum"] and "id" not in item["target"]["enum"]
    assert "password" not in item["target"]["enum"] and "groups.value" not in item["target"]["enum"]
    assert item["transform"]["enum"][:4] == ["copy", "lower", "upper", "title"]
    everything = json.dumps(scripted.requests)
    assert "Tr0ub4dor&3" not in everything and "hunter2hunter2" not in everything and "'Password' (secret" in user_text(request)
    assert "CC-7" in user_text(request)  # sample values of the requested fields
    # stored (unreviewed) in the graph: the next file of the same shape costs no model call
    stored = MappingStore(processor).find(source.shape(), "User")
    assert stored is not None and not stored.reviewed and stored.to_json()["fields"] == plan.mapping.to_json()["fields"]
    again = mapper.plan(SourceFile.open(csv_file(tmp_path, "second.csv", ROWS[:1])))
    assert (again.origin, again.model_calls, len(scripted.requests)) == ("stored", 0, 1)
    results = list(mapper.apply(source, plan.mapping))
    assert [r.result.status for r in results] == ["accepted"] * 3
    assert users(processor) == [{"userName": "alan.turing@example.net", "active": True},
                                {"userName": "grace.hopper@example.net", "active": False},
                                {"userName": "hedy.lamarr@example.net", "active": True}]  # fmt: skip
    assert "Tr0ub4dor&3" not in json.dumps([r.to_json() for r in results])


def test_a_bad_proposal_is_corrected_in_the_loop(processor: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer, tmp_path: Path) -> None:
    bad = {"fields": [
        {"source": "Work Email", "target": "id", "transform": "copy", "args": None},  # readOnly
        {"source": "Password", "target": "nickName", "transform": "copy", "args": None},  # secret field
        {"source": "Kostenstelle", "target": "urn:example:scim:schemas:extension:acme:2.0:User:startDate", "transform": "copy",
         "args": None},  # a string for a dateTime
    ]}  # fmt: skip
    scripted.reset(bad, GOOD_ANSWER)
    plan = ShapeMapper(processor, lambda: chat).plan(SourceFile.open(csv_file(tmp_path)))
    assert plan.model_calls == 2 and len(scripted.requests) == 2
    correction = scripted.requests[1]["messages"][-1]["content"]
    assert scripted.requests[1]["messages"][-2]["role"] == "assistant"
    for code in ("read_only_attribute", "secret_source", "type_mismatch"):
        assert code in correction, correction
    assert ("Kostenstelle", f"{ENT}:costCenter") in {(e.sources[0], e.target) for e in plan.mapping.entries}


def test_the_budget_ends_with_the_failures_named_and_nothing_stored(
    processor: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer, tmp_path: Path
) -> None:
    start = "urn:example:scim:schemas:extension:acme:2.0:User:startDate"
    scripted.reset(*[{"fields": [{"source": "Kostenstelle", "target": start, "transform": "copy", "args": None}]}] * 5)
    mapper = ShapeMapper(processor, lambda: chat, max_attempts=9)
    with pytest.raises(ProposalError, match=f"after {MAX_CALLS} model call") as raised:
        mapper.plan(SourceFile.open(csv_file(tmp_path)))
    assert len(scripted.requests) == MAX_CALLS
    assert {i.code for i in raised.value.issues} >= {"type_mismatch", "required_unmapped"}
    assert MappingStore(processor).all() == []


def test_a_new_field_of_a_known_shape_is_proposed_alone(processor: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.reset(GOOD_ANSWER)
    mapper = ShapeMapper(processor, lambda: chat)
    first = mapper.plan(SourceFile.open(csv_file(tmp_path)))
    scripted.reset({"fields": [{"source": "Ausweis", "target": "urn:example:scim:schemas:extension:acme:2.0:User:badgeNumber",
                                "transform": "copy", "args": None}]})  # fmt: skip
    rows = [row + ",B-1" for row in ROWS]
    second = mapper.plan(SourceFile.open(csv_file(tmp_path, "wider.csv", rows, HEADER + ",Ausweis")))
    assert second.origin == "proposed" and second.model_calls == 1
    [request] = scripted.requests
    assert request["response_format"]["json_schema"]["schema"]["properties"]["fields"]["items"]["properties"]["source"]["enum"] == ["Ausweis"]
    assert second.mapping.entries[: len(first.mapping.entries)] == first.mapping.entries
    # a file with fewer columns fits the wider stored shape: no proposal
    narrower = mapper.plan(SourceFile.open(csv_file(tmp_path, "narrow.csv", [r.rsplit(",", 2)[0] for r in ROWS], HEADER.rsplit(",", 2)[0])))
    assert narrower.origin == "stored" and len(scripted.requests) == 1


def test_reviewed_mappings_of_the_nearest_shapes_are_the_few_shot_examples(
    processor: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer, tmp_path: Path
) -> None:
    reviewed = SourceMapping.from_json({
        "resourceType": "User", "shape": {"format": "csv", "fields": ["Login", "Kostenstelle", "Rufname"]},
        "fields": [{"source": "Login", "target": "userName"}, {"source": "Rufname", "target": "nickName"},
                   {"source": "Kostenstelle", "target": f"{ENT}:costCenter"}], "reviewed": True,
    })  # fmt: skip
    MappingStore(processor).save(reviewed)
    scripted.reset({"fields": [{"source": "Vorname", "target": "name.givenName", "transform": "copy", "args": None}]})
    plan = ShapeMapper(processor, lambda: chat).plan(
        SourceFile.open(csv_file(tmp_path, "de.csv", ["ada,CC-1,Ada"], "Login,Kostenstelle,Vorname"))
    )
    [request] = scripted.requests
    system = request["messages"][0]["content"]
    assert "Reviewed mapping of a similar csv export" in system and f"Kostenstelle -> {ENT}:costCenter" in system
    assert request["response_format"]["json_schema"]["schema"]["properties"]["fields"]["items"]["properties"]["source"]["enum"] == ["Vorname"]
    assert {(e.sources[0], e.target) for e in plan.mapping.entries} == {
        ("Login", "userName"), ("Kostenstelle", f"{ENT}:costCenter"), ("Vorname", "name.givenName")}  # fmt: skip


def test_store_round_trip_through_the_guarded_subgraph(processor: ScimProcessor) -> None:
    mapping = SourceMapping.from_json({
        "resourceType": "User", "shape": {"format": "jsonl", "fields": ["login", "profile.firstName", "profile.lastName", "id"]},
        "fields": [{"source": "login", "target": "userName", "transform": "lower"},
                   {"source": ["profile.firstName", "profile.lastName"], "target": "displayName", "transform": "join",
                    "args": {"separator": " "}},
                   {"source": "id", "target": "externalId"}],
        "reviewed": True,
    })  # fmt: skip
    store = MappingStore(processor)
    store.save(mapping)
    store.save(mapping)  # replaced, not duplicated
    [back] = store.all()
    assert back.to_json() == mapping.to_json()
    rows = processor.run_cypher(
        "MATCH (s:SourceShape)-[:HAS_FIELD]->(f:SourceField)-[m:MAPS_TO]->(a) "
        "RETURN s.reviewed AS reviewed, f.path AS path, m.transform AS transform, labels(a)[0] AS label ORDER BY path"
    )
    assert rows == [{"reviewed": True, "path": "id", "transform": "copy", "label": "ScimResourceType"},
                    {"reviewed": True, "path": "login", "transform": "lower", "label": "ScimAttribute"},
                    {"reviewed": True, "path": "profile.firstName", "transform": "join", "label": "ScimAttribute"}]  # fmt: skip
    assert store.find(Shape("jsonl", ("login", "id")), "User") is not None and store.find(Shape("jsonl", ("login", "x")), "User") is None
    assert store.nearest(Shape("jsonl", ("login",)), "User")[0].fingerprint == mapping.fingerprint
    assert store.delete(mapping.fingerprint) == 1 and store.all() == []
