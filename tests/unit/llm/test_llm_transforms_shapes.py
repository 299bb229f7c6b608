"""The transform library against its libraries' own output, source shapes, and mapping files (no graph)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import langcodes
import phonenumbers
import pycountry
import pytest
from dateutil import parser as date_parser
from nameparser import HumanName

from scim_processor.llm.mapping_file import (
    CompiledMapping,
    MappingFileError,
    SourceMapping,
    TargetError,
    check,
    load_mapping,
    resolve_target,
    write_mapping,
)
from scim_processor.llm.shapes import Shape, SourceFile, flatten
from scim_processor.llm.transforms import TRANSFORMS, TransformError, fits, parse_dn, transform
from scim_processor.scim import GroundingContext

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def apply(name: str, value: object, **args: object) -> object:
    return transform(name).apply([value], args)


def test_case_transforms_collapse_whitespace() -> None:
    assert apply("copy", "  Ada   Lovelace ") == "Ada Lovelace"
    assert apply("lower", " Ada@Example.NET ") == "ada@example.net"
    assert apply("upper", "fr") == "FR"
    assert apply("title", "o'neil  mary") == "O'Neil Mary"


@pytest.mark.parametrize("full", ["Dr. Juan Q. Xavier de la Vega III", "Ada Lovelace", "Lovelace, Ada King"])
def test_name_part_is_nameparsers_split(full: str) -> None:
    human = HumanName(full)
    expected = {"given": human.first, "middle": human.middle, "family": human.last, "prefix": human.title, "suffix": human.suffix}
    for part, value in expected.items():
        if value:
            assert apply("name_part", full, part=part) == value
        else:
            with pytest.raises(TransformError):
                apply("name_part", full, part=part)


def test_name_part_of_cjk_names_is_family_first() -> None:
    assert (apply("name_part", "张伟", part="family"), apply("name_part", "张伟", part="given")) == ("张", "伟")
    assert (apply("name_part", "欧阳娜娜", part="family"), apply("name_part", "欧阳娜娜", part="given")) == ("欧阳", "娜娜")
    assert (apply("name_part", "山田 太郎", part="family"), apply("name_part", "山田 太郎", part="given")) == ("山田", "太郎")


def test_regex_takes_the_one_group_and_refuses_other_patterns() -> None:
    assert apply("regex", "12 Rue de l'Exemple$75002 Paris$France", pattern=r"\$(\d{5}) ") == "75002"
    with pytest.raises(TransformError):
        apply("regex", "no digits", pattern=r"(\d+)")
    with pytest.raises(TransformError, match="exactly one capture group"):
        transform("regex").check_args({"pattern": r"(\d)(\d)"})


@pytest.mark.parametrize(("text", "dayfirst"), [("2024-03-01", False), ("03/04/2024", True), ("March 5, 2021 14:30", False),
                                                  ("2024-03-01T09:00:00+02:00", False)])  # fmt: skip
def test_date_is_dateutils_parse_in_utc(text: str, dayfirst: bool) -> None:
    parsed = date_parser.parse(text, dayfirst=dayfirst)
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    result = apply("date", text, dayfirst=dayfirst)
    assert result == parsed.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert datetime.fromisoformat(str(result).replace("Z", "+00:00")) == parsed
    with pytest.raises(TransformError):
        apply("date", "not a date")


@pytest.mark.parametrize(("text", "region"), [("(415) 555-0141", "US"), ("+44 20 7946 0958", None), ("030 123456", "DE")])
def test_phone_e164_is_phonenumbers_format(text: str, region: str | None) -> None:
    expected = phonenumbers.format_number(phonenumbers.parse(text, region), phonenumbers.PhoneNumberFormat.E164)
    assert apply("phone_e164", text, **({"region": region} if region else {})) == expected
    with pytest.raises(TransformError):
        apply("phone_e164", "0000000000")  # no region, no country code


@pytest.mark.parametrize("text", ["Germany", "DEU", "de", "France", "276"])
def test_country_alpha2_is_pycountrys_lookup(text: str) -> None:
    assert apply("country_alpha2", text) == pycountry.countries.lookup(text).alpha_2
    with pytest.raises(TransformError):
        apply("country_alpha2", "Atlantis")


def test_language_tag_is_langcodes() -> None:
    assert apply("language_tag", "en_us") == langcodes.standardize_tag("en-us") == "en-US"
    assert apply("language_tag", "German") == langcodes.find("German").to_tag() == "de"
    with pytest.raises(TransformError):
        apply("language_tag", "xyzzy")


def test_boolean_defaults_cover_hr_and_okta_statuses_and_custom_lists() -> None:
    for word in ("Active", "ENABLED", "yes", "1", "true", "STAGED", "PROVISIONED", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"):
        assert apply("boolean", word) is True, word
    for word in ("Inactive", "Disabled", "Terminated", "no", "0", "false", "DEPROVISIONED", "SUSPENDED"):
        assert apply("boolean", word) is False, word
    with pytest.raises(TransformError):
        apply("boolean", "On Leave")
    assert apply("boolean", "On Leave", true=["On Leave"], false=["Gone"]) is True


def test_dn_value_follows_rfc_4514() -> None:
    dn = r"uid=ada\2Clove,ou=people+l=London,dc=example,dc=net"
    assert parse_dn(dn) == [[("uid", "ada,love")], [("ou", "people"), ("l", "London")], [("dc", "example")], [("dc", "net")]]
    assert apply("dn_value", "cn=Grace Hopper,ou=people,dc=example,dc=net", attribute="CN") == "Grace Hopper"
    assert apply("dn_value", "uid=ada,ou=people,dc=example,dc=net") == "ada"
    with pytest.raises(TransformError):
        apply("dn_value", "uid=ada,dc=net", attribute="ou")


def test_join_skips_absent_sources() -> None:
    assert transform("join").apply(["Ada", None, "Lovelace"], {"separator": " "}) == "Ada Lovelace"
    assert transform("join").apply([None, None], {}) is None


def test_library_is_closed_and_typed() -> None:
    assert set(TRANSFORMS) == {"copy", "lower", "upper", "title", "name_part", "regex", "date", "phone_e164", "country_alpha2",
                               "language_tag", "boolean", "dn_value", "join"}  # fmt: skip
    assert fits("boolean", "boolean") and fits("string", "reference") and not fits("string", "boolean") and not fits("string", "dateTime")
    with pytest.raises(TransformError, match="unknown transform"):
        transform("eval")


# ------------------------------------------------------------------------------------------ shapes
def test_json_paths_select_array_items_by_type_or_index() -> None:
    record = {"id": "00u1", "profile": {"firstName": "Ada", "email": "", "nick": None},
              "emails": [{"type": "work", "value": "a@x.net"}, {"type": "home", "value": "a@y.net"}],
              "phones": [{"number": "1"}, {"number": "2"}], "tags": ["a", "b"]}  # fmt: skip
    assert flatten(record) == {"id": "00u1", "profile.firstName": "Ada", "emails[type=work].value": "a@x.net",
                               "emails[type=home].value": "a@y.net", "phones[0].number": "1", "phones[1].number": "2",
                               "tags": ["a", "b"]}  # fmt: skip


def test_shape_fingerprint_ignores_order_and_records_with_absent_fields_fit() -> None:
    one, two = Shape("csv", ("a", "b", "c")), Shape("csv", ("c", "a", "b"))
    assert one.fingerprint == two.fingerprint and len(one.fingerprint) == 16
    assert one.fingerprint != Shape("json", ("a", "b", "c")).fingerprint != Shape("csv", ("a", "b")).fingerprint
    assert one.fits(["a", "c"]) and not one.fits(["a", "d"])


def test_csv_rows_with_the_wrong_number_of_columns_are_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_text('Email,Name\na@x.net,Ada\nb@x.net\n\n"c@x.net","Line\nbreak"\nd@x.net,Dee,extra\ne@x.net,\n', encoding="utf-8")
    source = SourceFile.open(path)
    assert source.shape() == Shape("csv", ("Email", "Name"))
    records = list(source.records())
    assert [(r.source.rsplit(":", 1)[1], r.error) for r in records] == [
        ("2", None), ("3", "line 3 has 1 columns; the header has 2"), ("5", None),
        ("7", "line 7 has 3 columns; the header has 2"), ("8", None)]  # fmt: skip
    assert records[2].values == {"Email": "c@x.net", "Name": "Line\nbreak"} and records[4].values == {"Email": "e@x.net"}
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("Email,Name,\na@x.net,Ada,\n", encoding="utf-8")  # an unnamed column after a trailing comma
    source = SourceFile.open(trailing)
    assert source.shape().fields == ("Email", "Name") and [r.values for r in source.records()] == [{"Email": "a@x.net", "Name": "Ada"}]


# ------------------------------------------------------------------------------------------ mapping files
def _mapping(*entries: dict[str, object], fields: tuple[str, ...] = ("Email", "First", "Status", "Password", "Start")) -> SourceMapping:
    return SourceMapping.from_json({"resourceType": "User", "shape": {"format": "csv", "fields": list(fields)}, "fields": list(entries)})


USERNAME = {"source": "Email", "target": "userName", "transform": "lower"}


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ({"source": "First", "target": "nickname2"}, "unknown_attribute"),
        ({"source": "First", "target": "id"}, "read_only_attribute"),
        ({"source": "First", "target": "groups.value"}, "read_only_attribute"),
        ({"source": "First", "target": "meta.created"}, "read_only_attribute"),
        ({"source": "First", "target": "password"}, "secret_attribute"),
        ({"source": "First", "target": "name.givenName", "transform": "rot13"}, "unknown_transform"),
        ({"source": "Password", "target": "nickName"}, "secret_source"),
        ({"source": "Status", "target": "active", "transform": "copy"}, "type_mismatch"),
        ({"source": "Start", "target": "title", "transform": "date"}, "type_mismatch"),
        ({"source": "Nope", "target": "title"}, "unknown_source"),
        ({"source": "First", "target": "name"}, "complex_target"),
        ({"source": "First", "target": 'emails[primary eq true].value'}, "bad_filter"),
        ({"source": "First", "target": "title", "transform": "regex", "args": {"pattern": "(a)(b)"}}, "bad_args"),
    ],
)
def test_bad_entries_are_named(entry: dict[str, object], code: str, user_context: GroundingContext) -> None:
    issues = check(_mapping(USERNAME, entry), user_context)
    assert [i.code for i in issues] == [code], issues
    with pytest.raises(MappingFileError):
        CompiledMapping(_mapping(USERNAME, entry), user_context)


def test_required_and_duplicate_targets(user_context: GroundingContext) -> None:
    issues = check(_mapping({"source": "First", "target": "title"}, {"source": "Email", "target": "title"}), user_context)
    assert [i.code for i in issues] == ["duplicate_target", "required_unmapped"]


def test_build_places_values_and_drops_what_an_optional_transform_cannot_convert(user_context: GroundingContext) -> None:
    mapping = _mapping(
        USERNAME,
        {"source": "Email", "target": 'emails[type eq "work"].value', "transform": "lower"},
        {"source": "First", "target": "name.givenName"},
        {"source": "Status", "target": "active", "transform": "boolean", "args": {"true": ["Active"], "false": ["Terminated"]}},
        {"source": "Start", "target": "urn:example:scim:schemas:extension:acme:2.0:User:startDate", "transform": "date"},
        {"source": "First", "target": f"{ENT}:employeeNumber"},
    )
    compiled = CompiledMapping(mapping, user_context)
    built = compiled.build({"Email": "Ada@X.net", "First": "Ada", "Status": "Terminated", "Start": "soon"})
    assert built.error is None
    assert built.resource == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT], "userName": "ada@x.net",
        "emails": [{"type": "work", "value": "ada@x.net"}], "name": {"givenName": "Ada"}, "active": False, ENT: {"employeeNumber": "Ada"},
    }  # fmt: skip
    assert [(d["path"], d["value"], d["code"]) for d in built.dropped] == [
        ("urn:example:scim:schemas:extension:acme:2.0:User:startDate", "soon", "transform_failed")]  # fmt: skip
    assert compiled.build({"First": "Ada"}).resource.get("userName") is None


def test_yaml_and_json_files_round_trip(tmp_path: Path, user_context: GroundingContext) -> None:
    mapping = _mapping(USERNAME, {"source": ["First", "Email"], "target": "displayName", "transform": "join", "args": {"separator": " / "}})
    for name in ("plan.json", "plan.yaml"):
        write_mapping(mapping, tmp_path / name)
        assert load_mapping(tmp_path / name).to_json() == mapping.to_json()
    assert json.loads((tmp_path / "plan.json").read_text())["fields"][1]["source"] == ["First", "Email"]
    edited = "resourceType: User\nshape: {format: csv, fields: [Status]}\nfields:\n- {source: Status, target: active, transform: boolean,\n   args: {true: [Here], false: [Gone]}}\n"
    (tmp_path / "edited.yaml").write_text(edited, encoding="utf-8")  # YAML 1.1 reads the unquoted keys as booleans
    assert load_mapping(tmp_path / "edited.yaml").entries[0].args == {"true": ["Here"], "false": ["Gone"]}
    (tmp_path / "bad.yaml").write_text("fields: [unclosed", encoding="utf-8")
    with pytest.raises(MappingFileError, match="not YAML"):
        load_mapping(tmp_path / "bad.yaml")


def test_target_paths(user_context: GroundingContext) -> None:
    target = resolve_target(f"{ENT}:manager.value", user_context)
    assert (target.urn, target.attribute, target.sub, target.id) == (ENT, "manager", "value", f"{ENT}:manager.value")
    assert resolve_target('phoneNumbers[type eq "mobile"].value', user_context).type_value == "mobile"
    with pytest.raises(TargetError):
        resolve_target("emails[type eq].value", user_context)
