"""Allocation of a total sample over strata.

:func:`allocate`: proportional, equal, Neyman, cost-optimal, power and Bankier allocation, with
per-stratum bounds met by iterative re-allocation and integer rounding that keeps the total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PlanningError
from ._checks import UNSET, as_scalar, renamed_option
from ._strata import first_bad, per_stratum, strata_series

__all__ = ["ALLOCATION_METHODS", "allocate"]

ALLOCATION_METHODS = ("proportional", "equal", "neyman", "optimal", "power", "bankier")


def _spread(sd, p, index, method) -> np.ndarray:
    if sd is not None and p is not None:
        raise PlanningError(f"method={method!r}: give sd= or p=, not both.")
    if sd is None and p is None:
        raise PlanningError(
            f"method={method!r} needs the anticipated spread per stratum: "
            "sd= (standard deviations) or p= (proportions)."
        )
    if sd is not None:
        S = per_stratum("sd", sd, index)
        if (S < 0).any():
            raise PlanningError(
                f"sd for stratum {first_bad(index, S < 0)!r} is negative; standard "
                "deviations are >= 0."
            )
        return S
    P = per_stratum("p", p, index)
    bad = (P < 0) | (P > 1)
    if bad.any():
        raise PlanningError(
            f"p for stratum {first_bad(index, bad)!r} is {P[bad][0]!r}; give a proportion "
            "in [0, 1]."
        )
    return np.sqrt(P * (1 - P))


def _bound(name: str, value, index, default: np.ndarray) -> np.ndarray:
    if value is None:
        return default
    b = per_stratum(name, value, index)
    bad = (b < 0) | (b != np.round(b))
    if bad.any():
        raise PlanningError(
            f"{name} for stratum {first_bad(index, bad)!r} is {b[bad][0]!r}; "
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
    power_exponent=0.5,
    min_n=None,
    max_n=None,
    integer=True,
    power=UNSET,
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
        * ``power``: ``N_h ** q`` with ``q = power_exponent`` (0 gives equal, 1
          proportional);
        * ``bankier``: ``N_h ** q * S_h / Ybar_h``, i.e. ``N_h ** q`` times the
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
    power_exponent : float, default 0.5
        Exponent ``q`` in [0, 1] of the power and bankier allocations.
    min_n, max_n : int, Series, dict or array_like, optional
        Per-stratum lower and upper bounds on ``n_h``; ``n_h <= N_h`` always holds.
    integer : bool, default True
        Round to whole interviews by the largest-remainder method, keeping the total
        and the bounds. ``False`` returns the unrounded allocation.
    power : float, optional
        Deprecated name of ``power_exponent`` (it is not a statistical power); it emits a
        :class:`DeprecationWarning` and is removed in surveylib 0.2.0.

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
    power_exponent = renamed_option(
        "allocate", "power", "power_exponent", power, power_exponent, 0.5
    )
    if method not in ALLOCATION_METHODS:
        raise PlanningError(f"method={method!r} is not one of {list(ALLOCATION_METHODS)}.")
    n_val = as_scalar("n", n)
    if n_val < 1 or n_val != round(n_val):
        raise PlanningError(f"n={n!r} must be a whole number of interviews >= 1.")
    n = int(round(n_val))
    Ns = strata_series(strata_sizes)
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
        q = _power_exponent(power_exponent)
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
            c = per_stratum("cost", cost, index)
            if (c <= 0).any():
                raise PlanningError(
                    f"cost for stratum {first_bad(index, c <= 0)!r} is "
                    f"{c[c <= 0][0]!r}; costs per interview must be > 0."
                )
            a = N * S / np.sqrt(c)
        else:  # bankier
            q = _power_exponent(power_exponent)
            if p is not None:
                if mean is not None:
                    raise PlanningError("method='bankier': with p= the mean is p; drop mean=.")
                Y = per_stratum("p", p, index)
            elif mean is None:
                raise PlanningError(
                    "method='bankier' with sd= needs mean= (anticipated stratum means) to "
                    "form coefficients of variation; or give p= for proportions."
                )
            else:
                Y = per_stratum("mean", mean, index)
            if (Y <= 0).any():
                raise PlanningError(
                    f"the anticipated mean (or p) of stratum {first_bad(index, Y <= 0)!r} "
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
        h = first_bad(index, over)
        raise PlanningError(
            f"min_n={L[over][0]:g} exceeds the population size N_h={N[over][0]:g} of stratum "
            f"{h!r}; lower min_n for that stratum (at most its N_h: take it completely)."
        )
    crossed = L > U
    if crossed.any():
        raise PlanningError(
            f"min_n exceeds max_n for stratum {first_bad(index, crossed)!r}; make min_n <= max_n."
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


def _power_exponent(power_exponent) -> float:
    q = as_scalar("power_exponent", power_exponent)
    if not 0 <= q <= 1:
        raise PlanningError(
            f"power_exponent={q!r} must be in [0, 1] (0: equal allocation, 1: proportional "
            "to size)."
        )
    return q
