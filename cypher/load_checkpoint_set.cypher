// Record the progress of a load after each batch, so an interrupted load resumes where it stopped.
// Kind: internal
//
// Parameters:
//   $load_key str      '<dataset fingerprint>:<batch size>'
//   $fingerprint str   sha256 of the input files
//   $batch_size int
//   $batches_done int  batches written so far, in load order
//   $complete int      1 when the load finished, else 0
// Returns: nothing

MERGE (g:GraphkitLoad {load_key: $load_key})
SET g.fingerprint = $fingerprint, g.batch_size = $batch_size, g.batches_done = $batches_done,
    g.complete = $complete
