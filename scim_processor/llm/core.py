"""The one place the LLM step touches the core: every call into ``scim_processor``'s pipeline is here.

The core is being restructured; keeping these calls few and in one module lets them be
re-pointed at merge time. The LLM modules import core types and functions from here only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..config import Settings
from ..errors import CypherRejectedError, GraphError, ScimError, ScimProcessorError
from ..graph import GraphSchema
from ..guard import GuardReport
from ..pipeline import PayloadResult, ScimProcessor
from ..scim import AttributeDefinition, AttributeType, GroundingContext, Mutability, Returned, SchemaDefinition
from ..stages.read import Payload

__all__ = [
    "AttributeDefinition", "AttributeType", "CypherRejectedError", "GraphError", "GraphSchema", "GroundingContext",
    "GuardReport", "Mutability", "PayloadResult", "Returned", "SchemaDefinition", "ScimError", "ScimProcessor",
    "ScimProcessorError", "Settings", "apply_resources", "check_read_only", "contexts", "dry_run", "graph_schema",
    "open_processor", "read", "run_read_only",
]  # fmt: skip


def open_processor(settings: Settings | None = None) -> ScimProcessor:
    """A processor on the configured graph (embedded server when ``NEO4J_URI`` is unset).

    Raises:
        GraphError: the server cannot be started or reached.
    """
    return ScimProcessor.open(settings or Settings())


def contexts(processor: ScimProcessor) -> list[GroundingContext]:
    """Every resource type's grounding context, read from the schema graph (bundled schemas loaded first on an empty graph)."""
    return processor.contexts()


def dry_run(processor: ScimProcessor, document: Mapping[str, Any], source: str) -> PayloadResult:
    """The SCIM gate + deterministic Cypher + guard on one resource, nothing written."""
    return processor.process_payload(document, source, dry_run=True)


def apply_resources(processor: ScimProcessor, documents: Sequence[tuple[str, Mapping[str, Any]]]) -> list[PayloadResult]:
    """Writes ``(source, resource)`` pairs exactly as ``process`` does; one result per pair, in order."""
    return processor.process([Payload(source, dict(document)) for source, document in documents], dry_run=False)


def graph_schema(processor: ScimProcessor) -> GraphSchema:
    """The graph schema derived from the loaded SCIM schemas (plus the schema graph's own labels)."""
    return processor.graph_schema()


def check_read_only(processor: ScimProcessor, query: str, parameters: Mapping[str, Any]) -> GuardReport:
    """The guard's report on ``query`` in read-only mode."""
    return processor.check_cypher(query, read_only=True, parameters=dict(parameters))


def run_read_only(processor: ScimProcessor, query: str, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Runs a query that passed the guard, again through the guard, in a READ transaction.

    Raises:
        CypherRejectedError: the guard rejected it.
        GraphError: the server refused or failed.
    """
    return processor.run_cypher(query, dict(parameters))


def read(processor: ScimProcessor, query: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Runs one of the LLM step's own fixed retrieval queries (``cypher/llm_*.cypher``) in a READ transaction."""
    return processor.connection.read(query, dict(parameters or {}))
