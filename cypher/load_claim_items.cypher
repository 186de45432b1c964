// Load a batch of claim items (费用明细) with their trace codes (药品追溯码).
// Kind: load
//
// Parameters:
//   $rows list[map]  one map per item: {item_id, claim_id, trace_code, props: {item_code,
//                    item_name, quantity, unit_price, amount}}; trace_code null when absent
// Returns: nothing (MERGE on item_id and trace_code; items of a claim not loaded are skipped)

UNWIND $rows AS r
MATCH (c:Claim {claim_id: r.claim_id})
MERGE (i:Item {item_id: r.item_id})
SET i += r.props
MERGE (c)-[:HAS_ITEM]->(i)
FOREACH (_ IN CASE WHEN r.trace_code IS NULL THEN [] ELSE [1] END |
  MERGE (t:TraceCode {trace_code: r.trace_code})
  MERGE (i)-[:TRACE]->(t))
