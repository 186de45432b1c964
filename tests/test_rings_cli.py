"""``graphkit rings`` never misleads: a run that analysed nothing fails, many rejects warn, and a
re-run leaves exactly the pages its index lists."""

from __future__ import annotations

from click.testing import CliRunner

from graphkit.cli import main
from graphkit.render import GENERATOR
from tests.datadir import minimal_tables, write_dir


def _run(data, out, *extra):
    return CliRunner().invoke(main, ["rings", str(data), "-o", str(out), *extra])


def test_a_claims_file_with_only_its_header_is_no_success(tmp_path):
    write_dir(tmp_path / "data", {"patients": minimal_tables()["patients"]})
    (tmp_path / "data" / "claims.csv").write_text(
        "claim_id,patient_id,facility_id,claim_type,settle_time\n", encoding="utf-8")
    res = _run(tmp_path / "data", tmp_path / "out", "--no-pages")
    assert res.exit_code == 1, res.output
    assert "no claim was accepted" in res.output and "Traceback" not in res.output


def test_every_claim_rejected_names_the_top_reason_and_keeps_the_rows(tmp_path):
    tables = minimal_tables()
    for c in tables["claims"]:
        c["settle_time"] = "01/03/2024 08:00"  # day or month first: rejected, never guessed
    write_dir(tmp_path / "data", tables)
    res = _run(tmp_path / "data", tmp_path / "out", "--no-pages")
    assert res.exit_code == 1
    assert "2 claim rows rejected" in res.output and "settle_time" in res.output
    assert (tmp_path / "out" / "rejects.csv").read_text(encoding="utf-8").count("\n") == 3


def test_many_rejected_claims_warn_in_the_terminal_and_on_the_index(tmp_path):
    tables = minimal_tables()
    tables["claims"][1]["settle_time"] = "not a time"  # one of two rows: 50 %
    write_dir(tmp_path / "data", tables)
    res = _run(tmp_path / "data", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "warning:" in res.output and "50% of the claim rows were rejected" in res.output
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'role="alert"' in index and "分析结算 1 笔，拒收 1 笔" in index


def test_the_index_always_says_how_many_claims_were_analysed(tmp_path):
    write_dir(tmp_path / "data", minimal_tables())
    assert _run(tmp_path / "data", tmp_path / "out").exit_code == 0
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "分析结算 2 笔，拒收 0 笔" in index and 'role="alert"' not in index


def test_a_rerun_removes_the_pages_graphkit_wrote_before_and_nothing_else(tmp_path):
    write_dir(tmp_path / "data", minimal_tables())
    pages = tmp_path / "out" / "rings"
    pages.mkdir(parents=True)
    (pages / "R0006.html").write_text(f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
                                      f'<meta name="generator" content="{GENERATOR}">old', encoding="utf-8")
    (pages / "R0007.html").write_text('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
                                      '<title>older layout</title>', encoding="utf-8")
    (pages / "my-notes.html").write_text("<p>an investigator's own notes</p>", encoding="utf-8")
    (pages / "R0008.html").write_text("<p>a user's file that happens to look like a ring id</p>",
                                      encoding="utf-8")
    assert _run(tmp_path / "data", tmp_path / "out").exit_code == 0
    assert sorted(p.name for p in pages.iterdir()) == ["R0008.html", "my-notes.html"]
