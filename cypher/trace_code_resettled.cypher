// Trace codes settled more than once, with the chain behind each settlement (回流药).
// Kind: motif
//
// One 药品追溯码 is one physical pack, so a code on several claims means the pack came back.
// A refund and re-settlement (退费重结) or a split pack (拆零) settles a code twice at the same
// facility: `facilities` tells those apart (1 = one facility only).
//
// Parameters:
//   $min_settlements int = 2  keep trace codes found on at least this many distinct claims
// Order: trace_code, settle_time, claim_id
// Returns: one row per (trace code, claim):
//   trace_code str       the 追溯码
//   settlements int      distinct claims carrying the code
//   facilities int       distinct facilities among those claims
//   claim_id str
//   settle_time str      ISO datetime
//   facility_id str      institution_id / pharmacy_id of the claim
//   facility_type str    institution | pharmacy | unknown
//   patient_id str       the claim's patient
//   card_id str          the card presented
//   doctor_id str        prescriber (null when absent)
//   pharmacist_id str    dispensing pharmacist (null when absent)

MATCH (t:TraceCode)<-[:TRACE]-(:Item)<-[:HAS_ITEM]-(c:Claim)-[:AT]->(f)
WITH t, collect(DISTINCT c) AS claims,
     count(DISTINCT coalesce(f.institution_id, f.pharmacy_id, f.facility_id)) AS facilities
WHERE size(claims) >= $min_settlements
UNWIND claims AS c
MATCH (c)-[:AT]->(f)
MATCH (c)-[:FOR]->(p:Patient)
OPTIONAL MATCH (k:Card)-[:PRESENTED]->(c)
OPTIONAL MATCH (c)-[:PRESCRIBED_BY]->(d:Doctor)
OPTIONAL MATCH (c)-[:DISPENSED_BY]->(s:Pharmacist)
RETURN t.trace_code AS trace_code, size(claims) AS settlements, facilities,
       c.claim_id AS claim_id, c.settle_time AS settle_time,
       coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       c.facility_type AS facility_type, p.patient_id AS patient_id, k.card_id AS card_id,
       d.doctor_id AS doctor_id, s.pharmacist_id AS pharmacist_id
ORDER BY trace_code, settle_time, claim_id
