"""回流药 / 倒卖医保药品: mules obtain key drugs under insurance far beyond need, from many
doctors and facilities, and the packs are re-settled at reseller pharmacies (负面清单 二(11)).

Each ring draws: 2–12 mules; 2–8 prescribing institutions and the pharmacies that fill their
prescriptions (外配); 1–3 reseller pharmacies, a collector selling on to several of them
(链条化); resale onto walk-in buyers (ordinary people who just bought a pack: context, not
members) and/or onto straw cards (cards the reseller controls and settles re-sold packs on
repeatedly, on several days: members); how soon packs come back and how many of them.

Truth holds the mules, their prescribers and dispensing facilities, the reseller pharmacies,
the drug and the straw cards with their holders; never a walk-in buyer.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth import _catalog as cat
from graphkit.synth._claims import DRUG_X, DX, OUT, PHA, Claims, times
from graphkit.synth._draw import (alive_days, busy_region, doctor_of, log_uniform, near, spread_days,
                                  take)
from graphkit.synth._world import COMMUNITY, CLINIC, DAYS, PHARMACY, SECONDARY, TERTIARY, World

KEY_DIVERSION = [("甘精胰岛素注射液", "E11.900"), ("司美格鲁肽注射液", "E11.900"),
                 ("达格列净片", "E11.900"), ("甲磺酸奥希替尼片", "C34.900"),
                 ("人血白蛋白", "K74.600"), ("阿托伐他汀钙片", "I25.100"),
                 ("硫酸氢氯吡格雷片", "I25.100"), ("安宫牛黄丸", "I69.300")]


def diversion_params(rng, camo: float, n_claims: int) -> dict:
    """One ring's way of working, drawn from wide ranges."""
    outlet = str(rng.choice(["walk_in", "straw", "walk_in+straw"], p=[0.4, 0.25, 0.35]))
    lag_lo = int(rng.integers(1, 10))
    return {"mules": int(rng.integers(2, int(np.clip(n_claims / 15000, 4, 12)) + 1)),
            "drug": int(rng.integers(0, len(KEY_DIVERSION))),
            "institutions": int(rng.integers(2, 9)),
            "pharmacy_fill": round(float(rng.uniform(0.1, 0.6)), 2),
            "visits": [int(rng.integers(4, 9)), int(rng.integers(10, 22 + int(8 * camo)))],
            "span_days": int(np.clip(log_uniform(rng, 60, DAYS) * (0.7 + 0.6 * camo), 60, DAYS)),
            "resellers": int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])),
            "chain": "pooled" if rng.random() < 0.5 else "bound",
            "outlet": outlet,
            "straw_cards": int(rng.integers(1, 6)) if "straw" in outlet else 0,
            "resold": round(float(np.clip(rng.uniform(0.45, 0.95) - 0.2 * camo, 0.3, 0.95)), 2),
            "lag": [lag_lo, lag_lo + int(rng.integers(5, 50))]}


def plant_diversion(w: World, rng, cl: Claims, camo: float, n_claims: int) -> list[dict]:
    """Plant one diversion ring; returns its truth ring (or nothing)."""
    prm = diversion_params(rng, camo, n_claims)
    region = busy_region(w, rng)
    drug_name, indication = KEY_DIVERSION[prm["drug"]]
    drug = DRUG_X[drug_name]
    mules = take(w, rng, (w.region == region) & (w.age >= 35) & (w.age <= 80) & (w.death < 0),
                 prm["mules"], distinct_hh=True)
    if len(mules) < 2:
        return []
    insts = np.unique([near(w, rng, [SECONDARY, COMMUNITY, CLINIC, TERTIARY], region)
                       for _ in range(prm["institutions"])])
    docs = np.unique(doctor_of(w, rng, np.repeat(insts, rng.integers(1, 3, len(insts)))))
    resellers = _resellers(w, rng, prm, region, drug)
    phs = w.facilities_of([PHARMACY], region)
    phs = phs[~np.isin(phs, resellers)]
    fill_ph = phs[rng.permutation(len(phs))[:3]]
    packs = _obtain(w, rng, cl, prm, mules, docs, fill_ph, drug, DX[indication])
    dispensing = np.unique(packs["fac"])
    straw = _resell(w, rng, cl, prm, packs, resellers, _straw_cards(w, rng, prm, resellers),
                    drug, DX[indication])
    mem = [("patient", int(m), "mule") for m in mules]
    mem += [("doctor", int(d), "prescriber") for d in np.unique(packs["doc"][packs["doc"] >= 0])]
    mem += [("pharmacy" if w.fac_kind[f] == PHARMACY else "institution", int(f), "dispensing")
            for f in dispensing if f not in resellers]
    mem += [("pharmacy", int(f), "reseller") for f in resellers]
    mem += [("drug", drug, "diverted drug")]
    mem += [("patient", int(w.card_owner[c]), "straw card holder") for c in straw]
    mem += [("card", int(c), "straw card") for c in straw]
    pats = np.r_[mules, w.card_owner[np.array(straw, dtype=np.int64)]]
    prm["straw_cards"] = len(straw)
    scenario = f"diversion:{prm['outlet']}/{'chain' if len(resellers) > 1 else 'one_reseller'}"
    return [{"typology": "diversion", "scenario": scenario, "params": prm, "members": mem,
             "patients": pats}]


def _resellers(w: World, rng, prm: dict, region: int, drug: int) -> np.ndarray:
    """1–3 pharmacies of the district that re-settle for no other ring, else none of this drug.

    Two rings re-settling the same drug at one pharmacy would be one network in the claims.
    """
    out: list[int] = []
    for where in (region, None):
        cand = [int(f) for f in w.facilities_of([PHARMACY], where)]
        for pool in ([f for f in cand if f not in w.resold_drugs and f not in w.gang_windows],
                     [f for f in cand if f not in w.resold_drugs],
                     [f for f in cand if drug not in w.resold_drugs.get(f, ())]):
            pool = [f for f in pool if f not in out]
            pick = rng.permutation(len(pool))[:prm["resellers"] - len(out)]
            out += [pool[i] for i in pick]
            if len(out) == prm["resellers"]:
                break
        if len(out) == prm["resellers"]:
            break
    if not out:
        out = [near(w, rng, [PHARMACY], region)]
    for f in out:
        w.resold_drugs.setdefault(f, set()).add(drug)
    prm["resellers"] = len(out)
    return np.sort(np.array(out, dtype=np.int64))


def _obtain(w, rng, cl, prm, mules, docs, fill_ph, drug: int, dx: int) -> dict:
    """Mules' prescriptions across many doctors, filled at the institution or a pharmacy;
    returns one row per obtained pack (claim, position, time, mule, facility, doctor)."""
    price = cat.DRUGS[drug][2]
    hi_p = 3 if price > 1000 else (8 if price > 100 else 12)
    rows = {k: [] for k in ("claim", "k", "t", "mule", "fac", "doc")}
    for m in mules:
        v = int(rng.integers(prm["visits"][0], prm["visits"][1] + 1))
        days = alive_days(w, int(m), spread_days(rng, v, prm["span_days"]))
        v = len(days)
        doc = docs[rng.integers(0, len(docs), v)]
        at_ph = (rng.random(v) < prm["pharmacy_fill"]) & (len(fill_ph) > 0)
        fac = np.where(at_ph, fill_ph[rng.integers(0, max(len(fill_ph), 1), v)] if len(fill_ph) else 0,
                       w.doc_fac[doc])
        lo = max(1, hi_p // 3)
        n_packs = rng.integers(lo, hi_p + 1, v)
        ts = np.where(at_ph, times(rng, days, "pharm"), times(rng, days, "hosp"))
        ids = cl.add(pat=int(m), fac=fac, ctype=np.where(at_ph, PHA, OUT), ts=ts, doc=doc, diag=dx,
                     drug=drug, packs=n_packs, src=2)
        rows["claim"].append(np.repeat(ids, n_packs))
        rows["k"].append(np.concatenate([np.arange(k) for k in n_packs]))
        rows["t"].append(np.repeat(ts, n_packs))
        rows["mule"].append(np.full(int(n_packs.sum()), m))
        rows["fac"].append(np.repeat(fac, n_packs))
        rows["doc"].append(np.repeat(doc, n_packs))
    return {k: np.concatenate(v) for k, v in rows.items()}


def _straw_cards(w: World, rng, prm: dict, resellers: np.ndarray) -> dict:
    """reseller -> cards it controls (people of its district, one card each)."""
    out = {}
    for i in range(prm["straw_cards"]):
        f = int(resellers[i % len(resellers)])
        p = take(w, rng, (w.region == w.fac_region[f]) & (w.age >= 18) & (w.death < 0), 1)
        if len(p):
            c = int(w.card03[p[0]] if w.card03[p[0]] >= 0 else w.card01[p[0]])
            out.setdefault(f, []).append(c)
    return out


def _reseller_of_packs(rng, prm: dict, packs: dict, resellers: np.ndarray) -> np.ndarray:
    """Which reseller each resold pack goes to: pooled at random, or each mule bound to one
    reseller with one collector selling on to all of them (链条化)."""
    n = len(packs["claim"])
    if prm["chain"] == "pooled" or len(resellers) == 1:
        return resellers[rng.integers(0, len(resellers), n)]
    mules = np.unique(packs["mule"])
    bound = resellers[rng.integers(0, len(resellers), len(mules))]
    out = bound[np.searchsorted(mules, packs["mule"])]
    collector = packs["mule"] == mules[int(rng.integers(0, len(mules)))]
    out[collector] = resellers[rng.integers(0, len(resellers), int(collector.sum()))]
    return out


def _resell(w, rng, cl, prm, packs, resellers, straw: dict, drug: int, dx: int) -> list:
    """Re-settle a share of the packs at the resellers onto walk-in buyers and/or straw cards;
    returns the straw cards the claims show as such (re-settled packs on three days or more)."""
    pick = np.flatnonzero(rng.random(len(packs["claim"])) < prm["resold"])
    if not len(pick):
        pick = np.array([0])
    pick = pick[np.argsort(packs["t"][pick], kind="stable")]
    to = _reseller_of_packs(rng, prm, {k: v[pick] for k, v in packs.items()}, resellers)
    straw_share = {"walk_in": 0.0, "straw": 1.0}.get(prm["outlet"], rng.uniform(0.3, 0.7))
    shown = []
    for f in resellers:
        mine = pick[to == f]
        cards = straw.get(int(f), [])
        on_straw = rng.random(len(mine)) < (straw_share if cards else 0.0)
        if cards:
            shown += _settle_on_straw(w, rng, cl, prm, packs, mine[on_straw], int(f), np.array(cards),
                                      drug, dx)
        _settle_on_walk_ins(w, rng, cl, prm, packs, mine[~on_straw], int(f), drug, dx)
    return shown


def _resale_days(rng, prm, packs, rows) -> np.ndarray:
    lag = rng.integers(prm["lag"][0], prm["lag"][1] + 1, len(rows))
    return np.minimum(DAYS - 1, packs["t"][rows] // 86400 + lag)


def _settle_on_straw(w, rng, cl, prm, packs, rows, fac, cards, drug, dx) -> list:
    """Packs re-settled in claims of 1–4 on cards the reseller controls, in turn; returns the
    cards whose re-settled packs fall on three days or more."""
    if not len(rows):
        return []
    sizes = _claim_sizes(rng, len(rows), 4)
    day = _resale_days(rng, prm, packs, rows[np.cumsum(sizes) - 1])   # after its last pack came in
    card = cards[(np.arange(len(sizes)) + int(rng.integers(0, len(cards)))) % len(cards)]
    holder = w.card_owner[card]
    day = np.clip(day, np.maximum(w.birth[holder], 0), np.where(w.death[holder] >= 0, w.death[holder] - 1, DAYS - 1))
    ids = cl.add(pat=holder, fac=fac, ctype=PHA, ts=times(rng, day, "pharm"), card=card, drug=drug,
                 packs=sizes, diag=np.where(rng.random(len(sizes)) < 0.5, dx, -1), src=2)
    _reuse(cl, ids, sizes, packs, rows)
    return [int(c) for c in cards if len(np.unique(day[card == c])) >= 3]


def _settle_on_walk_ins(w, rng, cl, prm, packs, rows, fac, drug, dx) -> None:
    """Each re-settled sale of 1–2 packs to an ordinary customer of the pharmacy's district."""
    if not len(rows):
        return
    sizes = _claim_sizes(rng, len(rows), 2)
    day = _resale_days(rng, prm, packs, rows[np.cumsum(sizes) - 1])   # after its last pack came in
    local = np.flatnonzero((w.region == w.fac_region[fac]) & ~w.used & (w.age >= 18) & (w.death < 0))
    if not len(local):
        return
    buyer = local[rng.integers(0, len(local), len(sizes))]
    ids = cl.add(pat=buyer, fac=fac, ctype=PHA, ts=times(rng, day, "pharm"), drug=drug, packs=sizes,
                 diag=np.where(rng.random(len(sizes)) < 0.5, dx, -1), src=2)
    _reuse(cl, ids, sizes, packs, rows)


def _claim_sizes(rng, n: int, most: int) -> np.ndarray:
    """Split ``n`` packs into consecutive claims of 1..``most`` packs."""
    sizes = rng.integers(1, most + 1, n)
    ends = np.cumsum(sizes)
    ends = ends[ends < n]
    return np.diff(np.r_[0, ends, n])


def _reuse(cl: Claims, ids, sizes, packs, rows) -> None:
    """The re-settled packs carry the trace codes of the packs the mules obtained."""
    k_in = np.arange(len(rows)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    cl.reuse.append((np.repeat(ids, sizes), k_in, packs["claim"][rows], packs["k"][rows]))
