"""The variance engines: one small interface, two implementations.

A design holds one engine (``design.engine``).  An estimator never asks what kind of design it
has; it hands the engine what the engine needs and gets a covariance back:

``takes_sums(k, n_rows, denominator)`` / ``sum_units`` / ``center_sums``
    whether the engine can work from per-(unit, cell) sums for this request, the unit code of
    every row those sums are taken over, and whether values may be centred first;
``vcov_sums(kind, sums, est)``
    covariance of K ratio-of-totals (``kind="ratio"``) or total (``kind="total"``) cells
    from their :class:`~surveylib.variance.sums.CellSums` (the data reduced once, by
    ``unit_cell_sums`` in memory, by a ``GROUP BY`` elsewhere);
``vcov_scores(scores)``
    covariance of K linearised statistics from their weighted per-row scores
    (:class:`~surveylib.variance.taylor.Scores`); used by models (GLM, ordinal) and by any
    estimator that forms scores;
``vcov_cells(blocks, kind, est, k, scores)``
    covariance of ratio-of-totals cells computed row by row, when sums do not serve
    (weighting adjustments to residualise on, replicate-weight columns); ``scores`` is a
    callable that forms the per-row scores, called only by an engine that reads them;
``transform=``
    both ``vcov_sums`` and ``vcov_cells`` take a :class:`Transform` (a smooth function of
    the cells and its Jacobian) and return the covariance of the transformed statistics;
``degf()`` / ``domain_df(valid, cells, k)``
    the design's degrees of freedom, and those of each cell's domain (R ``degf``);
``df_rule`` / ``kind``
    how the degrees of freedom are counted, and ``"taylor"`` or ``"replicate"``.

:class:`TaylorEngine` turns unit totals into a covariance with the stratified between-unit
formula (``taylor.py``); :class:`ReplicateEngine` recomputes the statistics under each set of
replicate weights (``replicate.py``).  Both are immutable and belong to one design (one set of
rows in the design and one record of weighting steps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .stored import row_chunks
from .sums import CellSums
from .taylor import Scores, Stage, taylor_vcov, taylor_vcov_from_totals, taylor_vcov_gram

#: sums over units x cells are used while they stay within this many times the rows
MAX_UNIT_CELLS = 4


@dataclass(frozen=True)
class Transform:
    """A smooth function of the cells' estimates, ``f: (..., K) -> (..., K')``, with its
    Jacobian ``jac(est) -> (K', K)``.

    Engines give the covariance of ``f(est)``: Taylor linearisation by the delta method
    (``J V J'``), replicate engines by applying ``f`` to every replicate's cells (as R
    ``svycontrast`` with a nonlinear contrast, and R's replicate ``svyvar``).
    """

    f: Callable[[np.ndarray], np.ndarray]
    jac: Callable[[np.ndarray], np.ndarray]

    def delta(self, v: np.ndarray, est: np.ndarray) -> np.ndarray:
        j = self.jac(est)
        return j @ v @ j.T


class TaylorEngine:
    """Taylor linearisation over the design's stages (R ``svyrecvar``).

    Scores are residualised on each recorded weighting step (post-stratification, raking,
    calibration), in order, before their unit totals are taken.
    """

    kind = "taylor"
    df_rule = "PSUs - strata"

    def __init__(self, stages: tuple, *, lonely_psu: str, active: np.ndarray, multistage: bool,
                 adjustments: tuple = (), adjust_domain_lonely: bool = False,
                 presence: np.ndarray | None = None, pps=None):
        self.stages = stages
        self.lonely_psu = lonely_psu
        self.active = active
        self.multistage = multistage
        self.adjustments = adjustments
        self.adjust_domain_lonely = adjust_domain_lonely
        self.presence = presence
        self.pps = pps  # PPSVariance: Dcheck of the first stage (R pps= designs)

    @property
    def needs_presence(self) -> bool:
        """Whether the covariance needs each cell's domain units (:meth:`with_presence`): the
        domain-lonely rule (R ``survey.adjust.domain.lonely``) under ``adjust``/``average``.
        Like R, not after weighting adjustments (their rows all stay in every domain)."""
        return (self.adjust_domain_lonely and self.lonely_psu in ("adjust", "average")
                and not self.adjustments and self.pps is None)

    def with_presence(self, presence: np.ndarray) -> TaylorEngine:
        """This engine for cells whose domains have rows in the units flagged by ``presence``
        ((units of :attr:`sum_units`) x K bool)."""
        return TaylorEngine(self.stages, lonely_psu=self.lonely_psu, active=self.active,
                            multistage=self.multistage, adjustments=self.adjustments,
                            adjust_domain_lonely=self.adjust_domain_lonely, presence=presence,
                            pps=self.pps)

    @property
    def units(self) -> Stage:
        """The stage whose units scores are totalled over (the last with a multistage fpc)."""
        return self.stages[-1] if self.multistage else self.stages[0]

    center_sums = True

    def takes_sums(self, *, k: int, n_rows: int, denominator: bool) -> bool:
        """Sums serve without weighting adjustments (their residualisation needs the rows)
        while units x cells stays modest; ratios too (their PSU totals of scores are
        ``(WY - R WX) / sum(w x)``)."""
        return (not self.adjustments
                and self.units.n_psu * k <= MAX_UNIT_CELLS * max(n_rows, 1))

    @property
    def sum_units(self) -> tuple[np.ndarray, int]:
        """Each row's unit code at the finest stage used, and the number of units."""
        return self.units.unit, self.units.n_psu

    def vcov_sums(self, kind: str, sums: CellSums, est: np.ndarray,
                  transform: Transform | None = None) -> np.ndarray:
        """Covariance from per-(PSU, cell) sums: the PSU totals of the linearised scores are
        ``WY`` (totals) or ``(WY - est WX) / sum(WX)`` (ratios, means and shares; ``est``
        on the shifted scale of ``sums``), so no per-row score is formed.  With a ``transform``,
        the covariance of ``f(est)`` by the delta method, ``J V J'``."""
        if kind == "total":
            totals = sums.wy
        else:
            den = sums.den  # sum(w x); sum(w) for means and shares
            totals = (sums.wy - est * sums.wx) / np.where(den == 0, 1.0, den)
        v = taylor_vcov_from_totals(totals, self.stages, lonely_psu=self.lonely_psu,
                                    active=self.active, multistage=self.multistage,
                                    presence=self.presence, pps=self.pps)
        return v if transform is None else transform.delta(v, est + sums.shift)

    def vcov_gram(self, sums: np.ndarray, gram: np.ndarray, *,
                  present: np.ndarray | None = None) -> np.ndarray:
        """Covariance from per-stratum sums (H x K) and Gram matrices (H x K x K) of the unit
        totals of the scores, for a one-stage design whose units are not enumerated (element
        sampling over an engine): ``sum_h c_h (G_h - S_h S_h' / n_h)`` with the fpc,
        certainty and lonely-PSU rules of :meth:`vcov_sums`
        (:func:`~surveylib.variance.taylor.taylor_vcov_gram`).  ``present`` flags the strata
        with rows in the (sub)design (the ``average`` rule)."""
        return taylor_vcov_gram(sums, gram, self.stages[0], lonely_psu=self.lonely_psu,
                                present=present)

    def vcov_scores(self, scores: Scores) -> np.ndarray:
        """Covariance of cells from their weighted linearised scores."""
        if self.adjustments:
            x = scores.dense()
            for adj in self.adjustments:
                x = adj.residualize(x)
            scores = Scores.from_dense(x)
        return taylor_vcov(scores, self.stages, lonely_psu=self.lonely_psu, active=self.active,
                           multistage=self.multistage, presence=self.presence, pps=self.pps)

    def degf(self) -> int:
        """PSUs minus strata among the rows in the design (R ``degf``)."""
        st = self.stages[0]
        if self.active.all():  # every PSU and stratum has rows
            return st.n_psu - st.n_strata
        units = np.bincount(st.unit, weights=self.active, minlength=st.n_psu) > 0
        strata = np.bincount(st.unit_stratum, weights=units, minlength=st.n_strata) > 0
        return int(units.sum() - strata.sum())

    def domain_df(self, valid: np.ndarray, cells: np.ndarray, k: int) -> np.ndarray:
        """R ``degf`` of each cell's domain (PSUs minus strata with rows in the domain)."""
        st = self.stages[0]
        if k == 1 and valid.all():  # one domain with every row: every PSU and stratum
            return np.array([float(st.n_psu - st.n_strata)])
        if k * st.n_psu <= 4 * len(valid):  # presence of (cell, PSU) pairs by counting
            present = np.bincount(cells * st.n_psu + st.unit, weights=valid,
                                  minlength=k * st.n_psu).reshape(k, st.n_psu) > 0
            n_units = present.sum(axis=1)
            by_stratum = np.zeros((k, st.n_strata))
            np.add.at(by_stratum.T, st.unit_stratum, present.T)
            return (n_units - (by_stratum > 0).sum(axis=1)).astype(float)
        c = cells[valid]
        u = st.unit[valid]
        pairs = np.unique(c * st.n_psu + u)
        cell_of_pair = pairs // st.n_psu
        unit_of_pair = pairs % st.n_psu
        n_units = np.bincount(cell_of_pair, minlength=k)
        sp = np.unique(cell_of_pair * st.n_strata + st.unit_stratum[unit_of_pair])
        n_strata = np.bincount(sp // st.n_strata, minlength=k)
        return (n_units - n_strata).astype(float)

    def vcov_cells(self, blocks, kind: str, est: np.ndarray, k: int,
                   scores: Callable[[], Scores], transform: Transform | None = None):
        """Covariance of ratio-of-totals cells computed row by row: from their scores (formed
        by calling ``scores``; with a ``transform``, of ``f(est)`` by the delta method)."""
        v = self.vcov_scores(scores())
        return v if transform is None else transform.delta(v, est)


class ReplicateEngine:
    """Replicate-weight variance (R ``svrVar``): statistics recomputed per replicate.

    ``replicates`` is a :class:`~surveylib.variance.replicate.ReplicateWeights` (factors per
    PSU or analysis-weight columns); ``weights`` the full-sample weights; ``df`` a fixed
    number of degrees of freedom (``None``: the rank of the replicate weights minus one).
    """

    kind = "replicate"
    df_rule = "rank of the replicate weights - 1"
    needs_presence = False  # the domain-lonely rule is Taylor's (R: not for replicate designs)

    def __init__(self, replicates, *, weights: np.ndarray, active: np.ndarray, df=None,
                 type: str = "other"):
        self.replicates = replicates
        self.weights = weights
        self.active = active
        self.df = df
        self.type = type

    @property
    def n_replicates(self) -> int:
        return self.replicates.n_replicates

    def vcov_replicates(self, thetas: np.ndarray, est: np.ndarray) -> np.ndarray:
        """Covariance of statistics from their R x K replicate values (R ``svrVar``)."""
        return self.replicates.vcov(thetas, est)

    def replicate_weight_block(self, rows: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Analysis weights of replicates ``start:stop`` for ``rows`` (len(rows) x block)."""
        reps = self.replicates
        if reps.factors is not None:
            return self.weights[rows, None] * reps.factors[reps.unit[rows], start:stop]
        return reps.columns.take(rows, start, stop)

    def rows_df(self, rows: np.ndarray) -> float:
        """Degrees of freedom of the statistic of a set of rows: the design's fixed ``df``
        or the rank of those rows' replicate weights minus one."""
        if self.df is not None:
            return float(self.df)
        return float(self.replicates.rank(rows & self.active) - 1)

    center_sums = False

    def takes_sums(self, *, k: int, n_rows: int, denominator: bool) -> bool:
        """Sums serve whenever the replicates are factors per PSU."""
        return self.replicates.factors is not None

    @property
    def sum_units(self) -> tuple[np.ndarray, int]:
        """Each row's PSU code and the number of PSUs the replicate factors are given for."""
        return self.replicates.unit, self.replicates.factors.shape[0]

    def vcov_sums(self, kind: str, sums: CellSums, est: np.ndarray,
                  transform: Transform | None = None) -> np.ndarray:
        """Every replicate at once from the per-(PSU, cell) sums and the P x R factors:
        ``theta_r = (F' WY)_r / (F' WX)_r`` (totals: ``(F' WY)_r``); no n x R matrix.
        With a ``transform``, ``f`` is applied to every replicate's cells."""
        a = self.replicates.factors.T
        if kind == "total":
            thetas = a @ sums.wy
        else:
            rden = a @ sums.wx
            with np.errstate(divide="ignore", invalid="ignore"):
                thetas = np.where(rden != 0, (a @ sums.wy) / rden, np.nan)
        return self._vcov_thetas(thetas, est, sums.n > 0, transform)

    def _vcov_thetas(self, thetas, est, used, transform):
        """Replicate covariance of the cells (or of ``f`` of them) that have rows."""
        thetas = np.where(used[None, :], thetas, 0.0)
        est = np.where(used, est, 0.0)
        if transform is not None:
            thetas, est = transform.f(thetas), transform.f(est)
        return self.replicates.vcov(thetas, est)

    def vcov_scores(self, scores: Scores) -> np.ndarray:
        """Replicate covariance of linearised statistics from their weighted scores.

        Each replicate's deviation is ``sum_i (f_ri - 1) z_i`` with ``f_ri`` the replicate
        factor of row i: exact for totals, the usual linearised replicate variance otherwise.
        """
        reps = self.replicates
        full = np.zeros(scores.k)
        for values, cells in scores.blocks:
            full += np.bincount(cells, values, minlength=scores.k)
        if reps.factors is not None:
            t = scores.unit_totals(reps.unit, reps.factors.shape[0])
            thetas = reps.factors.T @ t
        else:  # sum_i z_i (w_ri / w_i): the scores are divided, not the n x R columns
            w = self.weights
            inv = np.divide(1.0, w, out=np.zeros(len(w)), where=w != 0)
            (thetas,) = reps.columns.totals([(None, c, values * inv) for values, c in
                                             scores.blocks], scores.k)
        return reps.vcov(thetas, full)

    def vcov_cells(self, blocks, kind: str, est: np.ndarray, k: int,
                   scores: Callable[[], Scores], transform: Transform | None = None):
        """Replicate covariance of ratio-of-totals cells: each replicate's ratio recomputed
        (and ``f`` applied to it, with a ``transform``); the linearised ``scores`` are not
        needed.

        ``blocks`` holds ``(valid, cells, y, x)`` per block of rows.
        """
        reps = self.replicates
        w = self.weights if reps.factors is not None else None
        if kind == "total":
            (thetas,) = reps.replicate_totals([(v, c, y) for v, c, y, _ in blocks], w, k)
        else:
            num, den = reps.replicate_totals([(v, c, y, x) for v, c, y, x in blocks], w, k,
                                             n_values=2)
            with np.errstate(divide="ignore", invalid="ignore"):
                thetas = np.where(den != 0, num / den, np.nan)
        used = np.zeros(k, dtype=bool)
        for valid, c, _, _ in blocks:
            if k == 1:  # every row's cell is 0
                used[0] |= bool(valid.any())
                continue
            for s in row_chunks(len(valid)):
                used |= np.bincount(c[s], valid[s], minlength=k) > 0
        return self._vcov_thetas(thetas, est, used, transform)

    def degf(self):
        """Rank of the replicate weights of the rows in the design minus one (R ``degf``).

        For factors per PSU this is the rank of the factors of the PSUs with rows (P' x R,
        not n x R), memoised by the set of PSUs.
        """
        if self.df is not None:
            d = float(self.df)
            return int(d) if d.is_integer() else d
        return self.replicates.rank(self.active) - 1

    def domain_df(self, valid: np.ndarray, cells: np.ndarray, k: int) -> np.ndarray:
        """Each cell's R ``degf``: rank of the replicate weights of its rows minus one."""
        reps = self.replicates
        out = np.zeros(k)
        rows = valid & self.active
        if reps.factors is not None:  # the PSUs with rows in each cell, in one pass
            P = reps.factors.shape[0]
            present = np.bincount(cells[rows] * P + reps.unit[rows], minlength=k * P) > 0
            present = present.reshape(k, P)
            for c in np.flatnonzero(present.any(axis=1)):
                out[c] = reps.rank_of_units(present[c]) - 1
            return out
        for c in np.unique(cells[valid]):
            out[c] = reps.rank(rows & (cells == c)) - 1
        return out
