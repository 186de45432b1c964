"""Impersonation rings are bound by a link the claims carry: a presenting phone, a carried
device, a doctor session, a household. Shared places join nothing, and organised stays are
fake admission's, not impersonation's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from graphkit.detectors import detect_fake_admissions, detect_impersonation
from graphkit.detectors.impersonation import card_signals, organised_stays, sittings
from graphkit.settings import Settings
from tests.test_detectors import World, background, day


def _reported(ctx, **kw):
    return [r for r in detect_impersonation(ctx, Settings(), **kw)
            if r.score >= Settings().min_score]


def _doctors(w: World):
    w.doctors = [{"doctor_id": d, "name": "医生" + d, "institution_id": "K1", "department": "全科"}
                 for d in ("D1", "D2", "D3")]


def _load(w: World, tmp_path):
    from tests.datadir import write_dir

    import graphkit as gk
    from graphkit.detectors import Context
    from graphkit.graph import EntityGraph

    tables = {"patients": w.patients, "cards": w.cards, "claims": w.claims,
              "institutions": w.institutions, "pharmacies": w.pharmacies}
    if getattr(w, "doctors", None):
        tables["doctors"] = w.doctors
    write_dir(tmp_path, tables)
    ds = gk.load(tmp_path)
    assert ds.n_rejected == 0, ds.rejects.to_dict("records")
    return Context(EntityGraph(ds))


def _waiting_room(w: World, days, doctor="D1", n=6):
    """Other patients seen by ``doctor`` at K1 on ``days``, every 15 minutes from 8:00 (a
    different crowd each day)."""
    for k, d in enumerate(days):
        for i in range(n):
            pid = f"95{k:02d}0000000000{i:02d}"
            if not any(p["patient_id"] == pid for p in w.patients):
                w.person(pid, birth="1965-01-01")
            w.claim(pid, "K1", day(d, 8, 0) + timedelta(minutes=15 * i), ctype="outpatient",
                    dx="J06.900", doctor=doctor)


def test_two_lent_cards_of_unrelated_users_are_two_rings(tmp_path):
    """A's phone presents X's card (a man's card with gynaecological diagnoses); Y died, and
    someone keeps using Y's 社保卡 at the same clinic and pharmacy. Nothing but the places ties
    Y's card to A: no phone, device, doctor session or household in common. Two rings."""
    w = World()
    background(w)
    user_a, lent_x, dead_y = "4100000000000001", "4100000000000002", "4100000000000003"
    w.person(user_a, gender="F", birth="1982-01-01", phone="13900004101")
    w.person(lent_x, gender="M", birth="1955-01-01")
    w.person(dead_y, gender="F", birth="1938-01-01", death="2024-02-01")
    for k in range(4):
        w.claim(lent_x, ["K1", "P1"][k % 2], day(20 + k * 9), ctype=["outpatient", "pharmacy"][k % 2],
                dx="N76.000", phone="13900004101")
        w.claim(dead_y, ["K1", "P1"][k % 2], day(60 + k * 9), ctype=["outpatient", "pharmacy"][k % 2],
                dx="I10.x00")
    rings = _reported(w.load(tmp_path))
    assert sorted(sorted(r.patients) for r in rings) == [sorted([user_a, lent_x]), [dead_y]]


def test_a_clinics_own_terminal_ties_no_two_cards(tmp_path):
    """Two dead people's cards used by two different people at one clinic, both settled on the
    clinic's terminal: a terminal that never leaves its facility settles everyone there and
    ties no one. Two rings, not one."""
    w = World()
    background(w)
    dead = ["4200000000000001", "4200000000000002"]
    for i, pid in enumerate(dead):
        w.person(pid, gender="F", birth="1936-01-01", death="2024-02-01")
        for k in range(3):
            w.claim(pid, "K1", day(50 + k * 20 + i * 3), ctype="outpatient", dx="I10.x00",
                    device="K1-POS-01")
    rings = _reported(w.load(tmp_path))
    assert sorted(r.patients for r in rings) == [[dead[0]], [dead[1]]]


def test_a_user_seen_by_the_same_doctor_with_lent_cards_is_one_ring(tmp_path):
    """U sees doctor D1 for herself, and the doctor settles a man's borrowed 社保卡 (with her
    complaint) minutes later, on three days; on two other days a dead neighbour's card follows
    her own visit to D2. No phone presents anything: the doctor sessions tie both cards to her,
    one ring naming her as the user."""
    w = World()
    background(w)
    _doctors(w)
    user, lent, dead = "4300000000000001", "4300000000000002", "4300000000000003"
    w.person(user, gender="F", birth="1978-01-01")
    w.person(lent, gender="M", birth="1950-01-01")
    w.person(dead, gender="M", birth="1935-01-01", death="2024-01-20")
    for k, d in enumerate((30, 75, 140)):
        w.claim(user, "K1", day(d, 10, 0), ctype="outpatient", dx="J06.900", doctor="D1")
        w.claim(lent, "K1", day(d, 10, 6), ctype="outpatient", dx="N76.000", doctor="D1")
    for d in (90, 160):
        w.claim(user, "K1", day(d, 15, 0), ctype="outpatient", dx="J06.900", doctor="D2")
        w.claim(dead, "K1", day(d, 15, 4), ctype="outpatient", dx="I10.x00", doctor="D2")
    w.claim(dead, "K1", day(200, 15, 4), ctype="outpatient", dx="I10.x00", doctor="D3")
    _waiting_room(w, (30, 75, 90, 140, 160))
    _waiting_room(w, (30, 75, 90, 140, 160), doctor="D2")
    ctx = _load(w, tmp_path)
    rings = _reported(ctx)
    assert [sorted(r.patients) for r in rings] == [sorted([user, lent, dead])]
    roles = {m.id: m.role for m in rings[0].members if m.type == "patient"}
    assert roles[user].startswith("user (settled next to the card")
    assert "sitting_companion" in {e.rule for e in rings[0].evidence}


def test_being_next_in_a_doctors_queue_once_ties_no_one(tmp_path):
    """A dead holder's card settled next to a different patient each time (a waiting room of
    strangers), and next to the same one on one day only: no session tie, the card alone."""
    w = World()
    background(w)
    _doctors(w)
    dead, stranger = "4400000000000001", "4400000000000002"
    w.person(dead, gender="M", birth="1935-01-01", death="2024-01-20")
    w.person(stranger, birth="1975-01-01")
    w.claim(stranger, "K1", day(40, 8, 50), ctype="outpatient", dx="J06.900", doctor="D1")
    for d in (40, 70, 100):
        w.claim(dead, "K1", day(d, 8, 55), ctype="outpatient", dx="I10.x00", doctor="D1")
    w.claim(stranger, "K1", day(130, 8, 50), ctype="outpatient", dx="J06.900", doctor="D1")
    _waiting_room(w, (40, 70, 100, 130))
    ctx = _load(w, tmp_path)
    ties = sittings(ctx, Settings())
    assert ties[ties["card_id"] == "C" + dead].empty
    assert [r.patients for r in _reported(ctx)] == [[dead]]


def test_a_family_that_lent_two_cards_to_two_users_is_two_cases(tmp_path):
    """Two members of one household lent their cards, one to A and one to B, strangers to each
    other, each presenting from their own phone: the family ties the two cards, but it leads to
    two users, so the two are two rings."""
    w = World()
    background(w)
    mother, son = "4500000000000001", "4500000000000002"
    for pid, sex, born in ((mother, "F", "1958-01-01"), (son, "M", "1984-01-01")):
        w.person(pid, gender=sex, birth=born, phone="13900004500", address="锦江区东大街8号2栋301")
    user_a, user_b = "4500000000000011", "4500000000000012"
    w.person(user_a, gender="M", birth="1970-01-01", phone="13900004511")
    w.person(user_b, gender="F", birth="1980-01-01", phone="13900004512")
    for k in range(4):
        w.claim(mother, "P1", day(20 + k * 30), dx="N40.000", phone="13900004511")
        w.claim(son, "P2", day(25 + k * 30), dx="N76.000", phone="13900004512")
    rings = _reported(w.load(tmp_path))
    assert sorted(sorted(r.patients) for r in rings) == [sorted([mother, user_a]),
                                                         sorted([son, user_b])]


def _organised_stays(w: World):
    """An organiser's phone presents the 电子凭证 of six unrelated villagers, admitted to X1
    together in three waves of 8-day stays."""
    recruits = [f"46000000000000{i:02d}" for i in range(6)]
    for i, pid in enumerate(recruits):
        w.person(pid, birth="1955-01-01", address=f"金堂县柳太镇五友村{i + 1}组{i + 3}号")
    w.person("4600000000000099", birth="1975-01-01", phone="13900004699")
    for wave in (30, 100, 170):
        for i, pid in enumerate(recruits):
            admit = day(wave + i % 2)
            discharge = admit + timedelta(days=8)
            w.claim(pid, "X1", discharge, ctype="inpatient", dx="M54.500", fund=3000.0,
                    admit=admit.strftime("%Y-%m-%d"), discharge=discharge.strftime("%Y-%m-%d"),
                    phone="13900004699")
    return recruits


def test_an_organisers_collected_cards_booked_into_stays_give_no_impersonation_ring(tmp_path):
    """One person lies in one bed at a time: a phone presenting six households' stays that
    overlap at one hospital is an organiser booking them in (fake admission), not someone
    using six cards for their own care. Fake admission reports them; impersonation does not,
    with or without their cards handed over."""
    w = World()
    background(w)
    recruits = _organised_stays(w)
    ctx = w.load(tmp_path)
    assert len(organised_stays(ctx, Settings().impersonation)) == 18
    fake = [r for r in detect_fake_admissions(ctx, Settings()) if r.score >= Settings().min_score]
    assert len(fake) == 1 and set(recruits) <= set(fake[0].patients)
    assert _reported(ctx) == []
    fake_cards = {m.id for r in fake for m in r.members if m.type == "card"}
    assert _reported(ctx, exclude_cards=fake_cards) == []


def test_one_phone_presenting_borrowed_cards_for_stays_at_different_times_is_impersonation(
        tmp_path):
    """The same phone presenting two unrelated people's stays that never overlap, with
    diagnoses impossible for them: one person treated on two borrowed cards, still a ring."""
    w = World()
    background(w)
    user, a, b = "4700000000000001", "4700000000000002", "4700000000000003"
    w.person(user, gender="F", birth="1985-01-01", phone="13900004701")
    for pid in (a, b):
        w.person(pid, gender="M", birth="1950-01-01")
    for k, pid in enumerate((a, b, a, b)):
        admit = day(20 + k * 40)
        discharge = admit + timedelta(days=5)
        w.claim(pid, "X1", discharge, ctype="inpatient", dx="O80.000", fund=3000.0,
                admit=admit.strftime("%Y-%m-%d"), discharge=discharge.strftime("%Y-%m-%d"),
                phone="13900004701")
    ctx = w.load(tmp_path)
    assert len(organised_stays(ctx, Settings().impersonation)) == 0
    assert [sorted(r.patients) for r in _reported(ctx)] == [sorted([user, a, b])]


def _terminal_sittings(w: World, lent: list[str], user="4800000000000001", days=(20, 60, 100)):
    """At pharmacy P1 the user buys on her own card, then on each lent card in turn, on the
    pharmacy's one terminal minutes later, on ``days`` (one lent card per day, in turn)."""
    w.person(user, gender="F", birth="1979-01-01")
    for pid in lent:
        w.person(pid, birth="1948-01-01")
    for k, pid in enumerate(lent):
        for d in days:
            when = day(d + k, 10, 0)
            w.claim(user, "P1", when, dx="J06.900", device="P1-POS-1")
            w.claim(pid, "P1", when + timedelta(minutes=3), dx="I10.x00", device="P1-POS-1")
    for i in range(8):  # the pharmacy's other customers on the same terminal
        pid = f"48000000000001{i:02d}"
        w.person(pid, birth="1966-01-01")
        for d in (20, 21, 60, 61, 100, 101):
            w.claim(pid, "P1", day(d, 11, 0) + timedelta(minutes=40 * i), dx="J06.900",
                    device="P1-POS-1")
    return user


def test_one_person_settling_two_households_cards_after_her_own_on_a_terminal_is_a_ring(tmp_path):
    """Nothing else is wrong with the two cards: one person bought on her own card and then on
    two unrelated people's cards, on the pharmacy's own terminal, again and again. A terminal
    that never leaves the pharmacy ties no one by itself; being the next settlement after the
    same person's, day after day, does."""
    w = World()
    background(w)
    lent = ["4800000000000002", "4800000000000003"]
    user = _terminal_sittings(w, lent)
    rings = _reported(w.load(tmp_path))
    assert [sorted(r.patients) for r in rings] == [sorted([user] + lent)]
    assert {e.rule for e in rings[0].evidence} == {"sits_with_unrelated_cards",
                                                   "sitting_companion"}


def test_one_card_settled_after_the_same_persons_again_and_again_is_no_ring(tmp_path):
    """An adult child buying for a parent who lives elsewhere does the same with one card: with
    nothing else wrong it is no ring (and which of the two uses whose card, nothing says)."""
    w = World()
    background(w)
    _terminal_sittings(w, ["4800000000000002"])
    ctx = w.load(tmp_path)
    assert not _reported(ctx)
    ties = sittings(ctx, Settings())
    assert len(ties) == 2 and not ties["hub"].any()  # tied both ways, accusing neither


def test_one_card_settled_after_the_same_persons_with_an_impossible_diagnosis_is_a_ring(
        tmp_path):
    """The same one card, now also settled once for a gynaecological complaint though its
    holder is a man: one slip would be no ring, one tie neither; together they are the holder's
    card used by the person it is settled next to. One ring: the two of them."""
    w = World()
    background(w)
    lent = "4800000000000002"
    user = _terminal_sittings(w, [lent])
    w.claim(user, "P1", day(140, 10, 0), dx="J06.900", device="P1-POS-1")
    w.claim(lent, "P1", day(140, 10, 4), dx="N76.000", device="P1-POS-1")
    rings = _reported(w.load(tmp_path))
    assert [sorted(r.patients) for r in rings] == [sorted([user, lent])]
    assert {e.rule for e in rings[0].evidence} >= {"sits_with_one_person",
                                                    "diagnosis_sex_age_mismatch"}


def test_strangers_settled_between_a_users_own_card_and_the_lent_ones_still_tie_them(tmp_path):
    """A busy pharmacy: on each day the user buys on her own card, the counter settles two
    walk-in customers, then the lent card. Four cards in minutes at one counter look like a
    swipe burst, and the lent card is not the very next settlement; it still comes along with
    her on every day it is used there. One ring: her and both lent cards."""
    w = World()
    background(w)
    user, lent = "4800000000000001", ["4800000000000002", "4800000000000003"]
    w.person(user, gender="F", birth="1979-01-01")
    for pid in lent:
        w.person(pid, birth="1948-01-01")
    walk_in = 0
    for k, pid in enumerate(lent):
        for d in (20, 60, 100):
            when = day(d + k, 10, 0)
            w.claim(user, "P1", when, dx="J06.900", device="P1-POS-1")
            for minute in (1, 2):
                stranger = f"48000000000002{walk_in:02d}"
                walk_in += 1
                w.person(stranger, birth="1970-01-01")
                w.claim(stranger, "P1", when + timedelta(minutes=minute), dx="J06.900",
                        device="P1-POS-1")
            w.claim(pid, "P1", when + timedelta(minutes=3), dx="I10.x00", device="P1-POS-1")
    rings = _reported(w.load(tmp_path))
    assert [sorted(r.patients) for r in rings] == [sorted([user] + lent)]


def test_regulars_of_one_counter_next_to_each_other_now_and_then_tie_no_one(tmp_path):
    """Three regulars buy at P1 on twelve days each, hours apart; on three more days the first
    is settled right before the second, and on three others right before the third. Meeting at
    a busy counter on a fifth of one's days there is chance, not a borrowed card brought along:
    no tie, no ring (counted as ties, the first would present both others' cards)."""
    w = World()
    background(w)
    first, a, b = "4800000000000011", "4800000000000012", "4800000000000013"
    for pid in (first, a, b):
        w.person(pid, birth="1950-01-01")
    for d in range(10, 250, 20):
        for k, pid in enumerate((first, a, b)):
            w.claim(pid, "P1", day(d, 9 + 3 * k, 0), dx="I10.x00", device="P1-POS-1")
    for d, other in ((15, a), (95, a), (175, a), (35, b), (115, b), (195, b)):
        w.claim(first, "P1", day(d, 16, 0), dx="I10.x00", device="P1-POS-1")
        w.claim(other, "P1", day(d, 16, 2), dx="I10.x00", device="P1-POS-1")
    ctx = w.load(tmp_path)
    assert sittings(ctx, Settings()).empty
    assert not _reported(ctx)


def test_a_holder_seen_at_two_institutions_minutes_apart_again_and_again_is_a_ring(tmp_path):
    """The holder sees his own doctor at K1 while his lent card is at H1 twelve minutes later,
    on three of the eight days his card went to a doctor: one person cannot be at both, and
    no one else is linked, so the card is a ring of its own. The same three coincidences among
    a very frequent visitor's sixty days of visits are not."""
    w = World()
    background(w)
    lent, busy = "4900000000000001", "4900000000000002"
    w.person(lent, birth="1952-01-01")
    w.person(busy, birth="1950-01-01")
    for d in (30, 90, 150):
        w.claim(lent, "K1", day(d, 9, 0), ctype="outpatient", dx="I10.x00")
        w.claim(lent, "H1", day(d, 9, 12), ctype="outpatient", dx="J06.900")
        w.claim(busy, "K1", day(d + 1, 9, 0), ctype="outpatient", dx="I10.x00")
        w.claim(busy, "H1", day(d + 1, 9, 12), ctype="outpatient", dx="I10.x00")
    for d in (10, 50, 200, 230, 260):
        w.claim(lent, "K1", day(d, 10), ctype="outpatient", dx="I10.x00")
    for d in range(2, 300, 5):
        w.claim(busy, "K1", day(d, 15), ctype="outpatient", dx="I10.x00")
    ctx = w.load(tmp_path)
    sig = card_signals(ctx, Settings())
    assert set(sig.loc[sig["signal"] == "two_places_one_day", "card_id"]) == {"C" + lent,
                                                                             "C" + busy}
    assert [r.patients for r in _reported(ctx)] == [[lent]]


@pytest.mark.parametrize("visits, reported", [
    ([("K1", 40), ("H1", 90)], True),    # two days, two institutions: two doctors saw someone else
    ([("K1", 40), ("K1", 90)], False),   # one slip, copied into the next visit's record
    ([("K1", 40), ("K1", 90), ("K1", 140)], True),  # three visits: no longer one slip copied on
    ([("K1", 40)], False),               # one slip
])
def test_a_lone_card_with_a_diagnosis_impossible_for_its_holder(tmp_path, visits, reported):
    """A man's 社保卡 carrying a gynaecological diagnosis, no phone, device, sitting or household
    tying it to anyone: its own ring when two institutions on two days made the diagnosis."""
    w = World()
    background(w)
    holder = "5000000000000001"
    w.person(holder, gender="M", birth="1957-01-01")
    for fac, d in visits:
        w.claim(holder, fac, day(d), ctype="outpatient", dx="N76.000")
    w.claim(holder, "P2", day(120), dx="I10.x00")
    rings = _reported(w.load(tmp_path))
    assert [r.patients for r in rings] == ([[holder]] if reported else [])


def test_a_phone_presenting_several_households_cards_at_one_place_on_one_day_is_a_collector(
        tmp_path):
    """One phone presents three unrelated people's 电子凭证 at pharmacy P1 hours apart (no burst)
    on four days: no one is treated three times a day on three cards; these are collected
    cards, the gang's case, and no impersonation ring. The same phone presenting one of them
    a day, as a borrower would, is one."""
    w = World()
    background(w)
    held = [f"51000000000000{i:02d}" for i in range(3)]
    for pid in held:
        w.person(pid, birth="1950-01-01")
    w.person("5100000000000099", birth="1978-01-01", phone="13900005199")
    for d in (30, 60, 90, 120):
        for i, pid in enumerate(held):
            w.claim(pid, "P1", day(d, 9 + 4 * i), dx="I10.x00", phone="13900005199")
    assert _reported(w.load(tmp_path)) == []
    w.claims = [r for r in w.claims if r["operator_phone"] != "13900005199"]
    for d in (30, 60, 90, 120):
        for i, pid in enumerate(held):
            w.claim(pid, "P1", day(d + 7 * i, 10), dx="I10.x00", phone="13900005199")
    rings = _reported(w.load(tmp_path / "borrower"))
    assert [sorted(r.patients) for r in rings] == [sorted(held + ["5100000000000099"])]
