"""graphkit.contract matches ../shared/DATA_CONTRACT.md section 1: every table, column and alias.

The contract file lives beside the clone (``<repo>/../shared/DATA_CONTRACT.md``); the tests skip
when it is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphkit.contract import REQUIRED_TABLES, TABLES, normalise_header

CONTRACT = Path(__file__).resolve().parent.parent.parent / "shared" / "DATA_CONTRACT.md"


def _section_1(text: str) -> str:
    start = text.index("## 1.")
    end = text.index("\n## 2.", start)
    return text[start:end]


def _clean_alias(part: str) -> str | None:
    """An alias from one comma-separated part of a parenthesis, or None for prose / value lists."""
    token = part.split(":", 1)[0].strip()
    if not token or token == "required" or "/" in token or re.search(r"\s", token):
        return None
    return token


def parse_contract(text: str) -> dict[str, dict]:
    """{table: {"columns": {column: {"aliases": [...], "required": bool, "ref": str | None}}}}."""
    sec = _section_1(text)
    tables: dict[str, dict] = {}
    blocks = re.split(r"^### ", sec, flags=re.M)[1:]
    for block in blocks:
        name = block.split()[0]
        if not re.fullmatch(r"[a-z_]+", name):
            continue  # "### Bad input" and other prose subsections
        body = block.split("\n", 1)[1]
        cols: dict[str, dict] = {}
        rows = [ln for ln in body.splitlines() if ln.startswith("|")]
        if rows:
            for ln in rows[2:]:  # header and separator rows first
                cells = [c.strip() for c in ln.strip().strip("|").split("|")]
                col, aliases, typ, notes = (cells + ["", "", "", ""])[:4]
                ref = re.match(r"str\s*→\s*([a-z_]+(?:\s+or\s+[a-z_]+)?)", typ)
                cols[col] = {
                    "aliases": [a for a in (_clean_alias(p) for p in aliases.split(",")) if a],
                    "required": "required" in notes,
                    "ref": ref.group(1) if ref else None,
                }
        else:
            para = " ".join(ln.strip() for ln in body.splitlines()
                            if ln.strip() and not ln.startswith(("If ", "The same")))
            para = para.split(". The same")[0]
            for item in para.split("·"):
                m = re.match(r"\s*([a-z_]+)\s*(?:→\s*([a-z_]+))?\s*(?:\((.*)\))?", item.strip(),
                             flags=re.S)
                if not m:
                    continue
                col, ref, paren = m.group(1), m.group(2), m.group(3) or ""
                aliases = [a for a in (_clean_alias(p) for p in paren.split(",")) if a]
                cols[col] = {"aliases": aliases, "required": "required" in paren, "ref": ref}
        tables[name] = {"columns": cols}
    return tables


needs_contract = pytest.mark.skipif(not CONTRACT.exists(),
                                    reason=f"{CONTRACT} not found (shared/ beside the clone)")
PARSED = parse_contract(CONTRACT.read_text(encoding="utf-8")) if CONTRACT.exists() else {}
COLUMNS = [(t, c, spec) for t, tab in PARSED.items() for c, spec in tab["columns"].items()]
ALIASES = [(t, c, a) for t, c, spec in COLUMNS for a in spec["aliases"]]


@needs_contract
def test_parser_finds_every_table_of_section_1():
    assert sorted(PARSED) == sorted(["patients", "cards", "institutions", "pharmacies", "doctors",
                                     "pharmacists", "claims", "claim_items"])
    assert len(PARSED["claims"]["columns"]) == 15
    assert PARSED["claim_items"]["columns"]["trace_code"]["aliases"] == ["drug_trac_codg", "药品追溯码"]


@needs_contract
def test_every_contract_table_is_in_graphkit_contract():
    assert set(PARSED) <= set(TABLES)


@needs_contract
@pytest.mark.parametrize("table,column", [(t, c) for t, c, _ in COLUMNS],
                         ids=[f"{t}.{c}" for t, c, _ in COLUMNS])
def test_every_contract_column_is_in_graphkit_contract(table, column):
    assert column in TABLES[table].column_names


@needs_contract
@pytest.mark.parametrize("table,column,alias", ALIASES, ids=[f"{t}.{c}={a}" for t, c, a in ALIASES])
def test_every_contract_alias_maps_to_its_column(table, column, alias):
    assert alias in TABLES[table].column(column).all_names
    assert TABLES[table].header_map()[normalise_header(alias)] == column


@needs_contract
@pytest.mark.parametrize("table,column", [(t, c) for t, c, s in COLUMNS if s["required"]])
def test_columns_the_contract_requires_are_required(table, column):
    assert TABLES[table].column(column).required


@needs_contract
@pytest.mark.parametrize("table,column,ref", [(t, c, s["ref"]) for t, c, s in COLUMNS if s["ref"]])
def test_references_point_where_the_contract_says(table, column, ref):
    got = TABLES[table].column(column).references
    if ref == "institutions or pharmacies":
        assert got == "facility"
    else:
        assert got is not None and got.split(".")[0] == ref


@needs_contract
def test_required_tables_are_patients_and_claims():
    sec = _section_1(CONTRACT.read_text(encoding="utf-8"))
    line = next(ln for ln in sec.splitlines() if ln.startswith("Required tables"))
    assert sorted(REQUIRED_TABLES) == sorted(re.findall(r"`([a-z_]+)`", line))


def test_header_for_every_style_round_trips_through_the_header_map():
    for t in TABLES.values():
        hmap = t.header_map()
        for c in t.columns:
            for style in ("english", "chinese", "nhsa"):
                assert hmap[normalise_header(t.header_for(c.name, style))] == c.name, (t.name, c.name)


def test_no_alias_is_shared_by_two_columns_of_one_table():
    for t in TABLES.values():
        seen: dict[str, str] = {}
        for c in t.columns:
            for n in c.all_names:
                key = normalise_header(n)
                assert seen.setdefault(key, c.name) == c.name, (t.name, n)
