"""SCIM schema and resource-type definitions (RFC 7643 §7 and §6), read from JSON files.

These are the typed form of the files in ``schemas/``. Every characteristic an attribute
definition omits gets its RFC 7643 §2.2 default (type string, required false, caseExact false,
mutability readWrite, returned default, uniqueness none). Attribute names are checked against the
RFC 7643 §2.1 ATTRNAME grammar, which is also what makes them safe as graph property keys.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import SchemaDefinitionError

SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"

# RFC 7643 §2.1: ATTRNAME = ALPHA *(nameChar); nameChar = "-" / "_" / DIGIT / ALPHA. "$ref" is the
# one reserved sub-attribute name outside that grammar (§2.3.7).
ATTRNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# Resource type names become graph labels: ALPHA *(ALPHA / DIGIT / "_").
RESOURCE_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class AttributeType(StrEnum):
    """RFC 7643 §2.3 data types."""

    STRING = "string"
    BOOLEAN = "boolean"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE_TIME = "dateTime"
    REFERENCE = "reference"
    BINARY = "binary"
    COMPLEX = "complex"


class Mutability(StrEnum):
    """RFC 7643 §7 ``mutability``."""

    READ_ONLY = "readOnly"
    READ_WRITE = "readWrite"
    IMMUTABLE = "immutable"
    WRITE_ONLY = "writeOnly"


class Returned(StrEnum):
    """RFC 7643 §7 ``returned``."""

    ALWAYS = "always"
    NEVER = "never"
    DEFAULT = "default"
    REQUEST = "request"


class Uniqueness(StrEnum):
    """RFC 7643 §7 ``uniqueness``."""

    NONE = "none"
    SERVER = "server"
    GLOBAL = "global"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class AttributeDefinition(_Model):
    """One attribute or sub-attribute definition (RFC 7643 §7), with RFC 7643 §2.2 defaults."""

    name: str
    type: AttributeType = AttributeType.STRING
    multi_valued: bool = Field(False, alias="multiValued")
    description: str = ""
    required: bool = False
    case_exact: bool = Field(False, alias="caseExact")
    canonical_values: tuple[str, ...] = Field((), alias="canonicalValues")
    mutability: Mutability = Mutability.READ_WRITE
    returned: Returned = Returned.DEFAULT
    uniqueness: Uniqueness = Uniqueness.NONE
    reference_types: tuple[str, ...] = Field((), alias="referenceTypes")
    sub_attributes: tuple[AttributeDefinition, ...] = Field((), alias="subAttributes")

    @field_validator("name")
    @classmethod
    def _attrname(cls, value: str) -> str:
        if value != "$ref" and not ATTRNAME.match(value):
            raise ValueError(f"attribute name {value!r} does not match RFC 7643 §2.1 ATTRNAME")
        return value

    def not_stored_reason(self) -> str | None:
        """Why the mapping does not store this attribute's values (rule 6), or None if it does.

        readOnly values are set by the service provider and SHALL be ignored in requests
        (RFC 7644 §3.3); writeOnly or never-returned values (``password``) are secrets that are
        never read back (RFC 7643 §7), so they are not kept either.
        """
        if self.mutability == Mutability.READ_ONLY:
            return "readOnly, ignored (RFC 7644 §3.3)"
        if self.mutability == Mutability.WRITE_ONLY or self.returned == Returned.NEVER:
            return f"{self.mutability.value}, returned {self.returned.value}: not stored (RFC 7643 §7)"
        return None

    def sub_attribute(self, name: str) -> AttributeDefinition | None:
        """The sub-attribute called ``name``, matched case-insensitively (RFC 7643 §2.1)."""
        lowered = name.lower()
        return next((sub for sub in self.sub_attributes if sub.name.lower() == lowered), None)

    def to_json(self) -> dict[str, Any]:
        """The RFC 7643 §7 JSON form, every characteristic spelled out."""
        data: dict[str, Any] = {
            "name": self.name,
            "type": self.type.value,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability.value,
            "returned": self.returned.value,
            "uniqueness": self.uniqueness.value,
        }
        if self.canonical_values:
            data["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            data["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            data["subAttributes"] = [sub.to_json() for sub in self.sub_attributes]
        return data


class SchemaDefinition(_Model):
    """A schema (RFC 7643 §7): its URN ``id``, name and attribute definitions."""

    id: str
    name: str = ""
    description: str = ""
    attributes: tuple[AttributeDefinition, ...] = ()

    def attribute(self, name: str) -> AttributeDefinition | None:
        """The top-level attribute called ``name``, matched case-insensitively (RFC 7643 §2.1)."""
        lowered = name.lower()
        return next((attr for attr in self.attributes if attr.name.lower() == lowered), None)

    @property
    def version(self) -> str:
        """A 16-hex-digit fingerprint of the definition (changes when any characteristic does)."""
        text = json.dumps(self.to_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        """The RFC 7643 §7 JSON form (``schemas``, ``id``, ``name``, ``description``, ``attributes``)."""
        return {
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [attr.to_json() for attr in self.attributes],
        }


class SchemaExtensionRef(_Model):
    """One entry of a resource type's ``schemaExtensions`` (RFC 7643 §6)."""

    schema_: str = Field(alias="schema")
    required: bool = False


class ResourceTypeDefinition(_Model):
    """A resource type (RFC 7643 §6): name, endpoint, core schema URN and schema extensions."""

    id: str | None = None
    name: str
    endpoint: str
    description: str = ""
    schema_: str = Field(alias="schema")
    schema_extensions: tuple[SchemaExtensionRef, ...] = Field((), alias="schemaExtensions")

    @field_validator("name")
    @classmethod
    def _label_safe(cls, value: str) -> str:
        if not RESOURCE_TYPE_NAME.match(value):
            raise ValueError(f"resource type name {value!r} must be letters, digits and _ (it becomes a label)")
        return value


class SchemaSet(_Model):
    """Every schema and resource type of a ``schemas/`` directory (or of the schema graph), keyed by URN and by name."""

    schemas: dict[str, SchemaDefinition]
    resource_types: dict[str, ResourceTypeDefinition]

    @property
    def version(self) -> str:
        """A 16-hex-digit fingerprint of the resource types and the schemas they name.

        The same content gives the same fingerprint whether it was read from files or from the
        schema graph; it keys everything compiled from the set.
        """
        parts = [
            [rt.name, rt.endpoint, rt.description, rt.schema_, [[e.schema_, e.required] for e in rt.schema_extensions]]
            for rt in sorted(self.resource_types.values(), key=lambda rt: rt.name)
        ]
        versions = sorted((urn, schema.version) for urn, schema in self.schemas.items())
        text = json.dumps([parts, versions])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_schema_dir(directory: Path) -> SchemaSet:
    """Reads every ``*.json`` file of ``directory``: schemas and resource types, told apart by ``schemas``.

    Raises:
        SchemaDefinitionError: a file is not JSON, not a schema or resource type, or invalid;
            a resource type names a schema that no file defines; two files define the same URN.
    """
    schemas: dict[str, SchemaDefinition] = {}
    resource_types: dict[str, ResourceTypeDefinition] = {}
    files = sorted(Path(directory).glob("*.json"))
    if not files:
        raise SchemaDefinitionError(f"no schema files (*.json) in {directory}")
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SchemaDefinitionError(f"{path.name}: not readable JSON: {error}") from error
        kinds = document.get("schemas", []) if isinstance(document, dict) else []
        try:
            if RESOURCE_TYPE_URN in kinds:
                resource_type = ResourceTypeDefinition.model_validate(document)
                resource_types[resource_type.name] = resource_type
            elif SCHEMA_URN in kinds:
                schema = SchemaDefinition.model_validate(document)
                if schema.id in schemas:
                    raise SchemaDefinitionError(f"{path.name}: schema {schema.id} is defined twice")
                schemas[schema.id] = schema
            else:
                raise SchemaDefinitionError(f"{path.name}: 'schemas' names neither {SCHEMA_URN} nor {RESOURCE_TYPE_URN}")
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise SchemaDefinitionError(f"{path.name}: {where}: {first['msg']}") from error
    for resource_type in resource_types.values():
        for urn in [resource_type.schema_, *(ext.schema_ for ext in resource_type.schema_extensions)]:
            if urn not in schemas:
                raise SchemaDefinitionError(f"resource type {resource_type.name} names schema {urn}, which no file defines")
    return SchemaSet(schemas=schemas, resource_types=resource_types)
