"""One prepare step and one writer: every way a resource arrives gets the same dialect, gate, identity check and writer."""

from __future__ import annotations

from typing import Any

import pytest

from scim_processor import ScimProcessor
from scim_processor.errors import ScimProcessorError, UsageError
from scim_processor.operations import ENTRA, OKTA
from scim_processor.operations.store import ResourceStore

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def members(processor: ScimProcessor, group_id: str) -> list[str]:
    found = processor.connection.read("MATCH (u:User)-[:MEMBER_OF]->(g:Group {id: $id}) RETURN u.id AS id", {"id": group_id})
    return sorted(row["id"] for row in found)


def test_entra_mixed_patch_rename_add_and_remove_with_value(processor: ScimProcessor) -> None:
    store = ResourceStore(processor, ENTRA)
    alice = store.create("User", {"schemas": [CORE], "userName": "alice@contoso.example", "externalId": "a1"})
    bob = store.create("User", {"schemas": [CORE], "userName": "bob@contoso.example", "externalId": "b1"})
    group = store.create("Group", {
        "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Sales", "members": [{"value": alice["id"]}],
    })  # fmt: skip
    body = patch(
        {"op": "Replace", "path": "displayName", "value": "Sales EMEA"},
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": bob["id"]}]},
        {"op": "Remove", "path": "members", "value": [{"value": alice["id"]}]},
    )
    patched = store.patch("Group", group["id"], body)
    assert patched["displayName"] == "Sales EMEA"
    assert members(processor, group["id"]) == [bob["id"]]


def test_okta_mixed_member_patch_with_display(processor: ScimProcessor) -> None:
    store = ResourceStore(processor, OKTA)
    alice = store.create("User", {"schemas": [CORE], "userName": "alice@okta.local"})
    bob = store.create("User", {"schemas": [CORE], "userName": "bob@okta.local"})
    carol = store.create("User", {"schemas": [CORE], "userName": "carol@okta.local"})
    group = store.create("Group", {"schemas": [GROUP], "displayName": "Engineering", "members": [{"value": alice["id"]}]})
    body = patch(
        {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'},
        {"op": "add", "path": "members", "value": [{"value": bob["id"], "display": "bob@okta.local"}]},
        {"op": "replace", "value": {"id": group["id"], "displayName": "Engineering (renamed)"}},
        {"op": "add", "path": "members", "value": [{"value": carol["id"], "display": "carol@okta.local"}]},
    )
    patched = store.patch("Group", group["id"], body)
    assert patched["displayName"] == "Engineering (renamed)"
    assert members(processor, group["id"]) == sorted([bob["id"], carol["id"]])
    assert any("display" in warning and "ignored" in warning for warning in store.warnings)


BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def test_a_blank_required_string_is_400_invalid_value_on_every_path(processor: ScimProcessor) -> None:
    group = processor.process_payload({"schemas": [GROUP], "displayName": "Sales"})
    assert group.accepted and group.resource is not None
    gid = group.resource["id"]
    payloads = [
        {"schemas": [CORE], "userName": "   ", "externalId": "blank-1"},  # a bare resource
        {"method": "POST", "path": "/Users", "body": {"schemas": [CORE], "userName": ""}},
        {"method": "PUT", "path": f"/Groups/{gid}", "body": {"schemas": [GROUP], "displayName": "\t "}},
        {"method": "PATCH", "path": f"/Groups/{gid}", "body": patch({"op": "replace", "path": "displayName", "value": " "})},
        {"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [CORE], "userName": " "}}]},
    ]
    results = processor.process(payloads)
    assert [(r.status, r.error.status if r.error else None, r.error.scim_type if r.error else None) for r in results] == [
        ("rejected", 400, "invalidValue")
    ] * 5
    # each names the attribute; a POST in a file derives its id from userName, so generation refuses it first
    assert all(r.error is not None and (r.error.attribute in ("userName", "displayName") or "required attribute" in r.error.detail) for r in results)
    assert processor.connection.read("MATCH (u:User) RETURN count(u) AS c", {}) == [{"c": 0}]


def test_bare_resources_get_the_dialect_too(processor: ScimProcessor) -> None:
    """Entra's string booleans and ADSCIM URN in a bare resource: accepted under entra (with warnings), refused in strict."""
    document = {
        "schemas": [CORE, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"],
        "userName": "Test_User_dfeef4c5@contoso.com", "active": "True", "externalId": "0a21f0f2",
    }  # fmt: skip
    strict = processor.process([document], dialect="strict")[0]
    assert strict.status == "rejected" and strict.error is not None and strict.error.status == 400
    entra = processor.process([document], dialect="entra")[0]
    assert entra.status == "accepted" and entra.resource is not None and entra.resource["active"] is True
    assert any("ADSCIM" in warning for warning in entra.warnings)


def test_an_unknown_dialect_is_a_usage_error(processor: ScimProcessor) -> None:
    with pytest.raises(UsageError, match="unknown dialect") as info:
        processor.process([], dialect="azure")
    assert isinstance(info.value, ScimProcessorError)
