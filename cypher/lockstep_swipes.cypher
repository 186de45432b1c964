// Many distinct cards swiped through one device or one operator phone at one facility within a
// short window (空刷套刷 in lockstep).
// Kind: motif
//
// Claims are grouped by (facility, device_id) and by (facility, operator_phone) per settle day.
// Every claim opens a window [settle_ts, settle_ts + $window_seconds); a window holding at least
// $min_cards distinct cards qualifies, and every claim inside a qualifying window is returned
// once per operator with the largest card count of the qualifying windows that hold it. Windows
// do not cross midnight; claims without device_id and operator_phone are not considered.
//
// Parameters:
//   $window_seconds int = 600  window length in seconds
//   $min_cards int = 5         minimum distinct cards in one window
// Order: via, operator, facility_id, settle_time, claim_id
// Returns: one row per (operator, claim):
//   via str            device | phone
//   operator str       the device_id or operator_phone
//   facility_id str
//   settle_date str    ISO date
//   window_cards int   the most distinct cards in a qualifying window holding this claim
//   claim_id str
//   settle_time str    ISO datetime
//   card_id str
//   holder_id str      patient_id of the card's holder (null when unknown)

MATCH (f)<-[:AT]-(c:Claim)-[:VIA_DEVICE]->(o:Device)
MATCH (k:Card)-[:PRESENTED]->(c)
WITH f, o, c.settle_day AS day, collect([c.settle_ts, k.card_id, c.claim_id]) AS evs
WHERE size(evs) >= $min_cards
UNWIND evs AS a
WITH f, o, [e IN evs WHERE e[0] >= a[0] AND e[0] < a[0] + $window_seconds] AS win
WITH f, o, win,
     size(reduce(s = [], e IN win | CASE WHEN e[1] IN s THEN s ELSE s + [e[1]] END)) AS cards
WHERE cards >= $min_cards
UNWIND win AS e
WITH f, o, e[2] AS claim_id, max(cards) AS window_cards
MATCH (k:Card)-[:PRESENTED]->(c:Claim {claim_id: claim_id})
OPTIONAL MATCH (h:Patient)-[:HOLDS]->(k)
RETURN 'device' AS via, o.device_id AS operator,
       coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       c.settle_date AS settle_date, window_cards, c.claim_id AS claim_id,
       c.settle_time AS settle_time, k.card_id AS card_id, h.patient_id AS holder_id
UNION ALL
MATCH (f)<-[:AT]-(c:Claim)-[:VIA_PHONE]->(o:Phone)
MATCH (k:Card)-[:PRESENTED]->(c)
WITH f, o, c.settle_day AS day, collect([c.settle_ts, k.card_id, c.claim_id]) AS evs
WHERE size(evs) >= $min_cards
UNWIND evs AS a
WITH f, o, [e IN evs WHERE e[0] >= a[0] AND e[0] < a[0] + $window_seconds] AS win
WITH f, o, win,
     size(reduce(s = [], e IN win | CASE WHEN e[1] IN s THEN s ELSE s + [e[1]] END)) AS cards
WHERE cards >= $min_cards
UNWIND win AS e
WITH f, o, e[2] AS claim_id, max(cards) AS window_cards
MATCH (k:Card)-[:PRESENTED]->(c:Claim {claim_id: claim_id})
OPTIONAL MATCH (h:Patient)-[:HOLDS]->(k)
RETURN 'phone' AS via, o.phone AS operator,
       coalesce(f.institution_id, f.pharmacy_id, f.facility_id) AS facility_id,
       c.settle_date AS settle_date, window_cards, c.claim_id AS claim_id,
       c.settle_time AS settle_time, k.card_id AS card_id, h.patient_id AS holder_id
