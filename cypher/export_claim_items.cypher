// Export claim items (费用明细) with their claim and trace code, for reading the graph back.
// Kind: export
//
// One row per (:Item); the page is cut on the items first, then each item's claim and trace
// code are read. Numbers come back as numbers.
// See export_patients.cypher for how graphkit rings --backend neo4j uses the export queries.
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: item_id
// Returns: one row per item:
//   item_id str
//   claim_id str
//   item_code str
//   item_name str
//   quantity float
//   unit_price float
//   amount float
//   trace_code str       药品追溯码

MATCH (i:Item)
WITH i ORDER BY i.item_id SKIP $skip LIMIT $limit
MATCH (c:Claim)-[:HAS_ITEM]->(i)
OPTIONAL MATCH (i)-[:TRACE]->(t:TraceCode)
RETURN i.item_id AS item_id, c.claim_id AS claim_id, i.item_code AS item_code,
       i.item_name AS item_name, i.quantity AS quantity, i.unit_price AS unit_price,
       i.amount AS amount, t.trace_code AS trace_code
ORDER BY item_id
