"""The design object: closed forms, invariances and bad input.

Expected values here come from textbook closed forms (Cochran 1977, ch. 5: the stratified
mean and its variance), from identities every design-based estimator must satisfy, or are the
error conditions themselves.  R's numbers are in ``tests/conformance``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import surveylib as sl


@pytest.fixture
def strat_df():
    rng = np.random.default_rng(20261125)
    sizes = {"A": 12, "B": 20, "C": 8}
    pops = {"A": 300, "B": 1000, "C": 50}
    rows = []
    for h, n in sizes.items():
        y = rng.normal(10 + len(h) * ord(h) % 7, 2 + ord(h) % 3, size=n)
        for v in y:
            rows.append({"h": h, "y": v, "N": pops[h], "w": pops[h] / n,
                         "g": rng.choice(["x", "y", "z"]), "c": rng.choice(["p", "q"])})
    return pd.DataFrame(rows)


def test_stratified_mean_matches_cochran_closed_form(strat_df):
    """ybar_st = sum W_h ybar_h; V = sum W_h^2 (1 - f_h) s_h^2 / n_h (Cochran 5.6, 5.7)."""
    df = strat_df
    d = sl.SurveyDesign(df, strata="h", weights="w", fpc="N")
    res = d.mean("y")
    g = df.groupby("h")
    N = g["N"].first()
    n = g.size()
    Wh = N / N.sum()
    ybar = g["y"].mean()
    s2 = g["y"].var(ddof=1)
    expected = float((Wh * ybar).sum())
    var = float((Wh**2 * (1 - n / N) * s2 / n).sum())
    assert res.estimate.iloc[0] == pytest.approx(expected, rel=1e-12)
    assert res.se.iloc[0] == pytest.approx(np.sqrt(var), rel=1e-12)
    assert res.df == len(df) - 3
    tot = d.total("y")
    assert tot.estimate.iloc[0] == pytest.approx(float((N * ybar).sum()), rel=1e-12)
    assert tot.se.iloc[0] == pytest.approx(float(np.sqrt((N**2 * (1 - n / N) * s2 / n).sum())), rel=1e-12)


def test_proportion_closed_form_and_levels_sum_to_one(strat_df):
    d = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    p = d.proportion("g", ci_method="wald")
    assert p.estimate.sum() == pytest.approx(1.0, rel=1e-14)
    # each share equals the mean of its indicator
    ind = strat_df.assign(gx=(strat_df["g"] == "x").astype(float))
    m = sl.SurveyDesign(ind, strata="h", weights="w", fpc="N").mean("gx")
    assert p.estimate.loc["g", "x"] == pytest.approx(m.estimate.iloc[0], rel=1e-14)
    assert p.se.loc["g", "x"] == pytest.approx(m.se.iloc[0], rel=1e-12)
    # the covariance of all levels is singular: shares sum to one
    assert abs(p.vcov.to_numpy().sum()) < 1e-14


def test_wilson_interval_equals_closed_form_at_effective_n(strat_df):
    """Wilson score interval with n_eff = p(1-p)/v and the t quantile (documented formula)."""
    from scipy import stats

    d = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    r = d.proportion("c", ci_method="wilson")
    p = r.estimate.loc["c", "p"]
    v = r.se.loc["c", "p"] ** 2
    n = p * (1 - p) / v
    z = stats.t.ppf(0.975, r.df)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    ci = r.ci()
    assert ci.loc[("c", "p"), "ci_low"] == pytest.approx(centre - half, rel=1e-12)
    assert ci.loc[("c", "p"), "ci_high"] == pytest.approx(centre + half, rel=1e-12)


def test_by_domain_equals_subset(strat_df):
    """A domain estimate by= equals the subset-design estimate (R's domain convention)."""
    d = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    by = d.mean("y", by="g")
    for lev in ["x", "y", "z"]:
        sub = d.subset(strat_df["g"] == lev).mean("y")
        assert by.estimate.loc[(lev, "y")] == pytest.approx(sub.estimate.iloc[0], rel=1e-13)
        assert by.se.loc[(lev, "y")] == pytest.approx(sub.se.iloc[0], rel=1e-12)
    q = d.subset("g == 'x'").mean("y")
    assert q.estimate.iloc[0] == pytest.approx(by.estimate.loc[("x", "y")], rel=1e-13)


def test_mean_equals_ratio_to_constant(strat_df):
    d = sl.SurveyDesign(strat_df.assign(one=1.0), strata="h", weights="w", fpc="N")
    m, r = d.mean("y", by="g"), d.ratio("y", "one", by="g")
    np.testing.assert_allclose(m.values, r.values, rtol=1e-13)
    np.testing.assert_allclose(m.vcov_matrix, r.vcov_matrix, rtol=1e-11)


def test_invariances(strat_df):
    """Row order, stratum labels and weight scale do not change what they should not."""
    d = sl.SurveyDesign(strat_df, strata="h", weights="w")
    base = d.mean(["y"], by="g")
    perm = strat_df.sample(frac=1.0, random_state=3)
    p = sl.SurveyDesign(perm, strata="h", weights="w").mean(["y"], by="g")
    np.testing.assert_allclose(base.values, p.values, rtol=1e-13)
    np.testing.assert_allclose(base.se, p.se, rtol=1e-11)
    relab = strat_df.assign(h=strat_df["h"].map({"A": "zz", "B": "aa", "C": "mm"}))
    r = sl.SurveyDesign(relab, strata="h", weights="w").mean(["y"], by="g")
    np.testing.assert_allclose(base.se, r.se, rtol=1e-11)
    scaled = strat_df.assign(w=strat_df["w"] * 3.5)
    ds = sl.SurveyDesign(scaled, strata="h", weights="w")
    np.testing.assert_allclose(ds.mean("y").values, d.mean("y").values, rtol=1e-13)
    np.testing.assert_allclose(ds.mean("y").se, d.mean("y").se, rtol=1e-11)
    np.testing.assert_allclose(ds.total("y").values, 3.5 * d.total("y").values, rtol=1e-13)
    np.testing.assert_allclose(ds.total("y").se, 3.5 * d.total("y").se, rtol=1e-11)


def test_integer_weights_equal_repeated_rows_for_point_estimates():
    df = pd.DataFrame({"y": [1.0, 4.0, 2.5, 7.0], "w": [1, 3, 2, 1]})
    rep = df.loc[df.index.repeat(df["w"])].assign(w=1)
    a = sl.SurveyDesign(df, weights="w")
    b = sl.SurveyDesign(rep, weights="w")
    assert a.mean("y").values[0] == pytest.approx(b.mean("y").values[0], rel=1e-14)
    with warnings.catch_warnings():  # 4 rows: the Woodruff interval leaves the data (R: NaN)
        warnings.simplefilter("ignore", sl.SurveyWarning)
        assert a.quantile("y", [0.5]).values[0] == b.quantile("y", [0.5]).values[0]


def test_input_frame_not_mutated(strat_df):
    before = strat_df.copy(deep=True)
    d = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    d.mean("y", by="g")
    d.proportion("g", by="c")
    d.subset(strat_df["g"] == "x").total("y")
    d.quantile("y", [0.25, 0.5])
    pd.testing.assert_frame_equal(strat_df, before)


def test_design_is_immutable(strat_df):
    d = sl.SurveyDesign(strat_df, strata="h", weights="w")
    with pytest.raises(AttributeError):
        d._weights = None
    sub = d.subset(strat_df["g"] == "x")
    assert len(d) == len(strat_df) and len(sub) < len(d)


def test_polars_input_is_accepted(strat_df):
    pl = pytest.importorskip("polars")
    d1 = sl.SurveyDesign(strat_df, strata="h", weights="w")
    frame = pl.DataFrame({c: strat_df[c].to_numpy() for c in ["h", "y", "w"]})
    d2 = sl.SurveyDesign(frame, strata="h", weights="w")
    np.testing.assert_allclose(d1.mean("y").values, d2.mean("y").values, rtol=1e-14)


def test_to_frame_has_fixed_columns_and_prints(strat_df):
    d = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    f = d.proportion("g", by=["c"]).to_frame()
    assert list(f.columns) == ["c", "variable", "level", "estimate", "se", "ci_low", "ci_high",
                               "df", "deff", "n"]
    text = str(d.mean("y"))
    assert "Taylor linearisation" in text and "df = " in text and "lonely_psu" in text
    assert "<table" in d.mean("y")._repr_html_()


def test_normal_interval_is_r_confint_default(strat_df):
    from scipy import stats

    r = sl.SurveyDesign(strat_df, strata="h", weights="w").mean("y")
    ci = r.ci(df=float("inf"))
    z = stats.norm.ppf(0.975)
    assert ci["ci_low"].iloc[0] == pytest.approx(r.values[0] - z * r.se.iloc[0], rel=1e-14)


def test_na_rm_per_variable_and_complete():
    df = pd.DataFrame({"h": [1, 1, 1, 2, 2, 2], "a": [1.0, np.nan, 3, 4, 5, 6],
                       "b": [2.0, 2, np.nan, 1, 1, 3], "w": [1.0] * 6})
    d = sl.SurveyDesign(df, strata="h", weights="w")
    with pytest.raises(sl.SurveyDesignError, match="'a' has 1 missing"):
        d.mean("a")
    per = d.mean(["a", "b"], na_rm=True)
    assert per.estimate["a"] == pytest.approx(np.mean([1, 3, 4, 5, 6]))
    assert per.estimate["b"] == pytest.approx(np.mean([2, 2, 1, 1, 3]))
    comp = d.mean(["a", "b"], na_rm="complete")
    assert comp.estimate["a"] == pytest.approx(np.mean([1, 4, 5, 6]))
    assert list(comp.n) == [4, 4]


# ----- bad input ---------------------------------------------------------------------------
def base_df():
    return pd.DataFrame({"h": [1, 1, 2, 2], "p": [1, 2, 3, 4], "w": [1.0, 2, 3, 4],
                         "y": [1.0, 2, 3, 4], "s": ["a", "b", "a", "b"], "N": [10, 10, 20, 20]})


@pytest.mark.parametrize(
    "change, kwargs, match",
    [
        (None, {"weights": "wt"}, "weights column\\(s\\) \\['wt'\\] not found"),
        (None, {"strata": "H"}, "did you mean 'h'"),
        (lambda d: d.assign(w=[1.0, np.nan, 3, 4]), {"weights": "w"}, "1 missing value"),
        (lambda d: d.assign(w=[1.0, -2, 3, 4]), {"weights": "w"}, "non-positive"),
        (lambda d: d.assign(w=[1.0, 0, 3, 4]), {"weights": "w"}, "non-positive"),
        (lambda d: d.assign(h=[1, None, 2, 2]), {"weights": "w", "strata": "h"}, "strata column 'h' has 1 missing"),
        (lambda d: d.assign(N=[1, 1, 20, 20]), {"weights": "w", "strata": "h", "fpc": "N"}, "but 2 were sampled"),
        (lambda d: d.assign(N=[10, 11, 20, 20]), {"weights": "w", "strata": "h", "fpc": "N"}, "varies within stratum 1"),
        (lambda d: d.assign(p=[1, 2, 1, 2]), {"weights": "w", "strata": "h", "psu": "p"}, "nest=True"),
        (None, {"weights": "w", "probs": "w"}, "not both"),
        (None, {"weights": "w", "lonely_psu": "drop"}, "lonely_psu='drop'"),
        (lambda d: d.assign(q=[0.5, 2.0, 0.5, 0.5]), {"probs": "q"}, "above 1"),
    ],
)
def test_bad_design_input_is_named(change, kwargs, match):
    df = base_df() if change is None else change(base_df())
    with pytest.raises(sl.SurveyDesignError, match=match):
        sl.SurveyDesign(df, **kwargs)


def test_lonely_psu_fail_names_stratum():
    df = base_df().assign(h=[1, 1, 2, 3])
    with pytest.raises(sl.LonelyPSUError, match=r"\['2', '3'\].*lonely_psu='adjust'"):
        sl.SurveyDesign(df, strata="h", weights="w")
    with pytest.warns(sl.SingletonWarning, match="handled by lonely_psu='remove'"):
        sl.SurveyDesign(df, strata="h", weights="w", lonely_psu="remove")


def test_estimator_bad_input():
    d = sl.SurveyDesign(base_df(), strata="h", weights="w")
    with pytest.raises(sl.ColumnError, match="not numeric.*proportion"):
        d.mean("s")
    with pytest.raises(sl.ColumnError, match="'zz'"):
        d.mean("zz")
    with pytest.raises(sl.SurveyDesignError, match="strictly between 0 and 1"):
        d.quantile("y", [1.5])
    with pytest.raises(sl.SurveyDesignError, match="ci_method='exact'"):
        d.proportion("s", ci_method="exact")
    with pytest.raises(sl.SurveyDesignError, match="level=1.2"):
        d.mean("y").ci(level=1.2)
    big = pd.DataFrame({"y": np.arange(1000.0), "w": 1.0})
    with pytest.raises(sl.ColumnError, match="1000 distinct values"):
        sl.SurveyDesign(big, weights="w").proportion("y")
    with pytest.raises(sl.SurveyDesignError, match="subset contains no rows"):
        d.subset(np.zeros(4, dtype=bool))
    with pytest.raises(sl.SurveyDesignError, match="subset mask has 1 missing"):
        d.subset(pd.Series([True, None, True, False]))


def test_equal_probability_default_warns():
    with pytest.warns(sl.AssumptionWarning, match="equal probability"):
        d = sl.SurveyDesign(base_df(), strata="h")
    assert (d.weights == 1).all()


def test_fpc_weights_when_no_weights_given():
    """Without weights, weights are N_h/n_h from the fpc (R svydesign)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = sl.SurveyDesign(base_df(), strata="h", fpc="N")
    np.testing.assert_allclose(d.weights.to_numpy(), [5, 5, 10, 10])


def test_domains_absent_from_a_subset_are_dropped_and_the_rest_unchanged(strat_df):
    """by= on a subset that excludes a whole domain: that domain is absent (R svyby) and the
    others equal the estimates of the corresponding subsets of the full design."""
    d = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    sub = d.subset(strat_df["g"] != "z")
    by = sub.mean("y", by="g")
    assert list(by.estimate.index.get_level_values("g")) == ["x", "y"]
    for lev in ["x", "y"]:
        direct = d.subset(strat_df["g"] == lev).mean("y")
        assert by.estimate.loc[(lev, "y")] == pytest.approx(direct.values[0], rel=1e-13)
        assert by.se.loc[(lev, "y")] == pytest.approx(direct.se.iloc[0], rel=1e-12)
    shares = sub.proportion("c", by="g", ci_method="wald")
    assert set(shares.estimate.index.get_level_values("g")) == {"x", "y"}
    # repeated calls reuse the design's cache and give identical numbers
    again = sub.mean("y", by="g")
    np.testing.assert_array_equal(again.values, by.values)
    np.testing.assert_array_equal(again.vcov_matrix, by.vcov_matrix)


def test_cache_of_a_design_does_not_leak_into_weighted_or_subset_copies(strat_df):
    fresh = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    used = sl.SurveyDesign(strat_df, strata="h", weights="w", fpc="N")
    used.mean("y", by="g")  # fills the caches of `used`
    used.proportion("c")
    pop = {"p": 700.0, "q": 650.0}
    a = used.poststratify("c", pop).mean("y", by="g")
    b = fresh.poststratify("c", pop).mean("y", by="g")
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_allclose(a.vcov_matrix, b.vcov_matrix, rtol=1e-14)
    s1 = used.subset(strat_df["h"] != "C").proportion("c")
    s2 = fresh.subset(strat_df["h"] != "C").proportion("c")
    np.testing.assert_array_equal(s1.values, s2.values)
    assert s1.df == s2.df == int((strat_df["h"] != "C").sum()) - 2


def test_ratio_design_effect_of_large_nearly_proportional_values():
    """The SRS variance behind a ratio's design effect is ``sum w (y - R x)^2``: with values
    near 2e6 and residuals near 1, the expansion ``sum w y^2 - 2 R sum w x y + R^2 sum w x^2``
    of unshifted values kept about 4 digits (relative error 5e-4).  The squares are summed on
    ``y - a`` and ``x - b``; the design effect is checked against the two-pass formula."""
    rng = np.random.default_rng(3)
    n = 2000
    x = 1e6 + rng.normal(0, 1e3, n)
    y = 2 * x + rng.normal(0, 1, n)
    w = rng.uniform(5, 15, n)
    df = pd.DataFrame({"y": y, "x": x, "w": w, "h": np.arange(n) % 4, "p": np.arange(n) % 40})
    r = sl.SurveyDesign(df, strata="h", psu="p", weights="w").ratio("y", "x")
    R = (w * y).sum() / (w * x).sum()
    e = y - R * x
    W = w.sum()
    v_srs = ((w * e * e).sum() / W * n / (n - 1) * (W / (w * x).sum()) ** 2
             * (W - n) / (W * n))
    assert r.deff.iloc[0] == pytest.approx(float(r.se.iloc[0]) ** 2 / v_srs, rel=1e-8)


def _srs_variance_of_mean(y, w):
    """R's without-replacement SRS variance of a weighted mean, by the two-pass formula."""
    n, W = len(y), w.sum()
    e = y - (w * y).sum() / W
    return (w * e * e).sum() / W * n / (n - 1) * (W - n) / (W * n)


def test_total_and_replicate_mean_design_effects_of_large_values():
    """Totals, and means on replicate designs, are summed without centring; their squares
    are now taken around a value near the mean.  Values near 3e7 with spread 1: the unshifted
    ``sum w y^2 - (sum w y)^2 / sum w`` kept no digit (the total's design effect was 20% off).
    Checked against the two-pass formula: the total's SRS variance is ``W^2`` times the
    mean's."""
    rng = np.random.default_rng(8)
    n = 4000
    y = 3e7 + rng.normal(0, 1, n)
    w = rng.uniform(5, 15, n)
    df = pd.DataFrame({"y": y, "w": w, "h": np.arange(n) % 4, "p": np.arange(n) % 40})
    d = sl.SurveyDesign(df, strata="h", psu="p", weights="w")
    v_mean = _srs_variance_of_mean(y, w)
    t = d.total("y")
    assert t.deff.iloc[0] == pytest.approx(float(t.se.iloc[0]) ** 2 / (v_mean * w.sum() ** 2),
                                           rel=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        m = d.to_replicates("jkn").mean("y")
    assert m.deff.iloc[0] == pytest.approx(float(m.se.iloc[0]) ** 2 / v_mean, rel=1e-8)
