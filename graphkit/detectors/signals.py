"""Shared preparation for the detectors: compact claim frames, households, clauses, scoring.

Everything here is a pure function of the :class:`~graphkit.graph.EntityGraph`; the detectors
read a :class:`Context` and never change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from graphkit._arrow import positions, single_chunk
from graphkit._frames import row_positions
from graphkit.errors import SettingsError
from graphkit.graph import EntityGraph
from graphkit.rings import Evidence, Member, Ring
from graphkit.settings import PeopleSettings

__all__ = ["Context", "reported_cards", "CLAUSES", "place_of", "evidence", "squash",
           "make_ring", "components_of_pairs", "communities"]

#: rule -> 负面清单(2025) clause (seeds/003, 使用医疗保障基金行为负面清单(2025年))
CLAUSES = {
    "lockstep_swipes": "负面清单(2025) 四(2) 非法收取参保人员医保凭证刷卡结付或套现",
    "lockstep_swipes_pharmacy": "负面清单(2025) 二(7) 收集并空刷参保人员医保凭证",
    "lockstep_swipes_institution": "负面清单(2025) 一(2) 收集医保凭证空刷套刷",
    "shared_controller": "负面清单(2025) 四(2) 非法收取参保人员医保凭证",
    "unrelated_holders": "负面清单(2025) 四(2) 非法收取参保人员医保凭证",
    "facility_concentration": "负面清单(2025) 二(6) 串通勾结利用参保人医保凭证空刷",
    "claims_after_death": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用（冒用已故人员身份）",
    "diagnosis_sex_age_mismatch": "负面清单(2025) 一(7) 诊断与患者性别或年龄不符",
    "two_places_one_day": "负面清单(2025) 二(5)/一(7) 不执行实名就医购药、不核验医保凭证",
    "overlapping_stays": "负面清单(2025) 一(1) 诱导、协助他人冒名或者虚假就医",
    "phone_presents_unrelated_cards": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "device_presents_unrelated_cards": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "presented_by_another_household": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "trace_code_resettled": "负面清单(2025) 二(11) 参与或协助倒卖“回流药”",
    "key_drug_excess": "负面清单(2025) 三(4) 利用享受医疗保障待遇的机会转卖药品",
    "doctor_shopping": "负面清单(2025) 一(11) 超量开药、重复开药",
    "repeated_co_admission": "负面清单(2025) 四(3) 协助医院组织参保人员办理虚假住院、挂床住院",
    "similar_stays": "负面清单(2025) 一(6) 分解住院、挂床住院",
    "recruited_from_one_place": "负面清单(2025) 一(1) 诱导、协助他人虚假就医",
    "booked_by_one_organiser": "负面清单(2025) 四(3) 协助医院组织参保人员办理虚假住院、挂床住院",
    "frequent_admission": "负面清单(2025) 一(13) 频繁住院或无指征住院",
}

DAY = 86400

#: from this many cards on, :meth:`Context.holder_of` looks them up in pyarrow (hashing the
#: cards table once per call), below in a Python dict
_HOLDER_LOOKUP_MIN_CARDS = 20_000


def evidence(rule: str, detail: str, count: int = 0, clause: str | None = None) -> Evidence:
    return Evidence(rule=rule, clause=clause or CLAUSES.get(rule, ""), detail=detail,
                    count=int(count))


def squash(x: float, half: float) -> float:
    """Map a non-negative strength to [0, 1): ``x / (x + half)`` (0.5 at ``half``)."""
    x = max(0.0, float(x))
    return x / (x + half) if (x + half) > 0 else 0.0


def _iso(ts) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def make_ring(typology: str, score: float, members: list[Member], claims: pd.DataFrame,
              ev: list[Evidence], extra: dict | None = None) -> Ring:
    """A Ring with claims, fund amount and period taken from ``claims`` (rows of Context.claims)."""
    seen: set[tuple[str, str]] = set()
    uniq = []
    for m in members:
        k = (m.type, m.id)
        if k not in seen:
            seen.add(k)
            uniq.append(m)
    ids = tuple(sorted(claims["claim_id"].astype(str).unique()))
    return Ring(
        typology=typology,
        score=float(min(1.0, max(0.0, score))),
        members=tuple(sorted(uniq, key=lambda m: (m.type, m.id))),
        claims=ids,
        fund_amount=float(round(claims["fund_amount"].fillna(0).sum(), 2)),
        first_seen=_iso(claims["settle_time"].min()) if len(claims) else None,
        last_seen=_iso(claims["settle_time"].max()) if len(claims) else None,
        evidence=tuple(ev),
        extra=extra or {},
    )


def reported_cards(rings, min_score: float) -> set[str]:
    """Cards that are members of the rings scoring at least ``min_score`` (the reported ones)."""
    return {m.id for r in rings if r.score >= min_score for m in r.members if m.type == "card"}


def components_of_pairs(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Connected-component label per node 0..n-1 of the undirected graph with edges (a, b)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = sparse.coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(m, directed=False)
    return labels


def communities(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int, *, seed: int,
                resolution: float = 1.0, objective: str = "modularity") -> np.ndarray:
    """Community label per node (igraph Leiden, seeded; isolated nodes alone).

    ``objective`` is igraph's: ``"modularity"``, or ``"CPM"`` (constant Potts model), under
    which a community holds together when its mean pair weight (non-edges weigh 0) exceeds
    ``resolution`` — the same bar however many other communities the graph holds, where
    modularity's bar falls as the graph grows and merges small dense groups in a big one.
    igraph's C implementation: measured here ~60x faster than python-louvain on a 2M-claim
    projection with the same modularity (shared/notes/performance.md).
    """
    import igraph as ig
    import random

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    g = ig.Graph(n=n, edges=list(zip(a.tolist(), b.tolist())), directed=False)
    g.es["weight"] = w.astype(float).tolist()
    # a generator of its own: reseeding the process-wide ``random`` would change what the
    # caller's own random numbers are; igraph's generator is set back afterwards
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function=objective, weights="weight",
                                  resolution=resolution, n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)


@dataclass
class Context:
    """Prepared frames every detector reads. Build once per run with ``Context(graph)``
    (``Context(graph, settings.people)`` to read people's phones and ages by other settings;
    a detector given settings whose ``people`` differ raises :class:`SettingsError`)."""

    graph: EntityGraph
    #: who shares a phone, and who can present other people's cards from it
    people: PeopleSettings = field(default_factory=PeopleSettings)
    #: scratch space detectors share within one run (derived frames, never inputs)
    cache: dict = field(default_factory=dict)

    @property
    def dataset(self):
        return self.graph.dataset

    def warm(self) -> None:
        """Build the frames and the card-holder index every detector reads now (before forking
        worker processes: they are then built once and shared copy-on-write)."""
        self.claims, self.patients, self.items, self.facilities, self._holder_map  # noqa: B018

    def check(self, settings) -> None:
        """Refuse ``settings`` whose ``people`` differ from this Context's: households and users
        would be read by one and every other threshold by the other (cached frames are keyed by
        their own section only)."""
        if settings.people != self.people:
            raise SettingsError("this Context was built with other `people` settings than the "
                                "ones given; build it as Context(graph, settings.people)")

    @cached_property
    def claims(self) -> pd.DataFrame:
        c = self.dataset.claims
        cols = ["claim_id", "patient_id", "card_id", "holder_id", "facility_id", "facility_type",
                "doctor_id", "pharmacist_id", "claim_type", "settle_time", "admit_date",
                "discharge_date", "diagnosis_code", "total_amount", "fund_amount", "device_id",
                "operator_phone"]
        out = c[cols].copy()
        ts = out["settle_time"]
        out["t"] = (ts - pd.Timestamp(0)).dt.total_seconds().astype("int64")
        out["day"] = (out["t"] // DAY).astype("int64")
        out["admit_day"] = _days(out["admit_date"])
        out["discharge_day"] = _days(out["discharge_date"])
        out["dx3"] = out["diagnosis_code"].str.upper().str.replace(".", "", regex=False).str[:3]
        return single_chunk(out)

    @cached_property
    def patients(self) -> pd.DataFrame:
        p = self.dataset.patients.set_index("patient_id")
        out = p[["gender", "birth_date", "death_date", "region", "phone", "address"]].copy()
        out["household"] = self.households.reindex(out.index).to_numpy()
        out["place"] = place_of(out["address"])
        return out

    @cached_property
    def households(self) -> pd.Series:
        """patient_id -> household label: patients linked by a shared phone or address.

        A phone registered to ``people.shared_line_owners`` people or more is no family's: an institution's
        line (whose residents share its address anyway) or one person registering many others'
        accounts, which is what a card collector does. It links no one. Nor does an address that
        is no dwelling, only a village (or one of its 组/社), community, named compound or town
        (``…明林村``, ``…明林村3组``, ``…和平花园``, ``…泉白镇``): a whole village is not one
        family."""
        p = self.dataset.patients
        ids = p["patient_id"].to_numpy()
        n = len(ids)
        codes = []
        for col in ("phone", "address"):
            s = p[col]
            has = s.notna().to_numpy().copy()
            if col == "phone":
                owners = s[has].map(s[has].value_counts())
                has[has] = (owners < self.people.shared_line_owners).to_numpy()
            else:
                has[has] = ~s[has].astype("str").str.match(_NO_DWELLING).to_numpy()
            k, _ = pd.factorize(s[has])
            codes.append((np.flatnonzero(has), k))
        # bipartite patient -- identifier graph, then components over patients
        offset = n
        a_list, b_list = [], []
        for rows, k in codes:
            a_list.append(rows)
            b_list.append(k + offset)
            offset += (k.max() + 1) if len(k) else 0
        a = np.concatenate(a_list) if a_list else np.zeros(0, dtype=np.int64)
        b = np.concatenate(b_list) if b_list else np.zeros(0, dtype=np.int64)
        labels = components_of_pairs(a, b, offset)
        return pd.Series(labels[:n], index=pd.Index(ids, name="patient_id"), name="household")

    @cached_property
    def facilities(self) -> pd.DataFrame:
        ds = self.dataset
        inst = ds.institutions.rename(columns={"institution_id": "facility_id"})
        inst = inst.assign(facility_type="institution")
        ph = ds.pharmacies.rename(columns={"pharmacy_id": "facility_id"})
        ph = ph.assign(facility_type="pharmacy", level=pd.NA, ownership=pd.NA, kind="药店")
        cols = ["facility_id", "facility_type", "name", "level", "ownership", "kind", "region"]
        f = pd.concat([inst[cols], ph[cols]], ignore_index=True)
        known = set(f["facility_id"])
        extra = sorted(set(self.claims["facility_id"].dropna().unique()) - known)
        if extra:
            f = pd.concat([f, pd.DataFrame({"facility_id": extra, "facility_type": "unknown"})],
                          ignore_index=True)
        return f.drop_duplicates("facility_id").set_index("facility_id")

    @cached_property
    def items(self) -> pd.DataFrame:
        it = self.dataset.claim_items[["claim_id", "item_code", "item_name", "quantity", "amount",
                                       "trace_code"]]
        c = self.claims[["claim_id", "card_id", "holder_id", "facility_id", "facility_type",
                         "doctor_id", "t", "day", "settle_time", "fund_amount"]]
        # an inner join on the unique claim_id, in item order: pyarrow finds each item's claim
        # (pandas' merge of two 1M+ string columns took 1.5 s of the 1M run)
        pos = positions(it["claim_id"], c["claim_id"])
        keep = pos >= 0
        joined = pd.concat([it[keep].reset_index(drop=True),
                            c.iloc[pos[keep]].drop(columns="claim_id").reset_index(drop=True)],
                           axis=1)
        return single_chunk(joined)

    @cached_property
    def _phone_owner_index(self) -> dict:
        p = self.dataset.patients[["patient_id", "phone"]].dropna().sort_values("patient_id")
        out: dict[str, list[str]] = {}
        for pid, ph in zip(p["patient_id"].tolist(), p["phone"].tolist()):
            out.setdefault(ph, []).append(pid)
        return out

    def phone_owners(self, phone: str) -> list[str]:
        """Patients whose registered phone is ``phone``."""
        return list(self._phone_owner_index.get(phone, []))

    def phone_users(self, phone: str) -> list[str]:
        """The owners of ``phone`` who may be the one person using it: none for an institution's
        shared line (registered to ``people.shared_line_owners`` people or more, e.g. a nursing
        home's)."""
        owners = self.phone_owners(phone)
        return owners if len(owners) < self.people.shared_line_owners else []

    def likely_users(self, phone: str, when: pd.Timestamp, exclude=()) -> list[str]:
        """The owners of ``phone`` who can have presented other people's cards from it at ``when``.

        A household registers one phone for all its members, but the one presenting other
        people's 电子凭证 (an impersonator, a gang's organiser) is an adult: of the
        :meth:`phone_users` not in ``exclude`` (the cards' own holders), those aged
        ``people.user_min_age`` to ``user_max_age`` at ``when`` are kept; all of them when none
        is, or an age is unknown."""
        exclude = set(exclude)
        return self.adults([o for o in self.phone_users(phone) if o not in exclude], when)

    def adults(self, people: list[str], when: pd.Timestamp) -> list[str]:
        """Those of ``people`` aged ``people.user_min_age`` to ``user_max_age`` at ``when``; all
        of them when none is, or an age is unknown (one person is kept as is)."""
        if len(people) <= 1:
            return people
        birth = self.patients["birth_date"].reindex(people)
        if birth.isna().any() or pd.isna(when):
            return people
        age = (when - birth).dt.days / 365.25
        lo, hi = self.people.user_min_age, self.people.user_max_age
        adults = [o for o, a in zip(people, age) if lo <= a < hi]
        return adults or people

    @cached_property
    def _item_rows_by_card(self) -> dict:
        return row_positions(self.items["card_id"])

    def items_of_cards(self, cards) -> pd.DataFrame:
        """Rows of :attr:`items` settled on any of ``cards`` (indexed, not scanned)."""
        return _rows_of(self.items, self._item_rows_by_card, cards)

    @cached_property
    def _holder_map(self) -> dict:
        c = self.dataset.cards
        return dict(zip(c["card_id"], c["patient_id"]))

    @cached_property
    def _holder_table(self) -> tuple[pd.Series, np.ndarray]:
        m = self._holder_map
        return pd.Series(list(m), dtype="str"), np.asarray(list(m.values()), dtype=object)

    def holder_of(self, cards) -> pd.Series:
        """The holder patient of each card (a card unknown to the cards table is its own)."""
        if len(cards) < _HOLDER_LOOKUP_MIN_CARDS:
            m = self._holder_map
            return pd.Series([m.get(c, c) for c in cards], dtype="str")
        # many cards: one pyarrow hash lookup instead of a Python loop
        keys, holders = self._holder_table
        cards = np.asarray(cards, dtype=object)
        pos = positions(pd.Series(cards, dtype="str"), keys)
        return pd.Series(np.where(pos >= 0, holders[np.maximum(pos, 0)], cards), dtype="str")

    @cached_property
    def _holder_rows(self) -> np.ndarray:
        return positions(self.claims["holder_id"], pd.Series(self.patients.index))

    def holders_column(self, column: str) -> pd.Series:
        """Each claim's holder's ``column`` of :attr:`patients`, as ``claims["holder_id"].map(
        patients[column])`` gives it (missing for a holder not among the patients), from one
        lookup of the holders shared by every column."""
        values = pd.api.extensions.take(self.patients[column].array, self._holder_rows,
                                        allow_fill=True)
        return pd.Series(values, index=self.claims.index, name="holder_id")

    @cached_property
    def _rows_by_card(self) -> dict:
        return row_positions(self.claims["card_id"])

    @cached_property
    def _rows_by_claim(self) -> pd.Series:
        return pd.Series(np.arange(len(self.claims)), index=self.claims["claim_id"].to_numpy())

    def claims_of_cards(self, cards) -> pd.DataFrame:
        """Rows of :attr:`claims` settled on any of ``cards`` (indexed, not scanned)."""
        return _rows_of(self.claims, self._rows_by_card, cards)

    def claim_rows_of_cards(self, cards) -> np.ndarray:
        """Positions in :attr:`claims` of the rows settled on any of ``cards``, in order (to
        read one column of them without taking every column)."""
        return _rows_under(self._rows_by_card, cards)

    @cached_property
    def _rows_by_phone(self) -> dict:
        return row_positions(self.claims["operator_phone"])  # nulls left out

    def claims_of_phones(self, phones) -> pd.DataFrame:
        """Rows of :attr:`claims` whose 电子凭证 one of ``phones`` presented (indexed)."""
        return _rows_of(self.claims, self._rows_by_phone, phones)

    def claims_by_id(self, claim_ids) -> pd.DataFrame:
        """Rows of :attr:`claims` with these claim ids, in input order."""
        return self.claims.iloc[self.claim_rows_by_id(claim_ids)]

    def claim_rows_by_id(self, claim_ids) -> np.ndarray:
        """Positions in :attr:`claims` of the claims with these ids (unknown ids left out),
        ascending."""
        pos = self._rows_by_claim.reindex(list(claim_ids)).dropna().astype(np.int64).to_numpy()
        return np.sort(np.unique(pos))



def _rows_under(index: dict, keys) -> np.ndarray:
    """The row positions under any of ``keys`` in ``index`` (key -> row positions), sorted."""
    parts = [index[k] for k in keys if k in index]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _rows_of(frame: pd.DataFrame, index: dict, keys) -> pd.DataFrame:
    """Rows of ``frame`` under any of ``keys`` in ``index`` (key -> row positions), in order."""
    return frame.iloc[_rows_under(index, keys)]


#: the end of the smallest named place in a Chinese address (省 市 县/区 乡/镇/街道 村/社区/小区)
_PLACE = r"^(.*?(?:村|社区|小区|居委会|家园|花园|新村|公寓|苑))"
#: an unnamed compound is its street number (光华路84号, 天府大道北段1700号院, 淮海路123弄)
_STREET = r"^(.*?(?:路|街|大道|巷|胡同)(?:[东西南北中一二三四五六七八九十]+段)?\d+(?:号院|号|弄))"
_TOWN = r"^(.*?(?:镇|乡|街道))"
#: an address that stops at a district, county, city or province
_WIDE_AREA = r"^.*(?:省|市|区|县|州|旗)\s*$"
#: an address that ends at a village (or one of its 组/社), a community, a named compound (no
#: building, unit or room: 花园, 家园, 苑, 新村, a 公寓 that is no 老年公寓), a town, a street
#: with no number, or a district, county, city or province names no dwelling
_NO_DWELLING = (r"^.*(?:村|社区|小区|居委会|家园|花园|新村|苑|(?<!老年)公寓|镇|乡|街道"
                r"|路|街|大道|巷|胡同|省|市|区|县|州|旗"
                r"|村[0-9一二三四五六七八九十]+[组社])\s*$")


def place_of(address: pd.Series) -> pd.Series:
    """The village / community part of each address (its 村/社区/小区 prefix, else the street
    number of an unnamed compound, else its 镇/乡/街道 prefix, else the whole address): people
    recruited "from one place" share it; the building, unit and room that follow do not count."""
    a = address.astype("str")
    place = a.str.extract(_PLACE, expand=False)
    for pattern in (_STREET, _TOWN):
        place = place.fillna(a.str.extract(pattern, expand=False))
    # an address that stops at a district, county or city is no place one is recruited from
    return place.fillna(a.mask(a.str.match(_WIDE_AREA))).where(address.notna())


def _days(s: pd.Series) -> pd.Series:
    out = (s - pd.Timestamp(0)).dt.days
    return out.astype("Int64")
