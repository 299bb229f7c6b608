"""``eval``: run the configured model over a labelled set and report the metrics of issue 8.

Map set, one JSON object per line: ``{"id", "format": "json"|"jsonl"|"csv"|"ldif", "text": <the
record in that format>, "resourceType", "expected": <the SCIM resource>}``. Records run as a dry
run (nothing written). Metrics: schema-valid rate (accepted / records), exact-attribute
precision and recall (micro-averaged over ``(attribute path, normalised value)`` pairs of the
accepted resources vs. ``expected``; ``schemas`` and ``id`` left out), ungrounded-value rate
(records with at least one ``ungrounded_value`` or ``secret_value`` error in any attempt),
rejected-after-N rate, mean attempts, latency (mean and max seconds per record), prompt and
completion tokens (as the endpoint reports them).

Ask set: ``{"id", "question", "cypher", "parameters", "ordered": false}`` for answerable
questions (expected rows = the reference query's rows on the graph) or ``{"id", "question",
"refusal": true}``. Metrics: execution accuracy (answerable questions whose rows equal the
reference's: row values compared as multisets, in order when ``ordered``; column names ignored),
refusal accuracy (questions where refusing matched the label), guard rejections, mean attempts,
latency and tokens.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .asker import Asker
from .core import ScimProcessor, run_read_only
from .gates import normalise
from .mapper import Mapper
from .records import parse_text


def load_dataset(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON Lines dataset.

    Raises:
        ValueError: a line is not a JSON object (the message names the line).
    """
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON: {error}") from None
            if not isinstance(item, dict):
                raise ValueError(f"{path}:{number}: not a JSON object")
            items.append(item)
    return items


def attribute_pairs(resource: Mapping[str, Any] | None, prefix: str = "") -> Counter[tuple[str, str]]:
    """The ``(path, normalised value)`` pairs of a resource's leaves (``schemas``, ``id`` left out; list items unordered)."""
    pairs: Counter[tuple[str, str]] = Counter()
    for name, value in (resource or {}).items():
        if not prefix and name in ("schemas", "id"):
            continue
        path = f"{prefix}{name}"
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Mapping):
                pairs.update(attribute_pairs(item, path + "."))
            elif item is not None:
                pairs[(path, normalise(json.dumps(item) if isinstance(item, bool) else str(item)))] += 1
    return pairs


def evaluate_map(processor: ScimProcessor, mapper: Mapper, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Runs ``mapper`` on every item (dry run) and returns the metrics (see the module docstring)."""
    n = accepted = ungrounded = rejected = attempts = 0
    tp = fp = fn = prompt_tokens = completion_tokens = 0
    latencies: list[float] = []
    for item in items:
        _require(item, ("text", "format"))
        records = parse_text(str(item["text"]), str(item["format"]), f"eval:{item.get('id')}")
        if len(records) != 1:
            raise ValueError(f"eval item {item.get('id')!r}: 'text' must hold exactly one record, not {len(records)}")
        result = mapper.map_record(records[0], str(item.get("resourceType", "User")))
        n += 1
        attempts += result.attempts
        latencies.append(result.latency)
        prompt_tokens += result.usage.prompt_tokens
        completion_tokens += result.usage.completion_tokens
        if any(e.code in ("ungrounded_value", "secret_value") for e in result.errors):
            ungrounded += 1
        expected = attribute_pairs(item.get("expected"))
        if result.accepted:
            accepted += 1
            got = attribute_pairs(result.result.resource)
            tp += sum((got & expected).values())
            fp += sum((got - expected).values())
            fn += sum((expected - got).values())
        else:
            rejected += 1
            fn += sum(expected.values())
    return {
        "task": "map", "records": n, "schemaValidRate": _rate(accepted, n),
        "precision": _rate(tp, tp + fp), "recall": _rate(tp, tp + fn),
        "ungroundedValueRate": _rate(ungrounded, n), "rejectedAfterNRate": _rate(rejected, n),
        "maxAttempts": mapper.max_attempts, "meanAttempts": round(attempts / n, 3) if n else None,
        "latencyMeanSeconds": round(sum(latencies) / n, 3) if n else None,
        "latencyMaxSeconds": round(max(latencies), 3) if n else None,
        "promptTokens": prompt_tokens, "completionTokens": completion_tokens, "model": mapper.name,
    }  # fmt: skip


def _require(item: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    missing = [key for key in keys if key not in item]
    if missing:
        raise ValueError(f"eval item {item.get('id')!r} lacks {', '.join(missing)}")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _rows_key(rows: list[dict[str, Any]], ordered: bool) -> list[str] | Counter[str]:
    values = [json.dumps(sorted(json.dumps(v, sort_keys=True, default=str) for v in row.values()), default=str) for row in rows]
    return values if ordered else Counter(values)


def evaluate_ask(processor: ScimProcessor, asker: Asker, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Runs ``asker`` on every question and returns the metrics (see the module docstring)."""
    n = answerable = correct = refusal_ok = guard = attempts = prompt_tokens = completion_tokens = 0
    latencies: list[float] = []
    for item in items:
        _require(item, ("question",) if item.get("refusal") else ("question", "cypher"))
        result = asker.ask(str(item["question"]))
        n += 1
        attempts += result.attempts
        guard += result.guard_rejections
        latencies.append(result.latency)
        prompt_tokens += result.usage.prompt_tokens
        completion_tokens += result.usage.completion_tokens
        should_refuse = bool(item.get("refusal"))
        refusal_ok += should_refuse == (result.status == "refused")
        if not should_refuse:
            answerable += 1
            expected = run_read_only(processor, str(item["cypher"]), item.get("parameters") or {})
            ordered = bool(item.get("ordered"))
            correct += result.status == "answered" and _rows_key(result.rows, ordered) == _rows_key(expected, ordered)
    return {
        "task": "ask", "questions": n, "answerable": answerable, "executionAccuracy": _rate(correct, answerable),
        "refusalAccuracy": _rate(refusal_ok, n), "guardRejections": guard,
        "meanAttempts": round(attempts / n, 3) if n else None,
        "latencyMeanSeconds": round(sum(latencies) / n, 3) if n else None,
        "latencyMaxSeconds": round(max(latencies), 3) if n else None,
        "promptTokens": prompt_tokens, "completionTokens": completion_tokens, "model": asker.name,
    }  # fmt: skip
