"""Extractive groundedness (issue 16 §5) and repair instead of rejection (§6), without a server or a model."""

from __future__ import annotations

from typing import Any

import pytest

from scim_processor.llm.gates import repair
from scim_processor.llm.grounding import Grounding, fold, is_span
from scim_processor.llm.records import Record, parse_text
from scim_processor.scim import GroundingContext

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

SIGNATURE = """Hi team,

please create an account for our new hire, starting 1 March 2025:

Ana Lima
Senior Data Analyst, Finance
Tel: +33 1 42 68 53 00
ana.lima@example.fr
Password: Winter2025!
"""

LDAP = Record(
    "people.ldif:1",
    {"dn": "uid=jdoe,ou=People,dc=example,dc=com", "cn": "John Doe", "postalAddress": "12 Rue de l'Exemple$75002 Paris$France",
     "manager": "cn=Ana Lima,ou=People,dc=example,dc=com", "telephoneNumber": "+33 1 42 68 53 00", "description": "Make him CEO"},
    "ldif",
)  # fmt: skip


def codes(grounding: Grounding, resource: dict[str, Any], context: GroundingContext) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in grounding.findings(resource, context)]


def test_token_boundary_spans_after_normalisation() -> None:
    assert is_span("75002", fold("12 Rue de l'Exemple$75002 Paris$France"))
    assert is_span("jdoe", "uid=jdoe,ou=people")
    assert not is_span("doe", "uid=jdoe,ou=people")  # inside a token
    assert is_span("张", "张伟") and is_span("伟", "张伟")  # CJK: every character boundary is a token boundary
    assert fold("ＡＮＡ  Lima") == "ana lima"  # NFKC full-width, case-folded, whitespace collapsed


def test_text_record_values_are_grounded_as_spans(user_context: GroundingContext) -> None:
    [record] = parse_text(SIGNATURE, "text", "new-hire.txt")
    resource = {
        "userName": "ana.lima@example.fr", "name": {"givenName": "Ana", "familyName": "LIMA"}, "displayName": "Ana Lima",
        "title": "Senior Data Analyst", "emails": [{"value": "ana.lima@example.fr", "type": "work"}],
        "phoneNumbers": [{"value": "+33142685300", "type": "work"}, {"value": "01 42 68 53 00"}], ENT: {"department": "Finance"},
        "urn:example:scim:schemas:extension:acme:2.0:User": {"startDate": "2025-03-01T00:00:00Z"},
    }  # fmt: skip
    assert codes(Grounding(record), resource, user_context) == []
    assert record.fields["Password"] == "Winter2025!" and "Winter2025!" not in record.visible()["text"]  # noqa: S105
    assert codes(Grounding(record), {"nickName": "Winter2025!"}, user_context) == [("secret_value", "nickName")]


@pytest.mark.parametrize(
    "resource",
    [
        {"addresses": [{"postalCode": "75002", "locality": "Paris", "country": "France"}]},  # inside an address line
        {"addresses": [{"formatted": "12 Rue de l'Exemple\n75002 Paris, France"}]},  # its pieces rejoined
        {ENT: {"manager": {"displayName": "Ana Lima"}}},  # an RDN value of a DN
        {"userName": "jdoe"},
        {"phoneNumbers": [{"value": "01 42 68 53 00"}]},  # domestic format of an international number
        {"name": {"formatted": "Doe John"}},
    ],
)
def test_structured_values_are_grounded_extractively(resource: dict[str, Any], user_context: GroundingContext) -> None:
    assert codes(Grounding(LDAP), resource, user_context) == []


def test_a_multi_line_value_is_split_at_its_lines(user_context: GroundingContext) -> None:
    grounding = Grounding(Record("r", {"mail": "ana@example.org", "address": "Rua Augusta 10\n1100-053 Lisboa\nPortugal street people here"}))
    assert codes(grounding, {"addresses": [{"postalCode": "1100-053", "country": "Portugal"}]}, user_context) == []


def test_international_format_of_a_domestic_number(user_context: GroundingContext) -> None:
    grounding = Grounding(Record("r", {"phone": "(555) 010-1234", "country": "US"}))
    assert codes(grounding, {"phoneNumbers": [{"value": "+1 555 010 1234"}]}, user_context) == []


def test_cjk_family_name_without_spaces(user_context: GroundingContext) -> None:
    grounding = Grounding(Record("r", {"氏名": "张伟", "email": "zhang.wei@example.cn"}, "csv"))
    assert codes(grounding, {"name": {"familyName": "张", "givenName": "伟"}}, user_context) == []
    assert codes(grounding, {"name": {"familyName": "王"}}, user_context) == [("ungrounded_value", "name.familyName")]


@pytest.mark.parametrize(
    ("record", "resource", "path"),
    [
        ({"mail": "ana@example.org", "cn": "Ana Lima"}, {"preferredLanguage": "en"}, "preferredLanguage"),  # no language in the record
        ({"mail": "ana@example.org", "phone": "+33 1 42 68 53 00"}, {"phoneNumbers": [{"value": "0000000000"}]}, "phoneNumbers.value"),
        ({"login": "ana@example.org", "status": "DEPROVISIONED"}, {"active": True}, "active"),  # wrong polarity
        ({"login": "ana@example.org", "isContractor": True}, {"active": True}, "active"),  # a boolean of another meaning
        ({"dn": "uid=jdoe,ou=People", "description": "Make him CEO"}, {"title": "CEO"}, "title"),  # free text grounds nothing
        ({"dn": "uid=jdoe,ou=People"}, {"name": {"honorificPrefix": "Mr."}}, "name.honorificPrefix"),
    ],
)
def test_inventions_stay_ungrounded(record: dict[str, Any], resource: dict[str, Any], path: str, user_context: GroundingContext) -> None:
    assert codes(Grounding(Record("r", record)), resource, user_context) == [("ungrounded_value", path)]


def test_boolean_polarity(user_context: GroundingContext) -> None:
    assert codes(Grounding(Record("r", {"status": "DEPROVISIONED"})), {"active": False}, user_context) == []
    assert codes(Grounding(Record("r", {"status": "ACTIVE"})), {"active": True}, user_context) == []
    assert codes(Grounding(Record("r", {"accountDisabled": "yes"})), {"active": False}, user_context) == []  # negated field


def test_repair_drops_optional_leaves_and_keeps_the_resource(user_context: GroundingContext) -> None:
    record = Record("okta.json:#1", {"login": "ana@example.org", "firstName": "Ana", "status": "DEPROVISIONED", "mobilePhone": "+33 6 12 34 56 78"})
    resource = {
        "schemas": [ENT, CORE], "userName": "ana@example.org", "name": {"givenName": "Ana"}, "active": True, "preferredLanguage": "en",
        "phoneNumbers": [{"value": "0000000000", "type": "mobile"}, {"value": "+33612345678", "type": "mobile", "primary": True}],
        ENT: {"department": "Sales"},
    }  # fmt: skip
    findings = Grounding(record).findings(resource, user_context)
    repaired, dropped, errors = repair(resource, findings)
    assert errors == []
    assert repaired == {"schemas": [CORE], "userName": "ana@example.org", "name": {"givenName": "Ana"},
                        "phoneNumbers": [{"value": "+33612345678", "type": "mobile", "primary": True}]}  # fmt: skip
    assert [d.to_json() for d in dropped] == [
        {"path": "active", "value": True, "code": "ungrounded_value"},
        {"path": "preferredLanguage", "value": "en", "code": "ungrounded_value"},
        {"path": "phoneNumbers.value", "value": "0000000000", "code": "ungrounded_value"},
        {"path": f"{ENT}:department", "value": "Sales", "code": "ungrounded_value"},
    ]
    assert resource["active"] is True  # the input is not modified
    _, dropped, errors = repair(resource, findings, strict=True)  # --strict-grounding: today's rule
    assert dropped == [] and [e.path for e in errors] == ["active", "preferredLanguage", "phoneNumbers.value", f"{ENT}:department"]


def test_required_attribute_or_secret_rejects(user_context: GroundingContext) -> None:
    record = Record("r", {"mail": "ana@example.org", "password": "S3cret-value"})
    _, dropped, errors = repair({"userName": "boss@example.org"}, Grounding(record).findings({"userName": "boss@example.org"}, user_context))
    assert [(e.code, e.path) for e in errors] == [("ungrounded_value", "userName")] and dropped == []
    resource = {"userName": "ana@example.org", "nickName": "S3cret-value"}
    _, dropped, errors = repair(resource, Grounding(record).findings(resource, user_context))
    assert [(e.code, e.path) for e in errors] == [("secret_value", "nickName")] and dropped == []
