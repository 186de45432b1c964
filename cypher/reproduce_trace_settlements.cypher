// Every settlement of the given trace codes (回流药: a pack settled more than once).
// Kind: query
//
// The fourth query of a ring package's reproduce.cypher, which passes the ring's trace codes.
//
// Parameters:
//   $trace_codes list[str] = []  trace_code values
// Order: trace_code, settle_time, claim_id
// Returns: one row per (trace code, claim):
//   trace_code str
//   claim_id str
//   settle_time str   ISO datetime
//   facility_id str

MATCH (c:Claim)-[:HAS_ITEM]->(:Item)-[:TRACE]->(t:TraceCode)
WHERE t.trace_code IN $trace_codes
OPTIONAL MATCH (c)-[:AT]->(f)
RETURN t.trace_code AS trace_code, c.claim_id AS claim_id, c.settle_time AS settle_time,
       coalesce(f.pharmacy_id, f.institution_id, f.facility_id) AS facility_id
ORDER BY trace_code, settle_time, claim_id
