"""Node and relationship patterns: names, keys, and whether the schema lets the chain exist.

A chain such as ``(a:User)-[:MEMBER_OF*1..3]->(g)((x)-[]->(y)){1,2}(z)`` is collected here into
slots and steps (names and keys reported once), then solved by :mod:`.chains`; an impossible
chain is ``relationship_direction``. The narrowed labels are bound to the node variables, so
``(u:User)-[:HAS_EMAIL]->(e)`` gives ``e`` the labels ``{Email}``.
"""

from __future__ import annotations

from typing import Any

from .chains import Chain, ChainSolver, Step, bounds
from .labels import label_tree
from .parser import Parser as P
from .paths import Labels
from .report import ProblemCode
from .scopes import Scope, Var, join_all, list_of, name_of, union


class PatternChecks(ChainSolver):
    """Pattern checks; see the module docstring."""

    def pattern(self, ctx: Any, scope: Scope, writing: bool, optional: bool = False) -> None:
        """Checks one ``pattern`` (``p = ...``, shortest paths included) and binds its variables."""
        anonymous = ctx.anonymousPattern()
        element = anonymous.patternElement()
        if element is None:
            element = anonymous.shortestPathPattern().patternElement()
        path = self.pattern_element(element, scope, writing, optional)
        if ctx.variable() is not None:
            scope[name_of(ctx.variable())] = path

    def pattern_element(self, ctx: Any, scope: Scope, writing: bool, optional: bool = False) -> Var:
        """Checks a chain, binds its variables into ``scope`` and returns the path it matches."""
        before = dict(scope)
        chain = self._collect(ctx, scope, writing)
        sets = self._solve(chain, report=True)
        if sets is None:  # the chain cannot exist (reported): it matches nothing, reads nothing
            sets = [self.relations.labels if c is None else c for c, _ in chain.slots]
            chain.inside = [True] * len(chain.slots)
            chain.impossible = True
        return self._bind(chain, sets, scope, before, optional)

    def _bind(
        self, chain: Chain, sets: list[Labels | None], scope: Scope, before: Scope, optional: bool
    ) -> Var:
        """Binds the chain's node and relationship variables; returns the path value."""
        nodes = []
        for i, ((_, variables), labels) in enumerate(zip(chain.slots, sets, strict=True)):
            node = Var("node", labels, outside=not chain.slot_inside(i))
            nodes.append(node)
            for variable in variables:
                scope[variable] = before[variable] if optional and variable in before else node
        rels = []
        for i, step in enumerate(chain.steps):
            types = step.types if step.types is not None or step.open else self.relations.types
            rel = Var(
                "rel",
                types,
                ends=union([sets[i], sets[i + 1]]),
                outside=not (chain.impossible or chain.typed(step)),
            )
            rels.append(rel)
            if step.variable is not None and step.inner is None:
                scope[step.variable] = list_of(rel) if step.quantified else rel
        return Var("path", element=join_all(nodes), rel=join_all(rels) if rels else None)

    # ----------------------------------------------------------------- collecting (reports names and keys)
    def _collect(self, ctx: Any, scope: Scope, writing: bool) -> Chain:
        chain = Chain()
        for child in ctx.getChildren():
            if isinstance(child, P.NodePatternContext):
                constraint, variable, inside = self._node_pattern(child, scope, writing)
                if len(chain.slots) > len(chain.steps):  # juxtaposed with the previous node: same node
                    chain.inside[-1] = chain.inside[-1] or inside
                    previous, names = chain.slots[-1]
                    merged = (
                        constraint
                        if previous is None
                        else previous
                        if constraint is None
                        else previous & constraint
                    )
                    chain.slots[-1] = (merged, names + ([variable] if variable else []))
                else:
                    chain.slots.append((constraint, [variable] if variable else []))
                    chain.inside.append(inside)
            elif isinstance(child, P.RelationshipPatternContext):
                self._open_slot(chain)
                chain.steps.append(self._relationship_pattern(child, scope, writing))
            elif isinstance(child, P.QuantifierContext) and chain.steps:
                chain.steps[-1].lo, chain.steps[-1].hi = bounds(child.getText())
                chain.steps[-1].quantified = True
            elif isinstance(child, P.ParenthesizedPathContext):
                self._open_slot(chain)
                chain.steps.append(self._parenthesized(child, scope, writing))
        self._open_slot(chain)
        return chain

    @staticmethod
    def _open_slot(chain: Chain) -> None:
        if len(chain.slots) == len(chain.steps):
            chain.slots.append((None, []))
            chain.inside.append(False)

    def _parenthesized(self, ctx: Any, scope: Scope, writing: bool) -> Step:
        inner_scope = dict(scope)
        pattern = ctx.pattern()
        element = pattern.anonymousPattern().patternElement()
        inner = self._collect(element, inner_scope, writing)
        sets = self._solve(inner, report=False) or [c for c, _ in inner.slots]
        self._bind(inner, sets, inner_scope, dict(scope), optional=False)
        if ctx.expression() is not None:
            self.visit(ctx.expression(), inner_scope)
        quantifier = ctx.quantifier()
        lo, hi = bounds(quantifier.getText()) if quantifier is not None else (1, 1)
        for name, var in inner_scope.items():  # group variables: a list per repetition
            if scope.get(name) != var:
                scope[name] = list_of(var) if quantifier is not None else var
        return Step(ctx, lo, hi, inner=inner, quantified=quantifier is not None)

    def _node_pattern(self, ctx: Any, scope: Scope, writing: bool) -> tuple[Labels | None, str | None, bool]:
        """Checks a node pattern.

        Returns:
            Its label constraint, its variable, and whether it can only be a schema node.
        """
        constraint: Labels | None = None
        if ctx.labelExpression() is not None:
            constraint = self._label_constraint(ctx.labelExpression(), single=False)
        inside = constraint is not None
        variable = name_of(ctx.variable()) if ctx.variable() is not None else None
        if variable is not None:
            existing = scope.get(variable)
            if existing is not None and existing.kind == "node" and existing.names is not None:
                constraint = existing.names if constraint is None else constraint & existing.names
                inside = inside or not existing.open
            if existing is None or existing.kind != "node" or constraint is not None:
                scope[variable] = Var("node", constraint, outside=not inside)
        var = Var("node", constraint)
        if ctx.properties() is not None:
            self._properties(ctx.properties(), var, scope, writing, variable)
        if ctx.expression() is not None:
            self.visit(ctx.expression(), scope)
        return constraint, variable, inside

    def _label_constraint(self, ctx: Any, single: bool) -> Labels | None:
        """Checks a label (type) expression; the schema names it allows, None when it reaches outside."""
        tree = label_tree(ctx)
        universe = self.relations.types if single else self.relations.labels
        unknown = False
        for name, at, negated in tree.names():
            if not negated and name not in universe:
                unknown = True
                (self.check_rel_type if single else self.check_label)(name, at)
        for at in tree.dynamic():
            self.report(
                ProblemCode.UNKNOWN_LABEL,
                "dynamic labels cannot be checked against the schema",
                at,
                at.getText(),
            )
        if unknown or tree.dynamic():
            return frozenset(universe)
        if tree.reaches_outside(single):
            what = "relationship type" if single else "label"
            if self.read_only:
                self.report(
                    ProblemCode.NON_SCHEMA_READ,
                    f"the {what} expression {ctx.getText()} matches elements outside the graph schema",
                    ctx,
                    ctx.getText(),
                )
            return None
        return tree.possible(universe, single)

    def _relationship_pattern(self, ctx: Any, scope: Scope, writing: bool) -> Step:
        types: frozenset[str] | None = None
        if ctx.labelExpression() is not None:
            types = self._label_constraint(ctx.labelExpression(), single=True)
        reaches_outside = ctx.labelExpression() is not None and types is None
        left, right = ctx.leftArrow() is not None, ctx.rightArrow() is not None
        direction = "->" if right and not left else "<-" if left and not right else "--"
        lo: int = 1
        hi: int | None = 1
        if ctx.pathLength() is not None:
            text = ctx.pathLength().getText()
            lo, hi = (1, None) if text == "*" else bounds(text)
        variable = name_of(ctx.variable()) if ctx.variable() is not None else None
        var = Var("rel", types)
        if variable is not None:
            scope[variable] = list_of(var) if ctx.pathLength() is not None else var
        if ctx.properties() is not None:
            self._properties(ctx.properties(), var, scope, writing, variable)
        if ctx.expression() is not None:
            self.visit(ctx.expression(), scope)
        pairs = self.relations.pairs(types, direction)
        quantified = ctx.pathLength() is not None
        return Step(
            ctx, lo, hi, pairs, variable=variable, types=types, quantified=quantified, open=reaches_outside
        )

    def _properties(self, ctx: Any, var: Var, scope: Scope, writing: bool, variable: str | None) -> None:
        literal = ctx.map_()
        if literal is not None:
            for key_ctx, expression in zip(literal.propertyKeyName(), literal.expression(), strict=True):
                self.check_key(var, name_of(key_ctx), key_ctx, variable)
                self.type_hint(var, name_of(key_ctx), expression, key_ctx, variable)
                self.visit(expression, scope)
            return
        parameter = ctx.parameter()
        declared = self.parameters.get(name_of(parameter.parameterName())) if parameter is not None else None
        if declared is not None and declared.keys is not None:
            self.check_keys(var, declared.keys, parameter, variable)
        elif writing:
            self.report(
                ProblemCode.DYNAMIC_PROPERTY,
                f"the keys of {ctx.getText()} are unknown; name each key or declare the parameter's keys",
                ctx,
                ctx.getText(),
            )

    def type_hint(self, var: Var, key: str, expression: Any, at: Any, variable: str | None) -> None:
        """Warns when a typed property is compared with a literal of another type (in expressions.py)."""
        raise NotImplementedError
