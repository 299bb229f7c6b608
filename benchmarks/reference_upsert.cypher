// The hand-written reference for goal 1 of issue 10: the fastest plain UNWIND that builds the same
// graph shape as the generated User upsert for the benchmark's users (a User node keyed by id with
// its properties, one Email and one PhoneNumber child node each). No unchanged check, no delete of
// old children: the floor a generated query is measured against.
UNWIND $rows AS row
MERGE (n:User {id: row.id})
SET n += row.props
FOREACH (item IN row.emails | CREATE (n)-[:HAS_EMAIL]->(c:Email) SET c += item)
FOREACH (item IN row.phoneNumbers | CREATE (n)-[:HAS_PHONE_NUMBER]->(c:PhoneNumber) SET c += item)
