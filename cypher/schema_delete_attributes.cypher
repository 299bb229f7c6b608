// Removes a schema's attribute nodes before the schema is loaded again.
MATCH (:ScimSchema {id: $schemaId})-[:HAS_ATTRIBUTE]->(a:ScimAttribute)
DETACH DELETE a
