"""Legitimate look-alikes (contract section 2): never in the truth, yet each shares a surface
feature with a fraud — many people at one place on one rhythm, one phone for several cards, a
trace code settled twice, a settlement after death. Each cohort draws its size and rhythm.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth import _catalog as cat
from graphkit.synth._claims import DRUG_X, DX, INP, OUT, PHA, Claims, times
from graphkit.synth._draw import alive_days, busy_region, doctor_of, near, take
from graphkit.synth._world import DAYS, PHARMACY, PRIVATE, SECONDARY, TERTIARY, World, new_phone

LOOKALIKE_KINDS = ("dialysis_cohort", "nursing_home", "family_shared_phone", "chronic_refill_day",
                   "group_admission", "chemotherapy_cycles", "cataract_campaign", "rehab_long_stay",
                   "death_in_hospital", "newborn_on_parent_card", "refund_resettle", "split_pack",
                   "transfer_overlap", "relative_buys_during_stay")

_COMMON = ("阿莫西林胶囊", "苯磺酸氨氯地平片", "连花清瘟胶囊", "盐酸二甲双胍片", "阿托伐他汀钙片",
           "奥美拉唑肠溶胶囊")


def plant_lookalikes(w: World, rng, cl: Claims, n_claims: int) -> dict:
    """Add every look-alike of the contract; returns kind -> list of patient index arrays.

    ``family_shared_phone`` is filled in later from the claims (every phone presenting the cards
    of one household); the families planted here are among them.
    """
    w.address = np.array(w.hh_address, dtype=object)[w.hh]
    scale = n_claims / 20000
    out: dict[str, list] = {k: [] for k in LOOKALIKE_KINDS}
    for kind, per_20k, least, plant in _PLANTERS:
        for _ in range(max(least, int(round(per_20k * scale)))):
            pts = plant(w, rng, cl, n_claims)
            if pts is not None and len(pts) and kind != "family_shared_phone":
                out[kind].append(np.asarray(pts))
    return out


def _dialysis_cohort(w: World, rng, cl: Claims, n_claims: int):
    """血透: the same patients at one hospital on fixed weekdays and shift, for months."""
    r = busy_region(w, rng)
    hosp = near(w, rng, [SECONDARY, TERTIARY], r)
    size = int(rng.integers(3, 9 if n_claims < 50000 else 21))
    pts = take(w, rng, (w.region == r) & (w.age >= 30) & (w.age <= 85), size)
    if len(pts) < 3:
        return None
    pattern = np.array([0, 2, 4]) if rng.random() < 0.5 else np.array([1, 3, 5])
    if rng.random() < 0.25:
        pattern = pattern[:2]   # twice a week
    weeks = int(np.clip(n_claims / 1000 * rng.uniform(0.5, 1.5), 6, 50))
    start_week = int(rng.integers(0, 52 - weeks + 1))
    shifts = rng.choice([8, 11, 14, 17], int(rng.integers(1, 3)), replace=False)
    attend = rng.uniform(0.85, 0.97)
    for p in pts:
        wk = np.arange(start_week + int(rng.integers(0, 3)), start_week + weeks)
        days = (wk[:, None] * 7 + pattern[None, :]).ravel()
        days = alive_days(w, p, days[(days < DAYS) & (rng.random(len(days)) < attend)])
        epo = rng.random(len(days)) < 0.3
        cl.add(pat=p, fac=hosp, ctype=OUT, ts=times(rng, days, int(rng.choice(shifts))),
               diag=DX["N18.500"], svc=cat.SV["血液透析"],
               drug=np.where(epo, DRUG_X["重组人促红素注射液"], -1), packs=np.where(epo, 1, 0))
    return pts


def _nursing_home(w: World, rng, cl: Claims, n_claims: int):
    """Residents sharing an address and phone, weekly rounds by one doctor, refills by staff."""
    r = busy_region(w, rng)
    size = int(np.clip(n_claims / 1500 * rng.uniform(0.4, 1.6), 6, 40))
    pts = take(w, rng, (w.region == r) & (w.age >= 68), size)
    if len(pts) < 4:
        return None
    place = int(w.place[pts[0]])
    w.address[pts] = f"{w.place_text[place]}{cat.VILLAGE_STEMS[int(rng.integers(0, 20))]}福养老院"
    w.phone[pts] = new_phone(w)
    clinic = int(w.hab_centre[pts[0]]) if rng.random() < 0.5 else int(w.hab_clinic[pts[0]])
    doc = int(doctor_of(w, rng, clinic))
    weekday, seen = int(rng.integers(0, 5)), rng.uniform(0.3, 0.6)
    dx = np.array([DX[c] for c in ("I10.x00", "J06.900", "I25.100", "M17.900", "K29.700")])
    for wk in range(int(np.clip(n_claims / 800, 8, 52))):
        sel = pts[rng.random(len(pts)) < seen]
        day = wk * 7 + weekday
        if len(sel) and day < DAYS:
            ts = times(rng, [day], "clinic")[0] + np.cumsum(rng.integers(180, 900, len(sel)))
            cl.add(pat=sel, fac=clinic, ctype=OUT, ts=ts, doc=doc, diag=dx[rng.integers(0, 5, len(sel))])
    pharm = int(w.hab_pharm[pts[0]])
    every = int(rng.choice([14, 30]))
    for day in range(int(rng.integers(0, 5)), DAYS, every):
        sel = pts[rng.random(len(pts)) < 0.5]
        if len(sel):
            ts = times(rng, [day], "pharm")[0] + np.cumsum(rng.integers(60, 400, len(sel)))
            cl.add(pat=sel, fac=pharm, ctype=PHA, ts=ts, diag=DX["I10.x00"])
    return pts


def _family_phone(w: World, rng, cl: Claims, n_claims: int):
    """An adult presents his household's 电子凭证 from his own phone at their pharmacy, often
    several cards minutes apart: one phone, several cards, one household."""
    cand = np.flatnonzero((w.card01 >= 0) & ~w.used & (w.death < 0))
    hh_n = np.bincount(w.hh[cand], minlength=int(w.hh.max()) + 1)
    homes = np.flatnonzero(hh_n >= 3)
    if not len(homes):
        return None
    home = int(homes[rng.integers(0, len(homes))])
    pts = take(w, rng, (w.hh == home) & (w.card01 >= 0) & (w.death < 0), 4)
    carer = pts[np.argmax(w.own_phone[pts])]
    if w.own_phone[carer] < 0:
        return None
    days = np.sort(rng.choice(DAYS, int(rng.integers(6, 30)), replace=False))
    pharm = int(w.hab_pharm[carer])
    for day in days:
        sel = pts[rng.random(len(pts)) < 0.6]
        if len(sel):
            ts = times(rng, [day], "pharm")[0] + np.cumsum(rng.integers(30, 600, len(sel)))
            cl.add(pat=sel, fac=pharm, ctype=PHA, ts=ts, card=w.card01[sel],
                   ophone=int(w.own_phone[carer]))
    return pts


def _chronic_refill_day(w: World, rng, cl: Claims, n_claims: int):
    """Chronic patients of one community centre collecting refills on one day each month."""
    ch = w.chronic[:, 0] | w.chronic[:, 1]
    per_town = np.bincount(w.place_town[w.place[ch & ~w.used]], minlength=w.n_towns)
    towns = np.flatnonzero(per_town >= 4)
    if not len(towns):
        return None
    centre = int(w.town_centre[towns[rng.integers(0, len(towns))]])
    size = int(np.clip(n_claims / 1500 * rng.uniform(0.4, 1.6), 6, 40))
    pts = take(w, rng, (w.place_town[w.place] == int(w.fac_town[centre])) & ch, size)
    if len(pts) < 4:
        return None
    dom, turnout = int(rng.integers(1, 25)), rng.uniform(0.6, 0.9)
    for m in range(int(rng.integers(6, 13))):
        sel = pts[rng.random(len(pts)) < turnout]
        days = np.array([alive_days(w, p, np.array([int(m * 30.5 + dom)]))[0] for p in sel], dtype=np.int64)
        dx = np.where(w.chronic[sel, 1], DX["E11.900"], DX["I10.x00"])
        drug = np.where(w.chronic[sel, 1], DRUG_X["盐酸二甲双胍片"], DRUG_X["苯磺酸氨氯地平片"])
        cl.add(pat=sel, fac=centre, ctype=OUT, ts=times(rng, days, "clinic"), diag=dx, drug=drug,
               packs=rng.integers(2, 4, len(sel)))
    return pts


def _group_admission(w: World, rng, cl: Claims, n_claims: int):
    """One-off group admission after a local incident (food / CO poisoning)."""
    place = int(rng.integers(0, len(w.place_region)))
    pts = take(w, rng, (w.place == place) & (w.death < 0), int(rng.integers(4, 21)))
    if len(pts) < 4:
        return None
    hosp = near(w, rng, [SECONDARY], int(w.place_region[place]))
    day0 = int(rng.integers(10, DAYS - 20))
    adm = day0 + rng.integers(0, 2, len(pts))
    disch = adm + rng.integers(2, 7, len(pts))
    dx = DX["A05.900"] if rng.random() < 0.6 else DX["T58.x00"]
    cl.add(pat=pts, fac=hosp, ctype=INP, ts=times(rng, disch, "disch"), admit=adm, disch=disch, diag=dx)
    return pts


def _chemotherapy_cycles(w: World, rng, cl: Claims, n_claims: int):
    """化疗: re-admitted every cycle (14, 21 or 28 days) to the same oncology ward."""
    hosp = near(w, rng, [TERTIARY, SECONDARY], busy_region(w, rng))
    pts = take(w, rng, (w.age >= 40) & (w.age <= 82) & (w.death < 0), int(rng.integers(3, 11)))
    cycle = int(rng.choice([14, 21, 28]))
    for p in pts:
        breast = w.sex[p] == 1 and rng.random() < 0.4
        n_cyc = int(rng.integers(4, 9))
        adm = int(rng.integers(0, 200)) + np.cumsum(np.r_[0, cycle + rng.integers(-2, 3, n_cyc - 1)])
        los = rng.integers(2, 5, n_cyc)
        ok = adm + los < DAYS
        adm, los = adm[ok], los[ok]
        drug = DRUG_X["曲妥珠单抗注射液" if breast else "贝伐珠单抗注射液"]
        cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, adm + los, "disch"), admit=adm, disch=adm + los,
               diag=DX["Z51.100"], svc=cat.SV["肿瘤化学治疗"], drug=drug, packs=rng.integers(1, 3, len(adm)))
    return pts


def _cataract_campaign(w: World, rng, cl: Claims, n_claims: int):
    """A village 白内障 campaign: elderly of one village, one eye hospital, in batches."""
    rural = np.flatnonzero(w.place_rural)
    old = np.bincount(w.place[(w.age >= 55) & ~w.used], minlength=len(w.place_region))
    place = int(rural[np.argmax(old[rural])]) if len(rural) else int(np.argmax(old))
    hosp = near(w, rng, [PRIVATE], int(w.place_region[place]))
    size = int(np.clip(n_claims / 1500 * rng.uniform(0.4, 1.5), 8, 40))
    pts = take(w, rng, (w.place == place) & (w.age >= 55) & (w.death < 0), size)
    if len(pts) < 4:
        return None
    svc = cat.SV["白内障超声乳化摘除术+人工晶体植入术"]
    day0 = int(rng.integers(20, DAYS - 90))
    batch = day0 + rng.integers(0, int(rng.integers(2, 15)), len(pts))
    los = rng.integers(1, 4, len(pts))
    cl.add(pat=pts, fac=hosp, ctype=INP, ts=times(rng, batch + los, "disch"), admit=batch,
           disch=batch + los, diag=DX["H25.900"], svc=svc)
    second = pts[rng.random(len(pts)) < rng.uniform(0.2, 0.6)]
    if len(second):
        adm2 = day0 + int(rng.integers(30, 60)) + rng.integers(0, 3, len(second))
        los2 = rng.integers(1, 3, len(second))
        cl.add(pat=second, fac=hosp, ctype=INP, ts=times(rng, adm2 + los2, "disch"), admit=adm2,
               disch=adm2 + los2, diag=DX["H25.900"], svc=svc)
    return pts


def _rehab_long_stay(w: World, rng, cl: Claims, n_claims: int):
    """Long rehabilitation stays at a private hospital, settled monthly (中途结算)."""
    r = busy_region(w, rng)
    hosp = near(w, rng, [PRIVATE], r)
    pts = take(w, rng, (w.region == r) & (w.age >= 55) & (w.death < 0), int(rng.integers(3, 11)))
    for p in pts:
        start, total = int(rng.integers(0, 250)), int(rng.integers(30, 150))
        end = min(start + total, DAYS - 1)
        seg_start = np.arange(start, end, 30)
        seg_end = np.minimum(seg_start + 29, end)
        dx = DX["I69.300"] if rng.random() < 0.6 else DX["Z50.800"]
        cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, seg_end, "disch"), admit=seg_start,
               disch=seg_end, diag=dx, svc=cat.SV["偏瘫肢体综合训练"])
    return pts


def _death_in_hospital(w: World, rng, cl: Claims, n_claims: int):
    """Died in hospital: the stay is settled after death_date."""
    p = take(w, rng, (w.age >= 65) & (w.death < 0), 1)
    if not len(p):
        return None
    p = int(p[0])
    adm = int(rng.integers(30, DAYS - 10))
    dies = adm + int(rng.integers(1, 8))
    w.death[p] = dies
    cl.add(pat=p, fac=int(w.hab_hosp[p]), ctype=INP, ts=times(rng, [dies + int(rng.integers(1, 4))], "disch"),
           admit=adm, disch=dies, diag=DX[("I63.900", "J18.900", "I50.900", "I21.900")[int(rng.integers(0, 4))]])
    return np.array([p])


def _newborn_on_parent_card(w: World, rng, cl: Claims, n_claims: int):
    """新生儿随母: the newborn's care is settled on the mother's card."""
    p = take(w, rng, (w.sex == 1) & (w.age >= 20) & (w.age <= 40) & (w.death < 0), 1)
    if not len(p):
        return None
    p = int(p[0])
    hosp = int(w.hab_hosp[p])
    birth, los = int(rng.integers(5, DAYS - 30)), int(rng.integers(2, 6))
    cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, [birth + los], "disch"), admit=birth,
           disch=birth + los, diag=DX["O80.000" if rng.random() < 0.6 else "O82.000"], svc=cat.SV["单胎顺产接生"])
    nb = birth + int(rng.integers(0, 20))
    if rng.random() < 0.5:
        cl.add(pat=p, fac=hosp, ctype=INP, ts=times(rng, [nb + 4], "disch"), admit=nb, disch=nb + 4,
               diag=DX["P07.300"], svc=cat.SV["新生儿护理"])
    else:
        cl.add(pat=p, fac=int(w.hab_centre[p]), ctype=OUT, ts=times(rng, [nb], "clinic"), diag=DX["Z38.000"])
    return np.array([p])


def _refund_resettle(w: World, rng, cl: Claims, n_claims: int):
    """退费重结: a sale refunded and settled again at the same pharmacy, same trace codes."""
    p = take(w, rng, (w.age >= 18) & (w.death < 0), 1)
    if not len(p):
        return None
    p = int(p[0])
    ph = int(w.hab_pharm[p])
    t0 = times(rng, [int(rng.integers(0, DAYS))], "pharm")[0]
    drug = DRUG_X[_COMMON[int(rng.integers(0, len(_COMMON)))]]
    k = int(rng.integers(1, 4))
    card = int(w.card03[p] if w.card03[p] >= 0 else w.card01[p])
    a = cl.add(pat=p, fac=ph, ctype=PHA, ts=t0, drug=drug, packs=k, card=card)
    b = cl.add(pat=p, fac=ph, ctype=PHA, ts=t0 + int(rng.integers(300, 2400)), drug=drug, packs=k, card=card)
    cl.reuse.append((np.repeat(b, k), np.arange(k), np.repeat(a, k), np.arange(k)))
    return np.array([p])


def _split_pack(w: World, rng, cl: Claims, n_claims: int):
    """拆零: one pack's code over several small sales at one pharmacy."""
    phs = w.facilities_of([PHARMACY])
    ph = int(phs[rng.integers(0, len(phs))])
    pts = take(w, rng, (w.hab_pharm == ph) & (w.death < 0), int(rng.integers(2, 5)))
    if len(pts) < 2:
        return None
    drug = DRUG_X[_COMMON[int(rng.integers(0, len(_COMMON)))]]
    days = int(rng.integers(0, DAYS - 7)) + np.sort(rng.integers(0, 6, len(pts)))
    ids = cl.add(pat=pts, fac=ph, ctype=PHA, ts=times(rng, days, "pharm"), drug=drug, packs=1,
                 qty=round(1.0 / len(pts), 2))
    zeros = np.zeros(len(ids) - 1, dtype=np.int64)
    cl.reuse.append((ids[1:], zeros, np.repeat(ids[0], len(ids) - 1), zeros))
    return pts


def _transfer_overlap(w: World, rng, cl: Claims, n_claims: int):
    """A transfer between hospitals: the two stays overlap by a day."""
    p = take(w, rng, (w.age >= 45) & (w.death < 0), 1)
    if not len(p):
        return None
    p = int(p[0])
    a = int(w.hab_hosp[p])
    ter = w.facilities_of([TERTIARY])
    b = int(ter[rng.integers(0, len(ter))])
    if b == a:
        b = near(w, rng, [SECONDARY], int(w.region[p]))
    adm = int(rng.integers(0, DAYS - 30))
    mid = adm + int(rng.integers(2, 8))
    end = mid + int(rng.integers(5, 15))
    dx = DX[("I63.900", "I21.900", "S72.000")[int(rng.integers(0, 3))]]
    cl.add(pat=p, fac=a, ctype=INP, ts=times(rng, [mid], 12), admit=adm, disch=mid, diag=dx)
    cl.add(pat=p, fac=b, ctype=INP, ts=times(rng, [end], "disch"), admit=mid, disch=end, diag=dx)
    return np.array([p])


def _relative_buys_during_stay(w: World, rng, cl: Claims, n_claims: int):
    """A relative buys drugs on the card (from his phone) while its holder is in hospital."""
    hh_size = np.bincount(w.hh)
    p = take(w, rng, (w.age >= 50) & (hh_size[w.hh] >= 2) & (w.death < 0), 1)
    if not len(p):
        return None
    p = int(p[0])
    adm, los = int(rng.integers(0, DAYS - 20)), int(rng.integers(5, 14))
    cl.add(pat=p, fac=int(w.hab_hosp[p]), ctype=INP, ts=times(rng, [adm + los], "disch"), admit=adm,
           disch=adm + los, diag=DX["J18.900"])
    rel = np.flatnonzero(w.hh == w.hh[p])
    rel = rel[rel != p]
    card = int(w.card01[p] if w.card01[p] >= 0 else w.card03[p])
    oph = int(w.phone[rel[0]]) if w.card_type[card] == "01" else -1
    cl.add(pat=p, fac=int(w.hab_pharm[p]), ctype=PHA, ts=times(rng, [adm + int(rng.integers(1, los))], "pharm"),
           card=card, ophone=oph)
    return np.array([p])


# kind, cohorts per 20k claims, at least, planter
_PLANTERS = (("dialysis_cohort", 0.15, 1, _dialysis_cohort), ("nursing_home", 0.1, 1, _nursing_home),
             ("family_shared_phone", 0.3, 1, _family_phone),
             ("chronic_refill_day", 0.2, 1, _chronic_refill_day), ("group_admission", 0.08, 1, _group_admission),
             ("chemotherapy_cycles", 0.15, 1, _chemotherapy_cycles),
             ("cataract_campaign", 0.07, 1, _cataract_campaign), ("rehab_long_stay", 0.15, 1, _rehab_long_stay),
             ("death_in_hospital", 2, 2, _death_in_hospital),
             ("newborn_on_parent_card", 4, 2, _newborn_on_parent_card),
             ("refund_resettle", 4, 2, _refund_resettle), ("split_pack", 2.5, 2, _split_pack),
             ("transfer_overlap", 2.5, 2, _transfer_overlap),
             ("relative_buys_during_stay", 4, 2, _relative_buys_during_stay))
