"""scim-processor: SCIM 2.0 payloads → a schema-checked identity graph in Neo4j.

The pipeline, one package per concern: :mod:`~scim_processor.scim` (RFC 7643 definitions and
grounding contexts), :mod:`~scim_processor.mapping` (the SCIM → graph rule, the Cypher builders
and the compiled schema), :mod:`~scim_processor.stages` (read, retrieve, generate, validate,
apply), :mod:`~scim_processor.guard` (the Cypher gate) and :mod:`~scim_processor.graph`
(connection, embedded server, schema graph); :class:`ScimProcessor` ties them together.
"""

from .config import Settings
from .errors import (
    CypherRejectedError,
    GraphError,
    SchemaDefinitionError,
    ScimError,
    ScimProcessorError,
    SettingsError,
)
from .graph import GraphSchema, Statement
from .guard import CypherGuard, GuardReport, Problem
from .mapping import CompiledSchema
from .pipeline import PayloadResult, ScimProcessor
from .scim import GroundingContext
from .stages.generate import DeterministicGenerator, Generation, Generator
from .stages.read import Payload
from .stages.retrieve import FileRetriever, GraphRetriever, Retriever

__all__ = [
    "CompiledSchema", "CypherGuard", "CypherRejectedError", "DeterministicGenerator", "FileRetriever", "Generation",
    "Generator", "GraphError", "GraphRetriever", "GraphSchema", "GroundingContext", "GuardReport", "Payload",
    "PayloadResult", "Problem", "Retriever", "SchemaDefinitionError", "ScimError", "ScimProcessor",
    "ScimProcessorError", "Settings", "SettingsError", "Statement",
]  # fmt: skip
