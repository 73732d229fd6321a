"""Adjusting p-values for multiple comparisons (R ``p.adjust``).

Computed here rather than with statsmodels' ``multipletests``, which calls ``gc.collect()``
on every call (a replication with dozens of adjusted families spent seconds there); the
numbers are the same.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_option

#: methods and R's ``p.adjust`` names: holm, bonferroni, BH (Benjamini–Hochberg), none
METHODS = ("holm", "bonferroni", "bh", "none")


def adjust_pvalues(p_values, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family of tests; NaN stays NaN and is not counted.

    ``"holm"``: step-down ``max_{j<=i} (m - j + 1) p_(j)`` (R ``p.adjust(method="holm")``);
    ``"bonferroni"``: ``m p``; ``"bh"``: step-up ``min_{j>=i} p_(j) m / j`` (R ``"BH"``);
    ``"none"``: unchanged.  Every adjusted value is capped at 1.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(4).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh").round(4).tolist()
    [0.03, 0.04, 0.04]
    """
    check_option(method, METHODS, name="method")
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    if method == "none":
        out[ok] = p[ok]
        return out
    if method == "bonferroni":
        out[ok] = np.minimum(p[ok] * m, 1.0)
        return out
    values = p[ok]
    order = np.argsort(values, kind="stable")
    ps = values[order]
    if method == "holm":
        adj = np.maximum.accumulate(ps * np.arange(m, 0, -1))
    else:  # bh
        adj = np.minimum.accumulate((ps / (np.arange(1, m + 1) / m))[::-1])[::-1]
    sub = np.empty(m)
    sub[order] = np.minimum(adj, 1.0)
    out[ok] = sub
    return out
