"""The SCIM 2.0 service provider (RFC 7644) over the identity graph, as a WSGI application on scim2-server.

scim2-server's :class:`~scim2_server.service.ScimService` holds the protocol (routing,
validation, ETags, Bulk planning, responses); this module adapts it:

- **discovery** (RFC 7644 §4): ``/Schemas`` and ``/ResourceTypes`` are the schema graph's
  (the compiled schema the retrieval stage reads), ``/ServiceProviderConfig`` advertises exactly
  what is served: PATCH, Bulk (limits), filter (``maxResults``), sort, ETag, bearer token; no
  changePassword, no cursors. ``/Me`` is 501 (RFC 7644 §3.11: no subject is bound to a token).
- **request bodies**: a POST or PUT body is decoded once, normalised by the IdP dialect
  (``--dialect``), recorded for the storage (so the store's gate sees what the client sent), then
  validated by scim2-models.
- **PATCH**: the PatchOp body goes to the store's ``patch`` (which changes only the member edges
  a member add/remove names, never a whole large group); it answers 200 with the resource
  (RFC 7644 §3.5.2 allows 204; IdPs and scim-sanity expect 200).
- **auth**: every endpoint needs the bearer token, ``/ServiceProviderConfig`` included (401 with
  a SCIM error body and ``WWW-Authenticate: Bearer``).

The application is mounted under ``/scim``, so the base URL is ``http://HOST:PORT/scim/v2``.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError
from scim2_models import (
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    NotImplementedException,
    Patch,
    PatchOp,
    Resource,
    ResourceType,
    ResponseParameters,
    Schema,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.applications.wsgi import WSGIApplication, send_response
from scim2_server.conditions import Conditions
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService, scim_exception_of
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME

from ..errors import NotFoundError, UsageError
from ..mapping import CompiledSchema
from ..operations.envelope import BULK_MAX_OPERATIONS
from ..pipeline import ScimProcessor
from ..scim.schema import RESOURCE_TYPE_URN
from .auth import ApiToken
from .search import GraphSearch
from .storage import RAW_BODY, RESPONSE_PARAMETERS, GraphStorage, ResourceStore

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from _typeshed.wsgi import WSGIApplication as WSGICallable

log = logging.getLogger("scim_processor.http")

MOUNT = "/scim"
MAX_RESULTS = 200
Prepare = Callable[[dict[str, Any], str], dict[str, Any]]
"""A dialect's normalisation of a resource body: ``(body, resource type name) → body``."""


def service_provider_config(max_payload_bytes: int) -> ServiceProviderConfig:
    """What this endpoint supports (RFC 7643 §5), and nothing more.

    Args:
        max_payload_bytes: the Bulk ``maxPayloadSize`` (the per-payload limit, 413 above it).
    """
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=True, max_operations=BULK_MAX_OPERATIONS, max_payload_size=max_payload_bytes),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[BEARER_TOKEN_SCHEME],
    )


def build_provider(compiled: CompiledSchema, max_payload_bytes: int, policy: ScimPolicy | None = None) -> ScimProvider:
    """The scim2-models provider of the schema graph's schemas and resource types (RFC 7643 §6, §7).

    Args:
        compiled: the compiled schema (read from the schema graph).
        max_payload_bytes: the Bulk ``maxPayloadSize``.
        policy: the dialect's scim2-models tolerances for PATCH messages (None: the RFC as written).
    """
    schema_set = compiled.schema_set
    schemas = [Schema.model_validate(schema.to_json()) for schema in schema_set.schemas.values()]
    resource_types = [
        ResourceType.model_validate(
            {
                "schemas": [RESOURCE_TYPE_URN],
                "id": rt.id or rt.name,
                "name": rt.name,
                "endpoint": rt.endpoint,
                "description": rt.description,
                "schema": rt.schema_,
                "schemaExtensions": [{"schema": ext.schema_, "required": ext.required} for ext in rt.schema_extensions],
            }
        )
        for rt in schema_set.resource_types.values()
    ]
    return ScimProvider.from_discovery(schemas, resource_types, config=service_provider_config(max_payload_bytes), policy=policy)


class GraphScimService(ScimService):
    """scim2-server's protocol with the dialect in body reading and PATCH answering 200.

    Args:
        provider: from :func:`build_provider`.
        prepare: the dialect's resource normalisation, or None (strict).
    """

    def __init__(self, provider: ScimProvider, prepare: Prepare | None = None):
        super().__init__(provider)
        self.prepare = prepare

    def _read_resource(self, resource_type: ResourceType, body: bytes, content_type: str | None, scim_ctx: Context) -> Resource[Any]:
        document = self.decode_body(body, content_type)
        if isinstance(document, dict) and self.prepare is not None:
            document = self.prepare(document, str(resource_type.name))
        RAW_BODY.set(document if isinstance(document, dict) else None)
        try:
            return self.get_model(resource_type).model_validate(document, scim_ctx=scim_ctx)
        except ValidationError as exception:
            raise scim_exception_of(exception) from exception

    def read_creation(self, resource_type: ResourceType, body: bytes, content_type: str | None) -> Resource[Any]:
        """A POST body: decoded, dialect-normalised, recorded for the store, validated (RFC 7644 §3.3)."""
        return self._read_resource(resource_type, body, content_type, Context.RESOURCE_CREATION_REQUEST)

    def read_replacement(self, resource_type: ResourceType, body: bytes, content_type: str | None) -> Resource[Any]:
        """A PUT body, as :meth:`read_creation` (RFC 7644 §3.5.1)."""
        return self._read_resource(resource_type, body, content_type, Context.RESOURCE_REPLACEMENT_REQUEST)

    def read_patch(self, resource_type: ResourceType, body: bytes, content_type: str | None) -> PatchOp[Any]:
        """A PatchOp body: validated by scim2-models, and recorded as sent for the store (RFC 7644 §3.5.2)."""
        patch_op = super().read_patch(resource_type, body, content_type)
        document = self.decode_body(body, content_type)
        RAW_BODY.set(document if isinstance(document, dict) else None)
        return patch_op

    def read_response_parameters(self, resource_type: ResourceType, query: Mapping[str, str]) -> ResponseParameters[Any]:
        """``attributes`` / ``excludedAttributes`` (RFC 7644 §3.9), recorded so a PUT or PATCH reads the resource back with them."""
        parameters = super().read_response_parameters(resource_type, query)
        RESPONSE_PARAMETERS.set(parameters)
        return parameters

    def patch_response(self, base_url: str, resource: Resource[Any], response_parameters: ResponseParameters[Any]) -> ScimResponse:
        """200 with the resource (RFC 7644 §3.5.2), whether or not attributes were requested."""
        return self.resource_response(self.publish(base_url, resource), Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters)


class GraphScimHandler(ScimHandler):
    """scim2-server's handler with PATCH delegated to the store (member edits touch only those edges); no precondition reads members."""

    storage: GraphStorage

    def patch_resource(self, resource_type: ResourceType, resource_id: str, patch_op: PatchOp[Any], conditions: Conditions) -> Resource[Any]:
        """Applies the PATCH through the store; ``If-Match`` (or a Bulk ``version``) is its expected version (412)."""
        body = RAW_BODY.get()
        if body is None:  # a Bulk operation: its validated PatchOp
            body = patch_op.model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        expected = conditions.if_match.strip() if conditions.if_match and conditions.if_match.strip() != "*" else None
        if conditions.if_match and conditions.if_match.strip() == "*":
            self.storage.head(resource_type, resource_id)  # If-Match: * needs the resource to exist (RFC 9110 §13.1.1)
        return self.storage.patch(resource_type, resource_id, body, expected_version=expected)

    def delete_resource(self, resource_type: ResourceType, resource_id: str, conditions: Conditions) -> None:
        """scim2-server's DELETE, its preconditions checked on :meth:`GraphStorage.head` (a large group's members are not read)."""
        current = self.storage.head(resource_type, resource_id)
        self.service.check_deletion(current, conditions)
        version = current.meta.version if current.meta is not None else None
        self.storage.delete(resource_type, resource_id, expected_version=version)

    def bulk(self, request: ScimRequest) -> ScimResponse:
        """Bulk (RFC 7644 §3.7): each operation's body comes from the validated Bulk message, not a recorded one."""
        RAW_BODY.set(None)
        RESPONSE_PARAMETERS.set(None)
        return super().bulk(request)

    def run_bulk_step(self, request: ScimRequest, plan: Any, step: Any) -> tuple[dict[str, Any], Resource[Any] | None]:
        """One Bulk operation, with no recorded body."""
        RAW_BODY.set(None)
        return super().run_bulk_step(request, plan, step)


class GraphScimApplication(WSGIApplication):
    """The WSGI application: scim2-server's, with the bearer token and the graph storage.

    Args:
        storage: the graph storage.
        provider: from :func:`build_provider`.
        token: the expected bearer token.
        prepare: the dialect's resource normalisation, or None.
    """

    def __init__(self, storage: GraphStorage, provider: ScimProvider, token: ApiToken, prepare: Prepare | None = None):
        super().__init__(storage, provider, GraphScimService(provider, prepare))
        self.handler = GraphScimHandler(self.service, storage)
        self.token = token

    def needs_auth(self, request: ScimRequest) -> bool:
        """Every endpoint, ``/ServiceProviderConfig`` included (issue 12: the token guards the whole service)."""
        return True

    def check_auth(self, request: ScimRequest) -> None:
        """The bearer token (401 without it, constant-time comparison)."""
        self.token.check(request.header("Authorization"))

    def serve(self, request: ScimRequest) -> ScimResponse:
        """Serves one request; the recorded body never outlives it."""
        token, parameters = RAW_BODY.set(None), RESPONSE_PARAMETERS.set(None)
        try:
            return super().serve(request)
        finally:
            RAW_BODY.reset(token)
            RESPONSE_PARAMETERS.reset(parameters)

    def handle_exception(self, request: ScimRequest, exception: Exception) -> ScimResponse:
        """SCIM errors at INFO without bodies; anything else is a 500 logged with its traceback."""
        if not hasattr(exception, "status"):
            log.exception("%s %s failed", request.method, request.path)
            return self.service.error_response(exception)
        log.info("%s %s: %s %s", request.method, request.path, getattr(exception, "status", ""), getattr(exception, "scim_type", "") or "")
        return self.service.error_response(exception)


class _MissingStore:
    """Stands in for the resource store when this build has none: resource operations answer 501."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedException(detail="resource operations need the SCIM resource store (scim_processor.operations), not in this build")

    get = get_many = create = replace = patch = delete = _refuse


def open_store(processor: ScimProcessor, dialect_name: str) -> tuple[ResourceStore, Prepare | None, ScimPolicy | None]:
    """The resource store of the SCIM operations, its dialect's body normalisation and PATCH policy: the one place they are bound.

    Raises:
        UsageError: ``dialect_name`` is not a dialect of the store.
    """
    try:
        store_module = importlib.import_module("scim_processor.operations.store")
        dialects = importlib.import_module("scim_processor.operations.dialects")
    except ImportError:
        if dialect_name.lower() != "strict":
            raise UsageError(f"dialect {dialect_name!r} needs the SCIM operations (scim_processor.operations), not in this build") from None
        return cast(ResourceStore, _MissingStore()), None, None
    dialect = dialects.dialect(dialect_name)
    resource_store = store_module.ResourceStore(processor, dialect, fresh_ids=True)
    store = cast(ResourceStore, resource_store)

    def prepare(body: dict[str, Any], resource_type: str) -> dict[str, Any]:
        return cast(dict[str, Any], resource_store.preparer().apply_dialect(body, resource_type, []))  # the store's own dialect step

    if dialect_name.lower() == "strict":
        return store, None, None
    return store, prepare, cast(ScimPolicy, dialect.policy())


def create_app(processor: ScimProcessor, token: ApiToken, dialect: str = "strict", store: ResourceStore | None = None) -> WSGICallable:
    """The WSGI application serving ``/scim/v2`` over ``processor``'s graph.

    Args:
        processor: an open processor (its schema graph gives the discovery endpoints).
        token: the bearer token requests must carry.
        dialect: ``strict``, ``entra`` or ``okta`` (normalisation of request bodies).
        store: the resource store (default: :func:`open_store`).

    Returns:
        A WSGI callable: ``/scim/v2/...`` is served, anything else is 404 (a SCIM error body).
    """
    compiled = processor.compiled()
    prepare: Prepare | None = None
    policy: ScimPolicy | None = None
    if store is None:
        store, prepare, policy = open_store(processor, dialect)
    provider = build_provider(compiled, processor.settings.max_payload_bytes, policy)
    storage = GraphStorage(store, GraphSearch(compiled, processor.read_connection()), provider)
    return mounted(GraphScimApplication(storage, provider, token, prepare))


def mounted(application: WSGICallable, prefix: str = MOUNT) -> WSGICallable:
    """``application`` under ``prefix`` (moved from ``PATH_INFO`` to ``SCRIPT_NAME``, so URLs carry it)."""

    def mount(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path != prefix and not path.startswith(prefix + "/"):
            error = NotFoundError(f"no SCIM endpoint at {path!r}; the base URL is {prefix}/v2").to_error()
            return send_response(ScimResponse(HTTPStatus.NOT_FOUND, error.model_dump()), start_response)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
        environ["PATH_INFO"] = path[len(prefix) :]
        return application(environ, start_response)

    return mount


def logged(application: WSGICallable, logger: logging.Logger = log) -> WSGICallable:
    """``application`` with one log line per request: method, path (no query string), status, duration. No bodies, no headers."""

    def wrapper(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method, path = environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "")
        status: list[str] = []

        def capture(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code.split(" ", 1)[0])
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        try:
            return application(environ, cast("StartResponse", capture))
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("%s %s %s %.1f ms", method, path, status[0] if status else "-", elapsed)

    return wrapper
