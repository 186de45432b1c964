// Load a batch of cards (医保凭证) and link each to its holder.
// Kind: load
//
// Parameters:
//   $rows list[map]  one map per card: {card_id, patient_id, card_type}
// Returns: nothing (MERGE on keys; a card whose holder is not loaded gets no HOLDS)

UNWIND $rows AS r
MERGE (k:Card {card_id: r.card_id})
SET k.card_type = r.card_type
WITH k, r
MATCH (p:Patient {patient_id: r.patient_id})
MERGE (p)-[:HOLDS]->(k)
