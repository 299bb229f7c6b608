"""The one Cypher statement type: query text plus parameters (values only ever travel as parameters)."""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple


class Statement(NamedTuple):
    """One Cypher statement. A tuple, so ``connection.write([statement, ...])`` takes it as it is.

    Attributes:
        query: the Cypher text (labels, relationship types and property keys only; no values).
        parameters: parameter name → value.
        name: what the statement does (e.g. ``upsert User``), for results and logs; may be empty.
    """

    query: str
    parameters: dict[str, Any]
    name: str = ""

    @property
    def fingerprint(self) -> str:
        """The first 16 hex digits of the SHA-256 of the query text: equal texts, equal fingerprints."""
        return hashlib.sha256(self.query.encode("utf-8")).hexdigest()[:16]

    def to_json(self, include_query: bool = True) -> dict[str, Any]:
        """``{"name", "fingerprint"}``, plus ``"query"`` and ``"parameters"`` when ``include_query``, as in the results file."""
        data: dict[str, Any] = {"name": self.name, "fingerprint": self.fingerprint}
        if include_query:
            data["query"] = self.query
            data["parameters"] = self.parameters
        return data
