"""Stage 4a, the SCIM gate: normalised SCIM JSON validated against the retrieved schemas.

The gate every payload passes is compiled (:mod:`scim_processor.stages.compiled_validator`):
per resource type, plain-Python checks precomputed from the grounding context. The reference it
must agree with (verdict, ``scimType``, ``attribute`` and detail; a differential property test
holds it to that) is :meth:`ScimValidator.validate_reference`, two passes driven by the grounding
context only:

1. The RFC rules scim2-models does not enforce: strict JSON booleans (RFC 7643 §2.3.2; pydantic
   turns ``"yes"`` into true), 64-bit integers (§2.3.4) and finite decimals (§2.3.3), xsd:dateTime
   (§2.3.5), base64 binary (§2.3.6; scim2-models truncates bad base64), required sub-attributes
   (§2.2, §7), a required string that is empty or only whitespace (§2.2: it holds no value),
   canonicalValues (§7; not enforced by scim2-models), at most one ``primary: true`` per
   multi-valued attribute (§2.4), and a size limit per attribute value.
2. scim2-models models built from the same schemas (``Resource.from_schema`` /
   ``Extension.from_schema``), validated in the resource-replacement context (RFC 7644 §3.5.1).

Every failure is a 400 :class:`~scim_processor.errors.InvalidValueError` whose ``attribute`` names
the offending attribute in the project's path notation (``emails[1].value``); a string that is
not Unicode text (a lone surrogate) is 400 ``invalidSyntax``, as the read stage has it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import ValidationError
from scim2_models import Context, Extension, Resource, Schema, SCIMException

from ..errors import InvalidValueError, ScimError, attribute_path, scim_error
from ..scim import AttributeDefinition, AttributeType, GroundingContext, Mutability, Returned, SchemaDefinition
from ..scim.values import (
    NUMBER_CHECKS,
    blank_required,
    extension_required,
    is_base64,
    is_date_time,
    not_a_date_time,
    not_a_string,
    not_an_array,
    not_an_object,
    not_base64,
    not_canonical,
    required_missing,
    several_primaries,
    too_large,
    utf8_size,
)  # fmt: skip
from .compiled_validator import ResourceChecker, compile_checker


class ScimValidator:
    """Validates normalised resources against their grounding context.

    Args:
        max_attribute_bytes: the largest UTF-8 size of one string value, in bytes.
    """

    def __init__(self, max_attribute_bytes: int = 65_536):
        self.max_attribute_bytes = max_attribute_bytes
        self._models: dict[tuple[object, ...], tuple[object, object, type[Resource[Any]]]] = {}
        self._checkers: dict[tuple[object, ...], tuple[object, object, ResourceChecker]] = {}

    def validate(self, resource: Mapping[str, Any], context: GroundingContext) -> None:
        """Checks ``resource`` (normalised SCIM JSON, as a generator makes it) against ``context``.

        The compiled gate (:func:`~scim_processor.stages.compiled_validator.compile_checker`,
        built once per resource type and schema definitions): :meth:`validate_reference`'s verdict
        at a fraction of its cost.

        Raises:
            InvalidValueError: 400 naming the first offending attribute.
            InvalidSyntaxError: 400 for a string with a lone surrogate (not Unicode text).
        """
        _per_schemas(self._checkers, context, lambda c: compile_checker(c, self.max_attribute_bytes)).check(resource)

    def validate_reference(self, resource: Mapping[str, Any], context: GroundingContext) -> None:
        """The reference gate: the project's RFC checks, then the scim2-models model (see the module docstring).

        Raises:
            InvalidValueError: 400 naming the first offending attribute.
            InvalidSyntaxError: 400 for a string with a lone surrogate (not Unicode text).
        """
        self._check_schema(resource, context.core, None)
        for extension in context.extensions:
            values = resource.get(extension.id)
            if values is not None:
                self._check_schema(values, extension, extension.id)
            elif any(ref.required and ref.schema_ == extension.id for ref in context.resource_type.schema_extensions):
                raise extension_required(extension.id, context.resource_type.name)
        self._check_with_scim2_models(resource, context)

    def _check_schema(self, values: Mapping[str, Any], schema: SchemaDefinition, urn: str | None) -> None:
        for attribute in schema.attributes:
            self._check_attribute(values.get(attribute.name), attribute, [attribute.name], urn)

    def _check_attribute(self, value: Any, attribute: AttributeDefinition, parts: list[str | int], urn: str | None) -> None:
        path = attribute_path(parts, urn)
        if value is None:
            if attribute.required and attribute.mutability != Mutability.READ_ONLY and attribute.returned != Returned.NEVER:
                raise required_missing(path)
            return
        if not attribute.multi_valued:
            self._check_single(value, attribute, parts, urn)
            return
        if not isinstance(value, list):
            raise not_an_array(path)
        for index, item in enumerate(value):
            self._check_single(item, attribute, [*parts, index], urn)
        primaries = sum(1 for item in value if isinstance(item, Mapping) and item.get("primary") is True)
        if primaries > 1:
            raise several_primaries(path, primaries)

    def _check_single(self, value: Any, attribute: AttributeDefinition, parts: list[str | int], urn: str | None) -> None:
        path = attribute_path(parts, urn)
        kind = attribute.type
        if kind == AttributeType.COMPLEX:
            if not isinstance(value, Mapping):
                raise not_an_object(path)
            for sub in attribute.sub_attributes:
                self._check_attribute(value.get(sub.name), sub, [*parts, sub.name], urn)
            return
        if kind in NUMBER_CHECKS:
            NUMBER_CHECKS[kind](value, path)
            return
        if not isinstance(value, str):
            raise not_a_string(path)
        if attribute.required and not value.strip():
            raise blank_required(path)
        if utf8_size(value, path) > self.max_attribute_bytes:
            raise too_large(path, self.max_attribute_bytes)
        if kind == AttributeType.DATE_TIME and not is_date_time(value):
            raise not_a_date_time(path)
        if kind == AttributeType.BINARY and not is_base64(value):
            raise not_base64(path)
        if attribute.canonical_values and value not in attribute.canonical_values:
            raise not_canonical(path, value, attribute.canonical_values)

    def model(self, context: GroundingContext) -> type[Resource[Any]]:
        """The scim2-models class built from the context's schemas (cached per schema definitions)."""
        return _per_schemas(self._models, context, _build_model)

    def _check_with_scim2_models(self, resource: Mapping[str, Any], context: GroundingContext) -> None:
        data = {key: value for key, value in resource.items() if key != "meta"}
        try:
            self.model(context).model_validate(data, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        except ValidationError as error:
            first = error.errors()[0]
            where = attribute_path([part if isinstance(part, int) else str(part) for part in first["loc"]]) or None
            raise InvalidValueError(f"{where or 'resource'}: {first['msg']}", where) from None
        except ScimError:
            raise
        except SCIMException as error:  # scim2-models' own SCIM exceptions
            raise scim_error(error.status, error.scim_type or None, error.detail) from None


T = TypeVar("T")


def _per_schemas(cache: dict[tuple[object, ...], tuple[object, object, T]], context: GroundingContext, build: Callable[[GroundingContext], T]) -> T:
    """``build(context)``, cached by the identity of the context's schema definitions.

    They are immutable, and a context narrowed to fewer attributes has new ones; the entry keeps
    them alive, so no other object can take their ids while it is cached.
    """
    key = (context.resource_type.name, id(context.core), *map(id, context.extensions))
    entry = cache.get(key)
    if entry is None:
        if len(cache) >= 256:
            cache.clear()
        entry = cache[key] = (context.core, context.extensions, build(context))
    return entry[2]


def _build_model(context: GroundingContext) -> type[Resource[Any]]:
    """The scim2-models resource class of the context's core schema with its extensions (``Resource.from_schema``)."""
    core = Resource.from_schema(Schema.model_validate(context.core.to_json()))
    extensions = [Extension.from_schema(Schema.model_validate(ext.to_json())) for ext in context.extensions]
    model = core
    if len(extensions) == 1:
        model = core[extensions[0]]  # type: ignore[index]
    elif extensions:
        from typing import Union

        model = core[Union[tuple(extensions)]]  # type: ignore[index]  # noqa: UP007
    return model
