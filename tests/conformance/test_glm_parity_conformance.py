"""Survey GLM parity with R svyglm (fixtures/glm_parity.json, written by r/glm_parity.R):
weights rescaled over every row of the design, deviance, ``summary.svyglm``'s dispersion,
``regTermTest(method="LRT")``, ``anova(m0, m1)``, ``AIC.svyglm`` and ``BIC.svyglm``.

Each case records its R call (``r_call``); the designs are built here as in the R script.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.inference import modeltests

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "glm_parity.json").read_text())
CASES = FIXTURE["cases"]
RTOL = 1e-8
P_RTOL = 1e-6  # saddlepoint tails: R solves the saddlepoint equation to uniroot's tol=1e-8


@cache
def design(name: str):
    if name in ("dstrat", "dsub"):
        d = sl.SurveyDesign(pd.read_csv(HERE / "data" / "apistrat.csv"), strata="stype",
                            weights="pw", fpc="fpc")
        return d if name == "dstrat" else d.subset((d.data["awards"] == "Yes").to_numpy())
    if name == "dclus1":
        return sl.SurveyDesign(pd.read_csv(HERE / "data" / "apiclus1.csv"), psu="dnum",
                               weights="pw", fpc="fpc")
    raise KeyError(name)


def py_formula(f: str) -> str:
    return re.sub(r"\b(acs\.46|avg\.ed)\b", r'Q("\1")', f)


def patsy_name(r_name: str) -> str:
    if r_name == "(Intercept)":
        return "Intercept"
    m = re.fullmatch(r"stype(.)", r_name)
    return f"stype[T.{m.group(1)}]" if m else py_formula(r_name)


@cache
def fits(case_id: str):
    case = next(c for c in CASES if c["id"] == case_id)
    family = re.sub(r"^quasi|\(\)$", "", case["family"])
    d = design(case["design"])
    return (d.glm(py_formula(case["formula"]), family=family),
            d.glm(py_formula(case["small_formula"]), family=family))


@pytest.fixture(params=CASES, ids=[c["id"] for c in CASES])
def case(request):
    return request.param


def test_fit_deviance_and_naive_cov(case):
    """Coefficients, SEs, deviance (weights over their mean on all rows, before missing rows
    are dropped), null deviance and R's naive.cov."""
    fit, _ = fits(case["id"])
    order = [patsy_name(n) for n in case["names"]]
    f = fit.to_frame().set_index("term").loc[order]
    np.testing.assert_allclose(f["estimate"], case["coef"], rtol=RTOL)
    np.testing.assert_allclose(f["se"], case["se"], rtol=RTOL)
    assert fit.n == case["n"] and fit.df == case["df_residual"]
    np.testing.assert_allclose(fit.deviance, case["deviance"], rtol=RTOL)
    np.testing.assert_allclose(fit.null_deviance, case["null_deviance"], rtol=RTOL)
    pos = [fit.terms.index(t) for t in order]
    np.testing.assert_allclose(fit.naive_cov[np.ix_(pos, pos)], case["naive_cov"], rtol=RTOL)


def test_dispersion_is_summary_svyglm(case):
    """summary(m)$dispersion = svyvar(resid(m, "pearson"), m$survey.design): value and SE."""
    disp = fits(case["id"])[0].dispersion()
    np.testing.assert_allclose(disp.estimate.iloc[0], case["dispersion"], rtol=RTOL)
    np.testing.assert_allclose(disp.se.iloc[0], case["dispersion_se"], rtol=RTOL)


def test_lrt_is_regtermtest_lrt(case):
    fit, _ = fits(case["id"])
    r = modeltests.lrt(fit, case["term"])
    e = case["lrt"]
    np.testing.assert_allclose(r.statistic, e["chisq"], rtol=RTOL)
    np.testing.assert_allclose(sorted(r.eigenvalues), sorted(e["lambda"]), rtol=RTOL)
    assert (r.df_num, r.df_denom) == (e["df"], e["ddf"])
    np.testing.assert_allclose(r.p_value, e["p"], rtol=P_RTOL)
    r_inf = modeltests.lrt(fit, case["term"], df=float("inf"))
    np.testing.assert_allclose(r_inf.p_value, e["p_inf"], rtol=P_RTOL)
    assert r_inf.statistic == r.statistic and np.isinf(r_inf.df_denom)


def test_anova_of_nested_models(case):
    fit, small = fits(case["id"])
    e = case["anova"]
    r = modeltests.anova(small, fit)
    np.testing.assert_allclose(r.statistic, e["chisq"], rtol=RTOL)
    np.testing.assert_allclose(r.p_value, e["p"], rtol=P_RTOL)
    assert r.df_denom == e["ddf"]
    rc = modeltests.anova(fit, small, test="Chisq")  # either order, as R
    np.testing.assert_allclose(rc.p_value, e["p_chisq"], rtol=P_RTOL)


def test_aic_and_bic(case):
    fit, small = fits(case["id"])
    a = modeltests.aic(fit)
    for key, r_key in [("eff_p", "eff_p"), ("AIC", "AIC"), ("deltabar", "deltabar")]:
        np.testing.assert_allclose(a[key], case["aic"][r_key], rtol=RTOL, err_msg=key)
    b = modeltests.bic(small, fit)
    for key in ("p", "BIC", "neff"):
        np.testing.assert_allclose(b[key], case["bic"][key], rtol=RTOL, err_msg=key)
    b_self = modeltests.bic(fit, fit)
    np.testing.assert_allclose(b_self["BIC"], case["bic_self"]["BIC"], rtol=RTOL)
    assert np.isnan(b_self["neff"])
