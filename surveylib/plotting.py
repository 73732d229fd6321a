"""Charts of estimates, wave comparisons and crosstabs (matplotlib).

Every function returns a matplotlib :class:`~matplotlib.figure.Figure` the user can restyle
(``fig.axes[0]``, ``fig.set_size_inches``, ``fig.savefig``); nothing is shown or saved here.
Results have a thin ``plot()`` method calling :func:`plot`.

* :func:`plot_estimate`: bars or dots with confidence-interval error bars, vertical or
  horizontal, one group of bars per domain (a ``by`` column) or per wave (a mapping of
  estimates), published values overlaid as markers;
* :func:`plot_comparison`: the change between two waves with its interval, a line at zero,
  significant changes filled;
* :func:`plot_crosstab`: the row (or column) shares of a crosstab, grouped by row level.

Labels come from the data: level labels are the categories, the axis and legend titles the
variable labels (``attrs["variable_labels"]``, see :func:`surveylib.read_spss`).

Examples
--------
>>> import pandas as pd, surveylib as sl
>>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "vote": list("yynnyyny"),
...                    "w": [1.0, 2, 1, 2, 3, 1, 1, 2]})
>>> fig = sl.SurveyDesign(df, strata="h", weights="w").proportion("vote", by="h").plot()
>>> [round(float(b.get_height()), 1) for b in fig.axes[0].patches]  # % n, y; h=1 then h=2
[50.0, 50.0, 14.3, 85.7]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._validation import check_level, check_option
from .errors import SurveyDesignError
from .results import Estimate

__all__ = ["plot", "plot_comparison", "plot_crosstab", "plot_estimate"]


def _frame(est: Estimate, level: float, key) -> pd.DataFrame:
    f = est.to_frame(level)
    f["group"] = key
    return f


def _categories(f: pd.DataFrame, labels: Mapping[str, str]) -> pd.Series:
    variables = list(dict.fromkeys(f["variable"]))
    has_level = f["level"].notna().any()
    if not has_level:
        return f["variable"].map(lambda v: labels.get(v, v))
    if len(variables) == 1:
        return f["level"].astype(str)
    return f["variable"].map(lambda v: labels.get(v, v)) + ": " + f["level"].astype(str)


def plot_estimate(results, *, group: str | None = None, kind: str = "bar",
                  orient: str = "v", level: float = 0.95, percent: bool | None = None,
                  published=None, title: str | None = None, ax=None) -> Figure:
    """Estimates with confidence-interval error bars.

    Parameters
    ----------
    results : Estimate or mapping of str to Estimate
        One estimate (its domains become the groups), or one estimate per wave
        ``{"2007": e1, "2012": e2}`` (the waves become the groups).
    group : str, optional
        The ``by`` column whose values are the groups (default: the estimate's first).
    kind : {"bar", "dot"}
        Bars, or dots, with error bars from the intervals.
    orient : {"v", "h"}
        Vertical bars (categories along x) or horizontal (categories along y).
    level : float
        Confidence level of the error bars.
    percent : bool, optional
        Shares in percent (default for proportions).
    published : mapping or Series, optional
        Published values to overlay as black diamonds, keyed by category (the level label)
        or, with groups, by ``(group, category)``; on the scale of the estimates (shares,
        not percent).
    title : str, optional
        Default: the variable label.
    ax : matplotlib Axes, optional
        Draw into it (its figure is returned) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_option(kind, ("bar", "dot"), name="kind")
    check_option(orient, ("v", "h"), name="orient")
    check_level(level)
    if isinstance(results, Estimate):
        f = results.to_frame(level)
        by = list(results.by)
        group = group if group is not None else (by[0] if by else None)
        if group is not None and group not in by:
            raise SurveyDesignError(f"group={group!r} is not a by column of the estimate "
                                    f"({by}); estimate with by={group!r} first",
                                    parameter="group", value=group, expected=by)
        f["group"] = f[group] if group is not None else ""
        labels, statistic = dict(results.labels), results.statistic
        legend_title = results.label(group) if group is not None else None
    elif isinstance(results, Mapping) and results:
        f = pd.concat([_frame(e, level, k) for k, e in results.items()], ignore_index=True)
        first = next(iter(results.values()))
        labels, statistic, legend_title = dict(first.labels), first.statistic, None
    else:
        raise SurveyDesignError("plot_estimate needs an Estimate or a mapping {label: Estimate}",
                                parameter="results", value=type(results).__name__)
    scale = 100.0 if (statistic == "proportion" if percent is None else percent) else 1.0
    f["category"] = _categories(f, labels)
    cats = list(dict.fromkeys(f["category"]))
    groups = list(dict.fromkeys(f["group"]))
    fig = ax.figure if ax is not None else Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    width = 0.8 / len(groups)
    pos = np.arange(len(cats), dtype=float)
    for i, g in enumerate(groups):
        sub = f[f["group"] == g].set_index("category").reindex(cats)
        here = ~sub["estimate"].isna().to_numpy()
        x = (pos + (i - (len(groups) - 1) / 2) * width)[here]
        y = sub["estimate"].to_numpy(float)[here] * scale
        err = np.vstack([y - sub["ci_low"].to_numpy(float)[here] * scale,
                         sub["ci_high"].to_numpy(float)[here] * scale - y])
        label = str(g) if len(groups) > 1 or g != "" else None
        if kind == "bar":
            draw = ax.bar if orient == "v" else ax.barh
            draw(x, y, width * 0.95, label=label,
                 **({"yerr": err} if orient == "v" else {"xerr": err}), capsize=3,
                 error_kw={"elinewidth": 1})
        else:
            xy = (x, y) if orient == "v" else (y, x)
            ax.errorbar(*xy, **({"yerr": err} if orient == "v" else {"xerr": err}), fmt="o",
                        capsize=3, label=label)
    if published is not None:
        px, py = [], []
        for key, value in dict(published).items():
            g, c = (key if isinstance(key, tuple) else (groups[0], key))
            if c in cats and g in groups:
                px.append(pos[cats.index(c)] + (groups.index(g) - (len(groups) - 1) / 2) * width)
                py.append(float(value) * scale)
        xy = (px, py) if orient == "v" else (py, px)
        ax.plot(*xy, linestyle="none", marker="D", color="black", label="published", zorder=5)
    cat_axis, val_axis = (ax.xaxis, ax.yaxis) if orient == "v" else (ax.yaxis, ax.xaxis)
    cat_axis.set_ticks(pos, cats)
    variables = list(dict.fromkeys(f["variable"]))
    name = "; ".join(labels.get(v, v) for v in variables)
    cat_axis.set_label_text(name if f["level"].notna().any() else "")
    val_axis.set_label_text(f"{statistic}{' (%)' if scale == 100 else ''}, {level:.0%} CI")
    if orient == "h":
        ax.invert_yaxis()
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, frameon=False)
    ax.set_title(title if title is not None else name)
    return fig


def plot_comparison(comparison, *, orient: str = "h", percent: bool | None = None,
                    title: str | None = None, ax=None) -> Figure:
    """Changes between waves (``b - a``) with their intervals; significant ones filled.

    ``comparison`` is a :class:`~surveylib.inference.Comparison`; the intervals are its
    ``ci()`` (at its level) and "significant" is its ``change`` column (after its
    adjustment).  Percent by default for shares.
    """
    check_option(orient, ("v", "h"), name="orient")
    f = comparison.to_frame()
    shares = f["level"].notna().any()
    scale = 100.0 if (shares if percent is None else percent) else 1.0
    keys = [*comparison.by, "level"] if shares else [*comparison.by, "variable"]
    cats = f[keys].astype(str).agg(" / ".join, axis=1).tolist()
    fig = ax.figure if ax is not None else Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    pos = np.arange(len(cats), dtype=float)
    y = f["difference"].to_numpy(float) * scale
    err = np.vstack([y - f["ci_low"].to_numpy(float) * scale,
                     f["ci_high"].to_numpy(float) * scale - y])
    sig = (f["change"] != "no significant change").to_numpy()
    for mask, face, label in ((sig, "C0", "significant"), (~sig, "white", "not significant")):
        if mask.any():
            xy = (y[mask], pos[mask]) if orient == "h" else (pos[mask], y[mask])
            errs = {"xerr" if orient == "h" else "yerr": err[:, mask]}
            ax.errorbar(*xy, **errs, fmt="o", color="C0", markerfacecolor=face, capsize=3,
                        label=label)
    (ax.axvline if orient == "h" else ax.axhline)(0, color="grey", linewidth=0.8)
    cat_axis, val_axis = (ax.yaxis, ax.xaxis) if orient == "h" else (ax.xaxis, ax.yaxis)
    cat_axis.set_ticks(pos, cats)
    val_axis.set_label_text(f"change b - a{' (points)' if scale == 100 else ''}, "
                            f"{comparison.level:.0%} CI")
    if orient == "h":
        ax.invert_yaxis()
    ax.legend(frameon=False)
    ax.set_title(title if title is not None else ", ".join(dict.fromkeys(f["variable"])))
    return fig


def plot_crosstab(tab, *, what: str = "row", **options) -> Figure:
    """Shares of a crosstab: ``what="row"`` the column levels within each row level
    (grouped by row level), ``"col"`` the reverse; options as :func:`plot_estimate`."""
    check_option(what, ("row", "col"), name="what")
    est = tab.row_shares if what == "row" else tab.col_shares
    group = tab.row if what == "row" else tab.col
    return plot_estimate(est, group=group, **options)


def plot(result, **options) -> Figure:
    """Chart of any result that has one: an :class:`~surveylib.results.Estimate` (or a
    mapping of them, one per wave), a comparison of waves or a crosstab."""
    if isinstance(result, Estimate | Mapping):
        return plot_estimate(result, **options)
    if hasattr(result, "row_shares") and hasattr(result, "col_shares"):
        return plot_crosstab(result, **options)
    if hasattr(result, "estimate_a") and hasattr(result, "estimate_b"):
        return plot_comparison(result, **options)
    raise SurveyDesignError(
        f"plot() draws estimates, wave comparisons and crosstabs; a {type(result).__name__} "
        "has no chart: plot the estimates it was computed from", parameter="result",
        value=type(result).__name__)
