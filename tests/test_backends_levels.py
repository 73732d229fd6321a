"""Levels of a categorical over an engine are chosen as in memory: those of the design's rows
by default (R after ``droplevels``), those of every row with ``drop_empty=False`` (R on a
factor with an unused level: share 0, SE 0).  R: ``svymean(~stype, subset(dclus1, stype !=
"E"))`` lists E with 0 (0), as ``drop_empty=False`` does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import LazySurveyDesign  # noqa: E402

DATA = Path(__file__).parent / "conformance" / "data" / "apiclus1.csv"


@pytest.fixture(scope="module")
def designs():
    df = pd.read_csv(DATA)
    con = duckdb.connect()
    con.register("apiclus1", df)
    lazy = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw", fpc="fpc")
    mem = sl.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc")
    return (mem.subset(df["stype"] != "E"), lazy.subset("stype <> 'E'"))


@pytest.mark.parametrize("drop_empty", [True, False])
@pytest.mark.parametrize("call", ["proportion", "total"])
def test_levels_of_a_subset_as_in_memory(designs, call, drop_empty):
    mem, lazy = designs
    want = getattr(mem, call)("stype", drop_empty=drop_empty).to_frame()
    got = getattr(lazy, call)("stype", drop_empty=drop_empty).to_frame()
    assert list(got["level"]) == list(want["level"]) == (["H", "M"] if drop_empty
                                                         else ["E", "H", "M"])
    for col in ("estimate", "se"):
        np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float),
                                   rtol=1e-10, atol=1e-12)
    if not drop_empty:
        assert got["estimate"].iloc[0] == 0 and got["se"].iloc[0] == 0
