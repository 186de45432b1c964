"""Tests for graphkit.evaluate and ``graphkit eval``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from graphkit.cli import main
from graphkit.errors import RingsFileError
from graphkit.evaluate import evaluate, format_table
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
    assert set(out) == {"overall", "by_typology"}
    assert set(out["overall"]) == {"ring_recall", "ring_precision", "ring_f1", "patient_precision",
                                   "patient_recall"}
    assert out["overall"]["ring_precision"] == 1.0


def test_cli_eval_malformed_rings_exits_2(tmp_path):
    d = _small_case(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"rings": [{"members": []}]}', encoding="utf-8")
    res = CliRunner().invoke(main, ["eval", str(bad), str(d)])
    assert res.exit_code == 2
    assert "typology" in res.output


def test_cli_eval_missing_truth_exits_2(tmp_path):
    write_rings(RingsDocument(rings=()), tmp_path / "out")
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(main, ["eval", str(tmp_path / "out" / "rings.json"), str(tmp_path / "empty")])
    assert res.exit_code == 2
    assert "truth.csv" in res.output
