"""surveylib.models.glm against R survey 4.1.1 svyglm, plus identities and bad input.

Expected numbers: ``tests/conformance/fixtures/inference.json`` (section ``glm``), written by
``tests/conformance/r/inference.R``; each case records its R call (glm.control epsilon=1e-12,
so both sides are converged far below the 1e-8 relative tolerance used here).
"""

from __future__ import annotations

import doctest
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib import models

HERE = Path(__file__).parent / "conformance"
FIX = json.loads((HERE / "fixtures" / "inference.json").read_text())
RTOL = 1e-8


def build(design_id: str) -> sl.SurveyDesign:
    s = FIX["designs"][design_id]
    return sl.SurveyDesign(pd.read_csv(HERE / "data" / s["data"]), strata=s["strata"],
                           psu=s["psu"], weights=s["weights"], fpc=s["fpc"], nest=s["nest"])


def patsy_name(r_name: str) -> str:
    """R's coefficient names -> patsy's ('stypeH' -> 'stype[T.H]')."""
    if r_name == "(Intercept)":
        return "Intercept"
    m = re.fullmatch(r"(stype|region|sex)(.+)", r_name)
    return f"{m.group(1)}[T.{m.group(2)}]" if m else r_name


@pytest.mark.parametrize("case", FIX["glm"], ids=[c["id"] for c in FIX["glm"]])
def test_svyglm(case):
    """Coefficients, sandwich covariance, t tests, intervals and df equal R svyglm."""
    fit = build(case["design"]).glm(case["formula"], family=case["family"])
    order = [patsy_name(n) for n in case["names"]]
    assert sorted(order) == sorted(fit.terms)
    f = fit.to_frame().set_index("term").loc[order]
    for col, key in [("estimate", "coef"), ("se", "se"), ("t", "t"), ("p_value", "p_value"),
                     ("ci_low", "ci_low"), ("ci_high", "ci_high")]:
        np.testing.assert_allclose(f[col].to_numpy(), case[key], rtol=RTOL, err_msg=col)
    V = fit.vcov.loc[order, order].to_numpy()
    exp = np.asarray(case["vcov"])
    np.testing.assert_allclose(V, exp, rtol=RTOL, atol=1e-14 * np.abs(exp).max())
    assert fit.df == case["df"]
    assert list(fit.to_frame().columns) == models.FRAME_COLUMNS


def test_two_group_regression_equals_ttest_and_domain_means():
    """svyglm(y ~ g) slope = difference of domain means, with the same SE (R tests/domain.R)."""
    d = build("dstrat")
    fit = d.glm("api00 ~ Q('sch.wide')")
    t = d.ttest("api00", by="sch.wide")
    assert fit.values[1] == pytest.approx(t.estimate, rel=1e-12)
    assert fit.se.iloc[1] == pytest.approx(t.se, rel=1e-10)
    assert fit.df == t.df
    m = d.mean("api00", by="sch.wide")
    assert fit.values[0] == pytest.approx(m.values[0], rel=1e-12)
    assert fit.se.iloc[0] == pytest.approx(m.se.iloc[0], rel=1e-10)


def test_missing_rows_are_dropped_and_design_kept():
    d = build("dclus1")
    data = d.data
    data["meals_na"] = data["meals"].where(np.arange(len(data)) % 9 != 0)
    dn = sl.SurveyDesign(data, psu="dnum", weights="pw", fpc="fpc")
    a = dn.glm("api00 ~ ell + meals_na")
    b = dn.subset(data["meals_na"].notna()).glm("api00 ~ ell + meals_na")
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12)
    np.testing.assert_allclose(a.vcov_matrix, b.vcov_matrix, rtol=1e-10)
    assert a.n == int(data["meals_na"].notna().sum())


def test_weight_scale_and_row_order_invariance():
    d = build("dstrat")
    data = d.data
    base = d.glm("dom_yes ~ ell + meals", family="binomial")
    data["pw3"] = data["pw"] * 3
    scaled = sl.SurveyDesign(data, strata="stype", weights="pw3", fpc="fpc").glm(
        "dom_yes ~ ell + meals", family="binomial")
    perm = data.sample(frac=1.0, random_state=np.random.default_rng(7))
    permuted = sl.SurveyDesign(perm, strata="stype", weights="pw", fpc="fpc").glm(
        "dom_yes ~ ell + meals", family="binomial")
    for other in (scaled, permuted):
        np.testing.assert_allclose(other.values, base.values, rtol=1e-10)
        np.testing.assert_allclose(other.vcov_matrix, base.vcov_matrix, rtol=1e-8)


def test_bad_input_is_a_clear_error():
    d = build("dstrat")
    with pytest.raises(sl.SurveyDesignError, match="collinear"):
        d.glm("api00 ~ ell + I(2 * ell)")
    with pytest.raises(sl.SurveyDesignError, match="response in \\[0, 1\\]"):
        d.glm("api00 ~ ell", family="binomial")
    with pytest.raises(sl.SurveyDesignError, match="expands to 3 columns"):
        d.glm("stype ~ ell")
    with pytest.raises(sl.SurveyDesignError, match="Q\\(\"name\"\\)"):
        d.glm("api00 ~ sch.wide")
    with pytest.raises(sl.SurveyDesignError, match="family='probit'"):
        d.glm("api00 ~ ell", family="probit")


def test_non_convergence_warns():
    d = build("dstrat")
    with pytest.warns(sl.ConvergenceWarning, match="did not converge in 1 iterations"):
        d.glm("dom_yes ~ ell + meals", family="binomial", max_iter=1)


def test_input_unchanged_summary_and_docstring():
    d = build("dclus1")
    before = d.data.copy()
    fit = d.glm("emer ~ ell + meals", family="poisson")
    pd.testing.assert_frame_equal(d.data, before)
    text = fit.summary()
    assert "family poisson (link log)" in text and "12 df" in text and "PSUs" in text
    ci = fit.ci(0.9)
    assert (ci["ci_low"] < fit.values).all() and (ci["ci_high"] > fit.values).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = doctest.testmod(models)
    assert res.attempted >= 3 and res.failed == 0


def test_model_results_print_their_summary():
    """GLM and ordinal results print (str and repr) as their summary table, not a dataclass dump."""
    import surveylib as sl

    data = Path(__file__).parent / "conformance" / "data"
    df = pd.read_csv(data / "apiclus1.csv")
    df["band"] = np.digitize(df["api00"], [600, 700, 800]) + 1  # ordered codes 1..4
    d = sl.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc")
    for res in (d.glm("api00 ~ ell"), d.olr("band ~ ell")):
        assert repr(res) == str(res) == res.summary()
        assert "Design-based sandwich SEs" in repr(res)


# ----- Wald tests of model terms (R regTermTest) ------------------------------------------------
MODELS = json.loads((HERE / "fixtures" / "models.json").read_text())


def fit_model(model_id: str):
    """The fixture's model; R's term names are used as written (``avg.ed``, not ``Q(...)``)."""
    m = MODELS["models"][model_id]
    s = MODELS["designs"][m["design"]]
    df = pd.read_csv(HERE / "data" / s["data"])
    df["mealcat"] = pd.cut(df["meals"], [0, 25, 50, 75, 100])  # R cut(meals, c(0,25,50,75,100))
    d = sl.SurveyDesign(df, strata=s["strata"], psu=s["psu"], weights=s["weights"],
                        fpc=s["fpc"], nest=s["nest"])
    formula = m["formula"].replace("avg.ed", 'Q("avg.ed")')
    if m["kind"] == "olr":
        return d.olr(formula)
    return d.glm(formula, family=m["family"])


@pytest.mark.parametrize("case", MODELS["regtermtest"], ids=[c["id"] for c in MODELS["regtermtest"]])
def test_wald_of_model_terms_is_regtermtest(case):
    """wald(fit, terms) equals R regTermTest(fit, terms, method="Wald"): the F form with the
    model's residual df, and the chi-square form (R df=Inf); 1e-8 relative for GLMs, 1e-6 for
    the ordinal model (the optimiser tolerance of tests/test_ordinal.py)."""
    from surveylib.inference import contrast, wald

    fit = fit_model(case["model"])
    rtol = 1e-6 if isinstance(fit, sl.OLRResult) else RTOL
    tested = contrast(fit, case["terms"]).names
    assert tested == [re.sub(r"^stype(\w)$", r"stype[T.\1]", n).replace("avg.ed", 'Q("avg.ed")')
                      for n in case["coef_names"]]
    f = wald(fit, case["terms"], rhs=case["null"])
    c = wald(fit, case["terms"], rhs=case["null"], form="chisq")
    np.testing.assert_allclose(f.statistic, case["Ftest"], rtol=rtol)
    np.testing.assert_allclose(f.p_value, case["p"], rtol=rtol)
    assert (f.df_num, f.df_denom) == (case["df"], case["ddf"])
    np.testing.assert_allclose(c.statistic, case["chisq"], rtol=rtol)
    np.testing.assert_allclose(c.p_value, case["chisq_p"], rtol=rtol)
    assert np.isinf(c.df_denom)


def test_wald_on_a_model_accepts_every_contrast_form():
    """Terms, coefficient names, a dict and a matrix name the same hypothesis on a GLM."""
    from surveylib.inference import wald

    fit = fit_model("strat_gaussian")
    by_term = wald(fit, "stype")
    by_names = wald(fit, ["stype[T.H]", "stype[T.M]"])
    L = np.zeros((2, len(fit.terms)))
    L[0, fit.terms.index("stype[T.H]")] = L[1, fit.terms.index("stype[T.M]")] = 1
    by_matrix = wald(fit, L)
    by_dict = wald(fit, {"H": {"stype[T.H]": 1}, "M": {"stype[T.M]": 1}})
    for other in (by_names, by_matrix, by_dict):
        assert other.statistic == pytest.approx(by_term.statistic, rel=1e-12)
    assert "stype[T.H]" in by_term.null and by_term.inference == fit.inference
    with pytest.raises(sl.SurveyDesignError, match="'region' is neither a term") as err:
        wald(fit, "region")
    assert err.value.parameter == "terms" and "stype" in err.value.expected


GLM_CASE = {c["id"]: c for c in FIX["glm"]}["strat_binomial"]


@pytest.mark.parametrize("variant", ["string", "categorical", "categorical_reordered", "C()"])
def test_factor_codings_give_r_svyglm(variant):
    """The model matrix is coded from integer codes of the factor (not patsy's row-by-row
    coding): a string column, a pandas Categorical (whatever its category order, patsy's
    reference level is its first category) and C(stype) all give R's svyglm numbers, and
    the matrix equals patsy.dmatrices' to the last bit."""
    import patsy
    d = build(GLM_CASE["design"])
    data = d.data
    formula = GLM_CASE["formula"]
    if variant == "categorical":
        data["stype"] = pd.Categorical(data["stype"], categories=["E", "H", "M"])
    elif variant == "categorical_reordered":
        data["stype"] = pd.Categorical(data["stype"], categories=["H", "E", "M"])
    elif variant == "C()":
        formula = formula.replace("stype", "C(stype)")
    d2 = sl.SurveyDesign(data, strata="stype", weights="pw", fpc="fpc")
    y, X, terms, pos = models._design_matrices(d2, formula)
    frame = data.assign(**{c: data[c].astype(object) for c in data.columns
                           if pd.api.types.is_string_dtype(data[c])
                           and not isinstance(data[c].dtype, pd.CategoricalDtype)})
    py, pX = patsy.dmatrices(formula, frame, NA_action="drop", return_type="dataframe")
    assert X.tobytes() == pX.to_numpy(dtype=float).tobytes()
    assert [c for cols in terms.values() for c in cols] == list(pX.columns)
    if variant == "categorical_reordered":  # reference level H: a reparametrisation
        return
    fit = d2.glm(formula, family=GLM_CASE["family"])
    order = [patsy_name(n).replace("stype[", "C(stype)[") if variant == "C()"
             else patsy_name(n) for n in GLM_CASE["names"]]
    f = fit.to_frame().set_index("term").loc[order]
    np.testing.assert_allclose(f["estimate"].to_numpy(), GLM_CASE["coef"], rtol=RTOL)
    np.testing.assert_allclose(f["se"].to_numpy(), GLM_CASE["se"], rtol=RTOL)


def test_factor_with_missing_values_and_an_unused_level():
    """Rows with a missing factor value are dropped as patsy drops them (the same fit as on
    the subset without them); an unused category of a Categorical is an all-zero column,
    hence the collinearity error (as with patsy's coding)."""
    d = build("dclus1")
    data = d.data
    data["stype_na"] = data["stype"].where(np.arange(len(data)) % 7 != 0)
    dn = sl.SurveyDesign(data, psu="dnum", weights="pw", fpc="fpc")
    a = dn.glm("api00 ~ ell + stype_na")
    b = dn.subset(data["stype_na"].notna()).glm("api00 ~ ell + stype_na")
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12)
    np.testing.assert_allclose(a.vcov_matrix, b.vcov_matrix, rtol=1e-10)
    assert a.n == int(data["stype_na"].notna().sum())
    data["stype_cat"] = pd.Categorical(data["stype"], categories=["E", "H", "M", "X"])
    du = sl.SurveyDesign(data, psu="dnum", weights="pw", fpc="fpc")
    with pytest.raises(sl.SurveyDesignError, match="collinear"):
        du.glm("api00 ~ ell + stype_cat")


def test_logical_response_is_one_for_true_as_in_r():
    """``I(x == "Yes")`` as the response: patsy codes a logical as two indicator columns; R's
    glm takes TRUE as 1, so the fit equals the fit of the 0/1 variable."""
    df = pd.read_csv(Path(__file__).parent / "conformance" / "data" / "apistrat.csv")
    df["yes"] = (df["sch.wide"] == "Yes") * 1.0
    d = sl.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")
    a = d.glm("I(Q('sch.wide') == 'Yes') ~ ell", family="binomial")
    b = d.glm("yes ~ ell", family="binomial")
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.vcov_matrix, b.vcov_matrix)
