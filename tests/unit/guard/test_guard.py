"""The Cypher guard on its public test set (every case with its exact code), and its interface."""

from __future__ import annotations

from collections import Counter

import pytest

from scim_processor.errors import CypherRejectedError, ScimProcessorError
from scim_processor.guard import CypherGuard, CypherSyntaxError, ProblemCode, Severity, parse
from scim_processor.guard.paths import reach
from tests.guard_support import cases, movies_graph_schema, scim_graph_schema

GUARDS = {"scim": CypherGuard(scim_graph_schema()), "movies": CypherGuard(movies_graph_schema())}
CASES = cases()
WARNING_CATEGORY = "w"


def test_the_case_set_covers_every_category_on_both_schemas() -> None:
    counts = Counter(case["category"] for case in CASES)
    assert set(counts) == {"valid", *"abcdefghijkl", WARNING_CATEGORY}
    assert {case["schema"] for case in CASES if case["category"] == "valid"} == {"scim", "movies"}
    assert len({case["id"] for case in CASES}) == len(CASES)
    assert all(case["expect"] in set(ProblemCode) for case in CASES if case["expect"] is not None)


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] is None], ids=lambda c: str(c["id"]))
def test_every_valid_query_is_accepted_without_findings(case) -> None:
    report = GUARDS[case["schema"]].check(case["query"], read_only=case["read_only"])
    assert report.valid and report.codes == [], [p.message for p in report.problems]


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] is not None], ids=lambda c: str(c["id"]))
def test_every_invalid_query_gets_exactly_its_code(case) -> None:
    report = GUARDS[case["schema"]].check(case["query"], read_only=case["read_only"])
    assert set(report.codes) == {case["expect"]}, [p.message for p in report.problems]
    assert report.valid == (case["category"] == WARNING_CATEGORY)


def test_problem_has_name_position_and_suggestion() -> None:
    report = GUARDS["scim"].check("MATCH (u:User)\nRETURN u.username", read_only=True)
    (problem,) = report.problems
    assert (problem.code, problem.name, problem.suggestion) == ("unknown_property", "username", "userName")
    assert (problem.position.line, problem.position.column, problem.position.offset) == (2, 10, 24)
    assert "did you mean userName?" in problem.message
    assert problem.to_json()["severity"] == "error"


def test_syntax_error_position() -> None:
    (problem,) = GUARDS["scim"].check("MATCH (u:User RETURN u").problems
    assert problem.code == "syntax_error" and problem.position.line == 1 and problem.position.column == 15


def test_syntax_error_is_a_project_error_with_its_fields() -> None:
    with pytest.raises(CypherSyntaxError) as caught:
        parse("MATCH (u:User RETURN u")
    assert isinstance(caught.value, ScimProcessorError)
    assert (caught.value.line, caught.value.column) == (1, 15) and caught.value.message


def test_codes_are_a_str_enum() -> None:
    report = GUARDS["scim"].check("MATCH (u:Users) RETURN u", read_only=True)
    assert report.problems[0].code is ProblemCode.UNKNOWN_LABEL and report.codes == ["unknown_label"]


def test_a_type_hint_is_a_warning_with_a_suggestion() -> None:
    report = GUARDS["movies"].check("MATCH (p:Person) WHERE p.born = '1964' RETURN p.name", read_only=True)
    (warning,) = report.warnings
    assert report.valid and report.errors == ()
    assert (warning.code, warning.severity, warning.suggestion) == ("type_mismatch", Severity.WARNING, "1964")
    assert GUARDS["movies"].require("MATCH (p:Person) WHERE p.born = '1964' RETURN p.name") is not None


def test_the_query_size_limit_has_its_own_code() -> None:
    guard = CypherGuard(scim_graph_schema(), max_query_chars=40)
    assert guard.check("MATCH (u:User) RETURN u.userName").valid
    report = guard.check("MATCH (u:User) WHERE u.active RETURN u.userName, u.displayName")
    assert report.codes == ["query_too_large"]
    assert CypherGuard(scim_graph_schema()).max_query_chars == 100_000


def test_procedures_outside_the_read_allowlist_are_refused_in_read_only_mode() -> None:
    guard = CypherGuard(
        movies_graph_schema(),
        allowed_procedures=["apoc.create.node"],
        allowed_read_procedures=["apoc.meta.stats"],
    )
    create = "CALL apoc.create.node(['Person'], {name: 'x'}) YIELD node RETURN node.name"
    assert guard.check(create).valid
    assert guard.check(create, read_only=True).codes == ["procedure_in_read_only"]
    assert guard.check("CALL apoc.meta.stats() YIELD labels RETURN labels", read_only=True).valid
    assert guard.check("CALL apoc.other() YIELD x RETURN x").codes == ["unknown_procedure"]


def test_a_checker_crash_is_a_rejection_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from scim_processor.guard.checker import SchemaChecker

    def broken(self: SchemaChecker, root: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(SchemaChecker, "check", broken)
    report = CypherGuard(scim_graph_schema()).check("MATCH (u:User) RETURN u.userName")
    assert report.codes == ["unsupported_clause"] and not report.valid


def test_nested_subqueries_are_checked_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    from scim_processor.guard.checker import SchemaChecker

    calls = []
    original = SchemaChecker.query_with_defs

    def counting(self: SchemaChecker, ctx: object, scope: dict) -> dict:
        calls.append(ctx)
        return original(self, ctx, scope)

    monkeypatch.setattr(SchemaChecker, "query_with_defs", counting)
    query = "MATCH (x:User) RETURN x.id AS y"
    for _ in range(6):  # visited and inferred at every level: 3**6 checks without memoising
        query = f"RETURN COLLECT {{ {query} }} AS y"
    assert CypherGuard(scim_graph_schema()).check(query, read_only=True).valid
    assert len(calls) == 7


def test_require_raises_with_the_report() -> None:
    with pytest.raises(CypherRejectedError) as caught:
        GUARDS["scim"].require(
            "WHEN true THEN MATCH (n) DETACH DELETE n RETURN count(*) AS deleted", read_only=True
        )
    assert caught.value.report.codes == ["write_in_read_only"]


def test_huge_path_bounds_are_decided_without_unrolling() -> None:
    report = GUARDS["movies"].check(
        "MATCH (a:Person)-[:FOLLOWS*1000000..2000000]->(b:Movie) RETURN b.title", read_only=True
    )
    assert report.codes == ["relationship_direction"]
    assert GUARDS["movies"].check("MATCH (a:Person)-[:FOLLOWS*1000000..]->(b:Person) RETURN b.name").valid


def test_reach_follows_the_periodic_sequence_of_label_sets() -> None:
    flip = {frozenset("A"): frozenset("B"), frozenset("B"): frozenset("A")}
    assert reach(flip.__getitem__, frozenset("A"), 3, 3) == frozenset("B")
    assert reach(flip.__getitem__, frozenset("A"), 2, 2) == frozenset("A")
    assert reach(flip.__getitem__, frozenset("A"), 0, None) == frozenset("AB")


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


def test_allowlisted_functions() -> None:
    guard = CypherGuard(movies_graph_schema(), allowed_procedures=["apoc.text.clean"])
    assert guard.check("MATCH (p:Person) RETURN apoc.text.clean(p.name)", read_only=True).valid
    assert guard.check("MATCH (p:Person) RETURN apoc.text.other(p.name)").codes == ["unknown_procedure"]


def test_the_generated_upsert_queries_pass_the_guard(compiled) -> None:
    for plan in compiled.plans.values():
        for query in (plan.create, plan.replace, plan.source):
            assert GUARDS["scim"].check(query, parameters={"rows"}).valid, query
        assert GUARDS["scim"].check(plan.state, read_only=True, parameters={"ids"}).valid


def test_the_project_cypher_files_pass_the_guard() -> None:
    from scim_processor.resources import bundled_dir

    for path in sorted(bundled_dir("cypher").glob("*.cypher")):
        report = GUARDS["scim"].check(path.read_text(), read_only=path.name.startswith("retrieve"))
        assert report.valid, (path.name, [p.message for p in report.problems])
