"""Tests of surveylib.weighting.

Reference numbers come from ``tests/conformance/fixtures/weighting.json``, written by
``tests/conformance/r/weighting.R`` (R survey 4.1.1; run ``Rscript tests/conformance/make_fixtures.R``).
Each case lists the R call of every weighting step; weights, estimates and SEs are compared at
1e-8 relative (SEs that R computes as numerical zero — a total of a calibration variable — at
1e-9 of the estimate).  Raking cases run with R's own convergence rule and tolerance, so the
number of passes is the same as R's.
"""

from __future__ import annotations

import doctest
import json
import math
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coding_cases import CODING_CASES, coded_by_sorting, coding_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from weighting_steps import apply_step, pop_frame

import surveylib as sl
from surveylib import weighting as wt
from surveylib.errors import ConvergenceError, ConvergenceWarning, WeightingError

HERE = Path(__file__).parent / "conformance"
FIXTURES = json.loads((HERE / "fixtures" / "weighting.json").read_text())
RTOL = 1e-8


@cache
def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / name)


def load(name: str) -> pd.DataFrame:
    return _load(name).copy()


def build(name: str) -> sl.SurveyDesign:
    s = FIXTURES["designs"][name]
    return sl.SurveyDesign(load(s["data"]), strata=s["strata"], psu=s["psu"], weights=s["weights"],
                           fpc=s["fpc"], nest=s["nest"])


def run_case(case) -> sl.SurveyDesign:
    d = build(case["design"])
    for step in case["steps"]:
        d = apply_step(d, step)
    return d


CASES = FIXTURES["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_against_r(case):
    """Final weights, estimates and SEs equal R's (see each step's r_call in the fixture)."""
    d = run_case(case)
    np.testing.assert_allclose(d.weights.to_numpy(), case["weights"], rtol=RTOL, atol=0)
    for e in case["estimates"]:
        fn = d.mean if e["estimator"] == "mean" else d.total
        frame = fn(e["variables"], by=e["by"]).to_frame()
        for r in e["rows"]:
            sel = (frame["variable"] == r["variable"]).to_numpy().copy()
            for k, v in r["by"].items():
                sel &= (frame[k].astype(str) == str(v)).to_numpy()
            assert sel.sum() == 1, r
            row = frame[sel].iloc[0]
            assert math.isclose(row["estimate"], r["estimate"], rel_tol=RTOL), (r, row["estimate"])
            assert math.isclose(row["se"], r["se"], rel_tol=RTOL,
                                abs_tol=1e-9 * abs(r["estimate"])), (r, row["se"])


def test_r_infeasible_bounds_is_convergence_error():
    """R: calibrate(..., calfun='raking', bounds=c(0.8,1.4)) fails ("Calibration failed")."""
    case = FIXTURES["errors"][0]
    d = build(case["design"])
    with pytest.raises(ConvergenceError, match="api99|stype|did not converge"):
        apply_step(d, case["steps"][0])
    with pytest.warns(ConvergenceWarning):
        step = dict(case["steps"][0])
        wt.calibrate(d, step["totals"], calfun="raking", bounds=step["bounds"], max_iter=100,
                     tol=1e-12, on_fail="warn")


# ----- cross-method consistency ----------------------------------------------------------------
def _kz_margins():
    case = next(c for c in CASES if c["id"] == "rake_kz")
    return {tuple(p["variables"]): pop_frame(p) for p in case["steps"][0]["margins"]}


def test_rake_equals_calibrate_raking():
    """Raking and calibration with the raking function give the same weights (R's cal_kz_raking
    and rake_kz fixtures agree too)."""
    d = build("dkz")
    margins = _kz_margins()
    r = d.rake(margins, tol=1e-13, max_iter=1000)
    c = d.calibrate(margins, calfun="raking", tol=1e-12)
    np.testing.assert_allclose(r.weights, c.weights, rtol=1e-9)
    rk = next(c for c in CASES if c["id"] == "rake_kz")["weights"]
    cr = next(c for c in CASES if c["id"] == "cal_kz_raking")["weights"]
    np.testing.assert_allclose(rk, cr, rtol=1e-9)


def test_poststratify_equals_calibrate_and_one_margin_rake():
    d = build("dclus1")
    pop = {"E": 4421, "H": 755, "M": 1018}
    ps = d.poststratify("stype", pop)
    cal = d.calibrate({"stype": pop})
    rk = d.rake({"stype": pop})
    np.testing.assert_allclose(ps.weights, cal.weights, rtol=1e-12)
    np.testing.assert_allclose(ps.weights, rk.weights, rtol=1e-12)
    # post-stratification residualises exactly like GREG on the cell dummies
    a, b = ps.mean(["api00", "enroll"]), cal.mean(["api00", "enroll"])
    np.testing.assert_allclose(a.se, b.se, rtol=1e-10)


def test_subset_after_weighting_equals_by():
    d = build("dclus1").calibrate({"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069.0})
    by = d.mean("api00", by="sch.wide").to_frame()
    sub = d.subset(d.data["sch.wide"] == "Yes").mean("api00").to_frame()
    row = by[by["sch.wide"] == "Yes"].iloc[0]
    assert math.isclose(row["se"], sub["se"].iloc[0], rel_tol=1e-10)


def test_counts_codes_labels_and_shares_are_equivalent():
    d = build("dkz")
    m = _kz_margins()
    eth = m[("ethnic",)]
    as_dict = {str(k): v for k, v in zip(eth["ethnic"], eth["count"], strict=True)}
    sexage = m[("sex", "agegrp")]
    # sex codes given as strings (as JSON or CSV would give them)
    as_tuples = {(str(s), a): v for s, a, v in sexage.itertuples(index=False)}
    shares = pd.Series(eth["count"].to_numpy() / eth["count"].sum(),
                       index=pd.Index(eth["ethnic"], name="ethnic"))
    r1 = d.rake(m, tol=1e-12)
    r2 = d.rake({("sex", "agegrp"): as_tuples, "ethnic": as_dict}, tol=1e-12)
    r3 = d.rake({("sex", "agegrp"): sexage, "ethnic": shares}, tol=1e-12)
    np.testing.assert_allclose(r1.weights, r2.weights, rtol=1e-10)
    np.testing.assert_allclose(r1.weights, r3.weights, rtol=1e-10)


def test_shares_are_scaled_to_current_total():
    d = build("dclus1")
    ps = d.poststratify("stype", {"E": 0.5, "H": 0.25, "M": 0.25})
    assert math.isclose(ps.weights.sum(), d.weights.sum(), rel_tol=1e-12)
    assert ps.adjustments[-1].population_type == "share"


# ----- invariants (hypothesis) ------------------------------------------------------------------
@st.composite
def samples(draw):
    n = draw(st.integers(30, 120))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "a": rng.integers(0, 3, n), "b": rng.choice(["x", "y"], n), "c": rng.integers(0, 4, n),
        "w": rng.uniform(0.5, 5.0, n), "y": rng.normal(size=n),
    })
    # every level present
    df.loc[:11, "a"] = np.arange(12) % 3
    df.loc[:11, "b"] = np.where(np.arange(12) % 2 == 0, "x", "y")
    df.loc[:11, "c"] = np.arange(12) % 4
    # margins of a positive reweighting of the sample, so that raking has a solution
    u = df["w"].to_numpy() * rng.uniform(0.3, 3.0, n) * rng.uniform(1, 100)
    total = float(u.sum())
    margins = {v: pd.Series(u).groupby(df[v].to_numpy()).sum().to_dict() for v in ("a", "b", "c")}
    return df, margins, total


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples())
def test_rake_meets_margins_and_keeps_weights_positive(sample):
    df, margins, total = sample
    before = df.copy()
    d = sl.SurveyDesign(df, weights="w")
    r = d.rake(margins, tol=1e-12, max_iter=2000)
    w = r.weights.to_numpy()
    assert (w > 0).all()
    for var, target in margins.items():
        got = pd.Series(w).groupby(df[var].to_numpy()).sum()
        for lev, t in target.items():
            assert math.isclose(got[lev], t, rel_tol=1e-7, abs_tol=1e-7 * total)
    assert r.adjustments[-1].max_discrepancy <= 1e-7 * total
    pd.testing.assert_frame_equal(df, before)  # input unchanged


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples(), st.sampled_from(["linear", "raking", "logit"]))
def test_calibration_reproduces_totals(sample, calfun):
    df, margins, total = sample
    d = sl.SurveyDesign(df, weights="w")
    ty = float((df["w"] * df["y"]).sum() / df["w"].sum() * total)
    totals = {"a": margins["a"], "b": margins["b"], "y": ty}
    bounds = None
    if calfun == "logit":
        # bounds that a positive solution (the raking one) lies strictly inside, so the logit
        # calibration has a solution; the margins are far above the sample's scale
        g = d.calibrate(totals, calfun="raking", tol=1e-10, max_iter=200).weights / df["w"]
        bounds = (min(g.min() / 2, 0.5), max(g.max() * 2, 2.0))
    c = d.calibrate(totals, calfun=calfun, bounds=bounds, tol=1e-10, max_iter=200)
    w = c.weights.to_numpy()
    assert math.isclose((w * df["y"]).sum(), ty, rel_tol=1e-8, abs_tol=1e-8 * total)
    for var in ("a", "b"):
        got = pd.Series(w).groupby(df[var].to_numpy()).sum()
        for lev, t in margins[var].items():
            assert math.isclose(got[lev], t, rel_tol=1e-8)
    if calfun == "linear" and (w > 0).all():  # a calibration variable's total has no error
        assert c.total("y").se.iloc[0] <= 1e-6 * abs(ty) + 1e-8


@settings(max_examples=20, deadline=None)
@given(samples())
def test_design_at_its_margins_is_unchanged(sample):
    df, _, _ = sample
    d = sl.SurveyDesign(df, weights="w")
    w = df["w"].to_numpy()
    margins = {v: pd.Series(w).groupby(df[v].to_numpy()).sum().to_dict() for v in ("a", "b")}
    r = d.rake(margins)
    np.testing.assert_allclose(r.weights, w, rtol=1e-12)
    assert r.adjustments[-1].iterations == 1
    np.testing.assert_allclose(d.calibrate(margins, calfun="raking").weights, w, rtol=1e-10)
    np.testing.assert_allclose(d.poststratify("a", margins["a"]).weights, w, rtol=1e-12)
    assert d.trim(upper=w.max() + 1) is d


def test_scaling_weights_scales_nothing_after_calibration_to_counts():
    d1 = build("dclus1")
    df = load("apiclus1.csv").assign(pw=lambda x: x["pw"] * 3.7)
    d2 = sl.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc")
    tot = {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069.0}
    np.testing.assert_allclose(d1.calibrate(tot).weights, d2.calibrate(tot).weights, rtol=1e-10)


# ----- raking options -------------------------------------------------------------------------
def test_rake_bounds_enforced_and_margins_met():
    d = build("dkz")
    free = d.rake(_kz_margins()).weights.to_numpy() / d.weights.to_numpy()
    assert free.min() < 0.4 and free.max() > 2.5  # unbounded ratios run from 0.33 to 2.85
    r = d.rake(_kz_margins(), bounds=(0.4, 2.5), tol=1e-10, max_iter=1000)
    ratio = r.weights.to_numpy() / d.weights.to_numpy()
    assert ratio.min() >= 0.4 - 1e-12 and ratio.max() <= 2.5 + 1e-12
    assert r.adjustments[-1].max_discrepancy <= 1e-5 * d.weights.sum()
    assert r.adjustments[-1].bounds == (0.4, 2.5)
    with pytest.raises(ConvergenceError, match=r"bounds \(0.5, 2\) cannot meet margin sex×agegrp"):
        d.rake(_kz_margins(), bounds=(0.5, 2.0), tol=1e-10, max_iter=1000)


def test_rake_infeasible_bounds():
    d = build("dkz")
    with pytest.raises(ConvergenceError, match="bounds"):
        d.rake(_kz_margins(), bounds=(0.99, 1.01), tol=1e-10, max_iter=200)


def test_rake_nonconvergence_error_and_warning():
    d = build("dkz")
    with pytest.raises(ConvergenceError, match="did not converge in 1 passes"):
        d.rake(_kz_margins(), max_iter=1)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        r = d.rake(_kz_margins(), max_iter=1, on_fail="warn")
    assert not r.adjustments[-1].converged
    assert "NOT converged" in r.describe()


def test_rake_diagnostics_table():
    d = build("dkz")
    r = d.rake(_kz_margins())
    adj = r.adjustments[-1]
    assert list(adj.table.columns) == ["margin", "level", "target", "before", "after", "discrepancy"]
    assert len(adj.table) == 12 + 3
    assert adj.converged and adj.iterations > 1
    np.testing.assert_allclose(adj.table["after"], adj.table["target"], rtol=1e-6)


# ----- coding on the cell table ----------------------------------------------------------------
def _rowwise_rake_residuals(adj, x):
    """R survey:::svyrecvar's raking loop, row by row (the reference for the cell-table version):
    ten sweeps of ``x - w_m * ave(x / w_m, margin)`` over the rows with ``w_m > 0``."""
    c = adj.cells
    x = np.array(x, dtype=float, copy=True)
    for _ in range(10):
        for lev, r in zip(adj.margin_levels, adj.margin_ratios, strict=True):
            psw = np.where(c >= 0, adj.old_weights * r[np.maximum(c, 0)], 0.0)
            ok = (c >= 0) & (psw > 0)
            code = lev[c[ok]]
            for j in range(x.shape[1]):
                z = x[ok, j] / psw[ok]
                means = np.bincount(code, weights=z) / np.bincount(code)
                x[ok, j] -= means[code] * psw[ok]
    return x


@pytest.mark.parametrize("bounds", [None, (0.35, 2.8)])  # (0.35, 2.8) binds at both ends
def test_rake_residuals_on_cell_table_equal_rowwise_sweeps(bounds):
    """Every row of a joint cell shares each margin's weight ratio, so the ten sweeps run on the
    cell table give the row-by-row residuals of R's svyrecvar (on a subset too)."""
    d = build("dkz")
    sub = d.subset(d.data["stratum"] != d.data["stratum"].iloc[0])
    for design in (d, sub):
        r = design.rake(_kz_margins(), bounds=bounds, tol=1e-10, max_iter=500, on_fail="warn")
        adj = r.adjustments[-1]
        x = np.random.default_rng(5).normal(size=(len(d.data), 3)) * adj.old_weights[:, None]
        np.testing.assert_allclose(adj.residualize(x), _rowwise_rake_residuals(adj, x),
                                   rtol=1e-10, atol=1e-10 * np.abs(x).max())


def test_rake_merges_levels_that_match_one_population_level():
    """Two sample values matched to one population level (1 and "1") form one joint cell, as a
    recoded column would: weights, passes and SEs equal those after recoding."""
    df = build("dkz").data
    mixed = df.assign(sex=df["sex"].astype(object))
    mixed.loc[mixed.index[::3], "sex"] = mixed.loc[mixed.index[::3], "sex"].astype(str)
    spec = FIXTURES["designs"]["dkz"]

    def design(data):
        return sl.SurveyDesign(data, strata=spec["strata"], psu=spec["psu"],
                               weights=spec["weights"], fpc=spec["fpc"], nest=spec["nest"])

    a = design(df).rake(_kz_margins(), tol=1e-12)
    b = design(mixed).rake(_kz_margins(), tol=1e-12)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-12)
    assert a.adjustments[-1].iterations == b.adjustments[-1].iterations
    np.testing.assert_allclose(a.mean("y").se, b.mean("y").se, rtol=1e-10)


def test_rake_codes_are_cached_and_shared_with_proportions():
    """The column codes raking uses are the estimators' (cached per data): a proportion before
    and after raking is the same, and a second rake gives the same weights."""
    d = build("dkz")
    before = d.proportion("agegrp").to_frame()
    r1 = d.rake(_kz_margins(), tol=1e-12)
    r2 = d.rake(_kz_margins(), tol=1e-12)
    pd.testing.assert_frame_equal(d.proportion("agegrp").to_frame(), before)
    np.testing.assert_array_equal(r1.weights, r2.weights)


def test_missing_levels_named_in_order_of_first_row():
    df = pd.DataFrame({"g": ["a", "z", "b", "y", "z"], "w": 1.0})
    d = sl.SurveyDesign(df, weights="w")
    with pytest.raises(WeightingError, match=r"level\(s\) \['z', 'y'\].*\(3 row\(s\)\)"):
        d.rake({"g": {"a": 1, "b": 2}})


# ----- bad input -------------------------------------------------------------------------------
def test_level_in_sample_missing_from_population():
    d = build("dclus1")
    with pytest.raises(WeightingError, match=r"'M'.*stype.*not in the population"):
        d.poststratify("stype", {"E": 4421, "H": 755})
    with pytest.raises(WeightingError, match=r"margin sch.wide.*'Yes'"):
        d.rake({"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 6194}})


def test_population_level_without_sample():
    d = build("dclus1")
    with pytest.raises(WeightingError, match=r"'X'.*no respondents.*collapse"):
        d.poststratify("stype", {"E": 4421, "H": 755, "M": 1000, "X": 18})


def test_margin_totals_disagree():
    d = build("dclus1")
    with pytest.raises(WeightingError, match=r"margin stype sums to 6194.*margin sch.wide sums to 6000"):
        d.rake({"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1000, "Yes": 5000}})


def test_overlapping_margins_disagree():
    d = build("dkz")
    m = _kz_margins()
    sex = {1: 3000000.0, 2: 4141674.0}
    with pytest.raises(WeightingError, match=r"disagree on the total of sex"):
        d.rake({**m, "sex": sex})


def test_bad_population_values():
    d = build("dclus1")
    with pytest.raises(WeightingError, match=r"'H'.*finite numbers >= 0"):
        d.poststratify("stype", {"E": 4421, "H": -1, "M": 1018})
    with pytest.raises(WeightingError, match="exactly one value column"):
        d.poststratify("stype", pd.DataFrame({"stype": ["E"], "a": [1], "b": [2]}))
    with pytest.raises(sl.ParameterError, match="dict, Series or DataFrame"):
        d.poststratify("stype", [1, 2, 3])
    with pytest.raises(sl.ColumnError, match="nosuch"):
        d.poststratify("nosuch", {"a": 1})


def test_missing_values_in_weighting_variable():
    df = pd.DataFrame({"g": ["a", None, "b"], "w": 1.0})
    d = sl.SurveyDesign(df, weights="w")
    with pytest.raises(WeightingError, match=r"column 'g' has 1 missing"):
        d.poststratify("g", {"a": 1, "b": 2})


def test_calibration_errors():
    d = build("dclus1")
    with pytest.raises(WeightingError, match="Intercept"):
        d.calibrate({"api99": 3914069.0})
    with pytest.raises(WeightingError, match=r"add up to 5800.*population size is 6194"):
        d.calibrate({"(Intercept)": 6194, "stype": {"E": 4221, "H": 755, "M": 1024 - 200}})
    with pytest.raises(sl.ParameterError, match="logit.*finite bounds"):
        d.calibrate({"stype": {"E": 4421, "H": 755, "M": 1018}}, calfun="logit")
    with pytest.raises(sl.ParameterError, match="calfun"):
        d.calibrate({"stype": {"E": 4421, "H": 755, "M": 1018}}, calfun="probit")
    with pytest.raises(sl.ParameterError, match="lower <= 1 <= upper"):
        d.calibrate({"stype": {"E": 4421, "H": 755, "M": 1018}}, bounds=(1.2, 2))
    with pytest.raises(WeightingError, match="linear combinations"):
        dd = sl.SurveyDesign(load("apiclus1.csv").assign(api99b=lambda x: 2 * x["api99"]),
                             psu="dnum", weights="pw", fpc="fpc")
        dd.calibrate({"(Intercept)": 6194, "api99": 3914069.0, "api99b": 2 * 3914069.0})


def test_negative_weights_warned():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0], "w": 1.0})
    d = sl.SurveyDesign(df, weights="w")
    # x total 6 is reachable by positive weights (mean 1.5 within [1, 10]), but GREG's
    # linear g = 1 + l0 + l1 x gives the last row -0.2
    with pytest.warns(sl.SurveyWarning, match="non-positive"):
        c = d.calibrate({"(Intercept)": 4, "x": 6.0})
    assert c.weights.tolist() == pytest.approx([1.6, 1.4, 1.2, -0.2])


def test_rake_argument_errors():
    d = build("dclus1")
    m = {"stype": {"E": 4421, "H": 755, "M": 1018}}
    for kwargs, msg in [({"tol": 0}, "tol"), ({"max_iter": 0}, "max_iter"),
                        ({"on_fail": "ignore"}, "on_fail"), ({"bounds": (2, 3)}, "lower <= 1")]:
        with pytest.raises(sl.ParameterError, match=msg):
            d.rake(m, **kwargs)
    with pytest.raises(sl.ParameterError, match="named after"):
        d.rake([pd.Series([1.0, 2.0])])


def test_list_of_named_series_margins():
    d = build("dclus1")
    s = pd.Series([4421.0, 755.0, 1018.0], index=pd.Index(["E", "H", "M"], name="stype"))
    t = pd.Series([1072.0, 5122.0], index=pd.Index(["No", "Yes"], name="sch.wide"))
    a = d.rake([s, t])
    b = d.rake({"stype": s, "sch.wide": t})
    np.testing.assert_allclose(a.weights, b.weights)


# ----- trimming -------------------------------------------------------------------------------
def test_trim_errors_and_recalibration():
    d = build("dstrat")
    with pytest.raises(sl.ParameterError, match="lower < upper"):
        d.trim(upper=10, lower=20)
    with pytest.raises(WeightingError, match="cannot all lie"):
        d.trim(upper=10, strict=True)
    with pytest.raises(WeightingError, match="last weighting step"):
        d.trim(upper=40, recalibrate=True)
    pop = {"E": 4421, "H": 755, "M": 1018}
    # within stype the weights are equal, so calibrating to stype undoes any trim of E
    c = d.poststratify("sch.wide", {"No": 1072, "Yes": 5122}).calibrate({"stype": pop},
                                                                      calfun="raking")
    with pytest.raises(ConvergenceError, match="after 5 rounds"):
        c.trim(upper=42, lower=16, recalibrate=True, max_iter=5)
    d = build("dclus1")
    c = d.calibrate({"stype": pop, "api99": 3914069.0}, calfun="raking")  # weights 18.1..67.5
    t = c.trim(upper=55, lower=18, recalibrate=True, tol=1e-3)
    w = t.weights.to_numpy()
    assert w.max() <= 55 * (1 + 1e-3) and w.min() >= 18 * (1 - 1e-3)
    got = t.weights.groupby(t.data["stype"]).sum()
    for k, v in pop.items():
        assert math.isclose(got[k], v, rel_tol=1e-6)
    assert math.isclose(t.total("api99").estimate.iloc[0], 3914069.0, rel_tol=1e-6)
    assert isinstance(t.adjustments[-1], wt.Calibration)
    assert any(isinstance(a, wt.Trimming) for a in t.adjustments)


def test_trim_record():
    d = build("dstrat").trim(upper=40, lower=18)
    a = d.adjustments[-1]
    # 100 E weights (44.21) cut to 40, 50 H weights (15.1) raised to 18; M (20.4) take the rest
    assert isinstance(a, wt.Trimming) and a.n_trimmed == 150 and a.rounds == 1
    assert "trimmed" in d.describe()


# ----- frame, nonresponse ---------------------------------------------------------------------
def test_design_weights_from_frame_match_fpc_design():
    df = load("apistrat.csv").drop(columns=["pw", "fpc"])
    frame = {"E": 4421, "H": 755, "M": 1018}
    out = wt.design_weights(df, "stype", frame)
    assert "weight" not in df.columns  # input untouched
    ref = load("apistrat.csv")  # R's pw are N_h/n_h rounded to single precision
    np.testing.assert_allclose(out["weight"], ref["pw"], rtol=1e-7)
    np.testing.assert_allclose(out["weight"], ref["fpc"] / ref.groupby("stype")["fpc"].transform("size"))
    d1 = wt.from_frame(df, "stype", pd.Series(frame))
    d2 = sl.SurveyDesign(load("apistrat.csv"), strata="stype", fpc="fpc")  # weights from fpc
    np.testing.assert_allclose(d1.weights, d2.weights, rtol=1e-14)
    np.testing.assert_allclose(d1.mean("api00").se, d2.mean("api00").se, rtol=1e-12)


def test_design_weights_errors():
    df = pd.DataFrame({"h": ["a", "a", "b"]})
    with pytest.raises(WeightingError, match=r"'b'.*not in the population"):
        wt.design_weights(df, "h", {"a": 10})
    with pytest.raises(WeightingError, match=r"'c'.*no respondents"):
        wt.design_weights(df, "h", {"a": 10, "b": 5, "c": 7})
    with pytest.raises(WeightingError, match=r"N_h = 1 .* 2 respondents"):
        wt.design_weights(df, "h", {"a": 1, "b": 5})
    with pytest.raises(WeightingError, match="already exists"):
        wt.design_weights(df.assign(weight=1), "h", {"a": 10, "b": 5})


def test_nonresponse_table_and_errors():
    d = build("dkz")
    nr = wt.nonresponse_adjust(d, "resp", "agegrp")
    tab = nr.adjustments[-1].table
    assert list(tab.columns) == ["agegrp", "n_eligible", "n_respondents", "weighted_eligible",
                                 "weighted_respondents", "factor"]
    np.testing.assert_allclose(tab["factor"], tab["weighted_eligible"] / tab["weighted_respondents"])
    assert math.isclose(nr.weights.sum(), d.weights.sum(), rel_tol=1e-12)
    assert len(nr) == int(load("synth_kz.csv")["resp"].sum())
    df = pd.DataFrame({"c": ["a", "a", "b"], "r": [1, 0, 0], "w": 1.0})
    with pytest.raises(WeightingError, match=r"class 'b'.*no respondents.*collapse"):
        wt.nonresponse_adjust(sl.SurveyDesign(df, weights="w"), "r", "c")
    with pytest.raises(WeightingError, match="boolean or 0/1"):
        wt.nonresponse_adjust(sl.SurveyDesign(df.assign(r=[1, 2, 0]), weights="w"), "r", "c")


# ----- diagnostics ----------------------------------------------------------------------------
def test_weight_summary_values():
    d = sl.SurveyDesign(pd.DataFrame({"w": [1.0, 2.0, 3.0, 6.0], "g": [1, 1, 2, 2]}), weights="w")
    s = d.weight_summary()
    w = np.array([1.0, 2.0, 3.0, 6.0])
    assert s["ratio"] == 6.0 and s["n"] == 4
    assert math.isclose(s["deff_kish"], 4 * np.sum(w**2) / w.sum() ** 2)
    assert math.isclose(s["deff_kish"], 1 + s["cv"] ** 2)
    assert math.isclose(s["n_eff"], 4 / s["deff_kish"])
    by = d.weight_summary(by="g")
    assert list(by.index) == [1, 2] and by.loc[2, "max"] == 6.0


def test_margin_table_and_plot():
    d = build("dclus1")
    pop = {"E": 4421, "H": 755, "M": 1018}
    ps = d.poststratify("stype", pop)
    tab = wt.margin_table(ps, "stype", before=d, population=pop)
    assert list(tab.columns) == ["stype", *wt.diagnostics.MARGIN_COLUMNS]
    np.testing.assert_allclose(tab["difference"], 0, atol=1e-8)
    np.testing.assert_allclose(tab["total_before"], d.weights.groupby(d.data["stype"]).sum())
    assert tab["target"].notna().all()
    plain = wt.margin_table(ps, "stype")
    assert plain["target"].isna().all() and list(plain.columns) == list(tab.columns)
    from matplotlib.figure import Figure

    fig = wt.plot_weights(d, ps)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(wt.plot_weights(d).axes) == 1


def test_records_and_describe():
    d = build("dclus1")
    c = d.poststratify("stype", {"E": 4421, "H": 755, "M": 1018}).calibrate(
        {"(Intercept)": 6194, "api99": 3914069.0})
    kinds = [type(a).__name__ for a in c.adjustments]
    assert kinds == ["PostStratification", "Calibration"]
    assert "post-stratified on stype" in c.describe() and "calibrated (linear)" in c.describe()
    assert d.adjustments == ()  # the original design is untouched
    with pytest.raises(AttributeError):
        c._weights = None


def test_docstring_examples():
    import surveylib.weighting.calibration as m1
    import surveylib.weighting.diagnostics as m2
    import surveylib.weighting.frame as m3
    import surveylib.weighting.raking as m4
    import surveylib.weighting.trimming as m5

    for mod in (m1, m2, m3, m4, m5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.AssumptionWarning)
            res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0, mod.__name__


def test_docs_examples_run(monkeypatch):
    """The Python blocks of docs/weighting.md run as written (from the repository root)."""
    import re

    root = Path(__file__).parent.parent
    monkeypatch.chdir(root)
    blocks = re.findall(r"```python\n(.*?)```", (root / "docs" / "weighting.md").read_text(), re.S)
    assert len(blocks) >= 4
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.AssumptionWarning)
        for block in blocks:
            exec(compile(block, "docs/weighting.md", "exec"), ns)  # noqa: S102
    assert ns["r"].adjustments[-1].converged
    assert math.isclose(ns["ds"].weights.sum(), 6194, rel_tol=1e-12)


# ----- raking: converged means every margin is met -----------------------------------------
def _diag_sample(pairs):
    """One row per (sex, age) pair given: the cells absent from ``pairs`` are empty."""
    df = pd.DataFrame(pairs, columns=["sex", "age"]).assign(w=1.0)
    return sl.SurveyDesign(df, weights="w")


# each case: sample cells, margins no weighting of those cells can meet, the margin that is off
UNMEETABLE = [
    # only (m, y) and (f, o) sampled: sex and age margins force different totals on one cell
    ([("m", "y"), ("f", "o")], {"sex": {"m": 40, "f": 60}, "age": {"y": 50, "o": 50}}, "sex", 10),
    # three cells; sex=m only with age=y, but the age=y margin is smaller than sex=m
    ([("m", "y"), ("f", "y"), ("f", "o")],
     {"sex": {"m": 70, "f": 30}, "age": {"y": 40, "o": 60}}, "sex", None),
    # age=o only with sex=f, and the age margin puts more in o than the sex margin puts in f;
    # the age margin is listed first, so the margin left off is age
    ([("m", "y"), ("f", "y"), ("f", "o"), ("m", "y")],
     {"sex": {"m": 60, "f": 40}, "age": {"y": 45, "o": 55}}, "sex|age", None),
]
# the same diagonal sample with margins it can meet: a two-way margin and one-way margins agreeing
MEETABLE = ([("m", "y"), ("f", "o")],
            {("sex", "age"): {("m", "y"): 30, ("f", "o"): 70}, "age": {"y": 30, "o": 70},
             "sex": {"m": 30, "f": 70}})


@pytest.mark.parametrize("pairs, margins, worst, off", UNMEETABLE)
def test_rake_unmeetable_margins_do_not_converge(pairs, margins, worst, off):
    d = _diag_sample(pairs)
    with pytest.raises(ConvergenceError, match=f"cannot meet margin ({worst})") as info:
        d.rake(margins)
    if off is not None:
        assert f"off by {off:g}" in str(info.value) or f"off by -{off:g}" in str(info.value)
    with pytest.warns(ConvergenceWarning, match=f"margin ({worst})"):
        r = d.rake(margins, on_fail="warn")
    adj = r.adjustments[-1]
    assert not adj.converged
    assert adj.max_discrepancy > 1.0
    assert adj.table["discrepancy"].abs().max() == pytest.approx(adj.max_discrepancy)


def test_rake_meetable_margins_on_sparse_cells_still_converge():
    # consistent margins on the same diagonal sample: met exactly, converged, no warning
    d = _diag_sample(MEETABLE[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = d.rake(MEETABLE[1])
    adj = r.adjustments[-1]
    assert adj.converged and adj.max_discrepancy <= 1e-7 * 100
    assert r.weights.tolist() == pytest.approx([30.0, 70.0])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz")), min_size=2, max_size=12),
       st.lists(st.floats(1, 100), min_size=5, max_size=5))
def test_rake_converged_iff_every_margin_met(pairs, sizes):
    """Whatever the sample cells and margins, converged=True means every level is met within tol."""
    d = _diag_sample(pairs)
    sexes = sorted({s for s, _ in pairs})
    ages = sorted({a for _, a in pairs})
    total = 100.0
    sx = np.array(sizes[: len(sexes)]) / sum(sizes[: len(sexes)]) * total
    ag = np.array(sizes[2: 2 + len(ages)]) / sum(sizes[2: 2 + len(ages)]) * total
    margins = {"sex": dict(zip(sexes, sx, strict=True)), "age": dict(zip(ages, ag, strict=True))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = d.rake(margins, on_fail="warn", max_iter=2000)
    adj = r.adjustments[-1]
    met = np.abs(adj.table["discrepancy"].to_numpy()).max() <= 1e-7 * total
    if adj.converged:
        assert met
    assert adj.converged or not met or adj.iterations == 2000
    for var, marg in margins.items():
        got = r.data.assign(_w=r.weights.to_numpy()).groupby(var)["_w"].sum()
        if adj.converged:
            np.testing.assert_allclose(got[list(marg)].to_numpy(), list(marg.values()), atol=1e-7 * total)


# ----- calibration: weights far below population scale; totals no positive weights reach -----
def _small_weights_sample(seed, n=60):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n), "h": rng.choice(["u", "v"], n),
                       "w": rng.uniform(0.5, 2.0, n)})
    df.loc[:5, "g"] = ["a", "b", "c", "a", "b", "c"]
    df.loc[:5, "h"] = ["u", "v", "u", "v", "u", "v"]
    return df


@pytest.mark.parametrize("seed, scale", [(0, 1e3), (1, 1e5), (2, 1e7), (3, 50.0)])
def test_unbounded_raking_calibration_from_tiny_weights_is_poststratification(seed, scale):
    """One categorical margin: raking calibration has the closed form ``w N_c / sum_c w`` (R
    ``grake`` rescales the weights by the mean population/sample ratio first and converges)."""
    df = _small_weights_sample(seed)
    d = sl.SurveyDesign(df, weights="w")
    pop = {"a": 0.3 * scale * 60, "b": 0.5 * scale * 60, "c": 0.2 * scale * 60}
    c = d.calibrate({"g": pop}, calfun="raking", tol=1e-13)
    sums = df.groupby("g")["w"].sum()
    expected = df["w"] * df["g"].map(pop) / df["g"].map(sums)
    np.testing.assert_allclose(c.weights, expected, rtol=1e-9)


@pytest.mark.parametrize("seed, scale", [(4, 1e4), (5, 1e6)])
def test_unbounded_raking_calibration_from_tiny_weights_equals_rake(seed, scale):
    """Two margins: raking calibration equals iterative proportional fitting at convergence."""
    df = _small_weights_sample(seed)
    d = sl.SurveyDesign(df, weights="w")
    n = scale * 60
    margins = {"g": {"a": 0.3 * n, "b": 0.5 * n, "c": 0.2 * n}, "h": {"u": 0.45 * n, "v": 0.55 * n}}
    c = d.calibrate(margins, calfun="raking", tol=1e-12)
    r = d.rake(margins, tol=1e-9, max_iter=1000)
    np.testing.assert_allclose(c.weights, r.weights, rtol=1e-8)


@pytest.mark.parametrize("totals, match", [
    ({"(Intercept)": -100.0, "x": 300.0}, r"'\(Intercept\)' is -100.*never negative"),
    ({"(Intercept)": 100.0, "g": {"a": 150.0, "b": -50.0}}, r"level 'b' is .*-50"),
    ({"(Intercept)": 100.0, "x": -5.0}, r"'x' is -5.*never negative"),
    ({"(Intercept)": 100.0, "x": 5000.0}, r"mean of 50 .*outside the sample's range \[1, 10\]"),
    ({"(Intercept)": 100.0, "neg": 10.0}, r"'neg' is 10.*never positive"),
])
@pytest.mark.parametrize("calfun", ["linear", "raking"])
def test_totals_no_positive_weights_reach_are_errors(totals, match, calfun):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0], "neg": [-1.0, -2.0, 0.0, -4.0],
                       "g": ["a", "b", "a", "b"], "w": 1.0})
    before = df.copy()
    d = sl.SurveyDesign(df, weights="w")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an error, not a warning
        with pytest.raises(WeightingError, match=match) as info:
            d.calibrate(totals, calfun=calfun)
    assert info.value.parameter == "totals"
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("case", CODING_CASES)
def test_code_rows_equals_sorting_the_level_codes(case):
    """The joint cells of code_rows (the mixed-radix values themselves when every combination
    occurs; digits without a missing slot for variables without missing values) equal the
    distinct rows of the level codes in lexicographic order, on every path."""
    from surveylib.weighting._population import code_rows

    df, active = coding_frame(np.random.default_rng(11), 6000, case)
    d = sl.SurveyDesign(df, weights="w")
    coded = code_rows(d, ["a", "b", "c"], active)
    comp, inv, counts = coded_by_sorting(df, ["a", "b", "c"], active)
    np.testing.assert_array_equal(coded.comp, comp)
    np.testing.assert_array_equal(coded.inv, inv)
    np.testing.assert_array_equal(coded.counts, counts)
    assert coded.n_joint == len(counts)
