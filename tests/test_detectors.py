"""Each detector on small hand-built cases: a planted ring and its legitimate look-alike."""

from __future__ import annotations

import dataclasses

from datetime import datetime, timedelta

import pandas as pd
import pytest

import graphkit as gk
from graphkit.detectors import (
    Context,
    detect_diversion,
    detect_fake_admissions,
    detect_gangs,
    detect_impersonation,
)
from graphkit.detect import detect
from graphkit.detectors.impersonation import card_signals
from graphkit.graph import EntityGraph
from graphkit.settings import Settings
from tests.datadir import write_dir


class World:
    """A tiny data directory under construction."""

    def __init__(self):
        self.patients, self.cards, self.claims, self.items = [], [], [], []
        self.institutions = [
            {"institution_id": "H1", "name": "市人民医院", "level": "三级", "ownership": "公立",
             "kind": "医院", "region": "510104"},
            {"institution_id": "H2", "name": "县医院", "level": "二级", "ownership": "公立",
             "kind": "医院", "region": "510121"},
            {"institution_id": "X1", "name": "康宁医院", "level": "未定级", "ownership": "民营",
             "kind": "医院", "region": "510121"},
            {"institution_id": "K1", "name": "社区卫生服务中心", "level": "一级", "ownership": "公立",
             "kind": "社区卫生服务中心", "region": "510104"},
        ]
        self.pharmacies = [{"pharmacy_id": f"P{i}", "name": f"药店{i}", "region": "510104"}
                           for i in range(1, 10)]
        self.n = 0

    def holders(self, n: int, prefix: str, digits: int = 2,
                regions=("510104", "510121", "510129")) -> list[str]:
        """``n`` people of ``regions`` in turn (three districts unless told), one household
        each (``prefix`` then the number in ``digits`` digits): unrelated card holders."""
        ids = [f"{prefix}{i:0{digits}d}" for i in range(n)]
        for i, pid in enumerate(ids):
            self.person(pid, region=regions[i % len(regions)])
        return ids

    def person(self, pid, *, gender="M", birth="1960-01-01", phone=None, address=None,
               region="510104", death=None, card=True):
        self.patients.append({"patient_id": pid, "name": "张" + pid[-2:], "gender": gender,
                              "birth_date": birth, "phone": phone or f"139{pid[-8:]}",
                              "address": address or f"{pid}号", "region": region,
                              "death_date": death or ""})
        if card:
            self.cards.append({"card_id": "C" + pid, "patient_id": pid, "card_type": "03"})
        return "C" + pid

    def claim(self, pid, fac, when, *, ctype="pharmacy", dx="", device="", phone="", fund=50.0,
              admit="", discharge="", doctor=""):
        self.n += 1
        cid = f"S{self.n:05d}"
        self.claims.append({
            "claim_id": cid, "patient_id": pid, "card_id": "C" + pid, "facility_id": fac,
            "claim_type": ctype, "settle_time": when.strftime("%Y-%m-%d %H:%M:%S"),
            "diagnosis_code": dx, "total_amount": fund * 1.25, "fund_amount": fund,
            "device_id": device, "operator_phone": phone, "admit_date": admit,
            "discharge_date": discharge, "doctor_id": doctor,
        })
        return cid

    def item(self, cid, name, trace, qty=1):
        self.items.append({"item_id": f"I{len(self.items) + 1:06d}", "claim_id": cid,
                           "item_name": name, "quantity": qty, "trace_code": trace,
                           "amount": 100.0 * qty})

    def load(self, tmp_path):
        tables = {"patients": self.patients, "cards": self.cards, "claims": self.claims,
                  "institutions": self.institutions, "pharmacies": self.pharmacies}
        if self.items:
            tables["claim_items"] = self.items
        write_dir(tmp_path, tables)
        ds = gk.load(tmp_path)
        assert ds.n_rejected == 0, ds.rejects.to_dict("records")
        return Context(EntityGraph(ds))


def day(n, hour=9, minute=0):
    return datetime(2024, 1, 1, hour, minute) + timedelta(days=n)


def background(w: World, n_people=30):
    """Ordinary people with scattered visits, so detectors see a population."""
    for i in range(n_people):
        pid = f"90000000000000{i:02d}"
        w.person(pid, gender="MF"[i % 2], birth=f"{1950 + i}-05-05")
        for k in range(6):
            w.claim(pid, f"P{1 + (i + k) % 9}", day((i * 7 + k * 31) % 300, 8 + (i + k) % 10, i),
                    dx="J06.900")


# --- gang --------------------------------------------------------------------------------------

def plant_gang(w: World, fac="P1", cards=8, days=6, *, prefix="11000000000000", first_day=10,
               hour=14, gap_minutes=2, device="DEV-P1-1"):
    """``cards`` collected cards of unrelated people swiped ``gap_minutes`` apart at ``fac``
    from ``hour`` o'clock, every 9 days from ``first_day``, ``days`` times."""
    ids = w.holders(cards, prefix)
    for d in range(days):
        for i, pid in enumerate(ids):
            w.claim(pid, fac, day(first_day + d * 9, hour) + timedelta(minutes=gap_minutes * i),
                    device=device, fund=180.0)
    return ids


def test_gang_found_with_its_cards_and_pharmacy(tmp_path):
    w = World()
    background(w)
    ids = plant_gang(w)
    rings = detect_gangs(w.load(tmp_path), Settings())
    best = max(rings, key=lambda r: r.score)
    assert best.score >= 0.5
    assert set(best.patients) == set(ids)
    assert ("pharmacy", "P1") in {(m.type, m.id) for m in best.members}
    assert any(e.rule == "lockstep_swipes" and e.count == 6 for e in best.evidence)


def test_a_gangs_organiser_is_the_adult_of_the_controller_phones_household(tmp_path):
    """The organiser presents the collected 电子凭证 from the household's one registered phone:
    the adult owner is named, not the child registered to the same phone."""
    w = World()
    background(w)
    organiser, child = "1200000000000001", "1200000000000002"
    w.person(organiser, birth="1975-03-03", phone="13800001111", address="幸福小区2栋")
    w.person(child, birth="2014-03-03", phone="13800001111", address="幸福小区2栋")
    ids = plant_gang(w)
    for c in w.claims:
        if c["patient_id"] in ids:
            c["operator_phone"] = "13800001111"
    ring = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert set(ids) < set(ring.patients)
    named = {m.id for m in ring.members if m.role.startswith("organiser")}
    assert named == {organiser}
    assert ("phone", "13800001111") in {(m.type, m.id) for m in ring.members}


def test_a_card_in_the_gangs_bursts_on_one_day_only_is_not_the_gangs(tmp_path):
    """Community detection may hand a group a card that was caught in one of its sessions once
    (a neighbour paying at the counter): a collected card is swiped with the others on several
    days, so the group is scored without it."""
    from graphkit.detectors.gang import _score_group, bursts

    w = World()
    background(w)
    ids = plant_gang(w)
    w.person("9700000000000000")
    w.claim("9700000000000000", "P1", day(10, 14, 15))  # inside the first session
    ctx = w.load(tmp_path)
    b = bursts(ctx, Settings()).reset_index(drop=True)
    rows = b.groupby("card_id", sort=False).indices
    cards = sorted("C" + p for p in ids + ["9700000000000000"])
    ring = _score_group(ctx, b, rows, cards, Settings())
    assert ring is not None and ring.score >= 0.5
    assert set(ring.patients) == set(ids)


def _spread_session(w: World, fac: str, usual_gap_minutes: int):
    """Eight collected cards swiped 30 minutes apart on six days at ``fac``, where ordinary
    people otherwise come two a day ``usual_gap_minutes`` apart."""
    for k in range(120):
        for j in range(2):
            pid = f"96000000000{k:03d}{j}"
            w.person(pid)
            w.claim(pid, fac, day(k * 2 + 1, 8) + timedelta(minutes=j * usual_gap_minutes),
                    dx="J06.900")
    return plant_gang(w, fac, hour=13, gap_minutes=30, device="")


def test_a_gang_cut_in_pieces_by_community_detection_is_one_ring(tmp_path):
    """Twenty-four collected cards in three thirds; each session swipes two of the thirds, in
    turn. Modularity cuts the gang into its thirds, but the organiser swiped them in the same
    sessions: one ring."""
    w = World()
    background(w)
    ids = plant_gang(w, "P1", 24, 0, device="")
    for d in range(8):
        for i, pid in enumerate(p for k, p in enumerate(ids) if (k + d) % 3):
            w.claim(pid, "P1", day(10 + d * 9, 14) + timedelta(minutes=i), fund=180.0)
    rings = [r for r in detect_gangs(w.load(tmp_path), Settings()) if r.score >= 0.5]
    assert [set(r.patients) for r in rings] == [set(ids)]


def test_a_gang_swiped_in_a_morning_and_an_afternoon_batch_is_one_ring(tmp_path):
    """Sixteen collected cards swiped in two batches on each visit day, eight in the morning and
    eight in the afternoon: the batches share no burst, but every session (the pharmacy and the
    day), so they are one organiser's, not two gangs."""
    w = World()
    background(w)
    morning = plant_gang(w, "P1", 8, 6, prefix="11000000000000", hour=9, device="")
    afternoon = plant_gang(w, "P1", 8, 6, prefix="11000000000001", hour=16, device="")
    rings = [r for r in detect_gangs(w.load(tmp_path), Settings()) if r.score >= 0.5]
    assert [set(r.patients) for r in rings] == [set(morning) | set(afternoon)]


def test_a_session_spread_over_an_afternoon_at_a_quiet_pharmacy_is_a_gang(tmp_path):
    """Where nobody else comes for hours, swipes half an hour apart are still one session."""
    w = World()
    ids = _spread_session(w, "P2", usual_gap_minutes=240)
    best = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert best.score >= 0.5
    assert set(best.patients) == set(ids)


def test_people_half_an_hour_apart_at_a_busy_pharmacy_are_no_session(tmp_path):
    """Where someone comes every 25 minutes anyway, 30 minutes apart links nobody."""
    w = World()
    _spread_session(w, "P2", usual_gap_minutes=25)
    assert all(r.score < 0.5 for r in detect_gangs(w.load(tmp_path), Settings()))


def _busy_pharmacy(w: World, fac: str, days, *, every_minutes=3, regulars=400):
    """Ordinary customers at ``fac`` every ``every_minutes`` from 8:00 to 18:00 on ``days``,
    drawn from ``regulars`` people: the pharmacy never has a quiet half hour."""
    import random

    ids = [f"97000000000{k:05d}" for k in range(regulars)]
    for pid in ids:
        w.person(pid)
    for d in days:
        who = random.Random(d)
        for m in range(0, 600, every_minutes):
            w.claim(who.choice(ids), fac, day(d, 8) + timedelta(minutes=m), dx="J06.900")
    return ids


def test_a_gang_swiping_in_minutes_at_a_pharmacy_busy_all_day_is_a_gang(tmp_path):
    """At a pharmacy with a customer every three minutes all day, one day's settlements chain
    into one run far too long to be a session; the gang's eight cards in a few minutes are a
    run much denser than the pharmacy's usual pace, and are found inside it."""
    w = World()
    gang_days = [10 + d * 9 for d in range(6)]
    _busy_pharmacy(w, "P1", sorted(set(range(0, 60)) | set(gang_days)))
    ids = plant_gang(w, "P1", hour=11, gap_minutes=0.5)
    best = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert best.score >= 0.5
    assert set(best.patients) == set(ids)


def test_regular_customers_of_a_busy_pharmacy_are_no_gang(tmp_path):
    """The same busy pharmacy without a gang: its regulars, some of whom come at the same
    hours on many days, make no ring."""
    w = World()
    _busy_pharmacy(w, "P1", range(0, 60), regulars=120)
    assert all(r.score < 0.5 for r in detect_gangs(w.load(tmp_path), Settings()))


def test_a_gang_that_registered_its_collected_people_on_its_own_phone_is_still_a_gang(tmp_path):
    """The organiser put one phone number on a dozen collected people's accounts: they live apart
    and are no family, so the shared number does not make them one household."""
    w = World()
    background(w)
    ids = plant_gang(w, cards=12)
    for p in w.patients:
        if p["patient_id"] in ids:
            p["phone"] = "13911112222"
    ring = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert ring.score >= 0.5
    assert set(ring.patients) == set(ids)
    # people.shared_line_owners decides how many owners make a phone no family's
    ds = gk.load(tmp_path)
    gangs = [r for r in gk.find_rings(ds).rings if r.typology == "gang"]
    assert [set(r.patients) for r in gangs] == [set(ids)]
    family = Settings.from_dict({"people": {"shared_line_owners": 13}})
    assert not [r for r in gk.find_rings(ds, family).rings if r.typology == "gang"]


def test_a_gangs_evidence_cites_the_clause_of_the_facility_its_swipes_concentrate_at(tmp_path):
    """Two sessions at a clinic, then six at a pharmacy: the pharmacy clause (二(7)) is cited,
    not the clinic's of the first swipe."""
    w = World()
    background(w)
    ids = plant_gang(w, fac="K1", days=2, first_day=1, device="DEV-K1-1")
    for d in range(6):
        for i, pid in enumerate(ids):
            w.claim(pid, "P1", day(40 + d * 9, 14) + timedelta(minutes=2 * i), device="DEV-P1-1")
    best = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert set(best.patients) == set(ids)
    rules = {e.rule for e in best.evidence}
    assert "lockstep_swipes_pharmacy" in rules and "lockstep_swipes_institution" not in rules


@pytest.mark.parametrize("coarse", ["四川省成都市大邑县泉白镇明林村", "四川省成都市大邑县泉白镇明林村3组",
                                    "四川省成都市金牛区营门路59号和平花园", "四川省成都市金牛区营门路",
                                    "四川省成都市金牛区"],
                         ids=["village", "village-group", "compound", "street", "district"])
def test_a_gang_whose_holders_give_only_their_village_as_address_is_still_a_gang(tmp_path, coarse):
    """Collected cards of one village whose holders' address reads only 「…明林村」 (or its 组,
    a compound with no building or room, a street with no number, a whole district): a village
    is not one family, so the shared address does not make them one household."""
    w = World()
    background(w)
    ids = plant_gang(w)
    for p in w.patients:
        if p["patient_id"] in ids:
            p["address"] = coarse
    ring = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert ring.score >= 0.5
    assert set(ring.patients) == set(ids)


def test_nursing_home_swiping_together_is_not_a_gang(tmp_path):
    w = World()
    background(w)
    ids = []
    for i in range(8):
        pid = f"12000000000000{i:02d}"
        w.person(pid, phone="02888880000", address="锦江区夕阳红养老院", birth="1935-01-01")
        ids.append(pid)
    for d in range(6):
        for i, pid in enumerate(ids):
            w.claim(pid, "K1", day(10 + d * 9, 10, i * 2), ctype="outpatient", dx="I10.x00",
                    device="DEV-K1-1")
    rings = detect_gangs(w.load(tmp_path), Settings())
    assert all(r.score < 0.5 for r in rings)


def _monthly_crowd(w: World, fac: str, ctype: str, dx: str, other_days=()):
    """Ten people at ``fac`` on the 15th of eight months, 25 minutes apart, where nobody else
    comes for hours on other days; four of them also meet there on each of ``other_days``."""
    for k in range(200):
        pid = f"9610000000000{k:03d}"
        w.person(pid)
        w.claim(pid, fac, day(k // 2 * 3 + 1, 8 + k % 2 * 5), dx="J06.900", ctype=ctype)
    ids = []
    for i in range(10):
        pid = f"13000000000000{i:02d}"
        w.person(pid, birth="1950-01-01")
        ids.append(pid)
    for m in range(1, 9):
        for i, pid in enumerate(ids):
            w.claim(pid, fac, datetime(2024, m, 15, 8) + timedelta(minutes=25 * i), dx=dx,
                    ctype=ctype)
    for when in other_days:
        for i, pid in enumerate(ids[:4]):
            w.claim(pid, fac, when + timedelta(minutes=25 * i), dx=dx, ctype=ctype)
    return ids


@pytest.mark.parametrize("dx", ["I10.x00", ""], ids=["coded", "no-diagnosis-on-record"])
@pytest.mark.parametrize("other_days", [(), (datetime(2024, 3, 3, 9), datetime(2024, 6, 22, 9))],
                         ids=["refill-days-only", "two-other-meetings"])
def test_chronic_patients_on_their_clinics_monthly_refill_day_are_not_a_gang(tmp_path, other_days,
                                                                              dx):
    """Eight refill days; some of the patients also meet at the clinic on two other days
    (eight of ten days on one date each month is still a refill day). Where the clinic's visits
    carry no diagnosis, the date alone tells: a clinic, one date each month."""
    w = World()
    _monthly_crowd(w, "K1", "outpatient", dx, other_days)
    ctx = w.load(tmp_path)
    rings = detect_gangs(ctx, Settings())
    assert rings, "the crowd is grouped"
    assert all(r.score < 0.5 for r in rings)
    assert any(e.rule == "lookalike_chronic_refill_day" for r in rings for e in r.evidence)


def test_a_gang_swiping_at_a_pharmacy_on_one_date_each_month_is_still_a_gang(tmp_path):
    """Swiping when the monthly quota renews is no refill day: a pharmacy settles no diagnosis."""
    w = World()
    ids = _monthly_crowd(w, "P3", "pharmacy", "")
    best = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert best.score >= 0.5
    assert set(best.patients) == set(ids)


@pytest.mark.parametrize("dx", ["N18.500", ""], ids=["coded", "no-diagnosis-on-record"])
def test_dialysis_cohort_is_not_a_gang(tmp_path, dx):
    """Eight patients at one hospital every Monday, Wednesday and Friday for ten weeks. Without
    diagnoses on record, thirty days on the same three weekdays are the schedule."""
    w = World()
    background(w)
    ids = w.holders(8, "13000000000000", regions=("510104",))
    for week in range(10):
        for wd in (0, 2, 4):  # Mon, Wed, Fri (2024-01-01 is a Monday)
            for i, pid in enumerate(ids):
                w.claim(pid, "H1", day(week * 7 + wd, 12, i * 3), ctype="outpatient",
                        dx=dx, device="DEV-H1-7", fund=400.0)
    rings = detect_gangs(w.load(tmp_path), Settings())
    assert all(r.score < 0.5 for r in rings)


def test_a_gang_at_a_clinic_with_no_diagnosis_on_record_is_still_a_gang(tmp_path):
    """Fourteen sessions at a clinic whose visits carry no diagnosis, every nine days: neither
    the same weekdays nor one date each month, so no schedule explains them."""
    w = World()
    background(w)
    ids = plant_gang(w, fac="K1", days=14, device="DEV-K1-1")
    best = max(detect_gangs(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert best.score >= 0.5
    assert set(best.patients) == set(ids)
    assert not [e for e in best.evidence if e.rule.startswith("lookalike")]


def test_two_gangs_sharing_a_refill_day_crowd_stay_two_rings(tmp_path):
    """Patients who happen to queue in both gangs' bursts bind no two gangs into one."""
    w = World()
    background(w)
    gangs = {"P1": [f"1400000000011{i:03d}" for i in range(6)],
             "P2": [f"1400000000012{i:03d}" for i in range(6)]}
    crowd = [f"1400000000013{i:03d}" for i in range(6)]
    for pid in [p for ids in gangs.values() for p in ids] + crowd:
        w.person(pid, region="510104")
    for k, (fac, ids) in enumerate(gangs.items()):
        for d in range(5):
            queue = ids + crowd[(d + k) % 6:(d + k) % 6 + 2]
            for i, pid in enumerate(queue):
                w.claim(pid, fac, day(10 + d * 9 + k, 14, i * 3), device=f"DEV-{fac}-1", fund=180.0)
    rings = [r for r in detect_gangs(w.load(tmp_path), Settings()) if r.score >= 0.5]
    found = sorted(sorted(set(r.patients) & {p for ids in gangs.values() for p in ids})
                   for r in rings)
    assert found == sorted(sorted(ids) for ids in gangs.values())


# --- impersonation -----------------------------------------------------------------------------

def test_dead_holders_card_used_repeatedly_is_impersonation(tmp_path):
    w = World()
    background(w)
    w.person("2100000000000001", gender="F", birth="1940-01-01", death="2024-02-01")
    for k in range(4):
        w.claim("2100000000000001", "K1", day(60 + k * 20), ctype="outpatient", dx="N40.x00")
    rings = detect_impersonation(w.load(tmp_path), Settings())
    ring = max(rings, key=lambda r: r.score)
    assert ring.score >= 0.5
    assert ring.patients == ["2100000000000001"]
    assert {e.rule for e in ring.evidence} == {"claims_after_death", "diagnosis_sex_age_mismatch"}


def test_death_in_hospital_settled_later_is_innocent(tmp_path):
    w = World()
    background(w)
    w.person("2200000000000001", death="2024-03-05")
    w.claim("2200000000000001", "H1", day(66), ctype="inpatient", dx="I63.900",
            admit="2024-02-20", discharge="2024-03-05", fund=9000.0)
    ctx = w.load(tmp_path)
    assert detect_impersonation(ctx, Settings()) == []


def test_newborn_on_mothers_card_is_innocent(tmp_path):
    w = World()
    background(w)
    w.person("2300000000000001", gender="F", birth="1994-01-01")
    w.claim("2300000000000001", "H1", day(40), ctype="inpatient", dx="P07.300",
            admit="2024-02-01", discharge="2024-02-08", fund=3000.0)
    assert detect_impersonation(w.load(tmp_path), Settings()) == []


def test_newborn_code_on_a_grandparents_or_childs_card_is_impossible(tmp_path):
    """新生儿随母 explains a perinatal code on a parent's card, not on a 70-year-old's or a
    10-year-old's: there it is a diagnosis impossible for the holder like any other."""
    from graphkit.detectors.impersonation import demographic_mismatch

    codes = pd.Series(["P07.300", "P07.300", "P07.300", "Z38.000", "P07.300", "P07.300"])
    sex = pd.Series(["F", "F", "M", "M", "F", "M"])
    age = pd.Series([71.0, 10.0, 80.0, 6.0, 30.0, 0.1])
    bad, meaning = demographic_mismatch(codes, sex, age)
    assert bad.tolist() == [True, True, True, True, False, False]
    assert meaning[0].startswith("新生儿")


def test_one_phone_presenting_unrelated_cards_with_wrong_diagnoses(tmp_path):
    w = World()
    background(w)
    ids = [f"24000000000000{i:02d}" for i in range(3)]
    for pid in ids:
        w.person(pid, gender="M", birth="1950-01-01")
    for k, pid in enumerate(ids):
        for j in range(2):
            w.claim(pid, "K1", day(30 + k * 10 + j * 40), ctype="outpatient", dx="O80.000",
                    phone="13712345678")
    ring = max(detect_impersonation(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert ring.score >= 0.5
    assert set(ring.patients) == set(ids)
    assert ("phone", "13712345678") in {(m.type, m.id) for m in ring.members}


def _carried_device(w: World, device_at):
    """Three unrelated people's cards presented three times each, from one device, at the
    facilities ``device_at(k)`` gives for the k-th presentation; nothing else is wrong."""
    ids = [f"27000000000000{i:02d}" for i in range(3)]
    for pid in ids:
        w.person(pid, birth="1970-01-01")
    for k in range(9):
        pid = ids[k % 3]
        w.claim(pid, device_at(k), day(40 + k * 11), ctype="outpatient", dx="J06.900",
                device="SCAN-77")
    return ids


def test_one_device_carried_between_facilities_presenting_unrelated_cards(tmp_path):
    """A terminal stays at its facility: one device presenting three households' cards at a
    clinic and two pharmacies goes where one person goes."""
    w = World()
    background(w)
    ids = _carried_device(w, lambda k: ["K1", "P2", "P3"][k % 3])
    ring = max(detect_impersonation(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert ring.score >= 0.5
    assert set(ring.patients) == set(ids)
    assert ("device", "SCAN-77") in {(m.type, m.id) for m in ring.members}
    assert {e.rule for e in ring.evidence} == {"device_presents_unrelated_cards"}


def test_a_small_clinics_terminal_presenting_its_few_patients_cards_is_no_controller(tmp_path):
    w = World()
    background(w)
    _carried_device(w, lambda k: "K1")
    rings = detect_impersonation(w.load(tmp_path), Settings())
    assert not [r for r in rings if r.score >= 0.5]


def test_a_nursing_homes_shared_line_names_no_resident_as_the_user(tmp_path):
    """Twelve residents register the home's one phone; a dead resident's card keeps being
    presented from it. The card is reported; no resident is named as the one using it."""
    w = World()
    background(w)
    ids = [f"26000000000000{i:02d}" for i in range(12)]
    for pid in ids:
        w.person(pid, phone="02866660000", address="锦江区夕阳红养老院", birth="1950-01-01",
                 death="2024-02-01" if pid == ids[0] else None)
    for k in range(4):
        w.claim(ids[0], "K1", day(60 + k * 20), ctype="outpatient", dx="I10.x00",
                phone="02866660000")
    rings = [r for r in detect_impersonation(w.load(tmp_path), Settings()) if r.score >= 0.5]
    assert [r.patients for r in rings] == [[ids[0]]]


def _line_and_impersonator(w: World):
    """A clinic that put its own line on every claim it settled, for 20 people of 20 households,
    and one person presenting two unrelated people's cards again and again at the clinic."""
    patients = [f"26100000000000{i:02d}" for i in range(20)]
    for i, pid in enumerate(patients):
        w.person(pid, birth="1950-01-01")
        for k in range(3):
            w.claim(pid, "K1", day(20 + i * 5 + k * 60), ctype="outpatient", dx="I10.x00",
                    phone="02885422114")
    user, a, b = "2610000000000101", "2610000000000102", "2610000000000103"
    w.person(user, birth="1980-01-01", phone="13900000101")
    for pid in (a, b):
        w.person(pid, birth="1960-01-01")
    for k in range(4):
        w.claim(a, "K1", day(22 + k * 30), ctype="outpatient", dx="J06.900", phone="13900000101")
        w.claim(b, "P2", day(27 + k * 30), dx="J06.900", phone="13900000101")
    return user, a, b


def test_a_facilitys_line_on_every_claim_presents_for_no_one(tmp_path):
    """A phone that presented 20 households' cards is a facility's line (or an export's default
    number), not a person's: it yields no ring and ties no one together, and the person
    presenting two borrowed cards beside it is still one ring of three."""
    w = World()
    background(w)
    user, a, b = _line_and_impersonator(w)
    rings = [r for r in detect_impersonation(w.load(tmp_path), Settings()) if r.score >= 0.5]
    assert [sorted(r.patients) for r in rings] == [sorted([user, a, b])]
    uncapped = dataclasses.replace(Settings(), impersonation=dataclasses.replace(
        Settings().impersonation, phone_max_cards=30))
    lines = detect_impersonation(w.load(tmp_path), uncapped)
    assert any(len(r.patients) >= 19 for r in lines if r.score >= 0.5)  # what the cap prevents


def _unregistered_family_phone(w: World, *, strangers: int):
    """A couple at one address whose phone is registered to no one presents both their cards
    (five times each), an elderly parent's living elsewhere (four times), and ``strangers``
    unrelated people's (four times each)."""
    couple = ["2620000000000001", "2620000000000002"]
    for pid in couple:
        w.person(pid, birth="1975-01-01", address="锦江区东大街8号2栋301")
        w.patients[-1]["phone"] = ""
    others = ["2620000000000003"] + [f"26200000000001{i:02d}" for i in range(strangers)]
    for pid in others:
        w.person(pid, birth="1948-01-01")
    for k in range(5):
        for pid in couple:
            w.claim(pid, "P1", day(10 + k * 40), dx="J06.900", phone="13600000001")
    for i, pid in enumerate(others):
        for k in range(4):
            w.claim(pid, "P1", day(15 + i + k * 50), dx="I10.x00", phone="13600000001")
    return couple, others


def test_a_family_phone_registered_to_no_one_is_its_familys(tmp_path):
    """The phone is taken to be the household's whose cards it presented most: showing its own
    couple's cards and a parent's is one other household, not a ring (before, the couple's own
    cards counted as unrelated, and this was reported)."""
    w = World()
    background(w)
    _unregistered_family_phone(w, strangers=0)
    assert [r for r in detect_impersonation(w.load(tmp_path), Settings()) if r.score >= 0.5] == []


def test_the_user_of_an_unregistered_phone_is_the_adult_it_presents_most(tmp_path):
    """The phone is the couple's; the one whose own card it presented most is the one using
    it, and is named as the ring's user (the spouse is not)."""
    w = World()
    background(w)
    couple, others = _unregistered_family_phone(w, strangers=2)
    w.claim(couple[1], "P1", day(300), dx="J06.900", phone="13600000001")
    ring = max(detect_impersonation(w.load(tmp_path), Settings()), key=lambda r: r.score)
    users = [m.id for m in ring.members if m.role.startswith("user")]
    assert users == [couple[1]]
    assert sorted(ring.patients) == sorted(others + [couple[1]])


def test_a_card_buyers_unregistered_phone_presenting_two_peoples_cards_is_a_ring(tmp_path):
    """The buyer is insured nowhere in the data; both people whose cards it presents present
    them from phones of their own too, so neither household is taken for the phone's owner."""
    w = World()
    background(w)
    a, b = "2630000000000001", "2630000000000002"
    for pid in (a, b):
        w.person(pid, birth="1950-01-01")
        w.claim(pid, "K1", day(5), ctype="outpatient", dx="I10.x00", phone=f"139{pid[-8:]}")
    for k in range(6):
        w.claim(a, "P1", day(10 + k * 40), dx="J06.900", phone="13600000999")
    for k in range(3):
        w.claim(b, "P2", day(12 + k * 60), dx="J06.900", phone="13600000999")
    rings = [r for r in detect_impersonation(w.load(tmp_path), Settings()) if r.score >= 0.5]
    assert [sorted(r.patients) for r in rings] == [sorted([a, b])]


def test_an_unregistered_phone_presenting_two_strangers_cards_is_still_a_ring(tmp_path):
    w = World()
    background(w)
    couple, others = _unregistered_family_phone(w, strangers=2)
    rings = [r for r in detect_impersonation(w.load(tmp_path), Settings()) if r.score >= 0.5]
    # the couple presented their own cards equally often: the smaller id is named the user
    assert [sorted(r.patients) for r in rings] == [sorted(others + [couple[0]])]


@pytest.mark.parametrize("detector", [detect_gangs, detect_impersonation])
def test_a_context_built_for_other_people_settings_is_refused(tmp_path, detector):
    """Households and users are read by the Context's people settings: a detector given other
    ones would mix two sets of thresholds, so it says so instead."""
    from graphkit.errors import SettingsError
    from graphkit.settings import PeopleSettings

    w = World()
    background(w)
    ctx = w.load(tmp_path)
    other = dataclasses.replace(Settings(), people=PeopleSettings(shared_line_owners=5))
    with pytest.raises(SettingsError, match="Context"):
        detector(ctx, other)
    ok = Context(ctx.graph, other.people)
    assert detector(ok, other) == []


def test_weak_signals_together_do_not_make_a_ring(tmp_path):
    """A referral across districts and a transfer overlap: both innocent, together still no ring."""
    w = World()
    background(w)
    pid = "2500000000000001"
    w.person(pid)
    w.claim(pid, "H1", day(20, 9), ctype="outpatient", dx="I10.x00")
    w.claim(pid, "H2", day(20, 10), ctype="outpatient", dx="I10.x00")
    w.claim(pid, "H1", day(80), ctype="inpatient", dx="J18.900", admit="2024-03-10",
            discharge="2024-03-20", fund=4000.0)
    w.claim(pid, "X1", day(85), ctype="inpatient", dx="J18.900", admit="2024-03-14",
            discharge="2024-03-25", fund=4000.0)
    ctx = w.load(tmp_path)
    sig = card_signals(ctx, Settings())
    assert set(sig.loc[sig["card_id"] == "C" + pid, "signal"]) == {"two_places_one_day",
                                                                   "overlapping_stays"}
    assert detect_impersonation(ctx, Settings()) == []


def test_another_households_phone_on_a_card_with_impossible_diagnoses(tmp_path):
    """One borrowed card, presented by the user's phone: the user is named, not their child."""
    w = World()
    background(w)
    holder, user, child = "2600000000000001", "2600000000000002", "2600000000000003"
    w.person(holder, gender="M", birth="1950-01-01")
    w.person(user, gender="F", birth="1985-01-01", phone="13600000002", address="幸福小区1栋")
    w.person(child, gender="F", birth="2015-01-01", phone="13600000002", address="幸福小区1栋")
    for k in range(3):
        w.claim(holder, "K1", day(30 + k * 30), ctype="outpatient", dx="N76.000",
                phone="13600000002")
    ring = max(detect_impersonation(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert ring.score >= Settings().min_score
    assert set(ring.patients) == {holder, user}
    assert {e.rule for e in ring.evidence} == {"diagnosis_sex_age_mismatch",
                                               "presented_by_another_household"}
    roles = {(m.type, m.id): m.role for m in ring.members}
    assert roles[("patient", user)].startswith("user")


def test_the_same_impossibility_on_two_peoples_cards_needs_no_second_kind(tmp_path):
    w = World()
    background(w)
    ids = ["2700000000000001", "2700000000000002"]
    for pid in ids:
        w.person(pid, gender="M", birth="1950-01-01", phone="13700000001", address="同一户")
    for k, pid in enumerate(ids):
        w.claim(pid, "K1", day(40 + k * 30), ctype="outpatient", dx="N76.000", phone="13700000001")
    one = [r for r in detect_impersonation(w.load(tmp_path), Settings())]
    assert len(one) == 1 and set(one[0].patients) == set(ids)
    assert one[0].score >= Settings().min_score


def test_a_phone_with_only_weak_signals_takes_in_no_phoneless_card(tmp_path):
    """A dead holder's card used at the places a phone's cards go is not joined to that phone
    when all its holder's card shows is a cross-district day: that makes no controller."""
    w = World()
    background(w)
    dead, other = "2800000000000001", "2800000000000002"
    w.person(dead, gender="F", birth="1940-01-01", death="2024-02-01")
    w.person(other, birth="1970-01-01", phone="13800000028")
    for k in range(4):
        w.claim(dead, ["P1", "K1"][k % 2], day(60 + k * 10), ctype="outpatient" if k % 2 else
                "pharmacy", dx="I10.x00")
    w.claim(other, "K1", day(20, 9), ctype="outpatient", dx="I10.x00", phone="13800000028")
    w.claim(other, "H2", day(20, 10), ctype="outpatient", dx="I10.x00", phone="13800000028")
    w.claim(other, "P1", day(25), dx="I10.x00", phone="13800000028")
    rings = detect_impersonation(w.load(tmp_path), Settings())
    assert [r.patients for r in rings] == [[dead]]


def test_a_dead_holders_card_used_where_a_phones_cards_go_is_not_joined_to_it(tmp_path):
    """The user's phone presented one neighbour's card (weak on its own); a dead holder's card
    used at the same places shares no phone, device, doctor session or household with it:
    shared places join nothing, so the dead card is a ring of its own and the phone's weak
    presentation alone makes none."""
    w = World()
    background(w)
    dead, holder, user = "2800000000000011", "2800000000000012", "2800000000000013"
    w.person(dead, gender="F", birth="1940-01-01", death="2024-02-01")
    w.person(holder, birth="1970-01-01")
    w.person(user, birth="1980-01-01", phone="13900000077")
    for k in range(4):
        w.claim(dead, ["P1", "K1"][k % 2], day(60 + k * 10), ctype="outpatient" if k % 2 else
                "pharmacy", dx="I10.x00")
    for k in range(3):
        w.claim(holder, ["K1", "P1"][k % 2], day(20 + k * 7), ctype="pharmacy" if k % 2 else
                "outpatient", dx="I10.x00", phone="13900000077")
    rings = detect_impersonation(w.load(tmp_path), Settings())
    assert [sorted(r.patients) for r in rings] == [[dead]]


def test_a_card_with_one_suspect_claim_at_a_phones_places_is_not_joined_to_it(tmp_path):
    """A card with one impossible diagnosis used where a phone's borrowed cards go is not taken
    into that phone's ring: nothing but places ties them, and one claim alone is no ring."""
    w = World()
    background(w)
    lent, holder, user = "2800000000000021", "2800000000000022", "2800000000000023"
    w.person(lent, gender="M", birth="1950-01-01")
    w.person(holder, gender="M", birth="1950-01-01")
    w.person(user, gender="F", birth="1980-01-01", phone="13900000088")
    for k in range(3):
        w.claim(holder, ["K1", "P1"][k % 2], day(20 + k * 7), ctype="pharmacy" if k % 2 else
                "outpatient", dx="N76.000", phone="13900000088")
    w.claim(lent, "K1", day(70), ctype="outpatient", dx="N76.000")
    for k in range(3):
        w.claim(lent, "P1", day(80 + k * 9), dx="J06.900")
    rings = detect_impersonation(w.load(tmp_path), Settings())
    assert [sorted(r.patients) for r in rings] == [sorted([holder, user])]


def test_a_phoneless_card_joins_no_controller_by_the_places_it_shares(tmp_path):
    """Two controllers use the same clinic and pharmacy, one mostly the clinic: a dead holder's
    card used mostly at the clinic joins neither (which of them used it, if either, nothing in
    the claims says): three rings, none tied by places."""
    w = World()
    background(w)
    for i, (clinic, shop) in enumerate([(4, 1), (1, 4)], start=1):
        holder, user = f"290000000000010{i}", f"290000000000020{i}"
        w.person(holder, gender="M", birth="1950-01-01")
        w.person(user, birth="1980-01-01", phone=f"1381111000{i}")
        for k in range(clinic):
            w.claim(holder, "K1", day(30 + k * 7 + i), ctype="outpatient", dx="N76.000",
                    phone=f"1381111000{i}")
        for k in range(shop):
            w.claim(holder, "P1", day(31 + k * 7 + i), dx="N76.000", phone=f"1381111000{i}")
    dead = "2900000000000300"
    w.person(dead, gender="F", birth="1935-01-01", death="2024-01-20")
    for k in range(4):
        w.claim(dead, "K1", day(40 + k * 9), ctype="outpatient", dx="I10.x00")
    w.claim(dead, "P1", day(80), dx="I10.x00")
    rings = detect_impersonation(w.load(tmp_path), Settings())
    assert sorted(sorted(r.patients) for r in rings) == [
        ["2900000000000101", "2900000000000201"], ["2900000000000102", "2900000000000202"],
        [dead]]
    assert not [e for r in rings for e in r.evidence if e.rule == "tied_by_places"]


def test_one_phone_presenting_two_unrelated_peoples_cards_again_and_again(tmp_path):
    """The contract's 'one phone presenting several people's cards', with no other signal: a
    ring when each card was presented repeatedly, not for a favour done once or twice."""
    w = World()
    background(w)
    user = "2900000000000501"
    w.person(user, birth="1980-01-01", phone="13900000501")
    a, b, c, d = (f"290000000000050{i}" for i in range(2, 6))
    for pid in (a, b, c, d):
        w.person(pid, birth="1960-01-01")
    for k in range(4):
        w.claim(a, "P1", day(20 + k * 30), dx="I10.x00", phone="13900000501")
        w.claim(b, "P2", day(25 + k * 30), dx="I10.x00", phone="13900000501")
    w.claim(c, "P3", day(40), dx="I10.x00", phone="13900000599")  # favours, once each
    w.claim(d, "P3", day(41), dx="I10.x00", phone="13900000599")
    rings = detect_impersonation(w.load(tmp_path), Settings())
    assert [sorted(r.patients) for r in rings] == [sorted([user, a, b])]


def test_a_gangs_collected_cards_are_not_also_impersonation(tmp_path):
    w = World()
    background(w)
    ids = plant_gang(w)
    for pid in ids[:3]:  # the gang's phone also presents three of the cards between bursts
        w.claim(pid, "K1", day(200 + int(pid[-2:])), ctype="outpatient", dx="N76.000",
                phone="13900000009")
    ctx = w.load(tmp_path)
    gang = [r for r in detect_gangs(ctx, Settings()) if r.score >= Settings().min_score]
    assert gang and set(ids[:3]) <= set(gang[0].patients)
    gang_cards = {m.id for r in gang for m in r.members if m.type == "card"}
    rings = detect_impersonation(ctx, Settings(), exclude_cards=gang_cards)
    assert not [r for r in rings if set(r.patients) & set(ids)]
    # the pipeline hands impersonation the gang's cards; on its own it would report them
    assert [r for r in detect_impersonation(ctx, Settings()) if set(r.patients) & set(ids)]


# --- diversion ---------------------------------------------------------------------------------

def trace(n):
    return f"8{n:019d}"


def plant_chain(w: World, mules: list[str], visits: int, buyer: str, resold, *, resold_from: int,
                phone: str = "") -> None:
    """Each mule collects 3 packs of insulin a visit at H1/H2/K1 (trace codes numbered in order,
    mule by mule); ``buyer`` settles the packs numbered ``resold`` again at pharmacy P9."""
    code = 0
    for m in mules:
        for k in range(visits):
            cid = w.claim(m, ["H1", "H2", "K1"][k % 3], day(20 + k * 15), ctype="outpatient",
                          dx="E11.900", phone=phone)
            for _ in range(3):
                code += 1
                w.item(cid, "甘精胰岛素注射液", trace(code))
    w.person(buyer)
    for c in resold:
        w.item(w.claim(buyer, "P9", day(resold_from + c), fund=90.0), "甘精胰岛素注射液", trace(c))


def test_packs_resettled_at_another_pharmacy_make_a_chain(tmp_path):
    w = World()
    background(w)
    mules = [f"31000000000000{i:02d}" for i in range(3)]
    for m in mules:
        w.person(m)
    plant_chain(w, mules, 4, "3200000000000001", (1, 5, 13, 17, 25), resold_from=120)
    ring = max(detect_diversion(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert ring.score >= 0.5
    assert set(ring.patients) >= {"3100000000000000", "3100000000000001", "3100000000000002"}
    assert ("pharmacy", "P9") in {(m.type, m.id) for m in ring.members}
    assert any(e.rule == "trace_code_resettled" and e.count == 5 for e in ring.evidence)


def test_a_mule_card_with_impossible_diagnoses_is_the_chains_not_impersonation(tmp_path):
    """A child's card used for an adult's insulin in a diversion chain is reported once, as
    diversion; in one process or two (the diversion worker hands its cards over)."""
    w = World()
    background(w)
    child = "3300000000000001"
    w.person(child, birth="2016-01-01", phone="13300000001", address="柳太镇五友村3组22号")
    plant_chain(w, [child], 6, "3300000000000002", (1, 5, 9, 13), resold_from=130,
                phone="13300000009")
    ctx = w.load(tmp_path)
    assert set(card_signals(ctx, Settings())["signal"]) >= {"diagnosis_sex_age_mismatch"}
    chains = detect_diversion(ctx, Settings())
    assert [r.patients for r in chains][0][:1] == [child]
    mules = {m.id for r in chains for m in r.members if m.type == "card"}
    assert not [r for r in detect_impersonation(ctx, Settings(), exclude_cards=mules)
                if child in r.patients]
    rings = detect(ctx.dataset, Settings(), workers=2)
    assert [r.typology for r in rings if child in r.patients] == ["diversion"]


def test_refund_and_resettle_at_the_same_pharmacy_is_innocent(tmp_path):
    w = World()
    background(w)
    w.person("3300000000000001")
    for k in range(5):
        c1 = w.claim("3300000000000001", "P3", day(40 + k, 10))
        w.item(c1, "阿托伐他汀钙片", trace(500 + k))
        c2 = w.claim("3300000000000001", "P3", day(40 + k, 10, 20))
        w.item(c2, "阿托伐他汀钙片", trace(500 + k))
    assert detect_diversion(w.load(tmp_path), Settings()) == []


# --- fake admission ----------------------------------------------------------------------------

def _stay(w: World, pid: str, fac: str, start: int, los: int = 7, dx: str = "J18.900"):
    """An inpatient stay of ``pid`` at ``fac`` from day ``start``, ``los`` days long."""
    a = day(start)
    dsc = a + timedelta(days=los)
    w.claim(pid, fac, dsc, ctype="inpatient", dx=dx, fund=4000.0,
            admit=a.strftime("%Y-%m-%d"), discharge=dsc.strftime("%Y-%m-%d"))


def test_co_admissions_on_a_busy_hospital_day_pair_no_one(tmp_path):
    """Six people admitted to one hospital on each of two days are co-admitted twice; when six
    is more than the hospital's busy-day threshold, being admitted there those days ties no one
    (a big hospital at its routine, whose n admissions would make n² pairs). Asking for two
    episodes keeps the same pairs as filtering afterwards."""
    from graphkit.detectors.fake_admission import co_admissions

    w = World()
    ids = [f"28100000000000{i:02d}" for i in range(6)]
    for pid in ids:
        w.person(pid)
        _stay(w, pid, "H1", 30)
        _stay(w, pid, "H1", 90)
    ctx = w.load(tmp_path)
    quiet = co_admissions(ctx, Settings())
    assert len(quiet) == 15 and set(quiet["episodes"]) == {2}  # 6 choose 2, twice each
    assert co_admissions(ctx, Settings(), min_episodes=2).equals(quiet)
    assert co_admissions(ctx, Settings(), min_episodes=3).empty
    busy = Settings.from_dict({"fake_admission": {"busy_day_admissions": 5}})
    assert co_admissions(ctx, busy).empty


def test_recruited_group_admitted_together_repeatedly(tmp_path):
    w = World()
    background(w)
    ids = [f"41000000000000{i:02d}" for i in range(6)]
    for pid in ids:
        w.person(pid, region="510121", birth="1950-01-01")
    for start in (30, 95, 170):
        for i, pid in enumerate(ids):
            _stay(w, pid, "X1", start + i % 2)
    rings = detect_fake_admissions(w.load(tmp_path), Settings())
    ring = max(rings, key=lambda r: r.score)
    assert ring.score >= 0.5
    assert set(ring.patients) == set(ids)
    assert any(e.rule == "repeated_co_admission" and e.count == 3 for e in ring.evidence)


def test_two_groups_a_hospital_admitted_on_close_days_stay_two_rings(tmp_path):
    """Two recruited groups of five, no addresses on record: the private hospital admitted them
    two days apart twice, so every pair across them was co-admitted twice too. Each group came
    a third time on its own and has its own complaint: they are two rings, not one of ten."""
    w = World()
    background(w)
    groups = []
    for g, (dx, third) in enumerate((("M54.500", 200), ("E11.900", 250))):
        ids = [f"4010000000000{g}{i:02d}" for i in range(5)]
        for pid in ids:
            w.person(pid, region="510121", birth="1955-01-01")
        for start in (30 + 2 * g, 95 + 2 * g, third):
            for i, pid in enumerate(ids):
                _stay(w, pid, "X1", start + i % 2, dx=dx)
        groups.append(ids)
    for p in w.patients:
        p["address"] = ""
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if r.score >= Settings().min_score]
    assert sorted(sorted(r.patients) for r in rings) == groups


def test_pair_weights_follow_shared_waves_and_diagnoses(tmp_path):
    """Four people admitted together three times: pairs with one complaint weigh their three
    waves × 1.1; a pair of different complaints a tenth of that; a patient with no diagnosis
    recorded is no different from anyone. A fifth came in on two of those waves and two others
    of her own: two shared of the five waves either pair member was in, (2/5)² of the weight."""
    from graphkit.detectors.fake_admission import co_admissions, pair_weights

    w = World()
    ids = [f"4020000000000{i:03d}" for i in range(5)]
    dxs = ["M54.500", "M54.500", "J18.900", "", "M54.500"]
    for pid in ids:
        w.person(pid, region="510121")
    for start in (30, 95, 170):
        for pid, dx in zip(ids[:4], dxs):
            _stay(w, pid, "X1", start, dx=dx)
    for start in (95, 170, 240, 300):
        _stay(w, ids[4], "X1", start, dx="M54.500")
    ctx = w.load(tmp_path)
    pairs = co_admissions(ctx, Settings(), min_episodes=2)
    got = {(a[-1], b[-1]): round(float(x), 4) for a, b, x in
           zip(pairs["patient_a"], pairs["patient_b"], pair_weights(ctx, pairs))}
    assert got == {("0", "1"): 3.3, ("0", "2"): 0.3, ("0", "3"): 3.3, ("1", "2"): 0.3,
                   ("1", "3"): 3.3, ("2", "3"): 3.3,
                   ("0", "4"): 0.352, ("1", "4"): 0.352, ("2", "4"): 0.032, ("3", "4"): 0.352}


def villagers(w: World, prefix: str, n: int, *, home="四川省成都市大邑县桥兴镇民峰村{}组{}号"):
    """``n`` people of one village (``home`` formatted with their 组 and house number)."""
    ids = [f"{prefix}{i:03d}" for i in range(n)]
    for i, pid in enumerate(ids):
        w.person(pid, region="510129", birth="1955-01-01", address=home.format(i + 1, 10 + i))
    return ids


@pytest.mark.parametrize("home, elsewhere", [
    ("四川省成都市大邑县桥兴镇民峰村{}组{}号", "四川省成都市大邑县晋原镇金星社区5号"),
    # an unnamed city compound: the street number, not the 街道 both addresses are in
    ("四川省成都市金牛区泉光街道光华路84号{}栋{}单元", "四川省成都市金牛区泉光街道光华路90号2栋1单元"),
], ids=["village", "city-compound"])
def test_a_recruit_who_went_along_once_joins_the_group_a_neighbour_in_for_else_does_not(
        tmp_path, home, elsewhere):
    """Five villagers go in together three times; a sixth went along once with the group's
    complaint and is the group's. Another villager admitted on a wave's days for a fracture, and
    someone from elsewhere admitted with the group's complaint, are not."""
    w = World()
    background(w)
    ids = villagers(w, "4400000000000", 7, home=home) + ["4400000000000007"]
    w.person(ids[7], region="510129", birth="1955-01-01", address=elsewhere)
    for start in (30, 95, 170):
        for i, pid in enumerate(ids[:5]):
            _stay(w, pid, "X1", start + i % 2)
    _stay(w, ids[5], "X1", 96)                # went along once
    _stay(w, ids[6], "X1", 95, dx="S72.000")  # in on those days for a fracture
    _stay(w, ids[7], "X1", 171)               # the group's complaint, another place
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if r.score >= Settings().min_score]
    assert [sorted(r.patients) for r in rings] == [ids[:6]]


def test_recruits_whose_address_is_unknown_stay_with_their_group(tmp_path):
    """Seven recruits go in together three times; four gave their village, three 「不详」. An
    unknown home place is no place of its own: one ring of seven, not a village and a group of
    the unknowns."""
    w = World()
    background(w)
    ids = villagers(w, "4200000000000", 7)
    for p in w.patients[-3:]:
        p["address"] = "不详"
    for start in (30, 95, 170):
        for i, pid in enumerate(ids):
            _stay(w, pid, "X1", start + i % 2, dx="M54.500")
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if r.score >= Settings().min_score]
    assert [sorted(r.patients) for r in rings] == [ids]


def test_a_village_kept_in_bed_for_weeks_again_and_again_is_a_ring(tmp_path):
    """挂床住院: five villagers admitted together three times to a private hospital, for 40 days
    each time. Long stays are no excuse."""
    w = World()
    background(w)
    ids = villagers(w, "4500000000000", 5)
    for start in (10, 120, 240):
        for i, pid in enumerate(ids):
            _stay(w, pid, "X1", start + i % 2, los=40, dx="M54.500")
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if r.score >= Settings().min_score]
    assert [sorted(r.patients) for r in rings] == [ids]


def test_a_stay_settled_in_two_parts_is_counted_once_in_the_evidence(tmp_path):
    """Five villagers kept in bed twice, each 40-day stay settled in two parts (中途结算): ten
    admissions, and nobody was admitted three times."""
    w = World()
    background(w)
    ids = villagers(w, "4900000000000", 5)
    for start in (10, 120):
        for i, pid in enumerate(ids):
            _stay(w, pid, "X1", start + i % 2, los=20, dx="M54.500")
            _stay(w, pid, "X1", start + i % 2 + 20, los=20, dx="M54.500")
    ring = max(detect_fake_admissions(w.load(tmp_path), Settings()), key=lambda r: r.score)
    assert sorted(ring.patients) == ids
    rules = {e.rule: e for e in ring.evidence}
    assert rules["similar_stays"].count == 10
    assert "frequent_admission" not in rules


def test_long_stays_settled_monthly_are_one_admission_each(tmp_path):
    """Six stroke patients came to a private rehabilitation hospital within two days of each
    other and stayed 120 days, settled every 30 days (中途结算): one admission each, not four
    co-admissions."""
    w = World()
    background(w)
    ids = [f"4600000000000{i:03d}" for i in range(6)]
    for i, pid in enumerate(ids):
        w.person(pid, region="510121", birth="1945-01-01", address=f"县城{i}号")
        for seg in range(4):
            _stay(w, pid, "X1", 20 + i % 3 + 30 * seg, los=29, dx="I69.300")
    rings = detect_fake_admissions(w.load(tmp_path), Settings())
    assert not [r for r in rings if r.score >= Settings().min_score]


def test_a_village_brought_in_twice_by_different_people_is_one_ring(tmp_path):
    """No two recruits went in together twice, but their village came back as a group."""
    w = World()
    background(w)
    ids = villagers(w, "4300000000000", 6)
    for pid in ids[:3]:
        _stay(w, pid, "X1", 40 + int(pid[-1]) % 2)
    for pid in ids[3:]:
        _stay(w, pid, "X1", 140 + int(pid[-1]) % 2)
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if r.score >= Settings().min_score]
    assert [sorted(r.patients) for r in rings] == [ids]


def test_the_same_recruits_back_with_a_new_complaint_each_time_are_a_ring(tmp_path):
    """A recruiter varies the made-up complaint from one admission to the next; the same five
    people coming back together is what recurs."""
    w = World()
    background(w)
    ids = villagers(w, "4800000000000", 5)
    for start, dx in ((30, "J44.100"), (95, "I10.x00"), (170, "M54.500")):
        for i, pid in enumerate(ids):
            _stay(w, pid, "X1", start + i % 2, dx=dx)
    rings = [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
             if r.score >= Settings().min_score]
    assert [sorted(r.patients) for r in rings] == [ids]


def test_a_village_poisoned_once_and_neighbours_in_later_for_their_own_illness_is_no_ring(tmp_path):
    """A food poisoning brings ten villagers to the county hospital together, once; three
    neighbours are admitted there together two months later with pneumonia. Two waves from one
    place, but nothing recurs: no recruiter brings a village back with new complaints."""
    w = World()
    background(w)
    ids = villagers(w, "4700000000000", 13)
    for i, pid in enumerate(ids[:10]):
        _stay(w, pid, "H2", 50 + i % 2, los=3 + i % 3, dx="A05.900")
    for i, pid in enumerate(ids[10:]):
        _stay(w, pid, "H2", 110 + i % 2, los=6, dx="J18.900")
    rings = detect_fake_admissions(w.load(tmp_path), Settings())
    assert not [r for r in rings if r.score >= Settings().min_score]


def test_a_big_community_at_its_local_hospital_is_not_a_ring(tmp_path):
    """Chance clusters among many admissions from one 小区 spread over the year make no ring."""
    w = World()
    background(w)
    ids = [f"4400000000000{i:03d}" for i in range(24)]
    for i, pid in enumerate(ids):
        w.person(pid, birth="1950-01-01", address=f"四川省成都市青羊区府河路9号桥民苑{i % 5}栋{i}号")
    for pid in ids[:3]:
        _stay(w, pid, "X1", 30)
    for pid in ids[3:6]:
        _stay(w, pid, "X1", 200)
    for k, pid in enumerate(ids[6:]):  # the rest come one by one through the year
        _stay(w, pid, "X1", 40 + k * 9)
    assert [r for r in detect_fake_admissions(w.load(tmp_path), Settings())
            if r.score >= Settings().min_score] == []


def test_one_off_cataract_campaign_is_not_a_ring(tmp_path):
    w = World()
    background(w)
    for i in range(12):
        pid = f"42000000000000{i:02d}"
        w.person(pid, region="510121", birth="1945-01-01")
        _stay(w, pid, "H2", 50, los=2, dx="H25.900")
    assert detect_fake_admissions(w.load(tmp_path), Settings()) == []


def test_chemotherapy_cycles_are_discounted(tmp_path):
    w = World()
    background(w)
    ids = [f"43000000000000{i:02d}" for i in range(4)]
    for pid in ids:
        w.person(pid, birth="1955-01-01")
    for cycle in range(5):
        for pid in ids:
            _stay(w, pid, "H1", 10 + cycle * 21, los=3, dx="C34.900")
    rings = detect_fake_admissions(w.load(tmp_path), Settings())
    assert all(r.score < 0.5 for r in rings)


# --- whole pipeline properties -----------------------------------------------------------------

@pytest.fixture
def mixed(tmp_path):
    w = World()
    background(w)
    plant_gang(w)
    w.person("2100000000000001", gender="F", birth="1940-01-01", death="2024-02-01")
    for k in range(4):
        w.claim("2100000000000001", "K1", day(60 + k * 20), ctype="outpatient", dx="N40.x00")
    w.load(tmp_path)
    return tmp_path


def test_find_rings_properties(mixed):
    ds = gk.load(mixed)
    doc = gk.find_rings(ds)
    assert {r.typology for r in doc.rings} == {"gang", "impersonation"}
    scores = [r.score for r in doc.rings]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    known = {"patient": set(ds.patients["patient_id"]), "card": set(ds.cards["card_id"])}
    for r in doc.rings:
        for m in r.members:
            if m.type in known:
                assert m.id in known[m.type]
        assert set(r.claims) <= set(ds.claims["claim_id"])
    for typ in {r.typology for r in doc.rings}:
        seen: set[str] = set()
        for r in doc.rings:
            if r.typology == typ:
                assert not (set(r.patients) & seen)
                seen |= set(r.patients)


def test_find_rings_is_deterministic(mixed, tmp_path_factory):
    from graphkit.rings import rings_json_text

    a = rings_json_text(gk.find_rings(gk.load(mixed)))
    b = rings_json_text(gk.find_rings(gk.load(mixed)))
    assert a == b


# --- regressions named for what broke ----------------------------------------------------------

def test_place_of_reads_the_village_or_community_from_an_address():
    import pandas as pd

    from graphkit.detectors.places import place_of

    got = place_of(pd.Series(["四川省成都市大邑县顺福镇峰前村7组16号",
                              "四川省成都市金牛区泉光街道光华路84号联新小区1栋5单元208号",
                              "四川省成都市大邑县顺福镇", None,
                              "四川省成都市金牛区泉光街道光华路84号1栋5单元208号",
                              "四川省成都市武侯区天府大道北段1700号院3号楼2单元",
                              "上海市黄浦区淮海中路123弄45号301室", "四川省成都市武侯区",
                              "四川省成都市"]))
    assert got.tolist()[:3] == ["四川省成都市大邑县顺福镇峰前村",
                                "四川省成都市金牛区泉光街道光华路84号联新小区",
                                "四川省成都市大邑县顺福镇"]
    assert pd.isna(got.iloc[3])
    # a compound with no name is its street number: neighbours in other buildings share it
    assert got.tolist()[4:7] == ["四川省成都市金牛区泉光街道光华路84号",
                                 "四川省成都市武侯区天府大道北段1700号院",
                                 "上海市黄浦区淮海中路123弄"]
    # a district or a city is no place one is recruited from
    assert got.iloc[7:].isna().all()


def test_two_diversion_chains_through_one_pharmacy_stay_apart(tmp_path):
    w = World()
    background(w)
    code = 0
    chains = []
    for chain in range(2):
        mules = [f"3{4 + chain}0000000000000{i}" for i in range(3)]
        buyer = f"3{6 + chain}00000000000001"
        for m in mules + [buyer]:
            w.person(m)
        first = code
        for m in mules:
            for k in range(3):
                cid = w.claim(m, ["H1", "H2", "K1"][k], day(20 + k * 15 + chain), ctype="outpatient",
                              dx="E11.900")
                code += 1
                w.item(cid, "甘精胰岛素注射液", trace(1000 + code))
        for c in range(first + 1, first + 4):  # each sale one pack of each mule (one lot)
            cid = w.claim(buyer, "P9", day(150 + c), fund=90.0)
            for k in (0, 3, 6):
                w.item(cid, "甘精胰岛素注射液", trace(1000 + c + k))
        chains.append(set(mules) | {buyer})  # packs on 3 days: the buyer's is a straw card
    rings = detect_diversion(w.load(tmp_path), Settings())
    assert sorted(set(r.patients) for r in rings) == sorted(chains, key=sorted)


def _two_villages(w: World) -> list[set[str]]:
    """Five people from each of two villages of one town."""
    groups = []
    for v, village in enumerate(("峰前村", "联高村")):
        ids = [f"44{v}000000000000{i}" for i in range(5)]
        for pid in ids:
            w.person(pid, region="510129", birth="1950-01-01",
                     address=f"四川省成都市大邑县顺福镇{village}{pid[-1]}组{pid[-2:]}号")
        groups.append(set(ids))
    return groups


def test_two_villages_admitted_in_the_same_waves_are_one_recruitment(tmp_path):
    """Two villages' people admitted to X1 in the same waves every time: nothing in the claims
    tells two recruiters apart (one brings the neighbouring village along), so they are one ring;
    a village with waves of its own is another recruitment (see the next test)."""
    w = World()
    background(w)
    groups = _two_villages(w)
    for start in (30, 95, 170):
        for g, ids in enumerate(groups):
            for i, pid in enumerate(sorted(ids)):
                _stay(w, pid, "X1", start + (i + g) % 2)
    rings = detect_fake_admissions(w.load(tmp_path), Settings())
    found = [set(r.patients) for r in rings if r.score >= 0.5]
    assert found == [groups[0] | groups[1]]


def test_two_villages_with_waves_of_their_own_are_two_rings(tmp_path):
    w = World()
    background(w)
    groups = _two_villages(w)
    for g, ids in enumerate(groups):
        for start in (30, 95, 170 + 60 * g):  # two waves in common, the third each its own
            for i, pid in enumerate(sorted(ids)):
                _stay(w, pid, "X1", start + (i + g) % 2)
    rings = detect_fake_admissions(w.load(tmp_path), Settings())
    found = sorted((set(r.patients) for r in rings if r.score >= 0.5), key=sorted)
    assert found == sorted(groups, key=sorted)


def test_parallel_detection_gives_the_same_rings(mixed):
    from graphkit.detect import detect

    ds = gk.load(mixed)
    assert detect(ds, workers=2) == detect(ds, workers=1)
