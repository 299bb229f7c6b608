"""Pure builders: a :class:`~scim_processor.mapping.rule.ResourceMapping` → the Cypher that upserts it, and the constraint DDL.

As in Cartography, the ingestion query is derived from a declared schema rather than written by
hand. Every value travels in the ``$rows`` parameter; the query text holds only labels,
relationship types and property keys from the mapping, backtick-quoted where they are not plain
identifiers.
"""

from __future__ import annotations

import re

from .rule import ResourceMapping

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """``name`` as a Cypher symbolic name, backtick-quoted (backticks doubled) unless plain."""
    return name if _PLAIN.match(name) else "`" + name.replace("`", "``") + "`"


def upsert_query(mapping: ResourceMapping) -> str:
    """The create-or-replace query of one resource type, for ``UNWIND $rows AS row``.

    Replace semantics (RFC 7644 §3.5.1): every property key of the mapping is set from the row
    (a null removes it), the resource's child nodes and outgoing (or, for ``members``, incoming)
    reference relationships are removed and created again from the row. Server-set ``meta``
    (rule 7): ``meta_created`` is kept once set; ``meta_lastModified`` changes only when the
    row's ``meta_version`` (its content fingerprint) differs from the stored one.

    Returns:
        The query text; the parameter is ``rows``, a list of maps with the mapping's row keys.
    """
    label = ident(mapping.label)
    sets = [f"n.{ident(p.key)} = row.{ident(p.key)}" for p in mapping.properties if p.key != "id" and p.derived != "server"]
    sets += [
        "n.meta_created = coalesce(n.meta_created, row.meta_created)",
        "n.meta_lastModified = CASE WHEN unchanged THEN n.meta_lastModified ELSE row.meta_lastModified END",
        "n.meta_version = row.meta_version",
    ]
    lines = [
        "UNWIND $rows AS row",
        f"MERGE (n:{label} {{id: row.id}})",
        "WITH n, row, coalesce(n.meta_version = row.meta_version, false) AS unchanged",
        f"SET {', '.join(sets)}",
        "WITH n, row",
    ]
    if mapping.children:
        rels = "|".join(ident(child.relationship_type) for child in mapping.children)
        lines.append(f"CALL {{ WITH n MATCH (n)-[:{rels}]->(old) DETACH DELETE old }}")
    for ref in mapping.references:
        pattern = "(n)-[old:{rel}]->()" if ref.outgoing else "()-[old:{rel}]->(n)"
        lines.append(f"CALL {{ WITH n MATCH {pattern.format(rel=ident(ref.relationship_type))} DELETE old }}")
    for child in mapping.children:
        child_sets = ", ".join(f"c.{ident(p.key)} = item.{ident(p.key)}" for p in child.properties)
        create = f"CREATE (n)-[:{ident(child.relationship_type)}]->(c:{ident(child.label)})"
        lines.append(f"FOREACH (item IN row.{ident(child.attribute)} | {create} SET {child_sets})")
    for ref in mapping.references:
        for target in ref.targets:
            edge = "(n)-[:{rel}]->(m)" if ref.outgoing else "(m)-[:{rel}]->(n)"
            merge_edge = edge.format(rel=ident(ref.relationship_type))
            lines.append(
                f"FOREACH (ref IN row.{ident(ref.row_key(target))} | "
                f"MERGE (m:{ident(target)} {{id: ref}}) MERGE {merge_edge})"
            )
    lines.append("RETURN count(n) AS written")
    return "\n".join(lines)


def constraint_name(label: str, key: str) -> str:
    """The name of the uniqueness constraint on ``(label, key)``: ``scim_<label>_<key>_unique``, lower-cased."""
    return f"scim_{label}_{key}_unique".lower()


def constraint_ddl(label: str, key: str) -> str:
    """The uniqueness-constraint DDL for ``(label, key)``.

    The Neo4j 5 form, which ArcadeDB also runs; it is the only server DDL the project has.
    """
    return f"CREATE CONSTRAINT {constraint_name(label, key)} IF NOT EXISTS FOR (n:{ident(label)}) REQUIRE n.{ident(key)} IS UNIQUE"
