"""Updating clauses: ``CREATE``, ``MERGE``, ``SET``, ``REMOVE``, ``DELETE``, ``FOREACH``.

Each is a write (``write_in_read_only`` in read-only mode). Keys written must be schema keys of
the labels written to; a map whose keys the guard cannot see (``SET n += $map`` without declared
keys, ``SET a = b``) is ``dynamic_property``; labels set or removed must be schema labels.
"""

from __future__ import annotations

from typing import Any

from .expressions import ExpressionChecks
from .parser import Parser as P
from .report import ProblemCode
from .scopes import VALUE, Scope, bare_variable, descendants, element_of, name_of, only_child


class UpdateChecks(ExpressionChecks):
    """Updating-clause checks; see the module docstring."""

    def _create(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.write(ctx, "CREATE")
        scope = dict(scope)
        for pattern in ctx.patternList().pattern():
            self.pattern(pattern, scope, writing=True)
        return scope, {}

    def _merge(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.write(ctx, "MERGE")
        scope = dict(scope)
        self.pattern(ctx.pattern(), scope, writing=True)
        for action in ctx.mergeAction():
            self._set(action.setClause(), scope)
        return scope, {}

    def _set(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.write(ctx, "SET")
        for item in ctx.setItem():
            if isinstance(item, P.SetPropContext):
                self.visit(item.expression2(), scope)
                self.visit(item.expression(), scope)
                target = item.expression2()
                if len(target.postFix()) == 1 and isinstance(target.postFix()[0], P.PropertyPostfixContext):
                    key_ctx = target.postFix()[0].property_().propertyKeyName()
                    var = self.infer(target.expression1(), scope)
                    self.type_hint(
                        var, name_of(key_ctx), item.expression(), key_ctx, bare_variable(target.expression1())
                    )
            elif isinstance(item, (P.SetPropsContext, P.AddPropContext)):
                variable = name_of(item.variable())
                self.visit(item.expression(), scope)
                self._map_keys(scope.get(variable, VALUE), item.expression(), scope, item, variable)
            elif isinstance(item, (P.SetLabelsContext, P.SetLabelsIsContext)):
                self._node_labels(item, scope.get(name_of(item.variable()), VALUE))
            else:
                self.unsupported(item, "SET item")
        return scope, {}

    def _remove(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.write(ctx, "REMOVE")
        for item in ctx.removeItem():
            if isinstance(item, P.RemovePropContext):
                self.visit(item.expression2(), scope)
            elif isinstance(item, (P.RemoveLabelsContext, P.RemoveLabelsIsContext)):
                self._node_labels(item, scope.get(name_of(item.variable()), VALUE))
            else:
                self.unsupported(item, "REMOVE item")
        return scope, {}

    def _delete(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.write(ctx, "DETACH DELETE" if ctx.DETACH() else "DELETE")
        self.visit_children(ctx, scope)
        return scope, {}

    def _node_labels(self, item: Any, var: Any) -> None:
        check = self.check_rel_type if var.kind == "rel" else self.check_label
        kinds = (P.LabelTypeContext, P.SymbolicNameStringContext, P.DynamicLabelTypeContext)
        for ctx in descendants(item, kinds):
            if isinstance(ctx, P.DynamicLabelTypeContext):
                self.report(
                    ProblemCode.UNKNOWN_LABEL,
                    "dynamic labels cannot be checked against the schema",
                    ctx,
                    ctx.getText(),
                )
            elif isinstance(ctx, P.LabelTypeContext):
                check(name_of(ctx.symbolicNameString()), ctx)
            elif isinstance(ctx.parentCtx, P.NodeLabelsIsContext):
                check(name_of(ctx), ctx)

    def _map_keys(self, var: Any, expression: Any, scope: Scope, at: Any, variable: str) -> None:
        """``SET n = <expr>`` / ``SET n += <expr>``: the keys of the map written must be defined."""
        literal = only_child(expression)
        if isinstance(literal, P.MapContext):
            for key_ctx in literal.propertyKeyName():
                self.check_key(var, name_of(key_ctx), key_ctx, variable)
            return
        source = self.infer(expression, scope)
        if source.keys is not None:
            self.check_keys(var, source.keys, expression, variable)
            return
        self.report(
            ProblemCode.DYNAMIC_PROPERTY,
            f"the keys written to {variable} by {expression.getText()} are unknown; "
            "name each key or declare the parameter's keys",
            expression,
            expression.getText(),
        )

    def _foreach(self, ctx: Any, scope: Scope) -> tuple[Scope, Scope]:
        self.write(ctx, "FOREACH")
        self.visit(ctx.expression(), scope)
        inner = {**scope, name_of(ctx.variable()): element_of(self.infer(ctx.expression(), scope))}
        for sub in ctx.clause():
            inner, _ = self.clause(sub, inner)
        return scope, {}
