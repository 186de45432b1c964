"""The entity graph: typed nodes and edges derived from the accepted tables.

Claims and items stay columnar. :class:`EntityGraph` derives one edge table (a DataFrame with
``src``, ``dst``, ``count``, ``fund``, ``first``, ``last``) per edge type on first use, and builds a
networkx view only of what is asked for (:meth:`EntityGraph.to_networkx`,
:meth:`EntityGraph.neighbourhood`), so a million claims never become millions of Python objects
unless a step needs them.

Node keys in networkx views are strings ``"<type>:<id>"`` with attributes ``type``, ``id`` and
``label``; edges are keyed by their type in a :class:`networkx.MultiDiGraph`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

import networkx as nx
import pandas as pd

from graphkit.facilities import facility_types
from graphkit.load import Dataset

__all__ = ["EntityGraph", "EdgeType", "EdgeView", "EDGE_TYPES", "NODE_TYPES", "edge_styles",
           "relationship_types", "node_key", "split_key", "facility_types"]


NODE_TYPES = ("patient", "card", "doctor", "pharmacist", "institution", "pharmacy", "phone",
              "address", "device", "trace_code", "drug")


@dataclass(frozen=True)
class EdgeView:
    """A finer kind of an edge that the ring pages draw (e.g. ``visit`` and ``stay``: the
    claims of ``claimed_at`` at an institution, outpatient or inpatient)."""

    style: str              # its key in graphkit.render.EDGE_STYLE
    zh: str | None          # None: the edge's own label
    colour: str | None      # None: the edge's own colour
    meaning: str
    neo4j: tuple[str, ...] | None = None   # None: the edge's own path in the store


@dataclass(frozen=True)
class EdgeType:
    """One edge of the vocabulary every view shares: the entity graph (``name``), the pages
    (``style``, ``colour`` and its finer ``views``) and the Neo4j store (``neo4j``: the
    relationship types on the path from ``src`` to ``dst`` in the store, where claims are nodes).
    ``zh`` is its label wherever a person reads it."""

    name: str
    src: str
    dst: str
    zh: str
    meaning: str
    neo4j: tuple[str, ...]
    style: str
    colour: str
    views: tuple[EdgeView, ...] = ()


EDGE_TYPES: dict[str, EdgeType] = {e.name: e for e in (
    EdgeType("holds", "patient", "card", "持卡", "the patient is the card's holder (cards table)",
             ("HOLDS",), "holds", "#999999",
             (EdgeView("used", "使用他人凭证", "#d62728",
                       "the patient was settled on a card someone else holds",
                       ("FOR", "PRESENTED")),)),
    EdgeType("claimed_at", "card", "facility", "刷卡结算",
             "claims settled with the card at an institution or pharmacy",
             ("PRESENTED", "AT"), "claimed_at", "#b07aa1",
             (EdgeView("swipe", "刷卡", None, "claims settled with the card at a pharmacy"),
              EdgeView("visit", "就诊", "#e15759", "outpatient claims at an institution"),
              EdgeView("stay", "住院", "#c03d3e", "inpatient claims at an institution"))),
    EdgeType("prescribed_by", "card", "doctor", "开单", "claims on the card billed by the doctor",
             ("PRESENTED", "PRESCRIBED_BY"), "prescribed", "#59a14f"),
    EdgeType("dispensed_by", "card", "pharmacist", "药师审方",
             "claims on the card whose prescription the pharmacist reviewed",
             ("PRESENTED", "DISPENSED_BY"), "dispensed_by", "#86bc6a",
             (EdgeView("pharmacist", None, None,
                       "the pharmacist reviewed prescriptions of claims at the facility",
                       ("DISPENSED_BY", "AT")),)),
    EdgeType("presented_by_device", "card", "device", "终端刷卡",
             "claims on the card settled through the terminal",
             ("PRESENTED", "VIA_DEVICE"), "device", "#7f7f7f"),
    EdgeType("presented_by_phone", "card", "phone", "扫码",
             "claims on the card whose 电子凭证 was presented by the phone",
             ("PRESENTED", "VIA_PHONE"), "scan", "#17becf"),
    EdgeType("has_phone", "patient", "phone", "联系电话", "the patient's registered phone",
             ("HAS_PHONE",), "tel", "#17becf"),
    EdgeType("lives_at", "patient", "address", "住址", "the patient's registered address",
             ("LIVES_AT",), "addr", "#9c755f"),
    EdgeType("obtained", "card", "trace_code", "购药",
             "a pack with this 追溯码 was settled on the card",
             ("PRESENTED", "HAS_ITEM", "TRACE"), "trace_buy", "#ff9da7"),
    EdgeType("dispensed", "facility", "trace_code", "追溯码结算",
             "the facility settled a pack with this 追溯码", ("AT", "HAS_ITEM", "TRACE"),
             "trace", "#ff6f86"),
    EdgeType("obtained_drug", "card", "drug", "配药", "items of the drug settled on the card",
             ("PRESENTED", "HAS_ITEM"), "obtained_drug", "#d4a017",
             (EdgeView("drug", None, None, "items of the drug settled at the facility",
                       ("HAS_ITEM", "AT")),)),
    EdgeType("works_at", "doctor", "institution", "执业", "the doctor's institution",
             ("WORKS_AT",), "works_at", "#999999"),
    EdgeType("registered_at", "pharmacist", "pharmacy", "注册",
             "a pharmacist registration (several = 一证多挂)", ("REGISTERED_AT",),
             "registered_at", "#86bc6a"),
    EdgeType("device_at", "device", "facility", "终端所属", "the terminal settled claims there",
             ("VIA_DEVICE", "AT"), "device_at", "#7f7f7f"),
)}


def edge_styles() -> dict[str, tuple[str, str]]:
    """``{style: (中文 label, colour)}`` of every edge of :data:`EDGE_TYPES` and of its views:
    the page's edge kinds (:data:`graphkit.render.EDGE_STYLE`)."""
    out: dict[str, tuple[str, str]] = {}
    for e in EDGE_TYPES.values():
        out[e.style] = (e.zh, e.colour)
        for v in e.views:
            out[v.style] = (v.zh or e.zh, v.colour or e.colour)
    return out


def relationship_types() -> tuple[str, ...]:
    """The relationship types of the Neo4j store (sorted): those on the paths of
    :data:`EDGE_TYPES` and their views. The store's load queries write exactly these (tested)."""
    paths = [e.neo4j for e in EDGE_TYPES.values()]
    paths += [v.neo4j for e in EDGE_TYPES.values() for v in e.views if v.neo4j]
    return tuple(sorted({rel for path in paths for rel in path}))


def node_key(type_: str, id_: str) -> str:
    return f"{type_}:{id_}"


def split_key(key: str) -> tuple[str, str]:
    t, _, i = key.partition(":")
    return t, i


def _agg(df: pd.DataFrame, src: str, dst: str, fund: str | None = "fund_amount",
         when: str | None = "settle_time") -> pd.DataFrame:
    cols = [src, dst] + [c for c in (fund, when) if c]
    d = df[cols].dropna(subset=[src, dst])
    g = d.groupby([src, dst], sort=True, observed=True)
    out = g.size().rename("count").to_frame()
    if fund:
        out["fund"] = g[fund].sum().round(2)
    if when:
        out["first"] = g[when].min()
        out["last"] = g[when].max()
    out = out.reset_index().rename(columns={src: "src", dst: "dst"})
    return out


class EntityGraph:
    """Typed, columnar view of a :class:`~graphkit.load.Dataset`.

    Examples
    --------
    >>> import graphkit as gk
    >>> from graphkit.graph import EntityGraph
    >>> g = EntityGraph(gk.load("data_samples/demo"))
    >>> g.counts()["nodes"]["patient"] > 0
    True
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __repr__(self) -> str:
        ds = self.dataset
        return (f"<EntityGraph of {getattr(ds, 'data_dir', '?')}: {len(ds.patients):,} patients, "
                f"{len(ds.claims):,} claims, {len(ds.claim_items):,} items; node and edge tables "
                f"derived on demand (counts(), edges(name), neighbourhood(seeds))>")

    def check_nodes(self, keys: Iterable[str]) -> list[str]:
        """``keys`` as a list when every one is a node of this graph ("<type>:<id>"); otherwise a
        KeyError naming the first unknown key, with a hint (the known types, or ids alike)."""
        keys = list(keys)
        for key in keys:
            type_, id_ = split_key(str(key))
            if type_ not in self.nodes:
                raise KeyError(f"{key!r} is no node: node keys are '<type>:<id>' with type one of "
                               f"{', '.join(NODE_TYPES)}")
            ids = self.nodes[type_]
            at = int(ids.searchsorted(id_))
            if at >= len(ids) or ids.iloc[at] != id_:
                near = ", ".join(f"{type_}:{x}" for x in ids.iloc[max(0, at - 1):at + 2])
                raise KeyError(f"no {type_} {id_!r} in this data ({len(ids):,} {type_} nodes"
                               + (f"; nearest ids: {near}" if near else "") + ")")
        return keys

    # --- nodes ---------------------------------------------------------------------------
    @cached_property
    def nodes(self) -> dict[str, pd.Series]:
        """Node ids per type (sorted, unique)."""
        ds = self.dataset
        c, it, p = ds.claims, ds.claim_items, ds.patients
        facilities = self._facility_types

        def u(*series: pd.Series) -> pd.Series:
            s = pd.concat([x.dropna().astype("str") for x in series], ignore_index=True)
            return pd.Series(sorted(s.unique()), dtype="str")

        return {
            "patient": u(p["patient_id"]),
            "card": u(ds.cards["card_id"], c["card_id"]),
            "doctor": u(ds.doctors["doctor_id"], c["doctor_id"]),
            "pharmacist": u(ds.pharmacists["pharmacist_id"], c["pharmacist_id"]),
            "institution": u(pd.Series([f for f, t in facilities.items() if t == "institution"])),
            "pharmacy": u(pd.Series([f for f, t in facilities.items() if t == "pharmacy"])),
            "phone": u(p["phone"], c["operator_phone"]),
            "address": u(p["address"]),
            "device": u(c["device_id"]),
            "trace_code": u(it["trace_code"]),
            "drug": u(it["item_name"].where(it["trace_code"].notna())),
        }

    def facility_type(self, facility_id: str) -> str:
        """``"institution"`` or ``"pharmacy"`` (:func:`facility_types`; an id of no facility
        is an institution)."""
        return self._facility_types.get(facility_id, "institution")

    @cached_property
    def _facility_types(self) -> dict[str, str]:
        ds = self.dataset
        return facility_types(ds.institutions["institution_id"], ds.pharmacies["pharmacy_id"],
                              ds.claims)

    # --- edges ---------------------------------------------------------------------------
    @cached_property
    def _items_with_claims(self) -> pd.DataFrame:
        ds = self.dataset
        it = ds.claim_items[["claim_id", "trace_code", "item_name", "quantity", "amount"]]
        c = ds.claims[["claim_id", "card_id", "facility_id", "settle_time", "fund_amount"]]
        return it.merge(c, on="claim_id", how="inner", sort=False)

    def edges(self, name: str) -> pd.DataFrame:
        """The edge table of one type: src, dst, count (and fund, first, last for claim edges)."""
        if name not in EDGE_TYPES:
            raise KeyError(f"unknown edge type {name!r}; known: {', '.join(EDGE_TYPES)}")
        cache = self.__dict__.setdefault("_edge_cache", {})
        if name not in cache:
            cache[name] = self._build_edges(name)
        return cache[name]

    def _build_edges(self, name: str) -> pd.DataFrame:
        ds = self.dataset
        c = ds.claims
        if name == "holds":
            return _agg(ds.cards, "patient_id", "card_id", None, None)
        if name == "claimed_at":
            return _agg(c, "card_id", "facility_id")
        if name == "prescribed_by":
            return _agg(c, "card_id", "doctor_id")
        if name == "dispensed_by":
            return _agg(c, "card_id", "pharmacist_id")
        if name == "presented_by_device":
            return _agg(c, "card_id", "device_id")
        if name == "presented_by_phone":
            return _agg(c, "card_id", "operator_phone")
        if name == "has_phone":
            return _agg(ds.patients, "patient_id", "phone", None, None)
        if name == "lives_at":
            return _agg(ds.patients, "patient_id", "address", None, None)
        if name == "obtained":
            return _agg(self._items_with_claims, "card_id", "trace_code", "amount")
        if name == "dispensed":
            return _agg(self._items_with_claims, "facility_id", "trace_code", "amount")
        if name == "obtained_drug":
            it = self._items_with_claims
            return _agg(it[it["trace_code"].notna()], "card_id", "item_name", "amount")
        if name == "works_at":
            return _agg(ds.doctors, "doctor_id", "institution_id", None, None)
        if name == "registered_at":
            return _agg(ds.pharmacists, "pharmacist_id", "pharmacy_id", None, None)
        if name == "device_at":
            return _agg(c, "device_id", "facility_id")
        raise KeyError(name)  # pragma: no cover

    def counts(self) -> dict:
        """Node counts per type and edge counts per type."""
        return {
            "nodes": {t: int(len(v)) for t, v in self.nodes.items()},
            "edges": {e: int(len(self.edges(e))) for e in EDGE_TYPES},
        }

    # --- networkx views ------------------------------------------------------------------
    def to_networkx(self, edge_types: Iterable[str] | None = None,
                    nodes: Iterable[str] | None = None) -> nx.MultiDiGraph:
        """A networkx view. ``nodes`` (keys ``"type:id"``) keeps only edges between them.

        Building the whole graph of a large data set is expensive: pass ``nodes`` or use
        :meth:`neighbourhood` for investigations.
        """
        g = nx.MultiDiGraph()
        keep = set(nodes) if nodes is not None else None
        for name in (edge_types or EDGE_TYPES):
            e = self.edges(name)
            if not len(e):
                continue
            k = self._keyed_edges(name)
            if keep is not None:
                sel = (k["s"].isin(keep) & k["d"].isin(keep)).to_numpy()
                e, k = e[sel], k[sel]
            src, dst = k["s"].tolist(), k["d"].tolist()
            attrs = e.drop(columns=["src", "dst"]).to_dict("records")
            for s, d, a in zip(src, dst, attrs):
                for k, v in list(a.items()):
                    if isinstance(v, pd.Timestamp):
                        a[k] = v.isoformat()
                g.add_edge(s, d, key=name, type=name, **a)
        for n in g.nodes:
            t, i = split_key(n)
            g.nodes[n].update(type=t, id=i, label=i)
        if keep is not None:
            for n in keep:
                if n not in g:
                    t, i = split_key(n)
                    g.add_node(n, type=t, id=i, label=i)
        return g

    def _types_for(self, t: str, ids: pd.Series) -> list[str]:
        if t != "facility":
            return [t] * len(ids)
        ft = self._facility_types
        return [ft.get(i, "institution") for i in ids]

    def neighbourhood(self, seeds: Iterable[str], hops: int = 1,
                      types: Iterable[str] | None = None,
                      edge_types: Iterable[str] | None = None) -> nx.MultiDiGraph:
        """The ``hops``-neighbourhood of ``seeds`` (node keys) as a networkx graph.

        ``types`` restricts which node types may be added (seeds are always kept).
        Works on the edge tables, so it is cheap on large data. A seed that is no node of the
        graph is a KeyError naming it (:meth:`check_nodes`).
        """
        frontier = set(self.check_nodes(seeds))
        seen = set(frontier)
        allowed = set(types) if types is not None else None
        names = list(edge_types or EDGE_TYPES)
        keyed = {n: self._keyed_edges(n) for n in names}
        for _ in range(max(0, int(hops))):
            new: set[str] = set()
            for n in names:
                e = keyed[n]
                if not len(e):
                    continue
                a = e["s"].isin(frontier)
                b = e["d"].isin(frontier)
                new.update(e.loc[a, "d"])
                new.update(e.loc[b, "s"])
            if allowed is not None:
                new = {k for k in new if split_key(k)[0] in allowed}
            frontier = new - seen
            seen |= new
            if not frontier:
                break
        return self.to_networkx(names, nodes=seen)

    def _keyed_edges(self, name: str) -> pd.DataFrame:
        cache = self.__dict__.setdefault("_keyed_cache", {})
        if name not in cache:
            et = EDGE_TYPES[name]
            e = self.edges(name)
            cache[name] = pd.DataFrame({
                "s": [node_key(t, i) for t, i in zip(self._types_for(et.src, e["src"]), e["src"])],
                "d": [node_key(t, i) for t, i in zip(self._types_for(et.dst, e["dst"]), e["dst"])],
            })
        return cache[name]
