"""职业骗保团伙 (gang): collected cards swiped in bursts at colluding facilities.

What the fraud is (负面清单(2025) 四(2), 二(7), 一(2)): an organiser holds many insured people's
cards and swipes them one after another at a colluding pharmacy or clinic, on many days. What
shows it is *lockstep*: the same set of cards passing through one terminal within minutes, again
and again, while the holders have nothing in common (no shared household, phone or address).

Method
1. Bursts (:mod:`graphkit.detectors.bursts`): runs of outpatient/pharmacy settlements at one
   facility close together in time, holding ``burst_min_cards`` to ``burst_max_cards`` cards;
   the allowed gap grows at a quiet facility and shrinks inside a pharmacy busy all day. A
   session presented from one phone (others' 电子凭证, 3+ cards at a facility on a day) is one
   however slow (:func:`swipe_sessions`).
2. Collected cards: a card swiped in ``min_shared_days`` bursts whose settlements at a facility
   fall mostly in bursts there (``collected_min_share``, and markedly more than the facility's
   other customers': at a busy counter everyone falls in a dense run now and then). Its holder
   does not come there; the organiser swipes it. Controllers likewise: a phone presenting
   others' 电子凭证 mostly in bursts, a terminal whose settlements are mostly bursts.
3. Groups: one organiser's sessions. Bursts at a facility are joined when they share
   ``link_min_cards`` collected cards, or one collected card on the same controlling terminal,
   or the same controller phone; groups of that graph are its connected components (no
   community-size preference: a pool of 30 swiped 4-8 at a time is one group). Groups with the
   same pool (half of the smaller's cards) or the same sessions (half of its facility-days) are
   one organiser's; a group is cut only where two controller phones each present their own
   cards (two organisers). A member is a card in ``min_shared_days`` of the group's bursts,
   collected there, or with most of its bursts the group's at a facility where it falls in
   bursts more than the facility's customers do (a card swiped too slowly to be in all of
   them); one caught in a single session is dropped and the rest scored again. Raw co-visits
   are never used, so dialysis rooms and nursing-home outings only enter when they burst in
   lockstep.
4. Score: lockstep days, holders from unrelated households, shared controller (an operator phone
   or one terminal), concentration at one facility; look-alike cohorts are discounted by what
   makes them legitimate: one household or shared address (nursing home, family), one treatment
   family on a fixed weekly rhythm (血透 N18/Z49), one chronic family on one date each month
   (a community clinic's refill day).
The organiser named is an adult owner of the controller phone (``Context.likely_users``, the
rule impersonation names its user by).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from graphkit._arrow import isin, single_chunk
from graphkit._frames import most_frequent, row_positions
from graphkit.detectors.bursts import bursts, session_sizes
from graphkit.detectors.assemble import make_ring, reported_cards, squash
from graphkit.detectors.clauses import evidence
from graphkit.detectors.context import Context
from graphkit.detectors.groups import components_of_pairs
from graphkit.rings import Member, Ring
from graphkit.settings import Settings

__all__ = ["detect_gangs", "gang_cards", "bursts", "swipe_sessions"]

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
    b = swipe_sessions(ctx, settings)
    if not len(b):
        return []
    b_rows = row_positions(b["card_id"])
    rings = []
    for cards in _organiser_groups(ctx, b, s):
        ring = _score_group(ctx, b, b_rows, cards, settings)
        if ring is not None:
            rings.append(ring)
    return rings


def swipe_sessions(ctx: Context, settings: Settings) -> pd.DataFrame:
    """The bursts, and the sessions an organiser's phone or own terminal marks whatever their
    pace.

    An organiser may spread a session over an afternoon, slower than any burst. When the
    电子凭证 are presented from the organiser's phone, the phone itself says which swipes are one
    session: at one facility on one day, the settlements outside bursts presented from one
    phone for ``burst_min_cards`` to ``burst_max_cards`` cards of people it does not belong to
    (their own household's phone is a family's). A terminal that settled few cards, beside
    the counters that serve the facility's customers, is someone's own (:func:`_own_terminals`):
    its settlements at one facility on one day, for as many cards, are one session too.
    Each such session, of the settlements outside bursts, takes the next ``burst`` number after
    the bursts."""
    key = ("gang_sessions", settings.gang, settings.people)
    if key in ctx.cache:
        return ctx.cache[key]
    s = settings.gang
    b = bursts(ctx, settings)
    c = ctx.claims
    # the columns a session is kept with, and its time, taken once for the claims outside bursts
    keep = (c["claim_type"] != "inpatient").to_numpy() & ~isin(c["claim_id"], b["claim_id"])
    c = c[[k for k in b.columns if k != "burst"] + ["t"]][keep]
    by_phone = c[c["operator_phone"].notna().to_numpy()]
    own = ctx.patients["phone"].reindex(ctx.holder_of(by_phone["card_id"].tolist())).to_numpy()
    by_phone = by_phone[by_phone["operator_phone"].to_numpy(dtype=object) != own]
    sessions = [_sessions_of(by_phone, "operator_phone", s)]
    by_device = c[c["device_id"].notna().to_numpy()
                  & ~isin(c["claim_id"], sessions[0]["claim_id"])]
    sessions.append(_sessions_of(by_device[isin(by_device["device_id"], _own_terminals(ctx, s))],
                                 "device_id", s))
    first = int(b["burst"].max()) + 1 if len(b) else 0
    for found in sessions:
        if len(found):
            found["burst"] += first
            first = int(found["burst"].max()) + 1
    # one chunk per column: a group's rows are taken from it thousands of times
    b = single_chunk(pd.concat([b] + [f[list(b.columns)] for f in sessions if len(f)],
                               ignore_index=True))
    ctx.cache[key] = b
    return b


def _own_terminals(ctx: Context, s) -> pd.Index:
    """Terminals that settled no more than ``burst_max_cards`` cards, and fewer than half of the
    cards settled at their facility: someone's own beside the facility's counters, which serve
    its customers (a quiet clinic's only terminal serves all of them and is its counter)."""
    c = ctx.claims
    c = c[c["device_id"].notna().to_numpy()]
    served = c.groupby("device_id")["card_id"].nunique()
    at = most_frequent(c, "device_id", "facility_id")
    facility_cards = ctx.claims.groupby("facility_id")["card_id"].nunique()
    share = served / facility_cards.reindex(at.reindex(served.index)).to_numpy()
    return served.index[(served <= s.burst_max_cards) & (share < 0.5)]


def _sessions_of(c: pd.DataFrame, marker: str, s) -> pd.DataFrame:
    """The claims of ``c`` in sessions marked by ``marker`` (one phone or terminal at one
    facility on one day, ``burst_min_cards`` to ``burst_max_cards`` cards), numbered from 0 in
    facility, day and marker order."""
    place = ["facility_id", "day", marker]
    n_cards = session_sizes(c, marker)
    c = c[(n_cards >= s.burst_min_cards) & (n_cards <= s.burst_max_cards)]
    c = c.sort_values(["facility_id", "t", "claim_id"], kind="stable")
    return c.assign(burst=c.groupby(place, sort=True).ngroup().to_numpy())


def _organiser_groups(ctx: Context, b: pd.DataFrame, s) -> list[list[str]]:
    """The cards of each organiser: bursts joined by what one organiser leaves on them.

    An organiser swipes a pool of collected cards, a different handful each session, so two of
    its sessions may share few cards; what they share is the pool, the facility and the
    organiser's own phone or terminal. Two bursts are one organiser's when they share
    ``link_min_cards`` of the cards collected at that facility, or one such card swiped on the
    same controlling terminal in both, or the same controller phone (:func:`_collected`,
    :func:`_controllers`). Only collected cards join sessions: a walk-in customer caught in two
    sessions of a busy pharmacy is there by chance and joins nothing. The groups are the
    connected components of that session graph, with no preference for their size; a card is a
    group's when swiped in ``min_shared_days`` of its bursts (see below). Groups are then joined where the same pool or the same sessions show one organiser
    (:func:`_join_same_organiser`).
    """
    n_bursts = int(b["burst"].max()) + 1 if len(b) else 0
    collected, above_usual = _collected(ctx, b, s)
    burst = b["burst"].to_numpy()
    links = []
    card_key, _ = pd.factorize(pd.Series(b["facility_id"].astype("str").to_numpy())
                               + "\x1f" + b["card_id"].astype("str").to_numpy())
    card_key[~collected] = -1
    phone_key, device_key = _controllers(ctx, b, collected, s)
    for keys, need in ((card_key, s.link_min_cards), (phone_key, 1), (device_key, 1)):
        keep = keys >= 0
        links.append(_shared_pairs(burst[keep], keys[keep], n_bursts, need))
    pairs = np.concatenate(links) if links else np.zeros((0, 2), dtype=np.int64)
    label = components_of_pairs(pairs[:, 0], pairs[:, 1], n_bursts)
    rows = pd.DataFrame({"burst": burst[collected], "card_id": b["card_id"].to_numpy()[collected],
                         "session": _sessions(b)[collected], "phone": phone_key[collected]})
    rows["group"] = _join_same_organiser(label[rows["burst"].to_numpy()], rows, s)
    # a card is the group's when swiped in several of its bursts, and either collected there or
    # swiped in bursts mostly the group's, at a facility where it falls in bursts more often than
    # the facility's customers do (an organiser's card swiped too slowly to be in all bursts)
    group_of = pd.Series(rows["group"].to_numpy(), index=label[rows["burst"].to_numpy()])
    group_of = group_of[~group_of.index.duplicated()].reindex(label[burst]).to_numpy()
    every = pd.DataFrame({"group": group_of, "burst": burst, "card_id": b["card_id"].to_numpy()})
    every = every[above_usual & ~np.isnan(group_of)].drop_duplicates()
    in_group = every.groupby(["group", "card_id"], sort=True).size()
    n_bursts_of = b.groupby("card_id")["burst"].nunique()
    mostly = in_group[in_group.to_numpy() >= 0.5 * n_bursts_of.reindex(
        in_group.index.get_level_values(1)).to_numpy()]
    per_card = rows.drop_duplicates(["group", "burst", "card_id"]).groupby(
        ["group", "card_id"], sort=True).size()
    per_card = pd.concat([per_card, mostly.rename(index=lambda g: int(g), level=0)])
    per_card = per_card[per_card >= s.min_shared_days]
    per_card = per_card[~per_card.index.duplicated()].sort_index().reset_index()
    groups = []
    rows_of = pd.Series(np.arange(len(rows))).groupby(rows["group"].to_numpy()).indices
    for group, cards in per_card.groupby("group", sort=True)["card_id"]:
        groups += _by_controller(rows.iloc[rows_of[group]], sorted(cards), s)
    return [g for g in groups if len(g) >= s.min_cards]


def _by_controller(rows: pd.DataFrame, cards: list[str], s) -> list[list[str]]:
    """``cards`` of one group, cut where two controller phones show two organisers.

    Two organisers swiping at one facility on the same afternoons leave bursts holding cards of
    both; each presents the 电子凭证 of their own pool from their own phone. A card goes with the
    controller phone that presented it most; a card no phone presented (社保卡) with the phone
    whose cards share most of its bursts. One controller, or none, leaves the group whole."""
    mine = rows[rows["card_id"].isin(cards).to_numpy()]
    presented = mine[mine["phone"].to_numpy() >= 0]
    if not len(presented):
        return [cards]
    top = presented.groupby("card_id")["phone"].agg(lambda v: v.value_counts().index[0])
    per_phone = top.value_counts()
    phones = sorted(per_phone.index[per_phone >= s.burst_min_cards])
    if len(phones) < 2:
        return [cards]
    side = {p: set(top.index[top.to_numpy() == p]) for p in phones}
    bursts_of = mine.groupby("card_id")["burst"].agg(set)
    phone_bursts = {p: set().union(*(bursts_of[c] for c in side[p])) for p in phones}
    for card in cards:
        if any(card in side[p] for p in phones):
            continue
        shared = [len(bursts_of.get(card, set()) & phone_bursts[p]) for p in phones]
        side[phones[int(np.argmax(shared))]].add(card)
    return [sorted(side[p]) for p in phones]


def _sessions(b: pd.DataFrame) -> np.ndarray:
    """Per burst row, a code of its session: the facility and the day (an organiser's session
    may fall into several bursts)."""
    return pd.factorize(pd.Series(b["facility_id"].astype("str").to_numpy())
                        + "\x1f" + b["day"].astype("str").to_numpy())[0]


def _shared_pairs(burst: np.ndarray, key: np.ndarray, n_bursts: int, need: int) -> np.ndarray:
    """Pairs of bursts (i < j) sharing at least ``need`` distinct values of ``key`` (sparse
    ``M @ M.T`` of the burst x key incidence)."""
    if not len(burst):
        return np.zeros((0, 2), dtype=np.int64)
    pair = np.unique(np.stack([burst, key], axis=1), axis=0)
    key_codes, key_n = pd.factorize(pair[:, 1])[0], len(np.unique(pair[:, 1]))
    m = sparse.csr_matrix((np.ones(len(pair), dtype=np.int32), (pair[:, 0], key_codes)),
                          shape=(n_bursts, key_n))
    shared = sparse.triu(m @ m.T, k=1).tocoo()
    keep = shared.data >= need
    return np.stack([shared.row[keep], shared.col[keep]], axis=1).astype(np.int64)


def _collected(ctx: Context, b: pd.DataFrame, s) -> tuple[np.ndarray, np.ndarray]:
    """Per burst row: (is its card collected at its facility, is it in bursts there more often
    than the facility's settlements are).

    Collected: swiped in at least ``min_shared_days`` bursts, and at this facility mostly in
    bursts (``collected_min_share`` of its outpatient/pharmacy settlements there). A collected
    card's holder does not come to the facility; the organiser swipes it there in sessions
    (空刷). A regular customer comes on their own and falls into a busy pharmacy's dense runs
    now and then, as often as its other customers."""
    c = ctx.claims
    c = c.loc[c["claim_type"] != "inpatient", ["facility_id", "card_id"]]
    pair_all = pd.MultiIndex.from_arrays([c["facility_id"], c["card_id"]])
    visits = pd.Series(1, index=pair_all).groupby(level=[0, 1]).size()
    pair_b = pd.MultiIndex.from_arrays([b["facility_id"], b["card_id"]])
    in_bursts = pd.Series(1, index=pair_b).groupby(level=[0, 1]).size()
    # swiped again and again, at this facility or at another of the organiser's
    n_bursts = b.groupby("card_id")["burst"].nunique().reindex(
        in_bursts.index.get_level_values(1)).to_numpy()
    share = in_bursts / visits.reindex(in_bursts.index)
    # where the facility's own customers fall in bursts often (a busy counter's dense hours), a
    # collected card is in bursts markedly more: at most half of its visits there as the
    # facility's share of settlements outside bursts
    facility = share.index.get_level_values(0)
    usual = (in_bursts.groupby(level=0).sum() / visits.groupby(level=0).sum()).reindex(facility)
    bar = np.maximum(s.collected_min_share, (1 + usual.to_numpy()) / 2)
    ok = pd.Series((n_bursts >= s.min_shared_days) & (share.to_numpy() >= bar),
                   index=in_bursts.index)
    above = pd.Series(share.to_numpy() > usual.to_numpy(), index=in_bursts.index)
    return (ok.reindex(pair_b).to_numpy(dtype=bool), above.reindex(pair_b).to_numpy(dtype=bool))


def _controllers(ctx: Context, b: pd.DataFrame, collected: np.ndarray,
                 s) -> tuple[np.ndarray, np.ndarray]:
    """Per burst row, the code of its controller phone and of its card on a controlling
    terminal (-1 for none): keys that join bursts as one controller's.

    A controller phone presents the 电子凭证 of people it does not belong to, mostly in bursts,
    for at least ``burst_min_cards`` cards: the organiser's own phone, which joins every session
    it presents in. A controlling terminal is one whose settlements are mostly bursts of
    collected cards (the facility's counter, shared with walk-ins, is not): one collected card
    swiped on it in two bursts joins them."""
    c = ctx.claims
    phone_key = np.full(len(b), -1, dtype=np.int64)
    device_key = np.full(len(b), -1, dtype=np.int64)
    holders = ctx.holder_of(b["card_id"].tolist())
    own = ctx.patients["phone"].reindex(holders).to_numpy()
    phone = b["operator_phone"].to_numpy(dtype=object)
    foreign = pd.notna(phone) & (phone != own) & collected
    if foreign.any():
        all_uses = c["operator_phone"].value_counts()
        f_rows = pd.DataFrame({"phone": phone[foreign], "card": b["card_id"].to_numpy()[foreign]})
        cards = f_rows.groupby("phone")["card"].nunique()
        share = f_rows.groupby("phone").size() / all_uses.reindex(cards.index)
        ok = set(cards.index[(cards >= s.burst_min_cards) & (share >= s.collected_min_share)])
        use = foreign & pd.Series(phone).isin(ok).to_numpy()
        phone_key[use] = pd.factorize(phone[use])[0]
    device = b["device_id"].to_numpy(dtype=object)
    has = pd.notna(device) & collected
    if has.any():
        # a controlling terminal is in bursts of collected cards markedly more than its
        # facility's settlements are (the bar of :func:`_collected`)
        share = (pd.Series(device[has]).value_counts()
                 / c["device_id"].value_counts().reindex(pd.unique(device[has])))
        facility = pd.Series(b["facility_id"].to_numpy()[has], index=device[has])
        facility = facility[~facility.index.duplicated()].reindex(share.index)
        usual = (b["facility_id"].value_counts()
                 / c.loc[c["claim_type"] != "inpatient", "facility_id"].value_counts())
        bar = np.maximum(s.collected_min_share, (1 + usual.reindex(facility).to_numpy()) / 2)
        ok = set(share.index[share.to_numpy() >= bar])
        use = has & pd.Series(device).isin(ok).to_numpy()
        device_key[use] = pd.factorize(pd.Series(device[use]).astype("str")
                                       + "\x1f" + b["card_id"].astype("str").to_numpy()[use])[0]
    return phone_key, device_key


def _join_same_organiser(label: np.ndarray, rows: pd.DataFrame, s) -> np.ndarray:
    """Groups of the session graph joined where one organiser's evidence binds them, as a new
    label per row of ``rows`` (``label``: its burst's group).

    The same pool of collected cards (half of the smaller group's cards, at another of its
    facilities or in sessions that share too few cards to be joined one by one), or the same
    sessions (half of the smaller's facility-days, and ``min_shared_days``: an organiser
    swiping a morning and an afternoon batch) are one organiser's. Groups that share a card or
    a day or two (a chance customer, a busy day) stay apart."""
    codes, n_groups = pd.factorize(label)[0], len(np.unique(label))
    pairs = []
    for column, least in (("card_id", s.link_min_cards), ("session", s.min_shared_days)):
        key = pd.factorize(rows[column])[0]
        pair = np.unique(np.stack([codes, key], axis=1), axis=0)  # one per (group, key)
        m = sparse.csr_matrix((np.ones(len(pair), dtype=np.int32), (pair[:, 0], pair[:, 1])),
                              shape=(n_groups, key.max() + 1 if len(key) else 0))
        size = np.asarray(m.sum(axis=1)).ravel()
        shared = sparse.triu(m @ m.T, k=1).tocoo()
        need = np.maximum(0.5 * np.minimum(size[shared.row], size[shared.col]), least)
        keep = shared.data >= need
        pairs.append(np.stack([shared.row[keep], shared.col[keep]], axis=1))
    pairs = np.concatenate(pairs)
    return components_of_pairs(pairs[:, 0], pairs[:, 1], n_groups)[codes]


def _lockstep(b: pd.DataFrame, b_rows: dict, cards: list[str], s) -> pd.DataFrame:
    """The group's swipes in its lockstep bursts: bursts holding >= burst_min_cards of its cards."""
    gb = b.iloc[np.sort(np.concatenate([b_rows[c] for c in cards if c in b_rows]))]
    per_burst = gb.groupby("burst")["card_id"].transform("nunique")
    return gb[(per_burst >= s.burst_min_cards).to_numpy()]


def _sessions_text(lockstep: pd.DataFrame, n_cards: int, lock_days: int) -> str:
    """What the group's swipe sessions were, as the claims show them: how many, how long each
    took (a burst takes minutes, a phone's session may take the day), and how many were swiped
    on one terminal (a burst counts whichever terminal; a phone's session may name none)."""
    session = lockstep["burst"].to_numpy()
    seconds = pd.Series(lockstep["settle_time"].to_numpy().astype("datetime64[s]").astype(np.int64))
    by_session = seconds.groupby(session)
    took = by_session.max() - by_session.min()
    terminal = lockstep["device_id"]
    terminals = terminal.groupby(session).nunique()
    unmarked = terminal.isna().groupby(session).any()
    minutes = int(round(float((took / 60).median())))
    one_terminal = int(((terminals == 1) & ~unmarked).sum())
    where = f"，其中 {one_terminal} 个批次在同一终端" if one_terminal else ""
    return (f"{n_cards} 张医保凭证成批刷卡，共 {lock_days} 天（{len(took)} 个刷卡批次，"
            f"{len(lockstep)} 笔结算；每批次用时中位数 {minutes} 分钟{where}）")


class _Facilities(NamedTuple):
    """Where a group's lockstep swipes concentrate."""

    top: str
    top_share: float
    top_type: str
    #: the facilities holding a tenth of the swipes or more: the colluding ones
    colluding: list
    #: lockstep swipes at the top facility, and their share of the group's claims there
    lockstep_at_top: int
    lockstep_share: float


class _Lookalike(NamedTuple):
    """What a group's swipes share with legitimate scheduled care."""

    top_dx: str
    top_dx_share: float
    weekday_share: float
    month_share: float
    #: no diagnosis on the swipes, at an institution (where visits are coded)
    uncoded: bool
    scheduled_treatment: bool
    refill_day: bool


def _score_group(ctx: Context, sessions: pd.DataFrame, session_rows: dict, cards: list[str],
                 settings: Settings, lockstep: pd.DataFrame | None = None) -> Ring | None:
    """The gang ring of ``cards`` (None when too few are swiped together): ``sessions`` are the
    swipe sessions (:func:`swipe_sessions`), ``session_rows`` their rows by card, and
    ``lockstep`` the cards' lockstep swipes when the caller has them already."""
    gang = settings.gang
    if lockstep is None:
        lockstep = _lockstep(sessions, session_rows, cards, gang)
    # a collected card is swiped with the others again and again: a card in the group's lockstep
    # bursts on fewer than min_shared_days days only happened to be there: score the rest
    card_days = lockstep.groupby("card_id")["day"].nunique()
    regular = sorted(card_days[card_days >= gang.min_shared_days].index)
    if len(regular) < len(cards):
        if len(regular) < gang.min_cards:
            return None
        return _score_group(ctx, sessions, session_rows, regular, settings)
    if not len(lockstep):
        return None
    lock_days = int(lockstep["day"].nunique())
    holders = ctx.holder_of(cards)
    n_holders = int(holders.nunique())
    households = ctx.patients["household"].reindex(holders.unique())
    n_households = int(households.nunique(dropna=True) + households.isna().sum())
    unrelated = n_households / max(1, n_holders)
    where = _concentration(ctx, lockstep, cards)
    controller, presented = _controller(ctx, lockstep, holders)
    look = _lookalike(lockstep, lock_days, where.top_type, gang)

    strength = squash(lock_days, 3.0)
    score = strength * (0.25 + 0.75 * min(1.0, max(0.0, (unrelated - 0.3) / 0.6)))
    score *= 0.6 + 0.4 * where.top_share
    # 空刷: at the colluding facility the collected cards are used mostly in the bursts; people
    # who merely share a clinic day (chronic refills) visit it mostly on their own
    score *= min(1.0, where.lockstep_share / 0.5)
    if controller is not None:
        score = min(1.0, score + 0.15)
    if look.scheduled_treatment or look.refill_day:
        score *= gang.lookalike_discount
    evidence_lines = _evidence(lockstep, len(cards), lock_days, where, n_holders, n_households,
                               controller, presented, look)
    members = _members(ctx, cards, holders, where, controller, lockstep)
    extra = {"features": {"lock_days": lock_days, "cards": len(cards), "households": n_households,
                          "unrelated": round(unrelated, 3),
                          "top_facility_share": round(where.top_share, 3),
                          "lock_share": round(where.lockstep_share, 3), "top_dx": look.top_dx,
                          "top_dx_share": round(look.top_dx_share, 3),
                          "weekday_share": round(look.weekday_share, 3),
                          "month_day_share": round(look.month_share, 3),
                          "controller_phone": controller is not None}}
    return make_ring("gang", score, members, lockstep, evidence_lines, extra)


def _concentration(ctx: Context, lockstep: pd.DataFrame, cards: list[str]) -> _Facilities:
    """The facility the group's lockstep swipes concentrate at, and how much of the cards' use
    there they are."""
    share = lockstep["facility_id"].value_counts(normalize=True)
    top = share.index[0]
    claims_at_top = int((ctx.claims["facility_id"].iloc[ctx.claim_rows_of_cards(cards)]
                         == top).sum())
    lockstep_at_top = int((lockstep["facility_id"] == top).sum())
    return _Facilities(top=top, top_share=float(share.iloc[0]),
                       top_type=ctx.graph.facility_type(top),
                       colluding=list(share.index[share >= 0.1]),
                       lockstep_at_top=lockstep_at_top,
                       lockstep_share=lockstep_at_top / max(1, claims_at_top))


def _controller(ctx: Context, lockstep: pd.DataFrame, holders: pd.Series) -> tuple[str | None, int]:
    """The phone, none of the holders' own, that presented 30% or more of the group's lockstep
    swipes, and how many it presented (None, 0 when there is none)."""
    phones = lockstep["operator_phone"].dropna()
    own_phones = set(ctx.patients["phone"].reindex(holders.unique()).dropna())
    foreign = phones[~phones.isin(own_phones)]
    if len(foreign):
        counts = foreign.value_counts()
        if counts.iloc[0] >= 0.3 * len(lockstep):
            phone = counts.index[0]
            return phone, int((foreign == phone).sum())
    return None, 0


def _lookalike(lockstep: pd.DataFrame, lock_days: int, top_type: str, gang) -> _Lookalike:
    """Whether the group's swipes look like legitimate scheduled care: one treatment family on
    a fixed weekly rhythm (血透, 化疗), or one clinic's chronic refill day each month."""
    diagnoses = lockstep["dx3"].dropna()
    top_dx_share = float(diagnoses.value_counts(normalize=True).iloc[0]) if len(diagnoses) else 0.0
    top_dx = diagnoses.value_counts().index[0] if len(diagnoses) else ""
    scheduled = top_dx[:3] in SCHEDULED_TREATMENT or top_dx[:1] in SCHEDULED_TREATMENT
    weekdays = pd.Series(lockstep["day"].unique() + 3) % 7  # 1970-01-01 was a Thursday (3)
    weekday_share = (float(weekdays.value_counts(normalize=True).head(3).sum()) if len(weekdays)
                     else 0)
    # with no diagnosis on record (none on the group's swipes at an institution, where visits
    # are coded), the rhythm alone tells the look-alikes: the same weekdays week after week for
    # months, or one date each month at a clinic
    uncoded = not len(diagnoses) and top_type != "pharmacy"
    treatment = ((scheduled and top_dx_share >= 0.6 and weekday_share >= 0.9)
                 or (uncoded and lock_days >= gang.schedule_min_days and weekday_share >= 0.9))
    # chronic patients of one clinic collecting refills on its fixed monthly day: one chronic
    # family dominates and the days fall on one date each month (an organiser swiping at the
    # start of each month settles no consistent diagnosis, and at a pharmacy none at all)
    month_share = monthly_share(lockstep["day"].unique(), gang.refill_day_slack_days)
    refill_day = (((top_dx[:3] in CHRONIC_CARE and top_dx_share >= 0.5) or uncoded)
                  and lock_days >= 4 and month_share >= gang.refill_day_min_share)
    return _Lookalike(top_dx=top_dx, top_dx_share=top_dx_share, weekday_share=weekday_share,
                      month_share=month_share, uncoded=uncoded, scheduled_treatment=treatment,
                      refill_day=refill_day)


def _evidence(lockstep: pd.DataFrame, n_cards: int, lock_days: int, where: _Facilities,
              n_holders: int, n_households: int, controller: str | None, presented: int,
              look: _Lookalike) -> list:
    """The gang ring's evidence lines, one per signal seen."""
    # the clause of the facility the swipes concentrate at (定点药店 or 定点医疗机构)
    facility_rule = ("lockstep_swipes_pharmacy" if where.top_type == "pharmacy"
                     else "lockstep_swipes_institution")
    out = [
        evidence("lockstep_swipes", _sessions_text(lockstep, n_cards, lock_days), lock_days),
        evidence(facility_rule, f"集中在 {where.top}（占批次结算 {where.top_share:.0%}；"
                                f"该机构上这些卡的结算中 {where.lockstep_share:.0%} 为批量刷卡）",
                 where.lockstep_at_top),
        evidence("unrelated_holders",
                 f"{n_holders} 名持卡人分属 {n_households} 个不同家庭（无共同住址或电话）",
                 n_households),
    ]
    if controller is not None:
        out.append(evidence("shared_controller",
                            f"同一扫码手机 {controller} 出示了其中 {presented} 笔结算的电子凭证",
                            presented))
    if look.scheduled_treatment:
        said = (f"无诊断记录，{lock_days} 天中 {look.weekday_share:.0%} 在固定的三个星期几"
                if look.uncoded
                else f"诊断集中于 {look.top_dx}（{look.top_dx_share:.0%}）且固定星期就诊")
        out.append(evidence("lookalike_scheduled_treatment",
                            f"{said}：符合血透/化疗等定期治疗特征，降低可疑度", 0,
                            clause="合规相似情形（非负面清单）"))
    if look.refill_day:
        said = ("无诊断记录，但" if look.uncoded
                else f"诊断集中于慢性病 {look.top_dx}（{look.top_dx_share:.0%}），且 ")
        out.append(evidence("lookalike_chronic_refill_day",
                            f"{said}{look.month_share:.0%} 的批次落在每月同一日前后："
                            f"符合社区慢病固定取药日特征，降低可疑度", 0,
                            clause="合规相似情形（非负面清单）"))
    return out


def _members(ctx: Context, cards: list[str], holders: pd.Series, where: _Facilities,
             controller: str | None, lockstep: pd.DataFrame) -> list[Member]:
    """The gang ring's members: the swiped cards, their holders, the colluding facilities, the
    controller phone and its organiser, and the terminal of half the swipes or more."""
    members = [Member("card", c, "swiped card") for c in cards]
    members += [Member("patient", h, "card holder") for h in sorted(set(holders))]
    for facility in where.colluding:
        kind = ctx.graph.facility_type(facility)
        members.append(Member(kind, facility,
                              "colluding " + ("pharmacy" if kind == "pharmacy" else "facility")))
    if controller is not None:
        members.append(Member("phone", str(controller), "controller"))
        for owner in ctx.likely_users(controller, lockstep["settle_time"].min(), exclude=holders):
            members.append(Member("patient", owner, "organiser (owns the controller phone)"))
    devices = lockstep["device_id"].dropna()
    if len(devices):
        share = devices.value_counts(normalize=True)
        if share.iloc[0] >= 0.5:
            members.append(Member("device", str(share.index[0]), "terminal"))
    return members
