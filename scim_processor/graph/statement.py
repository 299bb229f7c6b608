"""The one Cypher statement type: query text plus parameters (values only ever travel as parameters)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Statement(NamedTuple):
    """One Cypher statement. A tuple, so ``connection.write([statement, ...])`` takes it as it is.

    Attributes:
        query: the Cypher text (labels, relationship types and property keys only; no values).
        parameters: parameter name → value.
    """

    query: str
    parameters: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """``{"query": ..., "parameters": ...}``, as in the results file."""
        return {"query": self.query, "parameters": self.parameters}
