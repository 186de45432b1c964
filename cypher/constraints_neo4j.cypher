// Uniqueness constraints on every node key. NEO4J ONLY.
// Kind: schema
// Server: neo4j
//
// Neo4j needs these for fast MERGE (each also creates the key's index). FalkorDB rejects
// CREATE CONSTRAINT, so graphkit applies this file only when the server is Neo4j (detected with
// dbms.components()); elsewhere it is skipped. IF NOT EXISTS makes it safe to apply twice.
//
// Parameters: none
// Returns: nothing

CREATE CONSTRAINT IF NOT EXISTS FOR (n:Patient) REQUIRE n.patient_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Card) REQUIRE n.card_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Institution) REQUIRE n.institution_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Pharmacy) REQUIRE n.pharmacy_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Facility) REQUIRE n.facility_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Doctor) REQUIRE n.doctor_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Pharmacist) REQUIRE n.pharmacist_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Claim) REQUIRE n.claim_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Item) REQUIRE n.item_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:TraceCode) REQUIRE n.trace_code IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Phone) REQUIRE n.phone IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Address) REQUIRE n.address IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:Device) REQUIRE n.device_id IS UNIQUE;
CREATE CONSTRAINT IF NOT EXISTS FOR (n:GraphkitLoad) REQUIRE n.load_key IS UNIQUE
