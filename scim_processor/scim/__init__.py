"""RFC 7643 definitions: schemas, attributes and their characteristics, resource types, grounding contexts."""

from .context import GroundingContext
from .schema import (
    AttributeDefinition,
    AttributeType,
    Mutability,
    ResourceTypeDefinition,
    Returned,
    SchemaDefinition,
    SchemaSet,
    Uniqueness,
    read_schema_dir,
)

__all__ = [
    "AttributeDefinition", "AttributeType", "GroundingContext", "Mutability", "ResourceTypeDefinition",
    "Returned", "SchemaDefinition", "SchemaSet", "Uniqueness", "read_schema_dir",
]  # fmt: skip
