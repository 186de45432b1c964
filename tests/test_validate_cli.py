"""``graphkit validate`` through click's CliRunner: JSON shape, rejects file, errors, no tracebacks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from graphkit.cli import main
from graphkit.commands.validate import default_rejects_path
from graphkit.contract import TABLES
from tests.datadir import full_tables, minimal_tables, write_dir, write_raw, write_table
from tests.test_load import CLAIM_HEADERS, _csv_file

P1 = "0000000000000001"


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, ["validate", *map(str, args)], env=env)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def one_line_error(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def data_dir(tmp_path) -> Path:
    tabs = full_tables()
    tabs["claims"][2]["total_amount"] = "-30"  # one rejected claim (and its item)
    d = tmp_path / "mydata"
    write_dir(d, tabs)
    write_raw(d, "truth.csv", "ring_id,typology,member_type,member_id\n")
    return d


def test_json_prints_exactly_one_object_with_the_documented_shape(data_dir):
    r = run(data_dir, "--json")
    assert r.exit_code == 0
    out = json.loads(r.stdout)  # the whole stdout is one JSON document
    assert list(out) == ["tables", "ignored", "rejects_file"]
    assert set(out["tables"]) == set(TABLES)
    assert out["tables"]["claims"] == {"read": 3, "accepted": 2, "rejected": 1,
                                       "reasons": {"negative total_amount": 1}, "stand_ins": {}}
    assert out["tables"]["claim_items"] == {"read": 3, "accepted": 2, "rejected": 1,
                                            "reasons": {"claim rejected": 1}, "stand_ins": {}}
    assert out["ignored"] == ["truth.csv"]
    assert out["rejects_file"] == str(data_dir.parent / "mydata.rejects.csv")


def test_json_counts_are_conserved(data_dir):
    out = json.loads(run(data_dir, "--json").stdout)
    for c in out["tables"].values():
        assert c["read"] == c["accepted"] + c["rejected"] == c["accepted"] + sum(c["reasons"].values())


def test_json_keeps_chinese_reason_and_file_names_readable(tmp_path):
    write_dir(tmp_path / "d", minimal_tables())
    write_raw(tmp_path / "d", "说明.txt", "readme")
    r = run(tmp_path / "d", "--json")
    assert "说明.txt" in r.stdout
    assert json.loads(r.stdout)["ignored"] == ["说明.txt"]


def test_default_rejects_file_is_beside_the_data_dir_never_inside(data_dir):
    before = sorted(p.name for p in data_dir.iterdir())
    r = run(data_dir, "--json")
    path = Path(json.loads(r.stdout)["rejects_file"])
    assert path == data_dir.parent / "mydata.rejects.csv"
    assert path.exists()
    assert sorted(p.name for p in data_dir.iterdir()) == before


def test_default_rejects_path_resolves_relative_and_dot_dirs(tmp_path, monkeypatch):
    (tmp_path / "d").mkdir()
    monkeypatch.chdir(tmp_path / "d")
    assert default_rejects_path(Path(".")) == tmp_path / "d.rejects.csv"
    assert default_rejects_path(Path("../d/")) == tmp_path / "d.rejects.csv"


def test_rejects_file_rows_name_file_line_values_and_reason(data_dir):
    run(data_dir, "--json")
    with open(data_dir.parent / "mydata.rejects.csv", encoding="utf-8-sig", newline="") as fp:
        rows = list(csv.DictReader(fp))
    assert [(r["table"], r["file"], r["line"], r["reason"]) for r in rows] == [
        ("claims", "claims.csv", "4", "negative total_amount"),
        ("claim_items", "claim_items.csv", "4", "claim rejected"),
    ]
    assert json.loads(rows[0]["values"])["total_amount"] == "-30"


def test_rejects_option_writes_where_asked(data_dir, tmp_path):
    target = tmp_path / "out" / "r.csv"
    r = run(data_dir, "--json", "--rejects", target)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["rejects_file"] == str(target)
    assert target.exists()
    assert not (data_dir.parent / "mydata.rejects.csv").exists()


def test_rejects_file_is_written_with_header_even_without_rejects(tmp_path):
    write_dir(tmp_path / "d", minimal_tables())
    run(tmp_path / "d", "--json")
    text = (tmp_path / "d.rejects.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["table,file,line,reason,values"]


def test_unwritable_rejects_path_is_a_one_line_error(data_dir, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    r = run(data_dir, "--json", "--rejects", blocker / "sub" / "r.csv")
    assert r.exit_code == 1
    assert "cannot write the rejects file" in one_line_error(r)


def test_human_output_is_a_table_with_counts(data_dir):
    r = run(data_dir, env={"COLUMNS": "250"})
    assert r.exit_code == 0
    assert "claims" in r.output and "negative total_amount" in r.output
    assert "ignored: truth.csv" in r.output
    assert "rejects: 2 rows written to" in r.output


def test_exit_zero_when_loaded_even_with_rejects(data_dir):
    assert run(data_dir, "--json").exit_code == 0


@pytest.mark.parametrize("table,column,header", [
    ("patients", "patient_id", {"patient_id": "pid"}),
    ("claims", "claim_id", {"claim_id": "id"}),
    ("claims", "settle_time", {"settle_time": "setl"}),
    ("cards", "card_id", {"card_id": "cid"}),
    ("claim_items", "claim_id", {"claim_id": "cid"}),
])
def test_missing_required_column_exits_1_naming_file_and_column(tmp_path, table, column, header):
    tabs = full_tables()
    write_dir(tmp_path, {t: r for t, r in tabs.items() if t != table})
    write_table(tmp_path, table, tabs[table], header=header)
    r = run(tmp_path, "--json")
    assert r.exit_code == 1
    line = one_line_error(r)
    assert f"{table}.csv" in line
    assert f"missing required column '{column}'" in line
    assert r.stdout.strip() == "" or not r.stdout.lstrip().startswith("{")


@pytest.mark.parametrize("table", ["patients", "claims"])
def test_missing_required_table_exits_1_naming_it(tmp_path, table):
    write_dir(tmp_path, {t: r for t, r in minimal_tables().items() if t != table})
    r = run(tmp_path, "--json")
    assert r.exit_code == 1
    assert f"required table '{table}' not found" in one_line_error(r)


@pytest.mark.parametrize("name,content,message", [
    ("claims.csv.gz", b"\x1f\x8b\x08\x00broken gzip", "cannot read file"),
    ("claims.csv", "结算ID,人员编号\n".encode("utf-8") + b"\xff\xfe\xfa\x80\x81" * 3, "cannot decode"),
    ("claims.csv", b"", "file is empty"),
    ("claims.parquet", b"PAR1 not parquet", "cannot read Parquet"),
])
def test_unreadable_file_exits_1_naming_it(tmp_path, name, content, message):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    write_raw(tmp_path, name, content)
    r = run(tmp_path, "--json")
    assert r.exit_code == 1
    line = one_line_error(r)
    assert name in line and message in line


def test_directory_named_claims_csv_exits_1_naming_it(tmp_path):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    (tmp_path / "claims.csv").mkdir()
    r = run(tmp_path, "--json")
    assert r.exit_code == 1
    assert "claims.csv" in one_line_error(r)


def test_missing_data_dir_exits_1(tmp_path):
    r = run(tmp_path / "nope", "--json")
    assert r.exit_code == 1
    assert "does not exist" in one_line_error(r)


def test_data_dir_that_is_a_file_is_a_data_error(tmp_path):
    f = tmp_path / "f.csv"
    f.write_text("x")
    r = run(f, "--json")
    assert r.exit_code == 1 and "not a directory" in r.output
    assert "Traceback" not in r.output


def test_help_has_an_example():
    r = CliRunner().invoke(main, ["validate", "--help"])
    assert r.exit_code == 0
    assert "Example:" in r.output and "--rejects" in r.output and "--json" in r.output


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.data_too_large])
@given(patients=_csv_file(["patient_id", "name", "gender", "death_date"]),
       claims=_csv_file(CLAIM_HEADERS))
def test_validate_never_shows_a_traceback_on_malformed_input(tmp_path_factory, patients, claims):
    d = tmp_path_factory.mktemp("prop") / "data"
    write_raw(d, "patients.csv", patients)
    write_raw(d, "claims.csv", claims)
    r = run(d, "--json", "--rejects", d.parent / "r.csv")
    assert r.exit_code in (0, 1)
    if r.exit_code == 0:
        out = json.loads(r.stdout)
        for c in out["tables"].values():
            assert c["read"] == c["accepted"] + c["rejected"]
    else:
        one_line_error(r)


def test_the_table_keeps_whole_cells_in_an_80_column_terminal(tmp_path):
    """Table names are never cut ("institut…") and reasons are never squeezed to a word a line:
    the counts table keeps whole cells, each table's reasons follow it on a line of their own."""
    from click.testing import CliRunner

    from graphkit.cli import main
    from tests.datadir import full_tables, write_dir

    tables = full_tables()
    tables["claims"][0]["total_amount"] = "-5"
    write_dir(tmp_path / "data", tables)
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "data")], terminal_width=80)
    assert r.exit_code == 0, r.output
    assert "institutions" in r.output and "…" not in r.output
    assert max(len(line) for line in r.output.splitlines()) <= 80
    assert any(line.startswith("claims: negative total_amount: 1") for line in r.output.splitlines())
