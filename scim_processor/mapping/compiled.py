"""The compiled schema: everything derived from one version of the SCIM schemas, built once.

From a :class:`~scim_processor.scim.SchemaSet` (read from ``schemas/`` or from the schema graph)
it derives, once per fingerprint: the grounding context and the :class:`ResourceMapping` of every
resource type, the upsert queries, the uniqueness constraints, the graph schema the identity
graph has (plus the schema graph's own) and the :class:`~scim_processor.guard.CypherGuard` that
checks queries against it. Nothing else derives the mapping: every stage, the CLI and the tests
ask this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidSyntaxError, NotSupportedError
from ..graph.graph_schema import GraphSchema
from ..graph.schema_store import SCHEMA_GRAPH
from ..graph.statement import Statement
from ..guard import CypherGuard
from ..scim import GroundingContext, SchemaSet
from ..scim.context import member
from .cypher import constraint_ddl, constraint_name, create_query, present_keys, source_query, state_query, upsert_query
from .rows import graph_row
from .rule import ResourceMapping, map_resource_type

MESSAGE_URN_PREFIX = "urn:ietf:params:scim:api:messages:2.0:"
# Where each RFC 7644 message is handled instead of `process` (until it is supported there).
_MESSAGES = {"PatchOp": "PATCH (RFC 7644 §3.5.2)", "BulkRequest": "Bulk (RFC 7644 §3.7)", "SearchRequest": "search (RFC 7644 §3.4.3)"}
# The schema graph's own keys, constrained like every resource label's id.
_SCHEMA_GRAPH_KEYS = (("ScimSchema", "id"), ("ScimAttribute", "id"), ("ScimResourceType", "name"))


@dataclass(frozen=True)
class Constraint:
    """A uniqueness constraint: ``name``, the ``label`` and property ``key`` it holds, and its ``ddl``."""

    name: str
    label: str
    key: str
    ddl: str


@dataclass(frozen=True)
class WritePlan:
    """The statements that write one resource type, chosen per row by the writer (``stages/apply.py``).

    Attributes:
        label: the resource node's label; statement names are ``<label>.<action>``.
        state: the read of ``(id, version, source)`` for ``$ids`` (:func:`~scim_processor.mapping.cypher.state_query`).
        create: the create of resources not yet stored, placeholders included (:func:`~scim_processor.mapping.cypher.create_query`).
        replace: the full replace (:func:`~scim_processor.mapping.cypher.upsert_query`).
        source: the stamp of ``meta_source`` on unchanged resources (:func:`~scim_processor.mapping.cypher.source_query`).
    """

    label: str
    state: str
    create: str
    replace: str
    source: str
    mapping: ResourceMapping = field(repr=False)
    _creates: dict[frozenset[str], str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, mapping: ResourceMapping) -> WritePlan:
        """The plan of ``mapping``."""
        return cls(mapping.label, state_query(mapping), create_query(mapping), upsert_query(mapping), source_query(mapping), mapping)

    def statement(self, action: str, parameters: dict[str, Any]) -> Statement:
        """The named statement ``action`` (``"state"``, ``"create"``, ``"replace"`` or ``"source"``) with ``parameters``.

        The create is the one for the keys the rows have values for (:func:`~scim_processor.mapping.cypher.present_keys`).
        """
        if action == "create":
            present = present_keys(parameters.get("rows", ()))
            query = self._creates.get(present)
            if query is None:
                if len(self._creates) >= 256:  # rows of ever new shapes: keep the cache bounded
                    self._creates.clear()
                query = self._creates[present] = create_query(self.mapping, present)
            return Statement(query, parameters, f"{self.label}.create")
        return Statement(getattr(self, action), parameters, f"{self.label}.{action}")


@dataclass(frozen=True, eq=False)
class CompiledSchema:
    """One schema version, compiled. Build with :meth:`compile` (cached per fingerprint).

    Attributes:
        schema_set: the schemas and resource types it was compiled from.
        version: the schema set's fingerprint.
        contexts: resource type name → grounding context (no extension declared).
        mappings: resource type name → :class:`ResourceMapping`.
        upserts: resource type name → its create-or-replace query (parameter ``rows``).
        plans: resource type name → its :class:`WritePlan` (create, replace, state read, source stamp).
        constraints: every uniqueness constraint, schema graph first.
        graph_schema: the identity graph's labels, keys and relationships, plus the schema graph's.
        guard: the Cypher guard for ``graph_schema``.
    """

    schema_set: SchemaSet
    version: str
    contexts: Mapping[str, GroundingContext]
    mappings: Mapping[str, ResourceMapping]
    upserts: Mapping[str, str]
    plans: Mapping[str, WritePlan]
    constraints: tuple[Constraint, ...]
    graph_schema: GraphSchema
    guard: CypherGuard

    @classmethod
    def compile(cls, schema_set: SchemaSet) -> CompiledSchema:
        """The compiled form of ``schema_set``; the same fingerprint returns the same object.

        Raises:
            scim_processor.errors.SchemaDefinitionError: the mapping rule fails (two attributes
                map to one property key, a child label is a resource type name).
        """
        version = schema_set.version
        cached = _CACHE.get(version)
        if cached is not None:
            return cached
        contexts = {name: GroundingContext.from_schema_set(schema_set, name) for name in schema_set.resource_types}
        mappings = {name: map_resource_type(context) for name, context in contexts.items()}
        keys = [*_SCHEMA_GRAPH_KEYS]
        keys += [(m.label, p.key) for m in mappings.values() for p in m.properties if p.unique]
        constraints = tuple(Constraint(constraint_name(lb, k), lb, k, constraint_ddl(lb, k)) for lb, k in dict.fromkeys(keys))
        graph_schema = GraphSchema.union([*(m.graph_schema() for m in mappings.values()), SCHEMA_GRAPH])
        plans = {name: WritePlan.of(mapping) for name, mapping in mappings.items()}
        compiled = cls(
            schema_set=schema_set,
            version=version,
            contexts=contexts,
            mappings=mappings,
            upserts={name: plan.replace for name, plan in plans.items()},
            plans=plans,
            constraints=constraints,
            graph_schema=graph_schema,
            guard=CypherGuard(graph_schema),
        )
        if len(_CACHE) >= 16:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[version] = compiled
        return compiled

    def resolve(self, payload: Mapping[str, Any]) -> GroundingContext:
        """The one resource-type resolver: the grounding context of ``payload``, with its declared extensions.

        The resource type is the one whose core schema URN ``schemas`` names, else the one
        ``meta.resourceType`` names; attribute names and URNs are matched case-insensitively
        (RFC 7643 §2.1).

        Raises:
            InvalidSyntaxError: ``schemas`` is missing (with no ``meta.resourceType``), is not a
                list of URNs, names no known resource type, or names an extension not registered
                for it (RFC 7643 §3, §3.3).
            NotSupportedError: 501 for an RFC 7644 message (PatchOp, BulkRequest) in place of a resource.
        """
        declared = _declared_schemas(payload)
        for urn in declared:
            if urn.lower().startswith(MESSAGE_URN_PREFIX):
                kind = urn[len(MESSAGE_URN_PREFIX) :]
                what = _MESSAGES.get(kind, kind)
                raise NotSupportedError(f"{urn}: {what} messages are not supported by this command", "schemas")
        context = self._context(declared, payload)
        names: list[str] = []
        for urn in declared:
            if urn.lower() == context.core.id.lower():
                continue
            extension = context.extension(urn)
            if extension is None:
                raise InvalidSyntaxError(
                    f"schema {urn!r} is not a schema extension of resource type {context.resource_type.name}", "schemas"
                )
            names.append(extension.id)
        return context.model_copy(update={"declared": tuple(names)}) if names else context

    def _context(self, declared: list[str], payload: Mapping[str, Any]) -> GroundingContext:
        lowered = {urn.lower() for urn in declared}
        for context in self.contexts.values():
            if context.core.id.lower() in lowered:
                return context
        meta = member(payload, "meta")
        kind = member(meta, "resourceType") if isinstance(meta, Mapping) else None
        if isinstance(kind, str):
            for name, context in self.contexts.items():
                if name.lower() == kind.lower():
                    return context
        if not declared:
            raise InvalidSyntaxError("'schemas' is required: the list of the resource's schema URNs (RFC 7643 §3)", "schemas")
        known = ", ".join(context.core.id for context in self.contexts.values())
        raise InvalidSyntaxError(f"'schemas' names no known resource type's core schema (known: {known})", "schemas")

    def statements(self, resource_type: str, resource: Mapping[str, Any]) -> list[Statement]:
        """The Cypher that applies a validated, normalised resource: its replace (``<label>.replace``) with one row.

        The writer (:class:`~scim_processor.stages.apply.GraphWriter`) sends the row through the
        cheapest statement of the resource type's :class:`WritePlan` instead: nothing when the
        graph holds the same ``meta_version``, the create when it holds no resource of that id.
        """
        mapping = self.mappings[resource_type]
        row = graph_row(resource, mapping, self.contexts[resource_type].core.id)
        return [self.plans[resource_type].statement("replace", {"rows": [row]})]


_CACHE: dict[str, CompiledSchema] = {}


def _declared_schemas(payload: Mapping[str, Any]) -> list[str]:
    schemas = member(payload, "schemas")
    if schemas is None:
        return []
    if not isinstance(schemas, list) or not all(isinstance(urn, str) for urn in schemas):
        raise InvalidSyntaxError("'schemas' must be a list of schema URNs (RFC 7643 §3)", "schemas")
    return list(schemas)
