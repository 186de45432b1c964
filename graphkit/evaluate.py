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

Edge cases
    Every ratio whose denominator is 0 is reported as 0.0 (no truth rings -> recall 0.0; no
    detected rings -> precision 0.0; P + R = 0 -> F1 0.0). A detected ring with no patient (and no
    card) members cannot match. Detected rings of a typology absent from the truth count in
    the overall precision (and get their own by_typology entry).
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pandas as pd

from graphkit.contract import TABLES, TYPOLOGIES, normalise_header
from graphkit.errors import RingsFileError
from graphkit.rings import RingsDocument, read_rings

__all__ = ["evaluate", "format_table", "read_truth", "card_holders", "MATCH_THRESHOLD"]

MATCH_THRESHOLD = 0.5
_TRUTH_COLS = ("ring_id", "typology", "member_type", "member_id")


def _decode(raw: bytes, path: Path) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise RingsFileError(f"{path}: cannot decode as UTF-8 or GBK")


def read_truth(data_dir: str | Path) -> dict[str, dict]:
    """``ring_id -> {"typology", "patients": set, "cards": set}`` from ``truth.csv``."""
    d = Path(data_dir)
    p = d / "truth.csv"
    if not d.is_dir():
        raise RingsFileError(f"{d}: data directory does not exist")
    if not p.is_file():
        raise RingsFileError(f"{d}: no truth.csv here (only synthetic data directories made by "
                             "`graphkit synth` carry ground truth)")
    rows = list(csv.reader(io.StringIO(_decode(p.read_bytes(), p))))
    if not rows:
        raise RingsFileError(f"{p}: empty file (expected header {','.join(_TRUTH_COLS)})")
    header = [normalise_header(h) for h in rows[0]]
    missing = [c for c in _TRUTH_COLS if c not in header]
    if missing:
        raise RingsFileError(f"{p}: missing column {missing[0]!r} "
                             f"(expected header {','.join(_TRUTH_COLS)})")
    ix = [header.index(c) for c in _TRUTH_COLS]
    truth: dict[str, dict] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in row):
            continue
        if len(row) < len(header):
            raise RingsFileError(f"{p}: line {line} has {len(row)} fields, expected {len(header)}")
        rid, typ, mtype, mid = (row[i].strip() for i in ix)
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


def evaluate(rings, data_dir) -> dict:
    """Score ``rings`` (a rings.json path or :class:`RingsDocument`) against DATA_DIR/truth.csv.

    Returns ``{"overall": {ring_recall, ring_precision, ring_f1, patient_precision,
    patient_recall}, "by_typology": {typology: {the same five, truth_rings, detected_rings,
    matched_rings}}}``.

    Examples
    --------
    >>> from graphkit.rings import RingsDocument
    >>> evaluate(RingsDocument(rings=()), "data_samples/demo")["overall"]["ring_recall"]
    0.0
    """
    doc = rings if isinstance(rings, RingsDocument) else read_rings(rings)
    truth = read_truth(data_dir)
    holders = card_holders(data_dir)
    truth_sets: dict[str, list[frozenset]] = {}
    for rid in sorted(truth):
        r = truth[rid]
        truth_sets.setdefault(r["typology"], []).append(_patients(r["patients"], r["cards"], holders))
    det_sets: dict[str, list[frozenset]] = {}
    for ring in doc.rings:
        det_sets.setdefault(ring.typology, []).append(
            _patients(ring.member_ids("patient"), ring.member_ids("card"), holders))
    typologies = list(TYPOLOGIES) + sorted((set(truth_sets) | set(det_sets)) - set(TYPOLOGIES))
    by: dict[str, dict] = {}
    tot_t = tot_d = tot_m = 0
    all_det: set = set()
    all_tru: set = set()
    for t in typologies:
        det, tru = det_sets.get(t, []), truth_sets.get(t, [])
        matched = len(_match(det, tru))
        dp = set().union(*det) if det else set()
        tp = set().union(*tru) if tru else set()
        all_det |= dp
        all_tru |= tp
        rr, rp = _ratio(matched, len(tru)), _ratio(matched, len(det))
        by[t] = {"ring_recall": rr, "ring_precision": rp, "ring_f1": _f1(rp, rr),
                 "patient_precision": _ratio(len(dp & tp), len(dp)),
                 "patient_recall": _ratio(len(dp & tp), len(tp)),
                 "truth_rings": len(tru), "detected_rings": len(det), "matched_rings": matched}
        tot_t += len(tru)
        tot_d += len(det)
        tot_m += matched
    rr, rp = _ratio(tot_m, tot_t), _ratio(tot_m, tot_d)
    overall = {"ring_recall": rr, "ring_precision": rp, "ring_f1": _f1(rp, rr),
               "patient_precision": _ratio(len(all_det & all_tru), len(all_det)),
               "patient_recall": _ratio(len(all_det & all_tru), len(all_tru))}
    return {"overall": overall, "by_typology": by}


def format_table(result: dict) -> str:
    """A fixed-width text table of :func:`evaluate`'s result."""
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
    return "\n".join(lines)
