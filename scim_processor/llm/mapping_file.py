r"""Mappings (issue 16 §1, §3): which source field fills which SCIM attribute, with which transform.

File format, JSON (``.json``) or YAML (``.yaml``/``.yml``, read with PyYAML's safe loader)::

    {"resourceType": "User",
     "shape": {"format": "csv", "fields": ["Employee ID", "First Name", "Work Email", "Status"]},
     "fields": [
      {"source": "First Name", "target": "name.givenName", "transform": "copy"},
      {"source": "Work Email", "target": "userName", "transform": "lower"},
      {"source": "Work Email", "target": "emails[type eq \\"work\\"].value", "transform": "lower"},
      {"source": "Status", "target": "active", "transform": "boolean",
       "args": {"true": ["Active"], "false": ["Terminated"]}},
      {"source": ["First Name", "Last Name"], "target": "displayName", "transform": "join"},
      {"source": "Employee ID",
       "target": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
       "transform": "copy"}]}

``source`` is a field path of the shape (:mod:`.shapes`), a list of them for ``join``. ``target``
is an RFC 7644 §3.5.2 attribute path (parsed with ``scim2_models.Path``): ``attr``, ``attr.sub``,
``attr[type eq "value"].sub`` for one item of a multi-valued attribute, each optionally prefixed
by an extension schema URN; ``externalId`` (RFC 7643 §3.1) too. ``transform`` is a name of
:mod:`.transforms` (default ``copy``) and ``args`` its arguments. A shape field with no entry is
left unmapped. ``reviewed`` (optional, boolean) records that a person accepted the mapping.

:func:`check` lists every problem of a mapping against the resource type's schemas; a mapping
with problems is never applied (``map --mapping`` exits 2 naming the first one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from scim2_models import Path as ScimPath
from scim2_models.path import AttrPath, CompareOperator, Comparison, ValuePath

from ..errors import ScimProcessorError
from .core import AttributeDefinition, GroundingContext, Mutability, SchemaDefinition
from .records import is_secret_field
from .retrieval import offered
from .shapes import STRUCTURED, Shape
from .transforms import TRANSFORMS, Transform, TransformError, fits, transform

EXTERNAL_ID = "externalId"


class MappingFileError(ScimProcessorError):
    """A mapping file that cannot be read or used; the message names the file and the problem (exit 2)."""


@dataclass(frozen=True)
class Entry:
    """One mapping entry: source field(s) → target attribute path, through a transform.

    Attributes:
        sources: the source field paths (one, or several for ``join``).
        target: the RFC 7644 §3.5.2 attribute path as written.
        transform: the transform's name.
        args: the transform's arguments.
    """

    sources: tuple[str, ...]
    target: str
    transform: str = "copy"
    args: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Entry:
        """An entry from its file form ``{"source", "target", "transform"?, "args"?}``.

        Raises:
            MappingFileError: a missing or mistyped key.
        """
        if not isinstance(data, Mapping):
            raise MappingFileError("every entry of 'fields' must be an object {source, target, transform, args}")
        source, target = data.get("source"), data.get("target")
        sources = (source,) if isinstance(source, str) else tuple(source) if isinstance(source, list) else ()
        if not sources or not all(isinstance(s, str) and s for s in sources):
            raise MappingFileError(f"entry {dict(data)!r}: 'source' must be a field path or a list of them")
        if not isinstance(target, str) or not target:
            raise MappingFileError(f"entry for {sources[0]!r}: 'target' must be an attribute path")
        name = data.get("transform") or "copy"
        args = data.get("args") or {}
        if not isinstance(name, str) or not isinstance(args, Mapping):
            raise MappingFileError(f"entry for {sources[0]!r}: 'transform' must be a name and 'args' an object")
        # YAML 1.1 reads an unquoted `true:` / `false:` key as a boolean: the boolean transform's lists.
        return cls(sources, target, name, {(str(k).lower() if isinstance(k, bool) else k): v for k, v in args.items()})

    def to_json(self) -> dict[str, Any]:
        """The file form (``source`` a string unless several, ``args`` only when given)."""
        data: dict[str, Any] = {"source": self.sources[0] if len(self.sources) == 1 else list(self.sources),
                                "target": self.target, "transform": self.transform}  # fmt: skip
        if self.args:
            data["args"] = dict(self.args)
        return data


@dataclass
class SourceMapping:
    """A mapping of one source shape to one resource type.

    Attributes:
        resource_type: ``User``, ``Group``, ... (RFC 7643 §6).
        shape: the source shape it applies to.
        entries: the entries, in file order.
        reviewed: a person accepted it (``map --mapping``); proposals are unreviewed.
    """

    resource_type: str
    shape: Shape
    entries: list[Entry]
    reviewed: bool = False

    @property
    def fingerprint(self) -> str:
        """The shape's fingerprint."""
        return self.shape.fingerprint

    @classmethod
    def from_json(cls, data: Any, where: str = "mapping") -> SourceMapping:
        """A mapping from its file form.

        Raises:
            MappingFileError: the structure is wrong (the message names ``where`` and the key).
        """
        if not isinstance(data, Mapping):
            raise MappingFileError(f"{where}: a mapping must be an object {{resourceType, shape, fields}}")
        shape = data.get("shape")
        if not isinstance(shape, Mapping) or shape.get("format") not in STRUCTURED or not isinstance(shape.get("fields"), list):
            raise MappingFileError(f"{where}: 'shape' must be {{format: {'|'.join(STRUCTURED)}, fields: [field paths]}}")
        fields = shape["fields"]
        if not all(isinstance(f, str) and f for f in fields):
            raise MappingFileError(f"{where}: 'shape.fields' must be a list of field paths")
        entries = data.get("fields")
        if not isinstance(entries, list):
            raise MappingFileError(f"{where}: 'fields' must be a list of entries")
        try:
            parsed = [Entry.from_json(entry) for entry in entries]
        except MappingFileError as error:
            raise MappingFileError(f"{where}: {error}") from None
        resource_type = data.get("resourceType", "User")
        if not isinstance(resource_type, str):
            raise MappingFileError(f"{where}: 'resourceType' must be a name")
        return cls(resource_type, Shape(str(shape["format"]), tuple(fields)), parsed, bool(data.get("reviewed", False)))

    def to_json(self) -> dict[str, Any]:
        """The file form (see the module docstring)."""
        return {
            "resourceType": self.resource_type,
            "shape": {"format": self.shape.format, "fields": list(self.shape.fields)},
            "fields": [entry.to_json() for entry in self.entries],
            "reviewed": self.reviewed,
        }


def load_mapping(path: Path) -> SourceMapping:
    """Reads a mapping file (JSON, or YAML by suffix).

    Raises:
        MappingFileError: unreadable, not JSON/YAML, or a wrong structure.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise MappingFileError(f"{path}: cannot be read: {error}") from None
    try:
        data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise MappingFileError(f"{path}: not {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: "
                               f"{' '.join(str(error).split())}") from None  # fmt: skip
    return SourceMapping.from_json(data, str(path))


def write_mapping(mapping: SourceMapping, path: Path) -> None:
    """Writes the mapping file (YAML for a ``.yaml``/``.yml`` suffix, else indented JSON)."""
    data = mapping.to_json()
    if path.suffix.lower() in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """A resolved target path.

    Attributes:
        path: as written.
        urn: the extension schema URN, or None for the core schema (and ``externalId``).
        attribute: the top-level attribute name as the schema spells it.
        sub: the sub-attribute name, or None.
        type_value: the ``type`` of the selected item (``[type eq "work"]``), or None.
        multi_valued: the top-level attribute is multi-valued.
        leaf_type: the RFC 7643 §2.3 type of the value written.
        required: the leaf must be filled (a top-level required attribute, e.g. ``userName``).
        id: the ``ScimAttribute`` node id of the leaf (``urn:...:User:emails.value``), None for ``externalId``.
    """

    path: str
    urn: str | None
    attribute: str
    sub: str | None
    type_value: str | None
    multi_valued: bool
    leaf_type: str
    required: bool
    id: str | None

    @property
    def key(self) -> str:
        """The identity of the filled slot (case-insensitive): two entries with one key conflict."""
        return f"{self.urn or ''}:{self.attribute}[{self.type_value or ''}].{self.sub or ''}".lower()


class TargetError(ValueError):
    """A target path that names no writable attribute; ``code`` says why (``unknown_attribute``, ...)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code


def resolve_target(path: str, context: GroundingContext) -> Target:
    """The writable attribute that ``path`` names in ``context``.

    Raises:
        TargetError: bad syntax, unknown attribute, readOnly/writeOnly (``id``, ``meta``,
            ``groups``, ``password``), a complex attribute without a sub-attribute, or a filter other
            than ``type eq "..."`` on a multi-valued attribute (RFC 7644 §3.5.2).
    """
    if path == EXTERNAL_ID:
        return Target(path, None, EXTERNAL_ID, None, None, False, "string", False, None)
    attr_path, type_value, sub_name = _parse(path)
    schema = _schema(attr_path.uri, context, path)
    attribute = schema.attribute(attr_path.attr)
    if attribute is None or attr_path.attr.lower() in ("id", "meta", "schemas"):
        if attr_path.attr.lower() in ("id", "meta"):
            raise TargetError("read_only_attribute", f"target {path!r}: {attr_path.attr} is readOnly (RFC 7643 §3.1)")
        raise TargetError("unknown_attribute", f"target {path!r}: {attr_path.attr!r} is not an attribute of {schema.id}")
    _require_offered(attribute, path)
    if type_value is not None and not (attribute.multi_valued and attribute.sub_attribute("type") is not None):
        raise TargetError("bad_filter", f"target {path!r}: {attribute.name} has no items to select by type")
    leaf = attribute
    if sub_name is not None:
        sub = attribute.sub_attribute(sub_name)
        if sub is None:
            raise TargetError("unknown_attribute", f"target {path!r}: {sub_name!r} is not a sub-attribute of {attribute.name}")
        _require_offered(sub, path)
        if sub.name == "type" and type_value is not None:
            raise TargetError("bad_filter", f"target {path!r}: the type is set by the filter")
        leaf = sub
    elif attribute.sub_attributes:
        raise TargetError("complex_target", f"target {path!r}: {attribute.name} is complex; name a sub-attribute ({attribute.name}.value)")
    urn = None if schema.id == context.core.id else schema.id
    node = f"{schema.id}:{attribute.name}" + (f".{leaf.name}" if leaf is not attribute else "")
    return Target(path, urn, attribute.name, leaf.name if leaf is not attribute else None, type_value,
                  attribute.multi_valued, leaf.type.value, attribute.required and leaf is attribute, node)  # fmt: skip


def _parse(path: str) -> tuple[AttrPath, str | None, str | None]:
    """``(attribute path, type filter value, sub-attribute)`` of a target path (``scim2_models.Path``)."""
    try:
        ast = ScimPath(path).ast
    except Exception as error:  # scim2_models raises its own exception types for bad syntax
        raise TargetError("unknown_attribute", f"target {path!r} is not an attribute path: {error}") from None
    if isinstance(ast, ValuePath):
        test = ast.val_filter
        if not (isinstance(test, Comparison) and test.attr_path.attr.lower() == "type" and test.op == CompareOperator.eq
                and isinstance(test.value, str)):  # fmt: skip
            raise TargetError("bad_filter", f"target {path!r}: only [type eq \"...\"] selects an item")
        return ast.attr_path, test.value, ast.sub_attr
    if isinstance(ast, AttrPath):
        return ast, None, ast.sub_attr
    raise TargetError("unknown_attribute", f"target {path!r} is not an attribute path")


def _schema(uri: str | None, context: GroundingContext, path: str) -> SchemaDefinition:
    if uri is None or uri.lower() == context.core.id.lower():
        return context.core
    extension = context.extension(uri)
    if extension is None:
        raise TargetError("unknown_attribute", f"target {path!r}: {uri} is not a schema of {context.resource_type.name}")
    return extension


def _require_offered(attribute: AttributeDefinition, path: str) -> None:
    if not offered(attribute):
        code = "read_only_attribute" if attribute.mutability == Mutability.READ_ONLY else "secret_attribute"
        raise TargetError(code, f"target {path!r}: {attribute.name} is {attribute.mutability.value} (RFC 7643 §7); a mapping cannot write it")


def writable_targets(context: GroundingContext) -> list[Target]:
    """Every target path a mapping may name, for prompts and the proposal's enum.

    Simple attributes by name; a complex single-valued one by each writable sub-attribute; a
    multi-valued one with canonical ``type`` values as ``attr[type eq "t"].sub`` per type (its
    ``value`` and address parts; ``primary``, ``display``, ``$ref`` left out), else ``attr.sub``.
    Extension attributes carry their schema URN. ``externalId`` first.
    """
    paths = [EXTERNAL_ID]
    for schema in (context.core, *context.extensions):
        prefix = "" if schema.id == context.core.id else f"{schema.id}:"
        for attribute in (a for a in schema.attributes if offered(a)):
            subs = [s for s in attribute.sub_attributes if offered(s) and s.name not in ("type", "primary", "display", "$ref")]
            if not attribute.sub_attributes:
                paths.append(prefix + attribute.name)
                continue
            kind = attribute.sub_attribute("type")
            types = kind.canonical_values if kind is not None and attribute.multi_valued else ()
            for sub in subs:
                if types:
                    paths += [f'{prefix}{attribute.name}[type eq "{t}"].{sub.name}' for t in types]
                else:
                    paths.append(f"{prefix}{attribute.name}.{sub.name}")
    return [resolve_target(path, context) for path in paths]


# ----------------------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class Issue:
    """One problem of a mapping: a stable ``code``, the entry's source and target, and a one-line ``detail``."""

    code: str
    source: str
    target: str
    detail: str

    def to_json(self) -> dict[str, str]:
        """``{"code", "source", "target", "detail"}``."""
        return {"code": self.code, "source": self.source, "target": self.target, "detail": self.detail}


def entry_issues(entry: Entry, shape: Shape, context: GroundingContext) -> Iterator[Issue]:
    """The problems of one entry on its own.

    Source not in the shape, secret source, unknown transform or arguments, wrong number of
    sources, unknown or non-writable target, and an output type that does not fit the target
    (RFC 7643 §2.3).
    """
    source = entry.sources[0]
    for name in entry.sources:
        if name not in shape.fields:
            yield Issue("unknown_source", name, entry.target, f"{name!r} is not a field of the shape")
        if is_secret_field(name):
            yield Issue("secret_source", name, entry.target, f"{name!r} is a secret field; it is never mapped")
    try:
        found = transform(entry.transform)
        found.check_args(entry.args)
        kind: Transform | None = found
        if (len(entry.sources) > 1) != (found.sources == "many"):
            yield Issue("bad_sources", source, entry.target, f"transform {found.name!r} takes "
                        + ("several sources" if found.sources == "many" else "one source"))  # fmt: skip
    except TransformError as error:
        kind = None
        yield Issue("unknown_transform" if entry.transform not in TRANSFORMS else "bad_args", source, entry.target, str(error))
    try:
        target = resolve_target(entry.target, context)
    except TargetError as error:
        yield Issue(error.code, source, entry.target, str(error))
        return
    if kind is not None and not fits(kind.output, target.leaf_type):
        yield Issue("type_mismatch", source, entry.target,
                    f"transform {kind.name!r} gives a {kind.output}; {entry.target} is a {target.leaf_type}")  # fmt: skip


def check(mapping: SourceMapping, context: GroundingContext) -> list[Issue]:
    """Every problem of ``mapping``; an empty list means it may be applied.

    :func:`entry_issues` of each entry, then one entry per target, then every required attribute
    mapped (``userName``).
    """
    issues = [issue for entry in mapping.entries for issue in entry_issues(entry, mapping.shape, context)]
    seen: dict[str, Entry] = {}
    filled: set[str] = set()
    for entry in mapping.entries:
        try:
            target = resolve_target(entry.target, context)
        except TargetError:
            continue
        if target.key in seen:
            issues.append(Issue("duplicate_target", entry.sources[0], entry.target,
                                f"{entry.target} is filled by {seen[target.key].sources[0]!r} already"))  # fmt: skip
        seen[target.key] = entry
        filled.add(target.attribute.lower())
    for attribute in required_attributes(context):
        if attribute.lower() not in filled:
            issues.append(Issue("required_unmapped", "", attribute, f"no field fills {attribute}, which is required"))
    return issues


def required_attributes(context: GroundingContext) -> list[str]:
    """The writable required core attributes (``userName`` for User, ``displayName`` for Group)."""
    return [a.name for a in context.core.attributes if a.required and offered(a)]


# ----------------------------------------------------------------------------------------- apply
@dataclass(frozen=True)
class _Step:
    sources: tuple[str, ...]
    target: Target
    transform: Transform
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Built:
    """A resource built from one record: the resource, the values dropped and the fatal error, if any.

    Attributes:
        resource: the SCIM resource (``schemas`` set).
        dropped: ``{"path", "value", "code", "detail"}`` of each optional value a transform could not convert.
        error: why a required value could not be built (the record is rejected), or None.
    """

    resource: dict[str, Any]
    dropped: list[dict[str, Any]]
    error: str | None = None


class CompiledMapping:
    """A checked mapping, ready to build resources from flat records at ``process`` speed.

    Args:
        mapping: the mapping.
        context: the resource type's grounding context.

    Raises:
        MappingFileError: :func:`check` found problems (the message names the first).
    """

    def __init__(self, mapping: SourceMapping, context: GroundingContext):
        issues = check(mapping, context)
        if issues:
            raise MappingFileError(issues[0].detail)
        self.mapping = mapping
        self.context = context
        self.steps = [_Step(e.sources, resolve_target(e.target, context), transform(e.transform), dict(e.args)) for e in mapping.entries]

    def build(self, values: Mapping[str, Any]) -> Built:
        """The SCIM resource of one flat record (field path → value)."""
        resource: dict[str, Any] = {"schemas": [self.context.core.id]}
        dropped: list[dict[str, Any]] = []
        for step in self.steps:
            raw = [values.get(source) for source in step.sources]
            try:
                value = step.transform.apply(raw, step.args)
            except TransformError as error:
                if step.target.required:
                    return Built(resource, dropped, f"{step.target.path} from {step.sources[0]!r}: {error}")
                shown = raw[0] if len(raw) == 1 else raw
                dropped.append({"path": step.target.path, "value": shown, "code": "transform_failed", "detail": str(error)})
                continue
            if value is not None:
                place(resource, step.target, value)
        return Built(resource, dropped)


def place(resource: dict[str, Any], target: Target, value: Any) -> None:
    """Sets ``value`` at ``target`` in ``resource`` (creating the item of ``[type eq "t"]``; adding an extension's URN to ``schemas``)."""
    container = resource
    if target.urn is not None:
        container = resource.setdefault(target.urn, {})
        if target.urn not in resource["schemas"]:
            resource["schemas"].append(target.urn)
    if target.sub is None:
        container[target.attribute] = value
    elif target.multi_valued:
        items: list[dict[str, Any]] = container.setdefault(target.attribute, [])
        item = next((i for i in items if i.get("type") == target.type_value), None)
        if item is None:
            item = {"type": target.type_value} if target.type_value is not None else {}
            items.append(item)
        item[target.sub] = value
    else:
        container.setdefault(target.attribute, {})[target.sub] = value


def sources_of(entries: Sequence[Entry]) -> set[str]:
    """Every source field path the entries read."""
    return {source for entry in entries for source in entry.sources}
