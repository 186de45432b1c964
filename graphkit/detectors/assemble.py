"""Turning a detector's scored group into a :class:`~graphkit.rings.Ring`.

``make_ring`` takes a group's members and claims to a Ring (claims, fund amount, period),
``squash`` maps a signal's strength to a score in [0, 1), and ``reported_cards`` reads which
cards a typology's reported rings hold (what a later detector is given of an earlier one).
"""

from __future__ import annotations

import pandas as pd

from graphkit.rings import Evidence, Member, Ring

__all__ = ["make_ring", "squash", "reported_cards"]


def squash(x: float, half: float) -> float:
    """Map a non-negative strength to [0, 1): ``x / (x + half)`` (0.5 at ``half``)."""
    x = max(0.0, float(x))
    return x / (x + half) if (x + half) > 0 else 0.0


def _iso(ts) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def make_ring(typology: str, score: float, members: list[Member], claims: pd.DataFrame,
              ev: list[Evidence], extra: dict | None = None) -> Ring:
    """A Ring with claims, fund amount and period taken from ``claims`` (rows of Context.claims)."""
    seen: set[tuple[str, str]] = set()
    uniq = []
    for m in members:
        k = (m.type, m.id)
        if k not in seen:
            seen.add(k)
            uniq.append(m)
    ids = tuple(sorted(claims["claim_id"].astype(str).unique()))
    return Ring(
        typology=typology,
        score=float(min(1.0, max(0.0, score))),
        members=tuple(sorted(uniq, key=lambda m: (m.type, m.id))),
        claims=ids,
        fund_amount=float(round(claims["fund_amount"].fillna(0).sum(), 2)),
        first_seen=_iso(claims["settle_time"].min()) if len(claims) else None,
        last_seen=_iso(claims["settle_time"].max()) if len(claims) else None,
        evidence=tuple(ev),
        extra=extra or {},
    )


def reported_cards(rings, min_score: float) -> set[str]:
    """Cards that are members of the rings scoring at least ``min_score`` (the reported ones)."""
    return {m.id for r in rings if r.score >= min_score for m in r.members if m.type == "card"}
