// A ring's members and every relationship they have, as nodes and relationships.
// Kind: query
//
// The third query of a ring package's reproduce.cypher, which passes the ring's members of each
// type.
//
// Parameters:
//   $patient_ids list[str] = []      patient_id values
//   $card_ids list[str] = []         card_id values
//   $institution_ids list[str] = []  institution_id values
//   $pharmacy_ids list[str] = []     pharmacy_id values
//   $doctor_ids list[str] = []       doctor_id values
//   $device_ids list[str] = []       device_id values
//   $trace_codes list[str] = []      trace_code values
// Returns: one row per relationship of a member: m (the member), r (the relationship), n (the
//          node at its other end)

MATCH (m)-[r]-(n)
WHERE (m:Patient AND m.patient_id IN $patient_ids)
   OR (m:Card AND m.card_id IN $card_ids)
   OR (m:Institution AND m.institution_id IN $institution_ids)
   OR (m:Pharmacy AND m.pharmacy_id IN $pharmacy_ids)
   OR (m:Doctor AND m.doctor_id IN $doctor_ids)
   OR (m:Device AND m.device_id IN $device_ids)
   OR (m:TraceCode AND m.trace_code IN $trace_codes)
RETURN m, r, n
