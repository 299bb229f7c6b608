"""The read query leaves out what ``attributes`` / ``excludedAttributes`` leave out (RFC 7644 §3.9, RFC 7643 §7)."""

from __future__ import annotations

from typing import Any

from scim_processor.mapping.compiled import CompiledSchema
from scim_processor.mapping.readback import read_query
from scim_processor.operations.projection import project, read_selection
from scim_processor.scim import GroundingContext, Returned

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def full(context: GroundingContext) -> GroundingContext:
    return context.model_copy(update={"declared": tuple(e.id for e in context.extensions)})


def test_the_full_group_read_is_unchanged(compiled: CompiledSchema) -> None:
    assert read_query(compiled.mappings["Group"]) == (
        "MATCH (n:Group) WHERE n.id IN $ids AND n.meta_version IS NOT NULL\n"
        "OPTIONAL MATCH (m:User)-[:MEMBER_OF]->(n)\n"
        "WITH n, collect(m.id) AS r0_0\n"
        "OPTIONAL MATCH (m:Group)-[:MEMBER_OF]->(n)\n"
        "WITH n, r0_0, collect(m.id) AS r0_1\n"
        "RETURN properties(n) AS node, r0_0, r0_1"
    )


def test_excluded_members_reads_no_member_pattern(compiled: CompiledSchema, group_context: GroundingContext) -> None:
    include, exclude = read_selection(group_context, None, ["members"])
    assert (include, exclude) == (None, frozenset({(GROUP, "members")}))
    assert read_query(compiled.mappings["Group"], include, exclude) == (
        "MATCH (n:Group) WHERE n.id IN $ids AND n.meta_version IS NOT NULL\nRETURN properties(n) AS node"
    )


def test_attributes_read_only_the_named_patterns(compiled: CompiledSchema, user_context: GroundingContext) -> None:
    names = ["userName", "EMAILS.value", f"{ENTERPRISE}:manager"]  # case-insensitive; a sub-attribute names its attribute
    assert read_query(compiled.mappings["User"], *read_selection(full(user_context), names, None)) == (
        "MATCH (n:User) WHERE n.id IN $ids AND n.meta_version IS NOT NULL\n"
        "OPTIONAL MATCH (n)-[:HAS_EMAIL]->(c:Email)\n"
        "WITH n, collect(properties(c)) AS c0\n"
        "OPTIONAL MATCH (n)-[:REPORTS_TO]->(m:User)\n"
        "WITH n, c0, collect(m.id) AS r0_0\n"
        "RETURN properties(n) AS node, c0, r0_0"
    )
    only_display = read_query(compiled.mappings["Group"], *read_selection(compiled.contexts["Group"], ["displayName"], None))
    assert only_display == "MATCH (n:Group) WHERE n.id IN $ids AND n.meta_version IS NOT NULL\nRETURN properties(n) AS node"


def test_excluding_a_sub_attribute_or_id_keeps_the_attribute(compiled: CompiledSchema, group_context: GroundingContext) -> None:
    assert read_selection(group_context, None, ["members.display", "id", "nosuch"]) == (None, frozenset())
    assert read_query(compiled.mappings["Group"], *read_selection(group_context, None, ["members.display"])) == read_query(
        compiled.mappings["Group"]
    )


def test_a_whole_extension_urn_names_its_attributes(user_context: GroundingContext) -> None:
    include, _ = read_selection(full(user_context), [ENTERPRISE], None)
    assert include is not None and (ENTERPRISE, "manager") in include and (CORE, "emails") not in include
    _, exclude = read_selection(full(user_context), None, [ENTERPRISE])
    assert (ENTERPRISE, "manager") in exclude and (ENTERPRISE, "employeeNumber") in exclude


def _with_returned(context: GroundingContext, name: str, returned: Returned) -> GroundingContext:
    attributes = tuple(a.model_copy(update={"returned": returned}) if a.name == name else a for a in context.core.attributes)
    return context.model_copy(update={"core": context.core.model_copy(update={"attributes": attributes})})


def test_returned_request_is_read_and_returned_only_when_named(compiled: CompiledSchema, user_context: GroundingContext) -> None:
    context = _with_returned(full(user_context), "emails", Returned.REQUEST)
    assert (CORE, "emails") in read_selection(context, None, None)[1]
    assert (CORE, "emails") in read_selection(context, None, ["title"])[1]
    assert "HAS_EMAIL" not in read_query(compiled.mappings["User"], *read_selection(context, None, None))
    assert "HAS_EMAIL" in read_query(compiled.mappings["User"], *read_selection(context, ["emails"], None))
    resource: dict[str, Any] = {"schemas": [CORE], "id": "u", "userName": "a", "emails": [{"value": "a@x"}]}
    assert "emails" not in project(resource, context, None, None)
    assert project(resource, context, ["emails"], None) == {"schemas": [CORE], "id": "u", "emails": [{"value": "a@x"}]}


def test_returned_always_is_read_and_returned_whatever_is_asked(compiled: CompiledSchema, user_context: GroundingContext) -> None:
    context = _with_returned(full(user_context), "emails", Returned.ALWAYS)
    include, exclude = read_selection(context, ["userName"], None)
    assert include is not None and (CORE, "emails") in include
    assert (CORE, "emails") not in read_selection(context, None, ["emails"])[1]
    resource: dict[str, Any] = {"schemas": [CORE], "id": "u", "userName": "a", "title": "t", "emails": [{"value": "a@x"}]}
    assert project(resource, context, ["title"], None) == {"schemas": [CORE], "id": "u", "title": "t", "emails": [{"value": "a@x"}]}
    assert project(resource, context, None, ["emails", "title"]) == {"schemas": [CORE], "id": "u", "userName": "a", "emails": [{"value": "a@x"}]}
