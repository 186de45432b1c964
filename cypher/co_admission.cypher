// Groups of patients admitted to the same facility on the same day (集体住院).
// Kind: motif
//
// Inpatient claims with an admit_date, grouped by (facility, admit day); groups with at least
// $min_patients distinct patients are kept, with each member's diagnosis and length of stay so a
// caller can compare them and look for the same group again on other days. Dialysis schedules,
// chemotherapy cycles and surgery campaigns are the look-alikes.
//
// Parameters:
//   $min_patients int = 3  minimum distinct patients admitted together
// Order: facility_id, admit_date, patient_id, claim_id
// Returns: one row per claim of a kept group:
//   facility_id str
//   admit_date str       ISO date
//   group_size int       distinct patients admitted that day
//   patient_id str
//   claim_id str
//   diagnosis_code str   ICD-10 (null when absent)
//   discharge_date str   ISO date (null when absent)
//   length_of_stay int   discharge day minus admit day (null without discharge_date)
//   fund_amount float

MATCH (c:Claim)-[:AT]->(f)
WHERE c.claim_type = 'inpatient' AND c.admit_day IS NOT NULL
MATCH (c)-[:FOR]->(p:Patient)
WITH f, c.admit_day AS day, collect(c) AS claims, count(DISTINCT p) AS group_size
WHERE group_size >= $min_patients
UNWIND claims AS c
MATCH (c)-[:FOR]->(p:Patient)
RETURN coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       c.admit_date AS admit_date, group_size, p.patient_id AS patient_id, c.claim_id AS claim_id,
       c.diagnosis_code AS diagnosis_code, c.discharge_date AS discharge_date,
       c.discharge_day - c.admit_day AS length_of_stay, c.fund_amount AS fund_amount
ORDER BY facility_id, admit_date, patient_id, claim_id
