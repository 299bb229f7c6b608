"""The SCIM gate: the RFC rules scim2-models lacks, then scim2-models itself."""

from __future__ import annotations

import pytest

from scim_processor.errors import ScimError
from scim_processor.stages.generate import DeterministicGenerator
from scim_processor.stages.validate import ScimValidator

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ACME = "urn:example:scim:schemas:extension:acme:2.0:User"


def check(file_retriever, payload, limit=65_536):
    context = file_retriever.retrieve(payload)
    resource = DeterministicGenerator().generate(payload, context).resource
    ScimValidator(limit).validate(resource, context)


def rejected(file_retriever, payload, limit=65_536) -> ScimError:
    with pytest.raises(ScimError) as caught:
        check(file_retriever, payload, limit)
    assert caught.value.status == 400 and caught.value.scim_type == "invalidValue"
    return caught.value


def test_a_full_valid_user_passes(file_retriever) -> None:
    check(file_retriever, {
        "schemas": [CORE, ACME], "userName": "x", "active": True,
        "emails": [{"value": "a@b", "type": "work", "primary": True}, {"value": "c@d"}],
        ACME: {"startDate": "2024-01-02T03:04:05Z", "projects": [{"value": "P", "allocation": 1}]},
        "x509Certificates": [{"value": "TUlJRFF6Q0NBcXlnQXdJQkFnSUNFQUF3"}],
    })  # fmt: skip


@pytest.mark.parametrize("value", ["yes", "True", "false", 1, 0])
def test_booleans_must_be_json_booleans(file_retriever, value) -> None:
    error = rejected(file_retriever, {"schemas": [CORE], "userName": "x", "active": value})
    assert error.attribute == "active"


def test_required_attribute_and_sub_attribute(file_retriever) -> None:
    error = rejected(file_retriever, {"schemas": [CORE], "displayName": "x", "externalId": "e"})
    assert (error.attribute, error.detail) == ("userName", "userName is required (RFC 7643 §2.2)")
    error = rejected(file_retriever, {"schemas": [CORE, ACME], "userName": "x", ACME: {"projects": [{"role": "lead"}]}})
    assert (error.attribute, error.detail) == (f"{ACME}:projects[0].value", f"{ACME}:projects[0].value is required (RFC 7643 §2.2)")


def test_canonical_values(file_retriever) -> None:
    # scim2-models does not enforce canonicalValues: only our own check rejects these.
    error = rejected(file_retriever, {"schemas": [CORE], "userName": "x", "phoneNumbers": [{"value": "1", "type": "spaceship"}]})
    assert error.attribute == "phoneNumbers[0].type" and "canonicalValues are work, home, mobile" in error.detail
    error = rejected(file_retriever, {"schemas": [CORE, ACME], "userName": "x", ACME: {"clearanceLevel": "cosmic"}})
    assert error.attribute == f"{ACME}:clearanceLevel"


def test_one_primary_at_most(file_retriever) -> None:
    error = rejected(file_retriever, {"schemas": [CORE], "userName": "x", "emails": [{"value": "a", "primary": True}, {"value": "b", "primary": True}]})
    assert error.attribute == "emails" and "(RFC 7643 §2.4)" in error.detail


def test_types_date_time_binary_decimal(file_retriever) -> None:
    error = rejected(file_retriever, {"schemas": [CORE, ACME], "userName": "x", ACME: {"startDate": "1700000000"}})
    assert error.attribute == f"{ACME}:startDate" and "xsd:dateTime" in error.detail
    error = rejected(file_retriever, {"schemas": [CORE], "userName": "x", "x509Certificates": [{"value": "YWJ"}]})
    assert error.attribute == "x509Certificates[0].value" and "base64" in error.detail
    error = rejected(file_retriever, {"schemas": [CORE, ACME], "userName": "x", ACME: {"projects": [{"value": "P", "allocation": "half"}]}})
    assert error.attribute == f"{ACME}:projects[0].allocation" and "(RFC 7643 §2.3.3)" in error.detail


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**70])
def test_decimals_are_finite_and_storable(file_retriever, value) -> None:
    error = rejected(file_retriever, {"schemas": [CORE, ACME], "userName": "x", ACME: {"projects": [{"value": "P", "allocation": value}]}})
    assert error.attribute == f"{ACME}:projects[0].allocation"


def test_attribute_size_limit(file_retriever) -> None:
    error = rejected(file_retriever, {"schemas": [CORE], "userName": "x", "title": "a" * 101}, limit=100)
    assert error.attribute == "title" and "100 bytes" in error.detail
