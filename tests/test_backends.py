"""Designs over DuckDB: replicates generated from PSU ids (R fixtures), sources (Parquet, CSV,
relation, query), and bad input (each a ``SurveyDesignError`` subclass naming the column or
source, with structured fields).

Replicate numbers come from ``tests/conformance/fixtures/replicate.json`` (written by
``tests/conformance/r/replicate.R``, R survey 4.1.1): ``as.svrepdesign`` of the API designs.
"""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import (  # noqa: E402
    EmptySourceError,
    LazySurveyDesign,
    NotPushedDownError,
    SourceError,
)

CONF = Path(__file__).parent / "conformance"
FIX = json.loads((CONF / "fixtures" / "replicate.json").read_text())


@cache
def load(name: str) -> pd.DataFrame:
    return pd.read_csv(CONF / "data" / name)


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    for name in ("apistrat", "apiclus1", "synth_brr"):
        c.register("frame", load(name + ".csv"))
        c.sql(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
        c.unregister("frame")
    return c


# ----- replicates generated from PSU ids -----------------------------------------------------
CONVERT = {k for k, d in FIX["designs"].items() if d["kind"] == "convert"}
CASES = [c for c in FIX["cases"] if c["design"] in CONVERT and c["estimator"] != "quantile"]


def replicate_pair(design_id, con):
    spec = FIX["designs"][design_id]
    args = dict(strata=spec["strata"], psu=spec["psu"], weights=spec["weights"],
                fpc=spec["fpc"])
    method = spec["method"]
    rho = spec["rho"] if method == "fay" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        lazy = LazySurveyDesign(spec["data"][:-4], connection=con, **args)
        mem = sl.SurveyDesign(load(spec["data"]), **args)
        return (lazy.to_replicates(method, rho=rho, mse=spec["mse"]),
                mem.to_replicates(method, rho=rho, mse=spec["mse"]))


def call(d, case):
    a = case["args"]
    est = case["estimator"]
    if est == "mean":
        return d.mean(a["variables"], by=a["by"])
    if est == "total":
        return d.total(a["variables"], by=a["by"])
    if est == "ratio":
        return d.ratio(a["variables"], a["denominator"], by=a["by"])
    return d.proportion(a["variables"], by=a["by"], ci_method="wald")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_generated_replicates_equal_r_and_memory(case, con):
    """JK1, JKn, BRR and Fay replicates made from the PSU ids of a DuckDB table give R's
    estimates, SEs and covariances (1e-8) and the in-memory design's (1e-10)."""
    lazy, mem = replicate_pair(case["design"], con)
    if case.get("subset"):
        col = case["subset"]
        lazy = lazy.subset(f'"{col}" = 1')
        mem = mem.subset(load(FIX["designs"][case["design"]]["data"])[col] == 1)
    res, ref = call(lazy, case), call(mem, case)
    frame, ref_frame = res.to_frame(), ref.to_frame()
    for row in case["rows"]:
        sel = np.ones(len(frame), dtype=bool)
        for col, val in row["by"].items():
            sel &= frame[col].astype(str).to_numpy() == str(val)
        var = frame["variable"].to_numpy()
        sel &= (np.char.startswith(var.astype(str), row["variable"] + "/")
                if case["estimator"] == "ratio" else var == row["variable"])
        if row["level"] is not None:
            sel &= frame["level"].astype(str).to_numpy() == str(row["level"])
        (p,) = np.flatnonzero(sel)
        for col in ("estimate", "se"):
            assert math.isclose(frame[col][p], row[col], rel_tol=1e-8, abs_tol=1e-10), col
            assert math.isclose(frame[col][p], ref_frame[col][p], rel_tol=1e-10,
                                abs_tol=1e-12), col
    assert res.df == ref.df
    if case["vcov"] is not None and not case["args"]["by"]:
        np.testing.assert_allclose(res.vcov_matrix, ref.vcov_matrix, rtol=1e-10, atol=1e-12)


# ----- sources ---------------------------------------------------------------------------------
def test_parquet_csv_relation_and_query_sources_agree(tmp_path, con):
    """The same design over a Parquet file, a CSV file, a relation and a SQL query gives the
    in-memory design's estimates."""
    df = load("apiclus1.csv")
    pq, csv = tmp_path / "api.parquet", tmp_path / "api.csv"
    df.to_parquet(pq)
    df.to_csv(csv, index=False)
    args = dict(psu="dnum", weights="pw", fpc="fpc")
    want = sl.SurveyDesign(df, **args).mean("api00", by="stype").to_frame()
    for data, kw in ((str(pq), {}), (str(csv), {}), (con.sql("SELECT * FROM apiclus1"), {}),
                     ("SELECT * FROM apiclus1", {"connection": con})):
        got = LazySurveyDesign(data, **kw, **args).mean("api00", by="stype").to_frame()
        np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-12)
        np.testing.assert_allclose(got["se"], want["se"], rtol=1e-10)


def test_subset_keeps_the_design_and_equals_the_domain(con):
    """A SQL subset equals the by-domain estimate (R: subset keeps every stratum's PSUs)."""
    d = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw", fpc="fpc")
    sub = d.subset("stype = 'E'").mean("api00").to_frame()
    dom = d.mean("api00", by="stype").to_frame()
    row = dom[dom["stype"] == "E"]
    assert math.isclose(sub["estimate"][0], row["estimate"].iloc[0], rel_tol=1e-12)
    assert math.isclose(sub["se"][0], row["se"].iloc[0], rel_tol=1e-10)


# ----- bad input -------------------------------------------------------------------------------
def test_missing_column_is_named(con):
    with pytest.raises(sl.ColumnError) as info:
        LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw_typo")
    assert info.value.parameter == "weights" and info.value.value == "pw_typo"
    assert "pw_typo" in str(info.value) and "apiclus1" in str(info.value)
    d = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw")
    with pytest.raises(sl.ColumnError, match="'nothere'"):
        d.mean("nothere")


def test_non_numeric_weight_is_named(con):
    with pytest.raises(sl.ColumnError) as info:
        LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="stype")
    assert info.value.value == "stype" and "not numeric" in str(info.value)


def test_bad_weight_values(con):
    con.sql("CREATE OR REPLACE TABLE badw AS SELECT dnum, api00, CASE WHEN snum = "
            "(SELECT MIN(snum) FROM apiclus1) THEN NULL ELSE pw END AS pw, pw - 40 AS pwneg "
            "FROM apiclus1")
    with pytest.raises(sl.WeightError, match="'pw' has 1 missing"):
        LazySurveyDesign("badw", connection=con, psu="dnum", weights="pw")
    with pytest.raises(sl.WeightError, match="non-positive"):
        LazySurveyDesign("badw", connection=con, psu="dnum", weights="pwneg")


def test_failing_sources_name_the_source(tmp_path):
    missing = str(tmp_path / "nowhere.parquet")
    with pytest.raises(SourceError) as info:
        LazySurveyDesign(missing, psu="dnum", weights="pw")
    assert info.value.value == missing and "nowhere.parquet" in str(info.value)
    closed = duckdb.connect()
    closed.close()
    with pytest.raises(SourceError):
        LazySurveyDesign("SELECT 1 AS a", connection=closed, weights="a")
    with pytest.raises(SourceError, match="not a source"):
        LazySurveyDesign(load("apiclus1.csv"), psu="dnum", weights="pw")


def test_queries_without_rows(con):
    with pytest.raises(EmptySourceError, match="no rows") as info:
        LazySurveyDesign("SELECT * FROM apiclus1 WHERE pw < 0", connection=con, psu="dnum",
                         weights="pw")
    assert "pw < 0" in info.value.value
    d = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw")
    with pytest.raises(EmptySourceError, match="contains no rows"):
        d.subset("api00 < 0")


def test_what_is_not_pushed_down_says_what_to_do(con):
    d = LazySurveyDesign("apistrat", connection=con, strata="stype", weights="pw")
    for method in (d.var, d.glm):
        with pytest.raises(NotPushedDownError, match="in_memory"):
            method("api00")
    # element sampling (no psu=) keeps no unit table: more rows than max_units estimate, and
    # only replicates made from it (a factor per row) are refused
    small = LazySurveyDesign("apistrat", connection=con, strata="stype", weights="pw",
                             max_units=100)
    assert math.isclose(float(small.mean("api00").se.iloc[0]),
                        float(d.mean("api00").se.iloc[0]), rel_tol=1e-12)
    with pytest.raises(NotPushedDownError, match="psu="):
        small.to_replicates("jkn")
    with pytest.warns(sl.SurveyWarning, match="collecting 200 rows"):
        rows = d.in_memory(["api00"])
    back = sl.SurveyDesign(rows, strata="stype", weights="pw").mean("api00").to_frame()
    assert math.isclose(back["estimate"][0], d.mean("api00").to_frame()["estimate"][0],
                        rel_tol=1e-12)


def test_docstring_example_runs():
    """The example in LazySurveyDesign's docstring prints what it says."""
    import doctest

    import surveylib.backends.design as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ----- the crosstab by domains and over replicate columns -----------------------------------
def test_crosstab_by_domain_equals_memory(con):
    """By domains, each domain's table and Rao–Scott test equal the in-memory ones (the tests
    run on each domain's SQL subset, as in memory on its mask)."""
    args = dict(psu="dnum", weights="pw", fpc="fpc")
    lazy = LazySurveyDesign("apiclus1", connection=con, **args).crosstab(
        "sch.wide", "awards", by="stype")
    mem = sl.SurveyDesign(load("apiclus1.csv"), **args).crosstab("sch.wide", "awards",
                                                                   by="stype")
    a, b = lazy.counts.to_frame(), mem.counts.to_frame()
    a = a.sort_values(["stype", "sch.wide", "level"]).reset_index(drop=True)
    b = b.sort_values(["stype", "sch.wide", "level"]).reset_index(drop=True)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-10)
    got, want = lazy.test("F"), mem.test("F")
    assert set(got) == set(want) == {"E", "H", "M"}
    for key in want:
        assert math.isclose(got[key].statistic, want[key].statistic, rel_tol=1e-10)
        assert math.isclose(got[key].p_value, want[key].p_value, rel_tol=1e-10)
        assert got[key].df_denom == pytest.approx(want[key].df_denom, rel=1e-12)


def test_crosstab_over_replicate_columns_equals_memory(con):
    """The crosstab of a design with stored replicate columns: replicate covariances of the
    cells from per-replicate sums, and the Rao–Scott F test, equal the in-memory design's."""
    from surveylib.backends import LazyReplicateDesign
    from surveylib.replicate import ReplicateDesign

    df = load("rep_cols_apiclus1.csv")
    con.register("frame", df)
    con.sql('CREATE OR REPLACE TABLE rep_cols AS SELECT * FROM frame')
    con.unregister("frame")
    args = dict(weights="pw", rep_weights="repw*", type="JK1", scale=14 / 15)
    lazy = LazyReplicateDesign("rep_cols", connection=con, **args).crosstab("stype", "awards")
    mem = ReplicateDesign(df, **args).crosstab("stype", "awards")
    np.testing.assert_allclose(lazy.cell_shares.vcov_matrix, mem.cell_shares.vcov_matrix,
                               rtol=1e-10, atol=1e-16)
    for method in ("F", "wald"):
        assert math.isclose(lazy.test(method).statistic, mem.test(method).statistic,
                            rel_tol=1e-10)


# ----- what weighting and replicate columns refuse, and their bad input ----------------------
def test_weighting_refusals_say_what_to_do(con):
    """Chained steps and weighting stored replicate columns are not pushed down; a margin
    column that is missing is named.  (Element sampling, once refused here, is weighted:
    tests/test_backends_conformance.py checks it against R.)"""
    pop = pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]})
    element = LazySurveyDesign("apistrat", connection=con, strata="stype", weights="pw")
    assert "post-stratified on stype" in element.poststratify("stype", pop).describe()
    d = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw", fpc="fpc")
    ps = d.poststratify("stype", pop)
    assert "post-stratified on stype" in ps.describe() and "CASE" in ps.weight_sql
    with pytest.raises(NotPushedDownError, match="chained"):
        ps.rake({"stype": pop})
    with pytest.raises(NotPushedDownError, match="re-weight"):
        ps.to_replicates("jk1")
    with pytest.raises(sl.ColumnError, match="'nosuch'"):
        d.poststratify("nosuch", pop)


def test_replicate_columns_bad_input(con):
    """A glob matching nothing, a non-numeric or incomplete replicate column, and a missing
    weight column are each named."""
    from surveylib.backends import LazyReplicateDesign

    con.register("frame", load("rep_cols_apiclus1.csv"))
    con.sql("CREATE OR REPLACE TABLE repbad AS SELECT *, CASE WHEN snum = (SELECT MIN(snum) "
            "FROM frame) THEN NULL ELSE repw3 END AS holey, CAST(repw1 AS VARCHAR) AS txt, "
            "CASE WHEN snum = (SELECT MAX(snum) FROM frame) THEN 'NaN'::DOUBLE ELSE repw4 END "
            "AS nanw, CASE WHEN snum = (SELECT MIN(snum) FROM frame) THEN '-inf'::DOUBLE "
            "ELSE repw5 END AS infw FROM frame")
    con.unregister("frame")
    args = dict(connection=con, weights="pw", type="JK1", scale=14 / 15)
    with pytest.raises(sl.ReplicateError, match="'zz\\*' matches no column"):
        LazyReplicateDesign("repbad", rep_weights="zz*", **args)
    with pytest.raises(sl.ColumnError, match="'txt'.*not numeric"):
        LazyReplicateDesign("repbad", rep_weights=["repw1", "txt"], **args)
    with pytest.raises(sl.ReplicateError, match="holey"):
        LazyReplicateDesign("repbad", rep_weights=["repw1", "holey"], **args)
    with pytest.raises(sl.ReplicateError, match="'nanw', 'infw'.* 2 missing or infinite"):
        LazyReplicateDesign("repbad", rep_weights=["repw1", "nanw", "infw"], **args)
    with pytest.raises(sl.ReplicateError, match="weights column 'infw' has 1"):
        LazyReplicateDesign("repbad", rep_weights="repw*", connection=con, weights="infw",
                            type="JK1", scale=14 / 15)
    with pytest.raises(sl.ColumnError, match="'pw_typo'"):
        LazyReplicateDesign("repbad", rep_weights="repw*", connection=con, weights="pw_typo",
                            type="JK1", scale=14 / 15)
    d = LazyReplicateDesign("repbad", rep_weights="repw*", **args)
    with pytest.raises(NotPushedDownError, match="in_memory"):
        d.rake({"stype": {"E": 1, "H": 1, "M": 1}})
    with pytest.raises(EmptySourceError, match="no rows"):
        d.subset("api00 < 0")


def test_quantile_options_not_pushed_down_say_so(con):
    """Quantile rules other than the step rules, and intervals other than Woodruff's "mean",
    need the rows: a clear error naming the option; missing values need na_rm=True."""
    d = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw", fpc="fpc")
    with pytest.raises(NotPushedDownError, match="interval_type='mean'"):
        d.quantile("api00", [0.5], interval_type="score")
    with pytest.raises(sl.SurveyDesignError, match="qrule"):
        d.quantile("api00", [0.5], qrule="hf7")
    with pytest.raises(sl.SurveyDesignError, match="strictly between 0 and 1"):
        d.quantile("api00", [1.5])
    with pytest.raises(sl.ColumnError, match="'stype' is not numeric"):
        d.quantile("stype", [0.5])
    con.sql("CREATE OR REPLACE TABLE qna AS SELECT *, CASE WHEN snum % 7 = 0 THEN NULL ELSE "
            "api00 END AS api_na FROM apiclus1")
    dn = LazySurveyDesign("qna", connection=con, psu="dnum", weights="pw", fpc="fpc")
    with pytest.raises(sl.SurveyDesignError, match="na_rm=True"):
        dn.quantile("api_na", [0.5])
    mem = sl.SurveyDesign(con.sql("SELECT * FROM qna").df(), psu="dnum", weights="pw",
                          fpc="fpc")
    with warnings.catch_warnings():  # an interval past the data (NaN, as R): both warn
        warnings.simplefilter("ignore", sl.SurveyWarning)
        got = dn.quantile("api_na", [0.25, 0.5], na_rm=True, by="stype").to_frame()
        want = mem.quantile("api_na", [0.25, 0.5], na_rm=True, by="stype").to_frame()
    for col in ("estimate", "se", "ci_low", "ci_high", "df"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-10)


def test_ratio_pairs_numerators_with_denominators_in_memory_and_in_the_engine(con):
    """One denominator serves every numerator; unequal lists are an error naming both
    counts, the same in memory and over DuckDB."""
    args = dict(strata="stype", weights="pw", fpc="fpc")
    mem = sl.SurveyDesign(load("apistrat.csv"), **args)
    lazy = LazySurveyDesign("apistrat", connection=con, **args)
    for d in (mem, lazy):
        r = d.ratio(["api00", "api99"], "enroll")
        assert list(r.to_frame()["variable"]) == ["api00/enroll", "api99/enroll"]
        with pytest.raises(sl.SurveyDesignError, match="got 2 and 3") as info:
            d.ratio(["api00", "api99"], ["enroll", "meals", "ell"])
        assert info.value.parameter == "denominator"
    np.testing.assert_allclose(lazy.ratio(["api00", "api99"], "enroll").values,
                               mem.ratio(["api00", "api99"], "enroll").values, rtol=1e-10)


#: missing values of ``y_na`` / ``x_na`` (rows ``snum % 9`` resp. ``% 6`` in 0, 1): NULL, NaN or both
MISSING = {"null": ("NULL", "NULL"), "nan": ("'NaN'::DOUBLE", "'NaN'::DOUBLE"),
           "mixed": ("NULL", "'NaN'::DOUBLE")}


def missing_table(con, kind, source="apistrat", name=None):
    """``source`` with ``y_na`` (api00) and ``x_na`` (api99) missing (``MISSING[kind]``),
    both missing where ``snum % 18`` is 0 or 1 (ratios count those rows once)."""
    a, b = MISSING[kind]
    name = name or f"na_{kind}"
    con.sql(f"CREATE OR REPLACE TABLE {name} AS SELECT *, CASE WHEN snum % 9 = 0 THEN {a} "
            f"WHEN snum % 9 = 1 THEN {b} ELSE api00 END AS y_na, CASE WHEN snum % 6 = 0 THEN "
            f"{a} WHEN snum % 6 = 1 THEN {b} ELSE api99 END AS x_na FROM {source}")
    return name, con.sql(f"SELECT * FROM {name}").df()


def check_missing_values(d, mem, frame):
    """``d`` against the in-memory ``mem`` over ``frame``: without ``na_rm`` an error with
    the exact count of rows without a value (NULL and NaN together; for a ratio the rows
    without either, where memory names the numerator's), with it the same estimates -- twice (the second call knows the columns
    have missing values), and the error again after."""
    y, x = frame["y_na"].isna(), frame["x_na"].isna()
    assert y.any() and x.any() and (y & x).any()
    with pytest.raises(sl.SurveyDesignError, match=f"'y_na' has {int(y.sum())} missing"):
        mem.mean("y_na")
    with pytest.raises(sl.SurveyDesignError, match=f"'y_na' has {int(y.sum())} missing"):
        d.mean("y_na")
    with pytest.raises(sl.SurveyDesignError, match="na_rm=True"):  # names y_na's count
        mem.ratio("y_na", "x_na")
    with pytest.raises(sl.SurveyDesignError, match=f"'y_na/x_na' has {int((y | x).sum())} m"):
        d.ratio("y_na", "x_na")
    for _ in range(2):
        for got, want in ((d.mean(["y_na", "api99"], na_rm=True, by="stype"),
                           mem.mean(["y_na", "api99"], na_rm=True, by="stype")),
                          (d.ratio("y_na", "x_na", na_rm=True),
                           mem.ratio("y_na", "x_na", na_rm=True)),
                          (d.total(["y_na", "x_na"], na_rm="complete"),
                           mem.total(["y_na", "x_na"], na_rm="complete"))):
            a, b = got.to_frame(), want.to_frame()
            np.testing.assert_array_equal(a["n"], b["n"])
            for col in ("estimate", "se", "deff"):
                np.testing.assert_allclose(a[col], b[col], rtol=1e-10)
    with pytest.raises(sl.SurveyDesignError, match=f"has {int(y.sum())} missing value"):
        d.mean("y_na")


@pytest.mark.parametrize("psu", ["snum", None], ids=["clusters", "element"])
@pytest.mark.parametrize("kind", list(MISSING))
def test_sums_over_every_row_unless_values_are_missing(con, kind, psu, monkeypatch):
    """A numeric estimate's sums run over every row and count only the NULLs (``COUNT``, no
    test per row); NaN shows as a sum that is NaN.  Where values may be missing the query is
    run again with the sums over present values, which counts them exactly, and the design
    remembers it: every call equals the in-memory design's, and without ``na_rm`` the error
    gives the number of missing values -- for NULLs only, NaNs only and both, over PSUs and
    under element sampling."""
    table, frame = missing_table(con, kind)
    args = dict(strata="stype", psu=psu, weights="pw")
    d = LazySurveyDesign(table, connection=con, **args)
    mem = sl.SurveyDesign(frame, **args)
    sent = []
    fetch = d.source.fetch
    monkeypatch.setattr(d.source, "fetch", lambda sql: sent.append(sql) or fetch(sql))
    full = d.mean("api99", by="stype").to_frame()  # no missing values: one query, no test
    sums = [sql for sql in sent if "GROUP BY" in sql]  # (element: a shift query before)
    assert len(sums) == 1 and "isnan" not in sums[0].lower(), sent
    np.testing.assert_allclose(full["se"], mem.mean("api99", by="stype").to_frame()["se"],
                               rtol=1e-10)
    check_missing_values(d, mem, frame)


@pytest.mark.parametrize("kind", list(MISSING))
def test_replicate_column_sums_guarded_only_where_values_are_missing(con, kind):
    """Stored replicate columns follow the same rule: the replicate sums are the plain
    ``w_r * y`` and ``w_r`` over every row, and where values may be missing the query is run
    again with every sum (full-sample and replicate) over present values -- counts, means,
    ratios and their SEs equal the in-memory design's."""
    from surveylib.backends import LazyReplicateDesign
    from surveylib.replicate import ReplicateDesign

    con.register("frame", load("rep_cols_apiclus1.csv"))
    table, frame = missing_table(con, kind, "frame", f"rna_{kind}")
    con.unregister("frame")
    args = dict(weights="pw", rep_weights="repw*", type="JK1", scale=14 / 15)
    d = LazyReplicateDesign(table, connection=con, **args)
    mem = ReplicateDesign(frame, **args)
    full = d.mean("api99", by="stype", deff=False).to_frame()  # one query, unguarded
    np.testing.assert_allclose(full["se"], mem.mean("api99", by="stype").to_frame()["se"],
                               rtol=1e-10)
    check_missing_values(d, mem, frame)


def test_missing_values_on_spark(con, spark):
    """Spark's ``SUM`` over a NaN is NaN too: NaNs (no NULL to count) found and counted as on
    DuckDB."""
    import pyarrow as pa

    _table, frame = missing_table(con, "nan")
    args = dict(strata="stype", psu="snum", weights="pw")
    arrow = con.sql("SELECT * FROM na_nan").arrow()
    d = LazySurveyDesign(spark.createDataFrame(arrow if isinstance(arrow, pa.Table)
                                               else arrow.read_all()), **args)
    check_missing_values(d, sl.SurveyDesign(frame, **args), frame)


def test_weighting_refuses_more_cell_pairs_than_max_units(con):
    """Estimates after a weighting step return their sums per (PSU, cell): more (PSU, cell)
    pairs than ``max_units`` is an error naming the limit and the step (apiclus1: its 15
    PSUs and 3 school types meet in 35 pairs, counted below), raised where the step is fitted:
    at the first estimate, or at ``fit_weights()``."""
    pairs = int(con.sql("SELECT COUNT(*) FROM (SELECT DISTINCT dnum, stype FROM apiclus1)")
                .fetchall()[0][0])
    pop = pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]})
    d = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw", fpc="fpc",
                         max_units=pairs - 1)
    ps = d.poststratify("stype", pop)  # needs no scan: recorded, fitted when first needed
    for fit in (lambda: ps.mean("api00"), ps.fit_weights):
        with pytest.raises(NotPushedDownError,
                           match=f"poststratify\\(\\) on \\['stype'\\] meets {pairs} "
                                 "\\(PSU, cell\\) pairs"):
            fit()
    ok = LazySurveyDesign("apiclus1", connection=con, psu="dnum", weights="pw", fpc="fpc",
                          max_units=pairs)
    assert "post-stratified" in ok.poststratify("stype", pop).describe()
