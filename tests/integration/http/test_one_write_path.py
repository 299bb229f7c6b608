"""Over HTTP, requests run the same prepare step as files: the SCIM gate's blank-string rule and the dialects' mixed PatchOps."""

from __future__ import annotations

import pytest

from scim_processor import ScimProcessor
from scim_processor.http.app import create_app
from scim_processor.http.auth import ApiToken

from .conftest import WsgiClient

BASE = "/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.mark.parametrize("user_name", ["", "   "])
def test_post_user_with_a_blank_user_name_is_400_invalid_value(client: WsgiClient, processor: ScimProcessor, user_name: str) -> None:
    response = client.request("POST", BASE + "/Users", {"schemas": [USER], "userName": user_name})
    assert response.status == 400, response.body
    assert response.body["scimType"] == "invalidValue" and "userName" in response.body["detail"]
    assert processor.run_cypher("MATCH (u:User) RETURN count(u) AS c") == [{"c": 0}]


def test_put_group_with_a_blank_display_name_is_400_invalid_value(client: WsgiClient) -> None:
    group = client.request("POST", BASE + "/Groups", {"schemas": [GROUP], "displayName": "Sales"}).body
    response = client.request("PUT", f"{BASE}/Groups/{group['id']}", {"schemas": [GROUP], "displayName": " \t"})
    assert response.status == 400 and response.body["scimType"] == "invalidValue" and "displayName" in response.body["detail"]


def _members(processor: ScimProcessor, group_id: str) -> set[str]:
    rows = processor.run_cypher("MATCH (u:User)-[:MEMBER_OF]->(g:Group {id: $g}) RETURN u.id AS id", {"g": group_id})
    return {row["id"] for row in rows}


def test_entra_rename_add_and_remove_with_value_in_one_patch(processor: ScimProcessor, api_token: ApiToken) -> None:
    entra = WsgiClient(create_app(processor, api_token, dialect="entra"))
    alice, bob = (entra.request("POST", BASE + "/Users", {"schemas": [USER], "userName": n}).body["id"] for n in ("alice@contoso.com", "bob@contoso.com"))
    group = entra.request("POST", BASE + "/Groups", {"schemas": [GROUP], "displayName": "Sales", "members": [{"value": alice}]}).body
    body = {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Sales EMEA"},
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": bob}]},
        {"op": "Remove", "path": "members", "value": [{"value": alice}]},
    ]}  # fmt: skip
    response = entra.request("PATCH", f"{BASE}/Groups/{group['id']}", body)
    assert response.status == 200, response.body
    assert response.body["displayName"] == "Sales EMEA" and _members(processor, group["id"]) == {bob}


def test_okta_remove_add_and_replace_with_member_display_in_one_patch(processor: ScimProcessor, api_token: ApiToken) -> None:
    okta = WsgiClient(create_app(processor, api_token, dialect="okta"))
    alice, bob = (okta.request("POST", BASE + "/Users", {"schemas": [USER], "userName": n}).body["id"] for n in ("alice@okta.local", "bob@okta.local"))
    group = okta.request("POST", BASE + "/Groups", {"schemas": [GROUP], "displayName": "Engineering", "members": [{"value": alice}]}).body
    body = {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{alice}"]'},
        {"op": "add", "path": "members", "value": [{"value": bob, "display": "bob@okta.local"}]},
        {"op": "replace", "value": {"id": group["id"], "displayName": "Engineering (renamed)"}},
    ]}  # fmt: skip
    response = okta.request("PATCH", f"{BASE}/Groups/{group['id']}", body)
    assert response.status == 200, response.body
    assert response.body["displayName"] == "Engineering (renamed)" and _members(processor, group["id"]) == {bob}
    strict = WsgiClient(create_app(processor, api_token))  # strict RFC: display is readOnly (RFC 7644 §3.5.2)
    body["Operations"] = body["Operations"][1:2] + [{"op": "replace", "path": "displayName", "value": "Eng"}]
    response = strict.request("PATCH", f"{BASE}/Groups/{group['id']}", body)
    assert response.status == 400 and response.body["scimType"] == "mutability" and "'okta' dialect" in response.body["detail"]
