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
        'SET n.externalId = row.externalId, n.displayName = row.displayName, n.meta_created = coalesce(n.meta_created, row.meta_created), n.meta_lastModified = row.meta_lastModified, n.meta_version = row.meta_version, n.meta_source = row.meta_source\n'
        'WITH n, row\n'
        'OPTIONAL MATCH ()-[oldRef:MEMBER_OF]->(n)\n'
        'WITH n, row, collect(oldRef) AS oldRefs\n'
        'FOREACH (old IN oldRefs | DELETE old)\n'
        'FOREACH (ref IN row.members_User | MERGE (m:User {id: ref}) MERGE (m)-[:MEMBER_OF]->(n))\n'
        'FOREACH (ref IN row.members_Group | MERGE (m:Group {id: ref}) MERGE (m)-[:MEMBER_OF]->(n))\n'
        'RETURN collect(row.id) AS written'
    )


def test_group_create_query_is_derived_exactly(compiled) -> None:
    """A new resource: MERGE (fills a placeholder), no OPTIONAL MATCH, no collect-and-delete, relationships CREATEd."""
    plan = compiled.plans["Group"]
    assert plan.create == (
        'UNWIND $rows AS row\n'
        'MERGE (n:Group {id: row.id})\n'
        'WITH n, row WHERE n.meta_version IS NULL\n'
        'SET n.externalId = row.externalId, n.displayName = row.displayName, n.meta_created = row.meta_created, n.meta_lastModified = row.meta_lastModified, n.meta_version = row.meta_version, n.meta_source = row.meta_source\n'
        'FOREACH (ref IN row.members_User | MERGE (m:User {id: ref}) CREATE (m)-[:MEMBER_OF]->(n))\n'
        'FOREACH (ref IN row.members_Group | MERGE (m:Group {id: ref}) CREATE (m)-[:MEMBER_OF]->(n))\n'
        'RETURN collect(row.id) AS written'
    )
    assert plan.state == (
        "MATCH (n:Group) WHERE n.id IN $ids RETURN collect([n.id, n.meta_version, n.meta_source]) AS nodes"
    )
    assert plan.source == (
        'UNWIND $rows AS row\n'
        'MATCH (n:Group {id: row.id}) WHERE n.meta_version = row.meta_version\n'
        'SET n.meta_source = row.meta_source'
    )
    assert plan.replace == compiled.upserts["Group"]


def test_user_create_query_creates_children_without_deleting(compiled) -> None:
    create = compiled.plans["User"].create
    assert create.splitlines()[:3] == ["UNWIND $rows AS row", "MERGE (n:User {id: row.id})", "WITH n, row WHERE n.meta_version IS NULL"]
    assert "OPTIONAL MATCH" not in create and "DELETE" not in create
    assert "FOREACH (item IN row.emails | CREATE (n)-[:HAS_EMAIL]->(c:Email) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)" in create
    assert "FOREACH (ref IN row.manager_User | MERGE (m:User {id: ref}) CREATE (n)-[:REPORTS_TO]->(m))" in create
    assert compiled.guard.check(create, parameters={"rows"}).valid


def test_the_create_sent_sets_only_the_keys_the_batch_has_values_for(compiled) -> None:
    plan = compiled.plans["User"]
    (replace,) = compiled.statements("User", {"id": "u1", "userName": "ada", "emails": [{"value": "a@x"}]})
    (row,) = replace.parameters["rows"]
    other = {**row, "id": "u2", "title": "Dr", "emails": [], "manager_User": ["u1"]}
    create = plan.statement("create", {"rows": [row, other]})
    assert create.name == "User.create" and create.parameters["rows"] == [row, other]
    assert create.query == (
        'UNWIND $rows AS row\n'
        'MERGE (n:User {id: row.id})\n'
        'WITH n, row WHERE n.meta_version IS NULL\n'
        'SET n.userName = row.userName, n.userName_key = row.userName_key, n.title = row.title, n.meta_created = row.meta_created, n.meta_lastModified = row.meta_lastModified, n.meta_version = row.meta_version, n.meta_source = row.meta_source\n'
        'FOREACH (item IN row.emails | CREATE (n)-[:HAS_EMAIL]->(c:Email) SET c.value = item.value, c.display = item.display, c.type = item.type, c.primary = item.primary)\n'
        'FOREACH (ref IN row.manager_User | MERGE (m:User {id: ref}) CREATE (n)-[:REPORTS_TO]->(m))\n'
        'RETURN collect(row.id) AS written'
    )
    assert compiled.guard.check(create.query, parameters={"rows"}).valid
    assert plan.statement("create", {"rows": [row]}).query != create.query  # no title, no manager
    assert plan.statement("replace", {"rows": [row]}).query == plan.replace  # the replace removes what is absent: every key


def test_statements_are_named_and_fingerprinted(compiled) -> None:
    from scim_processor.graph import Statement

    (statement,) = compiled.statements("User", {"id": "u1", "userName": "ada"})
    assert statement.name == "User.replace" and statement.query == compiled.upserts["User"]
    query, parameters, name = statement  # still a tuple: connection.write takes it as it is
    assert statement.fingerprint == __import__("hashlib").sha256(query.encode()).hexdigest()[:16]
    assert statement.to_json(include_query=False) == {"name": "User.replace", "fingerprint": statement.fingerprint}
    assert statement.to_json() == {"name": "User.replace", "fingerprint": statement.fingerprint, "query": query, "parameters": parameters}
    assert Statement("RETURN 1", {}).name == ""


def test_the_row_lists_each_reference_once_and_leaves_the_source_to_the_caller(compiled) -> None:
    from scim_processor.mapping.rows import graph_row, source_token, stamp_source

    mapping = compiled.mappings["Group"]
    members = [{"value": "u1"}, {"value": "g1", "type": "Group"}, {"value": "u1", "type": "User"}]
    row = graph_row({"id": "g", "displayName": "G", "members": members}, mapping, compiled.contexts["Group"].core.id)
    assert (row["members_User"], row["members_Group"], row["meta_source"]) == (["u1"], ["g1"], None)
    version = row["meta_version"]
    stamp_source(row, "abc")
    assert row["meta_source"] == source_token("abc", version) != source_token("abc", 'W/"0000000000000000"')
    assert len(row["meta_source"]) == 32 and row["meta_version"] == version  # the source is not content


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


def test_the_source_fingerprint_is_of_plain_json_only() -> None:
    from scim_processor.stages.changes import source_fingerprint
    from scim_processor.stages.read import Payload

    document = {"schemas": ["urn:x"], "userName": "ada", "emails": [{"value": "a@x"}]}
    fingerprint = source_fingerprint(Payload("a", document), b"salt")
    assert fingerprint is not None and len(fingerprint) == 32
    assert source_fingerprint(Payload("b", dict(reversed(list(document.items())))), b"salt") == fingerprint  # key order
    assert source_fingerprint(Payload("a", document), b"other schema version") != fingerprint
    assert source_fingerprint(Payload("a", {**document, "emails": [{"value": "b@x"}]}), b"salt") != fingerprint
    # values that a verdict tells apart but canonical JSON would not: no fingerprint, the full path
    for odd in (float("nan"), float("inf"), ("a", "b"), 2**70, "\ud800", __import__("datetime").date(2020, 1, 1)):
        assert source_fingerprint(Payload("odd", {**document, "title": odd}), b"salt") is None, odd
    assert source_fingerprint(Payload("odd", {**document, 1: "x"}), b"salt") is None
    assert source_fingerprint(Payload("list", [document]), b"salt") is None
    assert source_fingerprint(Payload("bad", None, error=__import__("scim_processor.errors").errors.InvalidSyntaxError("x")), b"salt") is None
