"""Retrieval for ``map``: the resource type's schemas narrowed to the attributes relevant to one record.

How a record is matched against the schema graph (``cypher/llm_match_attributes.cypher``):

1. Terms from the record's *field names*: the lower-cased name, its words (split at camelCase,
   ``_``, ``-``, ``.``, spaces), the words as a phrase (``first name``), and the synonyms of a
   small vocabulary of HR and LDAP (RFC 4519) field names (``sn`` → ``family``, ``mail`` →
   ``email``, ``telephoneNumber`` → ``phone``...). Terms from the *values*: ``email`` for a
   value that looks like an address, ``phone`` for one that looks like a phone number, and
   every short one-word value (matched against canonical values only: ``work``, ``mobile``).
2. One Cypher query scores every attribute and sub-attribute of the resource type's core schema
   and extensions: name equal (4), name prefix (3), phrase in the description or value equal to
   a canonical value (2), word in the description (1). Score ≥ 2 selects an attribute.
3. The context keeps the selected attributes (a generic sub-attribute such as ``type`` or
   ``formatted`` does not select its parent), the required ones, and of a selected complex
   attribute its selected sub-attributes plus ``value`` and ``type`` (multi-valued), or all its
   sub-attributes when none was selected (single-valued). readOnly attributes and writeOnly /
   never-returned ones (``password``) are never offered.

A free-text record (``.txt``, ``.eml``, ``.vcf``, ``.xml``) has no field names: each word of
its text stands in for one (``Title: Engineer`` → ``title``; ``TEL;TYPE=work:...`` → ``tel``,
``work``), so the words that name attributes select them; so do :data:`TEXT_TERMS`, what a
new-starter e-mail or a signature usually holds without naming it.

The narrowed :class:`GroundingContext` renders with the core's ``render_prompt``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .. import resources
from ..errors import UsageError
from .core import (
    AttributeDefinition,
    GroundingContext,
    Mutability,
    Returned,
    SchemaDefinition,
    ScimProcessor,
    contexts,
    read,
)
from .records import Record, leaves

SELECT_SCORE = 2
_STOPWORDS = frozenset({"the", "of", "and", "or", "a", "an", "to", "in", "is", "id", "no", "nr", "num", "value", "code"})
# Field names of HR exports and LDAP (RFC 4519, inetOrgPerson RFC 2798) → schema words.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "mail": ("email",), "email": ("email",), "e": ("email",),
    "sn": ("family", "familyname"), "surname": ("family", "familyname"), "last": ("family", "familyname"),
    "lastname": ("familyname",), "first": ("given", "givenname"), "firstname": ("givenname",), "forename": ("givenname",),
    "middle": ("middlename",), "cn": ("formatted", "displayname"), "fullname": ("formatted", "displayname"),
    "display": ("displayname",), "uid": ("username",), "login": ("username",), "samaccountname": ("username",),
    "userprincipalname": ("username",), "upn": ("username",), "account": ("username",),
    "telephonenumber": ("phone",), "telephone": ("phone",), "tel": ("phone",), "mobile": ("phone", "mobile"),
    "cell": ("phone", "mobile"), "fax": ("phone", "fax"), "pager": ("phone", "pager"),
    "jobtitle": ("title",), "position": ("title",), "ou": ("department",), "dept": ("department",),
    "supervisor": ("manager",), "boss": ("manager",), "reportsto": ("manager",),
    "employeeid": ("employeenumber",), "empid": ("employeenumber",), "staffid": ("employeenumber",),
    "personnelnumber": ("employeenumber",), "company": ("organization",), "o": ("organization",),
    "org": ("organization",), "orgunit": ("department",), "organizationalunit": ("department",),
    "street": ("addresses", "streetaddress"), "city": ("addresses", "locality"),
    "l": ("addresses", "locality"), "st": ("addresses", "region"), "state": ("addresses", "region"),
    "zip": ("addresses", "postalcode"), "postcode": ("addresses", "postalcode"),
    "postalcode": ("addresses", "postalcode"), "country": ("addresses", "country"), "c": ("addresses", "country"),
    "status": ("active",), "enabled": ("active",), "lang": ("preferredlanguage", "locale"),
    "language": ("preferredlanguage",), "tz": ("timezone",), "nick": ("nickname",), "photo": ("photos",),
    "website": ("profileurl",), "homepage": ("profileurl",), "employeetype": ("usertype",),
    "costcentre": ("costcenter",), "members": ("members",), "member": ("members",), "group": ("displayname",),
    "groupname": ("displayname",),
}  # fmt: skip
TEXT_TERMS = ("name", "displayname", "title", "email", "phone", "department", "organization")
_GENERIC_SUBS = frozenset({"type", "value", "primary", "display", "$ref", "formatted"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")


def words(name: str) -> list[str]:
    """The lower-cased words of a field name: ``employee_ID`` → ``["employee", "id"]``, ``givenName`` → ``["given", "name"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def record_terms(fields: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``(terms, values)`` for the retrieval query (see the module docstring), sorted and deduplicated."""
    terms: set[str] = set()
    values: set[str] = set()
    for name, value in _flatten(fields):
        parts = words(name)
        squashed = "".join(parts)
        terms.add(squashed)
        terms.update(w for w in parts if w not in _STOPWORDS and len(w) > 1)
        if len(parts) > 1:
            terms.add(" ".join(parts))
        for key in (squashed, *parts):
            terms.update(VOCABULARY.get(key, ()))
        for leaf in (item.strip() for item in leaves(value) if isinstance(item, str)):
            if _EMAIL.match(leaf):
                terms.add("email")
            elif _PHONE.match(leaf) and sum(c.isdigit() for c in leaf) >= 7:
                terms.add("phone")
            elif re.fullmatch(r"[A-Za-z-]{2,20}", leaf):
                values.add(leaf.lower())
    terms.discard("")
    return sorted(terms), sorted(values)


def _flatten(fields: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """``(name, value)`` of every field, nested objects' fields too (``contact.email`` → ``contact email``)."""
    for name, value in fields.items():
        yield f"{prefix}{name}", value
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{name} ")
            # the nested name on its own too: {"name": {"first": ...}} matches "first" → givenName
            yield from _flatten(value)


def offered(attribute: AttributeDefinition) -> bool:
    """True if a model may emit the attribute: not readOnly, not writeOnly, not never-returned (RFC 7643 §7)."""
    return attribute.mutability not in (Mutability.READ_ONLY, Mutability.WRITE_ONLY) and attribute.returned != Returned.NEVER


@dataclass(frozen=True)
class NarrowedContext:
    """The retrieval result for one record.

    Attributes:
        context: the grounding context holding only the selected attributes.
        full: the resource type's whole context (what the SCIM gate checks against).
        selected: ``schema URN:path`` of every matched attribute with its score.
    """

    context: GroundingContext
    full: GroundingContext
    selected: dict[str, int]

    def render(self) -> str:
        """The prompt text of the narrowed context."""
        return self.context.render_prompt()


class SchemaRetriever:
    """Narrows a resource type's grounding context to a record, with Cypher over the schema graph.

    Args:
        processor: an open processor (its graph holds the schema graph; loaded if empty).
    """

    def __init__(self, processor: ScimProcessor):
        self.processor = processor
        self._contexts = {context.resource_type.name: context for context in contexts(processor)}

    @property
    def resource_types(self) -> list[str]:
        """The names of the loaded resource types."""
        return list(self._contexts)

    def full_context(self, resource_type: str) -> GroundingContext:
        """The whole grounding context of ``resource_type``.

        Raises:
            UsageError: no such resource type is loaded.
        """
        by_name = {name.lower(): context for name, context in self._contexts.items()}
        try:
            return by_name[resource_type.lower()]  # resource type names are matched case-insensitively
        except KeyError:
            raise UsageError(f"unknown resource type {resource_type!r} (loaded: {', '.join(self._contexts)})") from None

    def whole_schema_prompt(self) -> str:
        """Every loaded schema rendered (every resource type's whole context): the un-narrowed baseline."""
        return "\n\n".join(context.render_prompt() for context in self._contexts.values())

    def narrow(self, record: Record, resource_type: str) -> NarrowedContext:
        """The context of ``resource_type`` narrowed to ``record`` (secret fields are not looked at)."""
        full = self.full_context(resource_type)
        visible = record.visible()
        if record.is_text:  # no field names: the text's words stand in for them
            visible = {word: word for word in re.findall(r"[^\W\d_]{2,}|\S+@\S+", str(visible.get("text", "")))}
        terms, values = record_terms(visible)
        if record.is_text:  # what free text about a person usually says, named or not
            terms = sorted({*terms, *TEXT_TERMS})
        schema_ids = [full.core.id, *(ext.id for ext in full.extensions)]
        rows = read(self.processor, _query(), {"terms": terms, "values": values, "schemaIds": schema_ids})
        selected: dict[str, int] = {}
        for row in rows:
            key = f"{row['schema']}:{row['path']}"
            selected[key] = max(selected.get(key, 0), int(row["score"]))
        chosen = {key for key, score in selected.items() if score >= SELECT_SCORE}
        core = _narrow_schema(full.core, chosen)
        extensions = tuple(ext for ext in (_narrow_schema(e, chosen) for e in full.extensions) if ext.attributes)
        narrowed = full.model_copy(update={"core": core, "extensions": extensions, "declared": tuple(e.id for e in extensions)})
        return NarrowedContext(narrowed, full, selected)


@cache
def _query() -> str:
    return resources.cypher("llm_match_attributes")


def _narrow_schema(schema: SchemaDefinition, chosen: set[str]) -> SchemaDefinition:
    kept: list[AttributeDefinition] = []
    for attribute in schema.attributes:
        if not offered(attribute):
            continue
        subs = [s for s in attribute.sub_attributes if offered(s)]
        chosen_subs = [s for s in subs if f"{schema.id}:{attribute.name}.{s.name}" in chosen or s.required]
        # A generic sub-attribute (type, value, primary, display, $ref) does not select its parent.
        telling = [s for s in chosen_subs if s.name not in _GENERIC_SUBS]
        if not (f"{schema.id}:{attribute.name}" in chosen or attribute.required or telling):
            continue
        if subs:
            if not chosen_subs and not attribute.multi_valued:
                chosen_subs = subs
            if attribute.multi_valued:
                chosen_subs += [s for s in subs if s.name in ("value", "type") and s not in chosen_subs]
            kept.append(attribute.model_copy(update={"sub_attributes": tuple(s for s in subs if s in chosen_subs)}))
        else:
            kept.append(attribute)
    return schema.model_copy(update={"attributes": tuple(kept)})
