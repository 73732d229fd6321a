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
from typing import NoReturn

import numpy as np
import pandas as pd

from ._validation import (
    as_list,
    check_columns,
    check_option,
    check_positive,
    invalid_argument,
    numeric_column,
    renamed_keywords,
)
from .design import SurveyDesign
from .errors import AssumptionWarning, ReplicateError, SurveyWarning
from .variance import replicate as _rep
from .variance.stored import StoredColumns

#: R ``svrepdesign`` types (canonical spelling) accepted by :class:`ReplicateDesign`.
REPLICATE_TYPES = ("BRR", "Fay", "JK1", "JKn", "JK2", "bootstrap", "subbootstrap", "ACS",
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

    #: attributes a replicate design adds to a design's state
    _REPLICATE_STATE = ("_replicates", "_rep_type", "_rho", "_rep_source", "_df_override")
    _replicates: _rep.ReplicateWeights
    _rep_type: str
    _rho: float | None
    _rep_source: str

    def __init__(self, data, *, weights, rep_weights, type, scale=None, rscales=None,
                 mse: bool = False, rho=None, df=None, combined_weights: bool = True):
        kind = _canonical_type(type)
        if weights is None:
            raise ReplicateError("weights= is required: name the full-sample weight column.",
                                 parameter="weights", value=None)
        super().__init__(data, weights=weights)  # validates the data and full-sample weights
        frame = self._data
        w = self._weights
        cols = _rep_columns(frame, rep_weights)
        if weights in cols:
            raise ReplicateError(
                f"rep_weights matches the full-sample weight column {weights!r}; use a pattern "
                "that selects only the replicate columns.", parameter="rep_weights",
                value=rep_weights)
        # the frame's own columns, read in place (float64 columns are views, not copies)
        store = StoredColumns([numeric_column(frame, c, role="replicate-weight") for c in cols],
                              factor=None if combined_weights else w, names=cols)
        lo, col_sums = store.scan()  # one pass: validation and the mean weight
        _check_stored(store, lo, col_sums)
        n_rep = store.shape[1]
        scale, rscales = _type_defaults(kind, n_rep, scale, rscales, rho, store, combined_weights)
        _check_combined(float(col_sums.sum()) / max(store.shape[0] * n_rep, 1), w,
                        combined_weights)
        if kind == "Fay":
            _check_fay_rho(store, w, float(rho))
        reps = _rep.ReplicateWeights(scale=scale, rscales=rscales, mse=bool(mse),
                                     columns=store)
        self._set_replication(reps, kind, rho, df,
                              f"{n_rep} replicate columns ({cols[0]} ... {cols[-1]})")

    def _set_replication(self, reps, kind, rho, df, source) -> None:
        """Attach replicate weights to a design being constructed."""
        if df is not None:
            check_positive(df, name="df", hint="or leave df=None for the rank of the "
                                               "replicate weights minus one")
        for name, value in zip(self._REPLICATE_STATE, (reps, kind, rho, source, df), strict=True):
            object.__setattr__(self, name, value)
        self.__dict__.pop("_design_cache", None)

    @classmethod
    def from_design(cls, design: SurveyDesign, replicates, *, type: str, rho=None, df=None,
                    source: str = "") -> ReplicateDesign:
        """A replicate design over ``design``'s data, weights, strata, PSUs and subset.

        ``replicates`` is a :class:`~surveylib.variance.replicate.ReplicateWeights` (e.g.
        factors per first-stage PSU from :func:`to_replicates`).  The design's validated
        state is taken over as it is (its column codes are shared); only the variance engine
        changes.  Weighting records are not carried: replicate designs re-weight every
        replicate (see :func:`to_replicates`).
        """
        new = cls.__new__(cls)
        new.__dict__.update({k: v for k, v in design.__dict__.items() if k != "_design_cache"})
        object.__setattr__(new, "_adjustments", ())
        cls._set_replication(new, replicates, _canonical_type(type), rho, df, source)
        return new

    def full_sample(self) -> SurveyDesign:
        """This design without its replicates: a Taylor-linearisation design over the same
        data, full-sample weights, strata, PSUs, subset and weighting record."""
        new = SurveyDesign.__new__(SurveyDesign)
        new.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in self._REPLICATE_STATE and k != "_design_cache"})
        return new

    def with_replicate_weights(self, weights, adjustments: tuple, replicates) -> ReplicateDesign:
        """A copy with new full-sample weights, weighting record and replicate weights (the
        result of a weighting step applied to the full sample and every replicate)."""
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != self._weights.shape:
            raise ReplicateError(
                f"new weights have shape {w.shape}, the design has {self._weights.shape[0]} rows.",
                parameter="weights", value=w.shape, expected=self._weights.shape)
        return self._replace(_weights=w, _adjustments=tuple(adjustments),
                            _replicates=replicates)

    @property
    def replicates(self) -> _rep.ReplicateWeights:
        """The replicate weights (:class:`~surveylib.variance.replicate.ReplicateWeights`)."""
        return self._replicates

    @property
    def rho(self) -> float | None:
        """Fay's coefficient, or ``None``."""
        return self._rho

    def _make_engine(self):
        from .variance.engine import ReplicateEngine

        return ReplicateEngine(self._replicates, weights=self._weights, active=self._active,
                               df=self._df_override, type=self._rep_type)

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
    def n_strata(self) -> int | None:  # type: ignore[override]  # None: columns carry no design
        """First-stage strata of the design the replicates were made from (``None`` for
        replicate-weight columns read from data, which carry no design)."""
        return None if self._replicates.factors is None else self._stages[0].n_strata

    @property
    def n_psu(self) -> int | None:  # type: ignore[override]  # likewise
        """First-stage PSUs (``None`` for replicate-weight columns read from data)."""
        return None if self._replicates.factors is None else self._stages[0].n_psu

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

    def with_weights(self, weights, adjustment=None) -> NoReturn:
        """Refused: a weighting step on a replicate design must re-weight every replicate
        (:meth:`with_replicate_weights`); see the design's weighting methods."""
        raise ReplicateError(
            "a weighting step on a replicate design must re-weight every replicate: use the "
            "design's methods (d.poststratify, d.rake, d.calibrate, d.trim; see "
            "surveylib.weighting.replicate_weighting), not the Taylor functions of "
            "surveylib.weighting; nonresponse adjustment is not available for replicate "
            "designs (adjust the unweighted design, then make replicates).",
            hint="d.rake(...) / d.calibrate(...) on the replicate design")

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

    @renamed_keywords(since="0.2.0", removed="0.3.0", maxit="max_iter", epsilon="tol")
    def calibrate(self, totals, *, calfun: str = "linear", bounds=None, max_iter: int = 50,
                  tol: float = 1e-7, intercept: bool = True,
                  on_fail: str = "error") -> ReplicateDesign:
        """Calibrate the full sample and every replicate (R ``calibrate.svyrep.design``).

        See :func:`surveylib.weighting.replicate_weighting.calibrate`.
        """
        from .weighting import replicate_weighting as _rw

        return _rw.calibrate(self, totals, calfun=calfun, bounds=bounds, max_iter=max_iter,
                             tol=tol, intercept=intercept, on_fail=on_fail)

    def trim(self, upper=None, lower=None, strict: bool = False, *, recalibrate: bool = False,
             max_iter: int = 50, tol: float = 1e-3) -> ReplicateDesign:
        """Trim the full-sample and every replicate's weights (R ``trimWeights.svyrep.design``).

        See :func:`surveylib.weighting.replicate_weighting.trim`.
        """
        from .weighting import replicate_weighting as _rw

        return _rw.trim(self, upper, lower, strict, recalibrate=recalibrate, max_iter=max_iter,
                        tol=tol)


def _check_stored(store: StoredColumns, lo: np.ndarray, sums: np.ndarray) -> None:
    """Every replicate weight finite (an error names the columns that are not); negative ones
    are accepted with a warning naming them, as R's ``svrepdesign`` accepts them (linear
    calibration of the replicates can give them).

    ``lo``/``sums`` are the columns' minima and sums (:meth:`StoredColumns.scan`), so a clean
    design needs no temporary; a bad column is counted on its own."""
    bad = store.bad_columns(lo, sums)
    missing = [(j, c) for j, c, p in bad if p != "negative"]
    if missing:
        which = [store.names[j] for j, _ in missing]
        fix = ("every respondent needs every replicate weight (use 0 for a respondent dropped "
               "from a replicate)")
        raise ReplicateError(
            f"replicate-weight column(s) {which[:10]} have {sum(c for _, c in missing)} missing "
            f"or infinite value(s); {fix}.",
            parameter="rep_weights", value=which[:10], expected="finite numbers", hint=fix)
    negative = [(j, c) for j, c, p in bad if p == "negative"]
    if negative:
        which = [store.names[j] for j, _ in negative]
        warnings.warn(
            f"replicate-weight column(s) {which[:10]} have {sum(c for _, c in negative)} negative "
            "value(s); accepted as R's svrepdesign accepts them (e.g. after linear calibration), "
            "but check the file if no such weighting was done.", SurveyWarning, stacklevel=4)


def _type_defaults(kind, n_rep, scale, rscales, rho, store, combined):
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
            raise invalid_argument("scale", scale, "a number > 0",
                                   "the variance multiplier, e.g. scale=1/R")
    if kind == "Fay":
        if rho is None:
            raise ReplicateError("type='Fay' needs rho= (Fay's coefficient, e.g. 0.5).")
    if rho is not None:
        rho = float(rho)
        if not (0 <= rho < 1):
            raise invalid_argument("rho", rho, "a number in [0, 1)", "e.g. rho=0.5")
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
    elif kind in ("bootstrap", "subbootstrap"):
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
            # R: 1 / max(repweights[, 1]) of the factors as given, not times the weights
            scale = 1.0 / float(store.arrays[0].max())  # the column as stored: no copy
            warnings.warn("JK1 scale not given: guessed from the largest factor of the first "
                          "replicate, as R.", AssumptionWarning, stacklevel=4)
    elif kind == "JKn" and rscales is None:
        if combined:
            raise ReplicateError(
                "type='JKn' with combined replicate weights needs rscales= ((n_h-1)/n_h for the "
                "stratum of each replicate)."
            )
        # R: 1 / apply(repweights, 2, max) of the factors as given, not times the weights
        rscales = 1.0 / np.array([c.max() for c in store.arrays])  # each column in place
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


def _check_combined(rep_mean: float, w, combined):
    """Warn when combined replicate weights look like factors (their mean far below w's)."""
    if not combined:
        return
    w_mean = float(w.mean())
    if rep_mean < 5 and w_mean / rep_mean > 5:
        warnings.warn(
            f"the replicate columns do not look like analysis weights (mean {rep_mean:.3g} vs "
            f"mean full-sample weight {w_mean:.3g}); if they are factors, pass "
            "combined_weights=False.",
            SurveyWarning,
            stacklevel=4,
        )


def _check_fay_rho(store, w, rho, rows: int = 10000) -> None:
    """Fay's replicate weights are the full weight times ``rho`` or ``2 - rho``; where the
    weights show that structure, the ``rho`` they imply must be the one declared."""
    sub_w = w[:rows]
    ok = sub_w > 0
    if not ok.any():
        return
    ratios = store.rows(0, len(sub_w))[ok] / sub_w[ok, None]
    lo, hi = float(ratios.min()), float(ratios.max())
    if abs(lo + hi - 2) > 1e-6 or not np.all(np.minimum(abs(ratios - lo), abs(ratios - hi))
                                              <= 1e-6 * max(hi, 1)):
        return  # not plain Fay factors (e.g. calibrated replicates): nothing to check
    if abs(lo - rho) > 1e-6:
        raise ReplicateError(
            f"type='Fay' with rho={rho:g}, but the replicate weights are the full weight times "
            f"{lo:.6g} or {hi:.6g}, i.e. rho={lo:.6g}; declare rho={lo:.6g}.",
            parameter="rho", value=rho, expected=round(lo, 6), hint=f"rho={lo:.6g}")


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
        check_option(method.lower() if isinstance(method, str) else method, REPLICATE_METHODS,
                     name="method")
    method = method.lower()
    if design.adjustments:
        # R's as.svrepdesign() builds replicates around adjusted weights without re-weighting
        # them; here the recorded steps are re-applied to every replicate instead.
        from .weighting.replicate_weighting import reapply, unwind

        base, plan = unwind(design)
        rep = to_replicates(base, method, replicates, seed, rho, mse=mse)
        return reapply(rep, plan, design.active)
    if method in ("bootstrap", "subbootstrap"):
        replicates = 50 if replicates is None else replicates
        if not isinstance(replicates, (int, np.integer)) or replicates < 2:
            raise invalid_argument("replicates", replicates, "an integer >= 2",
                                   "e.g. replicates=500")
    elif replicates is not None:
        raise ReplicateError(f"replicates= is only used by the bootstrap methods, not {method!r}.")
    if method == "fay":
        if rho is None or not (0 < float(rho) < 1):
            raise ReplicateError(f"method='fay' needs rho in (0, 1), got rho={rho!r}.")
        rho = float(rho)
    elif rho is not None:
        raise ReplicateError(f"rho= is only used by method='fay', not {method!r}.")
    st = design.stages[0]
    stratified = design.strata_column is not None
    has_fpc = bool(np.isfinite(st.popsize).any())
    if len(design.fpc_columns) > 1 and method in ("jk1", "jkn", "bootstrap"):
        warnings.warn("finite population corrections after the first stage are dropped "
                      "(replicates resample PSUs only), as R.", AssumptionWarning, stacklevel=3)
    psu_first = design.memo(("replicate", "PSU first appearance"),
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
                f"{design.strata_column!r}. Use method='jkn'."
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
            st.unit_stratum, st.n_units, frac, psu_order, stratum_order, design.lonely_psu,
            st.stratum_labels)
        kind = "JKn"
    elif method in ("brr", "fay"):
        if not stratified:
            raise ReplicateError(f"method={method!r} needs a stratified design with 2 PSUs per "
                                 "stratum; use method='jk1' or 'bootstrap'.")
        if has_fpc:
            warnings.warn("the finite population correction is dropped for BRR/Fay replicates, "
                          "as R.", AssumptionWarning, stacklevel=3)
        r_: float = 0.0 if method == "brr" else rho  # type: ignore[assignment]  # a float for fay (checked above)
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
        factors = _rep.bootstrap_factors(st.unit_stratum, st.n_units, st.popsize, replicates,  # type: ignore[arg-type]  # an int: set above for bootstraps
                                         rng, sub=sub)
        scale = _bootstrap_scale(st.n_units, replicates, sub=sub)  # type: ignore[arg-type]  # an int: set above
        rscales = np.ones(replicates)
        kind = "subbootstrap" if sub else "bootstrap"  # R's type label
    source = f"{method} from {st.n_psu} PSUs" + (f" in {st.n_strata} strata" if stratified else "")
    st_unit = design.stages[0].unit
    reps = _rep.ReplicateWeights(scale=float(scale), rscales=np.asarray(rscales, dtype=float),
                                 mse=bool(mse), factors=np.ascontiguousarray(factors),
                                 unit=st_unit)
    return ReplicateDesign.from_design(design, reps, type=kind, rho=rho, source=source)


def _bootstrap_scale(n_units: np.ndarray, replicates: int, *, sub: bool) -> float:
    """Variance scale of R ``subbootweights`` (``1/(R-1)``) or ``bootweights``
    (``nbar/((nbar-1)(R-1))``, ``nbar`` the harmonic mean of the PSUs per stratum)."""
    if sub:
        return 1.0 / (replicates - 1)
    nbar = 1.0 / np.mean(1.0 / n_units)
    if nbar <= 1:
        raise ReplicateError("the bootstrap needs strata with 2 or more PSUs.")
    return float(nbar / ((nbar - 1) * (replicates - 1)))


def replicate_scales(type, n_replicates: int, *, scale=None, rscales=None, rho=None):
    """R ``svrepdesign``'s scale and rscales for ``n_replicates`` combined replicate-weight
    columns of ``type`` (with R's warnings): ``(type, scale, rscales)``, the type in its
    canonical spelling.  For designs whose columns stay in an engine (``surveylib.backends``).
    """
    kind = _canonical_type(type)
    return (kind, *_type_defaults(kind, int(n_replicates), scale, rscales, rho, None, True))
