"""The Cypher guard on its public test set, and its interface."""

from __future__ import annotations

from collections import Counter

import pytest

from scim_processor.guard import CypherGuard
from tests.guard_support import cases, movies_graph_schema, scim_graph_schema

GUARDS = {"scim": CypherGuard(scim_graph_schema()), "movies": CypherGuard(movies_graph_schema())}
CASES = cases()


def test_the_case_set_covers_every_category_on_both_schemas() -> None:
    counts = Counter(case["category"] for case in CASES)
    assert len(CASES) >= 120 and counts["valid"] * 3 >= len(CASES) - 3
    assert set(counts) == {"valid", *"abcdefgh"}
    assert {case["schema"] for case in CASES if case["category"] == "valid"} == {"scim", "movies"}


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] is None], ids=lambda c: str(c["id"]))
def test_every_valid_query_is_accepted(case) -> None:
    report = GUARDS[case["schema"]].check(case["query"], read_only=case["read_only"])
    assert report.valid, [p.message for p in report.problems]


def test_invalid_queries_are_rejected_for_the_right_reason() -> None:
    invalid = [c for c in CASES if c["expect"] is not None]
    right = [c for c in invalid if c["expect"] in GUARDS[c["schema"]].check(c["query"], read_only=c["read_only"]).codes]
    missed = [(c["id"], c["query"]) for c in invalid if c not in right]
    assert len(right) / len(invalid) >= 0.97, missed


def test_problem_has_name_position_and_suggestion() -> None:
    report = GUARDS["scim"].check("MATCH (u:User)\nRETURN u.username", read_only=True)
    (problem,) = report.problems
    assert (problem.code, problem.name, problem.suggestion) == ("unknown_property", "username", "userName")
    assert (problem.position.line, problem.position.column, problem.position.offset) == (2, 10, 24)
    assert "did you mean userName?" in problem.message


def test_syntax_error_position() -> None:
    (problem,) = GUARDS["scim"].check("MATCH (u:User RETURN u").problems
    assert problem.code == "syntax_error" and problem.position.line == 1 and problem.position.column == 15


def test_reports_are_cached_by_query_and_mode() -> None:
    guard = CypherGuard(scim_graph_schema())
    first = guard.check("MATCH (u:User) RETURN u.userName", read_only=True)
    assert guard.check("MATCH (u:User) RETURN u.userName", read_only=True) is first
    assert guard.check("MATCH (u:User) RETURN u.userName", read_only=False) is not first


def test_declared_parameter_keys_make_set_plus_equal_checkable() -> None:
    guard = GUARDS["scim"]
    query = "MATCH (u:User {id: $id}) SET u += $props"
    assert guard.check(query).codes == ["dynamic_property"]
    assert guard.check(query, parameters={"id": "x", "props": {"title": "Dr", "displayName": "X"}}).valid
    assert guard.check(query, parameters={"props": {"salary": 1}}).codes == ["unknown_property"]
    rows = "UNWIND $rows AS row MERGE (u:User {id: row.id}) SET u = row"
    assert guard.check(rows, parameters={"rows": [{"id": "1", "userName": "a"}]}).valid
    assert guard.check(rows, parameters={"rows": [{"id": "1", "bogus": "a"}]}).codes == ["unknown_property"]


def test_allowlisted_procedures_and_functions() -> None:
    guard = CypherGuard(movies_graph_schema(), allowed_procedures=["apoc.text.clean"])
    assert guard.check("MATCH (p:Person) RETURN apoc.text.clean(p.name)").valid
    assert guard.check("MATCH (p:Person) RETURN apoc.text.other(p.name)").codes == ["unknown_procedure"]


def test_the_generated_upsert_queries_pass_the_guard(compiled) -> None:
    for query in compiled.upserts.values():
        assert GUARDS["scim"].check(query, parameters={"rows"}).valid


def test_the_project_cypher_files_pass_the_guard() -> None:
    from scim_processor.resources import bundled_dir

    for path in sorted(bundled_dir("cypher").glob("*.cypher")):
        report = GUARDS["scim"].check(path.read_text(), read_only=path.name.startswith("retrieve"))
        assert report.valid, (path.name, [p.message for p in report.problems])
