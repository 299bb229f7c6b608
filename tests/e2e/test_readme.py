"""The README's first commands do what the README says: the valid examples exit 0, the invalid ones exit 1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT, cli_environment, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.fixture
def env(processor, graph_settings, tmp_path: Path) -> dict[str, str]:
    """The environment that points the CLI at the session's server (graph wiped, schemas loaded)."""
    return cli_environment(graph_settings, tmp_path / "home")


def _sh_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_readme_opens_with_the_install_and_run_command_and_the_test_command_ci_runs() -> None:
    first, second = _sh_blocks(README)[:2]
    assert first == "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/scim-processor process examples/*.json"
    assert second in CI.splitlines(), "CI must run the README's test command exactly"
    assert len(README) <= 8000


def test_first_command_accepts_every_valid_example_and_exits_0(env, tmp_path: Path) -> None:
    results_file = tmp_path / "results.jsonl"
    files = sorted(str(path) for path in EXAMPLES.glob("*.json"))  # what the shell makes of examples/*.json
    run = run_cli("process", *files, "-o", str(results_file), env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    statuses = [json.loads(line)["status"] for line in results_file.read_text().splitlines()]
    assert statuses == ["accepted"] * 7
    assert "total" in run.stdout + run.stderr  # the summary table (stderr when stdout is not a terminal)


def test_invalid_examples_are_rejected_with_scim_errors_and_exit_1(env, tmp_path: Path) -> None:
    results_file = tmp_path / "results-invalid.jsonl"
    run = run_cli("process", str(EXAMPLES / "invalid"), "-o", str(results_file), env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    results = [json.loads(line) for line in results_file.read_text().splitlines()]
    assert len(results) == 7 and {r["status"] for r in results} == {"rejected"}
    assert all(r["error"]["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and r["error"]["detail"] for r in results)
