"""One conformance suite over three backends: pandas (in memory), DuckDB and Spark (local[2]).

Every R-fixture case a design over an engine can push down runs on each backend, which must
agree with R at 1e-8 and with the in-memory result at 1e-10: means, totals, ratios, shares
and quantiles with Woodruff intervals (``tests/conformance/fixtures/design.json``, by domains
and on subsets), stored replicate-weight columns (``replicate.json``), the Rao–Scott crosstab
(``inference.json``), and post-stratification and raking (``weighting.json``); each fixture
is written by the R script named in it (R survey 4.1.1).  Spark runs one case per shape (or
every case where there are few) to keep CI short.  The likelihood interval of a share needs
the rows and is checked to raise :class:`NotPushedDownError`.
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
from fixture_estimates import run_estimate
from weighting_steps import apply_step

import surveylib as sl

duckdb = pytest.importorskip("duckdb")
from surveylib.backends import (  # noqa: E402
    LazyReplicateDesign,
    LazySurveyDesign,
    NotPushedDownError,
)

HERE = Path(__file__).parent / "conformance"
FIXTURES = json.loads((HERE / "fixtures" / "design.json").read_text())
RTOL_R, RTOL_BACKENDS = 1e-8, 1e-10
BACKENDS = ["duckdb", "spark"]


@cache
def load(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / name)


@pytest.fixture(scope="session")
def duck():
    return duckdb.connect()


_tables: set = set()


def duck_table(duck, name: str) -> str:
    """The fixture CSV ``name`` as a DuckDB table (created on first use), named without .csv."""
    if name not in _tables:
        duck.register("frame", load(name))
        duck.sql(f'CREATE OR REPLACE TABLE "{name[:-4]}" AS SELECT * FROM frame')
        duck.unregister("frame")
        _tables.add(name)
    return name[:-4]


def source(backend, data_name, duck, spark_session):
    if backend == "duckdb":
        return {"data": duck_table(duck, data_name), "connection": duck}
    return {"data": spark_frame(spark_session, data_name)}


_spark_frames: dict = {}


def spark_frame(spark_session, name):
    if name not in _spark_frames:
        import pyarrow as pa

        _spark_frames[name] = spark_session.createDataFrame(
            pa.Table.from_pandas(load(name), preserve_index=False))
    return _spark_frames[name]


_designs: dict = {}


def build(design_id, backend, duck, spark_session):
    """The case's design on ``backend`` (built once per backend: designs are immutable)."""
    if (design_id, backend) not in _designs:
        _designs[design_id, backend] = _build(design_id, backend, duck, spark_session)
    return _designs[design_id, backend]


def _build(design_id, backend, duck, spark_session):
    spec = FIXTURES["designs"][design_id]
    args = dict(strata=spec["strata"], psu=spec["psu"], weights=spec["weights"],
                probs=spec["probs"], fpc=spec["fpc"], nest=spec["nest"],
                lonely_psu=spec["lonely_psu"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        if backend == "pandas":
            return sl.SurveyDesign(load(spec["data"]), **args)
        return LazySurveyDesign(**source(backend, spec["data"], duck, spark_session), **args)


def subset(d, case, data, backend):
    """``d`` restricted to the case's subset column (== 1), if it has one."""
    col = case.get("subset")
    if not col:
        return d
    if backend == "pandas":
        return d.subset(load(data)[col] == 1)
    q = "`" if backend == "spark" else '"'
    return d.subset(f"{q}{col}{q} = 1")


def run(case, backend, duck, spark_session):
    d = build(case["design"], backend, duck, spark_session)
    return run_estimate(subset(d, case, FIXTURES["designs"][case["design"]]["data"], backend),
                        case)


def match_rows(case, frame):
    positions = []
    for row in case["rows"]:
        sel = np.ones(len(frame), dtype=bool)
        for col, val in row["by"].items():
            sel &= frame[col].astype(str).to_numpy() == str(val)
        if case["estimator"] == "ratio":
            sel &= frame["variable"].str.startswith(row["variable"] + "/").to_numpy()
        else:
            sel &= (frame["variable"] == row["variable"]).to_numpy()
        if row["level"] is not None:
            sel &= frame["level"].astype(str).to_numpy() == str(row["level"])
        (hit,) = np.flatnonzero(sel)
        positions.append(int(hit))
    return positions


def close(a, b, rtol):
    return b is None or math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=1e-12)


PUSHED = [c for c in FIXTURES["cases"]
          if not c.get("expect_error") and c["estimator"] != "quantile"
          and c["args"].get("ci_method") != "likelihood"
          and not FIXTURES["designs"][c["design"]].get("adjust_domain_lonely")]
#: Spark runs one case per (design, estimator, domains, subset) shape, to keep CI short
SPARK = {}
for _c in PUSHED:
    SPARK.setdefault((_c["design"], _c["estimator"], bool(_c["args"]["by"]),
                      bool(_c["subset"])), _c["id"])
PARAMS = [pytest.param(c, b, id=f"{b}-{c['id']}") for b in BACKENDS for c in PUSHED
          if b == "duckdb" or c["id"] in SPARK.values()]


def spark_or_none(request, backend):
    return request.getfixturevalue("spark") if backend == "spark" else None


@pytest.mark.parametrize(("case", "backend"), PARAMS)
def test_backend_against_r_and_pandas(case, backend, duck, request):
    """Estimates, SEs, design effects, t intervals and covariances equal R's (1e-8) and the
    in-memory design's (1e-10)."""
    spark_session = spark_or_none(request, backend)
    res = run(case, backend, duck, spark_session)
    ref = run(case, "pandas", duck, spark_session)
    level = case["args"]["level"]
    frame, ref_frame = res.to_frame(level=level), ref.to_frame(level=level)
    pos = match_rows(case, frame)
    ref_pos = match_rows(case, ref_frame)
    own_df = bool(case["args"].get("ci_method"))
    ci = res.ci(level=level) if own_df else res.ci(level=level, df=case["df"])
    for p, rp, row in zip(pos, ref_pos, case["rows"], strict=True):
        for name, got, want in (("estimate", frame["estimate"].iloc[p], row["estimate"]),
                                ("se", frame["se"].iloc[p], row["se"]),
                                ("deff", res.deff_values[p], row.get("deff")),
                                ("ci_low_t", ci["ci_low"].iloc[p], row["ci_low_t"]),
                                ("ci_high_t", ci["ci_high"].iloc[p], row["ci_high_t"])):
            assert close(got, want, RTOL_R), (name, got, want)
        for col in ("estimate", "se"):
            assert close(frame[col].iloc[p], ref_frame[col].iloc[rp], RTOL_BACKENDS), col
        assert close(res.deff_values[p], ref.deff_values[rp], RTOL_BACKENDS)
        assert res.n[p] == ref.n[rp]
    if case.get("vcov") is not None:
        np.testing.assert_allclose(res.vcov_matrix[np.ix_(pos, pos)], np.asarray(case["vcov"]),
                                   rtol=RTOL_R, atol=1e-12 * np.abs(case["vcov"]).max())
    if not case["args"]["by"]:
        assert res.df == case["df"]


ERRORS = [c for c in FIXTURES["cases"] if c.get("expect_error")]


@pytest.mark.parametrize("case", ERRORS, ids=[c["id"] for c in ERRORS])
def test_backend_errors_where_r_errors(case, duck):
    """Where R stops (a lonely PSU under 'fail', ids reused without nest), so does DuckDB."""
    with pytest.raises(sl.SurveyDesignError) as info:
        run(case, "duckdb", duck, None)
    msg = str(info.value)
    assert ("only one PSU" in msg and "lonely_psu=" in msg) or "nest=True" in msg


def test_what_needs_rows_says_so(duck):
    """The likelihood interval refits a model on the rows: a clear error naming the
    alternatives."""
    d = build("dstrat", "duckdb", duck, None)
    with pytest.raises(NotPushedDownError, match="ci_method='logit'"):
        d.proportion("sch.wide", ci_method="likelihood")


# ----- stored replicate-weight columns (R svrepdesign) ------------------------------------------
REP = json.loads((HERE / "fixtures" / "replicate.json").read_text())
REP_COLS = {k for k, d in REP["designs"].items() if d["kind"] == "columns"}
REP_CASES = [c for c in REP["cases"] if c["design"] in REP_COLS]
_REP_SPARK = {}
for _c in REP_CASES:
    _REP_SPARK.setdefault((REP["designs"][_c["design"]]["data"], _c["estimator"],
                           bool(_c["args"]["by"]), bool(_c.get("subset"))), _c["id"])
REP_PARAMS = [pytest.param(c, b, id=f"{b}-{c['id']}") for b in ["pandas", *BACKENDS]
              for c in REP_CASES if b != "spark" or c["id"] in _REP_SPARK.values()]


def replicate_design(design_id, backend, duck, spark_session):
    """``svrepdesign`` of the case on ``backend`` (the pandas one is ReplicateDesign)."""
    key = (design_id, backend)
    if key not in _designs:
        spec = REP["designs"][design_id]
        args = dict(weights=spec["weights"], rep_weights=spec["rep_prefix"] + "*",
                    type=spec["type"], scale=spec["scale"], rscales=spec["rscales"],
                    rho=spec["rho"], mse=spec["mse"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.SurveyWarning)
            if backend == "pandas":
                from surveylib.replicate import ReplicateDesign

                _designs[key] = ReplicateDesign(load(spec["data"]), **args)
            else:
                _designs[key] = LazyReplicateDesign(
                    **source(backend, spec["data"], duck, spark_session), **args)
    return _designs[key]


def run_replicate(case, backend, duck, spark_session):
    """The case on ``backend`` (a quantile: interval.type="mean", Woodruff with the replicate
    share SE)."""
    d = replicate_design(case["design"], backend, duck, spark_session)
    return run_estimate(subset(d, case, REP["designs"][case["design"]]["data"], backend), case)


@pytest.mark.parametrize(("case", "backend"), REP_PARAMS)
def test_replicate_columns_against_r_and_pandas(case, backend, duck, request):
    """Stored replicate-weight columns (JK1, JKn, BRR, Fay, bootstrap, ACS, other; mse):
    per-replicate totals summed in the engine give R's estimates, SEs, design effects, t
    intervals, df and covariances (1e-8) and the in-memory design's (1e-10)."""
    spark_session = spark_or_none(request, backend)
    res = run_replicate(case, backend, duck, spark_session)
    ref = run_replicate(case, "pandas", duck, spark_session)
    frame, ref_frame = res.to_frame(), ref.to_frame()
    rows_of = _quantile_rows if case["estimator"] == "quantile" else match_rows
    pos, ref_pos = rows_of(case, frame), rows_of(case, ref_frame)
    for p, rp, row in zip(pos, ref_pos, case["rows"], strict=True):
        nan = set(row.get("r_nan", []))
        for name, col in (("estimate", "estimate"), ("se", "se"), ("deff", "deff"),
                          ("ci_low_t", "ci_low"), ("ci_high_t", "ci_high")):
            if name in nan:
                assert np.isnan(frame[col].iloc[p]), name
            else:
                assert close(frame[col].iloc[p], row.get(name), RTOL_R), (name, row)
        for col in ("estimate", "se", "deff"):
            a, b = frame[col].iloc[p], ref_frame[col].iloc[rp]
            assert (np.isnan(a) and np.isnan(b)) or close(a, b, RTOL_BACKENDS), col
        assert frame["df"].iloc[p] == row.get("df", case["df"]) == ref_frame["df"].iloc[rp]
    if case["vcov"] is not None and case["estimator"] != "quantile":
        np.testing.assert_allclose(res.vcov_matrix[np.ix_(pos, pos)], np.array(case["vcov"]),
                                   rtol=RTOL_R, atol=1e-9)
        np.testing.assert_allclose(res.vcov_matrix, ref.vcov_matrix, rtol=RTOL_BACKENDS,
                                   atol=1e-12 * max(1.0, np.abs(ref.vcov_matrix).max()))


# ----- the Rao–Scott crosstab (R svychisq, svymean/svytotal of interaction) -------------------
INF = json.loads((HERE / "fixtures" / "inference.json").read_text())
#: dstack is made by stack_waves from two in-memory designs; the others are plain designs
TABLE_CASES = [(c, t) for c, t in zip(INF["chisq"], INF["tables"], strict=True)
               if c["design"] != "dstack"]
TABLE_PARAMS = [pytest.param(c, t, b, id=f"{b}-{c['id']}") for b in ["pandas", *BACKENDS]
                for c, t in TABLE_CASES]


def inference_design(design_id, backend, duck, spark_session):
    key = ("inference", design_id, backend)
    if key not in _designs:
        s = INF["designs"][design_id]
        args = dict(strata=s["strata"], psu=s["psu"], weights=s["weights"], fpc=s["fpc"],
                    nest=s["nest"])
        if backend == "pandas":
            _designs[key] = sl.SurveyDesign(load(s["data"]), **args)
        else:
            _designs[key] = LazySurveyDesign(**source(backend, s["data"], duck, spark_session),
                                             **args)
    return _designs[key]


@pytest.mark.parametrize(("case", "table", "backend"), TABLE_PARAMS)
def test_crosstab_against_r_and_pandas(case, table, backend, duck, request):
    """Cell shares and counts (with SEs and the shares' covariance) and every svychisq
    statistic, df and p-value equal R's (1e-8; saddlepoint p 1e-6) and the in-memory table's
    (1e-10)."""
    spark_session = spark_or_none(request, backend)
    d = inference_design(case["design"], backend, duck, spark_session)
    ref = inference_design(case["design"], "pandas", duck, spark_session)
    tab, ref_tab = d.crosstab(case["row"], case["col"]), ref.crosstab(case["row"], case["col"])
    frame = tab.cell_shares.to_frame()
    cframe = tab.counts.to_frame()
    pos = []
    for r, c in zip(table["row_level"], table["col_level"], strict=True):
        sel = ((frame[case["row"]].astype(str) == str(r)) & (frame["level"].astype(str) == str(c)))
        (p,) = np.flatnonzero(sel.to_numpy())
        pos.append(int(p))
    np.testing.assert_allclose(frame["estimate"].to_numpy()[pos], table["share"], rtol=RTOL_R)
    np.testing.assert_allclose(frame["se"].to_numpy()[pos], table["share_se"], rtol=RTOL_R)
    np.testing.assert_allclose(tab.cell_shares.vcov_matrix[np.ix_(pos, pos)],
                               table["share_vcov"], rtol=RTOL_R, atol=1e-15)
    np.testing.assert_allclose(cframe["estimate"].to_numpy()[pos], table["count"], rtol=RTOL_R)
    np.testing.assert_allclose(cframe["se"].to_numpy()[pos], table["count_se"], rtol=RTOL_R)
    for part in ("counts", "cell_shares", "row_shares", "col_shares"):
        a, b = getattr(tab, part).to_frame(), getattr(ref_tab, part).to_frame()
        np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=RTOL_BACKENDS, atol=1e-14)
        np.testing.assert_allclose(a["se"], b["se"], rtol=RTOL_BACKENDS, atol=1e-14)
    for method in ("F", "chisq", "wald", "adjwald", "saddlepoint"):
        got, r = tab.test(method), case["results"][sl.inference.R_STATISTIC[method]]
        assert close(got.statistic, r["statistic"], RTOL_R), method
        assert close(got.p_value, r["p_value"], 1e-6 if method == "saddlepoint" else RTOL_R)
        if r["ddf"] is not None:
            assert close(got.df_denom, r["ddf"], RTOL_R), method
        want = ref_tab.test(method)
        assert close(got.statistic, want.statistic, RTOL_BACKENDS)
        assert close(got.p_value, want.p_value, RTOL_BACKENDS)


# ----- poststratify and rake (R postStratify, rake) -----------------------------------------------
WT = json.loads((HERE / "fixtures" / "weighting.json").read_text())
WT_CASES = [c for c in WT["cases"] if all(s["op"] in ("poststratify", "rake")
                                          for s in c["steps"])]
WT_PARAMS = [pytest.param(c, b, id=f"{b}-{c['id']}") for b in BACKENDS for c in WT_CASES]


@pytest.mark.parametrize(("case", "backend"), WT_PARAMS)
def test_weighting_against_r_and_pandas(case, backend, duck, request):
    """IPF on the engine's cell table, the new weight an engine expression: estimates and
    Taylor SEs after post-stratification and raking equal R's (1e-8) and the in-memory
    design's (1e-10).  ``dstrat`` (R ``id=~1``) is element sampling: no unit table, the
    residuals through per-(stratum, cell) Gram sums."""
    spark_session = spark_or_none(request, backend)
    s = WT["designs"][case["design"]]
    args = dict(strata=s["strata"], psu=s["psu"], weights=s["weights"], fpc=s["fpc"],
                nest=s["nest"])
    lazy = LazySurveyDesign(**source(backend, s["data"], duck, spark_session), **args)
    mem = sl.SurveyDesign(load(s["data"]), **args)
    for step in case["steps"]:
        lazy, mem = apply_step(lazy, step), apply_step(mem, step)
    for e in case["estimates"]:
        fn = "mean" if e["estimator"] == "mean" else "total"
        got = getattr(lazy, fn)(e["variables"], by=e["by"]).to_frame()
        want = getattr(mem, fn)(e["variables"], by=e["by"]).to_frame()
        for col in ("estimate", "se", "deff"):
            np.testing.assert_allclose(got[col], want[col], rtol=RTOL_BACKENDS)
        for r in e["rows"]:
            sel = (got["variable"] == r["variable"]).to_numpy().copy()
            for k, v in r["by"].items():
                sel &= (got[k].astype(str) == str(v)).to_numpy()
            (p,) = np.flatnonzero(sel)
            assert close(got["estimate"].iloc[p], r["estimate"], RTOL_R)
            assert close(got["se"].iloc[p], r["se"], RTOL_R)
    if backend == "duckdb":  # shares, ratios and subsets after the step, against memory
        var = e["variables"][0]
        for a, b in ((lazy.ratio(var, e["variables"][-1]), mem.ratio(var, e["variables"][-1])),
                     (lazy.proportion(s["strata"] or "stype", ci_method="wald"),
                      mem.proportion(s["strata"] or "stype", ci_method="wald"))):
            np.testing.assert_allclose(a.to_frame()["se"], b.to_frame()["se"],
                                       rtol=RTOL_BACKENDS, atol=1e-12)  # 0 on a margin


# ----- quantiles with Woodruff intervals (R svyquantile) -------------------------------------
QUANTILE = [c for c in FIXTURES["cases"] if c["estimator"] == "quantile"
            and not c.get("expect_error")
            and not FIXTURES["designs"][c["design"]].get("adjust_domain_lonely")]
Q_PARAMS = [pytest.param(c, b, id=f"{b}-{c['id']}") for b in BACKENDS for c in QUANTILE]


def _quantile_rows(case, frame):
    out = []
    for row in case["rows"]:
        sel = np.isclose(frame["level"].astype(float).to_numpy(), row["quantile"])
        for col, val in row["by"].items():
            sel &= frame[col].astype(str).to_numpy() == str(val)
        (p,) = np.flatnonzero(sel)
        out.append(int(p))
    return out


@pytest.mark.parametrize(("case", "backend"), Q_PARAMS)
def test_quantile_against_r_and_pandas(case, backend, duck, request):
    """The weighted CDF computed with window functions in the engine: quantiles, Woodruff
    SEs and t intervals (domain df by domains) equal R's (1e-8) and memory's (1e-10)."""
    spark_session = spark_or_none(request, backend)
    d = build(case["design"], backend, duck, spark_session)
    res = run_estimate(d, case)
    ref = run_estimate(build(case["design"], "pandas", duck, None), case)
    level = case["args"]["level"]
    frame, ref_frame = res.to_frame(level=level), ref.to_frame(level=level)
    pos = _quantile_rows(case, frame)
    for p, row in zip(pos, case["rows"], strict=True):
        for name, col in (("estimate", "estimate"), ("se", "se"), ("ci_low_t", "ci_low"),
                          ("ci_high_t", "ci_high")):
            assert close(frame[col].iloc[p], row[name], RTOL_R), (name, row)
    for col in ("estimate", "se", "ci_low", "ci_high", "df"):
        np.testing.assert_allclose(frame[col], ref_frame[col], rtol=RTOL_BACKENDS)
