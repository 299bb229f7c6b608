"""Filters → Cypher, as text (no server): the builder's exact output and its refusals."""

from __future__ import annotations

import pytest

from scim_processor.errors import InvalidFilterError, InvalidValueError
from scim_processor.http.filters import sort_key, translate_filter
from scim_processor.mapping import CompiledSchema

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def where(compiled: CompiledSchema, text: str, resource_type: str = "User") -> tuple[str, dict]:
    result = translate_filter(text, compiled.contexts[resource_type], compiled.mappings[resource_type])
    query = f"MATCH (n:{resource_type}) WHERE {result.where} RETURN n.id AS id"
    assert compiled.guard.check(query, read_only=True, parameters=set(result.parameters)).valid, query
    return result.where, result.parameters


@pytest.mark.parametrize(
    ("text", "expected", "parameters"),
    [
        ('title eq "Boss"', "(n.title IS NOT NULL AND toLower(n.title) = $f0)", {"f0": "boss"}),
        ('externalId eq "E1"', "(n.externalId IS NOT NULL AND n.externalId = $f0)", {"f0": "E1"}),
        ('title ne "x"', "(n.title IS NULL OR toLower(n.title) <> $f0)", {"f0": "x"}),
        ('title sw "50%"', "(n.title IS NOT NULL AND toLower(n.title) STARTS WITH $f0)", {"f0": "50%"}),
        ("title pr", "(n.title IS NOT NULL AND n.title <> '')", {}),
        ("active eq true", "(n.active IS NOT NULL AND n.active = $f0)", {"f0": True}),
        ("title eq null", "n.title IS NULL", {}),
        ('name.familyName eq "X"', "(n.name_familyName IS NOT NULL AND toLower(n.name_familyName) = $f0)", {"f0": "x"}),
        (f'{ENTERPRISE}:employeeNumber eq "7"', "(n.employeeNumber IS NOT NULL AND toLower(n.employeeNumber) = $f0)", {"f0": "7"}),
        (
            'emails[type eq "work" and value co "@x"]',
            "EXISTS { MATCH (n)-[:HAS_EMAIL]->(c1:Email) WHERE ((c1.type IS NOT NULL AND toLower(c1.type) = $f0) "
            "AND (c1.value IS NOT NULL AND toLower(c1.value) CONTAINS $f1)) }",
            {"f0": "work", "f1": "@x"},
        ),
        (
            'emails ne "a@x"',
            "NOT EXISTS { MATCH (n)-[:HAS_EMAIL]->(c1:Email) WHERE (c1.value IS NOT NULL AND toLower(c1.value) = $f0) }",
            {"f0": "a@x"},
        ),
        ('not (title eq "a")', "NOT ((n.title IS NOT NULL AND toLower(n.title) = $f0))", {"f0": "a"}),
        ('meta.created gt "2020-01-01T01:00:00+01:00"', "(n.meta_created IS NOT NULL AND n.meta_created > $f0)", {"f0": "2020-01-01T00:00:00.000Z"}),
    ],
)
def test_user_filters(compiled: CompiledSchema, text: str, expected: str, parameters: dict) -> None:
    assert where(compiled, text) == (expected, parameters)


def test_group_member_filter_is_an_edge_pattern(compiled: CompiledSchema) -> None:
    text, parameters = where(compiled, 'id eq "g1" and members[value eq "u1"]', "Group")
    assert text == "((n.id IS NOT NULL AND n.id = $f0) AND EXISTS { MATCH (n)<-[:MEMBER_OF]-(c1) WHERE (c1.id IS NOT NULL AND c1.id = $f1) })"
    assert parameters == {"f0": "g1", "f1": "u1"}


def test_values_never_enter_the_query_text(compiled: CompiledSchema) -> None:
    text, parameters = where(compiled, 'userName eq "x\\" OR 1=1 //" or title co "}) DETACH DELETE n"')
    assert "DETACH" not in text and "1=1" not in text
    assert set(parameters.values()) == {'}) detach delete n', 'x" or 1=1 //'}


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "x" and',  # syntax
        "nosuch pr",  # unknown attribute
        "active gt true",  # ordering on a boolean (RFC 7644 §3.4.2.2)
        'active eq "yes"',  # not a JSON boolean
        'name eq "x"',  # complex compared whole
        'password eq "x"',  # writeOnly: not stored
        'meta.created co "20"',  # substring on an instant
        'meta.created gt "yesterday"',  # not an xsd:dateTime
    ],
)
def test_refusals_are_invalid_filter(compiled: CompiledSchema, text: str) -> None:
    with pytest.raises(InvalidFilterError) as raised:
        translate_filter(text, compiled.contexts["User"], compiled.mappings["User"])
    assert raised.value.to_dict()["scimType"] == "invalidFilter" and raised.value.status == 400


def test_unknown_attributes_match_none_across_resource_types(compiled: CompiledSchema) -> None:
    result = translate_filter("userName pr", compiled.contexts["Group"], compiled.mappings["Group"], unknown_matches_none=True)
    assert result.where == "false"


def test_sort_keys(compiled: CompiledSchema) -> None:
    user, mapping = compiled.contexts["User"], compiled.mappings["User"]
    assert sort_key("userName", user, mapping) == ("toLower(n.userName)", True)
    assert sort_key("meta.created", user, mapping) == ("n.meta_created", False)
    assert sort_key("emails", user, mapping) == (
        "head([(n)-[:HAS_EMAIL]->(c1:Email) WHERE c1.primary = true | toLower(c1.value)] + [(n)-[:HAS_EMAIL]->(c1:Email) | toLower(c1.value)])",
        True,
    )
    with pytest.raises(InvalidValueError):
        sort_key("name", user, mapping)
