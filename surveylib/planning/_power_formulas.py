"""Power of a comparison of two independent samples, as array formulas.

Shared by :mod:`.power`, :mod:`.two_sample_size` and :mod:`.mde`; the arguments are checked
there. ``m1``, ``m2`` are effective sample sizes ``n / deff``.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..errors import PlanningError
from ._checks import as_array, check_deff, check_positive, z_quantile


def effective_sizes(n1, n2, deff1, deff2):
    """Checked effective sample sizes ``n1 / deff1``, ``n2 / deff2``."""
    n1 = as_array("n1", n1)
    n2 = as_array("n2", n2)
    for name, v in (("n1", n1), ("n2", n2)):
        if (v <= 0).any():
            raise PlanningError(f"{name}={v[v <= 0].ravel()[0]!r} must be > 0 interviews.")
    d1 = check_deff("deff1", deff1)
    d2 = check_deff("deff2", deff2)
    return n1 / d1, n2 / d2


def _norm_cdf(x):
    """``scipy.stats.norm.cdf(x)``: the same ``scipy.special.ndtr`` without the per-call
    argument handling of ``rv_continuous`` (the solvers evaluate the power thousands of
    times)."""
    return special.ndtr(np.asarray(x, dtype=np.float64))[()]


def _tails(stat, z1, z2, alternative):
    """Power of a z statistic with mean ``stat`` (signed, group 1 minus group 2)."""
    if alternative == "two-sided":
        return _norm_cdf(np.abs(stat) - z2) + _norm_cdf(-np.abs(stat) - z2)
    if alternative == "greater":
        return _norm_cdf(stat - z1)
    return _norm_cdf(-stat - z1)


def h_power(h, m1, m2, level, alternative):
    """Power at Cohen's ``h`` (the arcsine difference), as ``pwr.2p2n.test``."""
    z1, z2 = z_quantile(level, 1), z_quantile(level, 2)
    return _tails(h * np.sqrt(m1 * m2 / (m1 + m2)), z1, z2, alternative)


def prop_power(p1, p2, m1, m2, level, alternative, method):
    """Power of a two-proportion comparison (formulas in :func:`.power_two_proportions`)."""
    z1, z2 = z_quantile(level, 1), z_quantile(level, 2)
    d = p1 - p2
    if method == "arcsine":
        h = 2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2))
        return h_power(h, m1, m2, level, alternative)
    se1 = np.sqrt(p1 * (1 - p1) / m1 + p2 * (1 - p2) / m2)
    if method == "normal":
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = np.where(d == 0, 0.0, d / se1)
        return _tails(stat, z1, z2, alternative)
    # power.prop.test: pooled variance under H0, unpooled under H1, one rejection tail.
    pbar = (m1 * p1 + m2 * p2) / (m1 + m2)
    se0 = np.sqrt(pbar * (1 - pbar) * (1 / m1 + 1 / m2))
    signed = {"two-sided": np.abs(d), "greater": d, "less": -d}[alternative]
    z = z2 if alternative == "two-sided" else z1
    with np.errstate(divide="ignore", invalid="ignore"):
        return _norm_cdf((signed - z * se0) / se1)


def mean_power(delta, sd1, sd2, m1, m2, level, alternative, method):
    """Power of a two-mean comparison (formulas in :func:`.power_two_means`)."""
    if method == "normal":
        z1, z2 = z_quantile(level, 1), z_quantile(level, 2)
        se = np.sqrt(sd1**2 / m1 + sd2**2 / m2)
        return _tails(delta / se, z1, z2, alternative)
    # power.t.test (strict = FALSE): non-central t, df = m1 + m2 - 2, one rejection tail.
    df = np.maximum(2e-7, m1 + m2 - 2)
    ncp = delta / (sd1 * np.sqrt(1 / m1 + 1 / m2))
    ncp = {"two-sided": np.abs(ncp), "greater": ncp, "less": -ncp}[alternative]
    tails = 2 if alternative == "two-sided" else 1
    q = stats.t.ppf(1 - (1 - level) / tails, df)
    return stats.nct.sf(q, df, ncp)


def mean_sds(sd, sd2, method):
    """Checked standard deviations of the two groups (``sd2`` defaults to ``sd``)."""
    sd = check_positive("sd", sd)
    sd2 = sd if sd2 is None else check_positive("sd2", sd2)
    if method == "power.t.test" and sd2 != sd:
        raise PlanningError(
            "method='power.t.test' assumes one common sd (pooled t test); "
            "use method='normal' for sd2 != sd."
        )
    return sd, sd2
