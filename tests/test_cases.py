"""Case continuity across runs (graphkit.cases and ``graphkit rings --previous``)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from graphkit.cases import assign_cases, derived_case_id
from graphkit.cli import main
from graphkit.rings import Member, Ring, RingsDocument

DEMO = Path(__file__).resolve().parents[1] / "data_samples" / "demo"


def _ring(typology, people, *places, score=0.8):
    return Ring(typology, score, tuple(Member("patient", p) for p in people)
                + tuple(Member("pharmacy", f) for f in places))


def test_without_an_earlier_run_every_ring_is_new_with_an_id_from_its_members_not_its_rank():
    a, b = _ring("gang", "ABC", "P1"), _ring("diversion", "DEF")
    (ra, rb), gone = assign_cases([a, b])
    assert (ra.case_status, rb.case_status, gone) == ("new", "new", [])
    (rb2, ra2), _ = assign_cases([b, a])
    assert (ra.case_id, rb.case_id) == (ra2.case_id, rb2.case_id) == (derived_case_id(a), derived_case_id(b))
    assert ra.case_id != rb.case_id and not ra.repeat


def test_a_ring_overlapping_an_earlier_case_keeps_its_id_and_says_how_it_changed():
    (old_a, old_b, old_c), _ = assign_cases([_ring("gang", "ABCD", "P1"), _ring("gang", "EFGH"),
                                            _ring("fake_admission", "WXYZ")])
    previous = RingsDocument(rings=(old_a, old_b, old_c))
    now = [_ring("gang", "ABCDE", "P1"),  # grown (A–D and one more)
           _ring("gang", "EFG"),  # shrunk
           _ring("impersonation", "QRS")]  # new
    (grown, shrunk, new), gone = assign_cases(now, previous)
    assert (grown.case_id, grown.case_status) == (old_a.case_id, "grown")
    assert (shrunk.case_id, shrunk.case_status) == (old_b.case_id, "shrunk")
    assert new.case_status == "new" and new.case_id not in {old_a.case_id, old_b.case_id}
    assert [g["case_id"] for g in gone] == [old_c.case_id]
    # E was in the other earlier ring: a repeat too
    assert grown.repeat == ("patient:A", "patient:B", "patient:C", "patient:D", "patient:E",
                            "pharmacy:P1")
    (same,), _ = assign_cases([_ring("gang", "ABCD", "P1")], previous)
    assert (same.case_id, same.case_status) == (old_a.case_id, "unchanged")


def test_matching_is_one_to_one_best_overlap_first():
    (old,), _ = assign_cases([_ring("gang", "ABCD")])
    (far, near), _ = assign_cases([_ring("gang", "ABCXY"), _ring("gang", "ABCD")],
                                  RingsDocument(rings=(old,)))
    assert (near.case_id, near.case_status) == (old.case_id, "unchanged")
    assert far.case_status == "new"


def test_a_member_seen_in_any_earlier_run_of_the_chain_stays_a_repeat():
    (first,), _ = assign_cases([_ring("gang", "ABC", "P1")])
    (second,), _ = assign_cases([_ring("diversion", "XYZ", "P1")], RingsDocument(rings=(first,)))
    (third,), _ = assign_cases([_ring("diversion", "XYZ", "P1", "P2")], RingsDocument(rings=(second,)))
    assert second.repeat == ("pharmacy:P1",)
    assert third.repeat == ("patient:X", "patient:Y", "patient:Z", "pharmacy:P1")


def test_rings_previous_on_the_cli_keeps_case_ids_and_lists_what_is_gone(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(first), "--no-pages", "-q"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(second), "--no-pages",
                                    "--typology", "gang", "--previous", str(first / "rings.json")])
    assert res.exit_code == 0, res.output
    a = json.loads((first / "rings.json").read_text(encoding="utf-8"))
    b = json.loads((second / "rings.json").read_text(encoding="utf-8"))
    assert {r["case_status"] for r in a["rings"]} == {"new"} and a["cases_gone"] == []
    gangs = {r["case_id"] for r in a["rings"] if r["typology"] == "gang"}
    assert {r["case_id"] for r in b["rings"]} == gangs
    assert {r["case_status"] for r in b["rings"]} == {"unchanged"}
    assert {g["case_id"] for g in b["cases_gone"]} == {r["case_id"] for r in a["rings"]} - gangs
    assert "unchanged (未变)" in res.output
    again = tmp_path / "again"
    CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(again), "--no-pages", "-q", "--typology",
                              "gang", "--previous", str(first / "rings.json")])
    assert (again / "rings.json").read_bytes() == (second / "rings.json").read_bytes()


def test_one_more_month_of_a_gangs_swipes_marks_its_case_grown(tmp_path):
    """The same gang a month later, two more collected cards swiped in its new sessions: the
    ring keeps its case id and is 扩大 (grown); the same data again is 未变 (unchanged)."""
    from datetime import timedelta

    import graphkit as gk
    from tests.test_detectors import World, background, day, plant_gang

    def world(extra_month: bool):
        w = World()
        background(w)
        ids = plant_gang(w, cards=8, days=6)
        if extra_month:
            more = [f"11000000000009{i}" for i in range(2)]
            for pid in more:
                w.person(pid, region="510121")
            for d in range(3):  # three more sessions, the new cards in them
                for i, pid in enumerate(ids + more):
                    w.claim(pid, "P1", day(70 + d * 9, 14) + timedelta(minutes=2 * i),
                            device="DEV-P1-1", fund=180.0)
        return w

    world(False).load(tmp_path / "march")
    world(True).load(tmp_path / "april")
    march = gk.find_rings(gk.load(tmp_path / "march"))
    again = gk.find_rings(gk.load(tmp_path / "march"), previous=march)
    april = gk.find_rings(gk.load(tmp_path / "april"), previous=march)
    (gang_march,) = march.of_typology("gang")
    (gang_again,) = again.of_typology("gang")
    (gang_april,) = april.of_typology("gang")
    assert (gang_again.case_id, gang_again.case_status) == (gang_march.case_id, "unchanged")
    assert (gang_april.case_id, gang_april.case_status) == (gang_march.case_id, "grown")
    assert len(gang_april.patients) > len(gang_march.patients)
