"""``map`` with shapes and ``mappings`` end to end: model calls counted on the scripted server, mapping files with no endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scim_processor import ScimProcessor, Settings
from tests.conftest import cli_environment, run_cli

from .scripted_server import ScriptedServer

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HEADER = "Employee ID,First Name,Last Name,Work Email,Status,Kostenstelle,Password"
ANSWER = {"fields": [
    {"source": "Work Email", "target": "userName", "transform": "lower", "args": None},
    {"source": "Kostenstelle", "target": f"{ENT}:costCenter", "transform": "copy", "args": None},
]}  # fmt: skip


def rows(start: int, count: int) -> list[str]:
    return [f"{n},Given{n},Family{n},Person.{n}@Example.net,{'Active' if n % 3 else 'Terminated'},CC-{n % 7},secret-{n}-pw"
            for n in range(start, start + count)]  # fmt: skip


def write_csv(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def graph_env(processor: ScimProcessor, graph_settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The CLI's environment on the session's graph (wiped, schemas loaded), with NO model endpoint."""
    return cli_environment(graph_settings, tmp_path / "home")


@pytest.fixture
def model_env(graph_env: dict[str, str], scripted: ScriptedServer) -> dict[str, str]:
    """``graph_env`` plus the scripted model server."""
    return {**graph_env, "OPENAI_BASE_URL": scripted.base_url, "SCIM_PROCESSOR_LLM_MODEL": "scripted-model"}


def count(processor: ScimProcessor) -> int:
    return int(processor.run_cypher("MATCH (u:User) RETURN count(u) AS n")[0]["n"])


def test_a_20000_row_csv_costs_one_model_call_and_a_second_file_of_its_shape_none(
    processor: ScimProcessor, model_env: dict[str, str], scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.reset(ANSWER)
    big = write_csv(tmp_path / "big.csv", rows(1, 20_000))
    out = tmp_path / "big.jsonl"
    run = run_cli("map", str(big), "-o", str(out), "--format", "json", env=model_env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert len(scripted.requests) == 1 and summary["modelCalls"] == 1
    assert (summary["accepted"], summary["rejected"], summary["shapes"][0]["origin"]) == (20_000, 0, "proposed")
    assert count(processor) == 20_000
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["resource"]["userName"] == "person.1@example.net" and first["resource"][ENT]["costCenter"] == "CC-1"
    assert first["shape"] == summary["shapes"][0]["shape"] and first["dropped"] == []
    assert "secret-1-pw" not in out.read_text(encoding="utf-8")
    second = write_csv(tmp_path / "second.csv", rows(20_001, 50))
    run = run_cli("map", str(second), "-o", str(tmp_path / "second.jsonl"), "--format", "json", env=model_env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert len(scripted.requests) == 1 and summary["modelCalls"] == 0 and summary["shapes"][0]["origin"] == "stored"
    assert count(processor) == 20_050


def test_plan_then_an_edited_mapping_applied_with_no_endpoint(
    processor: ScimProcessor, model_env: dict[str, str], graph_env: dict[str, str], scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.reset(ANSWER)
    source = write_csv(tmp_path / "hr.csv", rows(1, 5))
    plan = tmp_path / "plan.yaml"
    run = run_cli("map", str(source), "--plan", str(plan), env={**model_env, "COLUMNS": "250"}, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    print(run.stdout)
    assert "Work Email" in run.stdout and "userName" in run.stdout and "person.1@example.net" in run.stdout  # before/after
    assert count(processor) == 0 and len(scripted.requests) == 1  # a plan writes no resources
    run = run_cli("map", str(source), "--plan", str(tmp_path / "again.json"), "--format", "json", env=graph_env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr  # the stored proposal is read back: no endpoint needed
    assert json.loads(run.stdout)["origin"] == "stored"
    edited = plan.read_text(encoding="utf-8").replace("transform: lower", "transform: upper")
    plan.write_text(edited, encoding="utf-8")
    run = run_cli("map", str(source), "--mapping", str(plan), "-o", str(tmp_path / "r.jsonl"), env=graph_env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    names = [r["u"] for r in processor.run_cypher("MATCH (u:User) RETURN u.userName AS u ORDER BY u")]
    assert names[0] == "PERSON.1@EXAMPLE.NET" and len(names) == 5
    run = run_cli("mappings", "list", "--format", "json", env=graph_env, cwd=tmp_path)
    [listed] = json.loads(run.stdout)
    assert listed["reviewed"] is True and listed["fields"] == 7 and listed["format"] == "csv"
    run = run_cli("mappings", "show", listed["shape"], "--format", "json", env=graph_env, cwd=tmp_path)
    shown = json.loads(run.stdout)
    assert {"source": "Work Email", "target": "userName", "transform": "upper"} in shown["fields"]
    assert run_cli("mappings", "delete", listed["shape"], env=graph_env, cwd=tmp_path).returncode == 0
    assert run_cli("mappings", "show", listed["shape"], env=graph_env, cwd=tmp_path).returncode == 1
    run = run_cli("map", str(source), "-o", str(tmp_path / "r2.jsonl"), env=graph_env, cwd=tmp_path)
    assert run.returncode == 2 and "OPENAI_BASE_URL" in run.stderr  # a new shape again: a proposal needs the model


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"source": "First Name", "target": "nickNameX"}, "'nickNameX' is not an attribute"),
        ({"source": "First Name", "target": "groups.value"}, "groups is readOnly"),
        ({"source": "First Name", "target": "password"}, "password is writeOnly"),
        ({"source": "First Name", "target": "nickName", "transform": "shout"}, "unknown transform 'shout'"),
        ({"source": "Password", "target": "nickName"}, "'Password' is a secret field"),
    ],
)
def test_bad_mapping_files_exit_2_with_one_line(
    processor: ScimProcessor, graph_env: dict[str, str], tmp_path: Path, entry: dict[str, str], named: str
) -> None:
    source = write_csv(tmp_path / "hr.csv", rows(1, 2))
    mapping = {"resourceType": "User", "shape": {"format": "csv", "fields": HEADER.split(",")},
               "fields": [{"source": "Work Email", "target": "userName", "transform": "lower"}, entry]}  # fmt: skip
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    run = run_cli("map", str(source), "--mapping", str(path), env=graph_env, cwd=tmp_path)
    assert run.returncode == 2
    assert named in run.stderr and len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert count(processor) == 0


def test_a_row_with_the_wrong_number_of_columns_is_rejected_by_line_and_the_run_goes_on(
    processor: ScimProcessor, graph_env: dict[str, str], tmp_path: Path
) -> None:
    on_leave = rows(4, 1)[0].replace("Active", "On Leave")
    source = write_csv(tmp_path / "hr.csv", [*rows(1, 2), "3,Three,Only", on_leave])
    mapping = {"resourceType": "User", "shape": {"format": "csv", "fields": HEADER.split(",")},
               "fields": [{"source": "Work Email", "target": "userName", "transform": "lower"},
                          {"source": "Status", "target": "active", "transform": "boolean"}]}  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    out = tmp_path / "r.jsonl"
    run = run_cli("map", str(source), "--mapping", str(path), "-o", str(out), env=graph_env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [(line["source"].rsplit(":", 1)[1], line["status"]) for line in lines] == [
        ("2", "accepted"), ("3", "accepted"), ("4", "rejected"), ("5", "accepted")]  # fmt: skip
    assert lines[2]["error"]["scimType"] == "invalidValue" and "line 4 has 3 columns" in lines[2]["error"]["detail"]
    # a value the transform cannot convert is dropped and reported; the resource is kept
    assert [(d["path"], d["value"], d["code"]) for d in lines[3]["dropped"]] == [("active", "On Leave", "transform_failed")]
    assert "active" not in lines[3]["resource"] and lines[0]["dropped"] == []
    assert count(processor) == 3


def test_records_on_stdin_with_their_format_and_results_on_stdout(processor: ScimProcessor, graph_env: dict[str, str], tmp_path: Path) -> None:
    mapping = {"resourceType": "User", "shape": {"format": "csv", "fields": HEADER.split(",")},
               "fields": [{"source": "Work Email", "target": "userName", "transform": "lower"}]}  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    text = HEADER + "\n" + "\n".join(rows(1, 3)) + "\n"
    command = [sys.executable, "-m", "scim_processor", "map", "-", "--mapping", str(path), "-o", "-"]
    run = subprocess.run([*command, "--input-format", "csv"], input=text, capture_output=True, text=True, env=graph_env, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]  # stdout holds the results only: the summary went to stderr
    assert [(line["source"], line["status"]) for line in lines] == [("<stdin>:2", "accepted"), ("<stdin>:3", "accepted"), ("<stdin>:4", "accepted")]
    assert count(processor) == 3
    run = subprocess.run(command, input=text, capture_output=True, text=True, env=graph_env, cwd=tmp_path, check=False)
    assert run.returncode == 2 and "--input-format" in run.stderr and "Traceback" not in run.stderr
