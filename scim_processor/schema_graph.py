"""Stage 0: the SCIM schemas as a graph (schema, attribute, sub-attribute and resource-type nodes).

Nodes and relationships::

    (:ScimResourceType {name, endpoint, description, schema})
        -[:HAS_CORE_SCHEMA]->(:ScimSchema {id, name, description, version})
        -[:HAS_EXTENSION {required}]->(:ScimSchema)
    (:ScimSchema)-[:HAS_ATTRIBUTE]->(:ScimAttribute)-[:HAS_SUB_ATTRIBUTE]->(:ScimAttribute)

A ``ScimAttribute`` carries every RFC 7643 §7 characteristic, its ``id`` in RFC 7644 §3.10
notation (``urn:...:User:name.givenName``) and its ``position`` in the definition. Loading is
idempotent: an unchanged schema (same ``version`` fingerprint) is skipped, a changed one has its
attribute nodes replaced in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from neo4j.exceptions import ConstraintError, TransientError

from . import resources
from .graph import GraphConnection
from .graph_schema import GraphSchema
from .mapping import map_resource_type
from .schema import AttributeDefinition, SchemaDefinition, SchemaSet, Uniqueness

Statement = tuple[str, dict[str, Any]]

_ATTRIBUTE_PROPS = {
    "id": "STRING", "schema": "STRING", "name": "STRING", "path": "STRING", "position": "INTEGER",
    "type": "STRING", "multiValued": "BOOLEAN", "description": "STRING", "required": "BOOLEAN",
    "caseExact": "BOOLEAN", "canonicalValues": "LIST", "mutability": "STRING", "returned": "STRING",
    "uniqueness": "STRING", "referenceTypes": "LIST",
}  # fmt: skip

SCHEMA_GRAPH = GraphSchema(
    node_props={
        "ScimSchema": {"id": "STRING", "name": "STRING", "description": "STRING", "version": "STRING"},
        "ScimAttribute": _ATTRIBUTE_PROPS,
        "ScimResourceType": {"name": "STRING", "endpoint": "STRING", "description": "STRING", "schema": "STRING"},
    },
    rel_props={"HAS_EXTENSION": {"required": "BOOLEAN", "position": "INTEGER"}},
    relationships=frozenset(
        {
            ("ScimSchema", "HAS_ATTRIBUTE", "ScimAttribute"),
            ("ScimAttribute", "HAS_SUB_ATTRIBUTE", "ScimAttribute"),
            ("ScimResourceType", "HAS_CORE_SCHEMA", "ScimSchema"),
            ("ScimResourceType", "HAS_EXTENSION", "ScimSchema"),
        }
    ),
)
"""The graph schema of the schema graph itself (read-only queries may use it)."""


@dataclass
class LoadReport:
    """What :func:`load_schemas` did: schema URNs loaded, unchanged ones skipped, constraints ensured."""

    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    resource_types: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)


def attribute_rows(schema: SchemaDefinition) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The parameter rows of ``schema``'s attributes and of their sub-attributes (with ``parent``)."""

    def row(attribute: AttributeDefinition, path: str, position: int) -> dict[str, Any]:
        return {
            "id": f"{schema.id}:{path}",
            "schema": schema.id,
            "name": attribute.name,
            "path": path,
            "position": position,
            "type": attribute.type.value,
            "multiValued": attribute.multi_valued,
            "description": attribute.description,
            "required": attribute.required,
            "caseExact": attribute.case_exact,
            "canonicalValues": list(attribute.canonical_values),
            "mutability": attribute.mutability.value,
            "returned": attribute.returned.value,
            "uniqueness": attribute.uniqueness.value,
            "referenceTypes": list(attribute.reference_types),
        }

    top, subs = [], []
    for position, attribute in enumerate(schema.attributes):
        top.append(row(attribute, attribute.name, position))
        for sub_position, sub in enumerate(attribute.sub_attributes):
            sub_row = row(sub, f"{attribute.name}.{sub.name}", sub_position)
            sub_row["parent"] = f"{schema.id}:{attribute.name}"
            subs.append(sub_row)
    return top, subs


def schema_statements(schema: SchemaDefinition) -> list[Statement]:
    """The statements that replace one schema's nodes (run in one transaction)."""
    top, subs = attribute_rows(schema)
    key = {"schemaId": schema.id}
    return [
        (resources.cypher("schema_delete_sub_attributes"), key),
        (resources.cypher("schema_delete_attributes"), key),
        (
            resources.cypher("schema_merge"),
            {**key, "name": schema.name, "description": schema.description, "version": schema.version},
        ),
        (resources.cypher("schema_create_attributes"), {**key, "attributes": top}),
        (resources.cypher("schema_create_sub_attributes"), {"attributes": subs}),
    ]


def resource_type_statements(schema_set: SchemaSet) -> Iterator[Statement]:
    """The statements that merge every resource type and link it to its schemas."""
    for rt in schema_set.resource_types.values():
        yield resources.cypher("resource_type_merge"), {
            "name": rt.name, "endpoint": rt.endpoint, "description": rt.description, "schema": rt.schema_,
        }  # fmt: skip
        yield resources.cypher("resource_type_link_core"), {"name": rt.name, "schema": rt.schema_}
        extensions = [
            {"schema": ext.schema_, "required": ext.required, "position": position}
            for position, ext in enumerate(rt.schema_extensions)
        ]
        yield resources.cypher("resource_type_link_extensions"), {"name": rt.name, "extensions": extensions}


def constraint_statements(schema_set: SchemaSet) -> list[tuple[str, str]]:
    """(name, DDL) of every uniqueness constraint: schema-graph keys, each resource label's ``id``,
    and each stored single-valued attribute whose ``uniqueness`` is server or global (``userName``).

    The DDL is the Neo4j 5 form, which ArcadeDB also runs; it is the only server DDL the project has.
    """
    from .retrieval import GroundingContext

    keys: list[tuple[str, str]] = [("ScimSchema", "id"), ("ScimAttribute", "id"), ("ScimResourceType", "name")]
    for name in schema_set.resource_types:
        context = GroundingContext.from_schema_set(schema_set, name)
        mapping = map_resource_type(context)
        keys.append((mapping.label, "id"))
        for prop in mapping.properties:
            schema = schema_set.schemas.get(prop.schema)
            attribute = schema.attribute(prop.path[0]) if schema and len(prop.path) == 1 else None
            if attribute and not attribute.multi_valued and attribute.uniqueness != Uniqueness.NONE:
                keys.append((mapping.label, prop.key))
    statements = []
    for label, key in dict.fromkeys(keys):
        name = f"scim_{label}_{key}_unique".lower()
        statements.append((name, f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"))
    return statements


def load_schemas(
    connection: GraphConnection,
    schema_set: SchemaSet,
    check: Callable[[str, dict[str, Any]], None] | None = None,
) -> LoadReport:
    """Loads ``schema_set`` into the graph: changed schemas replaced, unchanged ones skipped,
    resource types merged, uniqueness constraints ensured.

    Args:
        connection: the graph.
        schema_set: from :func:`scim_processor.schema.read_schema_dir`.
        check: called with each statement before it is sent (the Cypher guard); raises to stop.

    Returns:
        A :class:`LoadReport`.

    Raises:
        scim_processor.errors.GraphError: the server failed.
        scim_processor.errors.CypherRejectedError: the guard rejected a statement.
    """
    # Two first runs on one empty graph load the same schemas at once; ArcadeDB raises
    # ConstraintError for a concurrent MERGE of the same key instead of waiting. Loading is
    # idempotent (each schema in its own transaction), so retrying after the other loader has
    # committed finds those schemas in place; a few short waits cover a loader mid-way.
    for delay in (0.2, 0.5, 1.0):
        try:
            return _load_schemas(connection, schema_set, check)
        except (ConstraintError, TransientError):
            time.sleep(delay)
    return _load_schemas(connection, schema_set, check)


def _load_schemas(
    connection: GraphConnection,
    schema_set: SchemaSet,
    check: Callable[[str, dict[str, Any]], None] | None,
) -> LoadReport:
    report = LoadReport()
    for name, ddl in constraint_statements(schema_set):
        connection.run_schema(ddl)
        report.constraints.append(name)
    for schema in schema_set.schemas.values():
        rows = connection.read(resources.cypher("schema_version"), {"schemaId": schema.id})
        if rows and rows[0]["version"] == schema.version:
            report.unchanged.append(schema.id)
            continue
        statements = schema_statements(schema)
        for query, params in statements:
            if check:
                check(query, params)
        connection.write(statements)
        report.loaded.append(schema.id)
    statements = list(resource_type_statements(schema_set))
    for query, params in statements:
        if check:
            check(query, params)
    connection.write(statements)
    report.resource_types = list(schema_set.resource_types)
    return report
