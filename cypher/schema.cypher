// Schema: one range index per node key, plus the properties the motif queries filter on.
// Kind: schema
// Server: any (Neo4j 5, FalkorDB 4.18)
//
// A script: statements are separated by ';' and run one by one. graphkit skips an index that
// already exists (FalkorDB fails on a duplicate CREATE INDEX and has no IF NOT EXISTS), so
// applying the schema twice is harmless. On Neo4j, constraints_neo4j.cypher runs first and its
// uniqueness constraints already index the keys.
//
// Parameters: none
// Returns: nothing
//
// The graph model (properties are named as in the data contract; dates are stored as ISO strings
// plus epoch integers, because FalkorDB aborts when a query returns a temporal value):
//
//   (:Patient {patient_id, name, id_number, gender, birth_date, birth_day, region,
//              death_date, death_day, phone, address})
//   (:Card {card_id, card_type})
//   (:Institution {institution_id, name, level, ownership, kind, region})
//   (:Pharmacy {pharmacy_id, name, region})
//   (:Facility {facility_id})        a claim's facility_id found in neither table
//   (:Doctor {doctor_id, name, department})
//   (:Pharmacist {pharmacist_id, name})
//   (:Claim {claim_id, claim_type, facility_type, settle_time, settle_date, settle_day, settle_ts,
//            admit_date, admit_day, discharge_date, discharge_day, diagnosis_code,
//            total_amount, fund_amount})
//   (:Item {item_id, item_code, item_name, quantity, unit_price, amount})
//   (:TraceCode {trace_code})  (:Phone {phone})  (:Address {address})  (:Device {device_id})
//
//   *_date / settle_time : ISO strings 'YYYY-MM-DD' / 'YYYY-MM-DDTHH:MM:SS'
//   *_day                : days since 1970-01-01 (int), for date arithmetic and ranges
//   settle_ts            : seconds since 1970-01-01T00:00:00 of the local settle_time (int)
//
//   (:Patient)-[:HOLDS]->(:Card)           (:Card)-[:PRESENTED]->(:Claim)
//   (:Claim)-[:FOR]->(:Patient)            (:Claim)-[:AT]->(:Institution|:Pharmacy|:Facility)
//   (:Claim)-[:PRESCRIBED_BY]->(:Doctor)   (:Claim)-[:DISPENSED_BY]->(:Pharmacist)
//   (:Claim)-[:HAS_ITEM]->(:Item)          (:Item)-[:TRACE]->(:TraceCode)
//   (:Claim)-[:VIA_DEVICE]->(:Device)      (:Claim)-[:VIA_PHONE]->(:Phone)   (operator_phone)
//   (:Patient)-[:HAS_PHONE]->(:Phone)      (:Patient)-[:LIVES_AT]->(:Address)
//   (:Doctor)-[:WORKS_AT]->(:Institution)  (:Pharmacist)-[:REGISTERED_AT]->(:Pharmacy)
//
// A patient's phone and a claim's operator_phone are the same (:Phone) node when equal.

CREATE INDEX FOR (n:Patient) ON (n.patient_id);
CREATE INDEX FOR (n:Card) ON (n.card_id);
CREATE INDEX FOR (n:Institution) ON (n.institution_id);
CREATE INDEX FOR (n:Pharmacy) ON (n.pharmacy_id);
CREATE INDEX FOR (n:Facility) ON (n.facility_id);
CREATE INDEX FOR (n:Doctor) ON (n.doctor_id);
CREATE INDEX FOR (n:Pharmacist) ON (n.pharmacist_id);
CREATE INDEX FOR (n:Claim) ON (n.claim_id);
CREATE INDEX FOR (n:Item) ON (n.item_id);
CREATE INDEX FOR (n:TraceCode) ON (n.trace_code);
CREATE INDEX FOR (n:Phone) ON (n.phone);
CREATE INDEX FOR (n:Address) ON (n.address);
CREATE INDEX FOR (n:Device) ON (n.device_id);
CREATE INDEX FOR (n:GraphkitLoad) ON (n.load_key);
CREATE INDEX FOR (n:Claim) ON (n.settle_day);
CREATE INDEX FOR (n:Claim) ON (n.claim_type)
