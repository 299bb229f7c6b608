"""Clauses: an explicit table of the clause kinds the guard understands; anything else is refused.

Updating clauses are in :mod:`.updates`. Read-only mode (Neo4j Operations manual, "Access
control": the ``reader`` role) allows no clause that writes, no ``LOAD CSV`` (it reads files and
URLs from the server), and only read procedures. ``USE`` and ``SHOW``/``TERMINATE`` commands are
refused in both modes: the schema describes one graph, and administration is not the guard's to
allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .functions import function_name
from .labels import label_tree
from .parser import Parser as P
from .report import ProblemCode
from .scopes import VALUE, Scope, Var, bare_variable, descendants, element_of, name_of, only_child, text_of
from .updates import UpdateChecks


class ClauseChecks(UpdateChecks):
    """Clause checks; see the module docstring."""

    def clause(self, clause: Any, scope: Scope) -> tuple[Scope, Scope]:
        """Checks one clause; returns the scope after it and what it returns (RETURN only)."""
        ctx = clause.getChild(0)
        handler = _CLAUSES.get(type(ctx))
        if handler is None:
            self.unsupported(ctx, " ".join(text_of(ctx).split()[:2]))
            return scope, {}
        return handler(self, ctx, scope)

    def _match(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        if ctx.searchClause() is not None:
            self.unsupported(ctx.searchClause(), "SEARCH")
        scope = dict(scope)
        for pattern in ctx.patternList().pattern():
            self.pattern(pattern, scope, writing=False, optional=ctx.OPTIONAL() is not None)
        if ctx.whereClause() is not None:
            self.visit(ctx.whereClause(), scope)
            if ctx.OPTIONAL() is None:
                self._narrow(ctx.whereClause().expression(), scope)
        for hint in ctx.hint() or []:
            self.visit(hint, scope)
        return scope, {}

    def _narrow(self, where: Any, scope: Scope) -> None:
        """``WHERE n:User AND ...``: a label test in a top-level conjunct narrows ``n`` (in place)."""
        top = only_child(where)
        conjuncts = top.expression9() if isinstance(top, P.Expression10Context) else [top]
        for conjunct in conjuncts:
            node = only_child(conjunct)
            if not isinstance(node, P.Expression7Context):
                continue
            test = node.comparisonExpression6()
            variable = bare_variable(node.expression6())
            var = scope.get(variable) if variable else None
            if (
                not isinstance(test, P.LabelComparisonContext)
                or test.NOT()
                or var is None
                or var.kind != "node"
            ):
                continue
            tree = label_tree(test.labelExpression4())
            if tree.dynamic() or tree.reaches_outside(single=False):
                continue
            if any(not neg and name not in self.relations.labels for name, _, neg in tree.names()):
                continue
            names = tree.possible(self.relations.labels, single=False)
            scope[variable] = Var("node", names if var.names is None else names & var.names)  # type: ignore[index]

    def _projection(self, body: Any, scope: Scope, where: Any, returning: bool) -> Scope:
        """WITH / RETURN: checks the items and returns the projected scope."""
        items = body.returnItems()
        projected: Scope = dict(scope) if items.TIMES() is not None else {}
        if returning and items.TIMES() is not None:
            for name, var in scope.items():
                self.check_whole(var, items, name)
        for item in items.returnItem():
            expression = item.expression()
            self.visit(expression, scope)
            var = self.infer(expression, scope)
            if returning and var.open:  # (the text only when it is reported)
                self.check_whole(var, item, text_of(expression))
            alias = item.variable()
            name = name_of(alias) if alias is not None else bare_variable(expression) or text_of(expression)
            projected[name] = var
        after = {**scope, **projected}
        for part in (body.orderBy(), body.skip(), body.limit(), where):
            if part is not None:
                self.visit(part, after)
        return projected

    def _with(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        return self._projection(ctx.returnBody(), scope, ctx.whereClause(), returning=False), {}

    def _return(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        returned = self._projection(ctx.returnBody(), scope, None, returning=True)
        return returned, returned

    def _unwind(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.visit(ctx.expression(), scope)
        return {**scope, name_of(ctx.variable()): element_of(self.infer(ctx.expression(), scope))}, {}

    def _call_procedure(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        name = function_name(ctx.procedureName())
        lowered = name.lower()
        if lowered not in self.allowed_read and lowered not in self.allowed:
            self.report(
                ProblemCode.UNKNOWN_PROCEDURE,
                f"procedure {name} is not on the allowlist",
                ctx.procedureName(),
                name,
            )
        elif self.read_only and lowered not in self.allowed_read:
            self.report(
                ProblemCode.PROCEDURE_IN_READ_ONLY,
                f"procedure {name} is not on the read-only allowlist",
                ctx.procedureName(),
                name,
            )
        for argument in ctx.procedureArgument():
            self.visit(argument, scope)
        out = dict(scope)
        for item in ctx.procedureResultItem():
            for variable in item.variable() if isinstance(item.variable(), list) else [item.variable()]:
                if variable is not None:
                    out[name_of(variable)] = VALUE
        if ctx.whereClause() is not None:
            self.visit(ctx.whereClause(), out)
        return out, {}

    def call_subquery(self, ctx: Any, scope: Scope) -> Scope:
        """``CALL { }`` / ``CALL (x) { }``; ``IN TRANSACTIONS`` writes only if its body does."""
        if ctx.subqueryInTransactionsParameters() is not None:
            self.visit(ctx.subqueryInTransactionsParameters(), scope)
        imported = scope
        scope_clause = ctx.subqueryScope()
        if scope_clause is not None and scope_clause.TIMES() is None:
            imported = {}
            for variable in scope_clause.variable():
                name = name_of(variable)
                if name not in scope:
                    self.report(
                        ProblemCode.UNDEFINED_VARIABLE, f"variable `{name}` not defined", variable, name
                    )
                imported[name] = scope.get(name, VALUE)
        returned = self.query_with_defs(ctx.queryWithLocalDefinitions(), dict(imported))
        status: Scope = {}
        if ctx.subqueryInTransactionsParameters() is not None:  # REPORT STATUS AS s: a map per batch
            status = {
                name_of(v): VALUE
                for v in descendants(ctx.subqueryInTransactionsParameters(), (P.VariableContext,))
            }
        return {**scope, **returned, **status}

    def _subquery(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        return self.call_subquery(ctx, scope), {}

    def _load_csv(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        if self.read_only:
            self.report(
                ProblemCode.LOAD_CSV_IN_READ_ONLY,
                "LOAD CSV reads files or URLs from the server; it is not allowed in read-only mode",
                ctx,
                "LOAD CSV",
            )
        self.visit(ctx.expression(), scope)
        return {**scope, name_of(ctx.variable()): VALUE}, {}

    def _let(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        for item in ctx.letItem():
            self.visit(item.expression(), scope)
            scope = {**scope, name_of(item.variable()): self.infer(item.expression(), scope)}
        return scope, {}

    def _for_list(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.visit(ctx.expression(), scope)
        return {**scope, name_of(ctx.variable()): element_of(self.infer(ctx.expression(), scope))}, {}

    def _filter_or_page(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.visit_children(ctx, scope)
        return scope, {}

    def _finish(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        return scope, {}

    def _use(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        graph = ctx.graphReference().getText() if ctx.graphReference() is not None else "?"
        self.report(
            ProblemCode.USE_GRAPH,
            f"USE {graph}: the graph schema describes only the session's graph; "
            "queries may not switch graphs",
            ctx,
            graph,
        )
        return scope, {}

    def _admin(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        words = " ".join(text_of(ctx).split()[:2])
        self.report(
            ProblemCode.ADMIN_COMMAND, f"{words} is an administration command; it is not allowed", ctx, words
        )
        return scope, {}


_CLAUSES: dict[type, Callable[[Any, Any, Scope], tuple[Scope, Scope]]] = {
    P.MatchClauseContext: ClauseChecks._match,
    P.CreateClauseContext: UpdateChecks._create,
    P.MergeClauseContext: UpdateChecks._merge,
    P.SetClauseContext: UpdateChecks._set,
    P.RemoveClauseContext: UpdateChecks._remove,
    P.DeleteClauseContext: UpdateChecks._delete,
    P.WithClauseContext: ClauseChecks._with,
    P.ReturnClauseContext: ClauseChecks._return,
    P.UnwindClauseContext: ClauseChecks._unwind,
    P.ForeachClauseContext: UpdateChecks._foreach,
    P.CallClauseContext: ClauseChecks._call_procedure,
    P.SubqueryClauseContext: ClauseChecks._subquery,
    P.LoadCSVClauseContext: ClauseChecks._load_csv,
    P.LetClauseContext: ClauseChecks._let,
    P.ForListClauseContext: ClauseChecks._for_list,
    P.FilterClauseContext: ClauseChecks._filter_or_page,
    P.OrderBySkipLimitClauseContext: ClauseChecks._filter_or_page,
    P.FinishClauseContext: ClauseChecks._finish,
    P.UseClauseContext: ClauseChecks._use,
    P.ComposableCommandClausesContext: ClauseChecks._admin,
}
