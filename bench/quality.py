"""Ring quality of ``graphkit rings`` against the two peer baselines, on ``graphkit synth`` data.

For each (claims, camouflage) of the grid, generate Parquet data with ``graphkit synth`` (cached
under ``bench/data/``), run ``graphkit rings --no-pages`` in a subprocess, run both baselines of
``bench/baselines.py`` (the Neo4j recipe and FRAUDAR peeling) on the same data, score all three with
:func:`graphkit.evaluate.evaluate` and print one table: ring F1 per typology, overall ring
precision / recall / F1 and patient precision / recall. The table is also written to
``bench/out/quality.md`` (Markdown).

Usage::

    python bench/quality.py                          # 200k claims at camouflage 0.5 and 0.8
    python bench/quality.py --claims 1000000         # the 1M runs
    python bench/quality.py --claims 200000,1000000 --camouflage 0.5,0.8 --seed 7

Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
OUT = BENCH / "out"
TYPOLOGIES = ("gang", "impersonation", "diversion", "fake_admission")
METHODS = ("graphkit", "neo4j_recipe", "neo4j_no_device", "fraudar")


def data_dir(claims: int, camouflage: float, seed: int) -> Path:
    return DATA / f"synth_{claims}_c{camouflage:g}_s{seed}"


def synth_stamp() -> str:
    """A hash of the generator's source: cached data made by another generator is stale."""
    import hashlib

    import graphkit.synth as synth

    h = hashlib.sha256()
    for f in sorted(Path(synth.__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def ensure_data(claims: int, camouflage: float = 0.5, seed: int = 7, *, quiet: bool = False) -> Path:
    """Generate (once per generator version) and return the cached Parquet data directory for
    these arguments. A cache made by another version of ``graphkit synth`` is made again, so a
    number measured here is always one a fresh clone reproduces."""
    d = data_dir(claims, camouflage, seed)
    stamp = synth_stamp()
    made_by = d / ".synth"
    if (d / "truth.csv").exists() and (d / "claims.parquet").exists():
        if made_by.exists() and made_by.read_text().strip() == stamp:
            return d
        if not quiet:
            print(f"{d.name} was made by another synth version: generating it again",
                  file=sys.stderr, flush=True)
    tmp = d.with_name(d.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if not quiet:
        print(f"generating {d.name} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "graphkit", "synth", str(tmp), "--claims", str(claims),
                    "--seed", str(seed), "--camouflage", str(camouflage), "--format", "parquet"],
                   check=True, stdout=subprocess.DEVNULL)
    (tmp / ".synth").write_text(stamp + "\n")
    shutil.rmtree(d, ignore_errors=True)
    os.replace(tmp, d)
    if not quiet:
        print(f"generated {d.name} in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    return d


def run_graphkit(d: Path, out: Path) -> tuple[Path, float]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "graphkit", "rings", str(d), "-o", str(out),
                        "--no-pages", "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"graphkit rings failed on {d} (exit {r.returncode}):\n{r.stderr[-4000:]}")
    return out / "rings.json", time.perf_counter() - t0


def run_baselines(d: Path, out: Path, seed: int) -> dict[str, tuple[Path, float]]:
    sys.path.insert(0, str(BENCH))
    import baselines
    import graphkit as gk
    from graphkit.rings import write_rings

    ds = gk.load(d)
    res = {}
    for name, fn in (("neo4j_recipe", baselines.neo4j_recipe),
                     ("neo4j_no_device", baselines.neo4j_recipe_no_device),
                     ("fraudar", baselines.fraudar)):
        t0 = time.perf_counter()
        doc = fn(ds, seed=seed)
        pj, _ = write_rings(doc, out / name)
        res[name] = (pj, time.perf_counter() - t0)
    return res


def _row(claims: int, camo: float, method: str, res: dict, seconds: float) -> dict:
    by, o = res["by_typology"], res["overall"]
    row = {"claims": claims, "camouflage": f"{camo:g}", "method": method, "seconds": round(seconds, 1),
           "rings": sum(by[t]["detected_rings"] for t in by),
           "truth": sum(by[t]["truth_rings"] for t in by)}
    for t in TYPOLOGIES:
        row[f"F1 {t}"] = by.get(t, {}).get("ring_f1", 0.0)
    row.update({"ring P": o["ring_precision"], "ring R": o["ring_recall"], "ring F1": o["ring_f1"],
                "patient P": o["patient_precision"], "patient R": o["patient_recall"]})
    return row


COLS = (["claims", "camouflage", "method", "rings", "truth"] + [f"F1 {t}" for t in TYPOLOGIES]
        + ["ring P", "ring R", "ring F1", "patient P", "patient R", "seconds"])


def _fmt(v) -> str:
    if isinstance(v, float) and not isinstance(v, bool):
        return f"{v:.3f}" if v <= 1.0 else f"{v:.1f}"
    if isinstance(v, int) and v >= 10000:
        return f"{v // 1000}k" if v < 1_000_000 else f"{v / 1e6:g}M"
    return str(v)


def table_text(rows: list[dict]) -> str:
    cells = [[c for c in COLS]] + [[_fmt(r[c]) for c in COLS] for r in rows]
    w = [max(len(x[i]) for x in cells) for i in range(len(COLS))]
    lines = []
    for k, x in enumerate(cells):
        lines.append("  ".join(s.ljust(w[i]) if i == 2 else s.rjust(w[i]) for i, s in enumerate(x)))
        if k == 0:
            lines.append("  ".join("-" * n for n in w))
    return "\n".join(lines)


def table_markdown(rows: list[dict], cols=COLS) -> str:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r[c]) for c in cols) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Ring F1 of graphkit rings vs the peer baselines.")
    ap.add_argument("--claims", default="200000", help="comma-separated sizes [200000]")
    ap.add_argument("--camouflage", default="0.5,0.8", help="comma-separated levels [0.5,0.8]")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=OUT / "quality.md")
    a = ap.parse_args(argv)
    from graphkit.evaluate import evaluate

    rows = []
    for claims in (int(float(x)) for x in a.claims.split(",")):
        for camo in (float(x) for x in a.camouflage.split(",")):
            d = ensure_data(claims, camo, a.seed)
            work = OUT / "quality" / d.name
            runs = {}
            try:
                runs["graphkit"] = run_graphkit(d, work / "graphkit")
            except RuntimeError as exc:
                print(str(exc), file=sys.stderr)
            runs.update(run_baselines(d, work, a.seed))
            for m in METHODS:
                if m not in runs:
                    continue
                pj, secs = runs[m]
                row = _row(claims, camo, m, evaluate(pj, d), secs)
                rows.append(row)
                print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()},
                                 ensure_ascii=False), file=sys.stderr, flush=True)
    text = table_text(rows)
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        "# Ring quality on graphkit synth data (seed %d)\n\n" % a.seed
        + "Ring F1 per typology; overall ring precision / recall / F1; patient precision / recall. "
          "`seconds` = wall time of the method (graphkit: whole CLI incl. load; baselines: after load).\n\n"
        + table_markdown(rows) + "\n", encoding="utf-8")
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
