"""Weighting steps on replicate-weight designs: every replicate re-weighted, as R.

Reference numbers come from ``tests/conformance/fixtures/replicate_weighting.json``, written by
``tests/conformance/r/replicate_weighting.R`` (R survey 4.1.1; ``Rscript
tests/conformance/make_fixtures.R``).  Each case lists the R call of every step; full-sample
weights, replicate weights, means, totals and domain means with their SEs are compared at 1e-8
relative.  Trimming's reference is computed explicitly in R (R's ``trimWeights.svyrep.design``
does not trim; see the script's header).
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from weighting_steps import apply_step

import surveylib as sl
from surveylib import weighting as wt
from surveylib.errors import ConvergenceError, ConvergenceWarning, ReplicateError, WeightingError
from surveylib.replicate import ReplicateDesign
from surveylib.weighting import replicate_weighting as rw
from surveylib.weighting.calibration import _grake

CONF = Path(__file__).parent / "conformance"
FIX = json.loads((CONF / "fixtures" / "replicate_weighting.json").read_text())
RTOL = 1e-8
TYPES = {"E": 4421, "H": 755, "M": 1018}
SCHWIDE = {"No": 1072, "Yes": 5122}
CAL = {"(Intercept)": 6194, "stype": TYPES, "api99": 3914069}


@cache
def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(CONF / "data" / name)


def load(name: str) -> pd.DataFrame:
    return _load(name).copy()


def taylor_clus1() -> sl.SurveyDesign:
    return sl.SurveyDesign(load("apiclus1.csv"), psu="dnum", weights="pw", fpc="fpc")


def build(design_id: str) -> ReplicateDesign:
    s = FIX["designs"][design_id]
    if s["kind"] == "convert":
        d = sl.SurveyDesign(load(s["data"]), psu=s["psu"], weights=s["weights"], fpc=s["fpc"])
        rep = d.to_replicates(s["method"])
    else:
        rep = ReplicateDesign(load(s["data"]), weights=s["weights"], rep_weights=s["rep_weights"],
                              type=s["type"])
    assert math.isclose(rep.scale, s["scale"], rel_tol=1e-12)
    return rep


CASES = FIX["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}-{c['design']}" for c in CASES])
def test_against_r(case):
    """Full-sample and replicate weights, estimates and SEs equal R's (steps' r_call)."""
    d = build(case["design"])
    for step in case["steps"]:
        d = apply_step(d, step)
    np.testing.assert_allclose(d.weights.to_numpy(), case["weights"], rtol=RTOL, atol=0)
    a = d.replicate_weights().to_numpy()
    ref = np.array(case["rep_weights"])
    cols = np.array(case["rep_weights_columns"]) - 1
    np.testing.assert_allclose(a[:, cols], ref, rtol=RTOL, atol=RTOL * np.abs(ref).max())
    api00 = d.data["api00"].to_numpy()
    np.testing.assert_allclose(a.sum(axis=0), case["rep_col_sums"], rtol=RTOL)
    np.testing.assert_allclose(a.T @ api00, case["rep_api00_sums"], rtol=RTOL)
    np.testing.assert_allclose((a**2).sum(axis=0), case["rep_sq_sums"], rtol=RTOL)
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


def test_r_trimweights_is_not_the_reference():
    """R 4.1.1's trimWeights.svyrep.design leaves the sampling weights untrimmed (max 53.9 >
    upper=45) and breaks the replicate totals; surveylib trims and keeps every column's total."""
    info = FIX["r_trimweights"]
    assert info["sampling_weights_unchanged"] and info["max_sampling_weight"] > 45
    d = build("jk1_clus1").poststratify("stype", TYPES)
    t = d.trim(upper=45, lower=20)
    assert t.weights.max() <= 45 + 1e-9
    np.testing.assert_allclose(t.replicate_weights().sum(), d.replicate_weights().sum(), rtol=1e-12)
    assert not np.allclose(t.replicate_weights().sum(), info["rep_col_sums"], rtol=1e-6)


# ----- to_replicates on a weighted design ---------------------------------------------------------
def test_to_replicates_of_calibrated_design_recalibrates_every_replicate():
    """= R calibrate(as.svrepdesign(dclus1), ...); R's as.svrepdesign(calibrated) (SE 24.1)
    leaves the replicates uncalibrated."""
    ref = FIX["convert_adjusted"]
    c = taylor_clus1().calibrate(CAL).to_replicates("jk1")
    m = c.mean("api00")
    assert math.isclose(m.estimate.iloc[0], ref["proper_estimate"], rel_tol=RTOL)
    assert math.isclose(m.se.iloc[0], ref["proper_se"], rel_tol=RTOL)
    assert m.se.iloc[0] < ref["naive_se"] / 5
    assert "re-weighted" in c.describe()


@pytest.mark.parametrize("steps", [
    [("poststratify", ("stype", TYPES), {})],
    [("rake", ({"stype": TYPES, "sch.wide": SCHWIDE},), {"tol": 1e-10})],
    [("calibrate", (CAL,), {"calfun": "raking"})],
    [("poststratify", ("stype", TYPES), {}), ("calibrate", ({"api99": 3914069},), {"intercept": False})],
], ids=["ps", "rake", "cal_raking", "ps_then_cal"])
def test_weight_then_convert_equals_convert_then_weight(steps):
    d = taylor_clus1()
    rep = d.to_replicates("jk1")
    for name, args, kw in steps:
        d = getattr(d, name)(*args, **kw)
        rep = getattr(rep, name)(*args, **kw)
    conv = d.to_replicates("jk1")
    np.testing.assert_allclose(conv.weights, rep.weights, rtol=1e-12)
    np.testing.assert_allclose(conv.replicate_weights(), rep.replicate_weights(), rtol=1e-10,
                               atol=1e-10)
    assert math.isclose(conv.mean("api00").se.iloc[0], rep.mean("api00").se.iloc[0], rel_tol=1e-10)


def test_to_replicates_keeps_weighting_subset_and_later_subset():
    d = taylor_clus1()
    sub = d.data["cname"] != "Fresno"
    dom = d.data["sch.wide"] == "Yes"
    w = d.subset(sub).poststratify("stype", {"E": 4000, "H": 700, "M": 1000}).subset(dom)
    conv = w.to_replicates("jk1")
    rep = d.to_replicates("jk1").subset(sub).poststratify(
        "stype", {"E": 4000, "H": 700, "M": 1000}).subset(dom)
    np.testing.assert_allclose(conv.weights, rep.weights, rtol=1e-12)
    assert math.isclose(conv.mean("api00").se.iloc[0], rep.mean("api00").se.iloc[0], rel_tol=1e-10)
    assert len(conv) == int((sub & dom).sum())


@pytest.mark.parametrize("step", ["trim", "nonresponse"])
def test_to_replicates_refuses_steps_it_cannot_reapply(step):
    d = taylor_clus1()
    if step == "trim":
        d = d.poststratify("stype", TYPES).trim(upper=45)
    else:
        df = load("apiclus1.csv").assign(resp=lambda x: (x["snum"] % 5 != 0).astype(int))
        d = wt.nonresponse_adjust(sl.SurveyDesign(df, psu="dnum", weights="pw"), "resp", "stype")
    with pytest.raises(ReplicateError, match=r"to_replicates\(\.\.\.\).*replicate design"):
        d.to_replicates("jk1")


# ----- consistency between steps and storage forms -----------------------------------------------------
def test_factor_and_column_storage_agree():
    """JK1 factors per PSU and the same replicates as analysis-weight columns weight alike."""
    fac = build("jk1_clus1")
    df = load("apiclus1.csv")
    a = fac.replicate_weights().to_numpy()
    for r in range(a.shape[1]):
        df[f"rw{r + 1}"] = a[:, r]
    col = ReplicateDesign(df, weights="pw", rep_weights="rw*", type="JK1", scale=fac.scale)
    for name, args, kw in [("rake", ({"stype": TYPES, "sch.wide": SCHWIDE},), {"tol": 1e-10}),
                           ("calibrate", (CAL,), {"calfun": "logit", "bounds": (0.4, 2.5)})]:
        f, c = getattr(fac, name)(*args, **kw), getattr(col, name)(*args, **kw)
        np.testing.assert_allclose(f.replicate_weights(), c.replicate_weights(), rtol=1e-12,
                                   atol=1e-12)


def test_one_margin_rake_and_calibration_equal_poststratify():
    rep = build("boot_strat")
    ps = rep.poststratify("stype", TYPES)
    rk = rep.rake({"stype": TYPES})
    cal = rep.calibrate({"stype": TYPES})
    for other in (rk, cal):
        np.testing.assert_allclose(other.replicate_weights(), ps.replicate_weights(), rtol=1e-10)


def test_rake_equals_calibrate_raking_on_replicates():
    rep = build("jk1_clus1")
    r = rep.rake({"stype": TYPES, "sch.wide": SCHWIDE}, tol=1e-13, max_iter=1000)
    c = rep.calibrate({"stype": TYPES, "sch.wide": SCHWIDE}, calfun="raking", tol=1e-12)
    np.testing.assert_allclose(r.replicate_weights(), c.replicate_weights(), rtol=1e-8)


def test_bounded_rake_bounds_every_replicate():
    rep = build("boot_strat")
    b = (0.5, 2.0)
    r = rep.rake({"stype": TYPES, "sch.wide": SCHWIDE}, bounds=b, tol=1e-10, max_iter=500)
    before, after = rep.replicate_weights().to_numpy(), r.replicate_weights().to_numpy()
    pos = before > 0
    ratio = after[pos] / before[pos]
    assert ratio.min() >= b[0] - 1e-9 and ratio.max() <= b[1] + 1e-9
    assert ratio.min() < 0.9 or ratio.max() > 1.1  # the bounds were not idle
    for lev, n in SCHWIDE.items():
        np.testing.assert_allclose(after[(r.data["sch.wide"] == lev).to_numpy()].sum(axis=0), n,
                                   rtol=1e-6)


def test_bounds_infeasible_in_some_replicate_is_not_silent():
    """With bounds (0.8, 1.3) the full sample meets the margins but replicates 7, 19, ... cannot."""
    rep = build("boot_strat")
    margins = {"stype": TYPES, "sch.wide": SCHWIDE}
    with pytest.raises(ConvergenceError, match=r"replicate\(s\) \[7, 19"):
        rep.rake(margins, bounds=(0.8, 1.3), tol=1e-9, max_iter=500)
    with pytest.warns(ConvergenceWarning, match="bounds 0.8..1.3 may not be attainable"):
        rep.rake(margins, bounds=(0.8, 1.3), tol=1e-9, max_iter=500, on_fail="warn")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), calfun=st.sampled_from(["raking", "logit", "linear"]))
def test_stacked_newton_equals_one_column_at_a_time(seed, calfun):
    """The vectorised grake over replicate columns = R's grake (Taylor _grake) per column."""
    rng = np.random.default_rng(seed)
    n, R = 40, 6
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(10, 2, n)])
    W = rng.uniform(0.5, 3, (n, R)) * (rng.random((n, R)) > 0.1)
    pop = X.T @ rng.uniform(0.8, 1.4, n) * 1.5
    lo, hi = (0.2, 5.0) if calfun != "raking" else (-np.inf, np.inf)
    g, its, _, conv = rw._grake_columns(X, W, calfun, lo, hi, pop, 1e-9, 60)
    for r in range(R):
        g1, it1, _, c1 = _grake(X, W[:, r], calfun, lo, hi, pop, 1e-9, 60)
        assert c1 == conv[r] and it1 == its[r]
        np.testing.assert_allclose(g[:, r], g1, rtol=1e-10, atol=1e-12)


# ----- errors --------------------------------------------------------------------------------------------
def _lonely_cell_design():
    df = load("apiclus1.csv")
    df["g"] = np.where(df["dnum"] == 413, "a", "b")  # level 'a' lives in one PSU
    return sl.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc").to_replicates("jk1")


def test_replicate_without_a_cell_is_a_clear_error():
    rep = _lonely_cell_design()
    with pytest.raises(WeightingError, match=r"replicate \d+ has no weight in cell \(g='a'\)"):
        rep.poststratify("g", {"a": 100, "b": 6094})
    with pytest.raises(WeightingError, match=r"raking margin g: replicate \d+ has no weight"):
        rep.rake({"g": {"a": 100, "b": 6094}, "stype": TYPES})
    with pytest.raises(WeightingError, match=r"calibration of replicate \d+ is singular"):
        rep.calibrate({"(Intercept)": 6194, "g": {"a": 100, "b": 6094}})


def test_replicate_nonconvergence_names_the_replicate():
    """R: calibrate(as.svrepdesign(dclus1), ..., calfun='logit', bounds=c(0.5, 2)) warns
    "Failed to converge" for one replicate (the full sample converges)."""
    rep = build("jk1_clus1")
    with pytest.raises(ConvergenceError, match=r"replicate\(s\) \[\d+\] of 15"):
        rep.calibrate(CAL, calfun="logit", bounds=(0.5, 2))
    with pytest.warns(ConvergenceWarning, match="replicate"):
        out = rep.calibrate(CAL, calfun="logit", bounds=(0.5, 2), on_fail="warn")
    assert np.isfinite(out.replicate_weights().to_numpy()).all()


def test_taylor_functions_refuse_replicate_designs():
    rep = build("jk1_clus1")
    with pytest.raises(ReplicateError, match=r"d\.poststratify"):
        wt.poststratify(rep, "stype", TYPES)
    with pytest.raises(ReplicateError, match="re-weight every replicate"):
        wt.calibrate(rep, CAL)


def test_trim_options():
    rep = build("boot_strat")
    assert rep.trim(upper=1000) is rep
    with pytest.raises(ReplicateError, match="recalibrate"):
        rep.trim(upper=60, recalibrate=True)
    strict = rep.trim(upper=90, lower=12, strict=True)
    a, b = strict.replicate_weights().to_numpy(), rep.replicate_weights().to_numpy()
    assert a[a != 0].max() <= 90 * (1 + 1e-9) and a[a != 0].min() >= 12
    np.testing.assert_array_equal(a == 0, b == 0)  # units outside a replicate stay out
    np.testing.assert_allclose(a.sum(axis=0), b.sum(axis=0), rtol=1e-12)
    with pytest.raises(WeightingError, match=r"replicate \d+ .*cannot all lie in"):
        rep.trim(upper=45, strict=True)


def test_inputs_unchanged():
    df = load("apiclus1.csv")
    snapshot = df.copy()
    rep = sl.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc").to_replicates("jk1")
    w0, r0 = rep.weights.copy(), rep.replicate_weights().copy()
    rep.poststratify("stype", TYPES).rake({"sch.wide": SCHWIDE}).calibrate(CAL).trim(upper=60)
    pd.testing.assert_frame_equal(df, snapshot)
    pd.testing.assert_series_equal(rep.weights, w0)
    pd.testing.assert_frame_equal(rep.replicate_weights(), r0)
    assert rep.adjustments == ()


def test_docstring_examples():
    result = doctest.testmod(rw, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_no_warning_for_plain_steps():
    rep = build("jk1_clus1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep.poststratify("stype", TYPES).calibrate({"api99": 3914069}, intercept=False)
