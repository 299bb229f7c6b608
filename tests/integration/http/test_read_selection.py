"""``attributes`` / ``excludedAttributes`` over HTTP (RFC 7644 §3.9): GET, search and the PATCH answer."""

from __future__ import annotations

from urllib.parse import quote

from .conftest import WsgiClient

BASE = "/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _group(client: WsgiClient) -> tuple[dict, list[str]]:
    users = [client.request("POST", BASE + "/Users", {"schemas": [USER], "userName": f"sel-{i}"}).body["id"] for i in range(3)]
    body = {"schemas": [GROUP], "displayName": "Selected", "externalId": "sel-g", "members": [{"value": u} for u in users]}
    response = client.request("POST", BASE + "/Groups", body)
    assert response.status == 201, response.body
    return response.body, users


def test_get_without_members(client: WsgiClient) -> None:
    group, users = _group(client)
    url = f"{BASE}/Groups/{group['id']}"
    full = client.request("GET", url)
    assert sorted(m["value"] for m in full.body["members"]) == sorted(users)
    response = client.request("GET", url + "?excludedAttributes=members")
    assert response.status == 200 and "members" not in response.body
    assert response.body == {k: v for k, v in full.body.items() if k != "members"}  # every other attribute, meta included
    assert response.headers["ETag"] == full.headers["ETag"]
    assert client.request("GET", url + "?excludedAttributes=members", headers={"If-None-Match": full.headers["ETag"]}).status == 304


def test_get_only_display_name(client: WsgiClient) -> None:
    group, _ = _group(client)
    response = client.request("GET", f"{BASE}/Groups/{group['id']}?attributes=displayName")
    assert response.status == 200, response.body
    # id is returned always, schemas names the resource; meta is returned by default only (RFC 7643 §3.1, §7)
    assert response.body == {"schemas": [GROUP], "id": group["id"], "displayName": "Selected"}
    assert response.headers["ETag"] == group["meta"]["version"]


def test_search_with_excluded_members(client: WsgiClient) -> None:
    group, _ = _group(client)
    search = BASE + "/Groups?filter=" + quote('displayName eq "Selected"')
    found = client.request("GET", search + "&excludedAttributes=members")
    assert found.status == 200 and found.body["totalResults"] == 1
    (only,) = found.body["Resources"]
    assert only["id"] == group["id"] and only["displayName"] == "Selected" and "members" not in only
    named = client.request("GET", search + "&attributes=members.value")
    assert sorted(m["value"] for m in named.body["Resources"][0]["members"]) == sorted(m["value"] for m in group["members"])


def test_member_patch_answers_without_members(client: WsgiClient) -> None:
    group, users = _group(client)
    newcomer = client.request("POST", BASE + "/Users", {"schemas": [USER], "userName": "sel-new"}).body["id"]
    body = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": newcomer}]}]}
    url = f"{BASE}/Groups/{group['id']}"
    response = client.request("PATCH", url + "?excludedAttributes=members", body)
    assert response.status == 200, response.body
    assert "members" not in response.body and response.body["displayName"] == "Selected"
    after = client.request("GET", url)
    assert response.headers["ETag"] == after.headers["ETag"] != group["meta"]["version"]
    assert sorted(m["value"] for m in after.body["members"]) == sorted([*users, newcomer])
    kept = {k: after.body[k] for k in ("schemas", "displayName", "members")}
    replaced = client.request("PUT", url + "?excludedAttributes=members", {**kept, "externalId": "x"})
    assert replaced.status == 200 and "members" not in replaced.body and replaced.body["externalId"] == "x"


def test_preconditions_of_a_group_without_reading_its_members(client: WsgiClient) -> None:
    group, _ = _group(client)
    url = f"{BASE}/Groups/{group['id']}"
    rename = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]}
    renamed = client.request("PATCH", url, rename, headers={"If-Match": "*"})
    assert renamed.status == 200 and renamed.body["displayName"] == "Renamed" and len(renamed.body["members"]) == 3
    assert client.request("PATCH", f"{BASE}/Groups/nosuch", rename, headers={"If-Match": "*"}).status == 404
    assert client.request("DELETE", url, headers={"If-Match": group["meta"]["version"]}).status == 412
    assert client.request("DELETE", url, headers={"If-Match": renamed.headers["ETag"]}).status == 204
    assert client.request("GET", url).status == 404
