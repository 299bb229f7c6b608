"""``process`` (SCIM payload files and requests → the graph) and ``get`` (one stored resource)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

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

from ..config import load_settings
from ..errors import ScimError
from ..operations import dialect
from ..operations.envelope import OperationRunner
from ..operations.projection import project
from ..pipeline import PayloadResult, ScimProcessor
from ..stages.read import count_payloads, files_of, read_paths
from .app import app
from .output import Guarded, RateColumn, err, out, print_json, strict_json


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
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="With --dry-run: the schema and resource-type files of DIR; no graph server is reached.")
    ] = None,
) -> None:
    """Process SCIM payload files into the identity graph (streamed: memory does not grow with the input).

    Besides resources (create-or-replace), files may hold requests: envelopes {"method", "path", "body", "version"},
    PatchOp messages (with --target) and BulkRequests; one results line per operation.
    """
    output = output or Path("scim-processor-results.jsonl")
    with Guarded():
        settings = load_settings()
        if schemas is not None and not dry_run:
            raise ValueError("--schemas needs --dry-run: a real run uses the graph's schemas (load them with 'schemas load DIR')")
        chosen = dialect(dialect_name or settings.dialect)
        files = files_of(paths)
        total = count_payloads(files)
        payloads = read_paths(files, settings.max_payload_bytes, settings.max_file_bytes)
        counts: Counter[tuple[str, str]] = Counter()
        opened = ScimProcessor.offline(settings, schemas) if schemas is not None else ScimProcessor.open(settings, dry_run=dry_run)
        with opened as processor, output.open("w", encoding="utf-8") as results:
            columns = (
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                RateColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
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
    with Guarded():
        if attributes and excluded:
            raise ValueError("give --attributes or --excluded-attributes, not both (RFC 7644 §3.9)")
        with ScimProcessor.open(load_settings(), read_only=True) as processor:  # a read path: the read-only user
            runner = OperationRunner(processor)
            try:
                resource_type, resource_id = runner.resolve_path(path)
                if resource_id is None:
                    raise ValueError(f"{path}: give /<Resources>/<id>; listing and search are not supported")
                names, left_out = _names(attributes), _names(excluded)
                resource = runner.store.get(resource_type, resource_id, attributes=names, excluded=left_out)  # reads only what is kept
            except ScimError as error:
                print_json(error.to_dict())
                raise typer.Exit(1) from None
            resource = project(resource, runner.store.context(resource_type), names, left_out)
    print_json(resource)


def _names(text: str | None) -> list[str] | None:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None

