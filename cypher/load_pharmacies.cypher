// Load a batch of pharmacies (定点零售药店).
// Kind: load
//
// Parameters:
//   $rows list[map]  one map per pharmacy: {pharmacy_id, props: {name, region}}
// Returns: nothing (MERGE on pharmacy_id)

UNWIND $rows AS r
MERGE (f:Pharmacy {pharmacy_id: r.pharmacy_id})
SET f += r.props
