"""scim-processor: SCIM 2.0 payloads → a schema-checked identity graph in Neo4j.

The public API is what ``__all__`` names:

- :class:`ScimProcessor` (the pipeline: read → retrieve → generate → validate → apply) and
  :class:`ResourceStore` (SCIM operations on the graph: create, replace, PATCH, delete, get);
  :class:`Settings` configures them;
- the results: :class:`PayloadResult`, :class:`OperationResult` and their :class:`ResultStatus`;
- the Cypher gate: :class:`CypherGuard`, checking against a :class:`GraphSchema`, reporting
  :class:`ProblemCode` s;
- the errors: :class:`ScimProcessorError` and its subclasses, among them :class:`ScimError`
  (RFC 7644 §3.12) with one subclass per ``scimType``;
- the LLM entry points :class:`Mapper` and :class:`AskChain` (imported on first use: LangChain
  takes about a second to import).

Everything else (stages, mapping, the compiled schema, statements) stays importable from its own
module, without a stability promise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Settings
from .errors import (
    CypherRejectedError,
    GraphError,
    InternalError,
    InvalidFilterError,
    InvalidPathError,
    InvalidSyntaxError,
    InvalidValueError,
    InvalidVersionError,
    MutabilityError,
    NoTargetError,
    NotFoundError,
    NotSupportedError,
    PayloadTooLargeError,
    PreconditionFailedError,
    SchemaDefinitionError,
    ScimError,
    ScimProcessorError,
    SettingsError,
    TooManyError,
    UniquenessError,
    UsageError,
)
from .graph import GraphSchema
from .guard import CypherGuard, ProblemCode
from .operations.envelope import OperationResult
from .operations.store import ResourceStore
from .pipeline import PayloadResult, ResultStatus, ScimProcessor

if TYPE_CHECKING:
    from .llm.asker import AskChain
    from .llm.mapper import Mapper

_LAZY = {"AskChain": "scim_processor.llm.asker", "Mapper": "scim_processor.llm.mapper"}


def __getattr__(name: str) -> Any:
    """The LLM entry points, imported on first access (PEP 562)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'scim_processor' has no attribute {name!r}")


__all__ = [
    "AskChain", "CypherGuard", "CypherRejectedError", "GraphError", "GraphSchema", "InternalError", "InvalidFilterError",
    "InvalidPathError", "InvalidSyntaxError", "InvalidValueError", "InvalidVersionError", "Mapper", "MutabilityError",
    "NoTargetError", "NotFoundError", "NotSupportedError", "OperationResult", "PayloadResult", "PayloadTooLargeError",
    "PreconditionFailedError", "ProblemCode", "ResourceStore", "ResultStatus", "SchemaDefinitionError", "ScimError",
    "ScimProcessor", "ScimProcessorError", "Settings", "SettingsError", "TooManyError", "UniquenessError", "UsageError",
]  # fmt: skip
