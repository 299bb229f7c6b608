"""The gates every model output passes, in order: JSON parse → SCIM gate → groundedness.

1. **JSON parse** (``json_parse``): the output is one JSON object.
2. **SCIM gate**: every attribute name exists in the resource type's schemas
   (``unknown_attribute``; never cleaned, RFC 7644 §3.12 invalidSyntax), none is readOnly
   (``read_only_attribute``: ``id``, ``meta``, ``groups``; RFC 7644 §3.3 says a server ignores
   them, a model that emits them is wrong) or writeOnly / never returned (``secret_attribute``:
   ``password``, RFC 7643 §7); then the same validation as ``process`` (``scim_<scimType>``, e.g.
   ``scim_invalidValue``), which also builds the Cypher and passes it through the guard.
3. **Groundedness** (``ungrounded_value``): every leaf string must come from the record (equal
   after normalisation: case-folded, whitespace collapsed, phone numbers compared as digits, or
   made of the record's words in any order, e.g. a formatted name from first and last name; a
   dateTime whose date is a record value's) or
   be one of the attribute's canonical values (words recombine only from name fields, so an
   instruction inside a note grounds nothing); a number must be a record value; a boolean
   needs a record field with a boolean value (``true``/``false``/``yes``/``no``/``active``/...).
   A value of a secret field (:func:`scim_processor.llm.records.is_secret_field`) is rejected
   wherever it appears (``secret_value``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .core import (
    AttributeDefinition,
    GroundingContext,
    PayloadResult,
    SchemaDefinition,
    ScimProcessor,
    dry_run,
)
from .json_schema import prune
from .records import Record, leaves
from .retrieval import offered

COMMON_ATTRIBUTES = {"externalid": "externalId"}  # RFC 7643 §3.1 (id and meta are readOnly)
READ_ONLY_COMMON = ("id", "meta")
_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "y", "n", "t", "f", "1", "0", "active", "inactive",
                            "enabled", "disabled", "on", "off"})  # fmt: skip
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}t")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NAME_FIELD = re.compile(r"name|^cn$|^sn$|^gn$|first|last|surname|forename", re.IGNORECASE)


@dataclass(frozen=True)
class GateError:
    """One gate failure: a stable ``code``, the attribute ``path`` (RFC 7644 §3.10 style) and a ``detail``."""

    code: str
    path: str
    detail: str

    def to_json(self) -> dict[str, str]:
        """``{"code", "path", "detail"}``."""
        return {"code": self.code, "path": self.path, "detail": self.detail}


@dataclass
class GateOutcome:
    """What the gates made of one output: the pruned resource, the errors, and the SCIM gate's result."""

    resource: dict[str, Any] | None
    errors: list[GateError] = field(default_factory=list)
    result: PayloadResult | None = None

    @property
    def passed(self) -> bool:
        """True if every gate passed."""
        return not self.errors and self.result is not None and self.result.accepted


def parse(output: Any) -> tuple[dict[str, Any] | None, list[GateError]]:
    """Gate 1: ``output`` (a dict already parsed, or JSON text) → the object, or a ``json_parse`` error."""
    if isinstance(output, str):
        try:
            output = json.loads(output)
        except json.JSONDecodeError as error:
            return None, [GateError("json_parse", "", f"the output is not JSON: {error}")]
    if not isinstance(output, dict):
        return None, [GateError("json_parse", "", "the output must be one JSON object (a SCIM resource)")]
    return output, []


def schema_names(resource: Mapping[str, Any], context: GroundingContext) -> list[GateError]:
    """Gate 2a: unknown, readOnly and secret attribute names, checked against the whole ``context``."""
    errors: list[GateError] = []
    extensions = {ext.id.lower(): ext for ext in context.extensions}
    for name, value in resource.items():
        lowered = name.lower()
        if lowered == "schemas" or lowered in COMMON_ATTRIBUTES:
            continue
        if lowered in READ_ONLY_COMMON:
            errors.append(GateError("read_only_attribute", name, f"{name} is readOnly (RFC 7643 §3.1); leave it out"))
        elif lowered in extensions:
            if isinstance(value, Mapping):
                errors.extend(_names(value, extensions[lowered], f"{extensions[lowered].id}:"))
        else:
            errors.extend(_names({name: value}, context.core, ""))
    return errors


def _names(values: Mapping[str, Any], schema: SchemaDefinition, prefix: str) -> Iterator[GateError]:
    for name, value in values.items():
        attribute = schema.attribute(name)
        yield from _check_attribute(attribute, name, value, f"{prefix}{name}", schema.id)


def _check_attribute(attribute: AttributeDefinition | None, name: str, value: Any, path: str, owner: str) -> Iterator[GateError]:
    if attribute is None:
        yield GateError("unknown_attribute", path, f"{name!r} is not an attribute of {owner}; SCIM has no place for it")
        return
    if not offered(attribute):
        code = "read_only_attribute" if attribute.mutability.value == "readOnly" else "secret_attribute"
        yield GateError(code, path, f"{attribute.name} is {attribute.mutability.value} (RFC 7643 §7); never emit it")
        return
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, Mapping) and attribute.sub_attributes:
            for sub_name, sub_value in item.items():
                yield from _check_attribute(attribute.sub_attribute(sub_name), sub_name, sub_value, f"{path}.{sub_name}", path)


def scim_gate(
    processor: ScimProcessor, resource: dict[str, Any], context: GroundingContext, source: str
) -> tuple[list[GateError], PayloadResult | None]:
    """Gate 2: attribute names (:func:`schema_names`), then ``process``'s SCIM validation, Cypher generation and guard."""
    errors = schema_names(resource, context)
    if errors:
        return errors, None
    result = dry_run(processor, resource, source)
    if result.accepted:
        return [], result
    error = result.error
    code = f"scim_{error.scim_type or error.status}" if error else "scim_rejected"
    detail = error.detail if error else "rejected"
    return [GateError(code, getattr(error, "attribute", None) or "", detail)], result


def normalise(value: str) -> str:
    """Case-folded, whitespace collapsed; a phone-number-like value (not an ISO date) → its digits."""
    text = " ".join(value.split()).casefold()
    if _DATE.match(text):  # an ISO date is not a phone number
        return text
    if _PHONE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return "".join(c for c in text if c.isdigit())
    return text


class Grounding:
    """The record's values, normalised, for gate 3.

    Args:
        record: the input record (secret fields are looked at only to reject their values).
    """

    def __init__(self, record: Record):
        visible = record.visible()
        found = list(leaves(visible))
        self.values = {normalise(str(leaf)) for leaf in found if not isinstance(leaf, bool)}
        # Words may be recombined only from name fields (a full name split into given and family
        # name); a word inside any other value (a note saying "make me CEO") grounds nothing.
        named = [leaf for key, value in visible.items() if _NAME_FIELD.search(key) for leaf in leaves(value)]
        self.words = self.values | {w for leaf in named for w in _words(normalise(str(leaf)))}
        self.has_boolean = any(isinstance(leaf, bool) or str(leaf).strip().casefold() in _BOOLEAN_WORDS for leaf in found)
        self.secrets = {normalise(s) for s in record.secret_values() if len(s.strip()) >= 4}

    def check(self, resource: Mapping[str, Any], context: GroundingContext) -> list[GateError]:
        """Every ungrounded or secret leaf of ``resource`` (``schemas`` URNs excepted)."""
        errors: list[GateError] = []
        for path, leaf, canonical in _resource_leaves(resource, context):
            if isinstance(leaf, bool):
                if not self.has_boolean:
                    errors.append(GateError("ungrounded_value", path, f"{path}={leaf}: no record field holds a boolean"))
                continue
            text = normalise(str(leaf))
            if text in self.secrets or any(secret in text for secret in self.secrets):
                errors.append(GateError("secret_value", path, f"{path} holds the value of a secret record field"))
            elif text in self.values or text in {c.casefold() for c in canonical}:
                continue
            elif _DATE_TIME.match(text) and any(v.startswith(text[:10]) for v in self.values):
                continue  # an xsd:dateTime built from a record's date (RFC 7643 §2.3.5)
            elif not isinstance(leaf, str) or not _words(text) or not set(_words(text)) <= self.words:
                errors.append(GateError("ungrounded_value", path, f"{path}={str(leaf)[:80]!r} does not come from the record"))
        return errors


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", text.strip(".")) if w]


def _resource_leaves(resource: Mapping[str, Any], context: GroundingContext) -> Iterator[tuple[str, Any, tuple[str, ...]]]:
    extensions = {ext.id.lower(): ext for ext in context.extensions}
    for name, value in resource.items():
        if name.lower() == "schemas":
            continue
        if name.lower() in extensions and isinstance(value, Mapping):
            ext = extensions[name.lower()]
            for sub_name, sub_value in value.items():
                yield from _attribute_leaves(ext.attribute(sub_name), f"{ext.id}:{sub_name}", sub_value)
        else:
            yield from _attribute_leaves(context.core.attribute(name), name, value)


def _attribute_leaves(attribute: AttributeDefinition | None, path: str, value: Any) -> Iterator[tuple[str, Any, tuple[str, ...]]]:
    if isinstance(value, list):
        for item in value:
            yield from _attribute_leaves(attribute, path, item)
    elif isinstance(value, Mapping):
        for name, item in value.items():
            sub = attribute.sub_attribute(name) if attribute else None
            yield from _attribute_leaves(sub, f"{path}.{name}", item)
    elif value is not None:
        yield path, value, attribute.canonical_values if attribute else ()


def run_gates(processor: ScimProcessor, output: Any, record: Record, context: GroundingContext) -> GateOutcome:
    """All gates in order on one model output; stops at the first gate that fails.

    Args:
        processor: the processor whose SCIM gate (a dry run) checks the resource.
        output: the parsed dict, or raw JSON text.
        record: the source record (the groundedness gate checks values against it).
        context: the resource type's *whole* context (not the narrowed one).
    """
    parsed, errors = parse(output)
    if parsed is None:
        return GateOutcome(None, errors)
    resource = prune(parsed) or {}
    errors, result = scim_gate(processor, resource, context, record.source)
    if errors:
        return GateOutcome(resource, errors, result)
    errors = Grounding(record).check(resource, context)
    return GateOutcome(resource, errors, result)
