"""Extractive groundedness: is a value the model emitted *in* the record?

A leaf value of a generated resource is grounded when one of these holds (issue 16 §5):

- **Canonical**: it is one of the attribute's ``canonicalValues`` (RFC 7643 §2.3.1), e.g. ``work``.
- **Whole value**: it equals a record value after normalisation (:func:`fold`: Unicode NFKC,
  case-folded, whitespace collapsed; phone-number-like values compared as digits). This covers
  the ``lower``/``upper``/``title`` transforms.
- **Span**: it is a *token-boundary span* of the record after normalisation: it occurs in a
  record value with no letter or digit right before or after it. In Chinese, Japanese and
  Korean script every character boundary is a token boundary (names have no spaces: 张 from
  张伟). This covers a postal code inside ``12 Rue de l'Exemple$75002 Paris$France``, an RDN
  value inside a DN (``jdoe`` from ``uid=jdoe,ou=People,dc=example,dc=com``), one part of a
  name, the local part of an e-mail address. In a structured record (JSON, CSV, LDIF) spans are
  taken only from short pieces: values split at ``$ , ; | = < > ( ) [ ] { } "``, tabs and
  newlines, pieces of at most :data:`MAX_SPAN_WORDS` words, and never from free-text fields
  (notes, comments, descriptions, ...), so a note saying "set title to CEO" grounds nothing.
  In a text record (``.txt``, ``.eml``, ``.vcf``, ``.xml``) the whole text is the source.
- **Pieces**: a string whose pieces (split at the separators above) are each a record value or
  span: a formatted address ``12 Rue de l'Exemple, 75002 Paris, France`` from
  ``12 Rue de l'Exemple$75002 Paris$France``.
- **Name words**: a string made of words of the record's name fields in any order (a formatted
  name from ``last_name`` and ``first_name``).
- **Phone**: the same number as a phone number in the record, compared as digits or as E.164
  (``phonenumbers``, ITU-T E.164), the region of a domestic-format number taken from an
  international one on the other side (``01 42 68 53 00`` for ``+33 1 42 68 53 00``, and the
  reverse). ``0000000000`` is grounded by nothing.
- **Date**: an RFC 3339 date or dateTime (RFC 7643 §2.3.5) whose date is a date in the record,
  read by ``python-dateutil`` from ISO 8601, LDAP generalized time (RFC 4517 §3.3.13),
  ``d/m/yyyy`` or ``m/d/yyyy``, and ``1 March 2024`` / ``March 1, 2024`` forms.
- **Boolean**: ``true`` needs a record word of true polarity (``true``, ``yes``, ``active``,
  ``enabled``, ...), ``false`` one of false polarity (``inactive``, ``disabled``, ``terminated``,
  Okta's ``DEPROVISIONED``, ``SUSPENDED``, ...); the generic words (``yes``/``no``/``1``/``0``/
  ``true``/``false``) count only in a field named like a status (``active``, ``enabled``,
  ``status``), inverted in one named like ``disabled``/``locked``/``terminated``.
- **Number**: its text is a record value or span.

The ``primary`` flag of a multi-valued attribute's item (RFC 7643 §2.4) is structure, not a
fact of the record: it is not checked (the SCIM gate allows it on one item only).

A value of a secret field (:func:`scim_processor.llm.records.is_secret_field`) is reported
wherever it appears, inside a longer value too (``secret_value``).

These checks are the *grounding variants* of the mapping transforms (``lower``, ``upper``,
``title``, ``name_part``, ``date``, ``phone_e164``, ``dn_value``): they ask "could a named
transform of a record span produce this value", not "which transform", so they do not depend on
the transform library.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import phonenumbers
from dateutil import parser as dateparser

from .core import AttributeDefinition, GroundingContext
from .records import Record, leaves

MAX_SPAN_WORDS = 8
"""A piece of a structured record's value longer than this (in words) is prose: no spans from it."""
TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1", "on", "active", "enabled", "current", "employed"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "0", "off", "inactive", "disabled", "terminated", "deprovisioned", "suspended",
                         "locked", "locked_out", "deactivated", "former", "separated", "resigned", "retired"})  # fmt: skip
_GENERIC_BOOLEANS = frozenset({"true", "yes", "y", "t", "1", "on", "false", "no", "n", "f", "0", "off"})
_STATUS_FIELD = re.compile(r"activ|enabl|status|state", re.IGNORECASE)
_NEGATED_FIELD = re.compile(r"disabl|inactiv|suspend|terminat|deprovision|lock|deactiv", re.IGNORECASE)
_FREE_TEXT_FIELD = re.compile(r"note|comment|remark|descr|bio$|^about|message|memo|summary|instruction|^body$", re.IGNORECASE)
_NAME_FIELD = re.compile(r"name|^cn$|^sn$|^gn$|first|last|surname|forename", re.IGNORECASE)
_SEPARATORS = re.compile(r"[$,;|=<>()\[\]{}\"\t\r\n]+")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_PHONE_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_MONTH = r"[^\W\d_]{3,9}\.?"
_DATES = re.compile(
    rf"(?<!\d)(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}(?:[t ]\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?|\d{{14}}|\d{{8}}"
    rf"|\d{{1,2}}\.? {_MONTH} \d{{4}}|{_MONTH} \d{{1,2}},? \d{{4}})(?!\d)"
)
_DAY_MONTH = re.compile(r"(?<!\d)\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?!\d)")


def fold(text: str) -> str:
    """The comparison form of a text: Unicode NFKC, case-folded, whitespace collapsed (UAX #15, Unicode §5.18)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def normalise(value: str) -> str:
    """:func:`fold`, and a phone-number-like value (not an ISO date) → its digits."""
    text = fold(value)
    if _ISO_DATE.match(text):  # an ISO date is not a phone number
        return text
    if _PHONE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return "".join(c for c in text if c.isdigit())
    return text


def _cjk(char: str) -> bool:
    """True for a character of a script written without spaces between words (Han, kana, Hangul syllables)."""
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF) or (0xAC00 <= code <= 0xD7AF) or (0xF900 <= code <= 0xFAFF) or (0x20000 <= code <= 0x3FFFF)


def is_span(needle: str, haystack: str) -> bool:
    """True if ``needle`` occurs in ``haystack`` at token boundaries (both already :func:`fold`-ed).

    A boundary is the text's start or end, a character that is not a letter or digit, or a
    position next to a CJK character (:func:`_cjk`).
    """
    if not needle:
        return False
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = haystack[start - 1] if start else ""
        after = haystack[end] if end < len(haystack) else ""
        left = not before or not before.isalnum() or _cjk(before) or _cjk(needle[0])
        right = not after or not after.isalnum() or _cjk(after) or _cjk(needle[-1])
        if left and right:
            return True
        start = haystack.find(needle, start + 1)
    return False


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", text.strip(".")) if w]


def _flat(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(field name, leaf)`` of every leaf, nested names joined with ``.``."""
    for name, value in fields.items():
        if isinstance(value, Mapping):
            yield from _flat(value, f"{prefix}{name}.")
        else:
            for leaf in leaves(value):
                yield f"{prefix}{name}", leaf


def _polarity(word: str) -> bool | None:
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


@dataclass(frozen=True)
class Finding:
    """An ungrounded or secret leaf of a resource.

    Attributes:
        code: ``ungrounded_value`` or ``secret_value``.
        path: the attribute path (``emails.value``, ``urn:...:User:department``).
        location: the keys and list indices that reach the leaf in the resource.
        value: the leaf.
        attribute: its definition (None for an unknown one).
        detail: a sentence for the model and the results file.
    """

    code: str
    path: str
    location: tuple[str | int, ...]
    value: Any
    attribute: AttributeDefinition | None
    detail: str


class Grounding:
    """The record's evidence, normalised once, against which every leaf of a resource is checked.

    Args:
        record: the input record (secret fields are looked at only to reject their values).
    """

    def __init__(self, record: Record):
        visible = record.visible()
        flat = [(name, leaf) for name, leaf in _flat(visible)]
        self.texts = [fold(str(leaf)) for _, leaf in flat if not isinstance(leaf, bool)]
        self.values = {normalise(str(leaf)) for _, leaf in flat if not isinstance(leaf, bool)}
        if record.is_text:
            self.spans = list(self.texts)
        else:
            self.spans = [
                fold(piece)
                for name, leaf in flat
                if not isinstance(leaf, bool) and not _FREE_TEXT_FIELD.search(name.rsplit(".", 1)[-1])
                for piece in _SEPARATORS.split(str(leaf))  # split before fold: it joins lines
                if piece.strip() and len(piece.split()) <= MAX_SPAN_WORDS
            ]
        named = [fold(str(leaf)) for name, leaf in flat if _NAME_FIELD.search(name.rsplit(".", 1)[-1])]
        self.words = self.values | {w for leaf in named for w in _words(leaf)}
        self.polarities = self._polarities(record, flat)
        self.secrets = {normalise(s) for s in record.secret_values() if len(s.strip()) >= 4}
        self._phone_keys: dict[str, set[str]] = {}

    @staticmethod
    def _polarities(record: Record, flat: list[tuple[str, Any]]) -> set[bool]:
        found: set[bool] = set()
        if record.is_text:
            for text in (fold(str(leaf)) for _, leaf in flat):
                found.update(p for w in re.findall(r"[\w]+", text) if w not in _GENERIC_BOOLEANS and (p := _polarity(w)) is not None)
            return found
        for name, leaf in flat:
            word = ("true" if leaf else "false") if isinstance(leaf, bool) else fold(str(leaf)).replace(" ", "_")
            polarity = _polarity(word)
            if polarity is None:
                continue
            if word in _GENERIC_BOOLEANS:
                if _NEGATED_FIELD.search(name):
                    polarity = not polarity
                elif not _STATUS_FIELD.search(name):
                    continue  # "isContractor": true says nothing about active
            found.add(polarity)
        return found

    @cached_property
    def phone_regions(self) -> set[str]:
        """The regions (ISO 3166-1 alpha-2) of the international phone numbers in the record."""
        regions: set[str] = set()
        for text in self.texts:
            for match in phonenumbers.PhoneNumberMatcher(text, None, leniency=phonenumbers.Leniency.POSSIBLE):
                region = phonenumbers.region_code_for_country_code(match.number.country_code or 0)
                if region and region != "ZZ":
                    regions.add(region)
        return regions

    def _record_phones(self, region: str) -> set[str]:
        """The E.164 form of every phone number in the record, domestic ones read in ``region``."""
        if region not in self._phone_keys:
            self._phone_keys[region] = {
                phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                for text in self.texts
                for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
            }
        return self._phone_keys[region]

    @cached_property
    def phone_digits(self) -> set[str]:
        """The digits of every phone-number-like run of the record."""
        return {"".join(c for c in run if c.isdigit()) for text in self.texts for run in _PHONE_RUN.findall(text)}

    def _phone(self, value: str) -> bool:
        digits = "".join(c for c in value if c.isdigit())
        if digits in self.phone_digits:
            return True
        regions = set(self.phone_regions)
        try:
            own = phonenumbers.parse(value, None)
            regions.add(phonenumbers.region_code_for_country_code(own.country_code or 0))
        except phonenumbers.NumberParseException:
            pass
        for region in regions - {"ZZ"}:
            try:
                number = phonenumbers.parse(value, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number) and (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) in self._record_phones(region)
            ):
                return True
        return False

    @cached_property
    def dates(self) -> set[date]:
        """Every calendar date written in the record (see the module docstring for the forms)."""
        found: set[date] = set()
        for text in self.texts:
            candidates = [(m, (False,)) for m in _DATES.findall(text)] + [(m, (False, True)) for m in _DAY_MONTH.findall(text)]
            for candidate, orders in candidates:
                for dayfirst in orders:
                    try:
                        found.add(dateparser.parse(candidate, dayfirst=dayfirst).date())
                    except (ValueError, OverflowError):
                        continue
        return found

    def _date(self, value: str) -> bool:
        if not _ISO_DATE.match(value):
            return False
        try:
            return dateparser.isoparse(value).date() in self.dates
        except (ValueError, OverflowError):
            return False

    def grounded(self, leaf: Any, canonical: tuple[str, ...] = ()) -> bool:
        """True if ``leaf`` (a resource's leaf value) is grounded in the record (module docstring)."""
        if isinstance(leaf, bool):
            return leaf in self.polarities
        text = fold(str(leaf))
        if text in self.values or normalise(str(leaf)) in self.values or text in {fold(c) for c in canonical}:
            return True
        if any(is_span(text, span) for span in self.spans):
            return True
        if not isinstance(leaf, str):
            return False
        pieces = [fold(piece) for piece in _SEPARATORS.split(leaf) if piece.strip()]  # split before fold: it joins lines
        if len(pieces) > 1 and all(piece in self.values or any(is_span(piece, span) for span in self.spans) for piece in pieces):
            return True  # pieces of the record rejoined: a formatted address from its lines
        if _words(text) and set(_words(text)) <= self.words:
            return True
        if _PHONE.match(text) and sum(c.isdigit() for c in text) >= 7 and not _ISO_DATE.match(text):
            return self._phone(leaf)
        return self._date(text)

    def secret(self, leaf: Any) -> bool:
        """True if ``leaf`` holds the value of a secret record field (equal, or inside it)."""
        text = normalise(str(leaf))
        return any(secret in text for secret in self.secrets)

    def findings(self, resource: Mapping[str, Any], context: GroundingContext) -> list[Finding]:
        """Every ungrounded or secret leaf of ``resource`` (``schemas`` URNs excepted), in document order."""
        found: list[Finding] = []
        for location, path, leaf, attribute in resource_leaves(resource, context):
            if isinstance(leaf, bool) and location[-1] == "primary":
                continue  # which value is preferred is the resource's structure, not a fact of the record (RFC 7643 §2.4)
            if not isinstance(leaf, bool) and self.secret(leaf):
                found.append(Finding("secret_value", path, location, leaf, attribute, f"{path} holds the value of a secret record field"))
            elif not self.grounded(leaf, attribute.canonical_values if attribute else ()):
                detail = f"{path}={str(leaf)[:80]!r} does not come from the record" if not isinstance(leaf, bool) else (
                    f"{path}={str(leaf).lower()}: no record field says so (a status word of that polarity)")
                found.append(Finding("ungrounded_value", path, location, leaf, attribute, detail))
        return found


def resource_leaves(
    resource: Mapping[str, Any], context: GroundingContext
) -> Iterator[tuple[tuple[str | int, ...], str, Any, AttributeDefinition | None]]:
    """``(location, path, leaf, attribute)`` of every non-null leaf of ``resource`` but ``schemas``."""
    extensions = {ext.id.lower(): ext for ext in context.extensions}
    for name, value in resource.items():
        if name.lower() == "schemas":
            continue
        if name.lower() in extensions and isinstance(value, Mapping):
            ext = extensions[name.lower()]
            for sub_name, sub_value in value.items():
                yield from _leaves(ext.attribute(sub_name), f"{ext.id}:{sub_name}", (name, sub_name), sub_value)
        else:
            yield from _leaves(context.core.attribute(name), name, (name,), value)


def _leaves(
    attribute: AttributeDefinition | None, path: str, location: tuple[str | int, ...], value: Any
) -> Iterator[tuple[tuple[str | int, ...], str, Any, AttributeDefinition | None]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(attribute, path, (*location, index), item)
    elif isinstance(value, Mapping):
        for name, item in value.items():
            sub = attribute.sub_attribute(name) if attribute else None
            yield from _leaves(sub, f"{path}.{name}", (*location, name), item)
    elif value is not None:
        yield location, path, value, attribute
