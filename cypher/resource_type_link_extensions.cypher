// Links a resource type to its schema extensions, each with its "required" flag and its position in schemaExtensions.
MATCH (r:ScimResourceType {name: $name})
UNWIND $extensions AS ext
MATCH (s:ScimSchema {id: ext.schema})
MERGE (r)-[link:HAS_EXTENSION]->(s)
SET link.required = ext.required, link.position = ext.position
