"""Pure builder: a normalised SCIM resource → the ``$rows`` element of its upsert (the mapping rule applied to values)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .rule import VERSION_KEY, ResourceMapping


def content_version(row: Mapping[str, Any]) -> str:
    """The content fingerprint of a graph row: 16 hex digits of the SHA-256 of its canonical JSON.

    Canonical JSON: keys sorted, no whitespace, non-ASCII kept as UTF-8 (lone surrogates cannot
    occur: the reader rejects them). Two rows with the same keys and values give the same
    fingerprint whatever the order of their keys; a changed, added or removed value changes it.
    It is stored as ``meta_version`` on the resource node and serves as the resource's
    ``meta.version`` (a weak ETag value, RFC 7644 §3.14; RFC 7232 §2.3).

    Args:
        row: a graph row (:func:`graph_row`) without its own ``meta_version``, or any JSON-able map.

    Returns:
        16 lower-case hex digits (64 bits).

    Raises:
        TypeError: a value is not JSON-serialisable.
        ValueError: a float is NaN or infinite (not JSON, RFC 8259 §6).
    """
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def graph_row(resource: Mapping[str, Any], mapping: ResourceMapping, core_schema: str) -> dict[str, Any]:
    """Every row key of ``mapping``, null where the resource leaves it unassigned.

    Args:
        resource: normalised SCIM JSON (schema spelling, ``id`` assigned, extension attributes
            under their schema URN).
        mapping: the resource type's mapping.
        core_schema: the core schema URN (its attributes sit at the top level of ``resource``).

    Returns:
        ``{"id": ..., <property keys>: value | None, <child attribute>: [{...}], <reference row keys>: [ids]}``,
        with ``meta_version`` the :func:`content_version` of every other key.
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

    row: dict[str, Any] = {prop.key: lookup(prop.schema, prop.path) for prop in mapping.properties if prop.key != VERSION_KEY}
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
    row[VERSION_KEY] = content_version(row)
    return row
