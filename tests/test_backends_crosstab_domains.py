"""The Rao–Scott tests of a pushed-down crosstab by domains cost a fixed number of queries.

``LazyCrosstab.test()`` takes every domain's subset design, row count and degrees of freedom
from one grouped query (``LazyDesign.domain_subsets``) instead of a ``subset``, a ``len`` and a
``degf`` per domain.  Each domain's test is compared with the test made the old way (the
domain's ``subset`` design, its ``len()`` and ``degf()``, computed here) and with the in-memory
``SurveyDesign`` crosstab (itself checked against R ``svychisq`` in
tests/test_inference.py and tests/conformance), at 1e-10; the queries ``test()`` sends do not
grow with the number of domains (3 vs 30).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from query_log import counted

import surveylib as sl
from surveylib.inference.raoscott import independence_test
from surveylib.replicate import ReplicateDesign

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import LazyReplicateDesign, LazySurveyDesign  # noqa: E402
from surveylib.backends.tables import domain_condition  # noqa: E402

#: the design cases: the arguments of LazySurveyDesign and SurveyDesign
DESIGNS = {
    "strata and PSUs": dict(strata="h", psu="psu", weights="w"),
    "PSU ids reused across strata (nest)": dict(strata="h", psu="psu_in_h", weights="w",
                                                nest=True),
    "element sampling (no psu=)": dict(strata="h", weights="w"),
    "element sampling, unstratified": dict(weights="w"),
}
METHODS = ("F", "chisq", "wald")


@cache
def frame() -> pd.DataFrame:
    """3,600 rows in 120 PSUs of 6 strata; ``a`` (3 levels, some missing) by ``b`` (2); the
    domains ``d3``/``d30`` follow the PSUs loosely (a domain meets some PSUs and strata, not
    all: its df is not the design's), ``g2`` crosses ``d3``."""
    rng = np.random.default_rng(20261129)
    psu = np.repeat(np.arange(120), 30)
    h = psu // 20
    shift = rng.integers(0, 4, psu.size)
    a = np.array(["x", "y", "z"], dtype=object)[rng.integers(0, 3, psu.size)]
    a[rng.random(psu.size) < 0.03] = None  # missing: out of the table, in the domain's rows
    return pd.DataFrame({
        "h": h, "psu": psu, "psu_in_h": psu % 20, "w": rng.uniform(1, 5, psu.size).round(2),
        "a": a, "b": np.where(rng.random(psu.size) < 0.4 + 0.1 * (h % 3), "yes", "no"),
        "d3": (psu + shift) % 3, "d30": (psu + shift) % 30,
        "g2": np.where(rng.random(psu.size) < 0.5, "p", "q"),
        **{f"rw{r}": rng.uniform(0.5, 1.5, psu.size) * (psu % 10 != r) for r in range(10)},
    })


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.register("frame", frame())
    c.sql("CREATE TABLE survey AS SELECT * FROM frame")
    c.sql("CREATE TABLE small AS SELECT * FROM frame WHERE psu % 5 = 0")  # replicates of rows
    c.unregister("frame")
    return c


def old_way(tab, method: str) -> dict:
    """The tests by domain as ``LazyCrosstab.test()`` made them before: each domain's
    ``subset`` design, with its ``len()`` and ``degf()`` (two queries per domain)."""
    d, keys, by = tab.design, tab.cell_shares.keys, list(tab.by)
    out = {}
    for dk in keys[by].drop_duplicates().itertuples(index=False, name=None):
        idx = np.flatnonzero(np.logical_and.reduce([(keys[c] == v).to_numpy()
                                                    for c, v in zip(by, dk, strict=True)]))
        sub = d.subset(domain_condition(d.source.quote, dict(zip(by, dk, strict=True))))
        out[dk if len(dk) > 1 else dk[0]] = independence_test(
            sub, tab.cell_shares.values[idx], tab.cell_shares.vcov_matrix[np.ix_(idx, idx)],
            tab.counts.values[idx], tab.counts.vcov_matrix[np.ix_(idx, idx)],
            len(tab.row_levels), len(tab.col_levels), len(sub), sub.degf(), method, tab.row,
            tab.col, (tab.row_levels, tab.col_levels))
    return out


def same_tests(got: dict, want: dict, *, footer: bool) -> None:
    assert set(got) == set(want) and len(got) > 0
    for key, w in want.items():
        g = got[key]
        for name in ("statistic", "df_num", "df_denom", "p_value"):
            assert math.isclose(getattr(g, name), getattr(w, name), rel_tol=1e-10,
                                abs_tol=1e-300), (key, name)
        np.testing.assert_allclose(g.observed.to_numpy(), w.observed.to_numpy(), rtol=1e-10)
        if footer:  # the same subset design: the same footer
            assert g.inference == w.inference


def check(lazy, mem, by, methods=METHODS):
    """Every domain's test equals the old way's and the in-memory one; returns the number of
    queries ``test()`` sent (the last method's)."""
    lazy, calls = counted(lazy)
    tab = lazy.crosstab("a", "b", by=by)
    memtab = mem.crosstab("a", "b", by=by)
    for method in methods:
        before = len(calls)
        got = tab.test(method)
        sent = len(calls) - before
        same_tests(got, old_way(tab, method), footer=True)
        same_tests(got, memtab.test(method), footer=False)
        assert all(lazy.source.label in r.inference for r in got.values())
    return sent


@pytest.mark.parametrize("case", list(DESIGNS))
@pytest.mark.parametrize("by", ["d3", "d30", ["d3", "g2"]], ids=["3", "30", "2 columns"])
def test_tests_by_domain_equal_the_subsets_and_memory(con, case, by):
    args = DESIGNS[case]
    check(LazySurveyDesign("survey", connection=con, **args), sl.SurveyDesign(frame(), **args),
          by)


@pytest.mark.parametrize("case", list(DESIGNS))
def test_queries_do_not_grow_with_the_domains(con, case):
    """3 and 30 domains: the same queries (one grouped count; none per domain)."""
    args = DESIGNS[case]
    sent = {}
    for by in ("d3", "d30"):
        lazy, calls = counted(LazySurveyDesign("survey", connection=con, **args))
        tab = lazy.crosstab("a", "b", by=by)
        tab.counts.vcov_matrix  # noqa: B018 - the table's own numbers, read before counting
        before = len(calls)
        assert len(tab.test("F")) == int(by[1:])
        sent[by] = len(calls) - before
    assert sent["d3"] == sent["d30"] == 1


def test_replicates_from_psus_and_from_rows(con):
    """Replicates made from the PSU ids (JKn) and from an element design (JK1 over the 720
    rows of every fifth PSU): each domain's df is the rank of its active units' replicates, as in
    memory."""
    small = frame()[frame()["psu"] % 5 == 0].reset_index(drop=True)
    for table, data, args, method in (
            ("survey", frame(), dict(strata="h", psu="psu", weights="w"), "jkn"),
            ("small", small, dict(weights="w"), "jk1")):
        lazy = LazySurveyDesign(table, connection=con, **args).to_replicates(method)
        mem = sl.SurveyDesign(data, **args).to_replicates(method)
        assert check(lazy, mem, "d3", methods=("F",)) == 1
        assert check(lazy, mem, "d30", methods=("F",)) == 1


def test_stored_replicate_columns(con):
    """Stored replicate columns: every domain's df (the rank of its rows' replicate weights
    minus one) from one grouped scan of the Gram matrices, plus the grouped count."""
    args = dict(weights="w", rep_weights="rw*", type="JK1", scale=0.9)
    mem = ReplicateDesign(frame(), **args)
    for by in ("d3", "d30", ["d3", "g2"]):
        sent = check(LazyReplicateDesign("survey", connection=con, **args), mem, by,
                     methods=("F",))
        assert sent == 2
    given = dict(args, df=7)  # df given: every domain's too
    check(LazyReplicateDesign("survey", connection=con, **given),
          ReplicateDesign(frame(), **given), "d30", methods=("F",))


def test_weighted_design_and_subset_before_the_table(con):
    """A post-stratified design, and a subset before the table: the domains' subsets are
    made within the design's rows."""
    args = DESIGNS["strata and PSUs"]
    pop = pd.DataFrame({"g2": ["p", "q"], "count": [9000.0, 11000.0]})
    check(LazySurveyDesign("survey", connection=con, **args).poststratify("g2", pop),
          sl.SurveyDesign(frame(), **args).poststratify("g2", pop), "d3", methods=("F",))
    keep = (frame()["h"] != 2).to_numpy()
    for case in ("strata and PSUs", "element sampling (no psu=)"):
        a = DESIGNS[case]
        check(LazySurveyDesign("survey", connection=con, **a).subset("h <> 2"),
              sl.SurveyDesign(frame(), **a).subset(keep), "d30", methods=("F",))


def test_a_domain_the_counts_do_not_hold(con):
    """A domain whose values match no counted group is left to ``subset`` (its own queries):
    without rows an error naming the condition, as ``subset``; with rows, ``subset``'s."""
    d = LazySurveyDesign("survey", connection=con, **DESIGNS["strata and PSUs"])
    with pytest.raises(sl.SurveyDesignError, match='"d3" = 7. of table'):
        d.domain_subsets(["d3"], {(7,): '"d3" = 7'})
    sub, n, df = d.domain_subsets(["d3"], {("one",): '"d3" = 1'})[("one",)]
    want = d.subset('"d3" = 1')
    assert (n, df, sub.describe()) == (len(want), want.degf(), want.describe())
    assert n == int((frame()["d3"] == 1).sum())


def test_on_spark(con, spark):
    """The same on Spark, for the design with strata and PSUs."""
    args = DESIGNS["strata and PSUs"]
    lazy = LazySurveyDesign(spark.createDataFrame(frame()), **args)
    assert check(lazy, sl.SurveyDesign(frame(), **args), ["d3", "g2"], methods=("F",)) == 1
