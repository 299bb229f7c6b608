"""The one rule that maps SCIM attributes to the identity graph (labels, relationship types, property keys).

Given a resource type's grounding context (its core schema and schema extensions), the rule is:

1. The resource becomes a node labelled with the resource type name (``User``, ``Group``), keyed
   by ``id``; ``externalId`` is a property (RFC 7643 §3.1 common attributes).
2. A single-valued simple attribute becomes a property key spelled as in the schema
   (``userName``); a multi-valued simple one a LIST property. Attributes of schema extensions
   are spelled the same way, without a prefix; a clash between two schemas is a schema error.
3. A single-valued complex attribute is flattened: one property key per sub-attribute,
   ``<attribute>_<subAttribute>`` (``name_givenName``).
4. A reference attribute — a complex attribute with a ``value`` and a ``$ref`` sub-attribute
   whose ``referenceTypes`` are resource types (RFC 7643 §2.3.7) — becomes a relationship to the
   referenced resource's node. ``members`` is ``(member)-[:MEMBER_OF]->(group)`` and ``manager``
   is ``(user)-[:REPORTS_TO]->(manager)``; any other is ``(resource)-[:<ATTRIBUTE_NAME>]->(target)``.
   The target label is the member's ``type`` sub-attribute when present, else the first
   referenceType. A referenced resource not yet in the graph is created as a node with only its id.
5. A multi-valued complex attribute becomes nodes of its own, labelled with the singular of the
   attribute name (``emails`` → ``Email``, ``addresses`` → ``Address``), linked by
   ``HAS_<SINGULAR>`` (``HAS_EMAIL``), with one property key per sub-attribute.
6. Attributes that are never returned or write-only (``password``) and readOnly attributes
   (``groups``, ``meta``) are not stored from the payload (RFC 7644 §3.3, RFC 7643 §7):
   :meth:`~scim_processor.scim.AttributeDefinition.not_stored_reason` says which.
7. ``meta`` is set by the service provider (RFC 7643 §3.1): ``meta_created``,
   ``meta_lastModified`` (RFC 3339 text) and ``meta_version`` (the weak ETag, a fingerprint of
   the stored content: :func:`~scim_processor.mapping.rows.content_version`) are properties of
   every resource node; ``meta.resourceType`` and ``meta.location`` are derived when read back.

Every resource node also has ``meta_version`` (:data:`VERSION_KEY`), the fingerprint of its stored
content, so that re-applying an unchanged resource writes nothing, and ``meta_source``
(:data:`SOURCE_KEY`), the fingerprint of the input document it was written from (null when written
by a request), so that re-applying the same document skips generation and validation.

Uniqueness: ``id`` of every resource label, and every single-valued simple attribute whose
``uniqueness`` is ``server`` or ``global`` (``userName``), is marked ``unique`` and gets a
uniqueness constraint. Such an attribute that is not ``caseExact`` (``userName``, RFC 7643 §4.1.1
"case insensitive") also gets a normalised key property ``<name>_key`` (its value lower-cased)
with its own uniqueness constraint, so uniqueness is case-insensitive on every server.

Graph types: string, reference, binary and dateTime → STRING (dateTime as its RFC 3339 text);
boolean → BOOLEAN; integer → INTEGER; decimal → FLOAT; multi-valued simple → LIST.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import SchemaDefinitionError
from ..graph.graph_schema import GraphSchema
from ..scim import AttributeDefinition, AttributeType, GroundingContext, Uniqueness

# Relationship type and direction of the two RFC 7643 reference attributes; outgoing=False means
# the edge goes from the referenced resource to the resource holding the attribute.
REFERENCE_RELATIONSHIPS: dict[str, tuple[str, bool]] = {
    "members": ("MEMBER_OF", False),
    "manager": ("REPORTS_TO", True),
}

# Server-set meta (rule 7): property key, meta sub-attribute (RFC 7643 §3.1).
META_PROPERTIES = (("meta_created", "created"), ("meta_lastModified", "lastModified"), ("meta_version", "version"))
# The property holding the content fingerprint (:func:`scim_processor.mapping.rows.content_version`):
# meta.version (RFC 7644 §3.14 ETag), which the upsert compares to skip unchanged resources.
VERSION_KEY = "meta_version"
# The property holding the source fingerprint (:func:`scim_processor.mapping.rows.source_token`):
# which input document the stored content was last written from, bound to ``meta_version``, so
# that re-applying the same document skips generation and validation (``stages/changes.py``).
SOURCE_KEY = "meta_source"

GRAPH_TYPES = {
    AttributeType.STRING: "STRING",
    AttributeType.REFERENCE: "STRING",
    AttributeType.BINARY: "STRING",
    AttributeType.DATE_TIME: "STRING",
    AttributeType.BOOLEAN: "BOOLEAN",
    AttributeType.INTEGER: "INTEGER",
    AttributeType.DECIMAL: "FLOAT",
}


@dataclass(frozen=True)
class PropertyMapping:
    """One SCIM value → one property key.

    Attributes:
        key: the property key (also the key of the generated row).
        schema: the schema URN the attribute belongs to.
        path: attribute names from the resource (``("name", "givenName")``).
        graph_type: the property's type in the graph schema.
        unique: True if a uniqueness constraint holds it (``id``, ``userName``).
        derived: how the value is obtained: ``""`` from the attribute at ``path``; ``"key"`` the
            normalised (lower-cased) value of the attribute at ``path``; ``"server"`` set by the
            service provider (``meta``, rule 7).
    """

    key: str
    schema: str
    path: tuple[str, ...]
    graph_type: str
    unique: bool = False
    derived: str = ""


@dataclass(frozen=True)
class ChildMapping:
    """A multi-valued complex attribute → nodes of their own (rule 5)."""

    schema: str
    attribute: str
    label: str
    relationship_type: str
    properties: tuple[PropertyMapping, ...]


@dataclass(frozen=True)
class ReferenceMapping:
    """A reference attribute → relationships to the referenced resources (rule 4).

    Attributes:
        row_keys: row key of each target label (``{"User": "members_User", ...}``).
    """

    schema: str
    attribute: str
    relationship_type: str
    outgoing: bool
    targets: tuple[str, ...]
    multi_valued: bool

    def row_key(self, target: str) -> str:
        """The generated row's key listing the ids of referenced ``target`` resources."""
        return f"{self.attribute}_{target}"


@dataclass(frozen=True)
class ResourceMapping:
    """How one resource type is stored: its label, property keys, child nodes and relationships."""

    resource_type: str
    label: str
    properties: tuple[PropertyMapping, ...]
    children: tuple[ChildMapping, ...]
    references: tuple[ReferenceMapping, ...]

    def graph_schema(self) -> GraphSchema:
        """The labels, property keys and relationships this mapping writes."""
        node_props: dict[str, dict[str, str]] = {self.label: {p.key: p.graph_type for p in self.properties}}
        relationships: set[tuple[str, str, str]] = set()
        for child in self.children:
            node_props.setdefault(child.label, {}).update({p.key: p.graph_type for p in child.properties})
            relationships.add((self.label, child.relationship_type, child.label))
        for ref in self.references:
            for target in ref.targets:
                node_props.setdefault(target, {}).setdefault("id", "STRING")
                edge = (self.label, ref.relationship_type, target) if ref.outgoing else (target, ref.relationship_type, self.label)
                relationships.add(edge)
        return GraphSchema(node_props, {}, frozenset(relationships))


def normalised_key(name: str) -> str:
    """The property key of the normalised (case-insensitive) form of unique attribute ``name``: ``userName_key``."""
    return f"{name}_key"


def singular(name: str) -> str:
    """English singular by suffix: ``addresses`` → ``address``, ``entries`` → ``entry``, ``emails`` → ``email``."""
    if name.endswith("sses"):
        return name[:-2]
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def upper_snake(name: str) -> str:
    """``phoneNumber`` → ``PHONE_NUMBER``, ``x509Certificate`` → ``X509_CERTIFICATE``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^A-Za-z0-9]+", "_", spaced).upper()


def is_stored(attribute: AttributeDefinition) -> bool:
    """False for what rule 6 leaves out: readOnly, writeOnly and never-returned attributes."""
    return attribute.not_stored_reason() is None


def reference_targets(attribute: AttributeDefinition, resource_types: tuple[str, ...]) -> tuple[str, ...]:
    """The resource types a reference attribute points to (rule 4), or () if it is not one."""
    if attribute.type != AttributeType.COMPLEX or attribute.sub_attribute("value") is None:
        return ()
    ref = attribute.sub_attribute("$ref")
    if ref is None or not ref.reference_types:
        return ()
    if all(kind in resource_types for kind in ref.reference_types):
        return ref.reference_types
    return ()


def _graph_type(attribute: AttributeDefinition) -> str:
    return "LIST" if attribute.multi_valued else GRAPH_TYPES[attribute.type]


def map_resource_type(context: GroundingContext) -> ResourceMapping:
    """Applies the rule to a resource type's core schema and every schema extension.

    Args:
        context: the grounding context retrieved from the schema graph.

    Returns:
        The :class:`ResourceMapping` of the resource type.

    Raises:
        SchemaDefinitionError: two attributes map to the same property key, or a child label
            is a resource type name.
    """
    label = context.resource_type.name
    properties = [
        PropertyMapping("id", "", ("id",), "STRING", unique=True),
        PropertyMapping("externalId", "", ("externalId",), "STRING"),
    ]
    children: list[ChildMapping] = []
    references: list[ReferenceMapping] = []
    for schema in (context.core, *context.extensions):
        for attribute in schema.attributes:
            if not is_stored(attribute):
                continue
            targets = reference_targets(attribute, context.resource_type_names)
            if targets:
                rel, outgoing = REFERENCE_RELATIONSHIPS.get(attribute.name, (upper_snake(attribute.name), True))
                references.append(ReferenceMapping(schema.id, attribute.name, rel, outgoing, targets, attribute.multi_valued))
            elif attribute.type == AttributeType.COMPLEX and attribute.multi_valued:
                child_label = singular(attribute.name)
                child_label = child_label[0].upper() + child_label[1:]
                if child_label in context.resource_type_names:
                    raise SchemaDefinitionError(f"{schema.id}:{attribute.name} maps to label {child_label}, a resource type")
                subs = tuple(
                    PropertyMapping(sub.name, schema.id, (attribute.name, sub.name), _graph_type(sub))
                    for sub in attribute.sub_attributes
                    if is_stored(sub) and sub.name != "$ref"
                )
                children.append(
                    ChildMapping(schema.id, attribute.name, child_label, "HAS_" + upper_snake(singular(attribute.name)), subs)
                )
            elif attribute.type == AttributeType.COMPLEX:
                properties.extend(
                    PropertyMapping(f"{attribute.name}_{sub.name}", schema.id, (attribute.name, sub.name), _graph_type(sub))
                    for sub in attribute.sub_attributes
                    if is_stored(sub) and sub.name != "$ref"
                )
            else:
                unique = not attribute.multi_valued and attribute.uniqueness != Uniqueness.NONE
                properties.append(
                    PropertyMapping(attribute.name, schema.id, (attribute.name,), _graph_type(attribute), unique)
                )
                if unique and not attribute.case_exact and attribute.type == AttributeType.STRING:
                    properties.append(
                        PropertyMapping(normalised_key(attribute.name), schema.id, (attribute.name,), "STRING", True, "key")
                    )
    # The source fingerprint is no SCIM attribute: its path is its key, so no filter or read-back finds it.
    properties.append(PropertyMapping(SOURCE_KEY, "", (SOURCE_KEY,), "STRING", derived="server"))
    properties.extend(PropertyMapping(key, "", ("meta", sub), "STRING", derived="server") for key, sub in META_PROPERTIES)
    seen: set[str] = set()
    row_keys = [p.key for p in properties] + [c.attribute for c in children]
    row_keys += [ref.row_key(target) for ref in references for target in ref.targets]
    for key in row_keys:
        if key in seen:
            raise SchemaDefinitionError(f"resource type {label}: two attributes map to property key {key!r}")
        seen.add(key)
    return ResourceMapping(context.resource_type.name, label, tuple(properties), tuple(children), tuple(references))
