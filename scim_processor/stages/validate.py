"""Stage 4a, the SCIM gate: normalised SCIM JSON validated against the retrieved schemas.

Two passes, both driven by the grounding context only:

1. The RFC rules scim2-models does not enforce: strict JSON booleans (RFC 7643 §2.3.2; pydantic
   turns ``"yes"`` into true), 64-bit integers (§2.3.4) and finite decimals (§2.3.3), xsd:dateTime
   (§2.3.5), base64 binary (§2.3.6; scim2-models truncates bad base64), required sub-attributes
   (§2.2, §7), canonicalValues (§7; not enforced by scim2-models), at most one ``primary: true``
   per multi-valued attribute (§2.4), and a size limit per attribute value.
2. scim2-models models built from the same schemas (``Resource.from_schema`` /
   ``Extension.from_schema``), validated in the resource-replacement context (RFC 7644 §3.5.1).

Every failure is a 400 :class:`~scim_processor.errors.InvalidValueError` whose ``attribute`` names
the offending attribute in the project's path notation (``emails[1].value``).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from scim2_models import Context, Extension, Resource, Schema, SCIMException

from ..errors import InvalidValueError, ScimError, attribute_path, scim_error
from ..scim import AttributeDefinition, AttributeType, GroundingContext, Mutability, Returned, SchemaDefinition

INT64 = (-(2**63), 2**63 - 1)  # the graph's INTEGER range (Neo4j and Bolt: signed 64-bit)

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


class ScimValidator:
    """Validates normalised resources against their grounding context.

    Args:
        max_attribute_bytes: the largest UTF-8 size of one string value, in bytes.
    """

    def __init__(self, max_attribute_bytes: int = 65_536):
        self.max_attribute_bytes = max_attribute_bytes
        self._models: dict[tuple[str, str, tuple[str, ...]], type[Resource[Any]]] = {}

    def validate(self, resource: Mapping[str, Any], context: GroundingContext) -> None:
        """Checks ``resource`` (normalised SCIM JSON) against ``context``.

        Raises:
            InvalidValueError: 400 naming the first offending attribute.
        """
        self._check_schema(resource, context.core, None)
        for extension in context.extensions:
            values = resource.get(extension.id)
            if values is not None:
                self._check_schema(values, extension, extension.id)
            elif any(ref.required and ref.schema_ == extension.id for ref in context.resource_type.schema_extensions):
                raise InvalidValueError(f"schema extension {extension.id} is required for {context.resource_type.name}", extension.id)
        self._check_with_scim2_models(resource, context)

    def _check_schema(self, values: Mapping[str, Any], schema: SchemaDefinition, urn: str | None) -> None:
        for attribute in schema.attributes:
            self._check_attribute(values.get(attribute.name), attribute, [attribute.name], urn)

    def _check_attribute(self, value: Any, attribute: AttributeDefinition, parts: list[str | int], urn: str | None) -> None:
        path = attribute_path(parts, urn)
        if value is None:
            if attribute.required and attribute.mutability != Mutability.READ_ONLY and attribute.returned != Returned.NEVER:
                raise InvalidValueError(f"{path} is required (RFC 7643 §2.2)", path)
            return
        if not attribute.multi_valued:
            self._check_single(value, attribute, parts, urn)
            _check_not_blank(value, attribute, path, top_level=len(parts) == 1)
            return
        if not isinstance(value, list):
            raise InvalidValueError(f"{path} is multi-valued: a JSON array is required", path)
        for index, item in enumerate(value):
            self._check_single(item, attribute, [*parts, index], urn)
        primaries = sum(1 for item in value if isinstance(item, Mapping) and item.get("primary") is True)
        if primaries > 1:
            raise InvalidValueError(f"{path}: 'primary' is true on {primaries} values; at most one is allowed (RFC 7643 §2.4)", path)

    def _check_single(self, value: Any, attribute: AttributeDefinition, parts: list[str | int], urn: str | None) -> None:
        path = attribute_path(parts, urn)
        kind = attribute.type
        if kind == AttributeType.COMPLEX:
            if not isinstance(value, Mapping):
                raise InvalidValueError(f"{path} must be a JSON object", path)
            for sub in attribute.sub_attributes:
                self._check_attribute(value.get(sub.name), sub, [*parts, sub.name], urn)
            return
        if kind in _NUMBER_CHECKS:
            _NUMBER_CHECKS[kind](value, path)
            return
        if not isinstance(value, str):
            raise InvalidValueError(f"{path} must be a JSON string (RFC 7643 §2.3.1)", path)
        if len(value.encode("utf-8")) > self.max_attribute_bytes:
            raise InvalidValueError(f"{path} is larger than {self.max_attribute_bytes} bytes", path)
        if kind == AttributeType.DATE_TIME and not _is_date_time(value):
            raise InvalidValueError(f"{path} must be an xsd:dateTime such as 2010-01-23T04:56:22Z (RFC 7643 §2.3.5)", path)
        if kind == AttributeType.BINARY and not _is_base64(value):
            raise InvalidValueError(f"{path} must be base64 (RFC 7643 §2.3.6)", path)
        if attribute.canonical_values and value not in attribute.canonical_values:
            allowed = ", ".join(attribute.canonical_values)
            raise InvalidValueError(f"{path} is {value!r}; the schema's canonicalValues are {allowed}", path)

    def model(self, context: GroundingContext) -> type[Resource[Any]]:
        """The scim2-models class built from the context's schemas (cached per version)."""
        key = (context.resource_type.name, context.version, tuple(ext.id for ext in context.extensions))
        if key not in self._models:
            core = Resource.from_schema(Schema.model_validate(context.core.to_json()))
            extensions = [Extension.from_schema(Schema.model_validate(ext.to_json())) for ext in context.extensions]
            model = core
            if len(extensions) == 1:
                model = core[extensions[0]]  # type: ignore[index]
            elif extensions:
                from typing import Union

                model = core[Union[tuple(extensions)]]  # type: ignore[index]  # noqa: UP007
            self._models[key] = model
        return self._models[key]

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


def _check_not_blank(value: Any, attribute: AttributeDefinition, path: str, *, top_level: bool) -> None:
    """A required top-level string (``userName``, a Group's ``displayName``) that is empty or only whitespace is missing.

    Raises:
        InvalidValueError: 400 ``invalidValue`` naming the attribute (RFC 7643 §2.2 ``required``, §4.1.1).
    """
    if top_level and attribute.required and isinstance(value, str) and not value.strip():
        raise InvalidValueError(f"{path} is required: an empty or whitespace-only string is no value (RFC 7643 §2.2, §4.1.1)", path)


def _check_boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise InvalidValueError(f"{path} must be a JSON boolean true or false, not {value!r} (RFC 7643 §2.3.2)", path)


def _check_integer(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"{path} must be a JSON integer (RFC 7643 §2.3.4)", path)
    if not INT64[0] <= value <= INT64[1]:
        raise InvalidValueError(f"{path} is outside the 64-bit integer range (RFC 7643 §2.3.4)", path)


def _check_decimal(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValueError(f"{path} must be a JSON number (RFC 7643 §2.3.3)", path)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValueError(f"{path}: {value} is not a JSON number (RFC 7643 §2.3.3)", path)
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        raise InvalidValueError(f"{path} is outside the range the graph stores (64-bit)", path)


_NUMBER_CHECKS = {
    AttributeType.BOOLEAN: _check_boolean,
    AttributeType.INTEGER: _check_integer,
    AttributeType.DECIMAL: _check_decimal,
}


def _is_date_time(value: str) -> bool:
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True
