"""scim-processor: SCIM 2.0 payloads → a schema-checked identity graph in Neo4j.

The pipeline, one module per stage: :mod:`~scim_processor.reader` (read),
:mod:`~scim_processor.retrieval` (retrieve the grounding context from the schema graph),
:mod:`~scim_processor.generation` (normalised SCIM JSON + Cypher), :mod:`~scim_processor.validation`
and :mod:`~scim_processor.guard` (the gates), :mod:`~scim_processor.apply` (write).
"""

from .config import Settings
from .errors import CypherRejectedError, GraphError, SchemaDefinitionError, ScimError, ScimProcessorError
from .generation import DeterministicGenerator, Generation, Generator, Statement
from .graph_schema import GraphSchema
from .guard import CypherGuard, GuardReport, Problem
from .pipeline import PayloadResult, ScimProcessor
from .reader import Payload
from .retrieval import GraphRetriever, GroundingContext, Retriever

__all__ = [
    "CypherGuard", "CypherRejectedError", "DeterministicGenerator", "Generation", "Generator", "GraphError",
    "GraphRetriever", "GraphSchema", "GroundingContext", "GuardReport", "Payload", "PayloadResult", "Problem",
    "Retriever", "SchemaDefinitionError", "ScimError", "ScimProcessor", "ScimProcessorError", "Settings", "Statement",
]  # fmt: skip
