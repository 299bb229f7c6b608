"""The one Cypher statement type: query text, parameters (values only ever travel as parameters) and a name."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, NamedTuple


class Statement(NamedTuple):
    """One Cypher statement. A tuple, so ``connection.write([statement, ...])`` takes it as it is.

    Attributes:
        query: the Cypher text (labels, relationship types and property keys only; no values).
        parameters: parameter name → value.
        name: what the statement does, ``<label>.<action>`` (``"User.create"``,
            ``"User.replace"``, ``"Group.member_add"``); ``""`` if unnamed. Results files carry
            it so that a line can say which statement applied the resource without the query text.
    """

    query: str
    parameters: dict[str, Any]
    name: str = ""

    @property
    def fingerprint(self) -> str:
        """16 hex digits of the SHA-256 of the query text (UTF-8): which version of the statement ran."""
        return _fingerprint(self.query)

    def to_json(self, include_query: bool = True) -> dict[str, Any]:
        """The statement as in the results file.

        Args:
            include_query: add the Cypher text and the parameters (``--include-cypher``).

        Returns:
            ``{"name", "fingerprint"}``, plus ``"query"`` and ``"parameters"`` when ``include_query``.
        """
        out: dict[str, Any] = {"name": self.name, "fingerprint": self.fingerprint}
        if include_query:
            out.update(query=self.query, parameters=self.parameters)
        return out


@lru_cache(maxsize=256)
def _fingerprint(query: str) -> str:
    """A run has a handful of statement texts and a results line per payload: each text is hashed once."""
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()[:16]
