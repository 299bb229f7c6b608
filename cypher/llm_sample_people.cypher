// Sample people for the ask prompt: where a person's names live (displayName, the name parts) beside
// the login (userName), one row per user, so a name in a question is not looked up as a userName.
MATCH (u:User)
RETURN u.displayName AS displayName, u.name_givenName AS name_givenName, u.name_familyName AS name_familyName,
       u.userName AS userName
ORDER BY userName
LIMIT $limit
