"""The prepared frames every detector reads: :class:`Context`.

Compact claim, item, patient and facility frames, households, the card-holder index and row
indexes by card, phone and claim. Everything here is a pure function of the
:class:`~graphkit.graph.EntityGraph`; the detectors read a Context and never change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from graphkit._arrow import positions, single_chunk
from graphkit._frames import row_positions
from graphkit.detectors.groups import components_of_pairs
from graphkit.detectors.places import names_no_dwelling, place_of
from graphkit.errors import SettingsError
from graphkit.graph import EntityGraph
from graphkit.settings import PeopleSettings

__all__ = ["Context", "DAY"]

#: seconds in a day
DAY = 86400

#: from this many cards on, :meth:`Context.holder_of` looks them up in pyarrow (hashing the
#: cards table once per call), below in a Python dict
_HOLDER_LOOKUP_MIN_CARDS = 20_000


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
                has[has] = ~names_no_dwelling(s[has]).to_numpy()
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
        """Every facility of the tables and the claims, by ``facility_id``: its type
        (:func:`graphkit.graph.facility_types`), name, level, ownership, kind and region."""
        ds = self.dataset
        inst = ds.institutions.rename(columns={"institution_id": "facility_id"})
        ph = ds.pharmacies.rename(columns={"pharmacy_id": "facility_id"})
        ph = ph.assign(level=pd.NA, ownership=pd.NA, kind="药店")
        cols = ["facility_id", "name", "level", "ownership", "kind", "region"]
        f = pd.concat([inst[cols], ph[cols]], ignore_index=True)
        known = set(f["facility_id"])
        extra = sorted(set(self.claims["facility_id"].dropna().unique()) - known)
        if extra:
            f = pd.concat([f, pd.DataFrame({"facility_id": extra})], ignore_index=True)
        f = f.drop_duplicates("facility_id").set_index("facility_id")
        f.insert(0, "facility_type", [self.graph.facility_type(i) for i in f.index])
        return f

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


def _days(s: pd.Series) -> pd.Series:
    out = (s - pd.Timestamp(0)).dt.days
    return out.astype("Int64")
