"""The resource store: SCIM resources read from and written to the identity graph (RFC 7644 §3.2-§3.6).

Every write goes through the project's stages: the dialect's rewriting, generation
(normalisation and ``id``), the SCIM gate, ``CompiledSchema.statements``, the Cypher guard and the
writer; every read through :mod:`scim_processor.mapping.readback` and the guard in read-only mode.
``meta.version`` is a weak ETag (``W/"<16 hex>"``): the content fingerprint of the stored resource
(:func:`~scim_processor.mapping.rows.content_version`); a PATCH that only adds or removes members
changes those relationships only, and its new version is the fingerprint of the previous version
and the edit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import (
    InvalidSyntaxError,
    NotFoundError,
    PreconditionFailedError,
    UniquenessError,
)
from ..graph import Statement
from ..mapping import CompiledSchema
from ..mapping.cypher import ident
from ..mapping.readback import read_query, to_scim
from ..mapping.rows import content_version, now_text
from ..scim import GroundingContext
from ..scim.context import member
from ..stages.apply import GraphWriter, PendingWrite
from ..stages.prepare import Prepared, Preparer
from .dialects import STRICT, Dialect
from .identity import drop_client_id, holders, identity_conflicts, key_property
from .patch import MemberEdits, apply_patch, member_edits, operations_of
from .projection import read_selection

if TYPE_CHECKING:
    from ..pipeline import ScimProcessor


def same_version(expected: str, stored: str | None) -> bool:
    """Weak comparison of two entity tags (RFC 7232 §2.3.2): equal once any ``W/`` prefix is removed."""
    return stored is not None and expected.strip().removeprefix("W/") == stored.strip().removeprefix("W/")


class ResourceStore:
    """SCIM resources of one processor's graph, as SCIM JSON (with ``meta``).

    Args:
        processor: the processor (connection, settings, generator, validator, compiled schema).
        dialect: the IdP tolerances applied to request bodies (default: strict RFC).
        fresh_ids: give a POSTed resource without ``externalId`` a random id (over HTTP, where the
            client learns it from the response) instead of the id derived from its ``userName``
            (in files, where later lines name it).

    Attributes:
        warnings: what the last call left out, rewrote or ignored (readOnly values, a client id).
        statements: the write statements of the last call (values in parameters only).
    """

    def __init__(self, processor: ScimProcessor, dialect: Dialect = STRICT, *, fresh_ids: bool = False) -> None:
        self.processor = processor
        self.dialect = dialect
        self.fresh_ids = fresh_ids
        self.warnings: list[str] = []
        self.statements: list[Statement] = []
        self._compiled: CompiledSchema | None = None
        self._preparer: Preparer | None = None

    # ------------------------------------------------------------------ helpers
    def compiled(self) -> CompiledSchema:
        """The processor's compiled schema (asked once per store)."""
        if self._compiled is None:
            self._compiled = self.processor.compiled()
        return self._compiled

    def preparer(self) -> Preparer:
        """The one prepare step with this store's dialect (dialect, generation, the SCIM gate, Cypher and guard)."""
        if self._preparer is None:
            self._preparer = self.processor.preparer(self.compiled(), self.dialect)
        return self._preparer

    def context(self, resource_type: str) -> GroundingContext:
        """The grounding context of ``resource_type`` with every extension declared.

        Raises:
            NotFoundError: 404, no such resource type.
        """
        if resource_type not in self.compiled().contexts:
            raise NotFoundError(f"no resource type {resource_type!r} (known: {', '.join(self.compiled().contexts)})")
        return self.preparer().context(resource_type)

    def _head(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        found = holders(self.processor.connection, self.compiled(), resource_type, ids=[resource_id])
        return found[0] if found and found[0].get("version") is not None else None

    def _existing(self, resource_type: str, resource_id: str, expected_version: str | None) -> dict[str, Any]:
        head = self._head(resource_type, resource_id)
        if head is None:
            raise NotFoundError(f"{resource_type} {resource_id!r} not found")
        if expected_version is not None and not same_version(expected_version, head["version"]):
            raise PreconditionFailedError(
                f"{resource_type} {resource_id!r} is at version {head['version']}, not {expected_version} (RFC 7644 §3.14)"
            )
        return head

    def _prepare(self, resource_type: str, body: Mapping[str, Any], *, resource_id: str | None) -> Prepared:
        """The one prepare step (:class:`~scim_processor.stages.prepare.Preparer`) on a request body."""
        if not isinstance(body, Mapping):
            raise InvalidSyntaxError("the request body must be a JSON object (a SCIM resource)")
        self.context(resource_type)  # 404 for an unknown type
        prepared = self.preparer().prepare(body, resource_type=resource_type, resource_id=resource_id)
        self.warnings.extend(prepared.warnings)
        return prepared

    def _check_identity(self, prepared: Prepared) -> None:
        """The one identity check (:func:`~scim_processor.operations.identity.identity_conflicts`), for one resource.

        Raises:
            UniquenessError: 409, the derived id is held by another resource, or the normalised key is.
        """
        batch = [(0, prepared.resource_type, prepared.resource)]
        conflict = identity_conflicts(self.processor.connection, self.compiled(), batch).get(0)
        if conflict is not None:
            raise conflict

    def _writer(self) -> GraphWriter:
        return GraphWriter(self.processor.connection, self.compiled(), self.processor.settings.batch_size)

    def _store(self, prepared: Prepared) -> None:
        """The identity check, then the writer."""
        self._check_identity(prepared)
        self._write(prepared)

    def _write(self, prepared: Prepared) -> None:
        """The one writer (:class:`~scim_processor.stages.apply.GraphWriter`) on one prepared resource."""
        self.statements = prepared.statements
        report = self._writer().write([PendingWrite(0, statement) for statement in prepared.statements])
        if report.failures:
            raise report.failures[0]

    def read(
        self, resource_type: str, ids: Sequence[str], *, attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The stored resources of ``ids`` by id (missing ones absent), reading only what a response with these parameters keeps.

        Args:
            resource_type: ``User``, ``Group``, ...
            ids: resource ids.
            attributes: the ``attributes`` parameter (RFC 7644 §3.9), or None.
            excluded: the ``excludedAttributes`` parameter, or None.

        Returns:
            id → SCIM JSON with ``meta``; a multi-valued complex or reference attribute the
            parameters leave out (:func:`~scim_processor.operations.projection.read_selection`)
            is not read at all. Sub-attributes are not trimmed: apply
            :func:`~scim_processor.operations.projection.project` for the response itself.
        """
        compiled = self.compiled()
        context = self.context(resource_type)
        mapping = compiled.mappings[resource_type]
        include, exclude = read_selection(context, attributes, excluded)
        query = read_query(mapping, include, exclude)
        compiled.guard.require(query, read_only=True, parameters={"ids"})
        rows = self.processor.read_connection().read(query, {"ids": list(ids)})  # a read path: the read-only user
        resources = (to_scim(row, mapping, context) for row in rows)
        return {resource["id"]: resource for resource in resources}

    # ------------------------------------------------------------------ the interface
    def exists(self, resource_type: str, id: str) -> bool:  # noqa: A002
        """True if the resource is stored (a node created only as a reference target is not)."""
        return self._head(resource_type, id) is not None

    def get(
        self, resource_type: str, id: str, *, attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None  # noqa: A002
    ) -> dict[str, Any]:
        """The stored resource as SCIM JSON with ``meta`` (RFC 7644 §3.4.1).

        With ``attributes`` / ``excluded`` (RFC 7644 §3.9) what the response leaves out may be left
        unread (see :meth:`read`); the response itself is :func:`~scim_processor.operations.projection.project` of it.

        Raises:
            NotFoundError: 404, no such resource (a node created only as a reference target is none).
        """
        found = self.read(resource_type, [id], attributes=attributes, excluded=excluded).get(id)
        if found is None:
            raise NotFoundError(f"{resource_type} {id!r} not found")
        return found

    def get_many(
        self, resource_type: str, ids: Sequence[str], *, attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The stored resources of ``ids``, in the order of ``ids``; missing ones are skipped (parameters: :meth:`get`)."""
        found = self.read(resource_type, list(dict.fromkeys(ids)), attributes=attributes, excluded=excluded)
        return [found[i] for i in ids if i in found]

    def create(self, resource_type: str, body: Mapping[str, Any], *, keep_id: bool = False) -> dict[str, Any]:
        """A strict create (RFC 7644 §3.3, POST): the resource must not exist yet.

        Args:
            resource_type: ``User``, ``Group``, ...
            body: the SCIM resource; a client ``id`` is ignored (a warning) unless ``keep_id``.
            keep_id: keep the body's ``id`` (an import from another SCIM server).

        Returns:
            The stored resource (:meth:`get`).

        Raises:
            UniquenessError: 409 if the id is taken, or the normalised ``userName`` is held by another resource.
            scim_processor.errors.ScimError: 400 / 413 from the dialect, generation or the SCIM gate.
        """
        self.warnings, self.statements = [], []
        assigned = None
        if not keep_id:
            body = drop_client_id(body, self.warnings)
            # The service provider assigns the id (RFC 7644 §3.3). An externalId is the client's
            # identity claim: the id derives from it, so a second resource claiming it is a 409,
            # never a merge. Without one, over HTTP the id is fresh (a userName freed by a rename
            # can be created again); in files it derives from the userName, so later lines can name it.
            external = member(body, "externalId")
            claimed = isinstance(external, str) and bool(external)
            assigned = str(uuid.uuid4()) if self.fresh_ids and not claimed else None
        prepared = self._prepare(resource_type, body, resource_id=assigned)
        resource = prepared.resource
        self._check_identity(prepared)
        head = self._head(resource_type, resource["id"])
        if head is not None:
            key = key_property(self.compiled(), resource_type)
            held = f" with {key.path[0]} {head['name']!r}" if key is not None and head.get("name") else ""
            raise UniquenessError(f"{resource_type} {resource['id']}{held} already exists (POST creates; RFC 7644 §3.3)", "id")
        self._write(prepared)
        return self.get(resource_type, resource["id"])

    def replace(
        self, resource_type: str, id: str, body: Mapping[str, Any], *, expected_version: str | None = None,  # noqa: A002
        upsert: bool = False, attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """PUT (RFC 7644 §3.5.1): the resource's new state; absent attributes are removed.

        Args:
            resource_type: ``User``, ``Group``, ...
            id: the path's id (a body ``id`` that differs is ignored, with a warning).
            body: the SCIM resource.
            upsert: create the resource with this ``id`` if it does not exist (files: a migration
                keeps its ids); otherwise 404.
            expected_version: an ``If-Match`` ETag: 412 if the stored version differs.
            attributes: the response's ``attributes`` (RFC 7644 §3.9): the read-back is :meth:`get`'s with them.
            excluded: the response's ``excludedAttributes``, likewise.

        Raises:
            NotFoundError: 404 (without ``upsert``). PreconditionFailedError: 412 (also for a missing
                resource with ``expected_version``).
            UniquenessError: 409, the normalised ``userName`` is held by another resource.
        """
        self.warnings, self.statements = [], []
        head = self._head(resource_type, id)
        if head is None and not upsert:
            raise NotFoundError(f"{resource_type} {id!r} not found (PUT replaces; POST creates)")
        if head is None and expected_version is not None:
            raise PreconditionFailedError(
                f"{resource_type} {id!r} does not exist, so no version matches {expected_version} (RFC 7644 §3.14, RFC 7232 §3.1)"
            )
        if head is not None:
            self._existing(resource_type, id, expected_version)
        self._store(self._prepare(resource_type, body, resource_id=id))
        return self.get(resource_type, id, attributes=attributes, excluded=excluded)

    def patch(
        self, resource_type: str, id: str, body: Mapping[str, Any], *, expected_version: str | None = None,  # noqa: A002
        attributes: Sequence[str] | None = None, excluded: Sequence[str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """PATCH (RFC 7644 §3.5.2) applied by scim2-models with the dialect's policy, then written.

        A PatchOp that only adds or removes members changes those relationships only. The
        resource read back is :meth:`get`'s with ``attributes`` / ``excluded`` (RFC 7644 §3.9): under
        ``excludedAttributes=members`` a member edit of a large group reads no member ids.

        Raises:
            NotFoundError: 404. PreconditionFailedError: 412. UniquenessError: 409.
            scim_processor.errors.ScimError: 400 (``invalidSyntax``, ``invalidValue``, ``invalidPath``,
                ``noTarget``, ``mutability``) with the RFC section and, where one accepts it, the dialect.
        """
        self.warnings, self.statements = [], []
        if not isinstance(body, Mapping):
            raise InvalidSyntaxError("the PATCH body must be a PatchOp message object (RFC 7644 §3.5.2)")
        operations = operations_of(body)
        head = self._existing(resource_type, id, expected_version)
        edits = member_edits(operations, self.compiled().mappings[resource_type], self.dialect)
        if edits is not None:
            self._edit_references(resource_type, id, edits, head["version"])
            return self.get(resource_type, id, attributes=attributes, excluded=excluded)
        stored = self.get(resource_type, id)
        context = self.context(resource_type)
        patched = apply_patch(stored, operations, context, self.processor.validator.model(context), self.dialect, self.warnings)
        self._store(self._prepare(resource_type, patched, resource_id=id))
        return self.get(resource_type, id, attributes=attributes, excluded=excluded)

    def delete(self, resource_type: str, id: str, *, expected_version: str | None = None) -> None:  # noqa: A002
        """DELETE (RFC 7644 §3.6): the resource node, its child nodes and its reference relationships.

        Referenced resources stay (a deleted Group's members, a deleted User's groups and manager).

        Raises:
            NotFoundError: 404. PreconditionFailedError: 412.
        """
        self.warnings, self.statements = [], []
        self._existing(resource_type, id, expected_version)
        mapping = self.compiled().mappings[resource_type]
        lines = [f"MATCH (n:{ident(mapping.label)} {{id: $id}})"]
        if mapping.children:
            rels = "|".join(ident(child.relationship_type) for child in mapping.children)
            lines.append(f"CALL {{ WITH n MATCH (n)-[:{rels}]->(c) DETACH DELETE c }}")
        lines.append("DETACH DELETE n")
        self._run([Statement("\n".join(lines), {"id": id})])

    # ------------------------------------------------------------------ member edits
    def _edit_references(self, resource_type: str, resource_id: str, edits: MemberEdits, version: str) -> None:
        ref = edits.reference
        label = ident(self.compiled().mappings[resource_type].label)
        rel = ident(ref.relationship_type)
        edge = "(m)-[r:{rel}]->(n)" if not ref.outgoing else "(n)-[r:{rel}]->(m)"
        statements: list[Statement] = []
        if edits.remove_all:
            pattern = edge.format(rel=rel).replace("(m)", "()")
            statements.append(Statement(f"MATCH (n:{label} {{id: $id}}) MATCH {pattern} DELETE r", {"id": resource_id}))
        if edits.remove_ids:
            # Anchored on the member, then the edge filtered on the group: expanding from a group of
            # 100,000 members instead costs about 0.5 s on the embedded server (benchmarks/).
            for target in ref.targets:
                statements.append(Statement(
                    f"UNWIND $ids AS mid MATCH (m:{ident(target)} {{id: mid}}) WITH m MATCH {edge.format(rel=rel)} "
                    f"WHERE n.id = $id AND n:{label} DELETE r",
                    {"id": resource_id, "ids": list(dict.fromkeys(edits.remove_ids))},
                ))  # fmt: skip
        for target, ids in edits.add.items():
            merge = edge.format(rel=rel).replace("[r:", "[:")
            statements.append(Statement(
                f"MATCH (n:{label} {{id: $id}}) UNWIND $ids AS mid MERGE (m:{ident(target)} {{id: mid}}) MERGE {merge}",
                {"id": resource_id, "ids": list(dict.fromkeys(ids))},
            ))  # fmt: skip
        change = {"previous": version, "add": edits.add, "remove": edits.remove_ids, "removeAll": edits.remove_all}
        statements.append(Statement(
            f"MATCH (n:{label} {{id: $id}}) SET n.meta_version = $version, n.meta_lastModified = $now",
            {"id": resource_id, "version": content_version(change), "now": now_text()},
        ))  # fmt: skip
        self._run(statements)

    def _run(self, statements: list[Statement]) -> None:
        self.statements = statements
        self._writer().execute(statements)


__all__ = ["ResourceStore", "same_version"]
