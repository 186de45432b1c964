"""Drawing people, places and days for planted structures (look-alikes and rings).

Every planted structure takes its people from the background population through :func:`take`,
which marks them used so structures stay disjoint; members keep their normal activity, which
the background adds later.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth._world import DAYS, World


def take(w: World, rng, mask: np.ndarray, k: int, *, distinct_hh: bool = False) -> np.ndarray:
    """Up to ``k`` unused patients where ``mask`` holds (sorted), marked used.

    With ``distinct_hh`` at most one per household, so no two of them share a phone or address.
    """
    cand = np.flatnonzero(mask & ~w.used)
    if distinct_hh and len(cand):
        cand = cand[rng.permutation(len(cand))]
        _, first = np.unique(w.hh[cand], return_index=True)
        cand = np.sort(cand[first])
    k = min(k, len(cand))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    pick = np.sort(rng.choice(cand, k, replace=False))
    w.used[pick] = True
    return pick


def doctor_of(w: World, rng, fac) -> np.ndarray:
    """A random doctor of each facility in ``fac``."""
    fac = np.asarray(fac)
    return w.fac_doc_start[fac] + (rng.random(fac.shape) * np.maximum(w.fac_doc_n[fac], 1)).astype(np.int64)


def near(w: World, rng, kinds, region: int) -> int:
    """A random facility of ``kinds`` in ``region`` (anywhere when the region has none)."""
    c = w.facilities_of(kinds, region)
    if len(c) == 0:
        c = w.facilities_of(kinds)
    return int(c[rng.integers(0, len(c))])


def alive_days(w: World, p: int, days: np.ndarray) -> np.ndarray:
    """``days`` clipped into the patient's lifetime within the year."""
    lo = max(0, int(w.birth[p]))
    hi = int(w.death[p]) if w.death[p] >= 0 else DAYS
    return np.clip(days, lo, max(lo, hi - 1))


def spread_days(rng, n: int, span: int, lo: int = 0, hi: int = DAYS) -> np.ndarray:
    """``n`` distinct sorted days inside a window of ``span`` days placed at random in [lo, hi)."""
    span = int(np.clip(span, 1, hi - lo))
    start = lo + int(rng.integers(0, hi - lo - span + 1))
    return np.sort(start + rng.choice(span, min(n, span), replace=False))


def log_uniform(rng, lo: float, hi: float) -> float:
    """A draw between ``lo`` and ``hi`` uniform on the log scale (weeks as likely as months)."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def card_of(w: World, holders: np.ndarray, prefer: str) -> np.ndarray:
    """Each holder's 社保卡 (``prefer="03"``) or 电子凭证 (``"01"``), the other one if missing."""
    first, second = (w.card03, w.card01) if prefer == "03" else (w.card01, w.card03)
    return np.where(first[holders] >= 0, first[holders], second[holders])


def busy_region(w: World, rng) -> int:
    """A region drawn in proportion to its people not yet in a planted structure."""
    free = np.bincount(w.region[~w.used], minlength=len(w.region_code)).astype(float)
    if free.sum() == 0:
        return int(rng.integers(0, len(w.region_code)))
    return int(rng.choice(len(free), p=free / free.sum()))
