// Load a batch of patients with their phone and address nodes.
// Kind: load
// Server: falkordb (load_patients.cypher is the plain query, for Neo4j)
//
// FalkorDB's form of the step (graphkit.neo4j_backend._FalkorDialect): each row is ONE string of
// fields separated by $sep (U+001F); an empty field is a missing value. FalkorDB's Bolt layer
// turns parameters into query text, and a list of 10,000 such strings parses about 15 times
// faster than a list of maps (0.05 s against 0.8 s for claims).
// A patient already in the graph is skipped whole (its relationships were created by the same
// query), so loading a batch twice creates nothing new.
//
// Properties go in the CREATE map (a null one is not stored, as with SET): FalkorDB updates
// the node and its indexes once instead of once per SET item (about 40% faster).
// load_dataset runs each conditional FOREACH block unwrapped (rows with the field set) or
// drops it (rows without): see graphkit.neo4j_backend._shape_groups.
//
// Parameters:
//   $rows list[str]  one string per patient, fields: 0 patient_id, 1 name, 2 id_number, 3 gender,
//                    4 birth_date, 5 birth_day, 6 region, 7 death_date, 8 death_day, 9 phone,
//                    10 address (dates as ISO strings, *_day as days since 1970-01-01)
//   $sep str         the field separator
// Returns: nothing

UNWIND $rows AS line
WITH split(line, $sep) AS r
OPTIONAL MATCH (x:Patient {patient_id: r[0]})
WITH r, x
WHERE x IS NULL
CREATE (p:Patient {patient_id: r[0],
                   name: CASE r[1] WHEN '' THEN null ELSE r[1] END,
                   id_number: CASE r[2] WHEN '' THEN null ELSE r[2] END,
                   gender: CASE r[3] WHEN '' THEN null ELSE r[3] END,
                   birth_date: CASE r[4] WHEN '' THEN null ELSE r[4] END,
                   birth_day: toInteger(r[5]),
                   region: CASE r[6] WHEN '' THEN null ELSE r[6] END,
                   death_date: CASE r[7] WHEN '' THEN null ELSE r[7] END,
                   death_day: toInteger(r[8]),
                   phone: CASE r[9] WHEN '' THEN null ELSE r[9] END,
                   address: CASE r[10] WHEN '' THEN null ELSE r[10] END})
FOREACH (_ IN CASE WHEN r[9] = '' THEN [] ELSE [1] END |
  MERGE (ph:Phone {phone: r[9]})
  CREATE (p)-[:HAS_PHONE]->(ph))
FOREACH (_ IN CASE WHEN r[10] = '' THEN [] ELSE [1] END |
  MERGE (a:Address {address: r[10]})
  CREATE (p)-[:LIVES_AT]->(a))
