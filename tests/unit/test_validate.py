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


GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def both_gates(file_retriever, payload) -> list[ScimError]:
    """The errors of the compiled gate and of the reference gate (scim2-models) for one payload."""
    context = file_retriever.retrieve(payload)
    resource = DeterministicGenerator().generate(payload, context).resource
    validator, errors = ScimValidator(), []
    for gate in (validator.validate, validator.validate_reference):
        with pytest.raises(ScimError) as caught:
            gate(resource, context)
        errors.append(caught.value)
    return errors


@pytest.mark.parametrize("blank", ["", " ", "   ", "\t\n", "\u00a0\u2003"])
@pytest.mark.parametrize(
    ("payload", "attribute"),
    [
        ({"schemas": [CORE], "externalId": "e"}, "userName"),
        ({"schemas": [GROUP], "externalId": "e"}, "displayName"),
    ],
)
def test_a_required_string_empty_or_blank_is_invalid_value_in_both_gates(file_retriever, blank, payload, attribute) -> None:
    # RFC 7643 §2.2: a required attribute must hold a value; "   " is none (it used to be accepted).
    for error in both_gates(file_retriever, {**payload, attribute: blank}):
        assert (error.status, error.scim_type, error.attribute) == (400, "invalidValue", attribute)
        assert error.detail.startswith(f"{attribute} is required")


def test_a_required_sub_attribute_blank_is_invalid_value(file_retriever) -> None:
    payload = {"schemas": [CORE, ENTERPRISE], "userName": "x", ENTERPRISE: {"manager": {"value": " "}}}
    for error in both_gates(file_retriever, payload):
        assert (error.scim_type, error.attribute) == ("invalidValue", f"{ENTERPRISE}:manager.value")


def test_an_empty_user_name_without_id_names_user_name(file_retriever) -> None:
    # No id can be derived from "": the generator's error names the attribute too.
    error = rejected(file_retriever, {"schemas": [CORE], "userName": ""})
    assert error.attribute == "userName" and "required" in error.detail


def test_optional_blank_strings_stay_accepted(file_retriever) -> None:
    check(file_retriever, {"schemas": [CORE], "userName": "x", "title": " ", "nickName": ""})


def test_a_lone_surrogate_is_invalid_syntax_not_a_crash(file_retriever) -> None:
    # A dict handed to the gate directly (no reader, no inspect_document) must not raise UnicodeEncodeError.
    for error in both_gates(file_retriever, {"schemas": [CORE], "userName": "x", "title": "a\ud800b"}):
        assert (error.status, error.scim_type, error.attribute) == (400, "invalidSyntax", "title")


def test_what_only_scim2_models_checked_is_still_checked(file_retriever) -> None:
    # The compiled gate has no pydantic model: it must keep scim2-models' own verdicts.
    for payload, attribute in [
        ({"schemas": [CORE], "userName": "x", "externalId": 7}, "externalId"),
        ({"schemas": [CORE], "userName": "x", "profileUrl": "not a uri"}, "profileUrl"),
        ({"schemas": [CORE], "userName": "x", "photos": [{"value": "http://exa mple.com"}]}, "photos[0].value"),
        ({"schemas": [CORE, ACME], "userName": "x", ACME: {"startDate": "2024-01-02T03:04:05+00:60"}}, f"{ACME}.startDate"),
    ]:
        compiled, reference = both_gates(file_retriever, payload)
        assert (compiled.scim_type, compiled.attribute, compiled.detail) == (reference.scim_type, reference.attribute, reference.detail)
        assert compiled.attribute == attribute


def test_a_context_narrowed_to_fewer_attributes_gets_its_own_gate(file_retriever) -> None:
    # The LLM step narrows contexts (same schema version, fewer attributes): the gates are cached by
    # the schema definitions themselves, so the full context's gate is never used for a narrowed one.
    payload = {"schemas": [CORE], "userName": "x", "title": "t"}
    full = file_retriever.retrieve(payload)
    resource = {**DeterministicGenerator().generate(payload, full).resource, "title": 5}
    core = full.core.model_copy(update={"attributes": tuple(a for a in full.core.attributes if a.name == "userName")})
    narrowed = full.model_copy(update={"core": core, "extensions": ()})
    validator = ScimValidator()
    for gate in (validator.validate, validator.validate_reference):
        with pytest.raises(ScimError, match="title must be a JSON string"):
            gate(resource, full)
    validator.validate(resource, narrowed)  # no title attribute in this context: not its gate's to check
    assert "title" in validator.model(full).model_fields and "title" not in validator.model(narrowed).model_fields
