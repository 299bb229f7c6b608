"""The schema files: RFC 7643 §8.7.1 / §6 content, checked against what scim2-models emits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scim2_models import EnterpriseUser, Group, User

from scim_processor.errors import SchemaDefinitionError
from scim_processor.scim.schema import AttributeType, Mutability, Returned, Uniqueness, read_schema_dir

CHARACTERISTICS = ("type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness", "canonicalValues", "referenceTypes")

# Every place where our RFC 7643 §8.7.1 files and scim2-models' to_schema() disagree, and why.
KNOWN_DIFFERENCES = {
    # RFC 7643 §8.7.1 (and our file) list members.value and members.$ref with caseExact false;
    # scim2-models makes identifiers caseExact.
    ("Group", "members.value", "caseExact"): (False, True),
    ("Group", "members.$ref", "caseExact"): (False, True),
    # RFC 7643 §4.2 describes members.display as read-only; scim2-models leaves it readWrite.
    ("Group", "members.display", "mutability"): ("readOnly", "readWrite"),
    # RFC 7643 §8.7.1 lists manager.$ref caseExact false; scim2-models makes it caseExact.
    ("EnterpriseUser", "manager.$ref", "caseExact"): (False, True),
    # §8.7.1 says manager.$ref is REQUIRED but §4.3 says RECOMMENDED, and Entra ID sends manager
    # without $ref: our file follows §4.3. scim2-models follows §8.7.1.
    ("EnterpriseUser", "manager.$ref", "required"): (False, True),
}


def _flatten(schema: dict, name: str) -> dict[tuple[str, str, str], object]:
    out = {}
    for attr in schema["attributes"]:
        for key in CHARACTERISTICS:
            out[(name, attr["name"], key)] = attr.get(key)
        for sub in attr.get("subAttributes", []):
            for key in CHARACTERISTICS:
                out[(name, f"{attr['name']}.{sub['name']}", key)] = sub.get(key)
    return out


@pytest.mark.parametrize(
    ("model", "urn", "name"),
    [
        (User, "urn:ietf:params:scim:schemas:core:2.0:User", "User"),
        (Group, "urn:ietf:params:scim:schemas:core:2.0:Group", "Group"),
        (EnterpriseUser, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "EnterpriseUser"),
    ],
)
def test_schema_files_match_scim2_models_except_the_explained_differences(schema_set, model, urn, name) -> None:
    ours = _flatten(schema_set.schemas[urn].to_json(), name)
    theirs = _flatten(model.to_schema().model_dump(exclude_none=True, by_alias=True), name)
    assert set(ours) == set(theirs), "the same attributes and sub-attributes"
    for key, our_value in ours.items():
        their_value = theirs[key]
        if key[2] in ("canonicalValues", "referenceTypes"):
            our_value, their_value = our_value or [], their_value or []
        if key[2] == "caseExact" and schema_set.schemas[urn].attribute(key[1].split(".")[0]).type == AttributeType.COMPLEX and "." not in key[1]:
            continue  # caseExact means nothing on a complex attribute (RFC 7643 §2.2); scim2 emits false
        if key in KNOWN_DIFFERENCES:
            assert (our_value, their_value) == KNOWN_DIFFERENCES[key]
        else:
            assert our_value == their_value, key


def test_errata_are_applied(schema_set) -> None:
    group = schema_set.schemas["urn:ietf:params:scim:schemas:core:2.0:Group"]
    assert group.attribute("displayName").required is True  # EID 5368
    enterprise = schema_set.schemas["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert enterprise.attribute("manager").sub_attribute("value").case_exact is True  # EID 8472


def test_defaults_and_characteristics_are_typed(schema_set) -> None:
    user = schema_set.schemas["urn:ietf:params:scim:schemas:core:2.0:User"]
    password = user.attribute("PASSWORD")  # case-insensitive, RFC 7643 §2.1
    assert password.mutability == Mutability.WRITE_ONLY and password.returned == Returned.NEVER
    assert user.attribute("userName").uniqueness == Uniqueness.SERVER
    emails = user.attribute("emails")
    assert emails.sub_attribute("type").canonical_values == ("work", "home", "other")
    assert emails.sub_attribute("primary").case_exact is False  # RFC 7643 §2.2 default filled in


def test_resource_types_name_their_schemas(schema_set) -> None:
    user = schema_set.resource_types["User"]
    assert user.endpoint == "/Users"
    assert [ext.schema_ for ext in user.schema_extensions] == [
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:example:scim:schemas:extension:acme:2.0:User",
    ]


def test_bad_attribute_name_is_a_schema_error(tmp_path: Path, schema_set) -> None:
    schema = schema_set.schemas["urn:example:scim:schemas:extension:acme:2.0:User"].to_json()
    schema["attributes"][0]["name"] = "badge}) DETACH DELETE n //"
    (tmp_path / "bad.json").write_text(json.dumps(schema))
    with pytest.raises(SchemaDefinitionError, match="ATTRNAME"):
        read_schema_dir(tmp_path)


def test_resource_type_naming_an_unknown_schema_is_a_schema_error(tmp_path: Path) -> None:
    (tmp_path / "rt.json").write_text(
        json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "name": "Device", "endpoint": "/Devices", "schema": "urn:x:Device"})
    )
    with pytest.raises(SchemaDefinitionError, match="urn:x:Device"):
        read_schema_dir(tmp_path)
