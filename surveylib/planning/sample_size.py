"""Sample size for a target margin of error, and the margin of error of a sample size.

:func:`sample_size_proportion` and :func:`sample_size_mean` are Cochran's sample size with a
design effect, a finite population correction and a response rate; :func:`margin_of_error` and
:func:`margin_of_error_mean` are their inverses (the precision of ``n`` interviews).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import PlanningError
from ._checks import (
    as_array,
    as_scalar,
    ceil_count,
    check_deff,
    check_level,
    check_N,
    check_positive,
    check_prob,
    check_response_rate,
    freeze,
    scalar_or_array,
    z_quantile,
)

__all__ = [
    "SampleSize",
    "sample_size_proportion",
    "sample_size_mean",
    "margin_of_error",
    "margin_of_error_mean",
]


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


def _sample_size(
    var_unit: float, moe, level, deff, N, response_rate, *, fpc_shift: float, inputs: dict
) -> SampleSize:
    moe = check_positive("moe", moe, hint=" (the half-width of the confidence interval)")
    level = check_level(level)
    deff = check_deff("deff", deff)
    N = check_N(N)
    response_rate = check_response_rate(response_rate)
    z = z_quantile(level, 2)
    n0 = z**2 * var_unit / moe**2 * deff
    n_exact = n0 if N is None else n0 / (1.0 + (n0 - fpc_shift) / N)
    n_required = ceil_count(n_exact)
    n_to_contact = ceil_count(n_required / response_rate)
    if N is not None and n_to_contact > N:
        raise PlanningError(
            f"n_to_contact={n_to_contact} exceeds the population size N={N:g} at "
            f"response_rate={response_rate:g}; the target moe={moe:g} cannot be reached "
            "even by a census -- accept a larger moe or plan to raise the response rate."
        )
    form = "n0/(1+(n0-1)/N)" if fpc_shift == 1.0 else "n0/(1+n0/N)"
    inputs.update(moe=moe, level=level, deff=deff, N=N, response_rate=response_rate, fpc_form=form)
    return SampleSize(n_required, n_to_contact, float(n0), float(n_exact), freeze(inputs))


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
    p_arr = check_prob("p", as_scalar("p", p))
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
    sd = check_positive("sd", sd)
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
    p = float(check_prob("p", as_scalar("p", p)))
    level = check_level(level)
    deff = check_deff("deff", deff)
    N = check_N(N, minimum=2.0)
    n = as_array("n", n)
    _check_n_against_N(n, N)
    fpc = 1.0 if N is None else (N - n) / (N - 1)
    return scalar_or_array(z_quantile(level, 2) * np.sqrt(deff * p * (1 - p) / n * fpc))


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
    sd = check_positive("sd", sd)
    level = check_level(level)
    deff = check_deff("deff", deff)
    N = check_N(N)
    n = as_array("n", n)
    _check_n_against_N(n, N)
    fpc = 1.0 if N is None else 1.0 - n / N
    return scalar_or_array(z_quantile(level, 2) * np.sqrt(deff * sd**2 / n * fpc))
