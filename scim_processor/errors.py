"""One root exception and the SCIM error (RFC 7644 §3.12) every rejected payload carries."""

from __future__ import annotations

from typing import Any


class ScimProcessorError(Exception):
    """Root of every error this package raises on purpose."""


class ScimError(ScimProcessorError):
    """A SCIM error response (RFC 7644 §3.12): HTTP ``status``, ``scimType`` and a ``detail``.

    Args:
        status: the HTTP status code, e.g. 400, 409, 413.
        scim_type: the RFC 7644 §3.12 ``scimType`` keyword (``invalidValue``, ``invalidSyntax``,
            ``uniqueness``, ...), or None where the RFC defines none for the status (e.g. 413).
        detail: a human-readable message naming the offending attribute.
        attribute: the attribute path the error is about (RFC 7644 §3.10 notation), if any.
    """

    def __init__(self, status: int, scim_type: str | None, detail: str, attribute: str | None = None):
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type
        self.detail = detail
        self.attribute = attribute

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object of RFC 7644 §3.12 (without its ``schemas`` member)."""
        return {"status": self.status, "scimType": self.scim_type, "detail": self.detail}

    def __repr__(self) -> str:
        return f"ScimError({self.status}, {self.scim_type!r}, {self.detail!r})"


def invalid_value(detail: str, attribute: str | None = None) -> ScimError:
    """A 400 ``invalidValue`` error (RFC 7644 §3.12)."""
    return ScimError(400, "invalidValue", detail, attribute)


def invalid_syntax(detail: str, attribute: str | None = None) -> ScimError:
    """A 400 ``invalidSyntax`` error (RFC 7644 §3.12)."""
    return ScimError(400, "invalidSyntax", detail, attribute)


class SchemaDefinitionError(ScimProcessorError):
    """A schema or resource-type file in ``schemas/`` is not a valid RFC 7643 §7/§6 definition."""


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
