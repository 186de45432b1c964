// Export pharmacies (定点零售药店) for reading the graph back: one row per (:Pharmacy).
// Kind: export
//
// See export_patients.cypher for how graphkit rings --backend neo4j uses the export queries.
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: pharmacy_id
// Returns: one row per pharmacy:
//   pharmacy_id str
//   name str
//   region str

MATCH (f:Pharmacy)
RETURN f.pharmacy_id AS pharmacy_id, f.name AS name, f.region AS region
ORDER BY pharmacy_id
SKIP $skip LIMIT $limit
