"""``eval``: run the configured model over a labelled set and report the metrics of issue 8.

Map set, one JSON object per line: ``{"id", "format": "json"|"jsonl"|"csv"|"ldif", "text": <the
record in that format>, "resourceType", "expected": <the SCIM resource>}``. Records run as a dry
run (nothing written). Metrics: schema-valid rate (accepted / records), exact-attribute
precision and recall (micro-averaged over ``(attribute path, normalised value)`` pairs of the
accepted resources vs. ``expected``; ``schemas`` and ``id`` left out), ungrounded-value rate
(records with at least one ``ungrounded_value`` or ``secret_value`` error in any attempt),
rejected-after-N rate, mean attempts, latency (mean and max seconds per record), prompt and
completion tokens (as the endpoint reports them), model calls (in all, per record, and per shape
of the whole-file items).

A whole-file item (issue 16 §7) has ``"expected"`` as a list, one resource per record of
``"text"`` (a CSV, JSON Lines, JSON array or LDIF file with many rows of one shape): it is mapped
as ``map`` maps a file (one proposal for its shape, nothing stored, a dry run), and its rows count
as records. ``eval map --details FILE`` writes one JSON line per item: ``{"id", "status",
"modelCalls", "resource", "dropped", "errors", "precision", "recall"}`` (a file's ``resource`` is
the list of its rows' resources, null for a rejected row; ``status`` accepted, partial or rejected).

Ask set: ``{"id", "question", "cypher", "parameters", "ordered": false}`` for answerable
questions (expected rows = the reference query's rows on the graph) or ``{"id", "question",
"refusal": true}``. Metrics: execution accuracy (answerable questions whose rows equal the
reference's: row values compared as multisets, in order when ``ordered``; column names ignored),
refusal accuracy (questions where refusing matched the label), guard rejections, mean attempts,
latency and tokens.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .asker import Asker
from .core import ScimProcessor, run_read_only
from .gates import normalise
from .mapper import Mapper
from .proposer import ProposalError
from .records import parse_text
from .shape_mapper import ShapeMapper
from .shapes import SourceFile


def load_dataset(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON Lines dataset.

    Raises:
        UsageError: a line is not a JSON object (the message names the line).
    """
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise UsageError(f"{path}:{number}: not JSON: {error}") from None
            if not isinstance(item, dict):
                raise UsageError(f"{path}:{number}: not a JSON object")
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


@dataclass
class _Tally:
    """Counts of one ``eval map`` run."""

    records: int = 0
    accepted: int = 0
    ungrounded: int = 0
    rejected: int = 0
    attempts: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_calls: int = 0
    model_calls_files: int = 0
    record_items: int = 0
    files: int = 0
    shapes: set[str] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)

    def compare(self, got: Mapping[str, Any] | None, expected: Mapping[str, Any] | None) -> tuple[int, int, int]:
        """Adds one resource's true/false positives and false negatives; returns them."""
        want = attribute_pairs(expected)
        have = attribute_pairs(got) if got is not None else Counter[tuple[str, str]]()
        tp, fp, fn = sum((have & want).values()), sum((have - want).values()), sum((want - have).values())
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        return tp, fp, fn


def evaluate_map(
    processor: ScimProcessor,
    mapper: Mapper,
    items: Iterable[dict[str, Any]],
    shape_mapper: ShapeMapper | None = None,
    details: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]:
    """Runs every item (dry run) and returns the metrics (see the module docstring).

    Args:
        processor: the processor (nothing is written).
        mapper: the per-record mapper (items whose ``expected`` is one resource).
        items: the labelled set.
        shape_mapper: the shape mapper for whole-file items (``expected`` a list); required if any.
        details: called with one line per item: ``{"id", "status", "modelCalls", "resource",
            "dropped", "errors", "precision", "recall"}``.
    """
    tally = _Tally()
    for item in items:
        _require(item, ("text", "format"))
        whole_file = isinstance(item.get("expected"), list)
        line = _evaluate_file(item, shape_mapper, tally) if whole_file else _evaluate_record(item, mapper, tally)
        if details:
            details(line)
    n = tally.records
    return {
        "task": "map", "records": n, "schemaValidRate": _rate(tally.accepted, n),
        "precision": _rate(tally.tp, tally.tp + tally.fp), "recall": _rate(tally.tp, tally.tp + tally.fn),
        "ungroundedValueRate": _rate(tally.ungrounded, n), "rejectedAfterNRate": _rate(tally.rejected, n),
        "maxAttempts": mapper.max_attempts, "meanAttempts": round(tally.attempts / tally.record_items, 3) if tally.record_items else None,
        "latencyMeanSeconds": round(sum(tally.latencies) / len(tally.latencies), 3) if tally.latencies else None,
        "latencyMaxSeconds": round(max(tally.latencies), 3) if tally.latencies else None,
        "promptTokens": tally.prompt_tokens, "completionTokens": tally.completion_tokens, "model": mapper.name,
        "modelCalls": tally.model_calls, "modelCallsPerRecord": round(tally.model_calls / n, 4) if n else None,
        "files": tally.files, "shapes": len(tally.shapes),
        "modelCallsPerShape": round(tally.model_calls_files / len(tally.shapes), 3) if tally.shapes else None,
    }  # fmt: skip


def _evaluate_record(item: Mapping[str, Any], mapper: Mapper, tally: _Tally) -> dict[str, Any]:
    records = parse_text(str(item["text"]), str(item["format"]), f"eval:{item.get('id')}")
    if len(records) != 1:
        raise UsageError(f"eval item {item.get('id')!r}: 'text' must hold exactly one record, not {len(records)}")
    result = mapper.map_record(records[0], str(item.get("resourceType", "User")))
    tally.records += 1
    tally.record_items += 1
    tally.attempts += result.attempts
    tally.model_calls += result.usage.calls
    tally.latencies.append(result.latency)
    tally.prompt_tokens += result.usage.prompt_tokens
    tally.completion_tokens += result.usage.completion_tokens
    if any(e.code in ("ungrounded_value", "secret_value") for e in result.errors):
        tally.ungrounded += 1
    resource = result.result.resource if result.accepted else None
    tally.accepted += result.accepted
    tally.rejected += not result.accepted
    tp, fp, fn = tally.compare(resource, item.get("expected"))
    return {"id": item.get("id"), "status": result.result.status, "modelCalls": result.usage.calls, "resource": resource,
            "dropped": [], "errors": [e.to_json() for e in result.errors], "precision": _rate(tp, tp + fp),
            "recall": _rate(tp, tp + fn)}  # fmt: skip


def _evaluate_file(item: Mapping[str, Any], shape_mapper: ShapeMapper | None, tally: _Tally) -> dict[str, Any]:
    if shape_mapper is None:
        raise UsageError(f"eval item {item.get('id')!r}: a whole-file item needs a shape mapper")
    expected: list[Any] = list(item["expected"])
    suffix = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "ldif": ".ldif"}.get(str(item["format"]))
    if suffix is None:
        raise UsageError(f"eval item {item.get('id')!r}: a whole file is csv, json, jsonl or ldif")
    started = time.perf_counter()
    tally.files += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{item.get('id', 'file')}{suffix}"
        path.write_text(str(item["text"]), encoding="utf-8")
        source = SourceFile.open(path)
        tally.shapes.add(source.shape().fingerprint)
        try:
            plan = shape_mapper.plan(source, str(item.get("resourceType", "User")), store=False)
        except ProposalError as error:
            calls, errors, results = error.model_calls, [i.to_json() for i in error.issues] or [{"detail": str(error)}], []
        else:
            calls, errors = plan.model_calls, []
            if plan.proposal is not None:
                tally.prompt_tokens += plan.proposal.usage.prompt_tokens
                tally.completion_tokens += plan.proposal.usage.completion_tokens
            results = list(shape_mapper.apply(source, plan.mapping, dry_run=True))
    tally.model_calls += calls
    tally.model_calls_files += calls
    tally.latencies.append(time.perf_counter() - started)
    got = [r.result.resource if r.result.accepted else None for r in results]
    got += [None] * (len(expected) - len(got))
    tp = fp = fn = 0
    for have, want in zip(got, expected, strict=False):
        one = tally.compare(have, want)
        tp, fp, fn = tp + one[0], fp + one[1], fn + one[2]
    accepted = sum(r.result.accepted for r in results)
    tally.records += len(expected)
    tally.accepted += accepted
    tally.rejected += len(expected) - accepted
    errors += [{"source": r.result.source, **(r.result.error.to_dict() if r.result.error else {})} for r in results if not r.result.accepted]
    status = "accepted" if results and accepted == len(expected) else "rejected" if not accepted else "partial"
    return {"id": item.get("id"), "status": status, "modelCalls": calls, "resource": got,
            "dropped": [d for r in results for d in r.dropped], "errors": errors, "precision": _rate(tp, tp + fp),
            "recall": _rate(tp, tp + fn)}  # fmt: skip


def _require(item: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    missing = [key for key in keys if key not in item]
    if missing:
        raise UsageError(f"eval item {item.get('id')!r} lacks {', '.join(missing)}")


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
