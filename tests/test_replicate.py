"""Replicate-weight designs against R survey 4.1.1, plus generators, invariances and bad input.

Expected numbers come from ``tests/conformance/fixtures/replicate.json``, written by
``tests/conformance/r/replicate.R`` (``Rscript tests/conformance/make_fixtures.R``); every case
records its R call.  Tolerance 1e-8 relative.
"""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.errors import ReplicateError, SurveyDesignError
from surveylib.replicate import ReplicateDesign, _bootstrap_scale
from surveylib.variance.replicate import (
    ReplicateWeights,
    first_appearance,
    hadamard,
    replicate_vcov,
)
from surveylib.variance.taylor import Scores

CONF = Path(__file__).parent / "conformance"
FIX = json.loads((CONF / "fixtures" / "replicate.json").read_text())
RTOL = 1e-8


@cache
def load(name: str) -> pd.DataFrame:
    return pd.read_csv(CONF / "data" / name)


def base_design(spec) -> sl.SurveyDesign:
    return sl.SurveyDesign(load(spec["data"]), strata=spec["strata"], psu=spec["psu"],
                           weights=spec["weights"], fpc=spec["fpc"])


def psu_rows_in_r_order(design) -> np.ndarray:
    """surveylib PSU codes in R's order (first appearance)."""
    st = design._stages[0]
    return np.argsort(first_appearance(st.unit, st.n_psu), kind="stable")


@cache
def build(design_id: str) -> ReplicateDesign:
    spec = FIX["designs"][design_id]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.AssumptionWarning)
        if spec["kind"] == "convert":
            method = spec["method"]
            return base_design(spec).to_replicates(
                method, rho=spec["rho"] if method == "fay" else None, mse=spec["mse"])
        if spec["kind"] == "factors":
            base = base_design(spec)
            st = base.stages[0]
            rows = load(spec["factors_csv"]).to_numpy()
            first = first_appearance(st.unit, st.n_psu)
            factors = rows[first]  # every row of a PSU has its PSU's factor
            sub = spec["method"] == "subbootstrap"
            scale = _bootstrap_scale(st.n_units, factors.shape[1], sub=sub)
            reps = ReplicateWeights(scale=scale, rscales=np.ones(factors.shape[1]),
                                    mse=spec["mse"], factors=np.ascontiguousarray(factors),
                                    unit=st.unit)
            return ReplicateDesign.from_design(base, reps, type="bootstrap")
        return ReplicateDesign(load(spec["data"]), weights=spec["weights"],
                               rep_weights=spec["rep_prefix"] + "*", type=spec["type"],
                               scale=spec["scale"], rscales=spec["rscales"], rho=spec["rho"],
                               mse=spec["mse"])


def close(a, b, rtol=RTOL):
    if b is None:
        return True
    return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=1e-10)


# ----- the replicate weights themselves ----------------------------------------------------------
CONVERT = [k for k, d in FIX["designs"].items() if d["kind"] == "convert"]


@pytest.mark.parametrize("design_id", CONVERT)
def test_replicate_weights_equal_r(design_id):
    """as.svrepdesign: same factors (or weight sums), scale, rscales and degf."""
    spec = FIX["designs"][design_id]
    rep = build(design_id)
    assert rep.n_replicates == spec["n_replicates"]
    assert close(rep.scale, spec["scale"])
    np.testing.assert_allclose(rep.rscales, spec["rscales"], rtol=RTOL)
    assert rep.degf() == spec["degf"]
    if "factors" in spec:
        a = rep._replicates.factors[psu_rows_in_r_order(rep)]
        np.testing.assert_allclose(a, np.array(spec["factors"]), rtol=RTOL, atol=0)
    else:
        w = rep.replicate_weights().to_numpy()
        np.testing.assert_allclose(w.sum(axis=0), spec["rep_weight_sums"], rtol=RTOL)
        y = load(spec["data"])["api00"].to_numpy()
        np.testing.assert_allclose(w.T @ y, spec["rep_api00_totals"], rtol=RTOL)


@pytest.mark.parametrize("design_id", [k for k, d in FIX["designs"].items() if d["kind"] == "factors"])
def test_bootstrap_scale_equals_r(design_id):
    spec = FIX["designs"][design_id]
    rep = build(design_id)
    assert close(rep.scale, spec["scale"])
    assert rep.degf() == spec["degf"]


@pytest.mark.parametrize("design_id", [k for k, d in FIX["designs"].items() if d["kind"] == "columns"])
def test_svrepdesign_defaults_equal_r(design_id):
    spec = FIX["designs"][design_id]
    rep = build(design_id)
    assert close(rep.scale, spec["r_scale"])
    np.testing.assert_allclose(rep.rscales, spec["r_rscales"], rtol=RTOL)
    assert rep.degf() == spec["degf"]


def test_hadamard_equals_r():
    for e in FIX["hadamard"]:
        want = np.array([[c == "1" for c in r] for r in e["rows"]], dtype=np.int8)
        got = hadamard(e["n"])
        assert got.shape == want.shape and (got == want).all(), e["n"]


# ----- estimates --------------------------------------------------------------------------------
def run(case):
    d = build(case["design"])
    a = case["args"]
    if case.get("subset"):
        d = d.subset(load(FIX["designs"][case["design"]]["data"])[case["subset"]] == 1)
    est = case["estimator"]
    if est == "mean":
        return d.mean(a["variables"], by=a["by"])
    if est == "total":
        return d.total(a["variables"], by=a["by"])
    if est == "proportion":
        return d.proportion(a["variables"], by=a["by"], ci_method="wald")
    if est == "ratio":
        return d.ratio(a["variables"], a["denominator"], by=a["by"])
    if est == "quantile":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.SurveyWarning)
            return d.quantile(a["variables"], a["probs"], by=a["by"],
                              interval_type=a.get("interval_type", "mean"))
    raise AssertionError(est)


def positions(case, frame):
    out = []
    for row in case["rows"]:
        sel = np.ones(len(frame), dtype=bool)
        for col, val in row["by"].items():
            sel &= frame[col].astype(str).to_numpy() == str(val)
        if case["estimator"] == "ratio":
            sel &= frame["variable"].str.startswith(row["variable"] + "/").to_numpy()
        else:
            sel &= (frame["variable"] == row["variable"]).to_numpy()
        if case["estimator"] == "quantile":
            sel &= np.isclose(frame["level"].astype(float).to_numpy(), row["quantile"])
        elif row["level"] is not None:
            sel &= frame["level"].astype(str).to_numpy() == str(row["level"])
        hits = np.flatnonzero(sel)
        assert len(hits) == 1, row
        out.append(int(hits[0]))
    return out


@pytest.mark.parametrize("case", FIX["cases"], ids=[c["id"] for c in FIX["cases"]])
def test_against_r(case):
    """Estimates, replicate SEs, covariances, design effects, df and t intervals equal R's."""
    res = run(case)
    frame = res.to_frame()
    pos = positions(case, frame)
    for p, row in zip(pos, case["rows"], strict=True):
        nan = set(row.get("r_nan", []))
        assert close(frame["estimate"][p], row["estimate"]), (row, frame.iloc[p])
        for field, col in (("se", "se"), ("ci_low_t", "ci_low"), ("ci_high_t", "ci_high"),
                           ("deff", "deff")):
            if field in nan:
                assert np.isnan(frame[col][p]), field
            else:
                assert close(frame[col][p], row[field]), (field, row[field], frame[col][p])
        want_df = row.get("df", case["df"])
        assert frame["df"][p] == want_df
    if case["vcov"] is not None:
        v = res.vcov_matrix[np.ix_(pos, pos)]
        np.testing.assert_allclose(v, np.array(case["vcov"]), rtol=RTOL, atol=1e-9)


# ----- consistency and invariances --------------------------------------------------------------
def test_replicate_vcov_formula_by_hand():
    thetas = np.array([[1.0, 2.0], [3.0, 1.0], [2.0, 4.0]])
    rs = np.array([1.0, 0.5, 2.0])
    est = np.array([2.5, 2.0])
    c = thetas.mean(axis=0)
    want = 0.3 * sum(rs[r] * np.outer(thetas[r] - c, thetas[r] - c) for r in range(3))
    np.testing.assert_allclose(replicate_vcov(thetas, est, 0.3, rs, False), want)
    want_mse = 0.3 * sum(rs[r] * np.outer(thetas[r] - est, thetas[r] - est) for r in range(3))
    np.testing.assert_allclose(replicate_vcov(thetas, est, 0.3, rs, True), want_mse)


def test_subset_equals_by_domain():
    rep = build("jkn_strat")
    by = rep.mean("api00", by="stype").to_frame().set_index("stype")
    for level in ("E", "H", "M"):
        sub = rep.subset(load("apistrat.csv")["stype"] == level).mean("api00").to_frame()
        assert close(sub["se"][0], by.loc[level, "se"], 1e-12)


def test_columns_equal_factors():
    """The same replicates as data columns or as PSU factors give identical variances."""
    conv = build("jk1_clus1_nofpc")
    cols = ReplicateDesign(load("rep_cols_apiclus1.csv"), weights="pw", rep_weights="repw*",
                           type="JK1", scale=14 / 15)
    a = conv.ratio("api.stu", "enroll", by="stype").vcov_matrix
    b = cols.ratio("api.stu", "enroll", by="stype").vcov_matrix
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_linearised_replicate_total_is_exact():
    """The score-based replicate hook reproduces the replicate variance of a total."""
    rep = build("fay_brr")
    res = rep.total(["y", "x"])
    w = rep.estimation_weights  # a total's linearised scores are w y
    n = len(w)
    scores = Scores(tuple((w * rep.data[var].to_numpy(dtype=float), np.full(n, j))
                          for j, var in enumerate(("y", "x"))), 2)
    np.testing.assert_allclose(rep.engine.vcov_scores(scores), res.vcov_matrix, rtol=1e-10)


def test_invariances_and_input_unchanged():
    df = load("synth_brr.csv").copy()
    before = df.copy()
    d = sl.SurveyDesign(df, strata="stratum", psu="psu", weights="w")
    rep = d.to_replicates("jkn")
    m = rep.mean("y")
    pd.testing.assert_frame_equal(df, before)
    # permuting rows changes nothing (for BRR it can: which PSU is "first" in a stratum
    # decides its half-samples, as in R)
    perm = np.random.default_rng(1).permutation(len(df))
    d2 = sl.SurveyDesign(df.iloc[perm], strata="stratum", psu="psu", weights="w")
    m2 = d2.to_replicates("jkn").mean("y")
    assert close(m2.se.iloc[0], m.se.iloc[0], 1e-12)
    # scaling the weights keeps means and SEs, scales totals
    df3 = df.assign(w=df["w"] * 3)
    r3 = sl.SurveyDesign(df3, strata="stratum", psu="psu", weights="w").to_replicates("brr")
    r1 = d.to_replicates("brr")
    assert close(r3.mean("y").se.iloc[0], r1.mean("y").se.iloc[0], 1e-12)
    assert close(r3.total("y").se.iloc[0], 3 * r1.total("y").se.iloc[0], 1e-12)


def test_replicate_quantile_matches_factor_and_column_forms():
    conv = build("jk1_clus1_nofpc")
    cols = ReplicateDesign(load("rep_cols_apiclus1.csv"), weights="pw", rep_weights="repw*",
                           type="JK1", scale=14 / 15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        a = conv.quantile("api00", [0.5], by="stype", interval_type="quantile").to_frame()
        b = cols.quantile("api00", [0.5], by="stype", interval_type="quantile").to_frame()
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    assert (a["se"] > 0).all()


# ----- generators --------------------------------------------------------------------------------
def test_bootstrap_generator_is_seeded_and_resamples_within_strata():
    d = base_design(FIX["designs"]["jkn_strat_nofpc"])
    a = d.to_replicates("bootstrap", replicates=200, seed=7)
    b = d.to_replicates("bootstrap", replicates=200, seed=7)
    c = d.to_replicates("bootstrap", replicates=200, seed=8)
    fa = a._replicates.factors
    np.testing.assert_array_equal(fa, b._replicates.factors)
    assert not np.array_equal(fa, c._replicates.factors)
    st = d._stages[0]
    sums = np.stack([np.bincount(st.unit_stratum, weights=fa[:, r]) for r in range(3)])
    np.testing.assert_array_equal(sums, np.tile(st.n_units, (3, 1)))  # n_h draws per stratum
    assert abs(fa.mean() - 1) < 0.02 and set(np.unique(fa)) <= set(range(20))
    # a bootstrap SE is close to the Taylor SE of the same design
    assert abs(a.mean("api00").se.iloc[0] / d.mean("api00").se.iloc[0] - 1) < 0.2


def test_subbootstrap_generator_rescales():
    d = base_design(FIX["designs"]["brr_brr"])
    rep = d.to_replicates("subbootstrap", replicates=100, seed=np.random.default_rng(3))
    f = rep._replicates.factors
    np.testing.assert_allclose(np.unique(f), [0.0, 2.0])  # n_h = 2: one draw, factor 2 or 0
    assert close(rep.scale, 1 / 99)


def test_bootstrap_with_fpc_without_replacement():
    d = base_design(FIX["designs"]["jkn_strat"])
    rep = d.to_replicates("bootstrap", replicates=30, seed=2)
    st = d._stages[0]
    f = rep._replicates.factors
    sums = np.stack([np.bincount(st.unit_stratum, weights=f[:, r]) for r in range(30)])
    np.testing.assert_array_equal(sums, np.tile(st.n_units, (30, 1)))


def test_bootstrap_factors_follow_the_seeded_draws():
    """The Rao-Wu counts from the generator's stream, written out independently: for each
    replicate (a row of ``u``) the ``n_h`` PSUs drawn in each stratum, with the PSUs ordered
    by stratum; a PSU's factor is how often it was drawn.  Pins the seeded factors (the P x R
    layout the counts are built in must not change which PSU a draw picks)."""
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"h": np.repeat([0, 1, 2], [30, 50, 20]), "w": rng.uniform(1, 2, 100)})
    df["psu"] = df["h"] * 100 + np.arange(100) % np.array([5, 9, 3])[df["h"]]  # 5, 9, 3 PSUs
    d = sl.SurveyDesign(df, strata="h", psu="psu", weights="w")  # no fpc: with replacement
    R = 40
    rep = d.to_replicates("bootstrap", replicates=R, seed=11)
    st = d._stages[0]
    us, n_h = st.unit_stratum, np.asarray(st.n_units)
    order = np.argsort(us, kind="stable")
    first = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    strat = np.repeat(np.arange(len(n_h)), n_h)
    u = np.random.default_rng(11).random((R, len(us)))
    want = np.zeros((len(us), R))
    for r in range(R):
        picked = order[first[strat] + np.floor(u[r] * n_h[strat]).astype(int)]
        want[:, r] = np.bincount(picked, minlength=len(us))
    np.testing.assert_array_equal(rep._replicates.factors, want)


# ----- bad input --------------------------------------------------------------------------------
def cols_df():
    return load("rep_cols_apiclus1.csv").copy()


def test_brr_needs_two_psus_per_stratum():
    d = base_design(FIX["designs"]["jkn_strat"])
    with pytest.raises(ReplicateError, match=r"exactly 2 PSUs.*'E' \(100 PSUs\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.AssumptionWarning)
            d.to_replicates("brr")


def test_design_errors_as_r():
    with pytest.raises(ReplicateError, match="unstratified"):
        base_design(FIX["designs"]["jkn_strat"]).to_replicates("jk1")
    with pytest.raises(ReplicateError, match="stratified design"):
        base_design(FIX["designs"]["jk1_clus1"]).to_replicates("jkn")
    with pytest.raises(ReplicateError, match="rho in"):
        base_design(FIX["designs"]["brr_brr"]).to_replicates("fay")
    with pytest.raises(sl.ParameterError, match="method="):
        base_design(FIX["designs"]["brr_brr"]).to_replicates("jackknife")
    with pytest.raises(sl.ParameterError, match="replicates="):
        base_design(FIX["designs"]["brr_brr"]).to_replicates("bootstrap", replicates=1)


def test_nan_in_replicate_weights():
    df = cols_df()
    df.loc[1, "repw3"] = np.nan
    with pytest.raises(ReplicateError, match=r"\['repw3'\].*1 missing"):
        ReplicateDesign(df, weights="pw", rep_weights="repw*", type="JK1", scale=14 / 15)


def test_rscales_length_and_scale():
    with pytest.raises(ReplicateError, match="rscales has 2 value.*15 replicate"):
        ReplicateDesign(cols_df(), weights="pw", rep_weights="repw*", type="other", scale=1,
                        rscales=[1, 2])
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(sl.ParameterError, match="scale="):
            ReplicateDesign(cols_df(), weights="pw", rep_weights="repw*", type="JK1", scale=bad)


def test_unknown_type_fay_without_rho_and_jkn_without_rscales():
    with pytest.raises(ReplicateError, match="'JK3' is not a replicate type"):
        ReplicateDesign(cols_df(), weights="pw", rep_weights="repw*", type="JK3")
    with pytest.raises(ReplicateError, match="needs rho"):
        ReplicateDesign(cols_df(), weights="pw", rep_weights="repw*", type="Fay")
    with pytest.raises(ReplicateError, match="rscales"):
        ReplicateDesign(cols_df(), weights="pw", rep_weights="repw*", type="JKn")
    with pytest.raises(ReplicateError, match="matches no column"):
        ReplicateDesign(cols_df(), weights="pw", rep_weights="zz*", type="JK1")
    with pytest.raises(SurveyDesignError, match="interval_type"):
        build("cols_jk1").quantile("api00", interval_type="bogus")


def test_jk1_scale_guess_warns():
    with pytest.warns(sl.AssumptionWarning, match="guess"):
        d = ReplicateDesign(cols_df(), weights="pw", rep_weights="repw*", type="JK1")
    assert close(d.scale, 14 / 15)


def test_design_is_immutable_and_describes_itself():
    rep = build("jkn_strat")
    with pytest.raises(AttributeError):
        rep._weights = None
    text = str(rep.mean("api00"))
    assert "Replicate weights (JKn)" in text and "200 replicates" in text


# ----- per-PSU replicate path and degrees of freedom (performance work) ---------------------------
def _n_by_r_rank(rep, rows) -> int:
    """The definition: rank of the n x R analysis replicate weights of ``rows`` (an SVD)."""
    from surveylib.variance.replicate import _rank_svd

    return _rank_svd(rep._replicates.analysis_weights(rep._weights)[rows])


def _domain_rows(rep, spec_data, column, level):
    return rep._active & (load(spec_data)[column].to_numpy() == level)


@pytest.mark.parametrize("design_id", ["jk1_clus1", "jk1_clus1_nofpc", "jkn_strat", "jkn_brr",
                                       "brr_brr", "fay_brr", "boot_strat", "boot_clus1",
                                       "subboot_clus1", "subboot_brr"])
def test_degf_from_factors_equals_rank_of_n_by_r_weights(design_id):
    """degf = rank of the P' x R factors of the PSUs with rows - 1 = rank(n x R weights) - 1,
    for the whole design, a subset and every by= domain (R degf.svyrep.design of design[rows,])."""
    spec = FIX["designs"][design_id]
    rep = build(design_id)
    assert rep._replicates.factors is not None
    assert rep.degf() == _n_by_r_rank(rep, rep._active) - 1
    data = load(spec["data"])
    col = "stype" if "stype" in data.columns else "grp"
    # a subset that drops whole PSUs and part of others
    y = data["api00" if "api00" in data.columns else "y"].to_numpy()
    sub = rep.subset(y > np.median(y))
    assert sub.degf() == _n_by_r_rank(sub, sub._active) - 1
    # by= domains: each quantile domain's df is that domain's rank - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        q = rep.quantile("api00" if "api00" in data.columns else "y", [0.5], by=col).to_frame()
    for level, df in zip(q[col], q["df"], strict=True):
        assert df == _n_by_r_rank(rep, _domain_rows(rep, spec["data"], col, level)) - 1


def test_degf_is_cached_per_design_and_rank_per_psu_set():
    rep = build("boot_strat")
    assert rep.degf() is rep.degf()
    assert "degf" in rep.__dict__["_design_cache"]
    sub = rep.subset(load("apistrat.csv")["stype"] == "E")
    assert sub.degf() <= rep.degf()
    assert len(rep._replicates._ranks) >= 2  # shared by the designs with these replicates


@pytest.mark.parametrize("design_id", ["jk1_clus1_nofpc", "jkn_strat", "boot_strat"])
def test_per_psu_path_equals_per_row_columns(design_id):
    """Factors per PSU (P x K totals, no per-row scores) and the same replicates as n x R
    columns (per-row path) give the same estimates, covariances, df and design effects."""
    rep = build(design_id)
    spec = FIX["designs"][design_id]
    data = load(spec["data"])
    w = rep.replicate_weights()
    cols = ReplicateDesign(pd.concat([data, w], axis=1), weights=spec["weights"],
                           rep_weights="rep*", type="other", scale=rep.scale,
                           rscales=rep.rscales, mse=rep.mse)
    sub_mask = data["api00"] > 600
    for a, b in ((rep, cols), (rep.subset(sub_mask), cols.subset(sub_mask))):
        for call in (lambda d: d.mean(["api00", "api99"], by="stype"),
                     lambda d: d.total("enroll", by="stype"),
                     lambda d: d.ratio("api00", "api99", by="stype"),
                     lambda d: d.proportion("sch.wide", by="stype"),
                     lambda d: d.mean("api00", deff="replace"),
                     lambda d: d.total("stype")):
            ra, rb = call(a), call(b)
            np.testing.assert_allclose(ra.estimate, rb.estimate, rtol=1e-12)
            # absolute slack at rounding level for covariances that are 0 in exact arithmetic
            tiny = 1e-20 * (1 + np.abs(rb.estimate.to_numpy()).max()) ** 2
            np.testing.assert_allclose(ra.vcov_matrix, rb.vcov_matrix, rtol=1e-9, atol=tiny)
            np.testing.assert_array_equal(ra.df, rb.df)
            np.testing.assert_allclose(ra.to_frame()["deff"], rb.to_frame()["deff"], rtol=1e-9,
                                       atol=1e-12)


def test_replicate_mean_never_forms_n_by_r():
    """A mean with 400 bootstrap replicates of 50,000 rows allocates far less than n x R."""
    import tracemalloc

    rng = np.random.default_rng(3)
    n, reps = 50_000, 400
    psu = rng.integers(0, 200, n)
    df = pd.DataFrame({"h": psu % 4, "psu": psu, "w": rng.uniform(1, 3, 200)[psu],
                       "y": rng.normal(size=n), "g": rng.integers(0, 3, n)})
    rep = sl.SurveyDesign(df, strata="h", psu="psu", weights="w").to_replicates(
        "bootstrap", replicates=reps, seed=1)
    rep.degf()
    tracemalloc.start()
    try:
        rep.mean("y", by="g")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * reps * 8 / 10  # n x R float64 would be 160 MB


def test_rank_from_gram_equals_svd_count_or_declines():
    """The Gram-matrix rank is the SVD's count (singular values > 1e-7 of the largest) whenever
    it answers, and declines when a singular value lies near that threshold."""
    from surveylib.variance.replicate import _rank, _rank_by_gram, _rank_svd

    rng = np.random.default_rng(11)
    answered = 0
    for trial in range(40):
        m, n = rng.integers(2, 60, size=2)
        k = int(rng.integers(1, min(m, n) + 1))
        x = rng.poisson(1.0, (m, k)).astype(float) @ rng.uniform(0, 2, (k, n))
        if trial % 3 == 0:  # integer bootstrap-like counts with exact dependencies
            x = rng.poisson(1.0, (m, n)).astype(float)
            x[-1] = x[0] + x[1]
        got = _rank_by_gram(x)
        answered += got is not None
        assert _rank(x) == _rank_svd(x)
        if got is not None:
            assert got == _rank_svd(x)
    assert answered > 30
    # singular values placed around the threshold: never a wrong answer
    u, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    v, _ = np.linalg.qr(rng.normal(size=(50, 50)))
    for tiny in (1e-3, 1e-6, 2e-7, 1e-7, 5e-8, 1e-8, 1e-10, 1e-13, 0.0):
        s = np.r_[np.linspace(10, 1, 25), np.full(5, 10 * tiny)]
        x = (u * s) @ v[:30]
        got = _rank_by_gram(x)
        assert got is None or got == _rank_svd(x)
        assert _rank(x) == _rank_svd(x)
    assert _rank_by_gram((u * np.r_[np.ones(29), 1e-6]) @ v[:30]) is None  # ambiguous
