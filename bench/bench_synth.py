"""Benchmark ``graphkit.synth.generate``: seconds, rows/s and peak RSS.

Usage: python bench/bench_synth.py [CLAIMS] [csv|parquet]   (default 1,000,000 csv)
CPU seconds (user + system of the child) are printed too: the machine may be shared.
Runs the generator in a child process so peak RSS is the generator's own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, sys, time
from graphkit.synth import generate
t = time.perf_counter()
s = generate(sys.argv[1], claims=int(sys.argv[2]), seed=1, fmt=sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - t, "tables": s["tables"]}))
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    fmt = sys.argv[2] if len(sys.argv) > 2 else "csv"
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, d, str(n), fmt], check=True,
                             capture_output=True, text=True)
        wall = time.perf_counter() - t0
    res = json.loads(out.stdout.strip().splitlines()[-1])
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = ru.ru_maxrss / 1024  # KiB -> MiB (Linux)
    cpu = ru.ru_utime + ru.ru_stime
    rows = sum(res["tables"].values())
    print(f"claims={n:,} format={fmt}")
    print(f"generate seconds={res['seconds']:.1f} (process wall {wall:.1f}, process CPU {cpu:.1f})")
    print(f"rows written={rows:,} ({res['tables']['claims']:,} claims, "
          f"{res['tables']['claim_items']:,} items) rows/s={rows / res['seconds']:,.0f} "
          f"claims/s={n / res['seconds']:,.0f}")
    print(f"peak RSS={peak:,.0f} MiB")


if __name__ == "__main__":
    main()
