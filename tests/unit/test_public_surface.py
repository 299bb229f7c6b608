"""The public surface without a server: the package root, result lines, statements, the shared input listing, CLI choices."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

import scim_processor
from scim_processor import OperationResult, PayloadResult, ResultStatus
from scim_processor.cli import app
from scim_processor.cli.options import DialectName, ResourceTypeName
from scim_processor.errors import InvalidValueError
from scim_processor.graph import Statement
from scim_processor.operations import DIALECTS
from scim_processor.resources import bundled_dir
from scim_processor.scim import read_schema_dir
from scim_processor.stages import read
from scim_processor.stages.read import STDIN, files_of, read_paths


def test_root_exports_the_documented_surface_only() -> None:
    for name in ("ScimProcessor", "ResourceStore", "PayloadResult", "OperationResult", "ResultStatus", "CypherGuard", "GraphSchema",
                 "ProblemCode", "ScimProcessorError", "ScimError", "InvalidValueError", "UniquenessError", "CypherRejectedError",
                 "GraphError", "SettingsError", "SchemaDefinitionError", "UsageError", "Mapper", "AskChain"):  # fmt: skip
        assert name in scim_processor.__all__ and getattr(scim_processor, name) is not None, name
    for internal in ("DeterministicGenerator", "Payload", "Statement", "CompiledSchema", "FileRetriever", "Generation"):
        assert internal not in scim_processor.__all__, internal
    assert issubclass(scim_processor.UsageError, scim_processor.ScimProcessorError)
    assert issubclass(scim_processor.InvalidValueError, scim_processor.ScimError)


def test_importing_the_package_does_not_import_langchain() -> None:
    code = "import sys, scim_processor; assert not any(m.startswith('langchain') for m in sys.modules); print(scim_processor.Mapper.__name__)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "Mapper", run.stderr


def test_status_is_a_str_enum_including_skipped() -> None:
    assert [str(s) for s in ResultStatus] == ["accepted", "unchanged", "rejected", "skipped"]
    assert ResultStatus.ACCEPTED == "accepted" and PayloadResult("x", ResultStatus.UNCHANGED).accepted
    assert not PayloadResult("x", ResultStatus.SKIPPED).accepted


def test_statement_name_fingerprint_and_json() -> None:
    statement = Statement("MATCH (n:User {id: $id}) RETURN n", {"id": "u1"}, "read User")
    same_text = Statement("MATCH (n:User {id: $id}) RETURN n", {"id": "u2"})
    assert len(statement.fingerprint) == 16 and statement.fingerprint == same_text.fingerprint
    assert statement.fingerprint != Statement("RETURN 1", {}).fingerprint
    assert statement.to_json(include_query=False) == {"name": "read User", "fingerprint": statement.fingerprint}
    assert statement.to_json() == {"name": "read User", "fingerprint": statement.fingerprint, "query": statement.query, "parameters": {"id": "u1"}}
    query, parameters, *_ = statement  # still a tuple for connection.write
    assert (query, parameters) == (statement.query, statement.parameters)


def test_result_lines_carry_warnings_and_no_cypher_text_unless_asked() -> None:
    statement = Statement("UNWIND $rows AS row MERGE (n:User {id: row.id})", {"rows": [{"id": "u1"}]}, "upsert User")
    accepted = PayloadResult("f:1", ResultStatus.ACCEPTED, "User", {"id": "u1"}, [statement], warnings=["id: ignored"])
    line = accepted.to_json()
    assert line["cypher"] == [{"name": "upsert User", "fingerprint": statement.fingerprint}] and line["warnings"] == ["id: ignored"]
    assert line["status"] == "accepted" and json.loads(json.dumps(line)) == line
    assert accepted.to_json(include_cypher=True)["cypher"][0]["query"] == statement.query
    rejected = PayloadResult("f:2", ResultStatus.REJECTED, "User", None, [statement], InvalidValueError("userName: empty", "userName"))
    assert rejected.to_json(include_cypher=True)["cypher"] == [] and rejected.to_json()["error"]["scimType"] == "invalidValue"
    operation = OperationResult("f:3", ResultStatus.ACCEPTED, "User", {"id": "u1"}, [statement], method="POST", path="/Users", http_status=201)
    assert "query" in operation.to_json(include_cypher=True)["cypher"][0] and "query" not in operation.to_json()["cypher"][0]
    assert operation.to_json()["httpStatus"] == 201


def test_files_of_recurses_takes_suffixes_and_keeps_stdin(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/b/z.jsonl", "a/y.json", "a/b/people.csv", "a/notes.txt"):
        (tmp_path / name).write_text("{}")
    assert files_of([tmp_path]) == [tmp_path / "a" / "b" / "z.jsonl", tmp_path / "a" / "y.json"]
    assert files_of([tmp_path], suffixes=(".CSV",)) == [tmp_path / "a" / "b" / "people.csv"]
    assert files_of([STDIN, tmp_path / "a" / "notes.txt", Path("-")]) == [STDIN, tmp_path / "a" / "notes.txt"]
    with pytest.raises(FileNotFoundError):
        files_of([tmp_path / "missing"])


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        ('{"userName": "a"}\n\n{"userName": "b"}\n', ["<stdin>:1", "<stdin>:3"]),
        ('\n[\n {"userName": "a"},\n {"userName": "b"}\n]\n', ["<stdin>:1", "<stdin>:2"]),
        ('{\n  "userName": "a"\n}\n', ["<stdin>"]),
        ('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": [{"userName": "a"}]}', ["<stdin>:1"]),
        ("", []),
    ],
)
def test_stdin_is_json_lines_or_one_document(text: str, sources: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read.sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    payloads = list(read_paths([STDIN]))
    assert [p.source for p in payloads] == sources and all(p.error is None and p.document["userName"] == "a" for p in payloads[:1])


def test_cli_choices_match_what_they_name() -> None:
    assert [d.value for d in DialectName] == list(DIALECTS)
    assert sorted(r.value for r in ResourceTypeName) == sorted(read_schema_dir(bundled_dir("schemas")).resource_types)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield " ".join(path), command
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


def test_every_command_has_examples_exit_codes_and_a_panel() -> None:
    root = typer.main.get_command(app)
    commands = dict(_commands(root))
    assert {"process", "get", "cypher run", "cypher check", "map", "ask", "eval", "serve", "db status"} <= set(commands)
    for name, command in commands.items():
        assert "Exit codes: 0 success" in (command.epilog or ""), name
        assert "Example" in (command.help or ""), name
    for name, command in root.commands.items():
        assert getattr(command, "rich_help_panel", None) in ("Processing", "Graph", "LLM", "Server"), name


def test_a_bad_argument_of_the_llm_api_is_a_usage_error(tmp_path: Path) -> None:
    """No plain ValueError crosses the public API: bad arguments are UsageError (still a ValueError for old callers)."""
    from scim_processor import UsageError
    from scim_processor.llm.evaluate import load_dataset
    from scim_processor.llm.finetune import export

    with pytest.raises(UsageError, match="validation-split"):
        export([], tmp_path / "train.jsonl", 1.5)
    (tmp_path / "set.jsonl").write_text("{not json\n")
    with pytest.raises(UsageError, match="set.jsonl:1"):
        load_dataset(tmp_path / "set.jsonl")
