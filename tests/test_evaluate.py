"""Tests for graphkit.evaluate and ``graphkit eval``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from graphkit.cli import main
from graphkit.errors import RingsFileError
from graphkit.evaluate import evaluate, evaluate_thresholds, format_table
from graphkit.rings import Member, Ring, RingsDocument, write_rings
from graphkit.synth import generate


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("evalsynth")
    generate(d, claims=3000, seed=21)
    return d


def _truth_as_rings(d) -> RingsDocument:
    truth = pd.read_csv(d / "truth.csv", dtype=str)
    rings = []
    for rid, g in truth.groupby("ring_id", sort=True):
        rings.append(Ring(typology=g.typology.iloc[0], score=1.0,
                          members=tuple(Member(t, i) for t, i in zip(g.member_type, g.member_id))))
    return RingsDocument(rings=tuple(rings))


def _small_case(tmp_path):
    """Truth: gang G1 {p1..p4}, gang G2 {p5,p6}, diversion D1 {p7,p8,p9}; cards c1->p1, c9->p9."""
    (tmp_path / "truth.csv").write_text(
        "ring_id,typology,member_type,member_id\n"
        "G1,gang,patient,p1\nG1,gang,patient,p2\nG1,gang,patient,p3\nG1,gang,patient,p4\n"
        "G2,gang,patient,p5\nG2,gang,patient,p6\nG2,gang,pharmacy,P9\n"
        "D1,diversion,patient,p7\nD1,diversion,patient,p8\nD1,diversion,patient,p9\n",
        encoding="utf-8")
    (tmp_path / "cards.csv").write_text("card_id,patient_id,card_type\nc1,p1,03\nc9,p9,01\n",
                                        encoding="utf-8")
    return tmp_path


def _ring(typ, patients=(), cards=()):
    return Ring(typology=typ, score=0.5, members=tuple(
        [Member("patient", p) for p in patients] + [Member("card", c) for c in cards]))


def test_truth_turned_into_rings_scores_one(synth_dir):
    res = evaluate(_truth_as_rings(synth_dir), synth_dir)
    assert res["overall"] == {"ring_recall": 1.0, "ring_precision": 1.0, "ring_f1": 1.0,
                              "patient_precision": 1.0, "patient_recall": 1.0}
    for t in ("gang", "impersonation", "diversion", "fake_admission"):
        assert res["by_typology"][t]["ring_f1"] == 1.0


def test_random_rings_score_zero(synth_dir):
    pts = pd.read_csv(synth_dir / "patients.csv", dtype=str).patient_id.to_numpy()
    truth = set(pd.read_csv(synth_dir / "truth.csv", dtype=str).member_id)
    pool = np.array([p for p in pts if p not in truth])
    rng = np.random.default_rng(0)
    rings = [_ring(t, rng.choice(pool, 8, replace=False))
             for t in ("gang", "impersonation", "diversion", "fake_admission") for _ in range(5)]
    res = evaluate(RingsDocument(rings=tuple(rings)), synth_dir)
    assert res["overall"]["ring_recall"] == 0.0
    assert res["overall"]["ring_precision"] == 0.0
    assert res["overall"]["ring_f1"] == 0.0
    assert res["overall"]["patient_precision"] == 0.0


def test_hand_computed_small_case(tmp_path):
    d = _small_case(tmp_path)
    rings = (
        _ring("gang", ["p2", "p3", "p4"], ["c1"]),      # = G1 via card c1 -> p1: J = 1
        _ring("gang", ["p5", "p6", "x1", "x2", "x3"]),  # G2: J = 2/5 < 0.5, no match
        _ring("diversion", ["p7", "p8"]),               # D1: J = 2/3 -> match
        _ring("diversion", ["p7", "p8", "p9"]),         # J = 1, better: takes D1 first
        _ring("impersonation", ["p1", "p2"]),           # no impersonation truth
    )
    res = evaluate(RingsDocument(rings=rings), d)
    g, dv, im = (res["by_typology"][t] for t in ("gang", "diversion", "impersonation"))
    assert (g["matched_rings"], g["ring_recall"], g["ring_precision"]) == (1, 0.5, 0.5)
    assert g["patient_precision"] == pytest.approx(6 / 9)
    assert g["patient_recall"] == 1.0
    assert (dv["matched_rings"], dv["ring_recall"], dv["ring_precision"]) == (1, 1.0, 0.5)
    assert (im["truth_rings"], im["ring_recall"], im["ring_precision"], im["ring_f1"]) == (0, 0.0, 0.0, 0.0)
    o = res["overall"]
    assert o["ring_recall"] == pytest.approx(2 / 3)
    assert o["ring_precision"] == pytest.approx(2 / 5)
    assert o["ring_f1"] == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))
    assert o["patient_precision"] == pytest.approx(9 / 12)   # flagged: p1-p9 + x1-x3
    assert o["patient_recall"] == 1.0


def test_no_detected_rings_gives_zero_not_error(tmp_path):
    res = evaluate(RingsDocument(rings=()), _small_case(tmp_path))
    assert res["overall"] == {"ring_recall": 0.0, "ring_precision": 0.0, "ring_f1": 0.0,
                              "patient_precision": 0.0, "patient_recall": 0.0}


def test_card_counts_as_itself_without_cards_table(tmp_path):
    d = _small_case(tmp_path)
    (d / "cards.csv").unlink()
    res = evaluate(RingsDocument(rings=(_ring("gang", ["p2", "p3"], ["c1"]),)), d)
    assert res["by_typology"]["gang"]["matched_rings"] == 0   # {p2,p3,c1} vs G1: J = 2/5


def test_gbk_nhsa_cards_table_is_read(tmp_path):
    d = _small_case(tmp_path)
    (d / "cards.csv").write_bytes("mdtrt_cert_no,psn_no,mdtrt_cert_type\nc1,p1,03\n".encode("gbk"))
    res = evaluate(RingsDocument(rings=(_ring("gang", ["p2", "p3", "p4"], ["c1"]),)), d)
    assert res["by_typology"]["gang"]["matched_rings"] == 1


def test_missing_truth_raises(tmp_path):
    with pytest.raises(RingsFileError, match="truth.csv"):
        evaluate(RingsDocument(rings=()), tmp_path)


def test_a_truth_ring_of_an_unknown_typology_is_an_error_naming_its_line(tmp_path):
    """A typo in truth.csv's typology would score that ring as never found, silently."""
    (tmp_path / "truth.csv").write_text("ring_id,typology,member_type,member_id\n"
                                        "T1,gang,patient,p1\nT2,impersonaton,patient,p2\n",
                                        encoding="utf-8")
    with pytest.raises(RingsFileError, match="line 3: unknown typology 'impersonaton'"):
        evaluate(RingsDocument(rings=()), tmp_path)


def test_format_table_lists_every_typology(tmp_path):
    text = format_table(evaluate(RingsDocument(rings=()), _small_case(tmp_path)))
    for word in ("gang", "impersonation", "diversion", "fake_admission", "overall"):
        assert word in text


def test_cli_eval_json(tmp_path):
    (tmp_path / "data").mkdir()
    d = _small_case(tmp_path / "data")
    write_rings(RingsDocument(rings=(_ring("gang", ["p1", "p2", "p3", "p4"]),)), tmp_path / "out")
    res = CliRunner().invoke(main, ["eval", str(tmp_path / "out" / "rings.json"), str(d), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"overall", "by_typology", "miss_counts", "misses", "overlap", "lookalikes",
                        "by_scenario", "min_score"}
    assert set(out["overall"]) == {"ring_recall", "ring_precision", "ring_f1", "patient_precision",
                                   "patient_recall"}
    assert out["overall"]["ring_precision"] == 1.0


def test_cli_eval_malformed_rings_is_a_data_error_exit_1(tmp_path):
    d = _small_case(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"rings": [{"members": []}]}', encoding="utf-8")
    res = CliRunner().invoke(main, ["eval", str(bad), str(d)])
    assert res.exit_code == 1
    assert "typology" in res.output


def test_cli_eval_missing_truth_is_a_data_error_exit_1(tmp_path):
    write_rings(RingsDocument(rings=()), tmp_path / "out")
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(main, ["eval", str(tmp_path / "out" / "rings.json"), str(tmp_path / "empty")])
    assert res.exit_code == 1
    assert "truth.csv" in res.output


def _miss_case(tmp_path, lookalikes=True):
    """Truth: gangs G1 {a1-a6}, G2 {b1-b6}, G3 {c1-c4}; impersonation I1 {i1,i2}, I2 {j1,j2};
    diversion D1 {d1-d4}; fake_admission F1 {f1-f6}, F2 {h1-h4}. Look-alike cohorts: dialysis
    L1 {n1-n5}, nursing home L2 {m1-m6}."""
    truth = {"G1": ("gang", "a", 6), "G2": ("gang", "b", 6), "G3": ("gang", "c", 4),
             "I1": ("impersonation", "i", 2), "I2": ("impersonation", "j", 2),
             "D1": ("diversion", "d", 4), "F1": ("fake_admission", "f", 6),
             "F2": ("fake_admission", "h", 4)}
    (tmp_path / "truth.csv").write_text(
        "ring_id,typology,member_type,member_id\n" + "".join(
            f"{rid},{typ},patient,{prefix}{k}\n" for rid, (typ, prefix, n) in truth.items()
            for k in range(1, n + 1)), encoding="utf-8")
    if lookalikes:
        (tmp_path / "lookalikes.csv").write_text(
            "cohort_id,kind,patient_id\n" + "".join(f"L1,dialysis_cohort,n{k}\n" for k in range(1, 6))
            + "".join(f"L2,nursing_home,m{k}\n" for k in range(1, 7)), encoding="utf-8")
    return tmp_path


def _people(prefix, *numbers):
    return [f"{prefix}{k}" for k in numbers]


#: detected rings in rank order (#1 first), each with the kind it must be given when unmatched
MISS_RINGS = (
    ("gang", _people("a", 1, 2, 3, 4, 5, 6), None),                       # = G1
    ("impersonation", _people("a", 1, 2, 3, 4), "duplicate"),             # G1's people again
    ("gang", _people("b", 1, 2), "split"),                                # G2 in two pieces
    ("gang", _people("b", 3, 4), "split"),
    ("gang", _people("c", 1, 2, 3, 4) + _people("x", 1, 2, 3, 4, 5, 6), "diluted"),  # G3 + 6
    ("impersonation", _people("i", 1, 2) + _people("j", 1, 2) + ["x7"], "merged"),  # I1 + I2
    ("fake_admission", _people("d", 1, 2, 3, 4), "mistyped"),             # = D1, other typology
    ("gang", _people("n", 1, 2, 3, 4), "lookalike"),                      # the dialysis room
    ("gang", _people("y", 1, 2, 3), "innocent"),
    ("fake_admission", _people("f", 1, 2, 3, 4, 5, 6), None),             # = F1
    ("diversion", ["f1", "h1", "y4", "y5", "y6"], "mixed"),
    ("impersonation", _people("y", 1, 2, 3), "duplicate"),                # #9's people again
)


def _miss_doc(scores=None):
    scores = scores or [0.9] * len(MISS_RINGS)
    return RingsDocument(rings=tuple(
        Ring(typology=typ, score=sc, members=tuple(Member("patient", p) for p in pats))
        for (typ, pats, _), sc in zip(MISS_RINGS, scores)))


def test_every_unmatched_detected_ring_gets_its_miss_kind(tmp_path):
    res = evaluate(_miss_doc(), _miss_case(tmp_path))
    got = {m["ring_id"]: m["kind"] for m in res["misses"]["detected"]}
    want = {f"#{i}": kind for i, (_, _, kind) in enumerate(MISS_RINGS, start=1) if kind}
    assert got == want
    assert res["miss_counts"]["detected"] == {"duplicate": 2, "mistyped": 1, "merged": 1,
                                              "split": 2, "diluted": 1, "lookalike": 1,
                                              "innocent": 1, "mixed": 1}


def test_every_unmatched_truth_ring_gets_its_miss_kind(tmp_path):
    res = evaluate(_miss_doc(), _miss_case(tmp_path))
    got = {m["ring_id"]: (m["kind"], m["detail"]) for m in res["misses"]["truth"]}
    assert got == {
        "G2": ("split", "2 piece(s) (#3, #4) hold 4 of its 6 patients"),
        "G3": ("diluted", "#5 holds 4 of its 4 patients among 10"),
        "I1": ("merged", "#6 holds it and I2"),
        "I2": ("merged", "#6 holds it and I1"),
        "D1": ("mistyped", "Jaccard 1.00 with #7 (fake_admission)"),
        "F2": ("missed", "at most 1 of its 4 patients in one detected ring")}


def test_miss_kinds_are_counted_per_typology(tmp_path):
    by = evaluate(_miss_doc(), _miss_case(tmp_path))["by_typology"]
    nonzero = {t: ({k: v for k, v in m["truth_misses"].items() if v},
                   {k: v for k, v in m["detected_misses"].items() if v}) for t, m in by.items()}
    assert nonzero == {
        "gang": ({"split": 1, "diluted": 1}, {"split": 2, "diluted": 1, "lookalike": 1, "innocent": 1}),
        "impersonation": ({"merged": 2}, {"duplicate": 2, "merged": 1}),
        "diversion": ({"mistyped": 1}, {"mixed": 1}),
        "fake_admission": ({"missed": 1}, {"mistyped": 1})}
    assert [by[t]["matched_rings"] for t in by] == [1, 0, 0, 1]


def test_a_lookalike_ring_is_innocent_without_lookalikes_csv(tmp_path):
    res = evaluate(_miss_doc(), _miss_case(tmp_path, lookalikes=False))
    kinds = {m["ring_id"]: m["kind"] for m in res["misses"]["detected"]}
    assert (kinds["#8"], kinds["#9"]) == ("innocent", "innocent")
    assert res["lookalikes"] is None


def test_lookalike_cohorts_reported_as_rings_are_counted(tmp_path):
    la = evaluate(_miss_doc(), _miss_case(tmp_path))["lookalikes"]
    assert (la["cohorts"], la["reported"], la["rings"], la["reported_cohorts"]) == (2, 1, 1, ["L1"])
    assert la["by_kind"] == {"dialysis_cohort": {"cohorts": 1, "reported": 1},
                             "nursing_home": {"cohorts": 1, "reported": 0}}


def test_largest_patient_overlap_between_two_rings(tmp_path):
    ov = evaluate(_miss_doc(), _miss_case(tmp_path))["overlap"]
    # #2 lies inside #1 and #12 equals #9; #10 and #11 share f1 (1 of 5)
    assert ov == {"max_shared": 1.0, "worst_pair": ["#1", "#2"], "pairs_over_half": 2}


def test_min_score_scores_only_the_rings_at_or_above_it(tmp_path):
    d = _miss_case(tmp_path)
    scores = [0.9, 0.4, 0.6, 0.3, 0.5, 0.5, 0.45, 0.35, 0.3, 0.8, 0.3, 0.3]
    doc = _miss_doc(scores)
    at = evaluate_thresholds(doc, d, (0.3, 0.5, 0.7))
    assert sorted(at) == [0.3, 0.5, 0.7]
    assert at[0.3]["overall"]["ring_precision"] == pytest.approx(2 / 12)
    # 0.5 keeps #1, #3, #5, #6 and #10 (0.5 itself included)
    assert [m["ring_id"] for m in at[0.5]["misses"]["detected"]] == ["#3", "#5", "#6"]
    assert at[0.5]["overall"]["ring_precision"] == pytest.approx(2 / 5)
    assert at[0.5]["by_typology"]["gang"]["detected_rings"] == 3
    # without the impersonation duplicate of G1 (0.4) nothing shares more than half
    assert at[0.5]["overlap"]["pairs_over_half"] == 0
    assert at[0.7]["overall"]["ring_precision"] == 1.0
    assert at[0.7]["overall"]["ring_recall"] == pytest.approx(2 / 8)
    assert at[0.7]["min_score"] == 0.7
    assert evaluate(doc, d, min_score=0.5)["misses"] == at[0.5]["misses"]


def test_recall_precision_and_misses_by_scenario(tmp_path):
    d = _miss_case(tmp_path)
    (d / "scenarios.csv").write_text(
        "ring_id,typology,scenario,params\nG1,gang,pool_subsets,{}\nG2,gang,pool_subsets,{}\n"
        "G3,gang,walk_in,\"{\"\"facilities\"\": 2}\"\n", encoding="utf-8")
    sc = evaluate(_miss_doc(), d)["by_scenario"]
    pool, walk = sc["gang"]["pool_subsets"], sc["gang"]["walk_in"]
    # #1 counts for G1's scenario, #3 and #4 for G2's; #8 and #9 hold no planted gang patient
    assert (pool["truth_rings"], pool["matched_rings"], pool["detected_rings"],
            pool["matched_detected"]) == (2, 1, 3, 1)
    assert (pool["ring_recall"], pool["ring_precision"]) == (0.5, pytest.approx(1 / 3))
    assert pool["misses"]["split"] == 1
    assert (walk["truth_rings"], walk["detected_rings"], walk["ring_f1"]) == (1, 1, 0.0)
    assert walk["misses"]["diluted"] == 1
    assert sc["fake_admission"]["(none)"]["truth_rings"] == 2


def test_cli_eval_text_names_the_misses(tmp_path):
    (tmp_path / "data").mkdir()
    d = _miss_case(tmp_path / "data")
    write_rings(_miss_doc(), tmp_path / "out")
    res = CliRunner().invoke(main, ["eval", str(tmp_path / "out" / "rings.json"), str(d)])
    assert res.exit_code == 0, res.output
    assert "unmatched truth rings:    mistyped 1, merged 2, split 1, diluted 1, missed 1" in res.output
    assert "look-alike cohorts reported as rings: 1 of 2" in res.output
    res = CliRunner().invoke(main, ["eval", str(tmp_path / "out" / "rings.json"), str(d), "--json",
                                    "--min-score", "0.95"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["overall"]["ring_recall"] == 0.0
