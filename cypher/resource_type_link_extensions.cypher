// Links a resource type to its schema extensions, each with its "required" flag.
MATCH (r:ScimResourceType {name: $name})
UNWIND $extensions AS ext
MATCH (s:ScimSchema {id: ext.schema})
MERGE (r)-[link:HAS_EXTENSION]->(s)
SET link.required = ext.required
