"""The score ("Fuller") interval of a quantile (R ``survey:::ffullerCI``,
``svyquantile(interval.type="score")``), with R's root finder so the interval is R's.

The interval inverts the design-based score test of ``P(x > theta) = 1 - p``: its ends are
the roots of ``mean(U(theta)) / SE - t`` and ``... + t`` with ``U = (x > theta) - (1 - p)``.
The score is a step function of ``theta``, so the root R reports is wherever Brent's method
(R ``uniroot``, tolerance ``1 / (100 sqrt(n))``) stops near a step; :func:`zeroin` is a
transcription of R's ``R_zeroin2`` (src/library/stats/src/zeroin.c) so that it stops at the
same place.  The ends are then, as R, the quantiles at the *unweighted* share of ``x`` at or
below each root.
"""

from __future__ import annotations

import numpy as np

from ..errors import SurveyDesignError
from ..results import critical_value

EPS = np.finfo(float).eps


def zeroin(f, ax: float, bx: float, fa: float, fb: float, tol: float, maxit: int = 1000):
    """R ``R_zeroin2``: Brent's root finder on ``[ax, bx]`` with ``f(ax) = fa``, ``f(bx) = fb``
    of opposite signs."""
    a, b, c, fc = ax, bx, ax, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise SurveyDesignError("the score interval's root finder did not converge.")


def uniroot(f, lower: float, upper: float, tol: float) -> float:
    """R ``uniroot(f, c(lower, upper), tol=)``."""
    fl, fu = f(lower), f(upper)
    if np.isnan(fl) or np.isnan(fu) or fl * fu > 0:
        return float("nan")  # R stops with an error; the interval end is not available
    return zeroin(f, lower, upper, fl, fu, tol)


def score_interval(domain_design, column: str, x: np.ndarray, p: float, level, df: float,
                   quantile_at):
    """R ``ffullerCI(x, qhat, p, design, qrule, alpha, df)`` for one domain and probability.

    ``domain_design`` is the design restricted to the domain's rows with a value of
    ``column``; ``x`` are those rows' values; ``quantile_at(s)`` is the quantile rule applied
    to them (with their weights) at share ``s``.
    """
    t = float(critical_value(level, df))
    data = domain_design.data
    col = "score_indicator"
    while col in data.columns:
        col = "_" + col
    rows = np.flatnonzero(domain_design.active)
    full = data[column].to_numpy(dtype=float)

    def score(theta, qlimit):
        u = np.where(full > theta, 1.0, 0.0) - (1 - p)
        m = domain_design.with_data(data.assign(**{col: u})).mean(col)
        return float(m.estimate.iloc[0] / m.se.iloc[0]) - qlimit

    lo_q, hi_q = np.percentile(x, [25, 75])
    iqr = hi_q - lo_q
    lower_t, upper_t = x.min() + iqr / 100, x.max() - iqr / 100
    tol = 1 / (100 * np.sqrt(len(rows)))
    qlow = uniroot(lambda th: score(th, t), lower_t, upper_t, tol)
    qup = uniroot(lambda th: score(th, -t), lower_t, upper_t, tol)
    return tuple(float("nan") if np.isnan(r) else quantile_at(float(np.mean(x <= r)))
                 for r in (qlow, qup))
