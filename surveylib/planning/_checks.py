"""Argument checks, rounding and quantiles shared by the planning modules.

Every check raises :class:`~surveylib.errors.PlanningError` naming the argument, the value
given and what to give instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import special

from ..errors import PlanningError

PROPORTION_METHODS = ("normal", "power.prop.test", "arcsine")
MEAN_METHODS = ("normal", "power.t.test")
ALTERNATIVES = {
    "two-sided": "two-sided",
    "two.sided": "two-sided",
    "greater": "greater",
    "less": "less",
}
# A computed count within this relative distance of an integer is taken to be that
# integer before rounding up, so that floating-point noise (384.0000000000001) does
# not add an interview.
CEIL_RTOL = 1e-10


def as_scalar(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PlanningError(
            f"{name}={value!r} must be a single number; call the function once per value "
            "(or use power_curve() for a grid).",
            parameter=name,
            value=value,
            expected="a single number",
        )
    value = float(value)
    if not math.isfinite(value):
        raise PlanningError(
            f"{name}={value!r} must be a finite number.",
            parameter=name,
            value=value,
            expected="a finite number",
        )
    return value


def as_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PlanningError(
            f"{name}={value!r} must be a number or an array of numbers.",
            parameter=name,
            value=value,
            expected="numbers",
        ) from exc
    if not np.isfinite(arr).all():
        raise PlanningError(
            f"{name} has missing or infinite values; give finite numbers.",
            parameter=name,
            expected="finite numbers",
        )
    return arr


def check_level(level) -> float:
    level = as_scalar("level", level)
    if not 0 < level < 1:
        raise PlanningError(
            f"level={level!r} must be strictly between 0 and 1, e.g. 0.95 for 95% confidence.",
            parameter="level",
            value=level,
            expected="(0, 1)",
            hint="0.95 for 95% confidence",
        )
    return level


def check_positive(name: str, value, *, hint: str = "") -> float:
    value = as_scalar(name, value)
    if value <= 0:
        raise PlanningError(
            f"{name}={value!r} must be > 0{hint}.", parameter=name, value=value, expected="> 0"
        )
    return value


def check_deff(name: str, value) -> float:
    return check_positive(name, value, hint=" (a design effect of 1 is simple random sampling)")


def check_response_rate(value) -> float:
    value = as_scalar("response_rate", value)
    if not 0 < value <= 1:
        raise PlanningError(
            f"response_rate={value!r} must be in (0, 1], e.g. 0.6 when 60% of contacted "
            "units respond.",
            parameter="response_rate",
            value=value,
            expected="(0, 1]",
            hint="0.6 when 60% of contacted units respond",
        )
    return value


def check_prob(name: str, value) -> np.ndarray:
    arr = as_array(name, value)
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        raise PlanningError(
            f"{name}={arr[bad].ravel()[0]!r} is not a proportion; give values in [0, 1] "
            "(write 35% as 0.35).",
            parameter=name,
            value=arr[bad].ravel()[0],
            expected="[0, 1]",
            hint="write 35% as 0.35",
        )
    return arr


def check_power_target(power) -> float:
    power = as_scalar("power", power)
    if not 0 < power < 1:
        raise PlanningError(
            f"power={power!r} must be strictly between 0 and 1, e.g. 0.8.",
            parameter="power",
            value=power,
            expected="(0, 1)",
        )
    return power


def check_N(N, *, minimum: float = 1.0) -> float | None:
    if N is None:
        return None
    N = as_scalar("N", N)
    if N < minimum:
        raise PlanningError(
            f"N={N!r} must be the population size (at least {minimum:g}); "
            "pass N=None for a population so large that no finite population correction applies.",
            parameter="N",
            value=N,
            expected=f">= {minimum:g}, or None",
        )
    return N


def check_alternative(alternative) -> str:
    try:
        return ALTERNATIVES[alternative]
    except (KeyError, TypeError):
        raise PlanningError(
            f"alternative={alternative!r} is not one of 'two-sided', 'greater', 'less' "
            "('greater' means H1: group 1 > group 2, as in R's prop.test).",
            parameter="alternative",
            value=alternative,
            expected=["two-sided", "greater", "less"],
        ) from None


def check_method(method, allowed) -> str:
    if method not in allowed:
        raise PlanningError(
            f"method={method!r} is not one of {list(allowed)}.",
            parameter="method",
            value=method,
            expected=list(allowed),
        )
    return method


def check_ratio(ratio) -> float:
    return check_positive("ratio", ratio, hint=" (n2 = ratio * n1)")


def ceil_count(x: float) -> int:
    return int(math.ceil(x * (1.0 - CEIL_RTOL)))


def z_quantile(level: float, tails: int) -> float:
    """The normal quantile ``1 - (1 - level) / tails``: ``scipy.special.ndtri``, the function
    behind ``scipy.stats.norm.ppf`` (the same number without its ~0.1 ms of argument handling
    per call; the power solvers call it thousands of times)."""
    return float(special.ndtri(1.0 - (1.0 - level) / tails))


def freeze(inputs: dict) -> Mapping[str, Any]:
    return MappingProxyType(dict(inputs))


def scalar_or_array(arr: np.ndarray):
    """Return a Python float for 0-d results, the array otherwise."""
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


# ------------------------------------------------------------------- renamed options

#: Release in which the deprecated spellings of planning options are removed.
REMOVED_IN = "0.2.0"


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


#: Default of a deprecated keyword: tells "not given" apart from every value, ``None`` included.
UNSET: Any = _Unset()


def renamed_option(function: str, old: str, new: str, old_value, new_value, new_default):
    """The value of option ``new`` when a caller may still use its deprecated name ``old``.

    Giving ``old`` emits a :class:`DeprecationWarning` naming the release that removes it and
    returns its value; giving both (``new`` not at its default) is an error.
    """
    if old_value is UNSET:
        return new_value
    if new_value is not new_default and new_value != new_default:
        raise PlanningError(
            f"{function}() got both {old}= and {new}=; give only {new}= "
            f"({old}= is its deprecated name).",
            parameter=old,
            value=old_value,
            hint=f"use {new}=",
        )
    warnings.warn(
        f"{function}({old}=...) is deprecated and will be removed in surveylib {REMOVED_IN}; "
        f"use {function}({new}=...) instead.",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value
