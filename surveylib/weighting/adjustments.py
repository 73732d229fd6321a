"""Records of weighting steps, kept in ``SurveyDesign.adjustments``.

Each record knows how to *residualise* the weighted linearised scores of an estimator (the n x K
matrix ``x`` that R ``survey`` hands to ``svyrecvar`` as ``x * pweights / psum``), so the Taylor
variance accounts for the weighting step, exactly as R ``survey:::svyrecvar`` does with the
``postStrata`` list of a design:

* post-stratification (R ``postStratify``): ``x - w_new * rowsum(x w_old / w_new) / rowsum(w_old)``
  within cells;
* raking (R ``rake``): ten sweeps over the margins of ``x - w_m * ave(x / w_m, margin)``, where
  ``w_m`` are the weights after margin ``m`` in the last raking pass and ``ave`` is R's unweighted
  mean within levels;
* calibration (R ``calibrate``, class ``greg_calibration``, stage 0):
  ``qr.resid(qr(X sqrt(w0)), x / w) * w`` with ``w = g sqrt(w0)``;
* trimming (R ``trimWeights``): nothing (R records no adjustment either);
* weighting-class nonresponse adjustment: the linearisation of
  ``sum_c (N_c / R_c) sum_{respondents in c} w y`` (not in R; see :class:`NonresponseAdjustment`).

Every array is stored with one entry per row of the design's data and zeros for rows that were
not weighted (outside a subset), so records stay valid after later ``subset`` calls.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

RAKE_RESIDUAL_SWEEPS = 10  # R survey:::svyrecvar: for (iterations in 1:10)


def _group_sums(x: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``x`` (n x K) within ``group`` codes; rows with code -1 are skipped."""
    ok = group >= 0
    k = x.shape[1]
    g = group[ok]
    flat = np.bincount((g[:, None] * k + np.arange(k)[None, :]).ravel(),
                       weights=x[ok].ravel(), minlength=n_groups * k)
    return flat.reshape(n_groups, k)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b != 0, a / np.where(b != 0, b, 1.0), 0.0)


def raking_cell_offsets(y_sum: np.ndarray, n: np.ndarray, margin_levels, margin_ratios
                        ) -> np.ndarray:
    """R's ten raking sweeps ``x - w_m * ave(x / w_m, margin)`` on the joint cell table.

    ``y_sum`` (C x K) holds each joint cell's sums of ``x / w0`` (``w0`` the weights before
    raking), ``n`` (C,) its rows, and per margin ``margin_levels`` the level of every cell and
    ``margin_ratios`` its weight ratio after that margin.  Returns the offsets ``D`` (C x K):
    the residual of a row of cell ``c`` is ``x - w0 * D[c]`` (:meth:`Raking.residualize`;
    the database backends use the same offsets on their cell sums).
    """
    D = np.zeros_like(y_sum)
    steps = []
    for lev, r in zip(margin_levels, margin_ratios, strict=True):
        live = r > 0
        n_lev = int(lev.max()) + 1
        cnt = np.bincount(lev, weights=np.where(live, n, 0.0), minlength=n_lev)
        inv_r = np.where(live, 1.0 / np.where(live, r, 1.0), 0.0)
        steps.append((lev, n_lev, np.where(live, r, 0.0), inv_r, cnt))
    for _ in range(RAKE_RESIDUAL_SWEEPS):
        for lev, n_lev, rr, inv_r, cnt in steps:
            z = (y_sum - n[:, None] * D) * inv_r[:, None]
            means = _safe_div(_group_sums(z, lev, n_lev), cnt[:, None])
            D = D + rr[:, None] * means[lev]
    return D


@dataclass(frozen=True, eq=False)
class PostStratification:
    """Post-stratification to known cell counts (R ``postStratify``, ``partial=FALSE``).

    Attributes
    ----------
    variables : tuple of str
    table : DataFrame
        One row per cell: the variables, ``population`` (the target count), ``before`` (the
        weighted count before) and ``factor`` (``population / before``).
    population_type : {"count", "share"}
        Shares are scaled to the weight total before the step.
    """

    variables: tuple
    table: pd.DataFrame
    population_type: str
    cells: np.ndarray = field(repr=False)
    old_weights: np.ndarray = field(repr=False)
    new_weights: np.ndarray = field(repr=False)

    def residualize(self, x: np.ndarray) -> np.ndarray:
        k = len(self.table)
        ratio = _safe_div(self.old_weights, self.new_weights)
        num = _group_sums(x * ratio[:, None], self.cells, k)
        den = np.bincount(self.cells[self.cells >= 0], weights=self.old_weights[self.cells >= 0],
                          minlength=k)
        means = _safe_div(num, den[:, None])
        sub = np.where((self.cells >= 0)[:, None], means[np.maximum(self.cells, 0)], 0.0)
        return x - sub * self.new_weights[:, None]

    def describe(self) -> str:
        return f"post-stratified on {'×'.join(self.variables)} ({len(self.table)} cells)"

    def reapply(self, design):
        """The same step applied to ``design`` (used by ``trim(recalibrate=True)``)."""
        pop = self.table[[*self.variables, "population"]]
        return design.poststratify(list(self.variables), pop)


@dataclass(frozen=True, eq=False)
class Raking:
    """Raking (iterative proportional fitting) to one- or two-way margins (R ``rake``).

    Attributes
    ----------
    margins : tuple of tuple of str
        The variables of each margin, in raking order.
    table : DataFrame
        One row per margin level: ``margin``, ``level``, ``target``, ``before``, ``after``,
        ``discrepancy`` (``after - target``).
    iterations : int
        Full passes over the margins.
    converged : bool
    max_change : float
        Largest change of a cell of the joint table of all margin variables in the last pass
        (R's convergence criterion), in weight units.
    max_discrepancy : float
        Largest ``|after - target|`` over all margin levels, in weight units.
    tol : float
        The relative tolerance used (``max_change < tol * sum(weights before)``).
    bounds : tuple or None
        Bounds on ``new weight / old weight`` enforced during raking.
    """

    margins: tuple
    iterations: int
    converged: bool
    max_change: float
    max_discrepancy: float
    tol: float
    bounds: tuple | None
    cells: np.ndarray = field(repr=False)  # joint cell of each row, -1 outside
    margin_levels: tuple = field(repr=False)  # per margin: (K,) level of each joint cell
    margin_ratios: tuple = field(repr=False)  # per margin: (K,) weight ratio after that margin
    old_weights: np.ndarray = field(repr=False)
    targets: tuple = field(repr=False)  # per margin: the population spec as given (for reapply)
    # per margin: (name, its PopulationTable, target, before, after): the rows of ``table``
    level_totals: tuple = field(repr=False)

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """One row per margin level (built when first read: a first rake on a new design
        spends ~0.4 ms on this small frame)."""
        rows = []
        for name, t, tg, b, a in self.level_totals:
            for i in range(len(tg)):
                rows.append((name, t.label(i).strip("'"), tg[i], b[i], a[i], a[i] - tg[i]))
        return pd.DataFrame(rows, columns=["margin", "level", "target", "before", "after",
                                           "discrepancy"])

    def _margin_weights(self, m: int) -> np.ndarray:
        r = self.margin_ratios[m]
        return np.where(self.cells >= 0, self.old_weights * r[np.maximum(self.cells, 0)], 0.0)

    def residualize(self, x: np.ndarray) -> np.ndarray:
        """R's ten sweeps ``x - w_m * ave(x / w_m, margin)``, run on the joint cell table.

        Every row of joint cell ``c`` has ``w_m = w0 * r_m[c]``, so with ``y = x / w0`` a sweep
        subtracts ``r_m[c] * mean_m[level of c]`` from every row of the cell: the sweeps only
        move a per-cell offset ``D[c]``, and the level means need only the cell sums of ``y``
        (``sum_c [r_m[c] > 0] (Y0[c] - n[c] D[c]) / r_m[c]``, over ``sum_c [r_m[c] > 0] n[c]``
        rows, as R's ``ave`` over the rows with ``w_m > 0``).  The rows are read twice (cell
        sums, then ``x - w0 * D[c]``) instead of 60 times.
        """
        c = self.cells
        w0 = self.old_weights
        rows = (c >= 0) & (w0 > 0)  # rows with w_m > 0 for some margin; others never change
        cr = c[rows]
        n_cells = len(self.margin_levels[0])
        y = x[rows] / w0[rows, None]
        y_sum = _group_sums(y, cr, n_cells)
        n = np.bincount(cr, minlength=n_cells).astype(float)
        D = raking_cell_offsets(y_sum, n, self.margin_levels, self.margin_ratios)
        out = np.array(x, dtype=float, copy=True)
        out[rows] = x[rows] - w0[rows, None] * D[cr]
        return out

    def describe(self) -> str:
        margins = ", ".join("×".join(m) for m in self.margins)
        state = "converged" if self.converged else "NOT converged"
        return f"raked to {margins} ({self.iterations} passes, {state})"

    def reapply(self, design):
        return design.rake(dict(zip(self.margins, self.targets, strict=True)), tol=self.tol,
                           max_iter=max(100, self.iterations * 2), bounds=self.bounds)


@dataclass(frozen=True, eq=False)
class Calibration:
    """Calibration to population totals (R ``calibrate``, GREG, stage 0).

    Attributes
    ----------
    columns : tuple of str
        Model-matrix columns (``"(Intercept)"``, numeric variables, ``"var[level]"`` dummies).
    table : DataFrame
        One row per column: ``column``, ``population``, ``before``, ``after``.
    calfun : {"linear", "raking", "logit"}
    bounds : tuple
        (lower, upper) bounds on ``g = new weight / old weight``.
    iterations : int
        Newton iterations (R ``grake``); 1 for unbounded linear calibration.
    max_misfit : float
        ``max |population - after| / (1 + |population|)``, R's convergence measure.
    """

    columns: tuple
    table: pd.DataFrame
    calfun: str
    bounds: tuple
    iterations: int
    max_misfit: float
    q: np.ndarray = field(repr=False)  # orthonormal basis of X sqrt(w0) (rank columns)
    w: np.ndarray = field(repr=False)  # g * sqrt(w0), R's caldata$w
    spec: dict = field(repr=False, default_factory=dict)

    def residualize(self, x: np.ndarray) -> np.ndarray:
        y = _safe_div(x, self.w[:, None])
        y = y - self.q @ (self.q.T @ y)
        return y * self.w[:, None]

    def describe(self) -> str:
        b = "" if self.bounds == (-np.inf, np.inf) else f", bounds {self.bounds[0]:g}..{self.bounds[1]:g}"
        return f"calibrated ({self.calfun}{b}) on {', '.join(self.columns)}"

    def reapply(self, design):
        return design.calibrate(**self.spec)


@dataclass(frozen=True, eq=False)
class Trimming:
    """Weight trimming with redistribution (R ``trimWeights``); no variance adjustment, as R.

    Attributes
    ----------
    lower, upper : float
        The bounds on the weights (``-inf``/``inf`` when not given).
    n_trimmed : int
        Rows whose weight was moved to a bound (over all rounds when ``strict``).
    amount : float
        Total weight moved from trimmed rows to the others (over all rounds).
    rounds : int
        Trim-and-redistribute rounds (1 unless ``strict``).
    """

    lower: float
    upper: float
    n_trimmed: int
    amount: float
    rounds: int

    def residualize(self, x: np.ndarray) -> np.ndarray:
        return x

    def describe(self) -> str:
        return f"trimmed to [{self.lower:g}, {self.upper:g}] ({self.n_trimmed} weights)"


@dataclass(frozen=True, eq=False)
class NonresponseAdjustment:
    """Weighting-class nonresponse adjustment.

    Respondents' weights in class ``c`` are multiplied by ``f_c = N_c / R_c`` (weighted eligible
    over weighted respondents).  The adjusted total ``sum_c f_c sum_{r in c} w y`` is linearised
    as ``w_i ybar_c`` for every eligible unit plus ``f_c w_i (y_i - ybar_c)`` for respondents,
    with ``ybar_c`` the respondents' weighted mean; :meth:`residualize` turns the scores of the
    respondents' design into these.

    Attributes
    ----------
    classes : tuple of str
    table : DataFrame
        One row per class: the class columns, ``n_eligible``, ``n_respondents``,
        ``weighted_eligible``, ``weighted_respondents``, ``factor``.
    """

    classes: tuple
    table: pd.DataFrame
    cells: np.ndarray = field(repr=False)  # class of every eligible row, -1 otherwise
    eligible_weights: np.ndarray = field(repr=False)
    respondent_weights: np.ndarray = field(repr=False)

    def residualize(self, x: np.ndarray) -> np.ndarray:
        k = len(self.table)
        resp = (self.cells >= 0) & (self.respondent_weights > 0)
        num = _group_sums(x, np.where(resp, self.cells, -1), k)
        den = np.bincount(self.cells[resp], weights=self.respondent_weights[resp], minlength=k)
        means = _safe_div(num, den[:, None])
        m = np.where((self.cells >= 0)[:, None], means[np.maximum(self.cells, 0)], 0.0)
        return x - m * self.respondent_weights[:, None] + m * self.eligible_weights[:, None]

    def describe(self) -> str:
        return f"nonresponse-adjusted within {'×'.join(self.classes)} ({len(self.table)} classes)"
