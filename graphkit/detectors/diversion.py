"""回流药 / 倒卖医保药品 (diversion): key drugs obtained far beyond need and resold.

What the fraud is (负面清单(2025) 二(11), 三(4), 一(11)): mules obtain insured key drugs far beyond
clinical need, from many doctors and facilities; a reseller buys the packs back and sells them
again, settling the same packs with the fund a second time. Since 2025 every pack carries a
药品追溯码, so a code settled again *at another facility* is a pack that came back.

Method
1. Re-settled packs: trace codes settled more than once where a later settlement is at a
   different facility than the first (a refund-and-resettle or a split pack repeats the code at
   the same pharmacy and is innocent).
2. Chains: mule card (first settlement) -> re-settling facility; connected components of that
   bipartite graph are rings: prescribers -> mules -> dispensing facilities -> reseller.
3. Support: each mule's key-drug quantity against the drug's population (median and MAD per
   drug, per card per year) and the number of distinct doctors and facilities it came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphkit._arrow import isin
from graphkit.detectors.signals import (
    Context,
    components_of_pairs,
    evidence,
    make_ring,
    reported_cards,
    squash,
)
from graphkit.rings import Member, Ring
from graphkit.settings import Settings

__all__ = ["detect_diversion", "diversion_cards", "resettled_packs", "key_drug_excess"]


def resettled_packs(ctx: Context) -> pd.DataFrame:
    """Later settlements of a trace code at a facility other than the first one.

    Columns: trace_code, item_name, first_claim, first_card, first_facility, first_doctor,
    claim_id, card_id, facility_id, t.
    """
    it = ctx.items
    it = it[it["trace_code"].notna()]
    dup = it[it.duplicated("trace_code", keep=False)]
    if not len(dup):
        return pd.DataFrame(columns=["trace_code", "item_name", "first_claim", "first_card",
                                     "first_facility", "first_doctor", "claim_id", "card_id",
                                     "facility_id", "t"])
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
    return later[["trace_code", "item_name", "first_claim", "first_card", "first_facility",
                  "first_doctor", "claim_id", "card_id", "facility_id", "t"]].reset_index(drop=True)


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
    Context; their cards are posted to a worker waiting for them (see :func:`diversion_cards`)."""
    ctx.check(settings)
    key = ("diversion_rings", settings.diversion)
    if key not in ctx.cache:
        box = ctx.cache.get("mailbox")
        try:
            ctx.cache[key] = _detect_diversion(ctx, settings)
        except BaseException:
            if box is not None:
                box.post("diversion_cards", None)  # the waiting worker computes (and fails) itself
            raise
        if box is not None:
            box.post("diversion_cards", reported_cards(ctx.cache[key], settings.min_score))
    return list(ctx.cache[key])


def diversion_cards(ctx: Context, settings: Settings) -> set[str]:
    """Cards of the reported diversion rings (mule cards and the cards packs came back on).

    A card that is a diversion chain's mule is that chain's, even where its claims also look
    like someone else using it (an adult's insulin on a child's card). Taken from the worker
    that ran the diversion detector when there is one, else computed here (once).
    """
    key = ("diversion_cards", settings.diversion, settings.min_score)
    if key not in ctx.cache:
        box = ctx.cache.get("mailbox")
        got = box.take("diversion_cards") if box is not None else None
        ctx.cache[key] = got if got is not None else reported_cards(
            detect_diversion(ctx, settings), settings.min_score)
    return ctx.cache[key]


def _detect_diversion(ctx: Context, settings: Settings) -> list[Ring]:
    s = settings.diversion
    rs = resettled_packs(ctx)
    if not len(rs):
        return []
    # a chain: mule -- pack -- the card it was settled on again at the reseller. Packs of one
    # chain come back on that chain's cards, so two chains through one pharmacy stay apart.
    rs = rs.assign(outlet=rs["facility_id"] + "|" + rs["card_id"])
    mules = pd.Index(sorted(rs["first_card"].unique()))
    resellers = pd.Index(sorted(rs["outlet"].unique()))
    n_m = len(mules)
    a = mules.get_indexer(rs["first_card"])
    b = resellers.get_indexer(rs["outlet"]) + n_m
    labels = components_of_pairs(a, b, n_m + len(resellers))
    rs = rs.assign(component=labels[a])
    excess = key_drug_excess(ctx, settings)
    excess = excess[isin(excess["card_id"], mules)]  # only mule cards are looked up below
    rings = []
    for _, part in rs.groupby("component", sort=True):
        if part["trace_code"].nunique() < s.min_resettled_codes:
            continue
        rings.append(_ring(ctx, part, excess, settings))
    return rings


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
    ev = [evidence("trace_code_resettled",
                   f"{n_codes} 个药品追溯码在首次结算后又在 {'、'.join(resellers)} 再次结算"
                   f"（{', '.join(sorted(part['item_name'].dropna().unique())[:3])}）", n_codes)]
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
    resale_cards = sorted(set(part["card_id"]) - set(mule_cards))
    members += [Member("card", c, "re-settled on card") for c in resale_cards]
    members += [Member("patient", h, "re-settled on their card")
                for h in sorted(set(ctx.holder_of(resale_cards)) - mule_holders)]
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
                          "resettle_cards": int(part["card_id"].nunique())},
             "chain": {"prescribers": int(key_items["doctor_id"].nunique()),
                       "resettled_on_cards": sorted(part["card_id"].unique().tolist())[:50]}}
    return make_ring("diversion", score, members, claims, ev, extra)
