// The subgraph around a ring's claims, as nodes and relationships (Neo4j Browser draws it).
// Kind: query
//
// The second query of a ring package's reproduce.cypher. ring_subgraph.cypher returns the same
// neighbourhood as a flat edge list.
//
// Parameters:
//   $claim_ids list[str] = []  claim_id values
// Returns: one row per relationship of a claim: c (the claim), r (the relationship), n (the node
//          at its other end)

MATCH (c:Claim)-[r]-(n)
WHERE c.claim_id IN $claim_ids
RETURN c, r, n
