"""Pure builder: a normalised SCIM resource → the ``$rows`` element of its upsert (the mapping rule applied to values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .rule import ResourceMapping


def graph_row(resource: Mapping[str, Any], mapping: ResourceMapping, core_schema: str) -> dict[str, Any]:
    """Every row key of ``mapping``, null where the resource leaves it unassigned.

    Args:
        resource: normalised SCIM JSON (schema spelling, ``id`` assigned, extension attributes
            under their schema URN).
        mapping: the resource type's mapping.
        core_schema: the core schema URN (its attributes sit at the top level of ``resource``).

    Returns:
        ``{"id": ..., <property keys>: value | None, <child attribute>: [{...}], <reference row keys>: [ids]}``.
    """

    def lookup(schema: str, path: tuple[str, ...]) -> Any:
        node: Any = resource
        if schema and schema != core_schema:
            node = resource.get(schema) or {}
        for part in path:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    row: dict[str, Any] = {prop.key: lookup(prop.schema, prop.path) for prop in mapping.properties}
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
            kind = item.get("type")
            row[ref.row_key(kind if isinstance(kind, str) and kind in ref.targets else ref.targets[0])].append(item["value"])
    return row
