// Read the progress of an earlier load of the same input (for resuming).
// Kind: internal
//
// Parameters:
//   $load_key str  '<dataset fingerprint>:<batch size>'
// Returns: zero or one row:
//   batches_done int  batches of this load already written
//   complete int      1 when the load finished, else 0

MATCH (g:GraphkitLoad {load_key: $load_key})
RETURN g.batches_done AS batches_done, g.complete AS complete
