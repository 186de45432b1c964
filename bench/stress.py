"""Ring quality when the input is poorer or shaped differently than ``graphkit synth`` writes it.

Our synth writes full addresses, every operator phone and terminal, and UTF-8 English headers.
Real extracts (and data we never see) are often coarser. Each variant below starts from the same
cached synth directory as ``bench/quality.py`` (same truth), changes one thing, and is scored with
``graphkit rings`` + ``graphkit eval``:

- ``as generated``: the data as written (the reference row);
- ``coarse addresses``: every address cut to its village / community / named compound (no
  building, unit or house number), as many 户籍 extracts give it;
- ``no addresses``: the patients' address column left out;
- ``no phone or terminal``: the claims' operator_phone and device_id columns left out;
- ``no terminal``: the claims' device_id column left out;
- ``GBK, 平台 field codes``: the same synth draw written as GBK CSV with the national 医保信息平台
  field codes as headers (the contract's loader must give the same rings);
- ``stand-in phones and addresses``: 15% of addresses 「不详」 and 10% of phones 00000000000, as
  exports write what nobody filled in;
- ``district-only addresses``: 15% of addresses cut to their district (「四川省成都市锦江区」);
- ``facility lines as operator phone``: 20 facilities put their own line on every claim that
  carried no operator phone;
- ``no cards table``: the claims name their cards but no cards table comes with them;
- ``impersonators' phones not on record``: the phones the truth names as presenting borrowed
  cards are blanked in the patients table (a buyer insured elsewhere, or a user who never
  registered the number): a what-if built from the truth, to see what naming no user costs.
- ``no diagnosis column``: the claims' diagnosis_code left out;
- ``a made-up complaint per recruit`` (and the same with no addresses): every inpatient stay of
  a planted fake_admission member gets a diagnosis drawn at random from twelve, so a recruited
  group shares no complaint: a what-if built from the truth, for the diagnosis term of
  ``fake_admission.pair_weights``.

The same transforms make the data-quality variants of ``bench/quality.py --worlds``.

Usage::

    python bench/stress.py                       # 200k claims, camouflage 0.5, seed 7
    python bench/stress.py --claims 1000000 --camouflage 0.8

Numbers are printed (and written to ``bench/out/stress.md``), never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from quality import OUT, _row, ensure_data, run_graphkit, table_markdown  # noqa: E402

COLS = ["variant", "rings", "truth", "F1 gang", "F1 impersonation", "F1 diversion",
        "F1 fake_admission", "ring F1", "patient P", "patient R", "seconds"]


def _copy(src: Path, dst: Path) -> Path:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


def _edit(table: str, change):
    """A variant: a copy of the data whose ``table`` is ``change(frame)`` (seeded where random)."""
    def make(src: Path, dst: Path) -> Path:
        d = _copy(src, dst)
        path = d / f"{table}.parquet"
        change(pd.read_parquet(path)).to_parquet(path, index=False)
        return d
    return make


def _coarse(p: pd.DataFrame) -> pd.DataFrame:
    from graphkit.detectors.places import place_of

    return p.assign(address=place_of(p["address"]))


def _stand_ins(p: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    p.loc[rng.random(len(p)) < 0.15, "address"] = "不详"
    p.loc[rng.random(len(p)) < 0.10, "phone"] = "00000000000"
    return p


def _districts(p: pd.DataFrame) -> pd.DataFrame:
    m = np.random.default_rng(3).random(len(p)) < 0.15
    p.loc[m, "address"] = p.loc[m, "address"].str.extract(r"^(.*?[区县])", expand=False)
    return p


def _facility_lines(c: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    facs = np.sort(c["facility_id"].unique())
    for i, f in enumerate(rng.choice(facs, min(20, len(facs)), replace=False)):
        m = (c["facility_id"] == f) & c["operator_phone"].isna()
        c.loc[m, "operator_phone"] = f"0288542{2100 + i:04d}"
    return c


coarse_addresses = _edit("patients", _coarse)
def _no_address(p: pd.DataFrame) -> pd.DataFrame:
    return p.drop(columns=["address"])


no_addresses = _edit("patients", _no_address)
no_operator = _edit("claims", lambda c: c.drop(columns=["operator_phone", "device_id"]))
no_device = _edit("claims", lambda c: c.drop(columns=["device_id"]))
no_diagnoses = _edit("claims", lambda c: c.drop(columns=["diagnosis_code"]))
stand_ins = _edit("patients", _stand_ins)
district_addresses = _edit("patients", _districts)
facility_lines = _edit("claims", _facility_lines)


def no_cards_table(src: Path, dst: Path) -> Path:
    d = _copy(src, dst)
    (d / "cards.parquet").unlink()
    return d


def unregistered_users(src: Path, dst: Path) -> Path:
    d = _copy(src, dst)
    t = pd.read_csv(d / "truth.csv", dtype=str)
    phones = set(t.loc[(t["typology"] == "impersonation") & (t["member_type"] == "phone"), "member_id"])
    p = pd.read_parquet(d / "patients.parquet")
    p.loc[p["phone"].isin(phones), "phone"] = None
    p.to_parquet(d / "patients.parquet", index=False)
    return d


#: the complaints a recruiter may write down, one drawn per stay in ``made_up_complaints``
_COMPLAINTS = ("J18.900", "I63.900", "M54.500", "K29.700", "E11.900", "I10.x00", "J44.100",
               "M17.100", "I69.300", "N39.000", "K80.100", "I25.100")


def made_up_complaints(drop_addresses: bool):
    """A what-if built from the truth: every inpatient stay of a planted fake_admission member
    gets a diagnosis drawn at random from twelve (a recruiter who makes up each recruit's
    complaint, so a group shares no diagnosis); optionally with no address column either."""
    def make(src: Path, dst: Path) -> Path:
        d = _copy(src, dst)
        t = pd.read_csv(d / "truth.csv", dtype=str)
        fa = set(t.loc[(t["typology"] == "fake_admission") & (t["member_type"] == "patient"),
                       "member_id"])
        c = pd.read_parquet(d / "claims.parquet")
        m = (c["claim_type"] == "inpatient") & c["patient_id"].isin(fa)
        codes = np.array(_COMPLAINTS)
        c.loc[m, "diagnosis_code"] = codes[np.random.default_rng(1).integers(0, len(codes), m.sum())]
        c.to_parquet(d / "claims.parquet", index=False)
        if drop_addresses:
            _no_address(pd.read_parquet(d / "patients.parquet")).to_parquet(
                d / "patients.parquet", index=False)
        return d
    return make


def gbk_field_codes(claims: int, camouflage: float, seed: int):
    def make(src: Path, dst: Path) -> Path:
        shutil.rmtree(dst, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "graphkit", "synth", str(dst), "--claims", str(claims),
                        "--seed", str(seed), "--camouflage", str(camouflage), "--format", "csv",
                        "--encoding", "gbk", "--headers", "nhsa"], check=True,
                       stdout=subprocess.DEVNULL)
        return dst
    return make


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Ring F1 on poorer or differently shaped input.")
    ap.add_argument("--claims", type=int, default=200000)
    ap.add_argument("--camouflage", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=OUT / "stress.md")
    a = ap.parse_args(argv)
    from graphkit.evaluate import evaluate

    src = ensure_data(a.claims, a.camouflage, a.seed)
    work = OUT / "stress" / src.name
    variants = [("as generated", None), ("coarse addresses", coarse_addresses),
                ("no addresses", no_addresses), ("no phone or terminal", no_operator),
                ("no terminal", no_device),
                ("GBK, 平台 field codes", gbk_field_codes(a.claims, a.camouflage, a.seed)),
                ("stand-in phones and addresses", stand_ins),
                ("district-only addresses", district_addresses),
                ("facility lines as operator phone", facility_lines),
                ("no cards table", no_cards_table),
                ("impersonators' phones not on record", unregistered_users),
                ("no diagnosis column", no_diagnoses),
                ("a made-up complaint per recruit", made_up_complaints(False)),
                ("a made-up complaint per recruit, no addresses", made_up_complaints(True))]
    rows = []
    for k, (name, make) in enumerate(variants):
        d = src if make is None else make(src, work / f"data_{k}")
        pj, secs = run_graphkit(d, work / f"out_{k}")
        row = _row(a.claims, a.camouflage, name, evaluate(pj, src), secs)
        row["variant"] = row.pop("method")
        rows.append(row)
        print(f"{name}: ring F1 {row['ring F1']:.3f} ({secs:.1f}s)", file=sys.stderr, flush=True)
    md = table_markdown(rows, COLS)
    print(f"{a.claims} claims, camouflage {a.camouflage:g}, seed {a.seed}\n{md}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(md + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
