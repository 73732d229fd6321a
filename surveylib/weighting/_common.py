"""Small helpers shared by the weighting steps."""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ConvergenceError, ConvergenceWarning, WeightingError

ON_FAIL = ("error", "warn")


def base_weights(design) -> tuple[np.ndarray, np.ndarray]:
    """(weights with zeros outside the (sub)design, active mask) of ``design``."""
    active = design._active.copy()
    return np.where(active, design._weights, 0.0), active


def with_weights(design, new_active_weights: np.ndarray, active: np.ndarray, adjustment, **extra):
    """A copy of ``design`` whose active rows carry ``new_active_weights`` and one more record."""
    w = np.where(active, new_active_weights, design._weights)
    return design._replace(_weights=w, _adjustments=design._adjustments + (adjustment,), **extra)


def check_on_fail(on_fail: str) -> None:
    if on_fail not in ON_FAIL:
        raise WeightingError(f"on_fail={on_fail!r} must be 'error' or 'warn'.")


def fail(message: str, on_fail: str) -> None:
    """Raise :class:`ConvergenceError`, or warn with :class:`ConvergenceWarning`."""
    if on_fail == "error":
        raise ConvergenceError(message + " (pass on_fail='warn' to keep the unconverged weights).")
    warnings.warn(message, ConvergenceWarning, stacklevel=4)


def check_bounds(bounds, *, name: str = "bounds", what: str = "g = new weight / old weight"):
    """Normalise ``bounds`` to a (lower, upper) tuple of floats; None means unbounded."""
    if bounds is None:
        return (-np.inf, np.inf)
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as exc:
        raise WeightingError(
            f"{name}={bounds!r} must be a pair (lower, upper) of numbers bounding {what}, "
            "e.g. (0.3, 3)."
        ) from exc
    if np.isnan(lo) or np.isnan(hi) or not lo <= 1.0 <= hi or lo == hi:
        raise WeightingError(
            f"{name}={bounds!r}: need lower <= 1 <= upper with lower < upper (they bound {what}, "
            "and 1 = unchanged weights); e.g. (0.3, 3)."
        )
    return (lo, hi)


def margin_name(variables) -> str:
    return "×".join(str(v) for v in variables)
