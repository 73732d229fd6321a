"""Property tests for the core: invariances every estimator and both variance engines obey.

In the spirit of scikit-learn's common estimator checks, each property runs over every
estimator (mean, total, proportion, ratio, quantile, var) and both engines (Taylor
linearisation, and the replicate design ``to_replicates("jkn")`` of the same design) on
random stratified cluster samples drawn by hypothesis.  The expected values are closed forms:
an invariance (the same numbers), a scaling (totals times c), a sum (shares add to one) or the
algebraic identity of the JKn variance of a total with the Taylor one.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import surveylib as sl

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ENGINES = ("taylor", "jkn")
RTOL = 1e-9

# each estimator: a call on a design, with or without by=
ESTIMATORS = {
    "mean": lambda d, **k: d.mean("y", **k),
    "total": lambda d, **k: d.total("y", **k),
    "proportion": lambda d, **k: d.proportion("g", **k),
    "ratio": lambda d, **k: d.ratio("y", "x", **k),
    "quantile": lambda d, **k: d.quantile("y", (0.25, 0.5), **k),
    "var": lambda d, **k: d.var("y", **k),
}
SCALE_FREE = ("mean", "proportion", "ratio", "quantile", "var")  # unchanged by w -> c w


@st.composite
def samples(draw):
    """A stratified two-stage-labelled sample: 2-3 strata, 2-4 PSUs each, 1-3 rows per PSU;
    PSU ids restart in every stratum (so the design needs ``nest=True``)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_strata = draw(st.integers(2, 3))
    rows = []
    for h in range(n_strata):
        for j in range(draw(st.integers(2, 4))):
            rows += [(h + 1, j + 1)] * draw(st.integers(1, 3))
    n = len(rows)
    df = pd.DataFrame(rows, columns=["st", "psu"])
    df["w"] = rng.uniform(0.5, 5.0, n)
    df["y"] = np.round(rng.normal(10, 5, n), 3)
    df["x"] = rng.uniform(1.0, 3.0, n)
    g = rng.choice(["a", "b", "c"], n)
    g[:3] = ["a", "b", "c"]
    df["g"] = g
    dom = rng.choice(["u", "v"], n)
    dom[:2] = ["u", "v"]
    df["dom"] = dom
    return df


def design(df, engine, **kw):
    opts = dict(strata="st", psu="psu", weights="w", nest=True) | kw
    d = sl.SurveyDesign(df, **opts)
    if engine == "jkn":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.SurveyWarning)
            d = d.to_replicates("jkn")
    return d


def numbers(result):
    """(estimate, se) of a result, in its row order."""
    f = result.to_frame()
    return f["estimate"].to_numpy(dtype=float), f["se"].to_numpy(dtype=float)


def assert_same(a, b, *, rtol=RTOL, scale=1.0, se_scale=None):
    ea, sa = numbers(a)
    eb, sb = numbers(b)
    np.testing.assert_allclose(eb, ea * scale, rtol=rtol, atol=1e-12 * max(1.0, np.abs(ea).max()))
    np.testing.assert_allclose(sb, sa * (scale if se_scale is None else se_scale), rtol=rtol,
                               atol=1e-10 * max(1.0, np.abs(sa).max()))


def run_all(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: f(d, **kw) for name, f in ESTIMATORS.items()}


# ----------------------------------------------------------------------------- invariances
@pytest.mark.parametrize("engine", ENGINES)
@SETTINGS
@given(samples(), st.randoms(use_true_random=False))
def test_row_order_and_index_labels_change_nothing(engine, df, rnd):
    base = run_all(design(df, engine))
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = df.iloc[order]
    labels = [f"r{i}" for i in range(len(df))]
    rnd.shuffle(labels)
    relabelled = shuffled.set_axis(labels)
    for frame in (shuffled, relabelled):
        got = run_all(design(frame, engine))
        for name in ESTIMATORS:
            assert_same(base[name], got[name])


@pytest.mark.parametrize("engine", ENGINES)
@SETTINGS
@given(samples(), st.randoms(use_true_random=False))
def test_psu_relabelling_and_nesting_change_nothing(engine, df, rnd):
    base = run_all(design(df, engine))
    # PSU ids unique across strata, so nest=False describes the same design
    unique = df.assign(psu=df["st"].astype(str) + "-" + df["psu"].astype(str))
    # any one-to-one relabelling of the (stratum, PSU) pairs
    pairs = sorted(set(zip(df["st"], df["psu"], strict=True)))
    new = [f"p{i}" for i in range(len(pairs))]
    rnd.shuffle(new)
    mapping = dict(zip(pairs, new, strict=True))
    relabelled = df.assign(psu=[mapping[p] for p in zip(df["st"], df["psu"], strict=True)])
    for frame, nest in ((unique, False), (relabelled, False), (relabelled, True)):
        got = run_all(design(frame, engine, nest=nest))
        for name in ESTIMATORS:
            assert_same(base[name], got[name])


@pytest.mark.parametrize("engine", ENGINES)
@SETTINGS
@given(samples(), st.floats(0.01, 1000.0))
def test_weight_scaling(engine, df, c):
    """w -> c w leaves means, shares, ratios, quantiles and variances unchanged and multiplies
    totals and their SEs by c."""
    base = run_all(design(df, engine))
    got = run_all(design(df.assign(w=df["w"] * c), engine))
    for name in ESTIMATORS:
        assert_same(base[name], got[name], rtol=1e-8, scale=1.0 if name in SCALE_FREE else c)


# a sample where domain v's median sits on its largest value (57% of the domain's weight): the
# Woodruff interval's upper CDF limit passes the domain's last value (found by the domain
# property below, seed 139 of its generator)
SKEWED_DOMAIN = pd.DataFrame({
    "st": [1, 1, 1, 1, 1, 1, 1, 2, 2, 2], "psu": [1, 1, 1, 2, 2, 3, 3, 1, 1, 2],
    "w": [4.774016284823779, 0.8925753143791856, 3.9661306528624736, 1.535222382751989,
          4.415259893098173, 3.914883871452214, 0.8596553975443659, 1.0641976441466272,
          1.1024447055235203, 4.952708817670829],
    "y": [12.299, 12.304, 8.954, 14.723, 16.616, 7.082, 12.783, 12.266, 6.459, 5.458],
    "x": [2.03, 2.78, 2.53, 1.06, 2.91, 1.18, 2.37, 1.66, 2.34, 1.03],
    "g": ["a", "b", "c", "a", "a", "c", "b", "a", "a", "a"],
    "dom": ["u", "v", "u", "v", "v", "u", "v", "u", "u", "u"]})


@pytest.mark.parametrize("engine, name", [(e, n) for e in ENGINES for n in ESTIMATORS])
@SETTINGS
@given(samples())
@example(SKEWED_DOMAIN)
def test_domain_estimate_equals_subset_estimate(engine, name, df):
    d = design(df, engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by = ESTIMATORS[name](d, by="dom")
    for dom in ("u", "v"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sub = ESTIMATORS[name](d.subset(df["dom"].eq(dom)))
        f = by.to_frame()
        rows = f[f["dom"] == dom]
        e, s = numbers(sub)
        if name == "proportion":
            # by= lists every level of the whole sample (share 0, SE 0 where the domain has
            # none); the subset lists the levels it has
            levels = sub.to_frame()["level"].tolist()
            absent = rows[~rows["level"].isin(levels)]
            assert (absent["estimate"] == 0).all() and (absent["se"] == 0).all()
            rows = rows.set_index("level").loc[levels]
        np.testing.assert_allclose(rows["estimate"].to_numpy(dtype=float), e, rtol=RTOL,
                                   atol=1e-12 * max(1.0, np.abs(e).max()),
                                   err_msg=f"{name} estimate, domain {dom}")
        np.testing.assert_allclose(rows["se"].to_numpy(dtype=float), s, rtol=RTOL,
                                   atol=1e-10 * max(1.0, np.nanmax(np.abs(s), initial=0)),
                                   err_msg=f"{name} SE, domain {dom}")


@pytest.mark.parametrize("engine", ENGINES)
@SETTINGS
@given(samples())
def test_shares_sum_to_one(engine, df):
    d = design(df, engine)
    assert d.proportion("g").estimate.sum() == pytest.approx(1.0, rel=1e-12)
    f = d.proportion("g", by="dom").to_frame()
    np.testing.assert_allclose(f.groupby("dom")["estimate"].sum().to_numpy(), 1.0, rtol=1e-12)
    # the shares' covariance matrix has rows summing to zero (the shares' sum has no variance)
    v = d.proportion("g").vcov
    np.testing.assert_allclose(np.asarray(v).sum(axis=1), 0.0,
                               atol=1e-12 * max(1.0, np.abs(np.asarray(v)).max()))


@SETTINGS
@given(samples(), st.booleans())
def test_jkn_se_of_a_total_is_the_taylor_closed_form(df, with_fpc):
    """For a total, the JKn replicate variance is algebraically the Taylor (with-replacement)
    variance: sum_h n_h/(n_h-1) sum_j (t_hj - t_h/n_h)^2; with an fpc, to_replicates puts
    (1 - f_h) into the rscales as R's as.svrepdesign does, and Taylor applies the same
    (1 - f_h), so the two agree either way."""
    kw = {}
    if with_fpc:
        n_psu = df.groupby("st")["psu"].transform("nunique")
        df = df.assign(N=n_psu * 3)
        kw = {"fpc": "N"}
    taylor = design(df, "taylor", **kw)
    jk = design(df, "jkn", **kw)
    for var in ("y", "x"):
        assert_same(taylor.total(var), jk.total(var))
    # and the closed form itself, from the PSU totals
    t_hj = (df["w"] * df["y"]).groupby([df["st"], df["psu"]]).sum()
    n_h = t_hj.groupby(level=0).transform("size")
    dev = t_hj - t_hj.groupby(level=0).transform("mean")
    f_h = n_h / df.groupby("st")["psu"].nunique().mul(3).reindex(
        t_hj.index.get_level_values(0)).to_numpy() if with_fpc else 0.0
    v = float(((1 - f_h) * n_h / (n_h - 1) * dev**2).sum())
    assert jk.total("y").se.iloc[0] == pytest.approx(np.sqrt(v), rel=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
@SETTINGS
@given(samples())
def test_inputs_never_mutated(engine, df):
    before = copy.deepcopy(df)
    d = design(df, engine)
    run_all(d)
    run_all(d, by="dom")
    run_all(d.subset(df["dom"].eq("u")))
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("engine", ENGINES)
@SETTINGS
@given(samples())
def test_strata_split_and_recombined(engine, df):
    """Strata are independent: the total is the sum of the strata's subset totals and its
    variance the sum of their variances."""
    d = design(df, engine)
    whole = d.total("y")
    parts = [d.subset(df["st"].eq(h)).total("y")
             for h in sorted(df["st"].unique())]
    assert whole.estimate.iloc[0] == pytest.approx(sum(p.estimate.iloc[0] for p in parts),
                                                   rel=1e-12)
    assert whole.se.iloc[0] ** 2 == pytest.approx(sum(p.se.iloc[0] ** 2 for p in parts),
                                                  rel=1e-9)
