"""The schema pass over a Cypher 25 parse tree: variable binding, labels, keys, endpoints, writes.

The checker walks each query part in order, keeping a scope that maps variable names to what is
known of them (a node with its possible labels, a relationship with its possible types, a list of
either, a path, or a plain value). Scopes flow through ``MATCH`` / ``OPTIONAL MATCH``,
``WITH`` (aliasing, ``collect``), ``UNWIND``, ``FOREACH``, ``CALL { ... }`` subqueries (imported and
returned variables), ``EXISTS { ... }`` / ``COUNT { ... }`` / ``COLLECT { ... }``, list and pattern
comprehensions, and each ``UNION`` branch.

What a property key is checked against: the labels (or relationship types) the variable is known
to have; for a node or relationship whose labels are unknown, every key of the schema; a plain
value (a map, a parameter row) is not checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from antlr4 import ParserRuleContext
from antlr4.tree.Tree import TerminalNode

from ..graph.graph_schema import GraphSchema
from . import report as codes
from .parser import Parser as P
from .report import Position, Problem

# Built-in Cypher functions (Neo4j 5 / Cypher 25), lower-cased. Anything else is user-defined.
BUILTIN_FUNCTIONS = frozenset(
    """abs acos asin atan atan2 avg ceil char_length character_length coalesce collect cos cot count
    degrees e elementid endnode exists exp file floor haversin head id isempty isnan keys labels last
    left length linenumber log log10 lower ltrim max min nodes nullif percentilecont percentiledisc pi
    point properties radians rand randomuuid range reduce relationships replace reverse right round
    rtrim btrim sign sin size split sqrt startnode stdev stdevp substring sum tail tan timestamp
    toboolean tobooleanlist tobooleanornull tofloat tofloatlist tofloatornull tointeger tointegerlist
    tointegerornull tolower tostring tostringlist tostringornull toupper trim type upper valuetype
    date datetime localdatetime localtime time duration normalize isnormalized vector
    vector_dimension_count vector_distance vector_norm""".split()
)
BUILTIN_NAMESPACES = ("date.", "datetime.", "localdatetime.", "localtime.", "time.", "duration.", "point.", "vector.")
# Procedures that only read, allowed in every mode.
READ_PROCEDURES = frozenset(
    {
        "db.labels", "db.relationshiptypes", "db.propertykeys", "db.schema.visualization",
        "db.schema.nodetypeproperties", "db.schema.reltypeproperties", "dbms.components", "db.info",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Var:
    """What is known of a variable.

    Attributes:
        kind: ``node``, ``rel``, ``path``, ``list`` or ``value``.
        names: possible labels (node) or types (rel); None when unknown.
        element: for a list, what its elements are.
        keys: for a map value whose keys the caller declared, those keys.
    """

    kind: str
    names: frozenset[str] | None = None
    element: Var | None = None
    keys: frozenset[str] | None = None


VALUE = Var("value")
UNKNOWN_NODE = Var("node")
Scope = dict[str, Var]


class SchemaChecker:
    """Checks one parse tree against ``schema``; problems collect in :attr:`problems`.

    Args:
        schema: the graph schema.
        read_only: report every write as ``write_in_read_only``.
        parameters: parameter name → :class:`Var` (declared map keys), from the caller.
        allowed_procedures: extra procedures or functions (lower-case, dotted) to allow.
    """

    def __init__(
        self,
        schema: GraphSchema,
        read_only: bool,
        parameters: Mapping[str, Var],
        allowed_procedures: frozenset[str] = frozenset(),
    ):
        self.schema = schema
        self.read_only = read_only
        self.parameters = parameters
        self.allowed = allowed_procedures
        self.problems: list[Problem] = []
        self._all_node_keys = frozenset(k for props in schema.node_props.values() for k in props)
        self._all_rel_keys = frozenset(k for props in schema.rel_props.values() for k in props)
        self._rel_types = schema.relationship_types

    # ----------------------------------------------------------------- reporting
    def _report(self, code: str, message: str, at: Any, name: str | None = None, suggestion: str | None = None) -> None:
        token = at.start if isinstance(at, ParserRuleContext) else getattr(at, "symbol", at)
        position = Position(token.line, token.column + 1, token.start) if token is not None else None
        problem = Problem(code, message, name, position, suggestion)
        if problem not in self.problems:
            self.problems.append(problem)

    @staticmethod
    def _suggest(name: str, candidates: Iterable[str]) -> str | None:
        pool = sorted(set(candidates))
        lowered = name.lower()
        for candidate in pool:
            if candidate.lower() == lowered:
                return candidate
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
        return close[0] if close else None

    def _write(self, ctx: Any, clause: str) -> None:
        if self.read_only:
            self._report(codes.WRITE_IN_READ_ONLY, f"{clause} writes to the graph; this query must be read-only", ctx, clause)

    # ----------------------------------------------------------------- names
    @staticmethod
    def _name(ctx: Any) -> str:
        text = str(ctx.getText())
        return text[1:-1].replace("``", "`") if text.startswith("`") else text

    def _check_label(self, name: str, at: Any) -> None:
        if name not in self.schema.node_props:
            suggestion = self._suggest(name, self.schema.labels)
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            self._report(codes.UNKNOWN_LABEL, f"label {name} is not in the graph schema{hint}", at, name, suggestion)

    def _check_rel_type(self, name: str, at: Any) -> None:
        if name not in self._rel_types:
            suggestion = self._suggest(name, self._rel_types)
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            self._report(
                codes.UNKNOWN_RELATIONSHIP_TYPE, f"relationship type {name} is not in the graph schema{hint}", at, name, suggestion
            )

    def _check_key(self, var: Var | None, key: str, at: Any, variable: str | None = None) -> None:
        """Checks property key ``key`` read or written on a variable described by ``var``."""
        if var is None:
            allowed, owner = self._all_node_keys | self._all_rel_keys, "any label or relationship type"
        elif var.kind == "node":
            if var.names is None:
                allowed, owner = self._all_node_keys, "any label"
            else:
                allowed = frozenset(k for n in var.names for k in self.schema.node_props.get(n, {}))
                owner = "|".join(sorted(var.names))
        elif var.kind == "rel":
            if var.names is None:
                allowed, owner = self._all_rel_keys, "any relationship type"
            else:
                allowed = frozenset(k for n in var.names for k in self.schema.rel_props.get(n, {}))
                owner = "|".join(sorted(var.names))
        else:
            return
        if key not in allowed:
            suggestion = self._suggest(key, allowed)
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            who = f"{variable} ({owner})" if variable else owner
            self._report(codes.UNKNOWN_PROPERTY, f"property key {key} is not defined for {who}{hint}", at, key, suggestion)

    def _check_keys(self, var: Var | None, keys: Iterable[str], at: Any, variable: str | None) -> None:
        """:meth:`_check_key` for each of the keys a caller declared for a parameter."""
        for key in sorted(keys):
            self._check_key(var, key, at, variable)

    # ----------------------------------------------------------------- statements and queries
    def check(self, root: Any) -> None:
        """Checks every statement under the ``StatementsContext`` root."""
        for statement in root.statement():
            if statement.command() is not None:
                command = statement.command()
                source = command.start.getInputStream().getText(command.start.start, command.stop.stop)
                text = " ".join(source.split()[:2])
                if self.read_only:
                    self._report(codes.WRITE_IN_READ_ONLY, "administration and schema commands are not allowed in read-only mode", command, text)
                else:
                    self._report(codes.UNSUPPORTED_COMMAND, "administration and schema commands are not allowed", command, text)
            elif statement.queryWithLocalDefinitions() is not None:
                self._query_with_defs(statement.queryWithLocalDefinitions(), {})

    def _query_with_defs(self, ctx: Any, scope: Scope) -> Scope:
        out: Scope = {}
        for child in ctx.getChildren():
            if isinstance(child, P.NextStatementContext):
                for regular in child.regularQuery():
                    out = self._regular_query(regular, scope)
            elif isinstance(child, ParserRuleContext):
                self._visit(child, scope)
        return out

    def _regular_query(self, ctx: Any, scope: Scope) -> Scope:
        out: Scope = {}
        union = ctx.union()
        if union is None:  # Cypher 25 conditional query (WHEN ... THEN ...)
            self._visit_children(ctx, scope)
            return out
        for single in union.singleQuery():  # each UNION branch starts from the same scope
            returned = self._single_query(single, dict(scope))
            for name, var in returned.items():
                out[name] = var if name not in out or out[name] == var else VALUE
        return out

    def _single_query(self, ctx: Any, scope: Scope) -> Scope:
        inner = ctx.queryWithLocalDefinitions()
        if inner is not None:
            return self._query_with_defs(inner, scope)
        returned: Scope = {}
        for clause in ctx.clause():
            scope, returned = self._clause(clause, scope)
        return returned

    # ----------------------------------------------------------------- clauses
    def _clause(self, clause: Any, scope: Scope) -> tuple[Scope, Scope]:
        """Checks one clause; returns the scope after it and what it returns (RETURN only)."""
        ctx = clause.getChild(0)
        if isinstance(ctx, P.MatchClauseContext):
            for pattern in ctx.patternList().pattern():
                self._pattern(pattern, scope, writing=False)
            if ctx.whereClause() is not None:
                self._visit(ctx.whereClause(), scope)
            for hint in ctx.hint() or []:
                self._visit(hint, scope)
        elif isinstance(ctx, P.CreateClauseContext):
            self._write(ctx, "CREATE")
            for pattern in ctx.patternList().pattern():
                self._pattern(pattern, scope, writing=True)
        elif isinstance(ctx, P.MergeClauseContext):
            self._write(ctx, "MERGE")
            self._pattern(ctx.pattern(), scope, writing=True)
            for action in ctx.mergeAction():
                self._set_clause(action.setClause(), scope)
        elif isinstance(ctx, P.SetClauseContext):
            self._set_clause(ctx, scope)
        elif isinstance(ctx, P.RemoveClauseContext):
            self._write(ctx, "REMOVE")
            self._remove_clause(ctx, scope)
        elif isinstance(ctx, P.DeleteClauseContext):
            self._write(ctx, "DETACH DELETE" if ctx.DETACH() else "DELETE")
            self._visit_children(ctx, scope)
        elif isinstance(ctx, P.WithClauseContext):
            scope = self._projection(ctx.returnBody(), scope, ctx.whereClause())
        elif isinstance(ctx, P.ReturnClauseContext):
            returned = self._projection(ctx.returnBody(), scope, None)
            return returned, returned
        elif isinstance(ctx, P.UnwindClauseContext):
            self._visit(ctx.expression(), scope)
            source = self._infer(ctx.expression(), scope)
            scope = {**scope, self._name(ctx.variable()): source.element if source.kind == "list" and source.element else VALUE}
        elif isinstance(ctx, P.ForeachClauseContext):
            self._write(ctx, "FOREACH")
            self._visit(ctx.expression(), scope)
            source = self._infer(ctx.expression(), scope)
            inner = {**scope, self._name(ctx.variable()): source.element if source.kind == "list" and source.element else VALUE}
            for sub in ctx.clause():
                inner, _ = self._clause(sub, inner)
        elif isinstance(ctx, P.CallClauseContext):
            scope = self._call_procedure(ctx, scope)
        elif isinstance(ctx, P.SubqueryClauseContext):
            scope = self._call_subquery(ctx, scope)
        elif isinstance(ctx, P.LoadCSVClauseContext):
            self._write(ctx, "LOAD CSV")
            self._visit(ctx.expression(), scope)
            scope = {**scope, self._name(ctx.variable()): VALUE}
        elif isinstance(ctx, P.InsertClauseContext):
            self._write(ctx, "INSERT")
            self._visit_children(ctx, scope)
        elif isinstance(ctx, P.LetClauseContext):
            for item in ctx.letItem():
                self._visit(item.expression(), scope)
                scope = {**scope, self._name(item.variable()): self._infer(item.expression(), scope)}
        elif isinstance(ctx, P.ForListClauseContext):  # Cypher 25: FOR x IN list
            self._visit_children(ctx, scope)
            scope = {**scope, self._name(ctx.variable()): VALUE}
        else:
            self._visit_children(ctx, scope)
        return scope, {}

    def _projection(self, body: Any, scope: Scope, where: Any) -> Scope:
        """WITH / RETURN: checks the items and returns the projected scope."""
        items = body.returnItems()
        projected: Scope = dict(scope) if items.TIMES() is not None else {}
        for item in items.returnItem():
            expression = item.expression()
            self._visit(expression, scope)
            alias = item.variable()
            if alias is not None:
                projected[self._name(alias)] = self._infer(expression, scope)
            else:
                name = self._bare_variable(expression)
                if name is not None:
                    projected[name] = scope.get(name, VALUE)
                else:
                    projected[expression.getText()] = VALUE
        after = {**scope, **projected}
        for part in (body.orderBy(), body.skip(), body.limit(), where):
            if part is not None:
                self._visit(part, after)
        return projected

    def _call_procedure(self, ctx: Any, scope: Scope) -> Scope:
        name_ctx = ctx.procedureName()
        name = ".".join(self._name(n) for n in [*name_ctx.namespace().symbolicNameString(), name_ctx.symbolicNameString()])
        if name.lower() not in READ_PROCEDURES and name.lower() not in self.allowed:
            self._report(codes.UNKNOWN_PROCEDURE, f"procedure {name} is not on the allowlist", name_ctx, name)
        for argument in ctx.procedureArgument():
            self._visit(argument, scope)
        out = dict(scope)
        for item in ctx.procedureResultItem():
            variables = item.variable() if isinstance(item.variable(), list) else [item.variable()]
            for variable in variables:
                if variable is not None:
                    out[self._name(variable)] = VALUE
            if item.getChildCount() and not item.variable():
                out[item.getText()] = VALUE
        if ctx.whereClause() is not None:
            self._visit(ctx.whereClause(), out)
        return out

    def _call_subquery(self, ctx: Any, scope: Scope) -> Scope:
        if ctx.subqueryInTransactionsParameters() is not None:
            self._write(ctx, "CALL { } IN TRANSACTIONS")
            self._visit(ctx.subqueryInTransactionsParameters(), scope)
        imported = scope
        scope_clause = ctx.subqueryScope()
        if scope_clause is not None and scope_clause.TIMES() is None:
            names = [self._name(v) for v in scope_clause.variable()]
            imported = {name: scope.get(name, VALUE) for name in names}
        returned = self._query_with_defs(ctx.queryWithLocalDefinitions(), dict(imported))
        return {**scope, **returned}

    def _set_clause(self, ctx: Any, scope: Scope) -> None:
        self._write(ctx, "SET")
        for item in ctx.setItem():
            if isinstance(item, P.SetPropContext):
                self._visit(item.expression2(), scope)
                self._visit(item.expression(), scope)
            elif isinstance(item, (P.SetPropsContext, P.AddPropContext)):
                variable = self._name(item.variable())
                self._visit(item.expression(), scope)
                self._map_keys(scope.get(variable), item.expression(), scope, item, variable)
            elif isinstance(item, (P.SetLabelsContext, P.SetLabelsIsContext)):
                self._node_labels(item, scope.get(self._name(item.variable())))
            else:
                self._visit_children(item, scope)

    def _remove_clause(self, ctx: Any, scope: Scope) -> None:
        for item in ctx.removeItem():
            if isinstance(item, P.RemovePropContext):
                self._visit(item.expression2(), scope)
            elif isinstance(item, (P.RemoveLabelsContext, P.RemoveLabelsIsContext)):
                self._node_labels(item, scope.get(self._name(item.variable())))
            else:
                self._visit_children(item, scope)

    def _node_labels(self, item: Any, var: Var | None) -> None:
        is_rel = var is not None and var.kind == "rel"
        for ctx in self._descendants(item, (P.LabelTypeContext, P.SymbolicNameStringContext, P.DynamicLabelTypeContext)):
            if isinstance(ctx, P.DynamicLabelTypeContext):
                self._report(codes.UNKNOWN_LABEL, "dynamic labels cannot be checked against the schema", ctx, ctx.getText())
            elif isinstance(ctx, P.LabelTypeContext):
                name = self._name(ctx.symbolicNameString())
                (self._check_rel_type if is_rel else self._check_label)(name, ctx)
            elif isinstance(ctx.parentCtx, P.NodeLabelsIsContext):
                name = self._name(ctx)
                (self._check_rel_type if is_rel else self._check_label)(name, ctx)

    def _map_keys(self, var: Var | None, expression: Any, scope: Scope, at: Any, variable: str) -> None:
        """``SET n = <expr>`` / ``SET n += <expr>``: the keys of the map written must be defined."""
        literal = self._map_literal(expression)
        if literal is not None:
            for key_ctx in literal.propertyKeyName():
                self._check_key(var, self._name(key_ctx), key_ctx, variable)
            return
        source = self._infer(expression, scope)
        if source.keys is not None:
            self._check_keys(var, source.keys, expression, variable)
            return
        self._report(
            codes.DYNAMIC_PROPERTY,
            f"the keys written to {variable} by {expression.getText()} are unknown; name each key or declare the parameter's keys",
            expression,
            expression.getText(),
        )

    # ----------------------------------------------------------------- patterns
    def _pattern(self, ctx: Any, scope: Scope, writing: bool) -> None:
        """Checks one ``pattern`` and binds its variables into ``scope`` (in place)."""
        if ctx.variable() is not None:
            scope[self._name(ctx.variable())] = Var("path")
        anonymous = ctx.anonymousPattern()
        element = anonymous.patternElement() if anonymous.patternElement() is not None else anonymous.shortestPathPattern().patternElement()
        self._pattern_element(element, scope, writing)

    def _pattern_element(self, ctx: Any, scope: Scope, writing: bool) -> None:
        left: frozenset[str] | None = None
        pending: tuple[Any, frozenset[str] | None, frozenset[str] | None, str, bool] | None = None
        for child in ctx.getChildren():
            if isinstance(child, P.NodePatternContext):
                labels = self._node_pattern(child, scope, writing)
                if pending is not None:
                    rel_ctx, start, types, direction, variable_length = pending
                    self._endpoints(rel_ctx, start, types, labels, direction, variable_length)
                    pending = None
                left = labels
            elif isinstance(child, P.RelationshipPatternContext):
                types, direction, variable_length = self._relationship_pattern(child, scope, writing)
                pending = (child, left, types, direction, variable_length)
            elif isinstance(child, P.ParenthesizedPathContext):
                inner = child.pattern()
                self._pattern(inner, scope, writing)
                if child.expression() is not None:
                    self._visit(child.expression(), scope)
                left, pending = None, None
            elif isinstance(child, ParserRuleContext):
                self._visit(child, scope)

    def _label_names(self, ctx: Any) -> tuple[list[tuple[str, Any]], bool]:
        """Names in a label expression, and whether they are all positive (no ``!``, ``%``, dynamic)."""
        names: list[tuple[str, Any]] = []
        positive = True
        for node in self._descendants(ctx, (P.LabelNameContext, P.AnyLabelContext, P.DynamicLabelContext, P.LabelExpression2Context, P.SymbolicNameStringContext)):
            if isinstance(node, P.LabelNameContext):
                names.append((self._name(node.symbolicNameString()), node))
            elif isinstance(node, P.LabelExpression2Context) and node.EXCLAMATION_MARK():
                positive = False
            elif isinstance(node, P.AnyLabelContext):
                positive = False
            elif isinstance(node, P.DynamicLabelContext):
                positive = False
                self._report(codes.UNKNOWN_LABEL, "dynamic labels cannot be checked against the schema", node, node.getText())
            elif isinstance(node, P.SymbolicNameStringContext) and not isinstance(node.parentCtx, P.LabelNameContext):
                # `n IS Label` form: the name hangs off labelExpression directly.
                if isinstance(node.parentCtx, (P.LabelExpression1Context, P.LabelExpression2Context, P.LabelExpressionContext)):
                    names.append((self._name(node), node))
        return names, positive

    def _node_pattern(self, ctx: Any, scope: Scope, writing: bool) -> frozenset[str] | None:
        labels: frozenset[str] | None = None
        if ctx.labelExpression() is not None:
            names, positive = self._label_names(ctx.labelExpression())
            for name, at in names:
                self._check_label(name, at)
            known = [name for name, _ in names if name in self.schema.node_props]
            labels = frozenset(known) if positive and known and len(known) == len(names) else None
        variable = self._name(ctx.variable()) if ctx.variable() is not None else None
        if variable is not None:
            existing = scope.get(variable)
            if labels is None and existing is not None and existing.kind == "node":
                labels = existing.names
            scope[variable] = Var("node", labels)
        var = Var("node", labels)
        if ctx.properties() is not None:
            self._properties(ctx.properties(), var, scope, writing, variable)
        if ctx.expression() is not None:
            self._visit(ctx.expression(), scope)
        return labels

    def _relationship_pattern(self, ctx: Any, scope: Scope, writing: bool) -> tuple[frozenset[str] | None, str, bool]:
        types: frozenset[str] | None = None
        if ctx.labelExpression() is not None:
            names, positive = self._label_names(ctx.labelExpression())
            for name, at in names:
                self._check_rel_type(name, at)
            known = [name for name, _ in names if name in self._rel_types]
            types = frozenset(known) if positive and known and len(known) == len(names) else None
        variable_length = ctx.pathLength() is not None
        var = Var("rel", types)
        if ctx.variable() is not None:
            scope[self._name(ctx.variable())] = Var("list", element=var) if variable_length else var
        if ctx.properties() is not None:
            self._properties(ctx.properties(), var, scope, writing, self._name(ctx.variable()) if ctx.variable() else None)
        if ctx.expression() is not None:
            self._visit(ctx.expression(), scope)
        left = ctx.leftArrow() is not None
        right = ctx.rightArrow() is not None
        direction = "->" if right and not left else "<-" if left and not right else "--"
        return types, direction, variable_length

    def _properties(self, ctx: Any, var: Var, scope: Scope, writing: bool, variable: str | None) -> None:
        literal = ctx.map_()
        if literal is not None:
            for key_ctx in literal.propertyKeyName():
                self._check_key(var, self._name(key_ctx), key_ctx, variable)
            for expression in literal.expression():
                self._visit(expression, scope)
            return
        parameter = ctx.parameter()
        declared = self.parameters.get(self._name(parameter.parameterName())) if parameter is not None else None
        if declared is not None and declared.keys is not None:
            self._check_keys(var, declared.keys, parameter, variable)
        elif writing:
            self._report(
                codes.DYNAMIC_PROPERTY,
                f"the keys of {ctx.getText()} are unknown; name each key or declare the parameter's keys",
                ctx,
                ctx.getText(),
            )

    def _endpoints(
        self,
        at: Any,
        left: frozenset[str] | None,
        types: frozenset[str] | None,
        right: frozenset[str] | None,
        direction: str,
        variable_length: bool,
    ) -> None:
        """Relationship direction and endpoint labels against the declared (start, type, end) triples."""
        if types is None:
            return
        triples = [t for t in self.schema.relationships if t[1] in types]
        if not triples:
            return

        def fits(label: str, side: frozenset[str] | None) -> bool:
            return side is None or label in side

        def forward(start: frozenset[str] | None, end: frozenset[str] | None) -> bool:
            if variable_length:
                return any(fits(s, start) for s, _, _ in triples) and any(fits(e, end) for _, _, e in triples)
            return any(fits(s, start) and fits(e, end) for s, _, e in triples)

        ok = {
            "->": forward(left, right),
            "<-": forward(right, left),
            "--": forward(left, right) or forward(right, left),
        }[direction]
        if not ok:
            declared = ", ".join(f"(:{s})-[:{t}]->(:{e})" for s, t, e in sorted(triples))
            shown = "|".join(sorted(types))
            self._report(
                codes.RELATIONSHIP_DIRECTION,
                f"{shown} does not connect these labels in this direction; the schema declares {declared}",
                at,
                shown,
            )

    # ----------------------------------------------------------------- expressions
    def _visit_children(self, ctx: Any, scope: Scope) -> None:
        for child in ctx.getChildren():
            if isinstance(child, ParserRuleContext):
                self._visit(child, scope)

    def _visit(self, ctx: Any, scope: Scope) -> None:
        if ctx is None or isinstance(ctx, TerminalNode):
            return
        if isinstance(ctx, P.Expression2Context):
            self._expression2(ctx, scope)
        elif isinstance(ctx, P.MapProjectionContext):
            variable = self._name(ctx.variable())
            var = scope.get(variable)
            for element in ctx.mapProjectionElement():
                if element.property_() is not None:
                    key_ctx = element.property_().propertyKeyName()
                    self._check_key(var, self._name(key_ctx), key_ctx, variable)
                elif element.expression() is not None:
                    self._visit(element.expression(), scope)
        elif isinstance(ctx, P.Expression7Context) and isinstance(ctx.comparisonExpression6(), P.LabelComparisonContext):
            self._visit(ctx.expression6(), scope)
            variable = self._bare_variable(ctx.expression6())
            var = scope.get(variable) if variable else None
            names, _ = self._label_names(ctx.comparisonExpression6())
            for name, at in names:
                if var is not None and var.kind == "rel":
                    self._check_rel_type(name, at)
                elif var is not None and var.kind == "node":
                    self._check_label(name, at)
                elif name not in self.schema.node_props and name not in self._rel_types:
                    self._check_label(name, at)
        elif isinstance(ctx, (P.ListComprehensionContext, P.ListItemsPredicateContext)):
            variable = ctx.variable()
            expressions = ctx.expression()
            source = self._infer(expressions[0], scope)
            self._visit(expressions[0], scope)
            inner = {**scope, self._name(variable): source.element if source.kind == "list" and source.element else VALUE}
            for expression in expressions[1:]:
                self._visit(expression, inner)
        elif isinstance(ctx, P.ReduceExpressionContext):
            variables, expressions = ctx.variable(), ctx.expression()
            self._visit(expressions[0], scope)
            self._visit(expressions[1], scope)
            source = self._infer(expressions[1], scope)
            inner = {**scope, self._name(variables[0]): VALUE}
            inner[self._name(variables[1])] = source.element if source.kind == "list" and source.element else VALUE
            for expression in expressions[2:]:
                self._visit(expression, inner)
        elif isinstance(ctx, P.PatternComprehensionContext):
            inner = dict(scope)
            if ctx.variable() is not None:
                inner[self._name(ctx.variable())] = Var("path")
            self._pattern_element(ctx.pathPatternNonEmpty(), inner, writing=False)
            for expression in ctx.expression():
                self._visit(expression, inner)
        elif isinstance(ctx, P.PathPatternNonEmptyContext):
            self._pattern_element(ctx, dict(scope), writing=False)
        elif isinstance(ctx, (P.ExistsExpressionContext, P.CountExpressionContext, P.CollectExpressionContext)):
            inner = dict(scope)
            if ctx.queryWithLocalDefinitions() is not None:
                self._query_with_defs(ctx.queryWithLocalDefinitions(), inner)
            else:
                for pattern in ctx.patternList().pattern():
                    self._pattern(pattern, inner, writing=False)
                if ctx.whereClause() is not None:
                    self._visit(ctx.whereClause(), inner)
        elif isinstance(ctx, P.FunctionInvocationContext):
            name_ctx = ctx.functionName()
            parts = [*name_ctx.namespace().symbolicNameString(), name_ctx.symbolicNameString()]
            name = ".".join(self._name(n) for n in parts)
            lowered = name.lower()
            builtin = lowered in BUILTIN_FUNCTIONS or lowered.startswith(BUILTIN_NAMESPACES)
            if not builtin and lowered not in self.allowed:
                self._report(codes.UNKNOWN_PROCEDURE, f"function {name}() is not built in and not on the allowlist", name_ctx, name)
            for argument in ctx.functionArgument():
                self._visit(argument, scope)
        elif isinstance(ctx, P.MapComprehensionContext):
            self._report(codes.DYNAMIC_PROPERTY, "map comprehensions read keys the schema check cannot see", ctx, ctx.getText())
        elif isinstance(ctx, P.SubqueryClauseContext):
            self._call_subquery(ctx, scope)
        else:
            self._visit_children(ctx, scope)

    def _expression2(self, ctx: Any, scope: Scope) -> None:
        base = ctx.expression1()
        self._visit(base, scope)
        postfixes = ctx.postFix()
        if not postfixes:
            return
        variable = base.variable().getText() if base.variable() is not None else None
        variable = self._name(base.variable()) if variable is not None else None
        var: Var | None = scope.get(variable) if variable is not None else VALUE
        if variable is not None and variable not in scope:
            var = None  # unbound: could be anything in the graph
        first = postfixes[0]
        if isinstance(first, P.PropertyPostfixContext):
            key_ctx = first.property_().propertyKeyName()
            self._check_key(var, self._name(key_ctx), key_ctx, variable)
        elif isinstance(first, P.IndexPostfixContext) and (var is None or var.kind in ("node", "rel")):
            self._dynamic_key(var, first.expression(), variable)
        for postfix in postfixes:
            self._visit_children(postfix, scope)

    def _dynamic_key(self, var: Var | None, expression: Any, variable: str | None) -> None:
        text = expression.getText()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            self._check_key(var, text[1:-1], expression, variable)
            return
        if text.startswith("$"):
            declared = self.parameters.get(text[1:])
            if declared is not None and declared.keys is not None:
                self._check_keys(var, declared.keys, expression, variable)
                return
        self._report(
            codes.DYNAMIC_PROPERTY,
            f"{variable}[{text}] reads a property key the schema check cannot see; use {variable}.key or declare the parameter",
            expression,
            text,
        )

    # ----------------------------------------------------------------- inference
    def _bare_variable(self, expression: Any) -> str | None:
        """The variable name if ``expression`` is nothing but a variable."""
        node = expression
        while isinstance(node, ParserRuleContext) and not isinstance(node, P.VariableContext):
            children = [c for c in node.getChildren() if isinstance(c, ParserRuleContext)]
            terminals = [c for c in node.getChildren() if not isinstance(c, ParserRuleContext)]
            if len(children) != 1 or terminals:
                return None
            node = children[0]
        return self._name(node) if isinstance(node, P.VariableContext) else None

    def _infer(self, expression: Any, scope: Scope) -> Var:
        """What an expression evaluates to, as far as binding goes (a variable, collect(), a list, a parameter)."""
        name = self._bare_variable(expression)
        if name is not None:
            return scope.get(name, VALUE)
        node = expression
        while isinstance(node, ParserRuleContext):
            children = [c for c in node.getChildren() if isinstance(c, ParserRuleContext)]
            if isinstance(node, P.FunctionInvocationContext):
                function = node.functionName().getText().lower()
                arguments = node.functionArgument()
                if function == "collect" and len(arguments) == 1:
                    return Var("list", element=self._infer(arguments[0], scope))
                if function == "nodes":
                    return Var("list", element=UNKNOWN_NODE)
                if function == "relationships":
                    return Var("list", element=Var("rel"))
                return VALUE
            if isinstance(node, P.ParameterContext):
                return self.parameters.get(self._name(node.parameterName()), VALUE)
            if isinstance(node, P.ListLiteralContext):
                elements = [self._infer(e, scope) for e in node.expression()]
                kinds = {e.kind for e in elements}
                if len(kinds) == 1 and kinds <= {"node", "rel"}:
                    names = [e.names for e in elements]
                    merged = None if any(n is None for n in names) else frozenset().union(*names)  # type: ignore[arg-type]
                    return Var("list", element=Var(elements[0].kind, merged))
                return VALUE
            if len(children) != 1:
                return VALUE
            node = children[0]
        return VALUE

    @staticmethod
    def _map_literal(expression: Any) -> Any:
        node = expression
        while isinstance(node, ParserRuleContext):
            if isinstance(node, P.MapContext):
                return node
            children = [c for c in node.getChildren() if isinstance(c, ParserRuleContext)]
            if len(children) != 1:
                return None
            node = children[0]
        return None

    @staticmethod
    def _descendants(ctx: Any, kinds: tuple[type, ...]) -> Iterable[Any]:
        stack = [ctx]
        found = []
        while stack:
            node = stack.pop()
            if isinstance(node, kinds):
                found.append(node)
            stack.extend(reversed([c for c in (getattr(node, "children", None) or []) if isinstance(c, ParserRuleContext)]))
        return found
