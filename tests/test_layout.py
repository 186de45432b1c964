"""Fixed ring layouts: each typology drawn as its scheme works, labels never overlapping."""

from __future__ import annotations

import math
import random

import pytest

import graphkit
from graphkit.layout import MAX_ROWS, label_box, label_overlaps, ring_layout
from graphkit.masking import Masker
from graphkit.render import RingView, _Index


def _n(key, role="", member=True, label=None, **kw):
    t = key.split(":", 1)[0]
    return {"key": key, "type": t, "role": role, "member": member,
            "label": label if label is not None else key.split(":", 1)[1], **kw}


def _diversion_chain():
    nodes = [_n("doctor:D1", "prescriber"), _n("doctor:D2", "prescriber"),
             _n("patient:M1", "mule"), _n("card:MC1", "mule card"), _n("card:MC2", "mule card"),
             _n("institution:H1", "dispensing facility"),
             _n("trace_code:X+9", "re-settled pack", label="阿托伐他汀钙片 ×10",
                resold_at=["pharmacy:R1"]),
             _n("pharmacy:R1", "re-settling pharmacy"), _n("card:SC1", "straw card"),
             _n("patient:S1", "straw card holder"), _n("device:T1", member=False),
             _n("card:W1", member=False)]
    edges = [("doctor:D1", "card:MC1"), ("doctor:D2", "card:MC2"), ("patient:M1", "card:MC1"),
             ("patient:M1", "card:MC2"), ("card:MC1", "institution:H1"),
             ("card:MC2", "institution:H1"), ("trace_code:X+9", "institution:H1"),
             ("trace_code:X+9", "pharmacy:R1"), ("card:SC1", "pharmacy:R1"),
             ("trace_code:X+9", "card:SC1"), ("patient:S1", "card:SC1"),
             ("device:T1", "card:MC1"), ("card:W1", "trace_code:X+9")]
    return nodes, edges


def test_diversion_is_a_chain_of_layers_left_to_right():
    nodes, edges = _diversion_chain()
    pos = ring_layout("diversion", nodes, edges)
    chain = ["doctor:D1", "patient:M1", "card:MC1", "institution:H1", "trace_code:X+9",
             "pharmacy:R1", "card:SC1", "patient:S1"]
    xs = [pos[k][0] for k in chain]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert pos["doctor:D1"][0] == pos["doctor:D2"][0] and pos["card:MC1"][0] == pos["card:MC2"][0]
    # a walk-in buyer's card and the terminal are context: below the chain, not in a layer
    lowest = max(label_box(n, *pos[n["key"]])[3] for n in nodes if n["member"])
    assert pos["card:W1"][1] > lowest and pos["device:T1"][1] > lowest
    assert label_overlaps(nodes, pos) == []


def test_diversion_reseller_is_found_from_its_packs_without_roles():
    nodes, edges = _diversion_chain()
    for n in nodes:
        n["role"] = ""
    pos = ring_layout("diversion", nodes, edges)
    assert pos["institution:H1"][0] < pos["trace_code:X+9"][0] < pos["pharmacy:R1"][0]
    assert pos["pharmacy:R1"][0] < pos["card:SC1"][0] < pos["patient:S1"][0]


def test_a_tall_layer_is_split_into_columns():
    nodes = [_n(f"card:C{i:03d}", "mule card") for i in range(MAX_ROWS * 2 + 1)]
    nodes.append(_n("institution:H1", "dispensing facility"))
    edges = [(n["key"], "institution:H1") for n in nodes[:-1]]
    pos = ring_layout("diversion", nodes, edges)
    card_xs = sorted({pos[n["key"]][0] for n in nodes[:-1]})
    assert len(card_xs) == 3 and max(card_xs) < pos["institution:H1"][0]
    assert label_overlaps(nodes, pos) == []


def test_gang_puts_the_colluders_in_the_centre_and_cards_around_them():
    cards = [f"card:C{i:02d}" for i in range(12)]
    nodes = [_n("pharmacy:P1", "colluding pharmacy", label="康宁大药房\nP1", hub=True),
             _n("device:T1", "terminal", hub=True)]
    nodes += [_n(c, "swiped card") for c in cards]
    nodes += [_n(f"patient:H{i:02d}", "card holder", label=f"张*\nH{i:02d}") for i in range(12)]
    edges = [(c, "pharmacy:P1") for c in cards] + [(c, "device:T1") for c in cards]
    edges += [(f"patient:H{i:02d}", c) for i, c in enumerate(cards)]
    pos = ring_layout("gang", nodes, edges)
    assert pos["pharmacy:P1"][1] == pos["device:T1"][1] == 0.0
    radii = {round(math.hypot(*pos[c])) for c in cards}
    assert len(radii) == 1  # one ring, around the centre row
    assert pos["pharmacy:P1"][0] < 0 < pos["device:T1"][0] < radii.pop() / 2
    for i, c in enumerate(cards):  # each holder just outside its card, at the same angle
        h = pos[f"patient:H{i:02d}"]
        assert math.hypot(*h) > math.hypot(*pos[c])
        assert math.isclose(math.atan2(h[1], h[0]), math.atan2(pos[c][1], pos[c][0]),
                            abs_tol=1e-3)
    assert label_overlaps(nodes, pos) == []


def test_fake_admission_groups_the_recruits_by_home_place():
    nodes = [_n("institution:H1", "admitting institution", hub=True),
             _n("doctor:D1", "admitting doctor")]
    edges = []
    places = ["合五村", "龙福村", "合五村", "龙福村", "合五村"]
    for i, place in enumerate(places):
        nodes += [_n(f"patient:P{i}", "admitted", place=place, home=f"{place}{i}号"),
                  _n(f"card:C{i}", "card used")]
        edges += [(f"patient:P{i}", f"card:C{i}"), (f"card:C{i}", "institution:H1"),
                  (f"card:C{i}", "doctor:D1")]
    pos = ring_layout("fake_admission", nodes, edges)
    by_y = sorted(range(len(places)), key=lambda i: pos[f"patient:P{i}"][1])
    assert [places[i] for i in by_y] == ["合五村"] * 3 + ["龙福村"] * 2
    for i in range(len(places)):  # institution | cards | recruits, each beside its card
        assert pos["institution:H1"][0] < pos[f"card:C{i}"][0] < pos[f"patient:P{i}"][0]
        assert pos[f"patient:P{i}"][1] == pos[f"card:C{i}"][1]
    assert label_overlaps(nodes, pos) == []


def test_impersonation_draws_holder_card_and_presenting_phone_side_by_side():
    nodes = [_n("patient:H1", "card holder"), _n("patient:H2", "card holder"),
             _n("card:C1", "card used by another"), _n("card:C2", "card used by another"),
             _n("phone:138", "controller", hub=True),
             _n("patient:U1", "user (owns the presenting phone)"),
             _n("institution:X", member=False)]
    edges = [("patient:H1", "card:C1"), ("patient:H2", "card:C2"), ("card:C1", "phone:138"),
             ("card:C2", "phone:138"), ("patient:U1", "phone:138"), ("card:C1", "institution:X")]
    pos = ring_layout("impersonation", nodes, edges)
    for h, c in (("patient:H1", "card:C1"), ("patient:H2", "card:C2")):
        assert pos[h][0] < pos[c][0] < pos["phone:138"][0] < pos["patient:U1"][0]
        assert pos[h][1] == pos[c][1]
    assert pos["patient:U1"][1] == pos["phone:138"][1]
    assert label_overlaps(nodes, pos) == []


def test_layout_does_not_depend_on_the_order_of_its_input():
    nodes, edges = _diversion_chain()
    pos = ring_layout("diversion", nodes, edges)
    shuffled_nodes, shuffled_edges = list(nodes), list(edges)
    rng = random.Random(3)
    rng.shuffle(shuffled_nodes)
    rng.shuffle(shuffled_edges)
    assert ring_layout("diversion", shuffled_nodes, shuffled_edges) == pos
    assert "group" not in nodes[0]  # the caller's nodes are not written to


def test_label_overlaps_finds_two_labels_drawn_on_each_other():
    nodes = [_n("card:A"), _n("card:B")]
    assert label_overlaps(nodes, {"card:A": (0, 0), "card:B": (10, 5)}) == [("card:A", "card:B")]
    assert label_overlaps(nodes, {"card:A": (0, 0), "card:B": (0, 200)}) == []


@pytest.fixture(scope="module")
def demo_views():
    ds = graphkit.load("data_samples/demo")
    doc = graphkit.find_rings(ds)
    ix, masker = _Index(ds), Masker(ds)
    return [RingView(r, ds, masker.scoped(), index=ix) for r in doc.rings]


def test_no_label_overlaps_on_any_demo_ring(demo_views):
    assert {v.ring.typology for v in demo_views} == {"diversion", "gang", "fake_admission",
                                                     "impersonation"}
    for v in demo_views:
        nodes, pos = v.layout_nodes(), v.positions()
        assert set(pos) == set(v.graph.nodes)
        assert label_overlaps(nodes, pos) == [], v.ring.ring_id


def test_demo_diversion_rings_draw_one_node_per_drug_and_reseller(demo_views):
    for v in (v for v in demo_views if v.ring.typology == "diversion"):
        packs = [a for _, a in v.graph.nodes(data=True) if a["type"] == "trace_code"]
        keys = [(a["drug"], tuple(a["resold_at"])) for a in packs]
        assert len(keys) == len(set(keys))
        assert sum(a["n_codes"] for a in packs) == len(v.trace_codes)
        assert len(packs) < 10 < len(v.trace_codes)


def test_no_label_overlaps_on_a_100k_synth(tmp_path):
    from graphkit.synth import generate

    generate(tmp_path / "s100k", claims=100_000, seed=7)
    ds = graphkit.load(tmp_path / "s100k")
    doc = graphkit.find_rings(ds)
    ix, masker = _Index(ds), Masker(ds)
    assert len({r.typology for r in doc.rings}) == 4
    for ring in doc.rings:
        v = RingView(ring, ds, masker.scoped(), index=ix)
        assert label_overlaps(v.layout_nodes(), v.positions()) == [], ring.ring_id


_HASH_SCRIPT = r"""
import json, sys
from graphkit.layout import ring_layout
case = json.load(open(sys.argv[1], encoding="utf-8"))
pos = ring_layout(case["typology"], case["nodes"], [tuple(e) for e in case["edges"]])
print(json.dumps(sorted(pos.items())))
"""


def test_a_layout_is_the_same_whatever_the_hash_seed():
    """Python seeds its string hashing per process, and a set iterates in that order: positions
    summed in it differ in the last bit and reorder ties. A layout never depends on it. The case
    is a diversion ring of a 100k synth (51 nodes, 130 links) that once did."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    case = Path(__file__).parent / "fixtures" / "layout_diversion_r5.json"
    out = set()
    for seed in ("0", "1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out.add(subprocess.run([sys.executable, "-c", _HASH_SCRIPT, str(case)], env=env,
                               check=True, capture_output=True, text=True).stdout)
    assert len(out) == 1
