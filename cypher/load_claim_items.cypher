// Load a batch of claim items (费用明细) with their trace codes (药品追溯码).
// Kind: load
//
// Each row is ONE string of fields separated by $sep (U+001F); an empty field is a missing
// value. FalkorDB's Bolt layer turns parameters into query text, and a list of 10,000 such
// strings parses about 15 times faster than a list of lists (0.05 s against 0.8 s for claims).
// An item already in the graph is skipped (loading twice creates nothing new).
//
// Properties go in the CREATE map (a null one is not stored, as with SET): FalkorDB updates
// the node and its indexes once instead of once per SET item (about 40% faster).
// load_dataset runs each conditional FOREACH block unwrapped (rows with the field set) or
// drops it (rows without): see graphkit.neo4j_backend._specialise.
//
// Parameters:
//   $rows list[list] one list per item: [fields, quantity, unit_price, amount] with fields
//                    0 item_id, 1 claim_id, 2 trace_code, 3 item_code, 4 item_name (numbers
//                    travel as numbers: FalkorDB's toFloat() rounds to single precision)
//   $sep str         the field separator
// Returns: nothing (items of a claim not loaded are skipped)

UNWIND $rows AS row
WITH split(row[0], $sep) AS r, row
OPTIONAL MATCH (x:Item {item_id: r[0]})
WITH r, row, x
WHERE x IS NULL
MATCH (c:Claim {claim_id: r[1]})
CREATE (i:Item {item_id: r[0],
                item_code: CASE r[3] WHEN '' THEN null ELSE r[3] END,
                item_name: CASE r[4] WHEN '' THEN null ELSE r[4] END,
                quantity: row[1],
                unit_price: row[2],
                amount: row[3]})
CREATE (c)-[:HAS_ITEM]->(i)
FOREACH (_ IN CASE WHEN r[2] = '' THEN [] ELSE [1] END |
  MERGE (t:TraceCode {trace_code: r[2]})
  CREATE (i)-[:TRACE]->(t))
