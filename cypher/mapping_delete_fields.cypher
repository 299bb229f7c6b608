// Deletes the SourceField nodes (and their MAPS_TO relationships) of one stored source-shape mapping.
MATCH (:SourceShape {fingerprint: $fingerprint, resourceType: $resourceType})-[:HAS_FIELD]->(f:SourceField)
DETACH DELETE f
