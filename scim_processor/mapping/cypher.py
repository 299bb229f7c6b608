"""Pure builders: a :class:`~scim_processor.mapping.rule.ResourceMapping` → the Cypher that upserts it, and the constraint DDL.

As in Cartography, the ingestion query is derived from a declared schema rather than written by
hand. Every value travels in the ``$rows`` parameter; the query text holds only labels,
relationship types and property keys from the mapping, backtick-quoted where they are not plain
identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .rule import SOURCE_KEY, VERSION_KEY, ResourceMapping

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """``name`` as a Cypher symbolic name, backtick-quoted (backticks doubled) unless plain."""
    return name if _PLAIN.match(name) else "`" + name.replace("`", "``") + "`"


def _property_sets(mapping: ResourceMapping, created: str, present: Collection[str] | None = None) -> str:
    """The ``SET`` items of the property keys of the mapping (those in ``present``, if given) from ``row``.

    ``created`` is the ``meta_created`` expression; the server-set ``meta`` keys are always set.
    """
    sets = [
        f"n.{ident(p.key)} = row.{ident(p.key)}"
        for p in mapping.properties
        if p.key != "id" and p.derived != "server" and (present is None or p.key in present)
    ]
    sets += [
        f"n.meta_created = {created}",
        "n.meta_lastModified = row.meta_lastModified",
        f"n.{ident(VERSION_KEY)} = row.{ident(VERSION_KEY)}",
        f"n.{ident(SOURCE_KEY)} = row.{ident(SOURCE_KEY)}",
    ]
    return "SET " + ", ".join(sets)


def _child_creates(mapping: ResourceMapping, present: Collection[str] | None = None) -> list[str]:
    lines = []
    for child in mapping.children:
        if present is not None and child.attribute not in present:
            continue
        child_sets = ", ".join(f"c.{ident(p.key)} = item.{ident(p.key)}" for p in child.properties)
        create = f"CREATE (n)-[:{ident(child.relationship_type)}]->(c:{ident(child.label)})"
        lines.append(f"FOREACH (item IN row.{ident(child.attribute)} | {create} SET {child_sets})")
    return lines


def _reference_writes(mapping: ResourceMapping, verb: str, present: Collection[str] | None = None) -> list[str]:
    """One ``FOREACH`` per reference target label: the target node MERGEd by id (a placeholder if new), the relationship ``verb``-ed."""
    lines = []
    for ref in mapping.references:
        for target in ref.targets:
            if present is not None and ref.row_key(target) not in present:
                continue
            edge = "(n)-[:{rel}]->(m)" if ref.outgoing else "(m)-[:{rel}]->(n)"
            lines.append(
                f"FOREACH (ref IN row.{ident(ref.row_key(target))} | "
                f"MERGE (m:{ident(target)} {{id: ref}}) {verb} {edge.format(rel=ident(ref.relationship_type))})"
            )
    return lines


def create_query(mapping: ResourceMapping, present: Collection[str] | None = None) -> str:
    """The create query of one resource type: ONE statement for a batch of resources not yet in the graph.

    Shape: ``MERGE`` on ``id`` (a placeholder node created earlier as a reference target, rule 4,
    is filled in; it has no child nodes and no relationships of its own), kept only where the node
    has no ``meta_version``, then every property key set and the child nodes and reference
    relationships created. No ``OPTIONAL MATCH`` and no collect-and-delete: a new node has no old
    children. A row whose node turns out to be a full resource (another writer created it since
    the batch's state was read) is not written and not in ``written``: the writer sends it again
    through :func:`upsert_query`.

    Args:
        mapping: the resource type's mapping.
        present: the row keys some row of the batch has a value for (:func:`present_keys`): only
            those are set and only their child and relationship ``FOREACH`` are written, since a
            new node has nothing to remove (on the embedded server a batch of the benchmark's
            users costs about a fifth less server time than with every key). None: every key.

    Returns:
        The query text. Parameter ``rows``: rows of :func:`~scim_processor.mapping.rows.graph_row`
        (reference ids listed once each). It returns one record, ``written``: the ids written.
    """
    label = ident(mapping.label)
    lines = [
        "UNWIND $rows AS row",
        f"MERGE (n:{label} {{id: row.id}})",
        f"WITH n, row WHERE n.{ident(VERSION_KEY)} IS NULL",
        _property_sets(mapping, "row.meta_created", present),
        *_child_creates(mapping, present),
        *_reference_writes(mapping, "CREATE", present),
        "RETURN collect(row.id) AS written",
    ]
    return "\n".join(lines)


def present_keys(rows: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The keys some row has a value for (not null, not an empty list): the ``present`` of :func:`create_query`."""
    return frozenset(key for row in rows for key, value in row.items() if value is not None and value != [])


def state_query(mapping: ResourceMapping) -> str:
    """The read of what the graph holds for a batch: ``id``, ``meta_version`` and ``meta_source`` of the nodes whose id is in ``$ids``.

    A node created only as a reference target has a null ``version`` and ``source``. The nodes come
    back as ``[id, version, source]`` lists in ONE record (``collect`` keeps a list holding nulls):
    the driver decodes each record, and each map in it, in Python, which cost more than the read
    itself at 500 nodes a batch.

    Returns:
        The query text (parameter ``ids``: a list of ids); one row ``{nodes: [[id, version, source], ...]}``.
    """
    return (
        f"MATCH (n:{ident(mapping.label)}) WHERE n.id IN $ids "
        f"RETURN collect([n.id, n.{ident(VERSION_KEY)}, n.{ident(SOURCE_KEY)}]) AS nodes"
    )


def source_query(mapping: ResourceMapping) -> str:
    """Records the source fingerprint of unchanged resources: ``meta_source`` set where ``meta_version`` is still the row's.

    Returns:
        The query text. Parameter ``rows``: maps with ``id``, ``meta_version`` and ``meta_source``.
    """
    version, source = ident(VERSION_KEY), ident(SOURCE_KEY)
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (n:{ident(mapping.label)} {{id: row.id}}) WHERE n.{version} = row.{version}\n"
        f"SET n.{source} = row.{source}"
    )


def upsert_query(mapping: ResourceMapping) -> str:
    """The replace query of one resource type (create-or-replace): ONE statement for a whole batch of rows.

    Shape (a single ``UNWIND $rows``, no per-row subquery):

    1. ``OPTIONAL MATCH`` the resource by ``id`` and keep only rows whose ``meta_version`` (the
       content fingerprint, :func:`~scim_processor.mapping.rows.content_version`) differs from
       the stored one: an unchanged resource is neither locked nor written.
    2. ``MERGE`` on ``id`` (the uniqueness constraint's index makes it a lookup) and set every
       property key of the mapping from the row. Replace semantics (RFC 7644 §3.5.1): a null
       removes the property. Keys are spelled out rather than ``SET n += row`` so that the
       Cypher guard checks every key written. Server-set ``meta`` (rule 7): ``meta_created`` is
       kept once set; ``meta_lastModified`` and ``meta_version`` are the row's (only changed
       resources get this far).
    3. The old child nodes and the old reference relationships are collected once per row and
       deleted, then created again from the row (``FOREACH``).

    Returns:
        The query text. Parameter ``rows``: a list of maps with the mapping's row keys. It returns
        one record, ``written``: the ids of the rows written (the others were unchanged).
    """
    label = ident(mapping.label)
    version = ident(VERSION_KEY)
    lines = [
        "UNWIND $rows AS row",
        f"OPTIONAL MATCH (cur:{label} {{id: row.id}})",
        f"WITH row, cur WHERE cur IS NULL OR cur.{version} IS NULL OR cur.{version} <> row.{version}",
        f"MERGE (n:{label} {{id: row.id}})",
        _property_sets(mapping, "coalesce(n.meta_created, row.meta_created)"),
        "WITH n, row",
    ]
    if mapping.children:
        rels = "|".join(ident(child.relationship_type) for child in mapping.children)
        lines += [
            f"OPTIONAL MATCH (n)-[:{rels}]->(oldChild)",
            "WITH n, row, collect(oldChild) AS oldChildren",
            "FOREACH (old IN oldChildren | DETACH DELETE old)",
        ]
    for ref in mapping.references:
        rel = ident(ref.relationship_type)
        pattern = f"(n)-[oldRef:{rel}]->()" if ref.outgoing else f"()-[oldRef:{rel}]->(n)"
        lines += [
            f"OPTIONAL MATCH {pattern}",
            "WITH n, row, collect(oldRef) AS oldRefs",
            "FOREACH (old IN oldRefs | DELETE old)",
        ]
    lines += _child_creates(mapping)
    lines += _reference_writes(mapping, "MERGE")
    lines.append("RETURN collect(row.id) AS written")
    return "\n".join(lines)


def constraint_name(label: str, key: str) -> str:
    """The name of the uniqueness constraint on ``(label, key)``: ``scim_<label>_<key>_unique``, lower-cased."""
    return f"scim_{label}_{key}_unique".lower()


def constraint_ddl(label: str, key: str) -> str:
    """The uniqueness-constraint DDL for ``(label, key)``.

    The Neo4j 5 form, which ArcadeDB also runs; it is the only server DDL the project has.
    """
    return f"CREATE CONSTRAINT {constraint_name(label, key)} IF NOT EXISTS FOR (n:{ident(label)}) REQUIRE n.{ident(key)} IS UNIQUE"
