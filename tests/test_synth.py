"""Tests for graphkit.synth and ``graphkit synth``."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from click.testing import CliRunner

import graphkit
from graphkit.cli import main
from graphkit.synth import LOOKALIKE_KINDS, SynthError, generate
from graphkit.synth import _catalog

N = 4000


def _digest(d):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    summary = generate(d, claims=N, seed=11)
    return d, summary


def test_same_seed_gives_identical_bytes(tmp_path, synth_dir):
    d, _ = synth_dir
    generate(tmp_path, claims=N, seed=11)
    assert _digest(tmp_path) == _digest(d)


def test_different_seed_gives_different_claims(tmp_path, synth_dir):
    d, _ = synth_dir
    generate(tmp_path, claims=N, seed=12)
    assert (tmp_path / "claims.csv").read_bytes() != (d / "claims.csv").read_bytes()


def test_every_table_loads_with_zero_rejects(synth_dir):
    d, summary = synth_dir
    ds = graphkit.load(d)
    for name, c in ds.counts.items():
        assert c["rejected"] == 0, (name, c["reasons"])
        assert c["accepted"] == summary["tables"][name]
    assert summary["tables"]["claims"] == N
    assert ds.ignored == ["lookalikes.csv", "scenarios.csv", "truth.csv"]


def test_each_typology_planted_at_least_four_times(synth_dir):
    _, summary = synth_dir
    assert set(summary["rings"]) == {"gang", "impersonation", "diversion", "fake_admission"}
    assert all(v >= 4 for v in summary["rings"].values()), summary["rings"]


def test_every_lookalike_present(synth_dir):
    _, summary = synth_dir
    assert set(summary["lookalikes"]) == set(LOOKALIKE_KINDS)
    for kind, n in summary["lookalikes"].items():
        assert n >= 1, kind
    for kind in ("death_in_hospital", "newborn_on_parent_card", "refund_resettle", "split_pack",
                 "transfer_overlap", "relative_buys_during_stay"):
        assert summary["lookalikes"][kind] >= 2, kind


def test_lookalike_patients_are_never_in_truth(synth_dir):
    d, summary = synth_dir
    truth = pd.read_csv(d / "truth.csv", dtype=str)
    ring_patients = set(truth.loc[truth.member_type == "patient", "member_id"])
    for kind, groups in summary["lookalike_patients"].items():
        if kind == "family_shared_phone":
            continue
        for g in groups:
            assert not ring_patients & set(g), kind


def test_truth_lists_existing_patients_for_every_ring(synth_dir):
    d, _ = synth_dir
    truth = pd.read_csv(d / "truth.csv", dtype=str)
    patients = set(pd.read_csv(d / "patients.csv", dtype=str).patient_id)
    pt = truth[truth.member_type == "patient"]
    assert set(pt.member_id) <= patients
    assert pt.ring_id.nunique() == truth.ring_id.nunique()


def test_rows_are_in_time_order_and_ids_look_alike(synth_dir):
    d, _ = synth_dir
    claims = pd.read_csv(d / "claims.csv", dtype=str)
    assert claims.settle_time.is_monotonic_increasing
    truth = pd.read_csv(d / "truth.csv", dtype=str)
    ring = set(truth.loc[truth.member_type == "patient", "member_id"])
    assert claims.patient_id.str.len().eq(16).all()
    # ring members keep normal activity: most of them also appear outside fraud-only days
    per = claims.groupby("patient_id").size()
    assert per.reindex(sorted(ring)).fillna(0).median() >= 3


def test_diagnoses_fit_sex_in_background(synth_dir):
    d, _ = synth_dir
    claims = pd.read_csv(d / "claims.csv", dtype=str)
    pts = pd.read_csv(d / "patients.csv", dtype=str).set_index("patient_id")
    truth = pd.read_csv(d / "truth.csv", dtype=str)
    ring = set(truth.loc[truth.member_type == "patient", "member_id"])
    c = claims[~claims.patient_id.isin(ring)]
    sex = pts.gender.reindex(c.patient_id).to_numpy()
    assert not ((c.diagnosis_code.fillna("").str.startswith("N40").to_numpy()) & (sex == "F")).any()
    male_obstetric = c.diagnosis_code.fillna("").str.match(r"O8|Z34").to_numpy() & (sex == "M")
    assert not male_obstetric.any()


def test_trace_codes_are_20_digits_starting_with_8(synth_dir):
    d, _ = synth_dir
    items = pd.read_csv(d / "claim_items.csv", dtype=str)
    tc = items.trace_code.dropna()
    assert len(tc) > N
    assert tc.str.fullmatch(r"8\d{19}").all()


def test_gbk_nhsa_headers_load(tmp_path):
    generate(tmp_path, claims=3000, seed=3, encoding="gbk", headers="nhsa")
    head = (tmp_path / "claims.csv").read_bytes().split(b"\n")[0].decode("gbk")
    assert head.startswith("setl_id,psn_no")
    ds = graphkit.load(tmp_path)
    assert all(c["rejected"] == 0 for c in ds.counts.values())
    assert set(ds.claims.claim_type.unique()) <= {"outpatient", "inpatient", "pharmacy"}


def test_parquet_loads(tmp_path):
    generate(tmp_path, claims=3000, seed=4, fmt="parquet")
    ds = graphkit.load(tmp_path)
    assert ds.counts["claims"]["accepted"] == 3000
    assert all(c["rejected"] == 0 for c in ds.counts.values())


def test_catalogue_is_gbk_encodable():
    _catalog.check_gbk()


def test_bad_arguments_raise_synth_error(tmp_path):
    with pytest.raises(SynthError):
        generate(tmp_path, claims=10, seed=1)
    with pytest.raises(SynthError):
        generate(tmp_path, claims=3000, seed=1, camouflage=2.0)


def test_cli_synth_writes_directory(tmp_path):
    res = CliRunner().invoke(main, ["synth", str(tmp_path / "o"), "--claims", "3000", "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "truth.csv").exists()
    assert "planted rings" in res.output


def test_cli_synth_too_few_claims_exits_2(tmp_path):
    res = CliRunner().invoke(main, ["synth", str(tmp_path / "o"), "--claims", "5", "--seed", "1"])
    assert res.exit_code == 2
    assert "--claims" in res.output
