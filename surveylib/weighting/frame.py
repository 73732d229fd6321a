"""Design weights from a sampling frame, and weighting-class nonresponse adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_list, as_pandas, check_columns, data_error, invalid_argument
from ..errors import WeightingError
from ._common import base_weights, with_weights
from ._population import match_cells, population_table
from .adjustments import NonresponseAdjustment


def design_weights(data, stratum_col: str, population, *, weight_col: str = "weight",
                   fpc_col: str = "fpc") -> pd.DataFrame:
    """Stratified element-sampling weights ``N_h / n_h`` and the fpc ``N_h`` from a frame.

    Parameters
    ----------
    data : DataFrame
        The sample, one row per respondent (not modified).
    stratum_col : str
        Stratum column.
    population : dict, Series or DataFrame
        Frame size ``N_h`` of every stratum (a DataFrame has ``stratum_col`` and one count column).
    weight_col, fpc_col : str
        Names of the columns added.

    Returns
    -------
    DataFrame
        A copy of ``data`` with ``weight_col`` (``N_h / n_h``) and ``fpc_col`` (``N_h``).

    Raises
    ------
    WeightingError
        A stratum of the sample is not in the frame, a frame stratum (N_h > 0) has no sample,
        ``N_h < n_h``, or the new columns already exist.

    Notes
    -----
    These are the weights of simple random sampling without replacement within strata (R
    ``svydesign(strata=~h, fpc=~N_h)`` derives the same weights from the fpc).  For cluster
    samples the weights need the PSU selection probabilities, which a frame of stratum sizes
    does not give.

    Examples
    --------
    >>> import pandas as pd
    >>> from surveylib.weighting import design_weights
    >>> df = pd.DataFrame({"h": ["a", "a", "b"]})
    >>> design_weights(df, "h", {"a": 100, "b": 50})["weight"].tolist()
    [50.0, 50.0, 50.0]
    """
    df = as_pandas(data)
    check_columns(df, [stratum_col], role="stratum", parameter="stratum_col")
    for name, c in (("weight_col", weight_col), ("fpc_col", fpc_col)):
        if c in df.columns:
            raise data_error(WeightingError, f"design_weights: column {c!r} already exists in "
                             "the data", f"choose another name with {name}= or drop the column",
                             parameter=name, value=c, expected="the name of a new column")
    table = population_table(population, [stratum_col], what=f"frame of {stratum_col!r}")
    if table.is_share:
        raise table.error("the stratum sizes sum to 1 (shares?)",
                          "design weights need population counts N_h", expected="counts N_h")
    active = np.ones(len(df), dtype=bool)
    ones = np.ones(len(df))
    match = match_cells(df, table, active, ones)
    n_h = np.bincount(match.cells, minlength=match.n_cells)
    big_n = table.values
    small = np.flatnonzero((n_h > 0) & (big_n < n_h))
    if len(small):
        i = small[0]
        raise table.error(
            f"stratum {table.label(i)} has N_h = {big_n[i]:g} in the frame but {n_h[i]} "
            "respondents in the sample", "check the frame sizes", value=float(big_n[i]),
            expected=f">= {n_h[i]}")
    out = df.copy()
    out[weight_col] = big_n[match.cells] / n_h[match.cells]
    out[fpc_col] = big_n[match.cells].astype(float)
    return out


def from_frame(data, stratum_col: str, population, *, lonely_psu: str = "fail"):
    """A stratified :class:`SurveyDesign` with weights and fpc from the frame.

    Equivalent to ``SurveyDesign(design_weights(data, stratum_col, population),
    strata=stratum_col, weights="weight", fpc="fpc")`` (R ``svydesign(~1, strata=~h,
    fpc=~N_h)``).
    """
    from ..design import SurveyDesign

    df = design_weights(data, stratum_col, population)
    return SurveyDesign(df, strata=stratum_col, weights="weight", fpc="fpc", lonely_psu=lonely_psu)


def nonresponse_adjust(design, respondent_col: str, classes):
    """Weighting-class nonresponse adjustment: respondents carry the weight of their class.

    Parameters
    ----------
    design : SurveyDesign
        All eligible sample units (respondents and nonrespondents).
    respondent_col : str
        Boolean (or 0/1) column, true for respondents.
    classes : str or list of str
        Weighting-class column(s); the classes are their combinations.

    Returns
    -------
    SurveyDesign
        The respondents (nonrespondents stay in the design with zero weight, as a subset, so
        strata and PSU counts are kept) with weights ``w * f_c``,
        ``f_c = sum_{eligible in c} w / sum_{respondents in c} w``.  The factors are in
        ``.adjustments[-1].table`` (class, ``n_eligible``, ``n_respondents``,
        ``weighted_eligible``, ``weighted_respondents``, ``factor``).

    Raises
    ------
    WeightingError
        A class has no respondents (collapse it with a neighbouring class), or the respondent
        column is missing values or not boolean.

    Notes
    -----
    The variance treats the class totals of eligible units as estimated: the linearised score
    of the adjusted total is ``w_i ybar_c`` for every eligible unit plus
    ``f_c w_i (y_i - ybar_c)`` for respondents (``ybar_c`` the respondents' weighted mean in
    the class).  R has no single function for this; the tests check it against
    ``svycontrast`` of class totals in R.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> from surveylib.weighting import nonresponse_adjust
    >>> df = pd.DataFrame({"c": ["a", "a", "b", "b"], "r": [1, 0, 1, 1], "w": 10.0})
    >>> d = nonresponse_adjust(sl.SurveyDesign(df, weights="w"), "r", "c")
    >>> d.weights.tolist()
    [20.0, 0.0, 10.0, 10.0]
    """
    data = design.data
    check_columns(data, [respondent_col], role="respondent", parameter="respondent_col")
    class_cols = as_list(classes)
    if not class_cols:
        raise invalid_argument("classes", classes, "one or more column names",
                               "give the weighting-class column(s) as classes=")
    check_columns(data, class_cols, role="weighting class", parameter="classes")
    w0, active = base_weights(design)
    r = data[respondent_col]
    na = r.isna().to_numpy() & active
    if na.any():
        raise data_error(
            WeightingError,
            f"respondent column {respondent_col!r} has {int(na.sum())} missing value(s)",
            "code every eligible unit as respondent (True/1) or nonrespondent (False/0)",
            parameter="respondent_col", value=respondent_col, expected="no missing values")
    rv = r.to_numpy()
    if rv.dtype == bool:
        resp = rv.astype(bool)
    else:
        vals = pd.to_numeric(r, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not np.all(np.isin(vals[active], [0.0, 1.0])):
            raise data_error(
                WeightingError,
                f"respondent column {respondent_col!r} must be boolean or 0/1, found values "
                f"{list(pd.unique(r[active])[:5])}", "recode it",
                parameter="respondent_col", value=respondent_col, expected="boolean or 0/1")
        resp = vals == 1.0
    resp = resp & active
    frame = data.loc[active, class_cols]
    bad = frame.isna().any(axis=1).to_numpy()
    if bad.any():
        raise data_error(
            WeightingError,
            f"weighting class column(s) {class_cols} have missing values in {int(bad.sum())} "
            "eligible row(s)", "give every eligible unit a class",
            parameter="classes", value=class_cols, expected="no missing values")
    keys = frame.drop_duplicates().reset_index(drop=True)
    keys["__n"] = 1.0
    table = population_table(keys, class_cols, what=f"weighting classes {class_cols}",
                             parameter="classes")
    cells = match_cells(data, table, active, w0).cells
    k = len(keys)
    elig_w = np.bincount(cells[active], weights=w0[active], minlength=k)
    resp_w = np.bincount(cells[resp], weights=w0[resp], minlength=k)
    n_elig = np.bincount(cells[active], minlength=k)
    n_resp = np.bincount(cells[resp], minlength=k)
    none = np.flatnonzero(n_resp == 0)
    if len(none):
        more = f" (and {len(none) - 1} more classes)" if len(none) > 1 else ""
        raise data_error(
            WeightingError,
            f"weighting class {table.label(none[0])} has {n_elig[none[0]]} eligible unit(s) but "
            f"no respondents{more}", "collapse it with a similar class",
            parameter="classes", value=table.label(none[0]))
    factor = elig_w / resp_w
    new = np.where(resp, w0 * factor[np.maximum(cells, 0)], 0.0)
    tab = keys[class_cols].copy()
    tab["n_eligible"] = n_elig
    tab["n_respondents"] = n_resp
    tab["weighted_eligible"] = elig_w
    tab["weighted_respondents"] = resp_w
    tab["factor"] = factor
    order = tab.sort_values(class_cols).index.to_numpy()
    remap = np.empty(k, dtype=np.int64)
    remap[order] = np.arange(k)
    tab = tab.loc[order].reset_index(drop=True)
    cells = np.where(cells >= 0, remap[np.maximum(cells, 0)], -1)
    adj = NonresponseAdjustment(
        classes=tuple(class_cols), table=tab, cells=cells, eligible_weights=w0,
        respondent_weights=new,
    )
    return with_weights(design, new, active, adj).with_active(resp)
