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
