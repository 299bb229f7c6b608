"""Identity rules: who a payload is, and the rule that two different resources never merge.

1. A client-set ``id`` in a creation request is ignored (RFC 7644 §3.3: the service provider
   assigns it), with a warning; an import may keep it (``keep_id``, ``process --keep-ids``).
2. A resource whose ``id`` was *derived* (no ``id`` sent: UUIDv5 of its ``externalId``, else of its
   ``userName``) must not land on a stored resource with a different normalised key
   (``userName_key``): that would merge two people (Microsoft's SCIM test collection sends eight
   users with one ``externalId``). It is rejected 409 ``uniqueness`` naming the holder. A resource
   sent with its ``id`` may change its ``userName`` (a rename of that resource).
3. The normalised key has its own uniqueness constraint (mapping rule, ``userName_key``), so
   ``BJensen`` and ``bjensen`` are one ``userName`` on every server (RFC 7643 §4.1.1, caseExact false);
   it is also checked before writing, so the 409 names the holder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UniquenessError
from ..graph import GraphConnection
from ..mapping import CompiledSchema
from ..mapping.cypher import ident
from ..mapping.rule import PropertyMapping
from ..scim import GroundingContext
from ..stages.generate import stable_id


def drop_client_id(body: Mapping[str, Any], warnings: list[str]) -> dict[str, Any]:
    """``body`` without a client-set ``id`` (RFC 7644 §3.3), noting it in ``warnings``."""
    out = dict(body)
    for key in [k for k in out if isinstance(k, str) and k.lower() == "id"]:
        warnings.append(f"id: {out.pop(key)!r} ignored: the service provider assigns id (RFC 7644 §3.3)")
    return out


def key_property(compiled: CompiledSchema, resource_type: str) -> PropertyMapping | None:
    """The normalised-key property of ``resource_type`` (``userName_key`` for User), or None."""
    return next((p for p in compiled.mappings[resource_type].properties if p.derived == "key"), None)


def key_value(resource: Mapping[str, Any], key: PropertyMapping) -> str | None:
    """The normalised key of a normalised resource (its attribute at ``key.path``, lower-cased)."""
    value = resource.get(key.path[0])
    return value.lower() if isinstance(value, str) else None


def is_derived_id(resource: Mapping[str, Any], context: GroundingContext) -> bool:
    """True if ``resource["id"]`` is the one the generator derives when no ``id`` is sent."""
    return bool(resource.get("id")) and stable_id({k: v for k, v in resource.items() if k != "id"}, context) == resource["id"]


def holder_query(compiled: CompiledSchema, resource_type: str, by: str) -> str:
    """Read query of the holders of ids (``by="id"``, parameter ``$ids``) or of normalised keys (``by="key"``, ``$keys``).

    Returns rows ``{id, name, key, version}`` (``version`` null for placeholder nodes).
    """
    key = key_property(compiled, resource_type)
    label = ident(compiled.mappings[resource_type].label)
    name = f"n.{ident(key.path[0])}" if key else "null"
    key_expr = f"n.{ident(key.key)}" if key else "null"
    where = "n.id IN $ids" if by == "id" else f"{key_expr} IN $keys"
    return f"MATCH (n:{label}) WHERE {where} RETURN n.id AS id, {name} AS name, {key_expr} AS key, n.meta_version AS version"


def holders(connection: GraphConnection | None, compiled: CompiledSchema, resource_type: str, *, ids: Sequence[str] = (),
            keys: Sequence[str] = ()) -> list[dict[str, Any]]:  # fmt: skip
    """The stored nodes holding ``ids`` or normalised ``keys`` (``{id, name, key, version}``), through the guard.

    With no connection (an offline dry run, ``ScimProcessor.offline``) nothing is stored: none.
    """
    by, values = ("id", list(ids)) if ids else ("key", list(keys))
    if connection is None or not values or (by == "key" and key_property(compiled, resource_type) is None):
        return []
    query = holder_query(compiled, resource_type, by)
    compiled.guard.require(query, read_only=True, parameters={f"{by}s"})
    return connection.read(query, {f"{by}s": values})


def merge_error(resource_type: str, resource: Mapping[str, Any], holder: Mapping[str, Any], key: PropertyMapping) -> UniquenessError:
    """409 for a payload whose derived id is held by a different resource, naming the holder."""
    attribute = key.path[0]
    source = f"externalId {resource['externalId']!r}" if resource.get("externalId") else "its derived key"
    return UniquenessError(
        f"{source} gives id {resource['id']}, held by {resource_type} {holder['id']} with {attribute} {holder['name']!r}; "
        f"this payload has {attribute} {resource.get(attribute)!r}: two different resources are never merged "
        "(send the holder's id to rename it)",
        "externalId" if resource.get("externalId") else attribute,
    )


def key_error(resource_type: str, resource: Mapping[str, Any], holder: Mapping[str, Any], key: PropertyMapping) -> UniquenessError:
    """409 for a payload whose normalised key (``userName`` in any case) another resource holds, naming the holder."""
    attribute = key.path[0]
    return UniquenessError(
        f"{attribute} {resource.get(attribute)!r} is already held by {resource_type} {holder['id']} "
        f"({attribute} {holder['name']!r}; compared case-insensitively, RFC 7643 §2.2, §4.1.1)",
        attribute,
    )


def identity_conflicts(
    connection: GraphConnection | None, compiled: CompiledSchema, batch: Sequence[tuple[int, str, Mapping[str, Any]]]
) -> dict[int, UniquenessError]:
    """The payloads of a batch that would merge two resources or share a normalised key, by index.

    Taken in order, as the batch is written: a payload sees the graph as the earlier payloads of
    the batch leave it.

    Args:
        connection: the graph (read only: two queries per resource type with a normalised key),
            or None offline (only the batch's own payloads are compared).
        compiled: the compiled schema.
        batch: ``(index, resource type, normalised resource)`` of the accepted payloads, in order.

    Returns:
        index → 409 error naming the holder: a derived id held by a resource with another
        normalised key (rule 2), or a normalised key held by a resource with another id (rule 3,
        which the constraint also enforces; checked here to name the holder).
    """
    conflicts: dict[int, UniquenessError] = {}
    by_type: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for index, resource_type, resource in batch:
        if key_property(compiled, resource_type) is not None:
            by_type.setdefault(resource_type, []).append((index, resource))
    for resource_type, items in by_type.items():
        key = key_property(compiled, resource_type)
        if key is None:
            continue
        context = compiled.contexts[resource_type]
        keys = [v for _, r in items if (v := key_value(r, key)) is not None]
        by_id = {row["id"]: row for row in holders(connection, compiled, resource_type, ids=[r["id"] for _, r in items])}
        by_key = {row["key"]: row for row in holders(connection, compiled, resource_type, keys=keys)}
        for index, resource in items:
            value = key_value(resource, key)
            held = by_id.get(resource["id"])
            if held is not None and held.get("key") not in (None, value) and is_derived_id(resource, context):
                conflicts[index] = merge_error(resource_type, resource, held, key)
                continue
            other = by_key.get(value) if value is not None else None
            if other is not None and other["id"] != resource["id"]:
                conflicts[index] = key_error(resource_type, resource, other, key)
                continue
            row = {"id": resource["id"], "name": resource.get(key.path[0]), "key": value}
            if held is not None and held.get("key") is not None:
                by_key.pop(held["key"], None)  # a rename frees the old key
            by_id[resource["id"]] = row
            if value is not None:
                by_key[value] = row
    return conflicts


__all__ = ["drop_client_id", "holders", "identity_conflicts", "is_derived_id", "key_error", "key_property", "merge_error"]
