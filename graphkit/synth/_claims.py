"""Settlements and their items: a column store of claims, the background population's
claims, and the expansion of claims into claim_items (one row per traceable pack).
"""

from __future__ import annotations

import numpy as np

from graphkit.synth import _catalog as cat
from graphkit.synth._world import (CLINIC, COMMUNITY, DAY_S, DAYS, PHARMACY, PRIVATE, SECONDARY,
                                   TERTIARY, VILLAGE, World, pick_in_region)

OUT, INP, PHA = 0, 1, 2

DIAG_CODES = sorted({d[0] for d in cat.ACUTE_OUTPATIENT} | {d[0] for d in cat.CHRONIC}
                    | {d[0] for d in cat.INPATIENT} | set(cat.DIAG_GROUPS))
DX = {c: i for i, c in enumerate(DIAG_CODES)}
GROUPS = sorted({g for d in cat.DRUGS for g in d[4].split()} | {"child"})
GX = {g: i for i, g in enumerate(GROUPS)}
DRUG_X = {d[0]: i for i, d in enumerate(cat.DRUGS)}
CHRONIC_DX = np.array([DX[c[0]] for c in cat.CHRONIC])
CHRONIC_GRP = np.array([GX[c[5]] for c in cat.CHRONIC])
OTC_GROUPS = np.array([GX[g] for g in ("uri", "gi", "pain", "tonic", "derm", "eye", "uri", "tonic")])


def _group_table():
    members = [[i for i, d in enumerate(cat.DRUGS) if g in d[4].split()] for g in GROUPS]
    width = max(len(m) for m in members)
    tab = np.zeros((len(GROUPS), width), dtype=np.int64)
    for g, m in enumerate(members):
        tab[g, :len(m)] = m
    return tab, np.array([len(m) for m in members])


GROUP_DRUGS, GROUP_N = _group_table()
DIAG_GRP = np.zeros((len(DIAG_CODES), 2), dtype=np.int64)
for _c, _i in DX.items():
    _gs = [GX[g] for g in cat.DIAG_GROUPS.get(_c, "uri").split() if g in GX] or [GX["uri"]]
    DIAG_GRP[_i] = [_gs[0], _gs[-1]]

_COLS = {"pat": -1, "card": -2, "fac": -1, "doc": -2, "phm": -2, "ctype": 0, "ts": -1, "admit": -1,
         "disch": -1, "diag": -1, "dev": -2, "ophone": -2, "drug": -1, "packs": 0, "qty": 1.0,
         "svc": -1, "src": 0}
_FLOAT = {"qty"}
_AUTO = {"card", "ophone", "dev", "doc", "phm"}
_LAZY = {"ctype", "ts", "admit", "disch", "diag", "drug", "packs", "qty", "svc", "src"}

# hour-of-day profiles (weights for hours 0..23)
_H_HOSP = np.array([0, 0, 0, 0, 0, 0, 0, .2, 1.5, 2, 2, 1.6, .6, .4, 1.4, 1.5, 1.2, .6, .2, .1, .1, 0, 0, 0])
_H_PHARM = np.array([0, 0, 0, 0, 0, 0, 0, .2, .8, 1.2, 1.3, 1.1, .8, .7, .8, .9, 1, 1.1, 1.2, 1.1, .8, .4, .1, 0])
_H_CLINIC = np.array([0, 0, 0, 0, 0, 0, 0, .6, 1.4, 1.6, 1.4, 1.0, .6, .5, .9, 1.1, 1.0, .8, .6, .4, .2, 0, 0, 0])
_H_DISCH = np.array([0, 0, 0, 0, 0, 0, 0, 0, .5, 1.5, 2, 1.5, .5, .3, 1, 1.2, 1, .5, .1, 0, 0, 0, 0, 0])


def _cdf(h):
    c = np.cumsum(h)
    return c / c[-1]


_CDF = {"hosp": _cdf(_H_HOSP), "pharm": _cdf(_H_PHARM), "clinic": _cdf(_H_CLINIC), "disch": _cdf(_H_DISCH)}


def times(rng, day: np.ndarray, profile) -> np.ndarray:
    """Settlement timestamps (seconds since 2024-01-01) on ``day`` with an hour profile."""
    day = np.asarray(day, dtype=np.int64)
    if isinstance(profile, str):
        hour = np.searchsorted(_CDF[profile], rng.random(len(day)), side="right")
    else:
        hour = np.broadcast_to(np.asarray(profile, dtype=np.int64), day.shape)
    return day * DAY_S + np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, len(day))


class Claims:
    """Append-only column store; ``add`` fills auto (-2) columns and returns global indices."""

    def __init__(self, w: World, rng: np.random.Generator):
        self.w, self.rng = w, rng
        self.parts: list[dict] = []
        self.sizes: list[int] = []
        self.n = 0
        self.reuse: list[tuple] = []   # (target_claim, target_k, source_claim, source_k) arrays

    def add(self, **kw) -> np.ndarray:
        w, rng = self.w, self.rng
        n = 0
        for v in kw.values():
            if isinstance(v, np.ndarray):
                k = v.shape[0] if v.ndim else 1
            elif isinstance(v, (int, float, np.generic)):
                k = 1
            else:
                k = len(np.atleast_1d(v))
            n = max(n, k)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        part = {}
        auto = {}   # auto column -> rows to fill (slice(None): all of them)
        for c, d in _COLS.items():
            v = kw.get(c, d)
            dt = float if c in _FLOAT else np.int64
            if isinstance(v, np.ndarray) and v.ndim:
                part[c] = (np.array(v, dtype=dt) if v.shape == (n,)
                           else np.broadcast_to(v.astype(dt, copy=False), (n,)).copy())
                if c in _AUTO:
                    m = part[c] == -2
                    if m.any():
                        auto[c] = m
            elif isinstance(v, (int, float, np.integer, np.floating)) or np.ndim(v) == 0:
                # scalars of plain columns stay scalars until columns() (no per-call arrays)
                part[c] = np.array(v, dtype=dt) if c in _LAZY else np.full(n, v, dtype=dt)
                if c in _AUTO and v == -2:
                    auto[c] = slice(None)
            else:
                part[c] = np.broadcast_to(np.asarray(v, dtype=dt), (n,)).copy()
                if c in _AUTO:
                    m = part[c] == -2
                    if m.any():
                        auto[c] = m
        pat, fac = part["pat"], part["fac"]
        ph = w.fac_kind[fac] == PHARMACY
        if np.any(part["ts"] < 0):
            raise ValueError("ts required")
        m = auto.get("card")
        if m is not None:
            k = n if isinstance(m, slice) else int(m.sum())
            c01, c03 = w.card01[pat[m]], w.card03[pat[m]]
            use01 = (c01 >= 0) & ((c03 < 0) | (rng.random(k) < w.params.get("e_voucher_use", 0.45)))
            part["card"][m] = np.where(use01, c01, c03)
        m = auto.get("ophone")
        if m is not None:
            card = part["card"][m]
            part["ophone"][m] = np.where(w.card_type[card] == "01", w.phone[w.card_owner[card]], -1)
        m = auto.get("dev")
        if m is not None:
            k = n if isinstance(m, slice) else int(m.sum())
            f = fac[m]
            part["dev"][m] = w.fac_dev_start[f] + (rng.random(k) * w.fac_dev_n[f]).astype(np.int64)
        m = auto.get("doc")
        if m is not None:
            k = n if isinstance(m, slice) else int(m.sum())
            f = fac[m]
            nd = w.fac_doc_n[f]
            d = w.fac_doc_start[f] + (rng.random(k) * np.maximum(nd, 1)).astype(np.int64)
            part["doc"][m] = np.where(nd > 0, d, -1)
        m = auto.get("phm")
        if m is not None:
            k = n if isinstance(m, slice) else int(m.sum())
            f = fac[m]
            npm = w.fac_phm_n[f]
            d = w.fac_phm_start[f] + (rng.random(k) * np.maximum(npm, 1)).astype(np.int64)
            part["phm"][m] = np.where(npm > 0, d, -1)
        part["phm"][~ph] = -1
        self.parts.append(part)
        self.sizes.append(n)
        idx = np.arange(self.n, self.n + n)
        self.n += n
        return idx

    def columns(self) -> dict:
        out = {}
        for c in _COLS:
            col = np.empty(self.n, dtype=float if c in _FLOAT else np.int64)
            pos = 0
            for p, k in zip(self.parts, self.sizes):
                col[pos:pos + k] = p[c]
                pos += k
            out[c] = col
        return out


# --------------------------------------------------------------------------------------------
# Diagnosis sampling
# --------------------------------------------------------------------------------------------

def _dx_table(rows, with_los=False):
    codes = np.array([DX[r[0]] for r in rows])
    W = np.zeros((2, 96, len(rows)))
    for j, r in enumerate(rows):
        _c, s, amin, amax, wt = r[:5]
        for sx in (0, 1):
            if s and (sx == 0) != (s == "M"):
                continue
            W[sx, amin:amax + 1, j] = wt
    cum = np.cumsum(W, axis=2)
    cum /= np.maximum(cum[:, :, -1:], 1e-12)
    los = np.array([r[5] for r in rows]) if with_los else None
    return codes, cum, los


_ACUTE = _dx_table(cat.ACUTE_OUTPATIENT)
_INPAT = _dx_table(cat.INPATIENT, with_los=True)


def sample_dx(rng, sex, age, table=_ACUTE):
    codes, cum, _ = table
    age = np.clip(age, 0, 95)
    u = rng.random(len(sex))
    j = (cum[sex, age] < u[:, None]).sum(axis=1)
    return codes[np.minimum(j, len(codes) - 1)], j


def chronic_pick(rng, chronic_rows: np.ndarray) -> np.ndarray:
    """Index of a random True column per row (-1 for rows without any)."""
    keys = rng.random(chronic_rows.shape) * chronic_rows
    j = keys.argmax(axis=1)
    return np.where(chronic_rows.any(axis=1), j, -1)


# --------------------------------------------------------------------------------------------
# Background population
# --------------------------------------------------------------------------------------------

def clamp_alive(w: World, rng, pat: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Move days outside [birth, death) to a random day inside it."""
    lo = np.maximum(w.birth[pat], 0)
    hi = np.where(w.death[pat] >= 0, w.death[pat], DAYS)
    hi = np.maximum(hi, lo + 1)
    bad = (day < lo) | (day >= hi)
    if bad.any():
        day = day.copy()
        day[bad] = lo[bad] + (rng.random(bad.sum()) * (hi[bad] - lo[bad])).astype(np.int64)
    return day


def background(w: World, rng, cl: Claims, n: int, weight: np.ndarray) -> None:
    if n <= 0:
        return
    pat = rng.choice(w.n_patients, size=n, p=weight / weight.sum())
    age, sex = w.age[pat], w.sex[pat]
    chronic = w.chronic[pat]
    has_ch = chronic.any(axis=1)
    p_in = np.clip(0.012 + 0.03 * (age >= 60) + 0.02 * (age <= 2) + 0.008 * has_ch, 0, 1)
    p_ph = np.where(has_ch, 0.52, 0.38) * w.params.get("walk_in", 1.0)
    u = rng.random(n)
    ctype = np.where(u < p_in, INP, np.where(u < p_in + p_ph, PHA, OUT))
    day = rng.integers(0, DAYS, n)
    day = clamp_alive(w, rng, pat, day)
    # facility
    fac = np.empty(n, dtype=np.int64)
    v = rng.random(n)
    o = ctype == OUT
    fac[o] = np.select([v[o] < 0.35, v[o] < 0.72], [w.hab_centre[pat[o]], w.hab_clinic[pat[o]]],
                       w.hab_hosp[pat[o]])
    p = ctype == PHA
    stray = 1.0 - w.params.get("stray_pharmacy", 0.08)
    fac[p] = np.select([v[p] < 0.65, v[p] < stray], [w.hab_pharm[pat[p]], w.hab_pharm2[pat[p]]],
                       w.hab_pharm2[pat[p]])
    other = p & (v >= stray)
    if other.any():
        phs = w.facilities_of([PHARMACY])
        fac[other] = pick_in_region(rng, w.region[pat[other]], phs, w.fac_region[phs])
    i = ctype == INP
    pv = w.facilities_of([PRIVATE])
    priv = pick_in_region(rng, w.region[pat[i]], pv, w.fac_region[pv])
    ter = w.facilities_of([TERTIARY])
    fac[i] = np.select([v[i] < 0.75, v[i] < 0.9], [w.hab_hosp[pat[i]], ter[rng.integers(0, len(ter), i.sum())]],
                       priv)
    # diagnosis
    diag = np.full(n, -1, dtype=np.int64)
    acute, _ = sample_dx(rng, sex, age)
    cj = chronic_pick(rng, chronic)
    use_ch = (cj >= 0) & (rng.random(n) < 0.6)
    dx_ch = np.where(cj >= 0, CHRONIC_DX[np.maximum(cj, 0)], -1)
    diag[o] = np.where(use_ch[o], dx_ch[o], acute[o])
    diag[p] = np.where(use_ch[p] & (rng.random(p.sum()) < 0.6), dx_ch[p], -1)
    indx, j = sample_dx(rng, sex[i], age[i], _INPAT)
    diag[i] = indx
    los = np.maximum(1, np.round(_INPAT[2][j] * rng.lognormal(0, 0.35, i.sum()))).astype(np.int64)
    disch = np.full(n, -1, dtype=np.int64)
    admit = np.full(n, -1, dtype=np.int64)
    d_in = np.maximum(day[i], los)
    admit[i], disch[i] = d_in - los, d_in
    day[i] = d_in
    # weekends are quieter at institutions
    wk = (day % 7 >= 5) & (ctype == OUT) & (rng.random(n) < 0.45)
    day[wk] = np.maximum(0, day[wk] - (day[wk] % 7 - 4))
    ts = np.empty(n, dtype=np.int64)
    kind = w.fac_kind[fac]
    prof_h = (kind == TERTIARY) | (kind == SECONDARY) | (kind == PRIVATE)
    ts[o & prof_h] = times(rng, day[o & prof_h], "hosp")
    ts[o & ~prof_h] = times(rng, day[o & ~prof_h], "clinic")
    ts[p] = times(rng, day[p], "pharm")
    ts[i] = times(rng, day[i], "disch")
    # prescriptions brought to a pharmacy (外配处方) carry the prescriber
    doc = np.full(n, -2, dtype=np.int64)
    ext = p & (diag >= 0) & (rng.random(n) < 0.3)
    hf = w.hab_hosp[pat[ext]]
    doc[ext] = w.fac_doc_start[hf] + (rng.random(ext.sum()) * w.fac_doc_n[hf]).astype(np.int64)
    doc[p & ~ext] = -1
    cl.add(pat=pat, fac=fac, ctype=ctype, ts=ts, admit=admit, disch=disch, diag=diag, doc=doc)


# --------------------------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------------------------

def claim_groups(w: World, rng, c: dict) -> np.ndarray:
    n = len(c["pat"])
    diag = c["diag"]
    g = np.where(rng.random(n) < 0.7, DIAG_GRP[np.maximum(diag, 0), 0], DIAG_GRP[np.maximum(diag, 0), 1])
    nod = diag < 0
    if nod.any():
        pat = c["pat"][nod]
        cj = chronic_pick(rng, w.chronic[pat])
        otc = OTC_GROUPS[rng.integers(0, len(OTC_GROUPS), nod.sum())]
        otc = np.where((w.age[pat] < 12) & (rng.random(nod.sum()) < 0.6), GX["child"], otc)
        g[nod] = np.where((cj >= 0) & (rng.random(nod.sum()) < 0.65), CHRONIC_GRP[np.maximum(cj, 0)], otc)
    return g


def build_items(w: World, rng, c: dict, rank: np.ndarray):
    """Expand claims into item rows; returns (items dict, total per claim, forced_start)."""
    n = len(c["pat"])
    ctype, fac = c["ctype"], c["fac"]
    kind = w.fac_kind[fac]
    inst = kind != PHARMACY
    los = np.where(ctype == INP, np.maximum(c["disch"] - c["admit"], 1), 0)
    grp = claim_groups(w, rng, c)
    blocks = []  # (claim, code_kind 0 drug 1 service, code, qty, price, order)

    def block(claims, is_drug, code, qty, order):
        claims = np.asarray(claims, dtype=np.int64)
        code = np.broadcast_to(np.asarray(code, dtype=np.int64), claims.shape)
        qty = np.broadcast_to(np.asarray(qty, dtype=float), claims.shape)
        if is_drug:
            base = np.array([d[2] for d in cat.DRUGS])[code]
        else:
            base = np.array([s[2] for s in cat.SERVICES])[code]
        price = np.round(base * w.fac_price[fac[claims]], 2)
        blocks.append((claims, np.full(len(claims), is_drug), code, qty, price,
                       np.full(len(claims), order, dtype=np.int64)))

    # services
    o = np.flatnonzero((ctype == OUT) & inst)
    senior = (rng.random(len(o)) < 0.3) & np.isin(kind[o], [TERTIARY, SECONDARY])
    block(o, False, np.where(senior, cat.SV["副主任医师诊查费"], cat.SV["普通门诊诊查费"]), 1.0, 0)
    lab = o[rng.random(len(o)) < 0.18]
    block(lab, False, cat.SV["血常规"], 1.0, 1)
    i = np.flatnonzero(ctype == INP)
    block(i, False, cat.SV["床位费"], los[i], 0)
    block(i, False, cat.SV["二级护理"], los[i], 1)
    block(i, False, cat.SV["血常规"], 1.0 + rng.integers(0, 3, len(i)), 2)
    ct = i[rng.random(len(i)) < 0.4]
    block(ct, False, cat.SV["胸部CT平扫"], 1.0, 3)
    block(i, False, cat.SV["静脉输液"], np.minimum(los[i], 1 + rng.integers(0, 8, len(i))), 4)
    s = np.flatnonzero(c["svc"] >= 0)
    svc = c["svc"][s]
    per_day = np.array([sv[3] == "day" for sv in cat.SERVICES])[svc]
    block(s, False, svc, np.where(per_day, np.maximum(los[s], 1), 1.0), 5)
    dia = s[svc == cat.SV["血液透析"]]
    block(dia, False, cat.SV["血液透析器"], 1.0, 6)
    # drug lines
    nl = np.where(ctype == PHA, 1 + rng.binomial(2, 0.35, n),
                  np.where(ctype == INP, 2 + rng.binomial(4, 0.5, n), rng.binomial(3, 0.5, n)))
    nl = np.where(c["svc"] >= 0, rng.binomial(1, 0.5, n), nl)
    nl = np.where(c["drug"] >= 0, rng.binomial(1, 0.4, n), nl)
    lc = np.repeat(np.arange(n), nl)
    lg = grp[lc]
    dr = GROUP_DRUGS[lg, (rng.random(len(lc)) * GROUP_N[lg]).astype(np.int64)]
    packs = np.where(ctype[lc] == INP, 1 + rng.integers(0, 5, len(lc)),
                     1 + (rng.random(len(lc)) < 0.35) + (rng.random(len(lc)) < 0.08))
    # expensive drugs are bought one pack at a time
    expensive = np.array([d[2] for d in cat.DRUGS])[dr] > 300
    packs = np.where(expensive, 1, packs)
    rows_c = np.repeat(lc, packs)
    rows_d = np.repeat(dr, packs)
    line_no = np.repeat(np.arange(len(lc)) - np.repeat(np.cumsum(nl) - nl, nl), packs)
    block(rows_c, True, rows_d, 1.0, 20 + line_no)
    # forced drug (key drugs, refills, re-settled packs): first lines of the claim
    f = np.flatnonzero((c["drug"] >= 0) & (c["packs"] > 0))
    fp = c["packs"][f]
    fc = np.repeat(f, fp)
    block(fc, True, c["drug"][fc], c["qty"][fc], 10)
    forced_first_order = 10
    # assemble and sort by claim rank, then line order
    claim = np.concatenate([b[0] for b in blocks])
    is_drug = np.concatenate([b[1] for b in blocks])
    code = np.concatenate([b[2] for b in blocks])
    qty = np.concatenate([b[3] for b in blocks])
    price = np.concatenate([b[4] for b in blocks])
    order = np.concatenate([b[5] for b in blocks])
    # by claim rank, then line order, then position: one stable sort on a combined key
    # (the same permutation as np.lexsort((arange, order, rank[claim])), a third of the time)
    omin = int(order.min()) if len(order) else 0
    span = int(order.max()) - omin + 1 if len(order) else 1
    srt = np.argsort(rank[claim].astype(np.int64) * span + (order - omin), kind="stable")
    claim, is_drug, code, qty, price, order = (a[srt] for a in (claim, is_drug, code, qty, price, order))
    amount = np.round(qty * price, 2)
    total = np.round(np.bincount(claim, weights=amount, minlength=n), 2)
    # forced_start: first row of the forced-drug block of each claim
    forced_start = np.full(n, -1, dtype=np.int64)
    fr = np.flatnonzero(order == forced_first_order)
    first = np.r_[True, claim[fr][1:] != claim[fr][:-1]] if len(fr) else np.zeros(0, bool)
    forced_start[claim[fr][first]] = fr[first]
    items = {"claim": claim, "is_drug": is_drug, "code": code, "qty": qty, "price": price,
             "amount": amount}
    return items, total, forced_start


def fund_amounts(w: World, rng, c: dict, total: np.ndarray) -> np.ndarray:
    kind = w.fac_kind[c["fac"]]
    ctype = c["ctype"]
    n = len(total)
    ratio = np.select(
        [ctype == PHA, (ctype == OUT) & np.isin(kind, [VILLAGE, COMMUNITY, CLINIC]), ctype == OUT,
         kind == TERTIARY, kind == SECONDARY],
        [np.array([0.6, 0.7, 0.8, 0.9, 1.0])[rng.integers(0, 5, n)], 0.7, 0.55, 0.75, 0.82], 0.88)
    deduct = np.select([ctype != INP, kind == TERTIARY, kind == SECONDARY], [0.0, 800.0, 500.0], 200.0)
    return np.round(np.maximum(total - deduct, 0) * ratio, 2)
