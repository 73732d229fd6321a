"""Change between two independent survey waves: differences of shares or means
(:func:`compare`, R ``svycontrast`` on the stacked design), the Rao–Scott test of equal
distributions (:func:`compare_distribution`), and the stacked design itself
(:func:`stack_waves`).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import as_list, check_level, check_option
from ..errors import ColumnError, SurveyDesignError, SurveyWarning
from ..results import Printable, StatisticAccessors, TestResult, critical_value
from .multiplicity import adjust_pvalues
from .tables import MAX_LEVELS, crosstab, observed_levels

COMPARISON_FRAME_COLUMNS = ["variable", "level", "estimate_a", "estimate_b", "difference", "se",
                            "df", "t", "p_value", "p_adjusted", "ci_low", "ci_high", "change"]


def stack_waves(design_a, design_b, *, wave_col: str = "wave", labels=("a", "b")):
    """One design holding two independent waves, strata nested in wave.

    Parameters
    ----------
    design_a, design_b : SurveyDesign
        Independent samples with the same kind of design: both stratified or neither, the
        same number of cluster stages, fpc at the same stages, the same lonely-PSU rule.
    wave_col : str
        Name of the new wave column (must not already exist).
    labels : (str, str)
        Values of ``wave_col`` for the two waves.

    Returns
    -------
    SurveyDesign
        Rows of both waves; strata ``"<label>:<stratum>"`` (the wave when unstratified), PSU
        ids nested within strata, the waves' current weights (after any weighting) and fpc as
        population counts.  Subsets of either wave stay subsets.  The columns
        ``_stack_stratum``, ``_stack_psu<k>``, ``_stack_weight`` and ``_stack_fpc<k>`` hold the
        design.

    Notes
    -----
    With disjoint strata the Taylor covariance of any wave-a estimate with any wave-b
    estimate is zero, so contrasts between waves have variance ``V_a + V_b``.

    Two replicate-weight designs are stacked as one block-diagonal replicate design (R's
    approach for independent samples): wave a's replicate columns carry wave b's full-sample
    weights and vice versa, each block keeps its wave's ``scale * rscales``, the replicates are
    centred at the full-sample estimate (R ``mse=TRUE``; a :class:`SurveyWarning` says so when
    a wave had ``mse=False``) and the df are the sum of the waves' df.  The replicate weights
    are the ``_stack_rep<k>`` columns.  A replicate design with a Taylor design is an error.  Weighting
    records (raking, calibration) are not carried over: the stacked design treats the final
    weights as fixed, and a :class:`SurveyWarning` says so.
    """
    from ..design import SurveyDesign

    da, db = design_a, design_b
    data_a, data_b = da.data, db.data
    if wave_col in data_a.columns or wave_col in data_b.columns:
        raise ColumnError(f"wave_col={wave_col!r} already exists in the data; choose another name.")
    if len(labels) != 2 or labels[0] == labels[1]:
        raise SurveyDesignError(f"labels={labels!r} must be two different values.")
    kinds = (da.engine.kind, db.engine.kind)
    if "replicate" in kinds:
        if kinds != ("replicate", "replicate"):
            raise SurveyDesignError(
                "stack_waves got one replicate-weight design and one Taylor design "
                f"(wave {labels[0]!r}: {kinds[0]}, wave {labels[1]!r}: {kinds[1]}); their "
                "variances cannot be combined. Make both replicate designs (e.g. "
                "sl.to_replicates(design, 'jkn')) or give both waves' Taylor designs.",
                parameter="design_b", value=kinds, expected="designs of the same kind")
        return _stack_replicates(da, db, wave_col, labels)
    problems = []
    if (da.strata_column is None) != (db.strata_column is None):
        problems.append("one design is stratified and the other is not")
    if len(da.psu_columns) != len(db.psu_columns):
        problems.append(f"cluster stages differ ({list(da.psu_columns)} vs {list(db.psu_columns)})")
    if len(da.fpc_columns) != len(db.fpc_columns):
        problems.append(f"fpc differs ({list(da.fpc_columns)} vs {list(db.fpc_columns)})")
    if da.lonely_psu != db.lonely_psu:
        problems.append(f"lonely_psu differs ({da.lonely_psu!r} vs {db.lonely_psu!r})")
    if problems:
        raise SurveyDesignError(
            "stack_waves needs designs of the same kind: " + "; ".join(problems)
            + ". Rebuild one wave's SurveyDesign to match the other."
        )
    if da.adjustments or db.adjustments:
        warnings.warn(
            "stack_waves keeps the final weights but not the weighting record (raking/"
            "calibration), so variances of the stacked design treat the weights as fixed.",
            SurveyWarning,
            stacklevel=2,
        )
    n_stage = len(da.psu_columns)
    n_fpc = len(da.fpc_columns)
    new_cols = ["_stack_stratum", "_stack_weight"] + [f"_stack_psu{k + 1}" for k in range(n_stage)] + [
        f"_stack_fpc{k + 1}" for k in range(n_fpc)]
    clash = [c for c in new_cols if c in data_a.columns or c in data_b.columns]
    if clash:
        raise ColumnError(f"columns {clash} are reserved by stack_waves; rename them first.")

    def frame(d, data, label):
        if d.strata_column is None:
            strata = np.full(len(data), f"{label}", dtype=object)
        else:
            strata = np.asarray([f"{label}:{s}" for s in data[d.strata_column].astype(str)],
                                dtype=object)
        add = {wave_col: np.full(len(data), label, dtype=object), "_stack_stratum": strata,
               "_stack_weight": d.base_weights}
        for k, c in enumerate(d.psu_columns):
            add[f"_stack_psu{k + 1}"] = data[c].astype(str).to_numpy(dtype=object)
        for k in range(n_fpc):
            st = d.stages[k]
            add[f"_stack_fpc{k + 1}"] = st.popsize[st.unit_stratum[st.unit]]
        return pd.concat([data.reset_index(drop=True), pd.DataFrame(add)], axis=1)

    stacked = pd.concat([frame(da, data_a, labels[0]), frame(db, data_b, labels[1])],
                        ignore_index=True)
    fpc = [f"_stack_fpc{k + 1}" for k in range(n_fpc)] or None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        out = SurveyDesign(
            stacked, strata="_stack_stratum",
            psu=[f"_stack_psu{k + 1}" for k in range(n_stage)] or None,
            weights="_stack_weight", fpc=fpc, nest=True, lonely_psu=da.lonely_psu,
        )
    active = np.concatenate([da.active, db.active])
    return out if active.all() else out.subset(active)


REPLICATE_COLUMN = "_stack_rep"


def _stack_replicates(da, db, wave_col, labels):
    """Two independent replicate designs as one block-diagonal replicate design.

    Wave a's replicates carry wave b's full-sample weights and vice versa (R's approach for
    independent samples), each block with its wave's ``scale * rscales``; so any estimate of
    one wave has that wave's replicate variance and a contrast between waves has
    ``V_a + V_b``.  The replicates are centred at the full-sample estimate (R ``mse=TRUE``):
    centring a block at the mean of *all* replicates would mix the waves.
    """
    from ..replicate import ReplicateDesign

    if da.mse != db.mse or not da.mse:
        warnings.warn(
            "stack_waves centres the stacked replicates at the full-sample estimate (R "
            f"mse=TRUE); wave {labels[0]!r} has mse={da.mse} and wave {labels[1]!r} "
            f"mse={db.mse}, so a wave's variance in the stacked design can differ from its own "
            "by the squared gap between its replicate mean and full-sample estimate. Build both "
            "waves with mse=True to make them agree.", SurveyWarning, stacklevel=3)
    ra = da.replicates.analysis_weights(da.base_weights)
    rb = db.replicates.analysis_weights(db.base_weights)
    na, nb, ka, kb = len(ra), len(rb), ra.shape[1], rb.shape[1]
    reps = np.zeros((na + nb, ka + kb))
    reps[:na, :ka] = ra
    reps[na:, :ka] = db.base_weights[:, None]
    reps[:na, ka:] = da.base_weights[:, None]
    reps[na:, ka:] = rb
    names = [f"{REPLICATE_COLUMN}{r + 1}" for r in range(ka + kb)]
    clash = [c for c in [*names, "_stack_weight"] if c in da.data.columns or c in db.data.columns]
    if clash:
        raise ColumnError(f"columns {clash[:5]} are reserved by stack_waves; rename them first.")

    def frame(d, label):
        return d.data.reset_index(drop=True).assign(
            **{wave_col: np.full(len(d.data), label, dtype=object), "_stack_weight": d.base_weights})

    stacked = pd.concat([frame(da, labels[0]), frame(db, labels[1]),], ignore_index=True)
    stacked = pd.concat([stacked, pd.DataFrame(reps, columns=names)], axis=1)
    rscales = np.concatenate([da.scale * da.rscales, db.scale * db.rscales])
    df = da.degf() + db.degf()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        out = ReplicateDesign(stacked, weights="_stack_weight", rep_weights=names, type="other",
                              scale=1.0, rscales=rscales, mse=True, df=df)
    active = np.concatenate([da.active, db.active])
    return out if active.all() else out.subset(active)


def _adjust(p: np.ndarray, method) -> np.ndarray:
    return p.copy() if method is None else adjust_pvalues(p, method)


@dataclass(frozen=True, repr=False)  # prints its summary (Printable)
class Comparison(StatisticAccessors, Printable):
    """Differences ``b - a`` between two independent waves, one row per domain x level.

    ``.to_frame()`` has the columns ``[*by, "variable", "level", "estimate_a", "estimate_b",
    "difference", "se", "df", "t", "p_value", "p_adjusted", "ci_low", "ci_high", "change"]``;
    ``.estimate``/``.se``/``.vcov``/``.ci()``/``.df`` refer to the differences.
    """

    _estimate_name = "difference"
    _width = 140
    frame_columns = tuple(COMPARISON_FRAME_COLUMNS)

    keys: pd.DataFrame
    by: tuple
    estimate_a: np.ndarray
    estimate_b: np.ndarray
    values: np.ndarray
    vcov_matrix: np.ndarray
    dfs: np.ndarray
    level: float
    adjust: str | None
    alpha: float
    inference: str

    @property
    def index(self) -> pd.Index:
        cols = [*self.by, "variable"] + (["level"] if self.keys["level"].notna().any() else [])
        if len(cols) == 1:
            return pd.Index(self.keys[cols[0]], name=cols[0])
        return pd.MultiIndex.from_frame(self.keys[cols])

    def ci(self, level: float | None = None, df=None) -> pd.DataFrame:
        """Intervals of the differences (default at the comparison's ``level``)."""
        return super().ci(self.level if level is None else level, df)

    def to_frame(self) -> pd.DataFrame:
        """One row per domain x level: both waves' estimates, the difference and its test."""
        with np.errstate(invalid="ignore"):  # self.se and self.ci() without their index
            se = np.sqrt(np.clip(np.diag(self.vcov_matrix), 0, None))
        zero = se == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(zero, 0.0, self.values / np.where(zero, 1.0, se))
        p = np.where(zero, 1.0, 2 * stats.t.sf(np.abs(t), self.dfs))
        padj = _adjust(p, self.adjust)
        sig = padj < self.alpha
        change = np.where(sig & (self.values > 0), "increase",
                          np.where(sig & (self.values < 0), "decrease", "no significant change"))
        q = critical_value(self.level, self.dfs)
        keys = self.keys
        columns = {c: keys[c].to_numpy(copy=True) if isinstance(keys[c].dtype, np.dtype)
                   else keys[c].reset_index(drop=True) for c in keys.columns}
        columns.update(estimate_a=self.estimate_a, estimate_b=self.estimate_b,
                       difference=self.values, se=se, df=self.dfs, t=t, p_value=p,
                       p_adjusted=padj, ci_low=self.values - q * se,
                       ci_high=self.values + q * se, change=change)
        # one constructor call: a column assigned at a time costs a block insert each
        return pd.DataFrame(columns, index=pd.RangeIndex(len(keys)))

    def _title(self) -> str:
        return "Change between waves (b - a)"


def compare(design_a, design_b, var: str, *, by=None, stat: str = "proportion",
            level: float = 0.95, adjust=None, alpha: float = 0.05, df: str = "min",
            na_rm: bool = False) -> Comparison:
    """Change in a mean or in the shares of a categorical variable between two waves.

    Parameters
    ----------
    design_a, design_b : SurveyDesign
        Two independent samples (the earlier wave first); differences are ``b - a``.
    var : str
        Column present in both waves.
    by : str or list of str, optional
        Domains; every domain must occur in both waves.
    stat : {"proportion", "mean"}
    level : float
        Confidence level of the intervals of the differences.
    adjust : {None, "holm", "bh"}
        Multiple-testing adjustment of the p-values over all rows (Holm's step-down
        family-wise method, or Benjamini–Hochberg false discovery rate).
    alpha : float
        Significance level for the ``change`` label ("increase", "decrease", "no significant
        change"), applied to the adjusted p-values.
    df : {"min", "satterthwaite", "normal"}
        Degrees of freedom of the t reference: the smaller of the two designs' df (default,
        conservative), Welch–Satterthwaite ``(v_a + v_b)² / (v_a²/df_a + v_b²/df_b)``, or
        ``"normal"`` (df = inf: z tests and normal intervals, as R's ``confint`` of a
        ``svycontrast`` and R's large-sample habit).
    na_rm : bool
        As in the estimators.

    Returns
    -------
    Comparison

    Notes
    -----
    The waves are independent samples, so ``Var(b - a) = V_a + V_b`` (covariances included);
    this equals R's ``svycontrast`` of ``svyby(~var, ~wave, svymean, covmat=TRUE)`` on the
    stacked design (:func:`stack_waves`).  A level seen in one wave only has share 0 with
    variance 0 in the other.  R would refer the t statistic to the stacked design's df
    (df_a + df_b), which is less conservative than both choices here.
    """
    check_option(stat, ("proportion", "mean"), name="stat")
    check_option(adjust, (None, "holm", "bh"), name="adjust")
    check_option(df, ("min", "satterthwaite", "normal"), name="df")
    check_level(level)
    if not 0 < alpha < 1:
        raise SurveyDesignError(f"alpha={alpha!r} must lie strictly between 0 and 1.")
    da, db = design_a, design_b
    data_a, data_b = da.data, db.data
    for data, name in ((data_a, "design_a"), (data_b, "design_b")):
        if var not in data.columns:
            raise ColumnError(f"variable {var!r} is not in {name}; compare needs it in both waves.")
    by_cols = as_list(by)
    if stat == "proportion":
        levels = sorted(set(observed_levels(data_a[var], da.active & data_a[var].notna().to_numpy()))
                        | set(observed_levels(data_b[var], db.active & data_b[var].notna().to_numpy())),
                        key=_sort_key)
        if isinstance(data_a[var].dtype, pd.CategoricalDtype):
            cats = [c for c in data_a[var].cat.categories if c in levels]
            levels = cats + [lv for lv in levels if lv not in cats]
        if len(levels) > MAX_LEVELS:
            raise ColumnError(f"variable {var!r} has {len(levels)} levels; compare(stat='proportion') "
                              f"is for categorical variables (at most {MAX_LEVELS} levels).")
        dtype = pd.CategoricalDtype(levels)

        def prep(d, data):
            tmp = data.copy(deep=False)
            tmp[var] = data[var].astype(object).astype(dtype)
            return d.with_data(tmp)

        ea = prep(da, data_a).proportion(var, by=by_cols or None, na_rm=na_rm, ci_method="mean",
                                             drop_empty=False)
        eb = prep(db, data_b).proportion(var, by=by_cols or None, na_rm=na_rm, ci_method="mean",
                                             drop_empty=False)
    else:
        ea = da.mean(var, by=by_cols or None, na_rm=na_rm)
        eb = db.mean(var, by=by_cols or None, na_rm=na_rm)
    ka = [tuple(map(str, r)) for r in ea.keys.itertuples(index=False, name=None)]
    kb = [tuple(map(str, r)) for r in eb.keys.itertuples(index=False, name=None)]
    if ka != kb:
        only_a = [k for k in ka if k not in kb][:5]
        only_b = [k for k in kb if k not in ka][:5]
        raise SurveyDesignError(
            f"the domains of {by_cols} differ between the waves (only in a: {only_a}; only in "
            f"b: {only_b}); subset both designs to the common domains first."
        )
    V = ea.vcov_matrix + eb.vcov_matrix
    dfa, dfb = float(da.degf()), float(db.degf())
    if df == "min":
        dfs = np.full(len(ea.values), min(dfa, dfb))
        df_text = f"df = min({dfa:g}, {dfb:g})"
    elif df == "normal":
        dfs = np.full(len(ea.values), np.inf)
        df_text = "normal reference (df = inf)"
    else:
        va, vb = np.diag(ea.vcov_matrix), np.diag(eb.vcov_matrix)
        with np.errstate(divide="ignore", invalid="ignore"):
            dfs = (va + vb) ** 2 / (va**2 / dfa + vb**2 / dfb)
        dfs = np.where(va + vb > 0, dfs, min(dfa, dfb))
        df_text = "Satterthwaite df"
    text = (f"independent waves, Var(b - a) = V_a + V_b; {df_text}"
            + (f"; p-values adjusted by {adjust}" if adjust else "")
            + f"\n  a: {da.describe()}\n  b: {db.describe()}")
    return Comparison(keys=ea.keys.reset_index(drop=True), by=tuple(by_cols),
                      estimate_a=ea.values, estimate_b=eb.values, values=eb.values - ea.values,
                      vcov_matrix=V, dfs=dfs, level=level, adjust=adjust, alpha=alpha,
                      inference=text)


def _sort_key(x):
    return (0, x, "") if isinstance(x, (int, float, np.integer, np.floating)) else (1, 0, str(x))


def compare_distribution(design_a, design_b, var: str, *, method: str = "F",
                         wave_col: str = "wave", labels=("a", "b")) -> TestResult:
    """Rao–Scott test that the distribution of ``var`` is the same in two independent waves.

    The waves are stacked into one design with strata nested in wave (:func:`stack_waves`)
    and wave x ``var`` is tested for independence (:meth:`Crosstab.test`), as R
    ``svychisq(~wave + var, stacked_design)``.

    Parameters
    ----------
    method : str
        Any method of :meth:`Crosstab.test` ("F" by default).

    Returns
    -------
    TestResult
    """
    stacked = stack_waves(design_a, design_b, wave_col=wave_col, labels=labels)
    res = crosstab(stacked, wave_col, var).test(method)
    return dataclasses.replace(res, null=f"the distribution of {var} is the same in both waves")
