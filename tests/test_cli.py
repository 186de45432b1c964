"""Every command of the CLI has --help with an example; rings CLI exit codes and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from graphkit.cli import main

DEMO = Path(__file__).resolve().parents[1] / "data_samples" / "demo"


def _commands(group: click.Group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in _commands(main)], ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    res = CliRunner().invoke(main, [*path, "--help"])
    assert res.exit_code == 0
    assert "Example" in res.output
    assert "graphkit " in res.output.split("Example", 1)[1]


def test_rings_on_a_directory_that_does_not_load_is_a_one_line_error(tmp_path):
    (tmp_path / "data").mkdir()
    res = CliRunner().invoke(main, ["rings", str(tmp_path / "data"), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1
    assert "required table 'patients' not found" in res.output
    assert "Traceback" not in res.output


def test_rings_with_a_bad_settings_file_exits_2(tmp_path):
    bad = tmp_path / "s.json"
    bad.write_text('{"gang": {"no_such_knob": 1}}', encoding="utf-8")
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(tmp_path / "out"),
                                    "--settings", str(bad), "--no-pages"])
    assert res.exit_code == 2
    assert "unknown setting(s) no_such_knob" in res.output



@pytest.mark.parametrize("text,message", [
    ('{"impersonation": {"phone_max_cards": -1}}', "phone_max_cards: expected a finite number >= 0"),
    ('{"people": {"shared_line_owners": 2.5}}', "shared_line_owners: expected a whole number"),
    ('{"min_score": 2}', "min_score: a share between 0 and 1"),
    ('{"gang": {"refill_day_min_share": 1.5}}', "refill_day_min_share: a share between 0 and 1"),
    ('{"gang": {"min_cards": NaN}}', "min_cards: expected a finite number >= 0"),
    ("[]", "settings: expected an object, got list")])
def test_a_settings_value_out_of_its_range_exits_2_naming_it(tmp_path, text, message):
    """Counts, days and thresholds are finite and not negative, counts whole, shares at most 1;
    a settings file that is a list is no settings (before, ``[]`` ran with the defaults and a
    negative or fractional count ran as given)."""
    bad = tmp_path / "s.json"
    bad.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(tmp_path / "out"),
                                    "--settings", str(bad), "--no-pages"])
    assert res.exit_code == 2 and message in res.output, res.output


def test_min_score_on_the_command_line_is_a_share(tmp_path):
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(tmp_path / "out"),
                                    "--min-score", "5", "--no-pages"])
    assert res.exit_code == 2 and "--min-score" in res.output

def test_rings_writes_the_contract_files_and_is_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(out), "--no-pages", "-q"])
        assert res.exit_code == 0, res.output
    assert (a / "rings.json").read_bytes() == (b / "rings.json").read_bytes()
    doc = json.loads((a / "rings.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "graphkit.rings/1"
    assert set(doc["input"]) == {"data_dir", "fingerprint"} and len(doc["input"]["fingerprint"]) == 64
    assert doc["params"]["min_score"] == 0.5 and doc["params"]["backend"] == "embedded"
    contract_keys = {"ring_id", "typology", "score", "members", "claims", "fund_amount",
                     "first_seen", "last_seen", "evidence"}
    for r in doc["rings"]:
        extensions = {"typology_zh", "extra", "also", "case_id", "case_status", "repeat"}
        assert contract_keys <= set(r) and set(r) - contract_keys <= extensions
        assert all({"type", "id"} <= set(m) for m in r["members"])
        assert all(set(e) == {"rule", "clause", "detail", "count"} for e in r["evidence"])
        assert r["first_seen"] <= r["last_seen"] and len(r["first_seen"]) == 10
    scores = [r["score"] for r in doc["rings"]]
    assert scores == sorted(scores, reverse=True) and all(s >= 0.5 for s in scores)
    header = (a / "rings.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "ring_id,typology,score,member_type,member_id,role,role_zh"  # contract + role_zh


def test_rings_on_data_whose_every_claim_is_rejected_fails_and_keeps_the_rows(tmp_path):
    """A patients table with its header only: every claim names an unknown patient. Nothing was
    analysed, so the run fails (exit 1) naming the top reason; the rows go to rejects.csv."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(DEMO, data)
    header = (data / "patients.csv").read_text(encoding="utf-8").splitlines()[0]
    (data / "patients.csv").write_text(header + "\n", encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["rings", str(data), "-o", str(out), "--no-pages"])
    assert res.exit_code == 1, res.output
    assert "no claim was accepted (20,000 claim rows rejected: unknown patient_id" in res.output
    assert not (out / "rings.json").exists()
    assert len(_rejected_claims(out / "rejects.csv")) == 20000


def _demo_with_a_bad_claim(tmp_path) -> Path:
    """A copy of the demo whose third claims line has one field too many."""
    import gzip
    import shutil

    data = tmp_path / "data"
    shutil.copytree(DEMO, data)
    lines = gzip.open(data / "claims.csv.gz", "rt", encoding="utf-8").read().splitlines()
    lines[2] += ",extra"
    (data / "claims.csv.gz").unlink()
    (data / "claims.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def _rejected_claims(path: Path) -> list[dict]:
    import csv

    return [r for r in csv.DictReader(path.open(encoding="utf-8-sig")) if r["table"] == "claims"]


def test_rings_writes_the_rows_that_did_not_load_beside_the_rings(tmp_path):
    """Nothing is lost: a claim with one field too many is in OUT_DIR/rejects.csv with its file,
    line and reason; a rerun on clean input leaves no stale rejects file."""
    data = _demo_with_a_bad_claim(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["rings", str(data), "-o", str(out), "--no-pages"])
    assert res.exit_code == 0, res.output
    claims = _rejected_claims(out / "rejects.csv")
    assert len(claims) == 1 and claims[0]["file"].endswith("claims.csv") and claims[0]["line"] == "3"
    assert "fields" in claims[0]["reason"]
    assert "rejected rows" in res.output
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(out), "--no-pages", "-q"])
    assert res.exit_code == 0 and not (out / "rejects.csv").exists()


def test_neo4j_load_writes_the_rows_that_did_not_load_before_it_connects(tmp_path):
    """The rows a graph load leaves out are kept as `graphkit validate` keeps them; with no server
    to reach the command still ends in a one-line error."""
    data = _demo_with_a_bad_claim(tmp_path)
    res = CliRunner().invoke(main, ["neo4j", "load", str(data), "--uri", "bolt://127.0.0.1:9",
                                    "--rejects", str(tmp_path / "r.csv")])
    assert len(_rejected_claims(tmp_path / "r.csv")) == 1
    assert res.exit_code != 0 and "Traceback" not in res.output


@pytest.fixture(scope="module")
def demo_rings(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rings")
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(out), "--no-pages", "-q"])
    assert res.exit_code == 0, res.output
    return out / "rings.json"


def _through_a_file(tmp_path: Path) -> Path:
    """A path that cannot be written: its parent is a file."""
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    return blocker / "out"


@pytest.mark.parametrize("command", ["rings", "render", "package", "synth", "neo4j load"])
def test_an_output_path_that_cannot_be_written_is_a_one_line_error(command, tmp_path, demo_rings):
    """Every command that writes names the path it cannot write and why, exits 1, and shows no
    traceback (before: rings, render and package ended in NotADirectoryError)."""
    bad = _through_a_file(tmp_path)
    data = _demo_with_a_bad_claim(tmp_path) if command == "neo4j load" else DEMO
    args = {"rings": ["rings", str(DEMO), "-o", str(bad)],
            "render": ["render", str(demo_rings), str(DEMO), "-o", str(bad)],
            "package": ["package", str(demo_rings), "R0001", "-o", str(bad), "--data", str(DEMO)],
            "synth": ["synth", str(bad), "--claims", "3000", "--seed", "1"],
            "neo4j load": ["neo4j", "load", str(data), "--uri", "bolt://127.0.0.1:9",
                           "--rejects", str(bad / "r.csv")]}[command]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    last = res.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: {tmp_path / 'afile'}") and "cannot write" in last
    assert "Not a directory" in last or "File exists" in last
    if command == "rings":
        assert "detector" not in res.output  # it fails before the detectors run
    if command == "neo4j load":
        assert last.endswith("choose another place with --rejects PATH")


def test_rings_pages_are_the_pages_render_writes_from_rings_json(tmp_path):
    # the pages show the rings as rings.json has them (scores to 4 places), whichever command
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(out), "-q"]).exit_code == 0
    again = tmp_path / "again"
    res = CliRunner().invoke(main, ["render", str(out / "rings.json"), str(DEMO), "-o", str(again)])
    assert res.exit_code == 0, res.output
    pages = sorted(p.relative_to(out) for p in out.rglob("*.html"))
    assert len(pages) > 10
    assert pages == sorted(p.relative_to(again) for p in again.rglob("*.html"))
    assert all((out / p).read_bytes() == (again / p).read_bytes() for p in pages)


def test_rings_reports_each_detector_when_it_is_done(tmp_path):
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(tmp_path / "out"), "--no-pages"])
    assert res.exit_code == 0, res.output
    done = re.findall(r"detector (\w+) done \(", res.output)
    assert sorted(done) == ["diversion", "fake_admission", "gang", "impersonation"]


@pytest.mark.parametrize("args", [
    ["rings", "{file}", "-o", "{tmp}/out"], ["validate", "{file}"], ["rings", "{missing}", "-o", "{tmp}/out"],
    ["validate", "{missing}"], ["rings", str(DEMO), "-o", "{file}", "--no-pages"],
    ["synth", "{file}", "--claims", "3000", "--seed", "1"], ["keygen", "{file}"]])
def test_data_and_output_errors_exit_1_with_one_line(tmp_path, args):
    """One rule for exit codes: 1 for data and output errors (a DATA_DIR that is missing or a
    file, an output path through a file), 2 for usage; never a traceback."""
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    fill = {"file": str(tmp_path / "a_file"), "missing": str(tmp_path / "nope"), "tmp": str(tmp_path)}
    res = CliRunner().invoke(main, [a.format(**fill) for a in args])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and res.output.strip().startswith("Error:")
    assert len(res.output.strip().splitlines()) == 1


def test_a_bad_option_value_is_usage_exit_2(tmp_path):
    res = CliRunner().invoke(main, ["rings", str(DEMO), "-o", str(tmp_path / "o"), "--min-score", "3"])
    assert res.exit_code == 2
