// Every resource type with its core schema and schema extensions, and their versions.
MATCH (r:ScimResourceType)-[:HAS_CORE_SCHEMA]->(core:ScimSchema)
OPTIONAL MATCH (r)-[link:HAS_EXTENSION]->(ext:ScimSchema)
WITH r, core, link, ext
ORDER BY link.position
RETURN r.name AS name, r.endpoint AS endpoint, r.description AS description,
       core.id AS schema, core.version AS version,
       collect(CASE WHEN ext IS NULL THEN null ELSE {schema: ext.id, required: link.required, version: ext.version} END) AS extensions
ORDER BY name
