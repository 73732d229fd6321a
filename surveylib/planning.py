"""Survey planning: sample sizes, stratum allocation, precision and power.

Everything here works before any data exist: inputs are anticipated proportions,
standard deviations, design effects and response rates, and outputs are counts of
interviews (or contacts) and anticipated margins of error or power.

* :func:`sample_size_proportion`, :func:`sample_size_mean` -- Cochran's sample size with
  a design effect, a finite population correction and a response rate.
* :func:`margin_of_error`, :func:`margin_of_error_mean` -- the inverse: precision of ``n``.
* :func:`allocate` -- proportional, equal, Neyman, cost-optimal, power and Bankier
  allocation over strata, with per-stratum bounds and integer rounding that keeps the total.
* :func:`stratum_moe`, :func:`stratified_moe` -- precision of an allocation.
* :func:`power_two_proportions`, :func:`mde_two_proportions`,
  :func:`sample_size_two_proportions` and the ``*_two_means`` counterparts -- comparing two
  independent samples (for example two waves of a repeated cross-section).
* :func:`power_curve`, :func:`plot_power_curve` -- power over a grid of sample sizes.
* :func:`deff_from_result` -- design effects of a past survey as planning inputs.

Formulas, sources and the R functions matched are in ``docs/planning.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .errors import PlanningError

__all__ = [
    "SampleSize",
    "TwoSampleSize",
    "MinimumDetectableEffect",
    "DeffSummary",
    "sample_size_proportion",
    "sample_size_mean",
    "margin_of_error",
    "margin_of_error_mean",
    "allocate",
    "ALLOCATION_METHODS",
    "stratum_moe",
    "stratified_moe",
    "power_two_proportions",
    "mde_two_proportions",
    "sample_size_two_proportions",
    "power_two_means",
    "mde_two_means",
    "sample_size_two_means",
    "power_curve",
    "plot_power_curve",
    "deff_from_result",
]

ALLOCATION_METHODS = ("proportional", "equal", "neyman", "optimal", "power", "bankier")
_PROPORTION_METHODS = ("normal", "power.prop.test", "arcsine")
_MEAN_METHODS = ("normal", "power.t.test")
_ALTERNATIVES = {
    "two-sided": "two-sided",
    "two.sided": "two-sided",
    "greater": "greater",
    "less": "less",
}
# A computed count within this relative distance of an integer is taken to be that
# integer before rounding up, so that floating-point noise (384.0000000000001) does
# not add an interview.
_CEIL_RTOL = 1e-10


# --------------------------------------------------------------------------- checks


def _scalar(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PlanningError(
            f"{name}={value!r} must be a single number; call the function once per value "
            "(or use power_curve() for a grid)."
        )
    value = float(value)
    if not math.isfinite(value):
        raise PlanningError(f"{name}={value!r} must be a finite number.")
    return value


def _array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PlanningError(f"{name}={value!r} must be a number or an array of numbers.") from exc
    if not np.isfinite(arr).all():
        raise PlanningError(f"{name} has missing or infinite values; give finite numbers.")
    return arr


def _check_level(level) -> float:
    level = _scalar("level", level)
    if not 0 < level < 1:
        raise PlanningError(
            f"level={level!r} must be strictly between 0 and 1, e.g. 0.95 for 95% confidence."
        )
    return level


def _check_positive(name: str, value, *, hint: str = "") -> float:
    value = _scalar(name, value)
    if value <= 0:
        raise PlanningError(f"{name}={value!r} must be > 0{hint}.")
    return value


def _check_deff(name: str, value) -> float:
    return _check_positive(name, value, hint=" (a design effect of 1 is simple random sampling)")


def _check_response_rate(value) -> float:
    value = _scalar("response_rate", value)
    if not 0 < value <= 1:
        raise PlanningError(
            f"response_rate={value!r} must be in (0, 1], e.g. 0.6 when 60% of contacted "
            "units respond."
        )
    return value


def _check_prob(name: str, value) -> np.ndarray:
    arr = _array(name, value)
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        raise PlanningError(
            f"{name}={arr[bad].ravel()[0]!r} is not a proportion; give values in [0, 1] "
            "(write 35% as 0.35)."
        )
    return arr


def _check_power_target(power) -> float:
    power = _scalar("power", power)
    if not 0 < power < 1:
        raise PlanningError(f"power={power!r} must be strictly between 0 and 1, e.g. 0.8.")
    return power


def _check_N(N, *, minimum: float = 1.0) -> float | None:
    if N is None:
        return None
    N = _scalar("N", N)
    if N < minimum:
        raise PlanningError(
            f"N={N!r} must be the population size (at least {minimum:g}); "
            "pass N=None for a population so large that no finite population correction applies."
        )
    return N


def _check_alternative(alternative) -> str:
    try:
        return _ALTERNATIVES[alternative]
    except (KeyError, TypeError):
        raise PlanningError(
            f"alternative={alternative!r} is not one of 'two-sided', 'greater', 'less' "
            "('greater' means H1: group 1 > group 2, as in R's prop.test)."
        ) from None


def _check_method(method, allowed) -> str:
    if method not in allowed:
        raise PlanningError(f"method={method!r} is not one of {list(allowed)}.")
    return method


def _ceil(x: float) -> int:
    return int(math.ceil(x * (1.0 - _CEIL_RTOL)))


def _z(level: float, tails: int) -> float:
    return float(stats.norm.ppf(1.0 - (1.0 - level) / tails))


def _freeze(inputs: dict) -> Mapping[str, Any]:
    return MappingProxyType(dict(inputs))


def _out(arr: np.ndarray):
    """Return a Python float for 0-d results, the array otherwise."""
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


# ------------------------------------------------------------------ result objects


@dataclass(frozen=True)
class SampleSize:
    """Sample size for a target margin of error.

    Attributes
    ----------
    n_required : int
        Completed interviews needed, ``ceil(n_exact)``.
    n_to_contact : int
        Units to sample and contact, ``ceil(n_required / response_rate)``.
    n0 : float
        Cochran's infinite-population size times the design effect.
    n_exact : float
        ``n0`` after the finite population correction, before rounding.
    inputs : Mapping
        The arguments the size was computed from (read-only), plus ``fpc_form``.
    """

    n_required: int
    n_to_contact: int
    n0: float
    n_exact: float
    inputs: Mapping[str, Any]

    def __repr__(self) -> str:
        return (
            f"SampleSize(n_required={self.n_required}, n_to_contact={self.n_to_contact}, "
            f"n0={self.n0:.2f}, n_exact={self.n_exact:.2f})"
        )

    def __str__(self) -> str:
        i = self.inputs
        what = f"p={i['p']:g}" if "p" in i else f"sd={i['sd']:g}"
        N = "infinite (no fpc)" if i["N"] is None else f"{i['N']:g}, fpc {i['fpc_form']}"
        return "\n".join(
            [
                f"Sample size for a {i['estimate']} ({what}), margin of error "
                f"±{i['moe']:g} at {100 * i['level']:g}% confidence",
                f"  design effect {i['deff']:g}; population {N}; "
                f"response rate {100 * i['response_rate']:g}%",
                f"  n0 = {self.n0:.2f}, after fpc {self.n_exact:.2f}",
                f"  completed interviews needed: {self.n_required}",
                f"  units to contact:            {self.n_to_contact}",
            ]
        )


@dataclass(frozen=True)
class TwoSampleSize:
    """Sample sizes for comparing two independent samples with a target power.

    Attributes
    ----------
    n1, n2 : int
        Completed interviews in samples 1 and 2 (rounded up).
    n1_exact, n2_exact : float
        The solved, unrounded sizes (``n2_exact = ratio * n1_exact``); compare these with R.
    power : float
        Power achieved by the rounded sizes ``n1``, ``n2``.
    target_power : float
        The requested power.
    method : str
        Power formula used (see :func:`power_two_proportions`, :func:`power_two_means`).
    inputs : Mapping
        The arguments (read-only).
    """

    n1: int
    n2: int
    n1_exact: float
    n2_exact: float
    power: float
    target_power: float
    method: str
    inputs: Mapping[str, Any]

    def __repr__(self) -> str:
        return (
            f"TwoSampleSize(n1={self.n1}, n2={self.n2}, n1_exact={self.n1_exact:.3f}, "
            f"n2_exact={self.n2_exact:.3f}, power={self.power:.4f}, method={self.method!r})"
        )


@dataclass(frozen=True)
class MinimumDetectableEffect:
    """Smallest difference detectable with a given power.

    Attributes
    ----------
    effect : float
        Smallest detectable absolute difference: ``|p2 - p1|`` for proportions, the
        difference of means for means.
    p2 : float or None
        For proportions, the second-sample proportion at the detectable difference.
    power, n1, n2 : float
        Target power and the two sample sizes (completed interviews).
    method : str
        Power formula used.
    inputs : Mapping
        The arguments (read-only).
    """

    effect: float
    p2: float | None
    power: float
    n1: float
    n2: float
    method: str
    inputs: Mapping[str, Any]

    def __repr__(self) -> str:
        p2 = "" if self.p2 is None else f", p2={self.p2:.4f}"
        return (
            f"MinimumDetectableEffect(effect={self.effect:.4f}{p2}, power={self.power:g}, "
            f"n1={self.n1:g}, n2={self.n2:g}, method={self.method!r})"
        )


@dataclass(frozen=True)
class DeffSummary:
    """Summary of the design effects of a past survey, for use as planning inputs.

    Attributes
    ----------
    mean, median, min, max : float
        Over the finite design effects of the result.
    count : int
        Number of finite design effects summarised.
    values : pandas.Series
        The design effects summarised (a copy).
    """

    mean: float
    median: float
    min: float
    max: float
    count: int
    values: pd.Series

    def __repr__(self) -> str:
        return (
            f"DeffSummary(mean={self.mean:.3f}, median={self.median:.3f}, "
            f"min={self.min:.3f}, max={self.max:.3f}, count={self.count})"
        )


# ---------------------------------------------------------------- single sample


def _sample_size(
    var_unit: float, moe, level, deff, N, response_rate, *, fpc_shift: float, inputs: dict
) -> SampleSize:
    moe = _check_positive("moe", moe, hint=" (the half-width of the confidence interval)")
    level = _check_level(level)
    deff = _check_deff("deff", deff)
    N = _check_N(N)
    response_rate = _check_response_rate(response_rate)
    z = _z(level, 2)
    n0 = z**2 * var_unit / moe**2 * deff
    n_exact = n0 if N is None else n0 / (1.0 + (n0 - fpc_shift) / N)
    n_required = _ceil(n_exact)
    n_to_contact = _ceil(n_required / response_rate)
    if N is not None and n_to_contact > N:
        raise PlanningError(
            f"n_to_contact={n_to_contact} exceeds the population size N={N:g} at "
            f"response_rate={response_rate:g}; the target moe={moe:g} cannot be reached "
            "even by a census -- accept a larger moe or plan to raise the response rate."
        )
    form = "n0/(1+(n0-1)/N)" if fpc_shift == 1.0 else "n0/(1+n0/N)"
    inputs.update(moe=moe, level=level, deff=deff, N=N, response_rate=response_rate, fpc_form=form)
    return SampleSize(n_required, n_to_contact, float(n0), float(n_exact), _freeze(inputs))


def sample_size_proportion(p, moe, *, level=0.95, deff=1.0, N=None, response_rate=1.0):
    """Sample size to estimate a proportion within a margin of error.

    Parameters
    ----------
    p : float
        Anticipated proportion in [0, 1]; 0.5 is the most conservative choice.
    moe : float
        Target margin of error (half-width of the confidence interval), e.g. 0.03.
    level : float, default 0.95
        Confidence level.
    deff : float, default 1.0
        Anticipated design effect (clustering, weighting); multiplies ``n0``.
    N : float, optional
        Population size for the finite population correction; ``None`` for none.
    response_rate : float, default 1.0
        Anticipated response rate in (0, 1]; ``n_to_contact = ceil(n_required / rate)``.

    Returns
    -------
    SampleSize

    Raises
    ------
    PlanningError
        For ``p`` outside [0, 1], ``moe <= 0``, ``level`` outside (0, 1),
        ``response_rate`` outside (0, 1], ``deff <= 0``, or more contacts than ``N``.

    Notes
    -----
    Cochran (1977, *Sampling Techniques*, 3rd ed., sect. 4.4):
    ``n0 = z^2 p (1 - p) / moe^2 * deff`` with ``z`` the ``1 - (1 - level)/2`` normal
    quantile, then ``n = n0 / (1 + (n0 - 1) / N)``. This fpc form is the exact solution of
    ``moe = z sqrt(deff p(1-p)/n (N-n)/(N-1))``, the variance of a sample proportion
    under simple random sampling without replacement; it equals the formula behind
    Krejcie and Morgan's (1970) table. The result is rounded up.

    Examples
    --------
    >>> from surveylib.planning import sample_size_proportion
    >>> s = sample_size_proportion(0.5, 0.05, response_rate=0.6)
    >>> s.n_required, s.n_to_contact
    (385, 642)
    """
    p_arr = _check_prob("p", _scalar("p", p))
    p = float(p_arr)
    return _sample_size(
        p * (1 - p),
        moe,
        level,
        deff,
        N,
        response_rate,
        fpc_shift=1.0,
        inputs={"estimate": "proportion", "p": p},
    )


def sample_size_mean(sd, moe, *, level=0.95, deff=1.0, N=None, response_rate=1.0):
    """Sample size to estimate a mean within a margin of error.

    Parameters
    ----------
    sd : float
        Anticipated population standard deviation ``S`` (divisor ``N - 1``), > 0.
    moe : float
        Target margin of error in the units of the variable.
    level, deff, N, response_rate
        As in :func:`sample_size_proportion`.

    Returns
    -------
    SampleSize

    Notes
    -----
    Cochran (1977, sect. 4.6): ``n0 = z^2 S^2 / moe^2 * deff`` and
    ``n = n0 / (1 + n0 / N)``, the exact solution of
    ``moe = z sqrt(deff (1 - n/N) S^2 / n)``. Note the fpc form differs from the one for
    proportions because ``S^2`` already carries the ``N - 1`` divisor.

    Examples
    --------
    >>> from surveylib.planning import sample_size_mean
    >>> sample_size_mean(10, 2).n_required  # 1.96^2 * 100 / 4 = 96.04
    97
    """
    sd = _check_positive("sd", sd)
    return _sample_size(
        sd**2,
        moe,
        level,
        deff,
        N,
        response_rate,
        fpc_shift=0.0,
        inputs={"estimate": "mean", "sd": sd},
    )


def _check_n_against_N(n: np.ndarray, N: float | None) -> None:
    if (n <= 0).any():
        raise PlanningError(f"n={n[n <= 0].ravel()[0]!r} must be > 0 completed interviews.")
    if N is not None and (n > N).any():
        raise PlanningError(
            f"n={n[n > N].ravel()[0]!r} exceeds the population size N={N:g}; "
            "a sample cannot be larger than the population."
        )


def margin_of_error(n, *, p=0.5, level=0.95, deff=1.0, N=None):
    """Anticipated margin of error of a proportion estimated from ``n`` interviews.

    Parameters
    ----------
    n : float or array_like
        Completed interviews (arrays give one margin per element).
    p : float, default 0.5
        Anticipated proportion (0.5 gives the largest margin).
    level, deff, N
        As in :func:`sample_size_proportion`.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    ``z sqrt(deff p (1 - p) / n * (N - n) / (N - 1))``, the inverse of
    :func:`sample_size_proportion` before rounding.

    Examples
    --------
    >>> from surveylib.planning import margin_of_error
    >>> round(margin_of_error(1000), 4)
    0.031
    """
    p = float(_check_prob("p", _scalar("p", p)))
    level = _check_level(level)
    deff = _check_deff("deff", deff)
    N = _check_N(N, minimum=2.0)
    n = _array("n", n)
    _check_n_against_N(n, N)
    fpc = 1.0 if N is None else (N - n) / (N - 1)
    return _out(_z(level, 2) * np.sqrt(deff * p * (1 - p) / n * fpc))


def margin_of_error_mean(n, sd, *, level=0.95, deff=1.0, N=None):
    """Anticipated margin of error of a mean estimated from ``n`` interviews.

    Parameters
    ----------
    n : float or array_like
        Completed interviews.
    sd : float
        Anticipated population standard deviation ``S``.
    level, deff, N
        As in :func:`sample_size_mean`.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    ``z sqrt(deff (1 - n/N) S^2 / n)``, the inverse of :func:`sample_size_mean`.

    Examples
    --------
    >>> from surveylib.planning import margin_of_error_mean
    >>> round(margin_of_error_mean(100, 10, level=0.95), 3)  # 1.95996 * 10 / 10
    1.96
    """
    sd = _check_positive("sd", sd)
    level = _check_level(level)
    deff = _check_deff("deff", deff)
    N = _check_N(N)
    n = _array("n", n)
    _check_n_against_N(n, N)
    fpc = 1.0 if N is None else 1.0 - n / N
    return _out(_z(level, 2) * np.sqrt(deff * sd**2 / n * fpc))


# ------------------------------------------------------------------- allocation


def _strata_series(strata_sizes) -> pd.Series:
    if isinstance(strata_sizes, pd.Series):
        s = strata_sizes.copy()
    elif isinstance(strata_sizes, Mapping):
        s = pd.Series(dict(strata_sizes))
    else:
        s = pd.Series(np.asarray(strata_sizes).ravel() if np.ndim(strata_sizes) else [])
    if len(s) == 0:
        raise PlanningError("strata_sizes is empty; give one population size per stratum.")
    if not s.index.is_unique:
        dup = s.index[s.index.duplicated()][0]
        raise PlanningError(
            f"stratum {dup!r} appears twice in strata_sizes; labels must be unique."
        )
    vals = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(vals) | (vals < 1) | (vals != np.round(vals))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise PlanningError(
            f"strata_sizes for stratum {s.index[k]!r} is {s.iloc[k]!r}; population sizes "
            "must be whole numbers >= 1 (drop empty strata from the frame)."
        )
    return pd.Series(vals, index=s.index, name="N")


def _per_stratum(name: str, value, index: pd.Index) -> np.ndarray:
    """Align a scalar, a Series/dict keyed by stratum, or an array to the strata."""
    if isinstance(value, Mapping):
        value = pd.Series(dict(value))
    if isinstance(value, pd.Series):
        missing = index.difference(value.index)
        if len(missing):
            raise PlanningError(
                f"{name} has no value for stratum {missing[0]!r}; give one value per stratum "
                "(its index must hold the labels of strata_sizes)."
            )
        extra = value.index.difference(index)
        if len(extra):
            raise PlanningError(
                f"{name} has a value for stratum {extra[0]!r}, which is not in strata_sizes."
            )
        value = value.reindex(index).to_numpy()
    arr = _array(name, value)
    if arr.ndim == 0:
        return np.full(len(index), float(arr))
    arr = arr.ravel()
    if arr.shape[0] != len(index):
        raise PlanningError(
            f"{name} has {arr.shape[0]} values for {len(index)} strata; give one per stratum "
            "or a pandas Series indexed by stratum."
        )
    return arr


def _first_bad(index: pd.Index, bad: np.ndarray) -> Any:
    return index[int(np.flatnonzero(bad)[0])]


def _spread(sd, p, index, method) -> np.ndarray:
    if sd is not None and p is not None:
        raise PlanningError(f"method={method!r}: give sd= or p=, not both.")
    if sd is None and p is None:
        raise PlanningError(
            f"method={method!r} needs the anticipated spread per stratum: "
            "sd= (standard deviations) or p= (proportions)."
        )
    if sd is not None:
        S = _per_stratum("sd", sd, index)
        if (S < 0).any():
            raise PlanningError(
                f"sd for stratum {_first_bad(index, S < 0)!r} is negative; standard "
                "deviations are >= 0."
            )
        return S
    P = _per_stratum("p", p, index)
    bad = (P < 0) | (P > 1)
    if bad.any():
        raise PlanningError(
            f"p for stratum {_first_bad(index, bad)!r} is {P[bad][0]!r}; give a proportion "
            "in [0, 1]."
        )
    return np.sqrt(P * (1 - P))


def _bound(name: str, value, index, default: np.ndarray) -> np.ndarray:
    if value is None:
        return default
    b = _per_stratum(name, value, index)
    bad = (b < 0) | (b != np.round(b))
    if bad.any():
        raise PlanningError(
            f"{name} for stratum {_first_bad(index, bad)!r} is {b[bad][0]!r}; "
            "give a whole number of interviews >= 0."
        )
    return b


def _bounded_shares(n: float, a: np.ndarray, L: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Continuous allocation ``clip(lam * a, L, U)`` with ``lam`` such that it sums to ``n``.

    This is the fixed point of the iterative re-allocation (fix the strata whose share
    falls outside its bounds at the bound, share the remainder among the others in
    proportion to ``a``) and the Karush-Kuhn-Tucker solution of minimising
    ``sum(a_h^2 / n_h)`` under the bounds. ``g(lam) = sum(clip(lam a, L, U))`` is
    piecewise linear and non-decreasing, so ``lam`` is found exactly between two of its
    breakpoints ``L_h / a_h``, ``U_h / a_h``.
    """
    pos = a > 0
    lam_pts = np.unique(np.concatenate([[0.0], L[pos] / a[pos], U[pos] / a[pos]]))

    def g(lam):
        lam = np.asarray(lam, dtype=np.float64)[..., None]
        return np.where(pos, np.clip(lam * a, L, U), L).sum(axis=-1)

    vals = g(lam_pts)
    # The caller guarantees n <= vals[-1] up to rounding; clamp against that rounding.
    k = min(int(np.searchsorted(vals, n, side="left")), lam_pts.size - 1)
    if k == 0:
        lam = 0.0
    elif vals[k] <= vals[k - 1]:
        lam = lam_pts[k]
    else:
        lo, hi = lam_pts[k - 1], lam_pts[k]
        lam = lo + (n - vals[k - 1]) * (hi - lo) / (vals[k] - vals[k - 1])
    return np.where(pos, np.clip(lam * a, L, U), L)


def _largest_remainder(x: np.ndarray, n: int, L: np.ndarray, U: np.ndarray) -> np.ndarray:
    base = np.clip(np.floor(x + 1e-9), L, U)
    frac = x - base
    r = int(round(n - base.sum()))
    order_up = np.lexsort((np.arange(x.size), -frac))  # largest remainder first, then position
    if r > 0:
        eligible = order_up[base[order_up] < U[order_up]]
        base[eligible[:r]] += 1
    elif r < 0:
        order_down = order_up[::-1]
        eligible = order_down[base[order_down] > L[order_down]]
        base[eligible[:-r]] -= 1
    return base.astype(np.int64)


def allocate(
    n,
    strata_sizes,
    *,
    method="proportional",
    sd=None,
    p=None,
    mean=None,
    cost=None,
    power=0.5,
    min_n=None,
    max_n=None,
    integer=True,
):
    """Allocate a total sample of ``n`` interviews over strata.

    Parameters
    ----------
    n : int
        Total sample size to allocate.
    strata_sizes : pandas.Series, dict or array_like
        Population size ``N_h`` of each stratum; a Series or dict keys the strata.
    method : {"proportional", "equal", "neyman", "optimal", "power", "bankier"}
        Allocation rule; ``n_h`` is proportional to

        * ``proportional``: ``N_h``;
        * ``equal``: 1;
        * ``neyman``: ``N_h S_h``;
        * ``optimal``: ``N_h S_h / sqrt(c_h)`` (cost-optimal for a fixed total ``n``);
        * ``power``: ``N_h ** power`` (0 gives equal, 1 proportional);
        * ``bankier``: ``N_h ** power * S_h / Ybar_h``, i.e. ``N_h ** power`` times the
          stratum coefficient of variation (Bankier 1988).
    sd : scalar, Series, dict or array_like, optional
        Anticipated stratum standard deviations ``S_h`` (neyman, optimal, bankier).
    p : scalar, Series, dict or array_like, optional
        Anticipated stratum proportions; gives ``S_h = sqrt(p_h (1 - p_h))`` and, for
        bankier, ``Ybar_h = p_h``. Give ``sd`` or ``p``, not both.
    mean : scalar, Series, dict or array_like, optional
        Anticipated stratum means ``Ybar_h > 0`` for bankier with ``sd``.
    cost : scalar, Series, dict or array_like, optional
        Cost per interview ``c_h > 0`` (optimal only).
    power : float, default 0.5
        Exponent ``q`` in [0, 1] of the power and bankier allocations.
    min_n, max_n : int, Series, dict or array_like, optional
        Per-stratum lower and upper bounds on ``n_h``; ``n_h <= N_h`` always holds.
    integer : bool, default True
        Round to whole interviews by the largest-remainder method, keeping the total
        and the bounds. ``False`` returns the unrounded allocation.

    Returns
    -------
    pandas.Series
        ``n_h`` indexed by stratum, named ``"n"``; int64 summing exactly to ``n`` when
        ``integer`` is true.

    Raises
    ------
    PlanningError
        For an unknown method, missing ``sd``/``p`` or ``cost``, non-positive cost,
        ``sum(min_n) > n``, ``sum(max_n) < n``, ``n > sum(N_h)``, ``min_n > N_h``, or
        inputs given to a method that does not use them.

    Notes
    -----
    Bounds are met by iterative re-allocation (Cochran 1977, sect. 5.8, for ``n_h > N_h``):
    a stratum whose share falls outside ``[min_n_h, min(max_n_h, N_h)]`` is fixed at the
    bound and the remainder is shared among the other strata by the same rule; this is
    solved exactly as ``n_h = clip(lam a_h, L_h, U_h)``. Rounding gives every stratum the
    integer part of its share and the remaining interviews to the largest fractional
    parts (ties to the earlier stratum). Neyman and cost-optimal allocation are Cochran
    (1977, sect. 5.5) with ``n`` fixed; power allocation is Kish's (1988)
    compromise ``N_h ** q``; Bankier's (1988) power allocation minimises
    ``sum_h N_h^(2q) CV_h(ybar_h)^2`` ignoring the fpc.

    Examples
    --------
    >>> from surveylib.planning import allocate
    >>> allocate(100, {"north": 5000, "south": 3000, "east": 2000}).tolist()
    [50, 30, 20]

    Stratum ``c`` would get 50 by Neyman's rule but has only 40 units: it is taken
    completely and the other 60 interviews are shared 5:3 (37.5 and 22.5; the tied
    remainder goes to the earlier stratum):

    >>> allocate(100, {"a": 5000, "b": 3000, "c": 40}, method="neyman",
    ...          sd={"a": 1.0, "b": 1.0, "c": 200.0}).tolist()
    [38, 22, 40]
    """
    if method not in ALLOCATION_METHODS:
        raise PlanningError(f"method={method!r} is not one of {list(ALLOCATION_METHODS)}.")
    n_val = _scalar("n", n)
    if n_val < 1 or n_val != round(n_val):
        raise PlanningError(f"n={n!r} must be a whole number of interviews >= 1.")
    n = int(round(n_val))
    Ns = _strata_series(strata_sizes)
    index = Ns.index
    N = Ns.to_numpy()

    uses = {
        "sd": ("neyman", "optimal", "bankier"),
        "p": ("neyman", "optimal", "bankier"),
        "mean": ("bankier",),
        "cost": ("optimal",),
    }
    given = {"sd": sd, "p": p, "mean": mean, "cost": cost}
    for name, methods in uses.items():
        if given[name] is not None and method not in methods:
            raise PlanningError(
                f"{name}= is not used by method={method!r}; it is used by {list(methods)}."
            )

    if method == "proportional":
        a = N.copy()
    elif method == "equal":
        a = np.ones_like(N)
    elif method == "power":
        q = _power_exponent(power)
        a = N**q
    else:
        S = _spread(sd, p, index, method)
        if method == "neyman":
            a = N * S
        elif method == "optimal":
            if cost is None:
                raise PlanningError(
                    "method='optimal' needs cost= (cost per interview in each stratum); "
                    "with equal costs use method='neyman'."
                )
            c = _per_stratum("cost", cost, index)
            if (c <= 0).any():
                raise PlanningError(
                    f"cost for stratum {_first_bad(index, c <= 0)!r} is "
                    f"{c[c <= 0][0]!r}; costs per interview must be > 0."
                )
            a = N * S / np.sqrt(c)
        else:  # bankier
            q = _power_exponent(power)
            if p is not None:
                if mean is not None:
                    raise PlanningError("method='bankier': with p= the mean is p; drop mean=.")
                Y = _per_stratum("p", p, index)
            elif mean is None:
                raise PlanningError(
                    "method='bankier' with sd= needs mean= (anticipated stratum means) to "
                    "form coefficients of variation; or give p= for proportions."
                )
            else:
                Y = _per_stratum("mean", mean, index)
            if (Y <= 0).any():
                raise PlanningError(
                    f"the anticipated mean (or p) of stratum {_first_bad(index, Y <= 0)!r} "
                    "is <= 0, so its coefficient of variation is undefined; give a value > 0."
                )
            a = N**q * S / Y
    if not (a > 0).any():
        raise PlanningError(
            f"method={method!r} gives every stratum a zero share (all sd or p(1-p) are 0); "
            "check the anticipated values."
        )

    L = _bound("min_n", min_n, index, np.zeros_like(N))
    U = np.minimum(_bound("max_n", max_n, index, N), N)
    over = L > N
    if over.any():
        h = _first_bad(index, over)
        raise PlanningError(
            f"min_n={L[over][0]:g} exceeds the population size N_h={N[over][0]:g} of stratum "
            f"{h!r}; lower min_n for that stratum (at most its N_h: take it completely)."
        )
    crossed = L > U
    if crossed.any():
        raise PlanningError(
            f"min_n exceeds max_n for stratum {_first_bad(index, crossed)!r}; make min_n <= max_n."
        )
    if L.sum() > n:
        raise PlanningError(
            f"the minimum sizes add up to sum(min_n)={L.sum():g} > n={n}; raise n or lower min_n."
        )
    if N.sum() < n:
        raise PlanningError(f"n={n} exceeds the total population sum(N_h)={N.sum():g}; lower n.")
    if U.sum() < n:
        raise PlanningError(
            f"the maximum sizes (max_n, capped at N_h) add up to {U.sum():g} < n={n}; "
            "raise max_n or lower n."
        )
    reach = np.where(a > 0, U, L).sum()
    if reach < n:
        raise PlanningError(
            f"strata with a zero share (sd or p(1-p) equal to 0) receive only min_n, so at "
            f"most {reach:g} < n={n} interviews can be allocated; give them max_n room "
            "through a positive sd, or lower n."
        )
    x = _bounded_shares(float(n), a, L, U)
    if not integer:
        return pd.Series(x, index=index, name="n")
    return pd.Series(_largest_remainder(x, n, L, U), index=index, name="n")


def _power_exponent(power) -> float:
    q = _scalar("power", power)
    if not 0 <= q <= 1:
        raise PlanningError(
            f"power={q!r} must be in [0, 1] (0: equal allocation, 1: proportional to size)."
        )
    return q


# -------------------------------------------------------------- stratum precision


def _allocation_inputs(allocation, p, sd, strata_sizes, deff):
    if isinstance(allocation, Mapping):
        allocation = pd.Series(dict(allocation))
    if not isinstance(allocation, pd.Series):
        allocation = pd.Series(_array("allocation", allocation).ravel())
    index = allocation.index
    n = _array("allocation", allocation.to_numpy()).ravel()
    if (n <= 0).any():
        raise PlanningError(
            f"stratum {_first_bad(index, n <= 0)!r} has no interviews in the allocation, so "
            "its margin of error is undefined; give it min_n= in allocate()."
        )
    if strata_sizes is None:
        N = np.full(n.shape, np.inf)
    else:
        Ns = _strata_series(strata_sizes)
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
                f"the allocation for stratum {_first_bad(index, big)!r} exceeds its "
                "population size; use allocate() with these strata_sizes."
            )
    if (p is None) == (sd is None):
        raise PlanningError("give p= (proportions) or sd= (standard deviations), exactly one.")
    D = _per_stratum("deff", deff, index)
    if (D <= 0).any():
        raise PlanningError(f"deff for stratum {_first_bad(index, D <= 0)!r} must be > 0.")
    if p is not None:
        P = _per_stratum("p", p, index)
        bad = (P < 0) | (P > 1)
        if bad.any():
            raise PlanningError(
                f"p for stratum {_first_bad(index, bad)!r} is {P[bad][0]!r}; give a "
                "proportion in [0, 1]."
            )
        # V(p_h) = (N_h - n_h)/(N_h - 1) P_h Q_h / n_h  (Cochran 1977, sect. 3.2)
        with np.errstate(invalid="ignore", divide="ignore"):
            fpc = np.where(np.isinf(N), 1.0, (N - n) / np.where(N > 1, N - 1, 1.0))
        var = D * P * (1 - P) / n * fpc
        value = P
    else:
        S = _per_stratum("sd", sd, index)
        if (S < 0).any():
            raise PlanningError(f"sd for stratum {_first_bad(index, S < 0)!r} is negative.")
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
    level = _check_level(level)
    index, n, N, value, D, var = _allocation_inputs(allocation, p, sd, strata_sizes, deff)
    se = np.sqrt(var)
    n_col = n.astype(np.int64) if np.all(n == np.round(n)) else n
    return pd.DataFrame(
        {"n": n_col, "N": N, "value": value, "deff": D, "se": se, "moe": _z(level, 2) * se},
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
    level = _check_level(level)
    if strata_sizes is None:
        raise PlanningError("stratified_moe needs strata_sizes= to weight the strata.")
    index, n, N, value, D, var = _allocation_inputs(allocation, p, sd, strata_sizes, deff)
    W = N / N.sum()
    return float(_z(level, 2) * np.sqrt(np.sum(W**2 * var)))


# ----------------------------------------------------------------- two samples


def _effective(n1, n2, deff1, deff2):
    n1 = _array("n1", n1)
    n2 = _array("n2", n2)
    for name, v in (("n1", n1), ("n2", n2)):
        if (v <= 0).any():
            raise PlanningError(f"{name}={v[v <= 0].ravel()[0]!r} must be > 0 interviews.")
    d1 = _check_deff("deff1", deff1)
    d2 = _check_deff("deff2", deff2)
    return n1 / d1, n2 / d2


def _tails(stat, z1, z2, alternative):
    """Power of a z statistic with mean ``stat`` (signed, group 1 minus group 2)."""
    if alternative == "two-sided":
        return stats.norm.cdf(np.abs(stat) - z2) + stats.norm.cdf(-np.abs(stat) - z2)
    if alternative == "greater":
        return stats.norm.cdf(stat - z1)
    return stats.norm.cdf(-stat - z1)


def _prop_power(p1, p2, m1, m2, level, alternative, method):
    z1, z2 = _z(level, 1), _z(level, 2)
    d = p1 - p2
    if method == "arcsine":
        h = 2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2))
        return _tails(h * np.sqrt(m1 * m2 / (m1 + m2)), z1, z2, alternative)
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
        return stats.norm.cdf((signed - z * se0) / se1)


def power_two_proportions(
    p1, p2, n1, n2, *, deff1=1.0, deff2=1.0, level=0.95, alternative="two-sided", method="normal"
):
    """Power to detect the difference between proportions of two independent samples.

    Parameters
    ----------
    p1, p2 : float or array_like
        Anticipated proportions in samples (waves) 1 and 2.
    n1, n2 : float or array_like
        Completed interviews; arrays broadcast against each other and ``p1``, ``p2``.
    deff1, deff2 : float, default 1.0
        Design effects; the formulas use effective sizes ``n1/deff1`` and ``n2/deff2``.
    level : float, default 0.95
        ``1 - level`` is the significance level.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: H1 ``p1 > p2``; ``"less"``: H1 ``p1 < p2`` (R's convention).
    method : {"normal", "power.prop.test", "arcsine"}
        ``"normal"``: unpooled normal approximation, ``se^2 = p1 q1/m1 + p2 q2/m2``,
        both rejection tails counted for a two-sided test. ``"power.prop.test"``: R's
        ``power.prop.test`` (strict = FALSE): pooled variance under H0, unpooled under
        H1, one rejection tail; for ``n1 != n2`` the pooled proportion is
        ``(m1 p1 + m2 p2)/(m1 + m2)`` (Fleiss et al. 2003, sect. 4.2, without continuity
        correction). ``"arcsine"``: Cohen's ``h = 2 asin sqrt(p1) - 2 asin sqrt(p2)``
        with ``h sqrt(m1 m2 / (m1 + m2))``, as ``pwr::pwr.2p2n.test``.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> from surveylib.planning import power_two_proportions
    >>> round(power_two_proportions(0.5, 0.75, 50, 50, method="power.prop.test"), 4)
    0.7402
    """
    alternative = _check_alternative(alternative)
    method = _check_method(method, _PROPORTION_METHODS)
    level = _check_level(level)
    p1 = _check_prob("p1", p1)
    p2 = _check_prob("p2", p2)
    m1, m2 = _effective(n1, n2, deff1, deff2)
    return _out(_prop_power(p1, p2, m1, m2, level, alternative, method))


def _mean_power(delta, sd1, sd2, m1, m2, level, alternative, method):
    if method == "normal":
        z1, z2 = _z(level, 1), _z(level, 2)
        se = np.sqrt(sd1**2 / m1 + sd2**2 / m2)
        return _tails(delta / se, z1, z2, alternative)
    # power.t.test (strict = FALSE): non-central t, df = m1 + m2 - 2, one rejection tail.
    df = np.maximum(2e-7, m1 + m2 - 2)
    ncp = delta / (sd1 * np.sqrt(1 / m1 + 1 / m2))
    ncp = {"two-sided": np.abs(ncp), "greater": ncp, "less": -ncp}[alternative]
    tails = 2 if alternative == "two-sided" else 1
    q = stats.t.ppf(1 - (1 - level) / tails, df)
    return stats.nct.sf(q, df, ncp)


def _mean_inputs(sd, sd2, method):
    sd = _check_positive("sd", sd)
    sd2 = sd if sd2 is None else _check_positive("sd2", sd2)
    if method == "power.t.test" and sd2 != sd:
        raise PlanningError(
            "method='power.t.test' assumes one common sd (pooled t test); "
            "use method='normal' for sd2 != sd."
        )
    return sd, sd2


def power_two_means(
    delta,
    sd,
    n1,
    n2,
    *,
    sd2=None,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
):
    """Power to detect a difference ``delta = mu1 - mu2`` between two independent means.

    Parameters
    ----------
    delta : float or array_like
        Anticipated difference of means, group 1 minus group 2.
    sd : float
        Anticipated standard deviation (of group 1, and of group 2 unless ``sd2``).
    n1, n2 : float or array_like
        Completed interviews.
    sd2 : float, optional
        Standard deviation of group 2 (``method="normal"`` only).
    deff1, deff2, level, alternative
        As in :func:`power_two_proportions`.
    method : {"normal", "power.t.test"}
        ``"normal"``: ``se^2 = sd^2/m1 + sd2^2/m2``, both tails for two-sided.
        ``"power.t.test"``: R's ``power.t.test`` (two-sample, strict = FALSE): non-central
        t with ``df = m1 + m2 - 2`` and ``ncp = delta / (sd sqrt(1/m1 + 1/m2))``, one
        rejection tail.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> from surveylib.planning import power_two_means
    >>> round(power_two_means(1, 1, 20, 20, method="power.t.test"), 3)
    0.869
    """
    alternative = _check_alternative(alternative)
    method = _check_method(method, _MEAN_METHODS)
    level = _check_level(level)
    sd, sd2 = _mean_inputs(sd, sd2, method)
    delta = _array("delta", delta)
    m1, m2 = _effective(n1, n2, deff1, deff2)
    return _out(_mean_power(delta, sd, sd2, m1, m2, level, alternative, method))


def _solve_n(power_of_n1, target: float, *, lower: float, what: str) -> float:
    f = lambda n1: float(power_of_n1(n1)) - target  # noqa: E731
    if f(lower) >= 0:
        raise PlanningError(
            f"the target power={target:g} is already reached with fewer than {lower:g} "
            f"interviews for {what}; ask for a higher power (or a smaller difference)."
        )
    hi = max(2 * lower, 16.0)
    while f(hi) < 0:
        hi *= 4
        if hi > 1e13:
            raise PlanningError(
                f"no sample size below 1e13 reaches power={target:g} for {what}; with "
                "method='power.prop.test' or 'power.t.test' a two-sided power below the "
                "one-tail limit may be unreachable -- check the difference and the power."
            )
    return float(
        optimize.brentq(f, lower, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=500)
    )


def _check_ratio(ratio) -> float:
    return _check_positive("ratio", ratio, hint=" (n2 = ratio * n1)")


def _two_sample_size(power_fn, target, ratio, method, inputs, lower, what):
    n1 = _solve_n(lambda n: power_fn(n, ratio * n), target, lower=lower, what=what)
    n2 = ratio * n1
    r1, r2 = _ceil(n1), _ceil(n2)
    achieved = float(power_fn(r1, r2))
    return TwoSampleSize(r1, r2, n1, n2, achieved, target, method, _freeze(inputs))


def sample_size_two_proportions(
    p1,
    p2,
    *,
    power=0.8,
    ratio=1.0,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
):
    """Sample sizes to detect ``p1 != p2`` between two independent samples.

    Parameters
    ----------
    p1, p2 : float
        Anticipated proportions.
    power : float, default 0.8
        Target power.
    ratio : float, default 1.0
        ``n2 / n1``.
    deff1, deff2, level, alternative, method
        As in :func:`power_two_proportions`.

    Returns
    -------
    TwoSampleSize

    Notes
    -----
    ``n1`` solves ``power(n1, ratio * n1) = power`` by :func:`scipy.optimize.brentq`
    (``xtol = 1e-12``); with ``method="power.prop.test"``, ``ratio=1`` and unit design
    effects ``n1_exact`` is ``power.prop.test(p1=, p2=, power=)$n``, and with
    ``method="arcsine"`` it is ``pwr.2p.test(h = ES.h(p1, p2), power=)$n``.

    Examples
    --------
    >>> from surveylib.planning import sample_size_two_proportions
    >>> s = sample_size_two_proportions(0.30, 0.35, deff1=1.5, deff2=1.5)
    >>> s.n1 == s.n2
    True
    """
    alternative = _check_alternative(alternative)
    method = _check_method(method, _PROPORTION_METHODS)
    level = _check_level(level)
    target = _check_power_target(power)
    ratio = _check_ratio(ratio)
    p1 = float(_check_prob("p1", _scalar("p1", p1)))
    p2 = float(_check_prob("p2", _scalar("p2", p2)))
    if p1 == p2:
        raise PlanningError(
            f"p1 = p2 = {p1:g}: no sample size detects a zero difference; give the "
            "smallest difference worth detecting."
        )
    d1 = _check_deff("deff1", deff1)
    d2 = _check_deff("deff2", deff2)
    inputs = dict(
        p1=p1,
        p2=p2,
        power=target,
        ratio=ratio,
        deff1=d1,
        deff2=d2,
        level=level,
        alternative=alternative,
    )

    def power_fn(n1, n2):
        return _prop_power(p1, p2, n1 / d1, n2 / d2, level, alternative, method)

    return _two_sample_size(
        power_fn, target, ratio, method, inputs, lower=1e-6, what=f"p1={p1:g}, p2={p2:g}"
    )


def sample_size_two_means(
    delta,
    sd,
    *,
    power=0.8,
    ratio=1.0,
    sd2=None,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
):
    """Sample sizes to detect a difference ``delta`` between two independent means.

    Parameters
    ----------
    delta : float
        Difference of means worth detecting (group 1 minus group 2), non-zero.
    sd : float
        Anticipated standard deviation.
    power, ratio
        As in :func:`sample_size_two_proportions`.
    sd2, deff1, deff2, level, alternative, method
        As in :func:`power_two_means`.

    Returns
    -------
    TwoSampleSize

    Notes
    -----
    Solved as in :func:`sample_size_two_proportions`; with ``method="power.t.test"``,
    ``ratio=1`` and unit design effects ``n1_exact`` is ``power.t.test(delta=, sd=,
    power=)$n``. The search starts at ``n1 = 2`` like R's.

    Examples
    --------
    >>> from surveylib.planning import sample_size_two_means
    >>> sample_size_two_means(0.5, 1.0).n1  # (1.96 + 0.8416)^2 * 2 / 0.25 = 62.8
    63
    """
    alternative = _check_alternative(alternative)
    method = _check_method(method, _MEAN_METHODS)
    level = _check_level(level)
    target = _check_power_target(power)
    ratio = _check_ratio(ratio)
    sd, sd2 = _mean_inputs(sd, sd2, method)
    delta = _scalar("delta", delta)
    if delta == 0:
        raise PlanningError("delta=0: no sample size detects a zero difference.")
    d1 = _check_deff("deff1", deff1)
    d2 = _check_deff("deff2", deff2)
    inputs = dict(
        delta=delta,
        sd=sd,
        sd2=sd2,
        power=target,
        ratio=ratio,
        deff1=d1,
        deff2=d2,
        level=level,
        alternative=alternative,
    )

    def power_fn(n1, n2):
        return _mean_power(delta, sd, sd2, n1 / d1, n2 / d2, level, alternative, method)

    lower = 2.0 if method == "power.t.test" else 1e-6
    return _two_sample_size(
        power_fn, target, ratio, method, inputs, lower=lower, what=f"delta={delta:g}"
    )


def mde_two_proportions(
    p1,
    n1,
    n2,
    *,
    power=0.8,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
    direction=None,
):
    """Minimum detectable difference from a baseline proportion ``p1``.

    Parameters
    ----------
    p1 : float
        Baseline proportion (for example, wave 1).
    n1, n2 : float
        Completed interviews in the two samples.
    power : float, default 0.8
    deff1, deff2, level, alternative, method
        As in :func:`power_two_proportions`.
    direction : {"increase", "decrease"}, optional
        Whether ``p2`` lies above or below ``p1``. Defaults to the direction of the
        alternative (``"less"``: increase, ``"greater"``: decrease) and to ``"increase"``
        for a two-sided test (the two are not symmetric for proportions).

    Returns
    -------
    MinimumDetectableEffect
        ``effect = |p2 - p1|``; ``p2`` solves ``power(p1, p2) = power`` by
        :func:`scipy.optimize.brentq`.

    Examples
    --------
    >>> from surveylib.planning import mde_two_proportions
    >>> m = mde_two_proportions(0.3, 1000, 1000)
    >>> 0.05 < m.effect < 0.07
    True
    """
    alternative = _check_alternative(alternative)
    method = _check_method(method, _PROPORTION_METHODS)
    level = _check_level(level)
    target = _check_power_target(power)
    p1 = float(_check_prob("p1", _scalar("p1", p1)))
    n1 = _check_positive("n1", n1)
    n2 = _check_positive("n2", n2)
    d1 = _check_deff("deff1", deff1)
    d2 = _check_deff("deff2", deff2)
    implied = {"greater": "decrease", "less": "increase"}.get(alternative)
    if direction is None:
        direction = implied or "increase"
    if direction not in ("increase", "decrease"):
        raise PlanningError(f"direction={direction!r} is not 'increase' or 'decrease'.")
    if implied is not None and direction != implied:
        raise PlanningError(
            f"alternative={alternative!r} tests p1 {'>' if alternative == 'greater' else '<'} "
            f"p2, i.e. a {implied} of p2, but direction={direction!r}; change one of them."
        )
    m1, m2 = n1 / d1, n2 / d2

    def f(p2):
        return float(_prop_power(p1, p2, m1, m2, level, alternative, method)) - target

    end = 1.0 if direction == "increase" else 0.0
    if p1 == end or f(end) < 0:
        raise PlanningError(
            f"even p2={end:g} is not detected with power={target:g} from p1={p1:g} "
            f"with n1={n1:g}, n2={n2:g}; increase the sample sizes or lower the power."
        )
    start = p1 + (1e-12 if direction == "increase" else -1e-12)
    if f(start) >= 0:
        raise PlanningError(
            f"power={target:g} is reached at any difference from p1={p1:g}; ask for a higher power."
        )
    p2 = float(
        optimize.brentq(
            f,
            min(start, end),
            max(start, end),
            xtol=1e-14,
            rtol=4 * np.finfo(float).eps,
            maxiter=500,
        )
    )
    inputs = dict(
        p1=p1, deff1=d1, deff2=d2, level=level, alternative=alternative, direction=direction
    )
    return MinimumDetectableEffect(abs(p2 - p1), p2, target, n1, n2, method, _freeze(inputs))


def mde_two_means(
    n1,
    n2,
    sd,
    *,
    power=0.8,
    sd2=None,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
):
    """Minimum detectable difference of two independent means.

    Parameters
    ----------
    n1, n2 : float
        Completed interviews.
    sd : float
        Anticipated standard deviation.
    power : float, default 0.8
    sd2, deff1, deff2, level, alternative, method
        As in :func:`power_two_means`.

    Returns
    -------
    MinimumDetectableEffect
        ``effect`` is the smallest ``|mu1 - mu2|`` detected with the target power, in the
        direction of the alternative.

    Examples
    --------
    >>> from surveylib.planning import mde_two_means
    >>> round(mde_two_means(100, 100, 1.0).effect, 3)  # (1.96 + 0.8416) sqrt(2/100)
    0.396
    """
    alternative = _check_alternative(alternative)
    method = _check_method(method, _MEAN_METHODS)
    level = _check_level(level)
    target = _check_power_target(power)
    sd, sd2 = _mean_inputs(sd, sd2, method)
    n1 = _check_positive("n1", n1)
    n2 = _check_positive("n2", n2)
    d1 = _check_deff("deff1", deff1)
    d2 = _check_deff("deff2", deff2)
    m1, m2 = n1 / d1, n2 / d2
    sign = -1.0 if alternative == "less" else 1.0

    def f(delta):
        return (
            float(_mean_power(sign * delta, sd, sd2, m1, m2, level, alternative, method)) - target
        )

    if f(0.0) >= 0:
        raise PlanningError(f"power={target:g} is reached at a zero difference; raise it.")
    hi = sd
    while f(hi) < 0:
        hi *= 2
    delta = float(
        optimize.brentq(f, 0.0, hi, xtol=1e-14 * sd, rtol=4 * np.finfo(float).eps, maxiter=500)
    )
    inputs = dict(sd=sd, sd2=sd2, deff1=d1, deff2=d2, level=level, alternative=alternative)
    return MinimumDetectableEffect(delta, None, target, n1, n2, method, _freeze(inputs))


# ------------------------------------------------------------------ power curves


def power_curve(
    p1,
    p2,
    n,
    *,
    ratio=1.0,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
):
    """Power of a two-proportion comparison over a grid of sample sizes.

    Parameters
    ----------
    p1 : float
        Baseline proportion.
    p2 : float or sequence of float
        Alternative proportions, one curve each.
    n : sequence of float
        Sizes ``n1`` of sample 1; ``n2 = ratio * n1``.
    ratio, deff1, deff2, level, alternative, method
        As in :func:`sample_size_two_proportions`.

    Returns
    -------
    pandas.DataFrame
        One row per ``p2`` x ``n`` with columns ``p1``, ``p2``, ``difference``
        (``p2 - p1``), ``n1``, ``n2``, ``power``, ``method``.

    Examples
    --------
    >>> from surveylib.planning import power_curve
    >>> curve = power_curve(0.3, [0.33, 0.35], [500, 1000, 2000])
    >>> curve.shape
    (6, 7)
    """
    ratio = _check_ratio(ratio)
    p1 = float(_check_prob("p1", _scalar("p1", p1)))
    p2s = np.atleast_1d(_check_prob("p2", p2)).ravel()
    ns = np.atleast_1d(_array("n", n)).ravel()
    P2, N1 = np.meshgrid(p2s, ns, indexing="ij")
    pw = power_two_proportions(
        p1,
        P2.ravel(),
        N1.ravel(),
        ratio * N1.ravel(),
        deff1=deff1,
        deff2=deff2,
        level=level,
        alternative=alternative,
        method=method,
    )
    return pd.DataFrame(
        {
            "p1": p1,
            "p2": P2.ravel(),
            "difference": P2.ravel() - p1,
            "n1": N1.ravel(),
            "n2": ratio * N1.ravel(),
            "power": np.atleast_1d(pw),
            "method": method,
        }
    )


def plot_power_curve(curve, *, target_power=0.8, ax=None):
    """Draw a power curve from :func:`power_curve` (one line per ``p2``).

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`power_curve`.
    target_power : float or None, default 0.8
        Draws a dashed horizontal reference line; ``None`` for none.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure (not registered with pyplot) otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from surveylib.planning import power_curve, plot_power_curve
    >>> fig = plot_power_curve(power_curve(0.3, [0.33, 0.35], [500, 1000, 2000]))
    >>> len(fig.axes[0].lines)
    3
    """
    from matplotlib.figure import Figure

    need = {"p1", "p2", "n1", "power"}
    if not isinstance(curve, pd.DataFrame) or not need <= set(curve.columns):
        raise PlanningError(
            f"curve must be the DataFrame returned by power_curve() (columns {sorted(need)})."
        )
    if ax is None:
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for p2, part in curve.groupby("p2", sort=True):
        part = part.sort_values("n1")
        ax.plot(
            part["n1"],
            part["power"],
            marker="o",
            label=f"p2 = {p2:g} (diff {p2 - part['p1'].iloc[0]:+.3g})",
        )
    if target_power is not None:
        ax.axhline(
            _check_power_target(target_power),
            linestyle="--",
            color="grey",
            label=f"power {target_power:g}",
        )
    ax.set_xlabel("n1 (completed interviews, sample 1)")
    ax.set_ylabel("power")
    ax.set_ylim(0, 1)
    method = curve["method"].iloc[0] if "method" in curve.columns else ""
    ax.set_title(f"Power to detect a change from p1 = {curve['p1'].iloc[0]:g} ({method})")
    ax.legend(loc="lower right", fontsize="small")
    return fig


# ----------------------------------------------------------- design effects


def deff_from_result(result) -> DeffSummary:
    """Summarise the design effects of an estimator result for planning.

    Parameters
    ----------
    result : object
        Anything with a ``.deff`` attribute holding a pandas Series (or array) of design
        effects, e.g. the result of a surveylib estimator on last wave's design.

    Returns
    -------
    DeffSummary
        ``mean``, ``median``, ``min`` and ``max`` over the finite design effects; pass
        ``mean`` (typical) or ``max`` (conservative) as ``deff=`` to the planning functions.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from surveylib.planning import deff_from_result
    >>> res = SimpleNamespace(deff=pd.Series([1.2, 1.8, 1.6], index=["a", "b", "c"]))
    >>> deff_from_result(res).max
    1.8
    """
    if not hasattr(result, "deff"):
        raise PlanningError(
            f"{type(result).__name__} has no .deff; pass an estimator result computed "
            "with design effects (e.g. design.mean(..., deff=True))."
        )
    deff = result.deff
    deff = deff() if callable(deff) else deff
    if isinstance(deff, pd.DataFrame):
        deff = deff.stack()
    s = deff if isinstance(deff, pd.Series) else pd.Series(np.ravel(deff))
    vals = pd.to_numeric(s, errors="coerce").astype(np.float64)
    finite = vals[np.isfinite(vals.to_numpy())]
    if finite.empty:
        raise PlanningError(
            "the result's .deff holds no finite design effects; recompute it with "
            "design effects or give deff= by hand."
        )
    if (finite <= 0).any():
        raise PlanningError(
            f"the result's .deff has a non-positive value for {finite.index[finite <= 0][0]!r}; "
            "design effects are > 0."
        )
    arr = finite.to_numpy()
    return DeffSummary(
        float(arr.mean()),
        float(np.median(arr)),
        float(arr.min()),
        float(arr.max()),
        int(arr.size),
        finite.copy(),
    )
