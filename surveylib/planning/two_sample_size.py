"""Sample sizes that give a comparison of two independent samples a target power.

:func:`sample_size_two_proportions` and :func:`sample_size_two_means` solve the power formulas
of :mod:`.power` for ``n1`` (``n2 = ratio * n1``) and return a :class:`TwoSampleSize`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from ..errors import PlanningError
from ._checks import (
    MEAN_METHODS,
    PROPORTION_METHODS,
    as_scalar,
    ceil_count,
    check_alternative,
    check_deff,
    check_level,
    check_method,
    check_power_target,
    check_prob,
    check_ratio,
    freeze,
)
from ._power_formulas import mean_power, mean_sds, prop_power

__all__ = ["TwoSampleSize", "sample_size_two_proportions", "sample_size_two_means"]


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


def _two_sample_size(power_fn, target, ratio, method, inputs, lower, what):
    n1 = _solve_n(lambda n: power_fn(n, ratio * n), target, lower=lower, what=what)
    n2 = ratio * n1
    r1, r2 = ceil_count(n1), ceil_count(n2)
    achieved = float(power_fn(r1, r2))
    return TwoSampleSize(r1, r2, n1, n2, achieved, target, method, freeze(inputs))


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
    alternative = check_alternative(alternative)
    method = check_method(method, PROPORTION_METHODS)
    level = check_level(level)
    target = check_power_target(power)
    ratio = check_ratio(ratio)
    p1 = float(check_prob("p1", as_scalar("p1", p1)))
    p2 = float(check_prob("p2", as_scalar("p2", p2)))
    if p1 == p2:
        raise PlanningError(
            f"p1 = p2 = {p1:g}: no sample size detects a zero difference; give the "
            "smallest difference worth detecting."
        )
    d1 = check_deff("deff1", deff1)
    d2 = check_deff("deff2", deff2)
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
        return prop_power(p1, p2, n1 / d1, n2 / d2, level, alternative, method)

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
    alternative = check_alternative(alternative)
    method = check_method(method, MEAN_METHODS)
    level = check_level(level)
    target = check_power_target(power)
    ratio = check_ratio(ratio)
    sd, sd2 = mean_sds(sd, sd2, method)
    delta = as_scalar("delta", delta)
    if delta == 0:
        raise PlanningError("delta=0: no sample size detects a zero difference.")
    d1 = check_deff("deff1", deff1)
    d2 = check_deff("deff2", deff2)
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
        return mean_power(delta, sd, sd2, n1 / d1, n2 / d2, level, alternative, method)

    lower = 2.0 if method == "power.t.test" else 1e-6
    return _two_sample_size(
        power_fn, target, ratio, method, inputs, lower=lower, what=f"delta={delta:g}"
    )
