// Load a batch of claim items (费用明细) with their trace codes (药品追溯码).
// Kind: load
// Server: falkordb (load_claim_items.cypher is the plain query, for Neo4j)
//
// FalkorDB's form of the step (graphkit.neo4j_backend._FalkorDialect): each row is ONE string of
// fields separated by $sep (U+001F); an empty field is a missing value. FalkorDB's Bolt layer
// turns parameters into query text, and a list of 10,000 such strings parses about 15 times
// faster than a list of maps (0.05 s against 0.8 s for claims).
// An item already in the graph is skipped (loading twice creates nothing new).
//
// Properties go in the CREATE map (a null one is not stored, as with SET): FalkorDB updates
// the node and its indexes once instead of once per SET item (about 40% faster).
// load_dataset runs each conditional FOREACH block unwrapped (rows with the field set) or
// drops it (rows without): see graphkit.neo4j_backend._shape_groups.
//
// Parameters:
//   $rows list[str]  one string per item, fields: 0 item_id, 1 claim_id, 2 trace_code,
//                    3 item_code, 4 item_name, 5-6 quantity, 7-8 unit_price, 9-10 amount (a
//                    number is two integers m, k with value m * 2^k, exact; FalkorDB's
//                    toFloat() would round to single precision; see neo4j_backend._t_num)
//   $sep str         the field separator
// Returns: nothing (items of a claim not loaded are skipped)

UNWIND $rows AS line
WITH split(line, $sep) AS r
OPTIONAL MATCH (x:Item {item_id: r[0]})
WITH r, x
WHERE x IS NULL
MATCH (c:Claim {claim_id: r[1]})
CREATE (i:Item {item_id: r[0],
                item_code: CASE r[3] WHEN '' THEN null ELSE r[3] END,
                item_name: CASE r[4] WHEN '' THEN null ELSE r[4] END,
                quantity: toInteger(r[5]) * 2.0 ^ toInteger(r[6]),
                unit_price: toInteger(r[7]) * 2.0 ^ toInteger(r[8]),
                amount: toInteger(r[9]) * 2.0 ^ toInteger(r[10])})
CREATE (c)-[:HAS_ITEM]->(i)
FOREACH (_ IN CASE WHEN r[2] = '' THEN [] ELSE [1] END |
  MERGE (t:TraceCode {trace_code: r[2]})
  CREATE (i)-[:TRACE]->(t))
