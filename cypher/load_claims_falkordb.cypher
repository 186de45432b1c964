// Load a batch of claims (结算记录) with their links to patient, card, facility, doctor,
// pharmacist, device and operator phone.
// Kind: load
// Server: falkordb (load_claims.cypher is the plain query, for Neo4j)
//
// FalkorDB's form of the step (graphkit.neo4j_backend._FalkorDialect): each row is ONE string of
// fields separated by $sep (U+001F); an empty field is a missing value. FalkorDB's Bolt layer
// turns parameters into query text, and a list of 10,000 such strings parses about 15 times
// faster than a list of maps (0.05 s against 0.8 s for claims).
// A claim already in the graph is skipped whole: its relationships were created by the same
// query, so loading a batch twice creates nothing new.
//
// Properties go in the CREATE map (a null one is not stored, as with SET): FalkorDB updates
// the node and its indexes once instead of once per SET item (about 40% faster).
// load_dataset runs each conditional FOREACH block unwrapped (rows with the field set) or
// drops it (rows without): see graphkit.neo4j_backend._shape_groups.
//
// Parameters:
//   $rows list[str]  one string per claim, fields: 0 claim_id, 1 patient_id, 2 card_id,
//                    3 institution_id, 4 pharmacy_id, 5 facility_id (in neither table),
//                    6 doctor_id, 7 pharmacist_id, 8 device_id, 9 operator_phone, 10 claim_type,
//                    11 facility_type, 12 settle_time, 13 settle_date, 14 settle_day,
//                    15 settle_ts, 16 admit_date, 17 admit_day, 18 discharge_date,
//                    19 discharge_day, 20 diagnosis_code, 21-22 total_amount, 23-24 fund_amount
//                    (an amount is two integers m, k with value m * 2^k, exact; FalkorDB's
//                    toFloat() would round to single precision; see neo4j_backend._t_num).
//                    Exactly one of fields 3/4/5 is set (by facility_type).
//   $sep str         the field separator
// Returns: nothing (a referenced patient, card, doctor, pharmacist, device or phone that is not
//          loaded yet is created with its key only)

UNWIND $rows AS line
WITH split(line, $sep) AS r
OPTIONAL MATCH (x:Claim {claim_id: r[0]})
WITH r, x
WHERE x IS NULL
CREATE (c:Claim {claim_id: r[0],
                 claim_type: r[10],
                 facility_type: r[11],
                 settle_time: r[12],
                 settle_date: r[13],
                 settle_day: toInteger(r[14]),
                 settle_ts: toInteger(r[15]),
                 admit_date: CASE r[16] WHEN '' THEN null ELSE r[16] END,
                 admit_day: toInteger(r[17]),
                 discharge_date: CASE r[18] WHEN '' THEN null ELSE r[18] END,
                 discharge_day: toInteger(r[19]),
                 diagnosis_code: CASE r[20] WHEN '' THEN null ELSE r[20] END,
                 total_amount: toInteger(r[21]) * 2.0 ^ toInteger(r[22]),
                 fund_amount: toInteger(r[23]) * 2.0 ^ toInteger(r[24])})
MERGE (p:Patient {patient_id: r[1]})
CREATE (c)-[:FOR]->(p)
MERGE (k:Card {card_id: r[2]})
CREATE (k)-[:PRESENTED]->(c)
FOREACH (_ IN CASE WHEN r[3] = '' THEN [] ELSE [1] END |
  MERGE (i:Institution {institution_id: r[3]})
  CREATE (c)-[:AT]->(i))
FOREACH (_ IN CASE WHEN r[4] = '' THEN [] ELSE [1] END |
  MERGE (f:Pharmacy {pharmacy_id: r[4]})
  CREATE (c)-[:AT]->(f))
FOREACH (_ IN CASE WHEN r[5] = '' THEN [] ELSE [1] END |
  MERGE (u:Facility {facility_id: r[5]})
  CREATE (c)-[:AT]->(u))
FOREACH (_ IN CASE WHEN r[6] = '' THEN [] ELSE [1] END |
  MERGE (d:Doctor {doctor_id: r[6]})
  CREATE (c)-[:PRESCRIBED_BY]->(d))
FOREACH (_ IN CASE WHEN r[7] = '' THEN [] ELSE [1] END |
  MERGE (s:Pharmacist {pharmacist_id: r[7]})
  CREATE (c)-[:DISPENSED_BY]->(s))
FOREACH (_ IN CASE WHEN r[8] = '' THEN [] ELSE [1] END |
  MERGE (v:Device {device_id: r[8]})
  CREATE (c)-[:VIA_DEVICE]->(v))
FOREACH (_ IN CASE WHEN r[9] = '' THEN [] ELSE [1] END |
  MERGE (ph:Phone {phone: r[9]})
  CREATE (c)-[:VIA_PHONE]->(ph))
