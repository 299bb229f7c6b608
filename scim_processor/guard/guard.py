"""The Cypher guard: every query, generated or typed, is checked here before it reaches the server."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import CypherRejectedError
from ..graph.graph_schema import GraphSchema
from . import report as codes
from .checker import VALUE, SchemaChecker, Var
from .parser import CypherSyntaxError, parse
from .report import GuardReport, Position, Problem

ParameterDeclaration = Iterable[str] | Mapping[str, Any] | None


def declare_parameters(parameters: ParameterDeclaration) -> dict[str, Var]:
    """Parameter declarations for the checker.

    A set of names declares nothing about keys. In a mapping, a value that is a mapping declares
    that parameter's keys; a list of mappings declares the keys of its elements (for
    ``UNWIND $rows AS row``); a string or list of strings declares the key names a dynamic
    access ``n[$key]`` may take.
    """
    declared: dict[str, Var] = {}
    if parameters is None or not isinstance(parameters, Mapping):
        return declared
    for name, value in parameters.items():
        if isinstance(value, Mapping):
            declared[name] = Var("value", keys=frozenset(map(str, value)))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
            keys = frozenset(str(k) for item in value for k in item)
            declared[name] = Var("list", element=Var("value", keys=keys))
        elif isinstance(value, str):
            declared[name] = Var("value", keys=frozenset([value]))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            declared[name] = Var("value", keys=frozenset(value))
        else:
            declared[name] = VALUE
    return declared


def _signature(declared: Mapping[str, Var]) -> tuple[Any, ...]:
    return tuple(sorted((name, repr(var)) for name, var in declared.items() if var is not VALUE))


class CypherGuard:
    """Rejects Cypher that names what the graph schema does not define, or writes where it must not.

    Args:
        schema: the graph schema (from the SCIM schemas, or ``GraphSchema.from_structured``).
        allowed_procedures: procedures and user-defined functions to allow besides the read-only
            built-in allowlist (dotted names, matched case-insensitively).
        cache_size: how many reports to keep (least recently used are dropped).

    Reports are cached by (query text, mode, declared parameter keys): a parameterised query is
    parsed once.
    """

    def __init__(self, schema: GraphSchema, allowed_procedures: Iterable[str] = (), cache_size: int = 4096):
        self.schema = schema
        self.allowed = frozenset(name.lower() for name in allowed_procedures)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Any, ...], GuardReport] = OrderedDict()

    def check(self, query: str, *, read_only: bool = False, parameters: ParameterDeclaration = None) -> GuardReport:
        """Checks ``query``.

        Args:
            query: Cypher text.
            read_only: reject every write (also inside subqueries and UNION branches).
            parameters: parameter names, or a mapping from names to example values that declares
                their keys (see :func:`declare_parameters`).

        Returns:
            A :class:`GuardReport`; ``report.valid`` says whether it passed. Never raises on bad input.
        """
        declared = declare_parameters(parameters)
        key = (query, read_only, _signature(declared))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        report = self._check(query, read_only, declared)
        self._cache[key] = report
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return report

    def _check(self, query: str, read_only: bool, declared: Mapping[str, Var]) -> GuardReport:
        if not isinstance(query, str) or not query.strip():
            problem = Problem(codes.SYNTAX_ERROR, "the query is empty", None, Position(1, 1, 0))
            return GuardReport(str(query), read_only, (problem,))
        try:
            tree = parse(query)
        except CypherSyntaxError as error:
            problem = Problem(
                codes.SYNTAX_ERROR,
                f"invalid Cypher at line {error.line}, column {error.column}: {error.message}",
                None,
                Position(error.line, error.column, max(error.offset, 0)),
            )
            return GuardReport(query, read_only, (problem,))
        checker = SchemaChecker(self.schema, read_only, declared, self.allowed)
        try:
            checker.check(tree)
        except RecursionError:
            checker.problems.append(Problem(codes.SYNTAX_ERROR, "the query is nested too deeply", None, Position(1, 1, 0)))
        return GuardReport(query, read_only, tuple(checker.problems))

    def require(self, query: str, *, read_only: bool = False, parameters: ParameterDeclaration = None) -> GuardReport:
        """Like :meth:`check`, but raises when the query is rejected.

        Raises:
            CypherRejectedError: carrying the report.
        """
        report = self.check(query, read_only=read_only, parameters=parameters)
        if not report.valid:
            raise CypherRejectedError(report)
        return report
