// One card presented at several facilities on one day (一卡多地).
// Kind: motif
//
// A clinic visit and a pharmacy purchase on the same day is ordinary; facilities in different
// regions on one day are not. `regions` counts the distinct regions of the facilities (a facility
// without a region does not count).
//
// Parameters:
//   $min_facilities int = 2  keep card-days with at least this many distinct facilities
//   $min_regions int = 0     ... and at least this many distinct facility regions
// Order: card_id, settle_date, settle_time, claim_id
// Returns: one row per claim of a kept card-day:
//   card_id str
//   holder_id str        patient_id of the card's holder (null when unknown)
//   settle_date str      ISO date
//   facilities int       distinct facilities that day
//   regions int          distinct facility regions that day
//   claim_id str
//   settle_time str      ISO datetime
//   facility_id str
//   facility_region str  the facility's region (null when absent)

MATCH (k:Card)-[:PRESENTED]->(c:Claim)-[:AT]->(f)
WITH k, c.settle_day AS day, collect(c) AS claims,
     count(DISTINCT coalesce(f.institution_id, f.pharmacy_id, f.facility_id)) AS facilities,
     count(DISTINCT f.region) AS regions
WHERE facilities >= $min_facilities AND regions >= $min_regions
UNWIND claims AS c
MATCH (c)-[:AT]->(f)
OPTIONAL MATCH (h:Patient)-[:HOLDS]->(k)
RETURN k.card_id AS card_id, h.patient_id AS holder_id, c.settle_date AS settle_date,
       facilities, regions, c.claim_id AS claim_id, c.settle_time AS settle_time,
       coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       f.region AS facility_region
ORDER BY card_id, settle_date, settle_time, claim_id
