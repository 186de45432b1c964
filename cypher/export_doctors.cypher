// Export doctors (医保医师) with their institution, for reading the graph back.
// Kind: export
//
// institution_id comes from WORKS_AT, which the load creates only to a loaded institution: a
// doctor's institution_id that named no institution (no institutions table) comes back empty.
// See export_patients.cypher for how graphkit rings --backend neo4j uses the export queries.
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: doctor_id
// Returns: one row per doctor:
//   doctor_id str
//   name str
//   institution_id str
//   department str

MATCH (d:Doctor)
WITH d ORDER BY d.doctor_id SKIP $skip LIMIT $limit
OPTIONAL MATCH (d)-[:WORKS_AT]->(i:Institution)
WITH d, min(i.institution_id) AS institution_id
RETURN d.doctor_id AS doctor_id, d.name AS name, institution_id,
       d.department AS department
ORDER BY doctor_id
