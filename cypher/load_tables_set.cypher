// Record which tables a loaded input had, on its (:GraphkitLoad) checkpoint node.
// Kind: internal
//
// Read back by graphkit_loads.cypher: a table the input lacked (say doctors) must stay absent
// when the graph is read back, although claims created (:Doctor) nodes for their doctor_ids.
//
// Parameters:
//   $load_key str   '<dataset fingerprint>:<batch size>'
//   $tables str     table names, comma-separated
// Returns: nothing

MATCH (g:GraphkitLoad {load_key: $load_key})
SET g.tables = $tables
