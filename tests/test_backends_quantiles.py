"""Quantile rules and Woodruff interval types pushed down to DuckDB and Spark, against R
``svyquantile`` (``tests/conformance/fixtures/quantile_parity.json``, written by
``tests/conformance/r/quantile_parity.R``; each case records its R call) and the in-memory
estimator; the two ways the engine gives the weighted distribution (the whole distribution
over distinct values, the window query for many values) and the exact re-summing of the
weights at an exact hit; and the options that need the rows say so.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import (  # noqa: E402
    LazySurveyDesign,
    NotPushedDownError,
    _distribution,
    _histogram,
)

HERE = Path(__file__).parent / "conformance"
FIXTURE = json.loads((HERE / "fixtures" / "quantile_parity.json").read_text())
RTOL_R, RTOL_BACKENDS = 1e-8, 1e-10
PUSHED_RULES = ("math", "school", "hf1", "hf2", "hf3")
PUSHED_INTERVALS = ("mean", "beta", "xlogit", "asin")
CASES = [c for c in FIXTURE["cases"]
         if c["qrule"] in PUSHED_RULES and c["interval_type"] in PUSHED_INTERVALS]
ROW_CASES = [c for c in FIXTURE["cases"] if c not in CASES]
SPARK_CASES = ["dclus1__api00__hf3__mean", "dstrat__api00__awards__math__beta",
               "rclus1__api00__sch.wide__math__asin"]


@cache
def load(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / f"{name}.csv")


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    for name in ("apistrat", "apiclus1"):
        c.register("frame", load(name))
        c.sql(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
        c.unregister("frame")
    return c


def design(name: str, backend: str, con=None, spark=None):
    """R's dstrat / dclus1 / rclus1 (``as.svrepdesign(dclus1, type="JK1")``) on a backend."""
    data = "apistrat" if name == "dstrat" else "apiclus1"
    args = (dict(strata="stype", weights="pw", fpc="fpc") if name == "dstrat"
            else dict(psu="dnum", weights="pw", fpc="fpc"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        if backend == "pandas":
            d = sl.SurveyDesign(load(data), **args)
        elif backend == "spark":
            import pyarrow as pa

            frame = spark.createDataFrame(pa.Table.from_pandas(load(data), preserve_index=False))
            d = LazySurveyDesign(frame, **args)
        else:
            d = LazySurveyDesign(data, connection=con, **args)
        return d.to_replicates("jk1") if name == "rclus1" else d


def estimate(d, case, itype):
    probs = sorted({r["p"] for r in case["rows"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        return d.quantile(case["variable"], probs, by=case["by"], qrule=case["qrule"],
                          interval_type=itype, na_rm=True).to_frame()


def nan(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def check(case, lazy, con):
    """R's numbers (1e-8) and the in-memory estimator's (1e-10)."""
    rows = pd.DataFrame(case["rows"])
    itype = case["interval_type"]
    # R 4.1's svyquantile.svyrep.design ignores the interval type (gives "mean"): its rows
    # are compared with "mean", and the type asked for with memory only
    r_type = "mean" if case["design"] == "rclus1" else itype
    got = estimate(lazy, case, r_type)
    for col, r_col in (("estimate", "estimate"), ("ci_low", "ci_low"),
                       ("ci_high", "ci_high"), ("se", "se")):
        np.testing.assert_allclose(got[col], nan(rows[r_col]), rtol=RTOL_R, err_msg=col)
    if case["by"]:
        assert list(got[case["by"]].astype(str)) == list(rows["domain"])
    got = estimate(lazy, case, itype)
    want = estimate(design(case["design"], "pandas"), case, itype)
    for col in ("estimate", "se", "ci_low", "ci_high", "df"):
        np.testing.assert_allclose(got[col], want[col], rtol=RTOL_BACKENDS, err_msg=col)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rules_and_interval_types_on_duckdb(case, con):
    check(case, design(case["design"], "duckdb", con), con)


PATH_CASES = [c for c in CASES if c["by"] or c["qrule"] not in ("hf1", "hf2")]


@pytest.mark.parametrize("path", ["histogram", "window"])
@pytest.mark.parametrize("case", PATH_CASES, ids=[c["id"] for c in PATH_CASES])
def test_many_distinct_values_give_the_same(case, path, con, monkeypatch):
    """With more distinct values than MAX_DISTINCT, a histogram and the values of the bins
    holding the targets (or, where those bins hold too many values, and for hf3, the window
    query): the same numbers.  The limits are lowered so that the API data take each path."""
    limit, bins = (100, 64) if path == "histogram" else (3, 2)
    monkeypatch.setattr(_distribution, "MAX_DISTINCT", limit)
    monkeypatch.setattr(_histogram, "BINS", bins)
    d = design(case["design"], "duckdb", con)
    sent = []
    fetch = d.source.fetch
    monkeypatch.setattr(d.source, "fetch", lambda sql: sent.append(sql) or fetch(sql))
    check(case, d, con)
    window = any("OVER (" in s for s in sent)
    assert window == (path == "window" or case["qrule"] == "hf3")
    assert any("FLOOR(LEAST(" in s for s in sent) == (case["qrule"] != "hf3")


@pytest.mark.parametrize("path", ["distribution", "histogram"])
@pytest.mark.parametrize("case_id", SPARK_CASES)
def test_rules_and_interval_types_on_spark(case_id, path, con, spark, monkeypatch):
    """Spark SQL: the whole distribution, and the histogram with the values of its bins."""
    if path == "histogram":
        monkeypatch.setattr(_distribution, "MAX_DISTINCT", 100)
        monkeypatch.setattr(_histogram, "BINS", 64)
    case = next(c for c in CASES if c["id"] == case_id)
    check(case, design(case["design"], "spark", spark=spark), con)


def test_exact_hit_refetches_exact_sums(con, monkeypatch):
    """apiclus1 has equal weights, so some quartile of some school type falls exactly on a
    cumulative weight (F = p * total), which double-precision sums cannot certify: the exact
    DECIMAL sums are fetched (one more query) and memory's numbers result.  apistrat's
    quartiles are certified from the double sums (no DECIMAL query)."""
    sent = []
    for name, var, by, refetch in (("dclus1", "api00", "stype", True),
                                   ("dstrat", "api00", None, False)):
        d = design(name, "duckdb", con)
        fetch = d.source.fetch
        monkeypatch.setattr(d.source, "fetch", lambda sql, f=fetch: sent.append(sql) or f(sql))
        sent.clear()
        got = d.quantile(var, [0.25, 0.5], by=by, qrule="school").to_frame()
        want = design(name, "pandas").quantile(var, [0.25, 0.5], by=by,
                                               qrule="school").to_frame()
        for col in ("estimate", "se", "ci_low", "ci_high"):
            np.testing.assert_allclose(got[col], want[col], rtol=RTOL_BACKENDS)
        assert any("DECIMAL" in s for s in sent) == refetch, name
        # one scan for the distribution, one for the shares' unit sums at both quartiles
        assert len(sent) == 2 + refetch


@pytest.mark.parametrize("case", ROW_CASES, ids=[c["id"] for c in ROW_CASES])
def test_options_that_need_the_rows_say_so(case, con):
    """hf4-hf9 interpolate between rows (their order among ties is the data's); the score
    interval refits the share at many values: NotPushedDownError naming d.in_memory."""
    d = design(case["design"], "duckdb", con)
    with pytest.raises(NotPushedDownError, match="in_memory") as info:
        estimate(d, case, case["interval_type"])
    itype = case["interval_type"]  # checked first
    bad = itype if itype not in PUSHED_INTERVALS else case["qrule"]
    assert repr(bad) in str(info.value)
    with pytest.raises(NotPushedDownError, match="in_memory"):
        d.quantile("api00", [0.5], interval_type="quantile")


def synthetic(seed: int) -> pd.DataFrame:
    """Small stratified cluster samples: few integer values with equal weights (exact hits),
    rounded normals with integer weights, and skewed continuous values."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 120))
    kind = seed % 4
    x = (rng.integers(0, 8, n).astype(float) if kind == 0
         else rng.normal(50, 10, n).round(int(rng.integers(0, 3))))
    if kind == 3:
        x = np.exp(rng.normal(3, 1.5, n))
    w = (np.full(n, 2.5) if seed % 3 == 0 else rng.integers(1, 5, n).astype(float)
         if seed % 3 == 1 else rng.uniform(1, 3, n))
    h = rng.integers(0, 3, n)
    return pd.DataFrame({"h": h, "psu": (np.arange(n) // 3) * 10 + h, "w": w, "x": x,
                         "g": rng.integers(0, 2, n)})


@pytest.mark.parametrize("seed", [0, 3, 10, 11])
def test_every_path_equals_memory_on_synthetic_samples(seed, con, monkeypatch):
    """Extreme probabilities (shares of 0 and 1: SE 0, interval ends at the data's edge),
    ties, exact hits and skewed values, through the whole distribution, the histogram and
    the window query: memory's numbers (1e-10)."""
    frame = synthetic(seed)
    con.register("frame", frame)
    con.sql("CREATE OR REPLACE TABLE synth AS SELECT * FROM frame")
    con.unregister("frame")
    args = dict(strata="h", psu="psu", weights="w", nest=True, lonely_psu="adjust")
    mem = sl.SurveyDesign(frame, **args)
    probs = [0.05, 0.25, 0.5, 0.75, 0.95]
    for limit, bins in ((1_000_000, 4096), (20, 8), (3, 2)):
        monkeypatch.setattr(_distribution, "MAX_DISTINCT", limit)
        monkeypatch.setattr(_histogram, "BINS", bins)
        lazy = LazySurveyDesign("synth", connection=con, **args)
        for qrule in ("math", "school"):
            for by in (None, "g"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", sl.SurveyWarning)
                    got = lazy.quantile("x", probs, by=by, qrule=qrule).to_frame()
                    want = mem.quantile("x", probs, by=by, qrule=qrule).to_frame()
                for col in ("estimate", "se", "ci_low", "ci_high", "df"):
                    np.testing.assert_allclose(got[col], want[col], rtol=RTOL_BACKENDS,
                                               err_msg=f"{limit} {qrule} {by} {col}")


def test_second_value_in_the_next_bin(con, monkeypatch):
    """Below the first value's weight the rule takes the second value (apiclus1's high
    schools: the lower end of the median's interval is api99 = 443, the second of 14 values),
    which the histogram's 64 bins put in the bin after the first value's: it is fetched too."""
    monkeypatch.setattr(_distribution, "MAX_DISTINCT", 100)
    monkeypatch.setattr(_histogram, "BINS", 64)
    got = design("dclus1", "duckdb", con).quantile("api99", [0.5], by="stype").to_frame()
    want = design("dclus1", "pandas").quantile("api99", [0.5], by="stype").to_frame()
    assert want["ci_low"].iloc[1] == 443
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[col], want[col], rtol=RTOL_BACKENDS)
