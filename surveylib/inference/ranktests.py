"""Design-based rank tests (R ``svyranktest``): Wilcoxon (Kruskal–Wallis), van der Waerden
and median tests for two or more groups, for ordinal items such as a five-point attitude
scale.

Lumley & Scott (2013), *Two-sample rank tests under complex sampling*, Biometrika 100: each
row's rank is its estimated population mid-rank ``r_i = sum_{j: y_j < y_i} w_j + w_i / 2``
(averaged over ties), turned into a score ``s = f(r / N)``; the test is the design-based
regression of the scores on the group (:func:`surveylib.models.glm`, so the variance is the
design's engine's, Taylor or replicate).  Two groups give a t test of the difference in mean
score; more groups a Wald F test of the group coefficients.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._validation import check_columns, check_level, check_option
from ..errors import SurveyDesignError
from ..results import TestResult, TTestResult, critical_value, format_df
from .contrasts import wald

RANK_TESTS = ("wilcoxon", "vanderWaerden", "median", "KruskalWallis")


def rank_scores(y: np.ndarray, w: np.ndarray, test: str) -> np.ndarray:
    """Scores of R ``svyranktest``: mid-ranks ``r`` estimated with the weights ``w`` (ties get
    their average, in R's stable order), then ``r/N`` (Wilcoxon, Kruskal–Wallis), ``qnorm(r/N)``
    (van der Waerden) or ``r > N/2`` (median)."""
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], w[order]
    mid = np.cumsum(ws) - ws / 2
    _, tie, counts = np.unique(ys, return_inverse=True, return_counts=True)
    mid = (np.bincount(tie, mid) / counts)[tie]  # R ave(..., factor(y))
    r = np.empty_like(mid)
    r[order] = mid
    N = w.sum()
    if test == "vanderWaerden":
        return stats.norm.ppf(r / N)
    if test == "median":
        return (r > N / 2).astype(float)
    return r / N


def ranktest(design, var: str, group: str, *, test: str = "wilcoxon",
             level: float = 0.95) -> TTestResult | TestResult:
    """Design-based rank test of ``var`` across the levels of ``group`` (R ``svyranktest(var ~
    group, design, test=)``).

    Parameters
    ----------
    design : SurveyDesign
        Taylor or replicate design; a subset design tests within the domain.
    var : str
        Numeric (or ordinal, coded as numbers) column.
    group : str
        Grouping column; rows missing ``var`` or ``group`` are left out (the design is kept).
    test : {"wilcoxon", "vanderWaerden", "median", "KruskalWallis"}
        Score of the ranks (``"KruskalWallis"`` is the same as ``"wilcoxon"``).
    level : float
        Confidence level of the interval of the two-group difference.

    Returns
    -------
    TTestResult
        Two groups: the difference in mean rank score (second level minus first), its SE, t
        on ``degf - 1`` df, as R.
    TestResult
        More groups: the Wald F statistic ``X² / (K-1)`` on ``(K-1, degf - K + 1)`` df.  R
        returns ``X²`` as ``parameter`` and ``K-1`` as ``statistic`` (swapped); its p-value
        is the same.

    Notes
    -----
    Ranks are computed over the rows of the (domain) design complete on both variables, with
    the sampling weights, as R.  The variance is the regression's sandwich variance through
    the design's engine; on replicate designs it is the replicate variance of the linearised
    scores, which R computes for two groups (``svytotal`` of the influence functions) but
    not for more (R's ``svy.varcoef`` errors there).
    """
    check_option(test, RANK_TESTS, name="test")
    check_level(level)
    check_columns(design.data, [var, group], role="analysis")
    y, ok_y = design.numeric_column(var)
    codes, levels, ok_g = design.factor_codes(group)
    use = design.active & ok_y & ok_g
    present = np.unique(codes[use])
    if len(present) < 2:
        raise SurveyDesignError(
            f"group {group!r} has {len(present)} level(s) among the rows with {var!r}; a rank "
            "test needs at least two.", parameter="group", value=group)
    w = design.base_weights
    scores = np.full(len(use), np.nan)
    scores[use] = rank_scores(y[use], w[use], test)
    data = design.data
    s_col, g_col = "rank_score", "rank_group"
    while s_col in data.columns or g_col in data.columns:
        s_col, g_col = "_" + s_col, "_" + g_col
    gcodes = np.where(use, codes, -1).astype(float)
    gcodes[~use] = np.nan
    frame = data.assign(**{s_col: scores, g_col: gcodes})
    # R's svyranktest: the variance of the influence functions (not refits per replicate)
    fit = design.with_data(frame).subset(use).glm(f"{s_col} ~ C({g_col})",
                                                  replicate_variance="scores")
    name = "Wilcoxon" if test in ("wilcoxon", "KruskalWallis") else test
    k = len(present)
    null = f"the distribution of {var} is the same in every level of {group}"
    if k == 2:
        est, se = float(fit.values[1]), float(np.sqrt(fit.vcov_matrix[1, 1]))
        df = float(fit.dfs)
        t = est / se
        q = float(critical_value(level, df))
        lv = [levels[int(c)] for c in present]
        return TTestResult(est, se, t, df, float(2 * stats.t.sf(abs(t), df)), est - q * se,
                           est + q * se, level, f"Design-based {name} rank test (two groups)",
                           null, f"{fit.inference}; df = {format_df(df)}",
                           f"{var} rank score: {lv[1]} - {lv[0]}")
    res = wald(fit, fit.terms[1:])
    return TestResult(res.statistic, res.df_num, res.df_denom, res.p_value,
                      f"Design-based {name} rank test ({k} groups; Wald F)", null, fit.inference)
