"""scim2-server's :class:`~scim2_server.storage.ScimStorage` over the identity graph.

Reads and writes go through the resource store of the SCIM operations (``ResourceStore``:
generation, the SCIM gate, the guard and the graph writer for every write; the read-back rule for
every read), and searches through :class:`~scim_processor.http.search.GraphSearch`. The storage
only converts between scim2-models objects and SCIM JSON:

- a write sends the request body as the client sent it (after the dialect), when the service
  recorded it (:data:`RAW_BODY`), so the store's own gate sees the original values rather than
  what pydantic coerced; otherwise (Bulk operations) the model's dump;
- :meth:`GraphStorage.operation` is the transaction boundary scim2-server asks for: one SCIM
  operation (a request, or one operation of a Bulk request) at a time per process, so a PATCH or
  a PUT reads and writes without another request in between; each store write is itself one
  managed write transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypedDict, cast

from scim2_models import Context, Resource, ResourceType, ResponseParameters, ScimProvider, SearchRequest
from scim2_server.storage import ScimStorage, SearchPage

from .search import GraphSearch


class ResourceStore(Protocol):
    """The resource store of the SCIM operations (``scim_processor.operations.store.ResourceStore``).

    Every method takes and returns SCIM JSON with ``meta``; errors are the project's SCIM errors
    (``NotFoundError``, ``UniquenessError``, ``PreconditionFailedError``, ...).
    """

    def get(  # noqa: D102
        self, resource_type: str, id: str, *, attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None  # noqa: A002
    ) -> dict[str, Any]: ...

    def get_many(  # noqa: D102
        self, resource_type: str, ids: Sequence[str], *, attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None
    ) -> list[dict[str, Any]]: ...

    def create(self, resource_type: str, body: Mapping[str, Any], *, keep_id: bool = False) -> dict[str, Any]: ...  # noqa: D102

    def replace(  # noqa: D102
        self, resource_type: str, id: str, body: Mapping[str, Any], *, expected_version: str | None = None, upsert: bool = False,  # noqa: A002
        attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None,
    ) -> dict[str, Any]: ...  # fmt: skip

    def patch(  # noqa: D102
        self, resource_type: str, id: str, body: Mapping[str, Any], *, expected_version: str | None = None,  # noqa: A002
        attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None,
    ) -> dict[str, Any]: ...  # fmt: skip

    def delete(self, resource_type: str, id: str, *, expected_version: str | None = None) -> None: ...  # noqa: A002, D102


RAW_BODY: ContextVar[dict[str, Any] | None] = ContextVar("scim_raw_body", default=None)
"""The decoded (dialect-normalised) body of the current POST or PUT request, set by the service."""

RESPONSE_PARAMETERS: ContextVar[ResponseParameters[Any] | None] = ContextVar("scim_response_parameters", default=None)
"""The ``attributes`` / ``excludedAttributes`` of the current request (RFC 7644 §3.9), set by the service;
a PUT or PATCH reads the resource back with them (scim2-server passes them to ``get`` only)."""


class AttributeNames(TypedDict):
    """The store's ``attributes`` / ``excluded`` keyword arguments (RFC 7644 §3.9 paths, as sent)."""

    attributes: list[str] | None
    excluded: list[str] | None


def parameter_names(parameters: ResponseParameters[Any] | None) -> AttributeNames:
    """``attributes`` and ``excluded`` keyword arguments of the store from scim2-models' parsed parameters (RFC 7644 §3.9)."""
    if parameters is None:
        return AttributeNames(attributes=None, excluded=None)
    return AttributeNames(
        attributes=[str(path) for path in parameters.attributes] if parameters.attributes else None,
        excluded=[str(path) for path in parameters.excluded_attributes] if parameters.excluded_attributes else None,
    )


class GraphStorage(ScimStorage):
    """A :class:`~scim2_server.storage.ScimStorage` whose resources live in the identity graph.

    Args:
        store: the resource store (creates, replaces, patches, deletes and reads back).
        search: the search over the graph.
        provider: the scim2-models provider (its models turn SCIM JSON into resources).
    """

    def __init__(self, store: ResourceStore, search: GraphSearch, provider: ScimProvider):
        self.store = store
        self.graph_search = search
        self.provider = provider
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ conversions
    @staticmethod
    def _name(resource_type: ResourceType) -> str:
        return str(resource_type.name)

    def _model(self, resource_type: ResourceType) -> type[Resource[Any]]:
        return cast(type[Resource[Any]], self.provider.model_for(resource_type))

    def _resource(self, resource_type: ResourceType, data: Mapping[str, Any]) -> Resource[Any]:
        document = dict(data)
        meta = document.get("meta")
        if isinstance(meta, Mapping):  # the server sets the location: it knows the URLs
            document["meta"] = {key: value for key, value in meta.items() if key != "location"}
        self._add_references(self._name(resource_type), document)
        return self._model(resource_type).model_validate(document)

    def _add_references(self, resource_type: str, document: dict[str, Any]) -> None:
        """``$ref`` of each reference value, relative to the SCIM root (``Users/<id>``), which the server publishes as a URL (RFC 7643 §2.3.7)."""
        compiled = self.graph_search.compiled
        mapping = compiled.mappings.get(resource_type)
        if mapping is None:
            return
        core = compiled.contexts[resource_type].core.id
        endpoints = {name: rt.endpoint.strip("/") for name, rt in compiled.schema_set.resource_types.items()}
        for reference in mapping.references:
            holder = document if reference.schema == core else document.get(reference.schema)
            if not isinstance(holder, dict):
                continue
            values = holder.get(reference.attribute)
            for item in values if isinstance(values, list) else [values]:
                if isinstance(item, dict) and item.get("value") and not item.get("$ref"):
                    kind = item.get("type")
                    target = kind if isinstance(kind, str) and kind in endpoints else reference.targets[0]
                    item["$ref"] = f"{endpoints[target]}/{item['value']}"

    @staticmethod
    def _body(resource: Resource[Any], scim_ctx: Context) -> dict[str, Any]:
        raw = RAW_BODY.get()
        if raw is not None:
            return raw
        return resource.model_dump(scim_ctx=scim_ctx)

    # ------------------------------------------------------------------ ScimStorage
    def get(
        self, resource_type: ResourceType, resource_id: str, *, response_parameters: ResponseParameters[Any] | None = None
    ) -> Resource[Any]:
        """The stored resource (NotFoundError: 404), read without what ``response_parameters`` leave out (RFC 7644 §3.9).

        The read query itself skips the multi-valued complex and reference attributes the response
        does not keep (``excludedAttributes=members``: no member ids read); the service then applies
        the parameters to the response.
        """
        return self._resource(resource_type, self.store.get(self._name(resource_type), resource_id, **parameter_names(response_parameters)))

    def head(self, resource_type: ResourceType, resource_id: str) -> Resource[Any]:
        """The stored resource without its multi-valued complex and reference attributes: its ``meta`` (the ETag) for a precondition.

        Raises:
            NotFoundError: 404.
        """
        return self._resource(resource_type, self.store.get(self._name(resource_type), resource_id, attributes=["id"]))

    def search(self, resource_types: list[ResourceType], search_request: SearchRequest[Any], *, position: Any = None) -> SearchPage:
        """One page of matches, by Cypher (filter, sort, ``startIndex``/``count``), read back by the store.

        The read leaves out what the request's ``attributes`` / ``excludedAttributes`` do (RFC 7644 §3.9).

        Raises:
            scim_processor.errors.InvalidFilterError: the filter cannot be translated (400 invalidFilter).
        """
        by_name = {self._name(rt): rt for rt in resource_types}
        scim_filter = search_request.filter
        result = self.graph_search.search(
            list(by_name),
            scim_filter.ast if scim_filter is not None else None,
            sort_by=str(search_request.sort_by) if search_request.sort_by else None,
            descending=search_request.sort_order == SearchRequest.SortOrder.descending,
            start_index=search_request.start_index or 1,
            count=search_request.count,
        )
        wanted: dict[str, list[str]] = {}
        for name, rid in result.hits:
            wanted.setdefault(name, []).append(rid)
        found: dict[tuple[str, str], Resource[Any]] = {}
        for name, ids in wanted.items():
            for data in self.store.get_many(name, ids, **parameter_names(search_request)):
                found[(name, str(data["id"]))] = self._resource(by_name[name], data)
        resources = [found[hit] for hit in result.hits if hit in found]
        return SearchPage(total=result.total, resources=resources)

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        """Creates the resource through the store (its id assigned by the store, RFC 7644 §3.3)."""
        body = self._body(resource, Context.RESOURCE_CREATION_REQUEST)
        return self._resource(resource_type, self.store.create(self._name(resource_type), body))

    def update(self, resource_type: ResourceType, resource: Resource[Any], *, expected_version: str | None = None) -> Resource[Any]:
        """Replaces the resource through the store (PUT semantics, RFC 7644 §3.5.1); 412 on a version mismatch."""
        body = self._body(resource, Context.RESOURCE_REPLACEMENT_REQUEST)
        stored = self.store.replace(
            self._name(resource_type), str(resource.id), body, expected_version=expected_version, **parameter_names(RESPONSE_PARAMETERS.get())
        )
        return self._resource(resource_type, stored)

    def delete(self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None) -> None:
        """Deletes the resource through the store; 404 if absent, 412 on a version mismatch."""
        self.store.delete(self._name(resource_type), resource_id, expected_version=expected_version)

    def patch(self, resource_type: ResourceType, resource_id: str, body: Mapping[str, Any], *, expected_version: str | None = None) -> Resource[Any]:
        """Applies a PatchOp body through the store (member edits change only those edges), read back with the request's ``attributes``."""
        names = parameter_names(RESPONSE_PARAMETERS.get())
        stored = self.store.patch(self._name(resource_type), resource_id, body, expected_version=expected_version, **names)
        return self._resource(resource_type, stored)

    @contextmanager
    def _operation(self) -> Iterator[None]:
        with self._lock:
            yield

    def operation(self) -> Any:
        """One SCIM operation at a time in this process (see the module docstring)."""
        return self._operation()
