"""The LLM commands end to end: no endpoint → exit 2; map, ask, finetune export and eval against the scripted server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scim_processor import ScimProcessor, Settings
from tests.conftest import cli_environment, run_cli

from .conftest import DATA
from .scripted_server import ScriptedServer, ask_oracle, map_oracle

ROOT = DATA.parent.parent
MAP_SET = DATA / "llm_eval_map.jsonl"
ASK_SET = DATA / "llm_eval_ask.jsonl"


cli = run_cli


def _base_env(graph_settings: Settings, tmp_path: Path) -> dict[str, str]:
    return cli_environment(graph_settings, tmp_path / "home")


@pytest.fixture
def env(seeded: ScimProcessor, graph_settings: Settings, tmp_path: Path, scripted: ScriptedServer) -> dict[str, str]:
    """The CLI's environment: the session's graph (seeded) and the scripted model server."""
    return {**_base_env(graph_settings, tmp_path), "OPENAI_BASE_URL": scripted.base_url, "SCIM_PROCESSOR_LLM_MODEL": "scripted-model"}


@pytest.mark.parametrize("args", [("ask", "who?"), ("eval", "ask", "x.jsonl")])
def test_without_an_endpoint_exit_2_naming_the_settings(args: tuple[str, ...], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    run = cli(*args, env={**env, "SCIM_PROCESSOR_HOME": str(tmp_path)}, cwd=tmp_path)
    assert run.returncode == 2
    assert "OPENAI_BASE_URL" in run.stderr and "OPENAI_API_KEY" in run.stderr and "SCIM_PROCESSOR_LLM_MODEL" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_map_cli_writes_results_and_the_store_then_finetune_export(env: dict[str, str], scripted: ScriptedServer, tmp_path: Path) -> None:
    records = tmp_path / "people.csv"
    records.write_text("first_name,last_name,email,job_title,department,employee_id,status,salary\n"
                       "Hedy,Lamarr,hedy.lamarr@example.net,Inventor,Research,1041,active,90000\n")  # fmt: skip
    good = json.loads(MAP_SET.read_text().splitlines()[0])["expected"]
    good.pop("phoneNumbers")
    scripted.reset({**good, "isAdmin": True}, good)
    out = tmp_path / "results.jsonl"
    run = cli("map", str(records), "--per-record", "--output", str(out), env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    [line] = [json.loads(x) for x in out.read_text().splitlines()]
    assert (line["status"], line["attempts"], line["model"], line["resourceType"]) == ("accepted", 2, "scripted-model", "User")
    assert "90000" not in out.read_text()
    run = cli("cypher", "run", "MATCH (u:User {userName: $u}) RETURN u.title AS title", "--param", "u=hedy.lamarr@example.net", "--json", env=env, cwd=tmp_path)
    assert json.loads(run.stdout) == [{"title": "Inventor"}]
    train = tmp_path / "ft" / "map.jsonl"
    run = cli("finetune", "export", "--task", "map", "--output", str(train), "--validation-split", "0", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    [example] = [json.loads(x) for x in train.read_text().splitlines()]
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    assert json.loads(example["messages"][2]["content"])["userName"] == "hedy.lamarr@example.net"
    assert "90000" not in train.read_text()


def test_ask_cli_json_and_exit_codes(env: dict[str, str], scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.reset({"cypher": "MATCH (g:Group) RETURN g.displayName AS name ORDER BY name", "parameters": {}, "refusal": None})
    run = cli("ask", "Which groups exist?", "--format", "json", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert set(data) == {"question", "cypher", "parameters", "rows", "refusal", "attempts", "history"}
    assert [r["name"] for r in data["rows"]] == ["Admins", "All Staff", "Engineering Team", "Research Team"]
    assert data["history"] == [{"cypher": data["cypher"], "parameters": {}, "errors": []}]
    scripted.reset({"cypher": None, "parameters": {}, "refusal": "No passwords in the graph."})
    run = cli("ask", "What is Ada's password?", "--json", env=env, cwd=tmp_path)
    assert run.returncode == 1 and json.loads(run.stdout)["refusal"] == "No passwords in the graph."
    salary = {"cypher": "MATCH (u:User) WHERE u.displayName = 'Ada Lovelace' RETURN u.salary AS salary", "parameters": {}, "refusal": None}
    scripted.reset(salary, {**salary, "cypher": salary["cypher"] + " LIMIT 1"})
    run = cli("ask", "What does Ada Lovelace earn?", "--json", "--max-attempts", "2", env=env, cwd=tmp_path)
    data = json.loads(run.stdout)
    assert run.returncode == 1 and data["refusal"] == "the identity graph has no salary" and data["cypher"] is None
    assert [step["cypher"] for step in data["history"]] == [
        "MATCH (u:User) WHERE u.displayName = $p1 RETURN u.salary AS salary", "MATCH (u:User) WHERE u.displayName = $p1 RETURN u.salary AS salary LIMIT 1"]
    assert [[e["code"] for e in step["errors"]] for step in data["history"]] == [["unknown_property"], ["unknown_property"]]
    scripted.reset({"cypher": None, "parameters": {}, "refusal": "just checking the prompt"})
    cli("ask", "How many groups exist?", env=env, cwd=tmp_path)  # the answered question above is now a stored example
    assert "Question: Which groups exist?" in scripted.requests[0]["messages"][0]["content"]


def test_eval_against_the_scripted_server(env: dict[str, str], scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.reset()
    scripted.fallback = map_oracle(MAP_SET)
    details = tmp_path / "details.jsonl"
    run = cli("eval", "map", str(MAP_SET), "--format", "json", "--details", str(details), env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    metrics = json.loads(run.stdout)
    print("eval map (oracle script):", json.dumps(metrics))
    assert metrics["records"] >= 30 and metrics["schemaValidRate"] == 1.0
    assert metrics["precision"] == 1.0 and metrics["recall"] == 1.0 and metrics["meanAttempts"] == 1.0
    # whole files: one proposal per shape, not one call per row
    assert metrics["files"] == metrics["shapes"] == 3 and metrics["modelCallsPerShape"] == 1.0
    assert metrics["modelCallsPerRecord"] < 0.5
    lines = [json.loads(x) for x in details.read_text().splitlines()]
    assert len(lines) == len(MAP_SET.read_text().splitlines())
    assert set(lines[0]) == {"id", "status", "modelCalls", "resource", "dropped", "errors", "precision", "recall"}
    ldif = next(line for line in lines if line["id"] == "file-openldap-ldif")
    assert (ldif["status"], ldif["modelCalls"], ldif["precision"], ldif["recall"], len(ldif["resource"])) == ("accepted", 1, 1.0, 1.0, 25)
    assert "s3cret" not in details.read_text()
    scripted.reset()
    scripted.fallback = ask_oracle(ASK_SET)
    run = cli("eval", "ask", str(ASK_SET), "--json", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    metrics = json.loads(run.stdout)
    print("eval ask (oracle script):", json.dumps(metrics))
    assert metrics["questions"] >= 25 and metrics["executionAccuracy"] == 1.0 and metrics["refusalAccuracy"] == 1.0


def test_a_failing_endpoint_is_exit_2_in_one_line(env: dict[str, str], scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.reset(500, 500, 500, 500)
    run = cli("ask", "How many users?", env=env, cwd=tmp_path)
    assert run.returncode == 2 and "model endpoint failed" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_map_honours_the_payload_size_limit_for_text_records(env: dict[str, str], scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.reset()
    (tmp_path / "note.txt").write_text("New starter: Ana Lima, ana.lima@example.com, Finance. " * 10, encoding="utf-8")
    out = tmp_path / "r.jsonl"
    run = run_cli("map", str(tmp_path / "note.txt"), "-o", str(out), "--dry-run",
                  env={**env, "SCIM_PROCESSOR_MAX_PAYLOAD_BYTES": "200"}, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1, run.stderr
    [line] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert line["error"]["status"] == "413" and scripted.requests == []  # refused before any model call
