"""An offline processor (a dry run with schema files): no graph server is started, reached or needed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from scim_processor import ScimProcessor, Settings
from scim_processor.config import GraphSettings
from scim_processor.errors import GraphError
from scim_processor.graph import EmbeddedServer
from scim_processor.operations.envelope import OperationRunner
from scim_processor.resources import bundled_dir
from tests.conftest import EXAMPLES, run_cli

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def offline(tmp_path: Path) -> ScimProcessor:
    settings = Settings(home=tmp_path / "home", graph=GraphSettings(uri=None))
    return ScimProcessor.open(settings, dry_run=True)  # no NEO4J_URI, no server running under home


def test_no_server_and_no_home(offline: ScimProcessor, tmp_path: Path) -> None:
    assert not offline.online
    with pytest.raises(GraphError, match="offline"):
        _ = offline.connection
    with pytest.raises(GraphError, match="offline"):
        offline.run_cypher("MATCH (n:User) RETURN n.id AS id")
    offline.close()
    assert not (tmp_path / "home").exists()


def test_an_offline_dry_run_keeps_the_identity_rules_within_the_run(offline: ScimProcessor) -> None:
    results = offline.process(
        [{"schemas": [CORE], "userName": "ada"}, {"schemas": [CORE], "id": "other", "userName": "ADA"}, {"schemas": [CORE], "userName": 7}],
        dry_run=True,
    )
    assert [r.status for r in results] == ["accepted", "rejected", "rejected"]
    assert results[1].error is not None and (results[1].error.status, results[1].error.scim_type) == (409, "uniqueness")
    assert results[0].cypher and results[0].resource is not None and results[0].resource["userName"] == "ada"


def test_requests_are_checked_for_form_offline(offline: ScimProcessor) -> None:
    runner = OperationRunner(offline)
    envelope = {"method": "POST", "path": "/Users", "body": {"schemas": [CORE], "userName": "bob"}}
    wrong = {"method": "PATCH", "path": "/Nowhere/1", "body": {}}
    results = list(runner.run([envelope, wrong], dry_run=True))
    assert [(r.status, getattr(r, "http_status", None)) for r in results] == [("accepted", 201), ("rejected", 404)]


def test_an_existing_embedded_graph_is_not_taken_for_an_empty_one(tmp_path: Path) -> None:
    """A stopped embedded graph may hold custom schemas and resources: open(dry_run=True) starts it then, as before."""
    server = EmbeddedServer(tmp_path / "home")
    assert server.status() is None and not server.has_database()
    (tmp_path / "home" / "arcadedb" / "databases" / "scim").mkdir(parents=True)
    assert server.has_database()


def test_process_dry_run_with_schema_files(tmp_path: Path) -> None:
    directory = tmp_path / "schemas"
    directory.mkdir()
    for name in ("rfc7643-8.6-resource-type-group.json", "rfc7643-8.7.1-schema-group.json"):
        shutil.copy(bundled_dir("schemas") / name, directory / name)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "OPENAI_"))}
    environment["SCIM_PROCESSOR_HOME"] = str(tmp_path / "home")
    files = [str(EXAMPLES / "rfc7643-8.4-group.json"), str(EXAMPLES / "rfc7643-8.1-minimal-user.json")]
    run = run_cli("process", *files, "--dry-run", "--schemas", str(directory), "-o", str(tmp_path / "r.jsonl"), env=environment, cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # the User is no resource type of these files
    results = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["status"], r["resourceType"]) for r in results] == [("accepted", "Group"), ("rejected", None)]
    assert not (tmp_path / "home").exists()
    run = run_cli("process", files[0], "--schemas", str(directory), "-o", str(tmp_path / "r2.jsonl"), env=environment, cwd=tmp_path)
    assert run.returncode == 2 and "--schemas needs --dry-run" in run.stderr and "Traceback" not in run.stderr
