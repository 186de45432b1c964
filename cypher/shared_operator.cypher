// Cards presented by one operator phone or one device, with their holders (一机多卡 / 一号多卡).
// Kind: motif
//
// An 电子凭证 is presented from a phone (claims.operator_phone) and swiped or scanned at a
// terminal (claims.device_id). One phone presenting several people's cards is a sign of cards
// controlled by someone other than their holders; families sharing a phone are the look-alike
// (compare `holders` with the holders' shared address or phone). A facility's terminal stays at
// its facility: a device whose `places` is two or more was carried by someone.
//
// Parameters:
//   $min_holders int = 2  keep operators that presented the cards of at least this many holders
// Order: via, operator, card_id
// Returns: one row per (operator, card):
//   via str          phone | device
//   operator str     the operator_phone or device_id
//   holders int      distinct holders of the cards it presented
//   cards int        distinct cards it presented
//   places int       distinct facilities (institutions and pharmacies) it was used at
//   card_id str
//   holder_id str    patient_id of the card's holder (null when unknown)
//   claims int       claims of this card presented through this operator

MATCH (o:Phone)<-[:VIA_PHONE]-(c:Claim)
OPTIONAL MATCH (c)-[:AT]->(f)
WITH o, count(DISTINCT f) AS places
MATCH (o)<-[:VIA_PHONE]-(c:Claim)<-[:PRESENTED]-(k:Card)
OPTIONAL MATCH (h:Patient)-[:HOLDS]->(k)
WITH o, places, k, h, count(DISTINCT c) AS claims
WITH o, places, collect([k.card_id, h.patient_id, claims]) AS rows, count(DISTINCT h) AS holders
WHERE holders >= $min_holders
UNWIND rows AS r
RETURN 'phone' AS via, o.phone AS operator, holders, size(rows) AS cards, places,
       r[0] AS card_id, r[1] AS holder_id, r[2] AS claims
UNION ALL
MATCH (o:Device)<-[:VIA_DEVICE]-(c:Claim)
OPTIONAL MATCH (c)-[:AT]->(f)
WITH o, count(DISTINCT f) AS places
MATCH (o)<-[:VIA_DEVICE]-(c:Claim)<-[:PRESENTED]-(k:Card)
OPTIONAL MATCH (h:Patient)-[:HOLDS]->(k)
WITH o, places, k, h, count(DISTINCT c) AS claims
WITH o, places, collect([k.card_id, h.patient_id, claims]) AS rows, count(DISTINCT h) AS holders
WHERE holders >= $min_holders
UNWIND rows AS r
RETURN 'device' AS via, o.device_id AS operator, holders, size(rows) AS cards, places,
       r[0] AS card_id, r[1] AS holder_id, r[2] AS claims
