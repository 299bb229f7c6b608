"""The schema graph: SCIM schemas, attributes, sub-attributes and resource types as nodes, loaded and read back.

Nodes and relationships::

    (:ScimResourceType {name, endpoint, description, schema})
        -[:HAS_CORE_SCHEMA]->(:ScimSchema {id, name, description, version})
        -[:HAS_EXTENSION {required, position}]->(:ScimSchema)
    (:ScimSchema)-[:HAS_ATTRIBUTE]->(:ScimAttribute)-[:HAS_SUB_ATTRIBUTE]->(:ScimAttribute)

and the source-shape mappings of ``map`` (``scim_processor.llm.mapping_store``)::

    (:SourceShape {fingerprint, format, resourceType, reviewed, updated})-[:HAS_FIELD]->(:SourceField {path, position})
        -[:MAPS_TO {target, transform, args, sources, position}]->(:ScimAttribute | :ScimResourceType)

A ``ScimAttribute`` carries every RFC 7643 §7 characteristic, its ``id`` in RFC 7644 §3.10
notation (``urn:...:User:name.givenName``) and its ``position`` in the definition. Loading is
idempotent: an unchanged schema (same ``version`` fingerprint) is skipped, a changed one has its
attribute nodes replaced in one transaction. :func:`read_schema_set` is the inverse: it reads
the schema set back with ``cypher/retrieve_*.cypher`` (the retrieval stage's graph queries).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neo4j.exceptions import ConstraintError, TransientError

from .. import resources
from ..scim import AttributeDefinition, ResourceTypeDefinition, SchemaDefinition, SchemaSet
from .connection import GraphConnection
from .graph_schema import GraphSchema
from .statement import Statement

if TYPE_CHECKING:
    from ..mapping import CompiledSchema

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
        "SourceShape": {"fingerprint": "STRING", "format": "STRING", "resourceType": "STRING", "reviewed": "BOOLEAN", "updated": "STRING"},
        "SourceField": {"path": "STRING", "position": "INTEGER"},
    },
    rel_props={
        "HAS_EXTENSION": {"required": "BOOLEAN", "position": "INTEGER"},
        # args: the transform's arguments as JSON text; sources: every source field of a join.
        "MAPS_TO": {"target": "STRING", "transform": "STRING", "args": "STRING", "sources": "LIST", "position": "INTEGER"},
    },
    relationships=frozenset(
        {
            ("ScimSchema", "HAS_ATTRIBUTE", "ScimAttribute"),
            ("ScimAttribute", "HAS_SUB_ATTRIBUTE", "ScimAttribute"),
            ("ScimResourceType", "HAS_CORE_SCHEMA", "ScimSchema"),
            ("ScimResourceType", "HAS_EXTENSION", "ScimSchema"),
            ("SourceShape", "HAS_FIELD", "SourceField"),
            ("SourceField", "MAPS_TO", "ScimAttribute"),
            ("SourceField", "MAPS_TO", "ScimResourceType"),  # a common attribute (externalId) has no ScimAttribute node
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
        Statement(resources.cypher("schema_delete_sub_attributes"), key),
        Statement(resources.cypher("schema_delete_attributes"), key),
        Statement(
            resources.cypher("schema_merge"),
            {**key, "name": schema.name, "description": schema.description, "version": schema.version},
        ),
        Statement(resources.cypher("schema_create_attributes"), {**key, "attributes": top}),
        Statement(resources.cypher("schema_create_sub_attributes"), {"attributes": subs}),
    ]


def resource_type_statements(schema_set: SchemaSet) -> Iterator[Statement]:
    """The statements that merge every resource type and link it to its schemas."""
    for rt in schema_set.resource_types.values():
        yield Statement(resources.cypher("resource_type_merge"), {
            "name": rt.name, "endpoint": rt.endpoint, "description": rt.description, "schema": rt.schema_,
        })  # fmt: skip
        yield Statement(resources.cypher("resource_type_link_core"), {"name": rt.name, "schema": rt.schema_})
        extensions = [
            {"schema": ext.schema_, "required": ext.required, "position": position}
            for position, ext in enumerate(rt.schema_extensions)
        ]
        yield Statement(resources.cypher("resource_type_link_extensions"), {"name": rt.name, "extensions": extensions})


def load_schemas(connection: GraphConnection, compiled: CompiledSchema) -> LoadReport:
    """Loads ``compiled.schema_set`` into the graph; every statement passes ``compiled.guard`` first.

    Uniqueness constraints are ensured, changed schemas replaced, unchanged ones skipped,
    resource types merged.

    Safe under concurrency: two processes loading the same schemas at once may collide on a
    MERGE of the same key (ArcadeDB raises ConstraintError instead of waiting); the load is
    idempotent, so it is run again, up to three times.

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
            return _load(connection, compiled)
        except (ConstraintError, TransientError):
            time.sleep(delay)
    return _load(connection, compiled)


def _load(connection: GraphConnection, compiled: CompiledSchema) -> LoadReport:
    report = LoadReport()
    for constraint in compiled.constraints:
        connection.run_schema(constraint.ddl)
        report.constraints.append(constraint.name)
    for schema in compiled.schema_set.schemas.values():
        rows = connection.read(resources.cypher("schema_version"), {"schemaId": schema.id})
        if rows and rows[0]["version"] == schema.version:
            report.unchanged.append(schema.id)
            continue
        _write_checked(connection, compiled, schema_statements(schema))
        report.loaded.append(schema.id)
    _write_checked(connection, compiled, list(resource_type_statements(compiled.schema_set)))
    report.resource_types = list(compiled.schema_set.resource_types)
    return report


def _write_checked(connection: GraphConnection, compiled: CompiledSchema, statements: list[Statement]) -> None:
    for statement in statements:
        compiled.guard.require(statement.query, parameters=statement.parameters)
    connection.write(statements)


def read_catalog(connection: GraphConnection) -> list[dict[str, Any]]:
    """The resource types in the schema graph (name, endpoint, description, schema, version, extensions), by name."""
    return connection.read(resources.cypher("retrieve_catalog"))


def read_schema_set(connection: GraphConnection, catalog: list[dict[str, Any]]) -> SchemaSet:
    """The schema set stored in the graph, for the resource types of ``catalog`` (see :func:`read_catalog`)."""
    urns = list(dict.fromkeys(urn for entry in catalog for urn in [entry["schema"], *(e["schema"] for e in entry["extensions"])]))
    rows = connection.read(resources.cypher("retrieve_schemas"), {"schemaIds": urns})
    schemas = {row["id"]: SchemaDefinition.model_validate(_schema_json(row)) for row in rows}
    resource_types = {
        entry["name"]: ResourceTypeDefinition.model_validate(
            {
                "name": entry["name"],
                "endpoint": entry["endpoint"],
                "description": entry["description"] or "",
                "schema": entry["schema"],
                "schemaExtensions": [{"schema": e["schema"], "required": bool(e["required"])} for e in entry["extensions"]],
            }
        )
        for entry in catalog
    }
    return SchemaSet(schemas=schemas, resource_types=resource_types)


def _schema_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A schema-graph row → RFC 7643 §7 JSON (graph property keys are the JSON names)."""

    def attribute(node: Mapping[str, Any]) -> dict[str, Any]:
        data = {key: value for key, value in node.items() if value is not None and key not in ("id", "schema", "path", "position")}
        if "subAttributes" in data:
            data["subAttributes"] = [attribute(sub) for sub in sorted(data["subAttributes"], key=lambda s: s["position"])]
        return data

    return {
        "id": row["id"],
        "name": row["name"] or "",
        "description": row["description"] or "",
        "attributes": [attribute(node) for node in row["attributes"]],
    }
