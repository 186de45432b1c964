"""Small pandas helpers shared by the loader and the detectors."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["most_frequent", "row_positions"]


def most_frequent(df: pd.DataFrame, key: str, value: str) -> pd.Series:
    """``key`` -> the ``value`` it occurs with most often in ``df`` (ties: the smallest value),
    indexed by key in sorted order; rows with a missing key or value are left out."""
    top = (df.groupby([key, value]).size().rename("n").reset_index()
           .sort_values([key, "n", value], ascending=[True, False, True])
           .drop_duplicates(key))
    return pd.Series(top[value].to_numpy(), index=top[key].to_numpy())


def row_positions(values: pd.Series) -> dict:
    """value -> the positions of its rows, ascending, in order of first appearance; missing values
    left out. ``df.groupby(col, sort=False).indices``, twice as fast on a pyarrow string column
    (pandas reads every group's key back from the array one at a time)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    start = int(np.searchsorted(sorted_codes, 0))  # missing values (code -1) come first
    order, sorted_codes = order[start:], sorted_codes[start:]
    cuts = np.flatnonzero(np.diff(sorted_codes)) + 1
    return dict(zip(uniques.tolist(), np.split(order, cuts)))
