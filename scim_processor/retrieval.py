"""Stage 2, retrieval (graph RAG): the grounding context of a payload, read from the schema graph.

For each payload, the retriever finds its resource type (by the core schema URN in ``schemas``,
else ``meta.resourceType``) and returns the resource type, its core schema and its schema
extensions with every attribute and sub-attribute and their characteristics, as one typed
:class:`GroundingContext`. Generation sees the SCIM schema only through this object. Contexts
are cached per resource type and schema version: a changed schema (new ``version``) is
retrieved again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from . import resources
from .errors import ScimError, invalid_syntax, invalid_value
from .graph import GraphConnection
from .schema import AttributeDefinition, ResourceTypeDefinition, SchemaDefinition, SchemaSet


class GroundingContext(BaseModel):
    """What generation may know of the SCIM schema for one payload.

    Attributes:
        resource_type: the resource type (RFC 7643 §6).
        core: its core schema.
        extensions: every schema extension registered for the resource type (a payload may
            leave out any of them; under replace semantics their values are then cleared).
        declared: the extension URNs the payload's ``schemas`` declares.
        resource_type_names: every resource type name (the targets references may name).
        version: fingerprint of the schema versions the context was built from.
    """

    model_config = ConfigDict(frozen=True)

    resource_type: ResourceTypeDefinition
    core: SchemaDefinition
    extensions: tuple[SchemaDefinition, ...] = ()
    declared: tuple[str, ...] = ()
    resource_type_names: tuple[str, ...] = ()
    version: str = ""

    @classmethod
    def from_schema_set(cls, schema_set: SchemaSet, resource_type: str) -> GroundingContext:
        """The context built straight from schema files (used before they are in the graph)."""
        rt = schema_set.resource_types[resource_type]
        return cls(
            resource_type=rt,
            core=schema_set.schemas[rt.schema_],
            extensions=tuple(schema_set.schemas[ext.schema_] for ext in rt.schema_extensions),
            resource_type_names=tuple(schema_set.resource_types),
            version="files",
        )

    def extension(self, urn: str) -> SchemaDefinition | None:
        """The registered extension whose URN equals ``urn`` case-insensitively, or None."""
        lowered = urn.lower()
        return next((ext for ext in self.extensions if ext.id.lower() == lowered), None)

    def render_prompt(self) -> str:
        """A compact text of the context for a model prompt: one line per attribute.

        Example line: ``userName string required caseExact=false uniqueness=server``.
        """
        lines = [
            f"Resource type {self.resource_type.name} (endpoint {self.resource_type.endpoint}), "
            f"core schema {self.core.id}."
        ]
        for schema in (self.core, *self.extensions):
            state = "core" if schema is self.core else ("declared extension" if schema.id in self.declared else "extension")
            lines.append(f"Schema {schema.id} ({state}):")
            for attribute in schema.attributes:
                lines.append("  " + _attribute_line(attribute))
                lines.extend("    ." + _attribute_line(sub) for sub in attribute.sub_attributes)
        return "\n".join(lines)


def _attribute_line(attribute: AttributeDefinition) -> str:
    parts = [attribute.name, attribute.type.value + ("[]" if attribute.multi_valued else "")]
    if attribute.required:
        parts.append("required")
    if attribute.mutability.value != "readWrite":
        parts.append(attribute.mutability.value)
    if attribute.returned.value != "default":
        parts.append(f"returned={attribute.returned.value}")
    if attribute.uniqueness.value != "none":
        parts.append(f"uniqueness={attribute.uniqueness.value}")
    if attribute.case_exact:
        parts.append("caseExact")
    if attribute.canonical_values:
        parts.append("canonicalValues=" + "|".join(attribute.canonical_values))
    if attribute.reference_types:
        parts.append("referenceTypes=" + "|".join(attribute.reference_types))
    return " ".join(parts)


class Retriever(ABC):
    """Finds the grounding context of a payload. Subclasses implement :meth:`_context`."""

    def retrieve(self, payload: Mapping[str, Any]) -> GroundingContext:
        """The grounding context of ``payload``.

        Raises:
            ScimError: 400 invalidSyntax if ``schemas`` is missing or malformed; 400 invalidValue
                if it names no known resource type or an extension not registered for it
                (RFC 7643 §3, §3.3).
        """
        declared = _declared_schemas(payload)
        context = self._context(payload)
        for urn in declared:
            if urn.lower() == context.core.id.lower():
                continue
            extension = context.extension(urn)
            if extension is None:
                raise invalid_value(
                    f"schema {urn!r} is not a schema extension of resource type {context.resource_type.name}", "schemas"
                )
        names = tuple(ext.id for ext in context.extensions if any(urn.lower() == ext.id.lower() for urn in declared))
        return context.model_copy(update={"declared": names})

    @abstractmethod
    def _context(self, payload: Mapping[str, Any]) -> GroundingContext:
        """The context of the resource type whose core schema the payload's ``schemas`` names."""


def _declared_schemas(payload: Mapping[str, Any]) -> list[str]:
    schemas = payload.get("schemas")
    if schemas is None:
        return []
    if not isinstance(schemas, list) or not all(isinstance(urn, str) for urn in schemas):
        raise invalid_syntax("'schemas' must be a list of schema URNs (RFC 7643 §3)", "schemas")
    return list(schemas)


class GraphRetriever(Retriever):
    """Retrieves contexts from the schema graph with ``cypher/retrieve_*.cypher``.

    One query reads the resource-type catalog (with schema versions); one more per resource
    type and version reads its schemas. Call :meth:`refresh` to see schemas loaded since.

    Args:
        connection: the graph holding the schema graph.
    """

    def __init__(self, connection: GraphConnection):
        self.connection = connection
        self._catalog: list[dict[str, Any]] | None = None
        self._cache: dict[tuple[str, str], GroundingContext] = {}

    def refresh(self) -> None:
        """Forgets the catalog; the next retrieval reads it again (contexts stay cached by version)."""
        self._catalog = None

    def catalog(self) -> list[dict[str, Any]]:
        """The resource types in the graph: name, endpoint, schema, version, extensions."""
        if self._catalog is None:
            self._catalog = self.connection.read(resources.cypher("retrieve_catalog"))
        return self._catalog

    def context_for(self, name: str) -> GroundingContext:
        """The context of resource type ``name`` (cached per schema version)."""
        entry = next((row for row in self.catalog() if row["name"] == name), None)
        if entry is None:
            raise invalid_value(f"resource type {name!r} is not loaded in the schema graph", "schemas")
        version = "/".join([entry["version"] or "", *(ext["version"] or "" for ext in entry["extensions"])])
        key = (name, version)
        if key not in self._cache:
            self._cache[key] = self._build(entry, version)
        return self._cache[key]

    def _build(self, entry: Mapping[str, Any], version: str) -> GroundingContext:
        urns = [entry["schema"], *(ext["schema"] for ext in entry["extensions"])]
        rows = {row["id"]: row for row in self.connection.read(resources.cypher("retrieve_schemas"), {"schemaIds": urns})}
        schemas = [SchemaDefinition.model_validate(_schema_json(rows[urn])) for urn in urns if urn in rows]
        resource_type = ResourceTypeDefinition.model_validate(
            {
                "name": entry["name"],
                "endpoint": entry["endpoint"],
                "description": entry["description"] or "",
                "schema": entry["schema"],
                "schemaExtensions": [{"schema": ext["schema"], "required": bool(ext["required"])} for ext in entry["extensions"]],
            }
        )
        return GroundingContext(
            resource_type=resource_type,
            core=schemas[0],
            extensions=tuple(schemas[1:]),
            resource_type_names=tuple(row["name"] for row in self.catalog()),
            version=version,
        )

    def _context(self, payload: Mapping[str, Any]) -> GroundingContext:
        declared = [urn.lower() for urn in payload.get("schemas") or []]
        for row in self.catalog():
            if row["schema"].lower() in declared:
                return self.context_for(row["name"])
        meta = payload.get("meta")
        if isinstance(meta, Mapping) and isinstance(meta.get("resourceType"), str):
            for row in self.catalog():
                if row["name"].lower() == meta["resourceType"].lower():
                    return self.context_for(row["name"])
        if not self.catalog():
            raise ScimError(500, None, "no SCIM schemas are loaded in the graph; run 'scim-processor schemas load'")
        known = ", ".join(row["schema"] for row in self.catalog())
        raise invalid_value(f"'schemas' names no known resource type's core schema (known: {known})", "schemas")


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
