"""职业骗保团伙 (gang): collected cards swiped in bursts at colluding facilities.

What the fraud is (负面清单(2025) 四(2), 二(7), 一(2)): an organiser holds many insured people's
cards and swipes them one after another at a colluding pharmacy or clinic, on many days. What
shows it is *lockstep*: the same set of cards passing through one terminal within minutes, again
and again, while the holders have nothing in common (no shared household, phone or address).

Method
1. Bursts (:mod:`graphkit.detectors.bursts`): runs of outpatient/pharmacy settlements at one
   facility close together in time, holding ``burst_min_cards`` to ``burst_max_cards`` cards;
   the allowed gap grows at a quiet facility and shrinks inside a pharmacy busy all day.
2. Projection: card x card, weighted by the bursts two cards share over the geometric mean of
   their own bursts (cosine; scipy sparse ``B.T @ B``); keep pairs sharing at least
   ``min_shared_days`` bursts. Raw co-visits are never
   used, so dialysis rooms and nursing-home outings only enter when they burst in lockstep.
3. Groups: Leiden communities (igraph, seeded) of that projection. A community whose lockstep
   days each hold less than ``min_day_cover`` of its cards is split again on its own edges
   (modularity merges small groups in a large graph); groups sharing at least half of their
   lockstep sessions are joined again (modularity also cuts one large gang whose sessions
   each swipe a part of it); a member is a card in the
   group's lockstep bursts (>= ``burst_min_cards`` of its cards) on >= ``min_shared_days``
   days; one caught in a single session is dropped and the rest scored again.
4. Score: lockstep days, holders from unrelated households, shared controller (an operator phone
   or one terminal), concentration at one facility; look-alike cohorts are discounted by what
   makes them legitimate: one household or shared address (nursing home, family), one treatment
   family on a fixed weekly rhythm (血透 N18/Z49), one chronic family on one date each month
   (a community clinic's refill day).
The organiser named is an adult owner of the controller phone (``Context.likely_users``, the
rule impersonation names its user by).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from graphkit._frames import row_positions
from graphkit.detectors.bursts import bursts
from graphkit.detectors.signals import (
    Context,
    communities,
    components_of_pairs,
    evidence,
    make_ring,
    reported_cards,
    squash,
)
from graphkit.rings import Member, Ring
from graphkit.settings import Settings

__all__ = ["detect_gangs", "gang_cards", "bursts"]

#: ICD-10 3-character families of scheduled legitimate treatment (血透, 化疗/放疗, 康复)
SCHEDULED_TREATMENT = {"N18", "N19", "Z49", "Z51", "Z50", "C"}

#: chronic conditions whose patients collect refills at their community clinic on a fixed day of
#: the month (慢病随访/取药日): hypertension, diabetes, lipids, coronary disease, COPD/asthma,
#: stroke sequelae, Parkinson's, schizophrenia
CHRONIC_CARE = {"I10", "I11", "I12", "I13", "I15", "E10", "E11", "E13", "E14", "E78", "I20", "I25",
                "J44", "J45", "I69", "G20", "F20"}


def monthly_share(days: np.ndarray, slack: int) -> float:
    """Largest share of ``days`` (days since 1970-01-01) within ``slack`` days of one day of the
    month (day 30 and day 1 are neighbours)."""
    if not len(days):
        return 0.0
    dom = pd.to_datetime(np.asarray(days), unit="D").day.to_numpy()
    return max(float((np.abs((dom - k + 15) % 31 - 15) <= slack).mean())
               for k in range(1, 32))


def detect_gangs(ctx: Context, settings: Settings) -> list[Ring]:
    """Gang rings (every score; the caller applies ``min_score``), computed once per Context:
    impersonation reads them too (see :func:`gang_cards`)."""
    ctx.check(settings)
    key = ("gang_rings", settings.gang, settings.seed)
    if key not in ctx.cache:
        ctx.cache[key] = _detect_gangs(ctx, settings)
    return list(ctx.cache[key])


def gang_cards(ctx: Context, settings: Settings) -> set[str]:
    """Cards of the gang rings that are reported (score at least ``settings.min_score``).

    Collected cards swiped by an organiser are the gang typology (DATA_CONTRACT section 2), even
    where one of them also carries an impersonation signal.
    """
    key = ("gang_cards", settings.gang, settings.seed, settings.min_score)
    if key not in ctx.cache:
        ctx.cache[key] = reported_cards(detect_gangs(ctx, settings), settings.min_score)
    return ctx.cache[key]


def _detect_gangs(ctx: Context, settings: Settings) -> list[Ring]:
    s = settings.gang
    b = bursts(ctx, settings)
    if not len(b):
        return []
    bc = b[["burst", "card_id"]].drop_duplicates()
    card_codes, card_ids = pd.factorize(bc["card_id"], sort=True)
    burst_codes, _ = pd.factorize(bc["burst"], sort=True)
    B = sparse.csr_matrix((np.ones(len(bc), dtype=np.float32), (burst_codes, card_codes)),
                          shape=(burst_codes.max() + 1, len(card_ids)))
    C = (B.T @ B).tocoo()
    keep = (C.row < C.col) & (C.data >= s.min_shared_days)
    a, z, w = C.row[keep], C.col[keep], C.data[keep]
    # weight: shared bursts over the geometric mean of each card's bursts (cosine), so a card
    # that bursts with everyone (a chronic patient on refill days) binds no community together
    deg = np.asarray(B.sum(axis=0)).ravel()
    w = w / np.sqrt(deg[a] * deg[z])
    if not len(a):
        return []
    used = np.unique(np.concatenate([a, z]))
    remap = -np.ones(len(card_ids), dtype=np.int64)
    remap[used] = np.arange(len(used))
    ra, rz = remap[a], remap[z]
    labels = communities(ra, rz, w, len(used), seed=settings.seed, resolution=s.resolution)
    names = card_ids[used]
    b_rows = row_positions(b["card_id"])
    # a community whose swipe days each hold a small part of it is several groups (or a busy
    # counter's regulars) run together, as modularity does in a large graph: split it again on
    # its own edges (modularity of that subgraph, at least resolution 1), finer each time
    todo = [(np.flatnonzero(labels == lab), 0) for lab in np.unique(labels)]
    groups = []
    while todo:
        nodes, depth = todo.pop(0)
        if len(nodes) < s.min_cards:
            continue
        cards = sorted(names[nodes])
        lb = _lockstep(b, b_rows, cards, s)  # read again only when the group changes
        if (depth < s.split_depth and len(nodes) >= 2 * s.min_cards
                and day_cover(lb, len(cards)) < s.min_day_cover):
            inside = np.zeros(len(used), dtype=bool)
            inside[nodes] = True
            keep = inside[ra] & inside[rz]
            local = -np.ones(len(used), dtype=np.int64)
            local[nodes] = np.arange(len(nodes))
            sub = communities(local[ra[keep]], local[rz[keep]], w[keep], len(nodes),
                              seed=settings.seed, resolution=max(1.0, s.resolution) * 2 ** depth)
            if len(np.unique(sub)) > 1:
                todo += [(nodes[sub == k], depth + 1) for k in np.unique(sub)]
                continue
        groups.append((cards, lb))
    rings = []
    for cards, lb in _merge_shared_sessions(groups, b, b_rows, s):
        ring = _score_group(ctx, b, b_rows, cards, settings, lb)
        if ring is not None:
            rings.append(ring)
    return rings


def _merge_shared_sessions(groups: list, b: pd.DataFrame, b_rows: dict, s) -> list:
    """Join groups whose lockstep sessions are mostly the same sessions.

    Modularity may cut one large gang in two; the organiser still swipes both halves in the
    same sessions (a facility and a day: a long session may fall into several bursts). Two
    groups sharing at least ``min_shared_days`` sessions, and half of the sessions of the one
    with fewer, are one group. (Neighbouring gangs bridged by a session or two share few of
    their sessions and stay apart.)"""
    # a session is a facility-day: a long session may be cut into several bursts
    sessions = [set(zip(lb["facility_id"], lb["day"])) for _, lb in groups]
    by_session: dict = {}
    for i, ss in enumerate(sessions):
        for x in ss:
            by_session.setdefault(x, []).append(i)
    shared: dict = {}
    for owners in by_session.values():
        for k, i in enumerate(owners):
            for j in owners[k + 1:]:
                shared[i, j] = shared.get((i, j), 0) + 1
    same = np.array([(i, j) for (i, j), n in sorted(shared.items())
                     if n >= max(s.min_shared_days, 0.5 * min(len(sessions[i]), len(sessions[j])))],
                    dtype=np.int64).reshape(-1, 2)
    if not len(same):
        return groups
    label = components_of_pairs(same[:, 0], same[:, 1], len(groups))
    out = []
    for lab in np.unique(label):
        members = np.flatnonzero(label == lab)
        if len(members) == 1:
            out.append(groups[members[0]])
            continue
        cards = sorted(set().union(*(groups[i][0] for i in members)))
        out.append((cards, _lockstep(b, b_rows, cards, s)))
    return out


def _lockstep(b: pd.DataFrame, b_rows: dict, cards: list[str], s) -> pd.DataFrame:
    """The group's swipes in its lockstep bursts: bursts holding >= burst_min_cards of its cards."""
    gb = b.iloc[np.sort(np.concatenate([b_rows[c] for c in cards if c in b_rows]))]
    per_burst = gb.groupby("burst")["card_id"].transform("nunique")
    return gb[(per_burst >= s.burst_min_cards).to_numpy()]


def day_cover(lb: pd.DataFrame, n_cards: int) -> float:
    """Median share of a group's ``n_cards`` swiped on each of its lockstep days (``lb``: its
    swipes in lockstep bursts). An organiser swipes most of the collected cards each time."""
    if not len(lb):
        return 0.0
    return float(lb.groupby("day")["card_id"].nunique().median() / n_cards)


def _score_group(ctx: Context, b: pd.DataFrame, b_rows: dict, cards: list[str],
                 settings: Settings, lb: pd.DataFrame | None = None) -> Ring | None:
    """The gang ring of ``cards`` (None when too few are swiped together); ``lb`` is their
    lockstep swipes when the caller has them already."""
    s = settings.gang
    if lb is None:
        lb = _lockstep(b, b_rows, cards, s)
    # a collected card is swiped with the others again and again: a card in the group's lockstep
    # bursts on fewer than min_shared_days days only happened to be there: score the rest
    card_days = lb.groupby("card_id")["day"].nunique()
    regular = sorted(card_days[card_days >= s.min_shared_days].index)
    if len(regular) < len(cards):
        if len(regular) < s.min_cards:
            return None
        return _score_group(ctx, b, b_rows, regular, settings)
    if not len(lb):
        return None
    lock_days = int(lb["day"].nunique())
    holders = ctx.holder_of(cards)
    n_holders = int(holders.nunique())
    hh = ctx.patients["household"].reindex(holders.unique())
    n_households = int(hh.nunique(dropna=True) + hh.isna().sum())
    unrelated = n_households / max(1, n_holders)
    # facility concentration and controller
    fac_share = lb["facility_id"].value_counts(normalize=True)
    top_fac, top_fac_share = fac_share.index[0], float(fac_share.iloc[0])
    top_type = ctx.graph.facility_type(top_fac)
    facilities = list(fac_share.index[fac_share >= 0.1])
    phones = lb["operator_phone"].dropna()
    own_phones = set(ctx.patients["phone"].reindex(holders.unique()).dropna())
    foreign = phones[~phones.isin(own_phones)]
    controller_phone = None
    if len(foreign):
        vc = foreign.value_counts()
        if vc.iloc[0] >= 0.3 * len(lb):
            controller_phone = vc.index[0]
    devices = lb["device_id"].dropna()
    top_device = devices.value_counts().index[0] if len(devices) else None
    # legitimate scheduled treatment: one treatment family on a fixed weekly rhythm
    dx = lb["dx3"].dropna()
    top_dx_share = float(dx.value_counts(normalize=True).iloc[0]) if len(dx) else 0.0
    top_dx = dx.value_counts().index[0] if len(dx) else ""
    scheduled = top_dx[:3] in SCHEDULED_TREATMENT or top_dx[:1] in SCHEDULED_TREATMENT
    weekdays = pd.Series(lb["day"].unique() + 3) % 7  # 1970-01-01 was a Thursday (3)
    wd_share = float(weekdays.value_counts(normalize=True).head(3).sum()) if len(weekdays) else 0
    # with no diagnosis on record (none on the group's swipes at an institution, where visits
    # are coded), the rhythm alone tells the look-alikes: the same weekdays week after week for
    # months, or one date each month at a clinic
    uncoded = not len(dx) and top_type != "pharmacy"
    cohort = ((scheduled and top_dx_share >= 0.6 and wd_share >= 0.9)
              or (uncoded and lock_days >= s.schedule_min_days and wd_share >= 0.9))
    # chronic patients of one clinic collecting refills on its fixed monthly day: one chronic
    # family dominates and the days fall on one date each month (an organiser swiping at the
    # start of each month settles no consistent diagnosis, and at a pharmacy none at all)
    month_share = monthly_share(lb["day"].unique(), s.refill_day_slack_days)
    refill_day = (((top_dx[:3] in CHRONIC_CARE and top_dx_share >= 0.5) or uncoded)
                  and lock_days >= 4 and month_share >= s.refill_day_min_share)
    # share of the group's claims at the top facility that are lockstep swipes
    at_fac = int((ctx.claims["facility_id"].iloc[ctx.claim_rows_of_cards(cards)] == top_fac).sum())
    lock_at_fac = int((lb["facility_id"] == top_fac).sum())
    lock_share = lock_at_fac / max(1, at_fac)

    strength = squash(lock_days, 3.0)
    score = strength * (0.25 + 0.75 * min(1.0, max(0.0, (unrelated - 0.3) / 0.6)))
    score *= 0.6 + 0.4 * top_fac_share
    # 空刷: at the colluding facility the collected cards are used mostly in the bursts; people
    # who merely share a clinic day (chronic refills) visit it mostly on their own
    score *= min(1.0, lock_share / 0.5)
    if controller_phone is not None:
        score = min(1.0, score + 0.15)
    if cohort or refill_day:
        score *= s.lookalike_discount
    # the clause of the facility the swipes concentrate at (定点药店 or 定点医疗机构)
    rule_fac = "lockstep_swipes_pharmacy" if top_type == "pharmacy" else "lockstep_swipes_institution"
    ev = [
        evidence("lockstep_swipes",
                 f"{len(cards)} 张医保凭证在同一终端数分钟内连续刷卡，共 {lock_days} 天"
                 f"（{lb['burst'].nunique()} 个刷卡批次，{len(lb)} 笔结算）", lock_days),
        evidence(rule_fac, f"集中在 {top_fac}（占批次结算 {top_fac_share:.0%}；"
                           f"该机构上这些卡的结算中 {lock_share:.0%} 为批量刷卡）",
                 lock_at_fac),
        evidence("unrelated_holders",
                 f"{n_holders} 名持卡人分属 {n_households} 个不同家庭（无共同住址或电话）",
                 n_households),
    ]
    if controller_phone is not None:
        ev.append(evidence("shared_controller",
                           f"同一扫码手机 {controller_phone} 出示了其中 "
                           f"{int((foreign == controller_phone).sum())} 笔结算的电子凭证",
                           int((foreign == controller_phone).sum())))
    if cohort:
        said = (f"无诊断记录，{lock_days} 天中 {wd_share:.0%} 在固定的三个星期几" if uncoded
                else f"诊断集中于 {top_dx}（{top_dx_share:.0%}）且固定星期就诊")
        ev.append(evidence("lookalike_scheduled_treatment",
                           f"{said}：符合血透/化疗等定期治疗特征，降低可疑度", 0,
                           clause="合规相似情形（非负面清单）"))
    if refill_day:
        said = ("无诊断记录，但" if uncoded
                else f"诊断集中于慢性病 {top_dx}（{top_dx_share:.0%}），且 ")
        ev.append(evidence("lookalike_chronic_refill_day",
                           f"{said}{month_share:.0%} 的批次落在每月同一日前后：符合社区慢病固定取药日特征，"
                           f"降低可疑度", 0, clause="合规相似情形（非负面清单）"))
    members = [Member("card", c, "swiped card") for c in cards]
    members += [Member("patient", h, "card holder") for h in sorted(set(holders))]
    for f in facilities:
        ft = ctx.graph.facility_type(f)
        members.append(Member(ft, f, "colluding " + ("pharmacy" if ft == "pharmacy" else "facility")))
    if controller_phone is not None:
        members.append(Member("phone", str(controller_phone), "controller"))
        for owner in ctx.likely_users(controller_phone, lb["settle_time"].min(), exclude=holders):
            members.append(Member("patient", owner, "organiser (owns the controller phone)"))
    if top_device is not None and devices.value_counts(normalize=True).iloc[0] >= 0.5:
        members.append(Member("device", str(top_device), "terminal"))
    extra = {"features": {"lock_days": lock_days, "cards": len(cards), "households": n_households,
                          "unrelated": round(unrelated, 3), "top_facility_share": round(top_fac_share, 3),
                          "lock_share": round(lock_share, 3), "top_dx": top_dx,
                          "top_dx_share": round(top_dx_share, 3), "weekday_share": round(wd_share, 3),
                          "month_day_share": round(month_share, 3),
                          "controller_phone": controller_phone is not None}}
    return make_ring("gang", score, members, lb, ev, extra)
