"""Reading only what ``attributes`` / ``excludedAttributes`` keep gives the responses the full read gives (RFC 7644 §3.9)."""

from __future__ import annotations

from typing import Any

import pytest

from scim_processor import ScimProcessor
from scim_processor.operations.projection import project
from scim_processor.operations.store import ResourceStore

from .test_readback import full_resource

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

PARAMETERS: list[tuple[list[str] | None, list[str] | None]] = [
    (None, None),
    (["displayName"], None),
    (None, ["members"]),
    (["members"], None),
    (["members.value"], None),
    (None, ["members.type"]),
    (["userName", "EMAILS.value", "name.givenName"], None),
    (None, ["emails", "addresses", "phoneNumbers.type", "name"]),
    ([f"{ENTERPRISE}:manager"], None),
    ([ENTERPRISE], None),
    (None, [ENTERPRISE, "x509Certificates"]),
    (None, [f"{ENTERPRISE}:manager", "id", "meta"]),
    ([f"{USER}:userName", "meta"], None),
    (["nosuch"], None),
    (["emails"], ["emails"]),  # excludedAttributes wins, as in project()
]


@pytest.fixture
def seeded(processor: ScimProcessor) -> tuple[ResourceStore, dict[str, str]]:
    store = ResourceStore(processor)
    user = store.create("User", full_resource(store.context("User")))["id"]
    other = store.create("User", {"schemas": [USER], "userName": "other"})["id"]
    inner = store.create("Group", {"schemas": [GROUP], "displayName": "inner"})["id"]
    members = [{"value": user, "type": "User"}, {"value": other, "type": "User"}, {"value": inner, "type": "Group"}]
    group = store.create("Group", {"schemas": [GROUP], "displayName": "outer", "externalId": "g-1", "members": members})["id"]
    return store, {"User": user, "Group": group}


@pytest.mark.parametrize(("attributes", "excluded"), PARAMETERS)
@pytest.mark.parametrize("resource_type", ["User", "Group"])
def test_the_smaller_read_projects_to_the_full_reads_response(
    seeded: tuple[ResourceStore, dict[str, str]], resource_type: str, attributes: list[str] | None, excluded: list[str] | None
) -> None:
    store, ids = seeded
    context = store.context(resource_type)
    whole = store.get(resource_type, ids[resource_type])
    smaller = store.get(resource_type, ids[resource_type], attributes=attributes, excluded=excluded)
    assert project(smaller, context, attributes, excluded) == project(whole, context, attributes, excluded)
    assert smaller["meta"] == whole["meta"]  # the ETag and location are always read
    many = store.get_many(resource_type, [ids[resource_type]], attributes=attributes, excluded=excluded)
    assert many == [smaller]


def test_excluded_members_are_not_read(seeded: tuple[ResourceStore, dict[str, str]]) -> None:
    store, ids = seeded
    assert len(store.get("Group", ids["Group"])["members"]) == 3
    group = store.get("Group", ids["Group"], excluded=["members"])
    assert "members" not in group and group["displayName"] == "outer" and group["externalId"] == "g-1"
    user = store.get("User", ids["User"], attributes=["userName"])
    assert "emails" not in user and "manager" not in user.get(ENTERPRISE, {})  # child nodes and edges not read


def test_a_member_patch_reads_back_without_members_when_excluded(seeded: tuple[ResourceStore, dict[str, str]]) -> None:
    store, ids = seeded
    newcomer = store.create("User", {"schemas": [USER], "userName": "newcomer"})["id"]
    body: dict[str, Any] = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": newcomer, "type": "User"}]}]}
    answered = store.patch("Group", ids["Group"], body, excluded=["members"])
    assert "members" not in answered and answered["displayName"] == "outer"
    assert answered["meta"]["version"] == store.get("Group", ids["Group"])["meta"]["version"]
    assert len(store.get("Group", ids["Group"])["members"]) == 4
