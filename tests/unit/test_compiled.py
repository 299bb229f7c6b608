"""The compiled schema: derived once per schema version, and the only place the mapping is derived."""

from __future__ import annotations

import pytest

from scim_processor.errors import InvalidSyntaxError, NotSupportedError
from scim_processor.mapping import CompiledSchema

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


def test_compiled_once_per_schema_version(compiled: CompiledSchema, schema_set) -> None:
    assert CompiledSchema.compile(schema_set.model_copy()) is compiled
    assert set(compiled.contexts) == set(compiled.mappings) == set(compiled.upserts) == {"User", "Group"}
    assert compiled.guard.schema is compiled.graph_schema


def test_unique_property_mappings_are_the_constraints(compiled: CompiledSchema) -> None:
    unique = {(m.label, p.key) for m in compiled.mappings.values() for p in m.properties if p.unique}
    assert unique == {("User", "id"), ("User", "userName"), ("User", "userName_key"), ("Group", "id")}


def test_constraint_ddl_is_derived_exactly(compiled: CompiledSchema) -> None:
    assert [c.ddl for c in compiled.constraints] == [
        'CREATE CONSTRAINT scim_scimschema_id_unique IF NOT EXISTS FOR (n:ScimSchema) REQUIRE n.id IS UNIQUE',
        'CREATE CONSTRAINT scim_scimattribute_id_unique IF NOT EXISTS FOR (n:ScimAttribute) REQUIRE n.id IS UNIQUE',
        'CREATE CONSTRAINT scim_scimresourcetype_name_unique IF NOT EXISTS FOR (n:ScimResourceType) REQUIRE n.name IS UNIQUE',
        'CREATE CONSTRAINT scim_group_id_unique IF NOT EXISTS FOR (n:Group) REQUIRE n.id IS UNIQUE',
        'CREATE CONSTRAINT scim_user_id_unique IF NOT EXISTS FOR (n:User) REQUIRE n.id IS UNIQUE',
        'CREATE CONSTRAINT scim_user_username_unique IF NOT EXISTS FOR (n:User) REQUIRE n.userName IS UNIQUE',
        'CREATE CONSTRAINT scim_user_username_key_unique IF NOT EXISTS FOR (n:User) REQUIRE n.userName_key IS UNIQUE',
    ]


def test_user_upsert_is_derived_exactly(compiled: CompiledSchema) -> None:
    assert compiled.upserts["User"] == (
        'UNWIND $rows AS row\n'
        'OPTIONAL MATCH (cur:User {id: row.id})\n'
        'WITH row, cur WHERE cur IS NULL OR cur.meta_version IS NULL OR cur.meta_version <> row.meta_version\n'
        'MERGE (n:User {id: row.id})\n'
        'SET n.externalId = row.externalId, n.userName = row.userName, n.userName_key = row.userName_key, n.name_formatted = row.name_formatted, n.name_familyName = row.name_familyName, n.name_givenName = row.name_givenName, n.name_middleName = row.name_middleName, n.name_honorificPrefix = row.name_honorificPrefix, n.name_honorificSuffix = row.name_honorificSuffix, n.displayName = row.displayName, n.nickName = row.nickName, n.profileUrl = row.profileUrl, n.title = row.title, n.userType = row.userType, n.preferredLanguage = row.preferredLanguage, n.locale = row.locale, n.timezone = row.timezone, n.active = row.active, n.employeeNumber = row.employeeNumber, n.costCenter = row.costCenter, n.organization = row.organization, n.division = row.division, n.department = row.department, n.badgeNumber = row.badgeNumber, n.clearanceLevel = row.clearanceLevel, n.startDate = row.startDate, n.skills = row.skills, n.meta_created = coalesce(n.meta_created, row.meta_created), n.meta_lastModified = row.meta_lastModified, n.meta_version = row.meta_version, n.meta_source = row.meta_source\n'
        'WITH n, row\n'
        'OPTIONAL MATCH (n)-[:HAS_EMAIL|HAS_PHONE_NUMBER|HAS_IM|HAS_PHOTO|HAS_ADDRESS|HAS_ENTITLEMENT|HAS_ROLE|HAS_X509_CERTIFICATE|HAS_PROJECT]->(oldChild)\n'
        'WITH n, row, collect(oldChild) AS oldChildren\n'
        'FOREACH (old IN oldChildren | DETACH DELETE old)\n'
        'OPTIONAL MATCH (n)-[oldRef:REPORTS_TO]->()\n'
        'WITH n, row, collect(oldRef) AS oldRefs\n'
        'FOREACH (old IN oldRefs | DELETE old)\n'
        'FOREACH (item IN row.emails | CREATE (n)-[:HAS_EMAIL]->(c:Email) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.phoneNumbers | CREATE (n)-[:HAS_PHONE_NUMBER]->(c:PhoneNumber) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.ims | CREATE (n)-[:HAS_IM]->(c:Im) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.photos | CREATE (n)-[:HAS_PHOTO]->(c:Photo) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.addresses | CREATE (n)-[:HAS_ADDRESS]->(c:Address) SET c.formatted = item.formatted, c.streetAddress = item.streetAddress, c.locality = item.locality, c.region = item.region, c.postalCode = item.postalCode, c.country = item.country, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.entitlements | CREATE (n)-[:HAS_ENTITLEMENT]->(c:Entitlement) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.roles | CREATE (n)-[:HAS_ROLE]->(c:Role) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.x509Certificates | CREATE (n)-[:HAS_X509_CERTIFICATE]->(c:X509Certificate) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (item IN row.projects | CREATE (n)-[:HAS_PROJECT]->(c:Project) SET c.value = item.value, c.role = item.role, c.allocation = item.allocation, c.primary = item.primary)\n'
        'FOREACH (ref IN row.manager_User | MERGE (m:User {id: ref}) MERGE (n)-[:REPORTS_TO]->(m))\n'
        'RETURN collect(row.id) AS written'
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"Schemas": [CORE], "UserName": "ada"},  # RFC 7643 §2.1: attribute names are case-insensitive
        {"meta": {"resourceType": "User"}, "userName": "ada"},  # typed by meta.resourceType only
        {"META": {"ResourceType": "user"}, "userName": "ada"},
    ],
)
def test_one_resolver_for_every_way_a_payload_names_its_resource_type(compiled: CompiledSchema, payload: dict) -> None:
    assert compiled.resolve(payload).resource_type.name == "User"


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"userName": "ada"}, "'schemas' is required"),
        ({"schemas": "urn:x", "userName": "ada"}, "must be a list"),
        ({"schemas": ["urn:example:nothing:2.0:User"], "userName": "ada"}, "names no known resource type"),
        ({"schemas": [CORE, "urn:example:nothing:2.0:Ext"], "userName": "ada"}, "is not a schema extension"),
    ],
)
def test_schema_urn_problems_are_invalid_syntax(compiled: CompiledSchema, payload: dict, detail: str) -> None:
    with pytest.raises(InvalidSyntaxError, match=detail) as caught:
        compiled.resolve(payload)
    assert (caught.value.status, caught.value.attribute) == (400, "schemas")


@pytest.mark.parametrize("kind", ["PatchOp", "BulkRequest"])
def test_protocol_messages_are_not_supported_yet_not_unknown(compiled: CompiledSchema, kind: str) -> None:
    with pytest.raises(NotSupportedError, match="not supported") as caught:
        compiled.resolve({"schemas": [f"urn:ietf:params:scim:api:messages:2.0:{kind}"], "Operations": []})
    assert caught.value.to_dict() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "501", "detail": caught.value.detail,
    }  # fmt: skip
