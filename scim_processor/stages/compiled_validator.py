"""The SCIM gate compiled: per resource type, plain-Python checks precomputed from the schemas.

:class:`~scim_processor.stages.validate.ScimValidator` builds one :class:`ResourceChecker` per
resource type and set of schema definitions from its grounding context, and runs it on every payload in
place of the reference gate (the project's RFC checks, then a scim2-models model validation).
The checker is a table of closures, one per attribute, with every characteristic (type,
multiValued, required, canonicalValues, referenceTypes, mutability, returned) decided once; no
pydantic model is built per payload. It gives the reference gate's verdict, ``scimType``,
``attribute`` and detail for every normalised resource (``tests/unit/test_validator_differential.py``
proves it on generated and corpus payloads):

1. the project's rules, in the reference's order (schema order, core first, then each extension):
   see :mod:`scim_processor.stages.validate` (the value rules are :mod:`scim_processor.scim.values`);
2. what scim2-models adds on top of them, raised only when the resource passes every rule of 1
   (as the reference runs scim2-models last): ``externalId`` and ``id`` must be strings; a
   reference whose ``referenceTypes`` are ``external`` or ``uri`` (or none) must parse as a URI
   (``pydantic_core.Url``, relative ``/...`` allowed, as scim2-models' ``Reference``); a dateTime
   must parse as pydantic's ``datetime`` (stricter than :func:`datetime.fromisoformat` on offsets);
   a required attribute the generator never keeps (readOnly, or returned never) is missing.

Its input is what a :class:`~scim_processor.stages.generate.Generator` makes: schema-spelled names
and only the attributes the context defines. Unknown or mis-spelled keys are the generator's to
reject (400 ``invalidSyntax``); given one directly, this gate ignores it where scim2-models would
answer "Extra inputs are not permitted".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import isfinite
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import Url

from ..errors import InvalidSyntaxError, InvalidValueError, ScimError, attribute_path
from ..scim import AttributeDefinition, AttributeType, GroundingContext, Mutability, Returned, SchemaDefinition
from ..scim import values as rules

# A check of one value: (value, the indices of the multi-valued attributes on its path).
Check = Callable[[Any, tuple[int, ...]], None]
Template = tuple[str | None, ...]  # an attribute path; None marks the place of an index

_DATE_TIME = TypeAdapter(datetime)  # scim2-models' type for dateTime (Attribute.Type._to_python)


class _Later(Exception):  # noqa: N818  (a signal, not an error: the reference would raise `error` after its first pass)
    def __init__(self, error: ScimError):
        self.error = error


@dataclass(frozen=True)
class ResourceChecker:
    """The compiled SCIM gate of one resource type.

    Attributes:
        full: every rule, in the reference's order; a rule scim2-models owns raises ``_Later``.
        project_rules: the project's rules only, run again to decide which error comes first when
            ``full`` met a scim2-models rule (errors are rare, so the common path runs once).
    """

    full: Callable[[Mapping[str, Any]], None]
    project_rules: Callable[[Mapping[str, Any]], None]

    def check(self, resource: Mapping[str, Any]) -> None:
        """Checks a normalised resource.

        Raises:
            InvalidValueError: 400 naming the first offending attribute, as the reference gate.
            InvalidSyntaxError: 400 for a string that is not Unicode text (a lone surrogate).
        """
        try:
            self.full(resource)
        except _Later as later:
            self.project_rules(resource)
            raise later.error from None


def compile_checker(context: GroundingContext, max_attribute_bytes: int) -> ResourceChecker:
    """The :class:`ResourceChecker` of ``context``'s resource type (its core schema and every extension).

    Args:
        context: the grounding context (its ``declared`` extensions play no part).
        max_attribute_bytes: the largest UTF-8 size of one string value, in bytes.
    """
    return ResourceChecker(_compile_resource(context, max_attribute_bytes, True), _compile_resource(context, max_attribute_bytes, False))


def _compile_resource(context: GroundingContext, limit: int, library_rules: bool) -> Callable[[Mapping[str, Any]], None]:
    core = _compile_schema(context.core, None, limit, library_rules)
    required = {ref.schema_ for ref in context.resource_type.schema_extensions if ref.required}
    extensions = [(ext.id, ext.id in required, _compile_schema(ext, ext.id, limit, library_rules)) for ext in context.extensions]
    name = context.resource_type.name

    def check(resource: Mapping[str, Any]) -> None:
        if library_rules:
            _check_common(resource)
        core(resource)
        for urn, needed, check_extension in extensions:
            values = resource.get(urn)
            if values is not None:
                if not isinstance(values, Mapping):
                    raise InvalidSyntaxError(f"{urn} must be a JSON object of its attributes", urn)
                check_extension(values)
            elif needed:
                raise rules.extension_required(urn, name)

    return check


def _check_common(resource: Mapping[str, Any]) -> None:
    """RFC 7643 §3.1 ``id`` and ``externalId`` are strings (scim2-models' ``Resource`` fields)."""
    for key in ("id", "externalId"):
        value = resource.get(key)
        if value is not None and not isinstance(value, str):
            raise _Later(InvalidValueError(f"{key}: Input should be a valid string", key))


def _compile_schema(schema: SchemaDefinition, urn: str | None, limit: int, library_rules: bool) -> Callable[[Mapping[str, Any]], None]:
    slots = [_compile_attribute(a, (a.name,), urn, limit, library_rules) for a in schema.attributes]
    no_index: tuple[int, ...] = ()

    def check(values: Mapping[str, Any]) -> None:
        _check_slots(slots, values, no_index)

    return check


# One attribute of a schema or complex attribute: its name, the check of its value, and the check
# of its absence (None when it may be absent).
Slot = tuple[str, Check, Check | None]


def _check_slots(slots: list[Slot], values: Mapping[str, Any], index: tuple[int, ...]) -> None:
    """Checks each attribute of ``slots`` in ``values``, in schema order (the order of the reference's errors)."""
    get = values.get
    for name, present, absent in slots:
        value = get(name)
        if value is not None:
            present(value, index)
        elif absent is not None:
            absent(value, index)


def _compile_attribute(attribute: AttributeDefinition, template: Template, urn: str | None, limit: int, library_rules: bool) -> Slot:
    """The :data:`Slot` of one attribute: required, plurality, each value, primary."""
    project_required = attribute.required and attribute.mutability != Mutability.READ_ONLY and attribute.returned != Returned.NEVER
    # scim2-models requires it in a replacement request whatever its mutability (BaseModel._check_necessity).
    library_required = library_rules and attribute.required and not project_required
    single = _compile_single(attribute, template + ((None,) if attribute.multi_valued else ()), urn, limit, library_rules)

    def absent(_: Any, index: tuple[int, ...]) -> None:
        if project_required:
            raise rules.required_missing(_path(template, index, urn))
        where = _where(template[:-1], index, urn)
        detail = f"{where or 'resource'}: Field '{attribute.name}' is required but value is missing, null or empty"
        raise _Later(InvalidValueError(detail, where or None))

    def multi_valued(value: Any, index: tuple[int, ...]) -> None:
        if not isinstance(value, list):
            raise rules.not_an_array(_path(template, index, urn))
        primaries = 0
        for position, item in enumerate(value):
            single(item, (*index, position))
            if isinstance(item, Mapping) and item.get("primary") is True:
                primaries += 1
        if primaries > 1:
            raise rules.several_primaries(_path(template, index, urn), primaries)

    return attribute.name, multi_valued if attribute.multi_valued else single, absent if project_required or library_required else None


def _compile_single(attribute: AttributeDefinition, template: Template, urn: str | None, limit: int, library_rules: bool) -> Check:
    """The check of one value of an attribute (one item of a multi-valued one)."""
    kind = attribute.type
    if kind == AttributeType.COMPLEX:
        subs = [_compile_attribute(s, (*template, s.name), urn, limit, library_rules) for s in attribute.sub_attributes]

        def check_complex(value: Any, index: tuple[int, ...]) -> None:
            if not isinstance(value, Mapping):
                raise rules.not_an_object(_path(template, index, urn))
            _check_slots(subs, value, index)

        return check_complex
    number_check = rules.NUMBER_CHECKS.get(kind)
    if number_check is not None:

        def check_number(value: Any, index: tuple[int, ...]) -> None:
            number_check(value, _path(template, index, urn))

        return _fast_number(kind, check_number)
    return _compile_text(attribute, template, urn, limit, library_rules)


def _fast_number(kind: AttributeType, slow: Check) -> Check:
    """A number check that builds the path only when the value is not plainly valid."""
    low, high = rules.INT64
    if kind == AttributeType.BOOLEAN:

        def check_boolean(value: Any, index: tuple[int, ...]) -> None:
            if value is not True and value is not False:
                slow(value, index)

        return check_boolean
    if kind == AttributeType.INTEGER:

        def check_integer(value: Any, index: tuple[int, ...]) -> None:
            if not (type(value) is int and low <= value <= high):
                slow(value, index)

        return check_integer

    def check_decimal(value: Any, index: tuple[int, ...]) -> None:
        cls = type(value)
        if not ((cls is float and isfinite(value)) or (cls is int and low <= value <= high)):
            slow(value, index)

    return check_decimal


def _compile_text(attribute: AttributeDefinition, template: Template, urn: str | None, limit: int, library_rules: bool) -> Check:
    """The check of a string-typed value (string, dateTime, binary, reference): string, blank, size, then its format rules."""
    required = attribute.required
    quarter = limit // 4  # at most 4 UTF-8 bytes a character: shorter strings need no encoding to be measured
    formats = _project_formats(attribute, template, urn) + (_library_formats(attribute, template, urn) if library_rules else [])

    def check_text(value: Any, index: tuple[int, ...]) -> None:
        if not isinstance(value, str):
            raise rules.not_a_string(_path(template, index, urn))
        if required and not value.strip():
            raise rules.blank_required(_path(template, index, urn))
        if (len(value) > quarter or not value.isascii()) and rules.utf8_size(value, _path(template, index, urn)) > limit:
            raise rules.too_large(_path(template, index, urn), limit)
        for check_format in formats:
            check_format(value, index)

    return check_text


def _project_formats(attribute: AttributeDefinition, template: Template, urn: str | None) -> list[Check]:
    """The project's checks of a string value's content, in the reference's order: dateTime, base64, canonicalValues."""
    kind = attribute.type
    checks: list[Check] = []

    def project_rule(accepts: Callable[[str], bool], error: Callable[[str, str], InvalidValueError]) -> Check:
        def check(value: Any, index: tuple[int, ...]) -> None:
            if not accepts(value):
                raise error(_path(template, index, urn), value)

        return check

    if kind == AttributeType.DATE_TIME:
        checks.append(project_rule(rules.is_date_time, lambda path, _: rules.not_a_date_time(path)))
    if kind == AttributeType.BINARY:
        checks.append(project_rule(rules.is_base64, lambda path, _: rules.not_base64(path)))
    if attribute.canonical_values:
        canonical, listed = frozenset(attribute.canonical_values), attribute.canonical_values
        checks.append(project_rule(canonical.__contains__, lambda path, value: rules.not_canonical(path, value, listed)))
    return checks


def _library_formats(attribute: AttributeDefinition, template: Template, urn: str | None) -> list[Check]:
    """What scim2-models checks of a string value beyond the project's rules: a URI reference, a pydantic datetime."""
    kind = attribute.type
    checks: list[Check] = []
    types = attribute.reference_types
    if kind == AttributeType.REFERENCE and (not types or "external" in types or "uri" in types):

        def check_uri(value: Any, index: tuple[int, ...]) -> None:  # scim2-models' Reference[External | URI]
            if not value.startswith("/"):
                try:
                    Url(value)
                except ValidationError:
                    raise _library_error(template, index, urn, f"Value error, Invalid URI: {value}") from None

        checks.append(check_uri)
    if kind == AttributeType.DATE_TIME:

        def check_date_time(value: Any, index: tuple[int, ...]) -> None:  # scim2-models' datetime field
            try:
                _DATE_TIME.validate_python(value)
            except ValidationError as error:
                raise _library_error(template, index, urn, error.errors()[0]["msg"]) from None

        checks.append(check_date_time)
    return checks


def _library_error(template: Template, index: tuple[int, ...], urn: str | None, message: str) -> _Later:
    where = _where(template, index, urn)
    return _Later(InvalidValueError(f"{where}: {message}", where))


def _fill(template: Template, index: Sequence[int]) -> list[str | int]:
    positions = iter(index)
    return [next(positions) if part is None else part for part in template]


def _path(template: Template, index: tuple[int, ...], urn: str | None) -> str:
    """The project's path of a value (``urn:…:User:projects[0].value``)."""
    return attribute_path(_fill(template, index), urn)


def _where(template: Template, index: tuple[int, ...], urn: str | None) -> str:
    """The path scim2-models' errors carry: pydantic's location, the extension URN its first part (``urn:…:User.startDate``)."""
    parts = _fill(template, index)
    return attribute_path([urn, *parts] if urn else parts)


__all__ = ["ResourceChecker", "compile_checker"]
