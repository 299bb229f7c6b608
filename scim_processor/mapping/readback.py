"""The inverse of the mapping rule: graph → SCIM JSON, one rule for every resource type.

For a :class:`~scim_processor.mapping.rule.ResourceMapping` it builds the one read query (the
resource node, its child nodes and its reference relationships) and turns a record of it back into
the SCIM JSON the rule stored (RFC 7643 §3), with the server-set ``meta`` (RFC 7643 §3.1):

- a property key → the attribute at its ``path`` (core attributes at the top level, extension
  attributes under their schema URN); a flattened complex attribute (``name_givenName``) →
  ``name.givenName``; normalised keys (``userName_key``) are not attributes and are left out;
- child nodes → the multi-valued complex attribute, one object per node (order is not kept:
  multi-valued attributes are unordered, RFC 7643 §2.4);
- reference relationships → ``{"value": <id>}`` items (``"type": <label>`` where the attribute has
  a ``type`` sub-attribute, as ``members`` does), a list when multi-valued;
- ``meta``: ``resourceType``, ``created``, ``lastModified``, ``version`` (the weak ETag) and
  ``location`` = ``<endpoint>/<id>`` relative to the service's base URL (RFC 7644 §3.1).

Nodes created only as reference targets (rule 4: a member not yet sent) have no ``meta_version``
and are not resources: they read as absent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..scim import GroundingContext
from .cypher import ident
from .rule import ResourceMapping


def read_query(
    mapping: ResourceMapping,
    include: Collection[tuple[str, str]] | None = None,
    exclude: Collection[tuple[str, str]] = (),
) -> str:
    """The query that reads the resources of ``mapping`` whose ids are in ``$ids``, or only some of their attributes.

    Args:
        mapping: the resource type's mapping.
        include: the top-level attributes to read, as ``(schema URN, attribute name)`` spelled as
            in the mapping (``(GROUP_URN, "members")``), or None for every one;
            :func:`~scim_processor.operations.projection.read_selection` derives it from
            ``attributes`` (RFC 7644 §3.9).
        exclude: top-level attributes not to read, same form.

    Returns:
        Cypher (values in parameters only: ``$ids``) returning one row per stored resource:
        ``node`` (its properties: one map, every property key), ``c<i>`` (the properties of the
        nodes of child mapping ``i``) and ``r<i>_<j>`` (the ids of reference mapping ``i``'s
        ``j``-th target label), the ``c``/``r`` columns only for the attributes read: a
        multi-valued complex or reference attribute left out costs no pattern at all.
        Placeholder nodes (no ``meta_version``) are skipped.
    """

    def wanted(schema: str, attribute: str) -> bool:
        return (include is None or (schema, attribute) in include) and (schema, attribute) not in exclude

    label = ident(mapping.label)
    lines = [f"MATCH (n:{label}) WHERE n.id IN $ids AND n.meta_version IS NOT NULL"]
    carried = ["n"]
    for i, child in enumerate(mapping.children):
        if not wanted(child.schema, child.attribute):
            continue
        lines.append(f"OPTIONAL MATCH (n)-[:{ident(child.relationship_type)}]->(c:{ident(child.label)})")
        lines.append(f"WITH {', '.join(carried)}, collect(properties(c)) AS c{i}")
        carried.append(f"c{i}")
    for i, ref in enumerate(mapping.references):
        if not wanted(ref.schema, ref.attribute):
            continue
        for j, target in enumerate(ref.targets):
            edge = "(n)-[:{rel}]->(m:{target})" if ref.outgoing else "(m:{target})-[:{rel}]->(n)"
            lines.append("OPTIONAL MATCH " + edge.format(rel=ident(ref.relationship_type), target=ident(target)))
            lines.append(f"WITH {', '.join(carried)}, collect(m.id) AS r{i}_{j}")
            carried.append(f"r{i}_{j}")
    lines.append("RETURN properties(n) AS node" + "".join(f", {name}" for name in carried[1:]))
    return "\n".join(lines)


def _place(resource: dict[str, Any], schema: str, core_schema: str, path: tuple[str, ...], value: Any) -> None:
    node = resource if not schema or schema == core_schema else resource.setdefault(schema, {})
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def to_scim(record: Mapping[str, Any], mapping: ResourceMapping, context: GroundingContext) -> dict[str, Any]:
    """The SCIM JSON of one record of :func:`read_query` (the inverse of :func:`~scim_processor.mapping.rows.graph_row`).

    A column the query left out (an attribute not read) gives no attribute.

    Args:
        record: ``{"node": {...}, "c0": [...], ..., "r0_0": [...]}``.
        mapping: the resource type's mapping.
        context: its grounding context (core schema URN, extensions, endpoint).

    Returns:
        ``{"schemas": [core, <extensions with values>], "id", "externalId"?, <attributes>, <extension URN>: {...},
        "meta": {"resourceType", "created", "lastModified", "version", "location"}}``.
    """
    node = record["node"]
    core = context.core.id
    resource: dict[str, Any] = {}
    for prop in mapping.properties:
        value = node.get(prop.key)
        if prop.derived or value is None:
            continue
        _place(resource, prop.schema, core, prop.path, value)
    for i, child in enumerate(mapping.children):
        items = [{p.key: item[p.key] for p in child.properties if item.get(p.key) is not None} for item in record.get(f"c{i}") or []]
        items = [item for item in items if item]
        if items:
            _place(resource, child.schema, core, (child.attribute,), sorted(items, key=_item_order))
    for i, ref in enumerate(mapping.references):
        definition = (context.extension(ref.schema) or context.core) if ref.schema != core else context.core
        attribute = definition.attribute(ref.attribute)
        typed = attribute is not None and attribute.sub_attribute("type") is not None
        values: list[dict[str, Any]] = []
        for j, target in enumerate(ref.targets):
            for ident_ in sorted(record.get(f"r{i}_{j}") or []):
                values.append({"value": ident_, "type": target} if typed else {"value": ident_})
        if values:
            _place(resource, ref.schema, core, (ref.attribute,), values if ref.multi_valued else values[0])
    extensions = [ext.id for ext in context.extensions if ext.id in resource]
    resource_id = node["id"]
    meta = {
        "resourceType": context.resource_type.name,
        "created": node.get("meta_created"),
        "lastModified": node.get("meta_lastModified"),
        "version": node.get("meta_version"),
        "location": location(context, resource_id),
    }
    return {"schemas": [core, *extensions], "id": resource_id, **resource, "meta": {k: v for k, v in meta.items() if v is not None}}


def location(context: GroundingContext, resource_id: str) -> str:
    """``meta.location`` relative to the service's base URL: ``<endpoint>/<id>`` (``/Users/2819c223…``), RFC 7644 §3.1."""
    return f"{context.resource_type.endpoint.rstrip('/')}/{resource_id}"


def _item_order(item: Mapping[str, Any]) -> tuple[bool, str]:
    """Primary first, then by value: a stable order for values the graph keeps unordered."""
    return (item.get("primary") is not True, str(item.get("value", item.get("formatted", ""))))


__all__ = ["location", "read_query", "to_scim"]
