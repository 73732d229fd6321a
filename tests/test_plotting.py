"""Charts: structural checks of the Figure's artists against the results they draw.

Bar heights must equal the estimates, error-bar ends the confidence limits, tick labels the
level labels and legend entries the domains; every expected number comes from the result.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

import surveylib as sl
import surveylib.plotting as splot

DATA = Path(__file__).parent / "conformance" / "data"


@pytest.fixture(scope="module")
def design():
    df = pd.read_csv(DATA / "apistrat.csv")
    df["awards_cat"] = pd.Categorical(df["awards"], categories=["No", "Yes"])
    df.attrs["variable_labels"] = {"sch.wide": "Met school-wide target", "stype": "School type"}
    return sl.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")


def error_segments(ax) -> np.ndarray:
    """(low, high) of every error bar drawn, in drawing order (vertical bars: y ends)."""
    segs = [seg for c in ax.collections if isinstance(c, LineCollection)
            for seg in c.get_segments()]
    return np.array(segs)


def test_bars_error_bars_and_labels_equal_the_estimate(design):
    est = design.proportion("sch.wide", by="stype")
    fig = est.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    f = est.to_frame()
    heights = [b.get_height() for b in ax.patches]
    np.testing.assert_allclose(heights, 100 * f["estimate"].to_numpy(), rtol=1e-12)
    segs = error_segments(ax)
    np.testing.assert_allclose(segs[:, 0, 1], 100 * f["ci_low"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(segs[:, 1, 1], 100 * f["ci_high"].to_numpy(), rtol=1e-12)
    # each error bar sits on its bar
    centres = [b.get_x() + b.get_width() / 2 for b in ax.patches]
    np.testing.assert_allclose(segs[:, 0, 0], centres)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["No", "Yes"]
    assert ax.get_xlabel() == "Met school-wide target"
    assert ax.get_ylabel() == "proportion (%), 95% CI"
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "School type"
    assert [t.get_text() for t in legend.get_texts()] == ["E", "H", "M"]


def test_horizontal_dots_and_published_overlay(design):
    est = design.mean("api00", by="stype")
    published = {("E", "api00"): 674.4, ("M", "api00"): 636.6}
    fig = splot.plot_estimate(est, kind="dot", orient="h", published=published, level=0.9)
    ax = fig.axes[0]
    assert not ax.patches  # dots, no bars
    ci = est.ci(0.9)
    segs = error_segments(ax)
    np.testing.assert_allclose(segs[:, 0, 0], ci["ci_low"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(segs[:, 1, 0], ci["ci_high"].to_numpy(), rtol=1e-12)
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "published")
    np.testing.assert_allclose(line.get_xdata(), [674.4, 636.6])
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # categories read top-down
    assert ax.get_xlabel() == "mean, 90% CI"


def test_waves_as_groups_and_crosstab(design):
    a = design.subset(design.data["stype"] == "E").proportion("awards_cat")
    b = design.subset(design.data["stype"] == "H").proportion("awards_cat")
    ax = splot.plot({"2007": a, "2012": b}).axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches],
                               100 * np.r_[a.values, b.values], rtol=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["2007", "2012"]
    tab = design.crosstab("stype", "sch.wide")
    ax = tab.plot().axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches],
                               100 * tab.row_shares.values, rtol=1e-12)


def test_comparison_plot_marks_significant_changes(design):
    a = design.subset(design.data["stype"] == "E")
    b = design.subset(design.data["stype"] == "H")
    cmp = sl.compare(a, b, "sch.wide")
    ax = cmp.plot().axes[0]
    f = cmp.to_frame()
    segs = error_segments(ax)
    got = sorted(map(tuple, np.round(segs[:, :, 0], 10)))
    want = sorted(zip(np.round(100 * f["ci_low"], 10), np.round(100 * f["ci_high"], 10),
                      strict=True))
    assert got == want
    sig = (f["change"] != "no significant change").to_numpy()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [name for name, hit in (("significant", sig.any()),
                                             ("not significant", (~sig).any())) if hit]
    assert any(ln.get_xdata()[0] == 0 for ln in ax.get_lines())  # the zero line


def test_plot_rejects_results_without_a_chart(design):
    test = design.crosstab("stype", "sch.wide").test()
    with pytest.raises(sl.SurveyDesignError, match="has no chart"):
        test.plot()
    with pytest.raises(sl.SurveyDesignError, match="not a by column"):
        design.mean("api00", by="stype").plot(group="cname")


def test_docstring_examples_run():
    result = doctest.testmod(splot)
    assert result.attempted >= 2 and result.failed == 0


# ----------------------------------------------------------- plot_bars: the one renderer
def _display_box(artist, fig):
    """The artist's extent in display units, as drawn (``fig`` drawn first)."""
    return artist.get_window_extent()


def test_horizontal_bars_with_labelled_values_clear_of_their_error_bars():
    cats = ("to work", "to trade", "other reason")
    a = splot.BarSeries("2007", (57.0, 49.0, 8.0), (53.0, 45.0, 5.5), (61.0, 53.0, 10.5),
                        published=(57.0, 49.0, None))
    b = splot.BarSeries("2012", (62.0, 47.0, 8.0), (58.0, 43.0, 5.0), (66.0, 51.0, 11.0))
    fig = splot.plot_bars(cats, [a, b], orient="h", value_format="{:.0f}%",
                          value_label="percent", title="Why they come")
    ax = fig.axes[0]
    np.testing.assert_allclose([p.get_width() for p in ax.patches], a.values + b.values)
    segs = error_segments(ax)  # horizontal error bars: x ends at the interval's limits
    np.testing.assert_allclose(segs[:, 0, 0], a.low + b.low)
    np.testing.assert_allclose(segs[:, 1, 0], a.high + b.high)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(cats)
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # first category on top
    assert [t.get_text() for t in ax.texts] == ["57%", "49%", "8%", "62%", "47%", "8%"]
    fig.draw_without_rendering()
    for text, high, y in zip(ax.texts, a.high + b.high, segs[:, 1, 1], strict=True):
        end = ax.transData.transform((high, y))
        box = _display_box(text, fig)
        assert box.x0 > end[0] and box.y0 < end[1] < box.y1  # right of the cap, on its bar
    published = next(ln for ln in ax.get_lines() if ln.get_label() == "published")
    np.testing.assert_allclose(published.get_xdata(), [57.0, 49.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["published", "2007", "2012"]
    assert ax.get_xlabel() == "percent" and fig.get_suptitle() == "Why they come"


def test_vertical_value_labels_sit_above_the_error_bar_and_titles_wrap_to_the_figure():
    title = "What are your attitudes towards migrants from China? " * 4
    s = splot.BarSeries("", (1.2, 55.0, 15.0), (0.4, 51.0, 12.8), (2.5, 59.0, 18.9))
    fig = splot.plot_bars(("very good", "indifferent", "poor"), [s], value_format="{:.0f}",
                          title=title)
    ax = fig.axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], s.values)
    assert ax.get_legend() is None  # one unnamed series: nothing to tell apart
    fig.draw_without_rendering()
    for text, x, high in zip(ax.texts, [p.get_x() + p.get_width() / 2 for p in ax.patches],
                             s.high, strict=True):
        assert _display_box(text, fig).y0 > ax.transData.transform((x, high))[1]
    lines = fig.get_suptitle().split("\n")
    assert len(lines) > 1 and " ".join(lines) == title.strip()
    suptitle = next(t for t in fig.texts if t.get_text() == fig.get_suptitle())
    assert _display_box(suptitle, fig).x1 <= fig.bbox.x1  # within the figure's width


def test_report_figures_are_drawn_by_plot_bars_with_power_in_percent():
    from surveylib.report import FigureSpec, Series

    assert Series is splot.BarSeries
    spec = FigureSpec("wave3_power", "Power (%) to detect changes", ("poor", "positive"),
                      (Series("2007 vs 2012", (99.6, 28.4)), Series("wave 3", (99.9, 38.3))),
                      ylabel="power, percent", ylim=(0, 100),
                      markers=((1, 1, "increase"),),
                      marker_labels=(("increase", "\u25b2 up since 2012"),), note="a note")
    fig = spec.plot()
    ax = fig.axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [99.6, 28.4, 99.9, 38.3])
    assert not error_segments(ax).size  # no intervals given, no error bars drawn
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["100%", "28%", "100%", "38%", "\u25b2"]
    assert ax.get_ylim() == (0, 100) and ax.get_ylabel() == "power, percent"
    fig.draw_without_rendering()
    value, marker = _display_box(ax.texts[3], fig), _display_box(ax.texts[4], fig)
    assert marker.y0 >= value.y1  # the marker sits above its value label, not on it
    assert "\u25b2 up since 2012" in fig.get_supxlabel() and "a note" in fig.get_supxlabel()
    assert splot.to_png(fig) == splot.to_png(spec.plot())  # byte-identical run to run


def test_plot_estimate_value_labels_are_the_percentages(design):
    est = design.proportion("sch.wide")
    ax = est.plot(value_labels=True).axes[0]
    want = [f"{v:.0f}%" for v in 100 * est.values]
    assert [t.get_text() for t in ax.texts] == want


def test_plot_bars_rejects_a_series_of_the_wrong_length():
    with pytest.raises(sl.SurveyDesignError, match="2 values for 3 categories"):
        splot.plot_bars(("a", "b", "c"), [splot.BarSeries("s", (1.0, 2.0))])
