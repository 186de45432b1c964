// Claims settled after the patient's death (冒用已故人员身份).
// Kind: motif
//
// Compares epoch-day integers: a claim counts when settle_day > death_day + $grace_days. A
// patient who died in hospital is settled a few days after death_date: use $grace_days for that.
//
// Parameters:
//   $grace_days int = 0  days after death_date within which a settlement is not returned
// Order: patient_id, settle_time, claim_id
// Returns: one row per claim:
//   patient_id str
//   death_date str     ISO date
//   claim_id str
//   settle_time str    ISO datetime
//   days_after int     settle day minus death day
//   claim_type str     outpatient | inpatient | pharmacy
//   facility_id str
//   card_id str        the card presented
//   fund_amount float  基金支付 (null when absent)

MATCH (c:Claim)-[:FOR]->(p:Patient)
WHERE p.death_day IS NOT NULL AND c.settle_day > p.death_day + $grace_days
OPTIONAL MATCH (c)-[:AT]->(f)
OPTIONAL MATCH (k:Card)-[:PRESENTED]->(c)
RETURN p.patient_id AS patient_id, p.death_date AS death_date, c.claim_id AS claim_id,
       c.settle_time AS settle_time, c.settle_day - p.death_day AS days_after,
       c.claim_type AS claim_type,
       coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       k.card_id AS card_id, c.fund_amount AS fund_amount
ORDER BY patient_id, settle_time, claim_id
