"""Minimum detectable effects: the smallest difference two samples of given sizes detect.

:func:`mde_two_proportions` (from a baseline proportion, in a stated direction) and
:func:`mde_two_means` solve the power formulas of :mod:`.power` for the difference and return
a :class:`MinimumDetectableEffect`; :func:`mde_cohens_h` solves for Cohen's effect size ``h``
itself, as ``pwr::pwr.2p2n.test(h = NULL, n1=, n2=, power=)`` does.
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
    check_alternative,
    check_deff,
    check_level,
    check_method,
    check_positive,
    check_power_target,
    check_prob,
    freeze,
)
from ._power_formulas import h_power, mean_power, mean_sds, prop_power

__all__ = ["MinimumDetectableEffect", "mde_two_proportions", "mde_two_means", "mde_cohens_h"]


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
    alternative = check_alternative(alternative)
    method = check_method(method, PROPORTION_METHODS)
    level = check_level(level)
    target = check_power_target(power)
    p1 = float(check_prob("p1", as_scalar("p1", p1)))
    n1 = check_positive("n1", n1)
    n2 = check_positive("n2", n2)
    d1 = check_deff("deff1", deff1)
    d2 = check_deff("deff2", deff2)
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
        return float(prop_power(p1, p2, m1, m2, level, alternative, method)) - target

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
    return MinimumDetectableEffect(abs(p2 - p1), p2, target, n1, n2, method, freeze(inputs))


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
    alternative = check_alternative(alternative)
    method = check_method(method, MEAN_METHODS)
    level = check_level(level)
    target = check_power_target(power)
    sd, sd2 = mean_sds(sd, sd2, method)
    n1 = check_positive("n1", n1)
    n2 = check_positive("n2", n2)
    d1 = check_deff("deff1", deff1)
    d2 = check_deff("deff2", deff2)
    m1, m2 = n1 / d1, n2 / d2
    sign = -1.0 if alternative == "less" else 1.0

    def f(delta):
        return float(mean_power(sign * delta, sd, sd2, m1, m2, level, alternative, method)) - target

    if f(0.0) >= 0:
        raise PlanningError(f"power={target:g} is reached at a zero difference; raise it.")
    hi = sd
    while f(hi) < 0:
        hi *= 2
    delta = float(
        optimize.brentq(f, 0.0, hi, xtol=1e-14 * sd, rtol=4 * np.finfo(float).eps, maxiter=500)
    )
    inputs = dict(sd=sd, sd2=sd2, deff1=d1, deff2=d2, level=level, alternative=alternative)
    return MinimumDetectableEffect(delta, None, target, n1, n2, method, freeze(inputs))


# pwr.2p2n.test searches these intervals of h for each alternative
_H_BRACKETS = {"two-sided": (1e-10, 10.0), "less": (-10.0, 5.0), "greater": (-5.0, 10.0)}


def mde_cohens_h(n1, n2, *, power=0.8, deff1=1.0, deff2=1.0, level=0.95,
                 alternative="two-sided", p1=None):
    """Cohen's effect size ``h`` detectable with the target power (R ``pwr.2p2n.test``).

    ``h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2))`` is the difference of two proportions on the
    arcsine scale, where the power of the comparison depends on ``h`` and the sample sizes
    only: ``Phi(h sqrt(m1 m2 / (m1 + m2)) - z)`` (one-sided; both tails for a two-sided
    test) with effective sizes ``m = n / deff``.

    Parameters
    ----------
    n1, n2 : float
        Completed interviews in the two samples.
    power : float, default 0.8
    deff1, deff2 : float, default 1
        Design effects (``pwr`` has none: with the defaults the answer is ``pwr``'s).
    level : float, default 0.95
        ``1 - sig.level``.
    alternative : {"two-sided", "greater", "less"}
        As in ``pwr``: ``"greater"`` tests ``p1 > p2`` (``h > 0``), ``"less"`` ``p1 < p2``.
    p1 : float, optional
        A baseline proportion; if given, ``p2`` is the proportion at the detectable ``h``
        (``asin(sqrt(p2)) = asin(sqrt(p1)) - h / 2``), when that lies in [0, 1].

    Returns
    -------
    MinimumDetectableEffect
        ``effect`` is ``h`` with ``pwr``'s sign (negative for ``"less"``), ``method`` is
        ``"arcsine"``. ``pwr`` stops its root search at ``uniroot``'s default tolerance
        (about 1e-4); this solves to machine precision, so the two agree to that tolerance.

    Examples
    --------
    >>> from surveylib.planning import mde_cohens_h
    >>> round(mde_cohens_h(544, 600).effect, 3)  # (1.96 + 0.8416) sqrt(1/544 + 1/600)
    0.166
    """
    alternative = check_alternative(alternative)
    level = check_level(level)
    target = check_power_target(power)
    n1 = check_positive("n1", n1)
    n2 = check_positive("n2", n2)
    d1 = check_deff("deff1", deff1)
    d2 = check_deff("deff2", deff2)
    m1, m2 = n1 / d1, n2 / d2
    lo, hi = _H_BRACKETS[alternative]

    def f(h):
        return float(h_power(h, m1, m2, level, alternative)) - target

    if f(lo) * f(hi) > 0:
        raise PlanningError(
            f"no h in [{lo:g}, {hi:g}] gives power={target:g} with n1={n1:g}, n2={n2:g} "
            f"({alternative}); check the sample sizes and the power asked for."
        )
    h = float(optimize.brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                              maxiter=500))
    p2 = None
    if p1 is not None:
        p1 = float(check_prob("p1", as_scalar("p1", p1)))
        angle = np.arcsin(np.sqrt(p1)) - h / 2
        if 0.0 <= angle <= np.pi / 2:
            p2 = float(np.sin(angle) ** 2)
    inputs = dict(p1=p1, deff1=d1, deff2=d2, level=level, alternative=alternative)
    return MinimumDetectableEffect(h, p2, target, n1, n2, "arcsine", freeze(inputs))
