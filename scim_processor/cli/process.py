"""``process`` (SCIM payload files and requests → the graph) and ``get`` (one stored resource)."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..config import load_settings
from ..errors import ScimError, UsageError
from ..operations import dialect
from ..operations.envelope import OperationRunner
from ..operations.projection import project
from ..pipeline import PayloadResult, ResultStatus, ScimProcessor
from ..stages.read import STDIN, count_payloads, files_of, read_paths
from .app import PROCESSING, app, exit_codes
from .options import DialectOption
from .output import (
    Format,
    Guarded,
    OutputFormat,
    RateColumn,
    err,
    out,
    print_error,
    print_json,
    refuse_overwrite,
    strict_json,
    summary_console,
)

DEFAULT_RESULTS = Path("scim-processor-results.jsonl")


class ResultsMode(StrEnum):
    """What the results file holds."""

    full = "full"
    failures = "failures"
    summary = "summary"


STATUSES = tuple(ResultStatus)


@app.command(
    rich_help_panel=PROCESSING,
    epilog=exit_codes("at least one payload or operation rejected"),
)
def process(
    paths: Annotated[
        list[Path], typer.Argument(help="JSON / JSON Lines files, directories of them (recursively), or - for stdin.", show_default=False)
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Results file (JSON Lines); - writes the results to stdout.")
    ] = DEFAULT_RESULTS,
    results_mode: Annotated[
        ResultsMode,
        typer.Option("--results", case_sensitive=False, help="full: a line per payload; failures: rejected lines only; summary: no results file."),
    ] = ResultsMode.full,
    include_cypher: Annotated[
        bool, typer.Option("--include-cypher", help="Write each statement's Cypher text and parameters in the results.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing results file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Generate and validate; write nothing to the graph.")] = False,
    target: Annotated[str | None, typer.Option("--target", help="The resource PatchOp messages apply to: /Users/<id> or /Groups/<id>.")] = None,
    dialect_name: DialectOption = None,
    keep_ids: Annotated[bool, typer.Option("--keep-ids", help="Keep a client id in POST bodies (an import from another SCIM server).")] = False,
    fmt: Format = OutputFormat.table,
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="With --dry-run: the schema and resource-type files of DIR; no graph server is reached.")
    ] = None,
) -> None:
    """Process SCIM payload files into the identity graph (streamed: memory does not grow with the input).

    Besides resources (create-or-replace), files may hold requests: envelopes {"method", "path", "body", "version"},
    PatchOp messages (with --target) and BulkRequests; one results line per payload or operation, with
    the warnings of what was left out or ignored. The summary goes to stderr when stdout is not a terminal.

    [bold]Examples[/bold]
      scim-processor process users.jsonl groups.json
      scim-processor process exports/ --dry-run --results failures -o problems.jsonl --force
      cat users.jsonl | scim-processor process - -o - > results.jsonl
      scim-processor process patch.json --target /Users/2819c223 --dialect entra
    """
    with Guarded(fmt):
        lines_file = None if results_mode == ResultsMode.summary else output
        to_stdout = lines_file == STDIN
        refuse_overwrite(lines_file, force)
        settings = load_settings()
        if schemas is not None and not dry_run:
            raise UsageError("--schemas needs --dry-run: a real run uses the graph's schemas (load them with 'schemas load DIR')")
        chosen_dialect = dialect(dialect_name or settings.dialect)
        files = files_of(paths)
        total = None if STDIN in files else count_payloads(files)
        payloads = read_paths(files, settings.max_payload_bytes, settings.max_file_bytes)
        summary = Summary()
        with contextlib.ExitStack() as stack:
            opened = ScimProcessor.offline(settings, schemas) if schemas is not None else ScimProcessor.open(settings, dry_run=dry_run)
            processor = stack.enter_context(opened)
            results: TextIO | None = None
            if lines_file is not None:
                results = sys.stdout if to_stdout else stack.enter_context(lines_file.open("w", encoding="utf-8"))
            keep = (lambda r: r.status == ResultStatus.REJECTED) if results_mode == ResultsMode.failures else (lambda r: True)
            columns = (
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                RateColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            )  # fmt: skip
            with Progress(*columns, console=err, transient=False, disable=not err.is_terminal and (total or 0) < 2) as progress:
                task = progress.add_task("dry run" if dry_run else "processing", total=total)

                def done(result: PayloadResult) -> None:
                    if results is not None and keep(result):
                        results.write(strict_json(result.to_json(include_cypher)) + "\n")
                    summary.add(result)
                    progress.advance(task)

                runner = OperationRunner(processor, chosen_dialect, target=target, keep_ids=keep_ids)
                try:
                    for _ in runner.run(payloads, dry_run=dry_run, on_result=done):
                        pass
                finally:
                    if results is not None:
                        results.flush()
        where = "-" if to_stdout else (str(lines_file) if lines_file else None)
        summary.show(fmt, where, dry_run, to_stdout)
    raise typer.Exit(1 if summary.rejected else 0)


class Summary:
    """Counts per resource type and status, and the warnings, of one ``process`` run."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.warnings: Counter[str] = Counter()

    def add(self, result: PayloadResult) -> None:
        """Counts one result."""
        kind = result.resource_type or "(unknown)"
        self.counts[(kind, str(result.status))] += 1
        self.warnings[kind] += len(result.warnings)

    @property
    def rejected(self) -> int:
        """How many payloads and operations were rejected."""
        return sum(n for (_, status), n in self.counts.items() if status == ResultStatus.REJECTED)

    def to_json(self, results: str | None, dry_run: bool) -> dict[str, Any]:
        """``{"dryRun", "results", "resourceTypes": {type: {status: n, ..., "warnings": n}}, "total": {...}}``."""
        kinds = sorted({kind for kind, _ in self.counts})
        by_kind = {kind: {**{s.value: self.counts[(kind, s.value)] for s in STATUSES}, "warnings": self.warnings[kind]} for kind in kinds}
        total = {key: sum(row[key] for row in by_kind.values()) for key in (*(s.value for s in STATUSES), "warnings")}
        return {"dryRun": dry_run, "results": results, "resourceTypes": by_kind, "total": total}

    def show(self, fmt: OutputFormat, results: str | None, dry_run: bool, results_on_stdout: bool) -> None:
        """The summary: a table (stdout on a terminal, else stderr) or JSON (stdout, stderr when the results are on stdout)."""
        data = self.to_json(results, dry_run)
        if fmt == OutputFormat.json:
            (sys.stderr if results_on_stdout else sys.stdout).write(strict_json(data, indent=2) + "\n")
            return
        table = Table(title="SCIM payloads" + (" (dry run: nothing written)" if dry_run else ""))
        table.add_column("resource type")
        table.add_column("accepted", justify="right", style="green")
        table.add_column("unchanged", justify="right", style="green")
        table.add_column("rejected", justify="right", style="red")
        statuses = ["accepted", "unchanged", "rejected"]
        if data["total"]["skipped"]:
            table.add_column("skipped (Bulk failOnErrors)", justify="right")
            statuses.append("skipped")
        table.add_column("warnings", justify="right", style="yellow")
        for kind, row in data["resourceTypes"].items():
            table.add_row(kind, *(str(row[key]) for key in (*statuses, "warnings")))
        table.add_row("total", *(str(data["total"][key]) for key in (*statuses, "warnings")), style="bold")
        console = summary_console(results_on_stdout)
        console.print(table)
        if results:
            console.print(f"results: {results}", highlight=False)


@app.command("get", rich_help_panel=PROCESSING, epilog=exit_codes("the resource does not exist (404)"))
def get(
    path: Annotated[str, typer.Argument(help="/Users/<id> or /Groups/<id>.", show_default=False)],
    attributes: Annotated[str | None, typer.Option("--attributes", help="Comma-separated attributes to return (RFC 7644 §3.9).")] = None,
    excluded: Annotated[str | None, typer.Option("--excluded-attributes", help="Comma-separated attributes to leave out (RFC 7644 §3.9).")] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", case_sensitive=False, help="json: the SCIM resource (errors: the SCIM error body); table: attribute, value."),
    ] = OutputFormat.json,
) -> None:
    """Print one stored resource with meta, as SCIM JSON (RFC 7644 §3.4.1) by default.

    [bold]Examples[/bold]
      scim-processor get /Users/2819c223-7f76-453a-919d-413861904646
      scim-processor get /Groups/e9e30dba --excluded-attributes members
    """
    with Guarded(fmt):
        if attributes and excluded:
            raise UsageError("give --attributes or --excluded-attributes, not both (RFC 7644 §3.9)")
        with ScimProcessor.open(load_settings(), read_only=True) as processor:  # a read path: the read-only user
            runner = OperationRunner(processor)
            try:
                resource_type, resource_id = runner.resolve_path(path)
                if resource_id is None:
                    raise UsageError(f"{path}: give /<Resources>/<id>; listing and search are not supported")
                names, left_out = _names(attributes), _names(excluded)
                resource = runner.store.get(resource_type, resource_id, attributes=names, excluded=left_out)  # reads only what is kept
            except ScimError as error:
                print_error(error, fmt)
                raise typer.Exit(1) from None
            resource = project(resource, runner.store.context(resource_type), names, left_out)
    if fmt == OutputFormat.json:
        print_json(resource)
        return
    table = Table("attribute", "value")
    for name, value in resource.items():
        table.add_row(name, Text(value if isinstance(value, str) else strict_json(value)))
    out.print(table)


def _names(text: str | None) -> list[str] | None:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None
