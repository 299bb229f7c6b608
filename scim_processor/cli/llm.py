"""The LLM commands of the ``scim-processor`` CLI: ``map``, ``ask``, ``finetune export``, ``eval``.

Registered on the main typer ``app`` (``cli/__init__.py`` imports this module). Exit codes as elsewhere:
0 success, 1 a record rejected / a question refused or failed, 2 usage or infrastructure error
(one line, no traceback) — including a missing model endpoint, which names the settings.
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ..config import load_settings
from ..errors import SettingsError
from ..llm.config import NO_ENDPOINT, chat_model, load_llm_settings
from .app import LLM, App, app, exit_codes
from .options import ResourceTypeName, ResourceTypeOption
from .output import Format, Guarded, JsonAlias, OutputFormat, chosen, err, out, print_json, refuse_overwrite, summary_console

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

finetune_app = App(help="Fine-tuning datasets from accepted results.")
app.add_typer(finetune_app, name="finetune", rich_help_panel=LLM)


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


@app.command("map", rich_help_panel=LLM, epilog=exit_codes("at least one record rejected"))
def map_records(
    paths: Annotated[list[Path], typer.Argument(help="Record files (.json, .jsonl, .csv, .ldif) or directories of them.", show_default=False)],
    resource_type: ResourceTypeOption = ResourceTypeName.User,
    output: Annotated[Path, typer.Option("--output", "-o", help="Results file (JSON Lines).")] = Path("scim-processor-map-results.jsonl"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing results file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Generate and validate; write nothing to the graph.")] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls per record (correction loop).")] = 3,
    fmt: Format = OutputFormat.table,
) -> None:
    """Map non-SCIM identity records to validated SCIM resources with a chat model, then apply them.

    Needs a model endpoint: OPENAI_BASE_URL and/or OPENAI_API_KEY, and SCIM_PROCESSOR_LLM_MODEL.

    [bold]Examples[/bold]
      scim-processor map hr-export.csv --dry-run
      scim-processor map people.ldif --resource-type User -o mapped.jsonl --force
    """
    from ..llm.core import open_processor
    from ..llm.mapper import Mapper, MapResult
    from ..llm.records import read_records
    from ..llm.store import ExampleStore

    counts: Counter[str] = Counter()
    with Guarded(fmt):
        settings = load_settings()
        model = _model()
        refuse_overwrite(output, force)
        records = read_records(paths)
        store = ExampleStore(settings.home)
        with open_processor(settings) as processor, output.open("w", encoding="utf-8") as results:
            mapper = Mapper(processor, model, max_attempts)

            def done(item: MapResult) -> None:
                results.write(json.dumps(item.to_json(), ensure_ascii=False, default=str) + "\n")
                counts[item.result.status] += 1
                if item.accepted and item.result.resource:
                    store.add("map", item.prompt, item.result.resource, source=item.record.source, model=item.model)

            mapper.map(records, resource_type, dry_run=dry_run, on_result=done)
    if fmt == OutputFormat.json:
        print_json({"dryRun": dry_run, "results": str(output), "accepted": counts["accepted"], "rejected": counts["rejected"]})
        raise typer.Exit(1 if counts["rejected"] else 0)
    table = Table(title="records mapped" + (" (dry run: nothing written)" if dry_run else ""))
    table.add_column("accepted", style="green", justify="right")
    table.add_column("rejected", style="red", justify="right")
    table.add_row(str(counts["accepted"]), str(counts["rejected"]))
    console = summary_console()
    console.print(table)
    console.print(f"results: {output}", highlight=False)
    raise typer.Exit(1 if counts["rejected"] else 0)


@app.command("ask", rich_help_panel=LLM, epilog=exit_codes("the question was refused, or no valid query was found"))
def ask(
    question: Annotated[str, typer.Argument(help="A question about the identity graph.", show_default=False)],
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls (correction loop).")] = 3,
    fmt: Format = OutputFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """Answer a question with guarded, read-only Cypher written by a chat model.

    JSON: {"question", "cypher", "parameters", "rows", "refusal", "attempts"}.
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
            result = Asker(processor, model, max_attempts).ask(question)
            if result.status == "answered" and result.answer is not None:
                ExampleStore(settings.home).add("ask", result.prompt, result.answer, model=model_name_of(model))
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
    task: Annotated[Task, typer.Option("--task", help="map or ask.", show_default=False)],
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
    task: Annotated[Task, typer.Argument(help="map or ask.", show_default=False)],
    dataset: Annotated[Path, typer.Argument(help="The labelled set (JSON Lines).", show_default=False)],
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls per item.")] = 3,
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

    fmt = chosen(fmt, as_json)
    with Guarded(fmt):
        settings = load_settings()
        model = _model()
        items = load_dataset(dataset)
        with open_processor(settings) as processor:
            if task == Task.map:
                metrics = evaluate_map(processor, Mapper(processor, model, max_attempts), items)
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

