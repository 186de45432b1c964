// Inpatient stays of one patient that overlap in time (同一人住院时间重叠).
// Kind: motif
//
// Two inpatient claims of the same patient (claims.patient_id) whose [admit_day, discharge_day]
// ranges overlap by at least $min_overlap_days days (overlap = min(discharge) - max(admit)). A
// transfer between hospitals that discharges and admits on the same day overlaps by 0 days.
// Claims without both dates are ignored.
//
// Parameters:
//   $min_overlap_days int = 1  minimum overlap in days
// Order: patient_id, claim_a, claim_b
// Returns: one row per pair of claims (claim_a < claim_b):
//   patient_id str
//   claim_a str
//   claim_b str
//   card_a str          card presented for claim_a
//   card_b str
//   facility_a str
//   facility_b str
//   admit_a str         ISO date
//   discharge_a str
//   admit_b str
//   discharge_b str
//   overlap_days int

MATCH (a:Claim)-[:FOR]->(p:Patient)<-[:FOR]-(b:Claim)
WHERE a.claim_type = 'inpatient' AND b.claim_type = 'inpatient' AND a.claim_id < b.claim_id
  AND a.admit_day IS NOT NULL AND a.discharge_day IS NOT NULL
  AND b.admit_day IS NOT NULL AND b.discharge_day IS NOT NULL
WITH p, a, b,
     CASE WHEN a.discharge_day < b.discharge_day THEN a.discharge_day ELSE b.discharge_day END
     - CASE WHEN a.admit_day > b.admit_day THEN a.admit_day ELSE b.admit_day END AS overlap
WHERE overlap >= $min_overlap_days
OPTIONAL MATCH (a)-[:AT]->(fa)
OPTIONAL MATCH (b)-[:AT]->(fb)
OPTIONAL MATCH (ka:Card)-[:PRESENTED]->(a)
OPTIONAL MATCH (kb:Card)-[:PRESENTED]->(b)
RETURN p.patient_id AS patient_id, a.claim_id AS claim_a, b.claim_id AS claim_b,
       ka.card_id AS card_a, kb.card_id AS card_b,
       coalesce(fa.institution_id, fa.pharmacy_id, fa.facility_id) AS facility_a,
       coalesce(fb.institution_id, fb.pharmacy_id, fb.facility_id) AS facility_b,
       a.admit_date AS admit_a, a.discharge_date AS discharge_a,
       b.admit_date AS admit_b, b.discharge_date AS discharge_b, overlap AS overlap_days
ORDER BY patient_id, claim_a, claim_b
