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
1. A lot: packs of one drug from several mules re-settled in one claim were sold on together, out
   of one collector's lot; the mules they came from are that collector's (components of mule --
   re-settlement claim and drug).
2. A pharmacy is no binder on its own: it may buy back from several collectors, and an area has
   few pharmacies, so unrelated chains pass through the same one. Nor is a straw card, which is
   the reseller's instrument, not the collector's (and a regular customer of the reseller can look
   like one), on its own. Within one reseller and one drug, a lot of two or more people's packs
   is evidence of one collector; two such lots are one collector's when their packs went onto one
   straw card and their mules were prescribed the drug by one doctor. A mule tied to no such lot
   (its packs re-settled one at a time, or only with its holder's other card's) joins the chain of its pharmacy and drug when there is only one there, or when there
   are none (nothing in the data shows a second collector); where several collectors are in
   evidence it joins the one whose mules were prescribed the drug by one of its own prescribers,
   when exactly one was, and otherwise the other untied mules of that pharmacy and drug.
3. A mule is one node: a collector selling one mule's packs on to two or three pharmacies makes
   their chains one ring. Chains of different drugs share no lot, so they meet only in a mule.
Two chains through one pharmacy that share no mule stay two rings when each shows its own lots;
so do chains of different drugs. Straw cards and walk-in buyers belong to the chain whose packs
they received.

Support: each mule's key-drug quantity against the drug's population (median and MAD per drug,
per card per year) and the number of distinct doctors and facilities it came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphkit._arrow import isin
from graphkit.detectors.signals import (
    CLAUSES,
    DAY,
    Context,
    components_of_pairs,
    evidence,
    make_ring,
    reported_cards,
    squash,
)
from graphkit.rings import Member, Ring
from graphkit.settings import Settings

__all__ = ["detect_diversion", "diversion_cards", "resettled_packs", "key_drug_excess",
           "straw_cards"]

_RESETTLED_COLUMNS = ["trace_code", "item_name", "first_claim", "first_card", "first_facility",
                      "first_doctor", "claim_id", "card_id", "facility_id", "t"]


def resettled_packs(ctx: Context) -> pd.DataFrame:
    """Later settlements of a trace code at a facility other than the first one.

    Columns: trace_code, item_name, first_claim, first_card, first_facility, first_doctor,
    claim_id, card_id, facility_id, t.
    """
    it = ctx.items
    it = it[it["trace_code"].notna()]
    dup = it[it.duplicated("trace_code", keep=False)]
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
    it = ctx.items
    it = it[it["trace_code"].notna() & it["item_name"].notna()]
    if not len(it):
        return pd.DataFrame(columns=["card_id", "item_name", "qty", "median", "z", "factor",
                                     "doctors", "facilities", "excess"])
    qty = it["quantity"].fillna(1.0)
    g = it.assign(qty=qty).groupby(["card_id", "item_name"], observed=True)
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
    chain = _chains(packs, mule, ctx.holder_of(mules).to_numpy())
    packs = packs.assign(chain=chain[mule])
    excess = key_drug_excess(ctx, settings)
    excess = excess[isin(excess["card_id"], mules)]  # only mule cards are looked up below
    rings = []
    for _, part in packs.groupby("chain", sort=True):
        if part["trace_code"].nunique() < s.min_resettled_codes:
            continue
        rings.append(_ring(ctx, part, excess, settings))
    return rings


def _chains(packs: pd.DataFrame, mule: np.ndarray, holders: np.ndarray) -> np.ndarray:
    """Chain label per mule card (0..len(holders)-1, ``holders`` their holder patients): the
    rules of the module docstring, steps 1-3."""
    n_mules = len(holders)
    # 1. lots: mule -- re-settlement claim of one drug
    lots = packs["claim_id"].astype(str) + "|" + packs["drug"]
    lot_nodes = pd.Index(sorted(lots.unique()))
    n_nodes = n_mules + len(lot_nodes)
    lot = components_of_pairs(mule, lot_nodes.get_indexer(lots) + n_mules, n_nodes)[:n_mules]
    # per lot label: a collector's lot, of two people or more (two cards of one are one mule)
    people = pd.DataFrame({"lot": lot, "holder": holders}).groupby("lot")["holder"].nunique()
    in_evidence = np.zeros(n_nodes, dtype=bool)
    in_evidence[people.index.to_numpy()] = people.to_numpy() >= 2
    # 2. per reseller and drug: untied mules join the chain in evidence there
    order = np.arange(n_mules)
    first_of_lot = np.full(n_nodes, n_mules, dtype=np.int64)
    np.minimum.at(first_of_lot, lot, order)  # the lowest mule of each lot represents it
    a, b = [order], [first_of_lot[lot]]
    rows = pd.DataFrame({"mule": mule, "lot": lot[mule], "doctor": packs["first_doctor"].to_numpy(),
                         "straw_card": packs["card_id"].where(packs["straw"]).to_numpy(),
                         "unit": packs["facility_id"].astype(str) + "|" + packs["drug"]})
    for _, unit in rows.groupby("unit", sort=True):
        lots = np.unique(unit["lot"].to_numpy())
        shown = lots[in_evidence[lots]]
        if len(shown) >= 2:
            held = unit[unit["lot"].isin(shown)].groupby("lot")
            straws = {lt: set(g["straw_card"].dropna()) for lt, g in held}
            doctors = {lt: set(g["doctor"].dropna()) for lt, g in held}
            for i, one in enumerate(shown):
                for other in shown[i + 1:]:
                    if straws[one] & straws[other] and doctors[one] & doctors[other]:
                        a.append(np.array([first_of_lot[one]]))
                        b.append(np.array([first_of_lot[other]]))
        untied = np.unique(unit.loc[~in_evidence[unit["lot"].to_numpy()], "mule"].to_numpy())
        if not len(untied):
            continue
        if len(shown) <= 1:
            anchor = first_of_lot[shown[0]] if len(shown) else untied[0]
            a.append(untied)
            b.append(np.full(len(untied), anchor))
            continue
        doctors_of_lot = {lt: set(g["doctor"].dropna()) for lt, g in
                          unit[unit["lot"].isin(shown)].groupby("lot")}
        rest = []
        for m in untied:
            mine = set(unit.loc[unit["mule"] == m, "doctor"].dropna())
            hits = [lt for lt in shown if doctors_of_lot[lt] & mine]
            if len(hits) == 1:
                a.append(np.array([m]))
                b.append(np.array([first_of_lot[hits[0]]]))
            else:
                rest.append(m)
        if rest:
            a.append(np.array(rest))
            b.append(np.full(len(rest), rest[0]))
    # 3. a mule is one node across pharmacies
    return components_of_pairs(np.concatenate(a), np.concatenate(b), n_mules)


def _ring(ctx: Context, part: pd.DataFrame, excess: pd.DataFrame, settings: Settings) -> Ring:
    s = settings.diversion
    n_codes = int(part["trace_code"].nunique())
    mule_cards = sorted(part["first_card"].unique())
    resellers = sorted(part["facility_id"].unique())
    ex = excess[isin(excess["card_id"], mule_cards)]
    ex_cards = ex[ex["excess"]]
    it = ctx.items_of_cards(mule_cards)
    it = it[it["trace_code"].notna()]
    n_doctors = int(it["doctor_id"].nunique())
    n_sources = int(it["facility_id"].nunique())
    score = squash(n_codes, 3.0)
    score = 1 - (1 - score) * (1 - 0.5 * min(1.0, len(ex_cards["card_id"].unique()) / max(1, len(mule_cards))))
    if n_doctors >= s.min_sources or n_sources >= s.min_sources:
        score = 1 - (1 - score) * 0.8
    claim_ids = set(part["claim_id"]) | set(part["first_claim"])
    key_items = it[isin(it["item_name"], set(part["item_name"].dropna()))]
    claim_ids |= set(key_items["claim_id"])
    claims = ctx.claims_by_id(sorted(claim_ids))
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
    extra = {"features": {"resettled_codes": n_codes, "mules": len(mule_cards),
                          "excess_mules": int(ex_cards["card_id"].nunique()),
                          "doctors": n_doctors, "sources": n_sources,
                          "straw_cards": len(straw_list),
                          "walk_in_buyers": int(walk_in["card_id"].nunique()),
                          "walk_in_packs": int(walk_in["trace_code"].nunique())},
             "chain": {"prescribers": int(key_items["doctor_id"].nunique())}}
    return make_ring("diversion", score, members, claims, ev, extra)
