"""Expressions: what each one is (:meth:`ExpressionChecks.infer`) and what it reads (:meth:`visit`).

Inference follows the values that can carry a node or relationship: variables, ``collect``,
``head``/``last``/``coalesce``/``nullIf``/``tail``/``reverse``, ``nodes``/``relationships``,
``startNode``/``endNode``, list literals and indexing, ``UNWIND``, ``CASE``, ``reduce``, list and
pattern comprehensions, map literals, map projections and map access, ``COLLECT { }``. A
property read is checked against what the value may be; one the guard cannot place (a
user-defined function's result) is checked against every key of the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from antlr4.tree.Tree import TerminalNode

from .labels import label_tree
from .parser import Parser as P
from .patterns import PatternChecks
from .report import ProblemCode, Severity
from .scopes import (
    ANY, NULL, UNKNOWN_NODE, UNKNOWN_REL, VALUE, Scope, Var, bare_variable, element_of, join, join_all, list_of,
    name_of, only_child, rule_children,
)  # fmt: skip

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
# The expression forms the checker understands (children of Expression1); anything else is refused.
UNDERSTOOD = (
    P.LiteralContext, P.ParameterContext, P.CaseExpressionContext, P.ExtendedCaseExpressionContext,
    P.CountStarContext, P.ExistsExpressionContext, P.CountExpressionContext, P.CollectExpressionContext,
    P.MapProjectionContext, P.ListComprehensionContext, P.MapComprehensionContext, P.ListLiteralContext,
    P.PatternComprehensionContext, P.ReduceExpressionContext, P.ListItemsPredicateContext,
    P.NormalizeFunctionContext, P.TrimFunctionContext, P.PropertyExistsPredicateContext,
    P.PatternExpressionContext, P.ShortestPathExpressionContext, P.ParenthesizedExpressionContext,
    P.FunctionInvocationContext, P.VariableContext,
)  # fmt: skip
_NUMERIC = ("INTEGER", "FLOAT")


def function_name(ctx: Any) -> str:
    """The dotted name of a ``functionInvocation`` or ``procedureName``, as written."""
    name_ctx = ctx.functionName() if isinstance(ctx, P.FunctionInvocationContext) else ctx
    return ".".join(name_of(n) for n in [*name_ctx.namespace().symbolicNameString(), name_ctx.symbolicNameString()])


def _literal(expression: Any) -> tuple[str, str] | None:
    """(``string``|``number``|``boolean``, text) when ``expression`` is a plain literal."""
    node = only_child(expression)
    if isinstance(node, P.StringLiteralContext):
        return "string", node.getText()[1:-1]
    if isinstance(node, P.NumberLiteralContext):
        return "number", node.getText()
    if isinstance(node, P.BooleanLiteralContext):
        return "boolean", node.getText().lower()
    return None


class ExpressionChecks(PatternChecks):
    """Expression checks; see the module docstring."""

    # ----------------------------------------------------------------- visiting (reports)
    def visit(self, ctx: Any, scope: Scope) -> None:
        """Checks ``ctx`` and everything under it under ``scope``."""
        if ctx is None or isinstance(ctx, TerminalNode):
            return
        handler = _VISITORS.get(type(ctx))
        if handler is not None:
            handler(self, ctx, scope)
        else:
            self.visit_children(ctx, scope)

    def visit_children(self, ctx: Any, scope: Scope) -> None:
        """:meth:`visit` on each rule child."""
        for child in rule_children(ctx):
            self.visit(child, scope)

    def _expression1(self, ctx: Any, scope: Scope) -> None:
        child = rule_children(ctx)[0] if rule_children(ctx) else None
        if child is not None and not isinstance(child, UNDERSTOOD):
            self.unsupported(child, type(child).__name__.removesuffix("Context"))
            return
        if isinstance(child, P.VariableContext):
            name = name_of(child)
            if name not in scope:
                self.report(ProblemCode.UNDEFINED_VARIABLE, f"variable `{name}` not defined", child, name)
            return
        self.visit_children(ctx, scope)

    def _expression2(self, ctx: Any, scope: Scope) -> None:
        base = ctx.expression1()
        self.visit(base, scope)
        var = self.infer(base, scope)
        variable = bare_variable(base)
        for postfix in ctx.postFix():
            if isinstance(postfix, P.PropertyPostfixContext):
                key_ctx = postfix.property_().propertyKeyName()
                self.check_key(var, name_of(key_ctx), key_ctx, variable)
            elif isinstance(postfix, P.IndexPostfixContext) and var.kind in ("node", "rel", "any"):
                self._dynamic_key(var, postfix.expression(), variable)
            self.visit_children(postfix, scope)
            var = self._after_postfix(var, postfix)
            variable = None

    def _dynamic_key(self, var: Var, expression: Any, variable: str | None) -> None:
        literal = _literal(expression)
        if literal is not None and literal[0] == "string":
            self.check_key(var, literal[1], expression, variable)
            return
        text = expression.getText()
        if text.startswith("$"):
            declared = self.parameters.get(text[1:])
            if declared is not None and declared.keys is not None:
                self.check_keys(var, declared.keys, expression, variable)
                return
        self.report(
            ProblemCode.DYNAMIC_PROPERTY,
            f"{variable or 'the value'}[{text}] reads a property key the schema check cannot see; "
            "use .key or declare the parameter",
            expression,
            text,
        )

    def _comparison(self, ctx: Any, scope: Scope) -> None:
        operands = ctx.expression7()
        for left, right in zip(operands, operands[1:], strict=False):
            for prop, other in ((left, right), (right, left)):
                node = only_child(prop)
                if isinstance(node, P.Expression2Context) and len(node.postFix()) == 1:
                    postfix = node.postFix()[0]
                    if isinstance(postfix, P.PropertyPostfixContext):
                        key_ctx = postfix.property_().propertyKeyName()
                        var = self.infer(node.expression1(), scope)
                        self.type_hint(var, name_of(key_ctx), other, key_ctx, bare_variable(node.expression1()))
        self.visit_children(ctx, scope)

    def type_hint(self, var: Var, key: str, expression: Any, at: Any, variable: str | None) -> None:
        """Warns (``type_mismatch``) when a typed property meets a literal of another type.

        The schema's types are the Neo4j type names (``INTEGER``, ``FLOAT``, ``STRING``,
        ``BOOLEAN``); an INTEGER property compared with ``'30'`` never matches in Cypher.
        """
        kind = self.property_type(var, key)
        literal = _literal(expression)
        if kind is None or literal is None:
            return
        found, text = literal
        suggestion: str | None = None
        if kind in _NUMERIC and found == "string":
            suggestion = text if text.lstrip("-").replace(".", "", 1).isdigit() else None
        elif kind == "STRING" and found in ("number", "boolean"):
            suggestion = f"'{text}'"
        elif kind == "BOOLEAN" and found != "boolean":
            suggestion = text.lower() if text.lower() in ("true", "false") else None
        else:
            return
        owner = f"{variable}.{key}" if variable else key
        more = f"; did you mean {suggestion}?" if suggestion else ""
        self.report(
            ProblemCode.TYPE_MISMATCH,
            f"{owner} is {kind} in the schema but is compared with a {found} literal{more}",
            expression,
            key,
            suggestion,
            Severity.WARNING,
        )

    def _label_comparison(self, ctx: Any, scope: Scope) -> None:
        if not isinstance(ctx.comparisonExpression6(), P.LabelComparisonContext):
            self.visit_children(ctx, scope)
            return
        self.visit(ctx.expression6(), scope)
        var = self.infer(ctx.expression6(), scope)
        for name, at, negated in label_tree(ctx.comparisonExpression6()).names():
            if negated:
                continue
            if var.kind == "rel":
                self.check_rel_type(name, at)
            elif var.kind == "node" or (name not in self.schema.node_props and name not in self.relations.types):
                self.check_label(name, at)

    def _map_projection(self, ctx: Any, scope: Scope) -> None:
        variable = name_of(ctx.variable())
        if variable not in scope:
            self.report(ProblemCode.UNDEFINED_VARIABLE, f"variable `{variable}` not defined", ctx.variable(), variable)
        var = scope.get(variable, ANY)
        for element in ctx.mapProjectionElement():
            if element.property_() is not None:
                key_ctx = element.property_().propertyKeyName()
                self.check_key(var, name_of(key_ctx), key_ctx, variable)
            elif element.TIMES() is not None:
                self.check_whole(var, element, f"{variable}{{.*}}")
            elif element.expression() is not None:
                self.visit(element.expression(), scope)
            elif element.variable() is not None:
                self.visit(element.variable(), scope)

    def _iteration(self, ctx: Any, scope: Scope) -> None:
        expressions = ctx.expression()
        self.visit(expressions[0], scope)
        inner = {**scope, name_of(ctx.variable()): element_of(self.infer(expressions[0], scope))}
        for expression in expressions[1:]:
            self.visit(expression, inner)

    def _reduce(self, ctx: Any, scope: Scope) -> None:
        variables, expressions = ctx.variable(), ctx.expression()
        self.visit(expressions[0], scope)
        self.visit(expressions[1], scope)
        for expression in expressions[2:]:
            self.visit(expression, self._reduce_scope(ctx, scope))

    def _reduce_scope(self, ctx: Any, scope: Scope) -> Scope:
        variables, expressions = ctx.variable(), ctx.expression()
        accumulator = self.infer(expressions[0], scope)
        inner = {**scope, name_of(variables[1]): element_of(self.infer(expressions[1], scope))}
        for _ in range(2):  # the accumulator may take the body's value: join until stable (two rounds)
            inner[name_of(variables[0])] = accumulator
            accumulator = join(accumulator, self.infer(expressions[2], inner))
        inner[name_of(variables[0])] = accumulator
        return inner

    def _pattern_comprehension(self, ctx: Any, scope: Scope) -> None:
        inner = self._comprehension_scope(ctx, scope)
        for expression in ctx.expression():
            self.visit(expression, inner)

    def _comprehension_scope(self, ctx: Any, scope: Scope) -> Scope:
        inner = dict(scope)
        path = self.pattern_element(ctx.pathPatternNonEmpty(), inner, writing=False)
        if ctx.variable() is not None:
            inner[name_of(ctx.variable())] = path
        return inner

    def _subquery_expression(self, ctx: Any, scope: Scope) -> None:
        inner = dict(scope)
        if ctx.queryWithLocalDefinitions() is not None:
            self.query_with_defs(ctx.queryWithLocalDefinitions(), inner)
            return
        for pattern in ctx.patternList().pattern():
            self.pattern(pattern, inner, writing=False)
        if ctx.whereClause() is not None:
            self.visit(ctx.whereClause(), inner)

    def _function(self, ctx: Any, scope: Scope) -> None:
        name = function_name(ctx)
        lowered = name.lower()
        builtin = lowered in BUILTIN_FUNCTIONS or lowered.startswith(BUILTIN_NAMESPACES)
        if not builtin and lowered not in self.allowed:
            self.report(
                ProblemCode.UNKNOWN_PROCEDURE, f"function {name}() is not built in and not on the allowlist", ctx, name
            )
        arguments = ctx.functionArgument()
        if lowered in ("properties", "keys") and arguments:
            self.check_whole(self.infer(arguments[0], scope), ctx, f"{name}({arguments[0].getText()})")
        for argument in arguments:
            self.visit(argument, scope)

    def _map_comprehension(self, ctx: Any, scope: Scope) -> None:
        self.report(ProblemCode.DYNAMIC_PROPERTY, "map comprehensions read keys the schema check cannot see", ctx, ctx.getText())

    def _path_expression(self, ctx: Any, scope: Scope) -> None:
        self.pattern_element(ctx, dict(scope), writing=False)

    # ----------------------------------------------------------------- inference (no reports)
    def infer(self, ctx: Any, scope: Scope) -> Var:
        """What ``ctx`` evaluates to, as far as nodes, relationships, lists and maps go."""
        node = ctx
        while node is not None:
            rule = _INFERENCES.get(type(node))
            if rule is not None:
                return rule(self, node, scope)
            children = rule_children(node)
            if len(children) == 1 and len(node.children) == 1:
                node = children[0]
                continue
            if isinstance(node, P.Expression6Context) and node.PLUS():  # list concatenation
                parts = [self.infer(c, scope) for c in children]
                if all(p.kind == "list" for p in parts):
                    return list_of(join_all(element_of(p) for p in parts))
            return VALUE
        return VALUE

    def _after_postfix(self, var: Var, postfix: Any) -> Var:
        if isinstance(postfix, P.PropertyPostfixContext):
            return var.field(name_of(postfix.property_().propertyKeyName())) if var.kind == "map" else VALUE
        if isinstance(postfix, P.IndexPostfixContext):
            if var.kind == "map":
                literal = _literal(postfix.expression())
                return var.field(literal[1]) if literal and literal[0] == "string" else ANY
            return element_of(var)
        return var if var.kind == "list" else VALUE

    def _infer_postfix(self, ctx: Any, scope: Scope) -> Var:
        var = self.infer(ctx.expression1(), scope)
        for postfix in ctx.postFix():
            var = self._after_postfix(var, postfix)
        return var

    def _infer_case(self, ctx: Any, scope: Scope) -> Var:
        if isinstance(ctx, P.CaseExpressionContext):
            results = [alt.expression(1) for alt in ctx.caseAlternative()]
            rest = [ctx.expression()] if ctx.expression() is not None else []
        else:
            results = [alt.expression() for alt in ctx.extendedCaseAlternative()]
            rest = list(ctx.expression())[1:]
        out = join_all(self.infer(r, scope) for r in [*results, *rest])
        return out if rest else join(out, NULL)

    def _infer_function(self, ctx: Any, scope: Scope) -> Var:
        name = function_name(ctx).lower()
        args = [self.infer(a, scope) for a in ctx.functionArgument()]
        first = args[0] if args else VALUE
        rule = _FUNCTIONS.get(name)
        if rule is not None:
            return rule(first, args)
        builtin = name in BUILTIN_FUNCTIONS or name.startswith(BUILTIN_NAMESPACES)
        return VALUE if builtin else ANY

    def _infer_list_comprehension(self, ctx: Any, scope: Scope) -> Var:
        expressions = ctx.expression()
        source = self.infer(expressions[0], scope)
        if ctx.BAR() is None:
            return source
        inner = {**scope, name_of(ctx.variable()): element_of(source)}
        return list_of(self.infer(expressions[-1], inner))

    def _infer_map_projection(self, ctx: Any, scope: Scope) -> Var:
        fields: list[tuple[str, Var]] = []
        for element in ctx.mapProjectionElement():
            if element.propertyKeyName() is not None and element.expression() is not None:
                fields.append((name_of(element.propertyKeyName()), self.infer(element.expression(), scope)))
            elif element.property_() is not None:
                fields.append((name_of(element.property_().propertyKeyName()), VALUE))
            elif element.variable() is not None:
                fields.append((name_of(element.variable()), scope.get(name_of(element.variable()), ANY)))
        return Var("map", fields=tuple(fields))

    def _infer_collect(self, ctx: Any, scope: Scope) -> Var:
        returned = self.query_with_defs(ctx.queryWithLocalDefinitions(), dict(scope))
        return list_of(next(iter(returned.values()))) if len(returned) == 1 else list_of(ANY)


def _path_part(path: Var, rel: bool) -> Var:
    if path.kind == "path":
        part = path.rel if rel else path.element
        if part is not None:
            return list_of(part)
    return list_of(UNKNOWN_REL if rel else UNKNOWN_NODE)


_FUNCTIONS: dict[str, Callable[[Var, list[Var]], Var]] = {
    "collect": lambda first, _: list_of(first),
    "head": lambda first, _: element_of(first),
    "last": lambda first, _: element_of(first),
    "coalesce": lambda _, args: join_all(args),
    "nullif": lambda first, _: first,
    "tail": lambda first, _: first if first.kind == "list" else VALUE,
    "reverse": lambda first, _: first if first.kind == "list" else VALUE,
    "nodes": lambda first, _: _path_part(first, rel=False),
    "relationships": lambda first, _: _path_part(first, rel=True),
    "startnode": lambda first, _: Var("node", first.ends if first.kind == "rel" else None),
    "endnode": lambda first, _: Var("node", first.ends if first.kind == "rel" else None),
    "properties": lambda first, _: first if first.kind == "map" else VALUE,
}

_VISITORS: dict[type, Callable[[Any, Any, Scope], None]] = {
    P.Expression1Context: ExpressionChecks._expression1,
    P.Expression2Context: ExpressionChecks._expression2,
    P.Expression7Context: ExpressionChecks._label_comparison,
    P.Expression8Context: ExpressionChecks._comparison,
    P.MapProjectionContext: ExpressionChecks._map_projection,
    P.ListComprehensionContext: ExpressionChecks._iteration,
    P.ListItemsPredicateContext: ExpressionChecks._iteration,
    P.ReduceExpressionContext: ExpressionChecks._reduce,
    P.PatternComprehensionContext: ExpressionChecks._pattern_comprehension,
    P.PathPatternNonEmptyContext: ExpressionChecks._path_expression,
    P.ExistsExpressionContext: ExpressionChecks._subquery_expression,
    P.CountExpressionContext: ExpressionChecks._subquery_expression,
    P.CollectExpressionContext: ExpressionChecks._subquery_expression,
    P.FunctionInvocationContext: ExpressionChecks._function,
    P.MapComprehensionContext: ExpressionChecks._map_comprehension,
}

_INFERENCES: dict[type, Callable[[Any, Any, Scope], Var]] = {
    P.VariableContext: lambda self, ctx, scope: scope.get(name_of(ctx), ANY),
    P.ParameterContext: lambda self, ctx, scope: self.parameters.get(name_of(ctx.parameterName()), VALUE),
    P.KeywordLiteralContext: lambda self, ctx, scope: NULL if ctx.getText().upper() == "NULL" else VALUE,
    P.MapContext: lambda self, ctx, scope: Var(
        "map", fields=tuple((name_of(k), self.infer(e, scope)) for k, e in zip(ctx.propertyKeyName(), ctx.expression(), strict=True))
    ),
    P.ListLiteralContext: lambda self, ctx, scope: list_of(join_all(self.infer(e, scope) for e in ctx.expression())),
    P.Expression2Context: ExpressionChecks._infer_postfix,
    P.CaseExpressionContext: ExpressionChecks._infer_case,
    P.ExtendedCaseExpressionContext: ExpressionChecks._infer_case,
    P.FunctionInvocationContext: ExpressionChecks._infer_function,
    P.ReduceExpressionContext: lambda self, ctx, scope: self._reduce_scope(ctx, scope)[name_of(ctx.variable()[0])],
    P.ListComprehensionContext: ExpressionChecks._infer_list_comprehension,
    P.PatternComprehensionContext: lambda self, ctx, scope: list_of(
        self.infer(ctx.expression()[-1], self._comprehension_scope(ctx, scope))
    ),
    P.MapProjectionContext: ExpressionChecks._infer_map_projection,
    P.CollectExpressionContext: ExpressionChecks._infer_collect,
    P.CountStarContext: lambda self, ctx, scope: VALUE,
    P.ExistsExpressionContext: lambda self, ctx, scope: VALUE,
    P.CountExpressionContext: lambda self, ctx, scope: VALUE,
}
