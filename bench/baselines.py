"""Two peer baselines that turn a data directory into a ``rings.json`` scored by ``graphkit eval``.

Both are what a team would build from the published recipes, applied to the contract's data, so
that ``bench/quality.py`` can report them side by side with ``graphkit rings`` on the same input.

``neo4j``
    The Neo4j / GDS fraud-detection recipe as published: weakly connected components (WCC) over
    patients linked by shared identifiers (``patients.phone``, ``patients.address``, and from
    ``claims`` the ``operator_phone`` and ``device_id`` that presented a card), plus Louvain on the
    patient-patient co-visit projection (same facility, same settle day; provider-days with more
    than 50 patients skipped). Every component / community with at least ``min_size`` patients is
    a candidate; candidates are ranked by one simple suspicion statistic (fund amount per
    member) and the top percentile (``top_fraction`` of candidates, at least ``min_rings``) is
    reported as rings. Louvain is igraph's C ``community_multilevel``, seeded through Python's
    ``random``.

    The recipe has no notion of typology. To let ``graphkit eval`` score it per typology, each
    reported community is given the typology it most plausibly is from its members' claims:
    if inpatient claims carry the largest share of the community's fund amount it is
    ``fake_admission``; if pharmacy claims do and some of the members' trace codes are settled
    more than once it is ``diversion``; otherwise ``gang``. ``impersonation`` is never assigned
    (nothing in the recipe looks at who presented a card).

``fraudar``
    FRAUDAR-style greedy dense-subgraph peeling (Hooi et al., KDD 2016) on the bipartite
    patient x facility graph. Edge weight = number of claims of that patient at that facility,
    multiplied by the FRAUDAR column weight ``1 / log(facility degree + 5)``. Peeling removes the
    node (patient or facility) with the smallest weighted degree and keeps the prefix of greatest
    density ``f(S) / |S|``; the block found is removed and peeling repeats ``k`` times. Each
    block's patients are one ring, typology ``gang`` (FRAUDAR has no typology either).

Command line::

    python bench/baselines.py DATA_DIR --method neo4j|neo4j-nodevice|fraudar -o OUT_DIR

writes ``OUT_DIR/rings.json`` and ``OUT_DIR/rings.csv``.

Examples
--------
>>> import graphkit as gk                                  # doctest: +SKIP
>>> doc = neo4j_recipe(gk.load("bench/data/synth_200000_c0.5_s7"))   # doctest: +SKIP
>>> doc.to_dict()["schema"]                                # doctest: +SKIP
'graphkit.rings/1'
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from graphkit.rings import Evidence, Member, Ring, RingsDocument, rank_rings, write_rings

__all__ = ["covisit_projection", "neo4j_recipe", "fraudar", "METHODS", "main"]


# --------------------------------------------------------------------------------------------
# shared helpers


def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for a string column (NA -> -1) and the sorted unique values."""
    codes, uniques = pd.factorize(s.astype("string"), sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def covisit_projection(claims: pd.DataFrame, patient_index: pd.Index, *,
                       max_patients_per_day: int = 50) -> sp.csr_matrix:
    """Patient x patient co-visit counts: shared (facility, settle day) pairs, upper triangle.

    Provider-days with more than ``max_patients_per_day`` distinct patients are skipped (as in
    the recipe, otherwise a busy hospital links everyone). Built as ``B @ B.T`` on a sparse
    patient x provider-day incidence matrix.
    """
    day = pd.to_datetime(claims["settle_time"]).dt.normalize()
    key = claims["facility_id"].astype("string") + "|" + day.dt.strftime("%Y-%m-%d")
    pd_codes, _ = pd.factorize(key, use_na_sentinel=True)
    p_codes = patient_index.get_indexer(claims["patient_id"].astype("string"))
    ok = (pd_codes >= 0) & (p_codes >= 0)
    pairs = pd.DataFrame({"p": p_codes[ok], "d": pd_codes[ok]}).drop_duplicates()
    size = pairs.groupby("d")["p"].transform("size")
    pairs = pairs[(size >= 2) & (size <= max_patients_per_day)]
    n = len(patient_index)
    n_days = int(pd_codes.max()) + 1 if len(pd_codes) else 0
    B = sp.csr_matrix((np.ones(len(pairs), dtype=np.float32), (pairs["p"].to_numpy(), pairs["d"].to_numpy())),
                      shape=(n, max(n_days, 1)))
    W = (B @ B.T).tocsr()
    W = sp.triu(W, k=1).tocsr()
    W.eliminate_zeros()
    return W


def _trace_repeat_patients(ds) -> set[str]:
    """Patients whose claims settle a trace code that is settled more than once overall."""
    items = ds.claim_items
    if items.empty or "trace_code" not in items:
        return set()
    tc = items[["claim_id", "trace_code"]].dropna()
    tc = tc[tc["trace_code"].astype("string").str.len() > 0]
    if tc.empty:
        return set()
    counts = tc.groupby("trace_code")["claim_id"].transform("nunique")
    rep = tc.loc[counts > 1, "claim_id"].unique()
    pats = ds.claims.loc[ds.claims["claim_id"].isin(rep), "patient_id"].dropna()
    return set(pats.astype(str))


def _ring_from_patients(pids: list[str], typology: str, score: float, claims: pd.DataFrame,
                        evidence: tuple[Evidence, ...], extra: dict) -> Ring:
    c = claims[claims["patient_id"].isin(pids)]
    first = c["settle_time"].min() if len(c) else None
    last = c["settle_time"].max() if len(c) else None
    return Ring(
        typology=typology,
        score=float(score),
        members=tuple(Member("patient", p, "member") for p in sorted(pids)),
        claims=(),  # the recipes work on communities, not claims; keep rings.json small
        fund_amount=float(c["fund_amount"].fillna(0).sum()) if len(c) else 0.0,
        first_seen=None if first is None or pd.isna(first) else pd.Timestamp(first).strftime("%Y-%m-%d"),
        last_seen=None if last is None or pd.isna(last) else pd.Timestamp(last).strftime("%Y-%m-%d"),
        evidence=evidence,
        extra=extra,
    )


# --------------------------------------------------------------------------------------------
# (a) the Neo4j fraud-detection recipe


def _wcc_shared_identifiers(ds, pidx: pd.Index,
                            claim_identifiers: tuple[str, ...] = ("operator_phone", "device_id")
                            ) -> np.ndarray:
    """Component label per patient from shared phone / address / ``claim_identifiers``."""
    rows, cols = [], []
    n_ids = 0
    links = []
    pats = ds.patients
    for col in ("phone", "address"):
        if col in pats:
            links.append((pats["patient_id"], pats[col]))
    cl = ds.claims
    for col in claim_identifiers:
        if col in cl:
            links.append((cl["patient_id"], cl[col]))
    for pid, ident in links:
        p = pidx.get_indexer(pid.astype("string"))
        ident = ident.astype("string").str.strip()
        ident = ident.where(ident.str.len() > 0)
        codes, uniq = pd.factorize(ident, use_na_sentinel=True)
        ok = (p >= 0) & (codes >= 0)
        rows.append(p[ok])
        cols.append(codes[ok] + n_ids)
        n_ids += len(uniq)
    n = len(pidx)
    if not rows or n_ids == 0:
        return np.arange(n)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    # bipartite patient-identifier graph; components of it restricted to patients
    A = sp.csr_matrix((np.ones(len(r), dtype=np.int8), (r, c + n)), shape=(n + n_ids, n + n_ids))
    _, labels = sp.csgraph.connected_components(A, directed=False)
    return labels[:n]


def _louvain_igraph(W: sp.csr_matrix, seed: int) -> np.ndarray:
    import igraph as ig

    coo = W.tocoo()
    random.seed(seed)  # python-igraph draws from Python's random module
    ig.set_random_number_generator(random)
    g = ig.Graph(n=W.shape[0], edges=np.column_stack([coo.row, coo.col]).tolist(),
                 edge_attrs={"weight": coo.data.astype(float).tolist()})
    return np.asarray(g.community_multilevel(weights="weight").membership)


def neo4j_recipe(ds, *, top_fraction: float = 0.01, min_rings: int = 10, min_size: int = 3,
                 max_patients_per_day: int = 50, seed: int = 7,
                 link_devices: bool = True) -> RingsDocument:
    """The Neo4j recipe (WCC on shared identifiers + Louvain on co-visits, top percentile).

    ``link_devices=False`` leaves ``device_id`` out of the WCC links: a facility's terminal is
    shared by all its customers, so with it WCC is one giant component on synth data.
    """
    t0 = time.perf_counter()
    claims = ds.claims
    pidx = pd.Index(pd.unique(pd.concat([ds.patients["patient_id"], claims["patient_id"]])
                              .dropna().astype("string"))).sort_values()
    wcc = _wcc_shared_identifiers(
        ds, pidx, ("operator_phone", "device_id") if link_devices else ("operator_phone",))
    W = covisit_projection(claims, pidx, max_patients_per_day=max_patients_per_day)
    louv = _louvain_igraph(W, seed)
    t_comm = time.perf_counter() - t0

    # fund and claim mix per patient
    p_of_claim = pidx.get_indexer(claims["patient_id"].astype("string"))
    fund = claims["fund_amount"].fillna(0).to_numpy(dtype=float)
    ctype = claims["claim_type"].astype("string").fillna("")
    n = len(pidx)
    ok = p_of_claim >= 0
    fund_p = np.bincount(p_of_claim[ok], weights=fund[ok], minlength=n)
    mix = {t: np.bincount(p_of_claim[ok], weights=fund[ok] * (ctype[ok] == t).to_numpy(), minlength=n)
           for t in ("outpatient", "inpatient", "pharmacy")}
    trace_rep = _trace_repeat_patients(ds)
    trace_rep_mask = pidx.isin(list(trace_rep)) if trace_rep else np.zeros(n, dtype=bool)

    # covisit degree: isolated patients are their own Louvain singleton; ignore them
    deg = np.asarray((W + W.T).sum(axis=1)).ravel()
    cands = []
    for source, labels, mask in (("wcc_shared_identifiers", wcc, np.ones(n, dtype=bool)),
                                 ("louvain_covisit", louv, deg > 0)):
        lab = pd.Series(labels[mask], index=np.flatnonzero(mask))
        for _, members in lab.groupby(lab.values):
            idx = members.index.to_numpy()
            if len(idx) < min_size:
                continue
            cands.append((source, idx))
    if not cands:
        return RingsDocument(rings=(), data_dir=str(ds.data_dir), fingerprint=ds.fingerprint,
                             params={"method": "neo4j_recipe"})
    stat = np.array([fund_p[idx].sum() / len(idx) for _, idx in cands])
    order = np.lexsort((np.arange(len(cands)), -stat))
    n_top = max(min_rings, int(math.ceil(top_fraction * len(cands))))
    top = order[:n_top]
    smax = float(stat[top].max()) if len(top) else 1.0
    rings = []
    for i in top:
        source, idx = cands[i]
        shares = {t: float(m[idx].sum()) for t, m in mix.items()}
        dominant = max(shares, key=lambda t: (shares[t], t))
        if dominant == "inpatient":
            typ = "fake_admission"
        elif dominant == "pharmacy" and bool(trace_rep_mask[idx].any()):
            typ = "diversion"
        else:
            typ = "gang"
        ev = (Evidence(source, "", f"{len(idx)} patients in one {source} community; "
                       f"fund per member {stat[i]:,.2f} (top {top_fraction:.0%} of "
                       f"{len(cands)} communities)", int(len(idx))),)
        rings.append(_ring_from_patients(list(pidx[idx].astype(str)), typ, stat[i] / smax if smax else 0.0,
                                         claims, ev, {"source": source}))
    rings = rank_rings(rings)
    params = {"method": "neo4j_recipe", "top_fraction": top_fraction, "min_rings": min_rings,
              "min_size": min_size, "max_patients_per_day": max_patients_per_day, "seed": seed,
              "link_devices": link_devices,
              "statistic": "fund_amount per member", "candidates": len(cands),
              "covisit_edges": int(W.nnz), "community_seconds": round(t_comm, 2)}
    return RingsDocument(rings=rings, data_dir=str(ds.data_dir), fingerprint=ds.fingerprint,
                         params=params)


# --------------------------------------------------------------------------------------------
# (b) FRAUDAR-style peeling


def _peel(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n_r: int, n_c: int
          ) -> tuple[np.ndarray, np.ndarray, float]:
    """One greedy peel: (row mask, col mask) of the densest prefix and its density f/|S|."""
    n = n_r + n_c
    u = rows
    v = cols + n_r
    # adjacency lists in CSR form over all n nodes
    src = np.concatenate([u, v])
    dst = np.concatenate([v, u])
    ww = np.concatenate([w, w])
    order = np.argsort(src, kind="stable")
    dst, ww = dst[order], ww[order]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    prio = np.bincount(src, weights=np.concatenate([w, w]), minlength=n)
    alive = prio > 0
    total = float(w.sum())
    size = int(alive.sum())
    if size == 0:
        return np.zeros(n_r, bool), np.zeros(n_c, bool), 0.0
    best = total / size
    best_step = 0
    heap = [(float(prio[i]), int(i)) for i in np.flatnonzero(alive)]
    heapq.heapify(heap)
    removed_order = []
    prio_l = prio.tolist()
    alive_l = alive.tolist()
    dst_l, ww_l, ptr_l = dst.tolist(), ww.tolist(), ptr.tolist()
    while heap:
        p, i = heapq.heappop(heap)
        if not alive_l[i] or p != prio_l[i]:
            continue
        alive_l[i] = False
        removed_order.append(i)
        total -= p
        size -= 1
        for k in range(ptr_l[i], ptr_l[i + 1]):
            j = dst_l[k]
            if alive_l[j]:
                prio_l[j] -= ww_l[k]
                heapq.heappush(heap, (prio_l[j], j))
        if size > 0:
            dens = total / size
            if dens > best + 1e-12:
                best = dens
                best_step = len(removed_order)
    keep = alive.copy()
    keep[np.asarray(removed_order[:best_step], dtype=np.int64)] = False
    return keep[:n_r], keep[n_r:], best


def fraudar(ds, *, k: int = 20, min_patients: int = 3, seed: int = 7) -> RingsDocument:
    """FRAUDAR-style peeling on patient x facility; ``k`` blocks, each block's patients a ring."""
    claims = ds.claims
    pc, pu = _codes(claims["patient_id"])
    fc, fu = _codes(claims["facility_id"])
    ok = (pc >= 0) & (fc >= 0)
    e = pd.DataFrame({"r": pc[ok], "c": fc[ok]}).groupby(["r", "c"]).size().reset_index(name="n")
    rows, cols = e["r"].to_numpy(), e["c"].to_numpy()
    cnt = e["n"].to_numpy(dtype=float)
    n_r, n_c = len(pu), len(fu)
    col_deg = np.bincount(cols, minlength=n_c)
    w = cnt / np.log(col_deg[cols] + 5.0)
    alive_edge = np.ones(len(w), dtype=bool)
    blocks = []
    for _ in range(k):
        if not alive_edge.any():
            break
        rm, cm, dens = _peel(rows[alive_edge], cols[alive_edge], w[alive_edge], n_r, n_c)
        if not rm.any():
            break
        blocks.append((np.flatnonzero(rm), np.flatnonzero(cm), dens))
        # remove the block's edges (FRAUDAR removes the detected block and peels again)
        alive_edge &= ~(rm[rows] & cm[cols])
    rings = []
    dmax = max((d for *_, d in blocks), default=1.0) or 1.0
    for b, (ri, ci, dens) in enumerate(blocks):
        if len(ri) < min_patients:
            continue
        ev = (Evidence("fraudar_dense_block", "", f"block {b + 1}: {len(ri)} patients x "
                       f"{len(ci)} facilities, density {dens:.2f}", int(len(ri))),)
        rings.append(_ring_from_patients(list(pu[ri].astype(str)), "gang", dens / dmax, claims, ev,
                                         {"block": b + 1, "facilities": [str(x) for x in fu[ci][:50]]}))
    params = {"method": "fraudar", "k": k, "min_patients": min_patients, "seed": seed,
              "edge_weight": "claims / log(facility degree + 5)"}
    return RingsDocument(rings=rank_rings(rings), data_dir=str(ds.data_dir),
                         fingerprint=ds.fingerprint, params=params)


def neo4j_recipe_no_device(ds, **kw) -> RingsDocument:
    """The Neo4j recipe without ``device_id`` links in WCC (see :func:`neo4j_recipe`)."""
    return neo4j_recipe(ds, link_devices=False, **kw)


METHODS = {"neo4j": neo4j_recipe, "neo4j-nodevice": neo4j_recipe_no_device, "fraudar": fraudar}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Run a peer baseline on DATA_DIR and write OUT_DIR/rings.json.",
        epilog="Example: python bench/baselines.py bench/data/synth_200000_c0.5_s7 "
               "--method neo4j -o bench/out/neo4j")
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--method", choices=sorted(METHODS), required=True)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    import graphkit as gk
    from graphkit.errors import GraphkitError

    t0 = time.perf_counter()
    try:
        ds = gk.load(a.data_dir)
    except GraphkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1) or 1
    t1 = time.perf_counter()
    doc = METHODS[a.method](ds, seed=a.seed)
    pj, _ = write_rings(doc, a.out)
    print(f"{a.method}: {len(doc.rings)} rings -> {pj} (load {t1 - t0:.1f}s, "
          f"method {time.perf_counter() - t1:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
