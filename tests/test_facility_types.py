"""A facility's type is read by one rule (graphkit.graph.facility_types) in the graph, the
detectors' Context and the ring pages, also where the facility tables are absent."""

from __future__ import annotations

import pandas as pd

import graphkit as gk
from graphkit.detectors.context import Context
from graphkit.graph import EntityGraph, facility_types
from graphkit.render import RingView
from graphkit.rings import Member, Ring
from tests.datadir import minimal_tables, write_dir


def _claims(rows):
    return pd.DataFrame(rows, columns=["facility_id", "claim_type"])


def test_the_tables_decide_and_an_institution_listed_twice_stays_one():
    claims = _claims([("H1", "pharmacy"), ("P1", "pharmacy"), ("P1", "outpatient")])
    got = facility_types(pd.Series(["H1"]), pd.Series(["P1", "H1"]), claims)
    assert got == {"H1": "institution", "P1": "pharmacy"}


def test_an_unlisted_facility_is_a_pharmacy_only_when_every_claim_there_is_a_purchase():
    claims = _claims([("X", "pharmacy"), ("X", "pharmacy"), ("Y", "pharmacy"),
                      ("Y", "inpatient"), (None, "pharmacy"), ("Z", "outpatient")])
    got = facility_types(pd.Series([], dtype="str"), pd.Series([], dtype="str"), claims)
    assert got == {"X": "pharmacy", "Y": "institution", "Z": "institution"}


def _no_facility_tables(tmp_path):
    tables = minimal_tables()
    # H1 also sold patient 1 a drug: it is no pharmacy for that, only P1 (purchases only) is
    tables["claims"].append({"claim_id": "S3", "patient_id": "0000000000000001",
                             "facility_id": "H1", "claim_type": "pharmacy",
                             "settle_time": "2024-03-03 10:00:00", "total_amount": "5"})
    return gk.load(write_dir(tmp_path / "data", tables))


def test_graph_context_and_page_agree_without_facility_tables(tmp_path):
    ds = _no_facility_tables(tmp_path)
    graph = EntityGraph(ds)
    assert [graph.facility_type(f) for f in ("H1", "P1")] == ["institution", "pharmacy"]
    assert graph.nodes["institution"].tolist() == ["H1"]
    assert graph.nodes["pharmacy"].tolist() == ["P1"]
    assert Context(graph).facilities["facility_type"].to_dict() == {"H1": "institution",
                                                                    "P1": "pharmacy"}
    # a ring holding only H1's pharmacy claim still shows H1 as the institution it is
    ring = Ring(typology="gang", score=0.9,
                members=(Member("card", "0000000000000001", "swiped card"),
                         Member("institution", "H1", "colluding facility"),
                         Member("pharmacy", "P1", "colluding pharmacy")),
                claims=("S2", "S3"))
    facilities = sorted(n for n, a in RingView(ring, ds).graph.nodes(data=True)
                        if a["type"] in ("institution", "pharmacy"))
    assert facilities == ["institution:H1", "pharmacy:P1"]
