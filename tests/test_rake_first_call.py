"""The first rake on a new design: each shortcut it takes against the general path.

The build of a design keeps what its checks computed (the sum of the weights, the all-True
mask of every row) and the rake reuses them; each test compares the shortcut with the value
computed afresh, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib._validation import check_weights


def _frame(n=3000, seed=3):
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, 60, n)
    return pd.DataFrame({
        "h": psu % 6, "psu": psu, "w": rng.uniform(50, 150, n),
        "a": rng.integers(0, 5, n), "b": rng.integers(0, 4, n),
    })


MARGINS = {"a": {k: 2e4 for k in range(5)}, "b": {0: 3e4, 1: 3e4, 2: 2e4, 3: 2e4}}
SHARES = {"a": {k: 0.2 for k in range(5)}, "b": {0: 0.3, 1: 0.3, 2: 0.2, 3: 0.2}}


@pytest.mark.parametrize("values, expected", [
    (np.array([1.0, 2.5, 3.25]), 6.75),
    (np.array([1e308, 1e308]), None),  # finite weights whose sum overflows: no sum kept
])
def test_check_weights_returns_the_sum_it_takes(values, expected):
    assert check_weights(values, col="w") == expected


@pytest.mark.parametrize("build", [
    lambda df: sl.SurveyDesign(df, strata="h", psu="psu", weights="w"),
    lambda df: sl.SurveyDesign(df.assign(p=1 / df["w"]), strata="h", psu="psu", probs="p"),
    lambda df: sl.SurveyDesign(df, strata="h", psu="psu", weights="w").subset(df["a"] > 0),
    lambda df: sl.SurveyDesign(df, strata="h", psu="psu", weights="w").rake(MARGINS),
])
def test_base_weight_sum_is_the_sum_of_the_base_weights(build):
    """The sum kept from the check of a weights column (or computed: probabilities, a new
    weighting step) is bit for bit ``float(base_weights.sum())`` of every row."""
    d = build(_frame())
    assert d.base_weight_sum() == float(np.array(d.base_weights).sum())


@pytest.mark.parametrize("margins", [MARGINS, SHARES])
def test_rake_with_the_kept_sum_equals_rake_with_a_new_sum(margins):
    """A design built from a weights column rakes with the sum its check took; the same
    weights given through with_weights (the sum computed afresh) rake to the same bits."""
    d = sl.SurveyDesign(_frame(), strata="h", psu="psu", weights="w")
    fresh = d.with_weights(np.array(d.base_weights))
    r1, r2 = d.rake(margins, tol=1e-9), fresh.rake(margins, tol=1e-9)
    np.testing.assert_array_equal(r1.weights.to_numpy(), r2.weights.to_numpy())
    a1, a2 = r1.adjustments[-1], r2.adjustments[-1]
    assert (a1.iterations, a1.max_change, a1.max_discrepancy) == (
        a2.iterations, a2.max_change, a2.max_discrepancy)
    pd.testing.assert_frame_equal(a1.table, a2.table)


def test_every_row_mask_is_the_design_mask_and_stays_all_true():
    """The validity of an integer column is the new design's all-True mask (one array, read
    only); a subset of the design does not change it, and new data get their own."""
    df = _frame(200)
    d = sl.SurveyDesign(df, strata="h", psu="psu", weights="w")
    ok = d.factor_codes("a")[2]
    assert np.shares_memory(ok, d.active) and ok.all() and not ok.flags.writeable
    sub = d.subset(df["a"] > 2)
    ok_sub = sub.factor_codes("b")[2]
    assert ok_sub.all() and len(ok_sub) == len(df) and not sub.active.all()
    other = sub.with_data(df.assign(c=df["a"] % 2))
    ok_other = other.factor_codes("c")[2]
    assert ok_other.all() and len(ok_other) == len(df)
    assert other.proportion("c").estimate.sum() == pytest.approx(1.0, rel=1e-12)
