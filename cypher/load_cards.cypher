// Load a batch of cards (医保凭证) and link each to its holder.
// Kind: load
//
// The plain form of the step, sent to Neo4j; FalkorDB runs load_cards_falkordb.cypher. A card
// already in the graph is skipped (loading twice creates nothing new).
//
// Parameters:
//   $rows list[map]  one map per card: {card_id, patient_id (the holder), props: {card_type}}
// Returns: nothing (a card whose holder is not loaded gets no HOLDS)

UNWIND $rows AS r
OPTIONAL MATCH (x:Card {card_id: r.card_id})
WITH r, x
WHERE x IS NULL
CREATE (k:Card {card_id: r.card_id})
SET k += r.props
WITH k, r
MATCH (p:Patient {patient_id: r.patient_id})
CREATE (p)-[:HOLDS]->(k)
