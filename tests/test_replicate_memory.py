"""Stored replicate-weight columns are read in place (issue 12): no second n x R array.

Expected numbers come from the replicate-variance formula (R ``svrVar``) written out in numpy
on the same columns: ``theta_r = sum_i w_ri y_i / sum_i w_ri`` per domain and
``V = scale * sum_r (theta_r - mean_r theta_r)^2``.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.replicate import ReplicateDesign


def jk1_frame(n: int, reps: int, seed: int = 3) -> tuple[pd.DataFrame, list]:
    """``n`` rows in ``reps`` PSUs with delete-one-PSU jackknife analysis weights ``rw1..``."""
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, reps, n)
    w = rng.uniform(1, 3, reps)[psu]
    f = reps / (reps - 1) * (1 - np.eye(reps))
    names = [f"rw{r + 1}" for r in range(reps)]
    df = pd.DataFrame(w[:, None] * f[psu], columns=names)  # one float64 block, as pandas keeps it
    df["w"] = w
    df["y"] = 10 + rng.normal(0, 2, reps)[psu] + rng.normal(0, 1, n)
    df["x"] = rng.uniform(1, 2, n)
    df["g"] = rng.integers(0, 12, n)
    df["c"] = rng.integers(0, 4, n)
    return df, names


def closed_form(df, names, num, den, groups, scale):
    """Estimates and SEs of ``sum(w num) / sum(w den)`` in each group, by the formula."""
    W = df[names].to_numpy()
    w = df["w"].to_numpy()
    est, se = [], []
    for g in groups:
        a, b = num * g, den * g
        theta = (a @ W) / (b @ W)
        est.append((w @ a) / (w @ b))
        se.append(np.sqrt(scale * ((theta - theta.mean()) ** 2).sum()))
    return np.array(est), np.array(se)


def traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("order", ["stored", "permuted"])
def test_design_and_mean_make_no_n_by_r_copy(order):
    """Peak traced memory of building the design, its mean and its df stays far below one
    n x R float64 array: the columns are read where the frame keeps them (a view when they
    are one block in order, stacked a block of rows at a time otherwise)."""
    n, reps = 200_000, 80
    df, names = jk1_frame(n, reps)
    cols = names if order == "stored" else names[1::2] + names[::2]
    one_copy = n * reps * 8
    bound = one_copy // 4  # O(n) temporaries (a few n-vectors) + O(block x R), not n x R
    out = {}

    def run():
        d = ReplicateDesign(df, weights="w", rep_weights=cols, type="JK1",
                            scale=(reps - 1) / reps)
        r = d.mean("y", deff=False)
        out.update(design=d, est=float(r.estimate.iloc[0]), se=float(r.se.iloc[0]),
                   df=d.degf())

    peak = traced_peak(run)
    assert peak < bound, f"peak {peak / 2**20:.0f} MiB, one n x R copy is {one_copy / 2**20:.0f} MiB"
    assert out["design"].replicates.columns.in_place == (order == "stored")
    y, ones = df["y"].to_numpy(), np.ones(n)
    est, se = closed_form(df, cols, y, ones, [ones], (reps - 1) / reps)
    assert out["est"] == pytest.approx(est[0], rel=1e-12)
    assert out["se"] == pytest.approx(se[0], rel=1e-10)
    assert out["df"] == reps - 1  # 80 delete-one columns with every PSU present: rank 80


def designs(df, names, **kw):
    """The same replicate design read in place and stacked by blocks (columns permuted)."""
    perm = names[::-1][1::2] + names[::-1][::2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.AssumptionWarning)
        a = ReplicateDesign(df, weights="w", rep_weights=names, type="JK1", scale=0.9, **kw)
        b = ReplicateDesign(df, weights="w", rep_weights=perm, type="JK1", scale=0.9, **kw)
    assert a.replicates.columns.in_place and not b.replicates.columns.in_place
    return a, b


@pytest.mark.parametrize("by", [None, "g"])  # 1 cell (dense), 12 domains x 2 values (sparse)
def test_mean_total_ratio_by_domain_match_the_formula(by):
    n, reps = 10_000, 12  # several blocks of rows
    df, names = jk1_frame(n, reps)
    a, b = designs(df, names)
    y, x, ones = df["y"].to_numpy(), df["x"].to_numpy(), np.ones(n)
    groups = [ones] if by is None else [(df["g"].to_numpy() == g).astype(float)
                                        for g in range(12)]
    for d in (a, b):
        m = d.mean("y", by=by, deff=False)
        e, s = closed_form(df, names, y, ones, groups, 0.9)
        np.testing.assert_allclose(m.estimate, e, rtol=1e-12)
        np.testing.assert_allclose(m.se, s, rtol=1e-10)
        r = d.ratio("y", "x", by=by)
        e, s = closed_form(df, names, y, x, groups, 0.9)
        np.testing.assert_allclose(r.estimate, e, rtol=1e-12)
        np.testing.assert_allclose(r.se, s, rtol=1e-10)
        t = d.total("y", by=by, deff=False)
        W = df[names].to_numpy()
        for j, g in enumerate(groups):
            theta = (y * g) @ W
            assert t.se.iloc[j] == pytest.approx(
                np.sqrt(0.9 * ((theta - theta.mean()) ** 2).sum()), rel=1e-10)


def test_proportions_and_factor_columns_agree_across_storage():
    """Shares of a 4-level variable (4 cells, dense) and by 12 domains (48 cells, sparse);
    and replicate *factors* (``combined_weights=False``), multiplied by w a block at a time,
    give the same as the analysis weights they stand for."""
    n, reps = 9_000, 12
    df, names = jk1_frame(n, reps)
    df["c"] = df["c"].astype(str)
    a, b = designs(df, names)
    for by in (None, "g"):
        pa, pb = a.proportion("c", by=by, deff=False), b.proportion("c", by=by, deff=False)
        np.testing.assert_allclose(pa.estimate, pb.estimate, rtol=1e-12)
        np.testing.assert_allclose(pa.se, pb.se, rtol=1e-10)
    one = (df["c"] == "2").to_numpy().astype(float)
    e, s = closed_form(df, names, one, np.ones(n), [np.ones(n)], 0.9)
    p = a.proportion("c", deff=False).to_frame().set_index("level")
    assert p.loc["2", "estimate"] == pytest.approx(e[0], rel=1e-12)
    assert p.loc["2", "se"] == pytest.approx(s[0], rel=1e-10)
    factors = pd.DataFrame(df[names].to_numpy() / df["w"].to_numpy()[:, None], columns=names)
    factors[["w", "y", "g"]] = df[["w", "y", "g"]]
    fa, fb = designs(factors, names, combined_weights=False)
    for d in (fa, fb):
        m = d.mean("y", by="g", deff=False)
        ref = a.mean("y", by="g", deff=False)
        np.testing.assert_allclose(m.se, ref.se, rtol=1e-10)
    np.testing.assert_allclose(fa.replicate_weights().to_numpy(), df[names].to_numpy(),
                               rtol=1e-14)


@pytest.mark.parametrize("order", ["stored", "permuted"])
@pytest.mark.parametrize(("value", "problem"), [(np.nan, "1 missing"), (np.inf, "1 missing")])
def test_bad_replicate_weights_name_the_column(order, value, problem):
    df, names = jk1_frame(500, 6)
    df.loc[7, "rw4"] = value
    cols = names if order == "stored" else names[::-1]
    with pytest.raises(sl.ReplicateError, match=rf"\['rw4'\] have {problem}") as info:
        ReplicateDesign(df, weights="w", rep_weights=cols, type="JK1", scale=5 / 6)
    assert info.value.parameter == "rep_weights"
    assert info.value.value == ["rw4"]


@pytest.mark.parametrize("order", ["stored", "permuted"])
def test_negative_replicate_weights_are_accepted_with_a_warning_naming_the_column(order):
    """R's svrepdesign accepts negative replicate weights (linear calibration gives them): a
    warning names the column and the variance is R's formula with them."""
    df, names = jk1_frame(500, 6)
    df.loc[7, "rw4"] = -0.5
    cols = names if order == "stored" else names[::-1]
    with pytest.warns(sl.SurveyWarning, match=r"\['rw4'\] have 1 negative"):
        d = ReplicateDesign(df, weights="w", rep_weights=cols, type="JK1", scale=5 / 6)
    w = df[cols].to_numpy()
    theta = (w * df["y"].to_numpy()[:, None]).sum(0) / w.sum(0)
    expected = 5 / 6 * ((theta - theta.mean()) ** 2).sum()  # R svrVar, mse = FALSE
    assert d.mean("y").se.iloc[0] ** 2 == pytest.approx(expected, rel=1e-10)


def test_columns_read_in_place_are_not_changed_by_the_users_frame():
    """The design shares the frame's memory, but a later edit of the user's frame copies on
    write (pandas) and leaves the design as it was; the design never writes to the frame."""
    df, names = jk1_frame(5_000, 10)
    before = df.copy(deep=True)
    d = ReplicateDesign(df, weights="w", rep_weights=names, type="JK1", scale=0.9)
    assert d.replicates.columns.in_place
    se = float(d.mean("y", by="g").se.iloc[0])
    pd.testing.assert_frame_equal(df, before)
    df.loc[:, "rw3"] = 0.0
    df.iloc[5, 0] = 1e6
    assert float(d.mean("y", by="g").se.iloc[0]) == se


def test_quantiles_and_domain_df_agree_across_storage():
    """Quantiles recomputed under every replicate (``interval_type="quantile"``) take blocks
    of replicate columns for their rows; the degrees of freedom are
    ranks of the active rows' columns: the same whether read in place or stacked, and the
    df of 12 delete-one columns with every PSU in the domain is 12 - 1."""
    df, names = jk1_frame(6_000, 12)
    a, b = designs(df, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)  # jackknife quantile SEs (as R)
        qa = a.quantile("y", [0.25, 0.5], by="g", interval_type="quantile")
        qb = b.quantile("y", [0.25, 0.5], by="g", interval_type="quantile")
    np.testing.assert_allclose(qa.estimate, qb.estimate, rtol=1e-12)
    np.testing.assert_allclose(qa.se, qb.se, rtol=1e-10)
    assert np.isfinite(qa.se).all() and (qa.se > 0).all()
    ma = a.mean("y", by="g", deff=False)
    mb = b.mean("y", by="g", deff=False)
    np.testing.assert_array_equal(ma.df, mb.df)
    assert (np.asarray(ma.df) == 11).all()
    assert a.degf() == b.degf() == 11


def test_warm_mean_temporaries_are_one_chunk(monkeypatch):
    """A second mean on a stored-column design makes no n-vector: its full-sample sums run
    over chunks of rows, the masks of a design without missing values or domains are not
    materialised, and the linearised scores (which replicate variances do not read) are not
    formed.  Before chunking the same call peaked at about six n-vectors."""
    import surveylib.variance.stored as stored

    n, reps = 200_000, 80
    df, names = jk1_frame(n, reps)
    monkeypatch.setattr(stored, "ROW_CHUNK", 16_384)
    d = ReplicateDesign(df, weights="w", rep_weights=names, type="JK1", scale=(reps - 1) / reps)
    d.mean("y", deff=False)  # the design's memos (rows with weight) are made once
    out = {}
    peak = traced_peak(lambda: out.update(r=d.mean("y", deff=False)))
    assert peak < n * 8, f"peak {peak / 2**20:.2f} MiB, one n-vector is {n * 8 / 2**20:.2f} MiB"
    y, ones = df["y"].to_numpy(), np.ones(n)
    est, se = closed_form(df, names, y, ones, [ones], (reps - 1) / reps)
    assert float(out["r"].estimate.iloc[0]) == pytest.approx(est[0], rel=1e-12)
    assert float(out["r"].se.iloc[0]) == pytest.approx(se[0], rel=1e-10)


@pytest.mark.parametrize("by", [None, "g"])
def test_chunked_row_passes_give_the_same_numbers(monkeypatch, by):
    """Sums over chunks of rows (data larger than ``ROW_CHUNK``) agree with one pass, for a
    replicate design and a Taylor ratio with design effects (both estimate from the rows)."""
    import surveylib.variance.stored as stored

    n, reps = 10_000, 12
    df, names = jk1_frame(n, reps)
    a, _ = designs(df, names)
    df["psu"] = df["c"] * 100 + df["g"]
    taylor = sl.SurveyDesign(df, psu="psu", weights="w")

    def run():
        return [a.mean("y", by=by, deff=True), a.ratio("y", "x", by=by),
                a.total("y", by=by, deff=True), taylor.ratio("y", "x", by=by, deff=True)]

    one = run()
    monkeypatch.setattr(stored, "ROW_CHUNK", 999)  # 11 chunks, the last one short
    for r1, r2 in zip(one, run(), strict=True):
        np.testing.assert_allclose(r2.estimate, r1.estimate, rtol=1e-12)
        np.testing.assert_allclose(r2.se, r1.se, rtol=1e-10)
        np.testing.assert_allclose(r2.deff, r1.deff, rtol=1e-10)


@pytest.mark.parametrize("order", ["stored", "permuted"])
def test_one_cell_with_missing_values_matches_the_formula(monkeypatch, order):
    """A mean and a ratio over the rows with a value (``na_rm=True``): the one-cell sums
    (vectorised, rows without a value weighted 0) and the replicate products over blocks of
    rows (several blocks, some rows masked in each) give the formula on the complete rows,
    and ``n`` counts them."""
    import surveylib.variance.stored as stored

    n, reps = 7_000, 12
    df, names = jk1_frame(n, reps)
    df.loc[df.index % 7 == 3, "y"] = np.nan
    monkeypatch.setattr(stored, "ROW_CHUNK", 1_000)  # several chunks of the row passes
    cols = names if order == "stored" else names[1::2] + names[::2]
    d = ReplicateDesign(df, weights="w", rep_weights=cols, type="JK1", scale=0.9)
    assert d.replicates.columns.in_place == (order == "stored")
    ok = df["y"].notna().to_numpy()
    y = df["y"].fillna(0).to_numpy()
    m = d.mean("y", na_rm=True, deff=False)
    e, s = closed_form(df, cols, y, ok.astype(float), [np.ones(n)], 0.9)
    assert float(m.estimate.iloc[0]) == pytest.approx(e[0], rel=1e-12)
    assert float(m.se.iloc[0]) == pytest.approx(s[0], rel=1e-10)
    assert int(np.asarray(m.n)[0]) == int(ok.sum())
    x = df["x"].to_numpy()
    r = d.ratio("y", "x", na_rm=True)
    e, s = closed_form(df, cols, y, x * ok, [np.ones(n)], 0.9)
    assert float(r.estimate.iloc[0]) == pytest.approx(e[0], rel=1e-12)
    assert float(r.se.iloc[0]) == pytest.approx(s[0], rel=1e-10)
