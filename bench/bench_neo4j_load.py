"""Load throughput over Bolt: 200k claims with their items into FalkorDB (target >= 20k rows/s).

Generates a seeded synthetic data directory (patients, cards, facilities, doctors, claims and
about two items per claim), loads it with :func:`graphkit.load`, starts the FalkorDB Bolt server
of the test suite (tests/bolt_server.py) and times :meth:`Neo4jStore.load_dataset`, then loads
again to time an idempotent re-run. Prints rows/s overall and per step, and the CPU seconds of
the server process it started (the wall time on a shared machine also counts other load).

Usage::

    python bench/bench_neo4j_load.py [--claims 200000] [--batch 10000] [--uri bolt://...]

With --uri the benchmark uses that server (its graph is wiped first!) instead of starting one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_data(out: Path, n_claims: int, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    n_pat = max(10, n_claims // 4)
    n_inst, n_phar, n_doc = 500, 300, 3000
    pid = np.array([f"{i:016d}" for i in range(1, n_pat + 1)])
    pd.DataFrame({
        "patient_id": pid, "name": [f"患者{i}" for i in range(n_pat)],
        "gender": rng.choice(["M", "F"], n_pat),
        "birth_date": pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 25000, n_pat), "D"),
        "region": rng.choice(["110101", "110102", "310101"], n_pat),
        "phone": [f"138{x:08d}" for x in rng.integers(0, n_pat, n_pat)],
        "address": [f"地址{x}" for x in rng.integers(0, n_pat // 2, n_pat)],
    }).to_csv(out / "patients.csv", index=False)
    pd.DataFrame({"card_id": ["K" + p for p in pid], "patient_id": pid,
                  "card_type": "03"}).to_csv(out / "cards.csv", index=False)
    inst = np.array([f"H{i:05d}" for i in range(n_inst)])
    phar = np.array([f"Y{i:05d}" for i in range(n_phar)])
    pd.DataFrame({"institution_id": inst, "name": inst, "region": "110101"}).to_csv(
        out / "institutions.csv", index=False)
    pd.DataFrame({"pharmacy_id": phar, "name": phar, "region": "110102"}).to_csv(
        out / "pharmacies.csv", index=False)
    doc = np.array([f"D{i:05d}" for i in range(n_doc)])
    pd.DataFrame({"doctor_id": doc, "institution_id": rng.choice(inst, n_doc)}).to_csv(
        out / "doctors.csv", index=False)
    who = rng.integers(0, n_pat, n_claims)
    is_ph = rng.random(n_claims) < 0.5
    settle = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n_claims), "s")
    inpatient = (~is_ph) & (rng.random(n_claims) < 0.1)
    admit = (settle.normalize() - pd.to_timedelta(rng.integers(1, 15, n_claims), "D"))
    claims = pd.DataFrame({
        "claim_id": [f"S{i:09d}" for i in range(n_claims)], "patient_id": pid[who],
        "card_id": ["K" + p for p in pid[who]],
        "facility_id": np.where(is_ph, rng.choice(phar, n_claims), rng.choice(inst, n_claims)),
        "doctor_id": np.where(is_ph, "", rng.choice(doc, n_claims)),
        "claim_type": np.where(is_ph, "pharmacy", np.where(inpatient, "inpatient", "outpatient")),
        "settle_time": settle.strftime("%Y-%m-%d %H:%M:%S"),
        "admit_date": np.where(inpatient, admit.strftime("%Y-%m-%d"), ""),
        "discharge_date": np.where(inpatient, settle.strftime("%Y-%m-%d"), ""),
        "diagnosis_code": rng.choice(["I10", "E11.9", "J18.9", "M54.5"], n_claims),
        "total_amount": rng.integers(1000, 100000, n_claims) / 100,
        "fund_amount": rng.integers(500, 50000, n_claims) / 100,
        "device_id": np.where(is_ph, [f"DEV{x}" for x in rng.integers(0, 2000, n_claims)], ""),
    })
    claims.to_csv(out / "claims.csv", index=False)
    per = rng.integers(1, 4, n_claims)
    cid = np.repeat(claims["claim_id"].to_numpy(), per)
    n_items = len(cid)
    traced = rng.random(n_items) < 0.6
    pd.DataFrame({
        "item_id": [f"I{i:010d}" for i in range(n_items)], "claim_id": cid,
        "item_code": rng.choice([f"X{i:04d}" for i in range(800)], n_items),
        "item_name": "药品", "quantity": rng.integers(1, 5, n_items), "unit_price": 12.5,
        "amount": 25.0,
        "trace_code": np.where(traced, [f"8{x:019d}" for x in rng.integers(0, 10**15, n_items)], ""),
    }).to_csv(out / "claim_items.csv", index=False)
    return out


def _server_pid(server) -> int | None:
    """The redis-server process of a BoltServer we started (a descendant of its process)."""
    import subprocess
    if server is None or server.proc is None:
        return None
    todo, seen = [server.proc.pid], []
    while todo:
        pid = todo.pop()
        seen.append(pid)
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        todo += [int(k) for k in kids.split()]
    for pid in seen:
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            if b"redis-server" in argv0:
                return pid
        except OSError:
            pass
    return None


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (all its threads), or NaN."""
    import os
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--uri", default=None)
    args = ap.parse_args(argv)

    from neo4j import GraphDatabase

    import graphkit
    from graphkit.neo4j_backend import Neo4jStore

    with tempfile.TemporaryDirectory(prefix="bench-neo4j-") as tmp:
        t = time.perf_counter()
        ds = graphkit.load(make_data(Path(tmp), args.claims))
        print(f"data: {len(ds.claims):,} claims, {len(ds.claim_items):,} items, "
              f"{len(ds.patients):,} patients (generated and loaded in "
              f"{time.perf_counter() - t:.1f} s)")
        server = None
        if args.uri is None:
            from tests.bolt_server import BoltServer
            server = BoltServer().start()
            uri = server.uri
            print(f"server: FalkorDB {uri} ({server.isolation})")
        else:
            uri = args.uri
        driver = GraphDatabase.driver(uri, auth=None)
        try:
            store = Neo4jStore(driver, uri=uri)
            store.run_cypher("MATCH (n) DETACH DELETE n")
            step_times: dict[str, float] = {}
            step_cpu: dict[str, float] = {}
            pid = _server_pid(server)
            last = [time.perf_counter(), _cpu_seconds(pid)]

            def tick(step, n, i):
                now, cpu = time.perf_counter(), _cpu_seconds(pid)
                step_times[step] = step_times.get(step, 0.0) + now - last[0]
                step_cpu[step] = step_cpu.get(step, 0.0) + cpu - last[1]
                last[0], last[1] = now, cpu

            cpu0 = _cpu_seconds(pid)
            last[0], last[1] = time.perf_counter(), cpu0
            rep = store.load_dataset(ds, batch_size=args.batch, on_batch=tick)
            cpu = _cpu_seconds(pid) - cpu0
            print(f"first load: {rep.rows:,} rows in {rep.seconds:.1f} s = "
                  f"{rep.rows_per_second:,.0f} rows/s (batch {args.batch:,}); "
                  f"{rep.nodes_created:,} nodes, {rep.relationships_created:,} relationships")
            print(f"  server CPU {cpu:.1f} s = {rep.rows / cpu if cpu > 0 else float('nan'):,.0f} "
                  f"rows per server CPU second (the wall time also counts the client and other "
                  f"processes on a shared machine)")
            for step, rows in rep.per_step.items():
                if rows and step in step_times:
                    print(f"  {step:20} {rows:>9,} rows {step_times[step]:7.1f} s "
                          f"{rows / step_times[step]:>9,.0f} rows/s  server CPU "
                          f"{step_cpu[step]:6.1f} s")
            rep2 = store.load_dataset(ds, batch_size=args.batch, resume=False)
            print(f"re-run (merge everything again): {rep2.rows_per_second:,.0f} rows/s, "
                  f"{rep2.nodes_created} nodes created")
            rep3 = store.load_dataset(ds, batch_size=args.batch)
            print(f"re-run (resume, all batches done): {rep3.seconds:.2f} s, "
                  f"{rep3.batches_skipped} batches skipped")
        finally:
            driver.close()
            if server is not None:
                server.poke()
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
