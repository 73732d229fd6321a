"""Replicate-weight survey designs (R ``svrepdesign`` / ``as.svrepdesign``).

A :class:`ReplicateDesign` is a :class:`~surveylib.design.SurveyDesign` whose variances come
from replicate weights instead of Taylor linearisation: every estimator (``mean``, ``total``,
``proportion``, ``ratio``, ``quantile``, ``subset``, ``by=``) is recomputed with each set of
replicate weights and the spread of the replicate estimates gives the covariance::

    V = scale * sum_r rscales_r (theta_r - c)(theta_r - c)'

``c`` is the mean of the replicate estimates (those with ``rscales > 0``) or, with
``mse=True``, the full-sample estimate.  Replicate weights come either from the data
(``ReplicateDesign(df, weights=..., rep_weights="repw*", type=...)``, as agencies publish them)
or from a design (``design.to_replicates("jkn")``, see :func:`to_replicates`).  Conventions
and formulas: ``docs/replicate.md``.
"""

from __future__ import annotations

import fnmatch
import warnings

import numpy as np
import pandas as pd

from . import estimators as _est
from ._validation import (
    as_list,
    as_pandas,
    check_columns,
    check_level,
    check_option,
    check_weights,
    numeric_column,
)
from .design import SurveyDesign
from .errors import AssumptionWarning, ReplicateError, SurveyDesignError, SurveyWarning
from .results import Estimate, critical_value
from .variance import replicate as _rep
from .variance.taylor import Scores

#: R ``svrepdesign`` types (canonical spelling) accepted by :class:`ReplicateDesign`.
REPLICATE_TYPES = ("BRR", "Fay", "JK1", "JKn", "JK2", "bootstrap", "ACS",
                   "successive-difference", "other")
#: methods of :func:`to_replicates`.
REPLICATE_METHODS = ("jk1", "jkn", "brr", "fay", "bootstrap", "subbootstrap")


def _canonical_type(type_) -> str:
    if isinstance(type_, str):
        for t in REPLICATE_TYPES:
            if type_.lower() == t.lower():
                return t
    raise ReplicateError(
        f"type={type_!r} is not a replicate type; choose one of {list(REPLICATE_TYPES)} "
        "(R svrepdesign's types; 'other' with your own scale= and rscales=)."
    )


def _rep_columns(df: pd.DataFrame, rep_weights) -> list:
    if isinstance(rep_weights, str):
        cols = [c for c in df.columns if fnmatch.fnmatchcase(str(c), rep_weights)]
        if not cols:
            raise ReplicateError(
                f"rep_weights={rep_weights!r} matches no column; give a glob such as 'repw*' "
                "or a list of the replicate-weight columns."
            )
        return cols
    cols = as_list(rep_weights)
    if not cols:
        raise ReplicateError("rep_weights= names no columns; give a glob such as 'repw*' or a list.")
    check_columns(df, cols, role="replicate-weight")
    return cols


class ReplicateDesign(SurveyDesign):
    """A survey design whose variances come from replicate weights (R ``svrepdesign``).

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        One row per respondent, with the full-sample weight and the replicate weights. Not
        modified.
    weights : str
        Full-sample weight column (the estimates use it).
    rep_weights : str or list of str
        Replicate-weight columns: a glob (``"repw*"``, ``"wt[0-9]*"``) matched against the
        column names in data order, or an explicit list.  They are *analysis* weights (R's
        ``combined.weights=TRUE``) unless ``combined_weights=False``, when they are factors
        that multiply ``weights``.
    type : str
        One of :data:`REPLICATE_TYPES` (case-insensitive); sets the default ``scale`` and
        ``rscales`` as R ``svrepdesign``: BRR ``1/R``; Fay ``1/(R (1-rho)^2)``; JK1
        ``(R-1)/R`` (guessed, with a warning, when not given); JKn needs ``rscales``;
        bootstrap ``1/(R-1)``; ACS / successive-difference ``4/R``; JK2 ``1``; other ``1``
        (with a warning).  ``rscales`` default to 1.
    scale : float, optional
        Overall multiplier of the variance (> 0).
    rscales : sequence of float, optional
        One multiplier per replicate (>= 0), e.g. ``(n_h - 1)/n_h`` for JKn.
    mse : bool
        Centre the replicates at the full-sample estimate instead of their mean (R ``mse``).
    rho : float, optional
        Fay's coefficient in [0, 1); required for ``type="Fay"``.
    df : float, optional
        Degrees of freedom for intervals; default the rank of the replicate weights minus one
        (R ``degf.svyrep.design``).
    combined_weights : bool
        Whether the replicate columns already include the sampling weight (R default).

    Examples
    --------
    >>> import numpy as np, pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 4.0, 7.0], "w": [1.0, 1.0, 2.0, 2.0]})
    >>> f = 4 / 3 * (1 - np.eye(4))                    # delete-one jackknife, 4 PSUs
    >>> for r in range(4):
    ...     df[f"rw{r + 1}"] = df["w"] * f[:, r]
    >>> from surveylib.replicate import ReplicateDesign
    >>> d = ReplicateDesign(df, weights="w", rep_weights="rw*", type="JK1", scale=3 / 4)
    >>> round(float(d.mean("y").estimate.iloc[0]), 4)
    4.1667
    """

    def _make_engine(self):
        from .variance.engine import ReplicateEngine

        return ReplicateEngine(self._replicates, weights=self._weights, active=self._active,
                               df=self._df_override)

    def __init__(self, data, *, weights, rep_weights, type, scale=None, rscales=None,
                 mse: bool = False, rho=None, df=None, combined_weights: bool = True):
        df_ = as_pandas(data)
        if len(df_) == 0:
            raise SurveyDesignError("the data has no rows.")
        kind = _canonical_type(type)
        if weights is None:
            raise ReplicateError("weights= is required: name the full-sample weight column.")
        check_columns(df_, [weights], role="weights")
        w = numeric_column(df_, weights, role="weights")
        check_weights(w, col=weights)
        cols = _rep_columns(df_, rep_weights)
        if weights in cols:
            raise ReplicateError(
                f"rep_weights matches the full-sample weight column {weights!r}; use a pattern "
                "that selects only the replicate columns."
            )
        mat = np.column_stack([numeric_column(df_, c, role="replicate-weight") for c in cols])
        bad = ~np.isfinite(mat)
        if bad.any():
            which = [cols[j] for j in np.flatnonzero(bad.any(axis=0))]
            raise ReplicateError(
                f"replicate-weight column(s) {which[:10]} have {int(bad.sum())} missing or "
                "infinite value(s); every respondent needs every replicate weight (use 0 for "
                "a respondent dropped from a replicate)."
            )
        if not combined_weights:
            mat = mat * w[:, None]
        n_rep = mat.shape[1]
        scale, rscales = _type_defaults(kind, n_rep, scale, rscales, rho, mat, combined_weights)
        _check_combined(mat, w, combined_weights)
        reps = _rep.ReplicateWeights(scale=scale, rscales=rscales, mse=bool(mse), columns=mat)
        self._init_replicate(df_, w, reps, kind, rho, df, f"weights {weights!r}",
                             f"{n_rep} replicate columns ({cols[0]} ... {cols[-1]})")

    # ----- construction ---------------------------------------------------------------------
    def _init_replicate(self, df, w, reps, kind, rho, df_override, weight_source, source,
                        stages=(), strata_col=None, psu_cols=(), lonely_psu="fail"):
        object.__setattr__(self, "_frozen", False)
        self._data = df.copy(deep=False)
        self._strata_col = strata_col
        self._psu_cols = tuple(psu_cols)
        self._fpc_cols = ()
        self._nest = False
        self._lonely_psu = lonely_psu
        self._stages = stages
        self._multistage = False
        self._weights = w
        self._weight_source = weight_source
        self._active = np.ones(len(df), dtype=bool)
        self._adjustments = ()
        self._replicates = reps
        self._rep_type = kind
        self._rho = rho
        self._rep_source = source
        if df_override is not None and not (float(df_override) > 0):
            raise ReplicateError(f"df={df_override!r} must be a positive number.")
        self._df_override = df_override
        self._degf_cache = {}  # unused: degf() lives in the per-design cache (kept for
        # callers that reset it through _replace)
        self._frozen = True

    @classmethod
    def _from_factors(cls, design: SurveyDesign, factors: np.ndarray, *, kind: str, scale,
                      rscales, mse: bool, rho=None, df=None, source: str = ""):
        """Replicate design from per-PSU factors of ``design``'s first-stage PSUs."""
        st = design._stages[0]
        reps = _rep.ReplicateWeights(scale=float(scale), rscales=np.asarray(rscales, dtype=float),
                                     mse=bool(mse), factors=np.ascontiguousarray(factors),
                                     unit=st.unit)
        new = cls.__new__(cls)
        new._init_replicate(design._data, design._weights, reps, kind, rho, df,
                            design._weight_source, source, stages=design._stages,
                            strata_col=design._strata_col, psu_cols=design._psu_cols,
                            lonely_psu=design._lonely_psu)
        object.__setattr__(new, "_active", design._active.copy())
        # the same data, so the same column codes: share the per-data cache (SurveyDesign._cached)
        if design.__dict__.get("_column_cache") is None:
            object.__setattr__(design, "_column_cache", {})
        object.__setattr__(new, "_column_cache", design.__dict__["_column_cache"])
        return new

    # ----- attributes -------------------------------------------------------------------------
    @property
    def type(self) -> str:
        """Replicate type (R ``svrepdesign`` spelling)."""
        return self._rep_type

    @property
    def scale(self) -> float:
        return self._replicates.scale

    @property
    def rscales(self) -> np.ndarray:
        return self._replicates.rscales.copy()

    @property
    def mse(self) -> bool:
        return self._replicates.mse

    @property
    def n_replicates(self) -> int:
        return self._replicates.n_replicates

    @property
    def n_strata(self):
        return self._stages[0].n_strata if self._stages else None

    @property
    def n_psu(self):
        return self._stages[0].n_psu if self._stages else None

    def replicate_weights(self) -> pd.DataFrame:
        """The n x R analysis replicate weights (zero outside a subset), as R ``weights(d, "analysis")``."""
        a = self._replicates.analysis_weights(self._weights) * self._active[:, None]
        return pd.DataFrame(a, index=self._data.index,
                            columns=[f"rep{r + 1}" for r in range(a.shape[1])])

    def describe(self) -> str:
        parts = [f"{self.n_replicates} replicates ({self._rep_source})",
                 f"scale {self.scale:.6g}"]
        rs = self._replicates.rscales
        if not np.all(rs == 1):
            parts.append("rscales vary")
        if self._rho:
            parts.append(f"rho {self._rho:g}")
        parts.append("centred at the full-sample estimate (mse)" if self.mse
                     else "centred at the replicate mean")
        parts.append(self._weight_source)
        if self._adjustments:
            parts.append("every replicate re-weighted: "
                         + ", ".join(a.describe() for a in self._adjustments))
        if not self._active.all():
            parts.append(f"subset of {int(self._active.sum())} of {len(self._active)} rows")
        return f"Replicate weights ({self._rep_type}); " + "; ".join(parts)

    def __repr__(self) -> str:
        return f"<ReplicateDesign: {len(self)} rows; {self.describe()}>"

    def _replace(self, **changes):
        if "_weights" in changes and "_replicates" not in changes:
            raise ReplicateError(
                "a weighting step on a replicate design must re-weight every replicate: use the "
                "design's methods (d.poststratify, d.rake, d.calibrate, d.trim; see "
                "surveylib.weighting.replicate_weighting), not the Taylor functions of "
                "surveylib.weighting; nonresponse adjustment is not available for replicate "
                "designs (adjust the unweighted design, then make replicates)."
            )
        return super()._replace(**changes)

    # ----- weighting: every replicate re-weighted (R's *.svyrep.design methods) ---------------
    def poststratify(self, by, population) -> ReplicateDesign:
        """Post-stratify the full sample and every replicate (R ``postStratify.svyrep.design``).

        See :func:`surveylib.weighting.replicate_weighting.poststratify`.
        """
        from .weighting import replicate_weighting as _rw

        return _rw.poststratify(self, by, population)

    def rake(self, margins, *, tol: float = 1e-7, max_iter: int = 100, bounds=None,
             on_fail: str = "error") -> ReplicateDesign:
        """Rake the full sample and every replicate (R ``rake`` on a svyrep design).

        See :func:`surveylib.weighting.replicate_weighting.rake`.
        """
        from .weighting import replicate_weighting as _rw

        return _rw.rake(self, margins, tol=tol, max_iter=max_iter, bounds=bounds,
                        on_fail=on_fail)

    def calibrate(self, totals, *, calfun: str = "linear", bounds=None, maxit: int = 50,
                  epsilon: float = 1e-7, intercept: bool = True,
                  on_fail: str = "error") -> ReplicateDesign:
        """Calibrate the full sample and every replicate (R ``calibrate.svyrep.design``).

        See :func:`surveylib.weighting.replicate_weighting.calibrate`.
        """
        from .weighting import replicate_weighting as _rw

        return _rw.calibrate(self, totals, calfun=calfun, bounds=bounds, maxit=maxit,
                             epsilon=epsilon, intercept=intercept, on_fail=on_fail)

    def trim(self, upper=None, lower=None, strict: bool = False, *, recalibrate: bool = False,
             max_iter: int = 50, tol: float = 1e-3) -> ReplicateDesign:
        """Trim the full-sample and every replicate's weights (R ``trimWeights.svyrep.design``).

        See :func:`surveylib.weighting.replicate_weighting.trim`.
        """
        from .weighting import replicate_weighting as _rw

        return _rw.trim(self, upper, lower, strict, recalibrate=recalibrate, max_iter=max_iter,
                        tol=tol)

    # ----- variance ---------------------------------------------------------------------------
    def _cells_by_units(self, cells, kind: str, deff):
        """Estimates, replicate covariance, counts and design effects from PSU totals.

        For replicate factors per PSU (designs from :func:`to_replicates`) the per-(PSU, cell)
        sums of ``w y`` and ``w x`` (P x K, one ``bincount`` each) and the factors give every
        replicate at once, ``theta_r = (A' WY)_r / (A' WX)_r``: no per-row scores and no
        n x R or n x K matrix.  Returns None (the per-row path) for replicate-weight columns.
        """
        reps = self._replicates
        if reps.factors is None:
            return None
        groups = cells.groups
        if any(g[0] == "levels" and g[6] is not None for g in groups):
            return None
        w, g_all, D, k = cells.w, cells.g, cells.D, cells.k
        unit, P = reps.unit, reps.factors.shape[0]
        named = cells.by_key is not None  # a named domain coding: per-design caches apply

        def rows_with_weight():
            return self._cached(("rows with weight", cells.by_key), lambda: (g_all >= 0) & (w != 0))

        WY, WX = np.zeros((P, k)), np.zeros((P, k))
        nobs, wsum = np.zeros(k), np.zeros(k)
        doms = []
        for kind_g, base, L, valid, _, values, x, all_valid in groups:
            width = D * L
            span = slice(base, base + width)
            # every row with weight is valid for this variable: sums do not depend on it
            every = named and (all_valid or np.array_equal(valid, rows_with_weight()))
            if D == 1:  # one domain: the key is the PSU, every row's domain code 0
                dom, key = None, unit
            elif every:  # the rows do not depend on the variable
                dom, key = self._cached(("PSU x domain codes", cells.by_key), lambda: (
                    np.where(rows_with_weight(), g_all, 0),
                    unit * D + np.where(rows_with_weight(), g_all, 0)))
            else:
                dom = np.where(valid, g_all, 0)
                key = unit * D + dom
            wv = w if every else w * valid  # w is 0 wherever a row has no weight or domain
            doms.append((dom, wv))

            def unit_sums(dom=dom, key=key, wv=wv, valid=valid):
                n_dom = ([float(np.count_nonzero(valid))] if dom is None
                         else np.bincount(dom, valid, minlength=D))
                return (np.bincount(key, wv, minlength=P * D).reshape(P, D),
                        np.asarray(n_dom, dtype=np.float64))

            if every:  # weight sums per (PSU, domain) do not depend on the variable
                ww, n_dom = self._cached(("replicate unit sums", cells.by_key), unit_sums)
            else:
                ww, n_dom = unit_sums()
            if kind_g == "levels":
                lev = np.where(valid, values, 0)  # codes are -1 where missing
                WY[:, span] = np.bincount(key * L + lev, wv, minlength=P * width).reshape(P, width)
                WX[:, span] = np.repeat(ww, L, axis=1)
            else:
                WY[:, span] = _product_sums(key, wv, values, P * D).reshape(P, D)
                WX[:, span] = ww if x is None else _product_sums(key, wv, x, P * D).reshape(P, D)
            nobs[span] = np.repeat(n_dom, L)
            wsum[span] = np.repeat(ww.sum(axis=0), L)
        num, den = WY.sum(axis=0), WX.sum(axis=0)
        empty = nobs == 0
        a = reps.factors.T  # R x P
        if kind == "total":
            est = num
            thetas = a @ WY
        else:
            if np.any((den == 0) & ~empty):
                raise SurveyDesignError(
                    "a denominator total is zero in some domain; the ratio is undefined.")
            est = num / np.where(den == 0, 1.0, den)
            rden = a @ WX
            with np.errstate(divide="ignore", invalid="ignore"):
                thetas = np.where(rden != 0, (a @ WY) / rden, np.nan)
        used = ~empty
        thetas = np.where(used[None, :], thetas, 0.0)
        v = reps.vcov(thetas, np.where(used, est, 0.0))
        deffs = _est._Cells._deff(kind, deff, v, self._resid_ss(groups, doms, kind, deff, est,
                                                                num, wsum, D, k),
                                  wsum, den, nobs) if deff is not False else np.full(k, np.nan)
        scores = _LazyScores(k, lambda: _cell_scores(groups, doms, kind, est, den, D))
        return np.where(empty, np.nan, est), v, nobs, deffs, scores

    @staticmethod
    def _resid_ss(groups, doms, kind, deff, est, num, wsum, D, k):
        """Weighted residual sums of squares per cell (for design effects only)."""
        resid = np.zeros(k)
        if deff is False:
            return resid
        safe_w = np.where(wsum == 0, 1.0, wsum)
        ybar = num / safe_w
        for (kind_g, base, L, _valid, _, values, x, *_), (dom, wv) in zip(groups, doms,
                                                                          strict=True):
            span = slice(base, base + D * L)
            if kind_g == "levels":  # an indicator: sum w (I - p)^2 = W p (1 - p) per cell
                resid[span] = num[span] - num[span] ** 2 / safe_w[span]
                continue
            centre = ybar[span] if kind == "total" else est[span]
            e = values - (centre[dom] if D > 1 else centre[0]) * (1.0 if x is None else x)
            we = wv * e
            resid[span] = np.bincount(dom, we * e, minlength=D) if D > 1 else np.dot(we, e)
        return resid

    # ----- estimators -------------------------------------------------------------------------
    def quantile(self, variables, probs=(0.5,), *, by=None, na_rm: bool = False,
                 qrule: str = "math", level: float = 0.95, df=None,
                 interval_type: str = "mean"):
        """Quantiles with replicate-based intervals (R ``svyquantile.svyrep.design``).

        Parameters
        ----------
        interval_type : {"mean", "quantile"}
            ``"mean"`` (R's default): Woodruff interval from the replicate SE of the CDF at the
            estimate (see :func:`surveylib.estimators.quantile`).  ``"quantile"``: the quantile
            is recomputed with every replicate's weights and ``se`` is their replicate
            standard deviation, the interval ``q +/- t se`` (R ``interval.type="quantile"``);
            jackknife replicates do not give valid SEs for quantiles (a warning, as R).

        Notes
        -----
        Degrees of freedom: each domain's rank of replicate weights minus one, as R
        ``svyby(..., svyquantile)``; ``df=`` overrides.
        """
        if interval_type == "mean":
            return _est.quantile(self, variables, probs, by=by, na_rm=na_rm, qrule=qrule,
                                 level=level, df=df)
        if interval_type != "quantile":
            raise SurveyDesignError(
                f"interval_type={interval_type!r} must be 'mean' (Woodruff) or 'quantile'."
            )
        return _replicate_quantile(self, variables, probs, by=by, na_rm=na_rm, qrule=qrule,
                                   level=level, df=df)


def _product_sums(key: np.ndarray, a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """``bincount(key, a * b)`` by blocks of rows, so no n-vector of products is formed."""
    out = np.zeros(size)
    for i in range(0, len(key), _rep._ROW_BLOCK):
        j = i + _rep._ROW_BLOCK
        out += np.bincount(key[i:j], a[i:j] * b[i:j], minlength=size)
    return out


class _LazyScores:
    """Linearised scores (:class:`~surveylib.variance.taylor.Scores`) built on first use.

    The per-PSU path never needs per-row scores; a caller that asks for them gets the same
    blocks as the per-row path.
    """

    dense = Scores.dense
    unit_totals = Scores.unit_totals

    def __init__(self, k: int, build):
        self.k = k
        self._build = build
        self._blocks = None

    @property
    def blocks(self) -> tuple:
        if self._blocks is None:
            self._blocks = self._build()
        return self._blocks


def _cell_scores(groups, doms, kind, est, den, D) -> tuple:
    """Per-row scores of every cell: ``w y`` (totals) or ``w (y - theta x) / sum(w x)``."""
    safe_den = np.where(den == 0, 1.0, den)
    out = []
    for (kind_g, base, L, _valid, _, values, x, *_), (dom, wv) in zip(groups, doms, strict=True):
        dom = np.zeros(len(wv), dtype=np.int64) if dom is None else dom
        if kind_g == "levels":
            ys = [(values == j).astype(np.float64) for j in range(L)]
            cells = [base + dom * L + j for j in range(L)]
        else:
            ys, cells = [values], [base + dom]
        for y, c in zip(ys, cells, strict=True):
            if kind == "total":
                out.append((wv * y, c))
            else:
                e = y - (est[c] if x is None else est[c] * x)
                out.append((wv * e / safe_den[c], c))
    return tuple(out)


def _type_defaults(kind, n_rep, scale, rscales, rho, mat, combined):
    """Default scale and rscales of each R svrepdesign type, with R's warnings."""
    if rscales is not None:
        rscales = np.atleast_1d(np.asarray(rscales, dtype=float))
        if len(rscales) == 1:
            rscales = np.repeat(rscales, n_rep)
        if len(rscales) != n_rep:
            raise ReplicateError(
                f"rscales has {len(rscales)} value(s) but there are {n_rep} replicate-weight "
                "columns; give one rscale per replicate (or a single value)."
            )
        if not np.all(np.isfinite(rscales)) or (rscales < 0).any():
            raise ReplicateError("rscales must be finite and >= 0.")
    if scale is not None:
        scale = float(scale)
        if not np.isfinite(scale) or scale <= 0:
            raise ReplicateError(f"scale={scale!r} must be a positive number.")
    if kind == "Fay":
        if rho is None:
            raise ReplicateError("type='Fay' needs rho= (Fay's coefficient, e.g. 0.5).")
    if rho is not None:
        rho = float(rho)
        if not (0 <= rho < 1):
            raise ReplicateError(f"rho={rho!r} must lie in [0, 1).")
        if kind != "Fay":
            warnings.warn(f"rho= is not used by type={kind!r} and is ignored"
                          + ("; you may want type='Fay'." if kind == "BRR" else "."),
                          AssumptionWarning, stacklevel=4)
    if kind in ("ACS", "successive-difference", "JK2") and (scale is not None or rscales is not None):
        warnings.warn(f"type={kind!r} fixes scale and rscales; the values given are ignored.",
                      AssumptionWarning, stacklevel=4)
        scale, rscales = None, None
    if kind == "BRR":
        if scale is not None:
            warnings.warn("type='BRR' fixes scale = 1/R; the scale given is ignored.",
                          AssumptionWarning, stacklevel=4)
        scale = 1.0 / n_rep
    elif kind == "Fay":
        scale = 1.0 / (n_rep * (1 - rho) ** 2)
    elif kind == "bootstrap":
        if scale is None:
            if n_rep < 2:
                raise ReplicateError("a bootstrap needs at least 2 replicates.")
            scale = 1.0 / (n_rep - 1)
    elif kind == "JK1" and scale is None:
        if combined:
            scale = (n_rep - 1) / n_rep
            warnings.warn(f"JK1 scale (n-1)/n not given: taking n = {n_rep} replicates, scale "
                          f"{scale:.6g} (R's guess); pass scale= to be explicit.",
                          AssumptionWarning, stacklevel=4)
        else:
            scale = 1.0 / float(np.max(mat[:, 0]))
            warnings.warn("JK1 scale not given: guessed from the largest factor of the first "
                          "replicate, as R.", AssumptionWarning, stacklevel=4)
    elif kind == "JKn" and rscales is None:
        if combined:
            raise ReplicateError(
                "type='JKn' with combined replicate weights needs rscales= ((n_h-1)/n_h for the "
                "stratum of each replicate)."
            )
        rscales = 1.0 / np.max(mat, axis=0)
        warnings.warn("JKn rscales not given: guessed from each replicate's largest factor, as R.",
                      AssumptionWarning, stacklevel=4)
    elif kind in ("ACS", "successive-difference"):
        scale, rscales = 4.0 / n_rep, np.ones(n_rep)
    elif kind == "JK2":
        scale, rscales = 1.0, np.ones(n_rep)
    elif kind == "other" and (scale is None or rscales is None):
        warnings.warn("type='other' without scale= or rscales=: the missing one is set to 1.",
                      AssumptionWarning, stacklevel=4)
    if rscales is None:
        rscales = np.ones(n_rep)
    if scale is None:
        scale = 1.0
    return float(scale), rscales


def _check_combined(mat, w, combined):
    rep_mean = float(mat.mean()) if combined else float((mat / w[:, None]).mean())
    w_mean = float(w.mean())
    if combined and rep_mean < 5 and w_mean / rep_mean > 5:
        warnings.warn(
            f"the replicate columns do not look like analysis weights (mean {rep_mean:.3g} vs "
            f"mean full-sample weight {w_mean:.3g}); if they are factors, pass "
            "combined_weights=False.",
            SurveyWarning,
            stacklevel=4,
        )


# ----- conversion of a design ------------------------------------------------------------------
def to_replicates(design: SurveyDesign, method: str, replicates: int | None = None, seed=None,
                  rho: float | None = None, *, mse: bool = False) -> ReplicateDesign:
    """Replicate-weight version of a design (R ``as.svrepdesign``).

    Parameters
    ----------
    design : SurveyDesign
        A Taylor design; its first-stage strata and PSUs define the replicates.
    method : {"jk1", "jkn", "brr", "fay", "bootstrap", "subbootstrap"}
        * ``"jk1"``: delete-one-PSU jackknife of an unstratified design (R ``JK1``);
          ``scale = f (P-1)/P`` with ``f = 1 - P/N`` from the design's fpc (1 without).
        * ``"jkn"``: stratified delete-one jackknife (R ``JKn``); ``rscales = f_h (n_h-1)/n_h``;
          strata with one PSU follow the design's ``lonely_psu`` as R ``jknweights``.
        * ``"brr"`` / ``"fay"``: balanced repeated replication from R's Hadamard matrix, every
          stratum with exactly two PSUs; Fay's factors ``2 - rho`` / ``rho``;
          ``scale = 1/(R (1-rho)^2)``.  The fpc is dropped (a warning, as R).
        * ``"bootstrap"``: R ``bootweights`` — ``n_h`` PSUs drawn with replacement in each
          stratum (without replacement from a replicated population when the design has an
          fpc), ``scale = nbar/((nbar-1)(R-1))`` with ``nbar`` the harmonic mean of ``n_h``.
        * ``"subbootstrap"``: Rao–Wu rescaling bootstrap, ``n_h - 1`` draws rescaled by
          ``n_h/(n_h-1)``, ``scale = 1/(R-1)`` (R ``subbootweights``).
    replicates : int, optional
        Number of bootstrap replicates (default 50, as R); not used by the other methods.
    seed : int or numpy.random.Generator, optional
        Randomness of the bootstrap methods.
    rho : float, optional
        Fay's coefficient in (0, 1) for ``method="fay"``.
    mse : bool
        Centre replicate deviations at the full-sample estimate.

    Returns
    -------
    ReplicateDesign
        With the same data, weights and subset; its replicate factors are stored per PSU.

    Notes
    -----
    Deterministic methods give the replicate weights of R ``as.svrepdesign`` with the same
    replicate order (PSUs and strata by first appearance; BRR strata by label).

    A design whose weights were post-stratified, raked or calibrated gets replicates of its
    unadjusted weights with the steps re-applied to every replicate, in order (the same as
    R's ``calibrate(as.svrepdesign(d), ...)``; R's ``as.svrepdesign`` of a calibrated design
    keeps the replicates unadjusted and overstates the variance).  Trimming and nonresponse
    records cannot be re-applied: convert first, then weight.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2], "psu": [1, 1, 2, 2, 3, 4],
    ...                    "y": [1.0, 2.0, 3.0, 5.0, 4.0, 6.0], "w": [2.0] * 6})
    >>> d = sl.SurveyDesign(df, strata="h", psu="psu", weights="w")
    >>> rep = d.to_replicates("brr")
    >>> rep.n_replicates, round(float(rep.mean("y").se.iloc[0]), 6)  # R: 0.8975274678
    (4, 0.897527)
    """
    if isinstance(design, ReplicateDesign):
        raise ReplicateError("the design already has replicate weights.")
    if not isinstance(design, SurveyDesign):
        raise ReplicateError(f"to_replicates() needs a SurveyDesign, got {type(design).__name__}.")
    if not isinstance(method, str) or method.lower() not in REPLICATE_METHODS:
        raise ReplicateError(f"method={method!r} is not one of {list(REPLICATE_METHODS)}.")
    method = method.lower()
    if design._adjustments:
        # R's as.svrepdesign() builds replicates around adjusted weights without re-weighting
        # them; here the recorded steps are re-applied to every replicate instead.
        from .weighting.replicate_weighting import reapply, unwind

        base, plan = unwind(design)
        rep = to_replicates(base, method, replicates, seed, rho, mse=mse)
        return reapply(rep, plan, design._active)
    if method in ("bootstrap", "subbootstrap"):
        replicates = 50 if replicates is None else replicates
        if not isinstance(replicates, (int, np.integer)) or replicates < 2:
            raise ReplicateError(f"replicates={replicates!r} must be an integer >= 2.")
    elif replicates is not None:
        raise ReplicateError(f"replicates= is only used by the bootstrap methods, not {method!r}.")
    if method == "fay":
        if rho is None or not (0 < float(rho) < 1):
            raise ReplicateError(f"method='fay' needs rho in (0, 1), got rho={rho!r}.")
        rho = float(rho)
    elif rho is not None:
        raise ReplicateError(f"rho= is only used by method='fay', not {method!r}.")
    st = design._stages[0]
    stratified = design._strata_col is not None
    has_fpc = bool(np.isfinite(st.popsize).any())
    if len(design._fpc_cols) > 1 and method in ("jk1", "jkn", "bootstrap"):
        warnings.warn("finite population corrections after the first stage are dropped "
                      "(replicates resample PSUs only), as R.", AssumptionWarning, stacklevel=3)
    psu_first = design._cached(("PSU first appearance",),
                               lambda: _rep.first_appearance(st.unit, st.n_psu))
    psu_order = np.argsort(psu_first, kind="stable")
    stratum_first = np.full(st.n_strata, len(st.unit), dtype=np.int64)  # first row of a stratum
    np.minimum.at(stratum_first, st.unit_stratum, psu_first)  # is its first PSU's first row
    stratum_order = np.argsort(stratum_first, kind="stable")
    frac = st.fraction_complement
    kind, rscales, scale = None, None, None
    if method == "jk1":
        if stratified:
            raise ReplicateError(
                f"method='jk1' is for unstratified designs; this one is stratified by "
                f"{design._strata_col!r}. Use method='jkn'."
            )
        factors = _rep.jk1_factors(st.n_psu, psu_order)
        scale = float(frac[0]) * (st.n_psu - 1) / st.n_psu
        rscales = np.ones(st.n_psu)
        kind = "JK1"
    elif method == "jkn":
        if not stratified:
            raise ReplicateError("method='jkn' needs a stratified design; use method='jk1' or "
                                 "'bootstrap' for an unstratified one.")
        factors, rscales, scale = _rep.jkn_factors(
            st.unit_stratum, st.n_units, frac, psu_order, stratum_order, design._lonely_psu,
            st.stratum_labels)
        kind = "JKn"
    elif method in ("brr", "fay"):
        if not stratified:
            raise ReplicateError(f"method={method!r} needs a stratified design with 2 PSUs per "
                                 "stratum; use method='jk1' or 'bootstrap'.")
        if has_fpc:
            warnings.warn("the finite population correction is dropped for BRR/Fay replicates, "
                          "as R.", AssumptionWarning, stacklevel=3)
        r_ = 0.0 if method == "brr" else rho
        factors = _rep.brr_factors(st.unit_stratum, st.n_units, psu_order, st.stratum_labels, r_)
        n_rep = factors.shape[1]
        scale = 1.0 / (n_rep * (1 - r_) ** 2)
        rscales = np.ones(n_rep)
        kind = "BRR" if method == "brr" else "Fay"
    else:
        rng = np.random.default_rng(seed)
        sub = method == "subbootstrap"
        if sub:
            lone = np.flatnonzero(st.n_units < 2)
            if len(lone):
                raise ReplicateError(
                    f"method='subbootstrap' needs 2 or more PSUs per stratum; strata "
                    f"{list(st.stratum_labels[lone][:10])} have one. Merge them or use 'bootstrap'."
                )
            if has_fpc:
                warnings.warn("the subbootstrap ignores the finite population correction, as R.",
                              AssumptionWarning, stacklevel=3)
        factors = _rep.bootstrap_factors(st.unit_stratum, st.n_units, st.popsize, replicates,
                                         rng, sub=sub)
        scale = _bootstrap_scale(st.n_units, replicates, sub=sub)
        rscales = np.ones(replicates)
        kind = "bootstrap"
    source = f"{method} from {st.n_psu} PSUs" + (f" in {st.n_strata} strata" if stratified else "")
    return ReplicateDesign._from_factors(design, factors, kind=kind, scale=scale,
                                         rscales=rscales, mse=mse, rho=rho, source=source)


def _bootstrap_scale(n_units: np.ndarray, replicates: int, *, sub: bool) -> float:
    """Variance scale of R ``subbootweights`` (``1/(R-1)``) or ``bootweights``
    (``nbar/((nbar-1)(R-1))``, ``nbar`` the harmonic mean of the PSUs per stratum)."""
    if sub:
        return 1.0 / (replicates - 1)
    nbar = 1.0 / np.mean(1.0 / n_units)
    if nbar <= 1:
        raise ReplicateError("the bootstrap needs strata with 2 or more PSUs.")
    return float(nbar / ((nbar - 1) * (replicates - 1)))


# ----- replicate quantiles (interval_type="quantile") -------------------------------------------
def _rep_quantile_one(xs, wmat, p, qrule):
    """Quantile of sorted ``xs`` under every column of weights ``wmat`` (m x R), R ``qs``."""
    m, r = wmat.shape
    cum = np.cumsum(wmat.astype(np.longdouble), axis=0).astype(np.float64)
    tot = cum[-1]
    target = p * tot
    pos_any = (cum <= target[None, :]).sum(axis=0) - 1  # last row with cum <= target
    idx = np.arange(m)[:, None]
    nz = wmat != 0
    last_nz = np.maximum.accumulate(np.where(nz, idx, -1), axis=0)
    next_nz = np.flip(np.minimum.accumulate(np.flip(np.where(nz, idx, m), axis=0), axis=0), axis=0)
    first_nz = next_nz[0]
    cols = np.arange(r)
    pos = np.where(pos_any >= 0, last_nz[np.maximum(pos_any, 0), cols], -1)
    pos = np.where(pos < 0, first_nz, pos)  # R's `last` with no hit: the first observation
    after = np.where(pos + 1 < m, next_nz[np.minimum(pos + 1, m - 1), cols], m)
    nxt = np.where(after >= m, pos, after)
    exact = p - cum[pos, cols] / tot == 0
    qlow, qup = xs[pos], xs[nxt]
    return np.where(exact, qlow if qrule == "math" else (qlow + qup) / 2, qup)


def _replicate_quantile(design, variables, probs, *, by, na_rm, qrule, level, df):
    check_option(qrule, _est.QRULES, name="qrule")
    check_level(level)
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    if ((probs <= 0) | (probs >= 1)).any():
        raise SurveyDesignError(f"probs={probs.tolist()} must lie strictly between 0 and 1.")
    if design.type in ("JK1", "JKn"):
        warnings.warn("jackknife replicate weights may not give valid standard errors for "
                      "quantiles (R warns too); consider interval_type='mean'.",
                      SurveyWarning, stacklevel=3)
    g, dkeys, by_cols = _est._domains(design, by)
    D, P = len(dkeys), len(probs)
    w_all = design._estimation_weights()
    reps = design._replicates
    keys, values, ses, nobs, dfs = [], [], [], [], []
    chunk = max(1, int(2e7 // max(1, len(w_all))))
    for var, (y, ok) in _est._numeric_columns(design, variables, na_rm).items():
        valid = ok & (g >= 0) & (w_all > 0)
        for d in range(D):
            rows = np.flatnonzero(valid & (g == d))
            if len(rows) == 0:
                raise SurveyDesignError(f"variable {var!r} has no values in some domain of {by_cols}.")
            rows = rows[np.argsort(y[rows], kind="stable")]
            xs = y[rows]
            q_full = _est._weighted_quantiles(xs, w_all[rows], np.zeros(len(rows), dtype=np.int64),
                                              1, probs, qrule)[0]
            thetas = np.empty((reps.n_replicates, P))
            for start in range(0, reps.n_replicates, chunk):  # chunks of replicates bound memory
                stop = min(start + chunk, reps.n_replicates)
                wm = _chunk_weights(reps, design._weights, rows, start, stop)
                for j, p in enumerate(probs):
                    thetas[start:stop, j] = _rep_quantile_one(xs, wm, p, qrule)
            v = reps.vcov(thetas, q_full)
            mask = np.zeros(len(valid), dtype=bool)
            mask[rows] = True
            cell_df = (reps.rank(mask & design._active) - 1) if df is None else float(df)
            if design._df_override is not None and df is None:
                cell_df = float(design._df_override)
            for j, p in enumerate(probs):
                keys.append((d, var, float(p)))
                values.append(q_full[j])
                ses.append(np.sqrt(max(v[j, j], 0.0)))
                nobs.append(len(rows))
                dfs.append(cell_df)
    values, ses, dfs = np.array(values), np.array(ses), np.array(dfs, dtype=float)
    order = np.argsort([k[0] for k in keys], kind="stable")  # (domain, variable, prob)
    keys = [keys[i] for i in order]
    values, ses, dfs = values[order], ses[order], dfs[order]
    nobs = np.array(nobs, dtype=float)[order]

    def bounds(lvl, dfs_use):
        half = critical_value(lvl, dfs_use) * ses
        return values - half, values + half

    return Estimate(
        statistic="quantile",
        keys=_est._key_frame(keys, dkeys, by_cols),
        values=values,
        vcov_matrix=np.diag(ses**2),
        n=nobs,
        deff_values=np.full(len(values), np.nan),
        dfs=dfs,
        by=tuple(by_cols),
        inference=_est._footer(design, "wald") + f"; replicate quantiles, qrule={qrule!r}",
        interval=bounds,
    )


def _chunk_weights(reps, w, rows, start, stop):
    if reps.factors is not None:
        return w[rows, None] * reps.factors[reps.unit[rows], start:stop]
    return reps.columns[rows, start:stop]
