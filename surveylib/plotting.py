"""Charts of estimates, wave comparisons and crosstabs (matplotlib).

Every function returns a matplotlib :class:`~matplotlib.figure.Figure` the user can restyle
(``fig.axes[0]``, ``fig.set_size_inches``, ``fig.savefig``); nothing is shown here, and
:func:`to_png` gives a figure's PNG bytes, identical run to run.  Results have a thin
``plot()`` method calling :func:`plot`; so do the replication report's figures
(:class:`surveylib.report.FigureSpec`): one renderer draws them all.

* :func:`plot_bars`: grouped bars (or dots) of labelled values with confidence-interval
  error bars, vertical or horizontal, value labels clear of the error bars, published values
  and marked changes overlaid -- the renderer the others call;
* :func:`plot_estimate`: an estimate's cells as :func:`plot_bars`, one group of bars per
  domain (a ``by`` column) or per wave (a mapping of estimates);
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

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._validation import check_level, check_option
from .errors import SurveyDesignError
from .results import Estimate

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn: `import surveylib` stays quick
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["BarSeries", "plot", "plot_bars", "plot_comparison", "plot_crosstab",
           "plot_estimate", "to_png"]

#: Colours of the series in order (grey-blue, dark blue, then further series): they read in print.
PALETTE = ("#8c9fb8", "#1f4e79", "#c9822b", "#6b8e23", "#7f7f7f", "#b03a2e")
#: Colour of published values overlaid on the bars and of the change markers.
MARK_COLOUR = "#b03a2e"
MARKER_SYMBOL = {"increase": "\u25b2", "decrease": "\u25bc"}
#: Default legend of the change markers; a chart names its comparison in ``marker_labels``.
MARKER_TEXT = {
    "increase": "\u25b2 a meaningful increase",
    "decrease": "\u25bc a meaningful decrease",
}
_TITLE_SIZE, _SMALL = 9.5, 7


@dataclass(frozen=True)
class BarSeries:
    """One series of a bar chart: a value per category, optionally its confidence interval
    and a published value per category (``None`` or NaN where there is none).

    The replication report's :class:`surveylib.report.Series` is this class.
    """

    name: str
    values: tuple
    low: tuple | None = None
    high: tuple | None = None
    published: tuple | None = None


def _root_figure(ax: Axes) -> Figure:
    """The figure that holds ``ax`` (the top-level one when ``ax`` is in a subfigure)."""
    from matplotlib.figure import Figure

    fig = ax.figure
    while fig is not None and not isinstance(fig, Figure):
        fig = fig.figure
    if fig is None:
        raise SurveyDesignError("ax= is an Axes outside any figure; make it with "
                                "fig.add_subplot()", parameter="ax")
    return fig


def _floats(x) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in x], dtype=float)


def _wrap(text: str, fig: Figure, fontsize: float) -> str:
    """``text`` wrapped to the figure's width (an average glyph is about 0.55 em wide)."""
    chars = max(20, int(fig.get_figwidth() * 72 / (0.55 * fontsize)))
    return textwrap.fill(text, chars)


def plot_bars(categories: Sequence, series: Sequence[BarSeries], *, orient: str = "v",
              kind: str = "bar", value_label: str = "", category_label: str = "",
              title: str | None = None, limits: tuple[float, float] | None = None,
              value_format: str | None = None, markers: Sequence[tuple] = (),
              marker_labels: Mapping[str, str] | None = None, note: str = "",
              legend_title: str | None = None, ax: Axes | None = None) -> Figure:
    """Grouped bars (or dots) of labelled values with confidence-interval error bars.

    Parameters
    ----------
    categories : sequence
        The category labels, along the category axis (top-down when horizontal).
    series : sequence of BarSeries
        One group member per series (a domain, a wave): ``values`` per category, ``low`` and
        ``high`` the interval ends (error bars), ``published`` values drawn as red ticks.
        A NaN value draws no bar.
    orient : {"v", "h"}
        Vertical bars (categories along x) or horizontal (categories along y, for long labels).
    kind : {"bar", "dot"}
        Bars, or dots, with error bars.
    value_label, category_label : str
        Axis titles.
    title : str, optional
        Wrapped to the figure's width; on a figure of its own it spans the figure, left-aligned.
    limits : (float, float), optional
        Range of the value axis (default: matplotlib's, or from 0 past the highest interval end
        with room for the value labels).
    value_format : str, optional
        Label each bar with its value, e.g. ``"{:.0f}%"``; the label sits past the interval's
        end, clear of the error bar.
    markers : sequence of (series index, category index, "increase" | "decrease")
        A ▲ or ▼ after a bar's value label (or interval end), explained below the chart.
    marker_labels : mapping, optional
        The explanation of each marker kind (default :data:`MARKER_TEXT`).
    note : str
        A note below the chart.
    legend_title : str, optional
        Title of the legend of the series (shown when a series has a name).
    ax : matplotlib Axes, optional
        Draw into it (its figure is returned) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_bars(["yes", "no"], [BarSeries("2007", (40.0, 60.0), (35.0, 55.0),
    ...                                           (45.0, 65.0))], value_format="{:.0f}%")
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['40%', '60%']
    """
    check_option(orient, ("v", "h"), name="orient")
    check_option(kind, ("bar", "dot"), name="kind")
    cats = [str(c) for c in categories]
    series = list(series)
    k = max(len(series), 1)
    horizontal = orient == "h"
    if ax is None:
        from matplotlib.figure import Figure

        height = max(3.6, 0.25 * len(cats) * k + 1.6) if horizontal else 4.2
        fig = Figure(figsize=(8.0, height), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = _root_figure(ax)
    pos = np.arange(len(cats), dtype=float)
    width = 0.8 / k
    value_texts: dict[tuple[int, int], Any] = {}
    ends: list[np.ndarray] = []
    pub_at: list[float] = []
    pub_val: list[float] = []
    for i, s in enumerate(series):
        vals = _floats(s.values)
        if len(vals) != len(cats):
            raise SurveyDesignError(
                f"series {s.name!r} has {len(vals)} values for {len(cats)} categories",
                parameter="series", value=len(vals), expected=len(cats))
        here = np.isfinite(vals)
        at = pos + (i - (k - 1) / 2) * width
        has_ci = s.low is not None and s.high is not None
        lo = _floats(s.low) if s.low is not None else vals
        hi = _floats(s.high) if s.high is not None else vals
        err = np.vstack([np.clip(vals - lo, 0, None), np.clip(hi - vals, 0, None)])
        err = np.where(np.isfinite(err), err, 0.0)[:, here]
        errs: dict[str, Any] = {("xerr" if horizontal else "yerr"): err} if has_ci else {}
        colour = PALETTE[i % len(PALETTE)]
        label = s.name or None
        if kind == "bar":
            draw = ax.barh if horizontal else ax.bar
            draw(at[here], vals[here], width * 0.95, label=label, color=colour,
                 edgecolor="white", linewidth=0.5,
                 error_kw={"ecolor": "#333333", "elinewidth": 0.9, "capsize": 2.5}, **errs)
        else:
            xy = (vals[here], at[here]) if horizontal else (at[here], vals[here])
            ax.errorbar(*xy, **errs, fmt="o", color=colour, ecolor="#333333", capsize=2.5,
                        label=label)
        ends += [vals[here], np.where(np.isfinite(hi), hi, vals)[here],
                 np.where(np.isfinite(lo), lo, vals)[here]]
        if value_format:
            for j in np.flatnonzero(here):
                v = vals[j]
                end = (hi[j] if np.isfinite(hi[j]) else v) if v >= 0 else (
                    lo[j] if np.isfinite(lo[j]) else v)
                out = 3 if v >= 0 else -3  # points past the interval's end
                value_texts[(i, int(j))] = ax.annotate(
                    value_format.format(v), (end, at[j]) if horizontal else (at[j], end),
                    xytext=(out, 0) if horizontal else (0, out), textcoords="offset points",
                    ha=("left" if v >= 0 else "right") if horizontal else "center",
                    va="center" if horizontal else ("bottom" if v >= 0 else "top"),
                    fontsize=_SMALL, color="#333333", annotation_clip=False)
        if s.published is not None:
            pub = _floats(s.published)
            ok = np.isfinite(pub)
            pub_at += list(at[ok])
            pub_val += list(pub[ok])
    if pub_at:
        xy = (pub_val, pub_at) if horizontal else (pub_at, pub_val)
        ax.plot(*xy, linestyle="none", marker="|" if horizontal else "_", markersize=12,
                markeredgewidth=2, color=MARK_COLOUR, label="published", zorder=5)
    used = _draw_markers(ax, markers, series, value_texts, pos, width, horizontal)
    cat_axis, val_axis = (ax.yaxis, ax.xaxis) if horizontal else (ax.xaxis, ax.yaxis)
    long_labels = max((len(c) for c in cats), default=0) > 14
    cat_axis.set_ticks(pos, cats)
    if long_labels and not horizontal:
        for t in ax.get_xticklabels():
            t.set_rotation(20)
            t.set_horizontalalignment("right")
    cat_axis.set_label_text(category_label)
    val_axis.set_label_text(value_label)
    set_limits = ax.set_xlim if horizontal else ax.set_ylim
    if limits is not None:
        set_limits(*limits)
    elif value_format and ends:
        every = np.concatenate(ends)
        top = float(np.max(every, initial=0.0))
        set_limits(min(0.0, float(np.min(every, initial=0.0))), top * 1.15 + 1e-9)
    if horizontal:
        ax.invert_yaxis()
    ax.grid(axis="x" if horizontal else "y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, frameon=False, fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))
    if title:
        fig.suptitle(_wrap(title, fig, _TITLE_SIZE), fontsize=_TITLE_SIZE, x=0.01, ha="left")
    legend = {**MARKER_TEXT, **dict(marker_labels or {})}
    footer = "  ".join(legend[u] for u in ("decrease", "increase") if u in used)
    below = " ".join(x for x in (footer, note) if x)
    if below:
        fig.supxlabel(_wrap(below, fig, _SMALL), fontsize=_SMALL, x=0.01, ha="left")
    return fig


def _draw_markers(ax, markers, series, value_texts, pos, width, horizontal) -> set:
    """▲/▼ after the value label of the marked bars (or past their interval's end)."""
    used = set()
    k = max(len(series), 1)
    for si, ci, kind in markers:
        check_option(kind, tuple(MARKER_SYMBOL), name="marker kind")
        anchor = value_texts.get((si, ci))
        style = {"fontsize": 9, "color": MARK_COLOUR, "annotation_clip": False,
                 "textcoords": "offset points"}
        if anchor is not None:  # beside its value label, clear of both
            ax.annotate(MARKER_SYMBOL[kind], (1.0, 0.5) if horizontal else (0.5, 1.0),
                        xycoords=anchor, xytext=(2, 0) if horizontal else (0, 1),
                        ha="left" if horizontal else "center",
                        va="center" if horizontal else "bottom", **style)
        else:
            s = series[si]
            v = _floats(s.values)[ci]
            hi = _floats(s.high)[ci] if s.high is not None else v
            end = hi if np.isfinite(hi) else v
            at = pos[ci] + (si - (k - 1) / 2) * width
            ax.annotate(MARKER_SYMBOL[kind], (end, at) if horizontal else (at, end),
                        xytext=(3, 0) if horizontal else (0, 3),
                        ha="left" if horizontal else "center",
                        va="center" if horizontal else "bottom", **style)
        used.add(kind)
    return used


def to_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes without a metadata date or software tag: the same figure gives
    the same bytes run to run (the replication report's figures)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


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
                  published=None, title: str | None = None, value_labels: bool = False,
                  ax: Axes | None = None) -> Figure:
    """Estimates with confidence-interval error bars (drawn by :func:`plot_bars`).

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
        Published values to overlay as red ticks, keyed by category (the level label)
        or, with groups, by ``(group, category)``; on the scale of the estimates (shares,
        not percent).
    title : str, optional
        Default: the variable label.
    value_labels : bool
        Label each bar with its value (``"45%"`` for percentages), past its interval's end.
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
    pub = {}
    for key, value in dict(published if published is not None else {}).items():
        g, c = key if isinstance(key, tuple) else (groups[0], key)
        pub[(g, c)] = float(value) * scale
    series = []
    for g in groups:
        sub = f[f["group"] == g].set_index("category").reindex(cats)
        series.append(BarSeries(
            str(g) if len(groups) > 1 or g != "" else "",
            tuple(sub["estimate"].to_numpy(float) * scale),
            tuple(sub["ci_low"].to_numpy(float) * scale),
            tuple(sub["ci_high"].to_numpy(float) * scale),
            tuple(pub.get((g, c), np.nan) for c in cats) if pub else None))
    variables = list(dict.fromkeys(f["variable"]))
    name = "; ".join(labels.get(v, v) for v in variables)
    return plot_bars(
        cats, series, orient=orient, kind=kind,
        value_label=f"{statistic}{' (%)' if scale == 100 else ''}, {level:.0%} CI",
        category_label=name if f["level"].notna().any() else "",
        title=title if title is not None else name,
        value_format=("{:.0f}%" if scale == 100 else "{:.3g}") if value_labels else None,
        legend_title=legend_title, ax=ax)


def plot_comparison(comparison, *, orient: str = "h", percent: bool | None = None,
                    title: str | None = None, ax: Axes | None = None) -> Figure:
    """Changes between waves (``b - a``) with their intervals; significant ones filled.

    ``comparison`` is a :class:`~surveylib.inference.Comparison`; the intervals are its
    ``ci()`` (at its level) and "significant" is its ``change`` column (after its
    adjustment).  Percent by default for shares.
    """
    from matplotlib.figure import Figure

    check_option(orient, ("v", "h"), name="orient")
    f = comparison.to_frame()
    shares = f["level"].notna().any()
    scale = 100.0 if (shares if percent is None else percent) else 1.0
    keys = [*comparison.by, "level"] if shares else [*comparison.by, "variable"]
    cats = f[keys].astype(str).agg(" / ".join, axis=1).tolist()
    fig = _root_figure(ax) if ax is not None else Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    pos = np.arange(len(cats), dtype=float)
    y = f["difference"].to_numpy(float) * scale
    err = np.vstack([y - f["ci_low"].to_numpy(float) * scale,
                     f["ci_high"].to_numpy(float) * scale - y])
    sig = (f["change"] != "no significant change").to_numpy()
    for mask, face, label in ((sig, "C0", "significant"), (~sig, "white", "not significant")):
        if mask.any():
            xy = (y[mask], pos[mask]) if orient == "h" else (pos[mask], y[mask])
            errs: dict[str, Any] = {"xerr" if orient == "h" else "yerr": err[:, mask]}
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
