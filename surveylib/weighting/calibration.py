"""Calibration to population totals (GREG; R ``calibrate`` / ``grake``).

The model matrix is built from variable names, as R's ``model.matrix(~x + factor(g))``:

* ``"(Intercept)"`` (unless ``intercept=False``), whose total is the population size ``N``;
* one column per numeric variable (its total);
* for a categorical variable, one dummy per level *except the first level* in sorted order
  (R's treatment contrasts), named ``"g[level]"`` (R: ``factor(g)level``); with
  ``intercept=False`` the first categorical variable keeps all its levels (R's ``~factor(g) - 1``).

Totals of categorical variables are given for *every* level (``{"g": {"a": 10, "b": 20}}``),
which is what a census table reports; the level that R drops is then only a check (its totals
must add up to ``N``).  A tuple key ``("sex", "age")`` calibrates to the cross-classification
(R ``~sex:age``).  The choice of which dummy is dropped does not change the calibrated weights or
the variance, which depend only on the space the columns span.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.linalg

from .._validation import (
    check_columns,
    check_integer,
    check_option,
    check_positive,
    data_error,
    invalid_argument,
    numeric_column,
    renamed_keywords,
)
from ..errors import SurveyWarning, WeightingError
from ._common import base_weights, check_bounds, check_on_fail, fail, margin_name, with_weights
from ._population import match_cells, population_table
from .adjustments import Calibration

CALFUNS = ("linear", "raking", "logit")
INTERCEPT = "(Intercept)"
TOTAL_RTOL = 1e-6


# ----- calibration functions: F(u) - 1 and its derivative, as R's cal.linear etc. ------------
def _fm1(calfun, u, lo, hi):
    if calfun == "linear":
        return np.clip(u + 1.0, lo, hi) - 1.0
    if calfun == "raking":
        with np.errstate(over="ignore"):
            return np.clip(np.exp(u), lo, hi) - 1.0
    a = (hi - lo) / ((hi - 1.0) * (1.0 - lo))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(a * u)
        out = (lo * (hi - 1.0) + hi * (1.0 - lo) * e) / (hi - 1.0 + (1.0 - lo) * e) - 1.0
    return np.where(np.isinf(e), hi - 1.0, out)


def _df(calfun, u, lo, hi):
    if calfun == "linear":
        return ((u < hi - 1.0) & (u > lo - 1.0)).astype(float)
    if calfun == "raking":
        with np.errstate(over="ignore"):
            e = np.exp(u)
        return np.where((e < hi) & (e > lo), e, 0.0)
    a = (hi - lo) / ((hi - 1.0) * (1.0 - lo))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(a * u)
        den = hi - 1.0 + (1.0 - lo) * e
        out = (hi * (1.0 - lo) * e * a / den
               - (lo * (hi - 1.0) + hi * (1.0 - lo) * e) * ((1.0 - lo) * e * a) / den**2)
    return np.where(np.isinf(e), 0.0, out)


def _sorted_order(keys: pd.DataFrame) -> np.ndarray:
    try:
        return keys.sort_values(list(keys.columns)).index.to_numpy()
    except TypeError:
        return keys.astype(str).sort_values(list(keys.columns)).index.to_numpy()


def model_matrix(design, totals: Mapping, *, intercept: bool = True, active=None, weights=None):
    """Calibration model matrix and population totals (see the module docstring).

    Returns
    -------
    X : (n, p) float array (zero rows outside ``active``)
    population : (p,) float array
    columns : list of str
    """
    if not isinstance(totals, Mapping) or not totals:
        raise invalid_argument(
            "totals", totals,
            "a non-empty dict {variable: total} (numeric variables) or {variable: {level: count}} "
            "(categorical)", "add '(Intercept)': N for the population size",
            shown=f"<{type(totals).__name__}{' (empty)' if isinstance(totals, Mapping) else ''}>")
    data = design.data
    names_given = [v for key in totals if key != INTERCEPT
                   for v in (key if isinstance(key, tuple) else (key,))]
    check_columns(data, names_given, role="calibration totals'", parameter="totals")
    if active is None or weights is None:
        weights, active = base_weights(design)
    n = len(data)
    numeric, categorical = [], []
    n_pop = None
    for key, spec in totals.items():
        if key == INTERCEPT:
            n_pop = float(spec)
            continue
        if isinstance(spec, (Mapping, pd.Series, pd.DataFrame)):
            variables = key if isinstance(key, tuple) else (key,)
            categorical.append((variables, population_table(
                spec, variables, what=f"calibration totals of {margin_name(variables)}",
                parameter="totals")))
        else:
            if isinstance(key, tuple):
                raise invalid_argument(
                    f"totals[{key!r}]", spec, "a table of level counts of the cross-classification",
                    "give {(level_1, level_2): count, ...}")
            try:
                val = float(spec)
            except (TypeError, ValueError) as exc:
                raise invalid_argument(
                    f"totals[{key!r}]", spec,
                    "a number (numeric variable) or a dict of level counts (categorical variable)",
                    "give the population total of the variable") from exc
            if not np.isfinite(val):
                raise invalid_argument(f"totals[{key!r}]", spec, "a finite number",
                                       "give the population total of the variable")
            numeric.append((key, val))
    if n_pop is None and categorical:
        t = categorical[0][1]
        n_pop = float(t.values.sum()) if not t.is_share else float(weights[active].sum())
    if intercept and n_pop is None:
        raise data_error(
            WeightingError, "calibration with an intercept needs the population size",
            "add '(Intercept)': N to totals (R's (Intercept) total), give a categorical "
            "variable's level counts, or pass intercept=False",
            parameter="totals", value=sorted(map(str, totals)), expected=INTERCEPT)
    cols, pops, names = [], [], []
    if intercept:
        cols.append(np.where(active, 1.0, 0.0))
        pops.append(n_pop)
        names.append(INTERCEPT)
    for key, val in numeric:
        x = numeric_column(data, key, role="calibration")
        bad = np.isnan(x) & active
        if bad.any():
            raise data_error(
                WeightingError,
                f"calibration variable {key!r} has {int(bad.sum())} missing value(s) among the "
                "rows being weighted", "impute them or drop those rows before calibrating",
                parameter="totals", value=key, expected="no missing values")
        cols.append(np.where(active, x, 0.0))
        pops.append(val)
        names.append(str(key))
    for j, (variables, table) in enumerate(categorical):
        match = match_cells(design, table, active, weights)
        values = table.scaled(n_pop) if table.is_share else table.values  # type: ignore[arg-type]  # n_pop is set above when there are categorical margins
        if n_pop is not None and abs(values.sum() - n_pop) > TOTAL_RTOL * abs(n_pop):
            raise table.error(
                f"add up to {values.sum():.10g} but the population size is {n_pop:.10g}",
                "every categorical variable's level counts must add up to N",
                value=float(values.sum()), expected=n_pop)
        order = _sorted_order(table.keys)
        keep = order if (not intercept and j == 0) else order[1:]
        for i in keep:
            cols.append(np.where(match.cells == i, 1.0, 0.0))
            pops.append(values[i])
            label = ",".join(str(v) for v in table.keys.iloc[i])
            names.append(f"{margin_name(variables)}[{label}]")
    X = np.column_stack(cols) if cols else np.zeros((n, 0))
    if X.shape[1] == 0:
        raise invalid_argument("totals", totals, "at least one total besides the intercept, or "
                               "intercept=True", "give at least one total")
    return X, np.asarray(pops, dtype=float), names


@renamed_keywords(since="0.2.0", removed="0.3.0", maxit="max_iter", epsilon="tol")
def calibrate(design, totals, *, calfun: str = "linear", bounds=None, max_iter: int = 50,
              tol: float = 1e-7, intercept: bool = True, on_fail: str = "error"):
    """Calibrate the weights to known population totals (GREG).

    Parameters
    ----------
    design : SurveyDesign
    totals : dict
        ``{"(Intercept)": N, "x": total_x, "g": {level: count, ...}, ("a", "b"): {(la, lb): count}}``;
        see the module docstring for the model-matrix convention.
    calfun : {"linear", "raking", "logit"}
        Calibration function (R ``calfun``): ``g = 1 + u`` (GREG; weights may turn negative),
        ``g = exp(u)`` (raking ratio; equals :meth:`rake` at convergence) or the logit function
        bounded by ``bounds`` (which must then be finite).
    bounds : (float, float), optional
        Bounds on ``g = new weight / old weight`` (R ``bounds=c(lower, upper)``); for
        ``"linear"`` they truncate g.
    max_iter, tol : int, float
        Newton iterations and tolerance: stop when
        ``max |population - achieved| / (1 + |population|) < tol`` (R ``grake``'s ``maxit`` and
        ``epsilon``; the old spellings ``maxit=`` and ``epsilon=`` are deprecated since 0.2.0
        and still accepted until 0.3.0).
    intercept : bool
        Include ``"(Intercept)"`` (R's formula default).
    on_fail : {"error", "warn"}
        Non-convergence raises :class:`ConvergenceError` (R: "Calibration failed") or warns.

    Returns
    -------
    SurveyDesign
        Its last adjustment (:class:`Calibration`) holds the totals table and diagnostics.

    Notes
    -----
    Matches R ``calibrate(design, ~x + factor(g), population, calfun=, bounds=)``: unbounded
    linear calibration in closed form (R ``regcalibrate``), the others by R's Newton iteration
    (``grake``, with step halving).  As R (which does it beyond 20 times), when every
    population count is above the sample's, Newton starts from the weights scaled by the mean of those ratios (so
    raking from weights far below population scale converges).  Differences from R: bounds
    always apply to ``g`` relative to the weights given (R's rescaling reinterprets them, with
    a warning; here Newton starts from ``g = scale`` instead, when ``scale`` is within the
    bounds); and the derivative of the
    bounded raking function is zero exactly outside ``(lower, upper)`` (R tests ``u`` against
    ``bounds - 1``); both give the same converged weights where R converges.  The variance
    residualises the scores on the calibration variables (R ``greg_calibration``, stage 0):
    ``qr.resid(qr(X sqrt(w0)), x / w) * w``, ``w = g sqrt(w0)``.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [1.0, 2.0, 3.0, 4.0], "w": 1.0})
    >>> d = sl.SurveyDesign(df, weights="w")
    >>> c = d.calibrate({"g": {"a": 10, "b": 30}, "x": 115.0})
    >>> round(float(c.total("x").estimate.iloc[0]), 8)
    115.0
    >>> c.weights.round(4).tolist()
    [7.5, 2.5, 17.5, 12.5]
    """
    check_on_fail(on_fail)
    check_option(calfun, CALFUNS, name="calfun")
    lo, hi = check_bounds(bounds)
    if calfun == "logit" and not (np.isfinite(lo) and np.isfinite(hi) and lo < 1 < hi):
        raise invalid_argument(
            "bounds", bounds, "a finite pair (lower, upper) with lower < 1 < upper",
            "calfun='logit' needs finite bounds, e.g. bounds=(0.5, 2); or use calfun='raking'")
    check_integer(max_iter, name="max_iter", hint="e.g. max_iter=50")
    check_positive(tol, name="tol", hint="e.g. tol=1e-7")
    ww, active = base_weights(design)
    X, pop, names = model_matrix(design, totals, intercept=intercept, active=active, weights=ww)
    sample_total = X.T @ ww
    zero = (sample_total == 0) & (pop == 0) & np.all(X == 0, axis=0)
    if zero.any():  # R drops columns absent from both the sample and the population
        X, pop, names = X[:, ~zero], pop[~zero], [c for c, z in zip(names, zero, strict=True) if not z]
        sample_total = sample_total[~zero]
    _check_reachable(X[active], pop, names)
    whalf = np.sqrt(ww)
    A = X * whalf[:, None]
    q, r, piv = scipy.linalg.qr(A, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int(np.sum(d > d[0] * 1e-7 * max(A.shape))) if len(d) and d[0] > 0 else 0
    if rank < X.shape[1]:
        bad = [names[i] for i in piv[rank:]]
        raise data_error(
            WeightingError,
            f"calibration columns {bad} are linear combinations of the others in the sample "
            f"(columns: {names})",
            "drop them (e.g. a level that is constant within another variable's levels) or "
            "merge levels", parameter="totals", value=bad)
    q = q[:, :rank]
    misfit_rel = np.inf
    if calfun == "linear" and not (np.isfinite(lo) or np.isfinite(hi)):
        tmat = A.T @ A
        lam = np.linalg.solve(tmat, pop - sample_total)
        g = 1.0 + X @ lam
        iterations = 1
        misfit_rel = float(np.max(np.abs(pop - X.T @ (ww * g)) / (1 + np.abs(pop))))
        converged = True
    else:
        eta0 = _scaled_start(X, ww, calfun, lo, hi, pop)
        g, iterations, misfit_rel, converged = _grake(X, ww, calfun, lo, hi, pop, tol, max_iter,
                                                      eta0)
    g = np.where(active, g, 0.0)
    new = ww * g
    after = X.T @ new
    tab = pd.DataFrame({"column": names, "population": pop, "before": sample_total, "after": after})
    adj = Calibration(
        columns=tuple(names), table=tab, calfun=calfun, bounds=(lo, hi), iterations=iterations,
        max_misfit=misfit_rel, q=q, w=g * whalf,
        spec=dict(totals=totals, calfun=calfun, bounds=bounds, max_iter=max_iter, tol=tol,
                  intercept=intercept, on_fail=on_fail),
    )
    if not converged:
        worst = int(np.argmax(np.abs(pop - after) / (1 + np.abs(pop))))
        fail(f"calibration ({calfun}) did not converge in {iterations} iterations: column "
             f"{names[worst]!r} is {after[worst]:.8g} against a population total of "
             f"{pop[worst]:.8g} (relative misfit {misfit_rel:.3g} > tol {tol:g}); widen "
             "the bounds, collapse sparse levels or raise max_iter", on_fail)
    if calfun == "linear" and np.any(new[active] <= 0):
        warnings.warn(
            f"linear calibration gave {int(np.sum(new[active] <= 0))} non-positive weight(s) "
            f"(min {new[active].min():.4g}); use bounds=(lower, upper) or calfun='raking'/'logit' "
            "to keep weights positive.",
            SurveyWarning, stacklevel=3,
        )
    return with_weights(design, new, active, adj)


def _check_reachable(X, pop, names):
    """Refuse totals that no positive weights can meet, where one column shows it.

    A column that is never negative (the intercept, a level's dummy, a count) has a positive
    total under positive weights, and a never-positive column a negative one; with an
    intercept, a numeric column's total divided by ``N`` is a weighted mean of its values and
    must lie within their range.
    """
    hint = ("check the sign and the units of the total (a population size or count is "
            "positive, a mean times N lies within the variable's range)")
    for j, name in enumerate(names):
        col, total = X[:, j], pop[j]
        if (col.min() >= 0 and total < 0) or (col.max() <= 0 and total > 0) or (
                not col.any() and total != 0):
            raise data_error(
                WeightingError,
                f"calibration total of {name!r} is {total:.8g}, but the column is "
                f"{'never negative' if col.min() >= 0 else 'never positive'} in the sample, so "
                "no positive weights can reach it", hint,
                parameter="totals", value=float(total), expected=name)
    if INTERCEPT in names:
        n_pop = pop[names.index(INTERCEPT)]
        for j, name in enumerate(names):
            if name == INTERCEPT or name.endswith("]"):
                continue
            col = X[:, j]
            mean = pop[j] / n_pop
            lo, hi = col.min(), col.max()
            slack = 1e-9 * max(abs(lo), abs(hi), 1.0)
            if mean < lo - slack or mean > hi + slack:
                raise data_error(
                    WeightingError,
                    f"calibration total of {name!r} is {pop[j]:.8g}, a mean of {mean:.6g} over "
                    f"the population size {n_pop:.8g}, outside the sample's range [{lo:.6g}, "
                    f"{hi:.6g}], so no positive weights can reach it", hint,
                    parameter="totals", value=float(pop[j]), expected=(float(lo), float(hi)))


RESCALE_THRESHOLD = 1.0  # R grake's SOMETHRESHOLD is 20; any start nearer the solution serves


def _inverse_f(calfun, g, lo, hi):
    """``u`` with ``1 + Fm1(u) = g`` (``lo < g < hi``)."""
    if calfun == "linear":
        return g - 1.0
    if calfun == "raking":
        return np.log(g)
    a = (hi - lo) / ((hi - 1.0) * (1.0 - lo))
    return np.log((hi - 1.0) * (g - lo) / ((1.0 - lo) * (hi - g))) / a


def _scaled_start(X, ww, calfun, lo, hi, pop):
    """Multipliers from which Newton starts: ``g = scale`` on every row, or zero.

    As R ``grake``, when every population count is over the sample's (R: over 20 times),
    Newton starts from the weights scaled by the mean of those ratios, ``scale`` (R looks at
    every column; here at the never-negative ones, as a numeric total near zero says nothing of
    scale).  Here the multipliers that make ``g = scale`` on every row are used instead (when
    the model spans a constant and ``scale`` lies within the bounds), which for unbounded
    raking is R's rescaling exactly and keeps bounds relative to the weights given.
    """
    eta0 = np.zeros(X.shape[1])
    sample_total = X.T @ ww
    counts = (X.min(axis=0) >= 0) & (sample_total > 0)  # intercept, dummies, counts
    scales = pop[counts] / sample_total[counts]
    if counts.any() and scales.min() > RESCALE_THRESHOLD:
        scale = float(scales.mean())
        if lo < scale < hi:
            u0 = _inverse_f(calfun, scale, lo, hi)
            sol = np.linalg.lstsq(X, np.full(X.shape[0], u0), rcond=None)[0]
            if np.allclose(X @ sol, u0, rtol=1e-10, atol=1e-12):
                eta0 = sol
    return eta0


def _grake(X, ww, calfun, lo, hi, pop, tol, max_iter, eta=None):
    """R ``survey:::grake``: Newton iterations on the Lagrange multipliers, with step halving,
    from the multipliers ``eta`` (zero: ``g = 1``)."""
    sample_total = X.T @ ww
    if eta is None:
        eta = np.zeros(X.shape[1])
    return _newton(X, ww, sample_total, calfun, lo, hi, pop, tol, max_iter, eta)


def _newton(X, ww, sample_total, calfun, lo, hi, pop, tol, max_iter, eta):
    """The Newton loop of R ``grake`` from the multipliers ``eta``."""
    u = X @ eta
    g = 1.0 + _fm1(calfun, u, lo, hi)
    deriv = _df(calfun, u, lo, hi)
    it = 1
    tiny = 256 * np.finfo(float).eps
    while True:
        tmat = (X * (ww * deriv)[:, None]).T @ X
        misfit = pop - sample_total - X.T @ (ww * _fm1(calfun, u, lo, hi))
        deta = np.linalg.pinv(tmat, rcond=tiny) @ misfit
        eta = eta + deta
        u = X @ eta
        g = 1.0 + _fm1(calfun, u, lo, hi)
        deriv = _df(calfun, u, lo, hi)
        while it < max_iter and not (np.all(np.isfinite(g)) and np.all(np.isfinite(deriv))):
            it += 1
            deta = deta / 2
            eta = eta - deta
            u = X @ eta
            g = 1.0 + _fm1(calfun, u, lo, hi)
            deriv = _df(calfun, u, lo, hi)
        misfit = pop - sample_total - X.T @ (ww * _fm1(calfun, u, lo, hi))
        rel = np.abs(misfit) / (1 + np.abs(pop))
        if np.all(rel < tol):
            return g, it, float(rel.max()), True
        it += 1
        if it > max_iter:
            return g, it, float(np.nanmax(rel)), False
