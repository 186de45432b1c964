"""Planted structures: legitimate look-alikes (never in truth) and fraud rings (truth).

Every structure draws its people from the background population (marking them used so the
structures stay disjoint) and adds claims through :class:`Claims`; members keep their normal
activity, which the background adds later.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth import _catalog as cat
from graphkit.synth._claims import DRUG_X, DX, INP, OUT, PHA, Claims, times
from graphkit.synth._world import (CLINIC, COMMUNITY, DAYS, PHARMACY, PRIVATE, SECONDARY, TERTIARY,
                                   VILLAGE, World, new_phone)

LOOKALIKE_KINDS = ("dialysis_cohort", "nursing_home", "family_shared_phone", "chronic_refill_day",
                   "group_admission", "chemotherapy_cycles", "cataract_campaign", "rehab_long_stay",
                   "death_in_hospital", "newborn_on_parent_card", "refund_resettle", "split_pack",
                   "transfer_overlap", "relative_buys_during_stay")

KEY_DIVERSION = [("甘精胰岛素注射液", "E11.900"), ("司美格鲁肽注射液", "E11.900"),
                 ("达格列净片", "E11.900"), ("甲磺酸奥希替尼片", "C34.900"),
                 ("人血白蛋白", "K74.600"), ("阿托伐他汀钙片", "I25.100"),
                 ("硫酸氢氯吡格雷片", "I25.100"), ("安宫牛黄丸", "I69.300")]
GANG_DRUGS = ["阿胶", "西洋参", "三七粉", "安宫牛黄丸", "复方阿胶浆", "阿托伐他汀钙片",
              "硫酸氢氯吡格雷片", "甘精胰岛素注射液", "六味地黄丸", "百令胶囊"]


def _take(w: World, rng, mask: np.ndarray, k: int, *, distinct_hh: bool = False) -> np.ndarray:
    cand = np.flatnonzero(mask & ~w.used)
    if distinct_hh and len(cand):
        cand = cand[rng.permutation(len(cand))]
        _, first = np.unique(w.hh[cand], return_index=True)
        cand = np.sort(cand[first])
    k = min(k, len(cand))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    pick = np.sort(rng.choice(cand, k, replace=False))
    w.used[pick] = True
    return pick


def _doc_of(w: World, rng, fac: np.ndarray) -> np.ndarray:
    fac = np.asarray(fac)
    return w.fac_doc_start[fac] + (rng.random(fac.shape) * np.maximum(w.fac_doc_n[fac], 1)).astype(np.int64)


def _near(w: World, rng, kinds, region: int) -> int:
    c = w.facilities_of(kinds, region)
    if len(c) == 0:
        c = w.facilities_of(kinds)
    return int(c[rng.integers(0, len(c))])


def _alive_days(w: World, p: int, days: np.ndarray) -> np.ndarray:
    lo = max(0, int(w.birth[p]))
    hi = int(w.death[p]) if w.death[p] >= 0 else DAYS
    return np.clip(days, lo, max(lo, hi - 1))


# ============================================================================================
# Look-alikes
# ============================================================================================

def plant_lookalikes(w: World, rng, cl: Claims, n_claims: int) -> dict:
    """Add every look-alike of the contract; returns kind -> list of patient index arrays."""
    out: dict[str, list] = {k: [] for k in LOOKALIKE_KINDS}
    scale = n_claims / 20000
    adults = w.age >= 18
    P = w.n_patients
    w.address = np.array(w.hh_address, dtype=object)[w.hh]

    def count(per_20k, lo=1):
        return max(lo, int(round(per_20k * scale)))

    # -- dialysis cohorts: fixed weekdays, same hospital, same shift, for months
    weeks = int(np.clip(n_claims / 1000, 6, 48))
    for _ in range(count(0.15)):
        r = int(rng.integers(0, len(w.region_code)))
        hosp = _near(w, rng, [SECONDARY, TERTIARY], r)
        size = int(rng.integers(4, 9 if n_claims < 50000 else 13))
        pts = _take(w, rng, (w.region == r) & (w.age >= 30) & (w.age <= 85), size)
        if len(pts) < 3:
            continue
        pattern = np.array([0, 2, 4]) if rng.random() < 0.5 else np.array([1, 3, 5])
        start_week = int(rng.integers(0, 52 - weeks + 1))
        shift = int(rng.choice([11, 16]))
        for p in pts:
            wk = np.arange(start_week + int(rng.integers(0, 3)), start_week + weeks)
            days = (wk[:, None] * 7 + pattern[None, :]).ravel()
            days = days[(days < DAYS) & (rng.random(len(days)) < 0.93)]
            days = _alive_days(w, p, days)
            ts = times(rng, days, shift)
            epo = rng.random(len(days)) < 0.3
            cl.add(pat=p, fac=hosp, ctype=OUT, ts=ts, diag=DX["N18.500"], svc=cat.SV["血液透析"],
                   drug=np.where(epo, DRUG_X["重组人促红素注射液"], -1), packs=np.where(epo, 1, 0))
        out["dialysis_cohort"].append(pts)

    # -- nursing homes: shared address + phone, weekly rounds, monthly refills by staff
    for hi in range(count(0.1)):
        r = int(rng.integers(0, len(w.region_code)))
        size = int(np.clip(n_claims / 1500, 6, 25))
        pts = _take(w, rng, (w.region == r) & (w.age >= 68), size)
        if len(pts) < 4:
            continue
        home_phone = new_phone(w)
        place = int(w.place[pts[0]])
        addr = f"{w.place_text[place]}{cat.VILLAGE_STEMS[hi % 20]}福养老院"
        w.address[pts] = addr
        w.phone[pts] = home_phone
        clinic = int(w.hab_centre[pts[0]]) if rng.random() < 0.5 else int(w.hab_clinic[pts[0]])
        doc = int(_doc_of(w, rng, clinic))
        weekday = int(rng.integers(0, 5))
        for wk in range(int(np.clip(n_claims / 800, 8, 52))):
            day = wk * 7 + weekday
            sel = pts[rng.random(len(pts)) < 0.45]
            if len(sel) == 0 or day >= DAYS:
                continue
            t0 = times(rng, [day], "clinic")[0]
            ts = t0 + np.cumsum(rng.integers(180, 900, len(sel)))
            dx = np.array([DX[c] for c in ("I10.x00", "J06.900", "I25.100", "M17.900", "K29.700")])
            cl.add(pat=sel, fac=clinic, ctype=OUT, ts=ts, doc=doc, diag=dx[rng.integers(0, 5, len(sel))])
        pharm = int(w.hab_pharm[pts[0]])
        for m in range(12):
            day = m * 30 + int(rng.integers(0, 5))
            sel = pts[rng.random(len(pts)) < 0.5]
            if len(sel) == 0:
                continue
            t0 = times(rng, [day], "pharm")[0]
            ts = t0 + np.cumsum(rng.integers(60, 400, len(sel)))
            cl.add(pat=sel, fac=pharm, ctype=PHA, ts=ts, diag=DX["I10.x00"])
        out["nursing_home"].append(pts)

    # -- chronic patients of one community centre collecting refills on the same day each month
    for _ in range(count(0.2)):
        centre = int(w.town_centre[rng.integers(0, w.n_towns)])
        town = int(w.fac_town[centre])
        ch = w.chronic[:, 0] | w.chronic[:, 1]
        size = int(np.clip(n_claims / 1500, 6, 30))
        pts = _take(w, rng, (w.place_town[w.place] == town) & ch, size)
        if len(pts) < 4:
            continue
        dom = int(rng.integers(1, 25))
        for m in range(int(rng.integers(6, 13))):
            sel = pts[rng.random(len(pts)) < 0.75]
            day = m * 30.5 + dom
            days = np.full(len(sel), int(day))
            for p_i, p in enumerate(sel):
                days[p_i] = _alive_days(w, p, days[p_i:p_i + 1])[0]
            dx = np.where(w.chronic[sel, 1], DX["E11.900"], DX["I10.x00"])
            drug = np.where(w.chronic[sel, 1], DRUG_X["盐酸二甲双胍片"], DRUG_X["苯磺酸氨氯地平片"])
            cl.add(pat=sel, fac=centre, ctype=OUT, ts=times(rng, days, "clinic"), diag=dx, drug=drug,
                   packs=rng.integers(2, 4, len(sel)))
        out["chronic_refill_day"].append(pts)

    # -- one-off group admission after a local incident (food / CO poisoning)
    for _ in range(count(0.08)):
        place = int(rng.integers(0, len(w.place_region)))
        size = int(rng.integers(6, 16))
        pts = _take(w, rng, (w.place == place) & (w.death < 0), size)
        if len(pts) < 4:
            continue
        hosp = _near(w, rng, [SECONDARY], int(w.place_region[place]))
        day0 = int(rng.integers(10, DAYS - 20))
        los = rng.integers(2, 6, len(pts))
        dx = DX["A05.900"] if rng.random() < 0.6 else DX["T58.x00"]
        disch = day0 + los
        cl.add(pat=pts, fac=hosp, ctype=INP, ts=times(rng, disch, "disch"), admit=day0, disch=disch, diag=dx)
        out["group_admission"].append(pts)

    # -- chemotherapy cycles: re-admitted every ~21 days to the same oncology ward
    for _ in range(count(0.15)):
        r = int(rng.integers(0, len(w.region_code)))
        hosp = _near(w, rng, [TERTIARY, SECONDARY], r)
        pts = _take(w, rng, (w.age >= 40) & (w.age <= 82) & (w.death < 0), int(rng.integers(3, 8)))
        for p in pts:
            breast = w.sex[p] == 1 and rng.random() < 0.4
            start = int(rng.integers(0, 200))
            n_cyc = int(rng.integers(4, 7))
            adm = start + np.cumsum(np.r_[0, 21 + rng.integers(-2, 3, n_cyc - 1)])
            los = rng.integers(2, 5, n_cyc)
            ok = adm + los < DAYS
            adm, los = adm[ok], los[ok]
            drug = DRUG_X["曲妥珠单抗注射液" if breast else "贝伐珠单抗注射液"]
            cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, adm + los, "disch"), admit=adm,
                   disch=adm + los, diag=DX["Z51.100"], svc=cat.SV["肿瘤化学治疗"], drug=drug,
                   packs=rng.integers(1, 3, len(adm)))
        if len(pts):
            out["chemotherapy_cycles"].append(pts)

    # -- a village cataract campaign: elderly of one village, one eye hospital, batches
    for _ in range(count(0.07)):
        rural = np.flatnonzero(w.place_rural)
        old = np.bincount(w.place[(w.age >= 55) & ~w.used], minlength=len(w.place_region))
        place = int(rural[np.argmax(old[rural])]) if len(rural) else int(np.argmax(old))
        r = int(w.place_region[place])
        hosp = _near(w, rng, [PRIVATE], r)
        pts = _take(w, rng, (w.place == place) & (w.age >= 55) & (w.death < 0),
                    int(np.clip(n_claims / 1500, 8, 30)))
        if len(pts) < 4:
            continue
        day0 = int(rng.integers(20, DAYS - 90))
        adm = day0 + rng.integers(0, 4, len(pts))
        los = rng.integers(1, 4, len(pts))
        cl.add(pat=pts, fac=hosp, ctype=INP, ts=times(rng, adm + los, "disch"), admit=adm, disch=adm + los,
               diag=DX["H25.900"], svc=cat.SV["白内障超声乳化摘除术+人工晶体植入术"])
        second = pts[rng.random(len(pts)) < 0.4]
        if len(second):
            adm2 = day0 + int(rng.integers(30, 60)) + rng.integers(0, 3, len(second))
            los2 = rng.integers(1, 3, len(second))
            cl.add(pat=second, fac=hosp, ctype=INP, ts=times(rng, adm2 + los2, "disch"), admit=adm2,
                   disch=adm2 + los2, diag=DX["H25.900"],
                   svc=cat.SV["白内障超声乳化摘除术+人工晶体植入术"])
        out["cataract_campaign"].append(pts)

    # -- long rehabilitation stays at a private hospital, settled monthly (中途结算)
    for _ in range(count(0.15)):
        r = int(rng.integers(0, len(w.region_code)))
        hosp = _near(w, rng, [PRIVATE], r)
        pts = _take(w, rng, (w.region == r) & (w.age >= 55) & (w.death < 0), int(rng.integers(3, 8)))
        for p in pts:
            start = int(rng.integers(0, 250))
            total = int(rng.integers(30, 100))
            seg_start = np.arange(start, min(start + total, DAYS - 1), 30)
            seg_end = np.minimum(seg_start + 29, min(start + total, DAYS - 1))
            dx = DX["I69.300"] if rng.random() < 0.6 else DX["Z50.800"]
            cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, seg_end, "disch"), admit=seg_start,
                   disch=seg_end, diag=dx, svc=cat.SV["偏瘫肢体综合训练"])
        if len(pts):
            out["rehab_long_stay"].append(pts)

    # -- innocent single signals --------------------------------------------------------------
    for _ in range(count(2, 2)):  # died in hospital, settled after death_date
        p = _take(w, rng, (w.age >= 65) & (w.death < 0), 1)
        if not len(p):
            continue
        p = int(p[0])
        hosp = int(w.hab_hosp[p])
        adm = int(rng.integers(30, DAYS - 10))
        dies = adm + int(rng.integers(1, 8))
        w.death[p] = dies
        settle = dies + int(rng.integers(1, 4))
        cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, [settle], "disch"), admit=adm, disch=dies,
               diag=DX[("I63.900", "J18.900", "I50.900", "I21.900")[int(rng.integers(0, 4))]])
        out["death_in_hospital"].append(np.array([p]))

    for _ in range(count(4, 2)):  # newborn settled on the mother's card (新生儿随母)
        p = _take(w, rng, (w.sex == 1) & (w.age >= 20) & (w.age <= 40) & (w.death < 0), 1)
        if not len(p):
            continue
        p = int(p[0])
        hosp = int(w.hab_hosp[p])
        birth = int(rng.integers(5, DAYS - 30))
        los = int(rng.integers(2, 6))
        cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, [birth + los], "disch"), admit=birth,
               disch=birth + los, diag=DX["O80.000" if rng.random() < 0.6 else "O82.000"],
               svc=cat.SV["单胎顺产接生"])
        nb = birth + int(rng.integers(0, 20))
        if rng.random() < 0.5:
            cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, [nb + 4], "disch"), admit=nb, disch=nb + 4,
                   diag=DX["P07.300"], svc=cat.SV["新生儿护理"])
        else:
            cl.add(pat=p, fac=int(w.hab_centre[p]), ctype=OUT, ts=times(rng, [nb], "clinic"),
                   diag=DX["Z38.000"])
        out["newborn_on_parent_card"].append(np.array([p]))

    common = [DRUG_X[d] for d in ("阿莫西林胶囊", "苯磺酸氨氯地平片", "连花清瘟胶囊", "盐酸二甲双胍片",
                                  "阿托伐他汀钙片", "奥美拉唑肠溶胶囊")]
    for _ in range(count(4, 2)):  # refund and re-settle: same pharmacy, same trace codes
        p = _take(w, rng, adults & (w.death < 0), 1)
        if not len(p):
            continue
        p = int(p[0])
        ph = int(w.hab_pharm[p])
        day = int(rng.integers(0, DAYS))
        t0 = times(rng, [day], "pharm")[0]
        drug = common[int(rng.integers(0, len(common)))]
        k = int(rng.integers(1, 4))
        card = int(w.card03[p] if w.card03[p] >= 0 else w.card01[p])
        a = cl.add(pat=p, fac=ph, ctype=PHA, ts=t0, drug=drug, packs=k, card=card)
        b = cl.add(pat=p, fac=ph, ctype=PHA, ts=t0 + int(rng.integers(300, 2400)), drug=drug, packs=k,
                   card=card)
        cl.reuse.append((np.repeat(b, k), np.arange(k), np.repeat(a, k), np.arange(k)))
        out["refund_resettle"].append(np.array([p]))

    for _ in range(count(2.5, 2)):  # split pack (拆零): one code over several sales at one pharmacy
        ph = int(w.facilities_of([PHARMACY])[rng.integers(0, len(w.facilities_of([PHARMACY])))])
        pts = _take(w, rng, (w.hab_pharm == ph) & (w.death < 0), int(rng.integers(2, 4)))
        if len(pts) < 2:
            continue
        drug = common[int(rng.integers(0, len(common)))]
        day = int(rng.integers(0, DAYS - 7))
        days = day + np.sort(rng.integers(0, 6, len(pts)))
        ids = cl.add(pat=pts, fac=ph, ctype=PHA, ts=times(rng, days, "pharm"), drug=drug, packs=1,
                     qty=round(1.0 / len(pts), 2))
        cl.reuse.append((ids[1:], np.zeros(len(ids) - 1, dtype=np.int64), np.repeat(ids[0], len(ids) - 1),
                         np.zeros(len(ids) - 1, dtype=np.int64)))
        out["split_pack"].append(pts)

    for _ in range(count(2.5, 2)):  # transfer between hospitals overlapping by a day
        p = _take(w, rng, (w.age >= 45) & (w.death < 0), 1)
        if not len(p):
            continue
        p = int(p[0])
        a = int(w.hab_hosp[p])
        ter = w.facilities_of([TERTIARY])
        b = int(ter[rng.integers(0, len(ter))])
        if b == a:
            b = _near(w, rng, [SECONDARY], int(w.region[p]))
        adm = int(rng.integers(0, DAYS - 30))
        mid = adm + int(rng.integers(2, 8))
        end = mid + int(rng.integers(5, 15))
        dx = DX[("I63.900", "I21.900", "S72.000")[int(rng.integers(0, 3))]]
        cl.add(pat=p, fac=a, ctype=INP, ts=times(rng, [mid], 12), admit=adm, disch=mid, diag=dx)
        cl.add(pat=p, fac=b, ctype=INP, ts=times(rng, [end], "disch"), admit=mid, disch=end, diag=dx)
        out["transfer_overlap"].append(np.array([p]))

    hh_size = np.bincount(w.hh)
    for _ in range(count(4, 2)):  # a relative buys on the card while the holder is in hospital
        p = _take(w, rng, (w.age >= 50) & (hh_size[w.hh] >= 2) & (w.death < 0), 1)
        if not len(p):
            continue
        p = int(p[0])
        adm = int(rng.integers(0, DAYS - 20))
        los = int(rng.integers(5, 14))
        cl.add(pat=p, fac=int(w.hab_hosp[p]), ctype=INP, ts=times(rng, [adm + los], "disch"), admit=adm,
               disch=adm + los, diag=DX["J18.900"])
        rel = np.flatnonzero(w.hh == w.hh[p])
        rel = rel[rel != p]
        card = int(w.card01[p] if w.card01[p] >= 0 else w.card03[p])
        oph = int(w.phone[rel[0]]) if w.card_type[card] == "01" else -1
        day = adm + int(rng.integers(1, los))
        cl.add(pat=p, fac=int(w.hab_pharm[p]), ctype=PHA, ts=times(rng, [day], "pharm"), card=card,
               ophone=oph)
        out["relative_buys_during_stay"].append(np.array([p]))
    return out


# ============================================================================================
# Rings
# ============================================================================================

def plant_rings(w: World, rng, cl: Claims, n_claims: int, camo: float) -> list[dict]:
    """Plant all four typologies; returns rings as dicts (typology, members[(type, idx/str, role)])."""
    n_each = max(4, int(round(n_claims / 4000)))
    rings: list[dict] = []
    for typ, fn in (("gang", _gang), ("impersonation", _impersonation), ("diversion", _diversion),
                    ("fake_admission", _fake_admission)):
        for _ in range(n_each):
            r = fn(w, rng, cl, camo, n_claims)
            if r is not None:
                r["typology"] = typ
                r.setdefault("scenario", f"{typ}:planted")
                r.setdefault("params", {})
                rings.append(r)
    return rings


def _spread_days(rng, n: int, camo: float, lo: int = 0, hi: int = DAYS) -> np.ndarray:
    """``n`` distinct days: concentrated in a window at low camouflage, over the year at high."""
    span = int(max(n + 5, (hi - lo) * (0.2 + 0.8 * camo)))
    span = min(span, hi - lo)
    start = lo + int(rng.integers(0, hi - lo - span + 1))
    return np.sort(start + rng.choice(span, min(n, span), replace=False))


def _gang(w: World, rng, cl: Claims, camo: float, n_claims: int):
    r = int(rng.integers(0, len(w.region_code)))
    org = _take(w, rng, (w.region == r) & (w.age >= 28) & (w.age <= 60) & (w.own_phone >= 0), 1)
    if not len(org):
        return None
    org = int(org[0])
    k = int(rng.integers(6, 16 if n_claims < 100000 else 30))
    near = (w.region == r) | (rng.random(w.n_patients) < 0.1)
    members = _take(w, rng, near & (w.age >= 18) & (w.death < 0), k, distinct_hh=True)
    if len(members) < 4:
        return None
    n_fac = 1 + int(rng.random() < 0.3 + 0.5 * camo) + int(rng.random() < 0.3 * camo)
    facs = []
    for _ in range(n_fac):
        kinds = [CLINIC] if rng.random() < 0.3 else [PHARMACY]
        facs.append(_near(w, rng, kinds, r))
    facs = sorted(set(facs))
    phone = int(w.own_phone[org])
    card = np.where(w.card03[members] >= 0, w.card03[members], w.card01[members])
    use01 = (w.card01[members] >= 0) & (rng.random(len(members)) < 0.4)
    card = np.where(use01, w.card01[members], card)
    n_days = int(rng.integers(5, 18))
    days = _spread_days(rng, n_days, camo)
    gang_drugs = np.array([DRUG_X[d] for d in GANG_DRUGS])
    ring_drugs = gang_drugs[rng.choice(len(gang_drugs), 3, replace=False)]
    frac = 0.9 - 0.5 * camo
    for day in days:
        f = facs[int(rng.integers(0, len(facs)))]
        sel = np.flatnonzero(rng.random(len(members)) < frac)
        if len(sel) < 2:
            sel = np.arange(len(members))
        pm = members[sel]
        t0 = times(rng, [day], "pharm")[0]
        gaps = np.maximum(15, rng.exponential(60 + 700 * camo, len(sel))).astype(np.int64)
        ts = t0 + np.cumsum(gaps)
        dedicated = w.fac_dev_start[f] + w.fac_dev_n[f] - 1
        dev = np.where(rng.random(len(sel)) < 1 - 0.5 * camo, dedicated, -2)
        c = card[sel]
        oph = np.where(w.card_type[c] == "01", phone, -1)
        is_ph = w.fac_kind[f] == PHARMACY
        drug = ring_drugs[rng.integers(0, len(ring_drugs), len(sel))]
        soft = np.array([DX[x] for x in ("M54.500", "J06.900", "I10.x00", "K29.700")])
        cl.add(pat=pm, fac=f, ctype=PHA if is_ph else OUT, ts=ts, card=c, ophone=oph, dev=dev,
               drug=drug, packs=rng.integers(1, 4, len(sel)), src=2,
               diag=-1 if is_ph else soft[rng.integers(0, len(soft), len(sel))])
    mem = [("patient", int(org), "organiser")] + [("patient", int(p), "card holder") for p in members]
    mem += [("card", int(c), "collected card") for c in np.unique(card)]
    mem += [("pharmacy" if w.fac_kind[f] == PHARMACY else "institution", int(f), "colluding")
            for f in facs]
    mem += [("phone", phone, "organiser phone")]
    return {"members": mem, "patients": np.r_[org, members]}


def _impossible_dx(w: World, rng, holder: int) -> int | None:
    opts = list(cat.IMPOSSIBLE_FOR["M" if w.sex[holder] == 0 else "F"])
    opts += cat.IMPOSSIBLE_FOR["child" if w.age[holder] < 14 else "adult"]
    opts = [o for o in opts if not o.startswith("O8")]
    return DX[opts[int(rng.integers(0, len(opts)))]] if opts else None


def _impersonation(w: World, rng, cl: Claims, camo: float, n_claims: int):
    u = _take(w, rng, (w.age >= 20) & (w.age <= 60) & (w.own_phone >= 0) & (w.death < 0), 1)
    if not len(u):
        return None
    u = int(u[0])
    r = int(w.region[u])
    holders = []
    rel = np.flatnonzero((w.hh == w.hh[u]) & ~w.used)
    if len(rel) and rng.random() < 0.6:
        pick = rel[rng.permutation(len(rel))[: int(rng.integers(1, 3))]]
        w.used[pick] = True
        holders += [int(x) for x in pick]
    n_unrel = int(rng.integers(1, 4))
    holders += [int(x) for x in _take(w, rng, (w.region == r) & (w.death < 0) & (w.hh != w.hh[u]),
                                      n_unrel, distinct_hh=True)]
    if rng.random() < 0.6:  # a dead person's card
        d = _take(w, rng, (w.age >= 70) & (w.death < 0) & (w.region == r), 1)
        if len(d):
            w.death[d[0]] = int(rng.integers(20, 220))
            holders.append(int(d[0]))
    if len(holders) < 2:
        return None
    phone = int(w.own_phone[u])
    p_imp = 0.6 - 0.4 * camo
    facs_u = [int(w.hab_pharm[u]), int(w.hab_clinic[u]), int(w.hab_hosp[u]), int(w.hab_pharm2[u])]
    cards_used, used_phone = [], False
    for h in holders:
        card = int(w.card01[h] if w.card01[h] >= 0 else w.card03[h])
        cards_used.append(card)
        n = int(rng.integers(3, 12))
        lo = int(w.death[h]) + 1 if w.death[h] >= 0 else 0
        days = np.sort(rng.integers(lo, DAYS, n)) if lo < DAYS - 1 else np.array([DAYS - 1])
        fac = np.array(facs_u)[rng.integers(0, len(facs_u), len(days))]
        ph = w.fac_kind[fac] == PHARMACY
        dx_u = np.array([DX[c[0]] for c in cat.ACUTE_OUTPATIENT
                         if (not c[1] or (c[1] == "M") == (w.sex[u] == 0)) and c[2] <= w.age[u] <= c[3]])
        diag = dx_u[rng.integers(0, len(dx_u), len(days))]
        imp = _impossible_dx(w, rng, h)
        if imp is not None:
            diag = np.where(rng.random(len(days)) < p_imp, imp, diag)
        diag = np.where(ph & (rng.random(len(days)) < 0.5), -1, diag)
        oph = phone if w.card_type[card] == "01" else -1
        used_phone |= oph >= 0
        prof = np.where(ph, 0, 1)
        ts = np.where(prof == 0, times(rng, days, "pharm"), times(rng, days, "clinic"))
        ids = cl.add(pat=h, fac=fac, ctype=np.where(ph, PHA, OUT), ts=ts, card=card, ophone=oph,
                     diag=diag, src=2)
        if w.death[h] < 0 and rng.random() < 0.7:  # the holder's own visit on the same day
            dd = days[: max(1, len(days) // 3)]
            cl.add(pat=h, fac=int(w.hab_centre[h]), ctype=OUT, ts=times(rng, dd, "clinic"),
                   diag=DX["I10.x00"] if w.age[h] >= 40 else DX["J06.900"])
        del ids
    if rng.random() < 0.4:  # overlapping stays on one card
        h = next((x for x in holders if w.death[x] < 0), None)
        if h is not None:
            a = int(rng.integers(0, DAYS - 30))
            cl.add(pat=h, fac=int(w.hab_hosp[h]), ctype=INP, ts=times(rng, [a + 8], "disch"), admit=a,
                   disch=a + 8, diag=DX["J18.900"])
            other = _near(w, rng, [PRIVATE, SECONDARY], r)
            card = int(w.card03[h] if w.card03[h] >= 0 else w.card01[h])
            cl.add(pat=h, fac=other, ctype=INP, ts=times(rng, [a + 9], "disch"), admit=a + 3, disch=a + 9,
                   card=card, ophone=phone if w.card_type[card] == "01" else -1,
                   diag=DX[cat.SOFT_INPATIENT[int(rng.integers(0, 4))]], src=2)
            cards_used.append(card)
    mem = [("patient", u, "user")] + [("patient", h, "card holder") for h in holders]
    mem += [("card", c, "borrowed card") for c in sorted(set(cards_used))]
    if used_phone:
        mem.append(("phone", phone, "presenting phone"))
    return {"members": mem, "patients": np.array([u] + holders)}


def _diversion(w: World, rng, cl: Claims, camo: float, n_claims: int):
    r = int(rng.integers(0, len(w.region_code)))
    drug_name, ind = KEY_DIVERSION[int(rng.integers(0, len(KEY_DIVERSION)))]
    drug = DRUG_X[drug_name]
    mules = _take(w, rng, (w.region == r) & (w.age >= 35) & (w.age <= 80) & (w.death < 0),
                  int(rng.integers(3, 9)), distinct_hh=True)
    if len(mules) < 2:
        return None
    insts = np.unique([_near(w, rng, [SECONDARY, COMMUNITY, CLINIC, TERTIARY], r)
                       for _ in range(int(rng.integers(3, 7)))])
    docs = np.unique(_doc_of(w, rng, insts))
    phs = w.facilities_of([PHARMACY], r)
    if len(phs) < 2:
        phs = w.facilities_of([PHARMACY])
    reseller = int(phs[rng.integers(0, len(phs))])
    mule_ph = phs[phs != reseller]
    mule_ph = mule_ph[rng.permutation(len(mule_ph))[:3]]
    price = cat.DRUGS[drug][2]
    hi_p = 3 if price > 1000 else (8 if price > 100 else 12)
    src_claims, src_packs, src_ts = [], [], []
    for m in mules:
        v = int(rng.integers(6, 16 + int(8 * camo)))
        days = np.sort(rng.choice(DAYS, v, replace=False)) if camo > 0.5 else _spread_days(rng, v, camo)
        days = _alive_days(w, int(m), days)
        v = len(days)
        di = docs[rng.integers(0, len(docs), v)]
        at_ph = rng.random(v) < 0.5
        fac = np.where(at_ph, mule_ph[rng.integers(0, len(mule_ph), v)], w.doc_fac[di])
        lo = max(1, int(round(hi_p * (0.25 + 0.25 * (1 - camo)))))
        packs = rng.integers(lo, max(lo + 1, int(hi_p * (1 - 0.5 * camo)) + 1), v)
        ts = np.where(at_ph, times(rng, days, "pharm"), times(rng, days, "hosp"))
        ids = cl.add(pat=int(m), fac=fac, ctype=np.where(at_ph, PHA, OUT), ts=ts, doc=di, diag=DX[ind],
                     drug=drug, packs=packs, src=2)
        src_claims.append(np.repeat(ids, packs))
        src_packs.append(np.concatenate([np.arange(k) for k in packs]))
        src_ts.append(np.repeat(ts, packs))
    src_c = np.concatenate(src_claims)
    src_k = np.concatenate(src_packs)
    src_t = np.concatenate(src_ts)
    buyers = _take(w, rng, (w.hab_pharm == reseller) | (w.region == w.fac_region[reseller]),
                   int(rng.integers(2, 6)))
    if len(buyers) == 0:
        return None
    frac = 0.8 - 0.4 * camo
    pick = np.flatnonzero(rng.random(len(src_c)) < frac)
    if len(pick) == 0:
        pick = np.array([0])
    pick = pick[np.argsort(src_t[pick], kind="stable")]
    # group resold packs into resale claims of 1-4 packs
    sizes = rng.integers(1, 5, len(pick))
    ends = np.cumsum(sizes)
    ends = ends[ends < len(pick)]
    bounds = np.r_[0, ends, len(pick)]
    sizes = np.diff(bounds)
    n_res = len(sizes)
    last = pick[bounds[1:] - 1]
    day = np.minimum(DAYS - 1, src_t[last] // 86400 + rng.integers(2, 40, n_res))
    b = buyers[rng.integers(0, len(buyers), n_res)]
    day = np.clip(day, np.maximum(w.birth[b], 0), np.where(w.death[b] >= 0, w.death[b] - 1, DAYS - 1))
    tid = cl.add(pat=b, fac=reseller, ctype=PHA, ts=times(rng, day, "pharm"), drug=drug, packs=sizes,
                 diag=np.where(rng.random(n_res) < 0.5, DX[ind], -1), src=2)
    k_in = np.arange(len(pick)) - np.repeat(bounds[:-1], sizes)
    cl.reuse.append((np.repeat(tid, sizes), k_in, src_c[pick], src_k[pick]))
    mem = [("patient", int(m), "mule") for m in mules]
    mem += [("patient", int(b), "reseller card") for b in buyers]
    mem += [("pharmacy", reseller, "reseller")]
    mem += [("doctor", int(d), "prescriber") for d in docs]
    mem += [("drug", drug, "diverted drug")]
    return {"members": mem, "patients": np.r_[mules, buyers]}


def _fake_admission(w: World, rng, cl: Claims, camo: float, n_claims: int):
    rural = np.flatnonzero(w.place_rural)
    places = rural if len(rural) else np.arange(len(w.place_region))
    elig = (w.age >= 35) & (w.death < 0) & ~w.used
    cnt = np.bincount(w.place[elig], minlength=len(w.place_region))[places]
    if cnt.max() < 4:
        return None
    good = places[cnt >= max(4, np.sort(cnt)[-max(1, len(cnt) // 3)])]
    place = int(good[rng.integers(0, len(good))])
    r = int(w.place_region[place])
    k = int(rng.integers(5, 14))
    members = _take(w, rng, (w.place == place) & (w.age >= 35) & (w.death < 0), k)
    if camo > 0.5 and rng.random() < camo - 0.3:  # a few from a neighbouring village
        nb = np.flatnonzero((w.place_town == w.place_town[place]) & (np.arange(len(w.place_town)) != place))
        if len(nb):
            extra = _take(w, rng, (w.place == nb[0]) & (w.age >= 35) & (w.death < 0), 2)
            members = np.r_[members, extra]
    if len(members) < 4:
        return None
    hosp = _near(w, rng, [PRIVATE], r)
    docs = np.unique(_doc_of(w, rng, np.full(int(rng.integers(1, 3)), hosp)))
    n_dx = 1 + int(round(2 * camo))
    dxs = np.array([DX[c] for c in rng.choice(cat.SOFT_INPATIENT, n_dx, replace=False)])
    n_ep = int(rng.integers(2, 5))
    base_los = int(rng.integers(6, 12))
    ep_days = np.sort(rng.choice(np.arange(5, DAYS - 25, 30), n_ep, replace=False)) + int(rng.integers(0, 20))
    jit_d = int(round(3 * camo))
    jit_l = 1 + int(round(3 * camo))
    for d0 in ep_days:
        sel = members[rng.random(len(members)) < 0.8]
        if len(sel) < 3:
            sel = members[:3]
        adm = d0 + rng.integers(0, jit_d + 1, len(sel))
        los = np.maximum(3, base_los + rng.integers(-jit_l, jit_l + 1, len(sel)))
        disch = np.minimum(adm + los, DAYS - 1)
        cl.add(pat=sel, fac=hosp, ctype=INP, ts=times(rng, disch, "disch"), admit=adm, disch=disch,
               diag=dxs[rng.integers(0, len(dxs), len(sel))], doc=docs[rng.integers(0, len(docs), len(sel))],
               svc=cat.SV["中医针刺"] if rng.random() < 0.5 else cat.SV["偏瘫肢体综合训练"], src=2)
        home = sel[rng.random(len(sel)) < 0.35 - 0.2 * camo]   # 挂床: seen at home during the stay
        for p in home:
            j = int(np.flatnonzero(sel == p)[0])
            day = int(adm[j] + rng.integers(1, max(2, disch[j] - adm[j])))
            cl.add(pat=int(p), fac=int(w.hab_clinic[p]), ctype=OUT, ts=times(rng, [day], "clinic"),
                   diag=DX["J06.900"], src=2)
    mem = [("patient", int(m), "admitted") for m in members]
    mem += [("institution", hosp, "admitting institution")]
    mem += [("doctor", int(d), "attending") for d in docs]
    return {"members": mem, "patients": members}
