"""Search (RFC 7644 §3.4.2): filter, ``sortBy``/``sortOrder``, ``startIndex``/``count`` → resource ids, by Cypher.

:class:`GraphSearch` turns a search over one or several resource types into read-only Cypher
queries (a count and a page of ids), each checked by the compiled schema's guard in read-only
mode before it runs; the resources themselves are then read by the store (``get_many``).

Sorting (RFC 7644 §3.4.2.3): by a single-valued attribute (strings lower-cased unless
``caseExact``), resources without a value last when ascending and first when descending (Cypher's
null ordering), ties broken by ``id`` so pages are stable. A search over several resource types
(at the root) asks each type for its first ``startIndex + count - 1`` ids in order and merges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scim2_models.path import FilterNode

from ..graph import GraphConnection
from ..mapping import CompiledSchema
from .filters import NODE, parse_filter, sort_key, translate_filter


@dataclass(frozen=True)
class SearchResult:
    """One page of a search.

    Attributes:
        total: how many resources match (``totalResults``).
        hits: ``(resource type name, id)`` of the page's resources, in order.
    """

    total: int
    hits: list[tuple[str, str]]


class GraphSearch:
    """Runs searches over the identity graph.

    Args:
        compiled: the compiled schema (mappings, contexts and the guard).
        connection: the graph connection; every query passes ``compiled.guard`` in read-only mode
            first, then runs in a managed READ transaction.
    """

    def __init__(self, compiled: CompiledSchema, connection: GraphConnection):
        self.compiled = compiled
        self.connection = connection

    def read(self, query: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        """Runs one generated query after the guard accepted it in read-only mode.

        Raises:
            scim_processor.errors.CypherRejectedError: the guard refused it (a bug in the translation).
        """
        self.compiled.guard.require(query, read_only=True, parameters=set(parameters))  # names: one cached check per query text
        return self.connection.read(query, parameters)

    def search(
        self,
        resource_types: Sequence[str],
        filter: str | FilterNode | None = None,
        *,
        sort_by: str | None = None,
        descending: bool = False,
        start_index: int = 1,
        count: int | None = None,
    ) -> SearchResult:
        """Runs one search.

        Args:
            resource_types: resource type names (one for ``/Users``; every type at the root).
            filter: the filter text or syntax tree, or None.
            sort_by: an attribute path (``userName``, ``name.familyName``, ``urn:…:employeeNumber``), or None.
            descending: ``sortOrder=descending``.
            start_index: 1-based index of the first result (RFC 7644 §3.4.2.4; below 1 is 1).
            count: the page size (None: every match; 0: the total only).

        Raises:
            InvalidFilterError: 400 ``invalidFilter`` (see :func:`~scim_processor.http.filters.translate_filter`).
            InvalidValueError: ``sortBy`` names a multi-valued or complex attribute.
            scim_processor.errors.CypherRejectedError: the guard refused a generated query (a bug).
        """
        start = max(start_index, 1) - 1
        node = parse_filter(filter) if isinstance(filter, str) and filter.strip() else (filter or None)
        several = len(resource_types) > 1
        total = 0
        merged: list[tuple[Any, str, str]] = []
        for name in resource_types:
            mapping = self.compiled.mappings[name]
            context = self.compiled.contexts[name]
            where, parameters = translate_filter(node, context, mapping, unknown_matches_none=several)
            sort = self._sort(name, sort_by, several)
            match = f"MATCH ({NODE}:{mapping.label}) WHERE ({where})"
            if any(p.key == "meta_version" for p in mapping.properties):  # not a node created only as a reference target
                match += f" AND {NODE}.meta_version IS NOT NULL"
            total += int(self.read(f"{match} RETURN count({NODE}) AS total", parameters)[0]["total"])
            if count == 0:
                continue
            order = "DESC" if descending else "ASC"
            limit = None if count is None else (start + count if several else count)
            skip = 0 if several else start
            query = f"{match} RETURN {NODE}.id AS id, {sort} AS sortValue ORDER BY sortValue {order}, id ASC"
            page = dict(parameters)
            if skip:
                query += " SKIP $skip"
                page["skip"] = skip
            if limit is not None:
                query += " LIMIT $limit"
                page["limit"] = limit
            merged.extend((row["sortValue"], row["id"], name) for row in self.read(query, page))
        if several:
            merged = _merge_sorted(merged, descending)
            merged = merged[start : None if count is None else start + count]
        return SearchResult(total, [(name, rid) for _, rid, name in merged])

    def _sort(self, resource_type: str, sort_by: str | None, several: bool) -> str:
        if not sort_by:
            return "null"
        key = sort_key(sort_by, self.compiled.contexts[resource_type], self.compiled.mappings[resource_type], unknown_matches_none=several)
        return "null" if key is None else key[0]


def _merge_sorted(rows: list[tuple[Any, str, str]], descending: bool) -> list[tuple[Any, str, str]]:
    """Rows of several resource types in one order: by sort value (missing last ascending, first descending), then id."""
    present = sorted((r for r in rows if r[0] is not None), key=lambda r: (_orderable(r[0]), r[1]), reverse=descending)
    missing = sorted((r for r in rows if r[0] is None), key=lambda r: r[1])
    return missing + present if descending else present + missing


def _orderable(value: Any) -> tuple[int, Any]:
    """A key that orders values of mixed types without raising (booleans, numbers, then strings)."""
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))
