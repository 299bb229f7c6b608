"""Shared by the guard tests and benchmarks/guard_benchmark.py: the two graph schemas and the case set."""

from __future__ import annotations

import json
from pathlib import Path

from scim_processor.graph import GraphSchema
from scim_processor.mapping import CompiledSchema
from scim_processor.resources import bundled_dir
from scim_processor.scim import read_schema_dir

HERE = Path(__file__).resolve().parent


def scim_graph_schema() -> GraphSchema:
    """The graph schema derived from the bundled SCIM schemas (as `scim-processor graph-schema` prints it)."""
    return CompiledSchema.compile(read_schema_dir(bundled_dir("schemas"))).graph_schema


def movies_graph_schema() -> GraphSchema:
    """An unrelated schema, given as neo4j-graphrag structured-schema JSON."""
    return GraphSchema.from_structured(json.loads((HERE / "movies_graph_schema.json").read_text()))


def cases() -> list[dict]:
    """``tests/guard_cases.jsonl``: id, schema (scim|movies), category (valid, a-h), query, read_only, expect."""
    return [json.loads(line) for line in (HERE / "guard_cases.jsonl").read_text().splitlines() if line.strip()]
