"""Literals moved into parameters from the parse tree (issue 16 §8), and the guard still judging the result."""

from __future__ import annotations

import pytest

from scim_processor.guard import CypherGuard, CypherSyntaxError
from scim_processor.guard.literals import number_value, parameterize, string_value
from tests.guard_support import scim_graph_schema

GUARD = CypherGuard(scim_graph_schema())


def test_strings_and_numbers_become_parameters_with_the_exact_text() -> None:
    query = (
        "MATCH (u:User {userName: 'ada@example.org'})-[:MEMBER_OF]->(g:Group) "
        "WHERE g.displayName IN [\"Admins\", 'it\\'s'] AND size(g.displayName) > 2.5e1 AND u.active = true "
        "RETURN g.displayName AS name, 'x' + 'ada@example.org' AS tag SKIP 5 LIMIT 10"
    )
    rewritten = parameterize(query, {"p1": "given"})
    assert rewritten.query == (
        "MATCH (u:User {userName: $p2})-[:MEMBER_OF]->(g:Group) "
        "WHERE g.displayName IN [$p3, $p4] AND size(g.displayName) > $p5 AND u.active = true "
        "RETURN g.displayName AS name, $p6 + $p2 AS tag SKIP 5 LIMIT 10"
    )  # equal values share one parameter; booleans, SKIP and LIMIT stay; the given $p1 is not reused
    assert rewritten.moved == {"p2": "ada@example.org", "p3": "Admins", "p4": "it's", "p5": 25.0, "p6": "x"}
    assert rewritten.parameters == {"p1": "given", **rewritten.moved}
    assert GUARD.check(rewritten.query, read_only=True, parameters=rewritten.parameters).valid


def test_a_query_without_literals_is_unchanged() -> None:
    query = "MATCH (u:User) WHERE u.department = $d RETURN count(u) AS n"
    assert parameterize(query, {"d": "R&D"}).query == query and parameterize(query, {"d": "R&D"}).moved == {}


def test_a_write_stays_a_write_after_the_rewrite() -> None:
    rewritten = parameterize("MATCH (u:User) SET u.title = 'CEO' RETURN u.userName AS u")
    assert rewritten.query == "MATCH (u:User) SET u.title = $p1 RETURN u.userName AS u" and rewritten.moved == {"p1": "CEO"}
    assert GUARD.check(rewritten.query, read_only=True, parameters=rewritten.parameters).codes == ["write_in_read_only"]


@pytest.mark.parametrize(("text", "value"), [("'a\\nb'", "a\nb"), ('"\\u00e9\\\\"', "é\\"), ("'say \"hi\"'", 'say "hi"')])
def test_string_escapes(text: str, value: str) -> None:
    assert string_value(text) == value


@pytest.mark.parametrize(("text", "value"), [("42", 42), ("-7", -7), ("0x1F", 31), ("0o17", 15), ("1.5", 1.5), ("2e3", 2000.0)])
def test_numbers(text: str, value: float) -> None:
    assert number_value(text) == value


def test_syntax_error_is_raised() -> None:
    with pytest.raises(CypherSyntaxError):
        parameterize("MATCH (u:User WHERE u.x = 'a' RETURN u")
