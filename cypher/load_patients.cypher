// Load a batch of patients with their phone and address nodes.
// Kind: load
//
// Parameters:
//   $rows list[map]  one map per patient: {patient_id, props: {name, id_number, gender,
//                    birth_date, birth_day, region, death_date, death_day, phone, address},
//                    phone, address}; phone/address null when absent
// Returns: nothing (MERGE on keys: loading a batch twice creates nothing new)

UNWIND $rows AS r
MERGE (p:Patient {patient_id: r.patient_id})
SET p += r.props
FOREACH (_ IN CASE WHEN r.phone IS NULL THEN [] ELSE [1] END |
  MERGE (ph:Phone {phone: r.phone})
  MERGE (p)-[:HAS_PHONE]->(ph))
FOREACH (_ IN CASE WHEN r.address IS NULL THEN [] ELSE [1] END |
  MERGE (a:Address {address: r.address})
  MERGE (p)-[:LIVES_AT]->(a))
