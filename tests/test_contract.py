"""The data contract: docs/data-contract.md, graphkit.contract, and the shared original.

``docs/data-contract.md`` is the project's own copy of the contract (sections 1-3) with graphkit's
choices after it. It is always in the repository, so these tests run in any clone: every table,
column and alias of its section 1 is in :mod:`graphkit.contract` and maps to its column, required
columns are required, references point where it says, and the values it names (claim types,
genders, card types, member types, typologies) are the ones graphkit reads and writes.

Where the contract's original is beside the clone (``<repo>/../shared/DATA_CONTRACT.md``), the
copy must cover it: every table, column and alias, the same required columns and references, and
every rule of its text (sections 1-3, modulo whitespace). The original may change; the copy may
extend it, never leave part of it out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphkit.contract import (CARD_TYPE_ALIASES, CLAIM_TYPE_ALIASES, GENDER_ALIASES, MEMBER_TYPES,
                               REQUIRED_TABLES, TABLES, TYPOLOGIES, normalise_header)

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "data-contract.md"
SHARED = REPO.parent / "shared" / "DATA_CONTRACT.md"

CONTRACT_TABLES = ["patients", "cards", "institutions", "pharmacies", "doctors", "pharmacists",
                   "claims", "claim_items"]


def _section(text: str, number: int) -> str:
    """Section ``## <number>.`` of a contract file, up to the next ``## `` heading."""
    start = text.index(f"## {number}.")
    nxt = text.find("\n## ", start + 1)
    return text[start:] if nxt < 0 else text[start:nxt]


def _section_1(text: str) -> str:
    return _section(text, 1)


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
                    "type": typ,
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
                cols[col] = {"aliases": aliases, "required": "required" in paren, "ref": ref,
                             "type": ""}
        tables[name] = {"columns": cols}
    return tables


def _units(section: str) -> list[str]:
    """The rules of a contract section, one per unit: a paragraph, a list item, a table row or a
    code block, each with its whitespace collapsed. Headings and table separators are left out."""
    units: list[str] = []
    for block in re.split(r"```.*?```", section, flags=re.S):
        current: list[str] = []

        def flush() -> None:
            if current:
                units.append(" ".join(" ".join(current).split()))
                current.clear()

        for line in block.splitlines():
            s = line.strip()
            if not s or s.startswith("#") or re.fullmatch(r"\|[-| ]+\|", s):
                flush()
            elif s.startswith("|") or s.startswith("- "):
                flush()
                current.append(s)
                if s.startswith("|"):
                    flush()
            else:
                current.append(s)
        flush()
    units += [" ".join(c.split()) for c in re.findall(r"```.*?```", section, flags=re.S)]
    return [u for u in units if u]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_docs_contract_is_in_the_repository_with_sections_1_to_3():
    assert DOC.exists(), f"{DOC} is missing: the project's copy of the data contract"
    text = DOC.read_text(encoding="utf-8")
    for heading in ("## 1. Input", "## 2. Output", "## 3. Ground truth"):
        assert heading in text


DOC_TEXT = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
PARSED = parse_contract(DOC_TEXT) if DOC_TEXT else {}
COLUMNS = [(t, c, spec) for t, tab in PARSED.items() for c, spec in tab["columns"].items()]
ALIASES = [(t, c, a) for t, c, spec in COLUMNS for a in spec["aliases"]]


def test_parser_finds_every_table_of_section_1():
    assert sorted(PARSED) == sorted(CONTRACT_TABLES)
    assert len(PARSED["claims"]["columns"]) == 15
    assert PARSED["claim_items"]["columns"]["trace_code"]["aliases"] == ["drug_trac_codg", "药品追溯码"]
    assert PARSED["patients"]["columns"]["patient_id"]["aliases"] == ["psn_no", "人员编号", "个人编码"]
    assert PARSED["doctors"]["columns"]["institution_id"]["ref"] == "institutions"


def test_every_contract_table_is_in_graphkit_contract():
    assert set(PARSED) <= set(TABLES)


@pytest.mark.parametrize("table,column", [(t, c) for t, c, _ in COLUMNS],
                         ids=[f"{t}.{c}" for t, c, _ in COLUMNS])
def test_every_contract_column_is_in_graphkit_contract(table, column):
    assert column in TABLES[table].column_names


@pytest.mark.parametrize("table,column,alias", ALIASES, ids=[f"{t}.{c}={a}" for t, c, a in ALIASES])
def test_every_contract_alias_maps_to_its_column(table, column, alias):
    assert alias in TABLES[table].column(column).all_names
    assert TABLES[table].header_map()[normalise_header(alias)] == column


@pytest.mark.parametrize("table,column", [(t, c) for t, c, s in COLUMNS if s["required"]])
def test_columns_the_contract_requires_are_required(table, column):
    assert TABLES[table].column(column).required


@pytest.mark.parametrize("table,column,ref", [(t, c, s["ref"]) for t, c, s in COLUMNS if s["ref"]])
def test_references_point_where_the_contract_says(table, column, ref):
    got = TABLES[table].column(column).references
    if ref == "institutions or pharmacies":
        assert got == "facility"
    else:
        assert got is not None and got.split(".")[0] == ref


def test_required_tables_are_patients_and_claims():
    line = next(ln for ln in _section_1(DOC_TEXT).splitlines() if ln.startswith("Required tables"))
    assert sorted(REQUIRED_TABLES) == sorted(re.findall(r"`([a-z_]+)`", line))


def test_claim_types_the_contract_names_are_read_as_it_says():
    typ = PARSED["claims"]["columns"]["claim_type"]["type"]
    canonical = typ.split(";")[0].split(" / ")
    assert canonical == ["outpatient", "inpatient", "pharmacy"]
    for name in canonical:
        assert CLAIM_TYPE_ALIASES[name] == name
    words = re.search(r"also (\S+) and", typ).group(1).split("/")  # 门诊/住院/购药
    assert dict(zip(words, canonical)) == {w: CLAIM_TYPE_ALIASES[w] for w in words}
    codes = re.findall(r"([\d,]+)→([a-z]+)", typ)
    assert len(codes) == 3
    for listed, target in codes:
        for code in listed.split(","):
            assert CLAIM_TYPE_ALIASES[code] == target, code


def test_genders_the_contract_names_are_read_as_it_says():
    typ = PARSED["patients"]["columns"]["gender"]["type"]  # M/F; also 男/女, 1/2 (1=M, 2=F)
    pairs = re.findall(r"(\w+)=([MF])", typ) + [("男", "M"), ("女", "F"), ("M", "M"), ("F", "F")]
    assert typ.startswith("M/F") and "男/女" in typ and pairs[:2] == [("1", "M"), ("2", "F")]
    for value, gender in pairs:
        assert GENDER_ALIASES[value.lower()] == gender


def test_card_types_the_contract_names_are_read_as_it_says():
    typ = PARSED["cards"]["columns"]["card_type"]["type"]  # 01 电子凭证 / 02 身份证 / 03 社保卡
    pairs = re.findall(r"(\d\d) (\S+)", typ)
    assert [code for code, _ in pairs] == ["01", "02", "03"]
    for code, name in pairs:
        assert CARD_TYPE_ALIASES[name] == code and CARD_TYPE_ALIASES[code] == code


def test_member_types_are_the_ones_graphkit_writes():
    para = next(u for u in _units(_section(DOC_TEXT, 2)) if u.startswith("Member types:"))
    assert [t.strip(" .") for t in para.split(":", 1)[1].split(",")] == list(MEMBER_TYPES)


def test_typologies_are_the_ones_graphkit_detects():
    sec = _section(DOC_TEXT, 2)
    rows = [ln for ln in sec.splitlines() if ln.startswith("| ") and not ln.startswith("| typology")]
    table = {cells[0]: cells[1] for cells in
             ([c.strip() for c in ln.strip("|").split("|")] for ln in rows)}
    assert list(table) == list(TYPOLOGIES)
    assert table == {t: zh for t, (zh, _) in TYPOLOGIES.items()}


# ---------------------------------------------------------------------------------------------
# the copy covers the shared original, when it is beside the clone

needs_shared = pytest.mark.skipif(not SHARED.exists(),
                                  reason=f"{SHARED} not found: nothing to compare the copy with")


@needs_shared
def test_copy_has_every_table_column_and_alias_of_the_shared_contract():
    shared = parse_contract(SHARED.read_text(encoding="utf-8"))
    assert shared, "no table parsed from the shared contract"
    missing = []
    for table, tab in shared.items():
        if table not in PARSED:
            missing.append(table)
            continue
        for column, spec in tab["columns"].items():
            ours = PARSED[table]["columns"].get(column)
            if ours is None:
                missing.append(f"{table}.{column}")
                continue
            missing += [f"{table}.{column}={a}" for a in spec["aliases"] if a not in ours["aliases"]]
            if (spec["required"], spec["ref"]) != (ours["required"], ours["ref"]):
                missing.append(f"{table}.{column} required/ref {spec['required']}/{spec['ref']}")
    assert not missing, f"docs/data-contract.md lacks: {missing}"


@needs_shared
def test_copy_carries_every_rule_of_the_shared_contract():
    text = SHARED.read_text(encoding="utf-8")
    missing = []
    for number in (1, 2, 3):
        units = _units(_section(text, number))
        if number == 1:
            # the column lists and tables are compared by name above (the copy may add aliases)
            units = [u for u in units if "·" not in u and not u.startswith("|")]
        assert units, f"no rule parsed from section {number} of the shared contract"
        ours = _flat(_section(DOC_TEXT, number))
        missing += [f"{number}: {u}" for u in units if u not in ours]
    assert not missing, f"docs/data-contract.md lacks: {missing}"


def test_units_split_paragraphs_items_rows_and_code():
    text = ("## 2. Out\n\nOne rule\nwrapped.\n\n- an item\n  continued\n- next\n\n"
            "| a | b |\n|---|---|\n| x | y |\n```json\n{\"k\": 1}\n```\n")
    assert _units(text) == ["One rule wrapped.", "- an item continued", "- next", "| a | b |",
                            "| x | y |", "```json {\"k\": 1} ```"]


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
