// The top-level attributes of one schema, with every characteristic (RFC 7643 §7).
MATCH (s:ScimSchema {id: $schemaId})
UNWIND $attributes AS attr
CREATE (s)-[:HAS_ATTRIBUTE]->(a:ScimAttribute)
SET a.id = attr.id, a.schema = attr.schema, a.name = attr.name, a.path = attr.path, a.position = attr.position,
    a.type = attr.type, a.multiValued = attr.multiValued, a.description = attr.description,
    a.required = attr.required, a.caseExact = attr.caseExact, a.canonicalValues = attr.canonicalValues,
    a.mutability = attr.mutability, a.returned = attr.returned, a.uniqueness = attr.uniqueness,
    a.referenceTypes = attr.referenceTypes
