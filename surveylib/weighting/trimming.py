"""Weight trimming (R ``trimWeights``), optionally alternated with re-calibration."""

from __future__ import annotations

import numpy as np

from .._validation import check_integer, check_positive, data_error, invalid_argument
from ..errors import ConvergenceError, WeightingError
from ._common import base_weights, with_weights
from .adjustments import Trimming

MAX_STRICT_ROUNDS = 1000
WITHIN_RTOL = 1e-9


def _trim_round(pw, lower, upper):
    outside = (pw < lower) | (pw > upper)
    new = np.clip(pw, lower, upper)
    moved = float(np.sum(pw - new))
    inside = ~outside
    new = np.where(inside, new + moved / inside.sum(), new)
    return new, int(outside.sum()), abs(moved)


def trim(design, upper=None, lower=None, strict: bool = False, *, recalibrate: bool = False,
         max_iter: int = 50, tol: float = 1e-3):
    """Trim weights to ``[lower, upper]`` and share the trimmed weight among the other rows.

    Parameters
    ----------
    design : SurveyDesign
    upper, lower : float, optional
        Bounds on the weights themselves (not ratios), as R ``trimWeights(design, upper=,
        lower=)``.  The weight cut from rows above ``upper`` (or added to rows below ``lower``)
        is spread *equally* (the same amount per row, as R) over the rows inside the bounds, so
        the weight total is unchanged.
    strict : bool
        Repeat until no weight is outside the bounds (redistribution can push a weight past
        ``upper``), as R's ``strict=TRUE``.
    recalibrate : bool
        Alternate trimming with re-applying the design's last weighting step (post-
        stratification, raking or calibration, with its original targets) until the weights are
        within the bounds *and* the targets are met; every round is recorded in
        ``adjustments``.
    max_iter : int
        Rounds of trim + re-calibration when ``recalibrate=True``.
    tol : float
        With ``recalibrate=True``: stop when every weight is within ``[lower (1 - tol),
        upper (1 + tol)]`` after re-calibration (the alternation converges geometrically, so
        the bounds are met only approximately while the targets are met exactly).

    Returns
    -------
    SurveyDesign
        ``design`` itself when no weight is outside the bounds (as R); otherwise a new design
        whose last adjustment is a :class:`Trimming` record.

    Notes
    -----
    As in R, trimming adds no variance adjustment: the trimmed weights are used as they are and
    earlier adjustments keep residualising with the weights they produced.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> d = sl.SurveyDesign(pd.DataFrame({"w": [1.0, 1.0, 1.0, 9.0]}), weights="w")
    >>> d.trim(upper=6).weights.tolist()
    [2.0, 2.0, 2.0, 6.0]
    """
    up = _bound(upper, "upper", np.inf)
    lo = _bound(lower, "lower", -np.inf)
    if lo >= up:
        raise invalid_argument("lower", lower, f"less than upper={upper!r} (lower < upper)",
                               "swap the bounds or widen them")
    if recalibrate:
        check_integer(max_iter, name="max_iter", hint="e.g. max_iter=50")
        check_positive(tol, name="tol", hint="e.g. tol=1e-3")
        return _trim_recalibrate(design, up, lo, strict, max_iter, tol)
    w0, active = base_weights(design)
    pw = w0[active]
    n = len(pw)
    total = pw.sum()
    if not np.any((pw < lo) | (pw > up)):
        return design
    if strict and not (lo * n <= total * (1 + WITHIN_RTOL) and total <= up * n * (1 + WITHIN_RTOL)):
        raise data_error(
            WeightingError,
            f"trim: {n} weights summing to {total:.6g} cannot all lie in [{lo:g}, {up:g}] "
            f"(that needs {lo * n:.6g} <= total <= {up * n:.6g})", "widen the bounds",
            parameter="upper" if total > up * n else "lower", value=(lo, up))
    n_trim, amount, rounds = 0, 0.0, 0
    while True:
        if np.all((pw < lo) | (pw > up)):
            raise data_error(
                WeightingError,
                f"trim: every weight is outside [{lo:g}, {up:g}], so there is no row to take the "
                "trimmed weight", "widen the bounds", parameter="upper", value=(lo, up))
        pw, k, moved = _trim_round(pw, lo, up)
        n_trim += k
        amount += moved
        rounds += 1
        if not strict or not np.any((pw < lo) | (pw > up)):
            break
        if rounds >= MAX_STRICT_ROUNDS:
            raise data_error(
                ConvergenceError,
                f"trim(strict=True): weights still outside [{lo:g}, {up:g}] after {rounds} rounds",
                "widen the bounds", parameter="strict", value=(lo, up))
    new = np.zeros_like(w0)
    new[active] = pw
    adj = Trimming(lower=lo, upper=up, n_trimmed=n_trim, amount=amount, rounds=rounds)
    return with_weights(design, new, active, adj)


def _bound(value, name: str, default: float) -> float:
    if value is None:
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = np.nan
    if np.isnan(out):
        raise invalid_argument(name, value, "a number (a bound on the weights) or None",
                               "give a number, or None for no bound")
    return out


def _trim_recalibrate(design, up, lo, strict, max_iter, tol):
    if not design.adjustments or not hasattr(design.adjustments[-1], "reapply"):
        raise data_error(
            WeightingError,
            "trim(recalibrate=True) re-applies the design's last weighting step, but the last "
            "step is not a post-stratification, raking or calibration",
            "trim without recalibrate=True, or calibrate first", parameter="recalibrate",
            value=True, expected="a design whose last step is poststratify, rake or calibrate")
    step = design.adjustments[-1]
    cur = design
    for _ in range(max_iter):
        w = cur.base_weights[cur.active]
        if np.all((w >= lo - tol * abs(lo)) & (w <= up + tol * abs(up))):
            return cur
        cur = step.reapply(trim(cur, upper=up, lower=lo, strict=strict))
    w = cur.base_weights[cur.active]
    raise data_error(
        ConvergenceError,
        f"trim(recalibrate=True): after {max_iter} rounds of trimming and re-applying "
        f"'{step.describe()}', weights still range from {w.min():.6g} to {w.max():.6g} outside "
        f"[{lo:g}, {up:g}] (tol {tol:g})",
        "widen the bounds, raise max_iter, or use calibrate(..., bounds=...) which enforces "
        "bounds while meeting the totals", parameter="max_iter", value=max_iter)
