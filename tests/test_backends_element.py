"""Element sampling (no ``psu=``) over DuckDB: no unit table, per-stratum Gram sums.

The R fixtures of element designs (``dstrat*`` of ``design.json``; ``ps_strat_2way`` and
``rake_strat_tight`` of ``weighting.json``) run on DuckDB and Spark in
``tests/test_backends_conformance.py``.  Here: more rows than ``max_units``; a subset after
a weighting step (rows outside it keep their residual); lonely and certainty strata under
every rule; data whose mean is large against their spread (the shift and its rerun rule);
each against the in-memory design at 1e-10.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import LazySurveyDesign, NotPushedDownError  # noqa: E402

DATA = Path(__file__).parent / "conformance" / "data"
RTOL = 1e-10
POP_TYPE = pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]})
POP_WIDE = pd.DataFrame({"sch.wide": ["No", "Yes"], "count": [1072, 5122]})


@cache
def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "apistrat.csv")


def table(con, name, frame):
    con.register("frame", frame)
    con.sql(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM frame')
    con.unregister("frame")
    return name


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    table(c, "apistrat", apistrat())
    return c


def same(got, want, *, cols=("estimate", "se", "deff", "df")):
    a, b = got.to_frame(), want.to_frame()
    for col in cols:
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float),
                                   rtol=RTOL, atol=1e-12 * np.abs(b[col]).max(), err_msg=col)
    np.testing.assert_allclose(got.vcov_matrix, want.vcov_matrix, rtol=RTOL,
                               atol=1e-12 * np.abs(want.vcov_matrix).max())


def test_more_rows_than_max_units(con):
    """200 rows with max_units=50: estimates, domains, shares, a subset and both weighting
    steps work (no unit table); only replicates (a factor per row) are refused."""
    args = dict(strata="stype", weights="pw", fpc="fpc")
    lazy = LazySurveyDesign("apistrat", connection=con, max_units=50, **args)
    mem = sl.SurveyDesign(apistrat(), **args)
    assert lazy.degf() == mem.degf() == 197
    same(lazy.mean(["api00", "enroll"], by="awards"), mem.mean(["api00", "enroll"], by="awards"))
    same(lazy.ratio("api00", "api99", by="stype"), mem.ratio("api00", "api99", by="stype"))
    same(lazy.proportion("awards", by="stype", ci_method="logit"),
         mem.proportion("awards", by="stype", ci_method="logit"),
         cols=("estimate", "se", "df", "ci_low", "ci_high"))
    sub, msub = lazy.subset("\"api00\" > 650"), mem.subset(apistrat()["api00"] > 650)
    assert sub.degf() == msub.degf()
    same(sub.total("enroll", by="stype"), msub.total("enroll", by="stype"))
    ps, mps = lazy.poststratify("stype", POP_TYPE), mem.poststratify("stype", POP_TYPE)
    same(ps.mean("api00", by="awards"), mps.mean("api00", by="awards"))
    margins = {"stype": POP_TYPE, "sch.wide": POP_WIDE}
    rk, mrk = lazy.rake(margins, tol=1e-13, max_iter=1000), mem.rake(margins, tol=1e-13,
                                                                      max_iter=1000)
    same(rk.total(["api00", "enroll"]), mrk.total(["api00", "enroll"]))
    with pytest.raises(NotPushedDownError, match="max_units=50"):
        lazy.to_replicates("jkn")


@pytest.mark.parametrize("step", ["poststratify", "rake"])
def test_subset_after_weighting_keeps_the_residuals_of_rows_left_out(con, step):
    """After a step, a subset's rows outside it have zero scores but a nonzero residual
    ``-M[c] v``: the query runs over every weighted row with a 0/1 key for the subset."""
    args = dict(strata="stype", weights="pw", fpc="fpc")
    lazy = LazySurveyDesign("apistrat", connection=con, **args)
    mem = sl.SurveyDesign(apistrat(), **args)
    margins = {"stype": POP_TYPE, "sch.wide": POP_WIDE}
    if step == "poststratify":
        lazy, mem = lazy.poststratify("sch.wide", POP_WIDE), mem.poststratify("sch.wide",
                                                                              POP_WIDE)
    else:
        lazy = lazy.rake(margins, tol=1e-13, max_iter=1000)
        mem = mem.rake(margins, tol=1e-13, max_iter=1000)
    sub, msub = lazy.subset("\"awards\" = 'Yes'"), mem.subset(apistrat()["awards"] == "Yes")
    same(sub.mean(["api00", "enroll"], by="stype"), msub.mean(["api00", "enroll"], by="stype"))
    same(sub.proportion("stype", by="sch.wide", ci_method="wald"),
         msub.proportion("stype", by="sch.wide", ci_method="wald"))


@pytest.mark.parametrize("rule", ["adjust", "remove", "average", "certainty"])
def test_lonely_and_certainty_strata(con, rule):
    """A stratum with one row follows every lonely-PSU rule, a stratum sampled whole (fpc =
    rows) contributes nothing, as in memory; ``fail`` names the stratum."""
    frame = apistrat().copy()
    frame.loc[0, "stype"] = "L"  # a stratum of one row
    frame["fpc"] = frame["fpc"].astype(float)
    frame.loc[0, "fpc"] = 50.0
    whole = frame.index[frame["stype"] == "H"]
    frame.loc[whole, "fpc"] = float(len(whole))  # a certainty stratum
    name = table(con, "lonely", frame)
    args = dict(strata="stype", weights="pw", fpc="fpc", lonely_psu=rule)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        lazy = LazySurveyDesign(name, connection=con, **args)
        mem = sl.SurveyDesign(frame, **args)
    same(lazy.mean(["api00", "enroll"]), mem.mean(["api00", "enroll"]))
    same(lazy.total("api00", by="awards"), mem.total("api00", by="awards"))
    sub, msub = lazy.subset("\"awards\" = 'No'"), mem.subset(frame["awards"] == "No")
    same(sub.mean("api00"), msub.mean("api00"))
    with pytest.raises(sl.errors.LonelyPSUError, match="'L'"):
        LazySurveyDesign(name, connection=con, strata="stype", weights="pw")


def test_large_mean_against_spread(con):
    """y = 1e6 + N(0, 1): ``sum w^2 y^2`` and the mean's square agree to 12 digits, so the
    unshifted Gram sums would leave about 4.  The shift (the mean of 4,096 rows) gives the
    in-memory numbers at 1e-10; so does a shift of 0 (set here in the design's memo), after
    the rule that runs the query again with the estimates as shifts when more than 6 digits
    are lost.  The ratio's design effect is checked against its two-pass value: the in-memory
    one sums ``w y^2 - 2 R w x y + R^2 w x^2`` unshifted and keeps about 4 digits here."""
    rng = np.random.default_rng(5)
    n = 20_000
    frame = pd.DataFrame({"h": rng.integers(0, 5, n), "d": rng.integers(0, 3, n),
                          "w": rng.uniform(1, 4, n), "y": 1e6 + rng.normal(0, 1, n),
                          "x": 2e6 + rng.normal(0, 1, n)})
    name = table(con, "illcond", frame)
    args = dict(strata="h", weights="w")
    mem = sl.SurveyDesign(frame, **args)
    w, y, x = frame["w"], frame["y"], frame["x"]
    r = (w * y).sum() / (w * x).sum()
    s2 = (w * (y - r * x) ** 2).sum() / w.sum() * n / (n - 1)
    srs = s2 * (w.sum() / (w * x).sum()) ** 2 * (w.sum() - n) / (w.sum() * n)
    deff = float(mem.ratio("y", "x").vcov_matrix[0, 0] / srs)  # two-pass, exact to ~1e-14
    for shift in (None, 0.0):
        lazy = LazySurveyDesign(name, connection=con, **args)
        if shift is not None:
            lazy.__dict__["shift_cache"] = {"y": shift, "x": shift}
        same(lazy.mean("y", by="d"), mem.mean("y", by="d"))
        got = lazy.ratio("y", "x")
        same(got, mem.ratio("y", "x"), cols=("estimate", "se"))
        assert abs(got.deff.iloc[0] / deff - 1) < RTOL
        assert abs(lazy.__dict__["shift_cache"]["y"] - 1e6) < 0.1  # sample mean, or rerun's


def test_on_spark(spark):
    """The same on Spark (local[2]): a subset after raking (the 0/1 subset key), a lonely
    stratum under ``adjust``, and a large mean against its spread."""
    import pyarrow as pa

    frame = apistrat().copy()
    frame.loc[0, "stype"] = "L"
    data = spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))
    args = dict(strata="stype", weights="pw", lonely_psu="adjust")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        lazy, mem = LazySurveyDesign(data, **args), sl.SurveyDesign(frame, **args)
    same(lazy.mean(["api00", "enroll"], by="awards"), mem.mean(["api00", "enroll"], by="awards"))
    pop = pd.DataFrame({"stype": ["E", "H", "L", "M"], "count": [4420, 755, 1, 1018]})
    margins = {"stype": pop, "sch.wide": POP_WIDE}
    rk = lazy.rake(margins, tol=1e-13, max_iter=1000).subset("`awards` = 'Yes'")
    mrk = mem.rake(margins, tol=1e-13, max_iter=1000).subset(frame["awards"] == "Yes")
    same(rk.mean("api00", by="sch.wide"), mrk.mean("api00", by="sch.wide"))
    rng = np.random.default_rng(7)
    big = pd.DataFrame({"h": rng.integers(0, 4, 5000), "w": rng.uniform(1, 3, 5000),
                        "y": 1e6 + rng.normal(0, 1, 5000)})
    lazy = LazySurveyDesign(spark.createDataFrame(pa.Table.from_pandas(big)), strata="h",
                            weights="w")
    same(lazy.mean("y"), sl.SurveyDesign(big, strata="h", weights="w").mean("y"))
