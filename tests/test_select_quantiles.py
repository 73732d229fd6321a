"""Quantiles by selection (``estimators/_select.py``) against the full sort they replace.

The selection path sorts only the rows near each target and must give the full sort's numbers
bit for bit (the full sort is R's ``svyquantile``, tested against R in
``conformance/test_quantile_parity_conformance.py``, which also runs on the selection path).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.estimators import _select
from surveylib.estimators._select import Selection, SortedDistribution, split_weights

PROBS = np.array([0.0, 1e-9, 0.001, 0.1, 0.25, 0.4999, 0.5, 0.5001, 0.75, 0.9, 0.999,
                  1 - 1e-9, 1.0])


def sorted_path(x, w):
    n = len(x)
    return SortedDistribution("x", x, w, np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool),
                              1, "math", [])


def datasets():
    rng = np.random.default_rng(20261129)
    n = 60_000
    normal = rng.normal(50, 10, n)
    yield "normal", normal, rng.uniform(50, 150, n)
    yield "likert", rng.integers(1, 6, n).astype(float), rng.uniform(0.5, 2, n)
    yield "rounded skewed", np.round(rng.lognormal(3, 1, n), 1), rng.lognormal(0, 1.5, n)
    yield "ascending", np.sort(normal), rng.uniform(1, 3, n)
    yield "descending", np.sort(normal)[::-1].copy(), rng.uniform(1, 3, n)
    yield "equal weights, even n", normal, np.ones(n)
    yield "equal weights, odd n", normal[:-1], np.full(n - 1, 1.7)
    yield "integer weights", rng.integers(0, 50, n).astype(float), rng.integers(1, 9, n) * 1.0
    yield "one value", np.full(n, 3.0), rng.uniform(1, 2, n)
    yield "two values", (rng.uniform(size=n) < 0.5) * 1.0, np.ones(n)
    infs = normal.copy()
    infs[::997], infs[5::1009] = np.inf, -np.inf
    yield "infinite values", infs, rng.uniform(1, 2, n)
    yield "extreme weights", normal, rng.lognormal(0, 3, n)
    yield "small", normal[:300], rng.uniform(1, 2, 300)


@pytest.mark.parametrize("qrule", ["math", "school"])
@pytest.mark.parametrize("name,x,w", list(datasets()), ids=[d[0] for d in datasets()])
def test_selection_equals_full_sort(name, x, w, qrule):
    full = sorted_path(x, w)
    want = full.quantiles(PROBS, qrule)
    rng = np.random.default_rng(7)
    more = rng.uniform(size=40)
    sel = Selection(x, w, lambda: sorted_path(x, w))
    np.testing.assert_array_equal(sel.quantiles(PROBS, qrule), want, err_msg=name)
    np.testing.assert_array_equal(sel.quantiles(more, qrule), full.quantiles(more, qrule))
    np.testing.assert_array_equal(  # probabilities one at a time: a block per call
        np.concatenate([Selection(x, w, lambda: sorted_path(x, w)).quantiles([p], qrule)[0]
                        for p in PROBS[3:-3]]), want[0, 3:-3])


def test_continuous_data_are_never_fully_sorted():
    """The point of the path: targets inside (0, 1) on continuous data are certified from
    sorted blocks (double sums suffice), without the full sort."""
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=200_000), rng.uniform(1, 5, 200_000)
    sel = Selection(x, w, lambda: pytest.fail("the full sort was built"))
    sel.quantiles([0.5, 0.48, 0.52, 0.1, 0.9], "math")
    assert sel.split is None
    assert sum(len(b.xs) for b in sel.blocks) < 0.35 * len(x)


def test_exact_hit_on_grid_weights_is_decided_exactly():
    """Equal weights of 1 and an even count: the median is an exact hit (F = T / 2).  Integer
    weights sum exactly in any order (and in R's extended precision), so the path decides
    the hit as R does without the full sort: the lower value (math), the average (school)."""
    x = np.arange(100_000, dtype=float)[::-1].copy()
    for w in (np.ones(100_000), np.tile([1.0, 3.0], 50_000), np.full(100_000, 0.375)):
        sel = Selection(x, w, lambda: pytest.fail("the full sort was built"))
        for rule in ("math", "school"):
            got = sel.quantiles([0.5, 0.25, 0.75, 0.1], rule)
            np.testing.assert_array_equal(got, sorted_path(x, w).quantiles([0.5, 0.25, 0.75,
                                                                             0.1], rule))
        assert sel.exact
    one = Selection(x, np.ones(100_000), lambda: pytest.fail("the full sort was built"))
    assert one.quantiles([0.5], "math")[0, 0] == 49_999.0
    assert one.quantiles([0.5], "school")[0, 0] == 49_999.5


def test_hit_off_the_grid_goes_to_the_full_sort():
    """Equal weights of 1.7 (not on a binary grid) and an even count: F(n/2) and T/2 agree
    to the last bits, which only R's own cumulative sums decide; the full sort answers."""
    x = np.arange(100_000, dtype=float)
    w = np.full(100_000, 1.7)
    built = []
    sel = Selection(x, w, lambda: built.append(1) or sorted_path(x, w))
    for rule in ("math", "school"):
        np.testing.assert_array_equal(sel.quantiles([0.5], rule),
                                      sorted_path(x, w).quantiles([0.5], rule))
    assert built == [1] and not sel.exact


def test_near_hit_is_certified_by_the_split_sums():
    """A cumulative weight 1e-7 below p * T: too close for double sums of 1e5 weights (bound
    ~9e-6), far enough for the split ones (~5e-9)."""
    n = 100_000
    x = np.arange(n, dtype=float)
    w = np.ones(n)
    w[-1] = 1 + 2e-7  # T = n + 2e-7, the median target n/2 + 1e-7, F(49,999) = 50,000
    sel = Selection(x, w, lambda: pytest.fail("the full sort was built"))
    got = sel.quantiles([0.5], "math")
    assert sel.split is not None
    np.testing.assert_array_equal(got, sorted_path(x, w).quantiles([0.5], "math"))
    assert got[0, 0] == 50_000.0  # the first value whose F exceeds the target


def test_split_weights_sum_exactly():
    rng = np.random.default_rng(11)
    w = rng.lognormal(2, 2, 300_001)
    hi, lo, g = split_weights(w)
    np.testing.assert_array_equal(hi + lo, w)
    assert np.all(np.abs(lo) <= g / 2)
    assert np.all(np.mod(hi, g) == 0)
    assert float(np.sum(hi)) == math.fsum(hi)  # every partial sum exact, so any order is
    assert float(np.sum(hi[::-1])) == math.fsum(hi)


@pytest.mark.parametrize("interval_type", ["mean", "xlogit", "asin", "beta", "score"])
def test_design_quantile_same_either_path(interval_type, monkeypatch):
    """The estimator end to end: estimates, SEs and intervals on 60,000 rows (selection
    path) equal those of the full sort (MIN_ROWS raised past the data), with a subset and
    missing values."""
    rng = np.random.default_rng(5)
    n = 60_000
    df = pd.DataFrame({"st": rng.integers(0, 4, n), "psu": rng.integers(0, 200, n),
                       "w": rng.uniform(1, 3, n), "y": rng.gamma(2, 10, n),
                       "g": rng.integers(0, 2, n)})
    df.loc[df.index[::101], "y"] = np.nan
    df["psu"] = df["st"] * 1000 + df["psu"]
    d = sl.SurveyDesign(df, strata="st", psu="psu", weights="w")
    probs = [0.1, 0.5, 0.9] if interval_type != "score" else [0.5]

    def frames():
        one = d.quantile("y", probs, na_rm=True, interval_type=interval_type)
        sub = d.subset(df["g"] == 1).quantile("y", probs, na_rm=True,
                                               interval_type=interval_type, qrule="school")
        return one.to_frame(), sub.to_frame(), one.ci(0.9)

    got = frames()
    monkeypatch.setattr("surveylib.estimators._select.MIN_ROWS", 10**9)
    want = frames()
    for a, b in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_sample_too_small_falls_back(monkeypatch):
    """A bracket from a two-row sample misses the targets twice; the full sort answers."""
    monkeypatch.setattr(_select, "SAMPLE", 2)
    rng = np.random.default_rng(9)
    x, w = rng.normal(size=50_000), rng.uniform(1, 2, 50_000)
    built = []
    sel = Selection(x, w, lambda: built.append(1) or sorted_path(x, w))
    np.testing.assert_array_equal(sel.quantiles(PROBS, "math"),
                                  sorted_path(x, w).quantiles(PROBS, "math"))


@pytest.mark.parametrize("qrule", ["math", "school", "hf7"])
def test_domains_equal_the_joint_sort(qrule, monkeypatch):
    """``by=``: each large domain by selection, each small one sorted alone, against one sort
    by (domain, value) of every row (MIN_ROWS raised past the data), estimates and
    intervals; domains of 80,000, 55,000, 3,000 and 40 rows, a ratio-like skewed variable."""
    rng = np.random.default_rng(12)
    sizes = [80_000, 55_000, 3_000, 40]
    g = np.repeat(np.arange(4), sizes)
    rng.shuffle(g)
    n = len(g)
    df = pd.DataFrame({"g": g, "psu": rng.integers(0, 300, n), "w": rng.uniform(1, 4, n),
                       "y": np.round(rng.lognormal(2, 1, n), 2)})
    d = sl.SurveyDesign(df, psu="psu", weights="w")
    probs = [0.05, 0.5, 0.95]
    got = d.quantile("y", probs, by="g", qrule=qrule).to_frame()
    monkeypatch.setattr("surveylib.estimators._select.MIN_ROWS", 10**9)
    want = d.quantile("y", probs, by="g", qrule=qrule).to_frame()
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_domains_take_selection_where_large():
    rng = np.random.default_rng(2)
    n = 120_000
    g = (np.arange(n) % 3 == 0).astype(np.int64)  # 40,000 and 80,000 rows
    y, w = rng.normal(size=n), rng.uniform(1, 2, n)
    dist = _select.distribution("y", y, w, g, np.ones(n, dtype=bool), 2, "math", ["g"])
    assert [type(p).__name__ for p in dist.parts] == ["Selection", "SortedDistribution"]
    joint = SortedDistribution("y", y, w, g, np.ones(n, dtype=bool), 2, "math", ["g"])
    np.testing.assert_array_equal(dist.quantiles(PROBS, "math"), joint.quantiles(PROBS, "math"))
    for d in (0, 1):
        for a, b in zip(dist.group(d), joint.group(d), strict=True):
            np.testing.assert_array_equal(a, b)


def test_many_or_small_domains_keep_the_joint_sort(monkeypatch):
    rng = np.random.default_rng(4)
    n = 60_000
    y, w, ok = rng.normal(size=n), rng.uniform(1, 2, n), np.ones(n, dtype=bool)
    small = _select.distribution("y", y, w, np.arange(n) % 2, ok, 2, "math", ["g"])
    assert isinstance(small, SortedDistribution)  # no domain reaches MIN_ROWS
    monkeypatch.setattr(_select, "MIN_ROWS", 100)
    many = _select.distribution("y", y, w, np.arange(n) % 300, ok, 300, "math", ["g"])
    assert isinstance(many, SortedDistribution)  # more than MAX_DOMAINS
    some = _select.distribution("y", y, w, np.arange(n) % 30, ok, 30, "math", ["g"])
    assert isinstance(some, _select.DomainDistribution)
