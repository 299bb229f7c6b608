"""Stage 2, retrieval (graph RAG): the grounding context of a payload, from the schema graph.

A :class:`Retriever` holds the current :class:`~scim_processor.mapping.CompiledSchema` and
resolves each payload to its resource type's grounding context (core schema, extensions, every
attribute and characteristic). The :class:`GraphRetriever` reads the schema set out of the schema
graph with Cypher (``cypher/retrieve_catalog.cypher``, ``cypher/retrieve_schemas.cypher``): one
query for the catalog of resource types and schema versions, one more only when a version
changed. The :class:`FileRetriever` reads ``schemas/`` files instead (dry runs on an empty graph,
tests without a server).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InternalError
from ..graph import GraphConnection
from ..graph.schema_store import read_catalog, read_schema_set
from ..mapping import CompiledSchema
from ..scim import GroundingContext, read_schema_dir


class Retriever(ABC):
    """Finds grounding contexts. Subclasses implement :meth:`_fetch`."""

    def __init__(self) -> None:
        self._compiled: CompiledSchema | None = None
        self._stale = True

    def refresh(self) -> None:
        """Makes the next call look at the source again (schemas may have been loaded since)."""
        self._stale = True

    def compiled(self) -> CompiledSchema:
        """The compiled schema of the schemas the source holds now.

        Raises:
            InternalError: 500 if the source holds no SCIM schemas.
        """
        if self._stale or self._compiled is None:
            self._compiled = self._fetch(self._compiled)
            self._stale = False
        if self._compiled is None:
            raise InternalError("no SCIM schemas are loaded in the graph; run 'scim-processor schemas load'", "schemas")
        return self._compiled

    def loaded(self) -> bool:
        """True if the source holds at least one resource type."""
        try:
            return bool(self.compiled().contexts)
        except InternalError:
            return False

    def retrieve(self, payload: Mapping[str, Any]) -> GroundingContext:
        """The grounding context of ``payload`` (see :meth:`CompiledSchema.resolve` for the rule and errors)."""
        return self.compiled().resolve(payload)

    @abstractmethod
    def _fetch(self, current: CompiledSchema | None) -> CompiledSchema | None:
        """The compiled schema of the source now (``current`` may be returned if nothing changed), or None if empty."""


class FileRetriever(Retriever):
    """Reads the schema set from a directory of schema and resource-type JSON files.

    Args:
        directory: a ``schemas/`` directory (see :func:`scim_processor.scim.read_schema_dir`).
    """

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = directory

    def _fetch(self, current: CompiledSchema | None) -> CompiledSchema | None:
        return current or CompiledSchema.compile(read_schema_dir(self.directory))


class GraphRetriever(Retriever):
    """Reads the schema set from the schema graph.

    Args:
        connection: the graph holding the schema graph.
    """

    def __init__(self, connection: GraphConnection):
        super().__init__()
        self.connection = connection
        self._catalog_key: str | None = None

    def _fetch(self, current: CompiledSchema | None) -> CompiledSchema | None:
        catalog = read_catalog(self.connection)
        if not catalog:
            self._catalog_key = None
            return None
        key = json.dumps(catalog, sort_keys=True, default=str)
        if current is not None and key == self._catalog_key:
            return current
        self._catalog_key = key
        return CompiledSchema.compile(read_schema_set(self.connection, catalog))
