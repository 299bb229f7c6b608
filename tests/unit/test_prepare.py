"""The one prepare step, without a server: size, dialect, resource type, generation, gate, Cypher and guard."""

from __future__ import annotations

import pytest

from scim_processor.errors import InvalidSyntaxError, InvalidValueError, PayloadTooLargeError
from scim_processor.mapping import CompiledSchema
from scim_processor.operations import ENTRA, STRICT, Dialect
from scim_processor.stages.generate import DeterministicGenerator
from scim_processor.stages.prepare import Preparer, check_size, payload_size
from scim_processor.stages.validate import ScimValidator

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"


def preparer(compiled: CompiledSchema, dialect: Dialect = STRICT, limit: int = 10_000) -> Preparer:
    return Preparer(compiled, DeterministicGenerator(), ScimValidator(), max_payload_bytes=limit, max_depth=32, dialect=dialect)


def test_the_size_limit_is_one_check_for_every_payload(compiled: CompiledSchema) -> None:
    document = {"schemas": [CORE], "userName": "x" * 200}
    check_size(document, None, payload_size(document))
    with pytest.raises(PayloadTooLargeError) as info:
        check_size(document, None, payload_size(document) - 1)
    assert info.value.status == 413
    with pytest.raises(PayloadTooLargeError):
        preparer(compiled, limit=100).prepare(document)
    with pytest.raises(PayloadTooLargeError):
        preparer(compiled, limit=100).prepare(document, resource_type="User")


def test_a_bare_resource_and_a_request_body_give_the_same_resource_and_cypher(compiled: CompiledSchema) -> None:
    document = {"schemas": [CORE], "userName": "bjensen", "active": "True", "emails": [{"value": "b@x.example", "type": "Work"}]}
    with pytest.raises(InvalidValueError, match="entra"):
        preparer(compiled).prepare(document)  # strict: a string boolean, in both paths
    with pytest.raises(InvalidValueError, match="entra"):
        preparer(compiled).prepare(document, resource_type="User")
    bare = preparer(compiled, ENTRA).prepare(document)
    request = preparer(compiled, ENTRA).prepare(document, resource_type="User")
    assert bare.resource == request.resource and bare.resource["active"] is True
    assert [s.query for s in bare.statements] == [s.query for s in request.statements] != []


def test_the_path_names_the_type_and_the_id(compiled: CompiledSchema) -> None:
    with pytest.raises(InvalidSyntaxError, match="path names Group"):
        preparer(compiled).prepare({"schemas": [CORE], "userName": "a"}, resource_type="Group")
    prepared = preparer(compiled).prepare({"schemas": [CORE], "userName": "a", "id": "other"}, resource_type="User", resource_id="p1")
    assert prepared.resource["id"] == "p1" and any("RFC 7644 §3.5.1" in w for w in prepared.warnings)


def test_entra_urns_are_dropped_with_a_warning_on_bare_resources(compiled: CompiledSchema) -> None:
    document = {"schemas": [CORE, ADSCIM], "userName": "a"}
    with pytest.raises(InvalidSyntaxError, match="entra"):
        preparer(compiled).prepare(document)
    prepared = preparer(compiled, ENTRA).prepare(document)
    assert prepared.resource["schemas"] == [CORE] and any("ADSCIM" in w for w in prepared.warnings)
