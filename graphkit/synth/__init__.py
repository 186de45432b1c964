"""Synthetic 医保 data with planted fraud rings and legitimate look-alikes.

:func:`generate` writes a data directory that follows the data contract (section 1) plus
``truth.csv`` (section 3). One year (2024) of a 成都-like population: households sharing phones
and addresses, 社保卡 and 医保电子凭证 cards, hospitals, community centres, clinics, village
卫生室, private hospitals and pharmacies with doctors, pharmacists and terminals; outpatient,
pharmacy and about 3% inpatient settlements with itemised drugs carrying 20-digit trace codes.

The world itself is drawn from the seed (how many pharmacies, clinics and private hospitals
per head, how much walk-in traffic, how many people present a 医保电子凭证). Planted on top:
rings of the four typologies (gang, impersonation, diversion, fake_admission), each carried out
by a variant drawn per ring with its own parameters (see ``_gang``, ``_impersonation``,
``_diversion``, ``_fake_admission``), whose members keep their normal activity, and every
look-alike of the contract in cohorts of drawn size and rhythm (dialysis
cohorts, nursing homes, families sharing a phone, chronic refill days, a group admission after
an incident, chemotherapy cycles, a cataract campaign, long rehabilitation stays, deaths in
hospital, newborns on a parent's card, refund-and-resettle, split packs, transfers, relatives
buying during a stay), which are never in the truth. All rows are sorted by ID or time, so
nothing about a row's position or ID tells fraud apart.

Besides the tables and ``truth.csv`` the directory holds ``scenarios.csv`` (``ring_id, typology,
scenario, params``: the variant each truth ring was carried out by and its parameters as compact
JSON) and ``lookalikes.csv`` (``cohort_id, kind, patient_id``: every look-alike cohort's patients,
kinds from ``LOOKALIKE_KINDS``). The loader lists both as ignored files.

Examples
--------
>>> import tempfile, graphkit.synth as gs
>>> s = gs.generate(tempfile.mkdtemp(), claims=3000, seed=7)
>>> s["tables"]["claims"]
3000
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit._files import writing
from graphkit.errors import GraphkitError
from graphkit.synth import _catalog as cat
from graphkit.synth._claims import DIAG_CODES, INP, Claims, background, build_items, fund_amounts
from graphkit.synth._planted import LOOKALIKE_KINDS, plant_lookalikes, plant_rings
from graphkit.synth._world import (CLINIC, COMMUNITY, PHARMACY, PRIVATE, SECONDARY, TERTIARY,
                                   VILLAGE, build_world)
from graphkit.synth._write import write_table

__all__ = ["generate", "LOOKALIKE_KINDS", "SynthError"]

_EPOCH_2024 = 19723          # days from 1970-01-01 to 2024-01-01
_EPOCH_2024_S = 1704067200   # seconds
MIN_CLAIMS = 3000


class SynthError(GraphkitError):
    """Invalid generator arguments."""

    exit_code = 2


def _check(claims, seed, camouflage, fmt, encoding, headers):
    if not isinstance(claims, (int, np.integer)) or claims < MIN_CLAIMS:
        raise SynthError(f"--claims must be an integer >= {MIN_CLAIMS} (got {claims!r})")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SynthError(f"--seed must be a non-negative integer (got {seed!r})")
    if not 0.0 <= float(camouflage) <= 1.0:
        raise SynthError(f"--camouflage must be between 0 and 1 (got {camouflage!r})")
    if fmt not in ("csv", "parquet"):
        raise SynthError(f"--format must be csv or parquet (got {fmt!r})")
    if encoding.lower() not in ("utf-8", "utf8", "gbk"):
        raise SynthError(f"--encoding must be utf-8 or gbk (got {encoding!r})")
    if fmt == "parquet" and encoding.lower() == "gbk":
        raise SynthError("--encoding gbk applies to CSV only; Parquet text is always UTF-8")
    if headers not in ("english", "chinese", "nhsa"):
        raise SynthError(f"--headers must be english, chinese or nhsa (got {headers!r})")


class _Progress:
    def __init__(self, enabled: bool, total: int):
        self.p = None
        if enabled:
            from rich.console import Console
            from rich.progress import Progress

            self.p = Progress(console=Console(stderr=True), transient=True)
            self.p.start()
            self.task = self.p.add_task("synth", total=total)

    def step(self, what: str):
        if self.p is not None:
            self.p.update(self.task, advance=1, description=what)

    def close(self):
        if self.p is not None:
            self.p.stop()


def _s(arr) -> pa.Array:
    return pa.array(arr, type=pa.string())


def _opt(strings: np.ndarray, idx: np.ndarray) -> pa.Array:
    """strings[idx] with null where idx < 0."""
    return _pick(_s(np.asarray(strings, dtype=object)), idx)


def _pick(values: pa.Array, idx: np.ndarray) -> pa.Array:
    """values[idx] (a take on the small array of distinct strings), null where idx < 0."""
    idx = np.asarray(idx, dtype=np.int64)
    return pc.take(values, pa.array(idx, mask=idx < 0))


_LUT4 = np.array([[ord(ch) for ch in f"{i:04d}"] for i in range(10_000)],
                 dtype=np.uint8).view(np.uint32).ravel()   # 4 ASCII digits of 0..9999 per word


def _digits(v: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 ASCII digits of non-negative integers, zero-padded on the left."""
    v = np.asarray(v, dtype=np.int64)
    g = -(-width // 4)
    out = np.empty((len(v), g), dtype=np.uint32)
    for j in range(g - 1, -1, -1):   # four digits at a time from the right
        q = v // 10_000
        out[:, j] = _LUT4[v - q * 10_000]
        v = q
    return out.view(np.uint8).reshape(len(out), 4 * g)[:, 4 * g - width:]


def _fixed(mat: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """String array from an (n, width) uint8 matrix of ASCII; null where ``valid`` is False."""
    n, width = mat.shape
    if valid is None:
        lengths = np.full(n, width, dtype=np.int64)
        data = mat
        bitmap, nulls = None, 0
    else:
        lengths = np.where(valid, width, 0)
        data = mat[valid]
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - valid.sum())
    if n * width >= 2**31:  # beyond 32-bit offsets: the generic (slow) conversion
        vals = np.array([bytes(r).decode() for r in mat], dtype=object)
        return pa.array(vals, type=pa.string(), mask=None if valid is None else ~valid)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), n, [bitmap, pa.py_buffer(offsets),
                                                  pa.py_buffer(np.ascontiguousarray(data))],
                                 null_count=nulls)


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    """YYYYMMDD integers of days since 1970-01-01."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]")
    mo = m.astype(np.int64) % 12 + 1
    dd = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return y * 10000 + mo * 100 + dd


def _date(days: np.ndarray) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    return pa.array((days + _EPOCH_2024).astype(np.int32), type=pa.int32(),
                    mask=days < 0 if days.min(initial=0) >= -1 else None).cast(pa.date32())


def _money(x: np.ndarray, scale=2) -> pa.Array:
    """decimal128(16, scale) of x rounded to ``scale`` places; equal to Arrow's float cast
    (round half to even of x * 10**scale) without its per-value cost."""
    v = np.rint(np.round(np.asarray(x, dtype=float), scale) * 10**scale).astype(np.int64)
    words = np.empty((len(v), 2), dtype=np.int64)   # little-endian 128-bit two's complement
    words[:, 0] = v
    words[:, 1] = v >> 63
    return pa.Array.from_buffers(pa.decimal128(16, scale), len(v), [None, pa.py_buffer(words)])


def generate(out_dir, *, claims: int, seed: int, camouflage: float = 0.5, fmt: str = "csv",
             encoding: str = "utf-8", headers: str = "english", progress: bool = False) -> dict:
    """Write a synthetic data directory with ``claims`` settlements and ``truth.csv``.

    Parameters
    ----------
    out_dir : path
        Created if needed; existing table files of the same names are overwritten.
    claims : int
        Exact number of settlements (>= 3000). Patients ~ claims / 8; rings per typology
        ~ claims / 4000 (at least 4), gangs fewer in a world with fewer pharmacies and clinics
        (each colluding facility serves one gang), impersonation more (unlinked lent cards are
        one ring each).
    seed : int
        Same arguments give byte-identical files.
    camouflage : float
        0..1: how much normal activity ring members keep and how spread out (in time, places,
        diagnoses) the fraud is.
    fmt, encoding, headers
        ``csv``/``parquet``; ``utf-8``/``gbk`` (CSV); ``english``/``chinese``/``nhsa`` headers.

    Returns
    -------
    dict
        ``world`` (what this world drew: facility density, walk-in volume, 电子凭证 share),
        ``tables`` (rows per table), ``rings`` (per typology), ``ring_members`` (patients per
        typology), ``lookalikes`` (instances per kind), ``lookalike_patients`` (kind -> list of
        lists of patient_ids), ``fraud_claims``, ``seed``, ``camouflage``.
    """
    _check(claims, seed, camouflage, fmt, encoding, headers)
    claims, camo = int(claims), float(camouflage)
    out = Path(out_dir)
    with writing(out, "the synthetic data"):
        out.mkdir(parents=True, exist_ok=True)
    prog = _Progress(progress, 8)
    rng = np.random.default_rng([int(seed), 20240101])
    w = build_world(rng, claims)
    prog.step("population")
    cl = Claims(w, rng)
    looks = plant_lookalikes(w, rng, cl, claims)
    rings = plant_rings(w, rng, cl, claims, camo)
    prog.step("rings and look-alikes")
    weight = w.weight.copy()
    ring_pat = np.unique(np.concatenate([r["patients"] for r in rings])) if rings else np.zeros(0, int)
    weight[ring_pat] *= min(1.0, 0.2 + 1.6 * camo)
    n_bg = claims - cl.n
    if n_bg < claims * 0.4:
        raise SynthError(f"--claims {claims} is too small for the planted structures; use more")
    background(w, rng, cl, n_bg, weight)
    prog.step("background claims")
    c = cl.columns()
    n = len(c["pat"])
    # final order: by settlement time (ties broken at random)
    order = np.lexsort((rng.random(n), c["ts"]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    items, total, forced_start = build_items(w, rng, c, rank)
    fund = fund_amounts(w, rng, c, total)
    prog.step("claim items")
    trace = _trace_codes(rng, items, cl, forced_start)
    prog.step("trace codes")
    tables = _tables(w, c, order, rank, items, total, fund, trace, headers)
    prog.step("tables")
    counts = {}
    truth = _truth(w, rings)
    looks["family_shared_phone"] = _family_phones(w, c, looks, rings)
    with writing(out, "the synthetic data"):
        for name, tab in tables.items():
            write_table(out, name, tab, fmt=fmt, encoding=encoding, headers=headers)
            counts[name] = tab.num_rows
        (out / "truth.csv").write_text("ring_id,typology,member_type,member_id\n"
                                       + "".join(",".join(r) + "\n" for r in truth),
                                       encoding="utf-8")
        _write_csv(out / "scenarios.csv", ("ring_id", "typology", "scenario", "params"),
                   _scenario_rows(rings))
        _write_csv(out / "lookalikes.csv", ("cohort_id", "kind", "patient_id"),
                   _lookalike_rows(w, looks))
    prog.step("written")
    prog.close()
    return {
        "out_dir": str(out),
        "seed": int(seed),
        "camouflage": camo,
        "world": dict(w.params),
        "tables": counts,
        "rings": {t: sum(r["typology"] == t for r in rings) for t in
                  ("gang", "impersonation", "diversion", "fake_admission")},
        "ring_members": {t: int(sum(len(np.unique(r["patients"])) for r in rings if r["typology"] == t))
                         for t in ("gang", "impersonation", "diversion", "fake_admission")},
        "fraud_claims": int((c["src"] == 2).sum()),
        "lookalikes": {k: len(v) for k, v in looks.items()},
        "lookalike_patients": {k: [[str(w.pid[p]) for p in grp] for grp in v] for k, v in looks.items()},
    }


def _trace_codes(rng, items: dict, cl: Claims, forced_start: np.ndarray) -> pa.Array:
    """20-digit trace codes ("8" + 6-digit product + 13-digit serial) of drug rows, else null;
    re-settled packs carry the code of the pack they re-settle."""
    is_drug = np.asarray(items["is_drug"], dtype=bool)
    rows = np.flatnonzero(is_drug)
    m = 10**13
    serial = (1_000_003 * rng.permutation(len(rows)).astype(np.int64) + 982_451_653) % m
    product = np.array([(i * 7727 + 123457) % 10**6 for i in range(len(cat.DRUGS))], dtype=np.int64)
    mat = np.zeros((len(is_drug), 20), dtype=np.uint8)
    mat[rows, 0] = ord("8")
    mat[rows, 1:7] = _digits(product[items["code"][rows]], 6)
    mat[rows, 7:] = _digits(serial, 13)
    valid = is_drug.copy()
    for tgt_c, tgt_k, src_c, src_k in cl.reuse:
        t = forced_start[tgt_c] + tgt_k
        s = forced_start[src_c] + src_k
        ok = (forced_start[tgt_c] >= 0) & (forced_start[src_c] >= 0)
        mat[t[ok]] = mat[s[ok]]
        valid[t[ok]] = valid[s[ok]]
    return _fixed(mat, valid)


_KIND_ZH = {TERTIARY: "综合医院", SECONDARY: "综合医院", COMMUNITY: "社区卫生服务中心",
            CLINIC: "诊所", VILLAGE: "村卫生室", PRIVATE: "民营医院"}
_CTYPE = {"english": ["outpatient", "inpatient", "pharmacy"], "chinese": ["门诊", "住院", "购药"],
          "nhsa": ["11", "21", "41"]}
_GENDER = {"english": ["M", "F"], "chinese": ["男", "女"], "nhsa": ["1", "2"]}


def _tables(w, c, order, rank, items, total, fund, trace, headers) -> dict:
    porder = np.argsort(w.pid.astype(str), kind="stable")
    death = w.death
    region_codes = np.array(w.region_code, dtype=object)
    addr = w.address
    patients = pa.table({
        "patient_id": _s(w.pid[porder]),
        "name": _s(w.names[porder]),
        "id_number": _s(w.id_number[porder]),
        "gender": _s(np.array(_GENDER[headers], dtype=object)[w.sex[porder]]),
        "birth_date": pa.array((w.birth[porder] + _EPOCH_2024).astype(np.int32)).cast(pa.date32()),
        "region": _s(region_codes[w.region[porder]]),
        "death_date": pa.array((death[porder] + _EPOCH_2024).astype(np.int32), mask=death[porder] < 0).cast(pa.date32()),
        "phone": _s(w.phones[w.phone[porder]]),
        "address": _s(addr[porder]),
    })
    corder = np.argsort(w.card_ids.astype(str), kind="stable")
    cards = pa.table({"card_id": _s(w.card_ids[corder]), "patient_id": _s(w.pid[w.card_owner[corder]]),
                      "card_type": _s(w.card_type[corder])})
    inst = np.flatnonzero(w.fac_kind != PHARMACY)
    inst = inst[np.argsort(w.fac_ids[inst].astype(str), kind="stable")]
    k = w.fac_kind[inst]
    lvl_rng = np.random.default_rng(len(inst))
    level = np.where(k == TERTIARY, "三级", np.where(k == SECONDARY, "二级", np.where(
        k == COMMUNITY, "一级", np.where(k == PRIVATE, np.where(lvl_rng.random(len(k)) < 0.6, "一级", "未定级"),
                                         "未定级"))))
    institutions = pa.table({
        "institution_id": _s(w.fac_ids[inst]), "name": _s(np.array(w.fac_names, dtype=object)[inst]),
        "level": _s(level.astype(object)),
        "ownership": _s(np.where(np.isin(k, [CLINIC, PRIVATE]), "民营", "公立").astype(object)),
        "kind": _s(np.array([_KIND_ZH[int(x)] for x in k], dtype=object)),
        "region": _s(region_codes[w.fac_region[inst]])})
    ph = np.flatnonzero(w.fac_kind == PHARMACY)
    ph = ph[np.argsort(w.fac_ids[ph].astype(str), kind="stable")]
    pharmacies = pa.table({"pharmacy_id": _s(w.fac_ids[ph]),
                           "name": _s(np.array(w.fac_names, dtype=object)[ph]),
                           "region": _s(region_codes[w.fac_region[ph]])})
    dorder = np.argsort(w.doc_ids.astype(str), kind="stable")
    doctors = pa.table({"doctor_id": _s(w.doc_ids[dorder]), "name": _s(w.doc_names[dorder]),
                        "institution_id": _s(w.fac_ids[w.doc_fac[dorder]]),
                        "department": _s(np.array(w.doc_dept, dtype=object)[dorder])})
    porder2 = np.lexsort((w.fac_ids[w.phm_fac].astype(str), w.phm_ids.astype(str)))
    pharmacists = pa.table({"pharmacist_id": _s(w.phm_ids[porder2]), "name": _s(w.phm_names[porder2]),
                            "pharmacy_id": _s(w.fac_ids[w.phm_fac[porder2]])})
    # claims, in time order
    o = order
    n = len(o)
    ts_s = c["ts"][o] + _EPOCH_2024_S
    ts = pa.array(ts_s, type=pa.timestamp("s"))
    id_mat = np.empty((n, 20), dtype=np.uint8)   # "51" + settlement day + 10-digit sequence
    id_mat[:, 0], id_mat[:, 1] = ord("5"), ord("1")
    id_mat[:, 2:10] = _digits(_yyyymmdd(ts_s // 86400), 8)
    id_mat[:, 10:] = _digits(np.arange(n) + 1, 10)
    claim_ids = _fixed(id_mat)
    ctype = c["ctype"][o]
    inpat = ctype == INP
    claims = pa.table({
        "claim_id": claim_ids,
        "patient_id": _opt(w.pid, c["pat"][o]),
        "card_id": _opt(w.card_ids, c["card"][o]),
        "facility_id": _opt(w.fac_ids, c["fac"][o]),
        "doctor_id": _opt(w.doc_ids, c["doc"][o]),
        "pharmacist_id": _opt(w.phm_ids, c["phm"][o]),
        "claim_type": _opt(_CTYPE[headers], ctype),
        "settle_time": ts,
        "admit_date": pa.array((c["admit"][o] + _EPOCH_2024).astype(np.int32), mask=~inpat).cast(pa.date32()),
        "discharge_date": pa.array((c["disch"][o] + _EPOCH_2024).astype(np.int32), mask=~inpat).cast(pa.date32()),
        "diagnosis_code": _opt(DIAG_CODES, c["diag"][o]),
        "total_amount": _money(total[o]),
        "fund_amount": _money(fund[o]),
        "device_id": _opt(w.dev_ids, c["dev"][o]),
        "operator_phone": _opt(w.phones, c["ophone"][o]),
    })
    # items (already sorted by claim rank)
    ic = items["claim"]
    m_items = len(ic)
    item_claim_ids = _fixed(id_mat[rank[ic]]) if m_items else pc.take(claim_ids, pa.array(rank[ic]))
    is_drug = np.asarray(items["is_drug"], dtype=bool)
    nd = len(cat.DRUGS)
    codes = _s(list(cat.drug_codes()) + [sv[1] for sv in cat.SERVICES])
    names = _s([d[0] for d in cat.DRUGS] + [sv[0] for sv in cat.SERVICES])
    cx = np.where(is_drug, items["code"], nd + items["code"])
    item_mat = np.empty((m_items, 13), dtype=np.uint8)
    item_mat[:, 0] = ord("F")
    item_mat[:, 1:] = _digits(np.arange(m_items) + 1, 12)
    claim_items = pa.table({
        "item_id": _fixed(item_mat),
        "claim_id": item_claim_ids,
        "item_code": _pick(codes, cx),
        "item_name": _pick(names, cx),
        "quantity": _money(items["qty"]),
        "unit_price": _money(items["price"]),
        "amount": _money(items["amount"]),
        "trace_code": trace,
    })
    return {"patients": patients, "cards": cards, "institutions": institutions,
            "pharmacies": pharmacies, "doctors": doctors, "pharmacists": pharmacists,
            "claims": claims, "claim_items": claim_items}


def _member_id(w, typ: str, x) -> str:
    if typ == "patient":
        return str(w.pid[x])
    if typ == "card":
        return str(w.card_ids[x])
    if typ in ("pharmacy", "institution"):
        return str(w.fac_ids[x])
    if typ == "phone":
        return str(w.phones[x])
    if typ == "doctor":
        return str(w.doc_ids[x])
    if typ == "drug":
        return cat.drug_codes()[x]
    return str(x)


def _truth(w, rings) -> list[tuple]:
    rows = []
    for i, r in enumerate(rings, start=1):
        rid = _ring_id(i)
        seen = set()
        for typ, x, _role in r["members"]:
            mid = _member_id(w, typ, x)
            if (typ, mid) in seen:
                continue
            seen.add((typ, mid))
            rows.append((rid, r["typology"], typ, mid))
    return rows


def _ring_id(i: int) -> str:
    return f"T{i:04d}"


def _scenario_rows(rings) -> list[tuple]:
    """One row per truth ring: its variant name and the parameters it was drawn with (JSON)."""
    return [(_ring_id(i), r["typology"], r["scenario"],
             json.dumps(r["params"], sort_keys=True, separators=(",", ":"), ensure_ascii=False))
            for i, r in enumerate(rings, start=1)]


def _lookalike_rows(w, looks: dict) -> list[tuple]:
    """One row per patient of every look-alike cohort, cohorts numbered in LOOKALIKE_KINDS order."""
    rows, n = [], 0
    for kind in LOOKALIKE_KINDS:
        for group in looks.get(kind, []):
            n += 1
            rows += [(f"L{n:05d}", kind, str(w.pid[p])) for p in np.unique(group)]
    return rows


def _write_csv(path: Path, header: tuple, rows: list[tuple]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


def _family_phones(w, c, looks, rings) -> list:
    """Phones presenting the 电子凭证 of >= 2 people of one household (ring phones and
    households with a ring member excluded)."""
    m = c["ophone"] >= 0
    if not m.any():
        return []
    holder = w.card_owner[c["card"][m]]
    phone = c["ophone"][m]
    span = int(w.card_owner.max()) + 1 if len(w.card_owner) else 1
    key = np.unique(phone.astype(np.int64) * span + holder)   # distinct (phone, holder), sorted
    pairs = np.stack([key // span, key % span])
    ph, start, cnt = np.unique(pairs[0], return_index=True, return_counts=True)
    multi = set(ph[cnt >= 2].tolist())
    excluded = {x for r in rings for t, x, _ in r["members"] if t == "phone"}
    in_rings = {int(x) for r in rings for x in r["patients"]}
    out = []
    for p in sorted(multi - excluded):
        i = int(np.searchsorted(ph, p))
        hs = pairs[1][start[i]:start[i] + cnt[i]]
        if len(np.unique(w.hh[hs])) == 1 and not in_rings.intersection(hs.tolist()):
            out.append(np.sort(hs))   # a family of ring members is not a look-alike cohort
    return out
