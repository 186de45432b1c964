// Load a batch of pharmacist registrations (执业药师, one row per registration).
// Kind: load
//
// Parameters:
//   $rows list[map]  one map per registration: {pharmacist_id, pharmacy_id, name}
// Returns: nothing (one Pharmacist node per pharmacist_id; REGISTERED_AT to each pharmacy
//          already loaded, so a pharmacist at several pharmacies (一证多挂) has several)

UNWIND $rows AS r
MERGE (s:Pharmacist {pharmacist_id: r.pharmacist_id})
SET s.name = coalesce(r.name, s.name)
WITH s, r
MATCH (f:Pharmacy {pharmacy_id: r.pharmacy_id})
MERGE (s)-[:REGISTERED_AT]->(f)
