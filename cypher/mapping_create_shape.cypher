// Creates one SourceShape with its SourceField nodes ($fields: [{path, position}]).
CREATE (s:SourceShape {fingerprint: $fingerprint, format: $format, resourceType: $resourceType, reviewed: $reviewed, updated: $updated})
WITH s
UNWIND $fields AS field
CREATE (s)-[:HAS_FIELD]->(:SourceField {path: field.path, position: field.position})
