"""Helpers on pyarrow-backed string columns: _arrow.isin and positions, _frames.row_positions,
the items join."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphkit._arrow import isin, positions


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


def test_context_items_is_the_inner_join_of_items_and_claims_in_item_order():
    from pathlib import Path

    import graphkit
    from graphkit.detectors.context import Context
    from graphkit.graph import EntityGraph

    ds = graphkit.load(Path(__file__).resolve().parents[1] / "data_samples" / "demo")
    ctx = Context(EntityGraph(ds))
    it = ds.claim_items[["claim_id", "item_code", "item_name", "quantity", "amount", "trace_code"]]
    c = ctx.claims[["claim_id", "card_id", "holder_id", "facility_id", "facility_type",
                    "doctor_id", "t", "day", "settle_time", "fund_amount"]]
    expect = it.merge(c, on="claim_id", how="inner", sort=False).reset_index(drop=True)
    assert len(ctx.items) == len(expect) > 1000
    pd.testing.assert_frame_equal(ctx.items, expect)


def test_positions_are_left_join_row_numbers_with_minus_one_for_no_match():
    keys = pd.Series(["k0", "k1", "k2"], dtype="str")
    values = pd.Series(["k2", None, "zz", "k0", "k2"], dtype="str")
    assert positions(values, keys).tolist() == [2, -1, -1, 0, 2]
