"""``schemas load``, ``graph-schema``, ``cypher run`` and ``cypher check``."""

from __future__ import annotations

import dataclasses
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..config import load_settings
from ..errors import CypherRejectedError, UsageError
from ..graph import GraphSchema
from ..guard import CypherGuard, GuardReport
from ..pipeline import ScimProcessor
from ..stages.read import STDIN
from .app import GRAPH, app, cypher_app, exit_codes, schemas_app
from .output import Format, Guarded, JsonAlias, OutputFormat, chosen, err, out, print_json, strict_json


@schemas_app.command("load", epilog=exit_codes())
def schemas_load(
    directory: Annotated[Path | None, typer.Argument(help="Directory of schema and resource-type JSON (default: bundled schemas/).")] = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Load SCIM schemas and resource types into the graph (idempotent).

    [bold]Examples[/bold]
      scim-processor schemas load
      scim-processor schemas load ./my-schemas --format json
    """
    with Guarded(fmt), ScimProcessor.open(load_settings()) as processor:
        report = processor.load_schemas(directory)
    if fmt == OutputFormat.json:
        print_json(dataclasses.asdict(report))
        return
    out.print(
        f"schemas loaded: {len(report.loaded)}, unchanged: {len(report.unchanged)}; "
        f"resource types: {', '.join(report.resource_types)}; constraints: {len(report.constraints)}",
        highlight=False,
    )


class SchemaFormat(StrEnum):
    """The output formats of ``graph-schema``."""

    json = "json"
    table = "table"
    prompt = "prompt"


@app.command("graph-schema", rich_help_panel=GRAPH, epilog=exit_codes())
def graph_schema(
    fmt: Annotated[
        SchemaFormat,
        typer.Option("--format", case_sensitive=False, help="json (neo4j-graphrag structured schema), table, or prompt text for a model."),
    ] = SchemaFormat.json,
) -> None:
    """Print the graph schema derived from the loaded SCIM schemas.

    [bold]Examples[/bold]
      scim-processor graph-schema
      scim-processor graph-schema --format prompt
    """
    with Guarded(OutputFormat.json if fmt == SchemaFormat.json else OutputFormat.table), ScimProcessor.open(load_settings()) as processor:
        schema = processor.graph_schema()
    if fmt == SchemaFormat.prompt:
        sys.stdout.write(schema.to_prompt() + "\n")
    elif fmt == SchemaFormat.json:
        print_json(schema.to_structured())
    else:
        _schema_table(schema)


def _schema_table(schema: GraphSchema) -> None:
    structured = schema.to_structured()
    nodes = Table("node label", "properties", title="nodes")
    for label, props in structured["node_props"].items():
        nodes.add_row(label, ", ".join(f"{p['property']}: {p['type']}" for p in props))
    out.print(nodes)
    rels = Table("start", "relationship type", "end", title="relationships")
    for rel in structured["relationships"]:
        rels.add_row(rel["start"], rel["type"], rel["end"])
    out.print(rels)


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


def _verdict(report: GuardReport, **extra: Any) -> dict[str, Any]:
    """A guard report as JSON: ``{..extra, "valid", "errors", "warnings"}``."""
    return {**extra, "valid": report.valid, "errors": [p.to_json() for p in report.errors], "warnings": [p.to_json() for p in report.warnings]}


def _print_problems(report: GuardReport) -> None:
    for problem in report.problems:
        where = f" (line {problem.position.line}, column {problem.position.column})" if problem.position else ""
        colour = "yellow" if problem in report.warnings else "red"
        err.print(f"[{colour}]{problem.severity} {problem.code}[/{colour}]{escape(where)}: {escape(problem.message)}", highlight=False)


@cypher_app.command("run", epilog=exit_codes("the guard rejected the query"))
def cypher_run(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query.", show_default=False)],
    param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE (VALUE as JSON if it parses).")] = None,
    fmt: Format = OutputFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """Run a read-only query (guard in read-only mode, READ transaction).

    Under --format json the rows are a JSON array, and a rejection is
    {"error": ..., "errors": [...], "warnings": [...]} (exit 1).

    [bold]Examples[/bold]
      scim-processor cypher run "MATCH (u:User) RETURN u.userName AS userName LIMIT 10"
      scim-processor cypher run "MATCH (u:User {userName: $name}) RETURN u.id AS id" --param name=bjensen --format json
    """
    fmt = chosen(fmt, as_json)
    with Guarded(fmt):
        params = _parse_params(param or [])
        with ScimProcessor.open(load_settings(), read_only=True) as processor:
            if processor.connection.enforcement and processor.connection.enforcement.startswith("READ access mode"):
                err.print(f"note: read-only through {processor.connection.enforcement}", highlight=False, style="dim")
            try:
                rows = processor.run_cypher(query, params)
            except CypherRejectedError as error:
                if fmt == OutputFormat.json:
                    print_json(_verdict(error.report, error=str(error)))
                else:
                    _print_problems(error.report)
                raise typer.Exit(1) from None
    if fmt == OutputFormat.json:
        print_json(rows)
        return
    table = Table()
    for column in rows[0].keys() if rows else []:
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(v if isinstance(v, str) else strict_json(v)) for v in row.values()))
    out.print(table)


def _guard_for(graph_schema_file: Path | None) -> CypherGuard:
    if graph_schema_file is not None:
        return CypherGuard(GraphSchema.from_structured(json.loads(graph_schema_file.read_text(encoding="utf-8"))))
    with ScimProcessor.open(load_settings()) as processor:
        return processor.compiled().guard


@cypher_app.command("check", epilog=exit_codes("the query (a query of the batch) is invalid"))
def cypher_check(
    query: Annotated[str | None, typer.Argument(help="The Cypher query to check.", show_default=False)] = None,
    graph_schema_file: Annotated[
        Path | None, typer.Option("--graph-schema", help="Structured graph-schema JSON (default: derived from the loaded SCIM schemas).")
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Reject every write.")] = False,
    batch: Annotated[
        Path | None, typer.Option("--batch", help='JSON Lines of {"id", "query", "read_only"}; - reads stdin. Prints one verdict line each.')
    ] = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Check Cypher against the graph schema without running it.

    Under --format json a verdict is {"valid", "errors", "warnings"}; --batch always prints JSON Lines.

    [bold]Examples[/bold]
      scim-processor cypher check "MATCH (u:User)-[:MEMBER_OF]->(g:Group) RETURN g.displayName"
      scim-processor cypher check --batch queries.jsonl --graph-schema schema.json
      generate-queries | scim-processor cypher check --batch -
    """
    with Guarded(fmt):
        if (query is None) == (batch is None):
            raise UsageError("give either QUERY or --batch FILE")
        guard = _guard_for(graph_schema_file)
        if batch is not None:
            lines = sys.stdin if batch == STDIN else batch.open(encoding="utf-8")
            source = "<stdin>" if batch == STDIN else str(batch)
            invalid = 0
            with lines:
                for number, line in enumerate(lines, start=1):
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                        report = guard.check(str(item["query"]), read_only=bool(item.get("read_only", False)))
                    except (json.JSONDecodeError, KeyError, TypeError) as error:
                        raise UsageError(f"{source}:{number}: not a {{id, query, read_only}} object: {error}") from None
                    invalid += not report.valid
                    sys.stdout.write(strict_json(_verdict(report, id=item.get("id"))) + "\n")
            raise typer.Exit(1 if invalid else 0)
        report = guard.check(query or "", read_only=read_only)
    if fmt == OutputFormat.json:
        print_json(_verdict(report))
    else:
        _print_problems(report)
        if report.valid:
            out.print("valid" + (f" ({len(report.warnings)} warning(s))" if report.warnings else ""))
    raise typer.Exit(0 if report.valid else 1)
