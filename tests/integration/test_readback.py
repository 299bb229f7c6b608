"""The inverse of the mapping: every attribute of every bundled schema, written and read back unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from scim_processor import ScimProcessor
from scim_processor.mapping.rule import reference_targets
from scim_processor.operations.store import ResourceStore
from scim_processor.scim import AttributeDefinition, AttributeType, GroundingContext

SAMPLES = {
    AttributeType.STRING: "text-value",
    AttributeType.REFERENCE: "https://example.com/ref",
    AttributeType.BOOLEAN: True,
    AttributeType.INTEGER: 7,
    AttributeType.DECIMAL: 0.5,
    AttributeType.DATE_TIME: "2026-11-22T01:02:03Z",
    AttributeType.BINARY: "QUJD",
}


def sample(attribute: AttributeDefinition, context: GroundingContext, unique: str) -> Any:
    """A valid value for ``attribute`` using every stored sub-attribute (None if the rule does not store it)."""
    if attribute.not_stored_reason() is not None:
        return None
    targets = reference_targets(attribute, context.resource_type_names)
    if targets:
        item = {"value": f"{attribute.name}-target"}
        if attribute.sub_attribute("type") is not None:
            item["type"] = targets[0]
        return [item] if attribute.multi_valued else item
    if attribute.type == AttributeType.COMPLEX:
        value = {
            sub.name: sample(sub, context, unique)
            for sub in attribute.sub_attributes
            if sub.name != "$ref" and sub.not_stored_reason() is None
        }
        return [value] if attribute.multi_valued else value
    value = attribute.canonical_values[0] if attribute.canonical_values else SAMPLES[attribute.type]
    if attribute.uniqueness.value != "none":
        value = unique
    return [value] if attribute.multi_valued else value


def full_resource(context: GroundingContext) -> dict[str, Any]:
    resource: dict[str, Any] = {"schemas": [context.core.id, *(e.id for e in context.extensions)], "externalId": "ext-1"}
    for attribute in context.core.attributes:
        value = sample(attribute, context, "unique-name")
        if value is not None:
            resource[attribute.name] = value
    for extension in context.extensions:
        resource[extension.id] = {
            a.name: v for a in extension.attributes if (v := sample(a, context, "unique-name")) is not None
        }
    return resource


@pytest.mark.parametrize("resource_type", ["User", "Group"])
def test_every_attribute_round_trips(processor: ScimProcessor, resource_type: str) -> None:
    store = ResourceStore(processor)
    context = store.context(resource_type)
    sent = full_resource(context)
    stored = store.create(resource_type, sent)
    meta = stored.pop("meta")
    assert meta["resourceType"] == resource_type and meta["version"].startswith('W/"')
    expected = processor.generator.generate(sent, context).resource
    expected["id"] = stored["id"]
    assert stored == expected
    # every stored attribute was exercised: the graph holds a value for every property key of the mapping
    mapping = store.compiled().mappings[resource_type]
    node = processor.connection.read(f"MATCH (n:{mapping.label} {{id: $id}}) RETURN properties(n) AS p", {"id": stored["id"]})[0]["p"]
    assert {p.key for p in mapping.properties} - {"meta_source"} <= set(node)  # meta_source: only for documents in files
    # PUT of what was read back changes nothing, not even the version
    again = store.replace(resource_type, stored["id"], {k: v for k, v in stored.items()})
    assert again["meta"]["version"] == meta["version"] and again["meta"]["lastModified"] == meta["lastModified"]
