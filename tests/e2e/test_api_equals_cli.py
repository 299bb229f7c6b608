"""``ScimProcessor.process`` is the CLI's engine: the same payloads give the same results lines, whichever is called."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scim_processor import ScimProcessor
from scim_processor.stages.read import read_paths
from tests.conftest import wipe
from tests.e2e.test_cli import cli, env  # noqa: F401  (the fixture)

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def _lines(group_id: str) -> list[dict[str, Any]]:
    return [
        {"schemas": [GROUP], "id": group_id, "displayName": "Engineering"},
        {"method": "POST", "path": "/Users", "body": {"schemas": [USER], "userName": "grace@example.com", "active": True}},
        {"method": "PATCH", "path": f"/Groups/{group_id}", "body": {"schemas": [PATCH], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": "not-yet-a-user-id", "display": "ignored"}]},
            {"op": "replace", "path": "displayName", "value": "Engineering (renamed)"},
        ]}},  # fmt: skip
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"id": group_id, "displayName": "Platform"}}]},
        {"schemas": [BULK], "failOnErrors": 1, "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [GROUP], "displayName": "Tour Guides",
                                                                      "members": [{"type": "User", "value": "bulkId:u"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"schemas": [USER], "userName": "Alice.Bulk"}},
            {"method": "PATCH", "path": "/Users/bulkId:u", "data": {"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": "active", "value": "False"}]}},
            {"method": "DELETE", "path": "/Groups/bulkId:g"},
        ]},  # fmt: skip
    ]


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A results line without what differs between two runs (timestamps and the statements' parameters)."""
    resource = result.get("resource")
    if isinstance(resource, dict):
        resource = {key: value for key, value in resource.items() if key != "meta"}
    return {**result, "resource": resource, "cypher": [statement["name"] if "name" in statement else statement.get("query") for statement in result["cypher"]]}


def test_process_on_envelopes_patchop_and_bulk_gives_the_cli_results(env, processor: ScimProcessor, tmp_path: Path) -> None:
    group_id = "0f6e1b7c-6d0a-4d3e-9b9e-7a1c2f3e4d5a"
    source = tmp_path / "requests.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in _lines(group_id)))
    results_file = tmp_path / "results.jsonl"
    run = cli("process", str(source), "--target", f"/Groups/{group_id}", "--dialect", "okta", "-o", str(results_file), env=env, cwd=tmp_path)
    assert "Traceback" not in run.stderr, run.stderr
    from_cli = [json.loads(line) for line in results_file.read_text().splitlines()]

    wipe(processor.connection)
    processor.load_schemas()
    results = processor.process(read_paths([source]), target=f"/Groups/{group_id}", dialect="okta")
    from_api = [json.loads(json.dumps(result.to_json(), default=str)) for result in results]

    assert [_comparable(r) for r in from_api] == [_comparable(r) for r in from_cli]
    statuses = [(r["status"], r.get("httpStatus")) for r in from_api]
    assert statuses[:4] == [("accepted", None), ("accepted", 201), ("accepted", 200), ("accepted", 200)]
    # the Bulk request: one result per operation; PATCH in the okta dialect refuses "False" (entra only), so failOnErrors 1 skips the DELETE
    assert statuses[4:] == [("accepted", 201), ("accepted", 201), ("rejected", 400), ("skipped", None)]
    assert from_api[4]["resource"]["members"][0]["value"] == from_api[5]["resource"]["id"]
