"""Weight diagnostics: summaries, margin tables and a before/after plot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_list, check_columns, data_error, invalid_argument
from ..errors import WeightingError
from ._common import base_weights
from ._population import match_cells, population_table

SUMMARY_FIELDS = ["n", "sum", "min", "max", "ratio", "mean", "cv", "deff_kish", "n_eff"]
MARGIN_COLUMNS = ["n", "total", "share", "total_before", "share_before", "target",
                  "target_share", "difference"]


def _summary(w: np.ndarray) -> list:
    n = len(w)
    s = w.sum()
    mean = s / n
    cv = float(np.sqrt(np.mean((w - mean) ** 2)) / mean)
    deff = float(n * np.sum(w**2) / s**2)
    return [n, s, w.min(), w.max(), w.max() / w.min(), mean, cv, deff, s**2 / np.sum(w**2)]


def _check_same_rows(other, design, name: str) -> None:
    n, m = len(design.active), len(other.active)
    if m != n:
        raise invalid_argument(name, other, f"a design on the same data ({n} rows)",
                               "pass the same design before (or after) weighting",
                               shown=f"<design of {m} rows>")


def weight_summary(design, by=None) -> pd.Series | pd.DataFrame:
    """Summary of the weights of the rows in the design.

    Parameters
    ----------
    design : SurveyDesign
    by : str or list of str, optional
        Summarise within groups (e.g. strata).

    Returns
    -------
    Series (or DataFrame with one row per group)
        ``n``, ``sum``, ``min``, ``max``, ``ratio`` (max/min), ``mean``, ``cv`` (standard
        deviation with divisor n over the mean), ``deff_kish`` (Kish's design effect from
        unequal weighting, ``1 + cv^2 = n sum(w^2) / sum(w)^2``) and ``n_eff``
        (``sum(w)^2 / sum(w^2) = n / deff_kish``).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> d = sl.SurveyDesign(pd.DataFrame({"w": [1.0, 1.0, 2.0, 4.0]}), weights="w")
    >>> float(d.weight_summary()["deff_kish"])
    1.375
    """
    w0, active = base_weights(design)
    if not by:
        return pd.Series(_summary(w0[active]), index=SUMMARY_FIELDS, name="weights")
    cols = as_list(by)
    data = design.data
    check_columns(data, cols, role="by")
    frame = data.loc[active, cols]
    rows = []
    keys = []
    for key, idx in frame.groupby(cols, sort=True, observed=True).indices.items():
        keys.append(key if isinstance(key, tuple) else (key,))
        rows.append(_summary(w0[active][idx]))
    out = pd.DataFrame(rows, columns=SUMMARY_FIELDS)
    out.index = pd.MultiIndex.from_tuples(keys, names=cols) if len(cols) > 1 else pd.Index(
        [k[0] for k in keys], name=cols[0])
    return out


def margin_table(design, by, *, before=None, population=None) -> pd.DataFrame:
    """Weighted margins of ``by`` after weighting, optionally against ``before`` and targets.

    Parameters
    ----------
    design : SurveyDesign
        The weighted design.
    by : str or list of str
        Variable(s) whose levels (or combinations) are tabulated.
    before : SurveyDesign, optional
        The design before weighting (same data).
    population : dict, Series or DataFrame, optional
        Target counts or shares (shares are scaled to the weighted total of ``design``).

    Returns
    -------
    DataFrame
        The ``by`` columns and ``n`` (respondents), ``total``, ``share``, ``total_before``,
        ``share_before``, ``target``, ``target_share``, ``difference`` (``total - target``);
        columns about ``before`` or ``population`` are NaN when that argument is not given.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> from surveylib.weighting import margin_table
    >>> d = sl.SurveyDesign(pd.DataFrame({"s": ["m", "f", "f"], "w": 1.0}), weights="w")
    >>> margin_table(d.poststratify("s", {"m": 5, "f": 5}), "s", before=d)["total_before"].tolist()
    [2.0, 1.0]
    """
    cols = as_list(by)
    data = design.data
    check_columns(data, cols, role="by")
    w, active = base_weights(design)
    frame = data.loc[active, cols]
    if frame.isna().any(axis=None):
        raise data_error(WeightingError,
                         f"margin_table: {cols} have missing values among the design's rows",
                         "recode them into a level or subset the design first", parameter="by",
                         value=cols, expected="no missing values")
    grp = frame.groupby(cols, sort=True, observed=True)
    codes = grp.ngroup().to_numpy()
    keys = grp.size().index.to_frame(index=False)
    k = len(keys)
    out = keys.copy()
    out["n"] = np.bincount(codes, minlength=k)
    out["total"] = np.bincount(codes, weights=w[active], minlength=k)
    out["share"] = out["total"] / out["total"].sum()
    out["total_before"] = np.nan
    out["share_before"] = np.nan
    if before is not None:
        _check_same_rows(before, design, "before")
        wb = np.where(active, before.base_weights, 0.0)
        out["total_before"] = np.bincount(codes, weights=wb[active], minlength=k)
        out["share_before"] = out["total_before"] / out["total_before"].sum()
    out["target"] = np.nan
    out["target_share"] = np.nan
    if population is not None:
        table = population_table(population, cols, what=f"population of {cols}")
        cells = match_cells(design, table, active, w).cells[active]
        target = table.scaled(out["total"].sum())
        # each group maps to one population cell
        first = np.full(k, -1, dtype=np.int64)
        first[codes[::-1]] = cells[::-1]
        out["target"] = target[first]
        out["target_share"] = out["target"] / target.sum()
    out["difference"] = out["total"] - out["target"]
    return out


def plot_weights(before, after=None, *, bins: int = 40):
    """Histogram of the weights before (and after) weighting, and after against before.

    Parameters
    ----------
    before : SurveyDesign
    after : SurveyDesign, optional
        The weighted design (same data).
    bins : int

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot (no global state, works with any backend, including Agg).
    """
    from matplotlib.figure import Figure

    wb, active = base_weights(before)
    wb = wb[active]
    ncols = 1 if after is None else 2
    fig = Figure(figsize=(5 * ncols, 4))
    ax = fig.add_subplot(1, ncols, 1)
    if after is not None:
        _check_same_rows(after, before, "after")
        wa = np.where(active, after.base_weights, 0.0)[active]
        lo, hi = min(wb.min(), wa.min()), max(wb.max(), wa.max())
        edges: Any = np.linspace(lo, hi, bins + 1) if hi > lo else bins  # matplotlib takes both
        ax.hist(wb, bins=edges, alpha=0.5, label="before")
        ax.hist(wa, bins=edges, alpha=0.5, label="after")
        ax.legend()
        ax2 = fig.add_subplot(1, 2, 2)
        ax2.scatter(wb, wa, s=6, alpha=0.5)
        lim = [lo, hi]
        ax2.plot(lim, lim, color="grey", linewidth=0.8)
        ax2.set_xlabel("weight before")
        ax2.set_ylabel("weight after")
        ax2.set_title("after vs before")
    else:
        ax.hist(wb, bins=bins)
    ax.set_xlabel("weight")
    ax.set_ylabel("respondents")
    ax.set_title("weights")
    fig.tight_layout()
    return fig
