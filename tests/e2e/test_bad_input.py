"""End to end: the bad-input corpus of the security issue through `process`; nothing sinks a run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import cli, env  # noqa: F401  (the fixture)

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ACME = "urn:example:scim:schemas:extension:acme:2.0:User"


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not strict JSON")

    return json.loads(text, parse_constant=refuse)


def _user(name: str, **extra: object) -> str:
    return json.dumps({"schemas": [CORE, ACME], "userName": name, **extra})


def test_each_bad_payload_is_a_rejected_line_and_the_valid_neighbours_are_written(env, tmp_path: Path) -> None:
    lines = [
        _user("good1").encode(),
        b'{"schemas": ["' + CORE.encode() + b'"], "userName": "deep", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        _user("bigint", **{ACME: {"projects": [{"value": "p", "allocation": 2**80}]}}).encode(),
        b'{"schemas": ["' + CORE.encode() + b'"], "userName": "surrogate\\ud800"}',
        b'{"schemas": ["' + CORE.encode() + b'"], "userName": "latin1 \xe9"}',
        _user("nan").encode()[:-1] + b', "' + ACME.encode() + b'": {"projects": [{"value": "p", "allocation": NaN}]}}',
        _user("inf").encode()[:-1] + b', "' + ACME.encode() + b'": {"projects": [{"value": "p", "allocation": Infinity}]}}',
        _user("line\u2028separator", displayName="a\u0085b").encode(),
        _user("good2").encode(),
    ]
    source = tmp_path / "corpus.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    results_file = tmp_path / "results.jsonl"
    run = cli("process", str(source), "-o", str(results_file), env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    results = [_strict(line) for line in results_file.read_text(encoding="utf-8").splitlines()]
    assert [(r["source"].rsplit(":", 1)[1], r["status"]) for r in results] == [  # type: ignore[index]
        ("1", "accepted"), ("2", "rejected"), ("3", "rejected"), ("4", "rejected"), ("5", "rejected"),
        ("6", "rejected"), ("7", "rejected"), ("8", "accepted"), ("9", "accepted"),
    ]  # fmt: skip
    assert all(r["error"]["status"] == "400" for r in results if r["status"] == "rejected")  # type: ignore[index]
    names = cli("cypher", "run", "MATCH (u:User) RETURN u.userName AS n ORDER BY n", "--json", env=env, cwd=tmp_path)
    assert [row["n"] for row in json.loads(names.stdout)] == ["good1", "good2", "line\u2028separator"]


def test_a_bad_setting_is_one_line_and_exit_2(env, tmp_path: Path) -> None:
    run = cli("process", str(tmp_path), env={**env, "SCIM_PROCESSOR_BATCH_SIZE": "0"}, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "SCIM_PROCESSOR_BATCH_SIZE" in run.stderr


def test_a_blank_required_string_in_a_file_is_rejected(env, tmp_path: Path) -> None:
    source = tmp_path / "blank.jsonl"
    source.write_text(
        json.dumps({"schemas": [CORE], "userName": "   ", "externalId": "e-blank"}) + "\n"
        + json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": " \t"}) + "\n"
        + json.dumps({"method": "POST", "path": "/Users", "body": {"schemas": [CORE], "userName": " ", "externalId": "e2"}}) + "\n"
    )  # fmt: skip
    results_file = tmp_path / "results.jsonl"
    run = cli("process", str(source), "-o", str(results_file), env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    results = [json.loads(line) for line in results_file.read_text().splitlines()]
    assert [(r["status"], r["error"]["status"], r["error"]["scimType"]) for r in results] == [("rejected", "400", "invalidValue")] * 3
    assert [r["error"]["detail"].split(" ")[0] for r in results] == ["userName", "displayName", "userName"]
