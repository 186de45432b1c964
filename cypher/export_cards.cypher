// Export cards (医保凭证) with their holder, for reading the graph back: one row per held card.
// Kind: export
//
// Only cards linked to a holder by HOLDS come back: a (:Card) that only a claim created (the
// claim named no card and its patient had none) was not a row of the cards table.
// See export_patients.cypher for how graphkit rings --backend neo4j uses the export queries.
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: card_id
// Returns: one row per card:
//   card_id str
//   patient_id str   the holder
//   card_type str    01 | 02 | 03

MATCH (p:Patient)-[:HOLDS]->(k:Card)
RETURN k.card_id AS card_id, p.patient_id AS patient_id, k.card_type AS card_type
ORDER BY card_id
SKIP $skip LIMIT $limit
