"""The grounding context: what generation may know of the SCIM schema for one payload.

Retrieval (:mod:`scim_processor.stages.retrieve`) produces it from the schema graph; generation,
validation and the model prompts see the SCIM schema only through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from .schema import AttributeDefinition, ResourceTypeDefinition, SchemaDefinition, SchemaSet


class GroundingContext(BaseModel):
    """One resource type with its core schema and schema extensions, every characteristic included.

    Attributes:
        resource_type: the resource type (RFC 7643 §6).
        core: its core schema.
        extensions: every schema extension registered for the resource type (a payload may
            leave out any of them; under replace semantics their values are then cleared).
        declared: the extension URNs the payload's ``schemas`` declares (registered spelling).
        resource_type_names: every resource type name (the targets references may name).
        version: fingerprint of the schema set the context was built from.
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
        """The context of ``resource_type`` in ``schema_set`` (no extension declared yet).

        Raises:
            KeyError: ``resource_type`` is not in the set.
        """
        rt = schema_set.resource_types[resource_type]
        return cls(
            resource_type=rt,
            core=schema_set.schemas[rt.schema_],
            extensions=tuple(schema_set.schemas[ext.schema_] for ext in rt.schema_extensions),
            resource_type_names=tuple(schema_set.resource_types),
            version=schema_set.version,
        )

    def extension(self, urn: str) -> SchemaDefinition | None:
        """The registered extension whose URN equals ``urn`` case-insensitively, or None."""
        lowered = urn.lower()
        return next((ext for ext in self.extensions if ext.id.lower() == lowered), None)

    def render_prompt(self) -> str:
        """A compact text of the context for a model prompt: one line per attribute.

        Example line: ``userName string required uniqueness=server``.
        """
        lines = [
            f"Resource type {self.resource_type.name} (endpoint {self.resource_type.endpoint}), "
            f"core schema {self.core.id}."
        ]
        for schema in (self.core, *self.extensions):
            state = "core" if schema is self.core else ("declared extension" if schema.id in self.declared else "extension")
            lines.append(f"Schema {schema.id} ({state}):")
            for attribute in schema.attributes:
                lines.append("  " + attribute_line(attribute))
                lines.extend("    ." + attribute_line(sub) for sub in attribute.sub_attributes)
        return "\n".join(lines)


def attribute_line(attribute: AttributeDefinition) -> str:
    """One attribute as prompt text: name, type (``[]`` if multi-valued), then non-default characteristics."""
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


def member(document: Mapping[str, Any], name: str) -> Any:
    """The value of ``document``'s member ``name``, matched case-insensitively (RFC 7643 §2.1), or None."""
    if name in document:
        return document[name]
    lowered = name.lower()
    return next((value for key, value in document.items() if isinstance(key, str) and key.lower() == lowered), None)
