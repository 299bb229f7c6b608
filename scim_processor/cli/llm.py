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

from ..config import Settings
from ..llm.config import NO_ENDPOINT, LlmSettings, chat_model
from .app import app
from .output import Guarded, err, fail, out, print_json

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

finetune_app = typer.Typer(help="Fine-tuning datasets from accepted results.", no_args_is_help=True)
app.add_typer(finetune_app, name="finetune")


class Task(StrEnum):
    """The two LLM tasks."""

    map = "map"
    ask = "ask"


def _model() -> BaseChatModel:
    """The configured chat model, or exit 2 naming the settings."""
    settings = LlmSettings()
    if not settings.configured:
        raise fail(NO_ENDPOINT)
    model: BaseChatModel = chat_model(settings)  # type: ignore[assignment]
    return model


@app.command("map")
def map_records(
    paths: Annotated[list[Path], typer.Argument(help="Record files (.json .jsonl .csv .ldif; .txt .eml .vcf .xml as text) or directories.")],
    resource_type: Annotated[str, typer.Option("--resource-type", help="User or Group.")] = "User",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Results file (JSON Lines).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Generate and validate; write nothing to the graph.")] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls per record (correction loop).")] = 3,
    strict_grounding: Annotated[
        bool, typer.Option("--strict-grounding", help="Reject a record when any value is ungrounded, instead of dropping optional ones.")
    ] = False,
) -> None:
    """Map non-SCIM identity records to validated SCIM resources with a chat model, then apply them."""
    from ..llm.core import open_processor
    from ..llm.mapper import Mapper, MapResult
    from ..llm.records import read_records
    from ..llm.store import ExampleStore

    model = _model()
    settings = Settings()
    output = output or Path("scim-processor-map-results.jsonl")
    counts: Counter[str] = Counter()
    with Guarded():
        records = read_records(paths)
        store = ExampleStore(settings.home)
        with open_processor(settings) as processor, output.open("w", encoding="utf-8") as results:
            mapper = Mapper(processor, model, max_attempts, strict_grounding=strict_grounding)

            def done(item: MapResult) -> None:
                results.write(json.dumps(item.to_json(), ensure_ascii=False, default=str) + "\n")
                counts[item.result.status] += 1
                if item.accepted and item.result.resource:
                    store.add("map", item.prompt, item.result.resource, source=item.record.source, model=item.model)

            mapper.map(records, resource_type, dry_run=dry_run, on_result=done)
    table = Table(title="records mapped" + (" (dry run: nothing written)" if dry_run else ""))
    table.add_column("accepted", style="green", justify="right")
    table.add_column("rejected", style="red", justify="right")
    table.add_row(str(counts["accepted"]), str(counts["rejected"]))
    out.print(table)
    out.print(f"results: {output}", highlight=False)
    raise typer.Exit(1 if counts["rejected"] else 0)


@app.command("ask")
def ask(
    question: Annotated[str, typer.Argument(help="A question about the identity graph.")],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"question","cypher","parameters","rows","refusal","attempts","history"}.')
    ] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls (correction loop).")] = 3,
) -> None:
    """Answer a question with guarded, read-only Cypher written by a chat model."""
    from ..llm.asker import Asker
    from ..llm.core import open_processor
    from ..llm.store import ExampleStore

    model = _model()
    settings = Settings()
    with Guarded(), open_processor(settings) as processor:
        store = ExampleStore(settings.home)
        result = Asker(processor, model, max_attempts, store=store).ask(question)
        if result.status == "answered" and result.answer is not None:
            store.add("ask", result.prompt, result.answer, model=model_name_of(model))
    if as_json:
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
            table.add_row(*(v if isinstance(v, str) else json.dumps(v, default=str) for v in row.values()))
        out.print(table)
    raise typer.Exit(0 if result.status == "answered" else 1)


def model_name_of(model: Any) -> str:
    """The configured model name (for the store)."""
    from ..llm.chat import model_name

    return model_name(model)


@finetune_app.command("export")
def finetune_export(
    task: Annotated[Task, typer.Option("--task", help="map or ask.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Training file (chat JSON Lines).")],
    validation_split: Annotated[float, typer.Option("--validation-split", help="Share for FILE.validation.jsonl, 0 <= x < 1.")] = 0.1,
    source: Annotated[Path | None, typer.Option("--from", help="A store-format JSONL file instead of the local store.")] = None,
) -> None:
    """Export accepted examples as chat-format JSONL (OpenAI fine-tuning and TRL SFTTrainer format)."""
    from ..llm.finetune import MIN_EXAMPLES, export
    from ..llm.store import ExampleStore, read_examples

    with Guarded():
        examples = read_examples(source) if source else ExampleStore(Settings().home).examples(task.value)
        report = export(examples, output, validation_split)
    out.print(
        f"{report.train} training and {report.validation} validation examples written to {report.train_path}"
        + (f" and {report.validation_path}" if report.validation_path else "")
        + f"; {report.duplicates} duplicates and {report.secret_dropped} secret-bearing examples left out",
        highlight=False,
    )
    if report.train + report.validation < MIN_EXAMPLES:
        err.print(f"note: fewer than {MIN_EXAMPLES} examples; fine-tuning services require at least that many", highlight=False)


@app.command("eval")
def eval_command(
    task: Annotated[Task, typer.Argument(help="map or ask.")],
    dataset: Annotated[Path, typer.Argument(help="The labelled set (JSON Lines).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Model calls per item.")] = 3,
) -> None:
    """Evaluate the configured model on a labelled set (map: dry run; ask: read-only queries)."""
    from ..llm.asker import Asker
    from ..llm.core import open_processor
    from ..llm.evaluate import evaluate_ask, evaluate_map, load_dataset
    from ..llm.mapper import Mapper

    model = _model()
    with Guarded():
        items = load_dataset(dataset)
        with open_processor(Settings()) as processor:
            if task == Task.map:
                metrics = evaluate_map(processor, Mapper(processor, model, max_attempts), items)
            else:
                metrics = evaluate_ask(processor, Asker(processor, model, max_attempts), items)
    if as_json:
        print_json(metrics)
        return
    table = Table(title=f"eval {task.value}: {dataset}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, str(value))
    out.print(table)

