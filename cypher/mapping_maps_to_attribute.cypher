// Links each mapped SourceField to the ScimAttribute it fills ($entries: [{source, attribute, target, transform, args, sources, position}]).
UNWIND $entries AS entry
MATCH (:SourceShape {fingerprint: $fingerprint, resourceType: $resourceType})-[:HAS_FIELD]->(f:SourceField {path: entry.source})
MATCH (a:ScimAttribute {id: entry.attribute})
CREATE (f)-[:MAPS_TO {target: entry.target, transform: entry.transform, args: entry.args, sources: entry.sources, position: entry.position}]->(a)
