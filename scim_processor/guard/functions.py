"""Cypher functions: which are built in, and what the ones that pass a node or relationship return.

Neo4j Cypher manual, "Functions". User-defined functions are allowed only from the caller's
allowlist; they cannot write (Neo4j: functions are read-only), so they are allowed in both modes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .parser import Parser as P
from .scopes import UNKNOWN_NODE, UNKNOWN_REL, VALUE, Var, element_of, join_all, list_of, name_of, only_child

# Built-in Cypher functions (Neo4j 5 / Cypher 25), lower-cased. Anything else is user-defined.
_BUILTIN_NAMES = """
    abs acos asin atan atan2 avg ceil char_length character_length coalesce collect cos cot
    count degrees e elementid endnode exists exp file floor haversin head id isempty isnan keys
    labels last left length linenumber log log10 lower ltrim max min nodes nullif percentilecont
    percentiledisc pi point properties radians rand randomuuid range reduce relationships
    replace reverse right round rtrim btrim sign sin size split sqrt startnode stdev stdevp
    substring sum tail tan timestamp toboolean tobooleanlist tobooleanornull tofloat tofloatlist
    tofloatornull tointeger tointegerlist tointegerornull tolower tostring tostringlist
    tostringornull toupper trim type upper valuetype date datetime localdatetime localtime time
    duration normalize isnormalized vector vector_dimension_count vector_distance vector_norm
"""
BUILTIN_FUNCTIONS = frozenset(_BUILTIN_NAMES.split())
BUILTIN_NAMESPACES = (
    "date.",
    "datetime.",
    "localdatetime.",
    "localtime.",
    "time.",
    "duration.",
    "point.",
    "vector.",
)


def function_name(ctx: Any) -> str:
    """The dotted name of a ``functionInvocation`` or ``procedureName``, as written."""
    name_ctx = ctx.functionName() if isinstance(ctx, P.FunctionInvocationContext) else ctx
    return ".".join(
        name_of(n) for n in [*name_ctx.namespace().symbolicNameString(), name_ctx.symbolicNameString()]
    )


def literal_of(expression: Any) -> tuple[str, str] | None:
    """(``string``|``number``|``boolean``, text) when ``expression`` is a plain literal."""
    node = only_child(expression)
    if isinstance(node, P.StringLiteralContext):
        return "string", node.getText()[1:-1]
    if isinstance(node, P.NumberLiteralContext):
        return "number", node.getText()
    if isinstance(node, P.BooleanLiteralContext):
        return "boolean", node.getText().lower()
    return None


def path_part(path: Var, rel: bool) -> Var:
    """The nodes (or relationships) of a path value, as a list."""
    if path.kind == "path":
        part = path.rel if rel else path.element
        if part is not None:
            return list_of(part)
    return list_of(UNKNOWN_REL if rel else UNKNOWN_NODE)


FUNCTIONS: dict[str, Callable[[Var, list[Var]], Var]] = {
    "collect": lambda first, _: list_of(first),
    "head": lambda first, _: element_of(first),
    "last": lambda first, _: element_of(first),
    "coalesce": lambda _, args: join_all(args),
    "nullif": lambda first, _: first,
    "tail": lambda first, _: first if first.kind == "list" else VALUE,
    "reverse": lambda first, _: first if first.kind == "list" else VALUE,
    "nodes": lambda first, _: path_part(first, rel=False),
    "relationships": lambda first, _: path_part(first, rel=True),
    "startnode": lambda first, _: Var("node", first.ends if first.kind == "rel" else None),
    "endnode": lambda first, _: Var("node", first.ends if first.kind == "rel" else None),
    "properties": lambda first, _: first if first.kind == "map" else VALUE,
}
