"""The JSON Schema of a model's answer, derived from a (narrowed) grounding context.

The schema is written for OpenAI's structured outputs in strict mode (``response_format``
``{"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}``), which llama.cpp,
vLLM and Ollama also enforce: every object lists all its properties in ``required`` and sets
``additionalProperties: false``; an attribute the record may not fill is *nullable* instead of
optional, and :func:`prune` drops the nulls afterwards (a null is an unassigned value, RFC 7643 §2.5).

Mapping (RFC 7643 §2.3 types → JSON Schema): string, reference, binary, dateTime → ``string``;
boolean → ``boolean``; integer → ``integer``; decimal → ``number``; complex → ``object`` of its
sub-attributes; multiValued → ``array`` of the item; ``canonicalValues`` → ``enum``; ``required``
attributes are not nullable. Extension attributes sit under the extension URN (RFC 7643 §3.3).
readOnly, writeOnly and never-returned attributes (``id``, ``groups``, ``password``) are never offered.
"""

from __future__ import annotations

from typing import Any

from .core import AttributeDefinition, AttributeType, GroundingContext
from .retrieval import offered

_TYPES = {
    AttributeType.STRING: "string", AttributeType.REFERENCE: "string", AttributeType.BINARY: "string",
    AttributeType.DATE_TIME: "string", AttributeType.BOOLEAN: "boolean", AttributeType.INTEGER: "integer",
    AttributeType.DECIMAL: "number",
}  # fmt: skip
NAME = "scim_resource"


def attribute_schema(attribute: AttributeDefinition, *, nullable: bool) -> dict[str, Any]:
    """The JSON Schema of one attribute's value (see the module docstring for the rules)."""
    if attribute.type == AttributeType.COMPLEX:
        item: dict[str, Any] = _object(
            {sub.name: attribute_schema(sub, nullable=not sub.required) for sub in attribute.sub_attributes if offered(sub)},
            nullable=False,
        )
    else:
        item = {"type": _TYPES[attribute.type]}
        if attribute.canonical_values:
            item["enum"] = list(attribute.canonical_values)
        if attribute.description:
            item["description"] = first_sentence(attribute.description)
    if attribute.multi_valued:
        item = {"type": "array", "items": item}
    return _nullable(item) if nullable else item


def first_sentence(text: str, limit: int = 120) -> str:
    """The first sentence of a schema description, at most ``limit`` characters (descriptions cost prompt tokens)."""
    sentence = text.split(". ")[0].strip().rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _object(properties: dict[str, Any], *, nullable: bool) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    return _nullable(schema) if nullable else schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    result = dict(schema)
    result["type"] = [schema["type"], "null"]
    if "enum" in result:
        result["enum"] = [*result["enum"], None]
    return result


def resource_schema(context: GroundingContext) -> dict[str, Any]:
    """The JSON Schema of a SCIM resource of ``context``'s resource type, holding the context's attributes only.

    Returns:
        A JSON Schema object with ``schemas`` (array of the context's schema URNs), ``externalId``
        (nullable string, RFC 7643 §3.1), the core attributes, and one nullable object per extension.
    """
    properties: dict[str, Any] = {
        "schemas": {"type": "array", "items": {"type": "string", "enum": [context.core.id, *(e.id for e in context.extensions)]}},
        "externalId": {"type": ["string", "null"], "description": "the identifier of the record in its source system"},
    }
    for attribute in (a for a in context.core.attributes if offered(a)):
        properties[attribute.name] = attribute_schema(attribute, nullable=not attribute.required)
    for extension in context.extensions:
        inner = {a.name: attribute_schema(a, nullable=not a.required) for a in extension.attributes if offered(a)}
        properties[extension.id] = _object(inner, nullable=True)
    return _object(properties, nullable=False)


def response_format(context: GroundingContext) -> dict[str, Any]:
    """``{"name", "schema", "strict": True}``: the ``json_schema`` member of OpenAI's ``response_format``."""
    return {"name": NAME, "schema": resource_schema(context), "strict": True}


def prune(value: Any) -> Any:
    """``value`` without nulls, blank strings, empty lists and empty objects (recursively); ``None`` if nothing is left.

    A blank string is unassigned, like null (RFC 7643 §2.5): a model's ``""`` for an optional
    attribute is not a value to ground or store.
    """
    if isinstance(value, dict):
        pruned = {key: prune(item) for key, item in value.items()}
        kept = {key: item for key, item in pruned.items() if item is not None}
        return kept or None
    if isinstance(value, list):
        items = [item for item in (prune(item) for item in value) if item is not None]
        return items or None
    if isinstance(value, str) and not value.strip():
        return None
    return value
