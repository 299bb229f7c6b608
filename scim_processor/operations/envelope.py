r"""Requests in files: envelopes, PatchOp messages and BulkRequests (RFC 7644 §3.3-§3.7), run against the store.

A payload of a file is one of:

- a bare resource: create-or-replace through the pipeline, as before (re-running a file is idempotent);
- an **envelope** ``{"method": "POST"|"PUT"|"PATCH"|"DELETE", "path": "/Users[/<id>]", "body"|"data": {...},
  "version": "W/\\"…\\""}``: ``POST`` is a strict create (409 if it exists; a client ``id`` is
  ignored unless ``keep_ids``), ``PUT`` replaces and, in files, creates a missing resource with the
  path's id (an upsert: how a migration keeps its ids), ``PATCH`` and ``DELETE`` need the resource;
  ``version`` is a precondition (412 on mismatch, RFC 7644 §3.14);
- a **PatchOp** message (RFC 7644 §3.5.2), applied to the ``target`` path (``process --target /Users/<id>``);
- a **BulkRequest** (RFC 7644 §3.7), planned and resolved by scim2-server's
  :class:`~scim2_server.bulk.BulkPlan` exactly as over HTTP: its operations in order, except that
  a POST runs before the first operation that references its ``bulkId``; ``bulkId:<id>`` (a whole
  value in ``data``, or a segment of ``path``) replaced by the created id; a reference that cannot
  be resolved (a cycle, a failed POST) gets 409; ``failOnErrors`` honoured (the operations not run
  are ``skipped``); 413 above ``max_operations`` operations or the payload size limit.

Every operation gives one result: the fields of :class:`~scim_processor.pipeline.PayloadResult`
plus ``method``, ``path``, ``bulkId`` and ``httpStatus`` (what the operation would get over HTTP:
201, 200, 204, or the error's status). A Bulk operation's ``source`` is ``<file>:<operation number>``.
In a dry run an operation is only checked for form (nothing is read or written).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from scim2_models import BulkOperation, Resource, SCIMException, User
from scim2_server.bulk import BulkPlan, BulkStep

from ..errors import (
    InvalidSyntaxError,
    InvalidValueError,
    NotFoundError,
    NotSupportedError,
    PayloadTooLargeError,
    ScimError,
    scim_error,
)
from ..pipeline import PayloadResult, ResultStatus
from ..scim.context import member
from ..stages.prepare import check_size
from ..stages.read import Payload
from .dialects import STRICT, Dialect
from .patch import PATCH_OP_URN, operations_of
from .store import ResourceStore

if TYPE_CHECKING:
    from ..pipeline import ScimProcessor

BULK_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_MAX_OPERATIONS = 1000  # advertised as ServiceProviderConfig bulk.maxOperations (RFC 7643 §5)
METHODS = ("POST", "PUT", "PATCH", "DELETE")
_SUCCESS = {"POST": 201, "PUT": 200, "PATCH": 200, "DELETE": 204}


class BulkConflictError(ScimError):
    """409: a ``bulkId`` reference that cannot be resolved (circular, or its POST failed), RFC 7644 §3.7.1-§3.7.3."""

    status = 409


@dataclass
class OperationResult(PayloadResult):
    """The result of one operation: a :class:`PayloadResult` plus the request it was.

    Attributes:
        method: ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` (None if it could not be told).
        path: the request path (``/Users/<id>``), bulkIds resolved.
        bulk_id: the Bulk operation's ``bulkId``, if any.
        http_status: the status the operation would get over HTTP (201, 200, 204, 4xx), None if skipped.
    """

    method: str | None = None
    path: str | None = None
    bulk_id: str | None = None
    http_status: int | None = None

    def to_json(self, include_cypher: bool = False) -> dict[str, Any]:
        """:meth:`PayloadResult.to_json <scim_processor.pipeline.PayloadResult.to_json>` plus ``method``, ``path``, ``bulkId`` and ``httpStatus``."""
        return {**super().to_json(include_cypher), "method": self.method, "path": self.path, "bulkId": self.bulk_id, "httpStatus": self.http_status}


def _schemas(document: Mapping[str, Any]) -> list[str]:
    schemas = member(document, "schemas")
    return [s.lower() for s in schemas if isinstance(s, str)] if isinstance(schemas, list) else []


def kind_of(document: Any) -> str:
    """``"envelope"``, ``"patch"``, ``"bulk"`` or ``"resource"`` (anything else: left to the pipeline)."""
    if not isinstance(document, Mapping):
        return "resource"
    if member(document, "method") is not None and member(document, "path") is not None:
        return "envelope"
    schemas = _schemas(document)
    if PATCH_OP_URN.lower() in schemas:
        return "patch"
    if BULK_REQUEST_URN.lower() in schemas:
        return "bulk"
    return "resource"


class OperationRunner:
    """Runs a stream of payloads: bare resources through the pipeline (batched), operations through the store, in order.

    Args:
        processor: the processor.
        dialect: the IdP dialect of the requests.
        target: the path PatchOp messages apply to (``/Users/<id>``).
        keep_ids: keep a client ``id`` in POST bodies (an import from another SCIM server).
        max_operations: Bulk ``maxOperations`` (413 above it).
    """

    def __init__(
        self,
        processor: ScimProcessor,
        dialect: Dialect = STRICT,
        *,
        target: str | None = None,
        keep_ids: bool = False,
        max_operations: int = BULK_MAX_OPERATIONS,
    ) -> None:
        self.processor = processor
        self.store = ResourceStore(processor, dialect)
        self.target = target
        self.keep_ids = keep_ids
        self.max_operations = max_operations

    def run(
        self,
        payloads: Iterable[Payload | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        on_result: Callable[[PayloadResult], None] | None = None,
    ) -> Iterator[PayloadResult]:
        """Results in input order: one per bare resource, one per operation (Bulk: one per operation).

        Raises:
            scim_processor.errors.GraphError: the server failed.
        """
        stream = _Lookahead(
            item if isinstance(item, Payload) else Payload(f"<payload {number}>", item) for number, item in enumerate(payloads, start=1)
        )
        while (payload := stream.peek()) is not None:
            kind = kind_of(payload.document) if payload.error is None else "resource"
            if kind == "resource":
                # One pipeline run per stretch of consecutive resources (one worker pool, streamed);
                # it ends where an operation must be applied after what came before it.
                resources = stream.take_while(_is_resource)
                yield from self.processor.iter_resources(resources, dry_run=dry_run, on_result=on_result, dialect=self.store.dialect)
                continue
            next(stream)
            for result in self._operation(kind, payload, dry_run):
                if on_result:
                    on_result(result)
                yield result

    def _operation(self, kind: str, payload: Payload, dry_run: bool) -> list[OperationResult]:
        document = payload.document
        try:
            check_size(document, payload.size, self.processor.settings.max_payload_bytes)
        except ScimError as error:
            return [OperationResult(payload.source, ResultStatus.REJECTED, error=error, http_status=error.status)]
        if kind == "bulk":
            return self._bulk(payload.source, document, dry_run)
        if kind == "patch":
            if not self.target:
                missing = InvalidSyntaxError(
                    "a PatchOp message needs its target resource: give process --target /Users/<id> (RFC 7644 §3.5.2)"
                )
                return [OperationResult(payload.source, ResultStatus.REJECTED, error=missing, method="PATCH", http_status=400)]
            return [self.execute(payload.source, "PATCH", self.target, document, None, dry_run=dry_run)]
        method = member(document, "method")
        path = member(document, "path")
        body = member(document, "body")
        if body is None:
            body = member(document, "data")
        version = member(document, "version")
        return [self.execute(payload.source, method, path, body, version, dry_run=dry_run)]

    # ------------------------------------------------------------------ one operation
    def resolve_path(self, path: Any) -> tuple[str, str | None]:
        """``/Users`` → ``("User", None)``; ``/Groups/<id>`` → ``("Group", "<id>")`` (also after a base URL).

        Raises:
            InvalidSyntaxError: 400, not a string path. NotFoundError: 404, no resource endpoint in it.
            NotSupportedError: 501 for a path below a resource (``/Users/<id>/x``) or ``.search``.
        """
        if not isinstance(path, str) or not path.strip():
            raise InvalidSyntaxError("'path' must be a request path such as /Users or /Users/<id> (RFC 7644 §3.2)", "path")
        parts = [p for p in path.split("?")[0].split("/") if p]
        endpoints = {ctx.resource_type.endpoint.strip("/").lower(): name for name, ctx in self.store.compiled().contexts.items()}
        for index, part in enumerate(parts):
            name = endpoints.get(part.lower())
            if name is None:
                continue
            rest = parts[index + 1 :]
            if len(rest) > 1 or (rest and rest[0].lower() == ".search"):
                raise NotSupportedError(f"path {path!r}: only /<Resources> and /<Resources>/<id> are supported here", "path")
            return name, rest[0] if rest else None
        raise NotFoundError(f"path {path!r} names no resource endpoint ({', '.join('/' + e for e in endpoints)})")

    def execute(
        self, source: str, method: Any, path: Any, body: Any, version: Any, *, dry_run: bool = False, bulk_id: str | None = None
    ) -> OperationResult:
        """Runs one request against the store and reports it (never raises a SCIM error).

        Returns:
            An accepted result with the stored resource (none for DELETE) and ``httpStatus`` 201 /
            200 / 204, or a rejected one with the SCIM error and its status.
        """
        verb = method.upper() if isinstance(method, str) else None
        result = OperationResult(source, ResultStatus.REJECTED, method=verb, path=path if isinstance(path, str) else None, bulk_id=bulk_id)
        try:
            if verb not in METHODS:
                raise InvalidSyntaxError(f"'method' must be one of {', '.join(METHODS)}, not {method!r} (RFC 7644 §3.7)", "method")
            resource_type, resource_id = self.resolve_path(path)
            result.resource_type = resource_type
            if version is not None and not isinstance(version, str):
                raise InvalidSyntaxError("'version' must be an ETag string such as W/\"…\" (RFC 7644 §3.14)", "version")
            if (resource_id is None) != (verb == "POST"):
                want = "/<Resources>" if verb == "POST" else "/<Resources>/<id>"
                raise InvalidSyntaxError(f"{verb} takes a path {want}, not {path!r} (RFC 7644 §3.3-§3.6)", "path")
            if verb != "DELETE" and not isinstance(body, Mapping):
                raise InvalidSyntaxError(f"{verb} needs a JSON object in 'body' (or 'data')", "body")
            if dry_run:
                if verb == "PATCH":
                    operations_of(body)
                result.status, result.http_status = ResultStatus.ACCEPTED, _SUCCESS[verb]
                result.warnings.append("dry run: checked for form only, nothing read or written")
                return result
            resource, status = self._apply(verb, resource_type, resource_id, body, version)
        except ScimError as error:
            result.error, result.http_status = error, error.status
            return result
        result.status, result.resource, result.http_status = ResultStatus.ACCEPTED, resource, status
        result.cypher, result.warnings = list(self.store.statements), list(self.store.warnings)
        return result

    def _apply(
        self, verb: str, resource_type: str, resource_id: str | None, body: Any, version: str | None
    ) -> tuple[dict[str, Any] | None, int]:
        store = self.store
        if verb == "POST":
            return store.create(resource_type, body, keep_id=self.keep_ids), 201
        if resource_id is None:  # excluded by execute(): only POST takes a collection path
            raise InvalidSyntaxError(f"{verb} needs /<Resources>/<id>", "path")
        if verb == "PUT":
            existed = store.exists(resource_type, resource_id)
            return store.replace(resource_type, resource_id, body, expected_version=version, upsert=True), 200 if existed else 201
        if verb == "PATCH":
            return store.patch(resource_type, resource_id, body, expected_version=version), 200
        store.delete(resource_type, resource_id, expected_version=version)
        return None, 204

    # ------------------------------------------------------------------ Bulk
    def _bulk(self, source: str, document: Mapping[str, Any], dry_run: bool) -> list[OperationResult]:
        operations = member(document, "Operations")
        fail_on_errors = member(document, "failOnErrors")
        try:
            if not isinstance(operations, list) or not all(isinstance(op, Mapping) for op in operations):
                raise InvalidSyntaxError("'Operations' of a BulkRequest must be an array of objects (RFC 7644 §3.7)", "Operations")
            if len(operations) > self.max_operations:
                raise PayloadTooLargeError(
                    f"the BulkRequest has {len(operations)} operations; maxOperations is {self.max_operations} (RFC 7644 §3.7.4)"
                )
            if fail_on_errors is not None and (isinstance(fail_on_errors, bool) or not isinstance(fail_on_errors, int) or fail_on_errors < 1):
                raise InvalidValueError("'failOnErrors' must be a positive integer (RFC 7644 §3.7)", "failOnErrors")
        except ScimError as error:
            return [OperationResult(source, ResultStatus.REJECTED, error=error, http_status=error.status)]
        plan = BulkPlan([_bulk_operation(op) for op in operations], fail_on_errors)
        results: dict[int, OperationResult] = {}
        for step in plan:  # scim2-server's order: a POST before the first operation that references its bulkId
            result = self._bulk_step(f"{source}:{step.index + 1}", plan, step, dry_run)
            results[step.index] = result
            plan.record(step, {"status": result.http_status or 500, "bulk_id": result.bulk_id}, _created(result))
        return [
            results[index] if index in results else self._skipped(f"{source}:{index + 1}", op)  # failOnErrors reached
            for index, op in enumerate(operations)
        ]

    def _skipped(self, source: str, op: Mapping[str, Any]) -> OperationResult:
        """An operation not run because ``failOnErrors`` was reached (RFC 7644 §3.7.3)."""
        bulk_id = member(op, "bulkId")
        path = _text(member(op, "path"))
        result = OperationResult(source, ResultStatus.SKIPPED, method=_text(member(op, "method")), path=path,
                                 bulk_id=bulk_id if isinstance(bulk_id, str) else None)  # fmt: skip
        with contextlib.suppress(ScimError):
            result.resource_type = self.resolve_path(path)[0]
        result.warnings.append("not run: failOnErrors reached (RFC 7644 §3.7.3)")
        return result

    def _bulk_step(self, source: str, plan: BulkPlan, step: BulkStep, dry_run: bool) -> OperationResult:
        """One Bulk operation: its ``bulkId:`` references resolved by the plan (RFC 7644 §3.7.2), then run as a request."""
        operation = plan.operation(step)
        method, bulk_id = _text(operation.method), _text(operation.bulk_id)
        try:
            if method is not None and method.upper() == "POST" and not bulk_id:
                raise InvalidSyntaxError("a Bulk POST operation needs a 'bulkId' (RFC 7644 §3.7)", "bulkId")
            resolved = plan.resolve(step)
        except ScimError as error:
            return OperationResult(source, ResultStatus.REJECTED, error=error, method=method, path=_text(operation.path), bulk_id=bulk_id,
                                   http_status=error.status)  # fmt: skip
        except SCIMException as error:  # scim2-server's: 409 unresolvable reference (a cycle, a failed POST), 400 repeated bulkId
            refused = _bulk_error(error)
            return OperationResult(source, ResultStatus.REJECTED, error=refused, method=method, path=_text(operation.path), bulk_id=bulk_id,
                                   http_status=refused.status)  # fmt: skip
        return self.execute(source, method, resolved.path, resolved.data, resolved.version, dry_run=dry_run, bulk_id=bulk_id)


def _bulk_operation(op: Mapping[str, Any]) -> BulkOperation[Resource[Any]]:
    """One operation of a BulkRequest as scim2-server's plan reads it; ``data`` stays the JSON the client sent (the store checks it)."""
    method, path = member(op, "method"), member(op, "path")
    verb: Any = method.upper() if isinstance(method, str) else method  # execute() refuses a bad one, naming it
    model = BulkOperation[User[Any]].model_construct(  # the type parameter only: data is not validated here
        method=verb,
        bulk_id=member(op, "bulkId"),
        path=path if isinstance(path, str) else None,
        data=member(op, "data"),
        version=member(op, "version"),
    )
    return cast(BulkOperation[Resource[Any]], model)


def _created(result: OperationResult) -> Resource[Any] | None:
    """What a Bulk POST created, for the plan's ``bulkId:`` substitution (an id stand-in in a dry run)."""
    if not result.accepted or result.method != "POST":
        return None
    created = result.resource["id"] if result.resource else f"<dry run {result.bulk_id}>"
    return Resource.model_construct(id=created)


def _bulk_error(error: SCIMException) -> ScimError:
    detail = f"{error.detail or error} (RFC 7644 §3.7.2)"
    if error.status == 409:
        return BulkConflictError(detail)
    return scim_error(error.status, error.scim_type or None, detail)


def _is_resource(payload: Payload) -> bool:
    return payload.error is not None or kind_of(payload.document) == "resource"


class _Lookahead(Iterator[Payload]):
    """An iterator of payloads that can show its next item without taking it."""

    def __init__(self, items: Iterable[Payload]):
        self._items = iter(items)
        self._next: Payload | None = None

    def peek(self) -> Payload | None:
        """The next payload, left in place; None at the end."""
        if self._next is None:
            self._next = next(self._items, None)
        return self._next

    def __next__(self) -> Payload:
        item = self.peek()
        if item is None:
            raise StopIteration
        self._next = None
        return item

    def take_while(self, keep: Callable[[Payload], bool]) -> Iterator[Payload]:
        """Payloads while ``keep`` holds; the first one that fails it stays next."""
        while (item := self.peek()) is not None and keep(item):
            yield next(self)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["BULK_MAX_OPERATIONS", "BULK_REQUEST_URN", "OperationResult", "OperationRunner", "kind_of"]
