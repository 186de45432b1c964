// The subgraph around given patients, cards and claims, as a flat edge list (for ring pages and
// for community detection in Python over a subgraph fetched from the server).
// Kind: query
//
// Seed claims = claims listed in $claim_ids, claims FOR a patient in $patient_ids, and claims
// PRESENTED with a card in $card_ids. Returned: every relationship touching a seed claim, the
// TRACE of its items, and HOLDS / HAS_PHONE / LIVES_AT of the seed patients, of the cards' holders
// and of the seed claims' patients.
//
// Parameters:
//   $patient_ids list[str] = []  patient_id values
//   $card_ids list[str] = []     card_id values
//   $claim_ids list[str] = []    claim_id values
// Order: src_label, src_id, rel, dst_label, dst_id
// Returns: one row per relationship (distinct):
//   src_label str   node label: Patient, Card, Claim, Item, Institution, Pharmacy, Facility,
//                   Doctor, Pharmacist, TraceCode, Phone, Address or Device
//   src_id str      the node's key (patient_id, card_id, claim_id, item_id, ...)
//   rel str         relationship type
//   dst_label str
//   dst_id str

CALL {
  MATCH (c:Claim) WHERE c.claim_id IN $claim_ids RETURN c
  UNION
  MATCH (c:Claim)-[:FOR]->(p:Patient) WHERE p.patient_id IN $patient_ids RETURN c
  UNION
  MATCH (k:Card)-[:PRESENTED]->(c:Claim) WHERE k.card_id IN $card_ids RETURN c
}
WITH DISTINCT c
MATCH (c)-[r]-(n)
WITH startNode(r) AS a, type(r) AS rel, endNode(r) AS b
RETURN labels(a)[0] AS src_label,
       coalesce(a.patient_id, a.card_id, a.claim_id, a.item_id, a.institution_id, a.pharmacy_id,
                a.facility_id, a.doctor_id, a.pharmacist_id, a.trace_code, a.device_id, a.phone,
                a.address) AS src_id,
       rel,
       labels(b)[0] AS dst_label,
       coalesce(b.patient_id, b.card_id, b.claim_id, b.item_id, b.institution_id, b.pharmacy_id,
                b.facility_id, b.doctor_id, b.pharmacist_id, b.trace_code, b.device_id, b.phone,
                b.address) AS dst_id
UNION
CALL {
  MATCH (c:Claim) WHERE c.claim_id IN $claim_ids RETURN c
  UNION
  MATCH (c:Claim)-[:FOR]->(p:Patient) WHERE p.patient_id IN $patient_ids RETURN c
  UNION
  MATCH (k:Card)-[:PRESENTED]->(c:Claim) WHERE k.card_id IN $card_ids RETURN c
}
WITH DISTINCT c
MATCH (c)-[:HAS_ITEM]->(i:Item)-[r:TRACE]->(t:TraceCode)
RETURN 'Item' AS src_label, i.item_id AS src_id, type(r) AS rel, 'TraceCode' AS dst_label,
       t.trace_code AS dst_id
UNION
CALL {
  MATCH (p:Patient) WHERE p.patient_id IN $patient_ids RETURN p
  UNION
  MATCH (p:Patient)-[:HOLDS]->(k:Card) WHERE k.card_id IN $card_ids RETURN p
  UNION
  MATCH (c:Claim)-[:FOR]->(p:Patient) WHERE c.claim_id IN $claim_ids RETURN p
  UNION
  MATCH (k:Card)-[:PRESENTED]->(:Claim)-[:FOR]->(p:Patient) WHERE k.card_id IN $card_ids RETURN p
}
WITH DISTINCT p
MATCH (p)-[r:HOLDS|HAS_PHONE|LIVES_AT]->(n)
RETURN 'Patient' AS src_label, p.patient_id AS src_id, type(r) AS rel, labels(n)[0] AS dst_label,
       coalesce(n.card_id, n.phone, n.address) AS dst_id
