// The LLM step's retrieval: attributes (and sub-attributes) of the given schemas that match a record.
// $terms come from the record's field names (words, the whole name, a phrase, vocabulary synonyms);
// $values from its short values (matched against canonical values only). Scores: 4 name equal,
// 3 name prefix (4+ letters), 2 canonical value or phrase in the description, 1 word in the description.
UNWIND $terms AS term
MATCH (a:ScimAttribute)
WHERE a.schema IN $schemaIds
WITH a, term,
     CASE
       WHEN toLower(a.name) = term THEN 4
       WHEN size(term) >= 4 AND (toLower(a.name) STARTS WITH term OR (size(a.name) >= 4 AND term STARTS WITH toLower(a.name))) THEN 3
       WHEN term CONTAINS ' ' AND toLower(coalesce(a.description, '')) CONTAINS term THEN 2
       WHEN size(term) >= 5 AND toLower(coalesce(a.description, '')) CONTAINS term THEN 1
       ELSE 0
     END AS score
WHERE score > 0
RETURN a.schema AS schema, a.path AS path, max(score) AS score
UNION ALL
UNWIND $values AS value
MATCH (a:ScimAttribute)
WHERE a.schema IN $schemaIds AND a.canonicalValues IS NOT NULL
  AND any(canonical IN a.canonicalValues WHERE toLower(canonical) = value)
RETURN a.schema AS schema, a.path AS path, 2 AS score
