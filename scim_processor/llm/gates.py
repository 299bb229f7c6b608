"""The gates every model output passes, in order: JSON parse → attribute names → groundedness → SCIM gate.

1. **JSON parse** (``json_parse``): the output is one JSON object. Nulls, empty strings, empty
   lists and empty objects are unassigned (RFC 7643 §2.5) and removed first.
2. **Attribute names**: every attribute name exists in the resource type's schemas
   (``unknown_attribute``; never cleaned, RFC 7644 §3.12 invalidSyntax), none is readOnly
   (``read_only_attribute``: ``id``, ``meta``, ``groups``; RFC 7644 §3.3 says a server ignores
   them, a model that emits them is wrong) or writeOnly / never returned (``secret_attribute``:
   ``password``, RFC 7643 §7).
3. **Groundedness** (:mod:`scim_processor.llm.grounding`, extractive): every leaf must come
   from the record (``ungrounded_value``); a value of a secret field must appear nowhere
   (``secret_value``). **Repair, not reject** (issue 16 §6): an ungrounded leaf of an optional
   attribute is *dropped* (reported in :attr:`GateOutcome.dropped`; an item of a multi-valued
   attribute whose ``value`` is dropped goes whole, so does a complex value whose required
   sub-attribute is dropped) and the
   resource is kept. The output fails only when a required attribute (``userName``) is
   ungrounded, a secret value appears, or — with ``strict`` (``--strict-grounding``) — any leaf
   is ungrounded.
4. **SCIM gate**: the same validation as ``process`` on the repaired resource
   (``scim_<scimType>``, e.g. ``scim_invalidValue``), which also builds the Cypher and passes it
   through the guard.
"""

from __future__ import annotations

import json
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
from .grounding import Finding, Grounding, normalise
from .json_schema import prune
from .records import Record
from .retrieval import offered

__all__ = ["Dropped", "GateError", "GateOutcome", "Grounding", "normalise", "parse", "repair", "run_gates", "schema_names", "scim_gate"]

COMMON_ATTRIBUTES = {"externalid": "externalId"}  # RFC 7643 §3.1 (id and meta are readOnly)
READ_ONLY_COMMON = ("id", "meta")


@dataclass(frozen=True)
class GateError:
    """One gate failure: a stable ``code``, the attribute ``path`` (RFC 7644 §3.10 style) and a ``detail``."""

    code: str
    path: str
    detail: str

    def to_json(self) -> dict[str, str]:
        """``{"code", "path", "detail"}``."""
        return {"code": self.code, "path": self.path, "detail": self.detail}


@dataclass(frozen=True)
class Dropped:
    """An optional leaf the groundedness gate removed: its attribute ``path``, the ``value`` and the ``code``."""

    path: str
    value: Any
    code: str

    def to_json(self) -> dict[str, Any]:
        """``{"path", "value", "code"}`` (the results file's ``dropped`` items)."""
        return {"path": self.path, "value": self.value, "code": self.code}


@dataclass
class GateOutcome:
    """What the gates made of one output: the pruned resource, the errors, and the SCIM gate's result."""

    resource: dict[str, Any] | None
    errors: list[GateError] = field(default_factory=list)
    result: PayloadResult | None = None
    dropped: list[Dropped] = field(default_factory=list)

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


def _required(finding: Finding) -> bool:
    """True if the finding's attribute is required at the top of the resource (or of an extension)."""
    top = [part for part in finding.location if isinstance(part, str)]
    nested = len(top) > (2 if ":" in finding.path.split(".", 1)[0] else 1)
    return finding.attribute is not None and finding.attribute.required and not nested


def _drop_location(finding: Finding) -> tuple[str | int, ...]:
    """What to remove for ``finding``: the leaf, or what the leaf identifies.

    The whole item of a multi-valued attribute when the leaf is its ``value``; the whole complex
    value when the leaf is a required sub-attribute of it.
    """
    location = finding.location
    if len(location) >= 2 and (
        (location[-1] == "value" and isinstance(location[-2], int)) or (finding.attribute is not None and finding.attribute.required)
    ):
        return location[:-1]
    return location


def _remove(resource: dict[str, Any], location: tuple[str | int, ...]) -> None:
    parent: Any = resource
    for part in location[:-1]:
        parent = parent[part]
    parent[location[-1]] = None  # indices stay valid for the next removal; prune() takes the Nones out


def repair(
    resource: dict[str, Any], findings: list[Finding], *, strict: bool = False
) -> tuple[dict[str, Any], list[Dropped], list[GateError]]:
    """Drops the ungrounded optional leaves of ``resource`` (issue 16 §6).

    Args:
        resource: the pruned resource (not modified).
        findings: :meth:`Grounding.findings` on it.
        strict: ``--strict-grounding``: every finding is an error, nothing is dropped.

    Returns:
        ``(repaired resource, dropped leaves, errors)``; ``errors`` holds the findings that reject
        the output: secret values, ungrounded required attributes (all of them when ``strict``).
        Extension URNs whose object was emptied are removed from ``schemas``.
    """
    errors = [GateError(f.code, f.path, f.detail) for f in findings if strict or f.code != "ungrounded_value" or _required(f)]
    if errors:
        return resource, [], errors
    if not findings:
        return resource, [], []
    repaired = json.loads(json.dumps(resource))
    for finding in findings:
        _remove(repaired, _drop_location(finding))
    repaired = prune(repaired) or {}
    if isinstance(repaired.get("schemas"), list):  # an extension whose object is gone leaves "schemas" too
        repaired["schemas"] = [urn for urn in repaired["schemas"] if not (urn in resource and urn not in repaired)]
    return repaired, [Dropped(f.path, f.value, f.code) for f in findings], []


def run_gates(
    processor: ScimProcessor, output: Any, record: Record, context: GroundingContext, *, strict: bool = False
) -> GateOutcome:
    """All gates in order on one model output; stops at the first gate that fails.

    Args:
        processor: the processor whose SCIM gate (a dry run) checks the resource.
        output: the parsed dict, or raw JSON text.
        record: the source record (the groundedness gate checks values against it).
        context: the resource type's *whole* context (not the narrowed one).
        strict: ``--strict-grounding``: reject an ungrounded optional value instead of dropping it.

    Returns:
        The outcome: on success the repaired resource, the SCIM gate's result and what was dropped.
    """
    parsed, errors = parse(output)
    if parsed is None:
        return GateOutcome(None, errors)
    resource = prune(parsed) or {}
    errors = schema_names(resource, context)
    if errors:
        return GateOutcome(resource, errors)
    resource, dropped, errors = repair(resource, Grounding(record).findings(resource, context), strict=strict)
    if errors:
        return GateOutcome(resource, errors)
    errors, result = scim_gate(processor, resource, context, record.source)
    return GateOutcome(resource, errors, result, dropped)
