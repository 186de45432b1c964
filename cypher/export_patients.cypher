// Export patients (参保人员) for reading the graph back: one row per (:Patient), paged.
// Kind: export
//
// graphkit rings --backend neo4j fetches the graph in pages with the export_* queries, rebuilds
// the Dataset in Python (graphkit.load.dataset_from_frames) and runs the same detectors as the
// embedded backend: community detection and scoring run in Python over the fetched data.
// Dates come back as ISO strings (FalkorDB aborts on a returned temporal value).
//
// Parameters:
//   $skip int = 0          rows to skip (page start)
//   $limit int = 50000     rows per page
// Order: patient_id
// Returns: one row per patient:
//   patient_id str
//   name str
//   id_number str
//   gender str       M | F
//   birth_date str   YYYY-MM-DD
//   region str
//   death_date str   YYYY-MM-DD
//   phone str
//   address str

MATCH (p:Patient)
RETURN p.patient_id AS patient_id, p.name AS name, p.id_number AS id_number,
       p.gender AS gender, p.birth_date AS birth_date, p.region AS region,
       p.death_date AS death_date, p.phone AS phone, p.address AS address
ORDER BY patient_id
SKIP $skip LIMIT $limit
