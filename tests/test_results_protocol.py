"""Every result type answers one protocol (surveylib.results).

Each case builds one result on the apistrat data of ``tests/conformance/data/`` (R
``data(api)``; design R ``svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc)``) with a
column and a level named ``<b>x</b>``, so that printing must escape labels.  Checked for each:
the accessors are pandas objects on one index and agree with ``to_frame()``; ``to_frame()`` ends
with the type's fixed ``frame_columns`` whatever the arguments; ``summary()`` is ``str()``;
``_repr_html_()`` is an HTML table with the footer (the design's description) and escaped
labels; a 90% interval lies inside the 95% one; test results are frozen and state their null
hypothesis in words.
"""

from __future__ import annotations

import dataclasses
import html
import inspect
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.inference import ChisqTestResult, LRTResult, compare, contrast, lrt, wald

DATA = Path(__file__).parent / "conformance" / "data"
LABEL = "<b>x</b>"


@cache
def _data() -> pd.DataFrame:
    df = pd.read_csv(DATA / "apistrat.csv")
    df[LABEL] = np.where(df["stype"] == "E", LABEL, "other")
    df["mealcat"] = pd.cut(df["meals"], [0, 25, 50, 75, 100])
    return df


def design(rows=slice(None)) -> sl.SurveyDesign:
    return sl.SurveyDesign(_data().iloc[rows].reset_index(drop=True), strata="stype",
                           weights="pw", fpc="fpc")


def _waves():
    return design(slice(0, None, 2)), design(slice(1, None, 2))


# (id, build() -> (result, designs whose description the footer carries))
CASES = {
    "Estimate": lambda: (design().mean("api00", by=LABEL), [design()]),
    "Crosstab": lambda: (design().crosstab(LABEL, "awards"), [design()]),
    "TestResult": lambda: (design().crosstab(LABEL, "awards").test(), [design()]),
    "TTestResult": lambda: (design().ttest("api00", by=LABEL), [design()]),
    "ContrastResult": lambda: (
        contrast(design().mean("api00", by=LABEL), {LABEL: {LABEL: 1, "other": -1}}),
        [design()]),
    "Comparison": lambda: (compare(*_waves(), "awards", by=LABEL), list(_waves())),
    "GLMResult": lambda: (design().glm(f'api00 ~ ell + Q("{LABEL}")'), [design()]),
    "OLRResult": lambda: (design().olr(f'mealcat ~ ell + Q("{LABEL}")'), [design()]),
    "TestResult-wald": lambda: (wald(design().glm(f'api00 ~ ell + Q("{LABEL}")'), LABEL),
                                [design()]),
    "LRTResult": lambda: (lrt(design().glm(f'api00 ~ ell + Q("{LABEL}")'), LABEL), [design()]),
}
TESTS = (sl.TestResult,)
ESTIMATE_COLUMN = {sl.Comparison: "difference"}


@cache
def result(case):
    return CASES[case]()


@pytest.fixture(params=list(CASES))
def case(request):
    return request.param


def test_every_type_is_covered():
    types = {type(result(c)[0]) for c in CASES}
    assert types == {sl.Estimate, sl.Crosstab, ChisqTestResult, sl.TestResult, sl.TTestResult,
                     sl.ContrastResult, sl.Comparison, sl.GLMResult, sl.OLRResult, LRTResult}


def test_accessors_are_aligned_pandas_objects(case):
    res, _ = result(case)
    if isinstance(res, TESTS):
        pytest.skip("a test has no estimate")
    frame = res.to_frame()
    est_col = ESTIMATE_COLUMN.get(type(res), "estimate")
    V = res.vcov
    assert isinstance(V, pd.DataFrame) and V.index.equals(V.columns)
    ci = res.ci(0.95)
    assert list(ci.columns) == ["ci_low", "ci_high"] and ci.index.equals(V.index)
    if isinstance(res, sl.TTestResult):  # one statistic: numbers, and 1-row frames
        assert isinstance(res.estimate, float) and isinstance(res.se, float)
        assert V.shape == (1, 1) and V.iloc[0, 0] == pytest.approx(res.se**2, rel=1e-15)
        est, se = np.array([res.estimate]), np.array([res.se])
    else:
        assert isinstance(res.estimate, pd.Series) and isinstance(res.se, pd.Series)
        assert res.estimate.index.equals(V.index) and res.se.index.equals(V.index)
        np.testing.assert_allclose(res.se**2, np.diag(V), rtol=1e-12)
        if isinstance(res.df, pd.Series):
            assert res.df.index.equals(V.index)
        est, se = res.estimate.to_numpy(), res.se.to_numpy()
    np.testing.assert_array_equal(frame[est_col].to_numpy(), est)  # rounding only in display
    np.testing.assert_array_equal(frame["se"].to_numpy(), se)
    assert np.isscalar(res.df) or isinstance(res.df, pd.Series)


def test_to_frame_has_fixed_columns(case):
    res, _ = result(case)
    fixed = list(type(res).frame_columns)
    cols = list(res.to_frame().columns)
    assert cols[len(cols) - len(fixed):] == fixed
    if not isinstance(res, TESTS + (sl.TTestResult,)):
        assert cols[: len(cols) - len(fixed)] == [n for n in res.vcov.index.names
                                                  if n not in fixed]
    if "level" in inspect.signature(res.to_frame).parameters:
        assert list(res.to_frame(level=0.8).columns) == cols


def test_summary_is_str_and_carries_the_footer(case):
    res, designs = result(case)
    text = res.summary()
    assert isinstance(text, str) and text == str(res)
    for d in designs:
        assert d.describe() in text


def test_html_is_a_table_with_footer_and_escaped_labels(case):
    res, designs = result(case)
    page = res._repr_html_()
    assert "<table" in page
    for d in designs:
        assert html.escape(d.describe()) in page
    assert html.escape(LABEL) in page
    assert LABEL not in page


def test_narrower_level_gives_a_narrower_interval(case):
    res, _ = result(case)
    if isinstance(res, TESTS):
        pytest.skip("a test has no interval")
    wide, narrow = res.ci(0.95), res.ci(0.9)
    assert (narrow["ci_low"] > wide["ci_low"]).all() and (narrow["ci_high"] < wide["ci_high"]).all()


def test_test_results_are_frozen_and_state_their_null(case):
    res, _ = result(case)
    if not isinstance(res, TESTS + (sl.TTestResult,)):
        pytest.skip("not a test")
    assert dataclasses.is_dataclass(res) and len(res.null) > 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.p_value = 0.5
    row = res.to_frame().iloc[0]
    assert row["p_value"] == res.p_value and row["null"] == res.null
