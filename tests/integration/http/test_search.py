"""Filters → Cypher on a seeded graph, checked against scim2-models' own evaluator (``ScimFilter.match``).

The users are scim2-server's contract set (case, missing values, LIKE wildcards); each filter's
Cypher result must equal the plain-Python evaluation of the same filter on the same payloads.
"""

from __future__ import annotations

from typing import Any

import pytest
from scim2_models import EnterpriseUser, Group, ScimFilter, User
from scim2_server.testing import SEARCH_FILTERS, SEARCH_USERS

from scim_processor import ScimProcessor
from scim_processor.errors import InvalidFilterError, InvalidValueError
from scim_processor.http.search import GraphSearch

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"

# co/sw/ew compare strings; a dateTime is an instant (scim2-models never matches them): invalidFilter
SUBSTRING_ON_DATES = [f for f in SEARCH_FILTERS if f.startswith("meta.") and " co " in f]
OWN_FILTERS = [
    'emails[type eq "work"]',
    'emails[type eq "work"].value co "alice"',  # the value-path shape (scim2-models folds it into the filter)
    'emails[type eq "work"] and active eq true',
    'userName eq "bob" or emails.value ew ".example"',
    'not (emails pr)',
    'meta.created gt "2000-01-01T01:00:00+01:00"',  # an offset: compared as an instant
    'meta.lastModified ge "2999-01-01T00:00:00Z"',
    'not (userName sw "a" or userName sw "b")',
    'name.familyName co "MIT"',
    'displayName eq "alice"',
    'externalId eq "ext-alice"',
    'externalId eq "EXT-ALICE"',  # externalId is caseExact (RFC 7643 §3.1)
    f'{ENTERPRISE}:employeeNumber pr',
]


def _payload(user: dict[str, Any], index: int) -> dict[str, Any]:
    schemas = [USER_URN] + ([ENTERPRISE] if ENTERPRISE in user else [])
    extra = {"externalId": "ext-alice"} if user["userName"] == "alice" else {}
    return {"schemas": schemas, **user, **extra}


@pytest.fixture
def seeded(processor: ScimProcessor) -> tuple[GraphSearch, dict[str, Any]]:
    payloads = [_payload(user, i) for i, user in enumerate(SEARCH_USERS)]
    results = processor.process(payloads)
    assert all(r.accepted for r in results), [r.error for r in results if not r.accepted]
    rows = processor.run_cypher(
        "MATCH (n:User) RETURN n.userName AS userName, n.id AS id, n.meta_created AS created, n.meta_lastModified AS lastModified"
    )
    stored = {row["userName"]: row for row in rows}
    models = {}
    for p in payloads:
        row = stored[p["userName"]]
        meta = {"resourceType": "User", "created": row["created"], "lastModified": row["lastModified"]}
        models[row["id"]] = User[EnterpriseUser].model_validate({**p, "id": row["id"], "meta": meta})
    return GraphSearch(processor.compiled(), processor.connection), models


@pytest.mark.parametrize("scim_filter", [f for f in SEARCH_FILTERS if f not in SUBSTRING_ON_DATES] + OWN_FILTERS)
def test_filter_matches_the_python_evaluation(seeded: tuple[GraphSearch, dict[str, Any]], scim_filter: str) -> None:
    search, models = seeded
    expected = sorted(rid for rid, model in models.items() if ScimFilter[User[EnterpriseUser]](scim_filter).match(model))
    result = search.search(["User"], scim_filter)
    assert result.total == len(expected)
    assert sorted(rid for _, rid in result.hits) == expected


@pytest.mark.parametrize("scim_filter", SUBSTRING_ON_DATES)
def test_substring_operators_on_dates_are_invalid_filter(seeded: tuple[GraphSearch, dict[str, Any]], scim_filter: str) -> None:
    search, _ = seeded
    with pytest.raises(InvalidFilterError):
        search.search(["User"], scim_filter)


@pytest.mark.parametrize(
    "sort_by", ["userName", "title", "displayName", "name.familyName", "active", f"{ENTERPRISE}:employeeNumber", "emails", "emails.type", "meta.created"]
)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_pages_match_search_request_sort(seeded: tuple[GraphSearch, dict[str, Any]], sort_by: str, descending: bool) -> None:
    from scim2_models import SearchRequest

    search, models = seeded
    request = SearchRequest[User[EnterpriseUser]](sort_by=sort_by, sort_order="descending" if descending else "ascending")
    expected = [request.sort_value(m) for m in request.sort(list(models.values()))]
    result = search.search(["User"], None, sort_by=sort_by, descending=descending)
    assert [request.sort_value(models[rid]) for _, rid in result.hits] == expected
    page = search.search(["User"], None, sort_by=sort_by, descending=descending, start_index=2, count=2)
    assert page.total == len(models)
    assert [request.sort_value(models[rid]) for _, rid in page.hits] == expected[1:3]


def test_group_member_filters_as_entra_and_okta_send_them(processor: ScimProcessor) -> None:
    users = processor.process([{"schemas": [USER_URN], "userName": name} for name in ("ann", "ben", "cat")])
    assert all(r.accepted for r in users)
    ids = {row["userName"]: row["id"] for row in processor.run_cypher("MATCH (n:User) RETURN n.userName AS userName, n.id AS id")}
    groups = [
        {"schemas": [GROUP_URN], "displayName": "Sales", "members": [{"value": ids["ann"]}, {"value": ids["ben"], "type": "User"}]},
        {"schemas": [GROUP_URN], "displayName": "Ops", "members": [{"value": ids["cat"]}]},
        {"schemas": [GROUP_URN], "displayName": "Empty"},
    ]
    assert all(r.accepted for r in processor.process(groups))
    gids = {row["name"]: row["id"] for row in processor.run_cypher("MATCH (g:Group) RETURN g.displayName AS name, g.id AS id")}
    models = {gids[g["displayName"]]: Group.model_validate({**g, "id": gids[g["displayName"]]}) for g in groups}
    search = GraphSearch(processor.compiled(), processor.connection)
    filters = [
        'displayName eq "sales"',  # Okta and Entra: find the group before creating it
        f'id eq "{gids["Sales"]}" and members[value eq "{ids["ben"]}"]',  # Entra: is this user a member?
        f'id eq "{gids["Ops"]}" and members[value eq "{ids["ben"]}"]',
        f'members[value eq "{ids["cat"]}"]',
        f'members.value eq "{ids["ann"]}"',
        "members pr",
        "not (members pr)",
    ]
    for scim_filter in filters:
        expected = sorted(gid for gid, m in models.items() if ScimFilter[Group](scim_filter).match(m))
        assert sorted(rid for _, rid in search.search(["Group"], scim_filter).hits) == expected, scim_filter
    # Entra's user lookups
    assert [rid for _, rid in search.search(["User"], 'userName eq "BEN"').hits] == [ids["ben"]]
    assert [rid for _, rid in search.search(["User"], f'groups.value eq "{gids["Ops"]}"').hits] == [ids["cat"]]


def test_root_search_merges_types_and_unknown_attributes_match_none(processor: ScimProcessor) -> None:
    assert processor.process_payload({"schemas": [USER_URN], "userName": "zed"}).accepted
    assert processor.process_payload({"schemas": [GROUP_URN], "displayName": "Admins"}).accepted
    search = GraphSearch(processor.compiled(), processor.connection)
    assert search.search(["User", "Group"], "userName pr").total == 1
    both = search.search(["User", "Group"], None, sort_by="displayName", count=10)
    assert both.total == 2 and [kind for kind, _ in both.hits] == ["Group", "User"]  # the user has no displayName: last


@pytest.mark.parametrize(
    "scim_filter",
    ['userName eq "x" and', 'members.display eq "x"', 'active gt true', 'nosuch eq "x"', 'name eq "x"', 'active eq "yes"'],
)
def test_untranslatable_filters_are_invalid_filter_never_a_scan(processor: ScimProcessor, scim_filter: str) -> None:
    search = GraphSearch(processor.compiled(), processor.connection)
    resource_type = "Group" if "members" in scim_filter else "User"
    with pytest.raises(InvalidFilterError) as raised:
        search.search([resource_type], scim_filter)
    assert raised.value.to_dict()["scimType"] == "invalidFilter"


@pytest.mark.parametrize("sort_by", ["members.display", "name", "nosuch"])
def test_unsupported_sorts_are_refused(processor: ScimProcessor, sort_by: str) -> None:
    with pytest.raises(InvalidValueError):
        GraphSearch(processor.compiled(), processor.connection).search(["Group" if "members" in sort_by else "User"], None, sort_by=sort_by)


def test_nodes_created_only_as_reference_targets_are_not_resources(processor: ScimProcessor) -> None:
    """A member not provisioned yet is a node with only its id (mapping rule 4): no search returns it."""
    assert processor.process_payload({"schemas": [GROUP_URN], "displayName": "Early", "members": [{"value": "not-yet-here"}]}).accepted
    search = GraphSearch(processor.compiled(), processor.connection)
    assert processor.run_cypher("MATCH (u:User {id: 'not-yet-here'}) RETURN count(u) AS n") == [{"n": 1}]
    assert search.search(["User"]).total == 0
    assert search.search(["User", "Group"], None, count=10).hits == [("Group", search.search(["Group"]).hits[0][1])]
