"""``ask``: a question → guarded read-only Cypher over the identity graph → rows, or a refusal.

Grounding: the graph schema derived from the SCIM schemas (labels, property keys with types,
relationship types with their endpoints, in the prompt format of neo4j-graphrag /
``GraphCypherQAChain``; the schema graph's own ``Scim*`` labels left out) plus a few distinct
values of the properties questions filter on (``cypher/llm_sample_values.cypher``).

The model answers ``{"cypher": str | null, "parameters": {...}, "refusal": str | null}``
(``response_format`` json_schema; not strict, since ``parameters`` is a free-form object, which
strict mode cannot express). Gates, each failure fed back in the correction loop: JSON shape,
no string literals in the query (values travel in parameters), the Cypher guard in read-only
mode, and the execution itself (in a READ transaction). :class:`AskChain` offers the same as a
LangChain runnable with ``GraphCypherQAChain``'s input and output keys (``query`` → ``result``).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig

from .. import resources
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
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


@dataclass
class AskResult:
    """The outcome of one question.

    Attributes:
        status: ``answered``, ``refused`` or ``failed`` (every attempt rejected).
        errors: every gate error of every attempt; ``guard_rejections`` counts the guard's.
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

    def to_json(self) -> dict[str, Any]:
        """``{"question", "cypher", "parameters", "rows", "refusal", "attempts"}`` (+ ``error`` when failed)."""
        data = {"question": self.question, "cypher": self.cypher, "parameters": self.parameters, "rows": self.rows,
                "refusal": self.refusal, "attempts": self.attempts}  # fmt: skip
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

    Raises:
        ValueError: ``max_attempts`` < 1.
    """

    def __init__(self, processor: ScimProcessor, model: BaseChatModel, max_attempts: int = 3):
        if max_attempts < 1:
            raise ValueError("--max-attempts must be at least 1")
        self.processor = processor
        self.model = model
        self.max_attempts = max_attempts
        self.name = model_name(model)
        self.schema_text = identity_schema(graph_schema(processor)).to_prompt()
        self.samples_text = self._samples()
        self.system = ASK_SYSTEM.render(schema=self.schema_text, samples=self.samples_text)

    def _samples(self) -> str:
        rows = read(self.processor, resources.cypher("llm_sample_values"))
        lines = []
        for key, values in (rows[0] if rows else {}).items():
            label, prop = ("Group", "displayName") if key == "groupDisplayName" else ("User", key)
            shown = sorted({str(v) for v in values or [] if v is not None})[:SAMPLE_LIMIT]
            if shown:
                lines.append(f"{label}.{prop}: " + ", ".join(json.dumps(v, ensure_ascii=False) for v in shown))
        return "\n".join(lines) or "(the graph is empty)"

    def ask(self, question: str) -> AskResult:
        """Runs the chain and the correction loop on one question.

        Raises:
            scim_processor.llm.chat.ModelError: the endpoint failed.
        """
        started = time.perf_counter()
        messages: list[BaseMessage] = [SystemMessage(self.system), HumanMessage(ASK_USER.render(question=question))]
        prompt = [{"role": "system", "content": self.system}, {"role": "user", "content": str(messages[1].content)}]
        runnable = structured(self.model, RESPONSE_FORMAT, strict=False)
        result = AskResult(question, "failed", prompt=prompt)
        for attempt in range(1, self.max_attempts + 1):
            result.attempts = attempt
            output = call(runnable, messages, result.usage)
            errors = self._gates(output, result)
            if not errors:
                result.latency = time.perf_counter() - started
                return result
            result.errors.extend(errors)
            answer = raw_text(output)
            if answer is not None:
                messages.append(AIMessage(answer))
            lines = "\n".join(f"- {e.code} {e.path or '-'}: {e.detail}" for e in errors)
            messages.append(HumanMessage(CORRECTION.render(errors=lines)))
        result.status, result.cypher, result.parameters = "failed", None, {}
        result.latency = time.perf_counter() - started
        return result

    def _gates(self, output: dict[str, Any], result: AskResult) -> list[GateError]:
        parsed = output.get("parsed")
        refused = api_refusal(output)
        if refused:  # the endpoint's own refusal field (OpenAI structured outputs)
            result.status, result.refusal = "refused", refused
            return []
        if not isinstance(parsed, dict):
            return [GateError("json_parse", "", f"answer with one JSON object: {output.get('parsing_error')}")]
        cypher, parameters, refusal = parsed.get("cypher"), parsed.get("parameters") or {}, parsed.get("refusal")
        if not isinstance(parameters, dict) or not (cypher is None or isinstance(cypher, str)):
            return [GateError("json_shape", "", '"cypher" must be a string or null and "parameters" an object')]
        if not cypher or not cypher.strip():
            if isinstance(refusal, str) and refusal.strip():
                result.status, result.refusal, result.answer = "refused", refusal.strip(), parsed
                return []
            return [GateError("json_shape", "", 'give either "cypher" or a "refusal"')]
        if _LITERAL.search(cypher):
            return [GateError("literal_in_query", "cypher", "put string values in parameters and use $name in the query")]
        report = check_read_only(self.processor, cypher, parameters)
        if not report.valid:
            result.guard_rejections += 1
            return [GateError(p.code, "cypher", p.message) for p in report.problems]
        try:
            rows = run_read_only(self.processor, cypher, parameters)
        except CypherRejectedError as error:
            result.guard_rejections += 1
            return [GateError("guard", "cypher", str(error))]
        except GraphError as error:
            return [GateError("execution_error", "cypher", str(error))]
        result.status, result.cypher, result.parameters, result.rows = "answered", cypher, parameters, rows
        result.answer = {"cypher": cypher, "parameters": parameters, "refusal": None}
        return []


class AskChain(Runnable[Any, dict[str, Any]]):
    """:class:`Asker` as a LangChain runnable, shaped like ``GraphCypherQAChain``.

    Input: ``{"query": question}`` or the question string. Output: ``{"query", "result"`` (the
    rows), ``"cypher", "parameters", "refusal", "attempts", "intermediate_steps"}``, so it composes
    with ``|`` (e.g. into a prompt that phrases the rows as an answer).
    """

    def __init__(self, asker: Asker):
        self.asker = asker

    @classmethod
    def from_llm(cls, llm: BaseChatModel, processor: ScimProcessor, max_attempts: int = 3) -> AskChain:
        """The chain for ``llm`` over ``processor``'s graph (``GraphCypherQAChain.from_llm``'s shape)."""
        return cls(Asker(processor, llm, max_attempts))

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        """Answers one question (see the class docstring for the shapes)."""
        question = input if isinstance(input, str) else str(input["query"])
        result = self.asker.ask(question)
        return {
            "query": question, "result": result.rows, "cypher": result.cypher, "parameters": result.parameters,
            "refusal": result.refusal, "attempts": result.attempts,
            "intermediate_steps": [{"query": result.cypher, "parameters": result.parameters}, {"context": result.rows}],
        }  # fmt: skip
