"""One root exception, and the SCIM errors (RFC 7644 §3.12) every rejected payload carries.

The SCIM errors are scim2-models' per-``scimType`` exceptions (``InvalidValueException``,
``UniquenessException``, ...) made members of the project's root error, so a caller can catch
``ScimProcessorError`` for everything this package raises on purpose, and ``SCIMException`` for
anything SCIM, whichever library raised it. Each carries the HTTP ``status``, the ``scimType``, a
``detail`` naming the offending attribute, and ``attribute``: that attribute's path in the one
notation the whole project uses (:func:`attribute_path`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scim2_models import (
    InvalidFilterException,
    InvalidPathException,
    InvalidSyntaxException,
    InvalidValueException,
    InvalidVersionException,
    MutabilityException,
    NoTargetException,
    NotFoundException,
    NotImplementedException,
    PayloadTooLargeException,
    PreconditionFailedException,
    SCIMException,
    TooManyException,
    UniquenessException,
)


class ScimProcessorError(Exception):
    """Root of every error this package raises on purpose."""


class UsageError(ScimProcessorError, ValueError):
    """A bad argument from the caller (an unknown dialect, a malformed option value, a limit below 1).

    Not a SCIM error: it is about how the package is called, not about a payload. It is also a
    :class:`ValueError`, so code that caught the plain ``ValueError`` raised before keeps working.
    """


def attribute_path(parts: Iterable[str | int], schema: str | None = None) -> str:
    """The project's one attribute-path notation, after RFC 7644 §3.10.

    Names are joined with ``.``; a position in a multi-valued attribute is written ``[i]``
    (0-based); an extension attribute is prefixed with its schema URN and ``:``.

    Example: ``attribute_path(["emails", 0, "value"])`` → ``emails[0].value``;
    ``attribute_path(["manager", "value"], "urn:…:enterprise:2.0:User")`` → ``urn:…:enterprise:2.0:User:manager.value``.
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return f"{schema}:{text}" if schema else text


class ScimError(ScimProcessorError, SCIMException):
    """A SCIM error response (RFC 7644 §3.12). Raise one of the subclasses, or :func:`scim_error`.

    Args:
        detail: a human-readable message naming the offending attribute.
        attribute: the attribute path the error is about (:func:`attribute_path`), if any.

    Attributes:
        status: the HTTP status code (400, 409, 413, ...).
        scim_type: the RFC 7644 §3.12 ``scimType`` keyword, or ``""`` where the RFC defines none.
    """

    def __init__(self, detail: str, attribute: str | None = None):
        super().__init__(detail=detail)
        self.attribute = attribute

    def to_dict(self) -> dict[str, Any]:
        """The RFC 7644 §3.12 error body: ``schemas``, ``status`` (a JSON string), ``scimType``, ``detail``."""
        return self.to_error().model_dump(exclude_none=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.scim_type!r}, {self.detail!r})"


class InvalidValueError(ScimError, InvalidValueException):
    """400 ``invalidValue``: a value of the wrong type, format, range, or outside canonicalValues."""


class InvalidSyntaxError(ScimError, InvalidSyntaxException):
    """400 ``invalidSyntax``: unparsable JSON, an unknown attribute or schema URN, a malformed message."""


class InvalidFilterError(ScimError, InvalidFilterException):
    """400 ``invalidFilter`` (RFC 7644 §3.4.2.2)."""


class InvalidPathError(ScimError, InvalidPathException):
    """400 ``invalidPath`` (RFC 7644 §3.5.2)."""


class NoTargetError(ScimError, NoTargetException):
    """400 ``noTarget`` (RFC 7644 §3.5.2)."""


class MutabilityError(ScimError, MutabilityException):
    """400 ``mutability``: an attempt to change an immutable or readOnly attribute."""


class TooManyError(ScimError, TooManyException):
    """400 ``tooMany``."""


class InvalidVersionError(ScimError, InvalidVersionException):
    """400 ``invalidVers``."""


class NotFoundError(ScimError, NotFoundException):
    """404: the resource does not exist."""


class UniquenessError(ScimError, UniquenessException):
    """409 ``uniqueness``: a value the schema says is unique is already held (RFC 7643 §2.2)."""


class PreconditionFailedError(ScimError, PreconditionFailedException):
    """412: an ETag precondition failed (RFC 7644 §3.14)."""


class PayloadTooLargeError(ScimError, PayloadTooLargeException):
    """413: the payload is over the size limit."""


class NotSupportedError(ScimError, NotImplementedException):
    """501: the operation is not supported (RFC 7644 §3.12)."""


class InternalError(ScimError):
    """500: the project itself failed on this payload (e.g. its generated Cypher did not pass the guard)."""

    status = 500


_BY_SCIM_TYPE: dict[str, type[ScimError]] = {
    cls.scim_type: cls
    for cls in (InvalidValueError, InvalidSyntaxError, InvalidFilterError, InvalidPathError, NoTargetError,
                MutabilityError, TooManyError, InvalidVersionError, UniquenessError)
}  # fmt: skip
_BY_STATUS: dict[int, type[ScimError]] = {
    cls.status: cls for cls in (NotFoundError, PreconditionFailedError, PayloadTooLargeError, NotSupportedError, InternalError)
}


def scim_error(status: int, scim_type: str | None, detail: str, attribute: str | None = None) -> ScimError:
    """The SCIM error class for ``scim_type`` (else ``status``), instantiated.

    Raises:
        UsageError: neither names a known error.
    """
    cls = _BY_SCIM_TYPE.get(scim_type or "") or _BY_STATUS.get(status)
    if cls is None or (scim_type and cls.status != status):
        raise UsageError(f"no SCIM error with status {status} and scimType {scim_type!r}")
    return cls(detail, attribute)


class SchemaDefinitionError(ScimProcessorError):
    """A schema or resource-type file is not a valid RFC 7643 §7/§6 definition, or breaks the mapping rule."""


class SettingsError(ScimProcessorError):
    """A setting (environment variable or ``.env``) has an invalid value."""


class GraphError(ScimProcessorError):
    """The graph server could not be started, reached or written to (an infrastructure error)."""


class CypherRejectedError(ScimProcessorError):
    """A Cypher query did not pass the guard; ``report`` holds every problem found.

    Args:
        report: the guard's :class:`scim_processor.guard.GuardReport`.
    """

    def __init__(self, report: Any):
        self.report = report
        super().__init__("; ".join(problem.message for problem in report.problems))
