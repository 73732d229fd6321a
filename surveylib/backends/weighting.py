"""Post-stratification and raking over an engine: IPF on the aggregated cell table, the new
weight an SQL expression, and Taylor variances residualised on the step as in memory.

1. **The cell table.**  One ``GROUP BY psu…, margin variables`` returns the weight total and
   row count of every (PSU, joint cell of the margin variables).  The in-memory
   :func:`surveylib.weighting.poststratify` / :func:`surveylib.weighting.rake` run on the
   joint cells (one pseudo-row per cell weighing the cell's total): raking and
   post-stratification depend on the rows only through these totals, so the factors, the
   convergence diagnostics and the record (``design.adjustments``) are the in-memory ones.
2. **The new weight is never computed row by row.**  The step is a factor ``f[c]`` per cell,
   so an estimate's weighted sums are ``sum_c f[c] * sum_{rows of c} w y``: each estimate's
   ``GROUP BY`` also groups by the cell variables, sums with the weight before the step, and
   the factors are applied to the returned rows (:meth:`CellWeighting.apply`).  (A ``CASE``
   over the cells evaluated on every row cost 10-20x the query; a join with a factor table
   about 1.5x.)  ``weight_sql`` still holds the row weight, ``w * CASE …``, for the queries
   that need it row by row (the quantiles' distribution function).
3. **The variance.**  In memory the scores ``x_i`` are residualised on the step
   (:mod:`surveylib.weighting.adjustments`, R ``svyrecvar``) before their PSU totals are
   taken.  Both residuals subtract a per-cell multiple of a weight, ``x_i - M[c] v_i``
   (post-stratification: ``v`` the new weight and ``M[c] = sum_c x / sum_c w_new``; raking:
   ``v`` the weight before raking and ``M = D`` from R's ten sweeps over the margins, which
   need the *unweighted* cell sums of ``x / w``).  So the PSU totals of the residuals are
   ``T[u] - sum_c M[c] V[u, c]``: ``V`` (PSU x cell weight sums) is kept from step 1, and
   ``M`` comes from the same grouped rows (their weighted and unweighted sums per cell).

Designs without PSUs (element sampling) keep one "unit" per stratum here (``unit_weights``
is strata x cells) and residualise row by row through per-(stratum, cell) Gram sums
(:mod:`._element`): every row the step weighted (``weight_where``) enters the residuals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_list
from ..design import SurveyDesign
from ..variance.sums import CellSums
from ..weighting.adjustments import raking_cell_offsets
from .errors import BackendError, NotPushedDownError
from .estimate import LEVEL, is_nan
from .queries import grouped
from .tables import literal

CELL = "__surveylib_cell"


@dataclass(frozen=True, eq=False)
class CellWeighting:
    """A weighting step of a design over an engine (see the module docstring).

    Attributes
    ----------
    record : PostStratification or Raking
        The in-memory record of the step on the cell table (its ``table`` and diagnostics).
    variables : tuple of str
        The columns whose joint levels make the cells.
    cells : DataFrame
        The levels of ``variables`` of every cell (C rows).
    factors : (C,) ndarray
        Each cell's new weight over its weight before the step.
    base_weight_sql : str
        The weight before the step (SQL).
    unit_weights : (P, C) ndarray
        Per (unit of the design's unit table, cell): new weights (post-stratification) or
        weights before the step (raking).
    counts : (C,) ndarray
        Rows per cell (raking's unweighted means).
    margin_levels, margin_ratios : tuple of (C,) ndarray
        Raking: each margin's level of every cell, and the cell's weight ratio after that
        margin in the last pass.
    """

    record: Any  # PostStratification or Raking
    variables: tuple
    cells: pd.DataFrame
    factors: np.ndarray
    base_weight_sql: str
    unit_weights: np.ndarray
    counts: np.ndarray
    margin_levels: tuple = ()
    margin_ratios: tuple = ()

    def cell_index(self, frame: pd.DataFrame) -> np.ndarray:
        """The cell (0 … C-1) of every row of a query result grouped by ``variables``."""
        code = pd.MultiIndex.from_frame(self.cells).get_indexer(
            pd.MultiIndex.from_frame(frame[list(self.variables)]))
        if (code < 0).any():
            raise BackendError("the source has rows outside the cells it was weighted on "
                               "(it changed since); weight the design again.",
                               parameter="data", value=None)
        return code

    def apply(self, frame: pd.DataFrame, weighted: list) -> pd.DataFrame:
        """A query result grouped by the cells with the step's factor applied to the sums of
        weighted values (``weighted``, summed with the weight before the step) and each row's
        cell in the column ``CELL``: ``sum_cell(w f y) = f sum_cell(w y)``."""
        code = self.cell_index(frame)
        out = frame.copy()
        out[weighted] = frame[weighted].to_numpy(float) * self.factors[code][:, None]
        out[CELL] = code
        return out

    @property
    def raking(self) -> bool:
        """Raking (its residuals need the cells' unweighted sums), not post-stratification."""
        return bool(self.margin_levels)

    @property
    def n_cells(self) -> int:
        return len(self.counts)

    def describe(self) -> str:
        return self.record.describe()

    def cell_multipliers(self, s_w: np.ndarray, s_u: np.ndarray) -> np.ndarray:
        """``M`` (C x K) from the cells' sums of the scores: ``s_w = sum_c x`` (weighted
        scores) and ``s_u = sum_c x / w`` (the same unweighted, for raking)."""
        if not self.raking:  # post-stratification: sum_c x / sum_c w_new
            wnew = self.unit_weights.sum(axis=0)
            return np.divide(s_w, wnew[:, None], out=np.zeros_like(s_w),
                             where=wnew[:, None] != 0)
        n = self.counts
        r_final = self.margin_ratios[-1]
        y_sum = s_u * r_final[:, None]  # sum_c x / w0 = r_final * sum_c x / w
        return raking_cell_offsets(y_sum, n, self.margin_levels, self.margin_ratios)


def _cells_case(q, variables, cells, values) -> str:
    """``values[c]`` for the rows of joint cell ``c`` (NULL elsewhere), as nested simple
    ``CASE var WHEN level THEN …`` over the variables in turn: a row is matched with about
    ``sum of the variables' levels`` comparisons, not ``cells x variables``."""
    def nest(rows, depth):
        var = variables[depth]
        whens = []
        for level, sub in rows.groupby(var, sort=True):
            inner = (str(values[int(sub.index[0])]) if depth == len(variables) - 1
                     else nest(sub, depth + 1))
            whens.append(f"WHEN {literal(level)} THEN {inner}")
        return f"(CASE {q(var)} {' '.join(whens)} END)"

    return nest(cells, 0)


def weight(design, variables, step, what: str, *, raking: bool):
    """``design`` weighted by ``step`` (a function of an in-memory design) on the cell table
    of ``variables``: a copy with the new weight expression and the :class:`CellWeighting`."""
    if design.adjustments:
        raise NotPushedDownError(
            f"{what} after {design.adjustments[-1].describe()} is not pushed down (chained "
            "weighting steps residualise in turn on the rows); weight in one step, or build "
            "SurveyDesign(design.in_memory(columns)).", parameter="method", value=what)
    if not np.all(design.unit_weight == 1.0):
        raise NotPushedDownError(
            f"{what} needs the sampling weights as a column (weights= or probs=), not weights "
            "derived from fpc=.", parameter="weights", value=None)
    variables = list(dict.fromkeys(variables))
    design.check_columns(variables, role="weighting")
    src, q = design.source, design.source.quote
    keys = [q(c) for c in dict.fromkeys(design.unit_keys + variables)]
    frame = src.fetch(grouped(src.table, keys, {"w": design.weight_sql, "n": "1"},
                              design.where, aggregate=True))
    if len(frame) > design.max_units:  # each estimate returns at least this many groups
        raise NotPushedDownError(
            f"{what} on {variables} meets {len(frame)} (PSU, cell) pairs, more than max_units="
            f"{design.max_units}; every estimate after it returns its sums per (PSU, cell): "
            "weight on fewer or coarser variables, or raise max_units if they fit in memory.",
            parameter="max_units", value=design.max_units)
    cells = frame[variables].drop_duplicates().reset_index(drop=True)
    code = pd.MultiIndex.from_frame(cells).get_indexer(pd.MultiIndex.from_frame(
        frame[variables]))
    C = len(cells)
    w = frame["w"].to_numpy(float)
    pseudo = cells.copy()
    pseudo["__w"] = np.bincount(code, w, C)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a design over cells: no PSUs assumed, no warning
        base = SurveyDesign(pseudo, weights="__w")
    weighted = step(base)
    record = weighted.adjustments[-1]
    ratio = np.asarray(weighted.weights, dtype=float) / pseudo["__w"].to_numpy()
    unit = design.unit_index(frame)
    P = len(design.units)
    new = w if raking else w * ratio[code]
    unit_weights = np.bincount(unit * C + code, new, P * C).reshape(P, C)
    levels = ratios = ()
    if raking:
        joint = np.asarray(record.cells)  # the record's joint cell of every pseudo-row
        levels = tuple(np.asarray(lev)[joint] for lev in record.margin_levels)
        ratios = tuple(np.asarray(r, dtype=float)[joint] for r in record.margin_ratios)
    factor = _cells_case(q, variables, cells, [f"{r:.17e}" for r in ratio])
    adj = CellWeighting(record, tuple(variables), cells, ratio, design.weight_sql,
                        unit_weights, np.bincount(code, frame["n"], C).astype(float), levels,
                        ratios)
    # the estimates group by the cells (estimate.py); the expression serves the queries that
    # need each row's weight (the quantiles' distribution function)
    return design.evolve(weight_sql=f"({design.weight_sql} * {factor})",
                         adjustments=(adj,), level_cache={}, len_cache={},
                         weight_where=design.where)


def poststratify(design, by, population):
    """Post-stratify (R ``postStratify``); see :func:`surveylib.weighting.poststratify`."""
    by_cols = as_list(by)
    return weight(design, by_cols, lambda d: d.poststratify(by_cols, population),
                  "poststratify()", raking=False)


def rake(design, margins, *, tol=1e-7, max_iter=100, bounds=None, on_fail="error"):
    """Rake (R ``rake``); see :func:`surveylib.weighting.rake`."""
    if isinstance(margins, dict):
        variables = [v for key in margins for v in as_list(key)]
    else:  # a list of Series with named indexes
        variables = [v for s in margins for v in as_list(list(s.index.names))]
    return weight(design, variables,
                  lambda d: d.rake(margins, tol=tol, max_iter=max_iter, bounds=bounds,
                                   on_fail=on_fail), "rake()", raking=True)


def cell_sums(plan, k, D):
    """Per (cell of the weighting step, estimate cell) sums of the weighted and the
    unweighted values (C x K each): ``wy, wx, uy, ux``, from the frames of an estimate's
    ``plan`` (:mod:`.estimate`; grouped by the step's cells, factors applied).  The numeric
    variables' unweighted sums are only queried for raking (zero after post-stratification,
    whose residuals do not use them)."""
    adj = plan.design.adjustments[0]
    C = adj.n_cells
    out = {name: np.zeros(C * k) for name in ("wy", "wx", "uy", "ux")}
    base, numeric_seen = 0, 0
    for (_label, _y, _x, lev), j in zip(plan.specs, plan.owner, strict=True):
        f = plan.frames[j]
        if plan.by:
            f = f[f[plan.by].notna().all(axis=1)]
            g = plan.index.get_indexer(pd.MultiIndex.from_frame(f[plan.by]))
            f, g = f[g >= 0], g[g >= 0]
        else:
            g = np.zeros(len(f), dtype=np.int64)
        c = f[CELL].to_numpy(np.int64)
        if lev is None:
            i = numeric_seen
            numeric_seen += 1
            for name in ("wy", "wx", "uy", "ux")[:4 if adj.raking else 2]:
                out[name] += np.bincount(c * k + base + g, f[f"{name}_{i}"].to_numpy(float),
                                         C * k)
            base += D
            continue
        L = len(lev)
        level = f[LEVEL]
        ok = level.notna().to_numpy() & ~is_nan(level)
        code = pd.Index(lev).get_indexer(level.where(ok, lev[0] if lev else None))
        ok &= code >= 0
        c, g, code, f = c[ok], g[ok], code[ok], f[ok]
        for name, col in (("wy", "ws"), ("uy", "n")):
            vals = f[col].to_numpy(float)
            out[name] += np.bincount(c * k + base + g * L + code, vals, C * k)
            dom = np.bincount(c * D + g, vals, C * D).reshape(C, D)
            tot = out["wx" if name == "wy" else "ux"].reshape(C, k)
            tot[:, base:base + D * L] = np.repeat(dom, L, axis=1)
        base += D * L
    return {name: v.reshape(C, k) for name, v in out.items()}

def residualised_vcov(plan, acc, kind, est, den, nobs):
    """Taylor covariance of the scores residualised on the weighting step: PSU totals
    ``T[u] - sum_c M[c] V[u, c]`` (see :mod:`.weighting`)."""
    d, s = plan.design, plan.weighting
    adj = d.adjustments[0]
    k = len(est)
    wy, wx = acc["wy"].reshape(-1, k), acc["wx"].reshape(-1, k)
    if kind == "total":
        t, sw, su = wy, s["wy"], s["uy"]
    else:
        scale = 1.0 / np.where(den == 0, 1.0, den)
        t = (wy - est * wx) * scale
        sw = (s["wy"] - est * s["wx"]) * scale
        su = (s["uy"] - est * s["ux"]) * scale
    t = t - adj.unit_weights @ adj.cell_multipliers(sw, su)
    unit, n_units = d.engine.sum_units
    to_unit = (unit[:, None] * k + np.arange(k)[None, :]).ravel()
    totals = np.bincount(to_unit, t.ravel(), n_units * k).reshape(n_units, k)
    zeros = np.zeros(k)
    return d.engine.vcov_sums("total", CellSums(totals, totals, nobs, zeros, zeros), zeros)
