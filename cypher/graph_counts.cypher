// Node counts by label and relationship counts by type.
// Kind: query
//
// Parameters: none
// Order: kind, name
// Returns: one row per label and per relationship type:
//   kind str    node | relationship
//   name str    the label or relationship type
//   total int

MATCH (n)
RETURN 'node' AS kind, labels(n)[0] AS name, count(*) AS total
UNION ALL
MATCH ()-[r]->()
RETURN 'relationship' AS kind, type(r) AS name, count(*) AS total
