"""Node and relationship patterns: names, keys, and whether the schema lets the chain exist.

A chain such as ``(a:User)-[:MEMBER_OF*1..3]->(g)((x)-[]->(y)){1,2}(z)`` is read as slots (the
nodes; juxtaposed nodes are one node, Neo4j Cypher manual "Quantified path patterns") joined by
hops. A forward pass over the hops (:func:`paths.image`) finds the labels each slot can carry,
a backward pass narrows them; a slot left with no label means no path of those types, lengths
and direction exists in the schema: ``relationship_direction``. The narrowed labels are bound to
the node variables, so ``(u:User)-[:HAS_EMAIL]->(e)`` gives ``e`` the labels ``{Email}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import paths
from .base import CheckerBase
from .labels import label_tree
from .parser import Parser as P
from .paths import Hop, Labels
from .report import ProblemCode
from .scopes import Scope, Var, list_of, name_of, union


@dataclass
class _Step:
    at: Any
    lo: int = 1
    hi: int | None = 1
    pairs: frozenset[tuple[str, str]] | None = None  # a relationship's pairs (None: a sub-path)
    inner: _Chain | None = None
    variable: str | None = None
    types: frozenset[str] | None = None
    quantified: bool = False
    open: bool = False  # its type expression matches types outside the schema
    hop: Hop | None = None


@dataclass
class _Chain:
    slots: list[tuple[Labels | None, list[str]]] = field(default_factory=list)
    steps: list[_Step] = field(default_factory=list)


def _bounds(text: str) -> tuple[int, int | None]:
    """Length bounds of ``*2``, ``*1..3``, ``*..3``, ``*2..``, ``+``, ``*`` (0..), ``{2}``, ``{1,3}``, ``{,3}``."""
    if text == "+":
        return 1, None
    if text == "*":
        return 0, None
    body, sep = (text[1:-1], ",") if text.startswith("{") else (text[1:], "..")
    if sep not in body:
        return int(body), int(body)
    lo, hi = body.split(sep, 1)
    return (int(lo) if lo else (1 if sep == ".." else 0)), (int(hi) if hi else None)


class PatternChecks(CheckerBase):
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
        for (_, variables), labels in zip(chain.slots, sets, strict=True):
            for variable in variables:
                if optional and variable in before:
                    scope[variable] = before[variable]
                else:
                    scope[variable] = Var("node", labels)
        rels = []
        for i, step in enumerate(chain.steps):
            ends = union([sets[i], sets[i + 1]])
            types = step.types if step.types is not None or step.open else self.relations.types
            rel = Var("rel", types, ends=ends)
            rels.append(rel)
            if step.variable is not None and step.inner is None:
                scope[step.variable] = list_of(rel) if step.quantified else rel
        node = Var("node", union(sets)) if sets else Var("node")
        rel_var = Var("rel", union(r.names for r in rels), ends=union(r.ends for r in rels)) if rels else None
        return Var("path", element=node, rel=rel_var)

    # ----------------------------------------------------------------- collecting (reports names and keys)
    def _collect(self, ctx: Any, scope: Scope, writing: bool) -> _Chain:
        chain = _Chain()
        for child in ctx.getChildren():
            if isinstance(child, P.NodePatternContext):
                constraint, variable = self._node_pattern(child, scope, writing)
                if len(chain.slots) > len(chain.steps):  # juxtaposed with the previous node: same node
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
            elif isinstance(child, P.RelationshipPatternContext):
                self._open_slot(chain)
                chain.steps.append(self._relationship_pattern(child, scope, writing))
            elif isinstance(child, P.QuantifierContext) and chain.steps:
                chain.steps[-1].lo, chain.steps[-1].hi = _bounds(child.getText())
                chain.steps[-1].quantified = True
            elif isinstance(child, P.ParenthesizedPathContext):
                self._open_slot(chain)
                chain.steps.append(self._parenthesized(child, scope, writing))
        self._open_slot(chain)
        return chain

    @staticmethod
    def _open_slot(chain: _Chain) -> None:
        if len(chain.slots) == len(chain.steps):
            chain.slots.append((None, []))

    def _parenthesized(self, ctx: Any, scope: Scope, writing: bool) -> _Step:
        inner_scope = dict(scope)
        pattern = ctx.pattern()
        element = pattern.anonymousPattern().patternElement()
        inner = self._collect(element, inner_scope, writing)
        if ctx.expression() is not None:
            self._bind_chain(inner, inner_scope)
            self.visit(ctx.expression(), inner_scope)
        self._bind_chain(inner, inner_scope)
        quantifier = ctx.quantifier()
        lo, hi = _bounds(quantifier.getText()) if quantifier is not None else (1, 1)
        for name, var in inner_scope.items():  # group variables: a list per repetition
            if scope.get(name) != var:
                scope[name] = list_of(var) if quantifier is not None else var
        return _Step(ctx, lo, hi, inner=inner, quantified=quantifier is not None)

    def _bind_chain(self, chain: _Chain, scope: Scope) -> None:
        for constraint, variables in chain.slots:
            for variable in variables:
                scope[variable] = Var("node", constraint)

    def _node_pattern(self, ctx: Any, scope: Scope, writing: bool) -> tuple[Labels | None, str | None]:
        constraint: Labels | None = None
        if ctx.labelExpression() is not None:
            constraint = self._label_constraint(ctx.labelExpression(), single=False)
        variable = name_of(ctx.variable()) if ctx.variable() is not None else None
        if variable is not None:
            existing = scope.get(variable)
            if existing is not None and existing.kind == "node" and existing.names is not None:
                constraint = existing.names if constraint is None else constraint & existing.names
            if existing is None or existing.kind != "node" or constraint is not None:
                scope[variable] = Var("node", constraint)
        var = Var("node", constraint)
        if ctx.properties() is not None:
            self._properties(ctx.properties(), var, scope, writing, variable)
        if ctx.expression() is not None:
            self.visit(ctx.expression(), scope)
        return constraint, variable

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

    def _relationship_pattern(self, ctx: Any, scope: Scope, writing: bool) -> _Step:
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
            lo, hi = (1, None) if text == "*" else _bounds(text)
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
        return _Step(
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

    # ----------------------------------------------------------------- solving (pure, except one report)
    def _hop(self, step: _Step) -> Hop:
        if step.hop is None:
            if step.inner is not None:
                inner = step.inner

                def end_for(start: Labels) -> Labels:
                    last = self._forward(inner, start)[0][-1]
                    return self.relations.labels if last is None else last

                pairs = paths.relation(self.relations.labels, end_for)
            else:
                pairs = step.pairs or frozenset()
            step.hop = Hop(pairs, step.lo, step.hi)
        return step.hop

    def _forward(self, chain: _Chain, start: Labels | None = None) -> tuple[list[Labels | None], int | None]:
        first = chain.slots[0][0]
        current = first if start is None else start if first is None else start & first
        sets: list[Labels | None] = [current]
        for i, step in enumerate(chain.steps):
            reached = paths.image(self._hop(step), current if current is not None else self.relations.labels)
            constraint = chain.slots[i + 1][0]
            current = reached if constraint is None else reached & constraint
            sets.append(current)
            if not current:
                return sets, i
        return sets, None

    def _solve(self, chain: _Chain, report: bool) -> list[Labels | None] | None:
        """Forward and backward passes; None (after reporting) when the chain cannot exist."""
        sets, failed = self._forward(chain)
        if failed is not None:
            if report:
                self._report_impossible(chain, failed, sets)
            return None
        for i in reversed(range(len(chain.steps))):
            after = sets[i + 1]
            if after is None:
                continue
            before = paths.preimage(self._hop(chain.steps[i]), after)
            sets[i] = before if sets[i] is None else sets[i] & before  # type: ignore[operator]
        return sets

    def _report_impossible(self, chain: _Chain, failed: int, sets: list[Labels | None]) -> None:
        step = chain.steps[failed]
        start = sets[failed]
        end = chain.slots[failed + 1][0]
        types = "|".join(sorted(step.types)) if step.types is not None else "any type"
        if step.inner is not None:
            types = "this quantified path" if step.quantified else "this parenthesized path"
        length = (
            "" if (step.lo, step.hi) == (1, 1) else f" ({step.lo}..{'' if step.hi is None else step.hi} hops)"
        )

        def shown(labels: Labels | None) -> str:
            return "any label" if labels is None else "|".join(sorted(labels)) or "no label"

        triples = sorted(t for t in self.schema.relationships if step.types is None or t[1] in step.types)
        declared = ", ".join(f"(:{s})-[:{t}]->(:{e})" for s, t, e in triples[:12]) or "none"
        self.report(
            ProblemCode.RELATIONSHIP_DIRECTION,
            f"no path of {types}{length} in this direction joins {shown(start)} to {shown(end)}; "
            f"the schema declares {declared}",
            step.at,
            types,
        )
