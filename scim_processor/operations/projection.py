"""``attributes`` / ``excludedAttributes`` (RFC 7644 §3.9) applied to a resource read back from the graph."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from ..scim import GroundingContext, Returned

_ALWAYS = ("schemas", "id")  # RFC 7643 §3.1: id is returned always; schemas names what is there


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
    """
    if excluded:
        return _exclude(resource, context, excluded)
    if attributes:
        return _include(resource, context, attributes)
    return dict(resource)


def _exclude(resource: Mapping[str, Any], context: GroundingContext, excluded: Sequence[str]) -> dict[str, Any]:
    out = copy.deepcopy(dict(resource))
    for name in excluded:
        schema, attribute, sub = _parse(name, context)
        if attribute is None:
            out.pop(schema or "", None)
            continue
        container: Any = out if schema is None else out.get(schema)
        key = _key(container, attribute) if isinstance(container, dict) else None
        if key is None or key in _ALWAYS:
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
    out.update({a.name: resource[a.name] for a in context.core.attributes if a.returned == Returned.ALWAYS and a.name in resource})
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


__all__ = ["project"]
