// Load a batch of doctors (医保医师) and link each to its institution.
// Kind: load
//
// Parameters:
//   $rows list[map]  one map per doctor: {doctor_id, institution_id, props: {name, department}}
// Returns: nothing (MERGE on doctor_id; WORKS_AT only to an institution already loaded)

UNWIND $rows AS r
MERGE (d:Doctor {doctor_id: r.doctor_id})
SET d += r.props
WITH d, r
MATCH (i:Institution {institution_id: r.institution_id})
MERGE (d)-[:WORKS_AT]->(i)
