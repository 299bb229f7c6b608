"""Solving a pattern chain against the schema: which labels each node of it can carry.

A chain is a list of slots (nodes; juxtaposed nodes are one node) joined by steps (a
relationship pattern, possibly variable-length, or a parenthesized / quantified sub-path). The
forward pass (:func:`.paths.image`) gives each slot the labels reachable from the start; the
backward pass (:func:`.paths.preimage`) narrows them to those that can still reach the end.
An empty slot means no path of those types, lengths and direction exists in the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import paths
from .base import CheckerBase
from .paths import Hop, Labels
from .report import ProblemCode


@dataclass
class Step:
    """One step of a chain (a relationship pattern or a sub-path) and its length bounds."""

    at: Any
    lo: int = 1
    hi: int | None = 1
    pairs: frozenset[tuple[str, str]] | None = None  # a relationship's pairs (None: a sub-path)
    inner: Chain | None = None
    variable: str | None = None
    types: frozenset[str] | None = None
    quantified: bool = False
    open: bool = False  # its type expression matches types outside the schema
    hop: Hop | None = None


@dataclass
class Chain:
    """Slots (label constraint, node variables) and the steps between them."""

    slots: list[tuple[Labels | None, list[str]]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    inside: list[bool] = field(default_factory=list)  # per slot: labelled with schema labels only
    impossible: bool = False  # the schema has no such path (reported): it matches nothing

    def typed(self, step: Step) -> bool:
        """Whether ``step`` uses schema relationship types only (a sub-path: all its steps do).

        The schema is taken as complete for its own types: the endpoints of such a step carry
        schema labels. An untyped or negated step may be a relationship the schema does not have.
        """
        if step.inner is not None:
            return all(step.inner.typed(s) for s in step.inner.steps)
        return step.types is not None

    def slot_inside(self, i: int) -> bool:
        """Whether slot ``i`` can only be a node the schema describes."""
        before = i > 0 and self.typed(self.steps[i - 1])
        after = i < len(self.steps) and self.typed(self.steps[i])
        return self.inside[i] or before or after


def bounds(text: str) -> tuple[int, int | None]:
    """Length bounds (lo, hi; hi None = unbounded) of a path length or quantifier.

    ``*2``, ``*1..3``, ``*..3``, ``*2..``, ``+``, ``*`` (0..), ``{2}``, ``{1,3}``, ``{,3}``.
    """
    if text == "+":
        return 1, None
    if text == "*":
        return 0, None
    body, sep = (text[1:-1], ",") if text.startswith("{") else (text[1:], "..")
    if sep not in body:
        return int(body), int(body)
    lo, hi = body.split(sep, 1)
    return (int(lo) if lo else (1 if sep == ".." else 0)), (int(hi) if hi else None)


class ChainSolver(CheckerBase):
    """Solves chains; see the module docstring."""

    def _hop(self, step: Step) -> Hop:
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

    def _forward(self, chain: Chain, start: Labels | None = None) -> tuple[list[Labels | None], int | None]:
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

    def _solve(self, chain: Chain, report: bool) -> list[Labels | None] | None:
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

    def _report_impossible(self, chain: Chain, failed: int, sets: list[Labels | None]) -> None:
        step = chain.steps[failed]
        start = sets[failed]
        end = chain.slots[failed + 1][0]
        types = "|".join(sorted(step.types)) if step.types is not None else "any type"
        if step.inner is not None:
            types = "this quantified path" if step.quantified else "this parenthesized path"
        unit = "repetitions" if step.inner is not None else "hops"
        span = str(step.lo) if step.lo == step.hi else f"{step.lo}..{'' if step.hi is None else step.hi}"
        length = "" if (step.lo, step.hi) == (1, 1) else f" ({span} {unit})"

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
