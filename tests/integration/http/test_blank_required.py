"""Issue 15, bad input: over HTTP, a required string that is empty or blank is 400 invalidValue, as in files."""

from __future__ import annotations

import pytest

from .conftest import WsgiClient

BASE = "/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.mark.parametrize("blank", ["", "   "])
def test_post_and_put_with_a_blank_required_string_are_400_invalid_value(client: WsgiClient, blank: str) -> None:
    # `POST /Users` with `"userName": ""` used to answer 201 and store a user with an empty login.
    created = client.request("POST", BASE + "/Users", {"schemas": [USER], "userName": blank})
    assert created.status == 400, created.body
    assert (created.body["scimType"], created.body["status"]) == ("invalidValue", "400") and "userName" in created.body["detail"]
    group = client.request("POST", BASE + "/Groups", {"schemas": [GROUP], "displayName": "Blank test"})
    assert group.status == 201, group.body
    replaced = client.request("PUT", f"{BASE}/Groups/{group.body['id']}", {"schemas": [GROUP], "displayName": blank})
    assert replaced.status == 400 and replaced.body["scimType"] == "invalidValue" and "displayName" in replaced.body["detail"]
    assert client.request("GET", f"{BASE}/Groups/{group.body['id']}").body["displayName"] == "Blank test"
