"""Rank tests, Cronbach's alpha and direct standardisation against R survey
(fixtures/sociology.json, written by r/sociology.R; each case records its R call).
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.results import TestResult, TTestResult

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "sociology.json").read_text())
RTOL = 1e-8


@cache
def design(name: str):
    """The designs of r/sociology.R."""
    if name == "dstrat":
        return sl.SurveyDesign(pd.read_csv(HERE / "data" / "apistrat.csv"), strata="stype",
                               weights="pw", fpc="fpc")
    if name == "dclus1":
        return sl.SurveyDesign(pd.read_csv(HERE / "data" / "apiclus1.csv"), psu="dnum",
                               weights="pw", fpc="fpc")
    if name in ("dsub", "csub"):
        d = design("dstrat" if name == "dsub" else "dclus1")
        return d.subset((d.data["yr.rnd"] == "No").to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        if name == "rstrat":
            return design("dstrat").to_replicates("jkn")
        if name == "rclus1":
            return design("dclus1").to_replicates("jk1")
    raise KeyError(name)


RANK = FIXTURE["ranktest"]


@pytest.mark.parametrize("case", RANK, ids=[c["id"] for c in RANK])
def test_ranktest_equals_svyranktest(case):
    var, group = (s.strip() for s in case["formula"].split("~"))
    res = design(case["design"]).ranktest(var, group, test=case["test"])
    np.testing.assert_allclose(res.p_value, case["p_value"], rtol=RTOL)
    if case["groups"] == 2:
        assert isinstance(res, TTestResult)
        np.testing.assert_allclose(res.statistic, case["statistic"], rtol=RTOL)
        np.testing.assert_allclose(res.estimate, case["estimate"], rtol=RTOL)
        assert res.df == case["df"]
    else:  # R: parameter = X^2, statistic = ndf; surveylib's statistic is X^2 / ndf
        assert isinstance(res, TestResult)
        np.testing.assert_allclose(res.statistic * res.df_num, case["statistic"], rtol=RTOL)
        assert (res.df_num, res.df_denom) == (case["df"], case["ddf"])


def test_multigroup_ranktest_runs_on_replicate_designs():
    """R's multi-group test fails on replicate designs; here it runs, and its statistic is
    close to the Taylor one (same point estimates, a different variance estimator)."""
    t = design("dclus1").ranktest("ell", "stype")
    r = design("rclus1").ranktest("ell", "stype")
    assert r.df_num == t.df_num == 2 and abs(r.statistic / t.statistic - 1) < 0.5


def test_ranktest_bad_input():
    d = design("dstrat")
    with pytest.raises(sl.SurveyDesignError, match="test"):
        d.ranktest("api00", "comp.imp", test="sign")
    with pytest.raises(sl.SurveyDesignError, match="at least two"):
        d.subset((d.data["stype"] == "E").to_numpy()).ranktest("api00", "stype")


ALPHA = FIXTURE["cralpha"]


@pytest.mark.parametrize("case", ALPHA, ids=[c["id"] for c in ALPHA])
def test_cralpha_equals_svycralpha(case):
    """Estimate as R svycralpha; SE as R's delta method (svycontrast) or withReplicates."""
    res = design(case["design"]).cralpha(case["items"])
    np.testing.assert_allclose(res.estimate.iloc[0], case["estimate"], rtol=RTOL)
    np.testing.assert_allclose(res.se.iloc[0], case["se"], rtol=RTOL)


def test_cralpha_domains_equal_subsets():
    """by= gives each domain the subset design's alpha and SE (R: svycralpha on a subset)."""
    sub = next(c for c in ALPHA if c["id"] == "dsub")
    res = design("dstrat").cralpha(sub["items"], by="yr.rnd").to_frame().set_index("yr.rnd")
    np.testing.assert_allclose(res.loc["No", "estimate"], sub["estimate"], rtol=RTOL)
    np.testing.assert_allclose(res.loc["No", "se"], sub["se"], rtol=RTOL)


def test_cralpha_closed_forms():
    df = pd.DataFrame({"a": [1.0, 2, 3, 5], "b": [2.0, 1, 4, 3], "w": [1.0, 2, 1, 3]})
    d = sl.SurveyDesign(df, weights="w")
    w = df["w"].to_numpy()

    def v(y):
        m = np.average(y, weights=w)
        return np.average((y - m) ** 2, weights=w)

    expected = 2 * (1 - (v(df["a"]) + v(df["b"])) / v(df["a"] + df["b"]))
    assert d.cralpha(["a", "b"]).estimate.iloc[0] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(sl.SurveyDesignError, match="at least two items"):
        d.cralpha(["a"])


STD = FIXTURE["standardize"]


@pytest.mark.parametrize("case", STD, ids=[c["id"] for c in STD])
def test_standardize_equals_svystandardize(case):
    s = design(case["design"]).standardize(case["by"], case["population"], over=case["over"])
    res = s.mean("api00", by=case["over"]).to_frame()
    res = res.set_index(res[case["over"]].astype(str)).loc[case["domains"]]
    np.testing.assert_allclose(res["estimate"], case["estimate"], rtol=RTOL)
    np.testing.assert_allclose(res["se"], case["se"], rtol=RTOL)


def test_standardized_domains_have_the_standard_structure():
    s = design("dclus1").standardize("stype", {"E": 7, "H": 1, "M": 2}, over="sch.wide")
    shares = s.proportion("stype", by="sch.wide").to_frame()
    np.testing.assert_allclose(shares["estimate"], [0.7, 0.1, 0.2] * 2, rtol=1e-12)
    with pytest.raises(sl.SurveyDesignError, match="no count"):
        design("dclus1").standardize("stype", {"E": 7, "H": 1}, over="sch.wide")
