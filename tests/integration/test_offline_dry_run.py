"""A dry run with the bundled schemas needs no graph server (issue 17 §3): same verdicts, no server started."""

from __future__ import annotations

import json
import os
from pathlib import Path

from scim_processor import ScimProcessor, Settings
from tests.conftest import EXAMPLES, cli_environment, run_cli


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_dry_run_without_a_server_gives_the_verdicts_of_one_with_a_server(processor: ScimProcessor, graph_settings: Settings, tmp_path: Path) -> None:
    online = run_cli("process", str(EXAMPLES), "--dry-run", "-o", str(tmp_path / "online.jsonl"),
                     env=cli_environment(graph_settings, tmp_path / "online-home"), cwd=tmp_path)  # fmt: skip
    home = tmp_path / "offline-home"
    home.mkdir()
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("OPENAI_", "NEO4J_"))}
    offline = run_cli("process", str(EXAMPLES), "--dry-run", "-o", str(tmp_path / "offline.jsonl"),
                      env={**environment, "SCIM_PROCESSOR_HOME": str(home)}, cwd=tmp_path)  # fmt: skip
    assert online.returncode == offline.returncode == 1, offline.stderr  # the invalid examples are rejected
    assert "Traceback" not in offline.stdout + offline.stderr
    by_source = {line["source"]: line for line in _lines(tmp_path / "offline.jsonl")}
    expected = _lines(tmp_path / "online.jsonl")
    assert len(expected) == len(by_source) > 30
    for want in expected:  # the whole results line (status, error with scimType and detail, resource), and the same Cypher
        got = by_source[want["source"]]
        assert {k: v for k, v in got.items() if k != "cypher"} == {k: v for k, v in want.items() if k != "cypher"}, want["source"]
        assert [c["fingerprint"] for c in got["cypher"]] == [c["fingerprint"] for c in want["cypher"]]  # the same statements
    # No server was started: its data, passwords, lock and server.json would all be under the home.
    assert list(home.iterdir()) == []
    assert processor.connection.read("MATCH (n:User) RETURN count(n) AS c", {})[0]["c"] == 0  # and nothing was written


def test_a_dry_run_with_a_server_configured_uses_its_graph(processor: ScimProcessor, graph_settings: Settings) -> None:
    with ScimProcessor.open(graph_settings, dry_run=True) as dry:
        assert dry.online and dry.compiled().version == processor.compiled().version
