"""End to end: the CLI on examples/, then the graph checked with Cypher; the CLI contract."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT, cli_environment, run_cli

EXPECTED = json.loads((ROOT / "tests" / "examples_expected.json").read_text())


cli = run_cli


@pytest.fixture
def env(processor, graph_settings, tmp_path: Path) -> dict[str, str]:
    """The environment that points the CLI at the session's server (graph wiped, schemas loaded)."""
    return cli_environment(graph_settings, tmp_path / "home")


def test_process_examples_then_query_the_graph(env, tmp_path: Path) -> None:
    results_file = tmp_path / "results.jsonl"
    run = cli("process", str(EXAMPLES), "--output", str(results_file), env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # the invalid examples are rejected
    assert "Traceback" not in run.stdout + run.stderr
    # stdout is a pipe here: the summary goes to stderr, stdout stays empty
    assert "User" in run.stderr and "total" in run.stderr and str(results_file) in run.stderr.replace("\n", "") and not run.stdout
    results = [json.loads(line) for line in results_file.read_text().splitlines()]
    by_source = {str(Path(r["source"]).relative_to(EXAMPLES)): r for r in results}
    expected = {k: v for k, v in EXPECTED.items() if not k.startswith("_")}
    assert set(by_source) == set(expected)
    for source, want in expected.items():
        got = by_source[source]
        assert got["status"] == want["status"], (source, got["error"])
        if source.startswith("scim-requests/"):  # operations: the HTTP status each would get, and the request
            assert got["httpStatus"] == want["httpStatus"] and got["method"] in ("POST", "PUT", "PATCH", "DELETE"), source
        if want["status"] == "skipped":
            continue
        if want["status"] == "rejected":
            error = got["error"]  # the RFC 7644 §3.12 body: status is a JSON string
            assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], source
            assert (int(error["status"]), error.get("scimType")) == (want["httpStatus"], want["scimType"]), source
            assert got["error"]["detail"]
        else:
            assert got["cypher"] and got["resource"]["schemas"] and got["error"] is None
            assert all(set(statement) == {"name", "fingerprint"} for statement in got["cypher"]), source
    assert all("t1meMa$heen" not in json.dumps(r) and "1mz050nq" not in json.dumps(r) for r in results)

    run = cli("cypher", "run", "MATCH (u:User) WHERE u.userName IS NOT NULL RETURN u.userName AS userName ORDER BY userName", "--json", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert [row["userName"] for row in json.loads(run.stdout)] == [
        "Alan.Turing@contoso.example", "Alice", "Alice.Bulk", "ada.lovelace@example.com", "bjensen",
        "bjensen@example.com", "grace.hopper@example.com", "mpepperidge@example.com", "test.user@okta.local",
    ]  # fmt: skip
    run = cli("cypher", "run", "MATCH (u:User)-[:REPORTS_TO]->(m:User {userName: $boss}) RETURN u.userName AS n", "--param", "boss=bjensen@example.com", "--json", env=env, cwd=tmp_path)
    assert json.loads(run.stdout) == [{"n": "mpepperidge@example.com"}]


def test_dry_run_writes_nothing(env, tmp_path: Path) -> None:
    run = cli("process", str(EXAMPLES / "okta-create-user.json"), "--dry-run", "-o", str(tmp_path / "r.jsonl"), env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run = cli("cypher", "run", "MATCH (u:User) RETURN count(u) AS c", "--json", env=env, cwd=tmp_path)
    assert json.loads(run.stdout) == [{"c": 0}]


def test_cypher_run_refuses_writes_and_unknown_names(env, tmp_path: Path) -> None:
    run = cli("cypher", "run", "MATCH (u:User) DETACH DELETE u", env=env, cwd=tmp_path)
    assert run.returncode == 1 and "write_in_read_only" in run.stderr
    run = cli("cypher", "run", "MATCH (u:User) RETURN u.username", env=env, cwd=tmp_path)
    assert run.returncode == 1 and "did you mean userName" in run.stderr


def test_usage_and_infrastructure_errors_exit_2_without_traceback(env, tmp_path: Path) -> None:
    run = cli("process", str(tmp_path / "missing"), env=env, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "missing" in run.stderr
    bad = {**env, "NEO4J_URI": "bolt://127.0.0.1:1", "NEO4J_PASSWORD": "secret-value"}
    run = cli("cypher", "run", "MATCH (n) RETURN n", env=bad, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "cannot reach" in run.stderr
    assert "secret-value" not in run.stdout + run.stderr


def test_graph_schema_formats(env, tmp_path: Path) -> None:
    structured = json.loads(cli("graph-schema", env=env, cwd=tmp_path).stdout)
    assert {"start": "User", "type": "MEMBER_OF", "end": "Group"} in structured["relationships"]
    assert {"property": "userName", "type": "STRING"} in structured["node_props"]["User"]
    prompt = cli("graph-schema", "--format", "prompt", env=env, cwd=tmp_path).stdout
    assert "(:User)-[:REPORTS_TO]->(:User)" in prompt


def test_cypher_check_single_and_batch(env, tmp_path: Path) -> None:
    schema_file = ROOT / "tests" / "movies_graph_schema.json"
    ok = cli("cypher", "check", "--graph-schema", str(schema_file), "MATCH (p:Person) RETURN p.name", env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    bad = cli("cypher", "check", "--graph-schema", str(schema_file), "--read-only", "MATCH (p:Person) SET p.nmae = 1", env=env, cwd=tmp_path)
    assert bad.returncode == 1 and "write_in_read_only" in bad.stderr and "unknown_property" in bad.stderr
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        json.dumps({"id": 1, "query": "MATCH (u:User) RETURN u.userName", "read_only": True}) + "\n"
        + json.dumps({"id": "two", "query": "MATCH (u:Usr) RETURN u", "read_only": False}) + "\n"
    )
    run = cli("cypher", "check", "--batch", str(batch), env=env, cwd=tmp_path)
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 1
    assert lines[0] == {"id": 1, "valid": True, "errors": [], "warnings": []}
    assert lines[1]["id"] == "two" and lines[1]["valid"] is False
    assert lines[1]["errors"][0]["code"] == "unknown_label" and lines[1]["errors"][0]["suggestion"] == "User"
    assert lines[1]["errors"][0]["position"] == {"line": 1, "column": 10, "offset": 9}
    hint = cli("cypher", "check", "--graph-schema", str(schema_file), "MATCH (p:Person) WHERE p.born = '1960' RETURN p.name", env=env, cwd=tmp_path)
    assert hint.returncode == 0 and "valid (1 warning(s))" in hint.stdout
    assert "warning type_mismatch" in hint.stderr and "did you mean 1960?" in hint.stderr


def test_embedded_server_lifecycle(tmp_path: Path) -> None:
    """No NEO4J_URI: the command starts the embedded server itself; db start/status/stop manage a lasting one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["SCIM_PROCESSOR_HOME"] = str(tmp_path / "home")
    run = cli("process", str(EXAMPLES / "rfc7643-8.1-minimal-user.json"), "-o", str(tmp_path / "r.jsonl"), env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    status = json.loads(cli("db", "status", "--json", env=env, cwd=tmp_path).stdout)
    assert status["running"] is False  # stopped again when the command ended
    assert cli("db", "start", env=env, cwd=tmp_path).returncode == 0
    try:
        status = json.loads(cli("db", "status", "--json", env=env, cwd=tmp_path).stdout)
        assert status["running"] and status["uri"].startswith("bolt://127.0.0.1:") and status["database"] == "scim"
        password = (tmp_path / "home" / "root-password").read_text()
        command_line = Path(f"/proc/{status['pid']}/cmdline").read_bytes().decode(errors="replace")
        assert password not in command_line  # only the first start needs it; later starts keep it off `ps`
        run = cli("cypher", "run", "MATCH (u:User) RETURN u.userName AS n", "--json", env=env, cwd=tmp_path)
        assert json.loads(run.stdout) == [{"n": "bjensen@example.com"}]  # data persisted across server runs
        assert json.loads(cli("db", "status", "--json", env=env, cwd=tmp_path).stdout)["pid"] == status["pid"]
    finally:
        cli("db", "stop", env=env, cwd=tmp_path)
    assert json.loads(cli("db", "status", "--json", env=env, cwd=tmp_path).stdout)["running"] is False
    password = (tmp_path / "home" / "root-password").read_text()
    logs = (tmp_path / "home" / "server.log").read_text() + (tmp_path / "r.jsonl").read_text()
    assert password not in logs


def test_requests_in_the_entra_dialect_and_get(env, tmp_path: Path) -> None:
    requests = EXAMPLES / "scim-requests" / "entra-requests.jsonl"
    run = cli("process", str(EXAMPLES), "-o", str(tmp_path / "all.jsonl"), env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    run = cli("process", str(requests), "--dialect", "entra", "-o", str(tmp_path / "entra.jsonl"), env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    results = [json.loads(line) for line in (tmp_path / "entra.jsonl").read_text().splitlines()]
    assert [r["httpStatus"] for r in results] == [201, 200, 200, 200, 200]
    alan = "cc92f9d6-f2b7-5751-b51c-4b50fe98b822"  # UUIDv5 of Alan Turing's externalId
    run = cli("get", f"/Users/{alan}", "--attributes", "active,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    user = json.loads(run.stdout)
    assert user["active"] is False and user["id"] == alan and "userName" not in user
    assert user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] == {"manager": {"value": "2819c223-7f76-453a-919d-413861904646"}}
    run = cli("get", "/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a", "--excluded-attributes", "members", env=env, cwd=tmp_path)
    group = json.loads(run.stdout)
    assert group["displayName"] == "Tour Guides" and "members" not in group and group["meta"]["version"].startswith('W/"')
    run = cli("get", "/Users/nobody", env=env, cwd=tmp_path)
    assert run.returncode == 1 and json.loads(run.stdout)["status"] == "404" and "Traceback" not in run.stderr


def test_patch_op_with_target(env, tmp_path: Path) -> None:
    message = tmp_path / "disable.json"
    message.write_text(json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": False}]}))
    run = cli("process", str(message), "-o", str(tmp_path / "r.jsonl"), env=env, cwd=tmp_path)
    assert run.returncode == 1 and "--target" in (tmp_path / "r.jsonl").read_text()
    run = cli("process", str(EXAMPLES / "okta-create-user.json"), "-o", str(tmp_path / "r.jsonl"), "--force", env=env, cwd=tmp_path)
    ada = json.loads((tmp_path / "r.jsonl").read_text())["resource"]["id"]
    run = cli("process", str(message), "--target", f"/Users/{ada}", "-o", str(tmp_path / "r.jsonl"), "--force", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    line = json.loads((tmp_path / "r.jsonl").read_text())
    assert (line["method"], line["path"], line["httpStatus"], line["resource"]["active"]) == ("PATCH", f"/Users/{ada}", 200, False)
