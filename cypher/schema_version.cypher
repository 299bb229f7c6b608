// The stored fingerprint of one schema, to skip loading an unchanged one.
MATCH (s:ScimSchema {id: $schemaId})
RETURN s.version AS version
