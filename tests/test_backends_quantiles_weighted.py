"""Quantiles after post-stratification and raking pushed down to DuckDB and Spark, against R
``svyquantile`` on the weighted design (the ``quantiles`` of four cases of
``tests/conformance/fixtures/weighting.json``, written by ``tests/conformance/r/weighting.R``,
which records the R calls) at 1e-8 and the in-memory estimator at 1e-10; through the whole
distribution, the histogram and the window query (the limits lowered so that the data take
each path), and the exact re-summing at an exact hit.  The step's factors reach the rows by
a join with a table of the cells' factors: no query evaluates the nested ``CASE`` over the
cells.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from weighting_steps import apply_step

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import LazySurveyDesign, _distribution, _histogram  # noqa: E402

HERE = Path(__file__).parent / "conformance"
WT = json.loads((HERE / "fixtures" / "weighting.json").read_text())
CASES = [c for c in WT["cases"] if "quantiles" in c]
RTOL_R, RTOL_BACKENDS = 1e-8, 1e-10
#: (MAX_DISTINCT, BINS) that send the API and Kazakhstan-shaped data down each path
LIMITS = {"distribution": (1_000_000, 4096), "histogram": (100, 64), "window": (3, 2)}


@cache
def load(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / name)


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    for name in {WT["designs"][case["design"]]["data"] for case in CASES}:
        c.register("frame", load(name))
        c.sql(f'CREATE TABLE "{name[:-4]}" AS SELECT * FROM frame')
        c.unregister("frame")
    return c


def designs(case, backend, con=None, spark=None):
    """The case's weighted design in memory and on ``backend`` (``dstrat``, R ``id=~1``, gets
    its row id ``snum`` as PSU on the engines: element sampling, the same variance)."""
    s = WT["designs"][case["design"]]
    args = dict(strata=s["strata"], weights=s["weights"], fpc=s["fpc"], nest=s["nest"])
    if backend == "spark":
        import pyarrow as pa

        data = {"data": spark.createDataFrame(pa.Table.from_pandas(load(s["data"]),
                                                                   preserve_index=False))}
    else:
        data = {"data": s["data"][:-4], "connection": con}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        lazy = LazySurveyDesign(**data, psu=s["psu"] or "snum", **args)
        mem = sl.SurveyDesign(load(s["data"]), psu=s["psu"], **args)
        for step in case["steps"]:
            lazy, mem = apply_step(lazy, step), apply_step(mem, step)
    return lazy, mem


def quantiles(d, spec, qrule="math"):
    """R's two calls: the quartiles of every variable, the median of the first by domain."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        whole = d.quantile(spec["variables"], [0.25, 0.5, 0.75], qrule=qrule).to_frame()
        by = d.quantile(spec["variables"][0], [0.5], by=spec["by"], qrule=qrule).to_frame()
    return whole, by


def check(case, lazy, mem):
    """R's rows (1e-8) and memory's numbers (1e-10), for qrule math (R's) and school."""
    spec = case["quantiles"]
    whole, by = quantiles(lazy, spec)
    for r in spec["rows"]:
        if r["by"]:
            ((col, level),) = r["by"].items()
            row = by[by[col].astype(str) == str(level)].iloc[0]
        else:
            row = whole[(whole["variable"] == r["variable"])
                        & np.isclose(whole["level"].astype(float), r["p"])].iloc[0]
        for name in ("estimate", "se", "ci_low", "ci_high"):
            np.testing.assert_allclose(row[name], r[name], rtol=RTOL_R, err_msg=(name, r))
    for qrule in ("math", "school", "hf3"):
        for got, want in zip(quantiles(lazy, spec, qrule), quantiles(mem, spec, qrule),
                             strict=True):
            for col in ("estimate", "se", "ci_low", "ci_high", "df"):
                np.testing.assert_allclose(got[col], want[col], rtol=RTOL_BACKENDS,
                                           err_msg=f"{qrule} {col}")


def record(monkeypatch, d):
    sent = []
    fetch = d.source.fetch
    monkeypatch.setattr(d.source, "fetch", lambda sql: sent.append(sql) or fetch(sql))
    return sent


def no_cell_case(case, lazy, sent):
    """No query evaluates the step's nested CASE over the cells; the factors were joined."""
    q = lazy.source.quote
    variables = [v for s in case["steps"] for v in
                 (s["by"] if s["op"] == "poststratify"
                  else [v for p in s["margins"] for v in p["variables"]])]
    assert not [s for s in sent for v in variables if f"CASE {q(v)} WHEN" in s]
    assert any("LEFT JOIN (VALUES" in s for s in sent)


@pytest.mark.parametrize("path", list(LIMITS))
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_weighted_quantiles_on_duckdb(case, path, con, monkeypatch):
    """Every path equals R and memory after post-stratification and raking; the histogram
    and the window query are taken where the limits say."""
    limit, bins = LIMITS[path]
    monkeypatch.setattr(_distribution, "MAX_DISTINCT", limit)
    monkeypatch.setattr(_histogram, "BINS", bins)
    lazy, mem = designs(case, "duckdb", con)
    sent = record(monkeypatch, lazy)
    check(case, lazy, mem)
    no_cell_case(case, lazy, sent)
    assert any("FLOOR(LEAST(" in s for s in sent) == (path != "distribution")
    # hf3 takes the window query where the histogram would serve the other rules
    assert any("OVER (" in s for s in sent) == (path != "distribution")


@pytest.mark.parametrize("path", ["distribution", "histogram"])
@pytest.mark.parametrize("case_id", ["ps_strat_2way", "rake_clus1_tight"])
def test_weighted_quantiles_on_spark(case_id, path, con, spark, monkeypatch):
    """Spark SQL: the factor table joined the same way (the whole distribution, and the
    histogram with the values of its bins)."""
    limit, bins = LIMITS[path]
    monkeypatch.setattr(_distribution, "MAX_DISTINCT", limit)
    monkeypatch.setattr(_histogram, "BINS", bins)
    case = next(c for c in CASES if c["id"] == case_id)
    lazy, mem = designs(case, "spark", spark=spark)
    check(case, lazy, mem)


def test_exact_hit_after_poststratification(con, monkeypatch):
    """apiclus1 has equal weights and post-stratification on stype keeps them equal within a
    school type, so some quartile by stype falls exactly on a cumulative weight: the exact
    DECIMAL sums of the joined weights are fetched and memory's numbers result."""
    case = next(c for c in CASES if c["id"] == "ps_clus1")
    lazy, mem = designs(case, "duckdb", con)
    sent = record(monkeypatch, lazy)
    for qrule in ("math", "school"):
        with warnings.catch_warnings():  # an interval end past the data (NaN, as in R)
            warnings.simplefilter("ignore", sl.SurveyWarning)
            got = lazy.quantile("api00", [0.25, 0.5, 0.75], by="stype", qrule=qrule).to_frame()
            want = mem.quantile("api00", [0.25, 0.5, 0.75], by="stype", qrule=qrule).to_frame()
        for col in ("estimate", "se", "ci_low", "ci_high", "df"):
            np.testing.assert_allclose(got[col], want[col], rtol=RTOL_BACKENDS)
    assert any("DECIMAL" in s and "LEFT JOIN (VALUES" in s for s in sent)
    no_cell_case(case, lazy, sent)
