"""by_domains (R svyby with any FUN) against R: R svyby(~api00, ~stype, d, svyvar) numbers of
fixtures/variance.json (r/variance.R) and R svyby(..., svyglm) equivalents by construction."""

from __future__ import annotations

import doctest
import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.estimators import byany, scales, standardize

HERE = Path(__file__).parent


@cache
def design(name: str):
    """The designs of r/variance.R."""
    if name == "dstrat":
        return sl.SurveyDesign(pd.read_csv(HERE / "data" / "apistrat.csv"), strata="stype",
                               weights="pw", fpc="fpc")
    if name == "dclus1":
        return sl.SurveyDesign(pd.read_csv(HERE / "data" / "apiclus1.csv"), psu="dnum",
                               weights="pw", fpc="fpc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        if name == "rstrat":  # as.svrepdesign(dstrat, type="JKn")
            return design("dstrat").to_replicates("jkn")
        return design("dclus1").to_replicates("jk1")  # rclus1: as.svrepdesign(dclus1, "JK1")

VAR = [c for c in json.loads((HERE / "fixtures" / "variance.json").read_text())["cases"]
       if c["by"]]


@pytest.mark.parametrize("case", VAR, ids=[c["id"] for c in VAR])
def test_by_domains_of_var_is_svyby_svyvar(case):
    """svyby(~api00, ~stype, d, svyvar) on Taylor and replicate designs."""
    res = design(case["design"]).by_domains(case["by"], lambda d: d.var(case["variable"]))
    f = res.to_frame().set_index(case["by"]).loc[[r["domain"] for r in case["rows"]]]
    np.testing.assert_allclose(f["estimate"], [r["estimate"] for r in case["rows"]], rtol=1e-8)
    np.testing.assert_allclose(f["se"], [r["se"] for r in case["rows"]], rtol=1e-8)
    assert list(res.to_frame().columns[-5:]) == byany.BY_FRAME_COLUMNS


@pytest.mark.parametrize("name", ["dclus1", "rclus1"])
def test_by_domains_agrees_with_the_built_in_by(name):
    """Quantiles and means: the stacked domain results equal the estimators' own by=; the
    within-domain covariance of two quantiles is kept."""
    d = design(name)
    own = d.quantile("api00", [0.25, 0.75], by="stype").to_frame()
    res = d.by_domains("stype", lambda s: s.quantile("api00", [0.25, 0.75]))
    np.testing.assert_allclose(res.to_frame()["estimate"], own["estimate"], rtol=1e-12)
    np.testing.assert_allclose(res.to_frame()["se"], own["se"], rtol=1e-10)
    # a Taylor GLM's intercept is the domain mean; on replicate designs surveylib's GLM SEs
    # are linearised, so compare the mean itself there
    fn = (lambda s: s.glm("api00 ~ 1")) if name == "dclus1" else (lambda s: s.mean("api00"))
    m = d.by_domains(["stype", "sch.wide"], fn)
    own = d.mean("api00", by=["stype", "sch.wide"]).to_frame()
    np.testing.assert_allclose(m.to_frame()["estimate"], own["estimate"], rtol=1e-10)
    np.testing.assert_allclose(m.to_frame()["se"], own["se"], rtol=1e-8)


def test_by_domains_rejects_a_non_result():
    with pytest.raises(Exception, match="lacks"):
        design("dstrat").by_domains("stype", lambda d: 1.0)


@pytest.mark.parametrize("module", [byany, scales, standardize])
def test_docstring_examples(module):
    res = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
