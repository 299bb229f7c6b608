"""The SCIM → graph mapping rule, the graph schema it yields and the Cypher derived from it."""

from __future__ import annotations

from scim_processor.mapping.cypher import ident
from scim_processor.mapping.rule import singular, upper_snake


def test_singular_and_upper_snake() -> None:
    assert [singular(n) for n in ["emails", "addresses", "phoneNumbers", "entries", "ims"]] == [
        "email", "address", "phoneNumber", "entry", "im",
    ]  # fmt: skip
    assert upper_snake("x509Certificate") == "X509_CERTIFICATE"
    assert upper_snake("phoneNumber") == "PHONE_NUMBER"


def test_user_mapping(compiled) -> None:
    mapping = compiled.mappings["User"]
    keys = [p.key for p in mapping.properties]
    assert keys[:3] == ["id", "externalId", "userName"]
    assert keys[-3:] == ["meta_created", "meta_lastModified", "meta_version"]  # server-set; meta_version: the content fingerprint
    assert "name_givenName" in keys and "employeeNumber" in keys and "clearanceLevel" in keys
    assert "password" not in keys and "groups" not in keys  # writeOnly / readOnly: not stored
    children = {c.attribute: (c.label, c.relationship_type) for c in mapping.children}
    assert children["emails"] == ("Email", "HAS_EMAIL")
    assert children["addresses"] == ("Address", "HAS_ADDRESS")
    assert children["x509Certificates"] == ("X509Certificate", "HAS_X509_CERTIFICATE")
    assert children["projects"] == ("Project", "HAS_PROJECT")  # from the custom extension
    (manager,) = mapping.references
    assert (manager.attribute, manager.relationship_type, manager.outgoing, manager.targets) == ("manager", "REPORTS_TO", True, ("User",))


def test_graph_schema_of_user_and_group(compiled) -> None:
    user = compiled.mappings["User"].graph_schema()
    group = compiled.mappings["Group"].graph_schema()
    assert ("User", "REPORTS_TO", "User") in user.relationships
    assert ("User", "HAS_EMAIL", "Email") in user.relationships
    assert {("User", "MEMBER_OF", "Group"), ("Group", "MEMBER_OF", "Group")} <= group.relationships
    assert user.node_props["User"]["active"] == "BOOLEAN"
    assert user.node_props["User"]["skills"] == "LIST"
    assert user.node_props["Project"]["allocation"] == "FLOAT"
    assert "password" not in user.node_props["User"]


def test_group_upsert_query_is_derived_exactly(compiled) -> None:
    assert compiled.upserts["Group"] == (
        'UNWIND $rows AS row\n'
        'OPTIONAL MATCH (cur:Group {id: row.id})\n'
        'WITH row, cur WHERE cur IS NULL OR cur.meta_version IS NULL OR cur.meta_version <> row.meta_version\n'
        'MERGE (n:Group {id: row.id})\n'
        'SET n.externalId = row.externalId, n.displayName = row.displayName, n.meta_created = coalesce(n.meta_created, row.meta_created), n.meta_lastModified = row.meta_lastModified, n.meta_version = row.meta_version\n'
        'WITH n, row\n'
        'OPTIONAL MATCH ()-[oldRef:MEMBER_OF]->(n)\n'
        'WITH n, row, collect(oldRef) AS oldRefs\n'
        'FOREACH (old IN oldRefs | DELETE old)\n'
        'FOREACH (ref IN row.members_User | MERGE (m:User {id: ref}) MERGE (m)-[:MEMBER_OF]->(n))\n'
        'FOREACH (ref IN row.members_Group | MERGE (m:Group {id: ref}) MERGE (m)-[:MEMBER_OF]->(n))\n'
        'RETURN collect(row.id) AS written'
    )


def test_names_that_are_not_plain_identifiers_are_quoted() -> None:
    assert ident("userName") == "userName"
    assert ident("cost-center") == "`cost-center`"
    assert ident("a`b") == "`a``b`"


def test_user_upsert_query_has_no_values_in_it(compiled) -> None:
    query = compiled.upserts["User"]
    assert "'" not in query and '"' not in query  # values only ever travel as $rows
    assert "FOREACH (item IN row.emails | CREATE (n)-[:HAS_EMAIL]->(c:Email) SET c.value = item.value" in query


def test_content_version_is_a_canonical_fingerprint() -> None:
    from scim_processor.mapping.rows import content_version

    row = {"id": "u1", "userName": "ada", "emails": [{"value": "a@x", "primary": True}], "title": None}
    version = content_version(row)
    assert version.startswith('W/"') and len(version) == 20 and int(version[3:-1], 16) >= 0  # a weak ETag (RFC 7232 §2.3)
    assert content_version(dict(reversed(list(row.items())))) == version  # key order does not matter
    assert content_version({**row, "title": "Dr"}) != version
    assert content_version({**row, "emails": [{"value": "a@x", "primary": False}]}) != version
    assert content_version({k: v for k, v in row.items() if k != "title"}) == version  # replace semantics: null is absent


def test_the_graph_row_carries_the_version_of_everything_else(compiled) -> None:
    from scim_processor.mapping.rows import content_version, graph_row

    mapping = compiled.mappings["User"]
    row = graph_row({"id": "u1", "userName": "ada", "meta": {"version": "W/\"client\""}}, mapping, compiled.contexts["User"].core.id)
    assert row["meta_version"] == content_version({k: v for k, v in row.items() if k != "meta_version"})
