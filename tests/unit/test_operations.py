"""SCIM operations without a server: dialect quirks, PATCH, member edits, Bulk planning, projection, ETags."""

from __future__ import annotations

from typing import Any

import pytest
from scim2_server.bulk import BulkPlan, resolve_operation

from scim_processor import Settings
from scim_processor.errors import InvalidSyntaxError, InvalidValueError, MutabilityError, ScimError
from scim_processor.mapping import CompiledSchema
from scim_processor.mapping.rows import content_version, graph_row
from scim_processor.operations import ENTRA, OKTA, STRICT, dialect
from scim_processor.operations.envelope import OperationRunner, _bulk_operation, kind_of
from scim_processor.operations.identity import drop_client_id, is_derived_id
from scim_processor.operations.patch import apply_patch, member_edits, operations_of
from scim_processor.operations.projection import project
from scim_processor.stages.generate import DeterministicGenerator
from scim_processor.stages.read import Payload
from scim_processor.stages.validate import ScimValidator

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def ops(*operations: dict[str, Any]) -> list[dict[str, Any]]:
    return operations_of({"schemas": [PATCH], "Operations": list(operations)})


def full(context: Any) -> Any:
    return context.model_copy(update={"declared": tuple(e.id for e in context.extensions)})


def patched(stored: dict[str, Any], operations: list[dict[str, Any]], context: Any, chosen: Any = STRICT) -> dict[str, Any]:
    context = full(context)
    return apply_patch(stored, operations, context, ScimValidator().model(context), chosen, [])


# ------------------------------------------------------------------ dialects
def test_dialects_by_name() -> None:
    assert dialect("Entra") is ENTRA and dialect("okta") is OKTA and dialect("strict") is STRICT
    with pytest.raises(ValueError, match="strict, entra, okta"):
        dialect("onelogin")


def test_string_booleans_strict_refuses_with_hint_entra_reads(user_context) -> None:
    with pytest.raises(InvalidValueError, match=r"RFC 7643 §2\.3\.2.*'entra'"):
        STRICT.prepare_resource({"schemas": [CORE], "userName": "a", "active": "False"}, user_context, [])
    assert ENTRA.prepare_resource({"schemas": [CORE], "userName": "a", "active": "False"}, user_context, [])["active"] is False
    assert ENTRA.prepare_resource({"userName": "a", "active": "TRUE"}, user_context, [])["active"] is True
    assert OKTA.prepare_resource({"userName": "a", "active": "yes"}, user_context, [])["active"] == "yes"  # left to the SCIM gate


def test_manager_as_string_strict_refuses_entra_wraps(user_context) -> None:
    body = {"schemas": [CORE, ENTERPRISE], "userName": "a", ENTERPRISE: {"manager": "boss"}}
    with pytest.raises(InvalidSyntaxError, match=r"§2\.3\.8.*'entra'"):
        STRICT.prepare_resource(body, user_context, [])
    assert ENTRA.prepare_resource(body, user_context, [])[ENTERPRISE]["manager"] == {"value": "boss"}


def test_microsoft_urns_strict_refuses_entra_drops_with_warning(group_context) -> None:
    body = {"Schemas": [GROUP, ADSCIM], "displayName": "g"}
    with pytest.raises(InvalidSyntaxError, match="'entra'"):
        STRICT.prepare_resource(body, group_context, [])
    warnings: list[str] = []
    assert ENTRA.prepare_resource(body, group_context, warnings)["Schemas"] == [GROUP]
    assert warnings and "ADSCIM" in warnings[0]


# ------------------------------------------------------------------ PATCH
def test_patch_op_message_is_checked() -> None:
    with pytest.raises(InvalidSyntaxError, match="PatchOp"):
        operations_of({"schemas": [CORE], "Operations": []})
    with pytest.raises(InvalidSyntaxError, match="non-empty"):
        operations_of({"schemas": [PATCH], "Operations": []})
    with pytest.raises(InvalidSyntaxError, match="add, remove or replace"):
        ops({"op": "move", "path": "x"})
    assert ops({"OP": "Replace", "Path": "active", "Value": False}) == [{"op": "replace", "path": "active", "value": False}]


def test_patch_applies_paths_filters_and_extension(user_context) -> None:
    stored = {"schemas": [CORE], "id": "u1", "userName": "ada", "emails": [{"value": "h@x.example", "type": "home"}]}
    result = patched(stored, ops(
        {"op": "replace", "path": "active", "value": False},
        {"op": "add", "path": f"{ENTERPRISE}:employeeNumber", "value": "42"},
        {"op": "replace", "path": 'emails[type eq "home"].value', "value": "n@x.example"},
        {"op": "replace", "value": {"displayName": "Ada", "name.givenName": "Ada"}},
    ), user_context)  # fmt: skip
    assert result["id"] == "u1" and result["active"] is False and result["displayName"] == "Ada"
    assert result[ENTERPRISE] == {"employeeNumber": "42"} and result["name"] == {"givenName": "Ada"}
    assert result["emails"] == [{"value": "n@x.example", "type": "home"}]


def test_patch_is_all_or_nothing_and_reports_scim_errors(user_context) -> None:
    stored = {"schemas": [CORE], "id": "u1", "userName": "ada"}
    with pytest.raises(ScimError) as info:
        patched(stored, ops({"op": "replace", "path": "title", "value": "x"}, {"op": "replace", "path": "nosuch", "value": 1}), user_context)
    assert info.value.status == 400
    assert "title" not in stored


def test_patch_string_boolean_strict_vs_entra(user_context) -> None:
    stored = {"schemas": [CORE], "id": "u1", "userName": "ada", "active": True}
    with pytest.raises(InvalidValueError, match="'entra'"):
        patched(stored, ops({"op": "Replace", "path": "active", "value": "False"}), user_context)
    assert patched(stored, ops({"op": "Replace", "path": "active", "value": "False"}), user_context, ENTRA)["active"] is False


def test_patch_unmatched_filter_strict_vs_entra(user_context) -> None:
    stored = {"schemas": [CORE], "id": "u1", "userName": "ada"}
    operation = ops({"op": "replace", "path": 'emails[type eq "work"].value', "value": "w@x.example"})
    with pytest.raises(ScimError, match="'entra'") as info:
        patched(stored, operation, user_context)
    assert (info.value.status, info.value.scim_type) == (400, "noTarget")
    assert patched(stored, operation, user_context, ENTRA)["emails"] == [{"value": "w@x.example", "type": "work"}]


def test_patch_id_in_value_strict_refuses_okta_ignores_its_own(group_context) -> None:
    stored = {"schemas": [GROUP], "id": "g1", "displayName": "Eng"}
    rename = ops({"op": "replace", "value": {"id": "g1", "displayName": "Engineering"}})
    with pytest.raises(MutabilityError, match="'okta'"):
        patched(stored, rename, group_context)
    assert patched(stored, rename, group_context, OKTA)["displayName"] == "Engineering"
    with pytest.raises(MutabilityError):
        patched(stored, ops({"op": "replace", "value": {"id": "other", "displayName": "x"}}), group_context, OKTA)


def test_member_edits_are_recognised(compiled: CompiledSchema) -> None:
    group = compiled.mappings["Group"]
    edits = member_edits(ops({"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "g2", "type": "Group"}]}), group, STRICT)
    assert edits is not None and edits.add == {"User": ["u1"], "Group": ["g2"]}
    edits = member_edits(ops({"op": "remove", "path": 'members[value eq "u1" or value eq "u2"]'}), group, STRICT)
    assert edits is not None and edits.remove_ids == ["u1", "u2"] and not edits.remove_all
    edits = member_edits(ops({"op": "add", "value": {"members": [{"value": "u3"}]}}), group, STRICT)
    assert edits is not None and edits.add == {"User": ["u3"]}
    assert member_edits(ops({"op": "remove", "path": "members"}), group, STRICT).remove_all  # type: ignore[union-attr]
    entra_remove = ops({"op": "Remove", "path": "members", "value": [{"value": "u1"}]})
    assert member_edits(entra_remove, group, STRICT) is None  # strict: to scim2-models, which refuses it
    assert member_edits(entra_remove, group, ENTRA).remove_ids == ["u1"]  # type: ignore[union-attr]
    mixed = ops({"op": "add", "path": "members", "value": [{"value": "u1"}]}, {"op": "replace", "path": "displayName", "value": "x"})
    assert member_edits(mixed, group, STRICT) is None
    assert member_edits(ops({"op": "add", "path": "members", "value": [{"value": "u1"}]}), compiled.mappings["User"], STRICT) is None
    with pytest.raises(InvalidValueError):
        member_edits(ops({"op": "add", "path": "members", "value": [{"display": "no value"}]}), group, STRICT)


# ------------------------------------------------------------------ envelopes and Bulk
class _Processor:
    """What the runner asks of a processor before it touches the graph (dry runs only)."""

    def __init__(self, compiled: CompiledSchema) -> None:
        self.settings = Settings(max_payload_bytes=4096)
        self._compiled = compiled

    def compiled(self) -> CompiledSchema:
        return self._compiled


@pytest.fixture
def runner(compiled: CompiledSchema) -> OperationRunner:
    return OperationRunner(_Processor(compiled))  # type: ignore[arg-type]


def test_kinds_of_payload() -> None:
    assert kind_of({"method": "POST", "path": "/Users", "body": {}}) == "envelope"
    assert kind_of({"schemas": [PATCH.upper()], "Operations": []}) == "patch"
    assert kind_of({"schemas": [BULK], "Operations": []}) == "bulk"
    assert kind_of({"schemas": [CORE], "userName": "a"}) == "resource"
    assert kind_of([1]) == "resource"


def test_paths(runner: OperationRunner) -> None:
    assert runner.resolve_path("/Users") == ("User", None)
    assert runner.resolve_path("https://example.com/scim/v2/Groups/abc") == ("Group", "abc")
    with pytest.raises(ScimError) as info:
        runner.resolve_path("/Printers/1")
    assert info.value.status == 404
    with pytest.raises(ScimError) as info:
        runner.resolve_path("/Users/.search")
    assert info.value.status == 501


def test_envelope_checks(runner: OperationRunner) -> None:
    def status(method: Any, path: Any, body: Any = None) -> int | None:
        return runner.execute("f", method, path, body, None, dry_run=True).http_status

    assert status("POST", "/Users", {"userName": "a"}) == 201
    assert status("delete", "/Users/1") == 204
    assert status("GET", "/Users/1") == 400
    assert status("POST", "/Users/1", {}) == 400
    assert status("PUT", "/Users", {}) == 400
    assert status("PATCH", "/Users/1", {"schemas": [CORE]}) == 400


def test_bulk_refs_are_resolved_in_path_and_data_by_scim2_servers_plan(runner: OperationRunner) -> None:
    op = {"method": "patch", "path": "/Groups/bulkId:g", "data": {"Operations": [{"value": [{"value": "bulkId:u"}]}]}}
    model = _bulk_operation(op)
    assert model.method == "PATCH" and BulkPlan.references(model) == ["g", "u"]
    resolved = resolve_operation(model, {"g": "123", "u": "456"}.__getitem__)
    assert resolved.path == "/Groups/123" and resolved.data == {"Operations": [{"value": [{"value": "456"}]}]}
    unknown = {"method": "DELETE", "path": "/Users/bulkId:nope"}
    [result] = runner.run([Payload("b.json", {"schemas": [BULK], "Operations": [unknown]})], dry_run=True)
    assert result.status == "rejected" and result.http_status == 409 and "nope" in str(result.error)


def test_bulk_order_forward_refs_cycles_and_limits(runner: OperationRunner) -> None:
    def bulk(operations: list[dict[str, Any]], **extra: Any) -> list[Any]:
        document = {"schemas": [BULK], "Operations": operations, **extra}
        return list(runner.run([Payload("b.json", document)], dry_run=True))

    user = {"schemas": [CORE], "userName": "a"}
    results = bulk([
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [GROUP], "displayName": "g", "members": [{"value": "bulkId:u"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": user},
    ])  # fmt: skip
    assert [(r.source, r.http_status, r.bulk_id) for r in results] == [("b.json:1", 201, "g"), ("b.json:2", 201, "u")]
    cycle = bulk([
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {**user, "manager": "bulkId:b"}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {**user, "manager": "bulkId:a"}},
    ])  # fmt: skip
    assert [r.http_status for r in cycle] == [409, 409]
    assert [r.http_status for r in bulk([{"method": "POST", "path": "/Users", "data": user}])] == [400]  # no bulkId
    failing = bulk([{"method": "GET", "path": "/Users/1"}, {"method": "DELETE", "path": "/Users/2"}], failOnErrors=1)
    assert [r.status for r in failing] == ["rejected", "skipped"]
    too_many = OperationRunner(runner.processor, max_operations=1)
    (result,) = too_many.run([Payload("b.json", {"schemas": [BULK], "Operations": [{}, {}]})], dry_run=True)
    assert result.http_status == 413
    (result,) = runner.run([Payload("big.json", {"schemas": [BULK], "Operations": [], "pad": "x" * 5000})], dry_run=True)
    assert result.http_status == 413


def test_patch_op_needs_a_target(runner: OperationRunner) -> None:
    (result,) = runner.run([Payload("p.json", {"schemas": [PATCH], "Operations": [{"op": "remove", "path": "title"}]})], dry_run=True)
    assert result.http_status == 400 and "--target" in result.error.detail
    targeted = OperationRunner(runner.processor, target="/Users/1")
    (result,) = targeted.run([Payload("p.json", {"schemas": [PATCH], "Operations": [{"op": "remove", "path": "title"}]})], dry_run=True)
    assert (result.method, result.path, result.http_status) == ("PATCH", "/Users/1", 200)
    assert set(result.to_json()) >= {"source", "status", "resourceType", "resource", "cypher", "error", "method", "path", "bulkId", "httpStatus"}


# ------------------------------------------------------------------ identity, ETag, projection
def test_client_id_is_dropped_with_a_warning_and_derived_ids_are_told(user_context) -> None:
    warnings: list[str] = []
    assert drop_client_id({"id": "x", "userName": "a"}, warnings) == {"userName": "a"} and "RFC 7644 §3.3" in warnings[0]
    resource = DeterministicGenerator().generate({"schemas": [CORE], "userName": "A", "externalId": "e"}, user_context).resource
    assert is_derived_id(resource, user_context)
    assert not is_derived_id({**resource, "id": "chosen"}, user_context)


def test_content_version_is_a_weak_etag_of_the_content(compiled: CompiledSchema) -> None:
    mapping, core = compiled.mappings["Group"], GROUP
    row = graph_row({"schemas": [core], "id": "g", "displayName": "G", "members": [{"value": "a"}, {"value": "b"}]}, mapping, core)
    same = graph_row({"schemas": [core], "id": "g", "displayName": "G", "members": [{"value": "b"}, {"value": "a"}]}, mapping, core, now="2000-01-01T00:00:00Z")
    other = graph_row({"schemas": [core], "id": "g", "displayName": "H"}, mapping, core)
    assert row["meta_version"] == same["meta_version"] == content_version(row) != other["meta_version"]
    assert row["meta_version"].startswith('W/"') and len(row["meta_version"]) == 20
    assert same["meta_created"] == same["meta_lastModified"] == "2000-01-01T00:00:00Z"


def test_user_name_key_is_lower_cased(compiled: CompiledSchema) -> None:
    row = graph_row({"schemas": [CORE], "id": "u", "userName": "BJensen"}, compiled.mappings["User"], CORE)
    assert (row["userName"], row["userName_key"]) == ("BJensen", "bjensen")


def test_projection(user_context) -> None:
    resource = {
        "schemas": [CORE, ENTERPRISE], "id": "u", "userName": "a", "title": "t", "name": {"givenName": "A", "familyName": "B"},
        "emails": [{"value": "a@x", "type": "work"}], ENTERPRISE: {"employeeNumber": "1", "department": "d"}, "meta": {"version": "v"},
    }  # fmt: skip
    context = full(user_context)
    assert project(resource, context, ["userName", "name.givenName", f"{ENTERPRISE}:department", "emails.value"], None) == {
        "schemas": [CORE, ENTERPRISE], "id": "u", "userName": "a", "name": {"givenName": "A"},
        ENTERPRISE: {"department": "d"}, "emails": [{"value": "a@x"}],
    }  # fmt: skip
    out = project(resource, context, None, ["title", "id", "emails.type", ENTERPRISE])
    assert "title" not in out and out["id"] == "u" and out["emails"] == [{"value": "a@x"}] and ENTERPRISE not in out
    assert resource["emails"] == [{"value": "a@x", "type": "work"}]  # not modified
