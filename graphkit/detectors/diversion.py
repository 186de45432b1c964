"""回流药 / 倒卖医保药品 (diversion): key drugs obtained far beyond need and resold.

What the fraud is (负面清单(2025) 二(11), 三(4), 一(11)): mules obtain insured key drugs far beyond
clinical need, from many doctors and facilities; a collector buys the packs from them and sells
them on to one or more reseller pharmacies (链条化), which sell them again and settle the same
packs with the fund a second time. Since 2025 every pack carries a 药品追溯码, so a code settled
again *at another facility* is a pack that came back. A refund-and-resettle (退费重结) or a split
pack (拆零) repeats the code at the same pharmacy and is innocent; data without 追溯码 shows no
pack coming back and gives no ring.

Who is a member (contract section 2)
The mules and their cards, the prescribers and dispensing facilities of the diverted drug, the
re-settling pharmacies, the re-settled packs, and straw cards. A card the packs were re-settled on
is a straw card of a reseller when that reseller settles re-settled packs on it repeatedly
(``straw_min_packs`` packs or more), on several days (``straw_min_days``), and those are most of
the re-settled packs the card ever received (``straw_min_share``): the reseller uses it as a card
it controls. Every other such card is a walk-in buyer's, who was sold a pack: context, kept in the
ring's claims and counted in its evidence, never a member, and never a link between two chains.

What binds one operation
One operation is one collector: its mules, sent to the doctors who will write the drug for them,
and the reseller pharmacies it sells their packs on to. Per reseller and drug:
1. A lot: packs of one drug from several mules re-settled in one claim were sold on together, out
   of one collector's lot; the mules they came from are that collector's (components of mule --
   re-settlement claim and drug). Two cards of one holder are one mule.
2. Shared prescribers: a collector sends its mules to the same few doctors, so one operation's
   mules share most of their prescribers. Two lot groups at one reseller and drug are one
   collector's when more than ``collector_min_share`` of either group's re-settled packs there
   were prescribed by doctors who also prescribed the other group's (counted in packs, so one
   visit to a popular doctor ties no one). This is what makes a walk-in chain, whose packs
   come back one or two at a time in many small lots, one ring. Dispensing facilities bind
   nothing: an area's hospitals and 外配 pharmacies serve unrelated people alike. Nor do
   periods: a collector runs its mules one after another, so one operation's mules' windows
   need not overlap.
3. A mule is one node, the person whichever of its cards it presented: a collector selling one
   mule's packs on to two or three pharmacies makes their chains one ring. Chains of different
   drugs share no lot, so they meet only in a mule.
4. A mule tied to no one by steps 1-3 (its packs re-settled alone, its prescribers not the
   others') joins the chain of two or more people at its pharmacy and drug when there is one,
   or the other untied mules there when there is none (nothing in the data shows a second
   collector); where several chains are there it joins the one whose mules' prescribers include
   one of its own, when exactly one does, and otherwise the other untied mules there.
What keeps two operations through one pharmacy apart: different drugs (no lot, no unit in
common), or their own prescribers (each a minority of the other's packs) and no lot in common.
A pharmacy is no binder on its own (it may buy back from several collectors, and an area has
few pharmacies); nor is a straw card, which is the reseller's instrument, not the collector's,
nor a walk-in buyer. Straw cards and walk-in buyers belong to the chain whose packs they
received.

Support: each mule's key-drug quantity against the drug's population (median and MAD per drug,
per card per year) and the number of distinct doctors and facilities it came from. Packs that
came back in one sale (one re-settlement claim) are one event, not a practice: such a chain
scores half of what the rest of its evidence gives (below the default threshold), so a lone
mule's one sale is not handed over as a ring of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from graphkit._arrow import isin
from graphkit._frames import row_positions
from graphkit.detectors.assemble import make_ring, reported_cards, squash
from graphkit.detectors.clauses import CLAUSES, evidence
from graphkit.detectors.context import DAY, Context
from graphkit.detectors.groups import components_of_pairs
from graphkit.rings import Member, Ring
from graphkit.settings import Settings

__all__ = ["detect_diversion", "diversion_cards", "resettled_packs", "key_drug_excess",
           "straw_cards"]

_RESETTLED_COLUMNS = ["trace_code", "item_name", "first_claim", "first_card", "first_facility",
                      "first_doctor", "first_t", "claim_id", "card_id", "facility_id", "t"]


def resettled_packs(ctx: Context) -> pd.DataFrame:
    """Later settlements of a trace code at a facility other than the first one.

    Columns: trace_code, item_name, first_claim, first_card, first_facility, first_doctor,
    first_t (when the pack was first settled), claim_id, card_id, facility_id, t.
    """
    it = ctx.items
    # a code settled more than once, found on integer codes; only those rows and the columns
    # read below are taken (the items table is the largest one)
    code, _ = pd.factorize(it["trace_code"], use_na_sentinel=True)
    seen = np.bincount(code[code >= 0], minlength=1)
    again = np.flatnonzero((code >= 0) & (seen[np.maximum(code, 0)] > 1))
    dup = it[["trace_code", "item_name", "claim_id", "card_id", "facility_id", "doctor_id",
              "t"]].iloc[again]
    if not len(dup):
        return pd.DataFrame(columns=_RESETTLED_COLUMNS)
    dup = dup.sort_values(["trace_code", "t", "claim_id"])
    first = dup.drop_duplicates("trace_code", keep="first").set_index("trace_code")
    later = dup[~dup.index.isin(dup.drop_duplicates("trace_code", keep="first").index)]
    later = later.assign(
        first_claim=later["trace_code"].map(first["claim_id"]),
        first_card=later["trace_code"].map(first["card_id"]),
        first_facility=later["trace_code"].map(first["facility_id"]),
        first_doctor=later["trace_code"].map(first["doctor_id"]),
        first_t=later["trace_code"].map(first["t"]),
    )
    later = later[later["facility_id"] != later["first_facility"]]
    return later[_RESETTLED_COLUMNS].reset_index(drop=True)


def straw_cards(packs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The (reseller, card) pairs of ``packs`` (rows of :func:`resettled_packs`) where the card is
    the reseller's straw card.

    The reseller settles re-settled packs on a card it controls again and again: at least
    ``straw_min_packs`` packs on at least ``straw_min_days`` days, which are more than
    ``straw_min_share`` of all re-settled packs settled on that card anywhere. A walk-in buyer is
    sold a pack now and then; a regular customer of the reseller who keeps buying there can meet
    the rule too, which is why it asks for several packs on several days. Columns: facility_id,
    card_id, packs, days.

    Examples
    --------
    >>> packs = pd.DataFrame({"facility_id": ["P9"] * 4 + ["P8"], "card_id": ["C1"] * 3 + ["C2"] * 2,
    ...                       "trace_code": list("abcde"), "t": [0, 86400, 2 * 86400, 0, 0]})
    >>> straw_cards(packs, Settings())[["facility_id", "card_id", "packs", "days"]].values.tolist()
    [['P9', 'C1', 3, 3]]
    """
    s = settings.diversion
    if not len(packs):
        return pd.DataFrame(columns=["facility_id", "card_id", "packs", "days"])
    day = (packs["t"] // DAY).astype("int64")
    per = (packs.assign(day=day)
           .groupby(["facility_id", "card_id"], sort=True)
           .agg(packs=("trace_code", "size"), days=("day", "nunique"))
           .reset_index())
    card_total = per.groupby("card_id")["packs"].transform("sum")
    keep = ((per["packs"] >= s.straw_min_packs) & (per["days"] >= s.straw_min_days)
            & (per["packs"] > s.straw_min_share * card_total))
    out = per[keep].reset_index(drop=True)
    out["packs"] = out["packs"].astype(int)
    out["days"] = out["days"].astype(int)
    return out


def key_drug_excess(ctx: Context, settings: Settings) -> pd.DataFrame:
    """Per (card, traceable drug): yearly quantity, robust z against the drug's population,
    distinct doctors and facilities. Columns: card_id, item_name, qty, median, z, factor,
    doctors, facilities, excess (bool)."""
    s = settings.diversion
    it = ctx.items[["card_id", "item_name", "quantity", "doctor_id", "facility_id", "trace_code"]]
    it = it[(it["trace_code"].notna() & it["item_name"].notna()).to_numpy()]
    if not len(it):
        return pd.DataFrame(columns=["card_id", "item_name", "qty", "median", "z", "factor",
                                     "doctors", "facilities", "excess"])
    qty = it["quantity"].fillna(1.0)
    # doctors and facilities counted as integer codes (a missing one is none)
    doctor, facility = (np.where(code >= 0, code, np.nan) for code in
                        (pd.factorize(it[k], use_na_sentinel=True)[0]
                         for k in ("doctor_id", "facility_id")))
    g = it.assign(qty=qty, doctor_id=doctor, facility_id=facility).groupby(
        ["card_id", "item_name"], observed=True)
    per = g.agg(qty=("qty", "sum"), doctors=("doctor_id", "nunique"),
                facilities=("facility_id", "nunique")).reset_index()
    stats = per.groupby("item_name")["qty"].agg(["median", lambda x: (x - x.median()).abs().median()])
    stats.columns = ["median", "mad"]
    per = per.join(stats, on="item_name")
    mad = per["mad"].where(per["mad"] > 0, np.maximum(per["median"] * 0.25, 1.0))
    per["z"] = (per["qty"] - per["median"]) / (1.4826 * mad)
    per["factor"] = per["qty"] / per["median"].where(per["median"] > 0, 1.0)
    per["excess"] = (per["z"] >= s.excess_z) & (per["factor"] >= s.excess_factor)
    return per.drop(columns=["mad"])


def detect_diversion(ctx: Context, settings: Settings) -> list[Ring]:
    """Diversion rings (every score; the caller applies ``min_score``), computed once per
    Context."""
    ctx.check(settings)
    key = ("diversion_rings", settings.diversion)
    if key not in ctx.cache:
        ctx.cache[key] = _detect_diversion(ctx, settings)
    return list(ctx.cache[key])


def diversion_cards(ctx: Context, settings: Settings) -> set[str]:
    """Cards of the reported diversion rings: mule cards and straw cards.

    A card that is a diversion chain's mule is that chain's, even where its claims also look
    like someone else using it (an adult's insulin on a child's card). A walk-in buyer's card
    is no ring's.
    """
    key = ("diversion_cards", settings.diversion, settings.min_score)
    if key not in ctx.cache:
        ctx.cache[key] = reported_cards(detect_diversion(ctx, settings), settings.min_score)
    return ctx.cache[key]


def _detect_diversion(ctx: Context, settings: Settings) -> list[Ring]:
    s = settings.diversion
    packs = resettled_packs(ctx)
    if not len(packs):
        return []
    straw = straw_cards(packs, settings)
    straw_keys = set(zip(straw["facility_id"], straw["card_id"]))
    packs = packs.assign(
        drug=packs["item_name"].astype("object").where(packs["item_name"].notna(), ""),
        straw=[k in straw_keys for k in zip(packs["facility_id"], packs["card_id"])])
    mules = pd.Index(sorted(packs["first_card"].unique()))
    mule = mules.get_indexer(packs["first_card"])
    chain = _chains(packs, mule, ctx.holder_of(mules).to_numpy(), s.collector_min_share)
    packs = packs.assign(chain=chain[mule])
    excess = key_drug_excess(ctx, settings)
    excess = excess[isin(excess["card_id"], mules)]  # only mule cards are looked up below
    # what the rings read, taken once: the mules' items, and the claims of the mules and of the
    # re-settlements (every claim a ring holds is one of them), the columns read only
    items = ctx.items
    items = items[["claim_id", "card_id", "item_name", "doctor_id", "facility_id",
                   "trace_code"]].iloc[np.flatnonzero(isin(items["card_id"], mules))]
    c = ctx.claims
    rows = np.flatnonzero(isin(c["card_id"], mules) | isin(c["claim_id"], packs["claim_id"]))
    claims = c[["claim_id", "fund_amount", "settle_time"]].iloc[rows]
    looked_up = _Lookup(items, row_positions(items["card_id"]), claims,
                        pd.Series(np.arange(len(claims)), index=claims["claim_id"].to_numpy()))
    rings = []
    for _, part in packs.groupby("chain", sort=True):
        if part["trace_code"].nunique() < s.min_resettled_codes:
            continue
        rings.append(_ring(ctx, part, excess, settings, looked_up))
    return rings


@dataclass(frozen=True)
class _Lookup:
    """The mules' items (``items``, by card: ``item_rows``) and the claims rings hold
    (``claims``, by claim id: ``claim_rows``), positions into those frames."""

    items: pd.DataFrame
    item_rows: dict
    claims: pd.DataFrame
    claim_rows: pd.Series

    def items_of(self, cards) -> pd.DataFrame:
        parts = [self.item_rows[k] for k in cards if k in self.item_rows]
        return self.items.iloc[np.sort(np.concatenate(parts)) if parts else []]

    def claims_by_id(self, claim_ids) -> pd.DataFrame:
        pos = self.claim_rows.reindex(list(claim_ids)).dropna().astype(np.int64).to_numpy()
        return self.claims.iloc[np.sort(np.unique(pos))]


def _chains(packs: pd.DataFrame, mule: np.ndarray, holders: np.ndarray,
            min_share: float) -> np.ndarray:
    """Chain label per mule card (0..len(holders)-1, ``holders`` their holder patients): the
    rules of the module docstring, steps 1-4."""
    n_mules = len(holders)
    order = np.arange(n_mules)
    # 1. lots: mule -- re-settlement claim of one drug; a lot group is named by its lowest mule
    lots = packs["claim_id"].astype(str) + "|" + packs["drug"]
    lot_nodes = pd.Index(sorted(lots.unique()))
    n_nodes = n_mules + len(lot_nodes)
    lot = components_of_pairs(mule, lot_nodes.get_indexer(lots) + n_mules, n_nodes)[:n_mules]
    first_of_lot = np.full(n_nodes, n_mules, dtype=np.int64)
    np.minimum.at(first_of_lot, lot, order)
    group = first_of_lot[lot]
    # 2. per reseller and drug: a group most of whose packs came from another's prescribers
    one, other = _prescriber_links(packs, group[mule], min_share)
    # 3. a mule is one node across pharmacies: the person, whichever of its cards it presented
    person, _ = pd.factorize(holders)
    first_card = np.full(person.max() + 1, n_mules, dtype=np.int64)
    np.minimum.at(first_card, person, order)
    a, b = np.r_[order, one, order], np.r_[group, other, first_card[person]]
    tied = components_of_pairs(a, b, n_mules)
    # 4. untied mules: a chain of one person, tied to no one by a lot or its prescribers
    people = pd.Series(holders).groupby(tied).nunique().to_numpy()
    one, other = _untied_links(packs, mule, tied, people[tied] < 2)
    return components_of_pairs(np.r_[a, one], np.r_[b, other], n_mules)


def _prescriber_links(packs: pd.DataFrame, group: np.ndarray,
                      min_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of lot groups (``group``: the lot group of each pack's mule, named by its lowest
    mule) that are one collector's: at one reseller and drug, more than ``min_share`` of one
    group's re-settled packs there were prescribed by doctors who also prescribed the other
    group's re-settled packs there.

    A collector sends its mules to the doctors who will write the drug for them, so one
    operation's mules share most of their prescribers; a second collector's mules come from its
    own, and a popular doctor they both saw is a minority of either's packs. The share is of
    packs, so one visit to a common doctor does not tie two groups. Packs with no prescriber
    bind nothing here: the dispensing facilities (an area's hospitals and 外配 pharmacies) are
    the same for unrelated people.
    """
    empty = np.zeros(0, dtype=np.int64)
    doctor = packs["first_doctor"].astype("object")
    known = doctor.notna().to_numpy() & (doctor.astype(str) != "").to_numpy()
    if not known.any():
        return empty, empty
    unit = packs["facility_id"].astype(str).to_numpy() + "|" + packs["drug"].to_numpy()
    rows = pd.DataFrame({"unit": unit[known], "doctor": doctor.to_numpy()[known],
                         "group": group[known]})
    per = rows.groupby(["unit", "doctor", "group"], sort=True).size().rename("packs").reset_index()
    per["share"] = per["packs"] / per.groupby(["unit", "group"])["packs"].transform("sum")
    pairs = per.merge(per[["unit", "doctor", "group"]], on=["unit", "doctor"],
                      suffixes=("", "_other"))
    pairs = pairs[pairs["group"] != pairs["group_other"]]
    share = pairs.groupby(["unit", "group", "group_other"], sort=True)["share"].sum()
    share = share[share > min_share].reset_index()
    return (share["group"].to_numpy().astype(np.int64),
            share["group_other"].to_numpy().astype(np.int64))


def _untied_links(packs: pd.DataFrame, mule: np.ndarray, chain: np.ndarray,
                  untied: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each untied mule (``untied`` per mule; ``chain`` the labels so far) goes, per
    reseller and drug: to the one chain of two or more people there, or, where there is none,
    to the other untied mules there (nothing in the data shows a second collector); where
    several are in evidence, to the one whose mules' prescribers include one of its own, when
    exactly one does, and otherwise to the other untied mules there."""
    a, b = [], []
    unit = packs["facility_id"].astype(str) + "|" + packs["drug"]
    rows = pd.DataFrame({"mule": mule, "chain": chain[mule], "untied": untied[mule],
                         "doctor": packs["first_doctor"].to_numpy(), "unit": unit.to_numpy()})
    for _, here in rows[rows["unit"].isin(set(unit[untied[mule]]))].groupby("unit", sort=True):
        loose = np.unique(here.loc[here["untied"], "mule"].to_numpy())
        held = here[~here["untied"]]
        chains = np.unique(held["chain"].to_numpy())
        rest = loose
        if len(chains) == 1:
            anchor = int(held["mule"].iloc[0])
            a.append(loose)
            b.append(np.full(len(loose), anchor))
            continue
        if len(chains) >= 2:
            doctors = {c: set(g["doctor"].dropna()) - {""} for c, g in held.groupby("chain")}
            first = held.groupby("chain")["mule"].min()
            own = {m: set(g["doctor"].dropna()) - {""}
                   for m, g in here[here["untied"]].groupby("mule")}
            rest = []
            for m in loose:
                hits = [c for c in chains if doctors[c] & own[m]]
                if len(hits) == 1:
                    a.append(np.array([m]))
                    b.append(np.array([first[hits[0]]]))
                else:
                    rest.append(m)
            rest = np.array(rest, dtype=np.int64)
        if len(rest):
            a.append(rest)
            b.append(np.full(len(rest), rest[0]))
    if not a:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(a).astype(np.int64), np.concatenate(b).astype(np.int64)


def _ring(ctx: Context, part: pd.DataFrame, excess: pd.DataFrame, settings: Settings,
          looked_up: _Lookup) -> Ring:
    """The ring of one chain's re-settled packs ``part``; its mules' items and its claims are
    taken from ``looked_up``."""
    s = settings.diversion
    n_codes = int(part["trace_code"].nunique())
    mule_cards = sorted(part["first_card"].unique())
    resellers = sorted(part["facility_id"].unique())
    ex = excess[isin(excess["card_id"], mule_cards)]
    ex_cards = ex[ex["excess"]]
    it = looked_up.items_of(mule_cards)
    it = it[it["trace_code"].notna().to_numpy()]
    n_doctors = int(it["doctor_id"].nunique())
    n_sources = int(it["facility_id"].nunique())
    score = squash(n_codes, 3.0)
    score = 1 - (1 - score) * (1 - 0.5 * min(1.0, len(ex_cards["card_id"].unique()) / max(1, len(mule_cards))))
    if n_doctors >= s.min_sources or n_sources >= s.min_sources:
        score = 1 - (1 - score) * 0.8
    n_sales = int(part["claim_id"].nunique())
    if n_sales < 2:
        # packs that came back in one sale are one event, not a practice of re-settling
        score *= 0.5
    claim_ids = set(part["claim_id"]) | set(part["first_claim"])
    key_items = it[isin(it["item_name"], set(part["item_name"].dropna()))]
    claim_ids |= set(key_items["claim_id"])
    claims = looked_up.claims_by_id(sorted(claim_ids))
    straw_rows = part[part["straw"].to_numpy() & ~isin(part["card_id"], mule_cards)]
    walk_in = part[~part["straw"].to_numpy() & ~isin(part["card_id"], mule_cards)]
    straw_list = sorted(straw_rows["card_id"].unique())
    drugs = "、".join(sorted(part["item_name"].dropna().unique())[:3])
    ev = [evidence("trace_code_resettled",
                   f"{n_codes} 个药品追溯码在首次结算后又在 {'、'.join(resellers)} 再次结算"
                   f"（{drugs}）；其中 {walk_in['trace_code'].nunique()} 盒售给 "
                   f"{walk_in['card_id'].nunique()} 名购药人（线索背景，不列为成员）", n_codes)]
    if straw_list:
        days = int((straw_rows["t"] // DAY).nunique())
        ev.append(evidence("straw_cards",
                           f"{len(straw_list)} 张卡被转售药店反复用于结算回流药："
                           f"{straw_rows['trace_code'].nunique()} 盒、{days} 天，为这些卡所收回流药的大部分",
                           len(straw_list), clause=CLAUSES["trace_code_resettled"]))
    if len(ex_cards):
        top = ex_cards.sort_values("factor", ascending=False).iloc[0]
        ev.append(evidence("key_drug_excess",
                           f"{ex_cards['card_id'].nunique()} 名参保人重点药品用量远超常规；例："
                           f"{top['item_name']} 年用量 {top['qty']:.0f}，为中位数的 {top['factor']:.1f} 倍",
                           int(ex_cards["card_id"].nunique())))
    if n_doctors >= s.min_sources or n_sources >= s.min_sources:
        ev.append(evidence("doctor_shopping",
                           f"这些药品来自 {n_doctors} 名医师、{n_sources} 家机构", max(n_doctors, n_sources)))
    members = [Member("card", c, "mule card") for c in mule_cards]
    mule_holders = set(ctx.holder_of(mule_cards))
    members += [Member("patient", h, "mule") for h in sorted(mule_holders)]
    members += [Member("card", c, "straw card") for c in straw_list]
    members += [Member("patient", h, "straw card holder")
                for h in sorted(set(ctx.holder_of(straw_list)) - mule_holders)]
    for d in sorted(key_items["doctor_id"].dropna().unique()):
        members.append(Member("doctor", d, "prescriber"))
    for f in sorted(set(part["first_facility"])):
        members.append(Member(ctx.graph.facility_type(f), f, "dispensing facility"))
    for f in resellers:
        members.append(Member(ctx.graph.facility_type(f), f, "re-settling pharmacy"))
    for tc in sorted(part["trace_code"].unique()):
        members.append(Member("trace_code", tc, "re-settled pack"))
    extra = {"features": {"resettled_codes": n_codes, "resales": n_sales,
                          "mules": len(mule_cards),
                          "excess_mules": int(ex_cards["card_id"].nunique()),
                          "doctors": n_doctors, "sources": n_sources,
                          "straw_cards": len(straw_list),
                          "walk_in_buyers": int(walk_in["card_id"].nunique()),
                          "walk_in_packs": int(walk_in["trace_code"].nunique())},
             "chain": {"prescribers": int(key_items["doctor_id"].nunique())}}
    return make_ring("diversion", score, members, claims, ev, extra)
