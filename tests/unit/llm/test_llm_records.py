"""Record readers (CSV, LDIF, JSON, JSON Lines) and the secret-field rule."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from scim_processor.llm.records import RecordError, is_secret_field, parse_text, read_records


def test_csv_one_record_per_row_and_empty_cells_absent() -> None:
    records = parse_text("first_name,last_name,phone\nAda,Lovelace,\nAlan,Turing,+1 555\n", "csv", "hr.csv")
    assert [r.fields for r in records] == [{"first_name": "Ada", "last_name": "Lovelace"}, {"first_name": "Alan", "last_name": "Turing", "phone": "+1 555"}]
    assert records[1].source == "hr.csv:3"


def test_ldif_base64_continuation_multi_valued_and_comments() -> None:
    secret = base64.b64encode(b"S3cret!").decode()
    text = (
        "version: 1\n# a comment\ndn: uid=ada,dc=example\ncn: Ada\n  Lovelace\nmail: ada@example.org\nmail: ada@alt.example\n"
        f"userPassword:: {secret}\n\ndn: uid=alan,dc=example\ncn: Alan Turing\n"
    )
    first, second = parse_text(text, "ldif", "people.ldif")
    assert first.fields["cn"] == "Ada Lovelace"  # RFC 2849 continuation: one leading space removed
    assert first.fields["mail"] == ["ada@example.org", "ada@alt.example"]
    assert first.fields["userPassword"] == "S3cret!"
    assert second.fields == {"dn": "uid=alan,dc=example", "cn": "Alan Turing"}
    assert "userPassword" not in first.visible() and first.secret_values() == ["S3cret!"]


def test_json_array_and_jsonl_lines(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"a": 1}, {"b": null, "c": "x"}]')
    (tmp_path / "b.jsonl").write_text('{"d": true}\n\n{"e": "y"}\n')
    records = read_records([tmp_path])
    assert [r.fields for r in records] == [{"a": 1}, {"c": "x"}, {"d": True}, {"e": "y"}]
    assert [r.source.rsplit("/", 1)[-1] for r in records] == ["a.json:#1", "a.json:#2", "b.jsonl:1", "b.jsonl:3"]


@pytest.mark.parametrize(
    ("text", "fmt", "where"),
    [("{", "json", "x:"), ('{"a": 1}\nnope\n', "jsonl", "x:2"), ("cn Ada\n", "ldif", "x:1"), ("[1]", "json", "x:#1")],
)
def test_malformed_records_are_clear_errors(text: str, fmt: str, where: str) -> None:
    with pytest.raises(RecordError, match=where):
        parse_text(text, fmt, "x")


def test_unknown_suffix_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "people.xlsx").write_text("")
    with pytest.raises(RecordError, match="unknown record format"):
        read_records([tmp_path / "people.xlsx"])


@pytest.mark.parametrize("name", ["password", "userPassword", "pwd", "password_hash", "hashedPassword", "ssn", "SSN", "salary", "annual_salary", "api_token", "dob", "userSSN", "date_of_birth", "pin", "API-Key"])
def test_secret_fields(name: str) -> None:
    assert is_secret_field(name)


@pytest.mark.parametrize("name", ["mail", "displayName", "first_name", "telephoneNumber", "department", "employee_id", "title", "status", "className", "businessName", "display", "spinner", "company"])
def test_ordinary_fields(name: str) -> None:
    assert not is_secret_field(name)


EML = b"""From: Ana Lima <ana.lima@example.fr>
To: it-support@example.fr
Subject: =?utf-8?q?Nouvelle_arriv=C3=A9e?=
Date: Mon, 3 Mar 2025 09:00:00 +0100
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Bonjour, merci de cr&eacute;er le compte de <b>Jos\xc3\xa9 Silva</b>, service Finance.</p>
"""


def test_text_records_one_per_file(tmp_path: Path) -> None:
    (tmp_path / "hire.eml").write_bytes(EML)
    (tmp_path / "card.vcf").write_text("BEGIN:VCARD\nVERSION:4.0\nFN:Ana Lima\nTEL;TYPE=work:+33 1 42 68 53 00\nEND:VCARD\n")
    (tmp_path / "extract.xml").write_text("<person><uid>alima</uid><ssn>078-05-1120</ssn></person>")
    (tmp_path / "note.txt").write_text("New starter: Ana Lima\nSSN: 078-05-1120\n")
    vcf, xml, eml, note = read_records([tmp_path])  # sorted by file name
    assert [r.format for r in (eml, note, vcf, xml)] == ["email", "text", "vcard", "xml"]
    assert eml.is_text and eml.fields == {"text": "From: Ana Lima <ana.lima@example.fr>\nTo: it-support@example.fr\nSubject: Nouvelle arrivée\n"
                                          "Date: Mon, 03 Mar 2025 09:00:00 +0100\n\nBonjour, merci de créer le compte de José Silva , service Finance."}
    assert "FN:Ana Lima" in vcf.fields["text"]
    assert xml.fields == {"text": "<person><uid>alima</uid><ssn>[redacted]</ssn></person>", "ssn": "078-05-1120"}
    assert note.fields == {"text": "New starter: Ana Lima\nSSN: [redacted]", "SSN": "078-05-1120"}  # a secret line leaves the text
    assert note.visible() == {"text": "New starter: Ana Lima\nSSN: [redacted]"} and note.secret_values() == ["078-05-1120"]


def test_text_record_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 2048)
    [record] = read_records([tmp_path / "big.txt"], max_text_bytes=1024)
    assert (record.oversize, record.fields) == (2048, {})
    assert parse_text("y" * 10, "xml", "s.xml", max_text_bytes=5)[0].oversize == 10
