"""The Cypher guard: every query, generated or typed, is checked here before it reaches the server."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import CypherRejectedError
from ..graph.graph_schema import GraphSchema
from .checker import SchemaChecker
from .parser import CypherSyntaxError, parse
from .paths import SchemaRelations
from .report import GuardReport, Position, Problem, ProblemCode
from .scopes import VALUE, Var, list_of

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
            declared[name] = list_of(Var("value", keys=keys))
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
            built-in allowlist (dotted names, matched case-insensitively). Functions cannot write
            (Neo4j: user-defined functions are read-only), so they are allowed in both modes;
            these procedures only outside read-only mode.
        cache_size: how many reports to keep (least recently used are dropped).
        max_query_chars: longer queries are rejected (``query_too_large``) before parsing, which
            keeps the parser's time and memory bounded.
        allowed_read_procedures: procedures known to only read, allowed in read-only mode too.

    Reports are cached by (query text, mode, declared parameter keys): a parameterised query is
    parsed once.
    """

    def __init__(
        self,
        schema: GraphSchema,
        allowed_procedures: Iterable[str] = (),
        cache_size: int = 4096,
        *,
        max_query_chars: int = 100_000,
        allowed_read_procedures: Iterable[str] = (),
    ):
        self.schema = schema
        self.allowed = frozenset(name.lower() for name in allowed_procedures)
        self.allowed_read = frozenset(name.lower() for name in allowed_read_procedures)
        self.cache_size = cache_size
        self.max_query_chars = max_query_chars
        self._relations = SchemaRelations(schema)
        self._cache: OrderedDict[tuple[Any, ...], GuardReport] = OrderedDict()

    def check(
        self, query: str, *, read_only: bool = False, parameters: ParameterDeclaration = None
    ) -> GuardReport:
        """Checks ``query``.

        Args:
            query: Cypher text.
            read_only: also reject writes (in every branch and subquery), ``LOAD CSV``, procedures
                outside the read allowlist, and reads of whole nodes or relationships that may lie
                outside the schema.
            parameters: parameter names, or a mapping from names to example values that declares
                their keys (see :func:`declare_parameters`).

        Returns:
            A :class:`GuardReport`; ``report.valid`` is False when it holds an error (warnings do
            not count). Never raises on bad input.
        """
        declared = declare_parameters(parameters)
        if isinstance(query, str) and len(query) > self.max_query_chars:  # not worth a cache slot
            return self._check(query, read_only, declared)
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
            problem = Problem(ProblemCode.SYNTAX_ERROR, "the query is empty", None, Position(1, 1, 0))
            return GuardReport(str(query), read_only, (problem,))
        if len(query) > self.max_query_chars:
            message = f"the query has {len(query)} characters; the limit is {self.max_query_chars}"
            problem = Problem(ProblemCode.QUERY_TOO_LARGE, message, None, Position(1, 1, 0))
            return GuardReport(query, read_only, (problem,))
        try:
            tree = parse(query)
        except CypherSyntaxError as error:
            problem = Problem(
                ProblemCode.SYNTAX_ERROR,
                str(error),
                None,
                Position(error.line, error.column, max(error.offset, 0)),
            )
            return GuardReport(query, read_only, (problem,))
        checker = SchemaChecker(
            self.schema, read_only, declared, self.allowed, self.allowed_read, self._relations
        )
        try:
            checker.check(tree)
        except RecursionError:
            problem = Problem(
                ProblemCode.SYNTAX_ERROR, "the query is nested too deeply", None, Position(1, 1, 0)
            )
            checker.problems.append(problem)
        except Exception as error:  # noqa: BLE001 - deny by default: what cannot be checked is rejected
            message = f"the guard cannot check this query ({type(error).__name__})"
            checker.problems.append(Problem(ProblemCode.UNSUPPORTED_CLAUSE, message, None, Position(1, 1, 0)))
        return GuardReport(query, read_only, tuple(checker.problems))

    def require(
        self, query: str, *, read_only: bool = False, parameters: ParameterDeclaration = None
    ) -> GuardReport:
        """Like :meth:`check`, but raises when the query is rejected.

        Raises:
            CypherRejectedError: carrying the report.
        """
        report = self.check(query, read_only=read_only, parameters=parameters)
        if not report.valid:
            raise CypherRejectedError(report)
        return report
