"""``attributes`` / ``excludedAttributes`` (RFC 7644 §3.9) with the ``returned`` rules of RFC 7643 §7: the one place of both.

Two uses, one rule:

- :func:`read_selection` says which top-level attributes a read must fetch for a response, so
  the read query (:func:`~scim_processor.mapping.readback.read_query`) leaves out the child
  nodes and reference relationships the response does not keep (a group's 100,000 member ids
  under ``excludedAttributes=members``);
- :func:`project` applies the parameters to a resource read back, down to sub-attributes.

``returned`` (RFC 7643 §7): ``always`` attributes (``id``; ``schemas`` names what is there) are in
every response; ``never`` ones are not stored at all (mapping rule 6); ``request`` ones only when
``attributes`` names them; ``default`` ones unless ``attributes`` names others or
``excludedAttributes`` names them. ``meta`` is ``default`` (RFC 7643 §3.1): the store reads it
always (the ETag and ``meta.location`` of the HTTP response), :func:`project` drops it when
``attributes`` leaves it out.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..scim import GroundingContext, Returned

_ALWAYS = ("schemas", "id")  # RFC 7643 §3.1: id is returned always; schemas names what is there
_COMMON = ("id", "externalId", "meta")  # RFC 7643 §3.1 common attributes, in no schema
TopLevel = tuple[str, str]
"""A top-level attribute as the mapping rule names it: (schema URN, attribute name); ``""`` for common attributes."""


def _parse(name: str, context: GroundingContext) -> tuple[str | None, str | None, str | None]:
    """``name`` → (extension URN or None for the core, attribute or None for the whole extension, sub-attribute)."""
    lowered = name.lower()
    schema: str | None = None
    rest = name
    for extension in context.extensions:
        if lowered == extension.id.lower():
            return extension.id, None, None
        if lowered.startswith(extension.id.lower() + ":"):
            schema, rest = extension.id, name[len(extension.id) + 1 :]
            break
    else:
        if lowered.startswith(context.core.id.lower() + ":"):
            rest = name[len(context.core.id) + 1 :]
    attribute, _, sub = rest.partition(".")
    return schema, attribute, sub or None


def _top_levels(name: str, context: GroundingContext) -> tuple[list[TopLevel], bool]:
    """The top-level attributes ``name`` names (every attribute of a whole extension), and whether it names a sub-attribute."""
    schema, attribute, sub = _parse(name, context)
    definition = context.core if schema is None else context.extension(schema)
    if definition is None:
        return [], False
    if attribute is None:
        return [(definition.id, a.name) for a in definition.attributes], False
    common = next((c for c in _COMMON if schema is None and c.lower() == attribute.lower()), None)
    if common is not None:
        return [("", common)], sub is not None
    found = definition.attribute(attribute)
    return ([(definition.id, found.name)] if found is not None else []), sub is not None


def _returned(context: GroundingContext, returned: Returned) -> set[TopLevel]:
    """The top-level attributes of the core schema and every extension whose ``returned`` is ``returned``."""
    return {(schema.id, a.name) for schema in (context.core, *context.extensions) for a in schema.attributes if a.returned == returned}


def read_selection(
    context: GroundingContext, attributes: Sequence[str] | None, excluded: Sequence[str] | None
) -> tuple[frozenset[TopLevel] | None, frozenset[TopLevel]]:
    """What a read must fetch for a response with these parameters (RFC 7644 §3.9, RFC 7643 §7).

    Args:
        context: the resource type's grounding context (every extension).
        attributes: the ``attributes`` parameter's paths, or None.
        excluded: the ``excludedAttributes`` parameter's paths, or None (it wins if both are given,
            as in :func:`project`).

    Returns:
        ``(include, exclude)`` for :func:`~scim_processor.mapping.readback.read_query`:
        ``include`` None (every attribute) or the returned-always attributes plus the named ones
        (a sub-attribute path names its attribute); ``exclude`` the attributes named without a
        sub-attribute (never a returned-always one) and the returned-request ones not named.
    """
    always = _returned(context, Returned.ALWAYS) | {("", "id"), ("", "meta")}
    request = _returned(context, Returned.REQUEST)
    if not excluded and attributes:
        named = {top for name in attributes for top in _top_levels(name, context)[0]}
        return frozenset(always | named), frozenset()
    dropped: set[TopLevel] = set()
    for name in excluded or ():
        tops, names_sub = _top_levels(name, context)
        if not names_sub:  # excluding a sub-attribute keeps its attribute
            dropped.update(tops)
    return None, frozenset((dropped - always) | request)


def _key(mapping: Mapping[str, Any], name: str) -> str | None:
    return next((k for k in mapping if k.lower() == name.lower()), None)


def _sub(value: Any, sub: str) -> Any:
    if isinstance(value, list):
        items = [{k: v for k, v in item.items() if k.lower() == sub.lower()} for item in value if isinstance(item, Mapping)]
        return [item for item in items if item] or None
    if isinstance(value, Mapping):
        found = _key(value, sub)
        return {found: value[found]} if found else None
    return None


def project(
    resource: Mapping[str, Any], context: GroundingContext, attributes: Sequence[str] | None, excluded: Sequence[str] | None
) -> dict[str, Any]:
    """``resource`` with only ``attributes`` (plus ``schemas``, ``id`` and returned-always ones), or without ``excluded``.

    Names are attribute paths (RFC 7644 §3.10): ``userName``, ``name.givenName``, ``emails.value``,
    ``urn:…:enterprise:2.0:User:employeeNumber`` or a whole extension URN; matched case-insensitively.
    Returned-request attributes (RFC 7643 §7) are kept only when ``attributes`` names them.
    """
    if not excluded and attributes:
        return _include(resource, context, attributes)
    out = _exclude(resource, context, excluded or ())
    _drop(out, context, _returned(context, Returned.REQUEST))
    return out


def _drop(resource: dict[str, Any], context: GroundingContext, tops: Iterable[TopLevel]) -> None:
    for schema, name in tops:
        container = resource if schema in ("", context.core.id) else resource.get(schema)
        key = _key(container, name) if isinstance(container, dict) else None
        if isinstance(container, dict) and key is not None:
            del container[key]


def _exclude(resource: Mapping[str, Any], context: GroundingContext, excluded: Sequence[str]) -> dict[str, Any]:
    out = copy.deepcopy(dict(resource))
    always = {(urn, top.lower()) for urn, top in _returned(context, Returned.ALWAYS)}
    for name in excluded:
        schema, attribute, sub = _parse(name, context)
        if attribute is None:
            out.pop(schema or "", None)
            continue
        container: Any = out if schema is None else out.get(schema)
        key = _key(container, attribute) if isinstance(container, dict) else None
        if key is None or key in _ALWAYS or (schema or context.core.id, key.lower()) in always:
            continue
        if sub is None:
            del container[key]
            continue
        for item in container[key] if isinstance(container[key], list) else [container[key]]:
            found = _key(item, sub) if isinstance(item, dict) else None
            if found is not None:
                del item[found]
    return out


def _include(resource: Mapping[str, Any], context: GroundingContext, attributes: Sequence[str]) -> dict[str, Any]:
    out = {key: resource[key] for key in _ALWAYS if key in resource}
    for urn, top in _returned(context, Returned.ALWAYS):
        holder = resource if urn == context.core.id else resource.get(urn)
        if isinstance(holder, Mapping) and top in holder:
            (out if urn == context.core.id else out.setdefault(urn, {}))[top] = holder[top]
    for name in attributes:
        schema, attribute, sub = _parse(name, context)
        source: Any = resource if schema is None else resource.get(schema)
        if attribute is None:
            if schema and schema in resource:
                out[schema] = resource[schema]
            continue
        key = _key(source, attribute) if isinstance(source, Mapping) else None
        value = None if key is None else (source[key] if sub is None else _sub(source[key], sub))
        if key is None or value is None:
            continue
        target = out if schema is None else out.setdefault(schema, {})
        if sub is not None and isinstance(target.get(key), dict) and isinstance(value, dict):
            target[key].update(value)
        else:
            target[key] = value
    return out


__all__ = ["TopLevel", "project", "read_selection"]
