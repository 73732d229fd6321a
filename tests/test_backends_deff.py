"""Design effects over an engine for values large against their spread: the squares are
summed again around each column's estimate when the first query's expansion loses more than
6 digits (``backends/estimate.py`` ``residual_squares``).  Compared with the in-memory design
effects, which tests/test_design.py checks against the two-pass formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from query_log import counted

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import LazySurveyDesign  # noqa: E402


def frame(centre: float) -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 6000
    df = pd.DataFrame({"st": rng.integers(0, 4, n), "psu": rng.integers(0, 60, n),
                       "w": rng.uniform(1, 3, n), "g": rng.integers(0, 3, n)})
    df["psu"] = df["st"] * 100 + df["psu"]
    df["x"] = centre + rng.normal(0, 1, n)
    df["y"] = 1.5 * df["x"] + rng.normal(0, 1, n)
    return df


def designs(df):
    con = duckdb.connect()
    con.register("t", df)
    lazy, calls = counted(LazySurveyDesign("t", connection=con, strata="st", psu="psu",
                                           weights="w"))
    return sl.SurveyDesign(df, strata="st", psu="psu", weights="w"), lazy, calls


CALLS = {
    "mean": lambda d: d.mean(["x", "y"], by="g"),
    "total": lambda d: d.total("x"),
    "ratio": lambda d: d.ratio("y", "x", by="g"),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_large_values_run_the_squares_again(name):
    mem, lazy, calls = designs(frame(2e6))
    want, got = CALLS[name](mem).deff.to_numpy(), CALLS[name](lazy).deff.to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-7)
    assert sum("GROUP BY" in c for c in calls) == 2  # the sums, then the shifted squares


@pytest.mark.parametrize("name", list(CALLS))
def test_ordinary_values_take_one_query(name):
    mem, lazy, calls = designs(frame(50.0))
    want, got = CALLS[name](mem).deff.to_numpy(), CALLS[name](lazy).deff.to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert sum("GROUP BY" in c for c in calls) == 1
