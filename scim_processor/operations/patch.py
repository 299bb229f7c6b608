"""PATCH (RFC 7644 §3.5.2) with scim2-models, and the gaps it leaves closed here, in one place.

scim2-models parses the PatchOp message (paths, value filters, op names in any case) and applies it
to a resource, all or nothing (``PatchOp[Model].patch``). What it leaves to the service:

- string booleans and bare-string complex values in operation values (it reads ``"False"`` as
  false): refused or rewritten by the :class:`~scim_processor.operations.dialects.Dialect` first;
- ``id`` in a no-path value (Okta's group rename): refused as readOnly (400 ``mutability``) unless
  the dialect ignores the resource's own id;
- member edits on a large group: :func:`member_edits` recognises a PatchOp that only adds or
  removes references of a multi-valued reference attribute (``members``) so the store changes
  those relationships only, never rewriting the whole member list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from scim2_models import Context, PatchOp, Resource, SCIMException
from scim2_models.path import CompareOperator, Comparison, FilterNode, LogicalExpr, LogicalOperator, Path

from ..errors import InvalidSyntaxError, InvalidValueError, MutabilityError, ScimError, UsageError, scim_error
from ..mapping.rule import ReferenceMapping, ResourceMapping
from ..scim import AttributeDefinition, GroundingContext
from .dialects import Dialect

PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_OPS = ("add", "remove", "replace")


@dataclass
class MemberEdits:
    """Reference changes of one PatchOp that touches only one multi-valued reference attribute.

    Attributes:
        reference: the reference mapping edited (``members``).
        add: target label → ids to link.
        remove_ids: ids to unlink, whatever their label.
        remove_all: unlink every reference (``remove`` with path ``members`` and no value).
    """

    reference: ReferenceMapping
    add: dict[str, list[str]] = field(default_factory=dict)
    remove_ids: list[str] = field(default_factory=list)
    remove_all: bool = False


def operations_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``Operations`` of a PatchOp message, each with a lower-cased ``op``.

    Raises:
        InvalidSyntaxError: 400 if ``body`` is not a PatchOp message (RFC 7644 §3.5.2).
    """
    schemas = _member(body, "schemas")
    if not isinstance(schemas, list) or PATCH_OP_URN.lower() not in [str(s).lower() for s in schemas]:
        raise InvalidSyntaxError(f"a PATCH body must be a PatchOp message: schemas [{PATCH_OP_URN!r}] (RFC 7644 §3.5.2)", "schemas")
    operations = _member(body, "Operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntaxError("'Operations' must be a non-empty array (RFC 7644 §3.5.2)", "Operations")
    out = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, Mapping):
            raise InvalidSyntaxError(f"Operations[{index}] must be an object", f"Operations[{index}]")
        op = _member(operation, "op")
        if not isinstance(op, str) or op.lower() not in _OPS:
            raise InvalidSyntaxError(f"Operations[{index}].op must be add, remove or replace (RFC 7644 §3.5.2)", f"Operations[{index}].op")
        item = {"op": op.lower()}
        for key in ("path", "value"):
            found = _member(operation, key)
            if found is not None or any(k.lower() == key for k in operation):
                item[key] = found
        out.append(item)
    return out


def member_edits(operations: list[dict[str, Any]], mapping: ResourceMapping, dialect: Dialect) -> MemberEdits | None:
    """The reference edits of ``operations`` if they only add/remove values of one multi-valued reference attribute, else None.

    Recognised (RFC 7644 §3.5.2.1-2 and the documented IdP shapes): ``add`` with path ``members``
    and a list of ``{"value", "type"?}``; ``add`` without path and ``{"members": [...]}``;
    ``remove`` with ``members[value eq "id"]`` (also joined with ``or``); ``remove`` with path
    ``members`` and no value (all); ``remove`` with a ``value`` list (only in a dialect with
    ``remove_value_as_filter``: Entra). Anything else returns None (the whole-resource path).

    Raises:
        InvalidValueError: 400 for a member value that is not ``{"value": "<id>"}``.
    """
    references = {ref.attribute.lower(): ref for ref in mapping.references if ref.multi_valued}
    if not references:
        return None
    edits: MemberEdits | None = None
    for operation in operations:
        path, value = operation.get("path"), operation.get("value")
        schema, name, filt = _split_path(path) if isinstance(path, str) else (None, None, None)
        if name is None and operation["op"] == "add" and isinstance(value, Mapping) and len(value) == 1:
            (key, value), = value.items()
            name = str(key)
        ref = references.get((name or "").lower())
        if ref is None or (edits is not None and edits.reference is not ref) or (schema and schema.lower() != ref.schema.lower()):
            return None
        edits = edits or MemberEdits(ref)
        if operation["op"] == "add" and filt is None:
            for item in value if isinstance(value, list) else [value]:
                ident, kind = _member_value(item, ref)
                edits.add.setdefault(kind, []).append(ident)
        elif operation["op"] == "remove" and filt is not None and "value" not in operation:
            ids = _filter_ids(filt)
            if ids is None:
                return None
            edits.remove_ids.extend(ids)
        elif operation["op"] == "remove" and filt is None and value is None:
            edits.remove_all, edits.add, edits.remove_ids = True, {}, []
        elif operation["op"] == "remove" and filt is None and dialect.remove_value_as_filter:
            for item in value if isinstance(value, list) else [value]:
                edits.remove_ids.append(_member_value(item, ref)[0])
        else:
            return None
    return edits


def _member_value(item: Any, ref: ReferenceMapping) -> tuple[str, str]:
    value = _member(item, "value") if isinstance(item, Mapping) else None
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"{ref.attribute}: each value must be an object with a string 'value' (RFC 7643 §4.2)", ref.attribute)
    kind = _member(item, "type") if isinstance(item, Mapping) else None
    for target in ref.targets:
        if isinstance(kind, str) and kind.lower() == target.lower():
            return value, target
    return value, ref.targets[0]  # no type (Okta): the first referenceType, as mapping rule 4 says


def _parse(path: str) -> Path[Any] | None:
    """``path`` parsed by scim2-models (RFC 7644 §3.10 ``PATH``); None if it is not one (scim2-models reports it later)."""
    try:
        return Path(path)
    except SCIMException:
        return None


def _split_path(path: str) -> tuple[str | None, str | None, FilterNode | None]:
    """``members[value eq "x"]`` → ``(None, "members", <filter>)``; ``…:Group:members`` → ``("…:Group", "members", None)``.

    Anything but one top-level attribute (a sub-attribute, not a path at all) gives ``(None, None, None)``.
    """
    parsed = _parse(path)
    if parsed is None or len(parsed.parts) != 1:
        return None, None, None
    return parsed.schema, parsed.parts[0], parsed.value_filter


def _filter_ids(filt: FilterNode) -> list[str] | None:
    """The ids of ``value eq "a"`` (also joined with ``or``); None for any other filter."""
    if isinstance(filt, LogicalExpr) and filt.op == LogicalOperator.or_:
        ids: list[str] = []
        for term in filt.terms:
            found = _filter_ids(term)
            if found is None:
                return None
            ids.extend(found)
        return ids
    if (
        isinstance(filt, Comparison)
        and filt.op == CompareOperator.eq
        and filt.attr_path.attr.lower() == "value"
        and filt.attr_path.sub_attr is None
        and isinstance(filt.value, str)
    ):
        return [filt.value]
    return None


def apply_patch(
    stored: Mapping[str, Any],
    operations: list[dict[str, Any]],
    context: GroundingContext,
    model: type[Resource[Any]],
    dialect: Dialect,
    warnings: list[str],
) -> dict[str, Any]:
    """The resource after the operations, applied by scim2-models all or nothing (RFC 7644 §3.5.2).

    Args:
        stored: the stored resource's SCIM JSON (with ``id``).
        operations: from :func:`operations_of`.
        context: the resource type's grounding context (every extension).
        model: the scim2-models class of the resource type (built from the same schemas).
        dialect: its tolerances (string booleans, Entra remove-with-value, unmatched filters, Okta id).
        warnings: receives what the dialect rewrote or ignored.

    Returns:
        The patched resource as SCIM JSON with ``id`` (readOnly attributes and ``meta`` left out).

    Raises:
        InvalidSyntaxError, InvalidValueError, InvalidPathError, NoTargetError, MutabilityError:
            the scim2-models error of the failing operation, as the project's SCIM error.
    """
    prepared = [_prepare_operation(op, stored, context, dialect, warnings) for op in operations]
    prepared = [op for op in prepared if op is not None]
    resource_id = stored["id"]
    policy = dialect.policy()  # in the message's validation as in its application: a mixed PatchOp keeps every tolerance
    try:
        instance = model.model_validate({k: v for k, v in stored.items() if k != "meta"})
        if prepared:
            message = PatchOp[model].model_validate(  # type: ignore[valid-type]
                {"schemas": [PATCH_OP_URN], "Operations": prepared}, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=policy
            )
            message.patch(instance, scim_policy=policy)
        patched = instance.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    except ValidationError as error:
        first = error.errors()[0]
        kind = str(first.get("type", ""))
        detail = f"{'.'.join(str(p) for p in first['loc']) or 'PatchOp'}: {first['msg']} (RFC 7644 §3.5.2)"
        hint = _hint(first["msg"], dialect)
        if kind.startswith("scim_"):
            raise _from_type(kind[5:], detail + hint) from None
        raise InvalidValueError(detail + hint) from None
    except ScimError:
        raise
    except SCIMException as error:
        detail = str(error.detail or error) + " (RFC 7644 §3.5.2)" + _hint(str(error.detail), dialect)
        raise scim_error(error.status, error.scim_type or None, detail) from None
    return {"schemas": patched.pop("schemas"), "id": resource_id, **patched}


def _hint(message: str, dialect: Dialect) -> str:
    lowered = message.lower()
    if "remove operation carries no value" in lowered and not dialect.remove_value_as_filter:
        return "; the 'entra' dialect reads a remove with a value as a filter on those values"
    if ("path filter" in lowered or "no target" in lowered or "unmatched" in lowered) and not dialect.unmatched_filter_creates:
        return "; the 'entra' dialect creates the entry an unmatched eq filter names"
    if "read-only" in lowered and "display" in lowered and not dialect.read_only_sub_values_ignored:
        return "; the 'okta' dialect ignores readOnly sub-attributes such as members[].display in PATCH values"
    return ""


def _from_type(scim_type: str, detail: str) -> ScimError:
    try:
        return scim_error(400, scim_type, detail)
    except UsageError:
        return InvalidValueError(detail)


def _prepare_operation(
    operation: dict[str, Any], stored: Mapping[str, Any], context: GroundingContext, dialect: Dialect, warnings: list[str]
) -> dict[str, Any] | None:
    """The operation with its value in RFC form for ``dialect`` (see the module docstring); None if it is a no-op."""
    path, value = operation.get("path"), operation.get("value")
    if path is None and isinstance(value, Mapping):
        value = dict(value)
        id_key = next((k for k in value if k.lower() == "id"), None)
        if id_key is not None:
            if dialect.same_id_is_noop and value[id_key] == stored["id"]:
                warnings.append("id: the resource's own id in a PATCH value ignored (okta dialect)")
                del value[id_key]
            else:
                raise MutabilityError(
                    "id is readOnly (RFC 7643 §3.1, RFC 7644 §3.5.2); the 'okta' dialect ignores the resource's own id in a PATCH value",
                    "id",
                )
        if not value:
            return None
        value = dialect.prepare_resource(value, context, warnings)
        for key, item in list(value.items()):
            found, urn = _path_attribute(key, context) if isinstance(key, str) and ":" not in key else (None, None)
            if found is not None:
                value[key] = dialect.patch_value(item, found, urn, warnings)
        return {**operation, "value": value}
    if isinstance(path, str) and path.strip().lower() == "id":
        raise MutabilityError("id is readOnly (RFC 7643 §3.1, RFC 7644 §3.5.2)", "id")
    attribute, urn = _path_attribute(path, context) if isinstance(path, str) else (None, None)
    if attribute is not None and "value" in operation:
        value = dialect.value(value, attribute, [attribute.name], urn)
        return {**operation, "value": dialect.patch_value(value, attribute, urn, warnings)}
    return operation


def _path_attribute(path: str, context: GroundingContext) -> tuple[AttributeDefinition | None, str | None]:
    """The attribute a PATCH path's value is of (``active``, ``name.givenName``, ``emails[...].value``, ``urn:…:manager``)."""
    parsed = _parse(path)
    if parsed is None or not parsed.parts:
        return None, None
    schema, urn = context.core, None
    if parsed.schema and parsed.schema.lower() != context.core.id.lower():
        extension = context.extension(parsed.schema)
        if extension is None:
            return None, None
        schema, urn = extension, extension.id
    attribute = schema.attribute(parsed.parts[0])
    if attribute is None or len(parsed.parts) == 1:
        return attribute, urn
    return attribute.sub_attribute(parsed.parts[1]), urn


def _member(mapping: Mapping[str, Any], name: str) -> Any:
    lowered = name.lower()
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


__all__ = ["PATCH_OP_URN", "MemberEdits", "apply_patch", "member_edits", "operations_of"]
