"""Post-stratification and raking over an engine: IPF on the aggregated cell table, the new
weight an SQL expression, and Taylor variances residualised on the step as in memory.

0. **The step is lazy.**  ``rake()`` / ``poststratify()`` check at the call everything that
   needs no scan of the rows (the columns, the margins and population tables, the options,
   the cases that are not pushed down) and record a :class:`CellWeighting` *unfitted*.  It is
   fitted the first time it is needed: by the first mean/total/ratio/proportion that reads
   every row of the step's design (no ``subset`` after the step), from the rows that query
   already groups by (PSU, domain, cells) -- one scan for the step and the estimate together
   (:meth:`CellWeighting.fit_from`; designs with ``psu=``); otherwise, on the first read of a fitted member
   (``factors``, ``cells``, ``record``, ``weight_sql``, ...), by its own scan of the cell table
   (:meth:`CellWeighting.fit`).  Errors that depend on the data (a level absent from a margin,
   raking not converging, too many (PSU, cell) pairs) therefore surface at the first
   estimate, prefixed with the step (``rake() step: ...``); ``design.fit_weights()`` fits at
   once for those who want them at the call.
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
   about 1.5x.)  :attr:`CellWeighting.weight_sql` still gives the row weight,
   ``w * CASE …``, for queries that need it row by row.
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

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_list, check_integer, check_number, invalid_argument
from ..design import SurveyDesign
from ..errors import SurveyDesignError
from ..variance.sums import CellSums
from ..weighting._common import check_bounds, check_on_fail, margin_name
from ..weighting._population import population_table
from ..weighting.adjustments import raking_cell_offsets
from ..weighting.raking import parse_margins
from .errors import BackendError, NotPushedDownError
from .estimate import LEVEL, is_nan
from .queries import grouped
from .tables import literal

CELL = "__surveylib_cell"


@dataclass(frozen=True)
class _Fit:
    """The fitted parts of a :class:`CellWeighting` (see its attributes)."""

    record: Any
    cells: pd.DataFrame
    factors: np.ndarray
    unit_weights: np.ndarray
    counts: np.ndarray
    margin_levels: tuple
    margin_ratios: tuple


class CellWeighting:
    """A weighting step of a design over an engine, fitted when first needed (see the module
    docstring).

    Known at the call
    -----------------
    variables : tuple of str
        The columns whose joint levels make the cells.
    base_weight_sql : str
        The weight before the step (SQL).
    filters : tuple of str
        The ``subset`` conditions of the design the step weights (its rows).
    what : str
        ``"rake()"`` or ``"poststratify()"`` (for messages).
    raking : bool
        Raking (its residuals need the cells' unweighted sums), not post-stratification.

    Fitted (reading any of these fits the step: :meth:`fit`)
    ---------------------------------------------------------
    record : PostStratification or Raking
        The in-memory record of the step on the cell table (its ``table`` and diagnostics).
    cells : DataFrame
        The levels of ``variables`` of every cell (C rows, sorted).
    factors : (C,) ndarray
        Each cell's new weight over its weight before the step.
    unit_weights : (P, C) ndarray
        Per (unit of the design's unit table, cell): new weights (post-stratification) or
        weights before the step (raking).
    counts : (C,) ndarray
        Rows per cell (raking's unweighted means).
    margin_levels, margin_ratios : tuple of (C,) ndarray
        Raking: each margin's level of every cell, and the cell's weight ratio after that
        margin in the last pass.
    weight_sql : str
        The row weight after the step, ``w * CASE <cell> … END`` (for queries that need each
        row's weight).
    """

    def __init__(self, design, variables, step, what: str, *, raking: bool):
        self.variables = tuple(variables)
        self.base_weight_sql = design.weight_sql
        self.filters = tuple(design.filters)
        self.what = what
        self.raking = raking
        self._design = design  # before the step: its source, rows and unit table
        self._step = step      # the in-memory step, a function of a design
        self._keys = list(dict.fromkeys(design.unit_keys + list(variables)))
        self._fit: _Fit | None = None

    # ----- fitting --------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        """Whether the step has been fitted (its factors known)."""
        return self._fit is not None

    def covers(self, design) -> bool:
        """Whether a query of ``design`` (this step's design or a copy) reads exactly the rows
        the step weights -- no ``subset`` condition added after the step -- so that the query's
        weight sums, grouped by (PSU, cell), are the step's cell table (:meth:`fit_from`)."""
        return tuple(design.filters) == self.filters

    def fit(self) -> CellWeighting:
        """Fit the step now, by one ``GROUP BY`` (PSU, cells) of the weight and the row count
        over the step's rows (nothing is done if it is fitted already); returns ``self``."""
        if self._fit is None:
            d = self._design
            src, q = d.source, d.source.quote
            frame = src.fetch(grouped(src.table, [q(c) for c in self._keys],
                                      {"w": self.base_weight_sql, "n": "1"}, d.where,
                                      aggregate=True))
            self._fit_table(frame, "w", "n")
        return self

    def fit_from(self, frame: pd.DataFrame, weight: str, count: str) -> None:
        """Fit the step from an estimate's query result: rows grouped by (at least) the PSU
        keys and ``variables``, whose columns ``weight`` and ``count`` sum the weight before
        the step and 1 over **every** row of the step's design (:meth:`covers`); they are
        summed over the other keys (domains, levels) to the (PSU, cell) table."""
        if self._fit is None:
            table = frame.groupby(self._keys, dropna=False, sort=False)[[weight, count]].sum()
            self._fit_table(table.reset_index(), weight, count)

    def _fit_table(self, frame: pd.DataFrame, weight: str, count: str) -> None:
        """The step fitted on the (PSU, cell) table ``frame`` (one row per pair)."""
        d, variables = self._design, list(self.variables)
        if len(frame) > d.max_units:  # each estimate returns at least this many groups
            raise NotPushedDownError(
                f"{self.what} on {variables} meets {len(frame)} (PSU, cell) pairs, more than "
                f"max_units={d.max_units}; every estimate after it returns its sums per (PSU, "
                "cell): weight on fewer or coarser variables, or raise max_units if they fit "
                "in memory.", parameter="max_units", value=d.max_units)
        cells = frame[variables].drop_duplicates().sort_values(variables, kind="stable")
        cells = cells.reset_index(drop=True)
        code = pd.MultiIndex.from_frame(cells).get_indexer(pd.MultiIndex.from_frame(
            frame[variables]))
        C = len(cells)
        w = frame[weight].to_numpy(float)
        pseudo = cells.copy()
        pseudo["__w"] = np.bincount(code, w, C)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a design over cells: no PSUs assumed, no warning
            base = SurveyDesign(pseudo, weights="__w")
        try:
            weighted = self._step(base)
        except SurveyDesignError as exc:  # data-dependent: say which step, keep the fields
            raise type(exc)(f"{self.what} step: {exc}", parameter=exc.parameter,
                            value=exc.value, expected=exc.expected, hint=exc.hint) from exc
        record = weighted.adjustments[-1]
        ratio = np.asarray(weighted.weights, dtype=float) / pseudo["__w"].to_numpy()
        unit = d.unit_index(frame)
        P = len(d.units)
        new = w if self.raking else w * ratio[code]
        unit_weights = np.bincount(unit * C + code, new, P * C).reshape(P, C)
        levels = ratios = ()
        if self.raking:
            joint = np.asarray(record.cells)  # the record's joint cell of every pseudo-row
            levels = tuple(np.asarray(lev)[joint] for lev in record.margin_levels)
            ratios = tuple(np.asarray(r, dtype=float)[joint] for r in record.margin_ratios)
        counts = np.bincount(code, frame[count].to_numpy(float), C)
        self._fit = _Fit(record, cells, ratio, unit_weights, counts, levels, ratios)

    def _fitted(self) -> _Fit:
        self.fit()
        return self._fit  # type: ignore[return-value]  # fit() sets it

    # ----- the fitted parts -----------------------------------------------------------------
    @property
    def record(self):
        return self._fitted().record

    @property
    def cells(self) -> pd.DataFrame:
        return self._fitted().cells

    @property
    def factors(self) -> np.ndarray:
        return self._fitted().factors

    @property
    def unit_weights(self) -> np.ndarray:
        return self._fitted().unit_weights

    @property
    def counts(self) -> np.ndarray:
        return self._fitted().counts

    @property
    def margin_levels(self) -> tuple:
        return self._fitted().margin_levels

    @property
    def margin_ratios(self) -> tuple:
        return self._fitted().margin_ratios

    @property
    def n_cells(self) -> int:
        return len(self.counts)

    @functools.cached_property
    def weight_sql(self) -> str:
        """The row weight after the step (SQL): the weight before it times the cell's factor,
        as nested ``CASE`` over the cell variables."""
        q = self._design.source.quote
        factor = _cells_case(q, list(self.variables), self.cells,
                             [f"{r:.17e}" for r in self.factors])
        return f"({self.base_weight_sql} * {factor})"

    def describe(self) -> str:
        return self.record.describe()

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


def weight(design, variables, step, what: str, *, raking: bool, check):
    """``design`` weighted by ``step`` (a function of an in-memory design) on the cell table
    of ``variables``: a copy with the unfitted :class:`CellWeighting` as its adjustment.  The
    checks that need no scan of the rows are done here: the refusals, the columns, then
    ``check()`` (the population tables)."""
    if design.adjustments:
        raise NotPushedDownError(
            f"{what} after {design.adjustments[-1].what} is not pushed down (chained "
            "weighting steps residualise in turn on the rows); weight in one step, or build "
            "SurveyDesign(design.in_memory(columns)).", parameter="method", value=what)
    if not np.all(design.unit_weight == 1.0):
        raise NotPushedDownError(
            f"{what} needs the sampling weights as a column (weights= or probs=), not weights "
            "derived from fpc=.", parameter="weights", value=None)
    variables = list(dict.fromkeys(variables))
    design.check_columns(variables, role="weighting")
    check()
    adj = CellWeighting(design, variables, step, what, raking=raking)
    return design.evolve(adjustments=(adj,), level_cache={}, len_cache={},
                         weight_where=design.where)


def poststratify(design, by, population):
    """Post-stratify (R ``postStratify``); see :func:`surveylib.weighting.poststratify`.  The
    population table is checked here; the cells' factors are fitted when first needed."""
    by_cols = as_list(by)
    if not by_cols:
        raise invalid_argument("by", by, "one or more column names",
                               "give the post-stratification variable(s) as by=")
    return weight(design, by_cols, lambda d: d.poststratify(by_cols, population),
                  "poststratify()", raking=False,
                  check=lambda: population_table(
                      population, by_cols,
                      what=f"post-stratification on {margin_name(tuple(by_cols))}"))


def rake(design, margins, *, tol=1e-7, max_iter=100, bounds=None, on_fail="error"):
    """Rake (R ``rake``); see :func:`surveylib.weighting.rake`.  The options and each
    margin's table are checked here; the IPF runs when the step is first needed."""
    check_on_fail(on_fail)
    check_number(tol, name="tol", low=0, high=1, low_open=True, high_open=True,
                 hint="it is relative to the weight total, e.g. tol=1e-7")
    check_integer(max_iter, name="max_iter", hint="e.g. max_iter=100")
    check_bounds(bounds)
    parsed = parse_margins(margins)

    def check():
        for v, spec in parsed:
            population_table(spec, v, what=f"margin {margin_name(v)}", parameter="margins")

    return weight(design, [v for key, _ in parsed for v in key],
                  lambda d: d.rake(margins, tol=tol, max_iter=max_iter, bounds=bounds,
                                   on_fail=on_fail), "rake()", raking=True, check=check)


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
