"""The Cypher guard: parse any Cypher and reject what the graph schema does not allow."""

from .guard import CypherGuard, declare_parameters
from .parser import CypherSyntaxError, parse
from .report import CODES, GuardReport, Position, Problem, ProblemCode, Severity

__all__ = [
    "CODES", "CypherGuard", "CypherSyntaxError", "GuardReport", "Position", "Problem", "ProblemCode",
    "Severity",
    "declare_parameters", "parse",
]  # fmt: skip
