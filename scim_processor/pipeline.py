"""The pipeline, read → retrieve → generate → validate → apply, behind one object: :class:`ScimProcessor`.

:meth:`ScimProcessor.process` takes what the ``process`` command takes: bare resources
(create-or-replace, batched here) and requests (envelopes, PatchOp messages, BulkRequests, run by
:class:`~scim_processor.operations.envelope.OperationRunner` against the resource store). Every
resource, whichever way it arrived, goes through the one prepare step
(:class:`~scim_processor.stages.prepare.Preparer`: size, dialect, resource type, generation, the
SCIM gate, the Cypher and the guard), the one identity check
(:func:`~scim_processor.operations.identity.identity_conflicts`) and the one writer
(:class:`~scim_processor.stages.apply.GraphWriter`). Results stream out in input order.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import (
    GraphError,
    ScimError,
    ScimProcessorError,
)
from .graph import EmbeddedServer, GraphConnection, Statement
from .graph.graph_schema import GraphSchema
from .graph.schema_store import LoadReport, load_schemas
from .guard import GuardReport
from .mapping import CompiledSchema
from .operations.dialects import Dialect
from .operations.dialects import dialect as dialect_named
from .operations.identity import identity_conflicts
from .resources import bundled_dir
from .scim import GroundingContext, read_schema_dir
from .stages.apply import GraphState, GraphWriter, PendingWrite
from .stages.changes import SourceScreen
from .stages.generate import DeterministicGenerator, Generator
from .stages.prepare import Preparer
from .stages.read import Payload
from .stages.retrieve import FileRetriever, GraphRetriever, Retriever
from .stages.validate import ScimValidator

log = logging.getLogger(__name__)
_OFFLINE = "this processor is offline (a dry run with schema files): it has no graph connection"


class ResultStatus(StrEnum):
    """What became of one payload or operation (the ``status`` of a results line).

    A ``StrEnum``: each member equals its value, so ``result.status == "accepted"`` holds.

    Attributes:
        ACCEPTED: valid, and written (in a dry run: would be written).
        UNCHANGED: valid; the graph already held the same content, so nothing was written.
        REJECTED: invalid or refused; ``error`` holds the SCIM error (RFC 7644 §3.12).
        SKIPPED: a Bulk operation not run because ``failOnErrors`` was reached (RFC 7644 §3.7.3).
    """

    ACCEPTED = "accepted"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    SKIPPED = "skipped"


@dataclass
class PayloadResult:
    """The outcome for one payload (one line of the results file).

    Attributes:
        source: ``<file>[:<n>]`` or a caller-given name.
        status: a :class:`ResultStatus`.
        resource_type: ``"User"``, ``"Group"``, ... or None if it could not be told.
        resource: the normalised SCIM JSON (secrets never included), or None.
        cypher: the statements that apply it (values in parameters only).
        error: the SCIM error (RFC 7644 §3.12) of a rejected payload.
        warnings: what was left out, rewritten or ignored, and why (one sentence each).
    """

    source: str
    status: ResultStatus
    resource_type: str | None = None
    resource: dict[str, Any] | None = None
    cypher: list[Statement] = field(default_factory=list)
    error: ScimError | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """True if the payload was accepted (and, unless a dry run, written or found unchanged)."""
        return self.status in (ResultStatus.ACCEPTED, ResultStatus.UNCHANGED)

    def to_json(self, include_cypher: bool = False) -> dict[str, Any]:
        """The results-file object: one line of ``process``' results file.

        Args:
            include_cypher: also give each statement's ``query`` and ``parameters``; without it a
                statement is its ``name`` and ``fingerprint`` only (the text is the same for every
                resource of a type, so a results file need not repeat it).

        Returns:
            ``{"source", "status", "resourceType", "resource", "cypher", "error", "warnings"}``:
            ``error`` is the RFC 7644 §3.12 body or None; ``cypher`` is empty on a rejected line
            (nothing of it ran); ``warnings`` lists what was left out or ignored.
        """
        cypher = [] if self.status == ResultStatus.REJECTED else [s.to_json(include_query=include_cypher) for s in self.cypher]
        return {
            "source": self.source,
            "status": str(self.status),
            "resourceType": self.resource_type,
            "resource": self.resource,
            "cypher": cypher,
            "error": self.error.to_dict() if self.error else None,
            "warnings": list(self.warnings),
        }


def _rejected(source: str, error: ScimError, resource_type: str | None = None) -> PayloadResult:
    return PayloadResult(source, ResultStatus.REJECTED, resource_type, error=error)


def _type_of(document: Any, compiled: CompiledSchema) -> str | None:
    """The resource type a rejected payload names, if it can be told (for the results line)."""
    if not isinstance(document, Mapping):
        return None
    try:
        return compiled.resolve(document).resource_type.name
    except (ScimError, RecursionError, ValueError, TypeError):
        return None


class ScimProcessor:
    """Processes SCIM payloads into the identity graph.

    Args:
        connection: an open :class:`GraphConnection` (see :meth:`open`), or None for an offline
            processor (:meth:`offline`: dry runs with schema files, no graph server).
        settings: limits and batch size.
        generator: the generation stage (default: :class:`DeterministicGenerator`).
        retriever: the retrieval stage (default: a :class:`GraphRetriever` on ``connection``;
            offline, a :class:`FileRetriever` of the bundled ``schemas/``).

    Example::

        with ScimProcessor.open() as processor:
            processor.load_schemas()
            result = processor.process_payload({"schemas": [...], "userName": "bjensen"})
            assert result.accepted
    """

    def __init__(
        self,
        connection: GraphConnection | None,
        settings: Settings | None = None,
        generator: Generator | None = None,
        retriever: Retriever | None = None,
    ):
        self._connection = connection
        self.settings = settings or Settings()
        self.retriever = retriever or (GraphRetriever(connection) if connection is not None else FileRetriever(bundled_dir("schemas")))
        self.generator = generator or DeterministicGenerator()
        self.validator = ScimValidator(self.settings.max_attribute_bytes)
        self._reader: GraphConnection | None = connection if connection is not None and connection.read_only else None

    @property
    def connection(self) -> GraphConnection:
        """The graph connection.

        Raises:
            scim_processor.errors.GraphError: the processor is offline (:meth:`offline`).
        """
        if self._connection is None:
            raise GraphError(_OFFLINE)
        return self._connection

    @property
    def online(self) -> bool:
        """False for an offline processor (:meth:`offline`), which never reads or writes a graph."""
        return self._connection is not None

    @classmethod
    def open(cls, settings: Settings | None = None, *, read_only: bool = False, dry_run: bool = False) -> ScimProcessor:
        """Connects to the configured graph (the embedded server when ``NEO4J_URI`` is unset).

        Args:
            settings: the settings (default: from the environment).
            read_only: connect as the read-only database user (see ``GraphConnection.open``); such
                a processor can check and run read-only Cypher but not load schemas or write.
            dry_run: for dry runs only: when the bundled schema files would do, that is with
                ``NEO4J_URI`` unset, no embedded server running under ``settings.home`` (its
                ``server.json``) and no embedded graph there yet (a dry run on an empty graph
                reads the bundled files), start none and return :meth:`offline`; otherwise connect
                as usual, so the graph's schemas (custom extensions loaded there) and its stored
                resources are used.

        Raises:
            scim_processor.errors.GraphError: the server cannot be started or reached.
        """
        settings = settings or Settings()
        if dry_run and not settings.graph.uri:
            server = EmbeddedServer(settings.home)
            if server.status() is None and not server.has_database():
                return cls.offline(settings)
        return cls(GraphConnection.open(settings, read_only=read_only), settings)

    @classmethod
    def offline(cls, settings: Settings | None = None, schemas: Path | None = None) -> ScimProcessor:
        """A processor with no graph connection, for dry runs: schemas from files, nothing read or written.

        It generates and validates payloads and builds their Cypher exactly as a dry run on a
        graph holding the same schemas and no resources does: the identity checks (two resources
        never merged, RFC 7643 §4.1.1 case-insensitive ``userName``) see only the run's own
        payloads; envelopes, PatchOp and Bulk are checked for form only, as in every dry run.

        Args:
            settings: limits and batch size (default: from the environment).
            schemas: a directory of schema and resource-type files (default: the bundled ``schemas/``).

        Raises:
            scim_processor.errors.SchemaDefinitionError: (on first use) a schema file is invalid.
        """
        return cls(None, settings, retriever=FileRetriever(schemas or bundled_dir("schemas")))

    def read_connection(self) -> GraphConnection:
        """The read-only connection :meth:`run_cypher` uses (opened on first use unless ours is one).

        Raises:
            scim_processor.errors.GraphError: the processor is offline, or the server cannot be reached.
        """
        if self._connection is None:
            raise GraphError(_OFFLINE)
        if self._reader is None:
            self._reader = GraphConnection.open(self.settings, read_only=True)
        return self._reader

    def close(self) -> None:
        """Closes the connections (and releases an embedded server they use)."""
        if self._reader is not None and self._reader is not self._connection:
            self._reader.close()
        self._reader = None
        if self._connection is not None:
            self._connection.close()

    def __enter__(self) -> ScimProcessor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- schemas
    def load_schemas(self, directory: Path | None = None) -> LoadReport:
        """Loads the schema and resource-type files of ``directory`` (default: the bundled ``schemas/``).

        The files are compiled first, so a schema that breaks the mapping rule writes nothing.

        Raises:
            scim_processor.errors.SchemaDefinitionError: a file is invalid.
            scim_processor.errors.GraphError: the server failed.
        """
        compiled = CompiledSchema.compile(read_schema_dir(directory or bundled_dir("schemas")))
        report = load_schemas(self.connection, compiled)
        self.retriever.refresh()
        return report

    def schemas_loaded(self) -> bool:
        """True if the retriever's source (the schema graph) holds at least one resource type."""
        self.retriever.refresh()
        return self.retriever.loaded()

    def compiled(self) -> CompiledSchema:
        """The compiled schema of the loaded schemas.

        On an empty graph the bundled schemas are loaded first, or, on a read-only connection,
        compiled from the files (nothing is written).
        """
        if not self.schemas_loaded():
            if self.connection.read_only:
                return FileRetriever(bundled_dir("schemas")).compiled()
            self.load_schemas()
        return self.retriever.compiled()

    def contexts(self) -> list[GroundingContext]:
        """The grounding context of every loaded resource type."""
        return list(self.compiled().contexts.values())

    def graph_schema(self) -> GraphSchema:
        """The graph schema derived from the loaded SCIM schemas, plus the schema graph's own."""
        return self.compiled().graph_schema

    # ----------------------------------------------------------------- processing
    def preparer(self, compiled: CompiledSchema, dialect: Dialect | str | None = None) -> Preparer:
        """The one prepare step (:class:`~scim_processor.stages.prepare.Preparer`) over this processor's generator, gate and limits.

        Args:
            compiled: the compiled schema to prepare against.
            dialect: the IdP dialect (a :class:`~scim_processor.operations.Dialect` or its name;
                default: ``settings.dialect``).

        Raises:
            scim_processor.errors.UsageError: an unknown dialect name.
        """
        return Preparer(
            compiled, self.generator, self.validator, max_payload_bytes=self.settings.max_payload_bytes,
            max_depth=self.settings.max_depth, dialect=self.dialect(dialect),
        )  # fmt: skip

    def dialect(self, chosen: Dialect | str | None = None) -> Dialect:
        """``chosen`` as a :class:`~scim_processor.operations.Dialect` (a name is looked up; None: ``settings.dialect``).

        Raises:
            scim_processor.errors.UsageError: an unknown dialect name.
        """
        return chosen if isinstance(chosen, Dialect) else dialect_named(chosen or self.settings.dialect)

    def process(
        self,
        payloads: Iterable[Payload | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        on_result: Callable[[PayloadResult], None] | None = None,
        dialect: Dialect | str | None = None,
        target: str | None = None,
        keep_ids: bool = False,
    ) -> list[PayloadResult]:
        """Processes payloads exactly as the ``process`` command does; accepted ones are written (not in a dry run).

        A payload is a bare resource (create-or-replace, written in batches), an envelope
        ``{"method", "path", "body", "version"}``, a PatchOp message (applied to ``target``) or a
        BulkRequest (RFC 7644 §3.3-§3.7, see :mod:`scim_processor.operations.envelope`).

        Args:
            payloads: :class:`~scim_processor.stages.read.Payload` objects or plain JSON dicts.
            dry_run: generate and validate everything, write nothing (operations: checked for form only).
            on_result: called with each result once it is final (for progress and streaming).
            dialect: the IdP tolerances (``strict``, ``entra``, ``okta`` or a
                :class:`~scim_processor.operations.Dialect`; default: ``settings.dialect``).
            target: the resource PatchOp messages apply to (``/Users/<id>``).
            keep_ids: keep a client ``id`` in POST bodies (an import from another SCIM server).

        Returns:
            One :class:`PayloadResult` per bare resource and one
            :class:`~scim_processor.operations.envelope.OperationResult` per operation (a Bulk
            request gives one per operation), in input order: the objects the CLI writes as results lines.

        Raises:
            scim_processor.errors.UsageError: an unknown dialect name.
            scim_processor.errors.GraphError: the server failed (results so far were written).
        """
        return list(
            self.iter_process(payloads, dry_run=dry_run, on_result=on_result, dialect=dialect, target=target, keep_ids=keep_ids)
        )

    def iter_process(
        self,
        payloads: Iterable[Payload | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        on_result: Callable[[PayloadResult], None] | None = None,
        dialect: Dialect | str | None = None,
        target: str | None = None,
        keep_ids: bool = False,
    ) -> Iterator[PayloadResult]:
        """Like :meth:`process`, yielding results as they are final (memory bounded by the batch size)."""
        from .operations.envelope import OperationRunner  # the runner builds on this class

        runner = OperationRunner(self, self.dialect(dialect), target=target, keep_ids=keep_ids)
        return runner.run(payloads, dry_run=dry_run, on_result=on_result)

    def iter_resources(
        self,
        payloads: Iterable[Payload | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        on_result: Callable[[PayloadResult], None] | None = None,
        dialect: Dialect | str | None = None,
    ) -> Iterator[PayloadResult]:
        """Bare resources only (create-or-replace), prepared in parallel and written in batches.

        Each payload goes through the one prepare step (:meth:`preparer`) on ``settings.workers``
        processes (:func:`~scim_processor.stages.parallel.ordered_map`), in input order; the
        identity check and the writes stay in this process, one batch at a time.

        On an empty graph, a real run loads the bundled schemas first; a dry run reads them
        from the files for this run only and writes nothing.
        """
        retriever = self._run_retriever(dry_run)
        compiled = retriever.compiled()
        state = GraphState()
        writer = None if dry_run else GraphWriter(self.connection, compiled, self.settings.batch_size, state=state)
        batch: list[PayloadResult] = []
        wrapped = (
            item if isinstance(item, Payload) else Payload(f"<payload {number}>", item)
            for number, item in enumerate(payloads, start=1)
        )
        preparer = self.preparer(compiled, dialect)
        prepare = functools.partial(self._prepare, preparer=preparer)
        # Only the deterministic generator is known to be fork-safe (no open sockets, no threads).
        workers = self.settings.workers if type(self.generator) is DeterministicGenerator else 1
        # issue 15 §2: documents the graph already holds skip generation and validation (stages/changes.py).
        screen = SourceScreen.for_run(self, compiled, dry_run=dry_run, state=state, dialect=preparer.dialect.name)
        for result in screen.map(prepare, wrapped, workers=workers):
            batch.append(result)
            if len(batch) >= self.settings.batch_size:
                yield from self._finish(batch, writer, dry_run, on_result, compiled)
                batch = []
        if batch:
            yield from self._finish(batch, writer, dry_run, on_result, compiled)

    def _run_retriever(self, dry_run: bool) -> Retriever:
        if self.schemas_loaded():
            return self.retriever
        if dry_run:
            return FileRetriever(bundled_dir("schemas"))
        self.load_schemas()
        return self.retriever

    def process_payload(
        self, document: Mapping[str, Any], source: str = "<payload>", *, dry_run: bool = False, dialect: Dialect | str | None = None
    ) -> PayloadResult:
        """Processes one bare SCIM resource (a dict, create-or-replace) and returns its result.

        Only a resource: a request (envelope, PatchOp, BulkRequest) is refused as one (400 or 501),
        never run, so a caller that checks generated documents with it (``map``) cannot issue requests.
        """
        return list(self.iter_resources([Payload(source, document)], dry_run=dry_run, dialect=dialect))[0]

    @staticmethod
    def _prepare(payload: Payload, preparer: Preparer) -> PayloadResult:
        """The prepare step on one bare resource; nothing is written here."""
        if payload.error is not None:
            return _rejected(payload.source, payload.error)
        try:
            prepared = preparer.prepare(payload.document, size=payload.size)
        except ScimError as error:
            return _rejected(payload.source, error, _type_of(payload.document, preparer.compiled))
        return PayloadResult(
            payload.source, ResultStatus.ACCEPTED, prepared.resource_type, prepared.resource, prepared.statements, None, prepared.warnings
        )

    def _finish(
        self,
        batch: list[PayloadResult],
        writer: GraphWriter | None,
        dry_run: bool,
        on_result: Callable[[PayloadResult], None] | None,
        compiled: CompiledSchema,
    ) -> Iterator[PayloadResult]:
        # Identity rule: a derived id never merges two resources (operations/identity.py).
        accepted = [(i, r.resource_type, r.resource) for i, r in enumerate(batch) if r.accepted and r.resource and r.resource_type]
        for index, conflict in identity_conflicts(self._connection, compiled, accepted).items():  # offline: no stored holders
            batch[index].status, batch[index].error = ResultStatus.REJECTED, conflict
        if writer is not None:  # None in a dry run
            pending = [
                PendingWrite(index, statement)
                for index, result in enumerate(batch)
                if result.accepted
                for statement in result.cypher
            ]
            report = writer.write(pending)
            for index, error in report.failures.items():
                batch[index].status, batch[index].error = ResultStatus.REJECTED, error
            for index in report.unchanged:
                batch[index].status = ResultStatus.UNCHANGED
            for index, sent in report.sent.items():  # the statements that ran (User.create, User.replace), none if unchanged
                batch[index].cypher = sent
        for result in batch:
            if on_result:
                on_result(result)
            yield result

    # ----------------------------------------------------------------- Cypher
    def check_cypher(self, query: str, *, read_only: bool = False, parameters: Any = None) -> GuardReport:
        """The guard's report on ``query`` against the derived graph schema."""
        return self.compiled().guard.check(query, read_only=read_only, parameters=parameters)

    def run_cypher(self, query: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Runs a read-only query: the guard in read-only mode, then a READ transaction as the read-only user.

        The READ transaction runs on the read-only connection (:meth:`read_connection`), whose
        database user may only read, so a guard bug cannot write.

        Raises:
            CypherRejectedError: the guard rejected it.
            scim_processor.errors.GraphError: the server failed.
        """
        self.compiled().guard.require(query, read_only=True, parameters=dict(parameters or {}))
        try:
            return self.read_connection().read(query, parameters or {})
        except ScimProcessorError:
            raise
        except Exception as error:  # the server's own refusal, reported as one line
            raise GraphError(f"the graph server refused the query: {getattr(error, 'message', None) or error}") from error
