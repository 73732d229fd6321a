"""The variance an estimate would have under simple random sampling (:func:`srs_variance`).

It is the denominator of a design effect and the starting point of a sample size: the
design-based variance of the survey is compared with it (``deff = V_design / V_srs``), and a
planned design's variance is approximated by it times an anticipated design effect.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_option
from ..errors import PlanningError
from ._checks import as_array

__all__ = ["srs_variance"]


def srs_variance(s2, n, *, N=None, statistic="mean", replace=False):
    """Variance of a mean, proportion or total under simple random sampling of ``n`` units.

    The approximation R ``survey`` uses as the denominator of ``deff``::

        mean, without replacement:  s2 (N - n) / (N n)        with replacement: s2 / n
        total:                      N^2 times the mean's

    Parameters
    ----------
    s2 : float or array
        Population variance of the variable (for a design, its estimate ``d.var(...)``, as R's
        ``svyvar``; for a proportion ``p (1 - p)`` up to the ``N / (N - 1)`` factor).
    n : float or array
        Sample size (R uses the number of rows of the design, ``nobs``).
    N : float or array, optional
        Population size (R uses the sum of the weights). Required for totals and for sampling
        without replacement; omit it for sampling with replacement.
    statistic : {"mean", "total"}
        A proportion is the mean of a 0/1 variable.
    replace : bool, default False
        With replacement (R ``deff = "replace"``): no finite-population factor.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> from surveylib.planning import srs_variance
    >>> float(srs_variance(0.25, 100, N=1000))  # 0.25 * 900 / (1000 * 100)
    0.00225
    """
    statistic = check_option(statistic, ("mean", "total"), name="statistic")
    s2 = as_array("s2", s2)
    n = as_array("n", n)
    if (s2 < 0).any():
        raise PlanningError(f"s2={s2[s2 < 0].ravel()[0]!r} is a variance and must be >= 0.")
    if (n <= 0).any():
        raise PlanningError(f"n={n[n <= 0].ravel()[0]!r} must be > 0 units.")
    if N is None:
        if statistic == "total" or not replace:
            raise PlanningError(
                "srs_variance needs the population size N for a total or for sampling "
                "without replacement; pass N= (R uses the sum of the weights) or replace=True.",
                parameter="N",
            )
        v = s2 / n
    else:
        N = as_array("N", N)
        if (N < n).any():
            raise PlanningError(
                "N is smaller than n; N is the population size (R: the sum of the weights).",
                parameter="N",
            )
        v = s2 / n if replace else s2 * (N - n) / (N * n)
        if statistic == "total":
            v = v * N**2
    return float(v) if np.ndim(v) == 0 else v
