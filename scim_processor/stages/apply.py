"""Stage 5, apply: accepted payloads written in batches, one managed write transaction per batch.

Rows of the same upsert query are merged into one ``UNWIND $rows`` statement of at most
``batch_size`` rows. A batch is atomic. If the server refuses a batch (a uniqueness constraint,
say), the batch is retried one payload per transaction so that only the offending payloads are
rejected (409 uniqueness) and the rest are written; nothing half-written stays behind. A value
the driver cannot send (it should never pass validation) rejects its payload the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from neo4j.exceptions import (
    ClientError,
    ConstraintError,
    DatabaseError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from ..errors import GraphError, InvalidValueError, ScimError, UniquenessError
from ..graph import GraphConnection, Statement
from ..guard import CypherGuard

_REFUSED = (ClientError, DatabaseError, TypeError, ValueError, OverflowError)  # the server's or the Bolt packer's


@dataclass
class PendingWrite:
    """One accepted payload's statement, with its index in the run (to report failures)."""

    index: int
    statement: Statement


class GraphWriter:
    """Writes pending statements through the guard, in batches.

    Args:
        connection: the graph.
        guard: every merged statement is checked by it before it is sent.
        batch_size: rows per transaction.
    """

    def __init__(self, connection: GraphConnection, guard: CypherGuard, batch_size: int = 500):
        self.connection = connection
        self.guard = guard
        self.batch_size = batch_size

    def write(self, pending: Sequence[PendingWrite]) -> dict[int, ScimError]:
        """Writes ``pending`` in order of first appearance of each query.

        Returns:
            The payloads the server refused, by index, with their SCIM error.

        Raises:
            GraphError: the server is unreachable or failed (an infrastructure error).
            scim_processor.errors.CypherRejectedError: a statement did not pass the guard.
        """
        groups: dict[str, list[PendingWrite]] = {}
        for item in pending:
            groups.setdefault(item.statement.query, []).append(item)
        failures: dict[int, ScimError] = {}
        for query, items in groups.items():
            self.guard.require(query, parameters={"rows"})
            for start in range(0, len(items), self.batch_size):
                chunk = items[start : start + self.batch_size]
                rows = [row for item in chunk for row in item.statement.parameters["rows"]]
                try:
                    self._send(query, rows)
                except _REFUSED:
                    for item in chunk:
                        try:
                            self._send(query, item.statement.parameters["rows"])
                        except _REFUSED as error:
                            failures[item.index] = _scim_error(error)
        return failures

    def _send(self, query: str, rows: list[dict[str, object]]) -> None:
        try:
            self.connection.write([(query, {"rows": rows})])
        except (ServiceUnavailable, SessionExpired) as error:
            raise GraphError(f"the graph server went away: {error}") from error
        except _REFUSED:
            raise
        except Neo4jError as error:
            raise GraphError(f"the graph server failed: {error}") from error


# ArcadeDB: "Duplicated key [x] found on index 'User[userName]'"; Neo4j: "... with label `User` and property `userName` = 'x'".
_INDEX = re.compile(r"index '(\w+)\[(\w+)\]'|label `(\w+)` and property `(\w+)`")


def _scim_error(error: Exception) -> ScimError:
    message = getattr(error, "message", None) or str(error)
    code = getattr(error, "code", "") or ""
    if isinstance(error, ConstraintError) or "Constraint" in code or "Duplicated key" in message:
        found = _INDEX.search(message)
        if found:
            label, key = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
            return UniquenessError(f"{key} is already used by another {label} (RFC 7643 §2.2 uniqueness)", key)
        return UniquenessError(f"a uniqueness constraint refused the resource: {message}")
    if not isinstance(error, Neo4jError):
        return InvalidValueError(f"a value cannot be stored in the graph: {error}")
    return InvalidValueError(f"the graph refused the resource: {message}")
