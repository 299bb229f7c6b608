// Removes a schema's sub-attribute nodes before the schema is loaded again.
MATCH (:ScimSchema {id: $schemaId})-[:HAS_ATTRIBUTE]->(:ScimAttribute)-[:HAS_SUB_ATTRIBUTE]->(sub:ScimAttribute)
DETACH DELETE sub
