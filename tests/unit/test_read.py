"""The read stage: files, JSON Lines, arrays and ListResponses; malformed and oversized payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scim_processor.errors import InvalidSyntaxError, InvalidValueError
from scim_processor.stages.read import inspect_document, loads, parse_bytes, read_paths


def test_json_jsonl_array_and_list_response(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"userName": "a"}))
    (tmp_path / "b.jsonl").write_text('{"userName": "b1"}\n\n{"userName": "b2"}\n')
    (tmp_path / "c.json").write_text(json.dumps([{"userName": "c1"}, {"userName": "c2"}]))
    (tmp_path / "d.json").write_text(json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": [{"userName": "d1"}]}))
    (tmp_path / "notes.txt").write_text("ignored")
    payloads = list(read_paths([tmp_path]))
    assert [(Path(p.source).name, p.document["userName"]) for p in payloads] == [
        ("a.json", "a"), ("b.jsonl:1", "b1"), ("b.jsonl:3", "b2"), ("c.json:1", "c1"), ("c.json:2", "c2"), ("d.json:1", "d1"),
    ]  # fmt: skip


def test_malformed_json_is_a_rejected_payload_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"ok": 1}\n{"broken": \n')
    good, bad = read_paths([tmp_path / "x.jsonl"])
    assert good.error is None
    assert (bad.error.status, bad.error.scim_type) == (400, "invalidSyntax")


def test_oversized_payload_is_not_parsed_and_keeps_its_size(tmp_path: Path) -> None:
    (tmp_path / "big.json").write_text(json.dumps({"userName": "x" * 200}))
    (payload,) = read_paths([tmp_path], max_payload_bytes=100)
    assert (payload.document, payload.error, payload.size) == (None, None, 216)  # the pipeline answers 413


def test_json_lines_split_on_newline_only(tmp_path: Path) -> None:
    # U+2028, U+2029 and U+0085 are legal unescaped inside a JSON string; str.splitlines() would cut there.
    (tmp_path / "x.jsonl").write_text('{"a": "1\u2028 2\u0085 3\u2029"}\n{"b": 2}\n', encoding="utf-8")
    first, second = read_paths([tmp_path / "x.jsonl"])
    assert first.document == {"a": "1\u2028 2\u0085 3\u2029"} and second.document == {"b": 2}


def test_a_bad_byte_rejects_its_line_not_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_bytes(b'{"a": 1}\n{"b": "\xff"}\n{"c": 3}\n')
    first, bad, third = read_paths([tmp_path / "x.jsonl"])
    assert (first.document, third.document) == ({"a": 1}, {"c": 3})
    assert bad.source.endswith("x.jsonl:2") and bad.error.scim_type == "invalidSyntax" and "UTF-8" in bad.error.detail


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', "[" * 5000 + "]" * 5000])
def test_non_json_numbers_and_deep_nesting_are_invalid_syntax(tmp_path: Path, text: str) -> None:
    (tmp_path / "x.jsonl").write_text(text + "\n")
    (payload,) = read_paths([tmp_path / "x.jsonl"])
    assert payload.error is not None and payload.error.scim_type == "invalidSyntax"


def test_inspect_document_bounds_depth_unicode_and_numbers() -> None:
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(InvalidSyntaxError, match="nested deeper than 32"):
        inspect_document(deep, 32)
    with pytest.raises(InvalidSyntaxError, match="lone surrogate") as caught:
        inspect_document({"name": {"givenName": "\ud800"}}, 32)
    assert caught.value.attribute == "name.givenName"
    with pytest.raises(InvalidValueError):
        inspect_document({"x": [1.0, float("nan")]}, 32)
    inspect_document({"ok": ["\u2028", 2**70, {"b": True}]}, 32)


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_paths([tmp_path / "nope"]))


@pytest.mark.parametrize(
    "text",
    [
        b'{"userName": "b\\u00e9a", "n": [1, -0, 1.5e300, 9223372036854775807, 18446744073709551616, -9223372036854775809]}',
        b'{"a": 1, "a": 2, "x": "\\ud83d\\ude00"}',
        b'{"s": "\\ud800"}',  # a lone surrogate: parsed, then refused by inspect_document
        b'{"d": 1e400}',  # infinity: parsed, then refused by inspect_document
        b'{"a": NaN}',
        b'{"a": 1,}',
        b"\xef\xbb\xbf{}",
        b"[" * 1100 + b"]" * 1100,
    ],
)
def test_orjson_reads_what_json_reads(text: bytes) -> None:
    # The fast parser must not change a document or an error: integers beyond 64 bits stay
    # exact ints (the gate rejects them), and orjson's refusals are json's verdicts.
    try:
        expected: object = loads(text.decode("utf-8"))
    except InvalidSyntaxError as error:
        expected = error.detail
    try:
        got: object = parse_bytes(text)
    except InvalidSyntaxError as error:
        got = error.detail
    assert got == expected and type(got) is type(expected)
    if isinstance(got, dict) and "n" in got:
        assert got["n"][4] == 2**64 and isinstance(got["n"][5], int)
