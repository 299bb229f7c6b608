"""String and number literals of a query moved into parameters, from the parse tree (issue 16 §8).

A model that writes ``WHERE u.department = 'Finance'`` means ``WHERE u.department = $p1`` with
``{"p1": "Finance"}``: the rewrite is mechanical, so it is done here rather than refused and fed
back. Only literals that are values of an expression are moved (Neo4j Cypher manual, "Values
and types" / "Parameters"): strings and numbers, in any clause, lists and maps included. Left
as written: booleans, ``null``, ``Infinity``/``NaN``, and the numbers of ``SKIP`` and ``LIMIT``
(row counts, not data). Equal values share one parameter. The rewritten query must still pass
the guard: this module only rewrites, it approves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .parser import Parser as P
from .parser import RuleNode, parse

_ESCAPES = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class Parameterized:
    """A query with its literals moved into parameters.

    Attributes:
        query: the rewritten text (``$p1``, ``$p2``, ... where the literals were).
        parameters: the given parameters plus the new ones.
        moved: the new parameters only, name → value, in order of appearance.
    """

    query: str
    parameters: dict[str, Any]
    moved: dict[str, Any] = field(default_factory=dict)


def string_value(text: str) -> str:
    """The value of a Cypher string literal as written (quotes included): escapes resolved (Cypher manual, "String literals")."""

    def escape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE.get(code, code)

    return _ESCAPES.sub(escape, text[1:-1])


def number_value(text: str) -> int | float:
    """The value of a Cypher number literal: decimal, ``0x`` hexadecimal, ``0o`` octal integer, or a float."""
    cleaned = text.replace("_", "")
    try:
        return int(cleaned, 0)
    except ValueError:
        pass
    try:
        return int(cleaned, 10)  # leading zeros: 007
    except ValueError:
        return float(cleaned)


def _literals(node: Any, inside_row_count: bool = False) -> Iterator[tuple[int, int, Any]]:
    """``(start, stop, value)`` of every movable literal under ``node`` (character offsets, stop inclusive)."""
    if isinstance(node, P.SkipContext | P.LimitContext):
        inside_row_count = True
    if isinstance(node, P.StringsLiteralContext):
        yield node.start.start, node.stop.stop, string_value(node.getText())
        return
    if isinstance(node, P.NumericLiteralContext):
        if not inside_row_count:
            yield node.start.start, node.stop.stop, number_value(node.getText())
        return
    for child in node.getChildren():
        if isinstance(child, RuleNode):
            yield from _literals(child, inside_row_count)


def parameterize(query: str, parameters: Mapping[str, Any] | None = None, prefix: str = "p") -> Parameterized:
    """Moves the string and number literals of ``query`` into parameters.

    Args:
        query: Cypher text.
        parameters: the parameters the query already has (their names are not reused).
        prefix: the new parameters' name prefix (``p`` → ``$p1``, ``$p2``, ...).

    Returns:
        The rewritten query and the merged parameters; the query unchanged if it has no literal.

    Raises:
        scim_processor.guard.CypherSyntaxError: ``query`` is not Cypher 25.
    """
    given = dict(parameters or {})
    found = sorted(_literals(parse(query)), key=lambda item: item[0])
    if not found:
        return Parameterized(query, given)
    names: dict[tuple[type, Any], str] = {}
    moved: dict[str, Any] = {}
    pieces: list[str] = []
    position, counter = 0, 0
    for start, stop, value in found:
        key = (type(value), value)
        if key not in names:
            counter += 1
            while f"{prefix}{counter}" in given:
                counter += 1
            names[key] = f"{prefix}{counter}"
            moved[names[key]] = value
        pieces.append(query[position:start])
        pieces.append(f"${names[key]}")
        position = stop + 1
    pieces.append(query[position:])
    return Parameterized("".join(pieces), {**given, **moved}, moved)
