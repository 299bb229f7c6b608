"""Stage 5, apply: accepted payloads written in batches, each through the cheapest statement, one managed write transaction per batch.

Rows of one resource type are merged into batches of at most ``batch_size`` rows in which no
resource id repeats. For each batch the writer first learns what the graph holds for its ids,
``(id, meta_version, meta_source)``: from the run's :class:`GraphState` (filled by the read ahead
of the batch, :class:`~scim_processor.stages.changes.SourceScreen`, and kept current by this
writer's own writes), else by one read per resource type (:func:`~scim_processor.mapping.cypher.state_query`).
It then sends, in ONE transaction (a batch is atomic):

- nothing for a row whose ``meta_version`` (content fingerprint) equals the stored one: its payload
  is reported ``unchanged`` (only its ``meta_source`` is recorded if it came from another document);
- the full replace (``<Label>.replace``) for the rows whose stored content differs;
- the create (``<Label>.create``: no ``OPTIONAL MATCH``, no delete of old children, only the keys
  the rows have values for) for the rows whose id the graph does not hold, or holds only as a
  placeholder created as a reference target.

Replaces go first: a rename frees a ``userName`` that a create in the same batch may take.
A create row whose id another writer stored since the read is not written by the create; it is
sent again through the replace (whose own version check makes it ``unchanged`` if the other
writer stored the same content), so concurrent writers never duplicate a resource or its children.

If the server refuses a batch (a uniqueness constraint, say), the batch is retried one payload per
transaction so that only the offending payloads are rejected (409 uniqueness) and the rest are
written; nothing half-written stays behind. A uniqueness refusal is first retried a few times:
with concurrent writers (two ``process`` runs, or a cluster) it is usually another transaction's
MERGE of the same key, gone on the next try. This module is the one place of that retry. A value
the driver cannot send (it should never pass validation) rejects its payload the same way.
"""

from __future__ import annotations

import random
import re
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
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

from ..errors import GraphError, InvalidValueError, ScimError, UniquenessError, UsageError
from ..graph import GraphConnection, Statement
from ..mapping.compiled import CompiledSchema, WritePlan
from ..mapping.rule import SOURCE_KEY, VERSION_KEY

_REFUSED = (ClientError, DatabaseError, TypeError, ValueError, OverflowError)  # the server's or the Bolt packer's


@dataclass
class PendingWrite:
    """One accepted payload's statement, with its index in the run (to report failures).

    Attributes:
        index: the payload's index.
        statement: its replace statement (:meth:`~scim_processor.mapping.CompiledSchema.statements`):
            rows of :func:`~scim_processor.mapping.rows.graph_row`, each with ``id`` and ``meta_version``.
    """

    index: int
    statement: Statement


@dataclass
class WriteReport:
    """What :meth:`GraphWriter.write` did, by index of :class:`PendingWrite`.

    Attributes:
        failures: the payloads the server refused, with their SCIM error.
        unchanged: the payloads whose resource was already in the graph with the same content
            (same ``meta_version``), so nothing was written for them.
        sent: for every payload not refused, the statements that wrote it, each with that
            payload's rows only and named (``User.create``, ``User.replace``); ``[]`` if unchanged.
    """

    failures: dict[int, ScimError] = field(default_factory=dict)
    unchanged: set[int] = field(default_factory=set)
    sent: dict[int, list[Statement]] = field(default_factory=dict)


_Rows = list[tuple[int, dict[str, Any]]]  # (payload index, row)
Held = dict[str, Any] | None  # a node's {"version", "source"}, or None: no node of that id


class GraphState:
    """What one run last read or wrote for resource nodes: ``(label, id)`` → ``{"version", "source"}``, or None for no node.

    Shared by the reads ahead of a run's batches (:class:`~scim_processor.stages.changes.SourceScreen`)
    and the :class:`GraphWriter`, which keeps it current with every write it makes, so that a
    batch whose ids were read ahead is not read again. It is valid only while every write of the
    run goes through that one writer (one :meth:`~scim_processor.ScimProcessor.iter_process` run):
    what another writer does meanwhile is caught by the statements themselves (the create skips a
    node that became a resource, the replace compares versions). The least recently noted
    entries are dropped beyond ``capacity`` (they are read again if needed).
    """

    def __init__(self, capacity: int = 100_000):
        self.capacity = capacity
        self._held: OrderedDict[tuple[str, Any], Held] = OrderedDict()

    def note(self, label: str, node_id: Any, held: Held) -> None:
        """Records what the graph holds for ``(label, node_id)`` (None: no node)."""
        key = (label, node_id)
        self._held[key] = None if held is None else {"version": held.get("version"), "source": held.get("source")}
        self._held.move_to_end(key)
        if len(self._held) > self.capacity:
            self._held.popitem(last=False)

    def forget(self, label: str, node_id: Any) -> None:
        """Drops what is known of ``(label, node_id)`` (a write whose outcome is not known exactly)."""
        self._held.pop((label, node_id), None)

    def known(self, label: str, ids: Sequence[Any]) -> tuple[dict[Any, Held], list[Any]]:
        """What is known of ``ids``, and the ids of which nothing is known."""
        found: dict[Any, Held] = {}
        missing: list[Any] = []
        for node_id in ids:
            key = (label, node_id)
            if key in self._held:
                found[node_id] = self._held[key]
            else:
                missing.append(node_id)
        return found, missing


class GraphWriter:
    """Writes pending statements through the guard, in batches, each row through the cheapest statement.

    Args:
        connection: the graph.
        compiled: the compiled schema: its :class:`~scim_processor.mapping.compiled.WritePlan`
            per resource type, and its guard, which checks every statement before it is sent.
        batch_size: rows per transaction.
        conflict_retries: extra attempts of a transaction refused by a uniqueness constraint
            (concurrent writers, see :meth:`_send`).
        state: the run's :class:`GraphState`, shared with the reads ahead of it and kept current;
            None: each :meth:`write` reads what it needs and keeps nothing.
    """

    def __init__(
        self, connection: GraphConnection, compiled: CompiledSchema, batch_size: int = 500, conflict_retries: int = 3,
        *, state: GraphState | None = None,
    ):  # fmt: skip
        self.connection = connection
        self.compiled = compiled
        self.guard = compiled.guard
        self.batch_size = batch_size
        self.conflict_retries = conflict_retries
        self.state = state
        self._plans = {plan.replace: plan for plan in compiled.plans.values()}

    def write(self, pending: Sequence[PendingWrite]) -> WriteReport:
        """Writes ``pending`` in order of first appearance of each resource type.

        Returns:
            The refused payloads (with their SCIM error), the unchanged ones, and the statements
            sent for each, by index.

        Raises:
            GraphError: the server is unreachable or failed (an infrastructure error).
            UsageError: a statement is not the replace of a resource type of ``compiled``.
            scim_processor.errors.CypherRejectedError: a statement did not pass the guard.
        """
        groups: dict[str, list[PendingWrite]] = {}
        for item in pending:
            groups.setdefault(item.statement.query, []).append(item)
        report = WriteReport()
        state = self.state if self.state is not None else GraphState()
        for query, items in groups.items():
            plan = self._plans.get(query)
            if plan is None:
                raise UsageError(f"not the replace statement of a resource type: {items[0].statement.name or query[:80]}")
            self.guard.require(plan.state, read_only=True, parameters={"ids"})
            for chunk in self._chunks(items):
                self._write_chunk(plan, chunk, report, state)
        return report

    def _write_chunk(self, plan: WritePlan, chunk: list[PendingWrite], report: WriteReport, state: GraphState) -> None:
        """One batch: what the graph holds for its ids (read unless known), then one transaction (or one per payload if the server refuses it)."""
        held = self._held(plan, [row["id"] for item in chunk for row in item.statement.parameters["rows"]], state)
        try:
            sent = self._apply(plan, chunk, held, state)
        except _REFUSED:
            sent = {}
            for item in chunk:
                try:
                    sent.update(self._apply(plan, [item], held, state))
                except _REFUSED as error:
                    report.failures[item.index] = _scim_error(error)
                    for row in item.statement.parameters["rows"]:
                        state.forget(plan.label, row["id"])
        for item in chunk:
            if item.index in report.failures:
                continue
            report.sent[item.index] = sent.get(item.index, [])
            if not report.sent[item.index]:
                report.unchanged.add(item.index)

    def _held(self, plan: WritePlan, ids: list[Any], state: GraphState) -> dict[Any, Held]:
        """``id`` → what the graph holds for it (``{version, source}`` or None): from ``state``, else one read."""
        found, missing = state.known(plan.label, ids)
        if missing:
            for node_id, held in read_state(self.connection, plan, missing).items():
                found[node_id] = held
                state.note(plan.label, node_id, held)
        return found

    def _apply(self, plan: WritePlan, items: list[PendingWrite], held_by_id: dict[Any, Held], state: GraphState) -> dict[int, list[Statement]]:
        """Sends the rows of ``items`` that differ from what the graph holds in one transaction; the statements that wrote each payload.

        Raises:
            ClientError, DatabaseError, TypeError, ValueError, OverflowError: the server (or the
                driver's packer) refused the transaction; nothing of it was written.
        """
        actions: dict[str, _Rows] = {"replace": [], "create": [], "source": []}
        for item in items:
            for row in item.statement.parameters["rows"]:
                held = held_by_id.get(row["id"])
                if held is None or held.get("version") is None:  # new, or a placeholder: nothing of its own to delete
                    actions["create"].append((item.index, row))
                elif held["version"] != row[VERSION_KEY]:
                    actions["replace"].append((item.index, row))
                elif row.get(SOURCE_KEY) and held.get("source") != row[SOURCE_KEY]:
                    stamp = {"id": row["id"], VERSION_KEY: row[VERSION_KEY], SOURCE_KEY: row[SOURCE_KEY]}
                    actions["source"].append((item.index, stamp))
        order = [action for action, rows in actions.items() if rows]
        if not order:
            return {}
        statements = {action: self._statement(plan, action, actions[action]) for action in order}
        written = dict(zip(order, self._send(list(statements.values())), strict=True))
        sent: dict[int, list[Statement]] = {}
        for _, stamp in actions["source"]:  # its WHERE may not have matched: not known exactly
            state.forget(plan.label, stamp["id"])
        if "replace" in statements:
            self._record(plan, statements["replace"], actions["replace"], written["replace"], sent, state)
        late = self._record(plan, statements["create"], actions["create"], written["create"], sent, state) if "create" in statements else []
        if late:  # stored by another writer since the state was read: replace (unchanged if it stored the same content)
            replace = self._statement(plan, "replace", late)
            (replaced,) = self._send([replace])
            self._record(plan, replace, late, replaced, sent, state)
        return sent

    def _statement(self, plan: WritePlan, action: str, rows: _Rows) -> Statement:
        """The plan's ``action`` statement for ``rows``, checked by the guard (the create depends on the rows' keys)."""
        statement = plan.statement(action, {"rows": [row for _, row in rows]})
        self.guard.require(statement.query, parameters={"rows"})
        return statement

    @staticmethod
    def _record(plan: WritePlan, statement: Statement, rows: _Rows, written: set[Any], sent: dict[int, list[Statement]], state: GraphState) -> _Rows:
        """Notes the rows ``statement`` wrote (in ``sent`` and ``state``); returns the others (their state is forgotten)."""
        others: _Rows = []
        for index, row in rows:
            if row["id"] in written:
                sent.setdefault(index, []).append(statement._replace(parameters={"rows": [row]}))
                state.note(plan.label, row["id"], {"version": row[VERSION_KEY], "source": row.get(SOURCE_KEY)})
            else:
                others.append((index, row))
                state.forget(plan.label, row["id"])
        return others

    def _chunks(self, items: list[PendingWrite]) -> Iterator[list[PendingWrite]]:
        """Consecutive runs of at most ``batch_size`` rows in which no ``id`` repeats.

        A resource sent twice in one run (RFC 7643 §8.1 then §8.2, say) must end as the later
        one: within one batch both rows would be compared with the graph before either is
        written, so a repeated id starts a new transaction.
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
            self._send(list(statements))
        except _REFUSED as error:
            raise _scim_error(error) from None

    def _send(self, statements: list[Statement]) -> list[set[Any]]:
        """Runs ``statements`` in one transaction; the ids each reports ``written``.

        A uniqueness conflict is retried ``conflict_retries`` times after a short random pause:
        another writer may have created the same node (a MERGE by ``id`` of a shared group or
        manager) between this transaction's check and its write, and on ArcadeDB concurrent
        MERGEs of one key fail instead of waiting. Once the other commit is visible the MERGE
        matches. A conflict that persists is a real one and is raised.
        """
        for attempt in range(self.conflict_retries + 1):
            try:
                return self._send_once(statements)
            except _REFUSED as error:
                if attempt == self.conflict_retries or not _is_conflict(error):
                    raise
                time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 (jitter, not security)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, statements: list[Statement]) -> list[set[Any]]:
        try:
            results = self.connection.write(statements)
        except (ServiceUnavailable, SessionExpired) as error:
            raise GraphError(f"the graph server went away: {error}") from error
        except _REFUSED:
            raise
        except Neo4jError as error:
            raise GraphError(f"the graph server failed: {error}") from error
        return [{value for record in records for value in record.get("written") or ()} for records in results]


def read_state(connection: GraphConnection, plan: WritePlan, ids: Sequence[Any]) -> dict[Any, Held]:
    """One read of what the graph holds for ``ids`` (the plan's state query): ``id`` → ``{version, source}``, None where no node.

    Raises:
        GraphError: the server went away or failed.
    """
    try:
        rows = {
            node_id: {"version": version, "source": source}
            for record in connection.read(plan.state, {"ids": list(ids)}, plain=True)
            for node_id, version, source in record["nodes"]
        }
    except (ServiceUnavailable, SessionExpired) as error:
        raise GraphError(f"the graph server went away: {error}") from error
    except Neo4jError as error:
        raise GraphError(f"the graph server failed: {error}") from error
    return {node_id: rows.get(node_id) for node_id in ids}


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
