"""What an expression evaluates to (:meth:`InferenceChecks.infer`), without reporting anything.

Inference follows the values that can carry a node or relationship: variables, ``collect``,
``head``/``last``/``coalesce``/``nullIf``/``tail``/``reverse``, ``nodes``/``relationships``,
``startNode``/``endNode``, list literals, concatenation and indexing, ``UNWIND``, ``CASE``,
``reduce``, list and pattern comprehensions, map literals, map projections and map access,
``COLLECT { }``. What the guard cannot place (a user-defined function's result) is ``any``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .functions import BUILTIN_FUNCTIONS, BUILTIN_NAMESPACES, FUNCTIONS, function_name, literal_of
from .parser import Parser as P
from .patterns import PatternChecks
from .scopes import (
    ANY,
    NULL,
    VALUE,
    Scope,
    Var,
    element_of,
    join,
    join_all,
    list_of,
    name_of,
    rule_children,
)  # fmt: skip


class InferenceChecks(PatternChecks):
    """Inference; see the module docstring."""

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
                if any(p.kind == "list" for p in parts):  # list + list, list + element, element + list
                    return list_of(join_all(element_of(p) if p.kind == "list" else p for p in parts))
            return VALUE
        return VALUE

    def _after_postfix(self, var: Var, postfix: Any) -> Var:
        if isinstance(postfix, P.PropertyPostfixContext):
            return var.field(name_of(postfix.property_().propertyKeyName())) if var.kind == "map" else VALUE
        if isinstance(postfix, P.IndexPostfixContext):
            if var.kind == "map":
                literal = literal_of(postfix.expression())
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
        rule = FUNCTIONS.get(name)
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

    def subquery(self, ctx: Any, scope: Scope) -> Scope:
        """Checks the query of ``EXISTS``/``COUNT``/``COLLECT { }`` once; returns what it returns."""
        inner = ctx.queryWithLocalDefinitions()
        return self.once("subquery", ctx, lambda: self.query_with_defs(inner, dict(scope)))

    def _infer_collect(self, ctx: Any, scope: Scope) -> Var:
        returned = self.subquery(ctx, scope)
        return list_of(next(iter(returned.values()))) if len(returned) == 1 else list_of(ANY)

    def _reduce_scope(self, ctx: Any, scope: Scope) -> Scope:
        return self.once("reduce", ctx, lambda: self._reduce_scope_of(ctx, scope))

    def _reduce_scope_of(self, ctx: Any, scope: Scope) -> Scope:
        variables, expressions = ctx.variable(), ctx.expression()
        accumulator = self.infer(expressions[0], scope)
        inner = {**scope, name_of(variables[1]): element_of(self.infer(expressions[1], scope))}
        for _ in range(2):  # the accumulator may take the body's value: join until stable (two rounds)
            inner[name_of(variables[0])] = accumulator
            accumulator = join(accumulator, self.infer(expressions[2], inner))
        inner[name_of(variables[0])] = accumulator
        return inner

    def _comprehension_scope(self, ctx: Any, scope: Scope) -> Scope:
        return self.once("comprehension", ctx, lambda: self._comprehension_scope_of(ctx, scope))

    def _comprehension_scope_of(self, ctx: Any, scope: Scope) -> Scope:
        inner = dict(scope)
        path = self.pattern_element(ctx.pathPatternNonEmpty(), inner, writing=False)
        if ctx.variable() is not None:
            inner[name_of(ctx.variable())] = path
        return inner


_INFERENCES: dict[type, Callable[[Any, Any, Scope], Var]] = {
    P.VariableContext: lambda self, ctx, scope: scope.get(name_of(ctx), ANY),
    P.ParameterContext: lambda self, ctx, scope: self.parameters.get(name_of(ctx.parameterName()), VALUE),
    P.KeywordLiteralContext: lambda self, ctx, scope: NULL if ctx.getText().upper() == "NULL" else VALUE,
    P.MapContext: lambda self, ctx, scope: Var(
        "map",
        fields=tuple(
            (name_of(k), self.infer(e, scope))
            for k, e in zip(ctx.propertyKeyName(), ctx.expression(), strict=True)
        ),
    ),
    P.ListLiteralContext: lambda self, ctx, scope: list_of(
        join_all(self.infer(e, scope) for e in ctx.expression())
    ),
    P.Expression2Context: InferenceChecks._infer_postfix,
    P.CaseExpressionContext: InferenceChecks._infer_case,
    P.ExtendedCaseExpressionContext: InferenceChecks._infer_case,
    P.FunctionInvocationContext: InferenceChecks._infer_function,
    P.ReduceExpressionContext: lambda self, ctx, scope: self._reduce_scope(ctx, scope)[
        name_of(ctx.variable()[0])
    ],
    P.ListComprehensionContext: InferenceChecks._infer_list_comprehension,
    P.PatternComprehensionContext: lambda self, ctx, scope: list_of(
        self.infer(ctx.expression()[-1], self._comprehension_scope(ctx, scope))
    ),
    P.MapProjectionContext: InferenceChecks._infer_map_projection,
    P.CollectExpressionContext: InferenceChecks._infer_collect,
    P.CountStarContext: lambda self, ctx, scope: VALUE,
    P.ExistsExpressionContext: lambda self, ctx, scope: VALUE,
    P.CountExpressionContext: lambda self, ctx, scope: VALUE,
}
