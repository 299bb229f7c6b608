"""Label expressions (``:A|B``, ``:A&B``, ``:!A``, ``:%``, ``IS A``, dynamic ``:$(x)``) as predicates.

Neo4j Cypher manual, "Label expressions": ``|`` is or, ``&`` (or ``:``) is and, ``!`` is not,
``%`` matches any label (a node with at least one label), a relationship has exactly one type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .parser import Parser as P
from .parser import Terminal
from .scopes import name_of, rule_children

_OUTSIDE = "\x00outside"  # a label no schema can have: stands for "some label the schema lacks"


@dataclass(frozen=True)
class LabelTree:
    """One node of a label expression.

    ``op`` is ``or``, ``and``, ``not``, ``name``, ``any`` (``%``) or ``dynamic`` (``$(expr)``).
    """

    op: str
    parts: tuple[LabelTree, ...] = ()
    name: str = ""
    at: Any = field(default=None, compare=False)

    def holds(self, labels: frozenset[str]) -> bool:
        """Whether an element carrying exactly ``labels`` satisfies the expression (dynamic: yes)."""
        if self.op == "or":
            return any(p.holds(labels) for p in self.parts)
        if self.op == "and":
            return all(p.holds(labels) for p in self.parts)
        if self.op == "not":
            return not self.parts[0].holds(labels)
        if self.op == "name":
            return self.name in labels
        return bool(labels) if self.op == "any" else True

    def names(self, negated: bool = False) -> list[tuple[str, Any, bool]]:
        """Every name with its parse node and whether it sits under an odd number of ``!``."""
        if self.op == "name":
            return [(self.name, self.at, negated)]
        return [n for p in self.parts for n in p.names(negated != (self.op == "not"))]

    def dynamic(self) -> list[Any]:
        """The parse nodes of dynamic labels (``$(expr)``) in the expression."""
        if self.op == "dynamic":
            return [self.at]
        return [d for p in self.parts for d in p.dynamic()]

    def reaches_outside(self, single: bool) -> bool:
        """Whether an element with no schema label (or, for nodes, no label at all) can satisfy it."""
        outside = frozenset([_OUTSIDE])
        return self.holds(outside) or (not single and self.holds(frozenset()))

    def possible(self, universe: Iterable[str], single: bool) -> frozenset[str]:
        """Schema names an element satisfying the expression may carry (``single``: relationship types)."""
        names = frozenset(universe)
        found = {name for name in names if self.holds(frozenset([name]))}
        positive = frozenset(n for n, _, neg in self.names() if not neg and n in names)
        if not single and positive and self.holds(positive):
            found |= positive
        return frozenset(found)


def label_tree(ctx: Any) -> LabelTree:
    """Builds the :class:`LabelTree` of a ``labelExpression`` (or any of its sub-rules)."""
    if isinstance(ctx, P.LabelNameContext):
        return LabelTree("name", name=name_of(ctx.symbolicNameString()), at=ctx)
    if isinstance(ctx, P.SymbolicNameStringContext):
        return LabelTree("name", name=name_of(ctx), at=ctx)
    if isinstance(ctx, P.AnyLabelContext):
        return LabelTree("any", at=ctx)
    if isinstance(ctx, P.DynamicLabelContext):
        return LabelTree("dynamic", at=ctx)
    parts = tuple(label_tree(c) for c in rule_children(ctx))
    if isinstance(ctx, P.LabelExpression2Context):
        negations = sum(1 for c in ctx.getChildren() if isinstance(c, Terminal) and c.getText() == "!")
        tree = parts[0] if len(parts) == 1 else LabelTree("and", parts)
        return LabelTree("not", (tree,)) if negations % 2 else tree
    if len(parts) == 1:
        return parts[0]
    # labelExpression4 joins with | (or the legacy |:); labelExpression3 with & or :.
    return LabelTree("or" if isinstance(ctx, P.LabelExpression4Context) else "and", parts)
