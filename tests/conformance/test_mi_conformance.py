"""surveylib.mi against R mitools MIcombine over survey designs (fixtures/mi.json, written by
r/mi.R; each case records its R call)."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib import mi

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "mi.json").read_text())
RTOL = 1e-8


@cache
def designs(name: str) -> list:
    if name == "dstrat":
        df = pd.read_csv(HERE / "data" / "mi_apistrat.csv")
        return [sl.SurveyDesign(g.reset_index(drop=True), strata="stype", weights="pw", fpc="fpc")
                for _, g in df.groupby("imp")]
    df = pd.read_csv(HERE / "data" / "mi_apiclus1.csv")
    ds = [sl.SurveyDesign(g.reset_index(drop=True), psu="dnum", weights="pw", fpc="fpc")
          for _, g in df.groupby("imp")]
    if name == "dclus1":
        return ds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        return [d.to_replicates("jk1") for d in ds]  # as.svrepdesign(d, type="JK1")


ANALYSES = {
    "strat_mean": lambda d: d.mean("acs.46"),
    "strat_by_awards": lambda d: d.mean("acs.46", by="awards"),
    "strat_glm": lambda d: d.glm('Q("acs.46") ~ ell + meals'),
    "clus1_mean": lambda d: d.mean("avg.ed"),
    "rclus1_mean": lambda d: d.mean("avg.ed"),
}


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["id"] for c in FIXTURE["cases"]])
def test_mi_combine_equals_micombine(case):
    res = mi.mi_combine(mi.with_designs(designs(case["design"]), ANALYSES[case["id"]]))
    np.testing.assert_allclose(res.values, case["coef"], rtol=RTOL)
    np.testing.assert_allclose(res.vcov_matrix, case["vcov"], rtol=RTOL)
    np.testing.assert_allclose(res.dfs, case["df"], rtol=RTOL)
    np.testing.assert_allclose(res.missinfo, case["missinfo"], rtol=RTOL)
    f = res.to_frame()
    assert list(f.columns[-6:]) == mi.MI_FRAME_COLUMNS
    assert "Rubin" in res.summary() and "<table" in res._repr_html_()


def test_barnard_rubin_df_and_closed_forms():
    """Identical imputations: B = 0, so the pooled result is the single one; the
    small-sample df is then the complete-data df corrected as Barnard & Rubin (1999)."""
    d = designs("dstrat")[0]
    r = mi.mi_combine([d.mean("ell"), d.mean("ell")], df_complete=100)
    e = d.mean("ell")
    np.testing.assert_allclose(r.vcov_matrix, e.vcov_matrix, rtol=1e-14)
    assert r.dfs[0] == pytest.approx(101 / 103 * 100, rel=1e-12)
    with pytest.raises(sl.SurveyDesignError, match="at least two"):
        mi.mi_combine([e])
    with pytest.raises(sl.SurveyDesignError, match="other estimates"):
        mi.mi_combine([e, d.mean("meals")])
