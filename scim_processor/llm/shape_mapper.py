"""``map`` for structured files: one mapping per source shape, then every record through ``process``'s pipeline (issue 16 §3, §4).

:meth:`ShapeMapper.plan` finds the file's mapping: the stored one for a known shape (no model
call), else a :class:`~.proposer.Proposer` proposal (at most 4 model calls), stored unreviewed.
:meth:`ShapeMapper.apply` builds each record's SCIM resource with the mapping's transforms (the
generation step) and hands the resources to :meth:`ScimProcessor.iter_process`, so they get the
SCIM gate, the guard, the writer, the unchanged-skip and the results of ``process``, on every
worker. A record that cannot be built (a CSV row with the wrong number of columns, a field the
mapping's shape lacks, a required value its transform cannot convert) is rejected with a SCIM
error (400 ``invalidValue``) naming its line; the run goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel

from ..errors import InvalidValueError
from ..stages.read import Payload
from .core import PayloadResult, ScimProcessor
from .mapping_file import CompiledMapping, MappingFileError, SourceMapping
from .mapping_store import MappingStore
from .proposer import Proposal, Proposer
from .shapes import SourceFile


@dataclass
class Plan:
    """The mapping a file will use and where it came from.

    Attributes:
        mapping: the mapping.
        origin: ``stored`` (a known shape), ``proposed`` (new; see ``proposal``) or ``file`` (``--mapping``).
        proposal: the proposal of a new shape, else None.
    """

    mapping: SourceMapping
    origin: str
    proposal: Proposal | None = None

    @property
    def model_calls(self) -> int:
        """Model calls spent on this plan (0 for a known shape or a mapping file)."""
        return self.proposal.model_calls if self.proposal else 0


@dataclass
class ShapeResult:
    """One record's outcome: ``process``'s result plus the shape and the values dropped.

    Attributes:
        result: the payload result.
        shape: the fingerprint of the mapping's shape.
        dropped: optional values a transform could not convert ``{"path", "value", "code", "detail"}``.
    """

    result: PayloadResult
    shape: str
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The results-file line: ``process``'s object plus ``shape`` and ``dropped``."""
        return {**self.result.to_json(), "shape": self.shape, "dropped": self.dropped}


class ShapeMapper:
    """Maps structured record files with one mapping per source shape.

    Args:
        processor: an open processor.
        model: returns the chat model; called only when a new shape needs a model request.
        max_attempts: model calls per new shape (capped at 4).
    """

    def __init__(self, processor: ScimProcessor, model: Callable[[], BaseChatModel] | None = None, max_attempts: int = 3):
        self.processor = processor
        self.store = MappingStore(processor)
        self.proposer = Proposer(processor, model, self.store, max_attempts)

    def plan(self, source: SourceFile, resource_type: str = "User", *, store: bool = True) -> Plan:
        """The stored mapping of the file's shape, else a new proposal (stored unreviewed when ``store``).

        Raises:
            scim_processor.llm.proposer.ProposalError: no acceptable proposal within the budget.
            scim_processor.llm.chat.ModelError: the endpoint failed.
            UsageError: unknown resource type.
        """
        shape = source.shape()
        known = self.store.find(shape, self.proposer.context(resource_type).resource_type.name)
        if known is not None:
            return Plan(known, "stored")
        proposal = self.proposer.propose(shape, source.samples(), resource_type)
        if store:
            self.store.save(proposal.mapping)
        return Plan(proposal.mapping, "proposed", proposal)

    def compile(self, mapping: SourceMapping) -> CompiledMapping:
        """The mapping checked against its resource type's schemas, ready to build resources.

        Raises:
            MappingFileError: a problem of the mapping (the message names it).
            UsageError: unknown resource type.
        """
        return CompiledMapping(mapping, self.proposer.context(mapping.resource_type))

    def apply(
        self,
        source: SourceFile,
        mapping: SourceMapping,
        *,
        dry_run: bool = False,
        on_result: Callable[[ShapeResult], None] | None = None,
    ) -> Iterator[ShapeResult]:
        """Builds every record's resource and runs it through ``process``'s pipeline, yielding results in file order.

        Raises:
            MappingFileError: the mapping has problems, or the file has fields its shape lacks.
            scim_processor.errors.GraphError: the server failed.
        """
        compiled = self.compile(mapping)
        extra = [name for name in source.shape().fields if name not in mapping.shape.fields]
        if extra and source.header is not None:
            raise MappingFileError(f"{source.label}: field {extra[0]!r} is not in the mapping's shape; add it to shape.fields (mapped or not)")
        fields = set(mapping.shape.fields)
        dropped: deque[list[dict[str, Any]]] = deque()

        def payloads() -> Iterator[Payload]:
            for record in source.records():
                if record.error is not None:
                    dropped.append([])
                    yield Payload(record.source, error=InvalidValueError(record.error))
                    continue
                unknown = [name for name in record.values if name not in fields]
                if unknown:
                    dropped.append([])
                    detail = f"field {unknown[0]!r} is not in the mapping's shape {mapping.fingerprint}; run map --plan for this shape"
                    yield Payload(record.source, error=InvalidValueError(detail))
                    continue
                built = compiled.build(record.values)
                dropped.append(built.dropped)
                if built.error is not None:
                    yield Payload(record.source, error=InvalidValueError(built.error))
                else:
                    yield Payload(record.source, built.resource)

        for result in self.processor.iter_process(payloads(), dry_run=dry_run):
            item = ShapeResult(result, mapping.fingerprint, dropped.popleft())
            if on_result:
                on_result(item)
            yield item
