// Export claims (结算记录) with the keys of what they link to, for reading the graph back.
// Kind: export
//
// One row per (:Claim). The page is cut first (ORDER BY claim_id SKIP LIMIT on the claims
// alone), then each claim's links are read, so a page costs its own rows, not the whole graph.
// card_id is empty when the claim named no card (c.card_inferred, set by
// load_card_inferred.cypher) or the presented (:Card) has no holder (the load created it from
// the claim's patient_id): reading it back as empty lets the loader infer it again the same way. settle_time is 'YYYY-MM-DDTHH:MM:SS' (whole seconds), dates
// 'YYYY-MM-DD'; amounts are numbers. Every MATCH comes before the first OPTIONAL MATCH
// (FalkorDB 4.18 fails a MATCH that follows an OPTIONAL MATCH).
// See export_patients.cypher for how graphkit rings --backend neo4j uses the export queries.
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: claim_id
// Returns: one row per claim:
//   claim_id str
//   patient_id str
//   card_id str
//   facility_id str      institution_id, pharmacy_id or a facility found in neither table
//   doctor_id str
//   pharmacist_id str
//   claim_type str       outpatient | inpatient | pharmacy
//   settle_time str
//   admit_date str
//   discharge_date str
//   diagnosis_code str
//   total_amount float
//   fund_amount float
//   device_id str
//   operator_phone str

MATCH (c:Claim)
WITH c ORDER BY c.claim_id SKIP $skip LIMIT $limit
MATCH (c)-[:FOR]->(p:Patient)
MATCH (k:Card)-[:PRESENTED]->(c)
MATCH (c)-[:AT]->(f)
OPTIONAL MATCH (h:Patient)-[:HOLDS]->(k)
OPTIONAL MATCH (c)-[:PRESCRIBED_BY]->(d:Doctor)
OPTIONAL MATCH (c)-[:DISPENSED_BY]->(s:Pharmacist)
OPTIONAL MATCH (c)-[:VIA_DEVICE]->(v:Device)
OPTIONAL MATCH (c)-[:VIA_PHONE]->(ph:Phone)
RETURN c.claim_id AS claim_id, p.patient_id AS patient_id,
       CASE WHEN h IS NULL OR c.card_inferred THEN null ELSE k.card_id END AS card_id,
       coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       d.doctor_id AS doctor_id, s.pharmacist_id AS pharmacist_id,
       c.claim_type AS claim_type, c.settle_time AS settle_time,
       c.admit_date AS admit_date, c.discharge_date AS discharge_date,
       c.diagnosis_code AS diagnosis_code, c.total_amount AS total_amount,
       c.fund_amount AS fund_amount, v.device_id AS device_id, ph.phone AS operator_phone
ORDER BY claim_id
