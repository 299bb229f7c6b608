"""``ask``: a question → guarded read-only Cypher over the identity graph → rows, or a refusal.

Grounding: the graph schema derived from the SCIM schemas (labels, property keys with types,
relationship types with their endpoints, in the prompt format of neo4j-graphrag /
``GraphCypherQAChain``; the schema graph's own ``Scim*`` labels left out), a few distinct values
of the properties questions filter on (``cypher/llm_sample_values.cypher``), a few users with
their ``displayName``, ``name_givenName`` and ``name_familyName`` beside their ``userName``
(``cypher/llm_sample_people.cypher``, so "Ana Lima" is looked up by name, not as a login), the three
examples nearest to the question (:func:`scim_processor.llm.store.nearest_examples`: the
example store's accepted pairs plus a bundled set).

The model answers ``{"cypher": str | null, "parameters": {...}, "refusal": str | null}``
(``response_format`` json_schema; not strict, since ``parameters`` is a free-form object, which
strict mode cannot express). Then, each failure fed back in the correction loop:

1. JSON shape;
2. string and number literals become parameters (:func:`scim_processor.guard.literals.parameterize`:
   ``$p1``, ``$p2``, ... from the parse tree), so a literal is repaired, not refused;
3. the Cypher guard in read-only mode, on the rewritten query;
4. the execution itself (in a READ transaction).

The loop stops after ``max_attempts`` model calls, or earlier when the model repeats an answer.
When every attempt failed only on names the schema lacks (``unknown_property``,
``unknown_label``, ``unknown_relationship_type``), the result is a refusal naming them ("the
identity graph has no salary"), not a failure. Every attempt is kept in
:attr:`AskResult.history`. :class:`AskChain` offers the same as a LangChain runnable with
``GraphCypherQAChain``'s input and output keys (``query`` → ``result``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig

from .. import resources
from ..errors import UsageError
from ..guard import CypherSyntaxError
from ..guard.literals import parameterize
from .chat import Usage, api_refusal, call, model_name, raw_text, structured
from .core import (
    CypherRejectedError,
    GraphError,
    GraphSchema,
    ScimProcessor,
    check_read_only,
    graph_schema,
    read,
    run_read_only,
)
from .gates import GateError
from .prompts import ASK_SYSTEM, ASK_USER, CORRECTION
from .store import AskExample, ExampleStore, bundled_ask_examples, nearest_examples, render_examples, stored_ask_examples

RESPONSE_FORMAT: dict[str, Any] = {
    "name": "cypher_answer",
    "schema": {
        "type": "object",
        "properties": {
            "cypher": {"type": ["string", "null"], "description": "one read-only Cypher query, or null to refuse"},
            "parameters": {"type": "object", "description": "the query's $parameters and their values"},
            "refusal": {"type": ["string", "null"], "description": "why the graph cannot answer, or null"},
        },
        "required": ["cypher", "parameters", "refusal"],
        "additionalProperties": False,
    },
    "strict": False,
}
SAMPLE_LIMIT = 12
"""Distinct sample values shown per property."""
PEOPLE_SAMPLE_LIMIT = 5
"""Users shown with their display name, name parts and userName side by side."""
SCHEMA_CODES = frozenset({"unknown_property", "unknown_label", "unknown_relationship_type"})
"""Guard codes meaning "the schema has no such name": attempts failing only on these make a refusal."""


@dataclass
class Attempt:
    """One model call of the loop.

    Attributes:
        cypher: the query checked (literals already moved into parameters), or None.
        parameters: its parameters.
        errors: what rejected it (empty for the answer that ran, or a refusal).
        missing: the names the schema lacks, from the guard's ``unknown_*`` errors.
    """

    cypher: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    errors: list[GateError] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def schema_only(self) -> bool:
        """True if the attempt failed, and only on names the schema lacks."""
        return bool(self.errors) and bool(self.missing) and all(e.code in SCHEMA_CODES for e in self.errors)

    def to_json(self) -> dict[str, Any]:
        """``{"cypher", "parameters", "errors": [{"code", "path", "detail"}]}``."""
        return {"cypher": self.cypher, "parameters": self.parameters, "errors": [e.to_json() for e in self.errors]}


@dataclass
class AskResult:
    """The outcome of one question.

    Attributes:
        status: ``answered``, ``refused`` (by the model, or because the schema lacks what the
            question names) or ``failed`` (every attempt rejected).
        errors: every gate error of every attempt; ``guard_rejections`` counts the guard's.
        history: one :class:`Attempt` per model call, in order.
        examples: the examples retrieved into the prompt.
    """

    question: str
    status: str
    cypher: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    refusal: str | None = None
    attempts: int = 0
    errors: list[GateError] = field(default_factory=list)
    guard_rejections: int = 0
    usage: Usage = field(default_factory=Usage)
    latency: float = 0.0
    prompt: list[dict[str, str]] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    history: list[Attempt] = field(default_factory=list)
    examples: list[AskExample] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"question", "cypher", "parameters", "rows", "refusal", "attempts", "history"}`` (+ ``error`` when failed).

        ``history`` holds one ``{"cypher", "parameters", "errors"}`` per model call.
        """
        data = {"question": self.question, "cypher": self.cypher, "parameters": self.parameters, "rows": self.rows,
                "refusal": self.refusal, "attempts": self.attempts, "history": [a.to_json() for a in self.history]}  # fmt: skip
        if self.status == "failed":
            data["error"] = "; ".join(f"{e.code}: {e.detail}" for e in self.errors[-3:])
        return data


def identity_schema(schema: GraphSchema) -> GraphSchema:
    """``schema`` without the schema graph's own ``Scim*`` labels and their relationships."""
    node_props = {label: props for label, props in schema.node_props.items() if not label.startswith("Scim")}
    relationships = frozenset(r for r in schema.relationships if r[0] in node_props and r[2] in node_props)
    rel_types = {rel for _, rel, _ in relationships}
    return GraphSchema(node_props, {k: v for k, v in schema.rel_props.items() if k in rel_types}, relationships)


class Asker:
    """Answers questions over the identity graph with guarded, read-only, model-written Cypher.

    Args:
        processor: an open processor (graph, guard).
        model: any LangChain ``BaseChatModel``.
        max_attempts: model calls per question, >= 1.
        store: the example store whose accepted ``ask`` pairs are retrieved into the prompt
            (besides the bundled ones); None for the bundled ones only.

    Raises:
        UsageError: ``max_attempts`` < 1.
    """

    def __init__(self, processor: ScimProcessor, model: BaseChatModel, max_attempts: int = 3, *, store: ExampleStore | None = None):
        if max_attempts < 1:
            raise UsageError("--max-attempts must be at least 1")
        self.processor = processor
        self.model = model
        self.max_attempts = max_attempts
        self.name = model_name(model)
        schema = identity_schema(graph_schema(processor))
        self.schema_text = schema.to_prompt()
        self.schema_terms = sorted({*schema.node_props, *(k for props in schema.node_props.values() for k in props),
                                    *(rel for _, rel, _ in schema.relationships)})  # fmt: skip
        self.samples_text = self._samples()
        self.examples: Sequence[AskExample] = [*(stored_ask_examples(store) if store else []), *bundled_ask_examples()]

    def _samples(self) -> str:
        rows = read(self.processor, resources.cypher("llm_sample_values"))
        lines = []
        for key, values in (rows[0] if rows else {}).items():
            label, prop = ("Group", "displayName") if key == "groupDisplayName" else ("User", key)
            shown = sorted({str(v) for v in values or [] if v is not None})[:SAMPLE_LIMIT]
            if shown:
                lines.append(f"{label}.{prop}: " + ", ".join(json.dumps(v, ensure_ascii=False) for v in shown))
        people = read(self.processor, resources.cypher("llm_sample_people"), {"limit": PEOPLE_SAMPLE_LIMIT})
        if people:
            lines.append("Some users (" + ", ".join(f"User.{key}" for key in people[0]) + "):")
            lines.extend("  " + ", ".join(json.dumps(v, ensure_ascii=False) for v in row.values()) for row in people)
        return "\n".join(lines) or "(the graph is empty)"

    def system_prompt(self, question: str) -> tuple[str, list[AskExample]]:
        """The system message for ``question`` and the examples retrieved into it."""
        examples = nearest_examples(question, self.examples, self.schema_terms)
        return ASK_SYSTEM.render(schema=self.schema_text, samples=self.samples_text, examples=render_examples(examples)), examples

    def ask(self, question: str) -> AskResult:
        """Runs the chain and the correction loop on one question.

        Raises:
            scim_processor.llm.chat.ModelError: the endpoint failed.
        """
        started = time.perf_counter()
        system, examples = self.system_prompt(question)
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(ASK_USER.render(question=question))]
        prompt = [{"role": "system", "content": system}, {"role": "user", "content": str(messages[1].content)}]
        runnable = structured(self.model, RESPONSE_FORMAT, strict=False)
        result = AskResult(question, "failed", prompt=prompt, examples=examples)
        answers: list[str] = []
        for attempt in range(1, self.max_attempts + 1):
            result.attempts = attempt
            output = call(runnable, messages, result.usage)
            step = self._gates(output, result)
            result.history.append(step)
            if not step.errors:
                result.latency = time.perf_counter() - started
                return result
            result.errors.extend(step.errors)
            same = json.dumps(output.get("parsed"), sort_keys=True, default=str)
            if output.get("parsed") is not None and same in answers:
                break  # the model gave this answer before: another correction would get it again
            answers.append(same)
            answer = raw_text(output)
            if answer is not None:
                messages.append(AIMessage(answer))
            lines = "\n".join(f"- {e.code} {e.path or '-'}: {e.detail}" for e in step.errors)
            messages.append(HumanMessage(CORRECTION.render(errors=lines)))
        result.cypher, result.parameters = None, {}
        if all(step.schema_only for step in result.history):
            missing = list(dict.fromkeys(name for step in result.history for name in step.missing))
            named = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " or " + missing[-1]
            result.status, result.refusal = "refused", f"the identity graph has no {named}"
        result.latency = time.perf_counter() - started
        return result

    def _gates(self, output: dict[str, Any], result: AskResult) -> Attempt:
        parsed = output.get("parsed")
        refused = api_refusal(output)
        if refused:  # the endpoint's own refusal field (OpenAI structured outputs)
            result.status, result.refusal = "refused", refused
            return Attempt()
        if not isinstance(parsed, dict):
            return Attempt(errors=[GateError("json_parse", "", f"answer with one JSON object: {output.get('parsing_error')}")])
        cypher, parameters, refusal = parsed.get("cypher"), parsed.get("parameters") or {}, parsed.get("refusal")
        if not isinstance(parameters, dict) or not (cypher is None or isinstance(cypher, str)):
            return Attempt(errors=[GateError("json_shape", "", '"cypher" must be a string or null and "parameters" an object')])
        if not cypher or not cypher.strip():
            if isinstance(refusal, str) and refusal.strip():
                result.status, result.refusal, result.answer = "refused", refusal.strip(), parsed
                return Attempt()
            return Attempt(errors=[GateError("json_shape", "", 'give either "cypher" or a "refusal"')])
        try:  # literals → $p1, $p2, ...; a text that does not parse goes to the guard as written (syntax_error)
            rewritten = parameterize(cypher, parameters)
            cypher, parameters = rewritten.query, rewritten.parameters
        except CypherSyntaxError:
            pass
        step = Attempt(cypher, parameters)
        report = check_read_only(self.processor, cypher, parameters)
        if not report.valid:
            result.guard_rejections += 1
            step.errors = [GateError(p.code, "cypher", p.message) for p in report.problems]
            step.missing = [p.name for p in report.errors if p.code in SCHEMA_CODES and p.name]
            return step
        try:
            rows = run_read_only(self.processor, cypher, parameters)
        except CypherRejectedError as error:
            result.guard_rejections += 1
            step.errors = [GateError("guard", "cypher", str(error))]
            return step
        except GraphError as error:
            step.errors = [GateError("execution_error", "cypher", str(error))]
            return step
        result.status, result.cypher, result.parameters, result.rows = "answered", cypher, parameters, rows
        result.answer = {"cypher": cypher, "parameters": parameters, "refusal": None}
        return step


class AskChain(Runnable[Any, dict[str, Any]]):
    """:class:`Asker` as a LangChain runnable, shaped like ``GraphCypherQAChain``.

    Input: ``{"query": question}`` or the question string. Output: ``{"query", "result"`` (the
    rows), ``"cypher", "parameters", "refusal", "attempts", "history", "intermediate_steps"}``, so it composes
    with ``|`` (e.g. into a prompt that phrases the rows as an answer).
    """

    def __init__(self, asker: Asker):
        self.asker = asker

    @classmethod
    def from_llm(cls, llm: BaseChatModel, processor: ScimProcessor, max_attempts: int = 3, *, store: ExampleStore | None = None) -> AskChain:
        """The chain for ``llm`` over ``processor``'s graph (``GraphCypherQAChain.from_llm``'s shape)."""
        return cls(Asker(processor, llm, max_attempts, store=store))

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        """Answers one question (see the class docstring for the shapes)."""
        question = input if isinstance(input, str) else str(input["query"])
        result = self.asker.ask(question)
        return {
            "query": question, "result": result.rows, "cypher": result.cypher, "parameters": result.parameters,
            "refusal": result.refusal, "attempts": result.attempts,
            "history": [attempt.to_json() for attempt in result.history],
            "intermediate_steps": [{"query": result.cypher, "parameters": result.parameters}, {"context": result.rows}],
        }  # fmt: skip
