// Every stored source-shape mapping, one row per field and MAPS_TO relationship (null for an unmapped field).
MATCH (s:SourceShape)-[:HAS_FIELD]->(f:SourceField)
OPTIONAL MATCH (f)-[m:MAPS_TO]->()
RETURN s.fingerprint AS fingerprint, s.format AS format, s.resourceType AS resourceType, s.reviewed AS reviewed,
       s.updated AS updated, f.path AS path, f.position AS fieldPosition, m.target AS target, m.transform AS transform,
       m.args AS args, m.sources AS sources, m.position AS position
