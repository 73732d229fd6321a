"""Precision of an allocation: margins of error per stratum and of the stratified estimate."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import PlanningError
from ._checks import as_array, check_level, z_quantile
from ._strata import first_bad, per_stratum, strata_series

__all__ = ["stratum_moe", "stratified_moe"]


def _allocation_inputs(allocation, p, sd, strata_sizes, deff):
    if isinstance(allocation, Mapping):
        allocation = pd.Series(dict(allocation))
    if not isinstance(allocation, pd.Series):
        allocation = pd.Series(as_array("allocation", allocation).ravel())
    index = allocation.index
    n = as_array("allocation", allocation.to_numpy()).ravel()
    if (n <= 0).any():
        raise PlanningError(
            f"stratum {first_bad(index, n <= 0)!r} has no interviews in the allocation, so "
            "its margin of error is undefined; give it min_n= in allocate()."
        )
    if strata_sizes is None:
        N = np.full(n.shape, np.inf)
    else:
        Ns = strata_series(strata_sizes)
        missing = index.difference(Ns.index)
        if len(missing) or len(Ns) != len(index):
            raise PlanningError(
                "strata_sizes and allocation must have the same strata "
                f"(allocation: {list(index)[:10]}, strata_sizes: {list(Ns.index)[:10]})."
            )
        N = Ns.reindex(index).to_numpy()
        big = n > N
        if big.any():
            raise PlanningError(
                f"the allocation for stratum {first_bad(index, big)!r} exceeds its "
                "population size; use allocate() with these strata_sizes."
            )
    if (p is None) == (sd is None):
        raise PlanningError("give p= (proportions) or sd= (standard deviations), exactly one.")
    D = per_stratum("deff", deff, index)
    if (D <= 0).any():
        raise PlanningError(f"deff for stratum {first_bad(index, D <= 0)!r} must be > 0.")
    if p is not None:
        P = per_stratum("p", p, index)
        bad = (P < 0) | (P > 1)
        if bad.any():
            raise PlanningError(
                f"p for stratum {first_bad(index, bad)!r} is {P[bad][0]!r}; give a "
                "proportion in [0, 1]."
            )
        # V(p_h) = (N_h - n_h)/(N_h - 1) P_h Q_h / n_h  (Cochran 1977, sect. 3.2)
        with np.errstate(invalid="ignore", divide="ignore"):
            fpc = np.where(np.isinf(N), 1.0, (N - n) / np.where(N > 1, N - 1, 1.0))
        var = D * P * (1 - P) / n * fpc
        value = P
    else:
        S = per_stratum("sd", sd, index)
        if (S < 0).any():
            raise PlanningError(f"sd for stratum {first_bad(index, S < 0)!r} is negative.")
        fpc = np.where(np.isinf(N), 1.0, 1.0 - n / N)
        var = D * S**2 / n * fpc
        value = S
    return index, n, N, value, D, var


def stratum_moe(allocation, p=None, *, sd=None, strata_sizes=None, level=0.95, deff=1.0):
    """Anticipated margin of error in each stratum of an allocation.

    Parameters
    ----------
    allocation : pandas.Series, dict or array_like
        Interviews per stratum, e.g. from :func:`allocate`.
    p : scalar, Series, dict or array_like, optional
        Anticipated stratum proportions.
    sd : scalar, Series, dict or array_like, optional
        Anticipated stratum standard deviations (for a mean); give ``p`` or ``sd``.
    strata_sizes : pandas.Series, dict or array_like, optional
        Population sizes for the finite population correction (same strata).
    level : float, default 0.95
    deff : scalar or per stratum, default 1.0
        Anticipated within-stratum design effects.

    Returns
    -------
    pandas.DataFrame
        Indexed by stratum with columns ``n``, ``N``, ``value`` (p or sd), ``deff``,
        ``se``, ``moe``.

    Notes
    -----
    Proportions: ``se_h^2 = deff_h (N_h - n_h)/(N_h - 1) p_h (1 - p_h) / n_h``; means:
    ``se_h^2 = deff_h (1 - n_h/N_h) S_h^2 / n_h`` (Cochran 1977, sects. 3.2 and 2.5);
    ``moe_h = z se_h``.

    Examples
    --------
    >>> from surveylib.planning import stratum_moe
    >>> t = stratum_moe({"a": 400, "b": 100}, p=0.5)
    >>> t["moe"].round(3).tolist()
    [0.049, 0.098]
    """
    level = check_level(level)
    index, n, N, value, D, var = _allocation_inputs(allocation, p, sd, strata_sizes, deff)
    se = np.sqrt(var)
    n_col = n.astype(np.int64) if np.all(n == np.round(n)) else n
    return pd.DataFrame(
        {"n": n_col, "N": N, "value": value, "deff": D, "se": se, "moe": z_quantile(level, 2) * se},
        index=index,
    )


def stratified_moe(allocation, p=None, *, sd=None, strata_sizes, level=0.95, deff=1.0):
    """Anticipated margin of error of the stratified estimate over all strata.

    Parameters
    ----------
    allocation, p, sd, level, deff
        As in :func:`stratum_moe`.
    strata_sizes : pandas.Series, dict or array_like
        Population sizes ``N_h``; they give the stratum weights ``W_h = N_h / N``.

    Returns
    -------
    float

    Notes
    -----
    ``V(p_st) = sum_h W_h^2 deff_h (N_h - n_h)/(N_h - 1) p_h (1 - p_h) / n_h``
    (Cochran 1977, sect. 5.10; ``sum_h W_h^2 deff_h (1 - f_h) S_h^2 / n_h`` for means,
    Theorem 5.3) and ``moe = z sqrt(V)``.

    Examples
    --------
    >>> from surveylib.planning import stratified_moe
    >>> round(stratified_moe({"a": 500, "b": 500}, p=0.5,
    ...                      strata_sizes={"a": 10**7, "b": 10**7}), 4)
    0.031
    """
    level = check_level(level)
    if strata_sizes is None:
        raise PlanningError("stratified_moe needs strata_sizes= to weight the strata.")
    index, n, N, value, D, var = _allocation_inputs(allocation, p, sd, strata_sizes, deff)
    W = N / N.sum()
    return float(z_quantile(level, 2) * np.sqrt(np.sum(W**2 * var)))
