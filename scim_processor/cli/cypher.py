"""``schemas load``, ``graph-schema``, ``cypher run`` and ``cypher check``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..config import load_settings
from ..errors import CypherRejectedError, UsageError
from ..graph import GraphSchema
from ..guard import CypherGuard
from ..pipeline import ScimProcessor
from .app import app, cypher_app, schemas_app
from .output import Guarded, err, out, print_json, strict_json


@schemas_app.command("load")
def schemas_load(
    directory: Annotated[Path | None, typer.Argument(help="Directory of schema and resource-type JSON (default: bundled schemas/).")] = None,
) -> None:
    """Load SCIM schemas and resource types into the graph (idempotent)."""
    with Guarded(), ScimProcessor.open(load_settings()) as processor:
        report = processor.load_schemas(directory)
    out.print(
        f"schemas loaded: {len(report.loaded)}, unchanged: {len(report.unchanged)}; "
        f"resource types: {', '.join(report.resource_types)}; constraints: {len(report.constraints)}",
        highlight=False,
    )


class SchemaFormat(StrEnum):
    """The output formats of ``graph-schema``."""

    structured = "structured"
    prompt = "prompt"


@app.command("graph-schema")
def graph_schema(
    format: Annotated[SchemaFormat, typer.Option("--format", help="structured (neo4j-graphrag JSON) or prompt text.")] = SchemaFormat.structured,
) -> None:
    """Print the graph schema derived from the loaded SCIM schemas."""
    with Guarded(), ScimProcessor.open(load_settings()) as processor:
        schema = processor.graph_schema()
    if format == SchemaFormat.prompt:
        sys.stdout.write(schema.to_prompt() + "\n")
    else:
        print_json(schema.to_structured())


def _parse_params(values: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param takes NAME=VALUE, not {item!r}")
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw
    return params


@cypher_app.command("run")
def cypher_run(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE (VALUE as JSON if it parses).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as a JSON array.")] = False,
) -> None:
    """Run a read-only query (guard in read-only mode, READ transaction)."""
    with Guarded():
        params = _parse_params(param or [])
        with ScimProcessor.open(load_settings(), read_only=True) as processor:
            if processor.connection.enforcement and processor.connection.enforcement.startswith("READ access mode"):
                err.print(f"note: read-only through {processor.connection.enforcement}", highlight=False, style="dim")
            try:
                rows = processor.run_cypher(query, params)
            except CypherRejectedError as error:
                for problem in error.report.problems:
                    err.print(f"[red]{problem.code}[/red]: {problem.message}", highlight=False)
                raise typer.Exit(1) from None
    if as_json:
        print_json(rows)
        return
    table = Table()
    for column in rows[0].keys() if rows else []:
        table.add_column(column)
    for row in rows:
        table.add_row(*(strict_json(v) if not isinstance(v, str) else v for v in row.values()))
    out.print(table)


def _guard_for(graph_schema_file: Path | None) -> CypherGuard:
    if graph_schema_file is not None:
        return CypherGuard(GraphSchema.from_structured(json.loads(graph_schema_file.read_text(encoding="utf-8"))))
    with ScimProcessor.open(load_settings()) as processor:
        return processor.compiled().guard


@cypher_app.command("check")
def cypher_check(
    query: Annotated[str | None, typer.Argument(help="The Cypher query to check.")] = None,
    graph_schema_file: Annotated[
        Path | None, typer.Option("--graph-schema", help="Structured graph-schema JSON (default: derived from the loaded SCIM schemas).")
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Reject every write.")] = False,
    batch: Annotated[Path | None, typer.Option("--batch", help='JSON Lines of {"id", "query", "read_only"}.')] = None,
) -> None:
    """Check Cypher against the graph schema without running it."""
    with Guarded():
        if (query is None) == (batch is None):
            raise UsageError("give either QUERY or --batch FILE")
        guard = _guard_for(graph_schema_file)
        if batch is not None:
            invalid = 0
            for number, line in enumerate(batch.read_text(encoding="utf-8").split("\n"), start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    report = guard.check(str(item["query"]), read_only=bool(item.get("read_only", False)))
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise UsageError(f"{batch}:{number}: not a {{id, query, read_only}} object: {error}") from None
                invalid += not report.valid
                verdict = {
                    "id": item.get("id"), "valid": report.valid,
                    "errors": [p.to_json() for p in report.errors], "warnings": [p.to_json() for p in report.warnings],
                }  # fmt: skip
                sys.stdout.write(strict_json(verdict) + "\n")
            raise typer.Exit(1 if invalid else 0)
        report = guard.check(query or "", read_only=read_only)
    for problem in report.problems:
        where = f" (line {problem.position.line}, column {problem.position.column})" if problem.position else ""
        colour = "yellow" if problem in report.warnings else "red"
        err.print(f"[{colour}]{problem.severity} {problem.code}[/{colour}]{where}: {problem.message}", highlight=False)
    if report.valid:
        out.print("valid" + (f" ({len(report.warnings)} warning(s))" if report.warnings else ""))
    raise typer.Exit(0 if report.valid else 1)

