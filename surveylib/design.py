"""The survey design object.

A :class:`SurveyDesign` couples a data frame with how it was sampled: strata, clusters at one
or more stages, sampling weights (or probabilities) and finite-population corrections, plus the
rule for strata with a single PSU.  It is immutable: :meth:`subset` and the weighting methods
return new designs.  Conventions follow R ``survey``'s ``svydesign``; see ``docs/conventions.md``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import pandas as pd

from . import estimators as _est
from ._stages import build_stages
from ._validation import (
    as_pandas,
    boolean_mask,
    numeric_column,
    renamed_keywords,
)
from ._validation_design import check_lonely, check_single_psu, design_columns, weights_and_sum
from .errors import SurveyDesignError
from .variance.pps import check_pps, pps_variance_of
from .variance.taylor import Stage

if TYPE_CHECKING:
    from .design_summary import DesignSummary
    from .estimators.byany import DomainResults
    from .inference.contrasts import ContrastResult
    from .inference.tables import Crosstab
    from .models import GLMResult
    from .ordinal import OLRResult
    from .replicate import ReplicateDesign
    from .results import Estimate, TestResult, TTestResult
    from .variance.engine import ReplicateEngine, TaylorEngine


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (the design's arrays are shared, never changed)."""
    v = a.view()
    v.flags.writeable = False
    return v


class SurveyDesign:
    """A probability sample with its design, for design-based estimation.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        One row per respondent.  It is not modified.
    strata : str, optional
        Stratum column (first stage).
    psu : str or list of str, optional
        Cluster id column; a list gives the units of successive stages (R ``ids=~a+b``).
        ``None`` means each row is its own PSU.
    weights : str, optional
        Sampling-weight column (inverse inclusion probabilities).
    probs : str, optional
        Inclusion-probability column, an alternative to ``weights``.
    fpc : str or list of str, optional
        Finite-population correction, one column per stage: population counts (number of
        PSUs in the stratum) or, when every value is <= 1, sampling fractions (as R).
    nest : bool
        Relabel PSU ids within strata (R ``nest=TRUE``) when ids repeat across strata.
    lonely_psu : {"fail", "remove", "adjust", "average", "certainty"}
        Treatment of strata with one PSU (R ``options(survey.lonely.psu=)``).
    adjust_domain_lonely : bool, default False
        Apply the ``adjust`` or ``average`` rule also to a stratum where a domain or subset has
        rows in only one of its PSUs (R ``options(survey.adjust.domain.lonely = TRUE)``), for
        means, totals, ratios and proportions; see ``docs/design.md``.
    pps : {"brewer", "overton", "hartley-rao"}, HartleyRao or JointProbabilities, optional
        Unequal-probability sampling without replacement (R ``svydesign(pps=)``): Brewer's
        approximation (inclusion probabilities from ``fpc=`` as fractions, any number of
        stages), or, for one stage, the Horvitz-Thompson variance with Overton's or
        Hartley-Rao's approximate joint probabilities or known ones
        (:mod:`surveylib.variance.pps`).
    pps_variance : {"HT", "YG"}, default "HT"
        Horvitz-Thompson or Yates-Grundy form (R ``variance=``), with joint probabilities.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 2, 2, 2], "y": [1.0, 3.0, 2.0, 4.0, 6.0],
    ...                    "w": [2.0, 2.0, 3.0, 3.0, 3.0]})
    >>> d = sl.SurveyDesign(df, strata="h", weights="w")
    >>> round(float(d.mean("y").estimate.iloc[0]), 4)
    3.3846
    """

    _frozen = False
    _df_rule = "PSUs - strata"

    def __init__(
        self,
        data,
        *,
        strata=None,
        psu=None,
        weights=None,
        probs=None,
        fpc=None,
        nest: bool = False,
        lonely_psu: str = "fail",
        adjust_domain_lonely: bool = False,
        pps=None,
        pps_variance: str = "HT",
    ):
        df = as_pandas(data)
        strata_col, psu_cols, fpc_cols = design_columns(
            df, strata=strata, psu=psu, weights=weights, probs=probs, fpc=fpc,
            lonely_psu=lonely_psu, adjust_domain_lonely=adjust_domain_lonely)
        self._data = df.copy(deep=False)
        self._strata_col = strata_col
        self._psu_cols = tuple(psu_cols)
        self._fpc_cols = tuple(fpc_cols)
        self._nest = bool(nest)
        self._lonely_psu = lonely_psu
        self._adjust_domain_lonely = bool(adjust_domain_lonely)
        check_pps(pps, pps_variance, max(1, len(psu_cols)))
        self._stages = build_stages(df, strata_col, psu_cols, fpc_cols, nest,
                                    pps=pps is not None)
        self._multistage = bool(fpc_cols) and len(self._stages) > 1
        w, self._weight_source, w_sum = weights_and_sum(df, self._stages, weights=weights,
                                                        probs=probs, fpc_cols=fpc_cols)
        self._weights = w
        if w_sum is not None:  # the check of the weights summed them: kept, not summed again
            self._cached("base weight sum", lambda: w_sum)
        self._active = np.ones(len(df), dtype=bool)
        # derived column codes, shared by designs over these data; the all-True mask of every
        # row (factor_codes' validity of integer columns) is this design's mask, not a second
        self._column_cache: dict = {("every row",): _read_only(self._active)}
        self._adjustments: tuple = ()
        self._pps = pps
        self._pps_dcheck = pps_variance_of(pps, pps_variance, self._stages[0], w)
        check_single_psu(self._stages[0], self._psu_cols)
        if self._pps_dcheck is None:  # with joint probabilities a lone unit has (1 - pi) T^2
            check_lonely(self._stages if self._multistage else self._stages[:1],
                         strata_col=strata_col, lonely_psu=lonely_psu)
        self._frozen = True

    # ----- immutability --------------------------------------------------------------------
    def __setattr__(self, name, value):
        if self._frozen:
            raise AttributeError("SurveyDesign is immutable; methods return new designs.")
        object.__setattr__(self, name, value)

    def _replace(self, **changes) -> Self:
        new = copy.copy(self)
        for k, v in changes.items():
            object.__setattr__(new, k, v)
        # derived quantities belong to one design; column codes survive while the data do
        new.__dict__.pop("_design_cache", None)
        if "_data" in changes:
            object.__setattr__(new, "_column_cache", {})
        return new

    def _cached(self, key, compute, *, per_design: bool = True):
        """Memoise a derived array: per design (weights, df) or per data (column codes).

        The design and its data never change, so a cached value cannot go stale.
        """
        name = "_design_cache" if per_design else "_column_cache"
        cache = self.__dict__.get(name)
        if cache is None:
            cache = {}
            object.__setattr__(self, name, cache)
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    # ----- public attributes -----------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The respondent data (a copy-on-write copy; changing it does not change the design)."""
        return self._data.copy(deep=False)

    @property
    def weights(self) -> pd.Series:
        """Current sampling weights, zero for rows outside a subset."""
        # a new array either way (no second copy); with every row active a copy, which is
        # about 3x faster than the product with the mask
        w = self._weights.copy() if self._active.all() else self._weights * self._active
        return pd.Series(w, index=self._data.index, name="weight", copy=False)

    @property
    def lonely_psu(self) -> str:
        return self._lonely_psu

    @property
    def adjust_domain_lonely(self) -> bool:
        """Whether the lonely-PSU rule also applies within domains (R
        ``survey.adjust.domain.lonely``)."""
        return self._adjust_domain_lonely

    @property
    def n_strata(self) -> int:
        return self._stages[0].n_strata

    @property
    def n_psu(self) -> int:
        return self._stages[0].n_psu

    @property
    def adjustments(self) -> tuple:
        """Ordered record of the weighting steps applied to this design."""
        return self._adjustments

    # ----- the interface for sibling modules (weighting, inference, models, variance) -------
    # Everything another module needs from a design is a named member here; no module reads
    # a design's private attributes.  Arrays are read-only views: a design never changes.
    @property
    def active(self) -> np.ndarray:
        """Boolean mask of the rows in the design (``False`` outside a subset); read-only."""
        return _read_only(self._active)

    @property
    def base_weights(self) -> np.ndarray:
        """Current sampling weights of every row, subset or not (read-only array)."""
        return _read_only(self._weights)

    def base_weight_sum(self) -> float:
        """``float(base_weights.sum())``: the sum of the weights of every row, subset or not
        (computed once per design; a design built from a weights column reuses the sum taken
        when the weights were checked)."""
        return self._cached("base weight sum", lambda: float(self._weights.sum()))

    @property
    def estimation_weights(self) -> np.ndarray:
        """Weights times the subset indicator: what every estimator sums (read-only array)."""
        return self._estimation_weights()

    @property
    def strata_column(self) -> str | None:
        """Name of the first-stage strata column, or ``None``."""
        return self._strata_col

    @property
    def psu_columns(self) -> tuple:
        """Cluster id columns, one per stage (empty for element sampling)."""
        return self._psu_cols

    @property
    def fpc_columns(self) -> tuple:
        """Finite-population-correction columns, one per stage (empty without fpc)."""
        return self._fpc_cols

    @property
    def stages(self) -> tuple:
        """The sampling stages (:class:`~surveylib.variance.taylor.Stage`), first stage first."""
        return self._stages

    @property
    def weight_source(self) -> str:
        """Where the weights came from, in words (``"weights 'pw'"``, ``"equal weights"``)."""
        return self._weight_source

    @property
    def engine(self) -> TaylorEngine | ReplicateEngine:
        """The variance engine of this design (see :mod:`surveylib.variance.engine`)."""
        return self._cached("engine", self._make_engine)

    def _make_engine(self) -> TaylorEngine | ReplicateEngine:
        from .variance.engine import TaylorEngine

        return TaylorEngine(self._stages, lonely_psu=self._lonely_psu, active=self._active,
                            multistage=self._multistage, adjustments=self._adjustments,
                            adjust_domain_lonely=self._adjust_domain_lonely,
                            pps=self._pps_dcheck)

    def memo(self, key, compute, *, scope: str = "design") -> Any:
        """Memoise a derived value on this design (``scope="design"``) or on its data
        (``scope="data"``: shared by every design over the same data, e.g. column codes).

        The design and its data never change, so a memoised value cannot go stale.  Keys are
        tuples whose first item names the module that owns them (``("estimators", ...)``).
        """
        if scope not in ("design", "data"):
            raise SurveyDesignError(f"scope={scope!r} is not one of ['design', 'data'].",
                                    parameter="scope", value=scope, expected=["design", "data"])
        return self._cached(key, compute, per_design=scope == "design")

    def numeric_column(self, var) -> tuple[np.ndarray, np.ndarray]:
        """Values of numeric column ``var`` (0 where missing) and its validity mask.

        Computed once per data and shared by every design over it; both arrays are read-only.
        """

        def compute():
            y = numeric_column(self._data, var, role="analysis")
            ok = ~np.isnan(y)
            if not ok.all():
                y = np.where(ok, y, 0.0)
            return _read_only(y), _read_only(ok)

        return self._cached(("numeric", var), compute, per_design=False)

    def factor_codes(self, var, *, sort: bool = True) -> tuple[np.ndarray, list, np.ndarray]:
        """Level codes of column ``var`` (-1 where missing), its levels, and validity.

        Levels are a categorical's categories, else the sorted distinct values
        (``sort=False``: in order of first appearance).  Cached per data.
        """
        from ._validation import factorize_column

        key = ("levels", var) if sort else ("levels, unsorted", var)

        def compute():
            every = self._cached(("every row",), lambda: _read_only(
                np.ones(len(self._data), dtype=bool)), per_design=False)
            return factorize_column(self._data[var], sort=sort, every_row=every)

        return self._cached(key, compute, per_design=False)

    def with_weights(self, weights, adjustment=None) -> SurveyDesign:
        """A copy of this design with new sampling weights (same rows, same subset).

        ``adjustment`` is the record of the weighting step that made them; it is appended to
        :attr:`adjustments` so the Taylor variance residualises on it.
        """
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != self._weights.shape:
            raise SurveyDesignError(
                f"new weights have shape {w.shape}, the design has {self._weights.shape[0]} rows.",
                parameter="weights", value=w.shape, expected=self._weights.shape)
        adj = self._adjustments if adjustment is None else self._adjustments + (adjustment,)
        return self._replace(_weights=w, _adjustments=adj)

    def with_data(self, data: pd.DataFrame) -> SurveyDesign:
        """A copy of this design over ``data``: the same rows (same length and order) with
        extra or recoded columns; the design columns must not change."""
        if len(data) != len(self._data):
            raise SurveyDesignError(
                f"with_data() needs the design's {len(self._data)} rows, got {len(data)}.",
                parameter="data", value=len(data), expected=len(self._data))
        return self._replace(_data=data.copy(deep=False))

    def with_active(self, active) -> SurveyDesign:
        """A copy of this design whose rows in the design are exactly ``active`` (a boolean
        array over all rows); unlike :meth:`subset` it can also add rows back."""
        a = np.asarray(active, dtype=bool)
        if a.shape != self._active.shape:
            raise SurveyDesignError(
                f"active mask has shape {a.shape}, the design has {self._active.shape[0]} rows.",
                parameter="active", value=a.shape, expected=self._active.shape)
        if not a.any():
            raise SurveyDesignError("the subset contains no rows.", parameter="active")
        return self._replace(_active=a.copy())

    def with_adjustments(self, adjustments: tuple) -> SurveyDesign:
        """A copy of this design with the adjustment record replaced (weights unchanged)."""
        return self._replace(_adjustments=tuple(adjustments))

    def degf(self) -> int:
        """Design degrees of freedom (R ``degf``): for Taylor designs PSUs minus strata among
        the rows in the design; for replicate designs the rank of the replicate weights - 1."""
        return self._cached("degf", self.engine.degf)

    def __len__(self) -> int:
        return int(self._active.sum())

    def describe(self) -> str:
        """One line saying how inference is done (used in every result's footer)."""
        st = self._stages[0]
        kind = []
        kind.append(f"{st.n_strata} strata" if self._strata_col is not None
                    else "unstratified")
        if self._psu_cols:
            kind.append(f"{st.n_psu} PSUs ({'+'.join(self._psu_cols)})")
            if len(self._psu_cols) > 1:
                kind.append(f"{len(self._psu_cols)} stages" + (" with fpc at each" if self._multistage else ", ultimate-cluster variance"))
        else:
            kind.append("element sampling")
        kind.append(self._weight_source)
        kind.append("fpc " + "+".join(self._fpc_cols) if self._fpc_cols else "with replacement (no fpc)")
        if self._pps is not None:
            kind.append(f"pps={self._pps if isinstance(self._pps, str) else type(self._pps).__name__}"
                        + ("" if self._pps_dcheck is None else f" ({self._pps_dcheck.variance})"))
        kind.append(f"lonely_psu={self._lonely_psu!r}"
                    + (" within domains too" if self._adjust_domain_lonely else ""))
        if self._adjustments:
            kind.append("weights adjusted: " + ", ".join(a.describe() for a in self._adjustments))
        if not self._active.all():
            kind.append(f"subset of {int(self._active.sum())} of {len(self._active)} rows")
        return "Taylor linearisation; " + "; ".join(kind)

    def __repr__(self) -> str:
        return f"<SurveyDesign: {len(self)} rows; {self.describe()}>"

    def summary(self) -> DesignSummary:
        """Strata with their PSUs, rows and weight sums, and the weights' range and CV, the
        degrees of freedom and the weighting steps (R ``summary.survey.design``).

        Returns a :class:`~surveylib.design_summary.DesignSummary`: it prints as text, shows
        as a table in a notebook, and ``to_frame()`` gives the per-stratum table.

        Examples
        --------
        >>> import pandas as pd, surveylib as sl
        >>> df = pd.DataFrame({"h": [1, 1, 2, 2, 2], "c": [1, 2, 3, 4, 5],
        ...                    "w": [2.0, 2.0, 3.0, 3.0, 3.0]})
        >>> s = sl.SurveyDesign(df, strata="h", psu="c", weights="w").summary()
        >>> s.to_frame()[["stratum", "psus", "rows", "weight_sum"]].values.tolist()
        [[1, 2, 2, 4.0], [2, 3, 3, 9.0]]
        """
        from .design_summary import summarise

        return summarise(self)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    # ----- domains --------------------------------------------------------------------------
    def subset(self, mask) -> SurveyDesign:
        """Restrict estimation to a domain while keeping the full design for variances.

        Parameters
        ----------
        mask : bool array or Series, or str
            Rows to keep, or a ``DataFrame.eval`` expression such as ``"age >= 18"``.  A
            Series is aligned on the data's index (as pandas aligns); an array is taken in
            the data's row order.

        Notes
        -----
        As R ``subset.survey.design``: rows outside the domain keep their strata and PSUs
        (with zero weight), so standard errors are those of a domain estimate.
        """
        if isinstance(mask, pd.Series) and not mask.index.equals(self._data.index):
            index = self._data.index
            if (len(mask) != len(index) or not mask.index.is_unique or not index.is_unique
                    or not mask.index.isin(index).all()):
                raise SurveyDesignError(
                    "the subset mask's index does not match the data's (it has other or "
                    "repeated labels); build the mask from the design's data (d.data[...]) or "
                    "pass a plain boolean array in the data's row order.", parameter="mask",
                    hint="mask.to_numpy() in the data's row order")
            mask = mask.reindex(index)  # the same labels in another order: align as pandas
        m = boolean_mask(mask, len(self._active), self._data)
        active = self._active & m
        if not active.any():
            raise SurveyDesignError("the subset contains no rows.")
        return self._replace(_active=active)

    # ----- variance --------------------------------------------------------------------------
    def _estimation_weights(self) -> np.ndarray:
        """Weights times the subset indicator (read-only: shared by every estimate)."""

        def compute():
            w = self._weights.view() if self._active.all() else np.where(self._active,
                                                                          self._weights, 0.0)
            w.flags.writeable = False
            return w

        return self._cached("estimation_weights", compute)

    def _finest_stage(self) -> Stage:
        """The stage whose units the Taylor engine totals scores over."""
        return self._stages[-1] if self._multistage else self._stages[0]

    # ----- estimators ------------------------------------------------------------------------
    def mean(self, variables, *, by=None, na_rm: bool = False, deff: bool | str = True) -> Estimate:
        """Weighted mean(s) with Taylor-linearised standard errors (R ``svymean``/``svyby``).

        See :func:`surveylib.estimators.mean`.
        """
        return _est.mean(self, variables, by=by, na_rm=na_rm, deff=deff)

    def total(self, variables, *, by=None, na_rm: bool = False, deff: bool | str = True,
              drop_empty: bool = True) -> Estimate:
        """Estimated population total(s) (R ``svytotal``). See :func:`surveylib.estimators.total`."""
        return _est.total(self, variables, by=by, na_rm=na_rm, deff=deff, drop_empty=drop_empty)

    def proportion(self, variables, *, by=None, na_rm: bool = False, ci_method: str = "logit",
                   deff: bool | str = True, drop_empty: bool = True) -> Estimate:
        """Shares of every level of categorical variable(s).

        See :func:`surveylib.estimators.proportion`.
        """
        return _est.proportion(self, variables, by=by, na_rm=na_rm, ci_method=ci_method, deff=deff,
                               drop_empty=drop_empty)

    def ratio(self, numerator, denominator, *, by=None, na_rm: bool = False,
              deff: bool | str = True) -> Estimate:
        """Ratio of two totals (R ``svyratio``). See :func:`surveylib.estimators.ratio`."""
        return _est.ratio(self, numerator, denominator, by=by, na_rm=na_rm, deff=deff)

    def var(self, variables, *, by=None, na_rm: bool = False) -> Estimate:
        """Population variance of each variable with its design-based SE (R ``svyvar``).

        See :func:`surveylib.estimators.var`.
        """
        return _est.var(self, variables, by=by, na_rm=na_rm)

    def cralpha(self, items, *, by=None, na_rm: bool = False) -> Estimate:
        """Cronbach's alpha with a design-based SE (R ``svycralpha``). See :func:`surveylib.estimators.scales.cralpha`."""
        from .estimators.scales import cralpha

        return cralpha(self, items, by=by, na_rm=na_rm)

    def by_domains(self, by, fn) -> DomainResults:
        """Any statistic ``fn(design)`` within domains (R ``svyby`` with any ``FUN``). See :func:`surveylib.estimators.byany.by_domains`."""
        from .estimators.byany import by_domains

        return by_domains(self, by, fn)

    def standardize(self, by, population, *, over=None,
                    excluding_missing=None) -> SurveyDesign:
        """Directly standardised design (R ``svystandardize``). See :func:`surveylib.estimators.standardize.standardize`."""
        from .estimators.standardize import standardize

        return standardize(self, by, population, over=over, excluding_missing=excluding_missing)

    def quantile(self, variables, probs=(0.5,), *, by=None, na_rm: bool = False,
                 qrule: str = "math", level: float = 0.95, df=None, interval_type: str = "mean") -> Estimate:
        """Quantiles with Woodruff intervals, or replicate quantiles on a replicate design
        (``interval_type="quantile"``) (R ``svyquantile``).

        See :func:`surveylib.estimators.quantile`.
        """
        return _est.quantile(self, variables, probs, by=by, na_rm=na_rm, qrule=qrule, level=level,
                             df=df, interval_type=interval_type)

    # ----- weighting (surveylib.weighting) ----------------------------------------------------
    def poststratify(self, by, population) -> SurveyDesign:
        """Post-stratify to population cell counts or shares (R ``postStratify``).

        See :func:`surveylib.weighting.poststratify`.
        """
        from .weighting import poststratify

        return poststratify(self, by, population)

    def rake(self, margins, *, tol: float = 1e-7, max_iter: int = 100, bounds=None,
             on_fail: str = "error") -> SurveyDesign:
        """Rake to one- or two-way margins (R ``rake``). See :func:`surveylib.weighting.rake`."""
        from .weighting import rake

        return rake(self, margins, tol=tol, max_iter=max_iter, bounds=bounds, on_fail=on_fail)

    @renamed_keywords(since="0.2.0", removed="0.3.0", maxit="max_iter", epsilon="tol")
    def calibrate(self, totals, *, calfun: str = "linear", bounds=None, max_iter: int = 50,
                  tol: float = 1e-7, intercept: bool = True,
                  on_fail: str = "error") -> SurveyDesign:
        """Calibrate to population totals (R ``calibrate``, GREG).

        See :func:`surveylib.weighting.calibrate`.
        """
        from .weighting import calibrate

        return calibrate(self, totals, calfun=calfun, bounds=bounds, max_iter=max_iter, tol=tol,
                         intercept=intercept, on_fail=on_fail)

    def trim(self, upper=None, lower=None, strict: bool = False, *, recalibrate: bool = False,
             max_iter: int = 50, tol: float = 1e-3) -> SurveyDesign:
        """Trim weights and redistribute (R ``trimWeights``). See :func:`surveylib.weighting.trim`."""
        from .weighting import trim

        return trim(self, upper, lower, strict, recalibrate=recalibrate, max_iter=max_iter,
                    tol=tol)

    def weight_summary(self, by=None) -> pd.Series | pd.DataFrame:
        """Min, max, ratio, CV, Kish deff and effective n of the weights.

        See :func:`surveylib.weighting.weight_summary`.
        """
        from .weighting import weight_summary

        return weight_summary(self, by)

    # ----- replicate weights -------------------------------------------------------------------
    def to_replicates(self, method: str, replicates: int | None = None, seed=None,
                      rho: float | None = None, *, mse: bool = False) -> ReplicateDesign:
        """Replicate-weight version of this design (R ``as.svrepdesign``).

        See :func:`surveylib.replicate.to_replicates`.
        """
        from .replicate import to_replicates

        return to_replicates(self, method, replicates, seed, rho, mse=mse)

    # ----- tests and models ----------------------------------------------------------------------
    def crosstab(self, row, col, *, by=None, drop_empty: bool = True) -> Crosstab:
        """Two-way table with Rao–Scott tests (R ``svychisq``). See :func:`surveylib.inference.crosstab`."""
        from .inference import crosstab

        return crosstab(self, row, col, by=by, drop_empty=drop_empty)

    def ttest(self, var, *, by=None, mu: float = 0.0, level: float = 0.95,
              na_rm: bool = False) -> TTestResult:
        """Design-based t test (R ``svyttest``). See :func:`surveylib.inference.ttest`."""
        from .inference import ttest

        return ttest(self, var, by=by, mu=mu, level=level, na_rm=na_rm)

    def ranktest(self, var, group, *, test: str = "wilcoxon",
                 level: float = 0.95) -> TTestResult | TestResult:
        """Design-based rank test (R ``svyranktest``). See :func:`surveylib.inference.ranktests.ranktest`."""
        from .inference.ranktests import ranktest

        return ranktest(self, var, group, test=test, level=level)

    def contrast(self, estimate, coefficients) -> ContrastResult:
        """Linear contrasts of an estimate (R ``svycontrast``). See :func:`surveylib.inference.contrast`."""
        from .inference import contrast

        return contrast(estimate, coefficients)

    @renamed_keywords(since="0.2.0", removed="0.3.0", maxiter="max_iter")
    def glm(self, formula: str, *, family: str = "gaussian", max_iter: int = 100,
            tol: float = 1e-12, replicate_variance: str = "refit") -> GLMResult:
        """Survey-weighted GLM with sandwich SEs (R ``svyglm``). See :func:`surveylib.models.glm`."""
        from .models import glm

        return glm(self, formula, family=family, max_iter=max_iter, tol=tol,
                   replicate_variance=replicate_variance)

    def olr(self, formula: str, *, method: str = "logistic", max_iter: int = 500,
            tol: float = 1e-10) -> OLRResult:
        """Proportional-odds regression (R ``svyolr``). See :func:`surveylib.ordinal.olr`."""
        from .ordinal import olr

        return olr(self, formula, method=method, max_iter=max_iter, tol=tol)
