// Load a batch of cards (医保凭证) and link each to its holder.
// Kind: load
// Server: falkordb (load_cards.cypher is the plain query, for Neo4j)
//
// FalkorDB's form of the step (graphkit.neo4j_backend._FalkorDialect): each row is ONE string of
// fields separated by $sep (U+001F); an empty field is a missing value. FalkorDB's Bolt layer
// turns parameters into query text, and a list of 10,000 such strings parses about 15 times
// faster than a list of maps (0.05 s against 0.8 s for claims).
// A card already in the graph is skipped (loading twice creates nothing new).
//
// Properties go in the CREATE map (a null one is not stored, as with SET): FalkorDB updates
// the node and its indexes once instead of once per SET item.
//
// Parameters:
//   $rows list[str]  one string per card, fields: 0 card_id, 1 patient_id (the holder),
//                    2 card_type
//   $sep str         the field separator
// Returns: nothing (a card whose holder is not loaded gets no HOLDS)

UNWIND $rows AS line
WITH split(line, $sep) AS r
OPTIONAL MATCH (x:Card {card_id: r[0]})
WITH r, x
WHERE x IS NULL
CREATE (k:Card {card_id: r[0],
                card_type: CASE r[2] WHEN '' THEN null ELSE r[2] END})
WITH k, r
MATCH (p:Patient {patient_id: r[1]})
CREATE (p)-[:HOLDS]->(k)
