"""Small helpers shared by the weighting steps."""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import check_option, invalid_argument
from ..errors import ConvergenceError, ConvergenceWarning

ON_FAIL = ("error", "warn")
BOUNDS_HINT = "e.g. bounds=(0.3, 3); 1 means unchanged weights"


def base_weights(design) -> tuple[np.ndarray, np.ndarray]:
    """(weights with zeros outside the (sub)design, active mask) of ``design``."""
    active = design.active
    return np.where(active, design.base_weights, 0.0), active


def with_weights(design, new_active_weights: np.ndarray, active: np.ndarray, adjustment):
    """A copy of ``design`` whose active rows carry ``new_active_weights`` and one more record."""
    w = np.where(active, new_active_weights, design.base_weights)
    return design.with_weights(w, adjustment)


def check_on_fail(on_fail: str) -> None:
    check_option(on_fail, ON_FAIL, name="on_fail")


def fail(message: str, on_fail: str) -> None:
    """Raise :class:`ConvergenceError`, or warn with :class:`ConvergenceWarning`."""
    if on_fail == "error":
        hint = "pass on_fail='warn' to keep the unconverged weights"
        raise ConvergenceError(f"{message} ({hint}).", parameter="on_fail", value=on_fail,
                               hint=hint)
    warnings.warn(message, ConvergenceWarning, stacklevel=4)


def check_bounds(bounds, *, name: str = "bounds", what: str = "g = new weight / old weight"):
    """Normalise ``bounds`` to a (lower, upper) tuple of floats; None means unbounded."""
    if bounds is None:
        return (-np.inf, np.inf)
    expected = f"a pair (lower, upper) of numbers bounding {what}, with lower <= 1 <= upper"
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as exc:
        raise invalid_argument(name, bounds, expected, BOUNDS_HINT) from exc
    if np.isnan(lo) or np.isnan(hi) or not lo <= 1.0 <= hi or lo == hi:
        raise invalid_argument(name, bounds, expected + " and lower < upper", BOUNDS_HINT)
    return (lo, hi)


def margin_name(variables) -> str:
    return "×".join(str(v) for v in variables)
