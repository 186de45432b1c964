"""Score detected rings against ``DATA_DIR/truth.csv`` (data contract section 3).

Matching
    A detected ring matches a truth ring of the same typology when the Jaccard similarity of
    their patient sets is >= 0.5. A ``card`` member counts as its holder patient (from the data
    directory's cards table; without one, card_id = patient_id). Matching is one-to-one, best
    (highest Jaccard) first; ties go to the earlier detected ring, then the earlier truth ring.

Metrics (per typology and overall)
    ring_recall = matched truth rings / truth rings; ring_precision = matched detected rings /
    detected rings; ring_f1 = 2PR / (P + R). patient_precision / patient_recall compare the
    union of patients in detected rings with the union of patients in truth rings.

Miss kinds
    Every ring left unmatched gets one kind: the first rule below that holds. "d holds t" means
    at least half of truth ring t's patients are in detected ring d; "d is a piece of t" means
    more than half of d's patients are in t. Apart from ``mistyped`` and ``duplicate`` the rules
    do not look at typologies.

    An unmatched truth ring t is

    ``mistyped``
        found under another typology: a detected ring of another typology has Jaccard >= 0.5
        with t;
    ``merged``
        reported together with another planted ring: a detected ring holds t and also holds
        another truth ring;
    ``split``
        reported only in pieces: at least one detected ring is a piece of t (the detail says
        how many pieces and how many of t's patients they cover);
    ``diluted``
        held by a detected ring whose other patients outnumber t's (innocents joined to it);
    ``missed``
        none of the above: no detected ring holds it or is a piece of it.

    An unmatched detected ring d (rings.json order, i.e. by score) is

    ``duplicate``
        the same people under two typologies: more than half of d's patients are in one other
        detected ring e of another typology, where e matches a truth ring or, when e matches
        none either, e comes before d;
    ``mistyped``
        d has Jaccard >= 0.5 with a truth ring of another typology;
    ``merged``
        d holds two or more truth rings;
    ``split``
        d is a piece of a truth ring (which is reported in several pieces, or only in this one;
        a second ring of the same typology equal to a truth ring already matched is one too);
    ``diluted``
        d holds one truth ring, but most of its patients are outside it;
    ``lookalike``
        (only when ``DATA_DIR/lookalikes.csv`` is present) more than half of d's patients are
        members of look-alike cohorts;
    ``innocent``
        no patient of d is in any truth ring;
    ``mixed``
        the rest: planted patients from several rings, none of which d holds or is mostly made
        of, among others.

Also reported
    ``overlap``: for every two detected rings, the share of patients they have in common,
    |a & b| / min(|a|, |b|); its maximum and the pairs above one half (contract section 2: no two
    rings share more than half of their patients). ``lookalikes`` (with ``lookalikes.csv``,
    columns cohort_id, kind, patient_id): a cohort counts as reported when a detected ring is
    mostly made of its patients, or holds at least half of them and at least two. ``by_scenario``
    (with ``scenarios.csv``, columns ring_id, typology, scenario, params): recall, precision and
    F1 per typology and scenario, a detected ring counting for the scenario of the truth ring of
    its own typology with which it shares most patients.

Edge cases
    Every ratio whose denominator is 0 is reported as 0.0 (no truth rings -> recall 0.0; no
    detected rings -> precision 0.0; P + R = 0 -> F1 0.0). A detected ring with no patient (and no
    card) members cannot match and is ``innocent``. Detected rings of a typology absent from the
    truth count in the overall precision (and get their own by_typology entry).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from graphkit.contract import TABLES, TYPOLOGIES, normalise_header
from graphkit.errors import RingsFileError
from graphkit.rings import RingsDocument, read_rings

__all__ = ["evaluate", "evaluate_thresholds", "format_table", "read_truth", "read_lookalikes",
           "read_scenarios", "card_holders", "Reference", "load_reference", "MATCH_THRESHOLD",
           "TRUTH_MISS_KINDS", "DETECTED_MISS_KINDS", "PR_THRESHOLDS"]

MATCH_THRESHOLD = 0.5
#: the kinds of an unmatched truth ring, in the order the rules are tried
TRUTH_MISS_KINDS = ("mistyped", "merged", "split", "diluted", "missed")
#: the kinds of an unmatched detected ring, in the order the rules are tried
DETECTED_MISS_KINDS = ("duplicate", "mistyped", "merged", "split", "diluted", "lookalike",
                       "innocent", "mixed")
#: score thresholds of the precision-recall table
PR_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_TRUTH_COLS = ("ring_id", "typology", "member_type", "member_id")
_LOOKALIKE_COLS = ("cohort_id", "kind", "patient_id")
_SCENARIO_COLS = ("ring_id", "typology", "scenario")


def _decode(raw: bytes, path: Path) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise RingsFileError(f"{path}: cannot decode as UTF-8 or GBK")


def _csv_rows(path: Path, columns: tuple[str, ...]):
    """``(line number, {column: value})`` of a small CSV in any encoding, checking its header."""
    rows = list(csv.reader(io.StringIO(_decode(path.read_bytes(), path))))
    if not rows:
        raise RingsFileError(f"{path}: empty file (expected header {','.join(columns)})")
    header = [normalise_header(h) for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise RingsFileError(f"{path}: missing column {missing[0]!r} "
                             f"(expected header {','.join(columns)})")
    ix = [header.index(c) for c in columns]
    for line, row in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in row):
            continue
        if len(row) < len(header):
            raise RingsFileError(f"{path}: line {line} has {len(row)} fields, expected {len(header)}")
        yield line, {c: row[i].strip() for c, i in zip(columns, ix)}


def read_truth(data_dir: str | Path) -> dict[str, dict]:
    """``ring_id -> {"typology", "patients": set, "cards": set}`` from ``truth.csv``."""
    d = Path(data_dir)
    p = d / "truth.csv"
    if not d.is_dir():
        raise RingsFileError(f"{d}: data directory does not exist")
    if not p.is_file():
        raise RingsFileError(f"{d}: no truth.csv here (only synthetic data directories made by "
                             "`graphkit synth` carry ground truth)")
    truth: dict[str, dict] = {}
    for line, row in _csv_rows(p, _TRUTH_COLS):
        rid, typ, mtype, mid = (row[c] for c in _TRUTH_COLS)
        if typ not in TYPOLOGIES:  # a typo would score that ring as never found
            raise RingsFileError(f"{p}: line {line}: unknown typology {typ!r} "
                                 f"(expected one of {', '.join(TYPOLOGIES)})")
        r = truth.setdefault(rid, {"typology": typ, "patients": set(), "cards": set()})
        if r["typology"] != typ:
            raise RingsFileError(f"{p}: line {line}: ring {rid} has two typologies "
                                 f"({r['typology']!r} and {typ!r})")
        if mtype == "patient":
            r["patients"].add(mid)
        elif mtype == "card":
            r["cards"].add(mid)
    return truth


def read_lookalikes(data_dir: str | Path) -> dict[str, dict] | None:
    """``cohort_id -> {"kind", "patients": set}`` from ``lookalikes.csv`` (the legitimate
    look-alike cohorts a generator planted); None when the directory has none."""
    p = Path(data_dir) / "lookalikes.csv"
    if not p.is_file():
        return None
    cohorts: dict[str, dict] = {}
    for _, row in _csv_rows(p, _LOOKALIKE_COLS):
        c = cohorts.setdefault(row["cohort_id"], {"kind": row["kind"], "patients": set()})
        c["patients"].add(row["patient_id"])
    return cohorts


def read_scenarios(data_dir: str | Path) -> dict[str, str] | None:
    """``ring_id -> scenario`` from ``scenarios.csv`` (how each planted ring was carried out);
    None when the directory has none."""
    p = Path(data_dir) / "scenarios.csv"
    if not p.is_file():
        return None
    return {row["ring_id"]: row["scenario"] for _, row in _csv_rows(p, _SCENARIO_COLS)}
def card_holders(data_dir: str | Path) -> dict[str, str] | None:
    """card_id -> holder patient_id from the cards table (csv, csv.gz or parquet; any encoding
    and header style); None when the directory has no cards table."""
    d = Path(data_dir)
    files = {p.name.lower(): p for p in d.iterdir() if p.is_file()} if d.is_dir() else {}
    path = next((files[n] for n in ("cards.csv", "cards.csv.gz", "cards.parquet", "cards.pq")
                 if n in files), None)
    if path is None:
        return None
    spec = TABLES["cards"]
    hmap = spec.header_map()
    try:
        if path.name.lower().endswith((".parquet", ".pq")):
            df = pd.read_parquet(path).astype("string")
        else:
            raw = path.read_bytes()
            if path.name.lower().endswith(".gz"):
                raw = gzip.decompress(raw)
            df = pd.read_csv(io.StringIO(_decode(raw, path)), dtype=str, keep_default_na=False)
    except (OSError, ValueError, EOFError) as exc:
        raise RingsFileError(f"{path}: cannot read the cards table ({exc})") from None
    cols = {}
    for c in df.columns:
        canon = hmap.get(normalise_header(c))
        if canon in ("card_id", "patient_id") and canon not in cols:
            cols[canon] = c
    if len(cols) < 2:
        raise RingsFileError(f"{path}: cards table needs card_id and patient_id columns")
    cid = df[cols["card_id"]].astype(str).str.strip()
    pid = df[cols["patient_id"]].astype(str).str.strip()
    return dict(zip(cid.tolist(), pid.tolist()))


@dataclass(frozen=True)
class Reference:
    """What a synthetic data directory says about its own rings: the truth rings, the card
    holders, and (when present) the look-alike cohorts and each planted ring's scenario."""

    truth: dict
    holders: dict | None
    lookalikes: dict | None = None
    scenarios: dict | None = None


def load_reference(data_dir: str | Path) -> Reference:
    """Read truth.csv, the cards table, lookalikes.csv and scenarios.csv of ``data_dir`` once,
    to score several rings documents (or several thresholds) against them."""
    return Reference(truth=read_truth(data_dir), holders=card_holders(data_dir),
                     lookalikes=read_lookalikes(data_dir), scenarios=read_scenarios(data_dir))


def _patients(patients, cards, holders) -> frozenset:
    out = set(patients)
    for c in cards:
        out.add(holders.get(c, c) if holders is not None else c)
    return frozenset(out)


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _match(det: list[frozenset], tru: list[frozenset]) -> list[tuple[int, int, float]]:
    pairs = []
    for i, a in enumerate(det):
        for j, b in enumerate(tru):
            jac = _jaccard(a, b)
            if jac >= MATCH_THRESHOLD:
                pairs.append((-jac, i, j))
    pairs.sort()
    used_d, used_t, out = set(), set(), []
    for negj, i, j in pairs:
        if i in used_d or j in used_t:
            continue
        used_d.add(i)
        used_t.add(j)
        out.append((i, j, -negj))
    return out


class _Scored:
    """The detected and truth rings as patient sets, their one-to-one matching and every
    non-empty intersection (detected x truth, detected x detected), computed once."""

    def __init__(self, rings, ids: list[str], ref: Reference):
        self.t_ids = sorted(ref.truth)
        self.t_typ = [ref.truth[r]["typology"] for r in self.t_ids]
        self.t_set = [_patients(ref.truth[r]["patients"], ref.truth[r]["cards"], ref.holders)
                      for r in self.t_ids]
        self.d_ids = list(ids)
        self.d_typ = [r.typology for r in rings]
        self.d_score = [float(r.score) for r in rings]
        self.d_set = [_patients(r.member_ids("patient"), r.member_ids("card"), ref.holders)
                      for r in rings]
        self.d_match: dict[int, int] = {}
        self.t_match: dict[int, int] = {}
        for typ in set(self.d_typ) | set(self.t_typ):
            det = [i for i, t in enumerate(self.d_typ) if t == typ]
            tru = [j for j, t in enumerate(self.t_typ) if t == typ]
            for a, b, _ in _match([self.d_set[i] for i in det], [self.t_set[j] for j in tru]):
                self.d_match[det[a]] = tru[b]
                self.t_match[tru[b]] = det[a]
        truth_of: dict[str, list[int]] = defaultdict(list)
        for j, s in enumerate(self.t_set):
            for p in s:
                truth_of[p].append(j)
        rings_of: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(self.d_set):
            for p in s:
                rings_of[p].append(i)
        self.planted = frozenset(truth_of)
        #: d_truth[i][j] = |d_i & t_j|, t_det[j][i] the same seen from the truth ring
        self.d_truth = [Counter(j for p in s for j in truth_of.get(p, ())) for s in self.d_set]
        self.t_det: list[Counter] = [Counter() for _ in self.t_set]
        for i, c in enumerate(self.d_truth):
            for j, k in c.items():
                self.t_det[j][i] = k
        #: d_det[i][k] = |d_i & d_k| for k != i
        self.d_det = [Counter(k for p in s for k in rings_of[p] if k != i)
                      for i, s in enumerate(self.d_set)]

    def jaccard(self, i: int, j: int) -> float:
        k = self.d_truth[i].get(j, 0)
        return k / (len(self.d_set[i]) + len(self.t_set[j]) - k) if k else 0.0

    def held(self, i: int) -> list[int]:
        """The truth rings detected ring ``i`` holds (at least half of their patients)."""
        return sorted(j for j, k in self.d_truth[i].items() if 2 * k >= len(self.t_set[j]))


def _best(counter: Counter, keep=lambda key, count: True):
    """The key with the largest count among those ``keep`` accepts (ties: the smallest key)."""
    best = None
    for key, count in counter.items():
        if keep(key, count) and (best is None or (count, -key) > (best[1], -best[0])):
            best = (key, count)
    return best


def _detected_miss(s: _Scored, i: int, look_patients: frozenset | None) -> tuple[str, str]:
    """The kind of unmatched detected ring ``i`` and a one-line reason (module docstring)."""
    d, n = s.d_set[i], len(s.d_set[i])
    if n == 0:
        return "innocent", "no patient or card members"
    dup = _best(s.d_det[i], lambda k, c: s.d_typ[k] != s.d_typ[i] and 2 * c > n
                and (k in s.d_match or k < i))
    if dup is not None:
        k, c = dup
        return "duplicate", f"{c} of its {n} patients are in {s.d_ids[k]} ({s.d_typ[k]})"
    wrong = [(s.jaccard(i, j), -j) for j in s.d_truth[i] if s.t_typ[j] != s.d_typ[i]]
    wrong = [(jac, j) for jac, j in wrong if jac >= MATCH_THRESHOLD]
    if wrong:
        jac, j = max(wrong)
        return "mistyped", f"Jaccard {jac:.2f} with {s.t_ids[-j]} ({s.t_typ[-j]})"
    held = s.held(i)
    if len(held) >= 2:
        names = ", ".join(s.t_ids[j] for j in held[:6]) + (" ..." if len(held) > 6 else "")
        return "merged", f"holds {len(held)} truth rings ({names}) in {n} patients"
    piece = _best(s.d_truth[i], lambda j, c: 2 * c > n)
    if piece is not None:
        j, c = piece
        return "split", (f"{c} of its {n} patients are in {s.t_ids[j]} "
                         f"({s.t_typ[j]}, {len(s.t_set[j])} patients)")
    if held:
        j = held[0]
        c = s.d_truth[i][j]
        return "diluted", f"holds {c} of the {len(s.t_set[j])} patients of {s.t_ids[j]} among {n}"
    if look_patients is not None:
        c = len(d & look_patients)
        if 2 * c > n:
            return "lookalike", f"{c} of its {n} patients are in look-alike cohorts"
    planted = len(d & s.planted)
    if planted == 0:
        return "innocent", f"none of its {n} patients is in a truth ring"
    return "mixed", f"{planted} of its {n} patients are planted, from {len(s.d_truth[i])} truth rings"


def _truth_miss(s: _Scored, j: int) -> tuple[str, str]:
    """The kind of unmatched truth ring ``j`` and a one-line reason (module docstring)."""
    m = len(s.t_set[j])
    if m == 0:
        return "missed", "no patients"
    wrong = [(s.jaccard(i, j), -i) for i in s.t_det[j] if s.d_typ[i] != s.t_typ[j]]
    wrong = [(jac, i) for jac, i in wrong if jac >= MATCH_THRESHOLD]
    if wrong:
        jac, i = max(wrong)
        return "mistyped", f"Jaccard {jac:.2f} with {s.d_ids[-i]} ({s.d_typ[-i]})"
    holders = sorted(i for i, c in s.t_det[j].items() if 2 * c >= m)
    for i in holders:
        others = [x for x in s.held(i) if x != j]
        if others:
            names = ", ".join(s.t_ids[x] for x in others[:5]) + (" ..." if len(others) > 5 else "")
            return "merged", f"{s.d_ids[i]} holds it and {names}"
    pieces = sorted(i for i, c in s.t_det[j].items() if 2 * c > len(s.d_set[i]))
    if pieces:
        covered = len(s.t_set[j] & frozenset().union(*(s.d_set[i] for i in pieces)))
        names = ", ".join(s.d_ids[i] for i in pieces[:6]) + (" ..." if len(pieces) > 6 else "")
        return "split", f"{len(pieces)} piece(s) ({names}) hold {covered} of its {m} patients"
    if holders:
        i = holders[0]
        return "diluted", (f"{s.d_ids[i]} holds {s.t_det[j][i]} of its {m} patients "
                           f"among {len(s.d_set[i])}")
    most = max(s.t_det[j].values(), default=0)
    return "missed", f"at most {most} of its {m} patients in one detected ring"


def _overlap(s: _Scored) -> dict:
    """The largest share of patients two detected rings have in common (|a & b| / min size)
    and the pairs sharing more than half."""
    worst, pairs, over = 0.0, None, 0
    for i, counter in enumerate(s.d_det):
        for k, c in counter.items():
            if k <= i:
                continue
            share = c / min(len(s.d_set[i]), len(s.d_set[k]))
            over += 2 * c > min(len(s.d_set[i]), len(s.d_set[k]))
            if share > worst:
                worst, pairs = share, [s.d_ids[i], s.d_ids[k]]
    return {"max_shared": worst, "worst_pair": pairs, "pairs_over_half": over}


def _lookalikes(s: _Scored, cohorts: dict) -> tuple[dict, frozenset]:
    """Look-alike cohorts (without their planted patients) reported by a detected ring: one that
    is mostly made of the cohort, or holds at least half of it and at least two of its people."""
    members = {cid: c["patients"] - s.planted for cid, c in cohorts.items()}
    members = {cid: p for cid, p in members.items() if p}
    cohort_of: dict[str, list[str]] = defaultdict(list)
    for cid, pats in members.items():
        for p in pats:
            cohort_of[p].append(cid)
    reported: set[str] = set()
    rings = 0
    for d in s.d_set:
        counts = Counter(cid for p in d for cid in cohort_of.get(p, ()))
        hit = {cid for cid, k in counts.items()
               if 2 * k > len(d) or (2 * k >= len(members[cid]) and k >= 2)}
        reported |= hit
        rings += bool(hit)
    by_kind: dict[str, dict] = {}
    for cid in sorted(members):
        kind = cohorts[cid]["kind"]
        e = by_kind.setdefault(kind, {"cohorts": 0, "reported": 0})
        e["cohorts"] += 1
        e["reported"] += cid in reported
    return ({"cohorts": len(members), "reported": len(reported), "rings": rings,
             "reported_cohorts": sorted(reported), "by_kind": by_kind},
            frozenset(cohort_of))


def _by_scenario(s: _Scored, scenarios: dict, truth_kinds: dict[int, str]) -> dict:
    """Ring recall, precision and F1 per (typology, scenario); a detected ring counts for the
    scenario of the truth ring of its typology it shares most patients with."""
    out: dict[str, dict] = {}

    def entry(j: int) -> dict:
        by = out.setdefault(s.t_typ[j], {})
        return by.setdefault(scenarios.get(s.t_ids[j], "(none)"), {
            "truth_rings": 0, "matched_rings": 0, "detected_rings": 0, "matched_detected": 0,
            "misses": {k: 0 for k in TRUTH_MISS_KINDS}})

    for j in range(len(s.t_ids)):
        e = entry(j)
        e["truth_rings"] += 1
        e["matched_rings"] += j in s.t_match
        if j in truth_kinds:
            e["misses"][truth_kinds[j]] += 1
    for i in range(len(s.d_ids)):
        top = _best(s.d_truth[i], lambda j, c: s.t_typ[j] == s.d_typ[i])
        if top is None:
            continue
        e = entry(top[0])
        e["detected_rings"] += 1
        e["matched_detected"] += i in s.d_match
    for by in out.values():
        for e in by.values():
            e["ring_recall"] = _ratio(e["matched_rings"], e["truth_rings"])
            e["ring_precision"] = _ratio(e["matched_detected"], e["detected_rings"])
            e["ring_f1"] = _f1(e["ring_precision"], e["ring_recall"])
    return {t: dict(sorted(by.items())) for t, by in sorted(out.items())}


def _score(rings: list, ids: list[str], ref: Reference) -> dict:
    s = _Scored(rings, ids, ref)
    looks, look_patients = (_lookalikes(s, ref.lookalikes) if ref.lookalikes is not None
                            else (None, None))
    truth_kinds = {j: _truth_miss(s, j) for j in range(len(s.t_ids)) if j not in s.t_match}
    det_kinds = {i: _detected_miss(s, i, look_patients)
                 for i in range(len(s.d_ids)) if i not in s.d_match}
    typologies = list(TYPOLOGIES) + sorted((set(s.t_typ) | set(s.d_typ)) - set(TYPOLOGIES))
    by: dict[str, dict] = {}
    tot_t = tot_d = tot_m = 0
    all_det: set = set()
    all_tru: set = set()
    for t in typologies:
        det = [i for i, x in enumerate(s.d_typ) if x == t]
        tru = [j for j, x in enumerate(s.t_typ) if x == t]
        matched = sum(i in s.d_match for i in det)
        dp = set().union(*(s.d_set[i] for i in det))
        tp = set().union(*(s.t_set[j] for j in tru))
        all_det |= dp
        all_tru |= tp
        rr, rp = _ratio(matched, len(tru)), _ratio(matched, len(det))
        by[t] = {"ring_recall": rr, "ring_precision": rp, "ring_f1": _f1(rp, rr),
                 "patient_precision": _ratio(len(dp & tp), len(dp)),
                 "patient_recall": _ratio(len(dp & tp), len(tp)),
                 "truth_rings": len(tru), "detected_rings": len(det), "matched_rings": matched,
                 "truth_misses": {k: sum(truth_kinds[j][0] == k for j in tru if j in truth_kinds)
                                  for k in TRUTH_MISS_KINDS},
                 "detected_misses": {k: sum(det_kinds[i][0] == k for i in det if i in det_kinds)
                                     for k in DETECTED_MISS_KINDS}}
        tot_t += len(tru)
        tot_d += len(det)
        tot_m += matched
    rr, rp = _ratio(tot_m, tot_t), _ratio(tot_m, tot_d)
    overall = {"ring_recall": rr, "ring_precision": rp, "ring_f1": _f1(rp, rr),
               "patient_precision": _ratio(len(all_det & all_tru), len(all_det)),
               "patient_recall": _ratio(len(all_det & all_tru), len(all_tru))}
    misses = {
        "truth": [{"ring_id": s.t_ids[j], "typology": s.t_typ[j], "kind": k, "detail": why}
                  for j, (k, why) in sorted(truth_kinds.items())],
        "detected": [{"ring_id": s.d_ids[i], "typology": s.d_typ[i], "score": s.d_score[i],
                      "kind": k, "detail": why} for i, (k, why) in sorted(det_kinds.items())]}
    miss_counts = {
        "truth": {k: sum(v[0] == k for v in truth_kinds.values()) for k in TRUTH_MISS_KINDS},
        "detected": {k: sum(v[0] == k for v in det_kinds.values()) for k in DETECTED_MISS_KINDS}}
    return {"overall": overall, "by_typology": by, "miss_counts": miss_counts, "misses": misses,
            "overlap": _overlap(s), "lookalikes": looks,
            "by_scenario": (_by_scenario(s, ref.scenarios, {j: k for j, (k, _) in truth_kinds.items()})
                            if ref.scenarios is not None else None)}


def _document(rings) -> RingsDocument:
    return rings if isinstance(rings, RingsDocument) else read_rings(rings)


def evaluate(rings, data_dir, *, min_score: float | None = None,
             reference: Reference | None = None) -> dict:
    """Score ``rings`` (a rings.json path or :class:`RingsDocument`) against DATA_DIR/truth.csv.

    Parameters
    ----------
    rings : str, Path or RingsDocument
    data_dir : str or Path
        The data directory holding truth.csv (and the cards table, and optionally
        lookalikes.csv and scenarios.csv).
    min_score : float, optional
        Score only the rings whose score is at least this (the rings a run with this threshold
        reports); all rings when None.
    reference : Reference, optional
        ``load_reference(data_dir)`` read beforehand (then ``data_dir`` is not read again).

    Returns
    -------
    dict
        ``overall``: ring_recall, ring_precision, ring_f1, patient_precision, patient_recall.
        ``by_typology``: per typology the same five, truth_rings, detected_rings,
        matched_rings, and ``truth_misses`` / ``detected_misses`` (kind -> count).
        ``miss_counts``: the same counts over all typologies. ``misses``: ``truth`` and
        ``detected``, one ``{ring_id, typology, kind, detail}`` per unmatched ring (detected
        ones with their score). ``overlap``: max_shared, worst_pair, pairs_over_half.
        ``lookalikes`` (None without lookalikes.csv): cohorts, reported, rings,
        reported_cohorts, by_kind. ``by_scenario`` (None without scenarios.csv): typology ->
        scenario -> truth_rings, matched_rings, detected_rings, matched_detected, ring_recall,
        ring_precision, ring_f1, misses. ``min_score``: the threshold applied. The kinds and
        the rules behind them are defined in the module docstring.

    Examples
    --------
    >>> from graphkit.rings import RingsDocument
    >>> evaluate(RingsDocument(rings=()), "data_samples/demo")["overall"]["ring_recall"]
    0.0
    """
    doc = _document(rings)
    ref = reference if reference is not None else load_reference(data_dir)
    # a ring without a ring_id (one built in code) is named by its place in the document
    named = [(r.ring_id or f"#{k}", r) for k, r in enumerate(doc.rings, start=1)
             if min_score is None or r.score >= min_score]
    out = _score([r for _, r in named], [n for n, _ in named], ref)
    out["min_score"] = min_score
    return out


def evaluate_thresholds(rings, data_dir, thresholds=PR_THRESHOLDS) -> dict[float, dict]:
    """:func:`evaluate` at each score threshold: what a run reporting only the rings that score
    at least the threshold would score (the rings file is read once, and so is the truth).

    Examples
    --------
    >>> from graphkit.rings import RingsDocument
    >>> sorted(evaluate_thresholds(RingsDocument(rings=()), "data_samples/demo", (0.5, 0.7)))
    [0.5, 0.7]
    """
    doc = _document(rings)
    ref = load_reference(data_dir)
    return {float(t): evaluate(doc, data_dir, min_score=float(t), reference=ref)
            for t in thresholds}


def _counts_line(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"


def format_table(result: dict) -> str:
    """A fixed-width text table of :func:`evaluate`'s result, then the unmatched rings by kind,
    the largest overlap between two rings and (when known) the look-alike cohorts reported."""
    head = f"{'typology':<16}{'truth':>7}{'found':>7}{'match':>7}{'recall':>8}{'prec':>8}{'F1':>8}" \
           f"{'pat.prec':>10}{'pat.rec':>9}"
    lines = [head, "-" * len(head)]
    tt = td = tm = 0
    for t, m in result["by_typology"].items():
        lines.append(f"{t:<16}{m['truth_rings']:>7}{m['detected_rings']:>7}{m['matched_rings']:>7}"
                     f"{m['ring_recall']:>8.3f}{m['ring_precision']:>8.3f}{m['ring_f1']:>8.3f}"
                     f"{m['patient_precision']:>10.3f}{m['patient_recall']:>9.3f}")
        tt += m["truth_rings"]
        td += m["detected_rings"]
        tm += m["matched_rings"]
    o = result["overall"]
    lines.append("-" * len(head))
    lines.append(f"{'overall':<16}{tt:>7}{td:>7}{tm:>7}{o['ring_recall']:>8.3f}{o['ring_precision']:>8.3f}"
                 f"{o['ring_f1']:>8.3f}{o['patient_precision']:>10.3f}{o['patient_recall']:>9.3f}")
    if "miss_counts" not in result:
        return "\n".join(lines)
    lines.append("")
    lines.append("unmatched truth rings:    " + _counts_line(result["miss_counts"]["truth"]))
    lines.append("unmatched detected rings: " + _counts_line(result["miss_counts"]["detected"]))
    for t, m in result["by_typology"].items():
        if any(m["truth_misses"].values()) or any(m["detected_misses"].values()):
            lines.append(f"  {t:<15} truth: {_counts_line(m['truth_misses'])}; "
                         f"detected: {_counts_line(m['detected_misses'])}")
    ov = result["overlap"]
    pair = f" ({' and '.join(ov['worst_pair'])})" if ov["worst_pair"] else ""
    lines.append(f"largest share of patients two rings have in common: {ov['max_shared']:.2f}{pair}; "
                 f"pairs above one half: {ov['pairs_over_half']}")
    if result.get("lookalikes") is not None:
        la = result["lookalikes"]
        lines.append(f"look-alike cohorts reported as rings: {la['reported']} of {la['cohorts']}")
    return "\n".join(lines)
