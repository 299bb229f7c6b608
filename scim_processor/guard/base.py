"""State and reporting shared by the checker's parts (clauses, patterns, expressions)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ..graph.graph_schema import GraphSchema
from .parser import RuleNode
from .paths import SchemaRelations
from .report import Position, Problem, ProblemCode, Severity
from .scopes import Scope, Var

T = TypeVar("T")

# Procedures that only read, allowed in every mode.
READ_PROCEDURES = frozenset(
    {
        "db.labels", "db.relationshiptypes", "db.propertykeys", "db.schema.visualization",
        "db.schema.nodetypeproperties", "db.schema.reltypeproperties", "dbms.components", "db.info",
    }
)  # fmt: skip


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The schema name closest to ``name`` (same name in another case first), or None."""
    pool = sorted(set(candidates))
    lowered = name.lower()
    for candidate in pool:
        if candidate.lower() == lowered:
            return candidate
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return close[0] if close else None


class CheckerBase:
    """Holds the schema, the mode and the problems found; the other parts build on it.

    Args:
        schema: the graph schema.
        read_only: the query must not write, change the session or read outside the schema.
        parameters: parameter name → :class:`Var` (declared map keys), from the caller.
        allowed: extra procedures or functions (lower-case, dotted) allowed in write mode.
        allowed_read: extra procedures allowed in read-only mode too.
    """

    def __init__(
        self,
        schema: GraphSchema,
        read_only: bool,
        parameters: Mapping[str, Var],
        allowed: frozenset[str] = frozenset(),
        allowed_read: frozenset[str] = frozenset(),
        relations: SchemaRelations | None = None,
    ):
        self.schema = schema
        self.read_only = read_only
        self.parameters = parameters
        self.allowed = allowed | allowed_read
        self.allowed_read = allowed_read | READ_PROCEDURES
        self.relations = relations or SchemaRelations(schema)
        self.problems: list[Problem] = []
        self._memo: dict[tuple[str, int], tuple[Any, Any]] = {}
        self.node_keys = frozenset(k for props in schema.node_props.values() for k in props)
        self.rel_keys = frozenset(k for props in schema.rel_props.values() for k in props)

    # ----------------------------------------------------------------- reporting
    def report(
        self,
        code: ProblemCode,
        message: str,
        at: Any,
        name: str | None = None,
        suggestion: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        """Records a problem at the start of parse node (or token) ``at``; duplicates are dropped."""
        token = at.start if isinstance(at, RuleNode) else getattr(at, "symbol", at)
        position = Position(token.line, token.column + 1, token.start) if token is not None else None
        problem = Problem(code, message, name, position, suggestion, severity)
        if problem not in self.problems:
            self.problems.append(problem)

    def write(self, ctx: Any, clause: str) -> None:
        """Reports ``clause`` (a write) when the query must be read-only."""
        if self.read_only:
            self.report(
                ProblemCode.WRITE_IN_READ_ONLY,
                f"{clause} writes to the graph; this query must be read-only",
                ctx,
                clause,
            )

    def unsupported(self, ctx: Any, what: str) -> None:
        """Reports a clause or expression kind the checker does not understand (deny by default)."""
        self.report(ProblemCode.UNSUPPORTED_CLAUSE, f"{what} is not supported by the guard", ctx, what)

    def once(self, kind: str, ctx: Any, compute: Callable[[], T]) -> T:
        """``compute()`` the first time for parse node ``ctx``; its result afterwards.

        Subqueries, comprehensions and ``reduce`` are both visited and inferred, and nest: without
        this, a query's cost would grow exponentially with their depth. The node is kept with the
        result so its ``id`` cannot be reused while the check runs.
        """
        key = (kind, id(ctx))
        if key not in self._memo:
            self._memo[key] = (ctx, compute())
        return self._memo[key][1]  # type: ignore[no-any-return]

    # ----------------------------------------------------------------- names
    def check_label(self, name: str, at: Any) -> None:
        """Reports ``name`` unless it is a label of the schema."""
        if name not in self.schema.node_props:
            hint = suggest(name, self.schema.labels)
            more = f"; did you mean {hint}?" if hint else ""
            self.report(
                ProblemCode.UNKNOWN_LABEL, f"label {name} is not in the graph schema{more}", at, name, hint
            )

    def check_rel_type(self, name: str, at: Any) -> None:
        """Reports ``name`` unless it is a relationship type of the schema."""
        if name not in self.relations.types:
            hint = suggest(name, self.relations.types)
            more = f"; did you mean {hint}?" if hint else ""
            self.report(
                ProblemCode.UNKNOWN_RELATIONSHIP_TYPE,
                f"relationship type {name} is not in the graph schema{more}",
                at,
                name,
                hint,
            )

    def allowed_keys(self, var: Var) -> tuple[frozenset[str], str] | None:
        """The property keys ``var`` may carry and who owns them; None when keys are not checked."""
        if var.kind == "any":
            return self.node_keys | self.rel_keys, "any label or relationship type"
        if var.kind not in ("node", "rel"):
            return None
        props = self.schema.node_props if var.kind == "node" else self.schema.rel_props
        if var.names is None:
            pool = self.node_keys if var.kind == "node" else self.rel_keys
            return pool, "any label" if var.kind == "node" else "any relationship type"
        keys = frozenset(k for n in var.names for k in props.get(n, {}))
        return keys, "|".join(sorted(var.names)) or "no label"

    def property_type(self, var: Var, key: str) -> str | None:
        """The schema type of ``key`` on ``var`` when every label (type) that has it agrees."""
        if var.kind not in ("node", "rel") or var.names is None:
            return None
        props = self.schema.node_props if var.kind == "node" else self.schema.rel_props
        kinds = {props[n][key] for n in var.names if key in props.get(n, {})}
        return kinds.pop() if len(kinds) == 1 else None

    def check_key(self, var: Var, key: str, at: Any, variable: str | None = None) -> None:
        """Checks property key ``key`` read or written on a value described by ``var``."""
        allowed = self.allowed_keys(var)
        if allowed is None or key in allowed[0]:
            return
        hint = suggest(key, allowed[0])
        more = f"; did you mean {hint}?" if hint else ""
        who = f"{variable} ({allowed[1]})" if variable else allowed[1]
        self.report(
            ProblemCode.UNKNOWN_PROPERTY, f"property key {key} is not defined for {who}{more}", at, key, hint
        )

    def check_keys(self, var: Var, keys: Iterable[str], at: Any, variable: str | None) -> None:
        """:meth:`check_key` for each of the keys a caller declared for a parameter."""
        for key in sorted(keys):
            self.check_key(var, key, at, variable)

    def check_whole(self, var: Var, at: Any, what: str) -> None:
        """Read-only mode: rejects reading a whole node/relationship that may lie outside the schema."""
        if self.read_only and var.open:
            self.report(
                ProblemCode.NON_SCHEMA_READ,
                f"{what} may read nodes or relationships outside the graph schema; give it a label "
                "(or relationship type) of the schema, or return only schema properties",
                at,
                what,
            )

    # ----------------------------------------------------------------- parts (implemented by the mixins)
    def visit(self, ctx: Any, scope: Scope) -> None:
        """Checks an expression (or any rule) under ``scope``."""
        raise NotImplementedError

    def infer(self, ctx: Any, scope: Scope) -> Var:
        """What an expression evaluates to."""
        raise NotImplementedError

    def pattern(self, ctx: Any, scope: Scope, writing: bool, optional: bool = False) -> None:
        """Checks one ``pattern`` and binds its variables into ``scope`` (in place)."""
        raise NotImplementedError

    def pattern_element(self, ctx: Any, scope: Scope, writing: bool, optional: bool = False) -> Var:
        """Checks a chain of node and relationship patterns; returns the path it matches."""
        raise NotImplementedError

    def query_with_defs(self, ctx: Any, scope: Scope) -> Scope:
        """Checks a (sub)query; returns the variables it returns."""
        raise NotImplementedError

    def clause(self, clause: Any, scope: Scope) -> tuple[Scope, Scope]:
        """Checks one clause; returns the scope after it and what it returns."""
        raise NotImplementedError

    def call_subquery(self, ctx: Any, scope: Scope) -> Scope:
        """Checks ``CALL { ... }``; returns the scope after it."""
        raise NotImplementedError
