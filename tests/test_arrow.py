"""Helpers on pyarrow-backed string columns (graphkit._arrow.isin, graphkit._frames.row_positions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphkit._arrow import isin


@pytest.mark.parametrize("keys", [{"a", "c"}, ["a", "c", "c"], pd.Index(["a", "c"]),
                                  pd.Series(["c", "a", None], dtype="str"), frozenset({"a", "c"})])
def test_isin_matches_pandas_for_every_kind_of_key_collection(keys):
    values = pd.Series(["a", "b", None, "c", "a"], dtype="str")
    got = isin(values, keys)
    assert got.dtype == bool
    assert got.tolist() == [True, False, False, True, True]  # a missing value is in no set


def test_isin_with_no_keys_is_all_false():
    assert not isin(pd.Series(["a", "b"], dtype="str"), []).any()


def test_isin_reads_an_object_column_as_strings():
    values = pd.Series(np.array(["x1", "x2", None], dtype=object))
    assert isin(values, ["x2"]).tolist() == [False, True, False]


def test_row_positions_is_groupby_indices_without_missing_keys():
    from graphkit._frames import row_positions

    s = pd.Series(["b", None, "a", "b", None, "a", "c"], dtype="str")
    got = row_positions(s)
    assert list(got) == ["b", "a", "c"]  # first appearance
    assert {k: v.tolist() for k, v in got.items()} == {"b": [0, 3], "a": [2, 5], "c": [6]}
    assert row_positions(pd.Series([None, None], dtype="str")) == {}
