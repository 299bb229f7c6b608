"""SCIM filters (RFC 7644 §3.4.2.2) → a parameterised Cypher ``WHERE`` over the identity graph.

The filter is parsed by scim2-models (:class:`scim2_models.ScimFilter`); this module walks its
syntax tree and writes the predicate over the node of one resource type (variable ``n``), using
the compiled schema's mapping (:class:`~scim_processor.mapping.rule.ResourceMapping`) to know
where each attribute is stored:

============================================  ===============================================
attribute                                     predicate
============================================  ===============================================
single-valued simple (``userName``)           on ``n.userName``
sub-attribute of a single-valued complex      on ``n.name_familyName`` (mapping rule 3)
multi-valued simple (``skills``)              ``any(x IN n.skills WHERE …)``
multi-valued complex (``emails.value``)       ``EXISTS { MATCH (n)-[:HAS_EMAIL]->(c:Email) WHERE … }``
reference (``members.value``, ``manager``)    ``EXISTS { MATCH (n)<-[:MEMBER_OF]-(t) WHERE t.id … }``
``groups`` of a User (readOnly)               ``EXISTS { MATCH (n)-[:MEMBER_OF]->(t:Group) WHERE … }``
============================================  ===============================================

Rules (RFC 7644 §3.4.2.2): strings compare case-insensitively unless the attribute is
``caseExact`` (both sides lower-cased, the value in Python); ``co``/``sw``/``ew`` are
``CONTAINS``/``STARTS WITH``/``ENDS WITH`` (no ``LIKE``, so ``%`` and ``_`` are plain
characters); ``gt``/``ge``/``lt``/``le`` on a boolean or binary attribute are 400
``invalidFilter``; a filter on a multi-valued attribute matches if any value matches, and ``ne``
there means that no value is equal (as scim2-models' own evaluator reads it). Every predicate is
two-valued (never null), so ``not (…)`` negates exactly. Values only travel as parameters.

What cannot be translated faithfully — a sub-attribute that is not stored (``members.display``,
``$ref``), a complex attribute compared as a whole, a nested value filter — is 400
``invalidFilter``: a filter is never dropped and never evaluated as a full scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from scim2_models import SCIMException, ScimFilter
from scim2_models.path import AttrPath, CompareOperator, Comparison, FilterNode, FilterVisitor, LogicalExpr, LogicalOperator, Not, Present, ValuePath

from ..errors import InvalidFilterError, InvalidValueError
from ..mapping.rule import ChildMapping, PropertyMapping, ReferenceMapping, ResourceMapping
from ..scim import AttributeDefinition, AttributeType, GroundingContext, SchemaDefinition
from ..scim.schema import Mutability

NODE = "n"
"""The variable of the resource node the ``WHERE`` is written for."""

_STRINGS = {AttributeType.STRING, AttributeType.REFERENCE, AttributeType.DATE_TIME, AttributeType.BINARY}
_ORDERED = {CompareOperator.gt, CompareOperator.ge, CompareOperator.lt, CompareOperator.le}
_SUBSTRING = {CompareOperator.co: "CONTAINS", CompareOperator.sw: "STARTS WITH", CompareOperator.ew: "ENDS WITH"}
_CYPHER_OPS = {
    CompareOperator.eq: "=",
    CompareOperator.ne: "<>",
    CompareOperator.gt: ">",
    CompareOperator.ge: ">=",
    CompareOperator.lt: "<",
    CompareOperator.le: "<=",
}
# RFC 7643 §3.1 common attributes: both caseExact.
_COMMON = {
    "id": AttributeDefinition(name="id", caseExact=True, mutability=Mutability.READ_ONLY),
    "externalId": AttributeDefinition(name="externalId", caseExact=True),
}


class CypherFilter(NamedTuple):
    """A translated filter.

    Attributes:
        where: the Cypher boolean expression over the node variable ``n`` (``"true"`` for no filter).
        parameters: parameter name → value (names ``f0``, ``f1``, …).
    """

    where: str
    parameters: dict[str, Any]


def _invalid(detail: str) -> InvalidFilterError:
    return InvalidFilterError(f"{detail} (RFC 7644 §3.4.2.2)", "filter")


@dataclass(frozen=True)
class _Scalar:
    """A scalar Cypher expression and the attribute definition that says how to compare it."""

    expression: str
    definition: AttributeDefinition
    # an indexed lower-cased copy of the value (the mapping's normalised key), used for eq
    key_expression: str | None = None


@dataclass(frozen=True)
class _Multi:
    """A multi-valued attribute: an ``EXISTS`` pattern (or a LIST property) and its element's scalar."""

    # opens the quantifier over the values; ``body`` is the predicate on one value
    quantify: Callable[[str], str]
    element: Callable[[str | None], _Scalar | None]
    attribute: str
    # the graph pattern of the values and its variable (child nodes, references), for sorting
    pattern: str = ""
    variable: str = ""
    primary: bool = False


class _Boolean(FilterVisitor[str]):
    """``not``, ``and`` and ``or`` (RFC 7644 §3.4.2.2), the same at the top level and inside ``attr[…]``."""

    def visit_not(self, node: Not) -> str:
        return f"NOT ({self.visit(node.expr)})"

    def visit_logical_expr(self, node: LogicalExpr) -> str:
        joiner = " AND " if node.op == LogicalOperator.and_ else " OR "
        return "(" + joiner.join(self.visit(term) for term in node.terms) + ")"


@dataclass
class _Translator(_Boolean):
    context: GroundingContext
    mapping: ResourceMapping
    unknown_matches_none: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)
    depth: int = 0

    # ------------------------------------------------------------------ values
    def _param(self, value: Any) -> str:
        name = f"f{len(self.parameters)}"
        self.parameters[name] = value
        return f"${name}"

    def _fresh(self) -> str:
        self.depth += 1
        return f"c{self.depth}"

    # ------------------------------------------------------------------ resolution
    def _schema_of(self, path: AttrPath) -> list[SchemaDefinition] | None:
        schemas = [self.context.core, *self.context.extensions]
        if path.uri is None:
            return schemas
        chosen = [s for s in schemas if s.id.lower() == path.uri.lower()]
        return chosen or None

    def _unknown(self, path: AttrPath) -> None:
        if not self.unknown_matches_none:
            raise _invalid(f"{path} is not an attribute of resource type {self.mapping.resource_type}")

    def _property(self, schema: str, path: tuple[str, ...]) -> PropertyMapping | None:
        lowered = tuple(p.lower() for p in path)
        for prop in self.mapping.properties:
            if tuple(p.lower() for p in prop.path) == lowered and (schema == "" or prop.schema in ("", schema)):
                if getattr(prop, "derived", None) == "key":
                    continue
                return prop
        return None

    def _keyed(self, prop: PropertyMapping) -> PropertyMapping | None:
        """A normalised-key property (lower-cased copy) of ``prop``, if the mapping has one: it is indexed."""
        return next(
            (p for p in self.mapping.properties if p.path == prop.path and p.key != prop.key and getattr(p, "derived", None) == "key"),
            None,
        )

    def _resolve(self, path: AttrPath) -> _Scalar | _Multi | None:
        """Where ``path`` is stored, or None if the resource type does not define it.

        Raises:
            InvalidFilterError: it is defined but not stored in a form a filter can read.
        """
        common = _COMMON.get(next((k for k in _COMMON if k.lower() == path.attr.lower()), ""))
        if common is not None and path.uri is None and path.sub_attr is None:
            return _Scalar(f"{NODE}.{common.name}", common)
        if path.attr.lower() == "meta" and path.uri is None:
            prop = self._property("", ("meta", path.sub_attr or ""))
            if prop is None:
                raise _invalid(f"{path}: not stored in the graph, so it cannot be filtered on")
            return _Scalar(f"{NODE}.{prop.key}", AttributeDefinition(name=prop.key, type=_meta_type(prop.key), caseExact=True))
        schemas = self._schema_of(path)
        if schemas is None:
            return None
        for schema in schemas:
            attribute = schema.attribute(path.attr)
            if attribute is not None:
                return self._stored(schema, attribute, path)
        return None

    def _stored(self, schema: SchemaDefinition, attribute: AttributeDefinition, path: AttrPath) -> _Scalar | _Multi:
        sub = None
        if path.sub_attr is not None:
            sub = attribute.sub_attribute(path.sub_attr)
            if sub is None:
                raise _invalid(f"{path}: {attribute.name} has no sub-attribute {path.sub_attr!r}")
        reference = next((r for r in self.mapping.references if r.schema == schema.id and r.attribute == attribute.name), None)
        if reference is not None:
            return self._reference(reference, attribute)
        child = next((c for c in self.mapping.children if c.schema == schema.id and c.attribute == attribute.name), None)
        if child is not None:
            return self._child(child, attribute)
        if attribute.name == "groups" and attribute.multi_valued and schema is self.context.core and "Group" in self.context.resource_type_names:
            return self._groups(attribute)
        if attribute.type == AttributeType.COMPLEX and not attribute.multi_valued:
            if sub is None:
                return self._flattened(schema, attribute)
            prop = self._property(schema.id, (attribute.name, sub.name))
            if prop is None:
                raise _invalid(f"{path}: {sub.name} is not stored ({sub.not_stored_reason() or 'not mapped'})")
            return _Scalar(f"{NODE}.{prop.key}", sub)
        return self._simple(schema, attribute, path)

    def _simple(self, schema: SchemaDefinition, attribute: AttributeDefinition, path: AttrPath) -> _Scalar | _Multi:
        """A simple attribute: a property (rule 2), or a LIST property when multi-valued."""
        prop = self._property(schema.id, (attribute.name,))
        if prop is None:
            raise _invalid(f"{path}: not stored ({attribute.not_stored_reason() or 'not mapped'})")
        if attribute.multi_valued:
            key = prop.key
            element = attribute.model_copy(update={"multi_valued": False})

            def elements(sub_name: str | None, var: str = "x") -> _Scalar | None:
                return _Scalar(var, element) if sub_name in (None, "value") else None

            def quantify(body: str) -> str:
                return f"any(x IN coalesce({NODE}.{key}, []) WHERE {body})"

            return _Multi(quantify, elements, attribute.name)
        keyed = self._keyed(prop)
        return _Scalar(f"{NODE}.{prop.key}", attribute, f"{NODE}.{keyed.key}" if keyed else None)

    def _flattened(self, schema: SchemaDefinition, attribute: AttributeDefinition) -> _Multi:
        """A single-valued complex attribute named alone: only ``pr`` reads it (any sub-attribute present)."""
        keys = [p.key for p in self.mapping.properties if p.schema == schema.id and p.path[:1] == (attribute.name,) and len(p.path) == 2]
        present = " OR ".join(f"({NODE}.{k} IS NOT NULL AND {NODE}.{k} <> '')" for k in keys) or "false"

        def element(_sub: str | None) -> _Scalar | None:
            return None

        return _Multi(lambda _body: f"({present})", element, attribute.name)

    def _child(self, child: ChildMapping, attribute: AttributeDefinition) -> _Multi:
        var = self._fresh()
        pattern = f"({NODE})-[:{child.relationship_type}]->({var}:{child.label})"

        def quantify(body: str) -> str:
            return f"EXISTS {{ MATCH {pattern} WHERE {body} }}"

        def element(sub_name: str | None) -> _Scalar | None:
            sub = attribute.sub_attribute(sub_name or "value")
            if sub is None:
                return None
            prop = next((p for p in child.properties if p.path[1].lower() == sub.name.lower()), None)
            if prop is None:
                raise _invalid(f"{attribute.name}.{sub.name}: not stored ({sub.not_stored_reason() or 'not mapped'})")
            return _Scalar(f"{var}.{prop.key}", sub)

        has_primary = any(p.key == "primary" for p in child.properties)
        return _Multi(quantify, element, attribute.name, pattern, var, has_primary)

    def _reference(self, reference: ReferenceMapping, attribute: AttributeDefinition) -> _Multi:
        var = self._fresh()
        pattern = (
            f"({NODE})-[:{reference.relationship_type}]->({var})"
            if reference.outgoing
            else f"({NODE})<-[:{reference.relationship_type}]-({var})"
        )
        return self._related(pattern, var, attribute, reference.targets)

    def _groups(self, attribute: AttributeDefinition) -> _Multi:
        """A User's ``groups`` (readOnly, RFC 7643 §4.1.2): the groups it has a MEMBER_OF edge to (direct membership)."""
        var = self._fresh()
        return self._related(f"({NODE})-[:MEMBER_OF]->({var}:Group)", var, attribute, ("Group",))

    def _related(self, pattern: str, var: str, attribute: AttributeDefinition, targets: tuple[str, ...]) -> _Multi:
        def quantify(body: str) -> str:
            return f"EXISTS {{ MATCH {pattern} WHERE {body} }}"

        def element(sub_name: str | None) -> _Scalar | None:
            sub = attribute.sub_attribute(sub_name or "value")
            if sub is None:
                return None
            if sub.name == "value":
                return _Scalar(f"{var}.id", sub.model_copy(update={"case_exact": True}))
            if sub.name == "type":
                return _Scalar("|".join(targets) + f"|{var}", sub)  # decoded by _compare_type
            raise _invalid(f"{attribute.name}.{sub.name}: not stored with the relationship, so it cannot be filtered on")

        return _Multi(quantify, element, attribute.name, pattern, var)

    # ------------------------------------------------------------------ comparisons
    def _compare(self, scalar: _Scalar, op: CompareOperator, value: Any, name: str) -> str:
        if "|" in scalar.expression:  # the type of a referenced resource: its label
            return self._compare_type(scalar, op, value, name)
        definition = scalar.definition
        expr = scalar.expression
        if value is None:
            if op == CompareOperator.eq:
                return f"{expr} IS NULL"
            if op == CompareOperator.ne:
                return f"{expr} IS NOT NULL"
            return "false"
        value = self._coerce(definition, op, value, name)
        lhs = expr
        if isinstance(value, str) and definition.type in _STRINGS and not definition.case_exact:
            lhs, value = f"toLower({expr})", value.lower()
        param = self._param(value)
        if op == CompareOperator.eq and scalar.key_expression and lhs != expr:
            return f"({scalar.key_expression} IS NOT NULL AND {scalar.key_expression} = {param})"
        if op in _SUBSTRING:
            return f"({expr} IS NOT NULL AND {lhs} {_SUBSTRING[op]} {param})"
        if op == CompareOperator.ne:
            return f"({expr} IS NULL OR {lhs} <> {param})"
        return f"({expr} IS NOT NULL AND {lhs} {_CYPHER_OPS[op]} {param})"

    def _compare_type(self, scalar: _Scalar, op: CompareOperator, value: Any, name: str) -> str:
        *targets, var = scalar.expression.split("|")
        if op not in (CompareOperator.eq, CompareOperator.ne) or not isinstance(value, str):
            raise _invalid(f"{name}: only eq and ne with a resource type name are supported on a reference's type")
        label = next((t for t in targets if t.lower() == value.lower()), None)
        if label is None:
            return "false" if op == CompareOperator.eq else "true"
        return f"{var}:{label}" if op == CompareOperator.eq else f"NOT {var}:{label}"

    @staticmethod
    def _coerce(definition: AttributeDefinition, op: CompareOperator, value: Any, name: str) -> Any:
        kind = definition.type
        if kind in (AttributeType.BOOLEAN, AttributeType.BINARY) and (op in _ORDERED or (kind == AttributeType.BOOLEAN and op in _SUBSTRING)):
            raise _invalid(f"{name}: {op.value} cannot compare a {kind.value} attribute")
        if kind == AttributeType.BOOLEAN:
            if not isinstance(value, bool):
                raise _invalid(f"{name}: a boolean attribute compares with true or false, not {value!r}")
            return value
        if kind in (AttributeType.INTEGER, AttributeType.DECIMAL):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _invalid(f"{name}: a {kind.value} attribute compares with a number, not {value!r}")
            if op in _SUBSTRING:
                raise _invalid(f"{name}: {op.value} compares strings only")
            return value
        if kind == AttributeType.COMPLEX:
            raise _invalid(f"{name}: a complex attribute cannot be compared as a whole; name a sub-attribute")
        if not isinstance(value, str):
            raise _invalid(f"{name}: a {kind.value} attribute compares with a string, not {value!r}")
        if kind == AttributeType.DATE_TIME:
            if op in _SUBSTRING:
                raise _invalid(f"{name}: {op.value} compares strings, and a dateTime is an instant")
            # meta dates are stored by the service provider as UTC text with milliseconds: compare instants
            return _instant(value, name) if definition.name.startswith("meta_") else value
        return value

    # ------------------------------------------------------------------ visitor
    def visit_comparison(self, node: Comparison) -> str:
        target = self._resolve(node.attr_path)
        if target is None:
            self._unknown(node.attr_path)
            return "false"
        if isinstance(target, _Scalar):
            return self._compare(target, node.op, node.value, str(node.attr_path))
        element = target.element(node.attr_path.sub_attr)
        if element is None:
            raise _invalid(f"{node.attr_path}: a complex attribute cannot be compared as a whole; name a sub-attribute")
        if node.op == CompareOperator.ne:  # no value equal (the universal reading, as scim2-models evaluates it)
            return f"NOT {target.quantify(self._compare(element, CompareOperator.eq, node.value, str(node.attr_path)))}"
        return target.quantify(self._compare(element, node.op, node.value, str(node.attr_path)))

    def visit_present(self, node: Present) -> str:
        target = self._resolve(node.attr_path)
        if target is None:
            self._unknown(node.attr_path)
            return "false"
        if isinstance(target, _Scalar):
            return _present(target)
        if node.attr_path.sub_attr is None:
            return target.quantify("true")
        element = target.element(node.attr_path.sub_attr)
        if element is None:
            raise _invalid(f"{node.attr_path}: not stored")
        return target.quantify(_present(element))

    def visit_value_path(self, node: ValuePath) -> str:
        if node.sub_attr is not None:
            raise _invalid(f"{node}: a sub-attribute after a value filter belongs to PATCH paths, not to filters")
        target = self._resolve(node.attr_path)
        if target is None:
            self._unknown(node.attr_path)
            return "false"
        if isinstance(target, _Scalar) or node.attr_path.sub_attr is not None:
            raise _invalid(f"{node.attr_path}: a value filter needs a multi-valued attribute")
        inner = _ElementTranslator(self, target, str(node.attr_path))
        return target.quantify(inner.visit(node.val_filter))


class _ElementTranslator(_Boolean):
    """The filter inside ``attr[…]``: its attribute names are sub-attributes of one value."""

    def __init__(self, outer: _Translator, target: _Multi, name: str):
        self.outer = outer
        self.target = target
        self.name = name

    def _element(self, path: AttrPath) -> _Scalar:
        if path.sub_attr is not None or path.uri is not None:
            raise _invalid(f"{self.name}[{path}]: a value filter names sub-attributes of {self.name} only")
        element = self.target.element(path.attr)
        if element is None:
            raise _invalid(f"{self.name}[{path}]: {self.name} has no sub-attribute {path.attr!r}")
        return element

    def visit_comparison(self, node: Comparison) -> str:
        return self.outer._compare(self._element(node.attr_path), node.op, node.value, f"{self.name}.{node.attr_path}")

    def visit_present(self, node: Present) -> str:
        return _present(self._element(node.attr_path))

    def visit_value_path(self, node: ValuePath) -> str:
        raise _invalid(f"{self.name}[{node}]: value filters cannot be nested")


def _present(scalar: _Scalar) -> str:
    """RFC 7644 §3.4.2.2 ``pr``: a non-null, non-empty value."""
    if "|" in scalar.expression:
        return "true"
    expr = scalar.expression
    if scalar.definition.type in _STRINGS:
        return f"({expr} IS NOT NULL AND {expr} <> '')"
    return f"{expr} IS NOT NULL"


def sort_key(
    attribute_path: str, context: GroundingContext, mapping: ResourceMapping, *, unknown_matches_none: bool = False
) -> tuple[str, bool] | None:
    """The Cypher expression to sort by ``attribute_path`` (RFC 7644 §3.4.2.3), and whether it is a string.

    A string attribute that is not ``caseExact`` sorts on its lower-cased value.

    Returns:
        ``(expression over n, is_string)``, or None when the resource type does not define the
        attribute (``unknown_matches_none``; it then sorts as if it had no value).

    Raises:
        InvalidValueError: the path is malformed, unknown, or names a multi-valued or complex attribute.
    """
    try:
        node = parse_filter(f"{attribute_path} pr")
        if not isinstance(node, Present):
            raise _invalid("not an attribute path")
        target = _Translator(context, mapping, unknown_matches_none)._resolve(node.attr_path)
    except InvalidFilterError as error:
        raise InvalidValueError(f"sortBy {attribute_path!r}: {error.detail}", "sortBy") from error
    if target is None:
        if unknown_matches_none:
            return None
        raise InvalidValueError(f"sortBy {attribute_path!r} is not an attribute of {mapping.resource_type} (RFC 7644 §3.4.2.3)", "sortBy")
    refused = InvalidValueError(f"sortBy {attribute_path!r}: sorting by this attribute is not supported", "sortBy")
    if isinstance(target, _Multi):
        # RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value, else its first one
        try:
            element = target.element(node.attr_path.sub_attr) if target.pattern else None
        except InvalidFilterError:
            raise refused from None
        if element is None or "|" in element.expression:
            raise refused
        value, string = _sort_value(element)
        values = f"[{target.pattern} | {value}]"
        if target.primary:
            values = f"[{target.pattern} WHERE {target.variable}.primary = true | {value}] + {values}"
        return f"head({values})", string
    if "|" in target.expression:
        raise refused
    return _sort_value(target)


def _sort_value(scalar: _Scalar) -> tuple[str, bool]:
    definition = scalar.definition
    string = definition.type in (AttributeType.STRING, AttributeType.REFERENCE, AttributeType.BINARY)
    if string and not definition.case_exact:
        return f"toLower({scalar.expression})", True
    return scalar.expression, string


def _instant(value: str, name: str) -> str:
    """An xsd:dateTime (RFC 7643 §2.3.5) as the stored form: UTC, milliseconds, ``Z`` (comparable as text)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _invalid(f"{name}: {value!r} is not an xsd:dateTime (RFC 7643 §2.3.5)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _meta_type(key: str) -> AttributeType:
    return AttributeType.DATE_TIME if key.endswith(("created", "lastModified")) else AttributeType.STRING


def parse_filter(text: str) -> FilterNode:
    """The syntax tree of a filter string (scim2-models' parser).

    Raises:
        InvalidFilterError: the text is not an RFC 7644 §3.4.2.2 filter.
    """
    try:
        return ScimFilter(text).ast
    except SCIMException as error:
        raise InvalidFilterError(f"invalid filter: {error.detail or error}", "filter") from error
    except ValueError as error:
        raise InvalidFilterError(f"invalid filter: {error}", "filter") from error


def translate_filter(
    expression: str | FilterNode | None,
    context: GroundingContext,
    mapping: ResourceMapping,
    *,
    unknown_matches_none: bool = False,
) -> CypherFilter:
    """Translates a SCIM filter into a Cypher ``WHERE`` expression over ``(n:<resource type label>)``.

    Args:
        expression: the filter text or scim2-models syntax tree (None: no filter, ``"true"``).
        context: the resource type's grounding context (attribute characteristics).
        mapping: the resource type's mapping (where each attribute is stored).
        unknown_matches_none: an attribute the resource type does not define evaluates to
            false instead of raising (a search over several resource types, RFC 7644 §3.4.2.1).

    Returns:
        A :class:`CypherFilter`; parameters are named ``f0``, ``f1``, …

    Raises:
        InvalidFilterError: 400 ``invalidFilter`` for bad syntax, an unknown attribute (unless
            ``unknown_matches_none``), an operator the attribute's type does not allow, or an
            attribute the graph does not store in a filterable form.
    """
    if expression is None or (isinstance(expression, str) and not expression.strip()):
        return CypherFilter("true", {})
    node = parse_filter(expression) if isinstance(expression, str) else expression
    translator = _Translator(context, mapping, unknown_matches_none)
    try:
        where = translator.visit(node)
    except TypeError as error:
        raise _invalid(f"unsupported filter: {error}") from error
    return CypherFilter(where, translator.parameters)
