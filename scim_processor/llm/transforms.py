"""The closed library of named transforms a mapping may apply to source values (issue 16 §1).

A transform turns the values of one mapping entry's source fields into one SCIM value. Each has a
name, an output type (``string``, ``boolean`` or ``dateTime``, RFC 7643 §2.3) that the mapping
checker compares with the target attribute's type, the arguments it accepts, and a function.
A value the transform cannot convert raises :class:`TransformError` (the caller drops an optional
value and rejects the record when the target is required). Library by transform:

=================  ===========  ==================================================================
name               output       what it does (args)
=================  ===========  ==================================================================
``copy``           string       the value, surrounding whitespace removed and inner runs collapsed
``lower``          string       ``copy`` then lower case
``upper``          string       ``copy`` then upper case
``title``          string       ``copy`` then title case (``o'neil`` → ``O'Neil``)
``name_part``      string       one part of a full name (``part``: given|middle|family|prefix|suffix;
                                ``nameparser``); a CJK name (Han, kana, Hangul) is family name
                                first: split at the first space, or with no space the first
                                character (two for a compound surname such as 欧阳) is the family
                                name: 张伟 → family 张, given 伟
``regex``          string       the one capture group of ``pattern`` (Python ``re.search``)
``date``           dateTime     RFC 3339 / xsd:dateTime in UTC, ``YYYY-MM-DDTHH:MM:SSZ``
                                (``python-dateutil``; ``dayfirst``: 03/04 is 3 April); a value
                                without a time zone is taken as UTC
``phone_e164``     string       E.164 (``phonenumbers``; ``region``: ISO 3166 alpha-2 for numbers
                                written without a country code, default none)
``country_alpha2`` string       ISO 3166-1 alpha-2 from a name, alpha-2, alpha-3 or numeric code
                                (``pycountry``)
``language_tag``   string       a BCP 47 tag (``langcodes``): a tag normalised (``en_us`` →
                                ``en-US``), or a language name looked up (``German`` → ``de``)
``boolean``        boolean      ``true``/``false``: lists of words (case-insensitive); defaults
                                :data:`TRUE_WORDS` / :data:`FALSE_WORDS`
``dn_value``       string       the value of one RDN of an LDAP DN (RFC 4514; ``attribute``:
                                the RDN's type, default the first RDN): ``uid`` of
                                ``uid=ada,ou=people,dc=example,dc=net`` → ``ada``
``join``           string       every source's value (absent ones skipped) joined by
                                ``separator`` (default one space)
=================  ===========  ==================================================================

A source value that is a list (an LDIF attribute given twice, a JSON array of strings) gives its
first item to every transform but ``join``, which joins all of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import langcodes
import phonenumbers
import pycountry
from dateutil import parser as date_parser
from nameparser import HumanName

TRUE_WORDS = ("true", "yes", "y", "1", "on", "active", "enabled", "provisioned", "staged", "recovery",
              "password_expired", "locked_out")  # fmt: skip
"""The default ``boolean`` true words: yes/true/1, Active, Enabled, and Okta's ACTIVE, STAGED,
PROVISIONED, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT (an Okta user in those states exists)."""
FALSE_WORDS = ("false", "no", "n", "0", "off", "inactive", "disabled", "terminated", "deprovisioned", "suspended",
               "deactivated", "left")  # fmt: skip
"""The default ``boolean`` false words: no/false/0, Inactive, Disabled, Terminated, Deactivated,
Left, and Okta's DEPROVISIONED and SUSPENDED."""
NAME_PARTS = ("given", "middle", "family", "prefix", "suffix")
_COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                                "夏侯", "令狐", "歐陽", "諸葛", "司馬"})  # fmt: skip
MAX_PATTERN = 200


class TransformError(ValueError):
    """A value the transform cannot convert, or bad arguments; the message says which."""


@dataclass(frozen=True)
class Transform:
    """One named transform.

    Attributes:
        name: its name in mapping files.
        output: ``string``, ``boolean`` or ``dateTime`` (RFC 7643 §2.3 type of what it returns).
        summary: one line for prompts and ``--help`` text.
        args: argument name → JSON Schema of its value (every argument is optional).
        function: ``(values, args) → value``; ``values`` holds one item per source field (None
            for an absent one).
        sources: ``"one"`` or ``"many"`` (only ``join`` takes several source fields).
    """

    name: str
    output: str
    summary: str
    function: Callable[[Sequence[Any], Mapping[str, Any]], Any]
    args: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    sources: str = "one"

    def check_args(self, args: Mapping[str, Any]) -> None:
        """Raises :class:`TransformError` naming an unknown argument or a bad value of a known one."""
        for name, value in args.items():
            if name not in self.args:
                known = ", ".join(self.args) or "none"
                raise TransformError(f"transform {self.name!r} has no argument {name!r} (arguments: {known})")
            kind = self.args[name]
            if kind.get("type") == "array" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise TransformError(f"transform {self.name!r}: {name} must be a list of strings")
            if kind.get("type") == "string" and not isinstance(value, str):
                raise TransformError(f"transform {self.name!r}: {name} must be a string")
            if kind.get("type") == "boolean" and not isinstance(value, bool):
                raise TransformError(f"transform {self.name!r}: {name} must be true or false")
            if "enum" in kind and value not in kind["enum"]:
                raise TransformError(f"transform {self.name!r}: {name} must be one of {', '.join(kind['enum'])}")
        if self.name == "regex":
            _pattern(args)

    def apply(self, values: Sequence[Any], args: Mapping[str, Any]) -> Any:
        """The transformed value, or None when every source is absent.

        Raises:
            TransformError: the value cannot be converted.
        """
        if self.sources == "one":
            value = _first(values[0] if values else None)
            return None if value is None else self.function([value], args)
        return self.function([v for v in values if v is not None], args) if any(v is not None for v in values) else None


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return next((v for v in value if v is not None and v != ""), None)
    return value


def _text(value: Any) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise TransformError("the value is empty")
    return text


def _is_cjk(text: str) -> bool:
    return any(unicodedata.name(c, "").startswith(("CJK UNIFIED", "HIRAGANA", "KATAKANA", "HANGUL")) for c in text)


def name_part(full: str, part: str) -> str:
    """One part of a full name (see the module docstring); raises :class:`TransformError` if the name has no such part."""
    text = _text(full)
    if _is_cjk(text):
        family, _, given = text.partition(" ")
        if not given:
            size = 2 if text[:2] in _COMPOUND_SURNAMES and len(text) > 2 else 1
            family, given = text[:size], text[size:]
        parts = {"family": family, "given": given.strip()}
    else:
        human = HumanName(text)
        parts = {"given": human.first, "middle": human.middle, "family": human.last, "prefix": human.title, "suffix": human.suffix}
    value = parts.get(part, "")
    if not value:
        raise TransformError(f"{text!r} has no {part} name part")
    return value


def _pattern(args: Mapping[str, Any]) -> re.Pattern[str]:
    pattern = args.get("pattern")
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
        raise TransformError(f"transform 'regex' needs a 'pattern' of at most {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise TransformError(f"transform 'regex': {pattern!r} is not a regular expression: {error}") from None
    if compiled.groups != 1:
        raise TransformError(f"transform 'regex': {pattern!r} must have exactly one capture group")
    return compiled


def _regex(values: Sequence[Any], args: Mapping[str, Any]) -> str:
    match = _pattern(args).search(str(values[0]))
    if match is None or not match.group(1):
        raise TransformError(f"{str(values[0])[:60]!r} does not match {args['pattern']!r}")
    return match.group(1)


def to_date_time(value: str, dayfirst: bool = False) -> str:
    """``value`` as an RFC 3339 dateTime in UTC (``2024-03-01T00:00:00Z``); raises :class:`TransformError`."""
    try:
        parsed = date_parser.parse(_text(value), dayfirst=dayfirst)
    except (ValueError, OverflowError) as error:
        raise TransformError(f"{str(value)[:60]!r} is not a date: {error}") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return str(parsed.strftime("%Y-%m-%dT%H:%M:%SZ"))


def to_e164(value: str, region: str | None = None) -> str:
    """``value`` in E.164 (``+14155550141``); raises :class:`TransformError` for an impossible number."""
    try:
        number = phonenumbers.parse(_text(value), region)
    except phonenumbers.NumberParseException as error:
        raise TransformError(f"{str(value)[:40]!r} is not a phone number: {error}") from None
    if not phonenumbers.is_possible_number(number):
        raise TransformError(f"{str(value)[:40]!r} is not a possible phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def to_alpha2(value: str) -> str:
    """The ISO 3166-1 alpha-2 code of a country name or code (``pycountry``); raises :class:`TransformError`."""
    try:
        return str(pycountry.countries.lookup(_text(value)).alpha_2)
    except LookupError:
        raise TransformError(f"{str(value)[:40]!r} is not a country") from None


def to_language_tag(value: str) -> str:
    """A BCP 47 tag for a tag or a language name (``langcodes``); raises :class:`TransformError`."""
    text = _text(value)
    try:
        if langcodes.tag_is_valid(text.replace("_", "-")):
            return str(langcodes.standardize_tag(text))
        return str(langcodes.find(text).to_tag())
    except (LookupError, ValueError):
        raise TransformError(f"{text[:40]!r} is not a language") from None


def to_boolean(value: Any, true: Sequence[str] = TRUE_WORDS, false: Sequence[str] = FALSE_WORDS) -> bool:
    """True/False for a word of ``true``/``false`` (case-insensitive); raises :class:`TransformError` for another."""
    if isinstance(value, bool):
        return value
    word = _text(value).casefold()
    if word in {w.casefold() for w in true}:
        return True
    if word in {w.casefold() for w in false}:
        return False
    raise TransformError(f"{str(value)[:40]!r} is in neither the true nor the false list")


_HEX = re.compile(r"\\([0-9A-Fa-f]{2})")


def parse_dn(dn: str) -> list[list[tuple[str, str]]]:
    """The RDNs of an LDAP DN (RFC 4514), each a list of ``(type, value)`` (several for a ``+`` RDN), values unescaped.

    Raises:
        TransformError: an RDN without ``=``.
    """
    rdns: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    token, escaped = "", False
    for char in [*dn, ","]:
        if escaped:
            token += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",+":
            kind, sep, raw = token.partition("=")
            if not sep or not kind.strip():
                raise TransformError(f"{dn[:80]!r} is not a distinguished name (RFC 4514)")
            value = _HEX.sub(lambda m: chr(int(m.group(1), 16)), raw.strip())
            current.append((kind.strip(), re.sub(r"\\(.)", r"\1", value)))
            token = ""
            if char == ",":
                rdns.append(current)
                current = []
        else:
            token += char
    return rdns


def _dn_value(values: Sequence[Any], args: Mapping[str, Any]) -> str:
    rdns = parse_dn(_text(values[0]))
    wanted = args.get("attribute")
    for kind, value in (pair for rdn in rdns for pair in rdn):
        if wanted is None or kind.casefold() == str(wanted).casefold():
            return value
    raise TransformError(f"{str(values[0])[:80]!r} has no {wanted} RDN")


def _join(values: Sequence[Any], args: Mapping[str, Any]) -> str:
    items = [_text(v) for value in values for v in (value if isinstance(value, list) else [value]) if str(v).strip()]
    if not items:
        raise TransformError("every source is empty")
    return str(args.get("separator", " ")).join(items)


_STRING_LIST = {"type": "array", "items": {"type": "string"}}
TRANSFORMS: dict[str, Transform] = {t.name: t for t in (
    Transform("copy", "string", "the value, whitespace trimmed", lambda v, a: _text(v[0])),
    Transform("lower", "string", "the value in lower case", lambda v, a: _text(v[0]).lower()),
    Transform("upper", "string", "the value in upper case", lambda v, a: _text(v[0]).upper()),
    Transform("title", "string", "the value in title case", lambda v, a: _text(v[0]).title()),
    Transform("name_part", "string", "one part of a full name (args.part: given|middle|family|prefix|suffix)",
              lambda v, a: name_part(str(v[0]), str(a.get("part", "given"))),
              {"part": {"type": "string", "enum": list(NAME_PARTS)}}),
    Transform("regex", "string", "the one capture group of args.pattern", _regex, {"pattern": {"type": "string"}}),
    Transform("date", "dateTime", "a date as an RFC 3339 dateTime (args.dayfirst for 31/12/2024)",
              lambda v, a: to_date_time(str(v[0]), bool(a.get("dayfirst", False))), {"dayfirst": {"type": "boolean"}}),
    Transform("phone_e164", "string", "a phone number in E.164 (args.region: default ISO country)",
              lambda v, a: to_e164(str(v[0]), a.get("region")), {"region": {"type": "string"}}),
    Transform("country_alpha2", "string", "a country as ISO 3166-1 alpha-2", lambda v, a: to_alpha2(str(v[0]))),
    Transform("language_tag", "string", "a language as a BCP 47 tag", lambda v, a: to_language_tag(str(v[0]))),
    Transform("boolean", "boolean", "true/false from status words (args.true, args.false: word lists)",
              lambda v, a: to_boolean(v[0], a.get("true", TRUE_WORDS), a.get("false", FALSE_WORDS)),
              {"true": _STRING_LIST, "false": _STRING_LIST}),
    Transform("dn_value", "string", "one RDN's value of an LDAP DN (args.attribute, e.g. uid)", _dn_value,
              {"attribute": {"type": "string"}}),
    Transform("join", "string", "several sources joined (args.separator, default a space)", _join,
              {"separator": {"type": "string"}}, sources="many"),
)}  # fmt: skip
"""Every transform by name (the closed library)."""


def transform(name: str) -> Transform:
    """The transform called ``name``.

    Raises:
        TransformError: no such transform (the message lists the names).
    """
    try:
        return TRANSFORMS[name]
    except KeyError:
        raise TransformError(f"unknown transform {name!r} (one of {', '.join(TRANSFORMS)})") from None


def fits(output: str, target_type: str) -> bool:
    """True if a transform's output type can fill an attribute of RFC 7643 §2.3 type ``target_type``."""
    if target_type in ("string", "reference", "binary"):
        return output == "string"
    return output == target_type
