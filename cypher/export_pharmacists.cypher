// Export pharmacist registrations (执业药师), for reading the graph back: one row per
// REGISTERED_AT, and one row with no pharmacy for a pharmacist registered nowhere.
// Kind: export
//
// A pharmacist's name is stored once per pharmacist_id (the last one loaded); REGISTERED_AT is
// created only to a loaded pharmacy.
// See export_patients.cypher for how graphkit rings --backend neo4j uses the export queries.
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: pharmacist_id, pharmacy_id
// Returns: one row per registration:
//   pharmacist_id str
//   name str
//   pharmacy_id str

MATCH (s:Pharmacist)
OPTIONAL MATCH (s)-[:REGISTERED_AT]->(f:Pharmacy)
WITH s.pharmacist_id AS pharmacist_id, s.name AS name, f.pharmacy_id AS pharmacy_id
RETURN pharmacist_id, name, pharmacy_id
ORDER BY pharmacist_id, pharmacy_id
SKIP $skip LIMIT $limit
