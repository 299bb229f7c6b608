"""The ``scim-processor`` command line (typer + rich).

Exit codes: 0 success (all payloads accepted, query valid); 1 at least one payload rejected or a
query rejected; 2 a usage or infrastructure error, printed as one line without a traceback.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .config import load_settings
from .errors import CypherRejectedError, GraphError, ScimError, ScimProcessorError
from .graph import EmbeddedServer, GraphSchema
from .guard import CypherGuard
from .operations import dialect
from .operations.envelope import OperationRunner
from .operations.projection import project
from .pipeline import PayloadResult, ScimProcessor
from .stages.read import count_payloads, files_of, read_paths

app = typer.Typer(help="Turn SCIM 2.0 payloads into a schema-checked identity graph.", no_args_is_help=True, add_completion=False)
schemas_app = typer.Typer(help="The SCIM schemas in the graph.", no_args_is_help=True)
cypher_app = typer.Typer(help="Check or run Cypher through the guard.", no_args_is_help=True)
db_app = typer.Typer(help="The embedded graph server (used when NEO4J_URI is unset).", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(cypher_app, name="cypher")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True, soft_wrap=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C (exit 143, POSIX: 128 + signal number).

    Connections close, and a server this command started is stopped unless another command still uses it.
    """
    raise SystemExit(128 + signum)


@app.callback()
def _main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _finite(data: Any) -> Any:
    """``data`` with non-finite floats (which strict JSON has no form for) as strings."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def strict_json(data: Any, indent: int | None = None) -> str:
    """Strict JSON text (RFC 8259: no NaN/Infinity; other non-JSON values as strings).

    Characters that some line splitters treat as line breaks (U+2028, U+2029, U+0085) are
    escaped, so one JSON Lines record stays one line for every reader.
    """
    try:
        text = json.dumps(data, indent=indent, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), indent=indent, default=str, ensure_ascii=False, allow_nan=False)
    return text.translate(_LINE_BREAKS)


def _json(data: Any) -> None:
    sys.stdout.write(strict_json(data, indent=2) + "\n")


class _RateColumn(ProgressColumn):
    """Payloads per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


class _Guarded:
    """Runs a command body, turning package errors into exit code 2 with one line."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> Literal[False]:
        if error is None or isinstance(error, (typer.Exit, SystemExit, KeyboardInterrupt)):
            return False
        if isinstance(error, (ScimProcessorError, OSError, ValueError)):
            raise _fail(str(error)) from None
        raise _fail(f"{type(error).__name__}: {error}") from None


@app.command()
def process(
    paths: Annotated[list[Path], typer.Argument(help="JSON / JSON Lines files, or directories of them.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Results file (JSON Lines).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Generate and validate; write nothing to the graph.")] = False,
    target: Annotated[str | None, typer.Option("--target", help="The resource PatchOp messages apply to: /Users/<id> or /Groups/<id>.")] = None,
    dialect_name: Annotated[
        str | None, typer.Option("--dialect", help="IdP tolerances: strict (RFC as written), entra or okta [env SCIM_PROCESSOR_DIALECT].")
    ] = None,
    keep_ids: Annotated[bool, typer.Option("--keep-ids", help="Keep a client id in POST bodies (an import from another SCIM server).")] = False,
) -> None:
    """Process SCIM payload files into the identity graph (streamed: memory does not grow with the input).

    Besides resources (create-or-replace), files may hold requests: envelopes {"method", "path", "body", "version"},
    PatchOp messages (with --target) and BulkRequests; one results line per operation.
    """
    output = output or Path("scim-processor-results.jsonl")
    with _Guarded():
        settings = load_settings()
        chosen = dialect(dialect_name or settings.dialect)
        files = files_of(paths)
        total = count_payloads(files)
        payloads = read_paths(files, settings.max_payload_bytes, settings.max_file_bytes)
        counts: Counter[tuple[str, str]] = Counter()
        with ScimProcessor.open(settings) as processor, output.open("w", encoding="utf-8") as results:
            columns = (
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                _RateColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            )  # fmt: skip
            with Progress(*columns, console=err, transient=False, disable=not err.is_terminal and total < 2) as progress:
                task = progress.add_task("dry run" if dry_run else "processing", total=total)

                def done(result: PayloadResult) -> None:
                    results.write(strict_json(result.to_json()) + "\n")
                    counts[(result.resource_type or "(unknown)", result.status)] += 1
                    progress.advance(task)

                runner = OperationRunner(processor, chosen, target=target, keep_ids=keep_ids)
                try:
                    for _ in runner.run(payloads, dry_run=dry_run, on_result=done):
                        pass
                finally:
                    results.flush()
        _summary(counts, output, dry_run)
        rejected = sum(n for (_, status), n in counts.items() if status == "rejected")
    raise typer.Exit(1 if rejected else 0)


def _summary(counts: Counter[tuple[str, str]], output: Path, dry_run: bool) -> None:
    table = Table(title="SCIM payloads" + (" (dry run: nothing written)" if dry_run else ""))
    table.add_column("resource type")
    table.add_column("accepted", justify="right", style="green")
    table.add_column("unchanged", justify="right", style="green")
    table.add_column("rejected", justify="right", style="red")
    skipped = any(status == "skipped" for _, status in counts)
    if skipped:
        table.add_column("skipped (Bulk failOnErrors)", justify="right")
    statuses = ("accepted", "unchanged", "rejected", *(("skipped",) if skipped else ()))
    for kind in sorted({kind for kind, _ in counts}):
        table.add_row(kind, *(str(counts[(kind, status)]) for status in statuses))
    totals = (sum(n for (_, s), n in counts.items() if s == status) for status in statuses)
    table.add_row("total", *map(str, totals), style="bold")
    out.print(table)
    out.print(f"results: {output}", highlight=False)


@app.command("get")
def get(
    path: Annotated[str, typer.Argument(help="/Users/<id> or /Groups/<id>.")],
    attributes: Annotated[str | None, typer.Option("--attributes", help="Comma-separated attributes to return (RFC 7644 §3.9).")] = None,
    excluded: Annotated[str | None, typer.Option("--excluded-attributes", help="Comma-separated attributes to leave out (RFC 7644 §3.9).")] = None,
) -> None:
    """Print one stored resource as SCIM JSON with meta (exit 1 if it does not exist)."""
    with _Guarded():
        if attributes and excluded:
            raise ValueError("give --attributes or --excluded-attributes, not both (RFC 7644 §3.9)")
        with ScimProcessor.open(load_settings(), read_only=True) as processor:  # a read path: the read-only user
            runner = OperationRunner(processor)
            try:
                resource_type, resource_id = runner.resolve_path(path)
                if resource_id is None:
                    raise ValueError(f"{path}: give /<Resources>/<id>; listing and search are not supported")
                resource = runner.store.get(resource_type, resource_id)
            except ScimError as error:
                _json(error.to_dict())
                raise typer.Exit(1) from None
            resource = project(resource, runner.store.context(resource_type), _names(attributes), _names(excluded))
    _json(resource)


def _names(text: str | None) -> list[str] | None:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


@schemas_app.command("load")
def schemas_load(
    directory: Annotated[Path | None, typer.Argument(help="Directory of schema and resource-type JSON (default: bundled schemas/).")] = None,
) -> None:
    """Load SCIM schemas and resource types into the graph (idempotent)."""
    with _Guarded(), ScimProcessor.open(load_settings()) as processor:
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
    with _Guarded(), ScimProcessor.open(load_settings()) as processor:
        schema = processor.graph_schema()
    if format == SchemaFormat.prompt:
        sys.stdout.write(schema.to_prompt() + "\n")
    else:
        _json(schema.to_structured())


def _parse_params(values: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--param takes NAME=VALUE, not {item!r}")
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
    with _Guarded():
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
        _json(rows)
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
    with _Guarded():
        if (query is None) == (batch is None):
            raise ValueError("give either QUERY or --batch FILE")
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
                    raise ValueError(f"{batch}:{number}: not a {{id, query, read_only}} object: {error}") from None
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


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server and leave it running until `db stop` (commands then reuse it)."""
    with _Guarded():
        server = EmbeddedServer(load_settings().home)
        info = server.start(persistent=True)
        # Adopting a server another command started: it is now marked persistent under the lock,
        # so its starter leaves it running; check it is still the same live process before saying so.
        if server.status() != info:
            raise GraphError("the embedded graph server stopped while being started; run `scim-processor db start` again")
    out.print(f"embedded graph server running: {info.uri} (database {info.database}, pid {info.pid})", highlight=False)


@db_app.command("stop")
def db_stop(
    force: Annotated[bool, typer.Option("--force", help="Stop it even while other commands use it.")] = False,
) -> None:
    """Stop the embedded server (once the commands using it are done, unless --force)."""
    with _Guarded():
        server = EmbeddedServer(load_settings().home)
        busy = server.in_use()
        stopped = server.stop(force=force)
    if stopped and busy and not force:
        out.print("in use by another scim-processor command: it stops when that command ends (--force stops it now)")
    else:
        out.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status(as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False) -> None:
    """Show whether the embedded server is running, who started it, and whether commands use it."""
    with _Guarded():
        settings = load_settings()
        server = EmbeddedServer(settings.home)
        info = server.status()
        in_use = info is not None and server.in_use()
    data = {"running": info is not None, "uri": info.uri if info else None, "database": info.database if info else None,
            "pid": info.pid if info else None, "persistent": info.persistent if info else None,
            "in_use": in_use, "home": str(settings.home)}  # fmt: skip
    if as_json:
        _json(data)
    elif info is None:
        out.print("not running")
    else:
        if info.persistent:
            how = "started by db start"
        else:
            how = "used by a running command" if in_use else "left by an interrupted command; the next command adopts and stops it"
        out.print(f"running at {info.uri} (pid {info.pid}; {how})", highlight=False)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind; 127.0.0.1 keeps it local (TLS proxy for IdPs).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free port).")] = 8080,
    dialect_name: Annotated[str | None, typer.Option("--dialect", help="strict, entra or okta [env SCIM_PROCESSOR_DIALECT].")] = None,
    forwarded: Annotated[bool, typer.Option("--trust-forwarded-headers", help="Behind a TLS reverse proxy: URLs from X-Forwarded-*.")] = False,
) -> None:
    """Serve a SCIM 2.0 endpoint (RFC 7644) over the graph at http://HOST:PORT/scim/v2 (bearer token required)."""
    from .http import server as http_server

    http_server.configure_logging()
    with _Guarded():
        settings = load_settings()
        http_server.serve(settings, host, port, dialect(dialect_name or settings.dialect).name, trust_forwarded=forwarded)


from . import cli_llm  # noqa: E402, F401  (registers map, ask, finetune export, eval on app; imports app from here)
