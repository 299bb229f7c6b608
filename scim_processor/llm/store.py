"""The local store of accepted examples, kept by ``map`` and ``ask`` for fine-tuning.

One JSON Lines file per task under ``$SCIM_PROCESSOR_HOME/llm-examples/`` (``map.jsonl``,
``ask.jsonl``), one object per accepted, validated result::

    {"task": "map", "source": "...", "model": "...",
     "messages": [{"role": "system", ...}, {"role": "user", ...}, {"role": "assistant", "content": "<JSON>"}]}

The user turn holds the record without its secret fields (the model never saw them), the
assistant turn the resource that passed every gate (``map``) or the guarded query that ran
(``ask``). Files are created with mode 0600.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TASKS = ("map", "ask")


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
            ValueError: unknown task.
        """
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r} (one of {', '.join(TASKS)})")
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
        ValueError: a line is not JSON or has no ``messages`` list (the message names the line).
    """
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON: {error}") from None
            if not isinstance(item, dict) or not isinstance(item.get("messages"), list):
                raise ValueError(f"{path}:{number}: not an example ({{\"messages\": [...]}})")  # noqa: TRY004  (bad input)  # noqa: TRY004
            yield item
