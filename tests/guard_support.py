"""Shared by the guard tests and benchmarks/guard_benchmark.py: the two graph schemas and the case set."""

from __future__ import annotations

import json
from pathlib import Path

from scim_processor.graph_schema import GraphSchema
from scim_processor.mapping import derive_graph_schema
from scim_processor.resources import bundled_dir
from scim_processor.retrieval import GroundingContext
from scim_processor.schema import read_schema_dir
from scim_processor.schema_graph import SCHEMA_GRAPH

HERE = Path(__file__).resolve().parent


def scim_graph_schema() -> GraphSchema:
    """The graph schema derived from the bundled SCIM schemas (as `scim-processor graph-schema` prints it)."""
    schema_set = read_schema_dir(bundled_dir("schemas"))
    contexts = [GroundingContext.from_schema_set(schema_set, name) for name in schema_set.resource_types]
    return GraphSchema.union([derive_graph_schema(contexts), SCHEMA_GRAPH])


def movies_graph_schema() -> GraphSchema:
    """An unrelated schema, given as neo4j-graphrag structured-schema JSON."""
    return GraphSchema.from_structured(json.loads((HERE / "movies_graph_schema.json").read_text()))


def cases() -> list[dict]:
    """``tests/guard_cases.jsonl``: id, schema (scim|movies), category (valid, a-h), query, read_only, expect."""
    return [json.loads(line) for line in (HERE / "guard_cases.jsonl").read_text().splitlines() if line.strip()]
