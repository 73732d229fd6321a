"""Design effects over an engine: each cell's weighted sum of squared residuals from the sums
one query returns, summed again around the estimates when the expansion loses digits."""

from __future__ import annotations

import numpy as np

from ..variance.sums import CellSums


def residual_squares(plan, kind, est, nobs, n_domains, sums):
    """Each cell's weighted sum of squared residuals, for its design effect (R's SRS
    variance): ``sum w (y - c)^2`` with ``c`` the estimate (a ratio: ``sum w (y - R x)^2``).

    ``sums`` holds the per-cell ``num``, ``den``, ``wsum``, ``wyy``, ``wxy``, ``wxx``,
    ``has_x`` and ``categorical`` of the call.  From the squares the query summed,
    ``wyy - 2 c sum w y + c^2 sum w`` (as in memory).  Of values large against their spread
    this keeps few digits, so when a numeric cell's result falls below ``1e-6`` of its terms
    the plan is asked (``plan.retry_shift``) to run again with each column's squares taken
    around its estimate over all domains (``plan.shift``), which the cell sums carry as
    ``dshift`` (:meth:`~surveylib.variance.sums.CellSums.resid_ss`: ``sum w (y - a)^2 - (c -
    a)^2 sum w``; for a ratio the squares on ``y - a``, ``x - b`` less ``(a - R b)^2 sum w``).
    """
    num, den, wsum, has_x, categorical = (sums[s] for s in ("num", "den", "wsum", "has_x",
                                                            "categorical"))
    k = len(est)
    a, b = np.zeros(k), np.zeros(k)
    spans = []
    base = 0
    for _label, y, x, lev in plan.specs:  # the cells of each variable, domain by domain
        size = n_domains * (1 if lev is None else len(lev))
        if lev is None:
            spans.append((slice(base, base + size), y, x))
        base += size
    for span, y, x in spans if plan.shift is not None else ():
        a[span] = plan.shift[y]
        b[span] = plan.shift[x] if x is not None else 0.0
    ratio = bool(has_x.any())
    wxy = np.where(has_x, sums["wxy"], num - a * wsum) if ratio else None
    wxx = np.where(has_x, sums["wxx"], wsum) if ratio else None
    cell = CellSums(num[None, :], den[None, :], nobs, np.zeros(k), wsum, sums["wyy"], wxy, wxx,
                    categorical, None if plan.shift is None else (a, b))
    resid = cell.resid_ss(kind, est)
    terms = sums["wyy"] + (est**2 * wxx if ratio else 0.0)
    lost = ~categorical & (np.abs(resid) < 1e-6 * terms)
    if plan.shift is None and lost.any():
        shift: dict = {}
        for span, y, x in spans:
            total_w = wsum[span].sum()
            for col, part in ((y, num), (x, den)):
                if col is not None and col not in shift:
                    shift[col] = float(part[span].sum() / total_w) if total_w else 0.0
        plan.retry_shift = shift
    return resid
