"""The graph schema: labels with their property keys, relationship types with their endpoints.

This is what the Cypher guard checks queries against. It is derived from the SCIM schemas by
:mod:`scim_processor.mapping`, or read from the structured-schema JSON that neo4j-graphrag
(``get_structured_schema``) and langchain-neo4j (``Neo4jGraph.structured_schema``) produce, so
the guard works on any Neo4j graph::

    {"node_props": {"User": [{"property": "userName", "type": "STRING"}]},
     "rel_props": {"MEMBER_OF": [{"property": "since", "type": "DATE_TIME"}]},
     "relationships": [{"start": "User", "type": "MEMBER_OF", "end": "Group"}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SchemaDefinitionError


@dataclass(frozen=True)
class GraphSchema:
    """Labels → {property key: type}; relationship types → {property key: type}; (start, type, end) triples.

    Types are the Neo4j type names the structured schema uses (``STRING``, ``BOOLEAN``,
    ``INTEGER``, ``FLOAT``, ``LIST``, ``DATE_TIME``, ...). Names are case-sensitive, as in Cypher.
    """

    node_props: Mapping[str, Mapping[str, str]]
    rel_props: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    relationships: frozenset[tuple[str, str, str]] = frozenset()

    @property
    def labels(self) -> frozenset[str]:
        """Every node label."""
        return frozenset(self.node_props)

    @property
    def relationship_types(self) -> frozenset[str]:
        """Every relationship type, whether it has properties or only endpoints."""
        return frozenset(self.rel_props) | {rel for _, rel, _ in self.relationships}

    @classmethod
    def from_structured(cls, data: Mapping[str, Any]) -> GraphSchema:
        """Builds the schema from neo4j-graphrag / langchain-neo4j structured-schema JSON.

        Raises:
            SchemaDefinitionError: ``node_props`` is missing or an entry has the wrong shape.
        """
        try:
            node_props = {
                label: {item["property"]: str(item.get("type", "ANY")) for item in props}
                for label, props in data["node_props"].items()
            }
            rel_props = {
                rel: {item["property"]: str(item.get("type", "ANY")) for item in props}
                for rel, props in (data.get("rel_props") or {}).items()
            }
            relationships = frozenset(
                (item["start"], item["type"], item["end"]) for item in (data.get("relationships") or [])
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise SchemaDefinitionError(f"not a structured graph schema (node_props/rel_props/relationships): {error}") from error
        for start, _, end in relationships:
            node_props.setdefault(start, {})
            node_props.setdefault(end, {})
        return cls(node_props, rel_props, relationships)

    def to_structured(self) -> dict[str, Any]:
        """The neo4j-graphrag / langchain-neo4j structured-schema JSON (sorted, deterministic)."""
        return {
            "node_props": {
                label: [{"property": key, "type": kind} for key, kind in sorted(props.items())]
                for label, props in sorted(self.node_props.items())
            },
            "rel_props": {
                rel: [{"property": key, "type": kind} for key, kind in sorted(props.items())]
                for rel, props in sorted(self.rel_props.items())
            },
            "relationships": [
                {"start": start, "type": rel, "end": end} for start, rel, end in sorted(self.relationships)
            ],
        }

    def to_prompt(self) -> str:
        """The prompt text neo4j-graphrag's ``format_schema`` / GraphCypherQAChain use."""
        lines = ["Node properties:"]
        for label, props in sorted(self.node_props.items()):
            inner = ", ".join(f"{key}: {kind}" for key, kind in sorted(props.items()))
            lines.append(f"{label} {{{inner}}}")
        lines.append("Relationship properties:")
        for rel, props in sorted(self.rel_props.items()):
            inner = ", ".join(f"{key}: {kind}" for key, kind in sorted(props.items()))
            lines.append(f"{rel} {{{inner}}}")
        lines.append("The relationships:")
        lines.extend(f"(:{start})-[:{rel}]->(:{end})" for start, rel, end in sorted(self.relationships))
        return "\n".join(lines)

    @classmethod
    def union(cls, schemas: Iterable[GraphSchema]) -> GraphSchema:
        """One schema holding every label, key and relationship of ``schemas``."""
        node_props: dict[str, dict[str, str]] = {}
        rel_props: dict[str, dict[str, str]] = {}
        relationships: set[tuple[str, str, str]] = set()
        for schema in schemas:
            for label, props in schema.node_props.items():
                node_props.setdefault(label, {}).update(props)
            for rel, props in schema.rel_props.items():
                rel_props.setdefault(rel, {}).update(props)
            relationships |= schema.relationships
        return cls(node_props, rel_props, frozenset(relationships))
