"""The one place that knows which Cypher parser is used: Neo4j's Cypher 25 grammar, ANTLR-generated.

The generated lexer and parser ship in the ``neo4j-guard`` package (module ``neo4j_guard._parser``,
Apache-2.0 grammar, ANTLR runtime 4.13.2); nothing else of that package is used. Parsing tries the
fast SLL prediction mode first and falls back to full LL only when SLL fails, which is what
keeps a first check of a typical query to a couple of milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from antlr4 import CommonTokenStream, InputStream, ParserRuleContext, PredictionMode
from antlr4.error.ErrorListener import ErrorListener
from antlr4.error.Errors import ParseCancellationException
from antlr4.error.ErrorStrategy import BailErrorStrategy
from antlr4.tree.Tree import TerminalNode
from neo4j_guard._parser.Cypher25Lexer import Cypher25Lexer
from neo4j_guard._parser.Cypher25Parser import Cypher25Parser

from ..errors import ScimProcessorError

# The generated code is untyped: the rest of the guard sees it through these three names only.
Parser: Any = Cypher25Parser
"""The generated parser class; its nested ``...Context`` classes are the parse-tree node types."""
RuleNode: Any = ParserRuleContext
"""The base class of every parse-tree rule node."""
Terminal: Any = TerminalNode
"""The class of parse-tree tokens."""

_EXPLAIN = re.compile(r"^\s*(EXPLAIN|PROFILE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class CypherSyntaxError(ScimProcessorError):
    """The query is not Cypher 25. ``line`` is 1-based, ``column`` 1-based, ``offset`` 0-based chars."""

    message: str
    line: int
    column: int
    offset: int

    def __str__(self) -> str:
        return f"invalid Cypher at line {self.line}, column {self.column}: {self.message}"


class _Raise(ErrorListener):  # type: ignore[misc]
    def syntaxError(self, recognizer: Any, symbol: Any, line: int, column: int, msg: str, e: Any) -> None:
        offset = symbol.start if symbol is not None and getattr(symbol, "start", -1) >= 0 else -1
        raise CypherSyntaxError(msg, line, column + 1, offset)


def _parser(query: str) -> Any:
    lexer = Cypher25Lexer(InputStream(query))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_Raise())
    parser = Cypher25Parser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(_Raise())
    return parser


def parse(query: str) -> Any:
    """Parses ``query`` (one or more statements; a leading EXPLAIN/PROFILE is allowed).

    Returns:
        The ``StatementsContext`` root of the parse tree.

    Raises:
        CypherSyntaxError: the text is not valid Cypher 25, or nests too deeply.
    """
    # The grammar has no EXPLAIN/PROFILE: blank the keyword so positions stay the same.
    query = _EXPLAIN.sub(lambda match: " " * len(match.group(0)), query, count=1)
    try:
        parser = _parser(query)
        parser._interp.predictionMode = PredictionMode.SLL
        parser._errHandler = BailErrorStrategy()
        return parser.statements()
    except (ParseCancellationException, CypherSyntaxError):
        pass
    except RecursionError:
        raise CypherSyntaxError("the query is nested too deeply", 1, 1, 0) from None
    try:
        return _parser(query).statements()
    except RecursionError:
        raise CypherSyntaxError("the query is nested too deeply", 1, 1, 0) from None
