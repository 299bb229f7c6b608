// One resource type (RFC 7643 §6); its old schema links are removed and linked again.
MERGE (r:ScimResourceType {name: $name})
SET r.endpoint = $endpoint, r.description = $description, r.schema = $schema
WITH r
OPTIONAL MATCH (r)-[old:HAS_CORE_SCHEMA|HAS_EXTENSION]->(:ScimSchema)
DELETE old
