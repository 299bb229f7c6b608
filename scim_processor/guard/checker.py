"""The schema pass over a Cypher 25 parse tree: every top-level query form through the same clauses.

Query forms (Neo4j Cypher manual, "Queries"): a single query, ``UNION [ALL]`` branches, Cypher 25
conditional queries ``WHEN cond THEN ... [ELSE ...]``, ``NEXT``-chained queries, braced
``{ ... }`` queries and ``CALL { ... }`` subqueries; each branch is checked clause by clause
(:mod:`.clauses`) from the same incoming scope. Administration and schema commands are refused.
Local definitions (``DEFINE``) are not understood and refused.
"""

from __future__ import annotations

from typing import Any

from .clauses import ClauseChecks
from .parser import Parser as P
from .report import ProblemCode
from .scopes import Scope, join, text_of


class SchemaChecker(ClauseChecks):
    """Checks one parse tree; problems collect in :attr:`problems` (see :class:`.base.CheckerBase`)."""

    def check(self, root: Any) -> None:
        """Checks every statement under the ``StatementsContext`` root."""
        for statement in root.statement():
            command = statement.command()
            if command is not None:
                words = " ".join(text_of(command).split()[:2])
                if words.split()[0].upper() in ("SHOW", "TERMINATE"):
                    self.report(
                        ProblemCode.ADMIN_COMMAND,
                        f"{words} is an administration command; it is not allowed",
                        command,
                        words,
                    )
                elif self.read_only:
                    self.report(
                        ProblemCode.WRITE_IN_READ_ONLY,
                        "administration and schema commands are not allowed in read-only mode",
                        command,
                        words,
                    )
                else:
                    self.report(
                        ProblemCode.UNSUPPORTED_COMMAND,
                        "administration and schema commands are not allowed",
                        command,
                        words,
                    )
            elif statement.queryWithLocalDefinitions() is not None:
                self.query_with_defs(statement.queryWithLocalDefinitions(), {})

    def query_with_defs(self, ctx: Any, scope: Scope) -> Scope:
        """A query, possibly ``NEXT``-chained; returns the variables the last part returns."""
        for definition in ctx.localDefinition():
            self.unsupported(definition, "DEFINE")
        out: Scope = {}
        incoming = scope
        for regular in ctx.nextStatement().regularQuery():
            out = self._regular_query(regular, incoming)
            incoming = {**scope, **out}
        return out

    def _regular_query(self, ctx: Any, scope: Scope) -> Scope:
        branches: list[Any] = []
        if ctx.union() is not None:
            branches = list(ctx.union().singleQuery())
        else:  # Cypher 25 conditional query: WHEN cond THEN q ... [ELSE q]
            when = ctx.when()
            for branch in when.whenBranch():
                self.visit(branch.expression(), scope)
                branches.append(branch.singleQuery())
            if when.elseBranch() is not None:
                branches.append(when.elseBranch().singleQuery())
        out: Scope = {}
        for single in branches:  # every branch starts from the same scope
            for name, var in self._single_query(single, dict(scope)).items():
                out[name] = join(out[name], var) if name in out else var
        return out

    def _single_query(self, ctx: Any, scope: Scope) -> Scope:
        if ctx.useClause() is not None:
            self.clause_use(ctx.useClause(), scope)
        inner = ctx.queryWithLocalDefinitions()
        if inner is not None:
            return self.query_with_defs(inner, scope)
        returned: Scope = {}
        for clause in ctx.clause():
            scope, returned = self.clause(clause, scope)
            if isinstance(clause.getChild(0), P.ComposableCommandClausesContext):
                break  # refused; what it yields is unknown, so the clauses after it are not checked
        return returned

    def clause_use(self, ctx: Any, scope: Scope) -> None:
        """A ``USE`` in front of a braced query."""
        self._use(ctx, scope)
