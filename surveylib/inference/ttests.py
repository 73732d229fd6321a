"""Design-based t tests (R ``svyttest``): two groups, one sample, paired."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_columns, check_level
from ..errors import SurveyDesignError
from ..results import TTestResult, critical_value, format_df


def ttest(design, var, *, by=None, mu: float = 0.0, level: float = 0.95,
          na_rm: bool = False) -> TTestResult:
    """Design-based t test (R ``svyttest``).

    Parameters
    ----------
    design : SurveyDesign
    var : str or (str, str)
        Numeric column; a pair ``(a, b)`` tests the mean of ``a - b`` (paired test).
    by : str, optional
        A two-level group: tests the difference of the domain means (second level minus
        first, levels in categorical or sorted order), as R ``svyttest(y ~ g)``.
    mu : float
        Hypothesised mean (one-sample and paired forms; R: ``svyttest(I(y - mu) ~ 0)``).
    level : float
        Confidence level of the interval.
    na_rm : bool
        Drop rows missing ``var`` (or the group) instead of raising; the design is kept.

    Returns
    -------
    TTestResult

    Notes
    -----
    Every form uses ``df = design df - 1`` (R: ``degf(design) - 1`` for the one-sample form,
    and the residual df ``degf + 1 - 2`` of ``svyglm(y ~ g)`` for the two-group form), where
    the design df counts PSUs minus strata among rows with data.  The two-group SE is that of
    the difference of domain means with their covariance, which equals the regression SE.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 2, 2, 2], "g": list("ababab"),
    ...                    "y": [1.0, 2, 3, 4, 6, 5], "w": [1.0, 1, 2, 2, 1, 1]})
    >>> r = sl.SurveyDesign(df, strata="h", weights="w").ttest("y", by="g")
    >>> round(r.estimate, 4)
    0.5
    """
    check_level(level)
    data = design.data
    if isinstance(var, (tuple, list)):
        if len(var) != 2:
            raise SurveyDesignError(f"a paired t test takes two columns, got {list(var)}.")
        a, b = var
        check_columns(data, [a, b], role="ttest")
        name = f"{a} - {b}"
        tmp = data.copy(deep=False)
        tmp[name] = pd.to_numeric(data[a]) - pd.to_numeric(data[b])
        design = design.with_data(tmp)
        kind = "paired"
    else:
        check_columns(data, [var], role="ttest")
        name = var
        kind = "two" if by is not None else "one"
    if by is not None and kind == "paired":
        raise SurveyDesignError("give either a pair of columns or by=, not both.")
    d = design
    data = d.data
    active = d.active
    ok = data[name].notna().to_numpy().copy()
    if by is not None:
        if isinstance(by, (list, tuple)):
            raise SurveyDesignError("ttest(by=) takes one grouping column.")
        check_columns(data, [by], role="by")
        ok &= data[by].notna().to_numpy()
    if not ok[active].all():
        if not na_rm:
            bad = int((~ok & active).sum())
            raise SurveyDesignError(
                f"{bad} row(s) of the design miss {name!r}" + (f" or {by!r}" if by else "")
                + "; pass na_rm=True to drop them (the design is kept for variances)."
            )
        d = d.subset(ok)
    df = float(d.degf() - 1)
    if kind == "two":
        m = d.mean(name, by=by)
        if len(m.values) != 2:
            raise SurveyDesignError(
                f"by={by!r} has {len(m.values)} levels in the design; a two-group t test needs "
                "exactly two — subset the design or recode the group."
            )
        levels = list(m.keys[by])
        c = np.array([-1.0, 1.0])
        est = float(c @ m.values)
        se = float(np.sqrt(c @ m.vcov_matrix @ c))
        method = f"Design-based two-sample t test of {name} by {by} ({levels[1]} - {levels[0]})"
        null = f"the mean of {name} is equal in {by} = {levels[0]!r} and {by} = {levels[1]!r}"
        label = f"{name}: {levels[1]} - {levels[0]}"
        mu_use = 0.0
        if mu != 0.0:
            raise SurveyDesignError("mu= applies to one-sample and paired tests, not by=.")
    else:
        m = d.mean(name)
        est = float(m.values[0])
        se = float(np.sqrt(m.vcov_matrix[0, 0]))
        mu_use = float(mu)
        what = "paired" if kind == "paired" else "one-sample"
        method = f"Design-based {what} t test of {name}"
        null = f"the mean of {name} is {mu_use:g}"
        label = name
    t = (est - mu_use) / se
    p = float(2 * stats.t.sf(abs(t), df))
    q = float(critical_value(level, df))
    footer = f"{d.describe()}; df = {format_df(df + 1)} (design) - 1"
    return TTestResult(est, se, float(t), df, p, est - q * se, est + q * se, level, method, null,
                       footer, label)
