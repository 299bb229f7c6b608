"""Identity records that are not SCIM: JSON, JSON Lines, CSV and LDIF, one record → one resource.

A :class:`Record` is a flat-or-nested mapping of field names to values, with the ``source`` it
came from (``file:line`` or ``file:#n``). Readers:

- ``.json``: one object, or an array of objects;
- ``.jsonl`` / ``.ndjson``: one object per line (blank lines skipped);
- ``.csv``: one record per row, the header row gives the field names (Python's ``csv`` module,
  RFC 4180 quoting); empty cells are absent fields;
- ``.ldif``: LDIF content records (RFC 2849): entries separated by blank lines, ``name: value``,
  ``name:: base64``, continuation lines starting with one space, ``#`` comments; a name given
  twice is a list. The ``version:`` line is skipped.

Fields that hold secrets (passwords, hashes, SSNs, salaries, ...; :func:`is_secret_field`) are
kept on the record but never shown to the model (:meth:`Record.visible`) and their values are
rejected if a model emits them (see :mod:`scim_processor.llm.gates`).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core import ScimProcessorError

FORMATS = ("json", "jsonl", "csv", "ldif")
_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".ldif": "ldif"}
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
        fields: field name → value (str, number, bool, list or nested object, as read).
        format: ``json``, ``jsonl``, ``csv`` or ``ldif``.
    """

    source: str
    fields: dict[str, Any]
    format: str = "json"

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
        RecordError: the suffix is not ``.json``, ``.jsonl``, ``.ndjson``, ``.csv`` or ``.ldif``.
    """
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise RecordError(f"{path}: unknown record format (use .json, .jsonl, .csv or .ldif)") from None


def parse_text(text: str, fmt: str, source: str) -> list[Record]:
    """The records in ``text`` of format ``fmt`` (one of :data:`FORMATS`).

    Raises:
        RecordError: malformed content (the message names ``source`` and the line).
    """
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


def read_records(paths: Iterable[Path]) -> list[Record]:
    """Every record of the given files and directories (directories: their record files, sorted).

    Raises:
        RecordError: a path does not exist, has an unknown suffix, or holds malformed content.
    """
    records: list[Record] = []
    for path in paths:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES) if path.is_dir() else [path]
        for file in files:
            fmt = format_of(file)
            try:
                text = file.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as error:
                raise RecordError(f"{file}: cannot be read: {error}") from None
            records.extend(parse_text(text, fmt, str(file)))
    return records
