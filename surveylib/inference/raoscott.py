"""Rao–Scott and Wald tests of independence in a two-way table (R ``svychisq``), and the
tail probabilities of weighted sums of chi-squares they need.

:func:`independence_test` works from the cell shares and totals of one table with their full
covariance (computed by :func:`surveylib.inference.crosstab` through the design's variance
engine); it carries no variance formula of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats

from ..errors import SurveyDesignError
from ..results import TestResult

CHISQ_METHODS = ("F", "chisq", "wald", "adjwald", "lincom", "saddlepoint")
R_STATISTIC = {"F": "F", "chisq": "Chisq", "wald": "Wald", "adjwald": "adjWald",
               "lincom": "lincom", "saddlepoint": "saddlepoint"}
"""R's ``statistic=`` spelling of each method."""
FROM_R = {r: m for m, r in R_STATISTIC.items()}
"""surveylib's method for each of R's spellings (``"Chisq"`` -> ``"chisq"``, ...)."""


def method_name(method: str) -> str:
    """surveylib's name of a test method given in its own or R's spelling (``"adjWald"``)."""
    return FROM_R.get(method, method)


@dataclass(frozen=True, repr=False)  # TestResult's repr
class ChisqTestResult(TestResult):
    """A test of independence of a two-way table (R ``svychisq``; frozen).

    Adds to :class:`~surveylib.results.TestResult` R's ``$observed`` and ``$expected``: the
    weighted table scaled to ``N`` (the rows of the (domain) design, R ``svytable(...,
    Ntotal=N)``) and its expectation under independence (row total x column total / N), both
    row x col DataFrames over the observed levels.
    """

    __test__ = False
    observed: pd.DataFrame | None = field(default=None, compare=False)
    expected: pd.DataFrame | None = field(default=None, compare=False)


def independence_test(design, p, V, totals, Vt, nr, nc, N, nu, method, row, col,
                      levels=None) -> ChisqTestResult:
    """R ``svychisq.survey.design`` for one table (cells in row-major order).

    ``p``/``V`` are the cell shares and their covariance, ``totals``/``Vt`` the cell totals
    and theirs (used only by the Wald tests; ``None`` for the others), ``N`` the rows of the
    (domain) design and ``nu`` its degrees of freedom; ``levels`` the row and column labels
    (for the observed and expected tables).
    """
    rl, cl = levels if levels is not None else (list(range(nr)), list(range(nc)))
    rl, cl = list(rl), list(cl)
    null = f"{row} and {col} are independent"
    footer = design.describe()
    # levels without rows in this (domain) table are dropped, as R's factor() drops them
    r = np.repeat(np.arange(nr), nc)
    c = np.tile(np.arange(nc), nr)
    keep_r = np.bincount(r, p, minlength=nr) > 0
    keep_c = np.bincount(c, p, minlength=nc) > 0
    if not (keep_r.all() and keep_c.all()):
        sel = keep_r[r] & keep_c[c]
        p, V = p[sel], V[np.ix_(sel, sel)]
        if totals is not None and Vt is not None:
            totals, Vt = totals[sel], Vt[np.ix_(sel, sel)]
        nr, nc = int(keep_r.sum()), int(keep_c.sum())
        rl = [v for v, k in zip(rl, keep_r, strict=True) if k]
        cl = [v for v, k in zip(cl, keep_c, strict=True) if k]
    if nr < 2 or nc < 2:
        raise SurveyDesignError(
            f"the table of {row!r} by {col!r} has {nr} x {nc} observed levels; a test of "
            "independence needs at least two levels of each."
        )
    r = np.repeat(np.arange(nr), nc)
    c = np.tile(np.arange(nc), nr)
    obs = (p * N).reshape(nr, nc)
    tables = {"observed": pd.DataFrame(obs, index=pd.Index(rl, name=row),
                                       columns=pd.Index(cl, name=col)),
              "expected": pd.DataFrame(np.outer(obs.sum(1), obs.sum(0)) / obs.sum(),
                                       index=pd.Index(rl, name=row),
                                       columns=pd.Index(cl, name=col))}
    if method in ("wald", "adjwald"):
        if totals is None or Vt is None:
            raise SurveyDesignError("the Wald tests need the cell totals and their covariance.",
                                    parameter="totals")
        T = totals
        R = np.bincount(r, T, minlength=nr)
        C = np.bincount(c, T, minlength=nc)
        Ntot = T.sum()
        Y = T - R[r] * C[c] / Ntot
        J = np.eye(nr * nc)
        J -= (r[:, None] == r[None, :]) * C[c][:, None] / Ntot
        J -= (c[:, None] == c[None, :]) * R[r][:, None] / Ntot
        J += (R[r] * C[c] / Ntot**2)[:, None]
        VY = J @ Vt @ J.T
        use = (r > 0) & (c > 0)
        try:
            x2 = float(Y[use] @ np.linalg.solve(VY[np.ix_(use, use)], Y[use]))
        except np.linalg.LinAlgError as exc:
            raise SurveyDesignError(
                f"the covariance of the interaction contrasts of {row!r} x {col!r} is singular "
                "(too few PSUs for the table's size); use method='F' or merge levels."
            ) from exc
        numdf = (nr - 1) * (nc - 1)
        if method == "wald":
            stat, ddf = x2 / numdf, float(nu)
            how = "Design-based Wald test of association (F form)"
        else:
            ddf = float(nu - numdf + 1)
            stat = x2 * ddf / (numdf * nu)
            how = "Design-based adjusted Wald test of association (F form)"
        if ddf <= 0:
            raise SurveyDesignError(
                f"the adjusted Wald test needs more design df ({nu}) than table df ({numdf}); "
                "use method='F'."
            )
        return ChisqTestResult(stat, float(numdf), ddf, float(stats.f.sf(stat, numdf, ddf)), how,
                               null, footer, **tables)

    X1 = np.column_stack([np.ones(nr * nc)] + [(r == i).astype(float) for i in range(1, nr)]
                         + [(c == j).astype(float) for j in range(1, nc)])
    X12 = np.column_stack([((r == i) & (c == j)).astype(float)
                           for j in range(1, nc) for i in range(1, nr)])
    Cmat = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    with np.errstate(divide="ignore"):
        idg = np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p))
    denom = (Cmat.T * (idg / N)) @ Cmat
    numr = (Cmat.T * idg) @ V @ (idg[:, None] * Cmat)
    Delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(Delta))
    d0 = tr**2 / float(np.trace(Delta @ Delta))
    pr = np.bincount(r, p, minlength=nr)
    pc = np.bincount(c, p, minlength=nc)
    e = pr[r] * pc[c]
    x2 = float(N * np.sum((p - e) ** 2 / e))
    K = Delta.shape[0]
    if method == "F":
        stat = x2 / tr
        return ChisqTestResult(stat, d0, d0 * nu, float(stats.f.sf(stat, d0, d0 * nu)),
                               "Pearson's X^2 with Rao & Scott second-order adjustment (F)",
                               null, footer, **tables)
    if method == "chisq":
        pval = float(stats.chi2.sf(x2 / np.mean(np.diag(Delta)), K))
        return ChisqTestResult(x2, float(K), float("inf"), pval,
                               "Pearson's X^2 with Rao & Scott first-order adjustment "
                               "(X^2 / mean eigenvalue ~ chi^2)", null, footer, **tables)
    lam = np.sort(np.real(np.linalg.eigvals(Delta)))[::-1]
    ddf = d0 * nu
    if method == "saddlepoint":
        pval = _pfsum_saddlepoint(x2, lam, ddf)
        how = "Pearson's X^2: saddlepoint approximation to its design-based distribution"
    else:
        pval = _pfsum_exact(x2, lam, ddf)
        how = "Pearson's X^2: exact design-based distribution (Imhof inversion)"
    return ChisqTestResult(x2, float(K), ddf, pval, how, null, footer, **tables)


def _saddle(x: float, lam: np.ndarray, mult: np.ndarray) -> float:
    """R ``survey:::saddle(x, rep(lam, mult))``: upper tail of sum lam_i chi2_1 at x (NaN if
    the saddlepoint is too close to 0)."""
    d = lam.max()
    lam = lam / d
    x = x / d
    n = mult.sum()

    def k0(z):
        return -np.sum(mult * np.log(1 - 2 * z * lam)) / 2

    def k1(z):
        return np.sum(mult * lam / (1 - 2 * z * lam))

    def k2(z):
        return 2 * np.sum(mult * lam**2 / (1 - 2 * z * lam) ** 2)

    lmin: float
    if np.any(lam < 0):
        lmin = np.max(1 / (2 * lam[lam < 0])) * 0.99999
    elif x > np.sum(mult * lam):
        lmin = -0.01
    else:
        lmin = -n / (2 * x)
    lmax = np.min(1 / (2 * lam[lam > 0])) * 0.99999
    z = optimize.brentq(lambda zz: k1(zz) - x, lmin, lmax, xtol=1e-15, rtol=1e-15, maxiter=500)
    w = np.sign(z) * np.sqrt(2 * (z * x - k0(z)))
    v = z * np.sqrt(k2(z))
    if abs(z) < 1e-4:
        return float("nan")
    return float(stats.norm.sf(w + np.log(v / w) / w))


def _pfsum_saddlepoint(x: float, a: np.ndarray, ddf: float) -> float:
    """R ``survey:::pFsum(x, 1, a, ddf, lower.tail=FALSE, method="saddlepoint")``.

    P(sum a_i chi2_1 > x chi2_ddf / ddf) by the saddlepoint approximation of the linear
    combination ``sum a_i chi2_1 - (x/ddf) chi2_1 x floor(ddf)`` at 0 (R repeats the last
    weight ``floor(ddf)`` times); Satterthwaite's F approximation where the saddlepoint is
    undefined, as R.
    """
    tr = np.mean(a)
    tr2 = np.mean(a**2) / tr**2
    scale = tr * tr2
    ndf = len(a) / tr2
    rval = float(stats.f.sf(x / ndf / scale, ndf, ddf))
    lam = np.concatenate([a, [-x / ddf]])
    mult = np.concatenate([np.ones(len(a)), [np.floor(ddf)]])
    s = _saddle(0.0, lam, mult)
    return rval if np.isnan(s) else s


def pfsum(x: float, a, ddf: float) -> float:
    """Upper tail ``P(sum a_i chi2_1 / (chi2_ddf / ddf) > x)``: R ``pFsum(x, 1, a, ddf,
    method="saddlepoint", lower.tail=FALSE)``; ``ddf = inf`` gives R ``pchisqsum(x, 1, a,
    method="saddlepoint", lower.tail=FALSE)`` (Satterthwaite's chi-square where the
    saddlepoint is undefined, as R)."""
    a = np.asarray(a, dtype=float)
    if np.isfinite(ddf):
        return _pfsum_saddlepoint(float(x), a, float(ddf))
    tr = np.mean(a)
    tr2 = np.mean(a**2) / tr**2
    guess = float(stats.chi2.sf(x / (tr * tr2), len(a) / tr2))
    s = _saddle(float(x), a, np.ones(len(a)))
    return guess if np.isnan(s) else s


def _pfsum_exact(x: float, a: np.ndarray, ddf: float) -> float:
    """P(sum a_i chi2_1 - (x/ddf) chi2_ddf > 0) by Imhof's (1961) inversion formula."""
    lam = np.concatenate([a, [-x / ddf]])
    h = np.concatenate([np.ones(len(a)), [ddf]])

    def integrand(u):
        theta = 0.5 * np.sum(h * np.arctan(lam * u))
        logrho = np.sum(h / 4 * np.log1p((lam * u) ** 2))
        return np.sin(theta) * np.exp(-logrho) / u

    val, _ = integrate.quad(integrand, 0, np.inf, limit=1000, epsabs=1e-12, epsrel=1e-10)
    return float(min(max(0.5 + val / np.pi, 0.0), 1.0))
