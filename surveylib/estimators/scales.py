"""Reliability of multi-item scales: Cronbach's alpha (R ``svycralpha``), with a design-based
standard error.

Alpha is a smooth function of domain means, so it is described in cells and a
:class:`~surveylib.variance.engine.Transform` (as ``d.var``): the engine gives its covariance
by the delta method on Taylor designs and by recomputing alpha with every replicate's weights
on replicate designs.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_list
from ..errors import SurveyDesignError
from ..results import Estimate
from ..variance.engine import Transform
from ._cells import (
    Cells,
    domains,
    footer,
    key_frame,
    key_index,
    labels_memo,
    numeric_columns,
)


def cralpha(design, items, *, by=None, na_rm: bool = False) -> Estimate:
    """Cronbach's alpha of a scale made of ``items`` (R ``svycralpha(~i1+i2+..., design)``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    items : list of str
        Two or more numeric items of the scale (the scale is their sum).
    by : str or list of str, optional
        Domains (R ``svyby(~i1+..., ~g, design, svycralpha)`` has no SE; here each domain's
        alpha has one).
    na_rm : bool
        Leave out rows missing any item (the design is kept), as R ``na.rm=TRUE``.

    Returns
    -------
    Estimate
        One cell per domain, ``variable`` = the items joined by ``+``, statistic
        ``"cronbach_alpha"``.

    Notes
    -----
    ``alpha = K/(K-1) (1 - sum_k S_k^2 / S_T^2)`` with ``S_k^2`` the population variance of
    item ``k`` and ``S_T^2`` that of the sum (R ``svyvar``; its ``n/(n-1)`` cancels).  With
    ``m1``/``m2`` the weighted means of the centred values and their squares, ``S^2 ∝ m2 -
    m1^2``, so alpha is a smooth function of ``2 (K + 1)`` mean cells per domain.  R returns
    the point estimate only; the SE here is the delta-method (Taylor) or replicate SE.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 2, 3, 4], "w": 1.0})
    >>> float(sl.SurveyDesign(df, weights="w").cralpha(["a", "b"]).estimate.iloc[0])
    1.0
    """
    items = as_list(items)
    K = len(items)
    if K < 2:
        raise SurveyDesignError(f"Cronbach's alpha needs at least two items; got {items}.",
                                parameter="items", value=items)
    g, dkeys, by_cols = domains(design, by)
    D = len(dkeys)
    cols = numeric_columns(design, items, "complete" if na_rm else False)
    ok = np.logical_and.reduce([v for _, v in cols.values()])
    w = design.estimation_weights
    rows = ok & (g >= 0) & (w != 0)
    gd = np.where(rows, g, 0)
    wsum = np.bincount(gd, np.where(rows, w, 0.0), minlength=D)
    cells = Cells(design, g, D, by_key=("by", *by_cols))
    label = "+".join(items)
    series = [y for y, _ in cols.values()] + [np.sum([y for y, _ in cols.values()], axis=0)]
    first, second = [], []
    for y in series:  # items, then the scale
        with np.errstate(divide="ignore", invalid="ignore"):
            ybar = np.bincount(gd, np.where(rows, w * y, 0.0), minlength=D) / wsum
        e = np.where(rows, y - ybar[gd], 0.0)
        first.append(cells.k + np.arange(D))
        cells.add(ok, e, None, label)
        second.append(cells.k + np.arange(D))
        cells.add(ok, e * e, None, label)
    i1, i2 = np.array(first), np.array(second)  # (K + 1, D)
    a = K / (K - 1)

    def f(m):
        v = m[..., i2] - m[..., i1] ** 2  # (..., K + 1, D)
        return a * (1 - v[..., :K, :].sum(axis=-2) / v[..., K, :])

    def jac(m):
        v = m[i2] - m[i1] ** 2
        S, V = v[:K].sum(axis=0), v[K]
        j = np.zeros((D, cells.k))
        d = np.arange(D)
        for k in range(K):
            j[d, i2[k]] = -a / V
            j[d, i1[k]] = 2 * a * m[i1[k]] / V
        j[d, i2[K]] = a * S / V**2
        j[d, i1[K]] = -2 * a * m[i1[K]] * S / V**2
        return j

    est, v, nobs, _ = cells.compute("ratio", False, Transform(f, jac))
    keys = [(d, label, None) for d in range(D)]
    return Estimate(
        statistic="cronbach_alpha",
        keys=lambda: key_frame(keys, dkeys, by_cols),  # type: ignore[arg-type]  # a callable: Estimate builds it on first read
        cell_index=lambda: key_index(keys, dkeys, by_cols, memo=labels_memo(design)),  # type: ignore[arg-type]  # likewise
        values=est, vcov_matrix=v, n=nobs[i2[K]], deff_values=np.full(D, np.nan),
        dfs=lambda: np.full(D, float(design.degf())), by=tuple(by_cols),  # type: ignore[arg-type]  # a callable: Estimate computes it on first read
        inference=lambda: footer(design, "wald"))  # type: ignore[arg-type]  # a callable: Estimate computes it on first read
