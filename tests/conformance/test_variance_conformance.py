"""``d.var()`` against R ``svyvar`` (fixtures/variance.json, written by r/variance.R).

Each case's R call is in the fixture (``r_call``); designs are built here as in the R script.
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

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "variance.json").read_text())
RTOL = 1e-8


@cache
def load(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / name)


@cache
def design(name: str):
    """The designs of r/variance.R."""
    if name == "dstrat":
        return sl.SurveyDesign(load("apistrat.csv"), strata="stype", weights="pw", fpc="fpc")
    if name == "dclus1":
        return sl.SurveyDesign(load("apiclus1.csv"), psu="dnum", weights="pw", fpc="fpc")
    if name == "dclus2":
        return sl.SurveyDesign(load("apiclus2.csv"), psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        if name == "rstrat":  # as.svrepdesign(dstrat, type="JKn")
            return design("dstrat").to_replicates("jkn")
        if name == "rclus1":  # as.svrepdesign(dclus1, type="JK1")
            return design("dclus1").to_replicates("jk1")
    raise KeyError(name)


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["id"] for c in FIXTURE["cases"]])
def test_var_equals_r_svyvar(case):
    d = design(case["design"])
    if case["subset"]:
        col, value = case["subset"].split(" == ")  # e.g. sch.wide == 'Yes'
        d = d.subset((d.data[col] == value.strip("'")).to_numpy())
    res = d.var(case["variable"], by=case["by"]).to_frame()
    expected = pd.DataFrame(case["rows"])
    if case["by"]:
        res = res.set_index(res[case["by"]].astype(str)).loc[expected["domain"]]
    np.testing.assert_allclose(res["estimate"].to_numpy(), expected["estimate"], rtol=RTOL)
    np.testing.assert_allclose(res["se"].to_numpy(), expected["se"], rtol=RTOL)


def test_var_of_equal_weights_is_the_sample_variance():
    """Closed form: with equal weights the estimate is numpy's ddof=1 variance, per domain."""
    df = load("apistrat.csv")
    d = sl.SurveyDesign(df.assign(one=1.0), strata="stype", weights="one")
    res = d.var("api00", by="stype").to_frame().set_index("stype")
    expected = df.groupby("stype")["api00"].var(ddof=1)
    np.testing.assert_allclose(res["estimate"], expected.loc[res.index], rtol=1e-12)


def test_var_of_a_constant_is_zero_and_a_lone_row_is_nan():
    df = pd.DataFrame({"h": [1, 1, 2, 2, 2], "y": [3.0, 3.0, 3.0, 3.0, 3.0],
                       "g": ["a", "a", "a", "a", "b"], "w": [1.0, 2.0, 1.0, 1.0, 1.0]})
    res = sl.SurveyDesign(df, strata="h", weights="w").var("y", by="g").to_frame()
    assert res["estimate"].iloc[0] == 0.0
    assert np.isnan(res["estimate"].iloc[1])  # n = 1: n/(n-1) is undefined
