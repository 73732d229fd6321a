"""Post-stratification and raking.

Both work on *cell codes*: every row is coded to its cell (post-stratification) or to the joint
cell of all margin variables (raking), weighted cell totals come from ``numpy.bincount``, and
iterative proportional fitting runs on the cell table; row weights are the old weights times
their cell's factor.  The cost per raking pass is O(cells), not O(rows).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._validation import (
    as_list,
    check_columns,
    check_integer,
    check_number,
    data_error,
    invalid_argument,
)
from ..errors import WeightingError
from ._common import base_weights, check_bounds, check_on_fail, fail, margin_name, with_weights
from ._population import _norm, code_rows, match_cells, population_table
from .adjustments import PostStratification, Raking

TOTAL_RTOL = 1e-6
DISC_FLOOR = 1e-10  # margins are met within max(tol, this) x total: the floor of rounding


def _max_discrepancy(T, levels, targets, n_lev) -> float:
    """Largest absolute gap between the joint table's margins and their targets."""
    return max(float(np.max(np.abs(np.bincount(lev, weights=T, minlength=L) - tg)))
               for lev, tg, L in zip(levels, targets, n_lev, strict=True))


def poststratify(design, by, population):
    """Post-stratify: scale the weights in each cell to a known population count.

    Parameters
    ----------
    design : SurveyDesign
    by : str or list of str
        Post-stratification variable(s); the cells are their combinations.
    population : dict, Series or DataFrame
        Population count (or share) of every cell: ``{level: N}``, ``{(l1, l2): N}``, a Series
        indexed by the levels (a MultiIndex for several variables), or a DataFrame with one
        column per variable and one count column (as R's ``data.frame(..., Freq=)``).
        Values summing to 1 are taken as *shares* and scaled to the current weight total
        (the weighted count of the rows being weighted), so the total is unchanged.

    Returns
    -------
    SurveyDesign
        A new design; its last adjustment (:class:`PostStratification`) holds the cell table.

    Raises
    ------
    WeightingError
        A level (or combination) of the sample is missing from the population, or a population
        cell has no respondents (R's ``partial=TRUE`` is deliberately not offered: collapse the
        cell instead).

    Notes
    -----
    Matches R ``postStratify(design, ~by, population)`` (``partial=FALSE``): new weights
    ``w N_c / sum_{c} w``; the variance residualises the scores within cells exactly as R's
    ``svyrecvar``.  Post-stratifying a subset weights only the rows in the subset.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"sex": ["m", "f", "f", "m"], "y": [1.0, 2.0, 3.0, 4.0]})
    >>> d = sl.SurveyDesign(df.assign(w=1.0), weights="w")
    >>> d2 = d.poststratify("sex", {"m": 60, "f": 40})
    >>> d2.weights.tolist()
    [30.0, 20.0, 20.0, 30.0]
    """
    variables = tuple(as_list(by))
    if not variables:
        raise invalid_argument("by", by, "one or more column names",
                               "give the post-stratification variable(s) as by=")
    w0, active = base_weights(design)
    table = population_table(population, variables,
                             what=f"post-stratification on {margin_name(variables)}")
    match = match_cells(design, table, active, w0)
    total = w0[active].sum()
    target = table.scaled(total)
    cells = match.cells
    before = np.bincount(cells[active], weights=w0[active], minlength=match.n_cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(before > 0, target / np.where(before > 0, before, 1.0), np.nan)
    new = np.where(active, w0 * factor[np.maximum(cells, 0)], 0.0)
    tab = table.keys.copy()
    tab["population"] = target
    tab["before"] = before
    tab["factor"] = factor
    keep = before > 0
    tab = tab[keep].reset_index(drop=True)
    remap = np.full(match.n_cells, -1, dtype=np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    cells = np.where(cells >= 0, remap[np.maximum(cells, 0)], -1)
    adj = PostStratification(
        variables=variables, table=tab, population_type="share" if table.is_share else "count",
        cells=cells, old_weights=w0, new_weights=new,
    )
    return with_weights(design, new, active, adj)


# ----- raking ----------------------------------------------------------------------------------
def parse_margins(margins) -> list[tuple[tuple, object]]:
    """[(variables, spec)] from a dict {var or (vars): spec} or a list of named Series."""
    out = []
    if isinstance(margins, Mapping):
        for key, spec in margins.items():
            out.append((tuple(key) if isinstance(key, tuple) else (key,), spec))
    elif isinstance(margins, (list, tuple)):
        for i, spec in enumerate(margins):
            if not isinstance(spec, pd.Series) or any(n is None for n in spec.index.names):
                raise invalid_argument(
                    f"margins[{i}]", spec, "a Series whose index is named after its variable(s)",
                    "set the index name (s.rename_axis('sex')) or pass a dict {variable: margin}",
                    shown=f"<{type(spec).__name__}>")
            out.append((tuple(spec.index.names), spec))
    else:
        raise invalid_argument(
            "margins", margins,
            "a dict {variable or (var1, var2): counts or shares} or a list of Series with named "
            "indexes", "e.g. margins={'sex': {'m': 480, 'f': 520}}",
            shown=f"<{type(margins).__name__}>")
    if not out:
        raise invalid_argument("margins", margins, "at least one margin",
                               "e.g. margins={'sex': {'m': 480, 'f': 520}}")
    seen = set()
    for v, _ in out:
        if v in seen:
            raise invalid_argument("margins", margin_name(v), "each margin given once",
                                   f"drop the second margin {margin_name(v)}")
        seen.add(v)
    return out


def _check_consistent(tables, targets, total):
    """Margins that share a variable must imply the same totals for its levels."""
    seen = [v for t in tables for v in t.variables]
    shared = {v for v in seen if seen.count(v) > 1}  # only these can disagree
    by_var = {}
    for t, tg in zip(tables, targets, strict=True):
        for v in t.variables:
            if v not in shared:
                continue
            s = pd.Series(tg, index=[_norm(x) for x in t.keys[v]]).groupby(level=0).sum()
            by_var.setdefault(v, []).append((t.what, s))
    for v, lst in by_var.items():
        for (w1, s1), (w2, s2) in zip(lst[:-1], lst[1:], strict=True):
            a, b = s1.align(s2, fill_value=0.0)
            diff = (a - b).abs()
            if diff.max() > TOTAL_RTOL * total:
                lev = diff.idxmax()
                raise data_error(
                    WeightingError,
                    f"{w1} and {w2} disagree on the total of {v}={lev!r} ({a[lev]:g} vs "
                    f"{b[lev]:g}): margins sharing a variable must agree, or raking cannot "
                    "converge", "take both from the same source",
                    parameter="margins", value=(float(a[lev]), float(b[lev])))


def _bounded_step(r, t0, lev, target, n_lev, lo, hi):
    """Ratios after matching one margin with ``lo <= ratio <= hi`` (water-filling per level)."""
    fixed = np.zeros(len(r), dtype=bool)
    new = r.copy()
    for _ in range(len(r) + 1):
        free_sum = np.bincount(lev, weights=np.where(fixed, 0.0, r * t0), minlength=n_lev)
        fixed_sum = np.bincount(lev, weights=np.where(fixed, new * t0, 0.0), minlength=n_lev)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(free_sum > 0, (target - fixed_sum) / np.where(free_sum > 0, free_sum, 1), 1.0)
        cand = r * f[lev]
        viol = ~fixed & ((cand > hi) | (cand < lo))
        new = np.where(fixed, new, np.clip(cand, lo, hi))
        if not viol.any():
            break
        fixed |= viol
    return new


def rake(design, margins, *, tol: float = 1e-7, max_iter: int = 100, bounds=None,
         on_fail: str = "error"):
    """Rake the weights to one- or two-way population margins (iterative proportional fitting).

    Parameters
    ----------
    design : SurveyDesign
    margins : dict or list
        ``{variable: table, (var1, var2): table, ...}``; each table is a dict, Series or
        DataFrame of counts or shares (see :func:`poststratify`), levels as codes or labels
        matching the data.  A list of Series with named indexes also works.  Margins of shares
        are scaled to the total of the count margins, or to the current weight total when all
        margins are shares.  Count margins must agree on the total, and margins sharing a
        variable must agree on its levels' totals.
    tol : float
        Convergence: a pass over all margins changes no cell of the joint table of all margin
        variables by ``tol * sum(weights before)`` or more (R ``rake``'s criterion; R's
        ``control=list(epsilon=e)`` with ``e < 1`` is ``tol=e``; R's default ``epsilon=1`` is
        ``tol=1/sum(weights)``) *and* every margin level is met within
        ``max(tol, 1e-10) * max(population total, sum(weights before))`` (passes continue
        while a margin is missed).  Margins that no weighting of the
        sample cells can meet (the iteration settles with a discrepancy) are not converged.
    max_iter : int
        Maximum passes (R's ``maxit``, default 10 there).
    bounds : (float, float), optional
        Bounds on ``new weight / weight before raking``, enforced at every step by spreading a
        level's adjustment over its cells not at a bound.  Infeasible bounds end in a
        :class:`ConvergenceError`.
    on_fail : {"error", "warn"}
        Non-convergence raises :class:`ConvergenceError`, or warns with
        :class:`ConvergenceWarning` and returns the design (its record says not converged);
        the message names the worst margin, its level and its discrepancy.

    Returns
    -------
    SurveyDesign
        Its last adjustment (:class:`Raking`) holds the margin table and the diagnostics
        (``iterations``, ``converged``, ``max_change``, ``max_discrepancy``).

    Notes
    -----
    Each pass post-stratifies on every margin in turn, as R ``rake``; the variance
    residualises the scores as R's ``svyrecvar`` does for a raked design (ten sweeps over the
    margins, with each margin's weights from the last pass).  Without ``bounds``, the weights
    equal R's ``rake(design, list(~a, ~b + c), list(...), control=list(epsilon=tol,
    maxit=max_iter))``.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"sex": ["m", "m", "f", "f"], "age": ["y", "o", "y", "o"],
    ...                    "w": [1.0, 1.0, 1.0, 1.0]})
    >>> d = sl.SurveyDesign(df, weights="w")
    >>> r = d.rake({"sex": {"m": 40, "f": 60}, "age": {"y": 50, "o": 50}})
    >>> r.weights.round(6).tolist()
    [20.0, 20.0, 30.0, 30.0]
    >>> r.adjustments[-1].converged
    True
    """
    check_on_fail(on_fail)
    check_number(tol, name="tol", low=0, high=1, low_open=True, high_open=True,
                 hint="it is relative to the weight total, e.g. tol=1e-7")
    check_integer(max_iter, name="max_iter", hint="e.g. max_iter=100")
    lo, hi = check_bounds(bounds)
    active = design.active
    everyone = bool(active.all())
    # every row weighted: the base weights as they are (np.where(active, w, 0) would copy them)
    w0 = design.base_weights if everyone else base_weights(design)[0]
    parsed = parse_margins(margins)
    tables = [population_table(spec, v, what=f"margin {margin_name(v)}", parameter="margins")
              for v, spec in parsed]
    for t in tables:
        check_columns(design.data, list(t.variables), role=f"{t.what}:", parameter="margins")
    # code the rows once, to the joint cells of every margin variable (cached column codes, one
    # bincount); margin levels are matched on that small table, not on the rows
    variables = tuple(dict.fromkeys(v for t in tables for v in t.variables))
    # the coding and the weight of each joint cell depend only on the design's rows and
    # weights: kept on the design for the next call
    w_active = w0 if everyone else w0[active]

    def code():
        coded = code_rows(design, variables, active, weights=w_active)
        w_joint = coded.joint_weights  # summed as the rows were coded
        coded.inv.flags.writeable = False  # shared by every rake of this design
        return coded, w_joint, design.base_weight_sum() if everyone else float(w_active.sum())

    coded, w_joint, s0 = design.memo(("weighting", "rake codes", variables), code)
    matches = [match_cells(design, t, active, w0, coded=coded, joint_weights=w_joint)
               for t in tables]
    counts = [(t, t.values.sum()) for t in tables if not t.is_share]
    if counts:
        ref_t, total = counts[0]
        for t, tot in counts[1:]:
            if abs(tot - total) > TOTAL_RTOL * total:
                raise data_error(
                    WeightingError,
                    f"{ref_t.what} sums to {total:.10g} but {t.what} sums to {tot:.10g}: count "
                    "margins must describe the same population total",
                    "rescale one of them, or give shares", parameter="margins",
                    value=float(tot), expected=float(total))
    else:
        total = s0
    targets = [t.scaled(total) for t in tables]
    _check_consistent(tables, targets, total)

    # joint cells of all margins: the margin cells of each joint cell of the variables, combined
    # and numbered in increasing order of the mixed-radix code (several joint cells of the
    # variables can fall in one joint cell of the margins when levels merge, e.g. 1 and "1")
    n_lev = [m.n_cells for m in matches]
    flat = np.zeros(coded.n_joint, dtype=np.int64)
    for m, L in zip(matches, n_lev, strict=True):
        flat = flat * L + m.joint_cells
    uniq, to_cell = np.unique(flat, return_inverse=True)
    K = len(uniq)
    to_cell = to_cell.reshape(-1)
    if everyone:  # usually the joint cells of the variables are those of the margins
        cells = coded.inv if np.array_equal(to_cell, np.arange(K)) else to_cell[coded.inv]
    else:
        cells = np.full(len(w0), -1, dtype=np.int64)
        cells[active] = to_cell[coded.inv]
    levels = []
    rem = uniq.copy()
    for L in reversed(n_lev):
        levels.append(rem % L)
        rem = rem // L
    levels = levels[::-1]
    if K == coded.n_joint:  # each joint cell of the variables is one cell of the margins:
        t0 = np.empty(K)    # the same sums over the same rows
        t0[to_cell] = w_joint
    else:  # levels merged (e.g. 1 and "1"): summed over the rows, as before
        t0 = np.bincount(to_cell[coded.inv], weights=w_active, minlength=K).astype(float)
    if np.any(t0 <= 0):
        raise data_error(WeightingError, "rake: some sample cells have zero total weight",
                         "drop zero-weight rows", parameter="design")
    eps = tol * s0
    T = t0.copy()
    ratios = [np.ones(K) for _ in tables]
    bounded = np.isfinite(lo) or np.isfinite(hi)
    it, stalled, change = 0, False, np.inf
    disc_tol = max(tol, DISC_FLOOR) * max(float(total), s0)
    while it < max_iter:
        prev = T
        for j, (lev, tg, L) in enumerate(zip(levels, targets, n_lev, strict=True)):
            if bounded:
                T = _bounded_step(T / t0, t0, lev, tg, L, lo, hi) * t0
            else:
                cur = np.bincount(lev, weights=T, minlength=L)
                with np.errstate(divide="ignore", invalid="ignore"):
                    f = np.where(cur > 0, tg / np.where(cur > 0, cur, 1.0), 1.0)
                T = T * f[lev]
            ratios[j] = T / t0
        it += 1
        change = float(np.max(np.abs(T - prev)))
        stalled = change < eps
        # converged means the iteration stopped moving *and* every margin is met within tol;
        # a stalled table that misses a margin keeps iterating, and fails at max_iter
        if stalled and _max_discrepancy(T, levels, targets, n_lev) <= disc_tol:
            break
    after = [np.bincount(lev, weights=T, minlength=L) for lev, L in zip(levels, n_lev, strict=True)]
    before = [np.bincount(lev, weights=t0, minlength=L) for lev, L in zip(levels, n_lev, strict=True)]
    disc = [a - tg for a, tg in zip(after, targets, strict=True)]
    worst = int(np.argmax([np.max(np.abs(d)) for d in disc]))
    max_disc = float(np.max(np.abs(disc[worst])))
    worst_level = tables[worst].label(int(np.argmax(np.abs(disc[worst]))))
    worst_disc = float(disc[worst][np.argmax(np.abs(disc[worst]))])
    converged = stalled and max_disc <= disc_tol
    level_totals = tuple((margin_name(t.variables), t, tg, b, a)
                         for t, tg, b, a in zip(tables, targets, before, after, strict=True))
    if stalled and not converged and bounded:
        msg = (f"raking with bounds ({lo:g}, {hi:g}) cannot meet {tables[worst].what}: level "
               f"{worst_level} is off by {worst_disc:.6g} after {it} passes with every weight "
               "ratio at a bound; widen the bounds or collapse sparse cells")
    elif stalled and not converged:
        msg = (f"raking stopped changing after {it} passes but cannot meet {tables[worst].what}: "
               f"level {worst_level} is off by {worst_disc:.6g} (tolerance {disc_tol:.3g} = tol x "
               "total), so no weighting of these cells meets all margins at once. Check that "
               "the margins come from one population and that no margin needs a cell the sample "
               "lacks (an empty combination of the margin variables); collapse such levels")
    elif not converged:
        msg = (f"raking did not converge in {it} passes: the joint table still changed by "
               f"{change:.3g} in the last pass (tolerance {eps:.3g} = tol x weight total); the "
               f"largest margin discrepancy is {max_disc:.6g} at {tables[worst].what} level "
               f"{worst_level}. Raise max_iter, loosen tol, check that the margins come from one "
               "population, or collapse sparse levels")
    adj = Raking(
        margins=tuple(t.variables for t in tables), level_totals=level_totals, iterations=it,
        converged=converged, max_change=change, max_discrepancy=max_disc, tol=tol,
        bounds=None if not bounded else (lo, hi), cells=cells, margin_levels=tuple(levels),
        margin_ratios=tuple(ratios), old_weights=w0, targets=tuple(spec for _, spec in parsed),
    )
    if not converged:
        fail(msg, on_fail)
    if everyone:  # one pass to expand the weights, into one new array
        new = (T / t0)[cells]  # (indexing, not take: take copies a read-only index array)
        new *= w0
        return design.with_weights(new, adj)
    new = np.where(active, w0 * (T / t0)[np.maximum(cells, 0)], 0.0)
    return with_weights(design, new, active, adj)
