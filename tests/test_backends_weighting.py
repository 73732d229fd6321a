"""Raking and post-stratification over DuckDB are lazy: ``rake()``/``poststratify()`` check
what needs no scan and record the step; the first estimate that reads every row of the design
fits it from its own grouped rows (one scan for both), and anything else fits it by a scan of
the (PSU, cell) table when its factors are first read.  Every number is compared with the
in-memory design's (``surveylib.SurveyDesign``; itself checked against R ``rake`` and
``postStratify`` in tests/test_weighting.py and tests/test_backends_conformance.py).
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from query_log import counted

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import LazySurveyDesign  # noqa: E402

DATA = Path(__file__).parent / "conformance" / "data"
ARGS = dict(psu="dnum", weights="pw", fpc="fpc")
#: apiclus1's population counts (R's ``api`` examples): school types, and awards summing alike
MARGINS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "awards": {"No": 2500, "Yes": 3694}}
POP = pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]})
STEPS = {"rake": lambda d: d.rake(MARGINS), "poststratify": lambda d: d.poststratify("stype", POP)}


@cache
def frame() -> pd.DataFrame:
    return pd.read_csv(DATA / "apiclus1.csv")


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.register("frame", frame())
    c.sql('CREATE TABLE apiclus1 AS SELECT * FROM frame')
    c.unregister("frame")
    return c


def lazy(con):
    """A fresh design over DuckDB and the list of the queries its source runs from now on."""
    return counted(LazySurveyDesign("apiclus1", connection=con, **ARGS))


def memory():
    return sl.SurveyDesign(frame(), **ARGS)


def same(got, want, cols=("estimate", "se", "deff")):
    a, b = got.to_frame(), want.to_frame()
    for col in cols:
        np.testing.assert_allclose(a[col], b[col], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("step", list(STEPS))
def test_the_step_and_the_first_estimate_are_one_scan(con, step):
    """``rake()`` sends no query; the first mean is one query (its GROUP BY PSU, domain and
    cells), from which the step is fitted and the mean follows; later estimates reuse the fit.
    Every number equals the in-memory design's."""
    d, calls = lazy(con)
    weighted, mem = STEPS[step](d), STEPS[step](memory())
    assert calls == [] and not weighted.adjustments[0].fitted
    same(weighted.mean("api00", by="stype"), mem.mean("api00", by="stype"))
    assert len(calls) == 1 and weighted.adjustments[0].fitted
    same(weighted.total(["enroll", "api99"]), mem.total(["enroll", "api99"]))
    assert len(calls) == 2  # the total's own query; no second fit
    assert mem.adjustments[-1].describe() in weighted.describe() and len(calls) == 2


FIRST = {
    "mean, na_rm with missing values": lambda d: d.mean(["target", "api00"], na_rm=True),
    "ratio by domain": lambda d: d.ratio("api00", "api99", by="sch.wide"),
    "shares": lambda d: d.proportion("awards", by="stype"),
    "total of a category": lambda d: d.total("stype"),
}


@pytest.mark.parametrize("first", list(FIRST))
def test_any_pushed_down_estimate_fits_the_step_from_its_rows(con, first):
    """Whatever estimate comes first (numeric sums restricted to present values under
    ``na_rm``, categorical levels, domains), the step is fitted from the weight sums over every
    row: its factors, its estimate and the next estimate equal those of a step fitted by its
    own scan and the in-memory design's -- with no query beyond the estimate's own."""
    d, calls = lazy(con)
    raked, mem = d.rake(MARGINS), memory().rake(MARGINS)
    same(FIRST[first](raked), FIRST[first](mem))
    ref, ref_calls = lazy(con)
    ref = ref.rake(MARGINS).fit_weights()
    n_fit = len(ref_calls)
    FIRST[first](ref)
    assert len(calls) == len(ref_calls) - n_fit  # the estimate's queries, nothing more
    a, b = raked.adjustments[0], ref.adjustments[0]
    pd.testing.assert_frame_equal(a.cells, b.cells)
    np.testing.assert_allclose(a.factors, b.factors, rtol=1e-12)
    np.testing.assert_allclose(a.unit_weights, b.unit_weights, rtol=1e-12)
    np.testing.assert_array_equal(a.counts, b.counts)
    same(raked.mean("api00", by="awards"), mem.mean("api00", by="awards"))


def test_crosstab_first_fits_the_step(con):
    """The crosstab's cells (a SQL level expression) fit the step from their own rows."""
    d, calls = lazy(con)
    got = d.rake(MARGINS).crosstab("sch.wide", "awards")
    want = memory().rake(MARGINS).crosstab("sch.wide", "awards")
    np.testing.assert_allclose(got.cell_shares.vcov_matrix, want.cell_shares.vcov_matrix,
                               rtol=1e-10, atol=1e-16)
    assert got.test("F").statistic == pytest.approx(want.test("F").statistic, rel=1e-10)


def test_subset_after_the_step_fits_it_by_its_own_scan(con):
    """A subset after the step reads fewer rows than it weights: the step is fitted by a scan
    of the cell table over all its rows (then the estimate), as in memory, where the subset
    keeps the raked weights."""
    d, calls = lazy(con)
    raked = d.rake(MARGINS)
    sub = raked.subset("api00 > 600")
    assert not sub.adjustments[0].fitted
    mem = memory().rake(MARGINS)
    want = mem.subset((frame()["api00"] > 600).to_numpy()).mean("api00", by="stype")
    before = len(calls)
    same(sub.mean("api00", by="stype"), want)
    assert len(calls) == before + 2  # the cell table, then the mean
    same(raked.mean("api00"), mem.mean("api00"))  # the fit is shared with the whole design


def test_quantile_first_and_named_members_fit_on_first_read(con):
    """Reading the step's factors (as the quantiles do, through ``weight_sql`` or the named
    members ``factors``, ``cells``, ``cell_index``) fits it by one scan of the cell table."""
    d, calls = lazy(con)
    raked, mem = d.rake(MARGINS), memory().rake(MARGINS)
    adj = raked.adjustments[0]
    assert adj.variables == ("stype", "awards") and calls == []
    assert len(adj.factors) == len(adj.cells) == 6 and len(calls) == 1
    np.testing.assert_array_equal(adj.cell_index(adj.cells), np.arange(6))
    d2, calls2 = lazy(con)
    r2 = d2.rake(MARGINS)
    same(r2.quantile("api00", [0.5]), mem.quantile("api00", [0.5]), cols=("estimate", "se"))
    assert r2.adjustments[0].fitted
    n = len(calls2)
    same(r2.mean("api00"), mem.mean("api00"))
    assert len(calls2) == n + 1


def test_checks_at_the_call_and_data_errors_at_the_fit(con):
    """What needs no scan is refused at ``rake()``; what depends on the data (a sample level
    missing from a margin, raking that does not converge) is raised where the step is fitted
    -- the first estimate or ``fit_weights()`` -- naming the step, the margin and the level."""
    d, calls = lazy(con)
    with pytest.raises(sl.WeightingError, match="margin stype: population value for level "
                                                "'H' is") as info:
        d.rake({"stype": {"E": 1, "H": -1, "M": 1}})
    assert info.value.parameter == "margins"
    with pytest.raises(sl.ParameterError, match="tol"):
        d.rake(MARGINS, tol=2)
    with pytest.raises(sl.ParameterError, match="margins"):
        d.rake("stype")
    with pytest.raises(sl.WeightingError, match="no column\\(s\\) \\['stype'\\]"):
        d.poststratify("stype", POP.rename(columns={"stype": "type"}))
    with pytest.raises(sl.ColumnError, match="'nosuch'"):
        d.rake({"nosuch": {"a": 1}})
    assert calls == []
    partial = d.rake({"stype": {"E": 4421, "H": 755}})
    for fit in (lambda: partial.mean("api00"), partial.fit_weights):
        with pytest.raises(sl.WeightingError,
                           match="rake\\(\\) step: margin stype: level\\(s\\) \\['M'\\]") as info:
            fit()
        assert info.value.parameter == "margins"
    stuck = d.rake(MARGINS, max_iter=1)
    with pytest.raises(sl.ConvergenceError, match="rake\\(\\) step: raking did not converge"):
        stuck.mean("api00")
    with pytest.warns(sl.ConvergenceWarning, match="did not converge"):
        loose = d.rake(MARGINS, max_iter=1, on_fail="warn").mean("api00")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ConvergenceWarning)
        same(loose, memory().rake(MARGINS, max_iter=1, on_fail="warn").mean("api00"))
