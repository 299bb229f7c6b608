// The grounding context of one resource type: each schema with its attributes and sub-attributes.
UNWIND $schemaIds AS schemaId
MATCH (s:ScimSchema {id: schemaId})
OPTIONAL MATCH (s)-[:HAS_ATTRIBUTE]->(a:ScimAttribute)
OPTIONAL MATCH (a)-[:HAS_SUB_ATTRIBUTE]->(sub:ScimAttribute)
WITH s, a, sub
ORDER BY s.id, a.position, sub.position
WITH s, a, collect(sub {.*}) AS subAttributes
ORDER BY a.position
WITH s, collect(CASE WHEN a IS NULL THEN null ELSE a {.*, subAttributes: subAttributes} END) AS attributes
RETURN s.id AS id, s.name AS name, s.description AS description, s.version AS version, attributes
