"""What the conformance suites do not cover: ETag preconditions, Bulk with bulkId, PATCH member
edits, and the request sequences Entra and Okta send (from their provisioning documentation)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from scim_processor import ScimProcessor
from scim_processor.http.app import create_app
from scim_processor.http.auth import ApiToken

from .conftest import WsgiClient

BASE = "/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _user(client: WsgiClient, user_name: str, **extra: object) -> dict:
    response = client.request("POST", BASE + "/Users", {"schemas": [USER], "userName": user_name, **extra})
    assert response.status == 201, response.body
    assert response.headers["Location"].endswith(f"/scim/v2/Users/{response.body['id']}")
    assert response.headers["ETag"] == response.body["meta"]["version"]
    return response.body


def _filter(client: WsgiClient, endpoint: str, text: str, extra: str = "") -> dict:
    response = client.request("GET", f"{BASE}/{endpoint}?filter={quote(text)}{extra}")
    assert response.status == 200, response.body
    return response.body


def test_etag_preconditions(client: WsgiClient) -> None:
    user = _user(client, "etag")
    url, version = f"{BASE}/Users/{user['id']}", user["meta"]["version"]
    assert client.request("GET", url, headers={"If-None-Match": version}).status == 304
    body = {"schemas": [USER], "userName": "etag", "displayName": "E"}
    stale = client.request("PUT", url, body, headers={"If-Match": 'W/"0000000000000000"'})
    assert stale.status == 412 and stale.body["status"] == "412"
    fresh = client.request("PUT", url, body, headers={"If-Match": version})
    assert fresh.status == 200 and fresh.body["displayName"] == "E" and fresh.headers["ETag"] != version
    patch = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "F"}]}
    assert client.request("PATCH", url, patch, headers={"If-Match": version}).status == 412  # the old version
    assert client.request("DELETE", url, headers={"If-Match": version}).status == 412
    assert client.request("DELETE", url, headers={"If-Match": fresh.headers["ETag"]}).status == 204
    assert client.request("GET", url).status == 404


def test_bulk_with_bulk_id_references(client: WsgiClient, processor: ScimProcessor) -> None:
    """RFC 7644 §3.7.2: a group created with a member that the same request creates."""
    body = {
        "schemas": [BULK],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": {"schemas": [USER], "userName": "Alice"}},
            {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
             "data": {"schemas": [GROUP], "displayName": "Tour Guides", "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"schemas": [USER], "userName": "alice"}},
        ],
    }  # fmt: skip
    response = client.request("POST", BASE + "/Bulk", body)
    assert response.status == 200, response.body
    statuses = [int(op["status"]) for op in response.body["Operations"]]
    assert statuses == [201, 201, 409]  # userName is unique case-insensitively
    rows = processor.run_cypher("MATCH (u:User)-[:MEMBER_OF]->(g:Group) RETURN u.userName AS user, g.displayName AS group")
    assert rows == [{"user": "Alice", "group": "Tour Guides"}]


def test_patch_members_add_and_remove_answer_200_and_touch_only_those_edges(client: WsgiClient, processor: ScimProcessor) -> None:
    ids = [_user(client, f"m{i}")["id"] for i in range(3)]
    group = client.request("POST", BASE + "/Groups", {"schemas": [GROUP], "displayName": "G", "members": [{"value": ids[0]}]}).body
    url = f"{BASE}/Groups/{group['id']}"
    add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[2]}]}]}
    response = client.request("PATCH", url, add)
    assert response.status == 200 and {m["value"] for m in response.body["members"]} == set(ids)
    remove = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{ids[0]}"]'}]}
    response = client.request("PATCH", url, remove)
    assert response.status == 200 and {m["value"] for m in response.body["members"]} == set(ids[1:])
    rows = processor.run_cypher("MATCH (u:User)-[:MEMBER_OF]->(g:Group {id: $g}) RETURN u.id AS id", {"g": group["id"]})
    assert {row["id"] for row in rows} == set(ids[1:])


def test_okta_provisioning_sequence(client: WsgiClient) -> None:
    """Okta's SCIM 2.0 flow: look up by userName, create, read, full PUT profile update, deactivate by PATCH;
    groups: look up by displayName, create, add and remove members (developer.okta.com, SCIM 2.0 reference)."""
    assert _filter(client, "Users", 'userName eq "jdoe@example.com"', "&startIndex=1&count=100")["totalResults"] == 0
    created = _user(client, "jdoe@example.com", name={"givenName": "John", "familyName": "Doe"}, active=True,
                    emails=[{"primary": True, "value": "jdoe@example.com", "type": "work"}], groups=[], password="t1meMa$heen")  # noqa: S106  # fmt: skip
    assert "password" not in created
    found = _filter(client, "Users", 'userName eq "JDOE@example.com"')
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == created["id"]
    url = f"{BASE}/Users/{created['id']}"
    put = {**created, "name": {"givenName": "Johnny", "familyName": "Doe"}, "groups": []}
    updated = client.request("PUT", url, put)
    assert updated.status == 200 and updated.body["name"]["givenName"] == "Johnny"
    deactivate = client.request("PATCH", url, {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert deactivate.status == 200 and deactivate.body["active"] is False
    assert _filter(client, "Groups", 'displayName eq "Engineering"')["totalResults"] == 0
    group = client.request("POST", BASE + "/Groups", {"schemas": [GROUP], "displayName": "Engineering", "members": []}).body
    gurl = f"{BASE}/Groups/{group['id']}"
    add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": created["id"], "display": "jdoe@example.com"}]}]}
    assert client.request("PATCH", gurl, add).status == 200
    assert _filter(client, "Users", f'groups.value eq "{group["id"]}"')["totalResults"] == 1
    remove = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{created["id"]}"]'}]}
    assert client.request("PATCH", gurl, remove).status == 200
    assert _filter(client, "Groups", f'members[value eq "{created["id"]}"]')["totalResults"] == 0


@pytest.fixture
def entra(processor: ScimProcessor, api_token: ApiToken) -> WsgiClient:
    return WsgiClient(create_app(processor, api_token, dialect="entra"))


def test_entra_provisioning_sequence(entra: WsgiClient) -> None:
    """Microsoft Entra's flow (learn.microsoft.com, "Tutorial: Develop and plan provisioning for a SCIM endpoint"):
    filter by userName, create with the enterprise extension, PATCH "Replace" with string booleans,
    group membership check with excludedAttributes=members, member add and remove."""
    assert _filter(entra, "Users", 'userName eq "Test_User_dfeef4c5@contoso.com"')["totalResults"] == 0
    user = _user(entra, "Test_User_dfeef4c5@contoso.com", active=True, externalId="0a21f0f2",
                 **{"schemas": [USER, ENTERPRISE], ENTERPRISE: {"department": "Sales"}})  # fmt: skip
    assert _filter(entra, "Users", 'externalId eq "0a21f0f2"')["Resources"][0]["id"] == user["id"]
    url = f"{BASE}/Users/{user['id']}"
    disable = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    response = entra.request("PATCH", url, disable)
    assert response.status == 200 and response.body["active"] is False
    group = entra.request("POST", BASE + "/Groups", {"schemas": [GROUP], "displayName": "Group1DisplayName", "externalId": "8aa1a0c0"}).body
    gurl = f"{BASE}/Groups/{group['id']}"
    add = {"schemas": [PATCH], "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": user["id"]}]}]}
    assert entra.request("PATCH", gurl, add).status == 200
    check = _filter(entra, "Groups", f'id eq "{group["id"]}" and members[value eq "{user["id"]}"]', "&excludedAttributes=members")
    assert check["totalResults"] == 1 and "members" not in check["Resources"][0]
    remove = {"schemas": [PATCH], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": user["id"]}]}]}
    assert entra.request("PATCH", gurl, remove).status == 200
    check = _filter(entra, "Groups", f'id eq "{group["id"]}" and members[value eq "{user["id"]}"]', "&excludedAttributes=members")
    assert check["totalResults"] == 0
    assert entra.request("DELETE", url).status == 204
