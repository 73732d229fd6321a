"""surveylib.inference against R survey 4.1.1, plus identities and bad input.

Expected numbers come from ``tests/conformance/fixtures/inference.json``, written by
``tests/conformance/r/inference.R`` (``Rscript tests/conformance/make_fixtures.R``); every case
records its R call.  Tolerance 1e-8 relative (saddlepoint p-values 1e-6).
"""

from __future__ import annotations

import dataclasses
import doctest
import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import surveylib as sl
from surveylib import inference as inf
from surveylib.inference import contrasts, raoscott, tables, ttests, waves

INFERENCE_MODULES = [tables, raoscott, ttests, contrasts, waves]

HERE = Path(__file__).parent / "conformance"
FIX = json.loads((HERE / "fixtures" / "inference.json").read_text())
RTOL = 1e-8


@cache
def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / name)


def load(name: str) -> pd.DataFrame:
    return _csv(name).copy()


def build(design_id: str) -> sl.SurveyDesign:
    """The fixture's design; ``dstack`` is built by stack_waves (R: rbind + svydesign)."""
    if design_id == "dstack":
        return inf.stack_waves(build("dwave1"), build("dwave2"), wave_col="wv",
                               labels=("w1", "w2"))
    s = FIX["designs"][design_id]
    return sl.SurveyDesign(load(s["data"]), strata=s["strata"], psu=s["psu"],
                           weights=s["weights"], fpc=s["fpc"], nest=s["nest"])


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol,
                               atol=0)


def table_of(case) -> inf.Crosstab:
    row = "wv" if case["row"] == "wave" else case["row"]
    return build(case["design"]).crosstab(row, case["col"])


# ----- svychisq ---------------------------------------------------------------------------------
CHISQ = [(c, m) for c in FIX["chisq"] for m in inf.CHISQ_METHODS if m != "lincom"]


@pytest.mark.parametrize("case,method", CHISQ, ids=[f"{c['id']}-{m}" for c, m in CHISQ])
def test_svychisq(case, method):
    """Statistic, df and p-value equal R svychisq(~row+col, design, statistic=method)."""
    res = table_of(case).test(method)
    r = case["results"][inf.R_STATISTIC[method]]
    close(res.statistic, r["statistic"])
    close(res.p_value, r["p_value"], rtol=1e-6 if method == "saddlepoint" else RTOL)
    if r["ndf"] is not None:
        close(res.df_num, r["ndf"])
    if r["ddf"] is not None:
        close(res.df_denom, r["ddf"])
    if method == "chisq":
        assert np.isinf(res.df_denom)


@pytest.mark.parametrize("case", FIX["chisq"], ids=[c["id"] for c in FIX["chisq"]])
def test_lincom_is_exact_and_near_the_saddlepoint(case):
    """R here lacks CompQuadForm and reports the saddlepoint value for lincom (its warning is
    recorded); ours integrates exactly, which the saddlepoint approximates."""
    assert any("CompQuadForm" in w for w in case["r_warnings"]["lincom"])
    res = table_of(case).test("lincom")
    sad = case["results"]["saddlepoint"]["p_value"]
    assert res.statistic == pytest.approx(case["results"]["lincom"]["statistic"], rel=RTOL)
    assert res.p_value == pytest.approx(sad, rel=0.2)
    assert res.p_value != pytest.approx(sad, rel=1e-3)


def test_lincom_reduces_to_f_with_equal_eigenvalues():
    """sum a chi2_1 (K terms) vs x chi2_ddf/ddf is an F(K, ddf) tail at x/(aK)."""
    for a, k, x, ddf in [(1.3, 3, 9.0, 30.5), (0.7, 1, 2.0, 12.0), (2.2, 8, 40.0, 150.0)]:
        exact = raoscott._pfsum_exact(x, np.full(k, a), ddf)
        assert exact == pytest.approx(stats.f.sf(x / (a * k), k, ddf), rel=1e-7)


def test_lincom_against_monte_carlo():
    a, x, ddf = np.array([1.7, 0.6, 0.2]), 6.0, 24.0
    rng = np.random.default_rng(20240701)
    n = 400_000
    q = a @ rng.chisquare(1, (3, n)) - x / ddf * rng.chisquare(ddf, n)
    mc = (q > 0).mean()
    assert raoscott._pfsum_exact(x, a, ddf) == pytest.approx(mc, abs=4 * np.sqrt(mc * (1 - mc) / n))


@pytest.mark.parametrize("case", FIX["tables"], ids=[c["id"] for c in FIX["tables"]])
def test_table_cells(case):
    """Cell shares (with covariance) and counts equal R svymean/svytotal(~interaction(row, col))."""
    tab = table_of(case)
    row = "wv" if case["row"] == "wave" else case["row"]
    f, fc = tab.cell_shares.to_frame(), tab.counts.to_frame()
    key = list(zip(f[row].astype(str), f["level"].astype(str), strict=True))
    pos = [key.index((a, b)) for a, b in zip(case["row_level"], case["col_level"], strict=True)]
    close(f["estimate"].to_numpy()[pos], case["share"])
    close(f["se"].to_numpy()[pos], case["share_se"])
    V = tab.cell_shares.vcov_matrix[np.ix_(pos, pos)]
    exp = np.asarray(case["share_vcov"])
    np.testing.assert_allclose(V, exp, rtol=RTOL, atol=1e-14 * np.abs(exp).max())
    close(fc["estimate"].to_numpy()[pos], case["count"])
    close(fc["se"].to_numpy()[pos], case["count_se"])


def test_zero_cell_is_in_the_table_with_zero_share():
    tab = build("dwave1").crosstab("region", "att")
    f = tab.cell_shares.to_frame()
    zero = f[(f["region"] == "R3") & (f["level"] == 5)]
    assert len(zero) == 1 and zero["estimate"].iloc[0] == 0 and zero["se"].iloc[0] == 0
    t = tab.table("row")
    assert t.loc["R3", 5] == 0
    np.testing.assert_allclose(t.sum(axis=1), 1.0, rtol=1e-12)


def test_shares_tables_agree_with_estimators():
    d = build("dstrat")
    tab = d.crosstab("stype", "sch.wide")
    direct = d.proportion("sch.wide", by="stype", ci_method="mean")
    close(tab.row_shares.values, direct.values, rtol=1e-12)
    close(tab.col_shares.to_frame()["estimate"],
          d.proportion("stype", by="sch.wide", ci_method="mean").values, rtol=1e-12)
    close(tab.counts.estimate.sum(), d.weights.sum(), rtol=1e-12)


def test_empty_levels_are_dropped():
    """An unused category changes nothing (R's factor() drops it)."""
    d = build("dstrat")
    data = d.data
    data["stype_cat"] = pd.Categorical(data["stype"], categories=["E", "H", "M", "X"])
    d2 = sl.SurveyDesign(data, strata="stype", weights="pw", fpc="fpc")
    a, b = d.crosstab("stype", "awards"), d2.crosstab("stype_cat", "awards")
    assert b.row_levels == ["E", "H", "M"]
    for m in ("F", "chisq", "wald", "saddlepoint"):
        assert a.test(m).statistic == pytest.approx(b.test(m).statistic, rel=1e-12)


def test_table_codes_of_a_full_design_equal_the_general_path():
    """Every row in the design with both values: the codes of non-categorical columns are the
    design's cached codes (no count, no recoding); the same columns as categoricals take the
    general path (a count of the levels observed) and give the same codes, levels and test."""
    rng = np.random.default_rng(3)
    psu = rng.integers(0, 40, 3000)
    df = pd.DataFrame({"h": psu % 4, "psu": psu, "w": rng.uniform(1, 3, 3000),
                       "a": rng.integers(0, 4, 3000), "b": rng.choice([2, 5, 9], 3000)})
    df["a_cat"] = pd.Categorical(df["a"])
    df["b_cat"] = pd.Categorical(df["b"])
    d = sl.SurveyDesign(df, strata="h", psu="psu", weights="w")
    fast = tables._table_codes(d, "a", "b")
    general = tables._table_codes(d, "a_cat", "b_cat")
    assert np.shares_memory(fast[0], d.factor_codes("a")[0])  # no new array of codes
    for x, y in zip(fast, general, strict=True):
        assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
    a, b = d.crosstab("a", "b"), d.crosstab("a_cat", "b_cat")
    close(a.cell_shares.values, b.cell_shares.values, rtol=1e-15)
    for m in ("F", "chisq", "wald"):
        assert a.test(m).statistic == pytest.approx(b.test(m).statistic, rel=1e-12)


def test_by_domains_equal_subset_designs():
    d = build("dclus1")
    tab = d.crosstab("sch.wide", "awards", by="stype")
    res = tab.test("F")
    assert set(res) == {"E", "H", "M"}
    for key, r in res.items():
        sub = d.subset(d.data["stype"] == key).crosstab("sch.wide", "awards").test("F")
        assert r.statistic == pytest.approx(sub.statistic, rel=1e-10)
        assert r.p_value == pytest.approx(sub.p_value, rel=1e-10)


def test_by_domain_tables_equal_subset_tables_cell_by_cell():
    """With by=, the counts and cell shares (one reduction over PSU x domain x cell) are, row
    for row, those of the table on each domain's subset: same order of keys (cell-major,
    domains within), estimates and covariance blocks; the conditional shares are computed on
    first use and equal R's svyby(~col, ~row + by, svymean) through proportion()."""
    d = build("dclus1")
    tab = d.crosstab("sch.wide", "awards", by="stype")
    f = tab.counts.to_frame()
    assert list(f.columns[:4]) == ["stype", "sch.wide", "variable", "level"]
    assert list(f["stype"].iloc[:3]) == ["E", "H", "M"]  # domains vary fastest
    for part in ("counts", "cell_shares"):
        est = getattr(tab, part)
        for key in ("E", "H", "M"):
            sub = getattr(d.subset(d.data["stype"] == key).crosstab("sch.wide", "awards"), part)
            idx = np.flatnonzero((est.keys["stype"] == key).to_numpy())
            assert est.keys.iloc[idx][["sch.wide", "level"]].reset_index(drop=True).equals(
                sub.keys[["sch.wide", "level"]])
            close(est.values[idx], sub.values, rtol=1e-12)
            np.testing.assert_allclose(est.vcov_matrix[np.ix_(idx, idx)], sub.vcov_matrix,
                                       rtol=1e-10, atol=1e-14 * np.abs(sub.vcov_matrix).max())
    direct = d.proportion("awards", by=["stype", "sch.wide"], ci_method="mean")
    close(tab.row_shares.values, direct.values, rtol=1e-12)


def test_missing_values_are_left_out_but_the_design_kept():
    d = build("dstrat")
    data = d.data
    data["aw_na"] = data["awards"].where(np.arange(len(data)) % 7 != 0)
    dn = sl.SurveyDesign(data, strata="stype", weights="pw", fpc="fpc")
    complete = dn.subset(data["aw_na"].notna())
    a, b = dn.crosstab("stype", "aw_na"), complete.crosstab("stype", "aw_na")
    close(a.cell_shares.values, b.cell_shares.values, rtol=1e-12)
    ra, rb = a.test("F"), b.test("F")
    assert ra.statistic == pytest.approx(rb.statistic, rel=1e-10)
    # as R: nu counts the PSUs of every row of the design, missing values included
    assert ra.df_denom / ra.df_num == pytest.approx(dn.degf(), rel=1e-12)
    assert rb.df_denom / rb.df_num == pytest.approx(complete.degf(), rel=1e-12)


def test_too_many_levels_is_a_clear_error():
    df = pd.DataFrame({"h": np.repeat([1, 2], 150), "id": np.arange(300),
                       "g": np.tile(["a", "b"], 150), "w": 1.5})
    d = sl.SurveyDesign(df, strata="h", weights="w")
    with pytest.raises(sl.ColumnError, match="'id' has 300 distinct values.*at most 200"):
        d.crosstab("id", "g")


def test_single_level_and_bad_method():
    d = build("dstrat")
    sub = d.subset(d.data["stype"] == "E")
    with pytest.raises(sl.SurveyDesignError, match="at least two levels"):
        sub.crosstab("stype", "awards").test()
    with pytest.raises(sl.SurveyDesignError, match="method='Rao'"):
        d.crosstab("stype", "awards").test("Rao")
    with pytest.raises(sl.SurveyDesignError, match="two different variables"):
        d.crosstab("stype", "stype")


def test_result_is_frozen_and_readable():
    r = build("dstrat").crosstab("stype", "sch.wide").test()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.statistic = 0.0
    assert "Rao & Scott" in str(r) and "independent" in str(r) and "p-value" in str(r)
    assert repr(r).startswith("TestResult(statistic=")


# ----- svyttest ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", FIX["ttest"], ids=[c["id"] for c in FIX["ttest"]])
def test_svyttest(case):
    d = build(case["design"])
    a = case["args"]
    if "subset_col" in a:
        d = d.subset(d.data[a["subset_col"]] == a["subset_value"])
    mu = 0.0
    if case["kind"] == "two":
        r = d.ttest(a["var"], by=a["by"])
    elif case["kind"] == "one":
        mu = a["mu"]
        r = d.ttest(a["var"], mu=mu)  # R: svyttest(I(y - mu) ~ 0) reports mean - mu
    else:
        r = d.ttest(tuple(a["var"]))
    close(r.estimate - mu, case["estimate"])
    close(r.statistic, case["statistic"])
    assert r.df == case["df"]
    close(r.p_value, case["p_value"])
    close(r.ci_low - mu, case["ci_low"])
    close(r.ci_high - mu, case["ci_high"])


def test_ttest_errors():
    d = build("dstrat")
    with pytest.raises(sl.SurveyDesignError, match="exactly two"):
        d.ttest("api00", by="stype")
    with pytest.raises(sl.SurveyDesignError, match="na_rm=True"):
        build("dclus1").ttest("acs.k3")
    r = build("dclus1").ttest("acs.k3", na_rm=True)
    assert np.isfinite(r.p_value)


# ----- svycontrast / Wald -----------------------------------------------------------------------
def _estimate(d, a):
    return getattr(d, a["estimator"])(a["variables"], by=a["by"])


@pytest.mark.parametrize("case", FIX["contrast"], ids=[c["id"] for c in FIX["contrast"]])
def test_svycontrast(case):
    d = build(case["design"])
    est = _estimate(d, case["args"])
    r = sl_contrast = d.contrast(est, case["coefficients"])  # dict name -> vector
    f = sl_contrast.to_frame()
    assert list(f["contrast"]) == case["names"]
    close(f["estimate"], case["estimate"])
    close(f["se"], case["se"])
    close(f["t"], case["t"])
    close(f["p_value"], case["p_value"])
    np.testing.assert_allclose(r.vcov_matrix, np.asarray(case["vcov"]), rtol=RTOL,
                               atol=1e-14 * np.abs(case["vcov"]).max())
    assert r.df == case["df"]


def test_contrast_forms_agree():
    d = build("dclus1")
    m = d.mean("api00", by="stype")
    vec = inf.contrast(m, [1, -1, 0])
    by_label = inf.contrast(m, {"E": 1, "H": -1})
    by_index = inf.contrast(m, {("E", "api00"): 1, ("H", "api00"): -1})
    close(by_label.values, vec.values, rtol=0)
    close(by_index.se, vec.se, rtol=0)


def test_contrast_errors():
    m = build("dclus1").mean("api00", by="stype")
    with pytest.raises(sl.SurveyDesignError, match="2 coefficient.*3 cells"):
        inf.contrast(m, [1, -1])
    with pytest.raises(sl.SurveyDesignError, match="cell 'X'"):
        inf.contrast(m, {"X": 1})


@pytest.mark.parametrize("case", FIX["wald"], ids=[c["id"] for c in FIX["wald"]])
def test_wald(case):
    est = _estimate(build(case["design"]), case["args"])
    f = inf.wald(est, np.asarray(case["matrix"]))
    c = inf.wald(est, np.asarray(case["matrix"]), form="chisq")
    close(f.statistic, case["F"])
    close(f.p_value, case["F_p"])
    assert f.df_denom == case["df"]
    close(c.statistic, case["chisq"])
    close(c.p_value, case["chisq_p"])


def test_wald_of_one_contrast_is_the_squared_t():
    m = build("dclus1").mean("api00", by="stype")
    t = inf.contrast(m, [1, -1, 0]).to_frame()
    w = inf.wald(m, [[1, -1, 0]])
    assert w.statistic == pytest.approx(t["t"].iloc[0] ** 2, rel=1e-12)
    assert w.p_value == pytest.approx(t["p_value"].iloc[0], rel=1e-10)
    with pytest.raises(sl.SurveyDesignError, match="singular"):
        inf.wald(m, [[1, -1, 0], [2, -2, 0]])


# ----- waves ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", FIX["compare"], ids=[c["id"] for c in FIX["compare"]])
def test_compare_against_stacked_design(case):
    """Differences and SEs equal R's svycontrast on the stacked design (strata nested in wave)."""
    a, b = build("dwave1"), build("dwave2")
    r = sl_compare = inf.compare(a, b, case["var"], by=case["by"], stat=case["stat"])
    f = sl_compare.to_frame()
    close(f["estimate_a"], case["estimate_a"])
    close(f["estimate_b"], case["estimate_b"])
    close(f["difference"], case["difference"])
    close(f["se"], case["se"])
    assert r.df == min(case["df_a"], case["df_b"])
    if case["level"] is not None:
        assert list(f["level"].astype(str)) == case["level"]
    if case["by_value"] is not None:
        assert list(f[case["by"]]) == case["by_value"]
    q = stats.t.ppf(0.975, min(case["df_a"], case["df_b"]))
    close(f["ci_high"] - f["difference"], q * np.asarray(case["se"]))


def test_compare_labels_adjustment_and_df():
    a, b = build("dwave1"), build("dwave2")
    r = inf.compare(a, b, "att").to_frame()
    expected = np.where(r["p_value"] < 0.05, np.where(r["difference"] > 0, "increase", "decrease"),
                        "no significant change")
    assert list(r["change"]) == list(expected)
    assert "increase" in set(r["change"])
    from statsmodels.stats.multitest import multipletests

    for adj, sm in (("holm", "holm"), ("bh", "fdr_bh")):
        ra = inf.compare(a, b, "att", adjust=adj).to_frame()
        close(ra["p_adjusted"], multipletests(r["p_value"], method=sm)[1], rtol=1e-12)
    sat = inf.compare(a, b, "score", stat="mean", df="satterthwaite")
    va, vb = a.mean("score").vcov_matrix[0, 0], b.mean("score").vcov_matrix[0, 0]
    expected_df = (va + vb) ** 2 / (va**2 / a.degf() + vb**2 / b.degf())
    assert sat.df == pytest.approx(expected_df, rel=1e-12)


def test_compare_level_missing_in_one_wave_and_domain_errors():
    a, b = build("dwave1"), build("dwave2")
    a5 = a.subset(a.data["att"] != 5)
    f = inf.compare(a5, b, "att").to_frame()
    row5 = f[f["level"] == 5]
    assert row5["estimate_a"].iloc[0] == 0
    close(row5["se"], b.proportion("att").se.to_numpy()[-1:], rtol=1e-12)
    with pytest.raises(sl.SurveyDesignError, match="domains of \\['region'\\] differ"):
        inf.compare(a.subset(a.data["region"] != "R3"), b, "score", by="region", stat="mean")
    with pytest.raises(sl.ColumnError, match="'nope' is not in design_a"):
        inf.compare(a, b, "nope")


def test_compare_distribution_is_svychisq_on_the_stacked_design():
    case = next(c for c in FIX["chisq"] if c["id"] == "stack_wave_att")
    for m in ("F", "chisq", "adjwald"):
        r = inf.compare_distribution(build("dwave1"), build("dwave2"), "att", method=m,
                                     wave_col="wv")
        close(r.p_value, case["results"][inf.R_STATISTIC[m]]["p_value"])
        assert "same in both waves" in r.null


def test_stack_waves_requires_matching_designs_and_keeps_inputs():
    a = build("dwave1")
    before = a.data.copy()
    unstrat = sl.SurveyDesign(load("synth_wave2.csv"), psu="psu", weights="weight")
    with pytest.raises(sl.SurveyDesignError, match="one design is stratified"):
        inf.stack_waves(a, unstrat, wave_col="wv")
    with pytest.raises(sl.ColumnError, match="already exists"):
        inf.stack_waves(a, build("dwave2"))
    s = inf.stack_waves(a, build("dwave2"), wave_col="wv")
    assert s.degf() == a.degf() + build("dwave2").degf()
    pd.testing.assert_frame_equal(a.data, before)


def test_inputs_unchanged_and_docstrings_run():
    d = build("dstrat")
    before = d.data.copy()
    d.crosstab("stype", "awards").test("wald")
    d.ttest("api00", by="sch.wide")
    pd.testing.assert_frame_equal(d.data, before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = [doctest.testmod(m, optionflags=doctest.ELLIPSIS) for m in INFERENCE_MODULES]
    assert sum(r.attempted for r in runs) >= 4 and sum(r.failed for r in runs) == 0


def test_docs_examples_run():
    """docs/inference.md's examples are doctests; their printed numbers are checked here."""
    path = Path(__file__).parents[1] / "docs" / "inference.md"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = doctest.testfile(str(path), module_relative=False,
                               optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted >= 10 and res.failed == 0


# ----- compare with a normal reference (R confint of svycontrast) ------------------------------
COMPARE_NORMAL = json.loads((HERE / "fixtures" / "waves_normal.json").read_text())["cases"]


@pytest.mark.parametrize("case", COMPARE_NORMAL, ids=[c["id"] for c in COMPARE_NORMAL])
def test_compare_with_a_normal_reference(case):
    """df="normal": z tests and normal intervals equal R's confint(svycontrast(...)) on the
    stacked design and 2 pnorm(-|z|) (fixtures/waves_normal.json, r/waves_normal.R)."""
    a, b = build("dwave1"), build("dwave2")
    r = inf.compare(a, b, case["var"], by=case["by"], stat=case["stat"], df="normal",
                    level=case["level"])
    f = r.to_frame()
    close(f["difference"], case["difference"])
    close(f["se"], case["se"])
    close(f["p_value"], case["p_value"])
    close(f["ci_low"], case["ci_low"])
    close(f["ci_high"], case["ci_high"])
    assert np.isinf(r.df) and "normal" in r.inference


# ----- waves of replicate-weight designs: stacked block-diagonally, never dropped ------------
def _wave_frame(seed, n):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"st": np.repeat([1, 2], n // 2), "psu": np.arange(n) // 2,
                         "w": rng.uniform(1, 3, n), "y": rng.normal(size=n) + seed,
                         "g": rng.choice(["a", "b", "c"], n)})


def _wave_pairs():
    da = sl.SurveyDesign(_wave_frame(1, 20), strata="st", psu="psu", weights="w")
    db = sl.SurveyDesign(_wave_frame(2, 28), strata="st", psu="psu", weights="w")
    dc = sl.SurveyDesign(_wave_frame(3, 24), psu="psu", weights="w")  # unstratified: JK1
    return [(da.to_replicates("jkn", mse=True), db.to_replicates("jkn", mse=True)),
            (dc.to_replicates("jk1", mse=True), db.to_replicates("jkn", mse=True)),
            (da.to_replicates("bootstrap", replicates=30, seed=1, mse=True),
             db.to_replicates("bootstrap", replicates=45, seed=2, mse=True))]


@pytest.mark.parametrize("pair", range(3))
def test_stacked_replicate_waves_keep_each_waves_variance(pair):
    ra, rb = _wave_pairs()[pair]
    s = sl.stack_waves(ra, rb)
    assert s.engine.kind == "replicate"
    assert s.n_replicates == ra.n_replicates + rb.n_replicates
    for stat in ("mean", "total"):
        got = getattr(s, stat)("y", by="wave").to_frame().set_index("wave")
        for label, d in (("a", ra), ("b", rb)):
            own = getattr(d, stat)("y")
            assert got.loc[label, "estimate"] == pytest.approx(own.estimate.iloc[0], rel=1e-12)
            assert got.loc[label, "se"] == pytest.approx(own.se.iloc[0], rel=1e-10)
    # the contrast of independent waves has variance V_a + V_b
    c = sl.compare(ra, rb, "y", stat="mean").to_frame()
    va, vb = ra.mean("y").se.iloc[0] ** 2, rb.mean("y").se.iloc[0] ** 2
    assert c["se"].iloc[0] == pytest.approx(np.sqrt(va + vb), rel=1e-10)
    assert c["difference"].iloc[0] == pytest.approx(
        rb.mean("y").estimate.iloc[0] - ra.mean("y").estimate.iloc[0], rel=1e-12)


@pytest.mark.parametrize("pair", range(3))
def test_compare_distribution_of_replicate_waves_uses_both_waves_replicates(pair):
    ra, rb = _wave_pairs()[pair]
    res = sl.compare_distribution(ra, rb, "g")
    # Rao-Scott F: denominator df = numerator df x design df, the stacked design's df being
    # the sum of the waves' (R svychisq's ddf = ndf * degf)
    assert res.df_denom / res.df_num == pytest.approx(ra.degf() + rb.degf(), rel=1e-12)
    # the shares' SEs behind the test are each wave's own replicate SEs
    s = sl.stack_waves(ra, rb)
    got = s.proportion("g", by="wave").to_frame().set_index(["wave", "level"])["se"]
    for label, d in (("a", ra), ("b", rb)):
        own = d.proportion("g").to_frame().set_index("level")["se"]
        np.testing.assert_allclose(got.loc[label].loc[own.index], own, rtol=1e-10)


def test_stacked_replicate_subsets_and_errors():
    ra, rb = _wave_pairs()[0]
    sa = ra.subset(ra.data["g"].eq("a").to_numpy())
    s = sl.stack_waves(sa, rb)
    got = s.mean("y", by="wave").to_frame().set_index("wave")
    assert got.loc["a", "se"] == pytest.approx(sa.mean("y").se.iloc[0], rel=1e-10)
    taylor = sl.SurveyDesign(_wave_frame(3, 20), strata="st", psu="psu", weights="w")
    with pytest.raises(sl.SurveyDesignError, match="one replicate-weight design and one Taylor"):
        sl.stack_waves(ra, taylor)
    with pytest.raises(sl.SurveyDesignError, match="to_replicates"):
        sl.compare_distribution(taylor, rb, "g")
    plain = taylor.to_replicates("jkn")  # mse=False: the stacked design centres at the estimate
    with pytest.warns(sl.SurveyWarning, match="mse=True"):
        sl.stack_waves(plain, rb)


@pytest.mark.parametrize("method, sm", [("holm", "holm"), ("bonferroni", "bonferroni"),
                                        ("bh", "fdr_bh")])
def test_adjust_pvalues_equals_statsmodels_and_keeps_nan(method, sm):
    """surveylib's p-value adjustment (no gc.collect per call) = statsmodels multipletests,
    which implements R's p.adjust; ties and NaN included."""
    from statsmodels.stats.multitest import multipletests

    from surveylib.inference import adjust_pvalues

    rng = np.random.default_rng(7)
    p = np.round(rng.uniform(0, 0.2, 40), 3)  # rounding makes ties
    np.testing.assert_allclose(adjust_pvalues(p, method), multipletests(p, method=sm)[1],
                               rtol=1e-15, atol=0)
    with_nan = np.concatenate([p[:5], [np.nan]])
    got = adjust_pvalues(with_nan, method)
    assert np.isnan(got[5])
    np.testing.assert_allclose(got[:5], multipletests(p[:5], method=sm)[1], rtol=1e-15)


def test_crosstab_codes_memoised_per_design_without_leaking():
    """A design memoises a table's row/col codes: a second table equals the first, editing a
    table's level list does not reach the next one, and a subset has codes of its own."""
    df = _csv("apistrat.csv")
    d = sl.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")
    a = d.crosstab("stype", "sch.wide")
    stat_a = a.test().statistic
    a.row_levels.append("edited")
    b = d.crosstab("stype", "sch.wide")
    assert b.row_levels == ["E", "H", "M"]
    np.testing.assert_array_equal(a.counts.values, b.counts.values)
    assert b.test().statistic == stat_a
    sub = d.subset((df["stype"] != "H").to_numpy())
    s = sub.crosstab("stype", "sch.wide")
    assert s.row_levels == ["E", "M"]
    fresh = sl.SurveyDesign(df[df["stype"] != "H"], strata="stype", weights="pw", fpc="fpc")
    np.testing.assert_allclose(s.counts.values, fresh.crosstab("stype", "sch.wide").counts.values,
                               rtol=1e-12)
