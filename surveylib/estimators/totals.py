"""Means, totals, ratios and proportions (R ``svymean``, ``svytotal``, ``svyratio``).

Each is a ratio of weighted totals or a total over cells (see :mod:`._cells`):

* ``mean``: ``sum(w y) / sum(w)`` within the domain, scores ``w (y - mean) / sum(w)``;
* ``proportion``: the mean of the indicator of each level (R ``svymean(~factor)``);
* ``ratio``: ``sum(w y) / sum(w x)``, scores ``w (y - R x) / sum(w x)``;
* ``total``: ``sum(w y)``, scores ``w y``;
* ``var``: the population variance, a smooth function of two mean cells (R ``svyvar``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_columns, check_option
from ..results import Estimate, attach_labels
from ..variance.engine import Transform
from ._cells import (
    Cells,
    check_deff,
    check_na_rm,
    check_variables,
    domains,
    finish,
    footer,
    is_numeric,
    key_frame,
    key_index,
    labels_memo,
    levels_of,
    numeric_columns,
    ratio_pairs,
    variable_values,
)
from .intervals import CI_METHODS, proportion_interval


def mean(design, variables, *, by=None, na_rm: bool = False, deff=True) -> Estimate:
    """Weighted means with Taylor-linearised standard errors.

    Parameters
    ----------
    design : SurveyDesign
    variables : str or list of str
        Numeric column(s).
    by : str or list of str, optional
        Domain column(s); every domain is estimated in one pass with the full design.
    na_rm : bool or "complete"
        ``True`` drops rows with a missing value of *that variable* (the design is kept, as R
        ``na.rm=TRUE``); ``"complete"`` drops rows missing on *any* of the variables, which is
        what R does for a formula with several variables.
    deff : True, False or "replace"
        Design effect vs SRS without (True, R's default) or with replacement.

    Notes
    -----
    ``ybar = sum(w y)/sum(w)``; linearised score ``w (y - ybar)/sum(w)``; variance from the
    design's engine (R ``svymean``, ``svyby(..., svymean, covmat=TRUE)``).  Intervals use t with
    the design's degrees of freedom (PSUs minus strata).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 2, 2], "y": [1.0, 3.0, 2.0, 6.0], "w": [1.0, 1, 2, 2]})
    >>> r = sl.SurveyDesign(df, strata="h", weights="w").mean("y")
    >>> round(float(r.estimate.iloc[0]), 4)   # (1 + 3 + 2*2 + 2*6) / (1 + 1 + 2 + 2)
    3.3333
    """
    check_deff(deff)
    g, dkeys, by_cols = domains(design, by)
    cells = Cells(design, g, len(dkeys), by_key=("by", *by_cols), domain_keys=dkeys)
    columns = numeric_columns(design, variables, na_rm)
    for var, (y, ok) in columns.items():
        cells.add(ok, y, None, var)
    return attach_labels(finish(design, "mean", cells, "ratio", deff, by_cols, dkeys),
                         design.data)


def total(design, variables, *, by=None, na_rm: bool = False, deff=True,
          drop_empty: bool = True) -> Estimate:
    """Estimated population totals ``sum(w y)`` (R ``svytotal``); options as :func:`mean`.

    A categorical (non-numeric) variable gives the total of each level; ``drop_empty`` as in
    :func:`proportion`.

    Notes
    -----
    Scores are ``w y`` (zero outside the domain).  The design effect compares with SRS of
    ``n`` from a population of ``sum(w)`` (R ``svytotal(deff=TRUE)``).
    """
    check_deff(deff)
    g, dkeys, by_cols = domains(design, by)
    cells = Cells(design, g, len(dkeys), by_key=("by", *by_cols), domain_keys=dkeys)
    check_na_rm(na_rm)
    variables = check_variables(variables)
    data = design.data
    check_columns(data, variables, role="analysis")
    numeric = [v for v in variables if is_numeric(data[v])]
    columns = numeric_columns(design, numeric, na_rm) if numeric else {}
    for var in variables:
        if var in columns:
            y, ok = columns[var]
            cells.add(ok, y, None, var)
        else:
            codes, levels, ok = _levels(design, var, bool(na_rm), drop_empty)
            cells.add(ok, None, None, var, levels=levels, level_index=codes)
    return attach_labels(finish(design, "total", cells, "total", deff, by_cols, dkeys), data)


def ratio(design, numerator, denominator, *, by=None, na_rm: bool = False, deff=True) -> Estimate:
    """Ratio of totals ``sum(w y)/sum(w x)`` (R ``svyratio``).

    ``numerator`` and ``denominator`` are column names or equal-length lists (paired).
    With ``na_rm=True`` rows missing either variable are dropped from that ratio.
    The ``variable`` of each row is ``"num/den"``.
    """
    check_deff(deff)
    nums, dens = ratio_pairs(numerator, denominator)
    g, dkeys, by_cols = domains(design, by)
    cells = Cells(design, g, len(dkeys), by_key=("by", *by_cols), domain_keys=dkeys)
    for a, b in zip(nums, dens, strict=True):
        check_columns(design.data, [a, b], role="analysis")
        y, oky = variable_values(design, a, na_rm=na_rm)
        x, okx = variable_values(design, b, na_rm=na_rm)
        cells.add(oky & okx, y, x, f"{a}/{b}")
    return finish(design, "ratio", cells, "ratio", deff, by_cols, dkeys)


def proportion(design, variables, *, by=None, na_rm: bool = False, ci_method: str = "logit",
               deff=True, drop_empty: bool = True) -> Estimate:
    """Shares of every level of categorical variable(s), with their covariance.

    Parameters
    ----------
    ci_method : {"logit", "xlogit", "wald", "mean", "asin", "beta", "wilson", "likelihood"}
        Interval for each share, as R ``svyciprop`` (``"logit"`` default; ``"mean"`` is an
        alias of ``"wald"``; ``"beta"`` is Korn–Graubard).  ``"wilson"`` is the Wilson score
        interval at the effective sample size ``p(1-p)/v`` with a t quantile (not in R).
        ``"likelihood"`` is R's Rao–Scott-scaled profile-likelihood interval (see Notes).
        Intervals with ``ci_method`` other than Wald use the degrees of freedom of the domain
        (R ``svyby(..., svyciprop)``), Wald intervals the design's.
    drop_empty : bool, default True
        Leave out levels that no respondent of the design (with a value) has — a categorical's
        unused categories, e.g. a "don't know" category emptied by setting its code to NA.
        ``False`` keeps them, with share 0 and SE 0, as R ``svymean(~x)`` does for a factor's
        unused levels.  Levels empty in only some domains are always kept (share 0 there).

    Notes
    -----
    Levels are a categorical's categories in their order, or the sorted distinct values.
    Each share is the mean of a level indicator (R ``svymean(~factor(x))``).  The default
    ``drop_empty=True`` matches R ``svymean(~factor(x))`` after ``droplevels`` (and
    :func:`~surveylib.inference.crosstab`, as R ``svychisq``/``svytable``); with
    ``drop_empty=False`` it matches R on a factor with unused levels.

    ``ci_method="likelihood"`` follows R ``svyciprop(method="likelihood")``, i.e.
    ``confint.svyglm(method="likelihood")`` on the intercept-only quasibinomial fit: the
    intercept ``b0`` is fitted by R's IRLS (``glm.fit``, tolerance 1e-8), the profile
    ``z(b) = sign(b - b0) sqrt((D(b) - D(b0)) / phi)`` (``D`` the deviance with weights
    scaled to mean 1, ``phi`` the design-based variance of the Pearson residuals, R
    ``svyvar``) is evaluated at ``b0 +/- k del se`` for ``k = 1..9`` until ``|z| >= zmax``
    (R ``profile.glm``: ``zmax = sqrt(F_{1, n-1}(1 - alpha))``, ``del = zmax / 5``), and the
    ends solve ``z(b) = +/- t_{df} sqrt(lambda)`` with ``lambda`` the ratio of the design-based
    to the model-based variance of ``b0`` (the Rao–Scott scaling).  As R, the root is read off
    an interpolating cubic spline (``stats::spline``, "fmm", ``3 x`` the profile points) by
    linear interpolation (``approx``), so the ends equal R's to rounding rather than being
    exact roots of the profile.  For replicate designs the variance of ``b0`` is the
    replicate variance of its linearised scores (R refits the model per replicate).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "a": list("yynnyynn"),
    ...                    "w": [1.0, 2, 1, 2, 3, 1, 1, 2]})
    >>> r = sl.SurveyDesign(df, strata="h", weights="w").proportion("a", ci_method="likelihood")
    >>> round(float(r.estimate.iloc[1]), 4)   # share of "y": (1 + 2 + 3 + 1) / 13
    0.5385
    >>> lo, hi = r.ci().iloc[1]
    >>> bool(lo < 0.5385 < hi)
    True
    """
    check_deff(deff)
    check_option(ci_method, CI_METHODS, name="ci_method")
    g, dkeys, by_cols = domains(design, by)
    cells = Cells(design, g, len(dkeys), by_key=("by", *by_cols), domain_keys=dkeys)
    data = design.data
    for var in check_variables(variables):
        check_columns(data, [var], role="analysis")
        codes, levels, ok = _levels(design, var, na_rm, drop_empty)
        cells.add(ok, None, None, var, levels=levels, level_index=codes)
    method = "wald" if ci_method == "mean" else ci_method
    factory = None if method == "wald" else (lambda est, v, dfs: proportion_interval(method, est, v, cells))
    est = finish(design, "proportion", cells, "ratio", deff, by_cols, dkeys, ci_method=method,
                 interval_factory=factory, domain_df=method != "wald")
    return attach_labels(est, data)




def _levels(design, var, na_rm, drop_empty: bool):
    """Level codes, levels and validity of ``var``; with ``drop_empty`` only the levels some
    active row with a value has (codes renumbered, order kept)."""
    codes, levels, ok = levels_of(design, var, na_rm=na_rm)
    if not drop_empty:
        return codes, levels, ok

    def count():  # per design: its rows
        active = design.active
        if active.all() and not isinstance(design.data[var].dtype, pd.CategoricalDtype):
            return np.ones(len(levels), dtype=bool)  # a column's distinct values all occur
        rows = ok & active
        return np.bincount(codes if rows.all() else codes[rows], minlength=len(levels)) > 0

    used = design.memo(("estimators", "levels used", var), count)
    if used.all():
        return codes, levels, ok
    remap = np.cumsum(used) - 1
    new = np.where(ok, remap[np.where(ok, codes, 0)], -1)
    keep = used[np.where(ok, codes, 0)] & ok
    new = np.where(keep, new, -1)
    return new, [lev for lev, u in zip(levels, used, strict=True) if u], ok & keep


def var(design, variables, *, by=None, na_rm: bool = False) -> Estimate:
    """Population variance of each variable, with its design-based SE (R ``svyvar``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variables : str or list of str
        Numeric column(s); each gets its own variance (R's diagonal of ``svyvar``).
    by : str or list of str, optional
        Domain column(s) (R ``svyby(~y, ~g, design, svyvar)``).
    na_rm : bool
        Drop rows missing the variable (the design is kept).

    Notes
    -----
    ``S^2 = n/(n-1) * sum(w (y - ybar)^2) / sum(w)`` with ``n`` the rows of the domain with
    a value and non-zero weight.  It is computed as ``n/(n-1) (m2 - m1^2)`` from two cells
    per domain, the means ``m1`` of ``y - ybar`` and ``m2`` of ``(y - ybar)^2`` (``ybar`` the
    domain's weighted mean, so ``m1`` is 0 and the subtraction is well conditioned), and the
    engine gives the covariance of that smooth function of the cells
    (:class:`~surveylib.variance.engine.Transform`):

    * Taylor designs: the delta method, whose linearised score equals that of R's
      ``svymean((y - ybar)^2 n/(n-1))``, so the SE is R's ``svyvar.survey.design``;
    * replicate designs: the variance recomputed with every replicate's weights (its own
      mean), as R ``svyvar.svyrep.design``.

    Difference from R: with ``na_rm=True`` on a Taylor design R counts the rows with a missing
    value in ``n`` (its ``n`` is taken before they are dropped); here ``n`` counts the rows
    with a value, on every design.  Design effects are not computed (R's ``svyvar`` has none).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 2, 2], "y": [1.0, 3.0, 2.0, 6.0], "w": [1.0, 1, 1, 1]})
    >>> r = sl.SurveyDesign(df, strata="h", weights="w").var("y")
    >>> round(float(r.estimate.iloc[0]), 10)   # the sample variance with equal weights: 14/3
    4.6666666667
    """
    g, dkeys, by_cols = domains(design, by)
    D = len(dkeys)
    cells = Cells(design, g, D, by_key=("by", *by_cols))
    w = design.estimation_weights
    out_keys: list[tuple]
    first, second, factor, out_keys = [], [], [], []
    for v, (y, ok) in numeric_columns(design, variables, na_rm).items():
        rows = ok & (g >= 0) & (w != 0)
        gd = np.where(rows, g, 0)
        wsum = np.bincount(gd, np.where(rows, w, 0.0), minlength=D)
        with np.errstate(divide="ignore", invalid="ignore"):
            ybar = np.bincount(gd, np.where(rows, w * y, 0.0), minlength=D) / wsum
        e = np.where(rows, y - ybar[gd], 0.0)
        n = np.bincount(gd, rows, minlength=D).astype(float)
        base = cells.k
        cells.add(ok, e, None, v)
        cells.add(ok, e * e, None, v)
        first.append(base + np.arange(D))
        second.append(base + D + np.arange(D))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor.append(np.where(n > 1, n / (n - 1), np.nan))
        out_keys.extend((d, v, None) for d in range(D))
    i1, i2, c = np.concatenate(first), np.concatenate(second), np.concatenate(factor)

    def f(m):
        return c * (m[..., i2] - m[..., i1] ** 2)

    def jac(m):
        j = np.zeros((len(i1), cells.k))
        rows = np.arange(len(i1))
        j[rows, i1] = -2.0 * c * m[i1]
        j[rows, i2] = c
        return j

    est, v, nobs, deffs = cells.compute("ratio", False, Transform(f, jac))
    return Estimate(
        statistic="variance",
        keys=lambda: key_frame(out_keys, dkeys, by_cols),  # type: ignore[arg-type]  # a callable: Estimate builds it on first read
        cell_index=lambda: key_index(out_keys, dkeys, by_cols, memo=labels_memo(design)),  # type: ignore[arg-type]  # likewise
        values=est,
        vcov_matrix=v,
        n=nobs[i2],
        deff_values=deffs,
        dfs=lambda: np.full(len(est), float(design.degf())),  # type: ignore[arg-type]  # a callable: Estimate computes it on first read
        by=tuple(by_cols),
        inference=lambda: footer(design, "wald"),  # type: ignore[arg-type]  # a callable: Estimate computes it on first read
    )
