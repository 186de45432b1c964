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


# --------------------------------------------------------------------------------------------
# A space of scenarios: variants, member rules, scenarios.csv / lookalikes.csv
# --------------------------------------------------------------------------------------------

SCENARIO_SEEDS = (21, 22, 23)


@pytest.fixture(scope="module")
def scenario_dirs(tmp_path_factory):
    out = []
    for seed in SCENARIO_SEEDS:
        d = tmp_path_factory.mktemp(f"scen{seed}")
        generate(d, claims=30000, seed=seed, camouflage=0.5)
        out.append(d)
    return out


def _tables(d):
    truth = pd.read_csv(d / "truth.csv", dtype=str)
    scen = pd.read_csv(d / "scenarios.csv", dtype=str)
    claims = pd.read_csv(d / "claims.csv", dtype=str)
    cards = pd.read_csv(d / "cards.csv", dtype=str)
    return truth, scen, claims, cards


def test_scenario_variants_all_occur_over_a_few_seeds(scenario_dirs):
    parts = set()
    for d in scenario_dirs:
        for name in pd.read_csv(d / "scenarios.csv", dtype=str).scenario:
            typology, variant = name.split(":")
            parts |= {f"{typology}:{p}" for p in variant.split("/")}
            parts |= {f"{typology}:{x}" for p in variant.split("/") for x in p.split("+")}
    expected = {"gang:subsets", "gang:most", "gang:no_phone", "gang:phone_all", "gang:phone_some",
                "gang:dedicated_terminal", "gang:facility_terminals",
                "diversion:walk_in", "diversion:straw", "diversion:chain", "diversion:one_reseller",
                "impersonation:phone", "impersonation:terminal", "impersonation:doctor_session",
                "impersonation:unlinked", "impersonation:deceased", "impersonation:impossible_dx",
                "impersonation:two_places", "fake_admission:village_waves",
                "fake_admission:organiser_cards", "fake_admission:no_phone"}
    assert expected <= parts, sorted(expected - parts)
    assert {"fake_admission:phone_all", "fake_admission:phone_some"} & parts


def test_scenarios_and_lookalikes_files_agree_with_truth(scenario_dirs):
    import json
    for d in scenario_dirs:
        truth, scen, _, _ = _tables(d)
        rings = truth.drop_duplicates("ring_id").set_index("ring_id").typology
        assert list(scen.ring_id) == sorted(rings.index)
        assert (scen.set_index("ring_id").typology == rings.reindex(scen.ring_id)).all()
        assert (scen.scenario.str.split(":").str[0] == scen.typology).all()
        assert all(isinstance(json.loads(p), dict) for p in scen.params)
        looks = pd.read_csv(d / "lookalikes.csv", dtype=str)
        assert set(looks.kind) <= set(LOOKALIKE_KINDS)
        patients = set(pd.read_csv(d / "patients.csv", dtype=str).patient_id)
        assert set(looks.patient_id) <= patients
        in_truth = set(truth.loc[truth.member_type == "patient", "member_id"])
        assert not in_truth & set(looks.patient_id)
        assert graphkit.load(d).ignored == ["lookalikes.csv", "scenarios.csv", "truth.csv"]


def _resettled(d, claims):
    """Claims that settle a trace code first settled in another claim of another patient."""
    items = pd.read_csv(d / "claim_items.csv", dtype=str, usecols=["claim_id", "trace_code"])
    items = items.dropna().merge(claims[["claim_id", "patient_id", "facility_id", "settle_time"]])
    items = items.sort_values(["settle_time", "claim_id"])
    first = items.drop_duplicates("trace_code").set_index("trace_code").patient_id
    again = items[items.duplicated("trace_code")]
    again = again.assign(first_patient=first.reindex(again.trace_code).to_numpy())
    return again[again.patient_id != again.first_patient]


def test_diversion_truth_holds_no_walk_in_buyer(scenario_dirs):
    walk_in_seen = 0
    for d in scenario_dirs:
        truth, scen, claims, _ = _tables(d)
        again = _resettled(d, claims)
        for rid in scen.loc[scen.typology == "diversion", "ring_id"]:
            t = truth[truth.ring_id == rid]
            resellers = set(t.loc[t.member_type == "pharmacy", "member_id"])
            members = set(t.loc[t.member_type == "patient", "member_id"])
            resold = again[again.facility_id.isin(resellers) & again.first_patient.isin(members)]
            days = resold.assign(day=resold.settle_time.str[:10]).groupby("patient_id").day.nunique()
            buyers = set(days.index) - members
            walk_in_seen += len(buyers)
            # a re-settled pack's buyer is in truth only as a straw card: packs on 3+ days
            assert (days.reindex(sorted(members & set(days.index))) >= 3).all(), rid
            straw = set(t.loc[t.member_type == "card", "member_id"])
            assert len(straw) == len(members & set(days.index)), rid
    assert walk_in_seen > 0


def test_unlinked_lent_cards_are_separate_rings(scenario_dirs):
    n_unlinked = 0
    for d in scenario_dirs:
        truth, scen, claims, cards = _tables(d)
        for rid in scen.loc[scen.scenario.str.startswith("impersonation:unlinked"), "ring_id"]:
            n_unlinked += 1
            t = truth[truth.ring_id == rid]
            assert (t.member_type == "card").sum() == 1 and (t.member_type == "patient").sum() == 1
            card = t.loc[t.member_type == "card", "member_id"].iloc[0]
            holder = t.loc[t.member_type == "patient", "member_id"].iloc[0]
            assert cards.set_index("card_id").patient_id[card] == holder
            assert "phone" not in set(t.member_type)
        linked = scen[scen.scenario.str.match(r"impersonation:(phone|terminal|doctor_session)/")]
        for rid in linked.ring_id:
            t = truth[truth.ring_id == rid]
            assert (t.member_type == "patient").sum() >= 2, rid   # the user and a holder
    assert n_unlinked > 0


def test_gang_organiser_in_truth_only_through_his_phone(scenario_dirs):
    for d in scenario_dirs:
        truth, scen, claims, cards = _tables(d)
        holder_of = cards.set_index("card_id").patient_id
        for rid, name in scen.loc[scen.typology == "gang", ["ring_id", "scenario"]].itertuples(index=False):
            t = truth[truth.ring_id == rid]
            ring_cards = t.loc[t.member_type == "card", "member_id"]
            holders = set(holder_of[ring_cards])
            patients = set(t.loc[t.member_type == "patient", "member_id"])
            swiped = claims[claims.card_id.isin(set(ring_cards))]
            phones = set(t.loc[t.member_type == "phone", "member_id"])
            if "/no_phone/" in name:
                assert patients == holders and not phones, rid
                assert swiped.operator_phone.isna().all() or not set(swiped.operator_phone.dropna()) & phones
            else:
                assert len(phones) == 1 and phones <= set(swiped.operator_phone.dropna()), rid
                assert len(patients - holders) <= 1, rid
            # every collected card is swiped at a colluding facility in two sessions or more
            facs = set(t.loc[t.member_type.isin(["pharmacy", "institution"]), "member_id"])
            at = swiped[swiped.facility_id.isin(facs)]
            per_card = at.assign(day=at.settle_time.str[:10]).groupby("card_id").day.nunique()
            assert (per_card.reindex(sorted(set(ring_cards))).fillna(0) >= 2).all(), rid


def test_organiser_booking_collected_cards_is_fake_admission_with_his_phone(scenario_dirs):
    seen = 0
    for d in scenario_dirs:
        truth, scen, claims, _ = _tables(d)
        booked = scen[scen.scenario.str.match(r"fake_admission:organiser_cards/phone_")]
        for rid in booked.ring_id:
            seen += 1
            t = truth[truth.ring_id == rid]
            assert set(t.typology) == {"fake_admission"}
            phone = set(t.loc[t.member_type == "phone", "member_id"])
            stays = claims[claims.card_id.isin(set(t.loc[t.member_type == "card", "member_id"]))
                           & claims.facility_id.isin(set(t.loc[t.member_type == "institution", "member_id"]))
                           & (claims.claim_type == "inpatient")]
            assert len(phone) == 1 and phone <= set(stays.operator_phone.dropna()), rid
    assert seen > 0


def test_phone_impersonation_presents_cards_of_other_households(scenario_dirs):
    for d in scenario_dirs:
        truth, scen, claims, cards = _tables(d)
        patients = pd.read_csv(d / "patients.csv", dtype=str).set_index("patient_id")
        for rid in scen.loc[scen.scenario.str.startswith("impersonation:phone/"), "ring_id"]:
            t = truth[truth.ring_id == rid]
            phone = t.loc[t.member_type == "phone", "member_id"].iloc[0]
            shown = claims[claims.operator_phone == phone]
            lent = set(t.loc[t.member_type == "card", "member_id"])
            assert lent <= set(shown.card_id), rid
            holders = cards.set_index("card_id").patient_id[sorted(lent)]
            assert (patients.address[holders] != patients.address[patients.phone == phone].iloc[0]).any(), rid


def test_organiser_terminal_is_his_alone_and_its_number_says_nothing(scenario_dirs):
    not_highest = 0
    for d in scenario_dirs:
        truth, _, claims, _ = _tables(d)
        terminals = truth[truth.member_type == "device"]
        assert len(terminals)
        for rid, dev in terminals[["ring_id", "member_id"]].itertuples(index=False):
            ring_cards = set(truth.loc[(truth.ring_id == rid) & (truth.member_type == "card"), "member_id"])
            on_it = claims[claims.device_id == dev]
            assert len(on_it) and set(on_it.card_id) <= ring_cards, rid
            facility = on_it.facility_id.iloc[0]
            numbers = claims.loc[claims.facility_id == facility, "device_id"].dropna().unique()
            not_highest += dev != max(numbers)
    assert not_highest > 0


def test_unlinked_lent_card_is_used_outside_its_holders_district(scenario_dirs):
    for d in scenario_dirs:
        truth, scen, claims, _ = _tables(d)
        patients = pd.read_csv(d / "patients.csv", dtype=str).set_index("patient_id")
        places = pd.concat([pd.read_csv(d / f"{t}.csv", dtype=str).set_index(k).region for t, k in
                            (("institutions", "institution_id"), ("pharmacies", "pharmacy_id"))])
        for rid in scen.loc[scen.scenario.str.startswith("impersonation:unlinked"), "ring_id"]:
            t = truth[truth.ring_id == rid]
            card = t.loc[t.member_type == "card", "member_id"].iloc[0]
            holder = t.loc[t.member_type == "patient", "member_id"].iloc[0]
            used_in = set(places[claims.loc[claims.card_id == card, "facility_id"]])
            assert used_in - {patients.region[holder]}, rid
