// Load a batch of claims (结算记录) with their links to patient, card, facility, doctor,
// pharmacist, device and operator phone.
// Kind: load
//
// The plain form of the step, sent to Neo4j; FalkorDB runs load_claims_falkordb.cypher. A claim
// already in the graph is skipped whole: its relationships were created by the same query, so
// loading a batch twice creates nothing new. Exactly one of institution_id, pharmacy_id and
// facility_id (a facility in neither table) is set, by facility_type.
//
// Parameters:
//   $rows list[map]  one map per claim: {claim_id, patient_id, card_id, institution_id,
//                    pharmacy_id, facility_id, doctor_id, pharmacist_id, device_id,
//                    operator_phone, props: {claim_type, facility_type, settle_time,
//                    settle_date, settle_day, settle_ts, admit_date, admit_day, discharge_date,
//                    discharge_day, diagnosis_code, total_amount, fund_amount}}
// Returns: nothing (a referenced patient, card, doctor, pharmacist, device or phone that is not
//          loaded yet is created with its key only)

UNWIND $rows AS r
OPTIONAL MATCH (x:Claim {claim_id: r.claim_id})
WITH r, x
WHERE x IS NULL
CREATE (c:Claim {claim_id: r.claim_id})
SET c += r.props
MERGE (p:Patient {patient_id: r.patient_id})
CREATE (c)-[:FOR]->(p)
MERGE (k:Card {card_id: r.card_id})
CREATE (k)-[:PRESENTED]->(c)
FOREACH (_ IN CASE WHEN r.institution_id IS NULL THEN [] ELSE [1] END |
  MERGE (i:Institution {institution_id: r.institution_id})
  CREATE (c)-[:AT]->(i))
FOREACH (_ IN CASE WHEN r.pharmacy_id IS NULL THEN [] ELSE [1] END |
  MERGE (f:Pharmacy {pharmacy_id: r.pharmacy_id})
  CREATE (c)-[:AT]->(f))
FOREACH (_ IN CASE WHEN r.facility_id IS NULL THEN [] ELSE [1] END |
  MERGE (u:Facility {facility_id: r.facility_id})
  CREATE (c)-[:AT]->(u))
FOREACH (_ IN CASE WHEN r.doctor_id IS NULL THEN [] ELSE [1] END |
  MERGE (d:Doctor {doctor_id: r.doctor_id})
  CREATE (c)-[:PRESCRIBED_BY]->(d))
FOREACH (_ IN CASE WHEN r.pharmacist_id IS NULL THEN [] ELSE [1] END |
  MERGE (s:Pharmacist {pharmacist_id: r.pharmacist_id})
  CREATE (c)-[:DISPENSED_BY]->(s))
FOREACH (_ IN CASE WHEN r.device_id IS NULL THEN [] ELSE [1] END |
  MERGE (v:Device {device_id: r.device_id})
  CREATE (c)-[:VIA_DEVICE]->(v))
FOREACH (_ IN CASE WHEN r.operator_phone IS NULL THEN [] ELSE [1] END |
  MERGE (ph:Phone {phone: r.operator_phone})
  CREATE (c)-[:VIA_PHONE]->(ph))
