"""Masking that cannot be undone: a reader who combines everything shown is left guessing.

The attacker reads every page (index, ring pages, a package's 报告.html and graph.html) and every
package file of a masked run on data_samples/demo, collects what is shown about each person
(身份证号, 性别, 出生日期 or 出生年份, 参保地, 联系电话), and counts the 身份证号 and phone numbers
consistent with all of it: calendar dates, the sex digit and the GB 11643 check digit. Masked,
at least 1,000 of each must remain; unmasked, exactly one, the real one (the attack works).

rings.json and rings.csv are the detector's machine-readable result, not masked output: they
name members by their identifiers as the input does (a phone member by its number) and are kept
with the input data.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from graphkit.cli import main
from graphkit.evidence import write_package
from graphkit.load import load
from graphkit.rings import read_rings
from graphkit.masking import mask_age_in_text, mask_birth_date, mask_id_number

DEMO = Path(__file__).resolve().parents[1] / "data_samples" / "demo"
RINGS_PER_TYPOLOGY = 2
MIN_CANDIDATES = 1_000

#: GB 11643: weights of the first 17 digits and the check character of (weighted sum mod 11)
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
FIELD_RE = re.compile(r"(身份证号|性别|出生日期|出生年份|联系电话|参保地)：([^\n|；<]*)")


def check_digit(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


# ---- running graphkit as a user would


def _run(args: list[str]) -> None:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(masked files, unmasked files): every page and package file of a run on the demo data."""
    root = tmp_path_factory.mktemp("attack")
    masked, unmasked = root / "masked", root / "unmasked"
    _run(["rings", str(DEMO), "-o", str(masked), "-q"])
    doc = json.loads((masked / "rings.json").read_text(encoding="utf-8"))
    chosen = defaultdict(list)
    for ring in doc["rings"]:
        if len(chosen[ring["typology"]]) < RINGS_PER_TYPOLOGY:
            chosen[ring["typology"]].append(ring["ring_id"])
    assert len(chosen) == 4, chosen  # a few rings of every typology
    _run(["render", str(masked / "rings.json"), str(DEMO), "-o", str(unmasked), "--unmasked"])
    # what `graphkit package RINGS RING_ID -o DIR [--unmasked]` does, with the data loaded once
    rings, dataset = read_rings(masked / "rings.json"), load(DEMO)
    for ring_id in (r for ids in chosen.values() for r in ids):
        for out, flag in ((masked, False), (unmasked, True)):
            write_package(rings, ring_id, out / "packages" / ring_id, dataset, unmasked=flag,
                          rings_path=masked / "rings.json")
    return _shown_files(masked), _shown_files(unmasked)


def _shown_files(out: Path) -> list[Path]:
    raw = {out / "rings.json", out / "rings.csv", out / "rejects.csv"}
    return sorted(p for p in out.rglob("*") if p.is_file() and p not in raw)


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return pd.read_csv(DEMO / "patients.csv", dtype=str).set_index("patient_id")


# ---- reading what is shown


def _records(path: Path) -> list[str]:
    """Pieces of text that each describe one thing: a graph node's tooltip, a table row, a CSV
    row. Other files count as one piece."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".html":
        found = []
        data = re.search(r'<script type="application/json" id="gk-data">(.*?)</script>', text,
                         re.S)
        if data:
            for node in json.loads(data.group(1))["nodes"]:
                found.append("\n".join([node["label"], *node["tip"]]))
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", text, re.S):
            found.append(html.unescape(re.sub(r"<[^>]+>", "\n", row)))
        return found
    if path.suffix == ".csv":
        return ["\n".join(row) for row in csv.reader(io.StringIO(text))]
    return [text]


def shown_facts(files: list[Path], patient_ids: set[str]) -> dict[str, dict[str, set[str]]]:
    """patient_id -> field -> every value shown for that person in a record about them."""
    facts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    token = re.compile(r"[0-9A-Za-z]+")
    for path in files:
        for record in _records(path):
            subject = next((t for t in token.findall(record) if t in patient_ids), None)
            fields = FIELD_RE.findall(record)
            if subject is None or not fields:
                continue
            for label, value in fields:
                facts[subject][label].add(value.strip())
    return facts


# ---- counting candidates


def _merge(patterns: set[str], length: int) -> list[str | None]:
    """One character per position: known (the same in every pattern shown) or None."""
    known: list[str | None] = [None] * length
    for p in patterns:
        if len(p) != length:
            continue
        for i, ch in enumerate(p):
            if ch != "*":
                assert known[i] in (None, ch), f"inconsistent patterns {patterns}"
                known[i] = ch
    return known


_ALL_DATES = pd.date_range("1900-01-01", "2030-12-31", freq="D").strftime("%Y%m%d").to_numpy(str)
_DATE_DIGITS = _ALL_DATES.view("<U1").reshape(len(_ALL_DATES), 8)
_ALL_SEQUENCES = np.array([f"{n:03d}" for n in range(1000)])
_SEQUENCE_DIGITS = _ALL_SEQUENCES.view("<U1").reshape(1000, 3)


def _fitting(strings, digits, known):
    """The strings whose characters equal every known one (None: any)."""
    keep = np.ones(len(strings), dtype=bool)
    for i, ch in enumerate(known):
        if ch is not None:
            keep &= digits[:, i] == ch
    return strings[keep]


def id_candidates(facts: dict[str, set[str]]) -> tuple[int, str | None]:
    """How many 身份证号 fit what is shown, and the number itself when exactly one does."""
    known = _merge(facts.get("身份证号", set()), 18)
    region = "".join(c or "?" for c in known[:6])
    if "?" in region:  # worst case for the masking: the reader knows the region from 参保地
        shown = [r for r in facts.get("参保地", ()) if re.fullmatch(r"\d{6}", r)]
        region = shown[0] if shown else region
    region_choices = 10 ** region.count("?")
    dates = _fitting(_ALL_DATES, _DATE_DIGITS, known[6:14])
    for day in facts.get("出生日期", ()):
        dates = dates[dates == day.replace("-", "")]
    for year in facts.get("出生年份", ()):
        dates = dates[np.char.startswith(dates, year)]
    sequences = _fitting(_ALL_SEQUENCES, _SEQUENCE_DIGITS, known[14:17])
    sex = facts.get("性别", set())
    last = np.array([int(q[2]) for q in sequences], dtype=int)
    if sex == {"男"}:
        sequences = sequences[last % 2 == 1]
    elif sex == {"女"}:
        sequences = sequences[last % 2 == 0]
    check = known[17]
    if check is None or "?" in region:
        count = region_choices * len(dates) * len(sequences)
        if check is not None:
            count //= 11  # the check character keeps about one number in eleven
        if count == 1:
            first17 = region + dates[0] + sequences[0]
            return 1, first17 + check_digit(first17)
        return count, None
    # count (date, sequence) pairs whose check character is the one shown, by residues mod 11
    def residues(strings, offset):
        sums = np.zeros(len(strings), dtype=np.int64)
        for i in range(len(strings[0]) if len(strings) else 0):
            sums += np.array([int(s[i]) for s in strings]) * WEIGHTS[offset + i]
        return np.bincount(sums % 11, minlength=11)

    base = sum(int(c) * w for c, w in zip(region, WEIGHTS))
    by_date, by_sequence = residues(dates, 6), residues(sequences, 14)
    want = CHECK.index(check)
    count = int(sum(by_date[a] * by_sequence[b] for a in range(11) for b in range(11)
                    if (base + a + b) % 11 == want))
    if count == 1:
        for d in dates:
            for s in sequences:
                if check_digit(region + d + s) == check:
                    return 1, region + d + s + check
    return count, None


def phone_candidates(facts: dict[str, set[str]]) -> tuple[int, str | None]:
    """How many 11-digit phone numbers fit what is shown, and the number when exactly one."""
    known = _merge({p for p in facts.get("联系电话", ()) if len(p) == 11}, 11)
    unknown = sum(c is None for c in known)
    return 10 ** unknown, ("".join(known) if unknown == 0 else None)


def _attack(files, people):
    facts = shown_facts(files, set(people.index))
    return {pid: (id_candidates(f), phone_candidates(f)) for pid, f in facts.items()}


# ---- the tests


def test_check_digit_and_counting_follow_gb11643():
    assert check_digit("11010519491231002") == "X"
    real = {"身份证号": {"11010519491231002X"}}
    assert id_candidates(real) == (1, "11010519491231002X")
    # region, birth date and the last four: the whole number (the masking this replaced)
    old = {"身份证号": {"110***********002X"}, "出生日期": {"1949-12-31"}, "参保地": {"110105"}}
    assert id_candidates(old) == (1, "11010519491231002X")
    # region, birth year and sex: every day of 1949 times 500 sequences
    now = {"身份证号": {mask_id_number("11010519491231002X")}, "出生年份": {"1949"},
           "性别": {"女"}}
    assert id_candidates(now) == (365 * 500, None)


def test_masked_run_leaves_every_person_at_least_a_thousand_numbers(runs, people):
    masked, _ = runs
    kinds = {p.name for p in masked} | {p.parent.name for p in masked if p.suffix == ".html"}
    assert {"index.html", "rings", "报告.html", "graph.html", "members.csv", "claims.csv"} <= kinds
    attacked = _attack(masked, people)
    assert len(attacked) >= 30  # the pages and packages do describe people
    for pid, ((ids, _), (phones, _)) in attacked.items():
        assert ids >= MIN_CANDIDATES, (pid, ids)
        assert phones >= MIN_CANDIDATES, (pid, phones)
    worst = min(ids for (ids, _), _ in attacked.values())
    assert worst >= 365 * 500  # a birth year and a sex leave the days of a year times 500


def test_masked_run_shows_no_whole_number_or_birth_date_anywhere(runs, people):
    masked, _ = runs
    secrets = set(people["id_number"].dropna()) | set(people["phone"].dropna())
    numbers = re.compile(r"\d{17}[\dXx]|\d{11}")  # every digit run long enough to be one
    for path in masked:
        text = path.read_text(encoding="utf-8-sig")
        assert set(numbers.findall(text)) & secrets == set(), path
        assert "出生日期：" not in text, path
    shown = shown_facts(masked, set(people.index))
    for pid, f in shown.items():
        birth = people.at[pid, "birth_date"]
        assert f.get("出生年份", set()) <= {mask_birth_date(birth)}, pid
        assert not any(birth.replace("-", "") in v for v in f.get("身份证号", ())), pid


def test_unmasked_run_gives_the_attack_every_real_number(runs, people):
    _, unmasked = runs
    attacked = _attack(unmasked, people)
    assert len(attacked) >= 30
    for pid, ((ids, id_number), (phones, phone)) in attacked.items():
        assert (ids, id_number) == (1, people.at[pid, "id_number"]), pid
        assert (phones, phone) == (1, people.at[pid, "phone"]), pid


def test_an_age_in_evidence_text_is_shown_as_its_decade():
    assert mask_age_in_text("N76.000 阴道炎（持卡人 M，73 岁）") == "N76.000 阴道炎（持卡人 M，70–79 岁）"
    assert mask_age_in_text("（持卡人 F，5 岁）") == "（持卡人 F，0–9 岁）"
    assert mask_age_in_text("年满 60 岁") == "年满 60 岁"  # not an age of a person in the ring
