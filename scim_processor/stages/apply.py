"""Stage 5, apply: accepted payloads written in batches, one managed write transaction per batch.

Rows of the same upsert query are merged into one ``UNWIND $rows`` statement of at most
``batch_size`` rows, in which no resource id repeats. A batch is atomic. The upsert returns the ids it wrote; a row whose content
fingerprint matched the graph's was not written and its payload is reported ``unchanged``. If the server refuses a batch (a uniqueness constraint,
say), the batch is retried one payload per transaction so that only the offending payloads are
rejected (409 uniqueness) and the rest are written; nothing half-written stays behind. A
uniqueness refusal is first retried a few times: with concurrent writers (two ``process`` runs,
or a cluster) it is usually another transaction's MERGE of the same key, gone on the next try. A value
the driver cannot send (it should never pass validation) rejects its payload the same way.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class WriteReport:
    """What :meth:`GraphWriter.write` did, by index of :class:`PendingWrite`.

    Attributes:
        failures: the payloads the server refused, with their SCIM error.
        unchanged: the payloads whose resource was already in the graph with the same content
            (same ``meta_version``), so nothing was written for them.
    """

    failures: dict[int, ScimError] = field(default_factory=dict)
    unchanged: set[int] = field(default_factory=set)


class GraphWriter:
    """Writes pending statements through the guard, in batches.

    Args:
        connection: the graph.
        guard: every merged statement is checked by it before it is sent.
        batch_size: rows per transaction.
        conflict_retries: extra attempts of a transaction refused by a uniqueness constraint
            (concurrent writers, see :meth:`_send`).
    """

    def __init__(self, connection: GraphConnection, guard: CypherGuard, batch_size: int = 500, conflict_retries: int = 3):
        self.connection = connection
        self.guard = guard
        self.batch_size = batch_size
        self.conflict_retries = conflict_retries

    def write(self, pending: Sequence[PendingWrite]) -> WriteReport:
        """Writes ``pending`` in order of first appearance of each query.

        Every statement's rows must carry ``id`` and the query must return ``written``, the ids
        it wrote (the shape of :func:`~scim_processor.mapping.cypher.upsert_query`).

        Returns:
            The refused payloads (with their SCIM error) and the unchanged ones, by index.

        Raises:
            GraphError: the server is unreachable or failed (an infrastructure error).
            scim_processor.errors.CypherRejectedError: a statement did not pass the guard.
        """
        groups: dict[str, list[PendingWrite]] = {}
        for item in pending:
            groups.setdefault(item.statement.query, []).append(item)
        report = WriteReport()
        for query, items in groups.items():
            self.guard.require(query, parameters={"rows"})
            for chunk in self._chunks(items):
                rows = [row for item in chunk for row in item.statement.parameters["rows"]]
                try:
                    written = self._send(query, rows)
                except _REFUSED:
                    written = set()
                    for item in chunk:
                        try:
                            written |= self._send(query, item.statement.parameters["rows"])
                        except _REFUSED as error:
                            report.failures[item.index] = _scim_error(error)
                for item in chunk:
                    if item.index not in report.failures and not any(
                        row.get("id") in written for row in item.statement.parameters["rows"]
                    ):
                        report.unchanged.add(item.index)
        return report

    def _chunks(self, items: list[PendingWrite]) -> Iterator[list[PendingWrite]]:
        """Consecutive runs of at most ``batch_size`` rows in which no ``id`` repeats.

        A resource sent twice in one run (RFC 7643 §8.1 then §8.2, say) must end as the later
        one: within one ``UNWIND`` both rows would be compared with the graph before either
        is written, so a repeated id starts a new transaction.
        """
        chunk: list[PendingWrite] = []
        ids: set[object] = set()
        size = 0
        for item in items:
            rows = item.statement.parameters["rows"]
            item_ids = {row.get("id") for row in rows}
            if chunk and (size + len(rows) > self.batch_size or not ids.isdisjoint(item_ids)):
                yield chunk
                chunk, ids, size = [], set(), 0
            chunk.append(item)
            ids |= item_ids
            size += len(rows)
        if chunk:
            yield chunk

    def execute(self, statements: Sequence[Statement]) -> None:
        """Runs ``statements`` in order in one write transaction, each checked by the guard first.

        For writes that are not upserts of whole resources (a DELETE, a PATCH that only adds or
        removes members): the same conflict retry and the same translation of a refusal as :meth:`write`.

        Raises:
            scim_processor.errors.ScimError: the server refused (409 ``uniqueness`` for a constraint, else 400).
            GraphError: the server is unreachable or failed.
            scim_processor.errors.CypherRejectedError: a statement did not pass the guard.
        """
        for statement in statements:
            self.guard.require(statement.query, parameters=set(statement.parameters))
        try:
            self._transact([(statement.query, statement.parameters) for statement in statements])
        except _REFUSED as error:
            raise _scim_error(error) from None

    def _send(self, query: str, rows: list[dict[str, object]]) -> set[object]:
        """Runs ``query`` on ``rows`` in one transaction; the ids it reports written."""
        records = self._transact([(query, {"rows": rows})])[0]
        return {value for record in records for value in record.get("written") or ()}

    def _transact(self, statements: list[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Runs ``statements`` in one transaction: the one place of the conflict retry.

        A uniqueness conflict is retried ``conflict_retries`` times after a short random pause:
        another writer may have created the same node (a MERGE by ``id`` of a shared group or
        manager) between this transaction's check and its write, and on ArcadeDB concurrent
        MERGEs of one key fail instead of waiting. Once the other commit is visible the MERGE
        matches. A conflict that persists is a real one and is raised.
        """
        for attempt in range(self.conflict_retries + 1):
            try:
                return self._transact_once(statements)
            except _REFUSED as error:
                if attempt == self.conflict_retries or not _is_conflict(error):
                    raise
                time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 (jitter, not security)
        raise AssertionError("unreachable")  # pragma: no cover

    def _transact_once(self, statements: list[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, Any]]]:
        try:
            return self.connection.write(statements)
        except (ServiceUnavailable, SessionExpired) as error:
            raise GraphError(f"the graph server went away: {error}") from error
        except _REFUSED:
            raise
        except Neo4jError as error:
            raise GraphError(f"the graph server failed: {error}") from error


# ArcadeDB: "Duplicated key [x] found on index 'User[userName]'"; Neo4j: "... with label `User` and property `userName` = 'x'".
_INDEX = re.compile(r"index '(\w+)\[(\w+)\]'|label `(\w+)` and property `(\w+)`")


def _is_conflict(error: Exception) -> bool:
    """True for a uniqueness-constraint refusal (Neo4j ``ConstraintValidationFailed``, ArcadeDB "Duplicated key")."""
    message = getattr(error, "message", None) or str(error)
    code = getattr(error, "code", "") or ""
    return isinstance(error, ConstraintError) or "Constraint" in code or "Duplicated key" in message


def _scim_error(error: Exception) -> ScimError:
    """The one translation of a driver refusal into a SCIM error (409 ``uniqueness`` for a constraint, else 400)."""
    message = getattr(error, "message", None) or str(error)
    if _is_conflict(error):
        found = _INDEX.search(message)
        if found:
            label, key = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
            return UniquenessError(f"{key} is already used by another {label} (RFC 7643 §2.2 uniqueness)", key)
        return UniquenessError(f"a uniqueness constraint refused the resource: {message}")
    if not isinstance(error, Neo4jError):
        return InvalidValueError(f"a value cannot be stored in the graph: {error}")
    return InvalidValueError(f"the graph refused the resource: {message}")
