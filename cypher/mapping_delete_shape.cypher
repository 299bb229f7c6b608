// Deletes one SourceShape node (its fields are deleted first by mapping_delete_fields).
MATCH (s:SourceShape {fingerprint: $fingerprint, resourceType: $resourceType})
DETACH DELETE s
RETURN count(s) AS deleted
