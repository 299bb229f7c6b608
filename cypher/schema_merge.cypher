// One schema node (RFC 7643 §7), keyed by its URN.
MERGE (s:ScimSchema {id: $schemaId})
SET s.name = $name, s.description = $description, s.version = $version
