"""The SCIM → graph mapping: the one rule, the pure Cypher builders, and the compiled schema that holds them."""

from .compiled import CompiledSchema, Constraint
from .rule import ChildMapping, PropertyMapping, ReferenceMapping, ResourceMapping

__all__ = [
    "ChildMapping", "CompiledSchema", "Constraint", "PropertyMapping", "ReferenceMapping", "ResourceMapping",
]  # fmt: skip
