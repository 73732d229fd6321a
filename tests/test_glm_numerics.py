"""The GLM's numerics (surveylib/_irls.py and models.score_vcov) against the textbook
expressions they replace: the same bits for IRLS and the deviance, the same collinearity
decision as ``np.linalg.matrix_rank``, the same covariance (to rounding) from per-PSU sums as
from every row's score, and the model matrix byte-identical to patsy's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib import _irls, models
from surveylib.variance.taylor import Scores


def textbook_irls(y, X, w, family, max_iter=100, tol=1e-12):
    """R glm.fit's IRLS written with fresh temporaries (surveylib's implementation before the
    buffers were reused): the reference the in-place version must equal bit for bit."""
    mu = (w * y + 0.5) / (w + 1) if family == "binomial" else y + 0.1
    eta = np.log(mu / (1 - mu)) if family == "binomial" else np.log(mu)
    dev_old = _irls.deviance(family, y, mu, w)
    for it in range(1, max_iter + 1):  # noqa: B007
        g = mu * (1 - mu) if family == "binomial" else mu
        z = eta + (y - mu) / g
        ww = w * g
        beta = np.linalg.solve(X.T @ (X * ww[:, None]), X.T @ (ww * z))
        eta = X @ beta
        mu = 1 / (1 + np.exp(-eta)) if family == "binomial" else np.exp(eta)
        dev = _irls.deviance(family, y, mu, w)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            break
        dev_old = dev
    g = mu * (1 - mu) if family == "binomial" else mu
    return beta, mu, dev, it, (y - mu) / g * ww, np.linalg.inv(X.T @ (X * ww[:, None]))


def data(n=20_000, seed=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.integers(0, 4, n)
    X = np.column_stack([np.ones(n), x, g == 1, g == 2, g == 3]).astype(float)
    w = rng.uniform(0.2, 3, n)
    eta = -0.3 + 0.8 * x + 0.2 * g
    return rng, X, w, eta


@pytest.mark.parametrize("response", ["binary", "proportion", "count"])
def test_irls_equals_the_textbook_expressions_bit_for_bit(response):
    rng, X, w, eta = data()
    if response == "count":
        family, y = "poisson", rng.poisson(np.exp(eta)).astype(float)
    else:
        family = "binomial"
        p = 1 / (1 + np.exp(-eta))
        y = (rng.uniform(size=len(p)) < p).astype(float) if response == "binary" else p
    fit = _irls.irls(y, X, w, family, 100, 1e-12, "test")
    beta, mu, dev, it, score_w, ainv = textbook_irls(y, X, w, family)
    assert fit.iterations == it > 2
    for got, want in [(fit.beta, beta), (fit.mu, mu), (fit.score_w, score_w),
                      (np.linalg.inv(fit.A), ainv)]:
        np.testing.assert_array_equal(got, want)
    assert fit.deviance == dev
    null = _irls.deviance(family, y, np.full(len(y), np.average(y, weights=w)), w)
    assert fit.dev.at_constant(np.average(y, weights=w)) == pytest.approx(null, rel=1e-15)
    assert (fit.dev.ones is not None) == (response == "binary")


def test_binary_deviance_is_unit_deviance_at_the_extremes():
    """One log per row gives what the two masked terms give, including 0 and 1 fitted."""
    rng = np.random.default_rng(2)
    y = np.array([1.0, 0, 1, 0, 1, 0, 1, 0] * 50)
    mu = rng.uniform(size=len(y))
    mu[:8] = [1e-300, 1e-300, 1 - 1e-16, 1 - 1e-16, 0.0, 1.0, 1.0, 0.0]
    w = rng.uniform(0.5, 2, len(y))
    dev = _irls.Deviance("binomial", y, w)
    assert dev.ones is not None
    with np.errstate(divide="ignore"):
        assert dev(mu) == _irls.deviance("binomial", y, mu, w) == np.inf  # mu = 0 at y = 1
    dev8 = _irls.Deviance("binomial", y[8:], w[8:])
    assert dev8(mu[8:]) == _irls.deviance("binomial", y[8:], mu[8:], w[8:]) < np.inf
    dev4 = _irls.Deviance("binomial", y[:4], w[:4])  # 1e-300 and 1 - 1e-16 fitted
    assert dev4(mu[:4]) == _irls.deviance("binomial", y[:4], mu[:4], w[:4]) < np.inf


@pytest.mark.parametrize("delta", [10.0 ** -k for k in range(0, 16)] + [0.0])
def test_rank_check_decides_as_matrix_rank(delta):
    """A column that approaches another (delta -> 0): the error is raised exactly when
    ``np.linalg.matrix_rank`` of ``sqrt(w) X`` finds fewer columns, whichever path decides."""
    rng, X, w, _ = data(n=5_000)
    X = np.column_stack([X, X[:, 1] * 3 + delta * rng.normal(size=len(w))])
    terms = [f"t{j}" for j in range(X.shape[1])]
    full = np.linalg.matrix_rank(X * np.sqrt(w)[:, None]) == X.shape[1]
    if full:
        _irls.check_rank(X, w, terms, "f")
    else:
        with pytest.raises(sl.SurveyDesignError, match="collinear.*t5"):
            _irls.check_rank(X, w, terms, "f")
    if delta >= 1e-2:
        assert full  # the Gram matrix settles these without the SVD
    if delta == 0.0:
        assert not full


def frame(n=30_000, seed=3):
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, 120, n)
    df = pd.DataFrame({"stratum": psu % 4, "psu": psu, "w": rng.uniform(1, 5, n),
                       "x": rng.normal(size=n), "g": rng.integers(0, 4, n),
                       "h": rng.choice(["a", "b", "c"], n), "k": rng.integers(0, 9, n)})
    df["yb"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-0.5 * df["x"] - 0.2 * df["g"]))) * 1.0
    return df


def explicit_vcov(fit, engine):
    """The covariance from every row's score (the path before the per-PSU sums)."""
    X = fit.model_matrix
    sw = _irls.irls(fit.response, X, fit.prior_weights, fit.family, 100, 1e-12, "").score_w
    scores = np.zeros((len(fit.design.active), X.shape[1]))
    scores[np.flatnonzero(fit.design.active)] = (X * sw[:, None]) @ fit.naive_cov
    return engine.vcov_scores(Scores.from_dense(scores))


@pytest.mark.parametrize("kind", ["taylor", "subset", "jk1 scores"])
def test_vcov_from_psu_sums_equals_vcov_from_row_scores(kind):
    df = frame()
    df.loc[df.index[::53], "x"] = np.nan  # rows dropped for the model
    d = sl.SurveyDesign(df, strata="stratum", psu="psu", weights="w")
    if kind == "subset":
        d = d.subset((df["g"] != 3).to_numpy())
    opts = {}
    if kind == "jk1 scores":
        d = sl.SurveyDesign(df, psu="psu", weights="w").to_replicates("JK1")
        opts = {"replicate_variance": "scores"}
    fit = d.glm("yb ~ x + C(h)", family="binomial", **opts)
    assert fit.design.engine.takes_sums(k=4, n_rows=fit.n, denominator=False)
    np.testing.assert_allclose(fit.vcov_matrix, explicit_vcov(fit, fit.design.engine),
                               rtol=1e-12, atol=0)


@pytest.mark.parametrize("subset", [False, True])
@pytest.mark.parametrize("formula", [
    "yb ~ x * C(g) + C(h)",
    "yb ~ C(g):C(h) + I(x ** 2) + k",
    "yb ~ 0 + C(h) + x:k",
    "yb ~ h + b + C(k) + x",
])
def test_model_matrix_is_patsys_byte_for_byte(formula, subset):
    """Columns coded from the design's memoised codes (all rows) or factorised (a subset)."""
    import patsy

    df = frame(n=3_000)
    df["b"] = df["k"] > 4
    df.loc[df.index[::31], "x"] = np.nan
    df.loc[df.index[::37], "h"] = None
    d = sl.SurveyDesign(df, strata="stratum", psu="psu", weights="w")
    rows = df
    if subset:
        d = d.subset((df["g"] != 0).to_numpy())
        rows = df[df["g"] != 0]
    y, X, terms, pos = models._design_matrices(d, formula)
    py, pX = patsy.dmatrices(formula, rows.assign(h=rows["h"].astype(object)),
                             NA_action="drop", return_type="dataframe")
    assert X.tobytes() == pX.to_numpy(dtype=float).tobytes()
    assert y.tobytes() == py.to_numpy(dtype=float)[:, 0].tobytes()
    np.testing.assert_array_equal(pos, df.index.get_indexer(pX.index))
