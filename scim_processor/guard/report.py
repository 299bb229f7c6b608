"""What the guard reports: problems with stable codes, and whether the query passed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNKNOWN_PROPERTY = "unknown_property"
UNKNOWN_LABEL = "unknown_label"
UNKNOWN_RELATIONSHIP_TYPE = "unknown_relationship_type"
RELATIONSHIP_DIRECTION = "relationship_direction"
WRITE_IN_READ_ONLY = "write_in_read_only"
SYNTAX_ERROR = "syntax_error"
DYNAMIC_PROPERTY = "dynamic_property"
UNKNOWN_PROCEDURE = "unknown_procedure"
UNSUPPORTED_COMMAND = "unsupported_command"

CODES = (
    UNKNOWN_PROPERTY, UNKNOWN_LABEL, UNKNOWN_RELATIONSHIP_TYPE, RELATIONSHIP_DIRECTION,
    WRITE_IN_READ_ONLY, SYNTAX_ERROR, DYNAMIC_PROPERTY, UNKNOWN_PROCEDURE, UNSUPPORTED_COMMAND,
)  # fmt: skip


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
    """One reason to reject a query.

    Attributes:
        code: one of :data:`CODES`.
        message: a sentence for a person or a model.
        name: the offending label, relationship type, property key, procedure or clause.
        position: where it is in the query text.
        suggestion: the closest name the schema does define, if any ("did you mean userName?").
    """

    code: str
    message: str
    name: str | None = None
    position: Position | None = None
    suggestion: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The problem as the CLI's JSON object."""
        return {
            "code": self.code,
            "message": self.message,
            "name": self.name,
            "position": self.position.to_json() if self.position else None,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class GuardReport:
    """The guard's verdict on one query in one mode."""

    query: str
    read_only: bool
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def codes(self) -> list[str]:
        """The problem codes, in order."""
        return [problem.code for problem in self.problems]
