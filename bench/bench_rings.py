"""Speed of ``graphkit rings`` end to end, and of the naive recipe, on ``graphkit synth`` data.

For each size (claims; Parquet data generated once with ``graphkit synth`` and cached under
``bench/data/``):

* ``graphkit rings DATA_DIR -o OUT --no-pages`` in a fresh subprocess (load + detect + write
  rings.json/rings.csv; its per-stage progress lines are echoed to stderr): wall seconds and
  peak RSS of that process (``ru_maxrss`` from ``os.wait4``, i.e. ``getrusage(RUSAGE_CHILDREN)``
  of that one child);
* with ``--pages``, also ``graphkit rings DATA_DIR -o OUT`` as a user runs it (the same, plus
  ``index.html`` and one page per ring), timed the same way;
* the naive recipe in a fresh subprocess: load the same data with ``graphkit.load``, build the
  patient-patient co-visit projection (same facility, same day, provider-days > 50 patients
  skipped; scipy ``B @ B.T``), put it in a networkx graph and run python-louvain's
  ``best_partition``. It is killed after ``--naive-timeout`` seconds (default 900) and then
  reported as "> N s".

Prints one table and the naive / graphkit ratio. Numbers are printed, never asserted.

Usage::

    python bench/bench_rings.py                       # 100k and 1M claims
    python bench/bench_rings.py --sizes 100000,1000000,5000000
    python bench/bench_rings.py --sizes 1000000 --no-naive --pages
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from quality import ensure_data  # noqa: E402


def _run_measured(cmd: list[str], timeout: float | None = None) -> dict:
    """Run ``cmd`` in a fresh process; wall seconds, peak RSS (MiB), exit code, output tails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            p.kill()

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"wall": wall, "rss_mib": ru.ru_maxrss / 1024.0, "rc": p.returncode,
                "timed_out": timed_out.is_set(), "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace")}


def naive_worker(data_dir: str, seed: int) -> None:
    """The naive recipe; prints a JSON line of stage timings (run in its own process)."""
    import networkx as nx
    import community as community_louvain  # python-louvain
    import pandas as pd

    import graphkit as gk
    from baselines import covisit_projection

    t = {}
    t0 = time.perf_counter()
    ds = gk.load(data_dir)
    claims = ds.claims
    t["load"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    pidx = pd.Index(pd.unique(claims["patient_id"].dropna().astype("string"))).sort_values()
    W = covisit_projection(claims, pidx).tocoo()
    t["projection"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    G = nx.Graph()
    G.add_weighted_edges_from(zip(W.row.tolist(), W.col.tolist(), W.data.astype(float).tolist()))
    t["networkx_build"] = time.perf_counter() - t1
    print(json.dumps({"stage": "built", "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                      **t}), flush=True)
    t1 = time.perf_counter()
    part = community_louvain.best_partition(G, weight="weight", random_state=seed)
    t["louvain"] = time.perf_counter() - t1
    t["total"] = time.perf_counter() - t0
    print(json.dumps({"stage": "done", "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                      "communities": len(set(part.values())), **t}), flush=True)


def _size_label(n: int) -> str:
    return f"{n / 1e6:.3g}M" if n >= 1_000_000 else f"{n // 1000}k"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time graphkit rings and the naive recipe.")
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated claim counts")
    ap.add_argument("--camouflage", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--naive-timeout", type=float, default=900.0)
    ap.add_argument("--no-naive", action="store_true", help="skip the naive recipe")
    ap.add_argument("--pages", action="store_true",
                    help="also time graphkit rings with its HTML pages (the default command)")
    ap.add_argument("--naive-worker", metavar="DATA_DIR", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.naive_worker:
        naive_worker(a.naive_worker, a.seed)
        return 0

    import pyarrow.parquet as pq

    rows = []
    for n in (int(float(x)) for x in a.sizes.split(",")):
        d = ensure_data(n, a.camouflage, a.seed)
        items = pq.ParquetFile(d / "claim_items.parquet").metadata.num_rows
        with tempfile.TemporaryDirectory() as out:
            g = _run_measured([sys.executable, "-m", "graphkit", "rings", str(d), "-o", out,
                               "--no-pages"])
            n_rings = None
            if g["rc"] == 0:
                n_rings = len(json.loads((Path(out) / "rings.json").read_text("utf-8"))["rings"])
        if g["rc"] != 0:
            print(f"graphkit rings failed at {n} claims (exit {g['rc']}):\n{g['stderr'][-4000:]}",
                  file=sys.stderr)
        row = {"claims": n, "items": items, "gk_wall": g["wall"], "gk_rss": g["rss_mib"],
               "gk_ok": g["rc"] == 0, "rings": n_rings}
        stages = " | ".join(x.strip() for x in g["stderr"].splitlines()
                            if x.strip().startswith(("loaded", "detector")))
        print(f"graphkit rings {_size_label(n)}: {g['wall']:.1f}s, {g['rss_mib']:,.0f} MiB, "
              f"rings={n_rings}; stages: {stages}", file=sys.stderr, flush=True)
        if a.pages:
            with tempfile.TemporaryDirectory() as out:
                p = _run_measured([sys.executable, "-m", "graphkit", "rings", str(d), "-o", out])
            row.update({"pg_wall": p["wall"], "pg_rss": p["rss_mib"], "pg_ok": p["rc"] == 0})
            print(f"graphkit rings {_size_label(n)} with pages: {p['wall']:.1f}s, "
                  f"{p['rss_mib']:,.0f} MiB", file=sys.stderr, flush=True)
        if not a.no_naive:
            r = _run_measured([sys.executable, str(Path(__file__).resolve()), "--naive-worker", str(d),
                               "--seed", str(a.seed)], timeout=a.naive_timeout)
            stages = [json.loads(x) for x in r["stdout"].splitlines() if x.startswith("{")]
            row.update({"nv_wall": r["wall"], "nv_rss": r["rss_mib"], "nv_timeout": r["timed_out"],
                        "nv_ok": r["rc"] == 0, "nv_stages": stages[-1] if stages else {}})
            if r["rc"] != 0 and not r["timed_out"]:
                print(f"naive recipe failed at {n} claims (exit {r['rc']}):\n{r['stderr'][-4000:]}",
                      file=sys.stderr)
            print(f"naive {_size_label(n)}: {r['wall']:.1f}s{' (timeout)' if r['timed_out'] else ''}, "
                  f"{r['rss_mib']:,.0f} MiB, {json.dumps(row['nv_stages'])}", file=sys.stderr, flush=True)
        row["load_avg"] = os.getloadavg()[0]
        rows.append(row)

    head = (f"{'claims':>7} {'items':>7} {'graphkit s':>11} {'peak MiB':>9} {'rings':>6}"
            + (f" {'+pages s':>9} {'peak MiB':>9}" if a.pages else "")
            + ("" if a.no_naive else f" {'naive s':>9} {'naive MiB':>10} {'louvain s':>10} "
                                     f"{'edges':>10} {'naive/gk':>9}"))
    print(head)
    print("-" * len(head))
    for r in rows:
        gk_s = f"{r['gk_wall']:.1f}" if r["gk_ok"] else "FAILED"
        line = (f"{_size_label(r['claims']):>7} {_size_label(r['items']):>7} {gk_s:>11} "
                f"{r['gk_rss']:>9,.0f} {str(r['rings']):>6}")
        if a.pages:
            pg_s = f"{r['pg_wall']:.1f}" if r["pg_ok"] else "FAILED"
            line += f" {pg_s:>9} {r['pg_rss']:>9,.0f}"
        if not a.no_naive:
            st = r["nv_stages"]
            if r["nv_timeout"]:
                nv_s, ratio = f"> {a.naive_timeout:.0f}", f"> {a.naive_timeout / r['gk_wall']:.1f}x"
            elif r["nv_ok"]:
                nv_s, ratio = f"{r['nv_wall']:.1f}", f"{r['nv_wall'] / r['gk_wall']:.1f}x"
            else:
                nv_s, ratio = "FAILED", "-"
            lv = f"{st['louvain']:.1f}" if "louvain" in st else "-"
            line += (f" {nv_s:>9} {r['nv_rss']:>10,.0f} {lv:>10} {st.get('edges', 0):>10,} {ratio:>9}")
        print(line)
    print("1-min load average after each size (other processes on this machine skew the wall "
          "times): " + ", ".join(f"{_size_label(r['claims'])} {r['load_avg']:.1f}" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
