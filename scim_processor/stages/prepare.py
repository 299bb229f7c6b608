"""The one prepare step: everything a resource goes through before the writer, whichever way it arrived.

A bare resource in a file, an envelope's body (POST, PUT), a PATCHed resource, a Bulk operation,
an HTTP request and ``map``'s generated resources all pass :meth:`Preparer.prepare`, in this order:

1. the size limit (413, RFC 7644 §3.12; the only place it is checked);
2. the IdP dialect (:class:`~scim_processor.operations.dialects.Dialect`: tolerated shapes
   rewritten to RFC form, with warnings). A bare resource (create-or-replace) also keeps the
   shape generation has always accepted, a bare string for a complex attribute with a ``value``
   (Entra's ``"manager": "<id>"``), in every dialect;
3. the resource type (:meth:`~scim_processor.mapping.CompiledSchema.resolve`);
4. generation (normalisation and ``id``, stage 3);
5. the SCIM gate (:class:`~scim_processor.stages.validate.ScimValidator`, stage 4);
6. the Cypher of the compiled schema, each statement checked by the guard.

What follows is the caller's: the identity check
(:func:`~scim_processor.operations.identity.identity_conflicts`) and the writer
(:class:`~scim_processor.stages.apply.GraphWriter`, with its one conflict retry and its one
translation of driver errors).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import CypherRejectedError, InternalError, InvalidSyntaxError, PayloadTooLargeError, ScimError
from ..graph import Statement
from ..mapping import CompiledSchema
from ..operations.dialects import STRICT, Dialect
from ..scim import GroundingContext
from .generate import Generator
from .read import inspect_document
from .validate import ScimValidator

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A resource ready for the identity check and the writer.

    Attributes:
        resource_type: ``User``, ``Group``, ...
        resource: the normalised SCIM JSON, with its ``id`` (secrets never included).
        statements: the guard-checked statements that write it (values in parameters only).
        warnings: what the dialect and generation rewrote, left out or ignored.
    """

    resource_type: str
    resource: dict[str, Any]
    statements: list[Statement]
    warnings: list[str] = field(default_factory=list)


def payload_size(document: Any) -> int:
    """The UTF-8 size in bytes of ``document`` as compact JSON (for a payload not read from a file)."""
    return len(json.dumps(document, default=str).encode("utf-8", "surrogatepass"))


def check_size(document: Any, size: int | None, limit: int) -> None:
    """The one place of the per-payload size limit (413, RFC 7644 §3.12, §3.7.4 ``maxPayloadSize``).

    Args:
        document: the payload (measured as compact JSON when ``size`` is None).
        size: its size in bytes as read, if known.
        limit: the largest size accepted, in bytes (``settings.max_payload_bytes``).

    Raises:
        PayloadTooLargeError: 413 above ``limit``.
    """
    size = payload_size(document) if size is None else size
    if size > limit:
        raise PayloadTooLargeError(f"the payload is {size} bytes; the limit (maxPayloadSize) is {limit} bytes")


class Preparer:
    """Steps 1-6 of the module docstring for one compiled schema, generator, gate and dialect.

    Args:
        compiled: the compiled schema (resource types, Cypher, guard).
        generator: the generation stage.
        validator: the SCIM gate.
        max_payload_bytes: the per-payload limit (413 above it).
        max_depth: the deepest JSON nesting accepted (400 ``invalidSyntax`` above it).
        dialect: the IdP tolerances (default: strict RFC).
    """

    def __init__(
        self,
        compiled: CompiledSchema,
        generator: Generator,
        validator: ScimValidator,
        *,
        max_payload_bytes: int,
        max_depth: int,
        dialect: Dialect = STRICT,
    ) -> None:
        self.compiled = compiled
        self.generator = generator
        self.validator = validator
        self.max_payload_bytes = max_payload_bytes
        self.max_depth = max_depth
        self.dialect = dialect
        # A bare resource (create-or-replace) keeps generation's documented shape in every dialect:
        # a bare string for a complex attribute with a ``value`` (stages/generate.py), as before.
        self._bare_dialect = replace(dialect, bare_reference_strings=True)
        self._contexts: dict[str, GroundingContext] = {}

    def check_size(self, document: Any, size: int | None = None) -> None:
        """:func:`check_size` with this preparer's limit."""
        check_size(document, size, self.max_payload_bytes)

    def context(self, resource_type: str) -> GroundingContext:
        """The grounding context of ``resource_type`` with every extension declared (for PATCH and the dialect)."""
        found = self._contexts.get(resource_type)
        if found is None:
            context = self.compiled.contexts[resource_type]
            found = self._contexts[resource_type] = context.model_copy(update={"declared": tuple(ext.id for ext in context.extensions)})
        return found

    def apply_dialect(self, document: Mapping[str, Any], resource_type: str, warnings: list[str]) -> dict[str, Any]:
        """Step 2 alone: ``document``, a body sent to ``resource_type``'s endpoint, with the dialect's shapes in RFC form.

        :meth:`prepare` runs it; the HTTP service runs it too before scim2-server's own model
        validation of a request body, so that validation sees what the store will.

        Raises:
            scim_processor.errors.ScimError: 400 for a shape the dialect does not tolerate.
        """
        if resource_type not in self.compiled.contexts:
            raise InvalidSyntaxError(f"no resource type {resource_type!r}")
        return self.dialect.prepare_resource(document, self.context(resource_type), warnings)

    def prepare(
        self,
        document: Any,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        size: int | None = None,
    ) -> Prepared:
        """Runs steps 1-6 on one resource; nothing is read from or written to the graph.

        Args:
            document: the SCIM resource as sent (JSON object).
            resource_type: the type the request path names (``/Users`` → ``User``); None for a bare
                resource, whose ``schemas`` tell it.
            resource_id: the id the request path names (PUT, PATCH): it replaces a body ``id``
                (a different one is ignored with a warning, RFC 7644 §3.5.1).
            size: the payload's size in bytes as read, if known (else measured here).

        Returns:
            The :class:`Prepared` resource.

        Raises:
            scim_processor.errors.ScimError: 400 (``invalidSyntax``, ``invalidValue``, ...) from the
                dialect, resolution, generation or the gate; 413 over the size limit; 500
                (:class:`~scim_processor.errors.InternalError`) if the generated Cypher fails the
                guard or the payload breaks the project itself (never a traceback).
        """
        try:
            return self._prepare(document, resource_type, resource_id, size)
        except ScimError:
            raise
        except CypherRejectedError as error:
            raise InternalError(f"the generated Cypher did not pass the guard: {error}") from None
        except (RecursionError, ValueError, TypeError) as error:  # a payload must never sink the run
            log.warning("unexpected %s while preparing a payload: %s", type(error).__name__, error)
            raise InternalError(f"the payload could not be processed: {type(error).__name__}") from None

    def _prepare(self, document: Any, resource_type: str | None, resource_id: str | None, size: int | None) -> Prepared:
        if isinstance(document, (Mapping, list)):
            inspect_document(document, self.max_depth)
        self.check_size(document, size)
        if not isinstance(document, Mapping):
            raise InvalidSyntaxError("a SCIM resource must be a JSON object")
        warnings: list[str] = []
        if resource_type is not None:
            body = self.apply_dialect(document, resource_type, warnings)
            context = self.compiled.resolve(body)
            if context.resource_type.name != resource_type:
                raise InvalidSyntaxError(
                    f"the body is a {context.resource_type.name} (its schemas) but the path names {resource_type}", "schemas"
                )
        else:
            body = dict(document)
            schemas_key = next((key for key in body if isinstance(key, str) and key.lower() == "schemas"), None)
            if schemas_key is not None and isinstance(body[schemas_key], list):
                body[schemas_key] = self.dialect.prepare_schemas(body[schemas_key], warnings)
            context = self.compiled.resolve(body)
            body = self._bare_dialect.prepare_resource(body, self.context(context.resource_type.name), warnings)
        if resource_id is not None:
            for key in [k for k in body if isinstance(k, str) and k.lower() == "id"]:
                if body.pop(key) != resource_id:
                    warnings.append(f"id in the body ignored: the path names {resource_id} (RFC 7644 §3.5.1)")
            body["id"] = resource_id
        generation = self.generator.generate(body, context)
        self.validator.validate(generation.resource, context)
        name = context.resource_type.name
        statements = self.compiled.statements(name, generation.resource)
        for statement in statements:
            self.compiled.guard.require(statement.query, parameters=set(statement.parameters))
        return Prepared(name, generation.resource, statements, [*warnings, *generation.warnings])


__all__ = ["Prepared", "Preparer", "check_size", "payload_size"]
