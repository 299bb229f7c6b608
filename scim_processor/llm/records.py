"""Identity records that are not SCIM: JSON, JSON Lines, CSV, LDIF and text, one record → one resource.

A :class:`Record` is a flat-or-nested mapping of field names to values, with the ``source`` it
came from (``file:line`` or ``file:#n``). Readers:

- ``.json``: one object, or an array of objects;
- ``.jsonl`` / ``.ndjson``: one object per line (blank lines skipped);
- ``.csv``: one record per row, the header row gives the field names (Python's ``csv`` module,
  RFC 4180 quoting); empty cells are absent fields;
- ``.ldif``: LDIF content records (RFC 2849): entries separated by blank lines, ``name: value``,
  ``name:: base64``, continuation lines starting with one space, ``#`` comments; a name given
  twice is a list. The ``version:`` line is skipped;
- text records, one per file, with no reusable shape: ``.txt`` (free text: a new-starter e-mail
  pasted as text, a signature), ``.eml`` (RFC 5322 message read with the stdlib ``email``
  package: its From, Sender, Reply-To, To, Cc, Subject, Date and Organization headers, a blank
  line, then the plain-text body, or the HTML body's text), ``.vcf`` (vCard, RFC 6350) and
  ``.xml``, both as their text. A text record is ``{"text": ...}``; a ``name: value`` or
  ``name=value`` line whose name is a secret field (``Password: ...``) is taken out of the text
  into a secret field of that name. A text record over ``max_text_bytes`` is kept unread
  (:attr:`Record.oversize`); ``map`` rejects it with 413 (RFC 7644 §3.12) without a model call.

Fields that hold secrets (passwords, hashes, SSNs, salaries, ...; :func:`is_secret_field`) are
kept on the record but never shown to the model (:meth:`Record.visible`) and their values are
rejected if a model emits them (see :mod:`scim_processor.llm.gates`).
"""

from __future__ import annotations

import base64
import binascii
import csv
import email
import email.policy
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from .core import ScimProcessorError

TEXT_FORMATS = ("text", "email", "vcard", "xml")
"""Formats read as one free-text record per file (no field names to map: extractive grounding)."""
FORMATS = ("json", "jsonl", "csv", "ldif", *TEXT_FORMATS)
MAX_TEXT_BYTES = 1_048_576
"""Default size limit of one text record, in bytes (``map`` passes ``process``'s ``max_payload_bytes``)."""
SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".ldif": "ldif",
            ".txt": "text", ".eml": "email", ".vcf": "vcard", ".xml": "xml"}  # fmt: skip
"""File suffix → record format: the one list of the record files ``map`` reads."""
_EMAIL_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Organization")
_XML_ELEMENT = re.compile(r"(?P<open><(?P<name>[A-Za-z_][\w.-]*)(?:\s[^<>]*)?>)(?P<value>[^<>]+)</(?P=name)>")
_KEY_VALUE = re.compile(r"^(?P<lead>\s*(?P<name>[A-Za-z][\w .-]{0,40}?)\s*[:=]\s*)(?P<value>\S.*?)\s*$")
# A field is secret if one of its words (split at camelCase, _, -, ., spaces) is a short secret
# word, or its name without separators contains a long one ("userPassword", "annual_salary").
_SECRET_WORDS = frozenset({"ssn", "pwd", "pw", "pin", "dob", "iban", "salt", "hash", "hashed", "token", "pay", "wage",
                           "wages", "bonus", "bank", "cvv", "otp", "totp"})  # fmt: skip
_SECRET_PARTS = ("password", "passwd", "passphrase", "secret", "salary", "compensation", "socialsecurity", "nationalid",
                 "taxid", "creditcard", "cardnumber", "birth", "bankaccount", "payroll", "paygrade", "apikey")  # fmt: skip


class RecordError(ScimProcessorError):
    """A record file cannot be read or parsed; the message names the file and line."""


def is_secret_field(name: str) -> bool:
    """True if a field name denotes a secret or a value with no SCIM home that must never be emitted.

    A word of the name (split at camelCase, ``_``, ``-``, ``.``) is one of SSN, pwd, PIN, DOB,
    IBAN, salt, hash, token, pay, wage, bonus, bank, CVV, OTP; or the name without separators
    contains password, passwd, passphrase, secret, salary, compensation, social security,
    national id, tax id, credit card, card number, birth, bank account, payroll, pay grade, API key.
    """
    parts = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower()) if w]
    squashed = "".join(parts)
    return any(part in _SECRET_WORDS for part in parts) or any(secret in squashed for secret in _SECRET_PARTS)


@dataclass(frozen=True)
class Record:
    """One input record.

    Attributes:
        source: where it came from (``path:line`` for line formats, ``path:#n`` otherwise).
        fields: field name → value (str, number, bool, list or nested object, as read); a text
            record's is ``{"text": ...}`` plus its secret lines' fields.
        format: one of :data:`FORMATS`.
        oversize: for a text record over the size limit, its size in bytes (it was not read; the
            record is rejected with 413); 0 otherwise.
    """

    source: str
    fields: dict[str, Any]
    format: str = "json"
    oversize: int = 0

    @property
    def is_text(self) -> bool:
        """True for a free-text record (:data:`TEXT_FORMATS`)."""
        return self.format in TEXT_FORMATS

    def visible(self) -> dict[str, Any]:
        """The fields the model may see: every field except secret ones (:func:`is_secret_field`)."""
        return {name: value for name, value in self.fields.items() if not is_secret_field(name)}

    def secret_values(self) -> list[str]:
        """The string forms of the secret fields' leaf values (for the gate that rejects them)."""
        return [str(v) for name, value in self.fields.items() if is_secret_field(name) for v in leaves(value) if v != ""]


def leaves(value: Any) -> Iterator[Any]:
    """The scalar values inside ``value`` (nested objects and arrays walked), None left out."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    elif value is not None:
        yield value


def format_of(path: Path) -> str:
    """The record format of a file, from its suffix.

    Raises:
        RecordError: the suffix is not one of ``.json``, ``.jsonl``, ``.ndjson``, ``.csv``,
            ``.ldif``, ``.txt``, ``.eml``, ``.vcf``, ``.xml``.
    """
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise RecordError(f"{path}: unknown record format (use {', '.join(SUFFIXES)})") from None


def parse_text(text: str, fmt: str, source: str, max_text_bytes: int = MAX_TEXT_BYTES) -> list[Record]:
    """The records in ``text`` of format ``fmt`` (one of :data:`FORMATS`).

    Args:
        text: the file's content.
        fmt: its format.
        source: the file's name, for record sources and messages.
        max_text_bytes: size limit of a text record (UTF-8 bytes); above it the record is
            returned unread with :attr:`Record.oversize` set.

    Raises:
        RecordError: malformed content (the message names ``source`` and the line).
    """
    if fmt in TEXT_FORMATS:
        return [_text(text, fmt, source, max_text_bytes)]
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise RecordError(f"{source}: not JSON: {error}") from None
        items = data if isinstance(data, list) else [data]
        return [_record(item, f"{source}:#{n}", fmt) for n, item in enumerate(items, start=1)]
    if fmt == "jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(_record(json.loads(line), f"{source}:{number}", fmt))
                except json.JSONDecodeError as error:
                    raise RecordError(f"{source}:{number}: not JSON: {error}") from None
        return records
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        try:
            rows = list(reader)
        except csv.Error as error:
            raise RecordError(f"{source}: not CSV: {error}") from None
        return [
            Record(f"{source}:{n + 1}", {k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()}, fmt)
            for n, row in enumerate(rows, start=1)
        ]
    if fmt == "ldif":
        return list(_ldif(text, source))
    raise RecordError(f"{source}: unknown record format {fmt!r} (one of {', '.join(FORMATS)})")


def _text(text: str, fmt: str, source: str, max_text_bytes: int) -> Record:
    size = len(text.encode("utf-8"))
    if size > max_text_bytes:
        return Record(source, {}, fmt, oversize=size)
    if fmt == "email":
        text = email_text(email.message_from_string(text, policy=email.policy.default))
    return text_record(text, source, fmt)


def text_record(text: str, source: str, fmt: str = "text") -> Record:
    """One free-text record: ``{"text": text}``, with each secret ``name: value`` line's value moved to a secret field.

    A line such as ``Password: hunter2`` or ``SSN=078-05-1120`` whose name is a secret field
    (:func:`is_secret_field`) keeps its name in the text, its value becomes ``[redacted]`` there
    and is kept in the field ``name`` (never shown to the model, rejected if a model emits it);
    the same for an XML element with text only, ``<ssn>078-05-1120</ssn>``.
    """
    fields: dict[str, Any] = {}

    def element(match: re.Match[str]) -> str:
        if not is_secret_field(match["name"]):
            return match[0]
        fields[match["name"]] = match["value"]
        return f"{match['open']}[redacted]</{match['name']}>"

    text = _XML_ELEMENT.sub(element, text)
    lines = []
    for line in text.splitlines():
        match = _KEY_VALUE.match(line)
        if match and is_secret_field(match["name"]):
            fields[match["name"].strip()] = match["value"]
            line = match["lead"] + "[redacted]"
        lines.append(line)
    return Record(source, {"text": "\n".join(lines).strip(), **fields}, fmt)


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def email_text(message: EmailMessage) -> str:
    """An e-mail as text: its identity-bearing headers (RFC 5322 §3.6), a blank line, its body's text.

    The body is the ``text/plain`` part, else the text of the ``text/html`` part.
    """
    headers = [f"{name}: {value}" for name in _EMAIL_HEADERS for value in message.get_all(name, [])]
    part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if part is not None:
        try:
            body = str(part.get_content())
        except (LookupError, UnicodeError):  # an unknown or wrong charset: the bytes as UTF-8, replaced
            body = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")  # type: ignore[union-attr]
        if part.get_content_subtype() == "html":
            parser = _HtmlText()
            parser.feed(body)
            body = " ".join(" ".join(parser.parts).split())
    return "\n".join(headers) + "\n\n" + body.strip()


def _record(item: Any, source: str, fmt: str) -> Record:
    if not isinstance(item, dict):
        raise RecordError(f"{source}: a record must be a JSON object")
    return Record(source, {str(k): v for k, v in item.items() if v is not None and v != ""}, fmt)


def _ldif_value(name: str, value: str, where: str) -> str:
    """An LDIF value: ``name:: base64`` decoded (RFC 2849), else the text stripped."""
    if not value.startswith(":"):
        return value.strip()
    try:
        return base64.b64decode(value[1:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise RecordError(f"{where}: {name}:: is not base64 UTF-8") from None


def _ldif(text: str, source: str) -> Iterator[Record]:
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith(" ") and lines:  # RFC 2849 continuation line
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        else:
            lines.append((number, raw))
    entry: dict[str, Any] = {}
    start = 0
    for number, line in [*lines, (len(lines) + 1, "")]:
        if not line.strip():
            if entry:
                yield Record(f"{source}:{start}", entry, "ldif")
            entry = {}
            continue
        if line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise RecordError(f"{source}:{number}: not an LDIF 'name: value' line")
        name = name.strip()
        value = _ldif_value(name, value, f"{source}:{number}")
        if name.lower() == "version" and not entry:
            continue
        if not entry:
            start = number
        if name in entry:
            existing = entry[name]
            entry[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            entry[name] = value


def read_records(paths: Iterable[Path], max_text_bytes: int = MAX_TEXT_BYTES, names: Mapping[Path, str] | None = None) -> list[Record]:
    """Every record of the given files and directories (directories: their record files, sorted).

    Args:
        paths: files and directories.
        max_text_bytes: size limit of one text record in bytes; a larger text file is not read
            (its record has :attr:`Record.oversize` set: rejected with 413).
        names: how sources name a file other than by its path (``<stdin>`` for spooled standard input).

    Raises:
        RecordError: a path does not exist, has an unknown suffix, or holds malformed content.
    """
    records: list[Record] = []
    for path in paths:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES) if path.is_dir() else [path]
        for file in files:
            fmt = format_of(file)
            label = (names or {}).get(file, str(file))
            try:
                if fmt in TEXT_FORMATS and file.stat().st_size > max_text_bytes:
                    records.append(Record(label, {}, fmt, oversize=file.stat().st_size))
                elif fmt == "email":  # bytes: the message's own charsets decide
                    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
                    records.append(text_record(email_text(message), label, fmt))
                else:
                    records.extend(parse_text(file.read_text(encoding="utf-8-sig"), fmt, label, max_text_bytes))
            except (OSError, UnicodeDecodeError) as error:
                raise RecordError(f"{file}: cannot be read: {error}") from None
    return records
