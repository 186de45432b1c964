// Mark the claims whose card the loader inferred (the claim named no card_id).
// Kind: load
//
// Run by Neo4jStore.load_dataset after the claims, outside the resumable batches (setting a flag
// twice changes nothing). export_claims.cypher returns no card_id for these claims, so that
// reading the graph back infers the card again the way graphkit.load did (card_inferred).
//
// Parameters:
//   $rows list[str]  claim_id of each claim whose card was inferred
// Returns: nothing

UNWIND $rows AS id
MATCH (c:Claim {claim_id: id})
SET c.card_inferred = true
