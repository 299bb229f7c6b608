"""``map``: records → narrowed context → structured output → gates → correction loop → Cypher → apply.

For each record the :class:`Mapper` retrieves the narrowed grounding context
(:mod:`~scim_processor.llm.retrieval`), derives the JSON Schema of the answer
(:mod:`~scim_processor.llm.json_schema`), asks the model for structured output, and runs the
gates (:mod:`~scim_processor.llm.gates`). A failed gate's errors go back to the model in a
follow-up message; after ``max_attempts`` calls the record is rejected with every error. An
accepted resource is written exactly as ``process`` writes it (one batch at the end, unless a
dry run). Secret record fields are never shown to the model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from ..errors import InvalidValueError, PayloadTooLargeError, UsageError
from ..pipeline import ResultStatus
from .chat import Usage, api_refusal, call, model_name, raw_text, structured
from .core import PayloadResult, ScimProcessor, apply_resources
from .gates import Dropped, GateError, run_gates
from .json_schema import response_format
from .prompts import CORRECTION, MAP_SYSTEM, MAP_USER
from .records import Record
from .retrieval import SchemaRetriever


@dataclass
class MapResult:
    """The outcome for one record: ``process``'s result plus the attempts, model and cost.

    Attributes:
        record: the input record.
        result: the payload result (status, resource, cypher, error) as ``process`` reports it.
        attempts: model calls made (1..max_attempts).
        model: the model's name.
        errors: every gate error of every attempt, in order.
        usage: tokens reported by the endpoint.
        latency: wall time of the model calls and gates, in seconds.
        prompt: the system and user messages of the first attempt (for the fine-tuning store).
        context_text: the narrowed context rendered into the prompt.
        dropped: ungrounded optional values removed from the accepted resource (issue 16 §6).
    """

    record: Record
    result: PayloadResult
    attempts: int
    model: str
    errors: list[GateError] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    latency: float = 0.0
    prompt: list[dict[str, str]] = field(default_factory=list)
    context_text: str = ""
    dropped: list[Dropped] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """True if the record became an accepted resource."""
        return self.result.accepted

    def to_json(self) -> dict[str, Any]:
        """The results-file line: ``process``'s object plus ``attempts``, ``model`` and ``dropped`` (``[{"path", "value", "code"}]``)."""
        return {**self.result.to_json(), "attempts": self.attempts, "model": self.model, "dropped": [d.to_json() for d in self.dropped]}


class Mapper:
    """Maps non-SCIM records to validated SCIM resources with a chat model.

    Args:
        processor: an open processor (schema graph, SCIM gate, guard, writes).
        model: any LangChain ``BaseChatModel`` (``ChatOpenAI`` by default in the CLI).
        max_attempts: model calls per record, >= 1 (the correction loop's bound; it stops
            earlier when the model repeats an answer it already gave).
        strict_grounding: reject an ungrounded optional value instead of dropping it.

    Raises:
        UsageError: ``max_attempts`` < 1.
    """

    def __init__(self, processor: ScimProcessor, model: BaseChatModel, max_attempts: int = 3, *, strict_grounding: bool = False):
        if max_attempts < 1:
            raise UsageError("--max-attempts must be at least 1")
        self.processor = processor
        self.model = model
        self.max_attempts = max_attempts
        self.strict_grounding = strict_grounding
        self.retriever = SchemaRetriever(processor)
        self.name = model_name(model)

    def prompt(self, record: Record, resource_type: str) -> tuple[list[BaseMessage], Any, str]:
        """The first messages, the structured runnable and the rendered narrowed context for ``record``."""
        narrowed = self.retriever.narrow(record, resource_type)
        text = narrowed.render()
        messages: list[BaseMessage] = [
            SystemMessage(MAP_SYSTEM.render(resource_type=resource_type, context=text)),
            HumanMessage(MAP_USER.render(format=record.format, record=str(record.fields["text"]) if record.is_text
                                         else json.dumps(record.visible(), ensure_ascii=False, indent=1))),
        ]
        return messages, structured(self.model, response_format(narrowed.context), strict=True), text

    def map_record(self, record: Record, resource_type: str = "User") -> MapResult:
        """Runs the chain and the correction loop on one record; nothing is written.

        Raises:
            UsageError: unknown resource type.
            scim_processor.llm.chat.ModelError: the endpoint failed.
        """
        started = time.perf_counter()
        full = self.retriever.full_context(resource_type)
        resource_type = full.resource_type.name  # as registered ("group" → "Group")
        if record.oversize:  # a text record over the size limit: never sent to the model
            error = PayloadTooLargeError(f"the text record has {record.oversize} bytes, over the size limit of one text record")
            return MapResult(record, PayloadResult(record.source, ResultStatus.REJECTED, resource_type, error=error), 0, self.name)
        messages, runnable, text = self.prompt(record, resource_type)
        prompt = [{"role": "system", "content": str(messages[0].content)}, {"role": "user", "content": str(messages[1].content)}]
        usage, errors, answers = Usage(), list[GateError](), list[str]()
        attempt = 0
        while attempt < self.max_attempts:
            attempt += 1
            output = call(runnable, messages, usage)
            refused = api_refusal(output)
            if refused:
                outcome_errors = [GateError("model_refusal", "", f"the model refused: {refused[:200]}; map the record's data only")]
                outcome = None
            elif output.get("parsing_error") is not None or output.get("parsed") is None:
                outcome_errors = [GateError("json_parse", "", f"the output is not one JSON object: {output.get('parsing_error')}")]
                outcome = None
            else:
                outcome = run_gates(self.processor, output["parsed"], record, full, strict=self.strict_grounding)
                outcome_errors = outcome.errors
            if outcome is not None and outcome.passed and outcome.result is not None:
                return MapResult(record, outcome.result, attempt, self.name, errors, usage,
                                 time.perf_counter() - started, prompt, text, outcome.dropped)  # fmt: skip
            errors.extend(outcome_errors)
            answer = raw_text(output)
            same = json.dumps(output.get("parsed"), sort_keys=True, default=str)
            if output.get("parsed") is not None and same in answers:
                break  # the model gave this answer before: another correction would get it again
            answers.append(same)
            if answer is not None:
                messages.append(AIMessage(answer))
            lines = "\n".join(f"- {e.code} {e.path or '-'}: {e.detail}" for e in outcome_errors)
            messages.append(HumanMessage(CORRECTION.render(errors=lines)))
        detail = f"rejected after {attempt} attempt(s): " + "; ".join(f"{e.code} {e.path}: {e.detail}" for e in errors)
        rejected = PayloadResult(record.source, ResultStatus.REJECTED, resource_type, error=InvalidValueError(detail))
        return MapResult(record, rejected, attempt, self.name, errors, usage, time.perf_counter() - started, prompt, text)

    def map(
        self,
        records: Sequence[Record],
        resource_type: str = "User",
        *,
        dry_run: bool = False,
        on_result: Callable[[MapResult], None] | None = None,
    ) -> list[MapResult]:
        """Maps every record, then writes the accepted resources as ``process`` does (not in a dry run).

        Returns:
            One :class:`MapResult` per record, in input order (a write refused by the graph, e.g. a
            uniqueness conflict, turns its result into a rejection).
        """
        results = [self.map_record(record, resource_type) for record in records]
        if not dry_run:
            accepted = [r for r in results if r.accepted and r.result.resource is not None]
            written = apply_resources(self.processor, [(r.record.source, r.result.resource or {}) for r in accepted])
            for item, applied in zip(accepted, written, strict=True):
                item.result = applied
        for item in results:
            if on_result:
                on_result(item)
        return results
