"""The resource store and SCIM operations on the real graph server, the graph checked by Cypher after each."""

from __future__ import annotations

from typing import Any

import pytest

from scim_processor import ScimProcessor
from scim_processor.errors import (
    InvalidSyntaxError,
    InvalidValueError,
    MutabilityError,
    NotFoundError,
    PreconditionFailedError,
    UniquenessError,
)
from scim_processor.operations import ENTRA, OKTA
from scim_processor.operations.store import ResourceStore
from scim_processor.stages.generate import stable_id

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [CORE], "userName": user_name, **extra}


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def rows(processor: ScimProcessor, query: str, **params: Any) -> list[dict[str, Any]]:
    return processor.connection.read(query, params)


def count(processor: ScimProcessor, query: str, **params: Any) -> int:
    return int(rows(processor, query, **params)[0]["c"])


@pytest.fixture
def store(processor: ScimProcessor) -> ResourceStore:
    return ResourceStore(processor)


def test_create_ignores_the_client_id_and_reads_back_with_meta(store: ResourceStore, processor: ScimProcessor) -> None:
    created = store.create("User", user("bjensen", id="client-chosen", name={"givenName": "Barbara"}, emails=[{"value": "b@x.example", "type": "Work"}]))
    assert created["id"] != "client-chosen" and any("RFC 7644 §3.3" in w for w in store.warnings)
    assert created["name"] == {"givenName": "Barbara"} and created["emails"] == [{"value": "b@x.example", "type": "work"}]
    meta = created["meta"]
    assert meta["resourceType"] == "User" and meta["location"] == f"/Users/{created['id']}"
    assert meta["created"] == meta["lastModified"] and meta["version"].startswith('W/"') and len(meta["version"]) == 20
    assert rows(processor, "MATCH (u:User {id: $id}) RETURN u.userName_key AS k", id=created["id"]) == [{"k": "bjensen"}]
    assert store.get("User", created["id"]) == created


def test_create_is_strict_and_usernames_are_case_insensitive(store: ResourceStore, processor: ScimProcessor) -> None:
    first = store.create("User", user("BJensen"))
    with pytest.raises(UniquenessError, match=first["id"]):
        store.create("User", user("bjensen", externalId="other"))
    with pytest.raises(UniquenessError):
        store.create("User", user("BJensen"))
    assert count(processor, "MATCH (u:User) RETURN count(u) AS c") == 1
    # the constraint holds on its own too: the bare-resource pipeline gets 409 from the server
    result = processor.process_payload(user("BJENSEN", id="another-id"))
    assert result.status == "rejected" and result.error is not None and result.error.status == 409
    assert first["id"] in result.error.detail and "case-insensitively" in result.error.detail
    # in one batch too: the second of two spellings is refused, naming the first
    batch = processor.process([user("Grace", id="g1"), user("GRACE", id="g2")])
    assert [r.status for r in batch] == ["accepted", "rejected"] and "g1" in batch[1].error.detail  # type: ignore[union-attr]
    # a rename frees the old key for a later payload of the same batch
    renamed = processor.process([user("Grace2", id="g1"), user("grace", id="g3")])
    assert [r.status for r in renamed] == ["accepted", "accepted"]
    assert sorted(r["k"] for r in rows(processor, "MATCH (u:User) RETURN u.userName_key AS k")) == ["bjensen", "grace", "grace2"]


def test_eight_users_with_one_external_id_give_seven_409s_and_one_node(store: ResourceStore, processor: ScimProcessor) -> None:
    payloads = [user(f"user{i}@contoso.example", externalId="shared-external-id") for i in range(8)]
    results = processor.process(payloads)
    assert [r.status for r in results] == ["accepted"] + ["rejected"] * 7
    assert all(r.error is not None and r.error.status == 409 and "user0@contoso.example" in r.error.detail for r in results[1:])
    assert count(processor, "MATCH (u:User) RETURN count(u) AS c") == 1
    assert rows(processor, "MATCH (u:User) RETURN u.userName AS n") == [{"n": "user0@contoso.example"}]
    # the same through strict creates (POST)
    with pytest.raises(UniquenessError, match="user0@contoso.example"):
        store.create("User", user("user9@contoso.example", externalId="shared-external-id"))
    # and re-running the accepted one stays idempotent
    assert processor.process_payload(payloads[0]).accepted
    assert count(processor, "MATCH (u:User) RETURN count(u) AS c") == 1


def test_put_replaces_and_checks_the_version(store: ResourceStore, processor: ScimProcessor) -> None:
    created = store.create("User", user("ada", title="Dr", emails=[{"value": "a@x.example"}]))
    with pytest.raises(PreconditionFailedError):
        store.replace("User", created["id"], user("ada"), expected_version='W/"0000000000000000"')
    replaced = store.replace("User", created["id"], user("ada", displayName="Ada"), expected_version=created["meta"]["version"])
    assert "title" not in replaced and "emails" not in replaced and replaced["displayName"] == "Ada"
    assert replaced["meta"]["version"] != created["meta"]["version"] and replaced["meta"]["created"] == created["meta"]["created"]
    assert count(processor, "MATCH (:User)-[:HAS_EMAIL]->(e:Email) RETURN count(e) AS c") == 0
    same = store.replace("User", created["id"], user("ada", displayName="Ada"))
    assert same["meta"]["version"] == replaced["meta"]["version"] and same["meta"]["lastModified"] == replaced["meta"]["lastModified"]
    with pytest.raises(NotFoundError):
        store.replace("User", "nobody", user("x"))
    upserted = store.replace("User", "kept-id", user("grace"), upsert=True)
    assert upserted["id"] == "kept-id"


def test_patch_user_attributes_and_extension(store: ResourceStore, processor: ScimProcessor) -> None:
    created = store.create("User", user("ada", emails=[{"value": "home@x.example", "type": "home"}]))
    patched = store.patch("User", created["id"], patch(
        {"op": "replace", "path": "active", "value": False},
        {"op": "add", "path": f"{ENTERPRISE}:employeeNumber", "value": "42"},
        {"op": "replace", "path": 'emails[type eq "home"].value', "value": "new@x.example"},
        {"op": "add", "path": "name.givenName", "value": "Ada"},
    ))  # fmt: skip
    assert patched["active"] is False and patched[ENTERPRISE] == {"employeeNumber": "42"}
    assert patched["emails"] == [{"value": "new@x.example", "type": "home"}] and patched["name"] == {"givenName": "Ada"}
    assert rows(processor, "MATCH (u:User {id: $id}) RETURN u.active AS a, u.employeeNumber AS e", id=created["id"]) == [{"a": False, "e": "42"}]
    with pytest.raises(InvalidValueError, match="entra"):
        store.patch("User", created["id"], patch({"op": "Replace", "path": "active", "value": "True"}))
    assert ResourceStore(processor, ENTRA).patch("User", created["id"], patch({"op": "Replace", "path": "active", "value": "True"}))["active"] is True
    with pytest.raises(PreconditionFailedError):
        store.patch("User", created["id"], patch({"op": "replace", "path": "title", "value": "x"}), expected_version=created["meta"]["version"])


def test_patch_unmatched_filter_strict_vs_entra(store: ResourceStore) -> None:
    created = store.create("User", user("ada"))
    body = patch({"op": "replace", "path": 'emails[type eq "work"].value', "value": "w@x.example"})
    with pytest.raises(Exception) as info:
        store.patch("User", created["id"], body)
    assert getattr(info.value, "status", None) == 400
    patched = ResourceStore(store.processor, ENTRA).patch("User", created["id"], body)
    assert patched["emails"] == [{"value": "w@x.example", "type": "work"}]


def test_group_members_add_remove_edit_edges_only(store: ResourceStore, processor: ScimProcessor) -> None:
    users = [store.create("User", user(f"u{i}"))["id"] for i in range(3)]
    group = store.create("Group", {"schemas": [GROUP], "displayName": "Eng", "members": [{"value": users[0]}]})
    gid = group["id"]
    added = store.patch("Group", gid, patch({"op": "add", "path": "members", "value": [{"value": users[1], "type": "User"}, {"value": users[2]}]}))
    assert sorted(m["value"] for m in added["members"]) == sorted(users) and added["meta"]["version"] != group["meta"]["version"]
    store.patch("Group", gid, patch({"op": "remove", "path": f'members[value eq "{users[0]}"]'}))
    assert sorted(r["id"] for r in rows(processor, "MATCH (u:User)-[:MEMBER_OF]->(:Group {id: $g}) RETURN u.id AS id", g=gid)) == sorted(users[1:])
    with pytest.raises(InvalidValueError, match="entra"):
        store.patch("Group", gid, patch({"op": "remove", "path": "members", "value": [{"value": users[1]}]}))
    ResourceStore(processor, ENTRA).patch("Group", gid, patch({"op": "Remove", "path": "members", "value": [{"value": users[1]}]}))
    assert [r["id"] for r in rows(processor, "MATCH (u:User)-[:MEMBER_OF]->(:Group {id: $g}) RETURN u.id AS id", g=gid)] == [users[2]]
    store.patch("Group", gid, patch({"op": "remove", "path": "members"}))
    assert count(processor, "MATCH ()-[r:MEMBER_OF]->(:Group {id: $g}) RETURN count(r) AS c", g=gid) == 0
    assert count(processor, "MATCH (u:User) RETURN count(u) AS c") == 3


def test_okta_group_rename_with_its_own_id(store: ResourceStore, processor: ScimProcessor) -> None:
    group = store.create("Group", {"schemas": [GROUP], "displayName": "Eng"})
    body = patch({"op": "replace", "value": {"id": group["id"], "displayName": "Engineering"}})
    with pytest.raises(MutabilityError, match="okta"):
        store.patch("Group", group["id"], body)
    renamed = ResourceStore(processor, OKTA).patch("Group", group["id"], body)
    assert renamed["id"] == group["id"] and renamed["displayName"] == "Engineering"
    okta_user = store.create("User", user("ada"))
    assert store.patch("User", okta_user["id"], patch({"op": "replace", "value": {"active": False}}))["active"] is False


def test_delete_removes_node_children_and_edges_only(store: ResourceStore, processor: ScimProcessor) -> None:
    member = store.create("User", user("ada", emails=[{"value": "a@x.example"}]))
    group = store.create("Group", {"schemas": [GROUP], "displayName": "Eng", "members": [{"value": member["id"]}]})
    store.delete("Group", group["id"])
    assert count(processor, "MATCH (g:Group) RETURN count(g) AS c") == 0
    assert count(processor, "MATCH (u:User {id: $id}) RETURN count(u) AS c", id=member["id"]) == 1
    with pytest.raises(NotFoundError):
        store.get("Group", group["id"])
    store.delete("User", member["id"], expected_version=member["meta"]["version"])
    assert count(processor, "MATCH (n) WHERE n:User OR n:Email RETURN count(n) AS c") == 0
    with pytest.raises(NotFoundError):
        store.delete("User", member["id"])


def test_entra_create_shapes(processor: ScimProcessor) -> None:
    body = {
        "Schemas": [CORE, ENTERPRISE, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"],
        "userName": "alan@contoso.example", "active": "True",
        ENTERPRISE: {"manager": "boss-id"},
    }  # fmt: skip
    with pytest.raises(InvalidSyntaxError, match="entra"):
        ResourceStore(processor).create("User", body)
    created = ResourceStore(processor, ENTRA).create("User", body)
    assert created["active"] is True and created[ENTERPRISE] == {"manager": {"value": "boss-id"}}


def test_over_http_a_create_without_external_id_gets_a_fresh_id(processor: ScimProcessor) -> None:
    http_store = ResourceStore(processor, fresh_ids=True)
    first = http_store.create("User", user("bjensen@example.com"))
    derived = stable_id({"userName": "bjensen@example.com"}, processor.compiled().contexts["User"])
    assert first["id"] != derived  # assigned, not derived from the userName (RFC 7644 §3.3)
    http_store.replace("User", first["id"], user("babs@example.com"))
    again = http_store.create("User", user("bjensen@example.com"))  # the freed userName can be created again
    assert again["id"] != first["id"]
    http_store.create("User", user("a@example.com", externalId="x-1"))
    with pytest.raises(UniquenessError, match="a@example.com"):  # an externalId is still an identity claim
        http_store.create("User", user("b@example.com", externalId="x-1"))
