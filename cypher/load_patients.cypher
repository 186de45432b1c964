// Load a batch of patients with their phone and address nodes.
// Kind: load
//
// The plain form of the step, sent to Neo4j; FalkorDB runs load_patients_falkordb.cypher, the
// same writes from rows encoded for its Bolt layer. A patient already in the graph is skipped
// whole (its relationships were created by the same query), so loading a batch twice creates
// nothing new. A null property in r.props is not stored.
//
// Parameters:
//   $rows list[map]  one map per patient: {patient_id, props: {name, id_number, gender,
//                    birth_date, birth_day, region, death_date, death_day, phone, address}}
//                    (dates as ISO strings, *_day as days since 1970-01-01)
// Returns: nothing

UNWIND $rows AS r
OPTIONAL MATCH (x:Patient {patient_id: r.patient_id})
WITH r, x
WHERE x IS NULL
CREATE (p:Patient {patient_id: r.patient_id})
SET p += r.props
FOREACH (_ IN CASE WHEN r.props.phone IS NULL THEN [] ELSE [1] END |
  MERGE (ph:Phone {phone: r.props.phone})
  CREATE (p)-[:HAS_PHONE]->(ph))
FOREACH (_ IN CASE WHEN r.props.address IS NULL THEN [] ELSE [1] END |
  MERGE (a:Address {address: r.props.address})
  CREATE (p)-[:LIVES_AT]->(a))
