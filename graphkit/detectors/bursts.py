"""Bursts: an organiser's swipe sessions, the unit the gang and impersonation detectors share.

A burst is a run of consecutive outpatient/pharmacy settlements at one facility no more than
``burst_gap_minutes`` apart (whichever terminal; an organiser may use several), holding
``burst_min_cards`` to ``burst_max_cards`` distinct cards. Busy-hour crowds larger than the cap
are skipped. At a quiet facility the allowed gap grows with its usual gap between settlements
(``burst_gap_quiet_share`` of its median same-day gap, at most ``burst_gap_max_minutes``): an
organiser spreading the swipes over an afternoon is still one session where nobody else comes
for hours, while at a busy pharmacy only minutes apart counts. A run of more than
``burst_max_cards`` cards (a pharmacy busy all day chains its whole day) is split where it is
slower than half the facility's usual gap: a session is denser than the usual pace.

The result is memoised on the Context, so detectors in one process compute it once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphkit.detectors.context import Context
from graphkit.settings import Settings

__all__ = ["bursts", "session_sizes"]


#: what scoring a group reads of its swipes (the gang detector's scoring and ``make_ring``)
_SWIPE_COLUMNS = ("claim_id", "card_id", "burst", "day", "settle_time", "facility_id",
                  "facility_type", "device_id", "operator_phone", "dx3", "fund_amount")


def bursts(ctx: Context, settings: Settings) -> pd.DataFrame:
    """Claims that fall in a burst, with a ``burst`` id: their ``_SWIPE_COLUMNS`` only (a
    group's rows are taken thousands of times), numbered from 0 in facility and time order."""
    key = ("bursts", settings.gang)
    if key not in ctx.cache:
        ctx.cache[key] = _bursts(ctx, settings)
    return ctx.cache[key]


def _bursts(ctx: Context, settings: Settings) -> pd.DataFrame:
    s = settings.gang
    c = ctx.claims
    swipe = [k for k in _SWIPE_COLUMNS if k in c.columns or k == "burst"]
    read = [k for k in swipe if k != "burst"]
    rows = np.flatnonzero((c["claim_type"] != "inpatient").to_numpy())
    if not len(rows):
        return c[read].iloc[rows].assign(burst=pd.Series([], dtype="int64"))[swipe].reset_index(
            drop=True)
    # facilities as integer codes in the order of their ids (sorting and comparing ints, not
    # strings); rows are ordered on arrays and the frame is taken once, at the end
    term = pd.factorize(c["facility_id"], sort=True)[0][rows]
    t = c["t"].to_numpy()[rows]
    order = np.lexsort((t, term))
    rows, term, t = rows[order], term[order], t[order]
    gap = np.diff(t)
    same_fac = term[1:] == term[:-1]
    day = c["day"].to_numpy()[rows]
    allowed, dense = _allowed_gaps(term, gap, same_fac & (np.diff(day) == 0), s)
    new = np.ones(len(rows), dtype=bool)
    new[1:] = ~same_fac | (gap > allowed)
    cards = pd.factorize(c["card_id"])[0][rows]
    size = _run_sizes(new, cards)
    # a pharmacy busy all day chains a whole day into one run, far more cards than a session:
    # inside it a session is a run denser than the facility's usual pace
    big = size > s.burst_max_cards
    if big.any():
        new[1:] |= big[1:] & big[:-1] & (gap > dense)
        size = _run_sizes(new, cards)
    burst = np.cumsum(new) - 1
    kept = (size >= s.burst_min_cards) & (size <= s.burst_max_cards)
    out = c[read].iloc[rows[kept]].reset_index(drop=True)
    out.insert(swipe.index("burst"), "burst", burst[kept])
    return out


def session_sizes(claims: pd.DataFrame, marker: str = "operator_phone") -> np.ndarray:
    """For each claim, how many distinct cards its session holds: the claims one operator phone
    (or one terminal, ``marker="device_id"``) put through at one facility on one day
    (``claims`` needs facility_id, day, card_id and the marker). Someone using borrowed cards
    for their own care is treated on one of them at a time; a phone presenting several
    people's cards at one place on one day is swiping collected cards, whatever its pace. Gang
    reads these as sessions, impersonation leaves them to the schemes that collect cards."""
    return claims.groupby(["facility_id", "day", marker], sort=False)[
        "card_id"].transform("nunique").to_numpy()


def _run_sizes(new: np.ndarray, cards: np.ndarray) -> np.ndarray:
    """For each row, the number of distinct cards of the run it is in (a run starts at ``new``)."""
    run = np.cumsum(new) - 1
    distinct = pd.Series(cards).groupby(run).nunique().to_numpy()
    return distinct[run]


def _allowed_gaps(term: np.ndarray, gap: np.ndarray, same_day: np.ndarray,
                  s) -> tuple[np.ndarray, np.ndarray]:
    """Seconds allowed between consecutive swipes i, i+1 for one burst: half the facility's
    median same-day gap, within [burst_gap_minutes, burst_gap_max_minutes]; and that half
    unclipped (``dense``: a run that fast is faster than the facility's usual pace)."""
    fac = term[1:]
    median = pd.Series(gap[same_day], dtype="float64").groupby(fac[same_day]).median()
    usual = median.reindex(fac).to_numpy() * s.burst_gap_quiet_share
    lo, hi = s.burst_gap_minutes * 60, max(s.burst_gap_minutes, s.burst_gap_max_minutes) * 60
    return np.clip(np.nan_to_num(usual, nan=lo), lo, hi), np.nan_to_num(usual, nan=lo)
