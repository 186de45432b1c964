"""Gang groups bound by what binds the fraud: one organiser's pool, facility, terminal, phone.

Hand-built cases of how an organiser works: a pool of collected cards of which each session
swipes a different handful, at one colluding facility or several, on the organiser's terminal or
the facility's own amid walk-in customers, with or without 电子凭证 from the organiser's phone.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from graphkit.detectors import detect_gangs
from graphkit.settings import Settings
from tests.test_detectors import World, background, day


def plant_pool(w: World, *, pool=30, sessions=20, subset=(4, 8), facilities=("P1",),
               first_day=10, every_days=9, device="DEV-P1-9", phone_cards=0,
               prefix="1600000000000", seed=1):
    """An organiser's ``pool`` collected cards (unrelated holders, 社保卡), ``sessions`` swipe
    sessions ``every_days`` apart from ``first_day``, each a random ``subset`` of the pool two
    minutes apart at one of ``facilities`` on ``device``; the organiser's phone presents the
    first ``phone_cards`` of them as 电子凭证. Every card is swiped in at least two sessions."""
    rng = np.random.default_rng(seed)
    ids = w.holders(pool, prefix, digits=3)
    picks = [rng.choice(pool, int(rng.integers(subset[0], subset[1] + 1)), replace=False)
             for _ in range(sessions)]
    for card in range(pool):  # each collected card comes back: top up to two sessions
        while sum(card in p for p in picks) < 2:
            k = int(rng.integers(sessions))
            if card not in picks[k]:
                picks[k] = np.append(picks[k], card)
    for k, pick in enumerate(picks):
        fac = facilities[k % len(facilities)]
        for j, card in enumerate(pick):
            w.claim(ids[card], fac, day(first_day + k * every_days, 14) + timedelta(minutes=2 * j),
                    device=device, fund=180.0,
                    phone="13700001111" if card < phone_cards else "")
    return ids


def walk_ins(w: World, fac: str, days, *, device: str, people=60, per_day=30, seed=2,
             prefix="9800000000"):
    """Ordinary customers at ``fac``'s counter terminal ``device``: ``per_day`` a day from 8:00
    to 18:00, drawn from ``people`` regulars, each on their own card."""
    rng = np.random.default_rng(seed)
    ids = [f"{prefix}{k:06d}" for k in range(people)]
    for pid in ids:
        w.person(pid)
    for d in days:
        for m in np.sort(rng.choice(600, per_day, replace=False)):
            w.claim(ids[int(rng.integers(people))], fac, day(d, 8) + timedelta(minutes=int(m)),
                    device=device, fund=40.0)
    return ids


def reported(ctx) -> list[set[str]]:
    return [set(r.patients) for r in detect_gangs(ctx, Settings()) if r.score >= 0.5]


def test_a_pool_swiped_in_random_subsets_at_one_terminal_is_one_ring(tmp_path):
    """Thirty collected cards, four to eight of them per session, at one terminal over five
    months: two sessions share a card or two at most, yet they are one organiser's."""
    w = World()
    background(w)
    ids = plant_pool(w)
    assert reported(w.load(tmp_path)) == [set(ids)]


@pytest.mark.parametrize("phone_cards", [0, 12], ids=["shebaoka-only", "phone-on-some-cards"])
def test_a_pool_swiped_on_the_pharmacys_own_terminal_amid_walk_ins_is_one_ring(tmp_path,
                                                                                phone_cards):
    """The same organiser on the pharmacy's counter terminal, which thirty walk-in customers a
    day also pass through: the terminal binds nothing, the collected cards do; the walk-ins
    caught in a session are no members."""
    w = World()
    background(w)
    ids = plant_pool(w, device="DEV-P1-1", phone_cards=phone_cards)
    walk_ins(w, "P1", range(0, 200), device="DEV-P1-1")
    assert reported(w.load(tmp_path)) == [set(ids)]


def test_a_pool_swiped_at_two_colluding_pharmacies_is_one_ring(tmp_path):
    """One organiser alternating between two pharmacies with the same pool: one ring naming
    both."""
    w = World()
    background(w)
    ids = plant_pool(w, facilities=("P1", "P2"), device="")
    rings = [r for r in detect_gangs(w.load(tmp_path), Settings()) if r.score >= 0.5]
    assert [set(r.patients) for r in rings] == [set(ids)]
    assert {m.id for m in rings[0].members if m.type == "pharmacy"} == {"P1", "P2"}


def test_two_organisers_at_two_pharmacies_in_different_months_are_two_rings(tmp_path):
    w = World()
    background(w)
    first = plant_pool(w, pool=12, sessions=8, facilities=("P1",), device="DEV-P1-9",
                       prefix="1610000000000", first_day=5, every_days=7)
    second = plant_pool(w, pool=12, sessions=8, facilities=("P2",), device="DEV-P2-9",
                        prefix="1620000000000", first_day=150, every_days=7, seed=3)
    assert sorted(reported(w.load(tmp_path)), key=min) == [set(first), set(second)]


def test_two_organisers_at_one_pharmacy_in_different_months_are_two_rings(tmp_path):
    """Same pharmacy, same counter, two pools swiped in different months: no card and no day in
    common, nothing of one organiser binds the other's."""
    w = World()
    background(w)
    first = plant_pool(w, pool=12, sessions=8, device="DEV-P1-1", prefix="1630000000000",
                       first_day=5, every_days=7)
    second = plant_pool(w, pool=12, sessions=8, device="DEV-P1-1", prefix="1640000000000",
                        first_day=150, every_days=7, seed=3)
    walk_ins(w, "P1", range(0, 220), device="DEV-P1-1")
    assert sorted(reported(w.load(tmp_path)), key=min) == [set(first), set(second)]


def test_customers_caught_in_two_gangs_sessions_do_not_join_them(tmp_path):
    """Six gangs of five at one busy counter, one after another; between two gangs' spans a few
    regular customers happen to be at the counter in sessions of both. They come there on their
    own most days, so they are no collected cards and chain no gangs together."""
    w = World()
    background(w)
    gangs = [plant_pool(w, pool=5, sessions=5, subset=(5, 5), device="DEV-P1-1",
                        prefix=f"165000000000{g}", first_day=10 + g * 50, seed=g)
             for g in range(6)]
    regulars = walk_ins(w, "P1", range(0, 320), device="DEV-P1-1", per_day=12)
    # each gang's sessions also catch the same three regulars at the counter
    for g in range(6):
        for k in range(5):
            for j, pid in enumerate(regulars[g * 3:g * 3 + 6]):
                w.claim(pid, "P1", day(10 + g * 50 + k * 9, 14, 11 + j), device="DEV-P1-1")
    found = sorted(reported(w.load(tmp_path)), key=min)
    assert found == [set(g) for g in gangs]


def test_cards_swiped_in_the_sessions_only_now_and_then_are_still_the_pools(tmp_path):
    """Three of the pool's cards are swiped with the others in three sessions and, on seven
    other session days, on their own hours later: mostly outside bursts, so not collected by
    themselves, but every burst they are in is the gang's, at a pharmacy whose customers are
    rarely in one. They are the gang's."""
    w = World()
    background(w)
    ids = plant_pool(w, pool=9, sessions=10, subset=(9, 9), prefix="1670000000000")
    slow = w.holders(3, "1680000000000", digits=3, regions=("510121",))
    for i, pid in enumerate(slow):
        for k in range(10):
            late = k >= 3
            when = day(10 + k * 9, 17 + 2 * i) if late else day(10 + k * 9, 14, 18 + i)
            w.claim(pid, "P1", when, device="DEV-P1-9", fund=180.0)
    walk_ins(w, "P1", range(0, 200), device="DEV-P1-1", per_day=8)
    assert reported(w.load(tmp_path)) == [set(ids) | set(slow)]


def test_a_session_spread_over_a_day_from_the_organisers_phone_is_one(tmp_path):
    """Ten collected 电子凭证 presented from the organiser's phone an hour apart, slower than
    any burst: the phone marks each day as one session."""
    w = World()
    background(w)
    ids = w.holders(10, "1660000000000", digits=3)
    for k in range(8):
        for j, pid in enumerate(ids):
            w.claim(pid, "P1", day(10 + k * 9, 8) + timedelta(minutes=60 * j + 7),
                    device="DEV-P1-1", phone="13700002222", fund=180.0)
    walk_ins(w, "P1", range(0, 100), device="DEV-P1-1", per_day=4)
    ctx = w.load(tmp_path)
    assert reported(ctx) == [set(ids)]
    # the evidence says what the sessions were: nine hours each, on one terminal, not minutes
    (ring,) = [r for r in detect_gangs(ctx, Settings()) if r.score >= Settings().min_score]
    (swipes,) = [e.detail for e in ring.evidence if e.rule == "lockstep_swipes"]
    assert swipes.startswith("10 张医保凭证成批刷卡，共 8 天（8 个刷卡批次，")
    assert swipes.endswith("每批次用时中位数 540 分钟，其中 8 个批次在同一终端）")


def test_a_session_spread_over_a_day_on_the_organisers_own_terminal_is_one(tmp_path):
    """Twelve collected 社保卡, no phone: on each of eight days the organiser swipes six of them
    on his own terminal at the pharmacy, an hour and a half apart, slower than any burst. The
    terminal settles nothing but his pool, so it marks each day as one session, as his phone
    would; the pharmacy's counter terminal serves its walk-ins meanwhile. One ring."""
    w = World()
    background(w)
    ids = w.holders(12, "1670000000000", digits=3)
    for k in range(8):
        for j in range(6):
            pid = ids[(k * 5 + j) % 12]
            w.claim(pid, "P1", day(10 + k * 9, 8) + timedelta(minutes=90 * j + 7),
                    device="ORG-TERM-1", fund=180.0)
    walk_ins(w, "P1", range(0, 100), device="DEV-P1-1", per_day=4)
    assert reported(w.load(tmp_path)) == [set(ids)]
