// Load a batch of claim items (费用明细) with their trace codes (药品追溯码).
// Kind: load
//
// The plain form of the step, sent to Neo4j; FalkorDB runs load_claim_items_falkordb.cypher. An
// item already in the graph is skipped (loading twice creates nothing new).
//
// Parameters:
//   $rows list[map]  one map per item: {item_id, claim_id, trace_code, props: {item_code,
//                    item_name, quantity, unit_price, amount}}
// Returns: nothing (items of a claim not loaded are skipped)

UNWIND $rows AS r
OPTIONAL MATCH (x:Item {item_id: r.item_id})
WITH r, x
WHERE x IS NULL
MATCH (c:Claim {claim_id: r.claim_id})
CREATE (i:Item {item_id: r.item_id})
SET i += r.props
CREATE (c)-[:HAS_ITEM]->(i)
FOREACH (_ IN CASE WHEN r.trace_code IS NULL THEN [] ELSE [1] END |
  MERGE (t:TraceCode {trace_code: r.trace_code})
  CREATE (i)-[:TRACE]->(t))
