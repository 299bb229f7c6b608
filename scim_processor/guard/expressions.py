"""Expressions: what each one reads, checked against what it is (see :mod:`.inference`).

A property read is checked against the labels (types) the value may have; ``properties()``,
``keys()`` and ``n {.*}`` of a value that may lie outside the schema are non-schema reads in
read-only mode; a variable read out of scope is ``undefined_variable`` (as Neo4j reports it); an
expression form outside :data:`UNDERSTOOD` is refused (deny by default).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from .functions import BUILTIN_FUNCTIONS, BUILTIN_NAMESPACES, function_name, literal_of
from .inference import InferenceChecks
from .labels import label_tree
from .parser import Parser as P
from .parser import Terminal
from .report import ProblemCode, Severity
from .scopes import ANY, Scope, Var, bare_variable, element_of, name_of, only_child, rule_children

# The expression forms the checker understands (children of Expression1); anything else is refused.
UNDERSTOOD = (
    P.LiteralContext, P.ParameterContext, P.CaseExpressionContext, P.ExtendedCaseExpressionContext,
    P.CountStarContext, P.ExistsExpressionContext, P.CountExpressionContext, P.CollectExpressionContext,
    P.MapProjectionContext, P.ListComprehensionContext, P.MapComprehensionContext, P.ListLiteralContext,
    P.PatternComprehensionContext, P.ReduceExpressionContext, P.ListItemsPredicateContext,
    P.NormalizeFunctionContext, P.TrimFunctionContext, P.PropertyExistsPredicateContext,
    P.PatternExpressionContext, P.ShortestPathExpressionContext, P.ParenthesizedExpressionContext,
    P.FunctionInvocationContext, P.VariableContext, P.VectorFunctionContext, P.VectorDistanceFunctionContext,
    P.VectorNormFunctionContext,
)  # fmt: skip
_NUMERIC = ("INTEGER", "FLOAT")


class ExpressionChecks(InferenceChecks):
    """Expression checks; see the module docstring."""

    # ----------------------------------------------------------------- visiting (reports)
    def visit(self, ctx: Any, scope: Scope) -> None:
        """Checks ``ctx`` and everything under it under ``scope``."""
        if ctx is None or isinstance(ctx, Terminal):
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
        if not ctx.postFix():
            return
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
        literal = literal_of(expression)
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
        for left, right in itertools.pairwise(operands):
            for prop, other in ((left, right), (right, left)):
                node = only_child(prop)
                if isinstance(node, P.Expression2Context) and len(node.postFix()) == 1:
                    postfix = node.postFix()[0]
                    if isinstance(postfix, P.PropertyPostfixContext):
                        key_ctx = postfix.property_().propertyKeyName()
                        var = self.infer(node.expression1(), scope)
                        self.type_hint(
                            var, name_of(key_ctx), other, key_ctx, bare_variable(node.expression1())
                        )
        self.visit_children(ctx, scope)

    def type_hint(self, var: Var, key: str, expression: Any, at: Any, variable: str | None) -> None:
        """Warns (``type_mismatch``) when a typed property meets a literal of another type.

        The schema's types are the Neo4j type names (``INTEGER``, ``FLOAT``, ``STRING``,
        ``BOOLEAN``); an INTEGER property compared with ``'30'`` never matches in Cypher.
        """
        kind = self.property_type(var, key)
        literal = literal_of(expression)
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
            f"{owner} is {kind} in the schema but is compared with or set to a {found} literal{more}",
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
            elif var.kind == "node" or (
                name not in self.schema.node_props and name not in self.relations.types
            ):
                self.check_label(name, at)

    def _map_projection(self, ctx: Any, scope: Scope) -> None:
        variable = name_of(ctx.variable())
        if variable not in scope:
            self.report(
                ProblemCode.UNDEFINED_VARIABLE, f"variable `{variable}` not defined", ctx.variable(), variable
            )
        var = scope.get(variable, ANY)
        for element in ctx.mapProjectionElement():
            if element.property_() is not None:
                key_ctx = element.property_().propertyKeyName()
                self.check_key(var, name_of(key_ctx), key_ctx, variable)
            elif element.TIMES() is not None:
                self.check_whole(var, element, f"{variable}{{.*}}")
            elif element.expression() is not None:
                self.visit(element.expression(), scope)
            elif element.variable() is not None and name_of(element.variable()) not in scope:
                name = name_of(element.variable())
                self.report(
                    ProblemCode.UNDEFINED_VARIABLE, f"variable `{name}` not defined", element.variable(), name
                )

    def _iteration(self, ctx: Any, scope: Scope) -> None:
        expressions = ctx.expression()
        self.visit(expressions[0], scope)
        inner = {**scope, name_of(ctx.variable()): element_of(self.infer(expressions[0], scope))}
        for expression in expressions[1:]:
            self.visit(expression, inner)

    def _reduce(self, ctx: Any, scope: Scope) -> None:
        expressions = ctx.expression()
        self.visit(expressions[0], scope)
        self.visit(expressions[1], scope)
        for expression in expressions[2:]:
            self.visit(expression, self._reduce_scope(ctx, scope))

    def _pattern_comprehension(self, ctx: Any, scope: Scope) -> None:
        inner = self._comprehension_scope(ctx, scope)
        for expression in ctx.expression():
            self.visit(expression, inner)

    def _subquery_expression(self, ctx: Any, scope: Scope) -> None:
        if ctx.queryWithLocalDefinitions() is not None:
            self.subquery(ctx, scope)
            return
        inner = dict(scope)
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
                ProblemCode.UNKNOWN_PROCEDURE,
                f"function {name}() is not built in and not on the allowlist",
                ctx,
                name,
            )
        arguments = ctx.functionArgument()
        if lowered in ("properties", "keys") and arguments:
            self.check_whole(self.infer(arguments[0], scope), ctx, f"{name}({arguments[0].getText()})")
        for argument in arguments:
            self.visit(argument, scope)

    def _map_comprehension(self, ctx: Any, scope: Scope) -> None:
        self.report(
            ProblemCode.DYNAMIC_PROPERTY,
            "map comprehensions read keys the schema check cannot see",
            ctx,
            ctx.getText(),
        )

    def _path_expression(self, ctx: Any, scope: Scope) -> None:
        self.pattern_element(ctx, dict(scope), writing=False)


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
