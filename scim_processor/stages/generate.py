"""Stage 3, generation: payload + grounding context → normalised SCIM JSON (with its ``id``).

The Cypher that applies a resource is generated after validation, from the compiled schema
(:meth:`scim_processor.mapping.CompiledSchema.statements`): generation proper only decides what
the resource *is*. The :class:`DeterministicGenerator` is schema-guided: everything it knows of the
schema comes from the :class:`~scim_processor.scim.GroundingContext`. It

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

Type, required, canonicalValues and size checks are the validation stage's; structural errors
(unknown attributes, an object where a string belongs) are raised here.

Each attribute's normalisation is compiled once per definition (a closure with its name table,
canonical spellings and whether it is kept, decided up front), and a path is spelled only for an
error or a warning.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidSyntaxError, InvalidValueError, attribute_path
from ..scim import AttributeDefinition, AttributeType, GroundingContext, SchemaDefinition, Uniqueness
from ..scim.values import blank_required

ID_NAMESPACE = uuid.UUID("6f0d3a52-7d0e-4c36-9a8e-5c1f3c2b7a10")
COMMON_ATTRIBUTES = ("id", "externalId", "meta")  # RFC 7643 §3.1


@dataclass
class Generation:
    """What a generator produces for one payload.

    Attributes:
        resource_type: the resource type name.
        resource: the normalised SCIM JSON, ``schemas`` and ``id`` first.
        warnings: what was left out and why (readOnly values, secrets).
    """

    resource_type: str
    resource: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class Generator(ABC):
    """Turns a payload and its grounding context into a :class:`Generation`. Subclasses implement :meth:`_generate`."""

    def generate(self, payload: Mapping[str, Any], context: GroundingContext) -> Generation:
        """Generates the normalised SCIM JSON of ``payload``.

        Raises:
            InvalidSyntaxError: 400 for unknown attributes or a structure the schema does not allow
                (the detail and ``attribute`` name the attribute).
            InvalidValueError: 400 if no ``id`` can be given to the resource.
        """
        if not isinstance(payload, Mapping):
            raise InvalidSyntaxError("a SCIM resource must be a JSON object")
        return self._generate(payload, context)

    @abstractmethod
    def _generate(self, payload: Mapping[str, Any], context: GroundingContext) -> Generation:
        """Does the work of :meth:`generate`."""


class DeterministicGenerator(Generator):
    """The schema-guided generator (no model)."""

    def _generate(self, payload: Mapping[str, Any], context: GroundingContext) -> Generation:
        warnings: list[str] = []
        resource = normalise(payload, context, warnings)
        resource["id"] = stable_id(resource, context)
        ordered = {"schemas": resource.pop("schemas"), "id": resource.pop("id"), **resource}
        return Generation(context.resource_type.name, ordered, warnings)


def normalise(payload: Mapping[str, Any], context: GroundingContext, warnings: list[str]) -> dict[str, Any]:
    """The payload in schema spelling, without readOnly, secret and unassigned values.

    Returns:
        ``{"schemas": [...], "id"?: ..., "externalId"?: ..., <core attributes>, <extension URN>: {...}}``.

    Raises:
        InvalidSyntaxError: 400 for an attribute or schema URN the context does not define.
    """
    core = context.core
    core_names = _named(core)
    declared = {context.core.id, *context.declared}
    resource: dict[str, Any] = {}
    for key, value in payload.items():
        if not isinstance(key, str):
            raise InvalidSyntaxError("attribute names must be strings")
        if _common_attribute(key, value, resource, warnings):
            continue
        extension = context.extension(key) if ":" in key else None
        if extension is not None:
            values = _normalise_extension(value, extension, warnings)
            if values:
                declared.add(extension.id)
                resource[extension.id] = values
            continue
        attribute = core_names.get(key.lower())
        if attribute is None:
            raise InvalidSyntaxError(
                f"unknown attribute {key!r}: resource type {context.resource_type.name} has no such attribute "
                f"in {core.id} nor in a registered extension",
                key,
            )
        normalised = _normaliser(attribute)(value, [attribute.name], None, warnings)
        if normalised is not None:
            resource[attribute.name] = normalised
    schemas = [core.id] + [ext.id for ext in context.extensions if ext.id in declared]
    return {"schemas": schemas, **resource}


def _common_attribute(key: str, value: Any, resource: dict[str, Any], warnings: list[str]) -> bool:
    """Handles ``schemas`` and the RFC 7643 §3.1 common attributes; False if ``key`` is none of them."""
    lowered = key.lower()
    if lowered in ("id", "externalid"):
        if value is not None:
            resource["id" if lowered == "id" else "externalId"] = value
    elif lowered == "meta":
        warnings.append("meta: readOnly, ignored (RFC 7644 §3.3)")
    return lowered in ("schemas", "id", "externalid", "meta")


def _normalise_extension(value: Any, extension: SchemaDefinition, warnings: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidSyntaxError(f"{extension.id} must be a JSON object of its attributes", extension.id)
    return _normalise_attributes(value, extension, warnings)


def _normalise_attributes(values: Mapping[str, Any], schema: SchemaDefinition, warnings: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    named = _named(schema)
    for key, value in values.items():
        attribute = named.get(str(key).lower())
        if attribute is None:
            raise InvalidSyntaxError(f"unknown attribute {key!r} in {schema.id}", attribute_path([str(key)], schema.id))
        normalised = _normaliser(attribute)(value, [attribute.name], schema.id, warnings)
        if normalised is not None:
            out[attribute.name] = normalised
    return out


# One attribute's normalisation: (value, its path parts, extension URN or None, warnings) → the
# normalised value, or None when it is unassigned or not kept (rule 6 of the mapping).
Normaliser = Callable[[Any, list[str | int], str | None, list[str]], Any]


def _compile_normaliser(attribute: AttributeDefinition) -> Normaliser:
    """The :data:`Normaliser` of ``attribute``, every characteristic decided once."""
    reason = attribute.not_stored_reason()
    if reason is not None:

        def not_kept(value: Any, parts: list[str | int], schema: str | None, warnings: list[str]) -> Any:
            if value is not None:
                warnings.append(f"{attribute_path(parts, schema)}: {reason}")
            return None

        return not_kept
    single = _compile_single(attribute)
    if attribute.multi_valued:

        def multi_valued(value: Any, parts: list[str | int], schema: str | None, warnings: list[str]) -> Any:
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]
            out = [single(item, [*parts, index], schema, warnings) for index, item in enumerate(items) if item is not None]
            out = [item for item in out if item not in (None, {})]
            return out or None

        return multi_valued

    def single_valued(value: Any, parts: list[str | int], schema: str | None, warnings: list[str]) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            path = attribute_path(parts, schema)
            raise InvalidSyntaxError(f"{path} is single-valued; a list was given", path)
        return single(value, parts, schema, warnings)

    return single_valued


def _compile_single(attribute: AttributeDefinition) -> Normaliser:
    """The normalisation of one value (one item of a multi-valued attribute)."""
    if attribute.type == AttributeType.COMPLEX:
        subs = {name: (sub.name, _normaliser(sub)) for name, sub in _named(attribute).items()}
        bare_value = "value" in subs

        def complex_value(value: Any, parts: list[str | int], schema: str | None, warnings: list[str]) -> Any:
            if bare_value and isinstance(value, str):
                value = {"value": value}  # Entra: "manager": "<id>"; OneLogin-style bare strings
            if type(value) is not dict and not isinstance(value, Mapping):
                path = attribute_path(parts, schema)
                raise InvalidSyntaxError(f"{path} is complex: a JSON object of its sub-attributes is required", path)
            out: dict[str, Any] = {}
            for key, sub_value in value.items():
                sub = subs.get(str(key).lower())
                if sub is None:
                    path = attribute_path(parts, schema)
                    raise InvalidSyntaxError(f"unknown sub-attribute {key!r} of {path}", attribute_path([*parts, str(key)], schema))
                name, normalise_sub = sub
                normalised = normalise_sub(sub_value, [*parts, name], schema, warnings)
                if normalised is not None:
                    out[name] = normalised
            return out or None

        return complex_value
    kind = attribute.type.value
    canonical = _canonical(attribute) if attribute.canonical_values else None

    def simple_value(value: Any, parts: list[str | int], schema: str | None, warnings: list[str]) -> Any:
        if type(value) is str:
            return value if canonical is None else canonical.get(value.lower(), value)
        if isinstance(value, (Mapping, list)):
            path = attribute_path(parts, schema)
            raise InvalidSyntaxError(f"{path} is a {kind}; a JSON {type(value).__name__} was given", path)
        if canonical is not None and isinstance(value, str):
            return canonical.get(value.lower(), value)
        return value

    return simple_value


# Lookup tables derived once per schema / attribute definition (they are immutable), keyed by
# identity: the definition itself is kept in the entry, so an id is never taken for another object's.
_TABLES: dict[tuple[int, str], tuple[object, dict[str, Any]]] = {}


def _table(owner: SchemaDefinition | AttributeDefinition, kind: str) -> dict[str, Any]:
    entry = _TABLES.get((id(owner), kind))
    if entry is not None and entry[0] is owner:
        return entry[1]
    table: dict[str, Any] = {}
    if kind == "normaliser" and isinstance(owner, AttributeDefinition):
        table = {"": _compile_normaliser(owner)}
    elif kind == "canonical":
        for canonical in owner.canonical_values if isinstance(owner, AttributeDefinition) else ():
            table.setdefault(canonical.lower(), canonical)  # the first match wins, as a scan would find it
    else:
        for child in owner.attributes if isinstance(owner, SchemaDefinition) else owner.sub_attributes:
            table.setdefault(child.name.lower(), child)
    if len(_TABLES) >= 4096:
        _TABLES.clear()
    _TABLES[(id(owner), kind)] = (owner, table)
    return table


def _named(owner: SchemaDefinition | AttributeDefinition) -> dict[str, AttributeDefinition]:
    """``owner``'s attributes (or sub-attributes) by lower-cased name: names are case-insensitive (RFC 7643 §2.1)."""
    return _table(owner, "named")


def _normaliser(attribute: AttributeDefinition) -> Normaliser:
    """``attribute``'s :data:`Normaliser`, compiled once per definition."""
    normaliser: Normaliser = _table(attribute, "normaliser")[""]
    return normaliser


def _canonical(attribute: AttributeDefinition) -> dict[str, str]:
    """``attribute``'s canonicalValues by lower-cased value: a value in any case is written canonically."""
    return _table(attribute, "canonical")


def stable_id(resource: Mapping[str, Any], context: GroundingContext) -> str:
    """The resource's ``id``: the payload's, else a UUIDv5 (see the module docstring).

    Raises:
        InvalidValueError: 400 if ``id`` is not a non-empty string, or there is no attribute to derive one from
            (naming the required attribute if it is an empty string, RFC 7643 §2.2).
    """
    given = resource.get("id")
    if given is not None:
        if not isinstance(given, str) or not given.strip():
            raise InvalidValueError("id must be a non-empty string", "id")
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
    empty = next((a.name for a in candidates if resource.get(a.name) == ""), None)
    if empty is not None:  # `"userName": ""`: name the attribute, as the SCIM gate does for a blank one
        raise blank_required(empty)
    raise InvalidValueError(f"{name} has no id, externalId or required attribute to identify it", "id")


__all__ = ["DeterministicGenerator", "Generation", "Generator", "normalise", "stable_id"]
