// Links a resource type to its core schema.
MATCH (r:ScimResourceType {name: $name})
MATCH (s:ScimSchema {id: $schema})
MERGE (r)-[:HAS_CORE_SCHEMA]->(s)
