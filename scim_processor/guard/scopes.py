"""What the checker knows of a variable (:class:`Var`), scopes, and the small parse-tree helpers.

A :class:`Var` is an abstract value: a node with the schema labels it may have, a relationship
with its possible types and endpoint labels, a path, a list of something, a map with known
fields, a plain value, or ``any`` (could be a node, a relationship or a value). ``names=None``
on a node or relationship means *unconstrained*: it may be an element the schema does not
describe (Neo4j matches an unlabelled ``(n)`` against every node).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .parser import Parser as P
from .parser import RuleNode


@dataclass(frozen=True)
class Var:
    """An abstract value.

    Attributes:
        kind: ``node``, ``rel``, ``path``, ``list``, ``map``, ``value``, ``null`` or ``any``.
        names: node labels or relationship types it may have (schema names); None = unconstrained.
        element: for a list, its elements; for a path, its nodes.
        keys: for a value the caller declared (a parameter), the keys it has.
        fields: for a map literal or projection, field name → value.
        ends: for a relationship, the labels its endpoints may have (None = unconstrained).
        rel: for a path, its relationships.
        outside: a node or relationship that may lie outside the schema although ``names`` (taken
            from the schema's triples, for checking keys and directions) is a set: an untyped
            relationship, or a node reached only through untyped relationships.
    """

    kind: str
    names: frozenset[str] | None = None
    element: Var | None = None
    keys: frozenset[str] | None = None
    fields: tuple[tuple[str, Var], ...] | None = None
    ends: frozenset[str] | None = None
    rel: Var | None = None
    outside: bool = False

    def field(self, key: str) -> Var:
        """The value of map field ``key`` (a plain value when unknown)."""
        for name, var in self.fields or ():
            if name == key:
                return var
        return VALUE

    @property
    def open(self) -> bool:
        """True when it may carry a node or relationship the schema does not describe."""
        if self.kind in ("node", "rel"):
            return self.names is None or self.outside
        if self.kind in ("list", "path"):
            return any(part is not None and part.open for part in (self.element, self.rel))
        if self.kind == "map":
            return any(var.open for _, var in self.fields or ())
        return False


VALUE = Var("value")
NULL = Var("null")
ANY = Var("any")
UNKNOWN_NODE = Var("node")
UNKNOWN_REL = Var("rel")
Scope = dict[str, Var]


def union(names: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """Union of name sets; None (unconstrained) absorbs."""
    out: set[str] = set()
    for item in names:
        if item is None:
            return None
        out |= item
    return frozenset(out)


def join(a: Var, b: Var) -> Var:
    """The least abstract value covering both ``a`` and ``b`` (for CASE, coalesce, list elements)."""
    if a == b or b.kind == "null":
        return a
    if a.kind == "null":
        return b
    if a.kind != b.kind:
        return (
            ANY if "value" not in (a.kind, b.kind) else (a if b.kind == "value" and a.kind == "map" else ANY)
        )
    if a.kind in ("node", "rel"):
        ends = union([a.ends, b.ends]) if a.kind == "rel" else None
        return Var(a.kind, union([a.names, b.names]), ends=ends, outside=a.outside or b.outside)
    if a.kind in ("list", "path"):
        element = join(a.element or ANY, b.element or ANY)
        rel = join(a.rel, b.rel) if a.rel is not None and b.rel is not None else None
        return Var(a.kind, element=element, rel=rel)
    if a.kind == "map":
        names = {n for n, _ in a.fields or ()} | {n for n, _ in b.fields or ()}
        return Var("map", fields=tuple((n, join(a.field(n), b.field(n))) for n in sorted(names)))
    return VALUE if a.kind == "value" else ANY


def join_all(vars_: Iterable[Var]) -> Var:
    """:func:`join` over several values (``null`` when there are none)."""
    out = NULL
    for var in vars_:
        out = join(out, var)
    return out


def list_of(var: Var) -> Var:
    """A list whose elements are ``var``."""
    return Var("list", element=var)


def element_of(var: Var) -> Var:
    """What indexing or unwinding ``var`` gives (a plain value unless it is a known list)."""
    if var.kind == "list" and var.element is not None:
        return var.element
    return ANY if var.kind == "any" else VALUE


def name_of(ctx: Any) -> str:
    """A symbolic name as Cypher means it (backticks removed, doubled backticks undone)."""
    single = getattr(ctx, "start", None) is not None and ctx.start is ctx.stop
    text = str(ctx.start.text if single else ctx.getText())
    return text[1:-1].replace("``", "`") if text.startswith("`") else text


def rule_children(ctx: Any) -> list[Any]:
    """The rule (non-terminal) children of ``ctx``."""
    return [c for c in (getattr(ctx, "children", None) or []) if isinstance(c, RuleNode)]


def only_child(ctx: Any) -> Any:
    """Descends through single-child rules to the first with several children, a variable, or a leaf rule."""
    node = ctx
    while isinstance(node, RuleNode) and not isinstance(node, P.VariableContext):
        children = node.children or []
        if len(children) != 1 or not isinstance(children[0], RuleNode):
            return node
        node = children[0]
    return node


def bare_variable(expression: Any) -> str | None:
    """The variable name if ``expression`` is nothing but a variable."""
    node = only_child(expression)
    return name_of(node) if isinstance(node, P.VariableContext) else None


def descendants(ctx: Any, kinds: tuple[type, ...]) -> list[Any]:
    """Every node under ``ctx`` (itself included) of one of ``kinds``, in document order."""
    stack, found = [ctx], []
    while stack:
        node = stack.pop()
        if isinstance(node, kinds):
            found.append(node)
        stack.extend(reversed(rule_children(node)))
    return found


def text_of(ctx: Any) -> str:
    """The query text a rule spans, as written (spaces kept)."""
    stream = ctx.start.getInputStream()
    return str(stream.getText(ctx.start.start, ctx.stop.stop)) if ctx.stop is not None else str(ctx.getText())
