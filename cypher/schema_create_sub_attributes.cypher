// The sub-attributes of complex attributes, linked to their parent attribute.
UNWIND $attributes AS attr
MATCH (parent:ScimAttribute {id: attr.parent})
CREATE (parent)-[:HAS_SUB_ATTRIBUTE]->(a:ScimAttribute)
SET a.id = attr.id, a.schema = attr.schema, a.name = attr.name, a.path = attr.path, a.position = attr.position,
    a.type = attr.type, a.multiValued = attr.multiValued, a.description = attr.description,
    a.required = attr.required, a.caseExact = attr.caseExact, a.canonicalValues = attr.canonicalValues,
    a.mutability = attr.mutability, a.returned = attr.returned, a.uniqueness = attr.uniqueness,
    a.referenceTypes = attr.referenceTypes
