"""Re-apply at the cost of a parse and a hash: an input document the graph already holds skips generation and validation.

Every resource node written from an input document carries ``meta_source``
(:func:`~scim_processor.mapping.rows.source_token`): the document's *source fingerprint* bound to
the node's ``meta_version``. Before a stretch of payloads goes to generation and validation,
:class:`SourceScreen` fingerprints each one, guesses its resource (type and id) and reads, in one
guarded read per resource type and batch, ``(id, meta_version, meta_source)`` of those ids. A
payload whose fingerprint is the one stored on its node (bound to the node's current version) is
reported ``unchanged`` without being generated, validated or written.

The source fingerprint (:func:`source_fingerprint`) is the SHA-256 of the *canonical bytes* of the
parsed document (``orjson`` with sorted keys), salted with everything else a verdict depends on:
the compiled schema's version, the generator, the size and depth limits. Canonical bytes rather
than the raw line: they exist for every input (a JSON Lines line, an element of a JSON array or
ListResponse, a dict handed to :meth:`~scim_processor.ScimProcessor.process`), and a file that
was only re-indented or had its keys reordered is still recognised; what the fingerprint must
never do is give two documents with different verdicts the same bytes, so a document that is not
plain JSON (a ``NaN``, a tuple, a ``datetime`` in a caller's dict, a lone surrogate, an integer
beyond 64 bits) gets no fingerprint and takes the full path.

Why the lookup is by a guessed id rather than by the fingerprint: the id is the key the graph
already indexes (the uniqueness constraint on ``id``), so the read is the same per-batch read the
writer makes, and no extra index is needed. The guess is the document's ``id``, else the
generator's derivation (:func:`~scim_processor.stages.generate.stable_id`) from the resolved
resource type. A wrong guess only misses (the payload takes the full path): a hit needs the node
of that id to hold this exact fingerprint, which only a write of this document puts there.

Why a hit is safe: ``meta_source`` is bound to ``meta_version``, so any later write that changed
the content (a PATCH, a request over HTTP, another document) invalidates it, even one that does
not know about it; a request sets it to null. The read runs ahead of the writes of the payloads
still in flight, so a hit is confirmed when its result comes back in input order: if a payload
after the read and before this one (in input order) wrote the same resource, the hit is void and
the payload is prepared in full after all. Only the deterministic generator is screened (an LLM
generator's output is not a function of the document), and a dry run is not screened: a dry run
generates and validates every payload.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from ..errors import ScimError
from ..graph import GraphConnection
from ..mapping.compiled import CompiledSchema
from ..mapping.rows import source_token, stamp_source
from ..scim.context import member
from .apply import GraphState, Held, read_state
from .generate import DeterministicGenerator, stable_id
from .parallel import ordered_map
from .read import Payload

if TYPE_CHECKING:
    from ..pipeline import PayloadResult, ScimProcessor

_FORMAT = "scim-processor source fingerprint 1"


def source_fingerprint(payload: Payload, salt: bytes) -> str | None:
    """The source fingerprint of a payload's document, or None if it cannot have one.

    Args:
        payload: a read payload (``document`` parsed; ``size`` its text's bytes when read from a file).
        salt: what else the verdict depends on (:meth:`SourceScreen.for_run`).

    Returns:
        32 hex digits of the SHA-256 of ``salt`` and the document's canonical bytes (``orjson``,
        keys sorted), or None for a payload with an error, a document that is not a JSON object, or
        one that is not plain JSON (it does not survive an ``orjson`` round trip unchanged).
    """
    document = payload.document
    if payload.error is not None or not isinstance(document, dict):
        return None
    try:
        data = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # non-str keys, surrogates, > 64-bit integers, foreign types
        return None
    if payload.size is None and orjson.loads(data) != document:  # not read strictly from a file: NaN, tuples, ...
        return None
    return hashlib.sha256(salt + b"\0" + data).hexdigest()[:32]


@dataclass
class _Hit:
    """A payload whose document the graph holds, as read before the payloads in flight were written."""

    payload: Payload
    fingerprint: str
    resource_type: str
    id: str
    floor: int  # payloads from this one on (in input order) may not have been written when the graph was read


class SourceScreen:
    """Skips generation and validation of documents the graph already holds; stamps the others' rows with their fingerprint.

    Contract with the caller of :meth:`map`: every result it yields is written (or rejected)
    before more than ``batch_size`` further results are taken from it, which is how
    :meth:`~scim_processor.ScimProcessor.iter_process` batches.

    Args:
        connection: the graph (one read per resource type and batch); None only when not ``enabled``.
        compiled: the compiled schema (resource type resolution, the state read, its guard).
        salt: what else a verdict depends on (see :meth:`for_run`).
        batch_size: payloads per read; the caller's write batch size.
        enabled: False: :meth:`map` is :func:`~scim_processor.stages.parallel.ordered_map`.
        state: the run's :class:`~scim_processor.stages.apply.GraphState`, shared with its
            writer: what the reads found is noted there, so the writer does not read it again.
    """

    def __init__(
        self, connection: GraphConnection | None, compiled: CompiledSchema, *, salt: bytes, batch_size: int, enabled: bool = True,
        state: GraphState | None = None,
    ):  # fmt: skip
        self.connection = connection
        self.state = state
        self.compiled = compiled
        self.salt = salt
        self.batch_size = batch_size
        self.enabled = enabled
        self._yielded = 0
        self._recent: dict[tuple[str, str], int] = {}  # (resource type, id) → index of the last payload that may have written it
        self._order: deque[tuple[int, tuple[str, str]]] = deque()
        self._floors: deque[int] = deque()  # floors of the hits not yet confirmed, in input order

    @classmethod
    def for_run(
        cls, processor: ScimProcessor, compiled: CompiledSchema, *, dry_run: bool, state: GraphState | None = None, dialect: str = "strict"
    ) -> SourceScreen:
        """The screen of one :meth:`~scim_processor.ScimProcessor.iter_process` run (disabled for a dry run or a non-deterministic generator).

        Args:
            processor: the processor (connection, settings, generator).
            compiled: the run's compiled schema.
            dry_run: a dry run is not screened (it generates and validates every payload).
            state: the run's writer's state (``GraphWriter.state``), to share the batch reads with it.
            dialect: the name of the run's dialect: the same document may be refused in one and accepted in another.
        """
        settings = processor.settings
        generator = type(processor.generator)
        parts = (_FORMAT, compiled.version, f"{generator.__module__}.{generator.__qualname__}",
                 settings.max_payload_bytes, settings.max_attribute_bytes, settings.max_depth, dialect)  # fmt: skip
        salt = "|".join(map(str, parts)).encode()
        enabled = not dry_run and generator is DeterministicGenerator and processor.online
        return cls(processor.connection if enabled else None, compiled, salt=salt, batch_size=settings.batch_size, enabled=enabled, state=state)

    def map(self, prepare: Callable[[Payload], PayloadResult], payloads: Iterable[Payload], *, workers: int) -> Iterator[PayloadResult]:
        """``ordered_map(prepare, payloads)``, except that documents the graph holds are not prepared but reported ``unchanged``.

        Args:
            prepare: generation, validation and Cypher of one payload (runs in the workers).
            payloads: the payloads, in input order.
            workers: as for :func:`~scim_processor.stages.parallel.ordered_map`.

        Yields:
            One result per payload, in input order. An ``unchanged`` result of a recognised
            document has no resource and no statements (nothing was generated). The rows of the
            other accepted results carry ``meta_source``.

        Raises:
            scim_processor.errors.GraphError: the state read failed.
        """
        if not self.enabled:
            yield from ordered_map(prepare, payloads, workers=workers)
            return
        from ..pipeline import PayloadResult, ResultStatus  # the pipeline imports this module

        marks: deque[_Hit | str | None] = deque()

        def prepare_or_skip(payload: Payload | None) -> PayloadResult | None:
            return None if payload is None else prepare(payload)

        for prepared in ordered_map(prepare_or_skip, self._screened(payloads, marks), workers=workers):
            mark = marks.popleft()
            if isinstance(mark, _Hit):
                self._floors.popleft()
                if self._recent.get((mark.resource_type, mark.id), -1) < mark.floor:
                    self._yield(None)
                    yield PayloadResult(mark.payload.source, ResultStatus.UNCHANGED, mark.resource_type)
                    continue
                prepared, mark = prepare(mark.payload), mark.fingerprint  # written meanwhile by this run: the full path
            result: PayloadResult = prepared  # type: ignore[assignment]  # None only for hits
            if mark is not None and result.accepted:
                for statement in result.cypher:
                    for row in statement.parameters.get("rows", ()):
                        stamp_source(row, mark)
            self._yield(result)
            yield result

    def _screened(self, payloads: Iterable[Payload], marks: deque[_Hit | str | None]) -> Iterator[Payload | None]:
        """``payloads``, a batch at a time, with each hit replaced by None (it travels to the workers as that); ``marks`` gets each one's mark."""
        iterator = iter(payloads)
        while chunk := list(itertools.islice(iterator, self.batch_size)):
            for payload, mark in zip(chunk, self._marks(chunk), strict=True):
                marks.append(mark)
                if isinstance(mark, _Hit):
                    self._floors.append(mark.floor)
                yield None if isinstance(mark, _Hit) else payload

    def _yield(self, result: PayloadResult | None) -> None:
        """Notes the resource a yielded result may write, and forgets what no unconfirmed hit can need."""
        if result is not None and result.accepted and result.resource_type and result.resource:
            key = (result.resource_type, str(result.resource.get("id")))
            self._recent[key] = self._yielded
            self._order.append((self._yielded, key))
        self._yielded += 1
        oldest = self._floors[0] if self._floors else self._yielded - self.batch_size
        while self._order and self._order[0][0] < min(oldest, self._yielded - self.batch_size):
            index, key = self._order.popleft()
            if self._recent.get(key) == index:
                del self._recent[key]

    def _marks(self, chunk: list[Payload]) -> list[_Hit | str | None]:
        """Per payload of ``chunk``: a :class:`_Hit`, else its fingerprint (None if it has none)."""
        if self.connection is None:  # not enabled: map() does not screen
            return [None] * len(chunk)
        fingerprints = [source_fingerprint(payload, self.salt) for payload in chunk]
        guesses: list[tuple[str, str] | None] = [
            self._guess(payload) if fingerprint else None for payload, fingerprint in zip(chunk, fingerprints, strict=True)
        ]
        by_type: dict[str, list[str]] = {}
        for guess in guesses:
            if guess is not None:
                by_type.setdefault(guess[0], []).append(guess[1])
        held: dict[tuple[str, str], Held] = {}
        for resource_type, ids in by_type.items():
            plan = self.compiled.plans[resource_type]
            self.compiled.guard.require(plan.state, read_only=True, parameters={"ids"})
            for node_id, node in read_state(self.connection, plan, list(dict.fromkeys(ids))).items():
                held[(resource_type, node_id)] = node
                if self.state is not None:  # the writer need not read these ids again
                    self.state.note(plan.label, node_id, node)
        floor = max(0, self._yielded - self.batch_size)
        marks: list[_Hit | str | None] = []
        for payload, fingerprint, guess in zip(chunk, fingerprints, guesses, strict=True):
            node = held.get(guess) if guess else None
            if fingerprint and guess and node and node["version"] and node["source"] == source_token(fingerprint, node["version"]):
                marks.append(_Hit(payload, fingerprint, guess[0], guess[1], floor))
            else:
                marks.append(fingerprint)
        return marks

    def _guess(self, payload: Payload) -> tuple[str, str] | None:
        """The resource type and id the payload will most likely have (None if it cannot be told cheaply)."""
        try:
            context = self.compiled.resolve(payload.document)
            given = member(payload.document, "id")
            resource_id = given if isinstance(given, str) and given else stable_id(payload.document, context)
        except (ScimError, ValueError, TypeError, AttributeError):
            return None
        return context.resource_type.name, resource_id


__all__ = ["SourceScreen", "source_fingerprint"]
