"""The endpoint's own behaviour: auth, discovery from the schema graph, errors, logging, filters over HTTP."""

from __future__ import annotations

import logging

import pytest

from scim_processor import ScimProcessor
from scim_processor.http.app import logged

from .conftest import TOKEN, WsgiClient

BASE = "/scim/v2"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.mark.parametrize("path", ["/Users", "/Groups", "/Users/abc", "/Schemas", "/ResourceTypes", "/ServiceProviderConfig", "/Me", "/Bulk"])
@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef", TOKEN + "x"])
def test_every_endpoint_needs_the_bearer_token(client: WsgiClient, path: str, token: str | None) -> None:
    response = client.request("GET", BASE + path, token=token)
    assert response.status == 401
    assert response.body["schemas"] == [ERROR_URN] and response.body["status"] == "401"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["Content-Type"] == "application/scim+json"


def test_service_provider_config_advertises_what_is_served(client: WsgiClient) -> None:
    config = client.request("GET", BASE + "/ServiceProviderConfig").body
    assert config["patch"]["supported"] and config["bulk"]["supported"] and config["filter"]["supported"]
    assert config["sort"]["supported"] and config["etag"]["supported"]
    assert config["changePassword"]["supported"] is False
    assert config["filter"]["maxResults"] == 200 and config["bulk"]["maxOperations"] == 1000
    assert [scheme["type"] for scheme in config["authenticationSchemes"]] == ["oauthbearertoken"]


def test_schemas_and_resource_types_come_from_the_schema_graph(processor: ScimProcessor, client: WsgiClient) -> None:
    graph = {row["id"] for row in processor.run_cypher("MATCH (s:ScimSchema) RETURN s.id AS id")}
    schemas = client.request("GET", BASE + "/Schemas").body
    assert {s["id"] for s in schemas["Resources"]} == graph and schemas["totalResults"] == len(graph)
    types = {rt["name"]: rt for rt in client.request("GET", BASE + "/ResourceTypes").body["Resources"]}
    assert set(types) == {"User", "Group"} and types["User"]["endpoint"] == "/Users"
    extensions = processor.run_cypher("MATCH (:ScimResourceType {name: 'User'})-[:HAS_EXTENSION]->(s:ScimSchema) RETURN s.id AS id")
    assert {e["schema"] for e in types["User"]["schemaExtensions"]} == {row["id"] for row in extensions} != set()
    one = client.request("GET", BASE + "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
    assert one.status == 200 and {a["name"] for a in one.body["attributes"]} >= {"userName", "emails", "groups"}


def test_me_is_not_implemented(client: WsgiClient) -> None:
    response = client.request("GET", BASE + "/Me")
    assert response.status == 501 and response.body["status"] == "501"


def test_paths_outside_the_base_url_are_scim_404s(client: WsgiClient) -> None:
    response = client.request("GET", "/Users")
    assert response.status == 404 and response.body["schemas"] == [ERROR_URN]


@pytest.mark.parametrize("scim_filter", ['userName eq "x" and', 'members.display eq "x"', "nosuch pr"])
def test_untranslatable_filters_are_400_invalid_filter(client: WsgiClient, scim_filter: str) -> None:
    from urllib.parse import quote

    endpoint = "/Groups" if "members" in scim_filter else "/Users"
    response = client.request("GET", f"{BASE}{endpoint}?filter={quote(scim_filter)}")
    assert response.status == 400 and response.body["scimType"] == "invalidFilter"


def test_a_filter_with_no_match_is_an_empty_list_response(client: WsgiClient) -> None:
    response = client.request("GET", BASE + '/Users?filter=userName%20eq%20%22nobody%22')
    assert response.status == 200
    assert response.body["totalResults"] == 0 and response.body.get("Resources", []) == []


def test_one_log_line_per_request_without_body_token_or_query(client: WsgiClient, caplog: pytest.LogCaptureFixture) -> None:
    app = WsgiClient(logged(client.app))
    with caplog.at_level(logging.INFO, logger="scim_processor.http"):
        app.request("POST", BASE + "/Users?filter=secret", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u", "password": "hunter2-password"})
        app.request("GET", BASE + "/Schemas", token=None)
    lines = [r.getMessage() for r in caplog.records if r.name == "scim_processor.http" and " ms" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith("POST /scim/v2/Users ") and lines[1].startswith("GET /scim/v2/Schemas 401 ")
    text = caplog.text
    assert "hunter2" not in text and TOKEN not in text and "secret" not in text
