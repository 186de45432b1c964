"""The exploration API (graphkit/explore.py) on data_samples/demo, with exact results."""

from __future__ import annotations

import html
import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

import graphkit as gk
from graphkit.errors import GraphkitError
from graphkit.explore import TIMELINE_COLUMNS, WHO_ELSE_COLUMNS, BoundRing

DEMO = Path(__file__).resolve().parents[1] / "data_samples" / "demo"


@pytest.fixture(scope="module")
def ds():
    return gk.load(DEMO)


#: rings found on the demo once and frozen, so these exact checks test the exploration API, not
#: the detectors (which are tuned independently; tests/test_detectors.py covers them)
FROZEN = Path(__file__).resolve().parent / "fixtures" / "demo_rings.json"


@pytest.fixture(scope="module")
def rings(ds):
    from graphkit.rings import read_rings

    return gk.rings_of(ds, doc=read_rings(FROZEN))


def test_rings_of_binds_every_ring_to_the_dataset(ds, rings):
    assert [r.ring_id for r in rings] == [f"R{i:04d}" for i in range(1, 19)]
    assert all(isinstance(r, BoundRing) and r.dataset is ds for r in rings)
    assert rings.doc.rings[8] is rings[8].ring
    assert rings.of_typology("gang").summary()["ring_id"].tolist() == [
        "R0009", "R0010", "R0011", "R0012", "R0013"]


def test_bound_ring_reads_through_to_the_ring(rings):
    r = rings.get("R0012")
    assert (r.typology, r.typology_zh, len(r.claims)) == ("gang", "职业骗保团伙", 32)
    assert r.member_ids("phone") == ["18062120281"]
    assert r.member_counts() == {"card": 6, "patient": 7, "pharmacy": 2, "phone": 1}
    assert repr(r).startswith("<Ring R0012 gang (职业骗保团伙) score 0.769: 6 card, 7 patient")


def test_ring_list_get_unknown_id_is_a_clear_error(rings):
    with pytest.raises(GraphkitError, match="no ring 'R9999'"):
        rings.get("R9999")


def test_summary_has_one_row_per_ring(rings):
    s = rings.summary()
    assert len(s) == 18
    assert s["typology"].value_counts().to_dict() == {
        "diversion": 5, "gang": 5, "fake_admission": 5, "impersonation": 3}
    row = s.set_index("ring_id").loc["R0009"]
    assert (row["patients"], row["cards"], row["claims"], row["fund_amount"]) == (
        15, 15, 152, 60377.37)


def test_timeline_is_the_rings_claims_in_time_order(ds, rings):
    r = rings.get("R0012")
    t = gk.timeline(r)
    assert list(t.columns) == TIMELINE_COLUMNS
    assert len(t) == 32 and set(t["claim_id"]) == set(r.claims)
    assert t["settle_time"].is_monotonic_increasing
    assert (t["claim_id"].iloc[0], t["claim_id"].iloc[-1]) == (
        "51202403020000003076", "51202409290000015067")
    assert round(float(t["fund_amount"].sum()), 2) == 8814.54
    assert gk.timeline(r.ring, ds).equals(t)


def test_timeline_of_a_plain_ring_needs_the_dataset(rings):
    with pytest.raises(GraphkitError, match="needs the data set"):
        gk.timeline(rings[0].ring)


def test_plot_timeline_draws_one_lane_per_facility(rings):
    fig = gk.plot_timeline(rings.get("R0012"))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "德仁堂大药房（金堂县天府店） (P51012140186)", "一心堂大药房（金堂县锦绣店） (P51012161165)"]
    assert sum(len(c.get_offsets()) for c in ax.collections) == 32
    assert ax.get_title().startswith("R0012 职业骗保团伙：结算 32 笔")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["购药"]


def test_plot_timeline_draws_chinese_with_a_cjk_font(rings):
    from graphkit.explore import cjk_font_family

    family = cjk_font_family()
    if family is None:
        with pytest.warns(UserWarning, match="fonts-noto-cjk"):
            gk.plot_timeline(rings.get("R0012"))
        return
    ax = gk.plot_timeline(rings.get("R0012")).axes[0]
    assert ax.title.get_fontfamily()[0] == family
    assert ax.get_yticklabels()[0].get_fontfamily()[0] == family


def test_expand_a_ring_with_zero_hops_keeps_its_members(ds, rings):
    r = rings.get("R0012")
    g = gk.expand(ds, r, hops=0)
    assert isinstance(g, nx.MultiDiGraph)
    assert g.number_of_nodes() == 16 and g.number_of_edges() == 21
    assert all(a["member"] and a["seed"] for _, a in g.nodes(data=True))
    assert g.nodes["phone:18062120281"]["role"] == "controller"
    assert sorted({k for *_, k in g.edges(keys=True)}) == [
        "claimed_at", "has_phone", "holds", "presented_by_phone"]


def test_expand_adds_only_the_requested_types(ds, rings):
    g = gk.expand(ds, rings.get("R0012"), hops=1, types=["device"])
    types = pd.Series([a["type"] for _, a in g.nodes(data=True)]).value_counts().to_dict()
    assert types == {"device": 16, "patient": 7, "card": 6, "pharmacy": 2, "phone": 1}


def test_expand_from_a_node_key(ds):
    g = gk.expand(ds, "device:T5101055417201", hops=1, types=["card"])
    assert g.number_of_nodes() == 454
    assert g.nodes["device:T5101055417201"]["seed"] is True
    assert g.nodes["card:A73183958"]["seed"] is False
    assert g.degree("device:T5101055417201") == 453


@pytest.mark.parametrize("bad", ["P51010554172", "shop:P1", "pharmacy:"])
def test_expand_rejects_malformed_node_keys(ds, bad):
    with pytest.raises(GraphkitError, match="not a node key"):
        gk.expand(ds, bad)


def test_expand_rejects_unknown_types(ds):
    with pytest.raises(GraphkitError, match="unknown node type 'shop'"):
        gk.expand(ds, "pharmacy:P51010554172", types=["shop"])


def test_who_else_by_phone_lists_operators_and_the_registered_owner(ds):
    w = gk.who_else(ds, phone="18062120281")
    assert list(w.columns) == WHO_ELSE_COLUMNS
    assert len(w) == 3 and int(w["claims"].sum()) == 16
    assert w["registered"].tolist() == [False, False, True]
    assert w.loc[w["registered"], "patient_id"].tolist() == ["5101218666076193"]


def test_who_else_by_device(ds):
    w = gk.who_else(ds, device="T5101055417201")
    assert (len(w), int(w["claims"].sum())) == (453, 1540)
    top = w.iloc[0]
    assert (top["card_id"], top["claims"], top["fund_amount"]) == ("A73183958", 49, 2680.41)


def test_who_else_by_facility_counts_every_claim_there(ds):
    w = gk.who_else(ds, facility="P51012140186")
    c = ds.claims
    assert int(w["claims"].sum()) == int((c["facility_id"] == "P51012140186").sum()) == 520
    assert len(w) == 197


def test_who_else_by_trace_code_finds_every_settlement(ds):
    w = gk.who_else(ds, trace_code="83166320045536585315")
    assert sorted(w["card_id"]) == ["A30319610", "A70992341", "E8C6492C8E5362DAA"]
    assert w["claims"].tolist() == [1, 1, 1]


def test_who_else_unknown_value_is_empty_with_columns(ds):
    w = gk.who_else(ds, device="no-such-terminal")
    assert list(w.columns) == WHO_ELSE_COLUMNS and len(w) == 0


@pytest.mark.parametrize("kw", [{}, {"phone": "1", "device": "2"}])
def test_who_else_needs_exactly_one_key(ds, kw):
    with pytest.raises(GraphkitError, match="exactly one of"):
        gk.who_else(ds, **kw)


def test_profile_of_a_gang(ds, rings):
    p = gk.profile(ds, rings.get("R0009"))
    assert p[["claims", "cards", "households", "facilities", "devices"]].tolist() == [
        152, 15, 15, 1, 1]
    assert p["pharmacy_share"] == 1.0 and p["top_diagnosis"] is None
    assert p["max_cards_per_device_window"] == 7


def test_compare_a_gang_with_the_dialysis_cohort(ds, rings):
    c = ds.claims
    dialysis = c[c["diagnosis_code"].str.startswith("N18").fillna(False)
                 & (c["facility_id"] == "H51012122004")]
    t = gk.compare(ds, {"gang": rings.get("R0009"), "dialysis": dialysis})
    assert list(t.columns) == ["gang", "dialysis"]
    d = t["dialysis"]
    assert (d["claims"], d["patients"], d["top_diagnosis"], d["top_diagnosis_share"]) == (
        370, 7, "N18", 1.0)
    assert d["foreign_phone_share"] == 0.0 and d["pharmacy_share"] == 0.0
    assert d["top3_weekday_share"] > t.loc["top3_weekday_share", "gang"]


def test_show_a_ring_embeds_its_page_in_an_escaped_srcdoc(rings):
    page = rings.get("R0012").show(height=500)
    out = page._repr_html_()
    assert out.startswith('<div class="graphkit-inline"><iframe ')
    assert 'height:500px' in out
    src = out.split('srcdoc="', 1)[1].split('" sandbox=', 1)[0]
    assert "<" not in src and '"' not in src
    assert html.unescape(src) == page.page
    assert "R0012" in page.page and "个人信息已脱敏" in page.page
    assert "18062120281" not in page.page  # the controller phone is masked


def test_show_a_graph_draws_every_node(ds, rings):
    g = gk.expand(ds, rings.get("R0012"), hops=0)
    page = gk.show(g, ds, title="R0012 <core>")
    data = json.loads(page.page.split('id="gk-data">', 1)[1].split("</script>", 1)[0])
    assert len(data["nodes"]) == 16 and len(data["edges"]) == 21
    assert sum(n["m"] for n in data["nodes"]) == 16
    assert "R0012 &lt;core&gt;" in page.page and "<core>" not in page.page
    assert "18062120281" not in page.page and "vis.Network" in page.page


def test_graph_page_cuts_large_graphs_to_seeds_first(ds):
    g = gk.expand(ds, "device:T5101055417201", hops=1, types=["card"])
    page = gk.show(g, ds, max_nodes=50).page
    data = json.loads(page.split('id="gk-data">', 1)[1].split("</script>", 1)[0])
    assert len(data["nodes"]) == 50
    assert "本图共 454 个节点" in page
    assert any(n["m"] == 1 and n["group"] == "device" for n in data["nodes"])


def test_show_rejects_other_objects():
    with pytest.raises(GraphkitError, match="draws a ring or a networkx graph"):
        gk.show(pd.DataFrame())


def test_show_a_plain_ring_needs_the_dataset(rings):
    with pytest.raises(GraphkitError, match="needs the data set"):
        gk.show(rings[0].ring)


def test_inline_page_saves_the_page(rings, tmp_path):
    p = rings.get("R0012").show().save(tmp_path / "r.html")
    assert p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_package_writes_a_verifiable_package(rings, tmp_path):
    from graphkit.evidence import verify

    out = rings.get("R0012").package(tmp_path / "R0012")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["claim_items.csv", "claims.csv", "graph.html", "manifest.json",
                     "members.csv", "reproduce.cypher", "settings.json", "报告.html"]
    assert verify(out) == []
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["ring_id"] == "R0012" and manifest["masked"] is True


def test_package_of_a_plain_ring_without_doc(ds, rings, tmp_path):
    out = gk.package(rings.get("R0001").ring, tmp_path / "p", dataset=ds)
    assert (out / "graph.html").exists() and not (out / "settings.json").exists()


def test_of_typology_takes_chinese_names_and_refuses_unknown_ones(rings):
    from graphkit.errors import SettingsError

    assert [r.ring_id for r in rings.of_typology("职业骗保团伙")] == \
        [r.ring_id for r in rings.of_typology("gang")]
    with pytest.raises(SettingsError, match="valid: gang"):
        rings.of_typology("gangs")
