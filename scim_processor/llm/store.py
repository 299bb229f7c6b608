"""The local store of accepted examples, kept by ``map`` and ``ask`` for fine-tuning.

One JSON Lines file per task under ``$SCIM_PROCESSOR_HOME/llm-examples/`` (``map.jsonl``,
``ask.jsonl``), one object per accepted, validated result::

    {"task": "map", "source": "...", "model": "...",
     "messages": [{"role": "system", ...}, {"role": "user", ...}, {"role": "assistant", "content": "<JSON>"}]}

The user turn holds the record without its secret fields (the model never saw them), the
assistant turn the resource that passed every gate (``map``) or the guarded query that ran
(``ask``). Files are created with mode 0600.

``ask`` retrieves examples into its prompt (issue 16 §8): the accepted (question, Cypher) pairs
of this store plus a small bundled set written for the derived graph schema
(``scim_processor/llm/ask_examples.jsonl``: ``{"question", "cypher", "parameters", "refusal"}``
per line), the :data:`EXAMPLES_IN_PROMPT` nearest to the question by shared words and schema
terms (:func:`nearest_examples`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import UsageError

TASKS = ("map", "ask")
EXAMPLES_IN_PROMPT = 3
_QUESTION_PREFIX = "Question: "  # prompts.ASK_USER
_STOPWORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "and", "or", "is", "are", "was", "were", "be", "do",
    "does", "did", "who", "whom", "whose", "what", "which", "when", "where", "how", "many", "much", "there", "their", "his",
    "her", "its", "it", "this", "that", "these", "those", "all", "any", "each", "me", "my", "our", "your", "as", "from",
    "has", "have", "had",
})  # fmt: skip
_SCHEMA_NAME = re.compile(r"[:.]\s*`?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class AskExample:
    """One (question, answer) pair shown to the model.

    Attributes:
        question: the question as asked.
        cypher: the accepted query (None for a refusal).
        parameters: its parameters.
        refusal: why the graph cannot answer (for a refusal example).
    """

    question: str
    cypher: str | None
    parameters: dict[str, Any] = field(default_factory=dict)
    refusal: str | None = None

    def answer(self) -> str:
        """The answer as the model must write it: ``{"cypher", "parameters", "refusal"}`` JSON."""
        return json.dumps({"cypher": self.cypher, "parameters": self.parameters, "refusal": self.refusal}, ensure_ascii=False)


def _terms(text: str) -> set[str]:
    """Lower-cased words of ``text``, camelCase and snake_case split, stopwords left out, a plural ``s`` dropped."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    words = (w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if len(w) > 1 and w not in _STOPWORDS)
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words}


@cache
def bundled_ask_examples() -> tuple[AskExample, ...]:
    """The examples shipped with the package (``scim_processor/llm/ask_examples.jsonl``)."""
    text = resources.files(__package__).joinpath("ask_examples.jsonl").read_text(encoding="utf-8")
    return tuple(AskExample(**json.loads(line)) for line in text.splitlines() if line.strip())


def stored_ask_examples(store: ExampleStore) -> list[AskExample]:
    """The accepted ``ask`` examples of ``store``, newest first; a line of another shape is skipped, a damaged file read up to the damage."""
    found: list[AskExample] = []
    items: list[dict[str, Any]] = []
    with contextlib.suppress(OSError, ValueError):  # a damaged store never stops a question: the lines read so far are used
        items.extend(store.examples("ask"))
    for item in items:
        messages = item["messages"]
        user = next((str(m.get("content", "")) for m in messages if isinstance(m, dict) and m.get("role") == "user"), "")
        try:
            answer = json.loads(str(messages[-1].get("content", "")))
        except (json.JSONDecodeError, AttributeError):
            continue
        if user.startswith(_QUESTION_PREFIX) and isinstance(answer, dict) and isinstance(answer.get("cypher"), str):
            found.append(AskExample(user[len(_QUESTION_PREFIX):], answer["cypher"], dict(answer.get("parameters") or {})))
    return found[::-1]


def nearest_examples(
    question: str, examples: Iterable[AskExample], schema_terms: Iterable[str], k: int = EXAMPLES_IN_PROMPT
) -> list[AskExample]:
    """The ``k`` examples nearest to ``question``.

    Score: the words the question shares with the example's question, plus the question's words
    that are schema terms (words of the graph schema's labels, property keys and relationship
    types, ``schema_terms``) also named by the example's query. Examples sharing nothing are left
    out; ties keep the order of ``examples`` (stored ones first).
    """
    asked = _terms(question)
    schema = {term for name in schema_terms for term in _terms(name)}
    asked_schema = asked & schema
    scored: list[tuple[int, int, AskExample]] = []
    for index, example in enumerate(examples):
        named = {term for name in _SCHEMA_NAME.findall(example.cypher or "") for term in _terms(name)}
        score = len(asked & _terms(example.question)) + len(asked_schema & named)
        if score:
            scored.append((-score, index, example))
    return [example for _, _, example in sorted(scored, key=lambda item: item[:2])[:k]]


def render_examples(examples: Sequence[AskExample]) -> str:
    """The examples as prompt text: ``Question: ...`` then ``Answer: {...}`` for each; ``(none)`` if empty."""
    return "\n".join(f"{_QUESTION_PREFIX}{e.question}\nAnswer: {e.answer()}" for e in examples) or "(none)"


class ExampleStore:
    """Appends and reads accepted examples.

    Args:
        home: ``SCIM_PROCESSOR_HOME``; the store is its ``llm-examples`` directory.
    """

    def __init__(self, home: Path):
        self.directory = Path(home) / "llm-examples"

    def path(self, task: str) -> Path:
        """The file of ``task`` (``map`` or ``ask``).

        Raises:
            UsageError: unknown task.
        """
        if task not in TASKS:
            raise UsageError(f"unknown task {task!r} (one of {', '.join(TASKS)})")
        return self.directory / f"{task}.jsonl"

    def add(self, task: str, prompt: list[dict[str, str]], answer: dict[str, Any], *, source: str = "", model: str = "") -> None:
        """Appends one example: the ``prompt`` (system, user) and the validated ``answer`` as the assistant turn."""
        path = self.path(task)
        self.directory.mkdir(parents=True, exist_ok=True)
        messages = [*prompt, {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False, sort_keys=True)}]
        line = json.dumps({"task": task, "source": source, "model": model, "messages": messages}, ensure_ascii=False)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as file:
            file.write(line + "\n")

    def examples(self, task: str) -> Iterator[dict[str, Any]]:
        """The stored examples of ``task``, oldest first (none if the file does not exist)."""
        path = self.path(task)
        if path.exists():
            yield from read_examples(path)


def read_examples(path: Path) -> Iterator[dict[str, Any]]:
    """The example objects of a store-format JSON Lines file (``{"messages": [...]}`` per line).

    Raises:
        UsageError: a line is not JSON or has no ``messages`` list (the message names the line).
    """
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise UsageError(f"{path}:{number}: not JSON: {error}") from None
            if not isinstance(item, dict) or not isinstance(item.get("messages"), list):
                raise UsageError(f"{path}:{number}: not an example ({{\"messages\": [...]}})")  # noqa: TRY004  (bad input)  # noqa: TRY004
            yield item
