"""``finetune export``: accepted examples → chat-format JSON Lines for supervised fine-tuning.

Each line is ``{"messages": [{"role": "system", ...}, {"role": "user", ...}, {"role":
"assistant", "content": "<the validated JSON>"}]}``: the format OpenAI's fine-tuning API and
Hugging Face TRL's ``SFTTrainer`` both read (so the dataset stays portable to any trainer).
Examples are deduplicated on their messages; those whose text holds a secret-looking field
name or a value the gates would reject are left out (defence in depth: the store never gets
them). The validation split is deterministic (a hash of each example decides), so re-exporting
the same store gives the same files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .records import is_secret_field

MIN_EXAMPLES = 10  # OpenAI's minimum per fine-tuning job


@dataclass(frozen=True)
class ExportReport:
    """Counts of an export: lines written to the training and validation files, duplicates and secret-bearing examples dropped."""

    train: int
    validation: int
    duplicates: int
    secret_dropped: int
    train_path: Path
    validation_path: Path | None


def validation_path(output: Path) -> Path:
    """``train.jsonl`` → ``train.validation.jsonl``."""
    return output.with_name(output.stem + ".validation" + (output.suffix or ".jsonl"))


def _has_secret(messages: list[dict[str, Any]]) -> bool:
    for message in messages:
        if message.get("role") not in ("user", "assistant"):
            continue
        try:
            data = json.loads(str(message.get("content", "")).split("\n", 1)[-1])
        except json.JSONDecodeError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if any(is_secret_field(str(key)) for key in item):
                    return True
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return False


def export(examples: Iterable[dict[str, Any]], output: Path, validation_split: float = 0.1) -> ExportReport:
    """Writes the deduplicated, secret-free examples to ``output`` and ``validation_path(output)``.

    Args:
        examples: store objects (``{"messages": [...]}``).
        output: the training file (chat JSONL).
        validation_split: share of examples for validation, 0 <= x < 1 (0: no validation file).

    Raises:
        UsageError: ``validation_split`` out of range.
        OSError: the files cannot be written.
    """
    if not 0 <= validation_split < 1:
        raise UsageError("--validation-split must be in [0, 1)")
    seen: set[str] = set()
    train: list[str] = []
    validation: list[str] = []
    duplicates = dropped = 0
    for example in examples:
        messages = [{"role": m["role"], "content": m["content"]} for m in example["messages"]]
        line = json.dumps({"messages": messages}, ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256(line.encode()).hexdigest()
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        if _has_secret(messages):
            dropped += 1
            continue
        (validation if int(digest[:8], 16) / 0xFFFFFFFF < validation_split else train).append(line)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(line + "\n" for line in train), encoding="utf-8")
    vpath = validation_path(output) if validation_split > 0 else None
    if vpath is not None:
        vpath.write_text("".join(line + "\n" for line in validation), encoding="utf-8")
    return ExportReport(len(train), len(validation), duplicates, dropped, output, vpath)
