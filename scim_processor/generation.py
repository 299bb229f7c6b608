"""Stage 3, generation: payload + grounding context → normalised SCIM JSON and the Cypher that applies it.

The :class:`DeterministicGenerator` is schema-guided: everything it knows of the schema comes
from the :class:`~scim_processor.retrieval.GroundingContext`. It

- spells attribute names as the schema does (names are case-insensitive, RFC 7643 §2.1) and
  schema URNs as they are registered;
- ignores readOnly values (RFC 7644 §3.3: ``meta``, ``groups``, ``members.display``) and
  drops nulls and empty lists (unassigned, RFC 7643 §2.5);
- keeps write-only / never-returned values (``password``) out of the result and the graph;
- writes canonical values in their canonical spelling (``"Work"`` → ``"work"``);
- accepts two documented IdP shapes: a bare string for a complex attribute that has a ``value``
  sub-attribute (Entra ``"manager": "id"``), and a single object for a multi-valued attribute;
- gives the resource a stable ``id`` when the payload has none (UUIDv5 of the resource type and
  ``externalId``, else of the first required server-unique attribute, else the first required
  one: ``userName`` for User, ``displayName`` for Group), so re-running a file is idempotent;
- produces one parameterised upsert statement per resource (:mod:`scim_processor.cypher_builder`).

Type, required, canonicalValues and size checks are the validation stage's; structural errors
(unknown attributes, an object where a string belongs) are raised here.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .cypher_builder import upsert_query
from .errors import invalid_syntax, invalid_value
from .mapping import ResourceMapping, map_resource_type
from .retrieval import GroundingContext
from .schema import AttributeDefinition, AttributeType, Mutability, Returned, SchemaDefinition, Uniqueness

ID_NAMESPACE = uuid.UUID("6f0d3a52-7d0e-4c36-9a8e-5c1f3c2b7a10")
COMMON_ATTRIBUTES = ("id", "externalId", "meta")  # RFC 7643 §3.1


@dataclass(frozen=True)
class Statement:
    """One Cypher statement: its text and its parameters (values only ever travel here)."""

    query: str
    parameters: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """``{"query": ..., "parameters": ...}``, as in the results file."""
        return {"query": self.query, "parameters": self.parameters}


@dataclass
class Generation:
    """What a generator produces for one payload.

    Attributes:
        resource_type: the resource type name.
        resource: the normalised SCIM JSON.
        row: the ``$rows`` element of the upsert statement.
        statements: the Cypher that applies the resource (one upsert, one row).
        warnings: what was left out and why (readOnly values, secrets).
    """

    resource_type: str
    resource: dict[str, Any]
    row: dict[str, Any]
    statements: list[Statement]
    warnings: list[str] = field(default_factory=list)


class Generator(ABC):
    """Turns a payload and its grounding context into a :class:`Generation`. Subclasses implement :meth:`_generate`."""

    def generate(self, payload: Mapping[str, Any], context: GroundingContext) -> Generation:
        """Generates normalised SCIM JSON and Cypher for ``payload``.

        Raises:
            ScimError: 400 invalidSyntax for unknown attributes or a structure the schema does not
                allow (the detail names the attribute).
        """
        if not isinstance(payload, Mapping):
            raise invalid_syntax("a SCIM resource must be a JSON object")
        return self._generate(payload, context)

    @abstractmethod
    def _generate(self, payload: Mapping[str, Any], context: GroundingContext) -> Generation:
        """Does the work of :meth:`generate`."""


class DeterministicGenerator(Generator):
    """The schema-guided generator (no model). Mappings and queries are cached per context version."""

    def __init__(self) -> None:
        self._mappings: dict[tuple[str, str], tuple[ResourceMapping, str]] = {}

    def mapping(self, context: GroundingContext) -> tuple[ResourceMapping, str]:
        """The resource type's mapping and upsert query (cached per resource type and version)."""
        key = (context.resource_type.name, context.version)
        if key not in self._mappings:
            mapping = map_resource_type(context)
            self._mappings[key] = (mapping, upsert_query(mapping))
        return self._mappings[key]

    def _generate(self, payload: Mapping[str, Any], context: GroundingContext) -> Generation:
        warnings: list[str] = []
        resource = normalise(payload, context, warnings)
        mapping, query = self.mapping(context)
        row = graph_row(resource, context, mapping)
        resource["id"] = row["id"]
        ordered = {"schemas": resource.pop("schemas"), "id": resource.pop("id"), **resource}
        return Generation(context.resource_type.name, ordered, row, [Statement(query, {"rows": [row]})], warnings)


def normalise(payload: Mapping[str, Any], context: GroundingContext, warnings: list[str]) -> dict[str, Any]:
    """The payload in schema spelling, without readOnly, secret and unassigned values.

    Returns:
        ``{"schemas": [...], "id"?: ..., "externalId"?: ..., <core attributes>, <extension URN>: {...}}``.

    Raises:
        ScimError: 400 invalidSyntax for an attribute or schema URN the context does not define.
    """
    core = context.core
    declared = {context.core.id, *context.declared}
    resource: dict[str, Any] = {}
    for key, value in payload.items():
        if not isinstance(key, str):
            raise invalid_syntax("attribute names must be strings")
        lowered = key.lower()
        if lowered == "schemas":
            continue
        if lowered in ("id", "externalid"):
            if value is not None:
                resource["id" if lowered == "id" else "externalId"] = value
            continue
        if lowered == "meta":
            warnings.append("meta: readOnly, ignored (RFC 7644 §3.3)")
            continue
        extension = context.extension(key) if ":" in key else None
        if extension is not None:
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise invalid_syntax(f"{extension.id} must be a JSON object of its attributes", extension.id)
            declared.add(extension.id)
            values = _normalise_attributes(value, extension, f"{extension.id}:", warnings)
            if values:
                resource[extension.id] = values
            continue
        attribute = core.attribute(key)
        if attribute is None:
            raise invalid_syntax(
                f"unknown attribute {key!r}: resource type {context.resource_type.name} has no such attribute "
                f"in {core.id} nor in a registered extension",
                key,
            )
        normalised = _normalise_value(value, attribute, attribute.name, warnings)
        if normalised is not None:
            resource[attribute.name] = normalised
    schemas = [core.id] + [ext.id for ext in context.extensions if ext.id in declared]
    return {"schemas": schemas, **resource}


def _normalise_attributes(
    values: Mapping[str, Any], schema: SchemaDefinition, prefix: str, warnings: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        attribute = schema.attribute(str(key))
        if attribute is None:
            raise invalid_syntax(f"unknown attribute {key!r} in {schema.id}", f"{prefix}{key}")
        normalised = _normalise_value(value, attribute, prefix + attribute.name, warnings)
        if normalised is not None:
            out[attribute.name] = normalised
    return out


def _normalise_value(value: Any, attribute: AttributeDefinition, path: str, warnings: list[str]) -> Any:
    """One attribute's value normalised, or None when it is unassigned or not kept."""
    if value is None:
        return None
    if attribute.mutability == Mutability.READ_ONLY:
        warnings.append(f"{path}: readOnly, ignored (RFC 7644 §3.3)")
        return None
    if attribute.mutability == Mutability.WRITE_ONLY or attribute.returned == Returned.NEVER:
        warnings.append(f"{path}: {attribute.mutability.value}, returned {attribute.returned.value}: not stored")
        return None
    if attribute.multi_valued:
        items = value if isinstance(value, list) else [value]
        out = [_normalise_single(item, attribute, path, warnings) for item in items if item is not None]
        out = [item for item in out if item not in (None, {})]
        return out or None
    if isinstance(value, list):
        raise invalid_syntax(f"{path} is single-valued; a list was given", path)
    return _normalise_single(value, attribute, path, warnings)


def _normalise_single(value: Any, attribute: AttributeDefinition, path: str, warnings: list[str]) -> Any:
    if attribute.type == AttributeType.COMPLEX:
        if isinstance(value, str) and attribute.sub_attribute("value") is not None:
            value = {"value": value}  # Entra: "manager": "<id>"; OneLogin-style bare strings
        if not isinstance(value, Mapping):
            raise invalid_syntax(f"{path} is complex: a JSON object of its sub-attributes is required", path)
        out: dict[str, Any] = {}
        for key, sub_value in value.items():
            sub = attribute.sub_attribute(str(key))
            if sub is None:
                raise invalid_syntax(f"unknown sub-attribute {key!r} of {path}", f"{path}.{key}")
            normalised = _normalise_value(sub_value, sub, f"{path}.{sub.name}", warnings)
            if normalised is not None:
                out[sub.name] = normalised
        return out or None
    if isinstance(value, (Mapping, list)):
        raise invalid_syntax(f"{path} is a {attribute.type.value}; a JSON {type(value).__name__} was given", path)
    if attribute.canonical_values and isinstance(value, str):
        for canonical in attribute.canonical_values:
            if canonical.lower() == value.lower():
                return canonical
    return value


def stable_id(resource: Mapping[str, Any], context: GroundingContext) -> str:
    """The resource's ``id``: the payload's, else a UUIDv5 (see the module docstring).

    Raises:
        ScimError: 400 invalidValue if ``id`` is not a non-empty string, or no attribute to derive one from.
    """
    given = resource.get("id")
    if given is not None:
        if not isinstance(given, str) or not given.strip():
            raise invalid_value("id must be a non-empty string", "id")
        return given
    name = context.resource_type.name
    external = resource.get("externalId")
    if isinstance(external, str) and external:
        return str(uuid.uuid5(ID_NAMESPACE, f"{name}:externalId:{external}"))
    candidates = [a for a in context.core.attributes if a.required and a.uniqueness != Uniqueness.NONE]
    candidates += [a for a in context.core.attributes if a.required and a not in candidates]
    for attribute in candidates:
        value = resource.get(attribute.name)
        if isinstance(value, str) and value:
            key = value if attribute.case_exact else value.lower()
            return str(uuid.uuid5(ID_NAMESPACE, f"{name}:{attribute.name}:{key}"))
    raise invalid_value(f"{name} has no id, externalId or required attribute to identify it", "id")


def graph_row(resource: Mapping[str, Any], context: GroundingContext, mapping: ResourceMapping) -> dict[str, Any]:
    """The ``$rows`` element of the upsert: every row key of the mapping, null where unassigned."""

    def lookup(schema: str, path: tuple[str, ...]) -> Any:
        node: Any = resource
        if schema and schema != context.core.id:
            node = resource.get(schema) or {}
        for part in path:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    row: dict[str, Any] = {"id": stable_id(resource, context)}
    for prop in mapping.properties:
        if prop.key != "id":
            row[prop.key] = lookup(prop.schema, prop.path)
    for child in mapping.children:
        items = lookup(child.schema, (child.attribute,)) or []
        row[child.attribute] = [
            {p.key: item.get(p.key) for p in child.properties} for item in items if isinstance(item, Mapping)
        ]
    for ref in mapping.references:
        found = lookup(ref.schema, (ref.attribute,))
        items = found if isinstance(found, list) else ([found] if found else [])
        for target in ref.targets:
            row[ref.row_key(target)] = []
        for item in items:
            if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
                continue
            kind = item.get("type") if item.get("type") in ref.targets else ref.targets[0]
            row[ref.row_key(kind)].append(item["value"])
    return row


__all__ = ["DeterministicGenerator", "Generation", "Generator", "Statement"]
