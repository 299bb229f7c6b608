"""Source-shape mappings stored in the graph, next to the schema graph they point into (issue 16 §3).

A mapping is a subgraph::

    (:SourceShape {fingerprint, format, resourceType, reviewed, updated})
        -[:HAS_FIELD]->(:SourceField {path, position})
        -[:MAPS_TO {target, transform, args, sources, position}]->(:ScimAttribute)

``target`` is the RFC 7644 §3.5.2 path as written (with its ``[type eq "..."]`` filter), ``args``
the transform's arguments as JSON text, ``sources`` every source of a ``join`` (the relationship
starts at the first). ``externalId`` (RFC 7643 §3.1) has no ``ScimAttribute`` node: its
``MAPS_TO`` ends at the ``ScimResourceType``. These labels, relationship types and keys are part
of the schema graph's own graph schema (``graph.schema_store.SCHEMA_GRAPH``), so the guard checks
every statement here like any other; the statements are the ``cypher/mapping_*.cypher`` files,
values in parameters only. Saving replaces the shape's subgraph in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .. import resources
from .core import ScimProcessor
from .mapping_file import SourceMapping, resolve_target
from .shapes import Shape


class MappingStore:
    """The stored mappings of one graph.

    Args:
        processor: an open processor (its guard checks every statement; schemas are loaded on first save).
    """

    def __init__(self, processor: ScimProcessor):
        self.processor = processor

    def _guarded(self, name: str, parameters: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        query = resources.cypher(name)
        self.processor.compiled().guard.require(query, parameters=set(parameters))
        return query, dict(parameters)

    def all(self) -> list[SourceMapping]:
        """Every stored mapping (fields and entries in their stored order), by resource type and fingerprint."""
        query, parameters = self._guarded("mapping_read", {})
        shapes: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self.processor.connection.read(query, parameters):
            key = (row["resourceType"], row["fingerprint"])
            shape = shapes.setdefault(key, {"row": row, "fields": {}, "entries": []})
            shape["fields"][row["path"]] = row["fieldPosition"]
            if row["target"] is not None:
                shape["entries"].append(row)
        mappings = []
        for (resource_type, _), found in sorted(shapes.items()):
            row = found["row"]
            fields = tuple(sorted(found["fields"], key=lambda path: found["fields"][path]))
            entries = [
                {"source": list(e["sources"]) if len(e["sources"] or []) > 1 else e["path"], "target": e["target"],
                 "transform": e["transform"], "args": json.loads(e["args"] or "{}")}
                for e in sorted(found["entries"], key=lambda e: e["position"])
            ]  # fmt: skip
            data = {"resourceType": resource_type, "shape": {"format": row["format"], "fields": list(fields)},
                    "fields": entries, "reviewed": bool(row["reviewed"])}  # fmt: skip
            mappings.append(SourceMapping.from_json(data, f"stored mapping {row['fingerprint']}"))
        return mappings

    def get(self, fingerprint: str, resource_type: str | None = None) -> SourceMapping | None:
        """The stored mapping of a shape fingerprint (of ``resource_type`` if given), or None."""
        return next((m for m in self.all() if m.fingerprint == fingerprint
                     and (resource_type is None or m.resource_type.lower() == resource_type.lower())), None)  # fmt: skip

    def find(self, shape: Shape, resource_type: str) -> SourceMapping | None:
        """The stored mapping that covers ``shape``, or None when the shape is new.

        The same fingerprint, else the smallest stored shape of the same format whose fields
        include every field of ``shape`` (records that differ only by absent fields share a shape).
        """
        candidates = [m for m in self.all() if m.resource_type.lower() == resource_type.lower() and m.shape.format == shape.format]
        exact = next((m for m in candidates if m.fingerprint == shape.fingerprint), None)
        if exact is not None:
            return exact
        covering = [m for m in candidates if m.shape.fits(shape.fields)]
        return min(covering, key=lambda m: len(m.shape.fields)) if covering else None

    def nearest(self, shape: Shape, resource_type: str, count: int = 2) -> list[SourceMapping]:
        """Up to ``count`` reviewed mappings sharing the most field names with ``shape`` (few-shot examples), best first."""
        names = set(shape.fields)
        scored = [(len(names & set(m.shape.fields)), m) for m in self.all()
                  if m.reviewed and m.resource_type.lower() == resource_type.lower()]  # fmt: skip
        return [m for score, m in sorted(scored, key=lambda item: -item[0]) if score > 0][:count]

    def save(self, mapping: SourceMapping) -> None:
        """Stores ``mapping`` (replacing a stored one of the same fingerprint and resource type), in one transaction.

        Raises:
            scim_processor.errors.CypherRejectedError: the guard rejected a statement.
            scim_processor.errors.GraphError: the server failed.
        """
        if not self.processor.schemas_loaded():
            self.processor.load_schemas()
        context = {c.resource_type.name.lower(): c for c in self.processor.contexts()}[mapping.resource_type.lower()]
        key = {"fingerprint": mapping.fingerprint, "resourceType": context.resource_type.name}
        to_attribute: list[dict[str, Any]] = []
        to_resource_type: list[dict[str, Any]] = []
        for position, entry in enumerate(mapping.entries):
            target = resolve_target(entry.target, context)
            row = {"source": entry.sources[0], "attribute": target.id, "target": entry.target, "transform": entry.transform,
                   "args": json.dumps(dict(entry.args), ensure_ascii=False, sort_keys=True), "sources": list(entry.sources),
                   "position": position}  # fmt: skip
            (to_attribute if target.id is not None else to_resource_type).append(row)
        shape = {**key, "format": mapping.shape.format, "reviewed": mapping.reviewed, "updated": datetime.now(UTC).isoformat(),
                 "fields": [{"path": path, "position": n} for n, path in enumerate(mapping.shape.fields)]}  # fmt: skip
        self.processor.connection.write([
            self._guarded("mapping_delete_fields", key),
            self._guarded("mapping_delete_shape", key),
            self._guarded("mapping_create_shape", shape),
            self._guarded("mapping_maps_to_attribute", {**key, "entries": to_attribute}),
            self._guarded("mapping_maps_to_resource_type", {**key, "entries": to_resource_type}),
        ])  # fmt: skip

    def delete(self, fingerprint: str) -> int:
        """Deletes every stored mapping of ``fingerprint`` (any resource type); returns how many."""
        deleted = 0
        for mapping in [m for m in self.all() if m.fingerprint == fingerprint]:
            key = {"fingerprint": fingerprint, "resourceType": mapping.resource_type}
            self.processor.connection.write([self._guarded("mapping_delete_fields", key), self._guarded("mapping_delete_shape", key)])
            deleted += 1
        return deleted
