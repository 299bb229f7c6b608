"""Prompt templates, `model | parser` with LangChain fake chat models, the example store and the fine-tune export."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from scim_processor.llm.chat import Usage, call, structured
from scim_processor.llm.evaluate import _rows_key, attribute_pairs
from scim_processor.llm.finetune import export, validation_path
from scim_processor.llm.prompts import ASK_SYSTEM, MAP_SYSTEM, Template, TemplateError
from scim_processor.llm.store import ExampleStore


def test_template_checks_placeholders() -> None:
    with pytest.raises(TemplateError):
        Template("Hello {name} {other}", frozenset({"name"}))
    with pytest.raises(TemplateError):
        MAP_SYSTEM.render(resource_type="User")
    with pytest.raises(TemplateError):
        MAP_SYSTEM.render(resource_type="User", context="c", extra="x")
    text = ASK_SYSTEM.render(schema="S", samples="V", examples="E")
    assert '{"cypher": string or null' in text and "S" in text


def test_model_pipe_parser_with_fake_models() -> None:
    runnable = structured(FakeListChatModel(responses=['{"userName": "ada"}', "not json"]), {"name": "x", "schema": {}, "strict": True}, strict=True)
    usage = Usage()
    good = call(runnable, [HumanMessage("hi")], usage)
    bad = call(runnable, [HumanMessage("hi")], usage)
    assert good["parsed"] == {"userName": "ada"} and good["parsing_error"] is None
    assert bad["parsed"] is None and bad["parsing_error"] is not None
    assert usage.calls == 2


def test_generic_fake_model_drives_the_same_parser() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage('{"cypher": null, "parameters": {}, "refusal": "no"}')]))
    output = call(structured(model, {"name": "x", "schema": {}, "strict": False}, strict=False), [HumanMessage("q")], Usage())
    assert output["parsed"]["refusal"] == "no"


def _example(user: str, answer: dict[str, object]) -> dict[str, object]:
    return {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": user}, {"role": "assistant", "content": json.dumps(answer)}]}


def test_store_appends_with_private_mode(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    store.add("map", [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], {"userName": "ada"}, source="f:1", model="m")
    path = store.path("map")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [item] = list(store.examples("map"))
    assert item["messages"][2] == {"role": "assistant", "content": '{"userName": "ada"}'}
    assert list(store.examples("ask")) == []
    with pytest.raises(ValueError, match="unknown task"):
        store.path("other")


def test_export_dedupes_drops_secrets_and_splits_deterministically(tmp_path: Path) -> None:
    examples = [_example(f'Record (csv):\n{{"mail": "u{i}@x.org"}}', {"userName": f"u{i}@x.org"}) for i in range(40)]
    examples.append(examples[0])  # duplicate
    examples.append(_example('Record (csv):\n{"mail": "s@x.org", "password": "pw"}', {"userName": "s@x.org"}))
    out = tmp_path / "train.jsonl"
    report = export(examples, out, 0.25)
    assert (report.duplicates, report.secret_dropped, report.train + report.validation) == (1, 1, 40)
    assert 0 < report.validation < 40 and validation_path(out).name == "train.validation.jsonl"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert all([m["role"] for m in line["messages"]] == ["system", "user", "assistant"] for line in lines)
    again = export(examples, tmp_path / "again.jsonl", 0.25)
    assert (tmp_path / "again.jsonl").read_text() == out.read_text() and again.validation == report.validation
    with pytest.raises(ValueError):
        export(examples, out, 1.0)


def test_eval_helpers() -> None:
    pairs = attribute_pairs({"schemas": ["x"], "id": "1", "userName": "Ada", "emails": [{"value": "a@b", "primary": True}]})
    assert set(pairs) == {("userName", "ada"), ("emails.value", "a@b"), ("emails.primary", "true")}
    assert _rows_key([{"a": 1}, {"a": 2}], False) == _rows_key([{"b": 2}, {"b": 1}], False)
    assert _rows_key([{"a": 1}, {"a": 2}], True) != _rows_key([{"b": 2}, {"b": 1}], True)


def test_malformed_eval_items_are_clear_errors() -> None:
    from scim_processor.llm.evaluate import evaluate_ask, evaluate_map

    with pytest.raises(ValueError, match="'m1' lacks text"):
        evaluate_map(None, None, [{"id": "m1", "format": "csv"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly one record"):
        evaluate_map(None, None, [{"id": "m2", "format": "csv", "text": "a,b\n"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'q1' lacks cypher"):
        evaluate_ask(None, None, [{"id": "q1", "question": "?"}])  # type: ignore[arg-type]
