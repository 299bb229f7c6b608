"""The LLM commands of the ``scim-processor`` CLI: ``map``, ``ask``, ``finetune export``, ``eval``.

Registered on the main typer ``app`` (``cli/__init__.py`` imports this module). Exit codes as elsewhere:
0 success, 1 a record rejected / a question refused or failed, 2 usage or infrastructure error
(one line, no traceback) — including a missing model endpoint, which names the settings.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ..config import load_settings
from ..errors import SettingsError, UsageError
from ..llm.config import NO_ENDPOINT, chat_model, load_llm_settings
from ..stages.read import STDIN, files_of
from .app import LLM, App, app, exit_codes
from .options import ResourceTypeName, ResourceTypeOption
from .output import Format, Guarded, JsonAlias, OutputFormat, chosen, err, out, print_json, refuse_overwrite, strict_json, summary_console

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings
    from ..llm.mapping_file import SourceMapping, Target
    from ..llm.shape_mapper import Plan, ShapeMapper
    from ..llm.shapes import SourceFile

finetune_app = App(help="Fine-tuning datasets from accepted results.")
app.add_typer(finetune_app, name="finetune", rich_help_panel=LLM)
mappings_app = App(help="Source-shape mappings stored in the graph (map learns one per shape).")
app.add_typer(mappings_app, name="mappings", rich_help_panel=LLM)


class Task(StrEnum):
    """The two LLM tasks."""

    map = "map"
    ask = "ask"


def _model() -> BaseChatModel:
    """The configured chat model.

    Raises:
        SettingsError: no endpoint is configured, or an LLM setting is invalid (the message names the variable).
    """
    settings = load_llm_settings()
    if not settings.configured:
        raise SettingsError(NO_ENDPOINT)
    model: BaseChatModel = chat_model(settings)  # type: ignore[assignment]
    return model




def _is_text(path: Path) -> bool:
    """A free-text record file (one record, mapped by the model), by its suffix."""
    from ..llm.records import SUFFIXES, TEXT_FORMATS

    return SUFFIXES.get(path.suffix.lower()) in TEXT_FORMATS


class InputFormat(StrEnum):
    """The record format of standard input (a file's suffix says it for a file)."""

    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    ldif = "ldif"
    txt = "txt"
    eml = "eml"
    vcf = "vcf"
    xml = "xml"


def _record_files(paths: list[Path], input_format: InputFormat | None, stack: contextlib.ExitStack) -> tuple[list[Path], dict[Path, str]]:
    """The record files named by ``paths`` (a directory: its record files, recursively, sorted), and the names of spooled ones.

    ``-`` is standard input, spooled to a temporary file whose suffix is ``input_format``; its
    records' sources say ``<stdin>``.

    Raises:
        UsageError: ``-`` without ``--input-format``.
        FileNotFoundError: a path does not exist.
    """
    from ..llm.records import SUFFIXES

    files = files_of(paths, suffixes=SUFFIXES)
    if STDIN not in files:
        return files, {}
    if input_format is None:
        raise UsageError("records on standard input (-) need --input-format (csv, json, jsonl, ldif, txt, eml, vcf or xml)")
    spooled = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scim-processor-"))) / f"stdin.{input_format.value}"
    with spooled.open("wb") as handle:
        shutil.copyfileobj(sys.stdin.buffer, handle)
    return [spooled if file == STDIN else file for file in files], {spooled: "<stdin>"}


@app.command("map", rich_help_panel=LLM, epilog=exit_codes("at least one record rejected"))
def map_records(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Record files (.csv, .json, .jsonl, .ldif; .txt, .eml, .vcf, .xml), directories of them (recursively), or - for stdin.",
            show_default=False,
        ),
    ],
    input_format: Annotated[
        InputFormat | None, typer.Option("--input-format", case_sensitive=False, help="The record format of stdin (-).", show_default=False)
    ] = None,
    resource_type: ResourceTypeOption = ResourceTypeName.User,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Results file (JSON Lines); - writes the results to stdout.")
    ] = Path("scim-processor-map-results.jsonl"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing results file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Generate and validate; write nothing to the graph.")] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls per new shape (at most 4) or per text record.")] = 3,
    plan: Annotated[Path | None, typer.Option("--plan", help="Write the file's mapping (stored or proposed) to PLAN; no resources.")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="Apply this reviewed mapping file and store it; no model needed.")] = None,
    per_record: Annotated[bool, typer.Option("--per-record", help="Ask the model for every record (no shapes), as for text records.")] = False,
    strict_grounding: Annotated[
        bool,
        typer.Option("--strict-grounding", help="Model-mapped records: reject one with any ungrounded value, instead of dropping optional ones."),
    ] = False,
    fmt: Format = OutputFormat.table,
) -> None:
    """Map non-SCIM identity records to validated SCIM resources, then apply them as process does.

    Structured files (.csv, .json, .jsonl, .ldif) use one mapping per source shape: the stored one for a known
    shape (no model call), else a proposal (graph matching first, then at most 4 model calls), stored in the
    graph. Text records (.txt, .eml, .vcf, .xml) and --per-record ask the model per record.
    Needs a model endpoint (OPENAI_BASE_URL and/or OPENAI_API_KEY, SCIM_PROCESSOR_LLM_MODEL) only for those.

    [bold]Examples[/bold]
      scim-processor map hr-export.csv --plan hr-mapping.yaml
      scim-processor map hr-export.csv --mapping hr-mapping.yaml --dry-run
      scim-processor map inbox/ --per-record -o mapped.jsonl --force
      hr-export-command | scim-processor map - --input-format csv --mapping hr-mapping.yaml -o - > results.jsonl
    """
    from ..llm.core import open_processor
    from ..llm.shape_mapper import Plan, ShapeMapper
    from ..llm.shapes import SourceFile

    counts: Counter[str] = Counter()
    shapes: list[dict[str, Any]] = []
    to_stdout = output == STDIN
    with Guarded(fmt):
        settings = load_settings()
        if plan is not None and mapping is not None:
            raise UsageError("use --plan or --mapping, not both")
        if plan is None:
            refuse_overwrite(output, force)
        with contextlib.ExitStack() as stack:
            files, names = _record_files(paths, input_format, stack)
            text = [f for f in files if per_record or _is_text(f)]
            structured_files = [f for f in files if f not in text]
            if (plan is not None or mapping is not None) and (len(structured_files) != 1 or text):
                raise UsageError("--plan and --mapping take exactly one structured record file (.csv, .json, .jsonl, .ldif)")
            processor = stack.enter_context(open_processor(settings))
            mapper = ShapeMapper(processor, _model, max_attempts)
            sources = [SourceFile.open(file, names.get(file, "")) for file in structured_files]
            if mapping is not None:
                plans = [Plan(_reviewed_mapping(mapper, mapping, sources[0], resource_type, store=not dry_run), "file")]
            else:
                plans = [mapper.plan(source, resource_type, store=not dry_run) for source in sources]
            if plan is not None:
                _write_plan(mapper, sources[0], plan, plans[0], fmt)
                return
            results = sys.stdout if to_stdout else stack.enter_context(output.open("w", encoding="utf-8"))
            for source, picked in zip(sources, plans, strict=True):
                shapes.append({"file": source.label, "shape": picked.mapping.fingerprint, "origin": picked.origin,
                               "modelCalls": picked.model_calls, "notes": picked.proposal.notes if picked.proposal else []})  # fmt: skip
                for item in mapper.apply(source, picked.mapping, dry_run=dry_run):
                    results.write(strict_json(item.to_json()) + "\n")
                    counts[item.result.status] += 1
            if text:
                _map_per_record(processor, text, names, resource_type, max_attempts, dry_run, results, counts, settings, strict_grounding)
            results.flush()
    _summary(counts, shapes, "-" if to_stdout else str(output), dry_run, fmt)
    raise typer.Exit(1 if counts["rejected"] else 0)


def _reviewed_mapping(mapper: ShapeMapper, path: Path, source: SourceFile, resource_type: str, *, store: bool) -> SourceMapping:
    """Reads, checks and (unless a dry run) stores a reviewed mapping file for ``source``; MappingFileError names a problem."""
    from ..llm.mapping_file import MappingFileError, load_mapping

    chosen = load_mapping(path)
    if chosen.shape.format != source.format:
        raise MappingFileError(f"{path}: the mapping is for {chosen.shape.format} records; {source.label} holds {source.format}")
    chosen.reviewed = True
    mapper.compile(chosen)  # every problem → exit 2 naming it
    if store:
        mapper.store.save(chosen)
    return chosen


def _write_plan(mapper: ShapeMapper, source: SourceFile, path: Path, plan: Plan, fmt: OutputFormat) -> None:
    """Writes the plan file and prints the mapping (source → target, transform, a sample value before and after)."""
    from ..llm.mapping_file import write_mapping

    chosen = plan.mapping
    write_mapping(chosen, path)
    compiled = mapper.compile(chosen)
    samples = source.samples()
    rows = []
    for step in compiled.steps:
        sample = next((s.values for s in samples if step.sources[0] in s.values), {})
        rows.append({"source": " + ".join(step.sources), "target": step.target.path, "transform": step.transform.name,
                     "before": sample.get(step.sources[0]), "after": _value_at(compiled.build(sample).resource, step.target)})  # fmt: skip
    unmapped = [f for f in chosen.shape.fields if not any(f in e.sources for e in chosen.entries)]
    notes = plan.proposal.notes if plan.proposal else []
    if fmt == OutputFormat.json:
        print_json({"plan": str(path), "shape": chosen.fingerprint, "origin": plan.origin, "modelCalls": plan.model_calls,
                    "mapping": chosen.to_json(), "samples": rows, "unmapped": unmapped, "notes": notes})  # fmt: skip
        return
    table = Table(title=f"mapping of {source.label} (shape {chosen.fingerprint}, {plan.origin}, {plan.model_calls} model call(s))")
    for column in ("source", "target", "transform", "sample before", "after"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["source"], row["target"], row["transform"], _shown(row["before"]), _shown(row["after"]))
    out.print(table)
    if unmapped:
        out.print("unmapped: " + ", ".join(unmapped), highlight=False)
    for note in notes:
        err.print(f"note: {note}", highlight=False)
    out.print(f"plan written to {path}; review it, then: scim-processor map {source.label} --mapping {path}", highlight=False)


def _value_at(resource: dict[str, Any], target: Target) -> Any:
    container = resource.get(target.urn, {}) if target.urn else resource
    value = container.get(target.attribute)
    if target.sub is None:
        return value
    if isinstance(value, list):
        item: dict[str, Any] = next((i for i in value if i.get("type") == target.type_value), {})
        return item.get(target.sub)
    return value.get(target.sub) if isinstance(value, dict) else None


def _shown(value: Any) -> str:
    return "" if value is None else (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))[:60]


def _map_per_record(
    processor: Any, files: list[Path], names: dict[Path, str], resource_type: str, max_attempts: int, dry_run: bool, results: Any,
    counts: Counter[str], settings: Settings, strict_grounding: bool,
) -> None:  # fmt: skip
    """The per-record path: each record asks the model (text records, --per-record)."""
    from ..llm.mapper import Mapper, MapResult
    from ..llm.records import read_records
    from ..llm.store import ExampleStore

    model = _model()
    records = read_records(files, settings.max_payload_bytes, names=names)
    store = ExampleStore(settings.home)

    def done(item: MapResult) -> None:
        results.write(strict_json(item.to_json()) + "\n")
        counts[item.result.status] += 1
        if item.accepted and item.result.resource:
            store.add("map", item.prompt, item.result.resource, source=item.record.source, model=item.model)

    Mapper(processor, model, max_attempts, strict_grounding=strict_grounding).map(records, resource_type, dry_run=dry_run, on_result=done)


def _summary(counts: Counter[str], shapes: list[dict[str, Any]], output: str, dry_run: bool, fmt: OutputFormat) -> None:
    if fmt == OutputFormat.json:
        print_json({"accepted": counts["accepted"], "unchanged": counts["unchanged"], "rejected": counts["rejected"],
                    "dryRun": dry_run, "shapes": shapes, "modelCalls": sum(s["modelCalls"] for s in shapes),
                    "results": output})  # fmt: skip
        return
    table = Table(title="records mapped" + (" (dry run: nothing written)" if dry_run else ""))
    table.add_column("accepted", style="green", justify="right")
    table.add_column("unchanged", justify="right")
    table.add_column("rejected", style="red", justify="right")
    table.add_row(str(counts["accepted"]), str(counts["unchanged"]), str(counts["rejected"]))
    console = summary_console(output == "-")
    console.print(table)
    for shape in shapes:
        console.print(f"{shape['file']}: shape {shape['shape']} ({shape['origin']}), {shape['modelCalls']} model call(s)", highlight=False)
        for note in shape["notes"]:
            err.print(f"note: {note}", highlight=False)
    console.print(f"results: {output}", highlight=False)


@mappings_app.command("list", epilog=exit_codes())
def mappings_list(fmt: Format = OutputFormat.table) -> None:
    """List the stored mappings: shape fingerprint, format, resource type, reviewed, fields and entries.

    [bold]Examples[/bold]
      scim-processor mappings list
      scim-processor mappings list --format json
    """
    from ..llm.core import open_processor
    from ..llm.mapping_store import MappingStore

    with Guarded(fmt), open_processor(load_settings()) as processor:
        rows = [{"shape": m.fingerprint, "format": m.shape.format, "resourceType": m.resource_type, "reviewed": m.reviewed,
                 "fields": len(m.shape.fields), "mapped": len(m.entries)} for m in MappingStore(processor).all()]  # fmt: skip
    if fmt == OutputFormat.json:
        print_json(rows)
        return
    table = Table(title="stored mappings")
    for column in ("shape", "format", "resourceType", "reviewed", "fields", "mapped"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    out.print(table)


@mappings_app.command("show", epilog=exit_codes("no stored mapping for SHAPE"))
def mappings_show(
    shape: Annotated[str, typer.Argument(help="The shape fingerprint (see mappings list).", show_default=False)],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", case_sensitive=False, help="table, or json: the mapping file (edit it, then map --mapping).")
    ] = OutputFormat.table,
) -> None:
    """Show one stored mapping (exit 1 if there is none for SHAPE).

    [bold]Examples[/bold]
      scim-processor mappings show 3f2a9c1e0b7d4a55
      scim-processor mappings show 3f2a9c1e0b7d4a55 --format json > hr-mapping.json
    """
    from ..llm.core import open_processor
    from ..llm.mapping_store import MappingStore

    with Guarded(fmt), open_processor(load_settings()) as processor:
        found = MappingStore(processor).get(shape)
    if found is None:
        err.print(f"no stored mapping for shape {shape}", highlight=False)
        raise typer.Exit(1)
    if fmt == OutputFormat.json:
        print_json(found.to_json())
        return
    table = Table(title=f"shape {found.fingerprint}: {found.shape.format} → {found.resource_type}" + (" (reviewed)" if found.reviewed else ""))
    for column in ("source", "target", "transform", "args"):
        table.add_column(column)
    for entry in found.entries:
        args = json.dumps(dict(entry.args), ensure_ascii=False) if entry.args else ""
        table.add_row(" + ".join(entry.sources), entry.target, entry.transform, args)
    out.print(table)
    unmapped = [f for f in found.shape.fields if not any(f in e.sources for e in found.entries)]
    if unmapped:
        out.print("unmapped: " + ", ".join(unmapped), highlight=False)


@mappings_app.command("delete", epilog=exit_codes("no stored mapping for SHAPE"))
def mappings_delete(shape: Annotated[str, typer.Argument(help="The shape fingerprint.", show_default=False)]) -> None:
    """Delete a stored mapping (its next file is proposed anew); exit 1 if there is none.

    [bold]Examples[/bold]
      scim-processor mappings delete 3f2a9c1e0b7d4a55
    """
    from ..llm.core import open_processor
    from ..llm.mapping_store import MappingStore

    with Guarded(), open_processor(load_settings()) as processor:
        deleted = MappingStore(processor).delete(shape)
    if not deleted:
        err.print(f"no stored mapping for shape {shape}", highlight=False)
        raise typer.Exit(1)
    out.print(f"deleted the mapping of shape {shape}", highlight=False)


@app.command("ask", rich_help_panel=LLM, epilog=exit_codes("the question was refused, or no valid query was found"))
def ask(
    question: Annotated[str, typer.Argument(help="A question about the identity graph.", show_default=False)],
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls (correction loop).")] = 3,
    fmt: Format = OutputFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """Answer a question with guarded, read-only Cypher written by a chat model.

    JSON: {"question", "cypher", "parameters", "rows", "refusal", "attempts", "history"}.
    Needs a model endpoint: OPENAI_BASE_URL and/or OPENAI_API_KEY, and SCIM_PROCESSOR_LLM_MODEL.

    [bold]Examples[/bold]
      scim-processor ask "Who reports to Barbara Jensen?"
      scim-processor ask "How many users are in the Admins group?" --format json
    """
    from ..llm.asker import Asker
    from ..llm.core import open_processor
    from ..llm.store import ExampleStore

    fmt = chosen(fmt, as_json)
    with Guarded(fmt):
        settings = load_settings()
        model = _model()
        with open_processor(settings) as processor:
            store = ExampleStore(settings.home)
            result = Asker(processor, model, max_attempts, store=store).ask(question)
            if result.status == "answered" and result.answer is not None:
                store.add("ask", result.prompt, result.answer, model=model_name_of(model))
    if fmt == OutputFormat.json:
        print_json(result.to_json())
    elif result.status == "refused":
        out.print(f"refused: {result.refusal}", highlight=False)
    elif result.status == "failed":
        err.print(f"[red]no valid query after {result.attempts} attempt(s)[/red]: {result.to_json().get('error')}", highlight=False)
    else:
        out.print(result.cypher, highlight=False)
        table = Table()
        for column in result.rows[0].keys() if result.rows else []:
            table.add_column(column)
        for row in result.rows:
            table.add_row(*(Text(v if isinstance(v, str) else json.dumps(v, default=str)) for v in row.values()))
        out.print(table)
    raise typer.Exit(0 if result.status == "answered" else 1)


def model_name_of(model: Any) -> str:
    """The configured model name (for the store)."""
    from ..llm.chat import model_name

    return model_name(model)


@finetune_app.command("export", epilog=exit_codes())
def finetune_export(
    task: Annotated[Task, typer.Option("--task", case_sensitive=False, help="map or ask.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Training file (chat JSON Lines).")],
    validation_split: Annotated[float, typer.Option("--validation-split", help="Share for FILE.validation.jsonl, 0 <= x < 1.")] = 0.1,
    source: Annotated[Path | None, typer.Option("--from", help="A store-format JSONL file instead of the local store.")] = None,
) -> None:
    """Export accepted examples as chat-format JSONL (OpenAI fine-tuning and TRL SFTTrainer format).

    [bold]Examples[/bold]
      scim-processor finetune export --task map -o train.jsonl
      scim-processor finetune export --task ask -o ask.jsonl --validation-split 0.2
    """
    from ..llm.finetune import MIN_EXAMPLES, export
    from ..llm.store import ExampleStore, read_examples

    with Guarded():
        examples = read_examples(source) if source else ExampleStore(load_settings().home).examples(task.value)
        report = export(examples, output, validation_split)
    out.print(
        f"{report.train} training and {report.validation} validation examples written to {report.train_path}"
        + (f" and {report.validation_path}" if report.validation_path else "")
        + f"; {report.duplicates} duplicates and {report.secret_dropped} secret-bearing examples left out",
        highlight=False,
    )
    if report.train + report.validation < MIN_EXAMPLES:
        err.print(f"note: fewer than {MIN_EXAMPLES} examples; fine-tuning services require at least that many", highlight=False)


@app.command("eval", rich_help_panel=LLM, epilog=exit_codes())
def eval_command(
    task: Annotated[Task, typer.Argument(case_sensitive=False, help="map or ask.", show_default=False)],
    dataset: Annotated[Path, typer.Argument(help="The labelled set (JSON Lines).", show_default=False)],
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls per item.")] = 3,
    details: Annotated[Path | None, typer.Option("--details", help="map: write one JSON line per item to this file.")] = None,
    fmt: Format = OutputFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """Evaluate the configured model on a labelled set (map: dry run; ask: read-only queries).

    [bold]Examples[/bold]
      scim-processor eval map tests/data/llm_eval_map.jsonl
      scim-processor eval ask tests/data/llm_eval_ask.jsonl --format json
    """
    from ..llm.asker import Asker
    from ..llm.core import open_processor
    from ..llm.evaluate import evaluate_ask, evaluate_map, load_dataset
    from ..llm.mapper import Mapper
    from ..llm.shape_mapper import ShapeMapper

    fmt = chosen(fmt, as_json)
    with Guarded(fmt):
        settings = load_settings()
        model = _model()
        items = load_dataset(dataset)
        with open_processor(settings) as processor:
            if task == Task.map:
                shape_mapper = ShapeMapper(processor, lambda: model, max_attempts)
                with details.open("w", encoding="utf-8") if details else contextlib.nullcontext() as lines:
                    metrics = evaluate_map(processor, Mapper(processor, model, max_attempts), items, shape_mapper,
                                           (lambda line: lines.write(strict_json(line) + "\n")) if lines else None)  # fmt: skip
            else:
                metrics = evaluate_ask(processor, Asker(processor, model, max_attempts), items)
    if fmt == OutputFormat.json:
        print_json(metrics)
        return
    table = Table(title=f"eval {task.value}: {dataset}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, str(value))
    out.print(table)

