"""Bad and awkward input to the design, the estimators and the results (issue 11).

Each test is a class of defect that once gave a silently wrong answer or a crash; several
cases each.  Expected values come from pandas/numpy closed forms or R's behaviour as stated.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.errors import LonelyPSUError, ReplicateError, SurveyDesignError
from surveylib.replicate import ReplicateDesign

DATA = Path(__file__).parent / "conformance" / "data"


def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "apistrat.csv")


def strat(df=None):
    return sl.SurveyDesign(apistrat() if df is None else df, strata="stype", weights="pw",
                           fpc="fpc")


# ----- subsets align on the index ---------------------------------------------------------------
def test_subset_mask_series_is_aligned_on_the_index():
    df = apistrat()
    d = strat(df)
    direct = d.subset((df["api00"] > 700).to_numpy()).mean("api00")
    shuffled = df.sample(frac=1.0, random_state=3)          # same labels, another order
    aligned = d.subset(shuffled["api00"] > 700).mean("api00")
    np.testing.assert_allclose(aligned.estimate, direct.estimate, rtol=0)
    np.testing.assert_allclose(aligned.se, direct.se, rtol=0)
    expected = np.average(df.loc[df["api00"] > 700, "api00"],
                          weights=df.loc[df["api00"] > 700, "pw"])
    assert float(aligned.estimate.iloc[0]) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("mask", [
    lambda df: (df["api00"] > 700).reset_index(drop=True).set_axis(range(1, len(df) + 1)),
    lambda df: pd.concat([df["api00"] > 700, df["api00"].head(1) > 0]),
    lambda df: (df["api00"] > 700).head(10),
])
def test_subset_mask_with_other_labels_is_refused(mask):
    df = apistrat()
    with pytest.raises(SurveyDesignError, match="index does not match") as info:
        strat(df).subset(mask(df))
    assert info.value.parameter == "mask"


# ----- a design with one PSU --------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["adjust", "average", "remove", "certainty", "fail"])
def test_a_design_with_one_psu_is_refused(rule):
    df = pd.DataFrame({"c": [1, 1, 1], "y": [1.0, 2.0, 4.0], "w": [2.0, 2.0, 2.0]})
    with pytest.raises(LonelyPSUError, match="one PSU \\(column 'c'\\)"):
        sl.SurveyDesign(df, psu="c", weights="w", lonely_psu=rule)
    with pytest.raises(LonelyPSUError, match="one row"):
        sl.SurveyDesign(df.head(1), weights="w", lonely_psu=rule)


def test_one_certainty_psu_has_variance_zero():
    """A single PSU sampled with certainty (fpc: all units) is a census: SE 0, as R."""
    df = pd.DataFrame({"c": [1, 1, 1], "y": [1.0, 2.0, 4.0], "w": [1.0, 1.0, 1.0],
                       "f": [1.0, 1.0, 1.0]})
    r = sl.SurveyDesign(df, psu="c", weights="w", fpc="f").mean("y")
    assert float(r.se.iloc[0]) == 0.0


def test_lonely_message_names_the_stratum_column_and_stratum():
    df = pd.DataFrame({"h": [1, 1, 2], "c": [1, 2, 3], "y": [1.0, 2.0, 3.0], "w": 1.0})
    with pytest.raises(LonelyPSUError, match="stratum 'h' have only one PSU: \\['2'\\]"):
        sl.SurveyDesign(df, strata="h", psu="c", weights="w")


# ----- values that are not numbers --------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_values_are_refused_naming_the_variable(bad):
    df = apistrat()
    df["api00"] = df["api00"].astype(float)
    df.loc[3, "api00"] = bad
    with pytest.raises(SurveyDesignError, match="'api00' has 1 infinite") as info:
        strat(df).mean("api00", na_rm=True)
    assert info.value.parameter == "api00"


@pytest.mark.parametrize("call", [lambda d: d.mean("e"), lambda d: d.total("e"),
                                  lambda d: d.var("e"), lambda d: d.quantile("e", [0.5])])
def test_an_all_missing_variable_is_refused(call):
    df = apistrat().assign(e=np.nan)
    with pytest.raises(SurveyDesignError, match="no non-missing value"):
        call(strat(df))


@pytest.mark.parametrize("call", [lambda d: d.mean([]), lambda d: d.total([]),
                                  lambda d: d.proportion([]), lambda d: d.var([])])
def test_no_variables_is_refused(call):
    with pytest.raises(SurveyDesignError, match="no variables given"):
        call(strat())


# ----- a zero denominator affects its own domain only (R: Inf there) ----------------------------
def test_zero_denominator_gives_inf_in_that_domain_only():
    df = apistrat()
    df["x"] = np.where(df["stype"] == "H", 0.0, df["enroll"])
    d = strat(df)
    with pytest.warns(sl.SurveyWarning, match="zero in 1 cell.*'api00/x', domain stype='H'"):
        r = d.ratio("api00", "x", by="stype").to_frame().set_index("stype")
    assert np.isposinf(r.loc["H", "estimate"])
    for s in ("E", "M"):  # the other domains equal the ratio computed without the bad one
        sub = df[df["stype"] == s]
        assert r.loc[s, "estimate"] == pytest.approx(
            (sub["pw"] * sub["api00"]).sum() / (sub["pw"] * sub["x"]).sum(), rel=1e-12)
    assert np.isfinite(r.loc[["E", "M"], "se"]).all()


# ----- user-given degrees of freedom ------------------------------------------------------------
@pytest.mark.parametrize("df_", [-5, 0, float("nan"), "many"])
def test_ci_with_impossible_df_is_refused(df_):
    r = strat().mean("api00")
    with pytest.raises(SurveyDesignError, match="positive number of degrees of freedom"):
        r.ci(df=df_)
    assert np.isfinite(r.ci(df=float("inf")).to_numpy()).all()


# ----- column names -----------------------------------------------------------------------------
def test_duplicated_column_names_are_refused():
    df = apistrat()
    df = pd.concat([df, df[["api00"]]], axis=1)
    with pytest.raises(SurveyDesignError, match="duplicated column names \\['api00'\\]"):
        strat(df)


def test_integer_column_labels_work_and_print():
    df = pd.DataFrame({0: [1, 1, 2, 2], 1: [1.0, 2.0, 3.0, 5.0], 2: [1.0, 2.0, 1.0, 1.0],
                       3: ["a", "b", "a", "b"]})
    d = sl.SurveyDesign(df, strata=0, weights=2)
    assert "2 strata" in d.describe()  # strata=0 is a column, not "no strata"
    r = d.mean(1, by=3)
    assert "estimate" in str(r) and "<table" in r._repr_html_()
    expected = df.groupby(3).apply(lambda g: np.average(g[1], weights=g[2]), include_groups=False)
    np.testing.assert_allclose(r.to_frame()["estimate"], expected.to_numpy(), rtol=1e-12)


# ----- Fay's rho where the weights show it ------------------------------------------------------
def test_fay_rho_that_contradicts_the_weights_is_refused():
    df = pd.read_csv(DATA / "rep_cols_brr.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        ok = ReplicateDesign(df, weights="w", rep_weights="fay*", type="Fay", rho=0.3)
        assert ok.rho == 0.3
        with pytest.raises(ReplicateError, match="rho=0.3") as info:
            ReplicateDesign(df, weights="w", rep_weights="fay*", type="Fay", rho=0.5)
    assert info.value.parameter == "rho"


# ----- a Woodruff limit a rounding error past 1 -------------------------------------------------
def test_woodruff_share_of_one_gives_the_extreme_value_in_by_and_subset_alike():
    """Domain v's median sits on its largest value, so its CDF share is 1 with SE 0.  R 4.1.1:
    ``svyby(~y, ~dom, d, svyquantile, quantiles=0.5, ci=TRUE)`` and
    ``svyquantile(~y, subset(d, dom == "v"), 0.5, ci=TRUE)`` both give 16.616, SE 0 and the
    interval (16.616, 16.616); domain u's interval runs off the data (NaN in R too)."""
    df = pd.DataFrame({
        "st": [1, 1, 1, 1, 1, 1, 1, 2, 2, 2], "psu": [1, 1, 1, 2, 2, 3, 3, 1, 1, 2],
        "w": [4.774016284823779, 0.8925753143791856, 3.9661306528624736, 1.535222382751989,
              4.415259893098173, 3.914883871452214, 0.8596553975443659, 1.0641976441466272,
              1.1024447055235203, 4.952708817670829],
        "y": [12.299, 12.304, 8.954, 14.723, 16.616, 7.082, 12.783, 12.266, 6.459, 5.458],
        "dom": ["u", "v", "u", "v", "v", "u", "v", "u", "u", "u"]})
    d = sl.SurveyDesign(df, strata="st", psu="psu", weights="w", nest=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        by = d.quantile("y", [0.5], by="dom").to_frame().set_index("dom")
        sub = d.subset(df["dom"].eq("v")).quantile("y", [0.5]).to_frame()
    for row in (by.loc["v"], sub.iloc[0]):
        assert row["estimate"] == 16.616 and row["se"] == 0.0
        assert row["ci_low"] == 16.616 and row["ci_high"] == 16.616
    assert np.isnan(by.loc["u", "se"]) and np.isnan(by.loc["u", "ci_high"])
