// The inputs loaded into this graph by graphkit: one row per (:GraphkitLoad) checkpoint.
// Kind: internal
//
// graphkit rings --backend neo4j reads it to check that a complete load exists, to carry the
// input fingerprint into rings.json and to know which tables the input had (a table the input
// lacked is absent for the detectors too, not empty).
//
// Parameters: none
// Order: load_key
// Returns: one row per load (input fingerprint and batch size):
//   load_key str       '<fingerprint>:<batch size>'
//   fingerprint str    sha256 of the input files
//   batch_size int
//   batches_done int
//   complete int       1 when the load finished
//   tables str         the input's tables, comma-separated (empty for loads by graphkit < 0.x)

MATCH (g:GraphkitLoad)
RETURN g.load_key AS load_key, g.fingerprint AS fingerprint, g.batch_size AS batch_size,
       g.batches_done AS batches_done, g.complete AS complete, g.tables AS tables
ORDER BY load_key
