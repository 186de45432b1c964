"""职业骗保团伙: an organiser collects insured people's cards and swipes them (空刷/套刷) at
colluding pharmacies or clinics (负面清单 四(2) 收集医保凭证空刷套刷).

Each gang draws how it works: a pool of 6–60 collected cards of which each session swipes a
random subset (a handful to most); 1–3 colluding facilities; the organiser's own terminal or the
facility's terminals amid ordinary walk-in traffic; 社保卡 only (no phone anywhere), or 电子凭证
presented from the organiser's phone on all cards or on some; sessions packed within minutes or
spread over hours; active for a few weeks or the whole year; cards of one district or with
异地 cards among them. Holders keep their real activity (真假交织), some of it at the colluding
facility itself.

Truth holds the cards and their holders, the colluding facilities and the organiser's terminal;
the organiser's phone and the organiser only where the claims carry his phone.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth._claims import DRUG_X, DX, OUT, PHA, Claims, times
from graphkit.synth._draw import busy_region, card_of, log_uniform, spread_days, take
from graphkit.synth._world import CLINIC, DAYS, PHARMACY, World, new_device, new_phone

GANG_DRUGS = ["阿胶", "西洋参", "三七粉", "安宫牛黄丸", "复方阿胶浆", "阿托伐他汀钙片",
              "硫酸氢氯吡格雷片", "甘精胰岛素注射液", "六味地黄丸", "百令胶囊"]
_SOFT_DX = ("M54.500", "J06.900", "I10.x00", "K29.700")


def gang_params(rng, camo: float, n_claims: int) -> dict:
    """One gang's way of working, drawn from wide ranges."""
    pool_hi = int(np.clip(n_claims / 3000, 8, 60))
    swipe = "subsets" if rng.random() < 0.6 else "most"
    lo, hi = ((rng.uniform(0.1, 0.35), rng.uniform(0.4, 0.8)) if swipe == "subsets"
              else (rng.uniform(0.6, 0.8), 1.0))
    span = int(log_uniform(rng, 14, DAYS) * (0.6 + 0.8 * camo))
    return {"pool": int(rng.integers(6, pool_hi + 1)), "swipe": swipe,
            "subset": [round(float(lo), 2), round(float(hi), 2)],
            "facilities": int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])),
            "clinic_share": round(float(rng.choice([0.0, 0.3, 0.7])), 1),
            "terminal": "dedicated_terminal" if rng.random() < 0.5 else "facility_terminals",
            "presentation": str(rng.choice(["no_phone", "phone_all", "phone_some"], p=[0.4, 0.3, 0.3])),
            "phone_owner": "own" if rng.random() < 0.7 else "unregistered",
            "rhythm": "packed" if rng.random() < 0.5 else "spread",
            "span_days": int(np.clip(span, 14, DAYS)),
            "sessions": int(rng.integers(4, int(np.clip(n_claims / 5000, 6, 40)) + 1)),
            "remote_share": round(float(rng.choice([0.0, 0.0, rng.uniform(0.1, 0.5)])), 2),
            "drugs": int(rng.integers(2, 6))}


def plant_gang(w: World, rng, cl: Claims, camo: float, n_claims: int) -> list[dict]:
    """Plant one gang; returns its truth ring (or nothing when the population is exhausted)."""
    prm = gang_params(rng, camo, n_claims)
    region = busy_region(w, rng)
    facs, window = _colluding_facilities(w, rng, prm, region)
    if not facs:
        return []
    holders, cards, phone_card = _collected_cards(w, rng, prm, region)
    if len(holders) < 4:
        return []
    prm["pool"] = len(cards)
    organiser, phone = _organiser(w, rng, prm, region, phone_card.any())
    if phone < 0:
        prm["presentation"] = "no_phone"   # no card went on a phone after all
        prm.pop("phone_owner")
    sessions = _sessions(rng, prm, len(cards))
    days = spread_days(rng, len(sessions), prm["span_days"], window[0], window[1] + 1)
    terminal = {f: new_device(w, f) for f in facs} if prm["terminal"] == "dedicated_terminal" else {}
    _swipe(w, rng, cl, camo, prm, days, sessions, facs, terminal, cards, phone_card, phone)
    _real_activity_at(w, rng, cl, holders, facs)
    mem = [("patient", int(p), "card holder") for p in holders]
    mem += [("card", int(c), "collected card") for c in cards]
    mem += [("pharmacy" if w.fac_kind[f] == PHARMACY else "institution", int(f), "colluding")
            for f in facs]
    mem += [("device", str(w.dev_ids[d]), "organiser terminal") for d in terminal.values()]
    if phone >= 0:
        mem.append(("phone", phone, "organiser phone"))
    if organiser >= 0:
        mem.insert(0, ("patient", organiser, "organiser"))
    pats = np.r_[holders, [organiser]] if organiser >= 0 else holders
    scenario = f"gang:{prm['swipe']}/{prm['presentation']}/{prm['terminal']}"
    return [{"typology": "gang", "scenario": scenario, "params": prm, "members": mem,
             "patients": pats}]


def _collected_cards(w: World, rng, prm: dict, region: int):
    """The pool: holders (distinct households), the card collected from each, and which of
    them the organiser presents as 电子凭证 from his phone."""
    pres = prm["presentation"]
    need = {"no_phone": w.card03 >= 0, "phone_all": w.card01 >= 0}.get(pres, w.card03 >= -1)
    fit = need & (w.age >= 18) & (w.death < 0)
    n_remote = int(round(prm["pool"] * prm["remote_share"]))
    holders = np.r_[take(w, rng, fit & (w.region == region), prm["pool"] - n_remote, distinct_hh=True),
                    take(w, rng, fit & (w.region != region), n_remote, distinct_hh=True)].astype(np.int64)
    holders = holders[np.unique(w.hh[holders], return_index=True)[1]]
    if pres == "no_phone":
        return holders, card_of(w, holders, "03"), np.zeros(len(holders), bool)
    if pres == "phone_all":
        return holders, card_of(w, holders, "01"), np.ones(len(holders), bool)
    on_phone = (w.card01[holders] >= 0) & (rng.random(len(holders)) < rng.uniform(0.3, 0.7))
    if len(holders) and not on_phone.any() and (w.card01[holders] >= 0).any():
        on_phone[np.flatnonzero(w.card01[holders] >= 0)[0]] = True
    cards = np.where(on_phone, w.card01[holders], card_of(w, holders, "03"))
    return holders, cards, on_phone


def _organiser(w: World, rng, prm: dict, region: int, uses_phone: bool) -> tuple[int, int]:
    """(organiser patient or -1, phone or -1): the organiser is in the data only by his phone."""
    if not uses_phone:
        return -1, -1
    if prm["phone_owner"] == "own":
        org = take(w, rng, (w.region == region) & (w.age >= 28) & (w.age <= 60) & (w.own_phone >= 0), 1)
        if len(org):
            return int(org[0]), int(w.own_phone[org[0]])
    prm["phone_owner"] = "unregistered"
    return -1, new_phone(w)


def _colluding_facilities(w: World, rng, prm: dict, region: int):
    """1–3 pharmacies or clinics no other gang swipes at, the district's first, and the weeks
    the gang is active; ``([], None)`` when every facility of the world has its gang already.

    Cards swiped at one facility are one group in the claims whatever the months: nothing
    there says that a second pool of cards is a second organiser and not the same one's new
    batch, so each colluding facility serves one gang.
    """
    kinds = [CLINIC] if rng.random() < prm["clinic_share"] else [PHARMACY]
    facs: list[int] = []
    for where, of in ((region, kinds), (region, [PHARMACY, CLINIC]), (None, kinds), (None, [PHARMACY, CLINIC])):
        free = [int(f) for f in w.facilities_of(of, where) if int(f) not in w.gang_windows]
        if free:
            facs.append(free[int(rng.integers(0, len(free)))])
            break
    if not facs:
        return [], None
    for _ in range(prm["facilities"] - 1):
        of = [CLINIC] if rng.random() < prm["clinic_share"] else [PHARMACY]
        free = [int(f) for f in w.facilities_of(of, region) if int(f) not in w.gang_windows and f not in facs]
        if free:
            facs.append(free[int(rng.integers(0, len(free)))])
    length = max(prm["span_days"], prm["sessions"])
    start = int(rng.integers(0, DAYS - length + 1))
    window = (start, start + length - 1)
    prm["facilities"], prm["span_days"] = len(facs), length
    for f in facs:
        w.gang_windows[f] = [window]
    return sorted(facs), window


def _sessions(rng, prm: dict, n_cards: int) -> list[np.ndarray]:
    """Card positions swiped in each session; every card is swiped in at least two sessions."""
    lo, hi = prm["subset"]
    out = []
    for _ in range(prm["sessions"]):
        k = int(np.clip(round(n_cards * rng.uniform(lo, hi)), min(3, n_cards), n_cards))
        out.append(np.sort(rng.choice(n_cards, k, replace=False)))
    seen = np.bincount(np.concatenate(out), minlength=n_cards)
    for card in np.flatnonzero(seen < 2):
        without = [i for i, pos in enumerate(out) if card not in pos]
        for i in rng.choice(without, min(len(without), 2 - int(seen[card])), replace=False):
            out[i] = np.sort(np.r_[out[i], card])
    return out


def _swipe(w, rng, cl, camo, prm, days, sessions, facs, terminal, cards, phone_card, phone) -> None:
    """All sessions of the gang (one per day in ``days``) in one batch of claims."""
    drugs = np.array([DRUG_X[d] for d in GANG_DRUGS])[rng.choice(len(GANG_DRUGS), prm["drugs"], replace=False)]
    soft = np.array([DX[x] for x in _SOFT_DX])
    cols = {k: [] for k in ("pos", "fac", "ts", "dev")}
    at = rng.permutation(np.resize(np.arange(len(facs)), len(days)))   # each facility has sessions
    for day, pos, f in zip(days, sessions, np.array(facs)[at]):
        pos = pos[rng.permutation(len(pos))]
        if prm["rhythm"] == "packed":
            start = times(rng, [day], "pharm")[0]
            gaps = rng.integers(15, int(60 + 300 * camo), len(pos))
        else:
            start = times(rng, [day], int(rng.integers(8, 11)))[0]
            hours = rng.uniform(1.5, 9.0)
            gaps = np.maximum(30, rng.exponential(hours * 3600 / len(pos), len(pos))).astype(np.int64)
        own = terminal.get(f, -2)
        dev = np.where(rng.random(len(pos)) < 1 - 0.3 * camo, own, -2) if own >= 0 else -2
        if own >= 0:
            dev[0] = own
        cols["pos"].append(pos)
        cols["fac"].append(np.full(len(pos), f))
        cols["ts"].append(start + np.cumsum(gaps))
        cols["dev"].append(np.broadcast_to(dev, len(pos)))
    pos, fac, ts, dev = (np.concatenate(cols[k]) for k in ("pos", "fac", "ts", "dev"))
    at_ph = w.fac_kind[fac] == PHARMACY
    n = len(pos)
    cl.add(pat=w.card_owner[cards[pos]], fac=fac, ctype=np.where(at_ph, PHA, OUT), ts=ts,
           card=cards[pos], ophone=np.where(phone_card[pos], phone, -1), dev=dev,
           drug=drugs[rng.integers(0, len(drugs), n)], packs=rng.integers(1, 4, n), src=2,
           diag=np.where(at_ph, -1, soft[rng.integers(0, len(soft), n)]))


def _real_activity_at(w: World, rng, cl: Claims, holders: np.ndarray, facs: list) -> None:
    """真假交织: some holders also buy genuinely at the colluding facility, on their own days."""
    real = holders[rng.random(len(holders)) < rng.uniform(0.0, 0.5)]
    if not len(real):
        return
    n = rng.integers(1, 4, len(real))
    pat = np.repeat(real, n)
    fac = np.array(facs)[rng.integers(0, len(facs), len(pat))]
    at_ph = w.fac_kind[fac] == PHARMACY
    days = rng.integers(0, DAYS, len(pat))
    days = np.clip(days, np.maximum(w.birth[pat], 0), np.where(w.death[pat] >= 0, w.death[pat] - 1, DAYS - 1))
    cl.add(pat=pat, fac=fac, ctype=np.where(at_ph, PHA, OUT), ts=times(rng, days, "pharm"),
           diag=np.where(at_ph, -1, DX["J06.900"]))
