"""The CLI conventions (issue 17 §2, issue 15 §4): version, -h, choices, --format json, stdin/stdout, results files.

Every test runs the real command line (``python -m scim_processor``) in a subprocess.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli_environment, run_cli

cli = run_cli
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}  # help on one line per option, no colour codes


def _plain_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with no graph server and no model endpoint (for commands that fail before using either)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEO4J_", "SCIM_PROCESSOR_"))}
    return {**env, "SCIM_PROCESSOR_HOME": str(tmp_path / "home"), **WIDE, **extra}


def _piped(*args: str, stdin: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scim_processor", *args]
    return subprocess.run(command, input=stdin, check=False, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


@pytest.fixture
def env(processor, graph_settings, tmp_path: Path) -> dict[str, str]:
    """The environment that points the CLI at the session's server (graph wiped, schemas loaded)."""
    return {**cli_environment(graph_settings, tmp_path / "home"), **WIDE}


# ---------------------------------------------------------------- no graph needed


def test_version_is_the_installed_distribution_version(tmp_path: Path) -> None:
    run = cli("--version", env=_plain_env(tmp_path), cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == f"scim-processor {version('scim-processor')}"


@pytest.mark.parametrize("args", [(), ("process",), ("cypher", "run"), ("db", "status"), ("map",), ("finetune", "export")])
def test_short_help_everywhere(args: tuple[str, ...], tmp_path: Path) -> None:
    run = cli(*args, "-h", env=_plain_env(tmp_path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Usage:" in run.stdout and "-h" in run.stdout and "<bool>" not in run.stdout  # flags show as flags
    if args:
        assert "Exit codes: 0 success" in run.stdout


def test_root_help_has_panels_completion_and_no_color(tmp_path: Path) -> None:
    text = cli("--help", env=_plain_env(tmp_path), cwd=tmp_path).stdout
    panels = [name for name in ("Processing", "Graph", "LLM", "Server") if f"─ {name} " in text]
    assert panels == ["Processing", "Graph", "LLM", "Server"]
    assert [text.index(f"─ {name} ") for name in panels] == sorted(text.index(f"─ {name} ") for name in panels)
    assert "--install-completion" in text and "--show-completion" in text and "--no-color" in text and "--version" in text
    completion = cli("--show-completion", "bash", env=_plain_env(tmp_path), cwd=tmp_path)
    assert completion.returncode == 0 and "_SCIM_PROCESSOR_COMPLETE" in completion.stdout


def test_process_help_shows_choices_env_var_defaults_and_examples(tmp_path: Path) -> None:
    text = cli("process", "-h", env=_plain_env(tmp_path), cwd=tmp_path).stdout
    assert "<strict|entra|okta>" in text and "[env var: SCIM_PROCESSOR_DIALECT]" in text
    assert "entra (Microsoft Entra ID) or okta." in text  # nothing eaten as Rich markup
    assert "[default: scim-processor-results.jsonl]" in text and "<full|failures|summary>" in text and "[default: full]" in text
    assert "<table|json>" in text and "Examples" in text and "scim-processor process - -o -" in text


def test_choices_are_enforced_with_json_errors_under_format_json(tmp_path: Path) -> None:
    env = _plain_env(tmp_path)
    run = cli("process", "x.json", "--dialect", "azure", env=env, cwd=tmp_path)
    assert run.returncode == 2 and "azure" in run.stderr and not run.stdout
    run = cli("process", "x.json", "--dialect", "azure", "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 2 and "'azure' is not one of 'strict', 'entra', 'okta'" in json.loads(run.stdout)["error"]
    run = cli("process", "x.json", env={**env, "SCIM_PROCESSOR_DIALECT": "azure"}, cwd=tmp_path)
    assert run.returncode == 2 and "SCIM_PROCESSOR_DIALECT" in run.stderr
    run = cli("map", "x.csv", "--resource-type", "Device", env=env, cwd=tmp_path)
    assert run.returncode == 2 and "Device" in run.stderr
    run = cli("finetune", "export", "--task", "summarise", "-o", "x.jsonl", env=env, cwd=tmp_path)
    assert run.returncode == 2 and "summarise" in run.stderr


@pytest.mark.parametrize(
    ("args", "variable", "value"),
    [
        (("map", "people.csv"), "SCIM_PROCESSOR_BATCH_SIZE", "many"),
        (("ask", "Who?"), "SCIM_PROCESSOR_BATCH_SIZE", "many"),
        (("ask", "Who?"), "SCIM_PROCESSOR_LLM_TIMEOUT", "soon"),
        (("eval", "map", "set.jsonl"), "SCIM_PROCESSOR_MAX_DEPTH", "1"),
        (("finetune", "export", "--task", "map", "-o", "x.jsonl"), "SCIM_PROCESSOR_WORKERS", "-1"),
        (("process", "x.json"), "SCIM_PROCESSOR_BATCH_SIZE", "many"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(args: tuple[str, ...], variable: str, value: str, tmp_path: Path) -> None:
    env = _plain_env(tmp_path, **{variable: value, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    (tmp_path / "x.json").write_text("{}")
    run = cli(*args, env=env, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("error: invalid setting: ") and variable in run.stderr
    run = cli(*args, "--format", "json", env=env, cwd=tmp_path) if args[0] != "finetune" else None
    if run is not None:
        assert run.returncode == 2 and variable in json.loads(run.stdout)["error"]


def test_cypher_check_batch_reads_stdin(tmp_path: Path) -> None:
    schema_file = ROOT / "tests" / "movies_graph_schema.json"
    queries = json.dumps({"id": 1, "query": "MATCH (p:Person) RETURN p.name"}) + "\n" + json.dumps({"id": 2, "query": "MATCH (p:Persn) RETURN p"}) + "\n"
    run = _piped("cypher", "check", "--graph-schema", str(schema_file), "--batch", "-", stdin=queries, env=_plain_env(tmp_path), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert [(v["id"], v["valid"]) for v in map(json.loads, run.stdout.splitlines())] == [(1, True), (2, False)]
    run = cli("cypher", "check", "--graph-schema", str(schema_file), "MATCH (p:Persn) RETURN p", "--format", "json", env=_plain_env(tmp_path), cwd=tmp_path)
    verdict = json.loads(run.stdout)
    assert run.returncode == 1 and verdict["valid"] is False and verdict["errors"][0]["code"] == "unknown_label"
    run = cli("cypher", "check", "--format", "json", env=_plain_env(tmp_path), cwd=tmp_path)
    assert run.returncode == 2 and json.loads(run.stdout) == {"error": "give either QUERY or --batch FILE"}


def test_no_color_flag_and_variable(tmp_path: Path) -> None:
    schema_file = str(ROOT / "tests" / "movies_graph_schema.json")
    env = {k: v for k, v in _plain_env(tmp_path).items() if k != "NO_COLOR"}
    args = ("cypher", "check", "--graph-schema", schema_file, "MATCH (p:Persn) RETURN p")
    assert "\x1b[" in cli(*args, env={**env, "FORCE_COLOR": "1"}, cwd=tmp_path).stderr  # colour forced onto a pipe
    for run in (cli("--no-color", *args, env={**env, "FORCE_COLOR": "1"}, cwd=tmp_path),
                cli(*args, env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"}, cwd=tmp_path)):  # fmt: skip
        assert run.returncode == 1 and "unknown_label" in run.stderr and "\x1b[" not in run.stderr


# ---------------------------------------------------------------- against the graph


def _users(tmp_path: Path, *names: str) -> Path:
    source = tmp_path / "users.jsonl"
    source.write_text("".join(json.dumps({"schemas": [CORE], "userName": name}) + "\n" for name in names))
    return source


def test_format_json_on_the_data_commands(env: dict[str, str], tmp_path: Path) -> None:
    source = _users(tmp_path, "ann", "bob")
    run = cli("process", str(source), "-o", str(tmp_path / "r.jsonl"), "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["resourceTypes"]["User"]["accepted"] == 2 and summary["total"]["rejected"] == 0 and summary["results"] == str(tmp_path / "r.jsonl")
    ann = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])["resource"]["id"]

    run = cli("get", f"/Users/{ann}", "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 0 and json.loads(run.stdout)["userName"] == "ann"
    run = cli("get", "/Users/nobody", "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 1 and json.loads(run.stdout)["status"] == "404"
    run = cli("get", "/Users/nobody", "--format", "table", env=env, cwd=tmp_path)
    assert run.returncode == 1 and run.stderr.startswith("error: 404") and not run.stdout
    run = cli("get", "/Users", "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 2 and "listing" in json.loads(run.stdout)["error"]

    run = cli("cypher", "run", "MATCH (u:User) RETURN count(u) AS n", "--format", "json", env=env, cwd=tmp_path)
    assert json.loads(run.stdout) == [{"n": 2}]
    run = cli("cypher", "run", "MATCH (u:User) DETACH DELETE u", "--format", "json", env=env, cwd=tmp_path)
    rejection = json.loads(run.stdout)
    assert run.returncode == 1 and rejection["valid"] is False and rejection["errors"][0]["code"] == "write_in_read_only" and rejection["error"]
    run = cli("cypher", "run", "RETURN 1", "--param", "oops", "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 2 and "NAME=VALUE" in json.loads(run.stdout)["error"]

    assert set(json.loads(cli("db", "status", "--format", "json", env=env, cwd=tmp_path).stdout)) >= {"running", "uri", "home"}
    assert "relationships" in json.loads(cli("graph-schema", "--format", "json", env=env, cwd=tmp_path).stdout)
    assert "MEMBER_OF" in cli("graph-schema", "--format", "table", env=env, cwd=tmp_path).stdout
    loaded = json.loads(cli("schemas", "load", "--format", "json", env=env, cwd=tmp_path).stdout)
    assert set(loaded["resource_types"]) == {"User", "Group"}

    bad = {**env, "NEO4J_URI": "bolt://127.0.0.1:1"}
    run = cli("cypher", "run", "RETURN 1", "--format", "json", env=bad, cwd=tmp_path)
    assert run.returncode == 2 and "cannot reach" in json.loads(run.stdout)["error"] and "Traceback" not in run.stderr


def test_stdin_in_and_results_to_stdout(env: dict[str, str], tmp_path: Path) -> None:
    lines = json.dumps({"schemas": [CORE], "userName": "cleo"}) + "\n\n" + json.dumps({"schemas": [CORE]}) + "\n"
    run = _piped("process", "-", "-o", "-", "--dry-run", stdin=lines, env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]  # stdout holds the results lines only
    assert [(r["source"], r["status"]) for r in results] == [("<stdin>:1", "accepted"), ("<stdin>:3", "rejected")]
    assert "total" in run.stderr and not (tmp_path / "-").exists()

    document = json.dumps([{"schemas": [CORE], "userName": "dora"}, {"schemas": [CORE], "userName": "eve"}], indent=2)
    run = _piped("process", "-", "-o", "-", "--format", "json", stdin=document, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["source"] for line in run.stdout.splitlines()] == ["<stdin>:1", "<stdin>:2"]
    assert json.loads(run.stderr)["total"]["accepted"] == 2  # the summary, as JSON, on stderr: stdout is the results


def test_an_existing_results_file_is_not_overwritten_without_force(env: dict[str, str], tmp_path: Path) -> None:
    source = _users(tmp_path, "fay")
    results = tmp_path / "kept.jsonl"
    results.write_text("precious\n")
    run = cli("process", str(source), "-o", str(results), env=env, cwd=tmp_path)
    assert run.returncode == 2 and str(results) in run.stderr and "--force" in run.stderr
    assert results.read_text() == "precious\n"
    run = cli("process", str(source), "-o", str(results), "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 2 and str(results) in json.loads(run.stdout)["error"]
    run = cli("process", str(source), "-o", str(results), "--force", env=env, cwd=tmp_path)
    assert run.returncode == 0 and json.loads(results.read_text())["status"] == "accepted"
    default = cli("process", str(source), env=env, cwd=tmp_path)
    assert default.returncode == 0 and (tmp_path / "scim-processor-results.jsonl").exists()
    again = cli("process", str(source), env=env, cwd=tmp_path)
    assert again.returncode == 2 and "scim-processor-results.jsonl" in again.stderr
    run = cli("process", str(source), "-o", str(results), "--results", "summary", env=env, cwd=tmp_path)
    assert run.returncode == 0  # no results file is written, so none is refused


def test_results_modes_cypher_and_warnings(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    post = {"method": "POST", "path": "/Users", "body": {"schemas": [CORE], "id": "client-chosen", "userName": "gus"}}
    source.write_text("\n".join(json.dumps(d) for d in ({"schemas": [CORE], "userName": "hal"}, {"schemas": [CORE]}, post)) + "\n")

    run = cli("process", str(source), "-o", str(tmp_path / "full.jsonl"), env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    full = [json.loads(line) for line in (tmp_path / "full.jsonl").read_text().splitlines()]
    assert [r["status"] for r in full] == ["accepted", "rejected", "accepted"]
    accepted, rejected, posted = full
    assert accepted["cypher"] and all(set(s) == {"name", "fingerprint"} and len(s["fingerprint"]) == 16 for s in accepted["cypher"])
    assert "query" not in json.dumps(full) and rejected["cypher"] == [] and rejected["error"]["status"] == "400"
    assert accepted["warnings"] == [] and any("client-chosen" in w and "ignored" in w for w in posted["warnings"])
    assert posted["resource"]["id"] != "client-chosen"
    assert "warnings" in run.stderr  # the summary counts them

    run = cli("process", str(source), "-o", str(tmp_path / "failures.jsonl"), "--results", "failures", "--dry-run", env=env, cwd=tmp_path)
    failures = [json.loads(line) for line in (tmp_path / "failures.jsonl").read_text().splitlines()]
    assert run.returncode == 1 and [r["status"] for r in failures] == ["rejected"]

    run = cli("process", str(source), "-o", str(tmp_path / "cypher.jsonl"), "--include-cypher", "--dry-run", env=env, cwd=tmp_path)
    with_cypher = json.loads((tmp_path / "cypher.jsonl").read_text().splitlines()[0])
    statement = with_cypher["cypher"][0]
    assert statement["query"] and "rows" in statement["parameters"]
    assert statement["fingerprint"] == hashlib.sha256(statement["query"].encode()).hexdigest()[:16]
    assert accepted["cypher"][0]["name"] == "User.create"  # what ran on the graph; a dry run shows the statement it prepared

    run = cli("process", str(source), "-o", str(tmp_path / "none.jsonl"), "--results", "summary", "--dry-run", "--format", "json", env=env, cwd=tmp_path)
    assert not (tmp_path / "none.jsonl").exists() and json.loads(run.stdout)["results"] is None
    assert json.loads(run.stdout)["total"] == {"accepted": 2, "unchanged": 0, "rejected": 1, "skipped": 0, "warnings": 1}  # a dry-run POST: "checked for form only"


def test_an_accepted_benchmark_user_line_is_at_most_1_2_kb(env: dict[str, str], tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("process_benchmark", ROOT / "benchmarks" / "process_benchmark.py")
    assert spec and spec.loader
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    source = tmp_path / "bench.jsonl"
    source.write_text(json.dumps(benchmark.user(1234567, random.Random(7))) + "\n")
    run = cli("process", str(source), "-o", str(tmp_path / "r.jsonl"), env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    line = (tmp_path / "r.jsonl").read_bytes()
    print(f"accepted benchmark-user results line: {len(line)} bytes")
    assert json.loads(line)["status"] == "accepted" and len(line) <= 1200

