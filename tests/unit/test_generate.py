"""The deterministic generator: normalised SCIM JSON and the row it writes."""

from __future__ import annotations

import pytest

from scim_processor.errors import ScimError
from scim_processor.stages.generate import DeterministicGenerator

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Generated:
    """The generation of one payload, with the row its Cypher writes."""

    def __init__(self, retriever, payload):
        context = retriever.retrieve(payload)
        generation = DeterministicGenerator().generate(payload, context)
        self.resource, self.warnings = generation.resource, generation.warnings
        self.statements = retriever.compiled().statements(generation.resource_type, generation.resource)
        self.row = self.statements[0].parameters["rows"][0]


def generate(retriever, payload) -> Generated:
    return Generated(retriever, payload)


def test_attribute_names_are_case_insensitive_and_spelled_as_the_schema(file_retriever) -> None:
    result = generate(file_retriever, {"SCHEMAS": None, "schemas": [CORE], "USERNAME": "x@example.com", "Name": {"GIVENNAME": "X"}})
    assert result.resource["userName"] == "x@example.com"
    assert result.resource["name"] == {"givenName": "X"}
    assert result.row["name_givenName"] == "X"


def test_read_only_meta_groups_and_nulls_are_dropped(file_retriever) -> None:
    payload = {
        "schemas": [CORE], "userName": "x", "meta": {"created": "2020-01-01T00:00:00Z"},
        "groups": [{"value": "g1"}], "nickName": None, "emails": [],
    }  # fmt: skip
    result = generate(file_retriever, payload)
    assert set(result.resource) == {"schemas", "id", "userName"}
    assert result.row["nickName"] is None and result.row["emails"] == []
    assert any("groups: readOnly" in w for w in result.warnings)


def test_password_never_reaches_the_resource_or_the_row(file_retriever) -> None:
    result = generate(file_retriever, {"schemas": [CORE], "userName": "x", "password": "t1meMa$heen"})
    assert "t1meMa$heen" not in repr(result.resource) + repr(result.row) + repr(result.statements)


def test_canonical_values_are_case_normalised(file_retriever) -> None:
    result = generate(file_retriever, {"schemas": [CORE], "userName": "x", "emails": [{"value": "a@b", "type": "Work"}]})
    assert result.resource["emails"] == [{"value": "a@b", "type": "work"}]


def test_entra_manager_as_plain_string_becomes_a_reference(file_retriever) -> None:
    payload = {"schemas": [CORE, ENTERPRISE], "userName": "x", ENTERPRISE: {"manager": "boss-id"}}
    result = generate(file_retriever, payload)
    assert result.resource[ENTERPRISE]["manager"] == {"value": "boss-id"}
    assert result.row["manager_User"] == ["boss-id"]


def test_extension_urn_matched_case_insensitively(file_retriever) -> None:
    payload = {"schemas": [CORE, ENTERPRISE.upper()], "userName": "x", ENTERPRISE.upper(): {"DEPARTMENT": "Ops"}}
    result = generate(file_retriever, payload)
    assert result.resource["schemas"] == [CORE, ENTERPRISE]
    assert result.row["department"] == "Ops"


def test_unknown_attribute_is_invalid_syntax_naming_it(file_retriever) -> None:
    with pytest.raises(ScimError) as caught:
        generate(file_retriever, {"schemas": [CORE], "userName": "x", "}) DETACH DELETE n //": 1})
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidSyntax")
    assert "DETACH DELETE" in caught.value.detail


def test_undeclared_extension_schema_is_invalid_syntax(file_retriever) -> None:
    with pytest.raises(ScimError) as caught:
        generate(file_retriever, {"schemas": [CORE, "urn:example:unknown:2.0:User"], "userName": "x"})
    assert (caught.value.scim_type, caught.value.attribute) == ("invalidSyntax", "schemas")


def test_positions_in_multi_valued_attributes_use_one_notation(file_retriever) -> None:
    with pytest.raises(ScimError) as caught:
        generate(file_retriever, {"schemas": [CORE], "userName": "x", "emails": [{"value": "a"}, {"value": "b", "colour": 1}]})
    assert caught.value.attribute == "emails[1].colour"


def test_stable_id_from_user_name_or_external_id(file_retriever) -> None:
    first = generate(file_retriever, {"schemas": [CORE], "userName": "Ada@Example.com"})
    again = generate(file_retriever, {"schemas": [CORE], "userName": "ada@example.com"})
    assert first.resource["id"] == again.resource["id"]  # userName is caseExact false
    by_external = generate(file_retriever, {"schemas": [CORE], "userName": "ada", "externalId": "00u1"})
    assert by_external.resource["id"] != first.resource["id"]
    given = generate(file_retriever, {"schemas": [CORE], "userName": "ada", "id": "abc"})
    assert given.resource["id"] == "abc"


def test_group_members_are_split_by_type(file_retriever) -> None:
    payload = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G",
        "members": [{"value": "u1"}, {"value": "g1", "type": "group"}, {"value": "u2", "type": "User", "display": "x"}],
    }  # fmt: skip
    result = generate(file_retriever, payload)
    assert result.row["members_User"] == ["u1", "u2"]
    assert result.row["members_Group"] == ["g1"]
