"""Diversion (回流药) on small hand-built chains: who is a member, and what binds one chain."""

from __future__ import annotations

import pandas as pd

from graphkit.detectors import detect_diversion
from graphkit.detectors.diversion import straw_cards
from graphkit.settings import Settings
from tests.test_detectors import World, background, day, trace

INSULIN = "甘精胰岛素注射液"
STATIN = "阿托伐他汀钙片"


def mules_collect(w: World, mules: list[str], visits: int, first_code: int, drug: str = INSULIN,
                  start: int = 20, doctors: tuple[str, ...] = ("",)) -> list[list[int]]:
    """Each mule collects 3 packs a visit at H1/H2/K1, prescribed by ``doctors`` in turn (none by
    default); returns each mule's trace code numbers."""
    code = first_code
    out = []
    for i, m in enumerate(mules):
        w.person(m)
        mine = []
        for k in range(visits):
            cid = w.claim(m, ["H1", "H2", "K1"][k % 3], day(start + k * 10), ctype="outpatient",
                          dx="E11.900", doctor=doctors[(i + k) % len(doctors)])
            for _ in range(3):
                code += 1
                w.item(cid, drug, trace(code))
                mine.append(code)
        out.append(mine)
    return out


def resell(w: World, pid: str, pharmacy: str, when: int, codes, drug: str = INSULIN) -> str:
    """``pid`` buys the packs ``codes`` at ``pharmacy`` on day ``when``: one re-settlement claim."""
    cid = w.claim(pid, pharmacy, day(when), fund=90.0)
    for c in codes:
        w.item(cid, drug, trace(c))
    return cid


def reported(ctx):
    return [r for r in detect_diversion(ctx, Settings()) if r.score >= Settings().min_score]


def test_walk_in_buyers_of_resold_packs_are_context_not_members(tmp_path):
    w = World()
    background(w)
    mules = [f"31000000000000{i:02d}" for i in range(3)]
    codes = mules_collect(w, mules, 5, 0)
    walk_in_claims = []
    # 30 walk-in buyers at P9: 15 sold two packs of one lot (two mules'), 15 a single pack
    for b in range(30):
        buyer = f"32000000000000{b:02d}"
        w.person(buyer)
        sold = (codes[0][b], codes[1][b]) if b < 15 else (codes[2][b - 15],)
        walk_in_claims.append(resell(w, buyer, "P9", 150 + b, sold))
    rings = reported(w.load(tmp_path))
    assert len(rings) == 1
    ring = rings[0]
    assert ring.patients == mules
    assert sorted(ring.member_ids("card")) == ["C" + m for m in mules]
    assert set(walk_in_claims) <= set(ring.claims)
    assert ring.extra["features"]["walk_in_buyers"] == 30
    resettled = next(e for e in ring.evidence if e.rule == "trace_code_resettled")
    assert resettled.count == 45
    assert "45 盒售给 30 名购药人" in resettled.detail


def test_a_card_the_reseller_settles_packs_on_repeatedly_is_a_straw_member(tmp_path):
    w = World()
    background(w)
    mules = [f"31000000000000{i:02d}" for i in range(3)]
    codes = mules_collect(w, mules, 4, 0)
    straw, walk_in = "3300000000000001", "3300000000000002"
    w.person(straw)
    w.person(walk_in)
    # the reseller settles packs of every mule on one card, on five days ...
    for k in range(5):
        resell(w, straw, "P9", 150 + 7 * k, (codes[0][k], codes[1][k], codes[2][k]))
    # ... and sells a walk-in buyer packs twice, on two days (not repeatedly enough)
    resell(w, walk_in, "P9", 160, (codes[0][6], codes[1][6]))
    resell(w, walk_in, "P9", 190, (codes[2][6],))
    rings = reported(w.load(tmp_path))
    assert [r.patients for r in rings] == [sorted(mules + [straw])]
    roles = {(m.type, m.id): m.role for m in rings[0].members}
    assert roles[("card", "C" + straw)] == "straw card"
    assert roles[("patient", straw)] == "straw card holder"
    assert ("card", "C" + walk_in) not in roles
    assert any(e.rule == "straw_cards" and e.count == 1 for e in rings[0].evidence)


def test_straw_card_needs_most_of_its_resold_packs_from_the_reseller():
    packs = pd.DataFrame({
        "facility_id": ["P9"] * 3 + ["P8"] * 4 + ["P9"] * 3,
        "card_id": ["C1"] * 7 + ["C2"] * 3,
        "trace_code": [trace(i) for i in range(10)],
        "t": [86400 * d for d in (1, 2, 3, 1, 2, 3, 4, 1, 1, 2)],
    })
    got = straw_cards(packs, Settings())
    # C1: 3 packs on 3 days at P9 are a minority of its 7; at P8 4 of 7 on 4 days. C2: 2 days only
    assert got[["facility_id", "card_id", "packs", "days"]].values.tolist() == [["P8", "C1", 4, 4]]


def test_mules_selling_through_three_reseller_pharmacies_are_one_ring(tmp_path):
    w = World()
    background(w)
    mules = [f"31000000000000{i:02d}" for i in range(4)]
    codes = mules_collect(w, mules, 3, 0)
    # a collector sells each mule's packs on to two of P7, P8, P9: lots of two mules' packs each
    pharmacy_of = {(0, 1): "P7", (1, 2): "P8", (2, 3): "P9", (3, 0): "P7"}
    buyer = 0
    for (one, other), pharmacy in pharmacy_of.items():
        for k in range(3):
            buyer += 1
            pid = f"32000000000000{buyer:02d}"
            w.person(pid)
            resell(w, pid, pharmacy, 150 + buyer, (codes[one][k + 3 * (one % 2)],
                                                   codes[other][k + 3 + 3 * (one % 2)]))
    rings = reported(w.load(tmp_path))
    assert [r.patients for r in rings] == [mules]
    resellers = {m.id for m in rings[0].members if m.role == "re-settling pharmacy"}
    assert resellers == {"P7", "P8", "P9"}


def test_two_chains_through_one_pharmacy_are_two_rings_even_with_a_common_buyer(tmp_path):
    w = World()
    background(w)
    chains = []
    for chain in range(2):
        mules = [f"3{4 + chain}0000000000000{i}" for i in range(3)]
        codes = mules_collect(w, mules, 3, 1000 * chain, start=20 + chain)
        for k in range(4):  # each chain's lots: one pack of each of its mules per sale
            pid = f"3{6 + chain}0000000000000{k}"
            w.person(pid)
            resell(w, pid, "P9", 150 + 10 * k + chain, (codes[0][k], codes[1][k], codes[2][k]))
        chains.append((mules, codes))
    # one walk-in buyer was sold a pack from each chain: a buyer binds nothing
    common = "3800000000000001"
    w.person(common)
    resell(w, common, "P9", 250, (chains[0][1][0][8],))
    resell(w, common, "P9", 260, (chains[1][1][0][8],))
    rings = reported(w.load(tmp_path))
    assert sorted(r.patients for r in rings) == [chains[0][0], chains[1][0]]


def test_mules_whose_packs_are_resold_singly_at_one_pharmacy_are_one_ring(tmp_path):
    """No lot shows a second collector: the pharmacy's re-settled packs of one drug are one chain."""
    w = World()
    background(w)
    mules = [f"31000000000000{i:02d}" for i in range(3)]
    codes = mules_collect(w, mules, 3, 0)
    buyer = 0
    for m in range(3):
        for k in range(3):
            buyer += 1
            pid = f"32000000000000{buyer:02d}"
            w.person(pid)
            resell(w, pid, "P9", 150 + buyer, (codes[m][k],))
    rings = reported(w.load(tmp_path))
    assert [r.patients for r in rings] == [mules]


def test_chains_of_two_drugs_through_one_pharmacy_are_two_rings(tmp_path):
    w = World()
    background(w)
    insulin_mules = [f"31000000000000{i:02d}" for i in range(2)]
    statin_mules = [f"33000000000000{i:02d}" for i in range(2)]
    insulin = mules_collect(w, insulin_mules, 3, 0)
    statin = mules_collect(w, statin_mules, 3, 500, drug=STATIN)
    buyer = 0
    for codes, drug in ((insulin, INSULIN), (statin, STATIN)):
        for mine in codes:
            for k in range(3):
                buyer += 1
                pid = f"32000000000000{buyer:02d}"
                w.person(pid)
                resell(w, pid, "P9", 150 + buyer, (mine[k],), drug=drug)
    rings = reported(w.load(tmp_path))
    assert sorted(r.patients for r in rings) == [insulin_mules, statin_mules]


def test_a_walk_in_chain_sold_in_small_lots_is_one_ring_by_its_prescribers(tmp_path):
    """One collector's four mules, sent to the same two doctors; their packs come back one or
    two at a time to walk-in buyers, so the lots bind two pairs of mules that share no lot and
    no straw card. Their prescribers make them one operation."""
    w = World()
    background(w)
    mules = [f"31000000000000{i:02d}" for i in range(4)]
    codes = mules_collect(w, mules, 4, 0, doctors=("D1", "D2"))
    buyer = 0
    for one, other in ((0, 1), (2, 3)):
        for k in range(4):
            buyer += 1
            pid = f"32000000000000{buyer:02d}"
            w.person(pid)
            resell(w, pid, "P9", 150 + buyer, (codes[one][k], codes[other][k]))
            buyer += 1
            pid = f"32000000000000{buyer:02d}"
            w.person(pid)
            resell(w, pid, "P9", 150 + buyer, (codes[one][k + 4],))
    rings = reported(w.load(tmp_path))
    assert [r.patients for r in rings] == [mules]
    assert sorted(rings[0].member_ids("doctor")) == ["D1", "D2"]


def test_two_collectors_of_one_drug_at_one_pharmacy_keep_their_own_prescribers(tmp_path):
    """Two operations re-settle insulin at P9 in the same months, from the same hospitals. The
    first shows a lot of two mules' packs; the second's packs come back one at a time. Each
    collector's mules see their own doctors, and one mule of each once saw the same popular
    doctor D9: a minority of their packs, which ties no one. Two rings."""
    w = World()
    background(w)
    first = [f"31000000000000{i:02d}" for i in range(3)]
    second = [f"33000000000000{i:02d}" for i in range(3)]
    first_codes = mules_collect(w, first, 5, 0, doctors=("D1", "D2"))
    second_codes = mules_collect(w, second, 5, 500, start=22, doctors=("D3", "D4"))
    for mule, codes in ((first[0], first_codes[0]), (second[0], second_codes[0])):
        visit = w.claim(mule, "H1", day(90), ctype="outpatient", dx="E11.900", doctor="D9")
        code = codes[0] + 900
        w.item(visit, INSULIN, trace(code))
        codes.append(code)
    buyer = 0
    for k in range(5):
        buyer += 1
        pid = f"32000000000000{buyer:02d}"
        w.person(pid)
        lot = (first_codes[k % 3][3 * k], first_codes[(k + 1) % 3][3 * k + 1])
        resell(w, pid, "P9", 150 + 2 * k, lot)
    for m, codes in enumerate(second_codes):
        for k in range(3):
            buyer += 1
            pid = f"32000000000000{buyer:02d}"
            w.person(pid)
            resell(w, pid, "P9", 151 + 2 * k + 6 * m, (codes[3 * k],))  # one pack a visit
    for m, codes in enumerate((first_codes[0], second_codes[0])):
        buyer += 1
        pid = f"32000000000000{buyer:02d}"
        w.person(pid)
        resell(w, pid, "P9", 200 + m, (codes[-1],))
    rings = reported(w.load(tmp_path))
    assert sorted(r.patients for r in rings) == [first, second]


def test_one_mules_packs_sold_back_once_are_no_ring(tmp_path):
    """Two packs of one person re-settled in one sale are one event: the chain scores below the
    threshold, even with the holder's use far beyond need."""
    w = World()
    background(w)
    mule = "3100000000000001"
    codes = mules_collect(w, [mule], 6, 0, doctors=("D1", "D2", "D3"))
    w.person("3200000000000001")
    resell(w, "3200000000000001", "P9", 150, (codes[0][0], codes[0][1]))
    ctx = w.load(tmp_path)
    chains = detect_diversion(ctx, Settings())
    assert [r.patients for r in chains] == [[mule]]
    assert reported(ctx) == []
    assert chains[0].extra["features"]["resales"] == 1


def test_a_mule_presenting_two_cards_at_two_resellers_is_one_node(tmp_path):
    """A mule obtains on its 社保卡 and its 电子凭证; the collector sells the first card's packs on
    to P7 with one mule's, the second card's to P8 with another's. One person, one operation."""
    w = World()
    background(w)
    mules = [f"31000000000000{i:02d}" for i in range(3)]
    codes = mules_collect(w, mules, 4, 0)
    both = mules[0]
    w.cards.append({"card_id": "E" + both, "patient_id": both, "card_type": "01"})
    code = 900
    second_card = []
    for k in range(4):
        cid = w.claim(both, "H2", day(25 + 10 * k), ctype="outpatient", dx="E11.900")
        w.claims[-1]["card_id"] = "E" + both
        for _ in range(3):
            code += 1
            w.item(cid, INSULIN, trace(code))
            second_card.append(code)
    buyer = 0
    for k in range(4):
        for pharmacy, pair in (("P7", (codes[0][k], codes[1][k])),
                               ("P8", (second_card[k], codes[2][k]))):
            buyer += 1
            pid = f"32000000000000{buyer:02d}"
            w.person(pid)
            resell(w, pid, pharmacy, 150 + buyer, pair)
    rings = reported(w.load(tmp_path))
    assert [r.patients for r in rings] == [mules]
    assert sorted(rings[0].member_ids("card")) == sorted(["C" + m for m in mules] + ["E" + both])
