"""The pipeline, read → retrieve → generate → validate → apply, behind one object: :class:`ScimProcessor`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .apply import GraphWriter, PendingWrite
from .config import Settings
from .errors import CypherRejectedError, GraphError, ScimError, ScimProcessorError, invalid_value
from .generation import DeterministicGenerator, Generator, Statement
from .graph import GraphConnection
from .graph_schema import GraphSchema
from .guard import CypherGuard, GuardReport
from .mapping import derive_graph_schema, map_resource_type
from .reader import Payload
from .resources import bundled_dir
from .retrieval import GraphRetriever, GroundingContext, Retriever
from .schema import SchemaSet, read_schema_dir
from .schema_graph import SCHEMA_GRAPH, LoadReport, load_schemas
from .validation import ScimValidator


_SCHEMA_GRAPH_GUARD = CypherGuard(SCHEMA_GRAPH)


@dataclass
class PayloadResult:
    """The outcome for one payload (one line of the results file).

    Attributes:
        source: ``<file>[:<n>]`` or a caller-given name.
        status: ``"accepted"`` or ``"rejected"``.
        resource_type: ``"User"``, ``"Group"``, ... or None if it could not be told.
        resource: the normalised SCIM JSON (secrets never included), or None.
        cypher: the statements that apply it (values in parameters only).
        error: the SCIM error (RFC 7644 §3.12) of a rejected payload.
        warnings: what was left out and why.
    """

    source: str
    status: str
    resource_type: str | None = None
    resource: dict[str, Any] | None = None
    cypher: list[Statement] = field(default_factory=list)
    error: ScimError | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """True if the payload was accepted (and, unless a dry run, written)."""
        return self.status == "accepted"

    def to_json(self) -> dict[str, Any]:
        """The results-file object of the CLI contract."""
        return {
            "source": self.source,
            "status": self.status,
            "resourceType": self.resource_type,
            "resource": self.resource,
            "cypher": [statement.to_json() for statement in self.cypher],
            "error": self.error.to_dict() if self.error else None,
        }


class SchemaSetRetriever(Retriever):
    """Retrieves contexts from schema files instead of the graph (dry runs on an empty graph, tests)."""

    def __init__(self, schema_set: SchemaSet):
        self.schema_set = schema_set

    def _context(self, payload: Mapping[str, Any]) -> GroundingContext:
        declared = [urn.lower() for urn in payload.get("schemas") or []]
        for rt in self.schema_set.resource_types.values():
            if rt.schema_.lower() in declared:
                return GroundingContext.from_schema_set(self.schema_set, rt.name)
        raise invalid_value("'schemas' names no known resource type's core schema", "schemas")


class ScimProcessor:
    """Processes SCIM payloads into the identity graph.

    Args:
        connection: an open :class:`GraphConnection` (see :meth:`open`).
        settings: limits and batch size.
        generator: the generation stage (default: :class:`DeterministicGenerator`).

    Example::

        with ScimProcessor.open() as processor:
            processor.load_schemas()
            result = processor.process_payload({"schemas": [...], "userName": "bjensen"})
            assert result.accepted
    """

    def __init__(self, connection: GraphConnection, settings: Settings | None = None, generator: Generator | None = None):
        self.connection = connection
        self.settings = settings or Settings()
        self.retriever: Retriever = GraphRetriever(connection)
        self.generator = generator or DeterministicGenerator()
        self.validator = ScimValidator(self.settings.max_attribute_bytes)
        self._guard: CypherGuard | None = None
        self._reader: GraphConnection | None = connection if connection.read_only else None

    @classmethod
    def open(cls, settings: Settings | None = None, *, read_only: bool = False) -> ScimProcessor:
        """Connects to the configured graph (the embedded server when ``NEO4J_URI`` is unset).

        Args:
            read_only: connect as the read-only database user (see ``GraphConnection.open``); such
                a processor can check and run read-only Cypher but not load schemas or write.

        Raises:
            scim_processor.errors.GraphError: the server cannot be started or reached.
        """
        settings = settings or Settings()
        return cls(GraphConnection.open(settings, read_only=read_only), settings)

    def read_connection(self) -> GraphConnection:
        """The read-only connection :meth:`run_cypher` uses (opened on first use unless ours is one)."""
        if self._reader is None:
            self._reader = GraphConnection.open(self.settings, read_only=True)
        return self._reader

    def close(self) -> None:
        """Closes the connections (and releases an embedded server they use)."""
        if self._reader is not None and self._reader is not self.connection:
            self._reader.close()
        self._reader = None
        self.connection.close()

    def __enter__(self) -> ScimProcessor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- schemas
    def load_schemas(self, directory: Path | None = None) -> LoadReport:
        """Loads the schema and resource-type files of ``directory`` (default: the bundled ``schemas/``).

        Raises:
            scim_processor.errors.SchemaDefinitionError: a file is invalid.
            scim_processor.errors.GraphError: the server failed.
        """
        schema_set = read_schema_dir(directory or bundled_dir("schemas"))
        for name in schema_set.resource_types:  # the mapping rule must hold before anything is written
            map_resource_type(GroundingContext.from_schema_set(schema_set, name))
        report = load_schemas(self.connection, schema_set, self._check_write)
        if isinstance(self.retriever, GraphRetriever):
            self.retriever.refresh()
        self._guard = None
        return report

    def schemas_loaded(self) -> bool:
        """True if the schema graph has at least one resource type."""
        return bool(self.retriever.catalog()) if isinstance(self.retriever, GraphRetriever) else True

    def contexts(self) -> list[GroundingContext]:
        """The grounding context of every loaded resource type."""
        if isinstance(self.retriever, GraphRetriever):
            return [self.retriever.context_for(row["name"]) for row in self.retriever.catalog()]
        assert isinstance(self.retriever, SchemaSetRetriever)
        names = self.retriever.schema_set.resource_types
        return [GroundingContext.from_schema_set(self.retriever.schema_set, name) for name in names]

    def graph_schema(self) -> GraphSchema:
        """The graph schema derived from the loaded SCIM schemas, plus the schema graph's own."""
        return GraphSchema.union([derive_graph_schema(self.contexts()), SCHEMA_GRAPH])

    @property
    def guard(self) -> CypherGuard:
        """The Cypher guard for the current graph schema (rebuilt after a schema load)."""
        if self._guard is None:
            self._guard = CypherGuard(self.graph_schema())
        return self._guard

    def _check_write(self, query: str, parameters: Mapping[str, Any]) -> None:
        # The schema graph's own statements are checked against SCHEMA_GRAPH (the identity graph
        # may not be loaded yet when they run).
        _SCHEMA_GRAPH_GUARD.require(query, parameters=set(parameters))

    # ----------------------------------------------------------------- processing
    def process(
        self,
        payloads: Iterable[Payload | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        on_result: Callable[[PayloadResult], None] | None = None,
    ) -> list[PayloadResult]:
        """Processes payloads; accepted ones are written in batches (not in a dry run).

        Args:
            payloads: :class:`~scim_processor.reader.Payload` objects or plain SCIM JSON dicts.
            dry_run: generate and validate everything, write nothing.
            on_result: called with each result once it is final (for progress and streaming).

        Returns:
            One :class:`PayloadResult` per payload, in input order.

        Raises:
            scim_processor.errors.GraphError: the server failed (results so far were written).
        """
        return list(self.iter_process(payloads, dry_run=dry_run, on_result=on_result))

    def iter_process(
        self,
        payloads: Iterable[Payload | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        on_result: Callable[[PayloadResult], None] | None = None,
    ) -> Iterator[PayloadResult]:
        """Like :meth:`process`, yielding results batch by batch (bounded memory)."""
        if not dry_run and isinstance(self.retriever, GraphRetriever) and not self.retriever.catalog():
            self.load_schemas()
        if dry_run and isinstance(self.retriever, GraphRetriever) and not self.retriever.catalog():
            self.retriever = SchemaSetRetriever(read_schema_dir(bundled_dir("schemas")))
        if isinstance(self.retriever, GraphRetriever):
            self.retriever.refresh()
        writer = GraphWriter(self.connection, self.guard, self.settings.batch_size)
        batch: list[PayloadResult] = []
        for number, item in enumerate(payloads, start=1):
            payload = item if isinstance(item, Payload) else Payload(f"<payload {number}>", item)
            batch.append(self._prepare(payload))
            if len(batch) >= self.settings.batch_size:
                yield from self._finish(batch, writer, dry_run, on_result)
                batch = []
        if batch:
            yield from self._finish(batch, writer, dry_run, on_result)

    def process_payload(self, document: Mapping[str, Any], source: str = "<payload>", *, dry_run: bool = False) -> PayloadResult:
        """Processes one SCIM resource (a dict) and returns its result."""
        return self.process([Payload(source, document)], dry_run=dry_run)[0]

    def _prepare(self, payload: Payload) -> PayloadResult:
        """Retrieve, generate and validate one payload; nothing is written here."""
        if payload.error is not None:
            return PayloadResult(payload.source, "rejected", error=payload.error)
        document = payload.document
        if not isinstance(document, Mapping):
            error = ScimError(400, "invalidSyntax", "a SCIM resource must be a JSON object")
            return PayloadResult(payload.source, "rejected", error=error)
        if payload.size is None:  # handed in as a dict, not read from a file: measure it here
            payload.size = len(json.dumps(document, default=str).encode("utf-8"))
        if payload.size > self.settings.max_payload_bytes:
            detail = f"the payload is {payload.size} bytes; the limit is {self.settings.max_payload_bytes} bytes"
            return PayloadResult(payload.source, "rejected", error=ScimError(413, None, detail))
        resource_type = None
        try:
            context = self.retriever.retrieve(document)
            resource_type = context.resource_type.name
            generation = self.generator.generate(document, context)
            self.validator.validate(generation.resource, context)
            for statement in generation.statements:
                self.guard.require(statement.query, parameters=set(statement.parameters))
        except ScimError as error:
            return PayloadResult(payload.source, "rejected", resource_type, error=error)
        except CypherRejectedError as error:
            detail = f"the generated Cypher did not pass the guard: {error}"
            return PayloadResult(payload.source, "rejected", resource_type, error=ScimError(500, None, detail))
        return PayloadResult(
            payload.source, "accepted", resource_type, generation.resource, generation.statements, None, generation.warnings
        )

    def _finish(
        self,
        batch: list[PayloadResult],
        writer: GraphWriter,
        dry_run: bool,
        on_result: Callable[[PayloadResult], None] | None,
    ) -> Iterator[PayloadResult]:
        if not dry_run:
            pending = [
                PendingWrite(index, statement)
                for index, result in enumerate(batch)
                if result.accepted
                for statement in result.cypher
            ]
            for index, error in writer.write(pending).items():
                batch[index].status, batch[index].error = "rejected", error
        for result in batch:
            if on_result:
                on_result(result)
            yield result

    # ----------------------------------------------------------------- Cypher
    def check_cypher(self, query: str, *, read_only: bool = False, parameters: Any = None) -> GuardReport:
        """The guard's report on ``query`` against the derived graph schema."""
        return self.guard.check(query, read_only=read_only, parameters=parameters)

    def run_cypher(self, query: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Runs a read-only query: it must pass the guard in read-only mode, then runs in a READ
        transaction on the read-only connection (:meth:`read_connection`), whose database user
        may only read.

        Raises:
            CypherRejectedError: the guard rejected it.
            scim_processor.errors.GraphError: the server failed.
        """
        self.guard.require(query, read_only=True, parameters=dict(parameters or {}))
        try:
            return self.read_connection().read(query, parameters or {})
        except ScimProcessorError:
            raise
        except Exception as error:  # the server's own refusal, reported as one line
            raise GraphError(f"the graph server refused the query: {getattr(error, 'message', None) or error}") from error
