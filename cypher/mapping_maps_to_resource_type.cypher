// Links each SourceField mapped to a common attribute (externalId, RFC 7643 §3.1) to its ScimResourceType.
UNWIND $entries AS entry
MATCH (:SourceShape {fingerprint: $fingerprint, resourceType: $resourceType})-[:HAS_FIELD]->(f:SourceField {path: entry.source})
MATCH (t:ScimResourceType {name: $resourceType})
CREATE (f)-[:MAPS_TO {target: entry.target, transform: entry.transform, args: entry.args, sources: entry.sources, position: entry.position}]->(t)
