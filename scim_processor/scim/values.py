"""RFC 7643 §2.3 data-type rules for one attribute value, shared by both SCIM gates.

The reference gate (:meth:`scim_processor.stages.validate.ScimValidator.validate_reference`) and
the compiled one (:mod:`scim_processor.stages.compiled_validator`) raise the same errors because
they call these. Paths are the project's notation (:func:`scim_processor.errors.attribute_path`).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..errors import InvalidSyntaxError, InvalidValueError
from .schema import AttributeType

INT64 = (-(2**63), 2**63 - 1)  # the graph's INTEGER range (Neo4j and Bolt: signed 64-bit)

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


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


NUMBER_CHECKS: dict[AttributeType, Callable[[Any, str], None]] = {
    AttributeType.BOOLEAN: _check_boolean,
    AttributeType.INTEGER: _check_integer,
    AttributeType.DECIMAL: _check_decimal,
}
"""The check of a boolean, integer or decimal value: ``check(value, path)`` raises InvalidValueError (RFC 7643 §2.3.2-§2.3.4)."""


# The errors both gates raise, each spelled once (``path`` is the project's attribute path).


def extension_required(urn: str, resource_type: str) -> InvalidValueError:
    """A schema extension the resource type requires (RFC 7643 §6 ``schemaExtensions.required``) is absent."""
    return InvalidValueError(f"schema extension {urn} is required for {resource_type}", urn)


def required_missing(path: str) -> InvalidValueError:
    """A required attribute or sub-attribute is absent (RFC 7643 §2.2)."""
    return InvalidValueError(f"{path} is required (RFC 7643 §2.2)", path)


def not_an_array(path: str) -> InvalidValueError:
    """A multi-valued attribute's value is not a JSON array (RFC 7643 §2.4)."""
    return InvalidValueError(f"{path} is multi-valued: a JSON array is required", path)


def several_primaries(path: str, count: int) -> InvalidValueError:
    """More than one value of a multi-valued attribute is ``primary`` (RFC 7643 §2.4)."""
    return InvalidValueError(f"{path}: 'primary' is true on {count} values; at most one is allowed (RFC 7643 §2.4)", path)


def not_an_object(path: str) -> InvalidValueError:
    """A complex attribute's value is not a JSON object (RFC 7643 §2.3.8)."""
    return InvalidValueError(f"{path} must be a JSON object", path)


def not_a_string(path: str) -> InvalidValueError:
    """A string, dateTime, binary or reference value is not a JSON string (RFC 7643 §2.3.1)."""
    return InvalidValueError(f"{path} must be a JSON string (RFC 7643 §2.3.1)", path)


def too_large(path: str, limit: int) -> InvalidValueError:
    """A string value is over the size limit of one attribute value (``limit`` bytes of UTF-8)."""
    return InvalidValueError(f"{path} is larger than {limit} bytes", path)


def not_a_date_time(path: str) -> InvalidValueError:
    """A dateTime value is not an xsd:dateTime (RFC 7643 §2.3.5)."""
    return InvalidValueError(f"{path} must be an xsd:dateTime such as 2010-01-23T04:56:22Z (RFC 7643 §2.3.5)", path)


def not_base64(path: str) -> InvalidValueError:
    """A binary value is not base64 (RFC 7643 §2.3.6)."""
    return InvalidValueError(f"{path} must be base64 (RFC 7643 §2.3.6)", path)


def not_canonical(path: str, value: str, canonical_values: tuple[str, ...]) -> InvalidValueError:
    """A value outside the attribute's canonicalValues (RFC 7643 §7)."""
    allowed = ", ".join(canonical_values)
    return InvalidValueError(f"{path} is {value!r}; the schema's canonicalValues are {allowed}", path)


def blank_required(path: str) -> InvalidValueError:
    """The error of a required string attribute that is empty or only whitespace: it holds no value (RFC 7643 §2.2)."""
    return InvalidValueError(f"{path} is required: an empty or blank string is no value (RFC 7643 §2.2)", path)


def utf8_size(value: str, path: str) -> int:
    """The UTF-8 size of ``value`` in bytes.

    Raises:
        InvalidSyntaxError: ``value`` holds a lone UTF-16 surrogate (not Unicode text, RFC 8259 §8.2).
    """
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise InvalidSyntaxError(f"{path}: invalid Unicode (lone surrogate at character {error.start})", path) from None


def is_date_time(value: str) -> bool:
    """Whether ``value`` is an xsd:dateTime the graph can store (RFC 7643 §2.3.5)."""
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_base64(value: str) -> bool:
    """Whether ``value`` is strict base64 (RFC 7643 §2.3.6, RFC 4648 §4: alphabet and padding checked)."""
    try:
        base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True
