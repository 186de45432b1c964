"""Ring quality of ``graphkit rings`` on ``graphkit synth`` data.

Two modes.

``--worlds N [--seed S]`` (the scenario sweep) draws N random worlds: claims 100k–300k
(multiples of 1,000), camouflage 0.3–0.9 (two decimals), a synth seed, and a data-quality
variant (``VARIANTS``: plain Parquet, GBK CSV with 平台 field codes, and the ``bench/stress.py``
transforms: no addresses, coarse or district-only addresses, no device_id, no diagnosis,
stand-in phones and addresses, facility lines as operator phone, no cards table). World k is
drawn from ``numpy.random.default_rng([S, k])``, so the same ``--worlds N --seed S`` draws the
same worlds and a longer sweep starts with the worlds of a shorter one. Each world is generated
with ``graphkit synth`` (cached under ``DATA/worlds/``, keyed by claims, camouflage, seed,
variant and a stamp of the generator's source), then ``graphkit rings --no-pages --min-score 0``
runs once and :func:`graphkit.evaluate.evaluate_thresholds` scores it at every threshold of
``graphkit.evaluate.PR_THRESHOLDS`` and at the default ``min_score``: a threshold keeps the
rings scoring at least it. Printed and written to ``bench/out/quality.md``: per typology, ring
F1 median, worst decile (the 10th percentile, an observed world: the lowest of up to 10 worlds,
the second lowest of 11–20, the third of 21–30) and minimum over the worlds, pooled ring
precision and recall; the largest share of patients two reported rings have in common
(|a & b| / min size; contract section 2: at most one half) and the pairs above one half;
look-alike cohorts reported as rings; the miss kinds of ``graphkit.evaluate`` summed over the
worlds; ring F1 per data-quality variant and recall / precision per planted scenario
(``scenarios.csv``); one row per world.
``bench/out/pr.md`` gets the precision–recall table by threshold (pooled over the worlds, per
typology and overall) and the lowest threshold at which pooled ring precision reaches 0.95.

A threshold applied to the ``--min-score 0`` run is what a run at that threshold reports where
the detectors do not read one another's reported rings; where they do (impersonation leaves out
the cards of reported gang and diversion rings, and rings of different typologies are
reconciled), a run at that threshold can differ. ``--check-default`` also runs each world at
the default threshold and reports how many rings differ.

Without ``--worlds`` (the baseline grid): for each (claims, camouflage) of the grid, run
``graphkit rings`` and both peer baselines of ``bench/baselines.py`` (the Neo4j recipe and
FRAUDAR peeling) on the same data and print one table: ring F1 per typology, overall ring
precision / recall / F1 and patient precision / recall (also ``bench/out/quality.md``).

Usage::

    python bench/quality.py --worlds 20 --seed 1     # the scenario sweep
    python bench/quality.py --worlds 3 --data /tmp/me/data --work /tmp/me/out \
        --synth-code /tmp/me/code                      # generate with a snapshot of graphkit
    python bench/quality.py                          # baselines, 200k claims at camouflage 0.5 and 0.8
    python bench/quality.py --claims 200000,1000000 --camouflage 0.5,0.8 --seed 7

Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
OUT = BENCH / "out"
TYPOLOGIES = ("gang", "impersonation", "diversion", "fake_admission")
METHODS = ("graphkit", "neo4j_recipe", "neo4j_no_device", "fraudar")


def data_dir(claims: int, camouflage: float, seed: int, root: Path = DATA) -> Path:
    return root / f"synth_{claims}_c{camouflage:g}_s{seed}"


def synth_stamp(synth_code: Path | None = None) -> str:
    """A hash of the generator's source (that of ``synth_code/graphkit/synth`` when given):
    cached data made by another generator is stale."""
    if synth_code is not None:
        folder = Path(synth_code) / "graphkit" / "synth"
    else:
        import graphkit.synth as synth

        folder = Path(synth.__file__).parent
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _synth_env(synth_code: Path | None) -> dict | None:
    if synth_code is None:
        return None
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(synth_code)] + [x for x in [env.get("PYTHONPATH")] if x])
    return env


def _cached(d: Path, stamp: str, make, *, quiet: bool) -> Path:
    """``d`` when it holds a finished directory made with ``stamp``; else ``make(tmp)`` into a
    temporary sibling, stamped and moved into place."""
    made_by = d / ".synth"
    if (d / "truth.csv").exists() and made_by.exists():
        if made_by.read_text().strip() == stamp:
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
    made = make(tmp)
    if made != tmp:  # a maker that wrote elsewhere
        shutil.rmtree(tmp, ignore_errors=True)
        os.replace(made, tmp)
    (tmp / ".synth").write_text(stamp + "\n")
    shutil.rmtree(d, ignore_errors=True)
    os.replace(tmp, d)
    if not quiet:
        print(f"generated {d.name} in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    return d


def _synth(out: Path, claims: int, camouflage: float, seed: int, synth_code: Path | None,
           extra: tuple[str, ...] = ("--format", "parquet")) -> Path:
    # run from synth_code: with ``-m`` the current directory comes first on sys.path, and a
    # checkout's own graphkit/ would shadow the snapshot named by PYTHONPATH
    subprocess.run([sys.executable, "-m", "graphkit", "synth", str(out.resolve()), "--claims",
                    str(claims), "--seed", str(seed), "--camouflage", str(camouflage), *extra],
                   check=True, stdout=subprocess.DEVNULL, env=_synth_env(synth_code),
                   cwd=synth_code)
    return out


def ensure_data(claims: int, camouflage: float = 0.5, seed: int = 7, *, quiet: bool = False,
                root: Path = DATA, synth_code: Path | None = None) -> Path:
    """Generate (once per generator version) and return the cached Parquet data directory for
    these arguments. A cache made by another version of ``graphkit synth`` is made again, so a
    number measured here is always one a fresh clone reproduces."""
    return _cached(data_dir(claims, camouflage, seed, root), synth_stamp(synth_code),
                   lambda tmp: _synth(tmp, claims, camouflage, seed, synth_code), quiet=quiet)


def run_graphkit(d: Path, out: Path, extra: tuple[str, ...] = ()) -> tuple[Path, float]:
    """``graphkit rings D -o OUT --no-pages -q [extra]`` in a fresh process (the working tree's
    graphkit): the rings.json and the wall seconds."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "graphkit", "rings", str(d), "-o", str(out),
                        "--no-pages", "-q", *extra], capture_output=True, text=True)
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


# ---------------------------------------------------------------------------------------------
# The scenario sweep: random worlds


#: the data-quality variants a world is drawn with, and what each is
VARIANTS = {
    "parquet": "as generated, Parquet",
    "gbk_nhsa": "GBK CSV with 平台 field-code headers",
    "no_address": "no address column",
    "coarse_address": "every address cut to its village / community",
    "district_address": "15% of addresses cut to their district",
    "no_device": "no device_id column",
    "no_diagnosis": "no diagnosis_code column",
    "stand_ins": "15% of addresses 不详, 10% of phones 00000000000",
    "facility_lines": "20 facilities' own line as operator phone",
    "no_cards": "no cards table",
    "no_phone_terminal": "no operator_phone or device_id (not drawn unless named in --variants)",
}
#: the variants drawn by default: every one but ``no_phone_terminal``, whose claims name no one
#: who presented a card (impersonation is then found only through doctor sessions)
DEFAULT_VARIANTS = tuple(v for v in VARIANTS if v != "no_phone_terminal")


def _stress_makers() -> dict:
    import stress

    return {"no_address": stress.no_addresses, "coarse_address": stress.coarse_addresses,
            "district_address": stress.district_addresses, "no_device": stress.no_device,
            "no_diagnosis": stress.no_diagnoses, "stand_ins": stress.stand_ins,
            "facility_lines": stress.facility_lines, "no_cards": stress.no_cards_table,
            "no_phone_terminal": stress.no_operator}


#: a second stream of the sweep's seed, for dealing the variants
_DEAL = 1 << 20


@dataclass(frozen=True)
class World:
    """One drawn world: its size, camouflage, synth seed and data-quality variant."""

    index: int
    claims: int
    camouflage: float
    seed: int
    variant: str

    @property
    def name(self) -> str:
        return f"synth_{self.claims}_c{self.camouflage:g}_s{self.seed}_{self.variant}"


def draw_worlds(n: int, seed: int, variants=DEFAULT_VARIANTS) -> list[World]:
    """``n`` worlds. World k's claims, camouflage and synth seed come from
    ``default_rng([seed, k])``; the variants are dealt in rounds, each round a seeded shuffle of
    ``variants``, so a few worlds already cover different variants. World k depends only on
    (seed, k, variants)."""
    import numpy as np

    worlds = []
    for k in range(n):
        rng = np.random.default_rng([seed, k])
        claims = int(rng.integers(100, 301)) * 1000
        camouflage = round(float(rng.uniform(0.3, 0.9)), 2)
        synth_seed = int(rng.integers(1, 1_000_000))
        deal = np.random.default_rng([seed, _DEAL, k // len(variants)]).permutation(len(variants))
        worlds.append(World(k, claims, camouflage, synth_seed, variants[int(deal[k % len(variants)])]))
    return worlds


def world_data(world: World, root: Path, synth_code: Path | None, *,
               quiet: bool = False) -> tuple[Path, Path]:
    """The world's data directory (generated once per generator version) and the directory to
    score against: the plain Parquet draw for a variant derived from it (same truth, and the
    cards table a ``no_cards`` variant lacks)."""
    worlds = root / "worlds"
    stamp = synth_stamp(synth_code)
    if world.variant == "gbk_nhsa":
        d = _cached(worlds / world.name, stamp,
                    lambda tmp: _synth(tmp, world.claims, world.camouflage, world.seed, synth_code,
                                       ("--format", "csv", "--encoding", "gbk", "--headers", "nhsa")),
                    quiet=quiet)
        return d, d
    src = ensure_data(world.claims, world.camouflage, world.seed, quiet=quiet, root=worlds,
                      synth_code=synth_code)
    if world.variant == "parquet":
        return src, src
    make = _stress_makers()[world.variant]
    # the transform's source is part of the stamp: a changed transform makes the variant again
    derived = stamp + ":" + hashlib.sha256((BENCH / "stress.py").read_bytes()).hexdigest()[:12]
    return _cached(worlds / world.name, derived, lambda tmp: make(src, tmp), quiet=quiet), src


def _ring_keys(rings_json: Path, min_score: float | None = None) -> set:
    from graphkit.rings import read_rings

    return {(r.typology, tuple(sorted((m.type, m.id) for m in r.members)))
            for r in read_rings(rings_json).rings if min_score is None or r.score >= min_score}


def run_world(world: World, root: Path, work: Path, synth_code: Path | None, thresholds,
              default: float, check_default: bool) -> dict:
    """Generate (or reuse) the world, run ``graphkit rings --min-score 0`` once and score it at
    every threshold; the full result at the default threshold goes to ``WORK/<world>/eval.json``."""
    from graphkit.evaluate import evaluate_thresholds

    data, truth_dir = world_data(world, root, synth_code)
    out = work / world.name
    pj, seconds = run_graphkit(data, out / "rings", ("--min-score", "0"))
    scored = evaluate_thresholds(pj, truth_dir, sorted(set(thresholds) | {default}))
    (out / "eval.json").write_text(json.dumps(scored[default], ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    row = {"world": asdict(world), "seconds": seconds,
           "results": {t: {k: v for k, v in res.items() if k != "misses"}
                       for t, res in scored.items()}}
    if check_default:
        from graphkit.evaluate import evaluate

        dj, _ = run_graphkit(data, out / "default")
        filtered, ran = _ring_keys(pj, default), _ring_keys(dj)
        row["default_run"] = {"rings": len(ran), "same": len(filtered & ran),
                              "only_in_filtered": len(filtered - ran), "only_in_run": len(ran - filtered)}
        ran_res = evaluate(dj, truth_dir)
        (out / "eval_default_run.json").write_text(json.dumps(ran_res, ensure_ascii=False, indent=1),
                                                   encoding="utf-8")
        row["default_result"] = {k: v for k, v in ran_res.items() if k != "misses"}
    return row


def _pooled(results: list[dict], typology: str | None) -> dict:
    """Ring precision, recall and F1 over several worlds' results, pooled (sums of rings)."""
    if typology is None:
        by = [m for res in results for m in res["by_typology"].values()]
    else:
        by = [res["by_typology"][typology] for res in results if typology in res["by_typology"]]
    matched = sum(m["matched_rings"] for m in by)
    p = matched / max(1, sum(m["detected_rings"] for m in by))
    r = matched / max(1, sum(m["truth_rings"] for m in by))
    return {"P": p, "R": r, "F1": 2 * p * r / (p + r) if p + r else 0.0}


def _decile(values: list[float]) -> float:
    """The 10th percentile as an observed value (numpy's 'lower' method)."""
    import numpy as np

    return float(np.percentile(values, 10, method="lower"))


def _median(values: list[float]) -> float:
    import numpy as np

    return float(np.median(values))


def _md(head: list[str], rows: list[list]) -> str:
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows])


def quality_report(rows: list[dict], default: float, seed: int) -> str:
    """The sweep's Markdown: F1 per typology over the worlds, overlaps, look-alikes, miss kinds,
    F1 per variant and per scenario, and one line per world (all at the default threshold)."""
    from graphkit.evaluate import DETECTED_MISS_KINDS, TRUTH_MISS_KINDS

    ran = bool(rows) and all("default_result" in r for r in rows)
    res = [r["default_result"] if ran else r["results"][default] for r in rows]
    n = len(rows)
    source = ("`graphkit rings` at its default threshold" if ran else
              "the rings of one `graphkit rings --min-score 0` run per world scoring at least it")
    out = [f"# Ring quality over {n} random worlds (seed {seed}, threshold {default:g})", "",
           "Worlds: claims 100k–300k, camouflage 0.3–0.9, a synth seed and a data-quality variant "
           "each (`python bench/quality.py --worlds N --seed S`). Scored: " + source + ". "
           "F1 median, worst decile (10th percentile, an observed world) and minimum over the "
           "worlds; P and R pooled over the worlds' rings.", ""]
    head = ["typology", "F1 median", "F1 worst decile", "F1 min", "ring P", "ring R", "truth", "found"]
    table = []
    for t in (*TYPOLOGIES, None):
        f1 = [x["by_typology"][t]["ring_f1"] if t else x["overall"]["ring_f1"] for x in res]
        pool = _pooled(res, t)
        ms = [m for x in res for k, m in x["by_typology"].items() if t is None or k == t]
        table.append([t or "overall", _median(f1), _decile(f1), min(f1), pool["P"], pool["R"],
                      sum(m["truth_rings"] for m in ms), sum(m["detected_rings"] for m in ms)])
    out += [_md(head, table), ""]
    shared = [x["overlap"]["max_shared"] for x in res]
    over = sum(x["overlap"]["pairs_over_half"] for x in res)
    out.append(f"Largest share of patients two reported rings have in common: {max(shared):.2f} "
               f"(median over worlds {_median(shared):.2f}); pairs above one half: {over} in "
               f"{sum(x['overlap']['pairs_over_half'] > 0 for x in res)} of {n} worlds.")
    looks = [x["lookalikes"] for x in res if x.get("lookalikes") is not None]
    if looks:
        kinds: dict[str, int] = {}
        for la in looks:
            for k, e in la["by_kind"].items():
                kinds[k] = kinds.get(k, 0) + e["reported"]
        hit = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()) if v) or "none"
        out.append(f"Look-alike cohorts reported as rings: {sum(la['reported'] for la in looks)} "
                   f"of {sum(la['cohorts'] for la in looks)} over {len(looks)} worlds ({hit}).")
    else:
        out.append("Look-alike cohorts reported as rings: not known (no lookalikes.csv).")
    out += ["", "## Misses, summed over the worlds", "",
            "Kinds as defined in `graphkit/evaluate.py`; truth = planted rings not matched, "
            "detected = reported rings not matched.", ""]
    head = (["typology"] + [f"truth {k}" for k in TRUTH_MISS_KINDS]
            + [f"found {k}" for k in DETECTED_MISS_KINDS])
    table = []
    for t in (*TYPOLOGIES, None):
        tm = [x["by_typology"][t]["truth_misses"] if t else x["miss_counts"]["truth"] for x in res]
        dm = [x["by_typology"][t]["detected_misses"] if t else x["miss_counts"]["detected"] for x in res]
        table.append([t or "all"] + [sum(m[k] for m in tm) for k in TRUTH_MISS_KINDS]
                     + [sum(m[k] for m in dm) for k in DETECTED_MISS_KINDS])
    out += [_md(head, table), "", "## Ring F1 by data-quality variant (median over its worlds)", ""]
    table = []
    for v in VARIANTS:
        mine = [x for r, x in zip(rows, res) if r["world"]["variant"] == v]
        if mine:
            table.append([v, len(mine)] + [_median([x["by_typology"][t]["ring_f1"] for x in mine])
                                           for t in TYPOLOGIES]
                         + [_median([x["overall"]["ring_f1"] for x in mine])])
    out += [_md(["variant", "worlds", *TYPOLOGIES, "overall"], table), ""]
    scen: dict[tuple, dict] = {}
    for x in res:
        for t, by in (x.get("by_scenario") or {}).items():
            for name, e in by.items():
                acc = scen.setdefault((t, name), {"truth_rings": 0, "matched_rings": 0, "detected_rings": 0,
                                                  "matched_detected": 0, "worlds": 0,
                                                  "misses": dict.fromkeys(TRUTH_MISS_KINDS, 0)})
                acc["worlds"] += 1
                for k in ("truth_rings", "matched_rings", "detected_rings", "matched_detected"):
                    acc[k] += e[k]
                for k, v in e["misses"].items():
                    acc["misses"][k] += v
    if scen:
        # a scenario name is "typology:part/part/...", a part one value or several joined by
        # "+": pool each value on its own too
        facets: dict[tuple, dict] = {}
        for (t, name), e in scen.items():
            for pos, part in enumerate(name.split(":", 1)[-1].split("/")):
                for value in part.split("+"):
                    acc = facets.setdefault((t, pos, value), dict.fromkeys(
                        ("truth_rings", "matched_rings", "detected_rings", "matched_detected"), 0))
                    for k in acc:
                        acc[k] += e[k]
        table = []
        for (t, pos, value), e in sorted(facets.items()):
            r = e["matched_rings"] / max(1, e["truth_rings"])
            p = e["matched_detected"] / max(1, e["detected_rings"])
            table.append([t, pos + 1, value, e["truth_rings"], r, p, 2 * p * r / (p + r) if p + r else 0.0])
        out += ["## By scenario facet (pooled over the worlds)", "",
                "Each value in a scenario name (`typology:part1/part2/...`, a part's values joined "
                "by `+`) pooled over the scenarios that have it.", "",
                _md(["typology", "part", "value", "truth", "recall", "precision", "F1"], table), ""]
        table = []
        for (t, name), e in sorted(scen.items()):
            r = e["matched_rings"] / max(1, e["truth_rings"])
            p = e["matched_detected"] / max(1, e["detected_rings"])
            table.append([t, name, e["worlds"], e["truth_rings"], r, p, 2 * p * r / (p + r) if p + r else 0.0,
                          ", ".join(f"{k} {v}" for k, v in e["misses"].items() if v) or "-"])
        out += ["## By planted scenario (pooled over the worlds)", "",
                "A reported ring counts for the scenario of the planted ring of its typology it "
                "shares most patients with.", "",
                _md(["typology", "scenario", "worlds", "truth", "recall", "precision", "F1",
                     "misses"], table), ""]
    table = []
    for r, x in zip(rows, res):
        w = r["world"]
        table.append([w["index"], w["claims"], w["camouflage"], w["seed"], w["variant"],
                      sum(m["detected_rings"] for m in x["by_typology"].values()),
                      sum(m["truth_rings"] for m in x["by_typology"].values())]
                     + [x["by_typology"][t]["ring_f1"] for t in TYPOLOGIES]
                     + [x["overall"]["ring_precision"], x["overall"]["ring_f1"],
                        x["overlap"]["max_shared"],
                        x["lookalikes"]["reported"] if x.get("lookalikes") else "-",
                        round(r["seconds"], 1)]
                     + ([f"{r['default_run']['only_in_filtered']}/{r['default_run']['only_in_run']}"]
                        if "default_run" in r else []))
    head = (["world", "claims", "camouflage", "seed", "variant", "rings", "truth"]
            + [f"F1 {t}" for t in TYPOLOGIES]
            + ["ring P", "ring F1", "max shared", "look-alikes", "rings s"]
            + (["differ from a default run"] if rows and "default_run" in rows[0] else []))
    out += ["## Worlds", "", _md(head, table), ""]
    if rows and "default_run" in rows[0]:
        out.append("`differ from a default run`: rings of the `--min-score 0` run scoring at "
                   "least the default threshold that a run at the default threshold does not "
                   "report / the other way round.")
    return "\n".join(out) + "\n"


def pr_report(rows: list[dict], thresholds, seed: int) -> str:
    """The precision–recall table by score threshold, pooled over the worlds, and the lowest
    threshold whose pooled ring precision is at least 0.95 (overall, and for every typology)."""
    n = len(rows)
    out = [f"# Ring precision and recall by score threshold over {n} random worlds (seed {seed})", "",
           "A threshold keeps the rings scoring at least it, from one `graphkit rings --min-score 0` "
           "run per world; P, R and F1 pooled over the worlds' rings; `worst P` is the lowest "
           "overall ring precision of a world.", ""]
    head = ["threshold"] + [f"{t} {k}" for t in TYPOLOGIES for k in ("P", "R", "F1")] + \
           ["overall P", "overall R", "overall F1", "worst P", "rings"]
    table, overall_ok, all_ok = [], None, None
    for th in thresholds:
        res = [r["results"][th] for r in rows]
        per = {t: _pooled(res, t) for t in TYPOLOGIES}
        o = _pooled(res, None)
        table.append([f"{th:g}"] + [per[t][k] for t in TYPOLOGIES for k in ("P", "R", "F1")]
                     + [o["P"], o["R"], o["F1"], min(x["overall"]["ring_precision"] for x in res),
                        sum(m["detected_rings"] for x in res for m in x["by_typology"].values())])
        if overall_ok is None and o["P"] >= 0.95:
            overall_ok = th
        if all_ok is None and all(per[t]["P"] >= 0.95 for t in TYPOLOGIES):
            all_ok = th
    out += [_md(head, table), ""]
    say = lambda th: f"{th:g}" if th is not None else "none of the thresholds"  # noqa: E731
    out.append(f"Lowest threshold with pooled overall ring precision >= 0.95: {say(overall_ok)}; "
               f"with every typology's >= 0.95: {say(all_ok)}.")
    return "\n".join(out) + "\n"


def sweep(a) -> int:
    from graphkit.evaluate import PR_THRESHOLDS
    from graphkit.settings import Settings

    default = float(Settings().min_score)
    thresholds = sorted(set(PR_THRESHOLDS) | {default})
    variants = tuple(a.variants.split(",")) if a.variants else DEFAULT_VARIANTS
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    synth_code = a.synth_code.resolve() if a.synth_code else None
    rows = []
    t0 = time.perf_counter()
    for world in draw_worlds(a.worlds, a.seed, variants):
        row = run_world(world, a.data, a.work, synth_code, thresholds, default, a.check_default)
        rows.append(row)
        res = row["results"][default]
        print(f"world {world.index} {world.name}: ring F1 "
              + " ".join(f"{t} {res['by_typology'][t]['ring_f1']:.2f}" for t in TYPOLOGIES)
              + f" overall {res['overall']['ring_f1']:.3f} ({row['seconds']:.1f}s, "
                f"{time.perf_counter() - t0:.0f}s so far)", file=sys.stderr, flush=True)
    quality, pr = quality_report(rows, default, a.seed), pr_report(rows, thresholds, a.seed)
    print(quality)
    print(pr)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(quality, encoding="utf-8")
    (a.out.parent / "pr.md").write_text(pr, encoding="utf-8")
    (a.work / "worlds.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {a.out} and {a.out.parent / 'pr.md'}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Ring quality of graphkit rings: over random worlds "
                                 "(--worlds), or against the peer baselines on a grid.")
    ap.add_argument("--worlds", type=int, default=0, help="draw this many random worlds (the sweep)")
    ap.add_argument("--variants", default="", help="comma-separated data-quality variants to draw "
                    f"from [all but no_phone_terminal]: {', '.join(VARIANTS)}")
    ap.add_argument("--check-default", action="store_true",
                    help="also run each world at the default threshold and count differing rings")
    ap.add_argument("--claims", default="200000", help="grid: comma-separated sizes [200000]")
    ap.add_argument("--camouflage", default="0.5,0.8", help="grid: comma-separated levels [0.5,0.8]")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", type=Path, default=DATA, help="data cache [bench/data]")
    ap.add_argument("--work", type=Path, default=OUT / "quality", help="run outputs [bench/out/quality]")
    ap.add_argument("--synth-code", type=Path, default=None,
                    help="generate with the graphkit package under this directory (e.g. a "
                         "`git archive HEAD graphkit` snapshot) instead of the installed one")
    ap.add_argument("--out", type=Path, default=OUT / "quality.md")
    a = ap.parse_args(argv)
    if a.worlds > 0:
        return sweep(a)
    from graphkit.evaluate import evaluate

    rows = []
    for claims in (int(float(x)) for x in a.claims.split(",")):
        for camo in (float(x) for x in a.camouflage.split(",")):
            d = ensure_data(claims, camo, a.seed, root=a.data,
                            synth_code=a.synth_code.resolve() if a.synth_code else None)
            work = a.work / d.name
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
