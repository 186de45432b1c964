// A ring's claims: who, which card (and its holder), where, prescribed by, which device.
// Kind: query
//
// The first query of a ring package's reproduce.cypher (graphkit.evidence.reproduce_cypher),
// which passes the ring's claim ids as $claim_ids.
//
// Parameters:
//   $claim_ids list[str] = []  claim_id values
// Order: claim_id
// Returns: one row per claim:
//   claim_id str
//   settle_time str      ISO datetime
//   fund_amount float    基金支付
//   patient_id str
//   card_id str          the card presented
//   holder_id str        patient_id of the card's holder
//   facility_id str
//   doctor_id str
//   device_id str

MATCH (c:Claim)
WHERE c.claim_id IN $claim_ids
OPTIONAL MATCH (c)-[:FOR]->(p:Patient)
OPTIONAL MATCH (k:Card)-[:PRESENTED]->(c)
OPTIONAL MATCH (h:Patient)-[:HOLDS]->(k)
OPTIONAL MATCH (c)-[:AT]->(f)
OPTIONAL MATCH (c)-[:PRESCRIBED_BY]->(d:Doctor)
OPTIONAL MATCH (c)-[:VIA_DEVICE]->(v:Device)
RETURN c.claim_id AS claim_id, c.settle_time AS settle_time, c.fund_amount AS fund_amount,
       p.patient_id AS patient_id, k.card_id AS card_id, h.patient_id AS holder_id,
       coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       d.doctor_id AS doctor_id, v.device_id AS device_id
ORDER BY claim_id
