"""冒名就医 (impersonation): cards used by someone other than their holder.

What the fraud is (负面清单(2025) 三(2), 一(7), 二(5)): a card is presented for someone else — a
relative, a buyer, or anyone at all once the holder has died. What shows it are claims the holder
could not have made, and one controller presenting several unrelated people's cards.

Per-card signals, each filtered for its innocent cause:
- ``claims_after_death``: settled after the holder's death_date; a stay that began on or before
  the death (died in hospital, settled later) is innocent.
- ``diagnosis_sex_age_mismatch``: a diagnosis impossible for the holder's sex or age. Perinatal
  codes (P00-P96, Z38) on a parent's card are a newborn settled with its mother (新生儿随母) and
  count only on a holder who is neither a newborn nor of a parent's age (a grandparent, a child).
- ``overlapping_stays``: two inpatient stays on one card overlapping by more than a transfer day.
- ``two_places_one_day``: outpatient visits on one card in two regions within a few hours;
  pharmacy purchases are left out (a relative may buy on the card while the holder is elsewhere).
- ``phone_presents_unrelated_cards``: an operator phone presenting 电子凭证 of holders from several
  households none of which owns the phone (a parent's phone presenting children's cards is one
  household and does not count).
- ``presented_by_another_household``: the same, for a phone that presented the cards of one
  other household only (an adult child managing a parent's card does this honestly).
- ``device_presents_unrelated_cards``: a scanning device used at two or more facilities (a
  facility's terminal stays where it is) for few cards, of three or more households.
- ``sits_with_unrelated_cards``: a person whose own card is settled right before or after two or
  more other households' cards by one doctor or on one terminal, minutes apart
  (``session_minutes``), on ``session_min_days`` days or more (see :func:`sittings`).
- ``sits_with_one_person``: a card settled so next to one person only, who presents no other
  card: it ties the card to that person and supports another signal.

Cards are joined only by a link the claims carry: the phone that presented another household's
电子凭证 and that phone's owners, a device carried between facilities, a sitting (a card settled
next to the same other household's card by one doctor or terminal, repeatedly: tied to that
card's holder; a card next to two or more recurring strangers is in a scheduled cohort and tied
to no one), the same holder, and the household when it leads to at most one user. Shared places
join nothing: a card whose only tie is the places it was used at is a ring of its own when its
own signals are strong enough. A ring needs two kinds of signal, or one repeated beyond what its
innocent cause explains (after death three times or more; the same impossibility on the cards of
two or more people, or on one card on ``mismatch_alone_min_days`` days at two or more
institutions or one day more at one; two places on ``two_places_alone_min_days`` days that are
``two_places_alone_min_share`` of the card's institution days; one phone presenting two or more
unrelated people's cards three times or more each; the same for a carried device).
``two_places_one_day``, ``overlapping_stays``, ``presented_by_another_household`` and
``sits_with_one_person`` are weak otherwise: they support a ring and never make one.

Organised schemes are not impersonation: stays one presenter put through for several households
at one institution at once are organised admissions (fake_admission's), and a phone that
presented ``collector_min_cards`` other households' cards at one facility on one day is a
collector's (a gang's). The cards of reported gang and diversion rings reach this detector from
the pipeline (``exclude_cards``; graphkit.detect) and are left out: the collected cards are the
gang's, a diversion chain's mule cards the chain's (DATA_CONTRACT section 2).
The user named in a ring is an adult owner of the controller phone (a household shares one
registered phone; its children do not present other people's cards).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import numpy as np
import pandas as pd

from graphkit._arrow import isin, positions
from graphkit._frames import most_frequent
from graphkit.detectors.bursts import bursts, session_sizes
from graphkit.detectors.assemble import make_ring
from graphkit.detectors.clauses import evidence
from graphkit.detectors.context import Context
from graphkit.rings import Member, Ring
from graphkit.settings import Settings

__all__ = ["detect_impersonation", "impersonation_signals", "ImpersonationSignals", "card_signals",
           "demographic_mismatch"]

# (code prefix, allowed sex, min age, max age, meaning)
_SEX_AGE_RULES = [
    ("O", "F", 12, 55, "妊娠/分娩诊断"),
    ("Z34", "F", 12, 55, "孕期检查"),
    ("Z35", "F", 12, 55, "高危妊娠监督"),
    ("Z36", "F", 12, 55, "产前筛查"),
    ("Z37", "F", 12, 55, "分娩结局"),
    ("Z39", "F", 12, 55, "产后医疗"),
    ("C51", "F", 0, 120, "女性生殖器官肿瘤"), ("C52", "F", 0, 120, "女性生殖器官肿瘤"),
    ("C53", "F", 0, 120, "宫颈癌"), ("C54", "F", 0, 120, "子宫体癌"),
    ("C55", "F", 0, 120, "子宫肿瘤"), ("C56", "F", 0, 120, "卵巢癌"),
    ("N70", "F", 10, 120, "女性盆腔炎症"), ("N71", "F", 10, 120, "子宫炎症"),
    ("N72", "F", 10, 120, "宫颈炎"), ("N73", "F", 10, 120, "女性盆腔炎"),
    ("N75", "F", 10, 120, "前庭大腺疾病"), ("N76", "F", 10, 120, "阴道炎"),
    ("N80", "F", 10, 120, "子宫内膜异位"), ("N81", "F", 10, 120, "女性生殖器脱垂"),
    ("N83", "F", 10, 120, "卵巢疾病"), ("N84", "F", 0, 120, "女性生殖道息肉"),
    ("N85", "F", 0, 120, "子宫疾病"), ("N86", "F", 0, 120, "宫颈糜烂"),
    ("N87", "F", 0, 120, "宫颈发育异常"), ("N91", "F", 8, 60, "月经异常"),
    ("N92", "F", 8, 60, "月经过多"), ("N93", "F", 8, 60, "异常子宫出血"),
    ("N94", "F", 8, 60, "月经相关疼痛"), ("N95", "F", 35, 120, "绝经期疾病"),
    ("N97", "F", 12, 60, "女性不孕"),
    ("C60", "M", 0, 120, "阴茎癌"), ("C61", "M", 30, 120, "前列腺癌"), ("C62", "M", 0, 120, "睾丸癌"),
    ("N40", "M", 30, 120, "前列腺增生"), ("N41", "M", 12, 120, "前列腺炎"),
    ("N42", "M", 12, 120, "前列腺疾病"), ("N43", "M", 0, 120, "鞘膜积液"),
    ("N44", "M", 0, 120, "睾丸扭转"), ("N45", "M", 0, 120, "睾丸炎"), ("N46", "M", 12, 120, "男性不育"),
    ("N47", "M", 0, 120, "包皮过长"), ("N48", "M", 0, 120, "阴茎疾病"), ("N49", "M", 0, 120, "男性生殖器炎症"),
    ("N50", "M", 0, 120, "男性生殖器疾病"),
    ("H25", "", 40, 120, "老年性白内障"),
    ("F00", "", 40, 120, "阿尔茨海默病性痴呆"), ("F01", "", 40, 120, "血管性痴呆"),
    ("F03", "", 40, 120, "痴呆"), ("G30", "", 40, 120, "阿尔茨海默病"),
    ("M81", "", 35, 120, "骨质疏松"), ("G20", "", 30, 120, "帕金森病"),
    ("I10", "", 12, 120, "原发性高血压"), ("I25", "", 18, 120, "慢性缺血性心脏病"),
    ("I63", "", 12, 120, "脑梗死"), ("E11", "", 10, 120, "2型糖尿病"),
]

#: signals of one controller (a phone, a portable device) presenting several households' cards
PRESENTERS = frozenset({"phone_presents_unrelated_cards", "device_presents_unrelated_cards",
                        "sits_with_unrelated_cards"})

#: signals common among honest patients (a referral across districts on one day, a transfer
#: or interim settlement between two hospitals): they support a ring, never make one, and a card
#: carrying only these joins a group through a controller link (phone, device, household) only
WEAK_SIGNALS = frozenset({"two_places_one_day", "overlapping_stays",
                          "presented_by_another_household", "sits_with_one_person"})

#: signals of a phone presenting another household's card
PRESENTED = frozenset({"presented_by_another_household", "phone_presents_unrelated_cards",
                       "device_presents_unrelated_cards", "sits_with_unrelated_cards",
                       "sits_with_one_person"})

#: signals of an operator phone presenting another household's 电子凭证
BY_PHONE = frozenset({"presented_by_another_household", "phone_presents_unrelated_cards"})

#: signals that, seen on the cards of two or more people of one group, need no second kind
ACROSS_PEOPLE = frozenset({"claims_after_death", "diagnosis_sex_age_mismatch"})

#: perinatal codes (P00-P96 conditions of the newborn, Z38 liveborn infants)
PERINATAL = r"^(?:P[0-8]\d|P9[0-6]|Z38)"
#: holder ages (years) at which a perinatal code on the card is innocent: the newborn itself, or
#: a parent the newborn is settled with (新生儿随母; a father's card is allowed too)
NEWBORN_MAX_AGE = 3
MOTHER_AGE, FATHER_AGE = (14, 55), (16, 65)

_WEIGHTS = {
    "claims_after_death": 0.55,
    "diagnosis_sex_age_mismatch": 0.4,
    "overlapping_stays": 0.4,
    "two_places_one_day": 0.25,
    "phone_presents_unrelated_cards": 0.35,
    "device_presents_unrelated_cards": 0.35,
    "presented_by_another_household": 0.2,
    "sits_with_unrelated_cards": 0.35,
    "sits_with_one_person": 0.2,
}


#: settlements in one queue this many places apart or closer can be one sitting (one person's
#: cards with strangers' settled in between at a busy counter)
SESSION_NEIGHBOURS = 3

#: what a ring reads of its claims (here and in ``make_ring``)
_RING_COLUMNS = ("claim_id", "settle_time", "fund_amount", "operator_phone", "device_id")


def _use(ctx: Context, key: str) -> pd.DataFrame:
    """Per ``device_id`` or ``operator_phone``: the distinct cards it presented and facilities it
    was used at (``cards``, ``places``), computed once per Context. A facility's terminal or
    line (or an export's default number) serves many cards; a person presents few."""
    if ("use", key) not in ctx.cache:
        c = ctx.claims
        ctx.cache[("use", key)] = c[c[key].notna()].groupby(key).agg(
            cards=("card_id", "nunique"), places=("facility_id", "nunique"))
    return ctx.cache[("use", key)]


def _owner_households(ctx: Context, s) -> pd.Series:
    """operator_phone -> the set of households owning it, computed once per Context: the
    households of the people who registered it. A phone registered to no one is the phone of the
    household whose cards it presented most often among the cards no registered phone ever
    presented (a family's own cards on the phone it uses are no one else's). A card buyer's
    victims present their cards from phones of their own too, so the buyer's phone stays no
    one's. Lines (:func:`_lines`) own nothing."""
    key = ("owner_households", s.phone_max_cards)
    if key not in ctx.cache:
        pats = ctx.patients
        owners = pats[pats["phone"].notna()]
        # one pass in Python: a groupby agg(set) calls back into Python once per phone
        sets: dict = {}
        for phone, hh in zip(owners["phone"].tolist(), owners["household"].tolist()):
            sets.setdefault(phone, set()).add(hh)
        owner_hh = pd.Series(list(sets.values()), dtype=object,
                             index=pd.Index(list(sets), dtype=owners["phone"].dtype)).sort_index()
        c = ctx.claims
        registered = isin(c["operator_phone"], owner_hh.index)
        shown = c[c["operator_phone"].notna() & ~registered
                  & ~isin(c["operator_phone"], _lines(ctx, s))]
        by_registered = c.loc[registered, "card_id"]
        shown = shown[~isin(shown["card_id"], by_registered)]
        if len(shown):
            most = most_frequent(shown.assign(household=shown["holder_id"].map(pats["household"])),
                                 "operator_phone", "household")
            owner_hh = pd.concat([owner_hh, most.map(lambda h: {h})])
        ctx.cache[key] = owner_hh
    return ctx.cache[key]


def _unregistered_user(ctx: Context, phone: str, when, exclude: set, s) -> list[str]:
    """The user of a phone registered to no one: of the adults of the household taken to own it
    (:func:`_owner_households`), the one whose own card it presented most often (ties: the
    smaller patient_id). People present their own 电子凭证 more than anyone else's."""
    own = _owner_households(ctx, s).get(phone)
    if not own:
        return []
    shown = ctx.claims_of_phones([phone])
    mine = shown[shown["holder_id"].map(ctx.patients["household"]).isin(own)
                 & ~shown["holder_id"].isin(exclude)]
    counts = mine.groupby("holder_id").size()
    adults = ctx.adults(sorted(counts.index), when)
    if not adults:
        return []
    top = counts.reindex(adults)
    return [min(top.index[top == top.max()])]


def _lines(ctx: Context, s) -> frozenset[str]:
    """Operator phones that presented more than ``phone_max_cards`` cards: a facility's line or
    an export's default number, no one's phone. They present for no one and control nothing."""
    key = ("lines", s.phone_max_cards)
    if key not in ctx.cache:
        use = _use(ctx, "operator_phone")
        ctx.cache[key] = frozenset(use.index[use["cards"] > s.phone_max_cards])
    return ctx.cache[key]


def organised_stays(ctx: Context, s) -> pd.Series:
    """Claim ids of inpatient stays one presenter (an operator phone or a carried device) put
    through for two or more households at one institution over the same days.

    A person using a borrowed card is treated in their own body, in one bed at a time: one phone
    presenting several unrelated people's stays that overlap at one hospital is someone booking
    recruits or collected cards into stays, which is fake admission (or a gang) organised from
    that phone, not impersonation. A facility's line (:func:`_lines`) presents for no one."""
    key = ("organised_stays", s.phone_max_cards, s.device_max_cards)
    if key not in ctx.cache:
        c = ctx.claims
        st = c[(c["claim_type"] == "inpatient") & c["admit_day"].notna()]
        st = st.assign(end=st["discharge_day"].fillna(st["admit_day"]))
        found = []
        for col, skip in (("operator_phone", _lines(ctx, s)), ("device_id", None)):
            by = st[st[col].notna()]
            if skip is not None:
                by = by[~isin(by[col], skip)]
            else:  # a facility's own terminal settles every stay there
                use = _use(ctx, "device_id")
                by = by[isin(by[col], use.index[(use["cards"] <= s.device_max_cards)
                                               & (use["places"] >= 2)])]
            by = by[["claim_id", col, "facility_id", "holder_id", "admit_day", "end"]].rename(
                columns={col: "presenter"})
            if not len(by):
                continue
            by = by.assign(household=by["holder_id"].map(ctx.patients["household"]).fillna(-1)
                           .astype("int64").to_numpy())
            pairs = by.merge(by, on=["presenter", "facility_id"], suffixes=("", "_b"))
            pairs = pairs[(pairs["household"] != pairs["household_b"])
                          & (pairs["holder_id"] != pairs["holder_id_b"])
                          & (np.minimum(pairs["end"], pairs["end_b"])
                             >= np.maximum(pairs["admit_day"], pairs["admit_day_b"])).fillna(False)]
            found.append(pairs["claim_id"])
        ids = pd.concat(found, ignore_index=True) if found else pd.Series([], dtype="str")
        ctx.cache[key] = pd.Series(sorted(set(ids.astype(str))), dtype="str")
    return ctx.cache[key]


def demographic_mismatch(codes: pd.Series, sex: pd.Series, age: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(mismatch mask, meaning) of diagnosis codes impossible for the holder's sex or age.

    Perinatal codes count only on the card of a holder who is neither a newborn nor of an age to
    be its parent (a newborn is settled on its mother's card, 新生儿随母)."""
    code = codes.fillna("").str.upper().str.replace(".", "", regex=False)
    bad = pd.Series(False, index=codes.index)
    meaning = pd.Series("", index=codes.index, dtype=object)
    for prefix, want_sex, amin, amax, what in _SEX_AGE_RULES:
        hit = code.str.startswith(prefix)
        if not hit.any():
            continue
        wrong = pd.Series(False, index=codes.index)
        if want_sex:
            wrong |= sex.notna() & (sex != want_sex)
        wrong |= age.notna() & ((age < amin) | (age > amax))
        m = hit & wrong & ~bad
        bad |= m
        meaning[m] = what
    # a perinatal code is a newborn settled on its own card or on a parent's (新生儿随母): it is
    # impossible only for a holder who is neither a newborn nor of an age to be the parent
    peri = code.str.match(PERINATAL)
    if peri.any():
        parent_age = np.where(sex == "F", age.between(*MOTHER_AGE), age.between(*FATHER_AGE))
        m = peri & age.notna() & ~(age < NEWBORN_MAX_AGE) & ~parent_age & ~bad
        bad |= m
        meaning[m] = "新生儿诊断（持卡人既非新生儿，也不在为人父母的年龄）"
    return bad, meaning


def _after_death(ctx: Context, settings: Settings) -> list[pd.DataFrame]:
    """``claims_after_death`` rows of :func:`card_signals`."""
    s = settings.impersonation
    c = ctx.claims
    rows: list[pd.DataFrame] = []
    death = ctx.holders_column("death_date")
    death_day = (death - pd.Timestamp(0)).dt.days
    after = (c["day"] > death_day + s.death_grace_days).fillna(False)
    died_in_stay = (c["claim_type"] == "inpatient") & (c["admit_day"] <= death_day).fillna(False)
    m = after & ~died_in_stay.astype(bool)
    if m.any():
        sub = c[m]
        days_after = (sub["day"] - death_day[m]).astype(int)
        rows.append(pd.DataFrame({"card_id": sub["card_id"], "signal": "claims_after_death",
                                  "claim_id": sub["claim_id"],
                                  "detail": "死亡后 " + days_after.astype(str) + " 天结算"}))
    return rows


def _impossible_diagnoses(ctx: Context, settings: Settings) -> list[pd.DataFrame]:
    """``diagnosis_sex_age_mismatch`` rows of :func:`card_signals`."""
    c = ctx.claims
    rows: list[pd.DataFrame] = []
    has_dx = c["diagnosis_code"].notna()
    if has_dx.any():
        sub = c[has_dx]
        sex = ctx.holders_column("gender")[has_dx]
        birth = ctx.holders_column("birth_date")[has_dx]
        age = ((sub["settle_time"] - birth).dt.days / 365.25)
        bad, meaning = demographic_mismatch(sub["diagnosis_code"], sex, age)
        if bad.any():
            bs = sub[bad]
            rows.append(pd.DataFrame({
                "card_id": bs["card_id"], "signal": "diagnosis_sex_age_mismatch",
                "claim_id": bs["claim_id"],
                "detail": bs["diagnosis_code"].astype(str) + " " + meaning[bad].astype(str)
                + "（持卡人 " + sex[bad].fillna("?").astype(str) + "，"
                + age[bad].round().astype("Int64").astype(str) + " 岁）"}))
    return rows


def _overlapping_stays(ctx: Context, settings: Settings) -> list[pd.DataFrame]:
    """``overlapping_stays`` rows of :func:`card_signals`."""
    s = settings.impersonation
    c = ctx.claims
    rows: list[pd.DataFrame] = []
    stays = c[(c["claim_type"] == "inpatient") & c["admit_day"].notna() & c["discharge_day"].notna()]
    if len(stays) > 1:
        st = stays[["card_id", "claim_id", "facility_id", "admit_day", "discharge_day"]]
        pairs = st.merge(st, on="card_id", suffixes=("", "_b"))
        pairs = pairs[pairs["claim_id"] < pairs["claim_id_b"]]
        overlap = (np.minimum(pairs["discharge_day"], pairs["discharge_day_b"])
                   - np.maximum(pairs["admit_day"], pairs["admit_day_b"]))
        # interim settlements of one long stay (中途结算) share its institution: only stays at two
        # different institutions at once are impossible for one person
        hit = pairs[(overlap > s.transfer_overlap_days).fillna(False)
                    & (pairs["facility_id"] != pairs["facility_id_b"])]
        if len(hit):
            for col in ("claim_id", "claim_id_b"):
                rows.append(pd.DataFrame({
                    "card_id": hit["card_id"], "signal": "overlapping_stays",
                    "claim_id": hit[col],
                    "detail": "住院 " + hit["facility_id"] + " 与 " + hit["facility_id_b"] + " 重叠"}))
    return rows


def _two_places(ctx: Context, settings: Settings) -> list[pd.DataFrame]:
    """``two_places_one_day`` rows of :func:`card_signals` (outpatient visits at institutions)."""
    s = settings.impersonation
    c = ctx.claims
    rows: list[pd.DataFrame] = []
    fac_region = ctx.facilities["region"] if "region" in ctx.facilities else None
    op = c[(c["claim_type"] == "outpatient") & (c["facility_type"] != "pharmacy")]
    if fac_region is not None and len(op) > 1:
        op = op.assign(region=op["facility_id"].map(fac_region))
        op = op[op["region"].notna()][["card_id", "holder_id", "claim_id", "day", "t",
                                       "facility_id", "region"]]
        # per person, over all of the holder's cards: the holder seen at home on his own card
        # while his lent card is at another institution is one person in two places
        multi = op[op.duplicated(["holder_id", "day"], keep=False)]
        if len(multi):
            pairs = multi.merge(multi, on=["holder_id", "day"], suffixes=("", "_b"))
            gap = (pairs["t"] - pairs["t_b"]).abs()
            far = (pairs["region"] != pairs["region_b"]) & (gap <= s.two_places_hours * 3600)
            # two outpatient visits settled at two institutions minutes apart: no one travels,
            # registers and sees a second doctor in that time
            near = ((pairs["facility_id"] != pairs["facility_id_b"])
                    & (gap <= s.two_institutions_minutes * 60))
            pairs = pairs[(pairs["claim_id"] < pairs["claim_id_b"]) & (far | near)]
            for card, claim in (("card_id", "claim_id"), ("card_id_b", "claim_id_b")):
                rows.append(pd.DataFrame({
                    "card_id": pairs[card], "signal": "two_places_one_day",
                    "claim_id": pairs[claim],
                    "detail": "同日 " + pairs["facility_id"].astype(str) + "（"
                    + pairs["region"].astype(str) + "）与 " + pairs["facility_id_b"].astype(str)
                    + "（" + pairs["region_b"].astype(str) + "）两地就诊，相隔 "
                    + (pairs["t"] - pairs["t_b"]).abs().floordiv(60).astype(str) + " 分钟"}))
    return rows


def _presented_by_phones(ctx: Context, settings: Settings) -> list[pd.DataFrame]:
    """``phone_presents_unrelated_cards`` and ``presented_by_another_household`` rows of
    :func:`card_signals`: one phone presenting other households' cards."""
    s = settings.impersonation
    c = ctx.claims
    pats = ctx.patients
    rows: list[pd.DataFrame] = []
    # claims swiped in bursts are the gang pattern (空刷, see gang.py), not one person's care
    burst_claims = bursts(ctx, settings)["claim_id"]  # a column: isin takes it as it is
    # stays one phone booked for several households at one institution at the same time are
    # organised admissions (fake_admission's recruits): one person lies in one bed at a time,
    # so they are not someone using others' cards for their own care
    organised = organised_stays(ctx, s)
    ph = c[c["operator_phone"].notna() & ~isin(c["claim_id"], burst_claims)
           & ~isin(c["operator_phone"], _lines(ctx, s)) & ~isin(c["claim_id"], organised)]
    ph = ph[["card_id", "claim_id", "holder_id", "operator_phone"]]
    if len(ph):
        ph = ph.assign(household=ph["holder_id"].map(pats["household"]))
        owned = {(p, hh) for p, hhs in _owner_households(ctx, s).items() for hh in hhs}
        foreign = [(p, hh) not in owned
                   for p, hh in zip(ph["operator_phone"].tolist(), ph["household"].tolist())]
        ph = ph[np.asarray(foreign, dtype=bool)]
        # someone using borrowed cards for their own care is seen on one of them at a time; a
        # phone that presented several other households' cards at one place on one day is
        # swiping collected cards (a gang's or an organised admission's), whatever its rhythm
        at = c[["facility_id", "day"]].iloc[positions(ph["claim_id"], c["claim_id"])]
        ph = ph.assign(facility_id=at["facility_id"].to_numpy(), day=at["day"].to_numpy())
        collectors = ph.loc[session_sizes(ph) >= s.collector_min_cards, "operator_phone"]
        ph = ph[~isin(ph["operator_phone"], collectors.unique())]
        n_hh = ph.groupby("operator_phone")["household"].nunique()
        many = isin(ph["operator_phone"], n_hh[n_hh >= s.phone_min_households].index)
        for hit, kind in ((ph[many], "phone_presents_unrelated_cards"),
                          (ph[~many], "presented_by_another_household")):
            if len(hit):
                rows.append(pd.DataFrame({
                    "card_id": hit["card_id"], "signal": kind, "claim_id": hit["claim_id"],
                    "detail": "扫码手机 " + hit["operator_phone"].astype(str) + " 出示他人电子凭证"}))
    return rows


def _carried_devices(ctx: Context, settings: Settings) -> list[pd.DataFrame]:
    """``device_presents_unrelated_cards`` rows of :func:`card_signals`: one portable device
    presenting cards of unrelated households."""
    s = settings.impersonation
    c = ctx.claims
    pats = ctx.patients
    rows: list[pd.DataFrame] = []
    # bursts are the gang's, organised stays the organised admissions' (see _presented_by_phones)
    burst_claims = bursts(ctx, settings)["claim_id"]
    organised = organised_stays(ctx, s)
    # a facility's terminal stays at the facility: a device used at two or more facilities, for
    # few cards, goes where one person goes. Its owner is unknown, so one of the households is
    # taken to be the owner's and the others must be phone_min_households or more
    dv = c[c["device_id"].notna()][["card_id", "claim_id", "holder_id", "device_id", "facility_id"]]
    if len(dv):
        use = _use(ctx, "device_id")
        mobile = use.index[(use["cards"] <= s.device_max_cards) & (use["places"] >= 2)]
        dv = dv[isin(dv["device_id"], mobile) & ~isin(dv["claim_id"], burst_claims)
                & ~isin(dv["claim_id"], organised)]
        if len(dv):
            n_hh = dv["holder_id"].map(pats["household"]).groupby(dv["device_id"]).nunique()
            hit = dv[isin(dv["device_id"], n_hh[n_hh > s.phone_min_households].index)]
            if len(hit):
                places = hit["device_id"].map(use["places"]).astype(str)
                rows.append(pd.DataFrame({
                    "card_id": hit["card_id"], "signal": "device_presents_unrelated_cards",
                    "claim_id": hit["claim_id"],
                    "detail": "设备 " + hit["device_id"].astype(str) + " 在 " + places
                    + " 家机构出示多个家庭的医保凭证"}))
    return rows


def _sitting_signals(ctx: Context, settings: Settings) -> list[pd.DataFrame]:
    """``sits_with_unrelated_cards`` and ``sits_with_one_person`` rows of :func:`card_signals`:
    cards settled next to one other person's own, again and again."""
    c = ctx.claims
    rows: list[pd.DataFrame] = []
    # a person settling two or more other households' cards right next to their own presents
    # them; a card next to one other person only, who has no other such card, is tied to that
    # person and supports what else the card shows (which of the two uses whose card, the
    # sitting alone does not say)
    ties = sittings(ctx, settings)
    if len(ties):
        seated = _seated(ctx, settings)
        _, card_ids = _card_codes(ctx)
        width = len(card_ids) + 1
        sat = seated["card"].to_numpy() * width + seated["partner"].to_numpy()
        for hub, kind, said in ((True, "sits_with_unrelated_cards", "此人多次如此出示多个他人医保凭证"),
                                (False, "sits_with_one_person", "多日如此")):
            tie = ties[ties["hub"] == hub]
            if not hub:  # the presenter's own card, tied back to one of the cards he presents
                presenters = ties.loc[ties["hub"], "companion_holder"]
                tie = tie[~ctx.holder_of(tie["card_id"]).isin(presenters).to_numpy()]
            wanted = (card_ids.get_indexer(tie["card_id"]).astype(np.int64) * width
                      + card_ids.get_indexer(tie["companion_card"]))
            hit = seated[np.isin(sat, wanted)]
            if not len(hit):
                continue
            mine, theirs = c.iloc[hit["row"].to_numpy()], c.iloc[hit["partner_row"].to_numpy()]
            minutes = (np.abs(mine["t"].to_numpy() - theirs["t"].to_numpy()) // 60).astype(np.int64)
            rows.append(pd.DataFrame({
                "card_id": mine["card_id"].to_numpy(), "signal": kind,
                "claim_id": mine["claim_id"].to_numpy(),
                "detail": ("与 " + theirs["holder_id"].astype(str).to_numpy() + " 本人的结算在同一"
                           + np.where(mine["device_id"].to_numpy() == theirs["device_id"].to_numpy(),
                                      "终端", "医生") + "处相隔 " + minutes.astype(str)
                           + " 分钟先后结算，" + said)}))
    return rows


#: the per-card signal finders, in the order their rows are gathered
_SIGNAL_FINDERS = (_after_death, _impossible_diagnoses, _overlapping_stays, _two_places,
                   _presented_by_phones, _carried_devices, _sitting_signals)


def card_signals(ctx: Context, settings: Settings) -> pd.DataFrame:
    """One row per (card, signal, claim): card_id, signal, claim_id, detail."""
    rows = [frame for find in _SIGNAL_FINDERS for frame in find(ctx, settings)]
    if not rows:
        return pd.DataFrame(columns=["card_id", "signal", "claim_id", "detail"])
    out = pd.concat(rows, ignore_index=True).drop_duplicates(["card_id", "signal", "claim_id"])
    return out.sort_values(["card_id", "signal", "claim_id"]).reset_index(drop=True)


class ImpersonationSignals(NamedTuple):
    """What :func:`impersonation_signals` computes for :func:`detect_impersonation`."""

    #: :func:`card_signals`
    signals: pd.DataFrame
    #: each signal's row in ``Context.claims``
    rows: np.ndarray
    #: :func:`sittings`
    sittings: pd.DataFrame
    #: card -> days it was at an institution at all, for the cards seen in two places
    visit_days: pd.Series
    #: operator phone -> the households owning it (:func:`_owner_households`)
    owner_households: pd.Series
    #: the phones that are lines (:func:`_lines`)
    lines: frozenset


def impersonation_signals(ctx: Context, settings: Settings) -> ImpersonationSignals:
    """What every card's claims say of someone else using it (:class:`ImpersonationSignals`).

    A pure function of the data and the settings, not of the other typologies' rings, so it can
    be computed while they are still being found and handed to :func:`detect_impersonation`
    (``signals=``); which cards are a scheme's is applied there.
    """
    ctx.check(settings)
    s = settings.impersonation
    sig = card_signals(ctx, settings)
    c = ctx.claims
    # how many days each card seen in two places was at an institution at all: someone at the
    # doctor's every other day meets "two places" by chance now and then
    placed = sig.loc[sig["signal"] == "two_places_one_day", "card_id"].unique()
    at = (isin(c["card_id"], placed) & (c["claim_type"] == "outpatient").to_numpy()
          & (c["facility_type"] != "pharmacy").to_numpy())
    visit_days = c.loc[at, ["card_id", "day"]].groupby("card_id")["day"].nunique()
    return ImpersonationSignals(sig, positions(sig["claim_id"], c["claim_id"]),
                                sittings(ctx, settings), visit_days, _owner_households(ctx, s),
                                _lines(ctx, s))


def detect_impersonation(ctx: Context, settings: Settings, *,
                         exclude_cards: Collection[str] = frozenset(),
                         signals: ImpersonationSignals | None = None) -> list[Ring]:
    """Impersonation rings: suspect cards grouped by a controller link the claims carry.

    ``exclude_cards`` are the cards of the reported gang and diversion rings (the pipeline passes
    them; graphkit.detect.PIPELINE): collected and mule cards are used by someone else because a
    scheme controls them, and they are that scheme's case (DATA_CONTRACT section 2). Recruited
    cards of fake stays are left to :func:`graphkit.reconcile.reconcile`.
    ``signals`` is :func:`impersonation_signals` of the same data and settings when the caller
    has it already.
    """
    ctx.check(settings)
    s = settings.impersonation
    prepared = signals if signals is not None else impersonation_signals(ctx, settings)
    # what the signals found of phones, for the rings' controllers and users
    ctx.cache.setdefault(("owner_households", s.phone_max_cards), prepared.owner_households)
    ctx.cache.setdefault(("lines", s.phone_max_cards), prepared.lines)
    sig, row, sessions = prepared.signals, prepared.rows, prepared.sittings
    if len(exclude_cards):
        keep = ~isin(sig["card_id"], exclude_cards)
        sig, row = sig[keep], row[keep]
    if not len(sig):
        return []
    sig = sig.assign(holder_id=ctx.holder_of(sig["card_id"]).to_numpy())
    # each signal's claim row (a ring's claims are taken by position)
    sig = sig.assign(row=row, day=ctx.claims["day"].to_numpy()[row],
                     facility_id=ctx.claims["facility_id"].to_numpy()[row])
    if (sig["signal"] == "two_places_one_day").any():
        sig = sig.assign(visit_days=sig["card_id"].map(prepared.visit_days).fillna(0).to_numpy())
    cards = pd.Index(sorted(sig["card_id"].unique()))
    sessions = sessions[isin(sessions["card_id"], cards)]
    if len(exclude_cards) and len(sessions):
        sessions = sessions[~isin(sessions["companion_card"], exclude_cards)]
    labels = _controller_groups(ctx, sig, cards, sessions, s)
    idx = pd.Series(np.arange(len(cards)), index=cards)
    sig = sig.assign(group=labels[idx[sig["card_id"]].to_numpy()])
    members = pd.Series(cards).groupby(labels).agg(list)
    # the columns a ring reads of its claims, taken once (a ring takes its rows by position)
    ring_claims = ctx.claims[list(_RING_COLUMNS)]
    # the most a group's signals can score (caps only lower it): groups that cannot reach what
    # is reported are not scored one by one
    per_kind = sig.groupby(["group", "signal"])["claim_id"].nunique()
    weights = per_kind.index.get_level_values("signal").map(lambda k: _WEIGHTS.get(k, 0.2))
    clean = pd.Series((1 - np.asarray(weights, dtype=float)) ** np.minimum(per_kind.to_numpy(), 4),
                      index=per_kind.index.get_level_values("group"))
    can_report = 1 - clean.groupby(level=0).prod() >= settings.min_score - 1e-9
    sig = sig[sig["group"].map(can_report).to_numpy()]
    # each group's claims per signal kind, read from the counts above (not one groupby a group)
    kinds_of: dict = {}
    for (lab, kind), n in zip(per_kind.index.tolist(), per_kind.tolist()):
        kinds_of.setdefault(lab, ([], []))
        kinds_of[lab][0].append(kind)
        kinds_of[lab][1].append(n)
    rings = []
    for lab, part in sig.groupby("group", sort=True):
        kinds, n_claims = kinds_of[lab]
        score, counts = _signal_score(part, s.present_min, s.mismatch_alone_min_days,
                                      s.two_places_alone_min_days, s.two_places_alone_min_share,
                                      counts=pd.Series(n_claims, index=pd.Index(kinds, name="signal"),
                                                       name="claim_id"))
        if score < settings.min_score:
            continue  # below what is reported: skip building the ring
        group_cards = members[lab]
        rings.append(_ring(ctx, part, group_cards, score, counts, settings,
                           sessions[isin(sessions["card_id"], group_cards)], exclude_cards,
                           ring_claims))
    return rings


def _seated(ctx: Context, settings: Settings) -> pd.DataFrame:
    """Every claim settled right next to a claim of another household's card in one queue.

    A queue is one doctor's outpatient visits at one institution, or one terminal's settlements
    at its facility, in time order. Two settlements at most ``SESSION_NEIGHBOURS`` places apart
    in it, at most ``session_minutes`` apart on one day, may be one sitting: one person handing
    over two cards (a busy counter settles a stranger or two in between), or two strangers one
    after the other; :func:`sittings` tells them apart by repetition. A family coming in
    together (one household) is no one else using a card. One row per claim and neighbour:
    ``row``, ``card``, ``partner`` (integer card codes of :func:`_card_codes`), ``partner_row``,
    ``day`` and ``facility`` (an integer code); memoised on the Context.
    """
    s = settings.impersonation
    key = ("seated", s.session_minutes, settings.gang, settings.people)
    if key in ctx.cache:
        return ctx.cache[key]
    c = ctx.claims
    codes, _ = _card_codes(ctx)
    hh = ctx.holders_column("household")
    # a holder with no known household is a household of his own
    hh_code = np.where(hh.isna(), -1 - pd.factorize(c["holder_id"])[0],
                       hh.fillna(0).astype("int64")).astype(np.int64)
    queues = (((c["claim_type"] == "outpatient") & c["doctor_id"].notna(), "doctor_id"),
              ((c["claim_type"] != "inpatient") & c["device_id"].notna(), "device_id"))
    parts = []
    t_all, day_all = c["t"].to_numpy(), c["day"].to_numpy()
    fac_code = _facility_codes(ctx)
    for mask, col in queues:
        rows = np.flatnonzero(mask.to_numpy())
        if len(rows) < 2:
            continue
        server = pd.factorize(c[col].to_numpy()[rows])[0].astype(np.int64)
        queue = server * (int(fac_code.max()) + 1) + fac_code[rows]
        rows = rows[np.lexsort((t_all[rows], queue))]
        queue = np.sort(queue)
        # a busy counter settles a stranger or two between one person's two cards
        for step in range(1, SESSION_NEIGHBOURS + 1):
            first, second = rows[:-step], rows[step:]
            ok = ((queue[:-step] == queue[step:]) & (day_all[first] == day_all[second])
                  & (t_all[second] - t_all[first] <= s.session_minutes * 60)
                  & (hh_code[first] != hh_code[second]))
            first, second = first[ok], second[ok]
            parts += [(first, second), (second, first)]
    me = np.concatenate([m for m, _ in parts]) if parts else np.zeros(0, dtype=np.int64)
    other = np.concatenate([o for _, o in parts]) if parts else np.zeros(0, dtype=np.int64)
    # one row per claim and neighbouring card (the nearest queue and place first), by claim
    order = np.lexsort((np.arange(len(me)), codes[other], me))
    me, other = me[order], other[order]
    first_of = np.ones(len(me), dtype=bool)
    first_of[1:] = (me[1:] != me[:-1]) | (codes[other][1:] != codes[other][:-1])
    me, other = me[first_of], other[first_of]
    out = pd.DataFrame({"row": me, "card": codes[me], "partner": codes[other],
                        "partner_row": other, "day": day_all[me], "facility": fac_code[me]})
    ctx.cache[key] = out
    return ctx.cache[key]


def _facility_codes(ctx: Context) -> np.ndarray:
    """Integer code of each claim's facility (memoised: the sittings and their share of a
    card's facility days read the same codes)."""
    if "facility_codes" not in ctx.cache:
        ctx.cache["facility_codes"] = pd.factorize(ctx.claims["facility_id"])[0].astype(np.int64)
    return ctx.cache["facility_codes"]


def _card_codes(ctx: Context) -> tuple[np.ndarray, pd.Index]:
    """Integer code of each claim's card, and the cards by code (memoised)."""
    if "card_codes" not in ctx.cache:
        codes, uniques = pd.factorize(ctx.claims["card_id"])
        ctx.cache["card_codes"] = (codes.astype(np.int64), pd.Index(uniques))
    return ctx.cache["card_codes"]


def sittings(ctx: Context, settings: Settings) -> pd.DataFrame:
    """Cards settled next to the same other person's card, minutes apart, on several days.

    A user who borrows a 社保卡 for his own treatment brings it along to his own visit: the
    doctor, or the pharmacy's terminal, settles his own card and the borrowed one one after the
    other. Being next to the same card in one queue on ``session_min_days`` days or more, and on
    ``session_min_share`` of the days the card came to that facility, is what a waiting room of
    strangers does not do (two regulars of a busy counter meet now and then, not on most days). Such a tie says who uses the card when the card
    has that one partner (of another household): the partner is the user. A card next to two
    or more recurring people of other households is in a cohort that comes on one schedule
    (dialysis, a refill day) and says nothing; and two people who each have only the other
    (one card lent, or two friends who shop together) cannot say which of them uses whose card,
    so the tie groups them and accuses neither (``hub`` False).

    Returns one row per tied (``card_id``, ``companion_card``) with ``companion_holder``,
    ``days`` and ``hub``: whether the companion sat with two or more tied cards (of other
    households), which makes the companion the one presenting them.
    """
    s = settings.impersonation
    key = ("sittings", s.session_minutes, s.session_min_days, s.session_min_share, settings.gang,
           settings.people)
    if key in ctx.cache:
        return ctx.cache[key]
    cols = ["card_id", "companion_card", "companion_holder", "days", "hub"]
    seated = _seated(ctx, settings)
    _, card_ids = _card_codes(ctx)
    pairs = seated[["card", "partner", "facility", "day"]].drop_duplicates()
    at = pairs.groupby(["card", "partner", "facility"]).size()
    # a user brings the borrowed card along to his own visits: it is settled next to him on
    # most of the days it comes to that facility. Two regulars of a busy counter are next to
    # each other now and then, on a small share of their days there
    c = ctx.claims
    codes, _ = _card_codes(ctx)
    # only the cards that sat with anyone: their days at each facility
    seen = (c["claim_type"].to_numpy() != "inpatient") & np.isin(
        codes, at.index.get_level_values("card").unique())
    fac_code = _facility_codes(ctx)
    visits = pd.DataFrame({"card": codes[seen], "facility": fac_code[seen],
                           "day": c["day"].to_numpy()[seen]}).drop_duplicates()
    card_days = visits.groupby(["card", "facility"]).size()
    share = at / card_days.reindex(at.index.droplevel("partner")).to_numpy()
    at = at[(at >= s.session_min_days) & (share >= s.session_min_share)]
    days = at.groupby(level=["card", "partner"]).max()
    if not len(days):
        ctx.cache[key] = pd.DataFrame(columns=cols)
        return ctx.cache[key]
    tie = days.rename("days").reset_index()
    holders = ctx.holder_of(card_ids[tie["partner"].to_numpy()])
    tie = tie.assign(companion_holder=holders.to_numpy())
    hh = tie["companion_holder"].map(ctx.patients["household"])
    tie = tie.assign(household=np.where(hh.isna(), "p" + tie["companion_holder"],
                                        "h" + hh.fillna(0).astype("int64").astype(str)))
    # a card with recurring neighbours of two or more households is in a cohort
    n_hh = tie.groupby("card")["household"].nunique()
    tie = tie[tie["card"].map(n_hh).to_numpy() == 1]
    # the companion presents the card when the companion sat with two or more such cards
    n_cards = tie.groupby("companion_holder")["card"].nunique()
    tie = tie.assign(hub=tie["companion_holder"].map(n_cards).to_numpy() >= 2)
    out = pd.DataFrame({"card_id": card_ids[tie["card"].to_numpy()],
                        "companion_card": card_ids[tie["partner"].to_numpy()],
                        "companion_holder": tie["companion_holder"].to_numpy(),
                        "days": tie["days"].to_numpy(), "hub": tie["hub"].to_numpy()})
    ctx.cache[key] = out.sort_values(["card_id", "companion_card"]).reset_index(drop=True)
    return ctx.cache[key]


def _controller_groups(ctx: Context, sig: pd.DataFrame, cards: pd.Index, sessions: pd.DataFrame,
                       s) -> np.ndarray:
    """A group label per suspect card: cards joined by a link the claims carry.

    The links: the operator phone that presented another household's card (电子凭证), with its
    owners' household; a device carried between facilities that presented them; the holder
    settled next to the card by a doctor or terminal (:func:`sittings`) and that holder's household;
    and the holder's own household. Shared places join nothing: where a district's rings use
    the same few clinics and pharmacies, everyone goes where everyone goes, so a card with no
    other tie is a group of its own.

    A household joins its members' cards to the controller they lead to only when they lead to
    one at most: two members' cards borrowed by two unrelated users (two phones, two
    companions) are two cases, not one through the family that lent both.
    """
    c = ctx.claims
    households = ctx.patients["household"]
    nodes: dict[tuple[str, str], int] = {("card", cd): i for i, cd in enumerate(cards)}
    parent: list[int] = list(range(len(cards)))

    def node(kind: str, key) -> int:
        if (kind, key) not in nodes:
            nodes[(kind, key)] = len(parent)
            parent.append(len(parent))
        return nodes[(kind, key)]

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    def household_key(pid) -> str:
        hh = households.get(pid)
        return f"hh{int(hh)}" if hh is not None and not pd.isna(hh) else f"p{pid}"

    controllers: list[int] = []
    # phones that presented another household's card (outside bursts), and their owners
    presented = sig[sig["signal"].isin(BY_PHONE)]
    phones = sorted(set(c["operator_phone"].iloc[presented["row"].to_numpy()].dropna()))
    if phones:
        shown = ctx.claims_of_phones(phones)
        shown = shown[isin(shown["card_id"], cards)][["card_id", "operator_phone"]].drop_duplicates()
        for cd, ph in zip(shown["card_id"].tolist(), shown["operator_phone"].tolist()):
            union(nodes[("card", cd)], node("phone", ph))
        owner_hh = _owner_households(ctx, s)
        for ph in phones:
            controllers.append(node("phone", ph))
            for hh in sorted(owner_hh.get(ph, ()), key=str):
                if hh is not None and not pd.isna(hh):
                    union(node("phone", ph), node("household", f"hh{int(hh)}"))
    # devices carried between facilities that presented several households' cards
    carried = sig[sig["signal"] == "device_presents_unrelated_cards"]
    if len(carried):
        dv = c.loc[isin(c["claim_id"], carried["claim_id"]), ["card_id", "device_id"]]
        for cd, d in zip(dv["card_id"].tolist(), dv["device_id"].tolist()):
            controllers.append(node("device", d))
            union(nodes[("card", cd)], node("device", d))
    # the holder seen next to the card at the doctor's, again and again: the one using it
    for cd, other, who in zip(sessions["card_id"].tolist(), sessions["companion_card"].tolist(),
                              sessions["companion_holder"].tolist()):
        user = node("household", household_key(who))
        controllers.append(user)
        union(nodes[("card", cd)], user)
        if ("card", other) in nodes:
            union(nodes[("card", cd)], nodes[("card", other)])
    # one holder's cards are one person's
    for cd, h in zip(cards, ctx.holder_of(cards)):
        union(nodes[("card", cd)], node("holder", h))
    # a controller's own household: its members' cards are in its hands
    controlled_hh = {key for (kind, key), i in nodes.items() if kind == "household"}
    # a card showing only weak signals (a cross-district day, a transfer overlap: common among
    # honest patients) is joined by a phone, device or doctor session, never by its family alone
    kinds = sig.groupby("card_id")["signal"].agg(set)
    weak_only = {cd for cd, k in kinds.items() if k <= WEAK_SIGNALS - PRESENTED}
    pending: dict[str, list[int]] = {}
    for cd, h in zip(cards, ctx.holder_of(cards)):
        if cd in weak_only:
            continue
        key = household_key(h)
        if key in controlled_hh:
            union(nodes[("card", cd)], nodes[("household", key)])
        else:
            pending.setdefault(key, []).append(nodes[("card", cd)])
    controlled = {find(i) for i in controllers}
    for key in sorted(pending):
        members = pending[key]
        led = {find(i) for i in members} & controlled
        if len(led) <= 1:
            for i in members[1:]:
                union(members[0], i)
        else:  # the family lent cards to two users: only its cards with no controller go together
            loose = [i for i in members if find(i) not in controlled]
            for i in loose[1:]:
                union(loose[0], i)
    roots = np.array([find(i) for i in range(len(cards))], dtype=np.int64)
    return pd.factorize(roots, sort=True)[0].astype(np.int64)


def _signal_score(sig: pd.DataFrame, present_min: int, mismatch_alone_min_days: int = 2,
                  two_places_alone_min_days: int = 3, two_places_alone_min_share: float = 0.1,
                  counts: pd.Series | None = None) -> tuple[float, pd.Series]:
    """Combined score of one card group's signals, and the claim count per signal kind
    (``counts``: that count, when the caller has it already)."""
    if counts is None:
        counts = sig.groupby("signal")["claim_id"].nunique()
    kinds = list(counts.index)
    p_clean = 1.0
    for k, n in counts.items():
        w = _WEIGHTS.get(k, 0.2)
        strength = 1 - (1 - w) ** min(int(n), 4)
        p_clean *= 1 - strength
    score = 1 - p_clean
    if len(kinds) == 1:
        # one kind of signal has innocent causes: only repetition well beyond them counts
        only = kinds[0]
        n = int(counts.iloc[0])
        # a phone presenting others' cards now and then is a favour, and a gang's controller's
        # bursts are the gang's: only repeated presentations of several people's cards count
        strong = only == "claims_after_death" and n >= 3
        # one person in two places on several days, and on a good share of the days the card
        # was at the doctor's at all, is no referral repeated nor a busy patient's coincidence
        if only == "two_places_one_day" and "visit_days" in sig:
            days = sig["day"].nunique()
            strong = (days >= two_places_alone_min_days
                      and days >= two_places_alone_min_share * sig["visit_days"].max())
        # a diagnosis impossible for the holder, made on several days, is no slip of one coder:
        # someone else's body is being treated on the card. At one facility a slip may be copied
        # into the next visit's record, so there it takes one day more
        if only == "diagnosis_sex_age_mismatch" and "day" in sig:
            days = sig["day"].nunique()
            strong = days >= mismatch_alone_min_days + (sig["facility_id"].nunique() < 2)
        # the same impossibility on the cards of several people in one controller's group is
        # not one innocent accident repeated: it is one user on several cards
        people = sig["holder_id"].nunique() if "holder_id" in sig else 1
        if only in ACROSS_PEOPLE and people >= 2:
            return score, counts
        if only in PRESENTERS and people >= 2:
            per_person = sig.groupby("holder_id")["claim_id"].nunique()
            if int((per_person >= present_min).sum()) >= 2:
                return score, counts
        score = min(score, 0.75 if strong else 0.35)
    elif set(kinds) <= WEAK_SIGNALS:
        score = min(score, 0.35)
    return score, counts


def _ring(ctx: Context, sig: pd.DataFrame, cards: list[str], score: float, counts: pd.Series,
          settings: Settings, sessions: pd.DataFrame,
          exclude_cards: Collection[str] = frozenset(), ring_claims: pd.DataFrame | None = None
          ) -> Ring:
    claims = (ctx.claims if ring_claims is None else ring_claims).iloc[
        np.unique(sig["row"].to_numpy())]
    ev = []
    kind = sig["signal"].to_numpy()
    card, claim, detail = (sig[k].to_numpy() for k in ("card_id", "claim_id", "detail"))
    for k in counts.index:
        mine = np.flatnonzero(kind == k)
        n_claims = len(set(claim[mine]))
        ev.append(evidence(k, f"{len(set(card[mine]))} 张卡、{n_claims} 笔结算；"
                              f"例：{detail[mine[0]]}", n_claims))
    holder_set = set(ctx.holder_of(cards))
    companions = sessions[~sessions["companion_holder"].isin(holder_set)]
    if len(companions):
        top = companions.sort_values(["days", "card_id"], ascending=[False, True]).iloc[0]
        ev.append(evidence("sitting_companion",
                           f"{companions['card_id'].nunique()} 张卡多次与他人本人的就诊或购药由同一医生或终端"
                           f"相隔数分钟先后结算（例：{top['card_id']} 与 {top['companion_card']}，"
                           f"{int(top['days'])} 天）：使用人即该就诊人", int(companions["days"].sum()),
                           clause="归组依据说明（非负面清单）"))
    holders = ctx.holder_of(cards)
    members = [Member("card", c, "card used by another") for c in cards]
    members += [Member("patient", h, "card holder") for h in sorted(set(holders))]
    phones = claims["operator_phone"].dropna()
    lines = _lines(ctx, settings.impersonation)
    controllers = sorted(p for p in phones.value_counts()[lambda v: v >= 2].index if p not in lines)
    when = claims["settle_time"].min()
    for p in controllers:
        members.append(Member("phone", str(p), "controller"))
        for owner in ctx.likely_users(p, when, exclude=holder_set):
            members.append(Member("patient", owner, "user (owns the presenting phone)"))
        if not ctx.phone_users(p):
            for user in _unregistered_user(ctx, p, when, holder_set, settings.impersonation):
                members.append(Member("patient", user, "user (the phone presents their own card most)"))
    for user in sorted(set(companions["companion_holder"])):
        members.append(Member("patient", user, "user (settled next to the card by one doctor or "
                                               "terminal, minutes apart, on several days)"))
    carried = claims["claim_id"].isin(sig.loc[sig["signal"] == "device_presents_unrelated_cards",
                                              "claim_id"])
    for d in sorted(set(claims.loc[carried, "device_id"].dropna())):
        members.append(Member("device", str(d), "controller (device carried between facilities)"))
    # the other cards a controller's phone presented for people outside its owner's household
    if controllers:
        pats = ctx.patients
        owner_hh = _owner_households(ctx, settings.impersonation)
        own_hh = set().union(*(owner_hh.get(p, set()) for p in controllers))
        shown = ctx.claims_of_phones(controllers)
        skip = set(cards) | set(exclude_cards)
        for card, holder in sorted(set(zip(shown["card_id"], shown["holder_id"]))):
            if card in skip or pats["household"].get(holder) in own_hh:
                continue
            members.append(Member("card", card, "presented by the controller's phone"))
            members.append(Member("patient", holder, "card holder"))
    extra = {"features": {k: int(v) for k, v in counts.items()}}
    return make_ring("impersonation", score, members, claims, ev, extra)
