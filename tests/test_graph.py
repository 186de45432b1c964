"""The entity graph's node and edge counts on the sample, computed independently from the raw
files, and the networkx views built from it."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

import graphkit as gk
from graphkit.graph import EDGE_TYPES, EntityGraph, node_key

DEMO = Path(__file__).resolve().parents[1] / "data_samples" / "demo"


def _raw(table: str) -> pd.DataFrame:
    path = next(DEMO.glob(f"{table}.csv*"))
    return pd.read_csv(path, dtype=str, keep_default_na=False).replace("", pd.NA)


@pytest.fixture(scope="module")
def graph():
    return EntityGraph(gk.load(DEMO))


@pytest.fixture(scope="module")
def raw():
    return {t: _raw(t) for t in ("patients", "cards", "claims", "claim_items", "institutions",
                                 "pharmacies", "doctors", "pharmacists")}


def _pairs(df: pd.DataFrame, a: str, b: str) -> int:
    return len(df[[a, b]].dropna().drop_duplicates())


def test_node_counts_match_the_raw_files(graph, raw):
    n = graph.counts()["nodes"]
    c, it, p = raw["claims"], raw["claim_items"], raw["patients"]
    assert n["patient"] == p["patient_id"].nunique()
    assert n["card"] == len(set(raw["cards"]["card_id"]) | set(c["card_id"].dropna()))
    assert n["institution"] == raw["institutions"]["institution_id"].nunique()
    assert n["pharmacy"] == raw["pharmacies"]["pharmacy_id"].nunique()
    assert n["doctor"] == len(set(raw["doctors"]["doctor_id"]) | set(c["doctor_id"].dropna()))
    assert n["phone"] == len(set(p["phone"].dropna()) | set(c["operator_phone"].dropna()))
    assert n["address"] == p["address"].nunique()
    assert n["device"] == c["device_id"].nunique()
    assert n["trace_code"] == it["trace_code"].nunique()
    assert n["patient"] > 1000 and n["trace_code"] > 1000


def test_edge_counts_match_the_raw_files(graph, raw):
    e = graph.counts()["edges"]
    c, p = raw["claims"], raw["patients"]
    items = raw["claim_items"].merge(c[["claim_id", "card_id", "facility_id"]], on="claim_id")
    assert set(e) == set(EDGE_TYPES)
    assert e["holds"] == _pairs(raw["cards"], "patient_id", "card_id")
    assert e["claimed_at"] == _pairs(c, "card_id", "facility_id")
    assert e["prescribed_by"] == _pairs(c, "card_id", "doctor_id")
    assert e["presented_by_device"] == _pairs(c, "card_id", "device_id")
    assert e["presented_by_phone"] == _pairs(c, "card_id", "operator_phone")
    assert e["has_phone"] == _pairs(p, "patient_id", "phone")
    assert e["lives_at"] == _pairs(p, "patient_id", "address")
    assert e["obtained"] == _pairs(items, "card_id", "trace_code")
    assert e["dispensed"] == _pairs(items, "facility_id", "trace_code")
    assert e["works_at"] == _pairs(raw["doctors"], "doctor_id", "institution_id")
    assert e["registered_at"] == _pairs(raw["pharmacists"], "pharmacist_id", "pharmacy_id")


def test_claim_edges_carry_counts_and_fund(graph, raw):
    e = graph.edges("claimed_at")
    c = raw["claims"]
    assert int(e["count"].sum()) == len(c)
    assert round(float(e["fund"].sum()), 2) == round(float(c["fund_amount"].astype(float).sum()), 2)


def test_a_neighbourhood_holds_the_seed_and_its_links(graph):
    pharmacy = graph.dataset.pharmacies["pharmacy_id"].iloc[0]
    seed = node_key("pharmacy", pharmacy)
    g = graph.neighbourhood([seed], hops=1)
    assert isinstance(g, nx.MultiDiGraph) and seed in g
    cards = set(graph.dataset.claims.loc[graph.dataset.claims["facility_id"] == pharmacy, "card_id"])
    assert {n for n in g if n.startswith("card:")} >= {node_key("card", c) for c in cards}
    assert all(g.nodes[n]["type"] == n.split(":", 1)[0] for n in g)


def test_a_view_on_given_nodes_keeps_only_edges_between_them(graph):
    card = graph.dataset.cards["card_id"].iloc[0]
    holder = graph.dataset.cards["patient_id"].iloc[0]
    g = graph.to_networkx(nodes=[node_key("card", card), node_key("patient", holder)])
    assert set(g.nodes) == {node_key("card", card), node_key("patient", holder)}
    assert [k for *_, k in g.edges(keys=True)] == ["holds"]


def test_an_unknown_node_is_a_key_error_with_a_hint_not_a_graph_of_nothing():
    ds = gk.load(DEMO)
    g = EntityGraph(ds)
    with pytest.raises(KeyError, match="no pharmacy 'NOPE' in this data .*nearest ids: pharmacy:P"):
        g.neighbourhood(["pharmacy:NOPE"])
    with pytest.raises(KeyError, match="type one of patient, card"):
        g.neighbourhood(["shop:1"])
    with pytest.raises(KeyError, match="no pharmacy 'NOPE'"):
        gk.expand(ds, ["pharmacy:NOPE"])
    assert repr(g).startswith("<EntityGraph of ") and "20,000 claims" in repr(g)


# ------------------------------------------------------------------------------------------------
# One edge vocabulary: the graph, the pages and the Neo4j store
# ------------------------------------------------------------------------------------------------

def test_the_pages_edge_kinds_are_the_graphs_edges_and_their_views():
    from graphkit.render import EDGE_STYLE

    kinds = {e.style: e for e in EDGE_TYPES.values()}
    views = {v.style: (e, v) for e in EDGE_TYPES.values() for v in e.views}
    assert not set(kinds) & set(views) and len(kinds) == len(EDGE_TYPES)
    assert set(EDGE_STYLE) == set(kinds) | set(views)
    for style, e in kinds.items():
        assert EDGE_STYLE[style] == (e.zh, e.colour), style
    for style, (e, v) in views.items():
        assert EDGE_STYLE[style] == (v.zh or e.zh, v.colour or e.colour), style
    # the kinds the ring pages draw (graphkit.render.RingView._build_graph)
    assert {"holds", "used", "swipe", "visit", "stay", "prescribed", "pharmacist", "device",
            "scan", "tel", "addr", "trace", "trace_buy", "drug"} <= set(EDGE_STYLE)


def test_one_chinese_label_per_edge_wherever_it_is_drawn():
    from graphkit.render import EDGE_STYLE

    # pharmacist review, drugs dispensed, packs bought and terminals: one label each
    assert EDGE_TYPES["dispensed_by"].zh == EDGE_STYLE["pharmacist"][0] == "药师审方"
    assert EDGE_TYPES["obtained_drug"].zh == EDGE_STYLE["drug"][0] == "配药"
    assert EDGE_TYPES["obtained"].zh == EDGE_STYLE["trace_buy"][0] == "购药"
    assert EDGE_TYPES["presented_by_device"].zh == EDGE_STYLE["device"][0] == "终端刷卡"


def test_the_stores_relationship_types_are_the_ones_its_load_queries_write():
    import re

    from graphkit.graph import relationship_types
    from graphkit.neo4j_backend import RELATIONSHIPS, get_query, list_queries

    written = {rel for n in list_queries("load")
               for rel in re.findall(r"(?:CREATE|MERGE) \([^)]*\)-\[:(\w+)\]->", get_query(n).body)}
    assert RELATIONSHIPS == relationship_types() == tuple(sorted(written))
    model = get_query("schema").text.split("Returns: nothing", 1)[1]
    assert set(re.findall(r"\[:(\w+)\]", model)) == set(RELATIONSHIPS)
