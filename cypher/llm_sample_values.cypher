// Sample values for the ask prompt: the distinct values of the properties questions usually filter on.
OPTIONAL MATCH (u:User)
WITH collect(DISTINCT u.department) AS department, collect(DISTINCT u.title) AS title,
     collect(DISTINCT u.userType) AS userType, collect(DISTINCT u.organization) AS organization,
     collect(DISTINCT u.costCenter) AS costCenter
OPTIONAL MATCH (g:Group)
RETURN department, title, userType, organization, costCenter, collect(DISTINCT g.displayName) AS groupDisplayName
