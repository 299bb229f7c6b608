"""IdP dialects: named, documented sets of tolerances for what identity providers actually send.

A dialect never adds leniency ad hoc: each flag below is one documented deviation from RFC 7643 /
RFC 7644, with its source. ``strict`` has none; in ``strict`` each of these shapes is refused with
the RFC section in the detail and a hint naming the dialect that accepts it.

========================  ======  =====  ====  =====================================================
tolerance                 strict  entra  okta  source
========================  ======  =====  ====  =====================================================
``"True"``/``"False"``      400     yes     -   Entra without ``aadOptscim062020`` (Microsoft Learn,
for a boolean                                   "Known issues ... SCIM 2.0 protocol compliance"); RFC 7643 §2.3.2
``"manager": "<id>"``       400     yes     -   Entra user provisioning; RFC 7643 §2.3.8 complex
``remove`` with a           400     yes     -   Entra group PATCH ("remove members" + value list);
``value`` (members)                             RFC 7644 §3.5.2.2 (a remove carries no value)
unmatched ``eq`` filter     400     yes     -   Entra, as scim2-models' ``ScimPolicy.unmatched_path_filter``
in ``replace`` creates    noTarget              documents it; RFC 7644 §3.5.2.3
``…/ADSCIM/2.0/User|Group`` 400     drop    -   Entra group and user creates; RFC 7643 §3 (unknown URN)
in ``schemas``                      (warn)
same ``id`` in a no-path    400     -      yes  Okta group rename PATCH (developer.okta.com SCIM 2.0
PATCH value               mutab.               guide); RFC 7644 §3.5.2 (id is readOnly)
readOnly sub-attribute      400     -      yes  Okta group push sends ``members[].display`` in PATCH
in a PATCH value          mutab.  (drop)       values; RFC 7644 §3.5.2 (readOnly cannot be set);
(``members[].display``)           (warn)       dropped with a warning
========================  ======  =====  ====  =====================================================

Accepted in every dialect because the RFC allows them: op names in any case (RFC 7644 §3.5.2,
"case insensitive"), attribute names in any case (RFC 7643 §2.1: ``"Schemas"``), a no-path
``replace`` with ``{"active": false}`` (RFC 7644 §3.5.2.3), members without ``type`` (read as the
first referenceType, ``User``: mapping rule 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scim2_models import ScimPolicy

from ..errors import InvalidSyntaxError, InvalidValueError, UsageError, attribute_path
from ..scim import AttributeDefinition, AttributeType, GroundingContext, Mutability, SchemaDefinition

_ADSCIM_MARKER = "/adscim/2.0/"


@dataclass(frozen=True)
class Dialect:
    """One named set of tolerances (see the module docstring for each flag's source).

    Attributes:
        name: ``strict``, ``entra`` or ``okta``.
        string_booleans: ``"True"`` / ``"False"`` (any case) are read as booleans.
        bare_reference_strings: a bare string for a complex attribute with a ``value`` is ``{"value": s}``.
        remove_value_as_filter: a ``remove`` with a ``value`` removes only the listed values.
        unmatched_filter_creates: a ``replace`` whose ``eq`` value filter matches nothing creates the entry.
        drop_microsoft_urns: Microsoft ``…/ADSCIM/2.0/…`` URNs are dropped from ``schemas`` (a warning).
        same_id_is_noop: an ``id`` equal to the target's in a PATCH value is ignored.
        read_only_sub_values_ignored: readOnly sub-attributes of complex values in a PATCH value
            (``members[].display``) are dropped, with a warning.
    """

    name: str
    string_booleans: bool = False
    bare_reference_strings: bool = False
    remove_value_as_filter: bool = False
    unmatched_filter_creates: bool = False
    drop_microsoft_urns: bool = False
    same_id_is_noop: bool = False
    read_only_sub_values_ignored: bool = False

    def policy(self) -> ScimPolicy:
        """The scim2-models :class:`ScimPolicy` of this dialect's PATCH tolerances (unknown attributes always forbidden)."""
        return ScimPolicy(
            remove_value_as_filter="apply" if self.remove_value_as_filter else "forbid",
            unmatched_path_filter="create" if self.unmatched_filter_creates else "forbid",
        )

    # ------------------------------------------------------------------ PATCH values
    def patch_value(self, value: Any, attribute: AttributeDefinition, urn: str | None, warnings: list[str]) -> Any:
        """A PATCH operation's value for ``attribute``, with this dialect's PATCH-only tolerances (RFC 7644 §3.5.2).

        With ``read_only_sub_values_ignored``, readOnly sub-attributes of its complex values
        (Okta's ``members[].display``) are dropped and named in ``warnings``; otherwise ``value``
        is returned as is (scim2-models refuses them: 400 ``mutability``).
        """
        if not self.read_only_sub_values_ignored or attribute.type != AttributeType.COMPLEX:
            return value
        read_only = {sub.name.lower() for sub in attribute.sub_attributes if sub.mutability == Mutability.READ_ONLY}
        if not read_only:
            return value
        dropped: set[str] = set()

        def drop(item: Any) -> Any:
            if not isinstance(item, Mapping):
                return item
            kept = {key: sub for key, sub in item.items() if not (isinstance(key, str) and key.lower() in read_only)}
            dropped.update(str(key) for key in item if key not in kept)
            return kept

        out = [drop(item) for item in value] if isinstance(value, list) else drop(value)
        for name in sorted(dropped):
            path = attribute_path([attribute.name, name], urn)
            warnings.append(f"{path}: readOnly, ignored in a PATCH value ({self.name} dialect; RFC 7644 §3.5.2)")
        return out

    # ------------------------------------------------------------------ resources
    def prepare_resource(self, body: Mapping[str, Any], context: GroundingContext, warnings: list[str]) -> dict[str, Any]:
        """``body`` with this dialect's tolerated shapes rewritten to RFC form, before generation.

        Raises:
            InvalidValueError: 400, in a dialect without the tolerance, for a string boolean.
            InvalidSyntaxError: 400 for a bare string complex value or a Microsoft URN (strict).
        """
        out = dict(body)
        schemas_key = next((key for key in out if key.lower() == "schemas"), None)
        if schemas_key is not None and isinstance(out[schemas_key], list):
            out[schemas_key] = self.prepare_schemas(out[schemas_key], warnings)
        for key, value in list(out.items()):
            if ":" in key:
                extension = context.extension(key)
                if extension is not None and isinstance(value, Mapping):
                    out[key] = self._values(value, extension, extension.id)
                continue
            attribute = context.core.attribute(key)
            if attribute is not None:
                out[key] = self.value(value, attribute, [attribute.name], None)
        return out

    def prepare_schemas(self, schemas: list[Any], warnings: list[str]) -> list[Any]:
        """``schemas`` without Microsoft ``ADSCIM`` URNs (entra), else refused with a hint (strict).

        Raises:
            InvalidSyntaxError: 400 ``invalidSyntax`` naming RFC 7643 §3 and the ``entra`` dialect.
        """
        kept = []
        for urn in schemas:
            if isinstance(urn, str) and _ADSCIM_MARKER in urn.lower():
                if not self.drop_microsoft_urns:
                    raise InvalidSyntaxError(
                        f"schema {urn!r} is not a registered schema (RFC 7643 §3); the 'entra' dialect drops Microsoft's ADSCIM URNs",
                        "schemas",
                    )
                warnings.append(f"schemas: {urn} dropped (entra dialect: Microsoft ADSCIM URN)")
                continue
            kept.append(urn)
        return kept

    def _values(self, values: Mapping[str, Any], schema: SchemaDefinition, urn: str | None) -> dict[str, Any]:
        out = dict(values)
        for key, value in values.items():
            attribute = schema.attribute(str(key))
            if attribute is not None:
                out[key] = self.value(value, attribute, [attribute.name], urn)
        return out

    def value(self, value: Any, attribute: AttributeDefinition, parts: list[str | int], urn: str | None) -> Any:
        """One attribute's value with tolerated shapes rewritten (recursively for complex and multi-valued).

        Raises:
            InvalidValueError: a string boolean in a dialect without ``string_booleans`` (RFC 7643 §2.3.2).
            InvalidSyntaxError: a bare string complex value without ``bare_reference_strings`` (RFC 7643 §2.3.8).
        """
        if value is None:
            return None
        if attribute.multi_valued and isinstance(value, list):
            return [self._single(item, attribute, [*parts, index], urn) for index, item in enumerate(value)]
        return self._single(value, attribute, parts, urn)

    def _single(self, value: Any, attribute: AttributeDefinition, parts: list[str | int], urn: str | None) -> Any:
        path = attribute_path(parts, urn)
        if attribute.type == AttributeType.BOOLEAN and isinstance(value, str) and value.lower() in ("true", "false"):
            if not self.string_booleans:
                raise InvalidValueError(
                    f"{path} must be a JSON boolean true or false, not {value!r} (RFC 7643 §2.3.2); "
                    "the 'entra' dialect reads \"True\"/\"False\"",
                    path,
                )
            return value.lower() == "true"
        if attribute.type == AttributeType.COMPLEX:
            if isinstance(value, str) and attribute.sub_attribute("value") is not None:
                if not self.bare_reference_strings:
                    raise InvalidSyntaxError(
                        f"{path} is complex: a JSON object such as {{\"value\": ...}} is required (RFC 7643 §2.3.8); "
                        "the 'entra' dialect reads a bare id",
                        path,
                    )
                return {"value": value}
            if isinstance(value, Mapping):
                out = dict(value)
                for key, sub_value in value.items():
                    sub = attribute.sub_attribute(str(key))
                    if sub is not None:
                        out[key] = self.value(sub_value, sub, [*parts, sub.name], urn)
                return out
        return value


STRICT = Dialect("strict")
ENTRA = Dialect(
    "entra",
    string_booleans=True,
    bare_reference_strings=True,
    remove_value_as_filter=True,
    unmatched_filter_creates=True,
    drop_microsoft_urns=True,
)
OKTA = Dialect("okta", same_id_is_noop=True, read_only_sub_values_ignored=True)
DIALECTS: dict[str, Dialect] = {d.name: d for d in (STRICT, ENTRA, OKTA)}


def dialect(name: str) -> Dialect:
    """The dialect called ``name`` (case-insensitive).

    Raises:
        UsageError: no such dialect (the message lists them).
    """
    found = DIALECTS.get(name.strip().lower())
    if found is None:
        raise UsageError(f"unknown dialect {name!r}: one of {', '.join(DIALECTS)}")
    return found


__all__ = ["DIALECTS", "ENTRA", "OKTA", "STRICT", "Dialect", "dialect"]
