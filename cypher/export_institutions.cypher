// Export institutions (定点医疗机构) for reading the graph back: one row per (:Institution).
// Kind: export
//
// See export_patients.cypher for how graphkit rings --backend neo4j uses the export queries.
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: institution_id
// Returns: one row per institution:
//   institution_id str
//   name str
//   level str
//   ownership str
//   kind str
//   region str

MATCH (i:Institution)
RETURN i.institution_id AS institution_id, i.name AS name, i.level AS level,
       i.ownership AS ownership, i.kind AS kind, i.region AS region
ORDER BY institution_id
SKIP $skip LIMIT $limit
