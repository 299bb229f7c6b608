r"""Requests in files: envelopes, PatchOp messages and BulkRequests (RFC 7644 §3.3-§3.7), run against the store.

A payload of a file is one of:

- a bare resource: create-or-replace through the pipeline, as before (re-running a file is idempotent);
- an **envelope** ``{"method": "POST"|"PUT"|"PATCH"|"DELETE", "path": "/Users[/<id>]", "body"|"data": {...},
  "version": "W/\\"…\\""}``: ``POST`` is a strict create (409 if it exists; a client ``id`` is
  ignored unless ``keep_ids``), ``PUT`` replaces and, in files, creates a missing resource with the
  path's id (an upsert: how a migration keeps its ids), ``PATCH`` and ``DELETE`` need the resource;
  ``version`` is a precondition (412 on mismatch, RFC 7644 §3.14);
- a **PatchOp** message (RFC 7644 §3.5.2), applied to the ``target`` path (``process --target /Users/<id>``);
- a **BulkRequest** (RFC 7644 §3.7): its operations in order (an operation whose ``bulkId:``
  reference is not resolved yet waits for the operation that creates it; one that never resolves,
  as in a cycle, gets 409), ``bulkId:<id>`` replaced in ``data`` and ``path`` by the created id,
  ``failOnErrors`` honoured (the remaining operations are ``skipped``), 413 above
  ``max_operations`` operations or the payload size limit.

Every operation gives one result: the fields of :class:`~scim_processor.pipeline.PayloadResult`
plus ``method``, ``path``, ``bulkId`` and ``httpStatus`` (what the operation would get over HTTP:
201, 200, 204, or the error's status). A Bulk operation's ``source`` is ``<file>:<operation number>``.
In a dry run an operation is only checked for form (nothing is read or written).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import (
    InvalidSyntaxError,
    InvalidValueError,
    NotFoundError,
    NotSupportedError,
    PayloadTooLargeError,
    ScimError,
)
from ..pipeline import PayloadResult
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

    def to_json(self) -> dict[str, Any]:
        """Today's results-file object plus ``method``, ``path``, ``bulkId`` and ``httpStatus``."""
        return {**super().to_json(), "method": self.method, "path": self.path, "bulkId": self.bulk_id, "httpStatus": self.http_status}


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
            return [OperationResult(payload.source, "rejected", error=error, http_status=error.status)]
        if kind == "bulk":
            return self._bulk(payload.source, document, dry_run)
        if kind == "patch":
            if not self.target:
                missing = InvalidSyntaxError(
                    "a PatchOp message needs its target resource: give process --target /Users/<id> (RFC 7644 §3.5.2)"
                )
                return [OperationResult(payload.source, "rejected", error=missing, method="PATCH", http_status=400)]
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
        result = OperationResult(source, "rejected", method=verb, path=path if isinstance(path, str) else None, bulk_id=bulk_id)
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
                result.status, result.http_status = "accepted", _SUCCESS[verb]
                result.warnings.append("dry run: checked for form only, nothing read or written")
                return result
            resource, status = self._apply(verb, resource_type, resource_id, body, version)
        except ScimError as error:
            result.error, result.http_status = error, error.status
            return result
        result.status, result.resource, result.http_status = "accepted", resource, status
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
            return [OperationResult(source, "rejected", error=error, http_status=error.status)]
        results: dict[int, OperationResult] = {}
        created: dict[str, str] = {}
        waiting = list(range(len(operations)))
        errors = 0
        progressed = True
        while waiting and progressed:
            progressed = False
            for index in list(waiting):
                op = operations[index]
                refs = _op_refs(op)
                if refs - set(created) and any(_defines(operations[i]) in refs for i in waiting if i != index):
                    continue  # waits for the operation that creates what it references
                waiting.remove(index)
                progressed = True
                results[index] = self._bulk_operation(f"{source}:{index + 1}", op, created, dry_run)
                if not results[index].accepted:
                    errors += 1
                if fail_on_errors is not None and errors >= fail_on_errors:
                    for rest in waiting:
                        results[rest] = self._skipped(f"{source}:{rest + 1}", operations[rest])
                    waiting = []
                    break
        for index in waiting:  # a cycle: none of them can be resolved
            op = operations[index]
            bulk_id = member(op, "bulkId")
            cycle = BulkConflictError(
                f"bulkId references {sorted(_op_refs(op))} cannot be resolved: a circular reference (RFC 7644 §3.7.1)"
            )
            results[index] = OperationResult(
                f"{source}:{index + 1}", "rejected", error=cycle, method=_text(member(op, "method")),
                path=_text(member(op, "path")), bulk_id=bulk_id if isinstance(bulk_id, str) else None, http_status=409,
            )  # fmt: skip
        return [results[i] for i in range(len(operations))]

    def _skipped(self, source: str, op: Mapping[str, Any]) -> OperationResult:
        """An operation not run because ``failOnErrors`` was reached (RFC 7644 §3.7.3)."""
        bulk_id = member(op, "bulkId")
        path = _text(member(op, "path"))
        result = OperationResult(source, "skipped", method=_text(member(op, "method")), path=path,
                                 bulk_id=bulk_id if isinstance(bulk_id, str) else None)  # fmt: skip
        with contextlib.suppress(ScimError):
            result.resource_type = self.resolve_path(path)[0]
        result.warnings.append("not run: failOnErrors reached (RFC 7644 §3.7.3)")
        return result

    def _bulk_operation(self, source: str, op: Mapping[str, Any], created: dict[str, str], dry_run: bool) -> OperationResult:
        method, path, bulk_id = member(op, "method"), member(op, "path"), member(op, "bulkId")
        data, version = member(op, "data"), member(op, "version")
        bulk_id = bulk_id if isinstance(bulk_id, str) else None
        try:
            if isinstance(method, str) and method.upper() == "POST" and not bulk_id:
                raise InvalidSyntaxError("a Bulk POST operation needs a 'bulkId' (RFC 7644 §3.7)", "bulkId")
            path = _resolve_refs(path, created)
            data = _resolve_refs(data, created)
        except ScimError as error:
            return OperationResult(source, "rejected", error=error, method=_text(method), path=_text(path), bulk_id=bulk_id,
                                   http_status=error.status)  # fmt: skip
        result = self.execute(source, method, path, data, version, dry_run=dry_run, bulk_id=bulk_id)
        if result.accepted and bulk_id and result.method == "POST":
            created[bulk_id] = result.resource["id"] if result.resource else f"<dry run {bulk_id}>"
        return result


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


def _bulk_refs(value: Any) -> set[str]:
    """The bulkIds that ``bulkId:<id>`` strings anywhere in ``value`` refer to."""
    if isinstance(value, str):
        return {value.split("bulkId:", 1)[1].split("/")[0]} if "bulkId:" in value else set()
    if isinstance(value, Mapping):
        return set().union(set(), *(_bulk_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_bulk_refs(item) for item in value))
    return set()


def _op_refs(op: Mapping[str, Any]) -> set[str]:
    """The bulkIds a Bulk operation's ``path`` and ``data`` refer to."""
    return _bulk_refs(member(op, "path")) | _bulk_refs(member(op, "data"))


def _defines(op: Mapping[str, Any]) -> str | None:
    bulk_id = member(op, "bulkId")
    method = member(op, "method")
    return bulk_id if isinstance(bulk_id, str) and isinstance(method, str) and method.upper() == "POST" else None


def _resolve_refs(value: Any, created: Mapping[str, str]) -> Any:
    """``value`` with every ``bulkId:<id>`` replaced by the id the POST with that bulkId created (RFC 7644 §3.7.2).

    Raises:
        BulkConflictError: 409 when a referenced bulkId created no resource (it failed, or does not exist).
    """
    if isinstance(value, str) and "bulkId:" in value:
        head, _, tail = value.partition("bulkId:")
        ref, slash, rest = tail.partition("/")
        if ref not in created:
            raise BulkConflictError(f"bulkId:{ref} names no resource created in this request (RFC 7644 §3.7.2)")
        return head + created[ref] + slash + rest
    if isinstance(value, Mapping):
        return {key: _resolve_refs(item, created) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(item, created) for item in value]
    return value


__all__ = ["BULK_MAX_OPERATIONS", "BULK_REQUEST_URN", "OperationResult", "OperationRunner", "kind_of"]
