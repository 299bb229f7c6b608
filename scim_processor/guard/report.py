"""What the guard reports: problems with stable codes and a severity, and whether the query passed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ProblemCode(StrEnum):
    """The stable problem codes (the CLI's JSON ``code``; values are the lower-case names)."""

    SYNTAX_ERROR = "syntax_error"
    QUERY_TOO_LARGE = "query_too_large"
    UNKNOWN_LABEL = "unknown_label"
    UNKNOWN_RELATIONSHIP_TYPE = "unknown_relationship_type"
    UNKNOWN_PROPERTY = "unknown_property"
    RELATIONSHIP_DIRECTION = "relationship_direction"
    DYNAMIC_PROPERTY = "dynamic_property"
    UNDEFINED_VARIABLE = "undefined_variable"
    NON_SCHEMA_READ = "non_schema_read"
    WRITE_IN_READ_ONLY = "write_in_read_only"
    LOAD_CSV_IN_READ_ONLY = "load_csv_in_read_only"
    PROCEDURE_IN_READ_ONLY = "procedure_in_read_only"
    UNKNOWN_PROCEDURE = "unknown_procedure"
    USE_GRAPH = "use_graph"
    ADMIN_COMMAND = "admin_command"
    UNSUPPORTED_COMMAND = "unsupported_command"
    UNSUPPORTED_CLAUSE = "unsupported_clause"
    TYPE_MISMATCH = "type_mismatch"


class Severity(StrEnum):
    """``error`` makes a report invalid; ``warning`` is advice (e.g. a type hint)."""

    ERROR = "error"
    WARNING = "warning"


CODES = tuple(ProblemCode)
"""Every code, in declaration order (kept for callers of the earlier tuple of strings)."""


@dataclass(frozen=True)
class Position:
    """Where a problem starts: ``line`` and ``column`` 1-based, ``offset`` 0-based characters."""

    line: int
    column: int
    offset: int

    def to_json(self) -> dict[str, int]:
        """``{"line": ..., "column": ..., "offset": ...}``."""
        return {"line": self.line, "column": self.column, "offset": self.offset}


@dataclass(frozen=True)
class Problem:
    """One finding on a query.

    Attributes:
        code: a :class:`ProblemCode`.
        message: a sentence for a person or a model.
        name: the offending label, relationship type, property key, variable, procedure or clause.
        position: where it is in the query text.
        suggestion: the closest name the schema does define, or a corrected literal, if any.
        severity: :attr:`Severity.ERROR` (rejects the query) or :attr:`Severity.WARNING`.
    """

    code: ProblemCode
    message: str
    name: str | None = None
    position: Position | None = None
    suggestion: str | None = None
    severity: Severity = Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        """The problem as the CLI's JSON object."""
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "message": self.message,
            "name": self.name,
            "position": self.position.to_json() if self.position else None,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class GuardReport:
    """The guard's verdict on one query in one mode; ``problems`` holds errors and warnings."""

    query: str
    read_only: bool
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems of severity error."""
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems of severity warning."""
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def valid(self) -> bool:
        """True when no problem of severity error was found (warnings do not reject)."""
        return not self.errors

    @property
    def codes(self) -> list[str]:
        """The codes of every problem (errors and warnings), in order."""
        return [str(problem.code) for problem in self.problems]
