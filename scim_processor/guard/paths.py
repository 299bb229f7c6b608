"""Which (start label, end label) pairs a relationship pattern can join, over the schema's triples.

For a relationship pattern of some types and a direction, the schema's ``(start, type, end)``
triples give a relation over labels; a variable-length pattern ``*lo..hi`` (and a quantified path
pattern ``{lo,hi}``, Neo4j Cypher manual "Quantified path patterns") joins the labels reachable
in ``lo`` to ``hi`` steps of that relation. The schema is taken as complete: a relationship's
endpoints carry the labels some triple gives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..graph.graph_schema import GraphSchema

Pairs = frozenset[tuple[str, str]]
Labels = frozenset[str]


@dataclass(frozen=True)
class Hop:
    """One step of a path pattern: the label pairs it joins (start → end) and its length range.

    ``hi`` None means unbounded. ``lo`` 0 lets the two ends be the same node.
    """

    pairs: Pairs
    lo: int = 1
    hi: int | None = 1


class SchemaRelations:
    """The schema's labels and relationship triples, indexed for :class:`Hop` arithmetic."""

    def __init__(self, schema: GraphSchema):
        self.labels: Labels = frozenset(schema.node_props)
        self.types: frozenset[str] = schema.relationship_types
        by_type: dict[str, set[tuple[str, str]]] = {}
        for start, rel, end in schema.relationships:
            by_type.setdefault(rel, set()).add((start, end))
        everything = frozenset((a, b) for a in self.labels for b in self.labels)
        # A type the schema names without endpoints may join any two labels.
        self.by_type: dict[str, Pairs] = {t: frozenset(by_type.get(t, everything)) for t in self.types}
        self.everything = everything

    def pairs(self, types: frozenset[str] | None, direction: str) -> Pairs:
        """Pairs joined by one relationship of ``types`` (None: any type) read in ``direction``.

        ``direction`` is ``->`` (left to right), ``<-`` or ``--`` (either way).
        """
        chosen = self.types if types is None else types & self.types
        forward = frozenset(p for t in chosen for p in self.by_type[t])
        if direction == "->":
            return forward
        backward = frozenset((b, a) for a, b in forward)
        return backward if direction == "<-" else forward | backward


def step(pairs: Pairs, labels: Labels) -> Labels:
    """Labels one hop of ``pairs`` reaches from ``labels``."""
    return frozenset(b for a, b in pairs if a in labels)


def reach(advance: Callable[[Labels], Labels], start: Labels, lo: int, hi: int | None) -> Labels:
    """Union of the label sets reached after ``lo`` to ``hi`` applications of ``advance``.

    The sequence of sets is eventually periodic, so any bound (even ``*1000000..``) costs at most
    one pass over its distinct sets.
    """
    history, index = [start], {start: 0}
    while True:
        nxt = advance(history[-1])
        if nxt in index:
            loop = index[nxt]
            break
        index[nxt] = len(history)
        history.append(nxt)
    period = len(history) - loop

    def state(k: int) -> Labels:
        return history[k] if k < len(history) else history[loop + (k - loop) % period]

    top = lo + len(history) + period if hi is None else min(hi, lo + len(history) + period)
    out: set[str] = set()
    for k in range(lo, top + 1):
        out |= state(k)
    return frozenset(out)


def image(hop: Hop, labels: Labels) -> Labels:
    """Labels the far end of ``hop`` may carry when its near end carries one of ``labels``."""
    return reach(lambda s: step(hop.pairs, s), labels, hop.lo, hop.hi)


def preimage(hop: Hop, labels: Labels) -> Labels:
    """Labels the near end of ``hop`` may carry when its far end carries one of ``labels``."""
    back = frozenset((b, a) for a, b in hop.pairs)
    return reach(lambda s: step(back, s), labels, hop.lo, hop.hi)


def relation(universe: Labels, end_for: Callable[[Labels], Labels]) -> Pairs:
    """The pairs ``(a, b)`` with ``b`` in ``end_for({a})``: a sub-pattern turned into one hop."""
    return frozenset((a, b) for a in universe for b in end_for(frozenset([a])))
