"""The read stage: files, JSON Lines, arrays and ListResponses; malformed and oversized payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scim_processor.reader import read_paths


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


def test_oversized_payload_is_413(tmp_path: Path) -> None:
    (tmp_path / "big.json").write_text(json.dumps({"userName": "x" * 200}))
    (payload,) = read_paths([tmp_path], max_payload_bytes=100)
    assert payload.error.status == 413


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_paths([tmp_path / "nope"]))
