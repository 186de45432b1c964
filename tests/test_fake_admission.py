"""fake_admission: recruited groups, whoever recruits them (a village, or an organiser)."""

from __future__ import annotations

from graphkit.detectors import detect_fake_admissions
from graphkit.settings import Settings
from tests.test_detectors import World, _stay, background

ORGANISER, PHONE = "4500000000000099", "13900000077"


def _collected_cards_booked_into_stays(w: World, *, phone: str = PHONE) -> list[str]:
    """Seven people from three districts whose 电子凭证 an organiser presents from his phone
    to book three waves of stays at a private hospital."""
    w.person(ORGANISER, birth="1975-01-01", phone=PHONE)
    ids = [f"45000000000000{i:02d}" for i in range(7)]
    for i, pid in enumerate(ids):
        w.person(pid, birth=f"{1950 + i}-03-03", region=["510104", "510121", "510129"][i % 3],
                 address=f"四川省成都市{['锦江区', '大邑县', '金堂县'][i % 3]}某路{i + 1}号")
        w.cards[-1]["card_type"] = "01"
    for start in (30, 95, 170):
        for i, pid in enumerate(ids):
            _stay(w, pid, "X1", start + i % 2, dx="M54.500")
            w.claims[-1]["operator_phone"] = phone
    return ids


def test_an_organiser_booking_collected_cards_into_stays_is_named_with_his_phone(tmp_path):
    w = World()
    background(w)
    ids = _collected_cards_booked_into_stays(w)
    (ring,) = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
               if set(r.patients) & set(ids)]
    assert set(ring.patients) == set(ids) | {ORGANISER}
    assert ("phone", PHONE, "organiser phone") in [(m.type, m.id, m.role) for m in ring.members]
    assert ("patient", ORGANISER, "organiser") in [(m.type, m.id, m.role) for m in ring.members]
    booked = [e for e in ring.evidence if e.rule == "booked_by_one_organiser"]
    assert booked and booked[0].count == 7 and "四(3)" in booked[0].clause


def test_one_organiser_is_recruitment_as_one_home_place_is(tmp_path):
    """Without the organiser's phone the same people from three districts show no recruiter:
    the group scores lower than with it."""
    with_phone, without = World(), World()
    for w in (with_phone, without):
        background(w)
    ids = _collected_cards_booked_into_stays(with_phone)
    _collected_cards_booked_into_stays(without, phone="")
    (a, b) = (tmp_path / "a", tmp_path / "b")
    organised = [r for r in detect_fake_admissions(with_phone.load(a), Settings())
                 if set(r.patients) & set(ids)]
    unorganised = [r for r in detect_fake_admissions(without.load(b), Settings())
                   if set(r.patients) & set(ids)]
    assert organised and unorganised
    assert organised[0].score > unorganised[0].score + 0.05
    assert not any(e.rule == "booked_by_one_organiser" for e in unorganised[0].evidence)


def test_a_relative_booking_a_parents_stays_is_no_organiser(tmp_path):
    w = World()
    background(w)
    ids = _collected_cards_booked_into_stays(w, phone="")
    # one recruit's daughter books her mother's stays from her own phone: one household
    mother = next(p for p in w.patients if p["patient_id"] == ids[0])
    w.person("4500000000000098", birth="1980-01-01", phone="13900000066", address=mother["address"])
    for c in w.claims:
        if c["patient_id"] == ids[0] and c["claim_type"] == "inpatient":
            c["operator_phone"] = "13900000066"
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if set(r.patients) & set(ids)]
    assert rings and not any(m.role == "organiser phone" for m in rings[0].members)


def _strangers_admitted_together(w: World, n: int, fac: str, starts=(40, 150)) -> list[str]:
    """``n`` people of ``n`` different districts and households, admitted to ``fac`` together
    in two waves (on their 社保卡: no phone presents them)."""
    ids = [f"46000000000000{i:02d}" for i in range(n)]
    for i, pid in enumerate(ids):
        w.person(pid, birth=f"{1948 + i}-05-05", region=f"5101{10 + i:02d}",
                 address=f"四川省成都市某区某路{i + 1}号")
    for start in starts:
        for i, pid in enumerate(ids):
            _stay(w, pid, fac, start + i % 2, dx="M54.500")
    return ids


def test_a_dozen_strangers_admitted_together_twice_are_one_recruited_group(tmp_path):
    """Twelve people of twelve districts, no phone, no shared place: an organiser's collected
    社保卡 booked into two waves of stays at a private hospital. No chance brings a dozen
    strangers in together twice; the group's size stands for the organiser the claims do not
    show. One fake_admission ring of the twelve."""
    w = World()
    background(w)
    ids = _strangers_admitted_together(w, 12, "X1")
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if r.score >= Settings().min_score]
    assert [sorted(r.patients) for r in rings] == [sorted(ids)]


def test_three_strangers_admitted_together_twice_at_a_public_hospital_are_no_ring(tmp_path):
    """Three people of three districts in together twice at the county hospital: chance at a
    hospital's routine, nothing recruited them."""
    w = World()
    background(w)
    _strangers_admitted_together(w, 3, "H2")
    assert not [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
                if r.score >= Settings().min_score]
