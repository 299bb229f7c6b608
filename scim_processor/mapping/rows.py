"""Builders of the ``$rows`` element of an upsert (the mapping rule applied to values) and of the weak ETag."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .rule import META_PROPERTIES, SOURCE_KEY, VERSION_KEY, ResourceMapping

META_KEYS = (SOURCE_KEY, *(key for key, _ in META_PROPERTIES))


def now_text() -> str:
    """The current UTC time as RFC 3339 / xsd:dateTime text with milliseconds (``2026-11-22T01:02:03.456Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _canonical(value: Any) -> Any:
    """``value`` with lists in a stable order: SCIM multi-valued attributes are unordered (RFC 7643 §2.4)."""
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical(item) for item in value]
        if len(items) < 2:  # the usual single email or phone number: nothing to order
            return items
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    return value


def content_version(row: Mapping[str, Any]) -> str:
    """The weak ETag of a stored resource: ``W/"<16 hex>"``, a fingerprint of its content.

    Args:
        row: a graph row (:func:`graph_row`); its ``meta_*`` keys are left out, lists are taken
            as unordered (multi-valued attributes, reference ids).

    Returns:
        ``W/"`` + the first 16 hex digits of the SHA-256 of the canonical JSON of the row + ``"``
        (RFC 7232 §2.3 weak entity tag, as RFC 7644 §3.14 uses for ``meta.version``).
    """
    content = {key: value for key, value in row.items() if key not in META_KEYS and value not in (None, [])}
    text = json.dumps(_canonical(content), sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return 'W/"' + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16] + '"'


def source_token(fingerprint: str, version: str) -> str:
    """The ``meta_source`` value of a node written from an input document: the document's fingerprint bound to the content version.

    Binding it to ``meta_version`` makes any later write that changes the content (a PATCH, a
    request, another document) invalidate it, even one that does not know about ``meta_source``.

    Args:
        fingerprint: the input document's fingerprint (``stages/changes.py: source_fingerprint``).
        version: the ``meta_version`` of the content written from it.

    Returns:
        32 hex digits of the SHA-256 of ``fingerprint``, a newline and ``version``.
    """
    return hashlib.sha256(f"{fingerprint}\n{version}".encode()).hexdigest()[:32]


def stamp_source(row: dict[str, Any], fingerprint: str) -> None:
    """Records in ``row`` (a :func:`graph_row`) that it was built from the document with ``fingerprint``."""
    row[SOURCE_KEY] = source_token(fingerprint, row[VERSION_KEY])


def graph_row(resource: Mapping[str, Any], mapping: ResourceMapping, core_schema: str, now: str | None = None) -> dict[str, Any]:
    """Every row key of ``mapping``, null where the resource leaves it unassigned.

    Args:
        resource: normalised SCIM JSON (schema spelling, ``id`` assigned, extension attributes
            under their schema URN).
        mapping: the resource type's mapping.
        core_schema: the core schema URN (its attributes sit at the top level of ``resource``).
        now: the time of the write (RFC 3339 text; default: now), for ``meta_created`` and
            ``meta_lastModified``; the upsert keeps the stored ones when the content is unchanged.

    Returns:
        ``{"id": ..., <property keys>: value | None, <child attribute>: [{...}], <reference row keys>: [ids],
        "meta_source": None, "meta_created", "meta_lastModified", "meta_version"}``; normalised keys
        (``userName_key``) hold the lower-cased value; reference ids are listed once each (the
        first time they appear). ``meta_source`` is set by :func:`stamp_source`.
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

    row: dict[str, Any] = {}
    for prop in mapping.properties:
        if prop.derived == "server":
            continue
        value = lookup(prop.schema, prop.path)
        row[prop.key] = value.lower() if prop.derived == "key" and isinstance(value, str) else value
    for child in mapping.children:
        items = lookup(child.schema, (child.attribute,)) or []
        row[child.attribute] = [
            {p.key: item.get(p.key) for p in child.properties} for item in items if isinstance(item, Mapping)
        ]
    for ref in mapping.references:
        found = lookup(ref.schema, (ref.attribute,))
        items = found if isinstance(found, list) else ([found] if found else [])
        targets: dict[str, dict[str, None]] = {target: {} for target in ref.targets}  # ordered sets of ids
        for item in items:
            if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
                continue
            kind = item.get("type")
            targets[kind if isinstance(kind, str) and kind in ref.targets else ref.targets[0]][item["value"]] = None
        for target, ids in targets.items():  # one relationship per referenced resource, so a create can CREATE it
            row[ref.row_key(target)] = list(ids)
    stamp = now or now_text()
    row.update(meta_created=stamp, meta_lastModified=stamp, meta_version=content_version(row), meta_source=None)
    return row
