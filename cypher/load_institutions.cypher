// Load a batch of institutions (定点医疗机构).
// Kind: load
//
// Parameters:
//   $rows list[map]  one map per institution: {institution_id, props: {name, level, ownership,
//                    kind, region}}
// Returns: nothing (MERGE on institution_id)

UNWIND $rows AS r
MERGE (i:Institution {institution_id: r.institution_id})
SET i += r.props
