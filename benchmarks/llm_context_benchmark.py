"""Prompt size of `map`'s narrowed grounding context vs. the whole-schema string, over the public eval set.

Run:  .venv/bin/python benchmarks/llm_context_benchmark.py [DATASET]   (default tests/data/llm_eval_map.jsonl)

For each record of the map eval set, the retrieval narrows the resource type's schemas with Cypher
over the schema graph (on the embedded server, fresh home); the rendered narrowed context is
compared with every loaded schema rendered (all resource types' whole contexts: what a prompt
without retrieval would carry). Goal of issue 8: <= 20 %.

Tokens are counted with a documented approximation, since no BPE vocabulary can be fetched
offline here (tiktoken downloads its encodings): one token per run of word characters and one
per other non-space character (regex ``\\w+|[^\\w\\s]``). On this schema text (URNs, camelCase
names, punctuation) that over-counts BPE tokens by a roughly constant factor, so the *ratio* is
what to read. Characters are printed as a second, tokenizer-free measure.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from scim_processor.llm.core import Settings, open_processor
from scim_processor.llm.json_schema import resource_schema
from scim_processor.llm.records import parse_text
from scim_processor.llm.retrieval import SchemaRetriever

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text: str) -> int:
    """Approximate token count (see the module docstring)."""
    return len(TOKEN.findall(text))


def main() -> None:
    dataset = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "llm_eval_map.jsonl"
    lines = [json.loads(line) for line in dataset.read_text().splitlines() if line.strip()]
    items = [item for item in lines if not isinstance(item.get("expected"), list)]  # whole-file items have no per-record context
    with tempfile.TemporaryDirectory() as home, open_processor(Settings(home=Path(home))) as processor:
        retriever = SchemaRetriever(processor)
        whole = retriever.whole_schema_prompt()
        whole_tokens, whole_chars = tokens(whole), len(whole)
        ratios: list[float] = []
        by_format: dict[str, list[float]] = defaultdict(list)
        narrowed_total = narrowed_chars = schema_total = 0
        whole_schema_json = sum(tokens(json.dumps(resource_schema(retriever.full_context(name)))) for name in retriever.resource_types)
        seconds: list[float] = []
        for item in items:
            [record] = parse_text(item["text"], item["format"], item["id"])
            started = time.perf_counter()
            narrowed = retriever.narrow(record, item.get("resourceType", "User"))
            text = narrowed.render()
            schema_total += tokens(json.dumps(resource_schema(narrowed.context)))
            seconds.append(time.perf_counter() - started)
            ratio = tokens(text) / whole_tokens
            ratios.append(ratio)
            by_format[item["format"]].append(ratio)
            narrowed_total += tokens(text)
            narrowed_chars += len(text)
        print(f"records: {len(items)}  whole-schema string: {whole_tokens} tokens (approx.), {whole_chars} characters")
        print(f"narrowed context: mean {statistics.mean(ratios):.1%}, median {statistics.median(ratios):.1%}, "
              f"max {max(ratios):.1%}, min {min(ratios):.1%} of the whole-schema tokens")  # fmt: skip
        print(f"over the set: {narrowed_total} / {whole_tokens * len(items)} tokens = {narrowed_total / (whole_tokens * len(items)):.1%}")
        print(f"characters: {narrowed_chars / (whole_chars * len(items)):.1%} of the whole-schema string")
        print(f"response_format JSON Schema (sent with the prompt): narrowed {schema_total / len(items):.0f} tokens on average, "
              f"{schema_total / (whole_schema_json * len(items)):.1%} of the whole schemas' ({whole_schema_json})")  # fmt: skip
        for fmt, values in sorted(by_format.items()):
            print(f"  {fmt:6} n={len(values):2}  mean {statistics.mean(values):.1%}  max {max(values):.1%}")
        print(f"retrieval (one Cypher query + narrowing) per record: median {statistics.median(seconds) * 1000:.1f} ms, "
              f"max {max(seconds) * 1000:.1f} ms")  # fmt: skip
        goal = statistics.mean(ratios) <= 0.20
        print("goal (<= 20 %):", "met" if goal else "NOT met")


if __name__ == "__main__":
    main()
