"""Benchmark: graphkit.load on 1M claims + 4M claim_items, from CSV and from Parquet.

Generates (seeded, vectorised) a data directory with 200k patients, their cards, 2k institutions,
3k pharmacies, 10k doctors, 6k pharmacist registrations, 1M claims and 4M claim_items, once as
UTF-8 CSV and once as Parquet (cached under bench/data/, gitignored), then loads each in a fresh
subprocess and prints wall seconds, rows/s and peak RSS.

Targets (issue 2): <= 20 s from Parquet, <= 60 s from CSV, <= 3 GiB peak, on a 2-core machine.

Usage::

    python bench/bench_load.py                      # csv and parquet, 1M claims
    python bench/bench_load.py --formats csv-gbk    # GBK-encoded CSV with Chinese headers
    python bench/bench_load.py --formats csv-exact  # one quoted newline in claim_items.csv: the
                                                    # whole file takes the exact (Python csv) path
    python bench/bench_load.py --formats parquet-rejects  # cards that match no claim: 5M rejects
    python bench/bench_load.py --claims 100000      # smaller run
    python bench/bench_load.py --profile parquet    # pyinstrument profile of one format (if installed)

0.1% of claims carry a negative amount and 0.1% of items name an unknown claim, so the reject
path is exercised; the script checks read == accepted + rejected for every table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 20261122
GIB = 1 << 30


def _ids(prefix: str, n: int, width: int, start: int = 1) -> pa.Array:
    nums = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    padded = pc.utf8_lpad(nums, width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, "") if prefix else padded


def _take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    return arr.take(pa.array(idx))


def generate(n_claims: int, seed: int = SEED) -> dict[str, pa.Table]:
    """All tables as pyarrow string tables (canonical English column names)."""
    rng = np.random.default_rng(seed)
    n_pat = max(n_claims // 5, 10)
    n_inst, n_phar, n_doc, n_pharm = max(n_pat // 100, 2), max(n_pat // 66, 2), max(n_pat // 20, 2), \
        max(n_pat // 33, 2)
    n_items = 4 * n_claims

    pid = _ids("", n_pat, 16)
    gender = np.where(rng.random(n_pat) < 0.5, "M", "F")
    birth = np.datetime64("1940-01-01") + rng.integers(0, 80 * 365, n_pat).astype("timedelta64[D]")
    dead = rng.random(n_pat) < 0.01
    death = np.where(dead, (np.datetime64("2024-01-01") + rng.integers(0, 365, n_pat)
                            .astype("timedelta64[D]")).astype(str), "")
    phone = pc.binary_join_element_wise(pa.scalar("138"), _ids("", n_pat, 8, start=int(rng.integers(1e6))), "")
    patients = pa.table({
        "patient_id": pid,
        "name": pc.binary_join_element_wise(pa.scalar("患者"), _ids("", n_pat, 6), ""),
        "id_number": _ids("110101", n_pat, 12),
        "gender": pa.array(gender),
        "birth_date": pa.array(birth.astype(str)),
        "region": pa.array(np.full(n_pat, "110101")),
        "death_date": pa.array(death),
        "phone": phone,
        "address": pc.binary_join_element_wise(pa.scalar("北京市东城区"), _ids("", n_pat, 5), ""),
    })
    cards = pa.table({
        "card_id": _ids("C", n_pat, 15),
        "patient_id": pid,
        "card_type": pa.array(np.array(["01", "02", "03"])[rng.integers(0, 3, n_pat)]),
    })
    inst_id = _ids("H", n_inst, 8)
    phar_id = _ids("P", n_phar, 8)
    institutions = pa.table({
        "institution_id": inst_id,
        "name": pc.binary_join_element_wise(pa.scalar("医院"), _ids("", n_inst, 5), ""),
        "level": pa.array(np.array(["一级", "二级", "三级"])[rng.integers(0, 3, n_inst)]),
        "ownership": pa.array(np.array(["公立", "民营"])[rng.integers(0, 2, n_inst)]),
        "kind": pa.array(np.full(n_inst, "医院")),
        "region": pa.array(np.full(n_inst, "110101")),
    })
    pharmacies = pa.table({
        "pharmacy_id": phar_id,
        "name": pc.binary_join_element_wise(pa.scalar("药店"), _ids("", n_phar, 5), ""),
        "region": pa.array(np.full(n_phar, "110101")),
    })
    doc_id = _ids("D", n_doc, 8)
    doctors = pa.table({
        "doctor_id": doc_id,
        "name": pc.binary_join_element_wise(pa.scalar("医生"), _ids("", n_doc, 5), ""),
        "institution_id": _take(inst_id, rng.integers(0, n_inst, n_doc)),
        "department": pa.array(np.array(["内科", "外科", "儿科"])[rng.integers(0, 3, n_doc)]),
    })
    pharm_id = _ids("Y", n_pharm, 8)
    pharmacists = pa.table({
        "pharmacist_id": pharm_id,
        "name": pc.binary_join_element_wise(pa.scalar("药师"), _ids("", n_pharm, 5), ""),
        "pharmacy_id": _take(phar_id, rng.integers(0, n_phar, n_pharm)),
    })

    who = rng.integers(0, n_pat, n_claims)
    is_phar = rng.random(n_claims) < 0.4
    is_inp = ~is_phar & (rng.random(n_claims) < 0.1)
    ctype = np.where(is_phar, "41", np.where(is_inp, "21", "11"))
    fac = np.where(is_phar, np.asarray(phar_id)[rng.integers(0, n_phar, n_claims)],
                   np.asarray(inst_id)[rng.integers(0, n_inst, n_claims)])
    doctor = np.where(is_phar, "", np.asarray(doc_id)[rng.integers(0, n_doc, n_claims)])
    pharmacist = np.where(is_phar, np.asarray(pharm_id)[rng.integers(0, n_pharm, n_claims)], "")
    secs = rng.integers(0, 365 * 86400, n_claims)
    settle = np.datetime64("2024-01-01T00:00:00") + secs.astype("timedelta64[s]")
    stay = rng.integers(1, 15, n_claims).astype("timedelta64[D]")
    discharge = settle.astype("datetime64[D]")
    admit = discharge - stay
    total = np.round(rng.gamma(2.0, 150.0, n_claims), 2)
    neg = rng.random(n_claims) < 0.001
    total = np.where(neg, -total, total)
    claim_id = _ids("S", n_claims, 12)
    claims = pa.table({
        "claim_id": claim_id,
        "patient_id": _take(pid, who),
        "card_id": _take(cards["card_id"].combine_chunks(), who),
        "facility_id": pa.array(fac),
        "doctor_id": pa.array(doctor),
        "pharmacist_id": pa.array(pharmacist),
        "claim_type": pa.array(ctype),
        "settle_time": pc.strftime(pa.array(settle), format="%Y-%m-%d %H:%M:%S"),
        "admit_date": pa.array(np.where(is_inp, admit.astype(str), "")),
        "discharge_date": pa.array(np.where(is_inp, discharge.astype(str), "")),
        "diagnosis_code": pa.array(np.array(["J18.9", "I10", "E11.9", "K29.7", "M54.5"])
                                   [rng.integers(0, 5, n_claims)]),
        "total_amount": pc.cast(pa.array(total), pa.string()),
        "fund_amount": pc.cast(pa.array(np.round(np.abs(total) * 0.7, 2)), pa.string()),
        "device_id": pa.array(np.where(is_phar, np.char.add("T", (rng.integers(0, 9999, n_claims))
                                                           .astype(str)), "")),
        "operator_phone": pa.array(np.where(rng.random(n_claims) < 0.2, "13900000000", "")),
    })
    owner = np.sort(rng.integers(0, n_claims, n_items))
    dangling = rng.random(n_items) < 0.001
    item_claim = pc.if_else(pa.array(dangling), pa.scalar("S999999999999"), _take(claim_id, owner))
    qty = rng.integers(1, 10, n_items)
    price = np.round(rng.gamma(2.0, 20.0, n_items), 2)
    drug = rng.random(n_items) < 0.6
    trace = pc.binary_join_element_wise(pa.scalar("8"), _ids("", n_items, 19, start=int(rng.integers(1e9))), "")
    claim_items = pa.table({
        "item_id": _ids("I", n_items, 12),
        "claim_id": item_claim,
        "item_code": pa.array(np.char.add("XA01", rng.integers(0, 5000, n_items).astype(str))),
        "item_name": pa.array(np.array(["阿莫西林胶囊", "胰岛素注射液", "血常规", "二甲双胍片", "诊查费"])
                              [rng.integers(0, 5, n_items)]),
        "quantity": pc.cast(pa.array(qty), pa.string()),
        "unit_price": pc.cast(pa.array(price), pa.string()),
        "amount": pc.cast(pa.array(np.round(qty * price, 2)), pa.string()),
        "trace_code": pc.if_else(pa.array(drug), trace, pa.scalar("")),
    })
    return {"patients": patients, "cards": cards, "institutions": institutions,
            "pharmacies": pharmacies, "doctors": doctors, "pharmacists": pharmacists,
            "claims": claims, "claim_items": claim_items}


def _write_gbk_csv(table: pa.Table, path: Path, table_name: str) -> None:
    from graphkit.contract import TABLES

    heads = [TABLES[table_name].header_for(c, "chinese") for c in table.column_names]
    buf = pa.BufferOutputStream()
    pacsv.write_csv(table.rename_columns(heads), buf,
                    write_options=pacsv.WriteOptions(quoting_style="needed"))
    path.write_bytes(buf.getvalue().to_pybytes().decode("utf-8").encode("gbk"))


def ensure_data(fmt: str, n_claims: int) -> Path:
    d = DATA / f"load_{n_claims}_{fmt}"
    done = d / ".complete"
    if done.exists():
        return d
    print(f"generating {d} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    d.mkdir(parents=True, exist_ok=True)
    for name, tab in generate(n_claims).items():
        if fmt == "parquet":
            pq.write_table(tab, d / f"{name}.parquet")
        elif fmt == "parquet-rejects":
            if name == "cards":  # a cards file from another system: every claim and item is rejected
                tab = tab.set_column(0, "card_id", pc.binary_join_element_wise(
                    pa.scalar("X"), tab["card_id"], ""))
            pq.write_table(tab, d / f"{name}.parquet")
        elif fmt == "csv":
            pacsv.write_csv(tab, d / f"{name}.csv",
                            write_options=pacsv.WriteOptions(quoting_style="needed"))
        elif fmt == "csv-gbk":
            _write_gbk_csv(tab, d / f"{name}.csv", name)
        elif fmt == "csv-exact":
            if name == "claim_items":  # one quoted newline sends the file down the exact path
                names = tab["item_name"].to_pylist()
                names[len(names) // 2] = "阿莫西林\n胶囊"
                tab = tab.set_column(tab.column_names.index("item_name"), "item_name", pa.array(names))
            pacsv.write_csv(tab, d / f"{name}.csv",
                            write_options=pacsv.WriteOptions(quoting_style="needed"))
        else:
            raise SystemExit(f"unknown format {fmt}")
    done.write_text("ok\n")
    print(f"  generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return d


_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import graphkit
t1 = time.perf_counter()
ds = graphkit.load(sys.argv[1])
t2 = time.perf_counter()
bad = {t: c for t, c in ds.counts.items() if c["read"] != c["accepted"] + c["rejected"]}
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "rows": sum(c["read"] for c in ds.counts.values()),
                  "claims": ds.counts["claims"], "claim_items": ds.counts["claim_items"],
                  "conserved": not bad,
                  "peak_rss_kib": ru.ru_maxrss}))
"""


def run_one(d: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(d)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"load failed on {d}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile(d: Path) -> None:
    code = ("import graphkit, sys\nfrom pyinstrument import Profiler\np = Profiler()\np.start()\n"
            "graphkit.load(sys.argv[1])\np.stop()\nprint(p.output_text(unicode=True, color=False))\n")
    subprocess.run([sys.executable, "-c", code, str(d)], check=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--formats", default="parquet,csv",
                    help="comma list of parquet, csv, csv-gbk, csv-exact, parquet-rejects")
    ap.add_argument("--repeat", type=int, default=1, help="runs per format (the median is shown)")
    ap.add_argument("--profile", metavar="FORMAT", help="print a pyinstrument profile instead")
    args = ap.parse_args(argv)
    if args.profile:
        profile(ensure_data(args.profile, args.claims))
        return 0
    targets = {"parquet": 20.0, "csv": 60.0, "csv-gbk": 60.0, "csv-exact": 60.0,
               "parquet-rejects": 20.0}
    ok = True
    print(f"graphkit.load benchmark: {args.claims:,} claims, {4 * args.claims:,} claim_items, "
          f"{os.cpu_count()} CPUs")
    print(f"{'format':<9} {'load s':>8} {'cpu s':>7} {'rows':>11} {'rows/s':>11} {'peak MiB':>9}  "
          "target  conserved")
    for fmt in args.formats.split(","):
        d = ensure_data(fmt, args.claims)
        runs = sorted((run_one(d) for _ in range(args.repeat)), key=lambda r: r["load_s"])
        r = runs[len(runs) // 2]
        peak = r["peak_rss_kib"] * 1024
        met = r["load_s"] <= targets[fmt] and peak <= 3 * GIB
        ok &= met and r["conserved"]
        print(f"{fmt:<9} {r['load_s']:>8.1f} {r['cpu_s']:>7.1f} {r['rows']:>11,} {r['rows'] / r['load_s']:>11,.0f} "
              f"{peak / (1 << 20):>9,.0f}  {'met' if met else 'MISSED':<6}  {r['conserved']}",
              flush=True)
        print(f"          claims {r['claims']['accepted']:,} accepted / {r['claims']['rejected']:,} "
              f"rejected; items {r['claim_items']['accepted']:,} / {r['claim_items']['rejected']:,}; "
              f"import {r['import_s']:.1f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
