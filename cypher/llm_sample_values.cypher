// Sample values for the ask prompt: the distinct values of the properties questions usually filter on,
// and of the ones that hold people's names (so a name is looked up where it lives, not as a userName).
OPTIONAL MATCH (u:User)
WITH collect(DISTINCT u.department) AS department, collect(DISTINCT u.title) AS title,
     collect(DISTINCT u.userType) AS userType, collect(DISTINCT u.organization) AS organization,
     collect(DISTINCT u.costCenter) AS costCenter, collect(DISTINCT u.displayName) AS displayName,
     collect(DISTINCT u.name_givenName) AS name_givenName, collect(DISTINCT u.name_familyName) AS name_familyName,
     collect(DISTINCT u.userName) AS userName
OPTIONAL MATCH (g:Group)
RETURN department, title, userType, organization, costCenter, displayName, name_givenName, name_familyName, userName,
       collect(DISTINCT g.displayName) AS groupDisplayName
