"""Small pandas helpers shared by the loader and the detectors."""

from __future__ import annotations

import pandas as pd

__all__ = ["most_frequent"]


def most_frequent(df: pd.DataFrame, key: str, value: str) -> pd.Series:
    """``key`` -> the ``value`` it occurs with most often in ``df`` (ties: the smallest value),
    indexed by key in sorted order; rows with a missing key or value are left out."""
    top = (df.groupby([key, value]).size().rename("n").reset_index()
           .sort_values([key, "n", value], ascending=[True, False, True])
           .drop_duplicates(key))
    return pd.Series(top[value].to_numpy(), index=top[key].to_numpy())
