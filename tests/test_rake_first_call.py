"""The first rake on a new design: each shortcut it takes against the general path.

The build of a design keeps what its checks computed (the sum of the weights, the all-True
mask of every row) and the rake reuses them; each test compares the shortcut with the value
computed afresh, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from coding_cases import coded_by_sorting, coding_frame

import surveylib as sl
from surveylib._validation import check_weights


def _frame(n=3000, seed=3):
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, 60, n)
    return pd.DataFrame({
        "h": psu % 6, "psu": psu, "w": rng.uniform(50, 150, n),
        "a": rng.integers(0, 5, n), "b": rng.integers(0, 4, n),
    })


MARGINS = {"a": {k: 2e4 for k in range(5)}, "b": {0: 3e4, 1: 3e4, 2: 2e4, 3: 2e4}}
SHARES = {"a": {k: 0.2 for k in range(5)}, "b": {0: 0.3, 1: 0.3, 2: 0.2, 3: 0.2}}


@pytest.mark.parametrize("values, expected", [
    (np.array([1.0, 2.5, 3.25]), 6.75),
    (np.array([1e308, 1e308]), None),  # finite weights whose sum overflows: no sum kept
])
def test_check_weights_returns_the_sum_it_takes(values, expected):
    assert check_weights(values, col="w") == expected


@pytest.mark.parametrize("build", [
    lambda df: sl.SurveyDesign(df, strata="h", psu="psu", weights="w"),
    lambda df: sl.SurveyDesign(df.assign(p=1 / df["w"]), strata="h", psu="psu", probs="p"),
    lambda df: sl.SurveyDesign(df, strata="h", psu="psu", weights="w").subset(df["a"] > 0),
    lambda df: sl.SurveyDesign(df, strata="h", psu="psu", weights="w").rake(MARGINS),
])
def test_base_weight_sum_is_the_sum_of_the_base_weights(build):
    """The sum kept from the check of a weights column (or computed: probabilities, a new
    weighting step) is bit for bit ``float(base_weights.sum())`` of every row."""
    d = build(_frame())
    assert d.base_weight_sum() == float(np.array(d.base_weights).sum())


@pytest.mark.parametrize("margins", [MARGINS, SHARES])
def test_rake_with_the_kept_sum_equals_rake_with_a_new_sum(margins):
    """A design built from a weights column rakes with the sum its check took; the same
    weights given through with_weights (the sum computed afresh) rake to the same bits."""
    d = sl.SurveyDesign(_frame(), strata="h", psu="psu", weights="w")
    fresh = d.with_weights(np.array(d.base_weights))
    r1, r2 = d.rake(margins, tol=1e-9), fresh.rake(margins, tol=1e-9)
    np.testing.assert_array_equal(r1.weights.to_numpy(), r2.weights.to_numpy())
    a1, a2 = r1.adjustments[-1], r2.adjustments[-1]
    assert (a1.iterations, a1.max_change, a1.max_discrepancy) == (
        a2.iterations, a2.max_change, a2.max_discrepancy)
    pd.testing.assert_frame_equal(a1.table, a2.table)


def test_every_row_mask_is_the_design_mask_and_stays_all_true():
    """The validity of an integer column is the new design's all-True mask (one array, read
    only); a subset of the design does not change it, and new data get their own."""
    df = _frame(200)
    d = sl.SurveyDesign(df, strata="h", psu="psu", weights="w")
    ok = d.factor_codes("a")[2]
    assert np.shares_memory(ok, d.active) and ok.all() and not ok.flags.writeable
    sub = d.subset(df["a"] > 2)
    ok_sub = sub.factor_codes("b")[2]
    assert ok_sub.all() and len(ok_sub) == len(df) and not sub.active.all()
    other = sub.with_data(df.assign(c=df["a"] % 2))
    ok_other = other.factor_codes("c")[2]
    assert ok_other.all() and len(ok_other) == len(df)
    assert other.proportion("c").estimate.sum() == pytest.approx(1.0, rel=1e-12)


# ----- population tables of plain levels (a dict of int or str keys) ------------------------
PLAIN_SPECS = [
    ({0: 10, 1: 20.5, 2: 30}, "a"),
    ({-3: 1.0, 7: 2.0, 2**62: 3.0}, "a"),          # negative and large ints
    ({"m": 0.4, "f": 0.6}, "s"),                   # shares, str keys
    ({"1": 5, "0": 7}, "s"),                       # str keys that look like ints, out of order
]


@pytest.mark.parametrize("spec, var", PLAIN_SPECS)
def test_plain_table_equals_the_table_read_through_pandas(spec, var):
    """A dict of int or str keys keeps its levels and builds its key frame on demand: the
    frame, labels and values equal what reading the dict through pandas gives (the frame of
    its rows, ``repr`` of ``keys.iat``, ``pd.to_numeric``), and so does a Series spec."""
    from surveylib.weighting._population import population_table

    t = population_table(spec, var, what="m")
    assert t.levels == list(spec)
    ref_keys = pd.DataFrame([(k,) for k in spec], columns=[var])
    pd.testing.assert_frame_equal(t.keys, ref_keys)
    assert [t.label(i) for i in range(len(spec))] == [repr(ref_keys.iat[i, 0])
                                                      for i in range(len(spec))]
    ref_values = pd.to_numeric(pd.Series(list(spec.values()))).to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(t.values, ref_values)
    s = population_table(pd.Series(spec, name="N").rename_axis(var), var, what="m")
    assert s.levels is None
    assert [t.label(i) for i in range(len(spec))] == [s.label(i) for i in range(len(spec))]
    assert t.is_share == s.is_share


@pytest.mark.parametrize("spec", [
    {0: 1, True: 2},            # a bool key: not plain
    {np.int64(0): 1, 1: 2},     # a numpy scalar key
    {0: 1, "1": 2},             # mixed kinds
    {0: 1, 1.5: 2},             # a float key
    {0: 1, 2**63: 2},           # beyond int64
])
def test_other_dict_keys_are_read_through_pandas(spec):
    from surveylib.weighting._population import population_table

    assert population_table(spec, "a", what="m").levels is None


def test_bad_values_of_a_plain_table_are_reported_as_before():
    """The message names the level and the value as pandas reads them, for a dict and for
    the same table as a Series."""
    from surveylib.weighting._population import population_table

    for bad in (float("nan"), -1.0, "x"):
        spec = {0: 1.0, 1: bad}
        with pytest.raises(sl.errors.WeightingError) as e1:
            population_table(spec, "a", what="m")
        with pytest.raises(sl.errors.WeightingError) as e2:
            population_table(pd.Series(spec).rename_axis("a"), "a", what="m")
        assert str(e1.value) == str(e2.value)


@pytest.mark.parametrize("data, spec", [
    (np.arange(12) % 3, {0: 1.0, 1: 2.0, 2: 3.0}),
    (np.arange(12) % 3, {2: 1.0, 0: 2.0, 1: 3.0}),         # table order differs from data's
    (np.arange(12) % 3, {"2": 1.0, "0": 2.0, "1": 3.0}),   # matched as text
    (np.array(list("abcabcabcabc")), {"c": 1.0, "a": 2.0, "b": 3.0}),
    (np.arange(12) % 3, {0: 1.0, 1: 2.0, 2: 3.0, 5: 4.0}),  # a level with no rows
])
def test_plain_match_equals_the_pandas_match(data, spec):
    """Rows matched to a plain table (dict lookups) and to the same table as a DataFrame
    (pandas indexes): the same cell of every row, or the same error."""
    from surveylib.weighting._population import match_cells, population_table

    df = pd.DataFrame({"a": data, "w": 1.0})
    d = sl.SurveyDesign(df, weights="w")
    plain = population_table(spec, "a", what="m")
    frame = population_table(pd.DataFrame({"a": list(spec), "N": list(spec.values())}), "a",
                             what="m")
    assert plain.levels is not None and frame.levels is None

    def match(t):
        try:
            return match_cells(d, t, d.active, d.base_weights).cells
        except sl.errors.WeightingError as e:
            return str(e)

    a, b = match(plain), match(frame)
    if isinstance(a, str):
        assert a == b
    else:
        np.testing.assert_array_equal(a, b)


def test_plain_level_missing_from_the_table_is_named_as_before():
    from surveylib.weighting._population import match_cells, population_table

    df = pd.DataFrame({"a": [0, 1, 2, 7, 1], "w": 1.0})
    d = sl.SurveyDesign(df, weights="w")
    msgs = []
    for spec in ({0: 1.0, 1: 2.0, 2: 3.0}, pd.Series({0: 1.0, 1: 2.0, 2: 3.0}).rename_axis("a")):
        with pytest.raises(sl.errors.WeightingError) as e:
            match_cells(d, population_table(spec, "a", what="m"), d.active, d.base_weights)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "[7]" in msgs[0]


def test_rake_to_dict_margins_equals_rake_to_series_margins():
    d = sl.SurveyDesign(_frame(), strata="h", psu="psu", weights="w")
    as_series = [pd.Series(m).rename_axis(v) for v, m in MARGINS.items()]
    r1, r2 = d.rake(MARGINS), d.rake(as_series)
    np.testing.assert_array_equal(r1.weights.to_numpy(), r2.weights.to_numpy())
    pd.testing.assert_frame_equal(r1.adjustments[-1].table, r2.adjustments[-1].table)


# ----- joint cells and their weights, block by block ----------------------------------------
@pytest.mark.parametrize("block", [None, 64])
@pytest.mark.parametrize("case", ["all combinations", "combinations absent", "missing values",
                                  "subset", "late combination", "sparse code space"])
def test_joint_weights_equal_a_bincount_over_the_joint_cells(monkeypatch, case, block):
    """code_rows with weights sums them by joint cell as it codes the rows (np.add.at block by
    block): the sums equal np.bincount(inv, weights) bit for bit, and the coding equals
    np.unique over the rows of level codes, on every path (several blocks, absent cells
    renumbered, missing values, a subset, the sparse path for large code spaces)."""
    import surveylib.weighting._coding as coding

    if block:
        monkeypatch.setattr(coding, "JOINT_BLOCK", block)
    rng = np.random.default_rng(17)
    n = 5000
    df, active = coding_frame(rng, n, "all combinations" if case == "sparse code space" else case,
                              weights=lambda rng: rng.uniform(0.5, 300.0, n))
    variables = ["a", "b", "c"]
    if case == "sparse code space":  # 10 n possible cells > 4 n: coded by sorting
        monkeypatch.setattr(coding, "_DENSE_CELLS", 0)
        df["id"] = rng.permutation(n)
        df["d"] = rng.integers(0, 10, n)
        variables = ["id", "d"]
    d = sl.SurveyDesign(df, weights="w")
    w = df["w"].to_numpy()[active]
    coded = coding.code_rows(d, variables, active, weights=w)
    plain = coding.code_rows(d, variables, active)
    assert plain.joint_weights is None
    np.testing.assert_array_equal(coded.inv, plain.inv)
    np.testing.assert_array_equal(coded.comp, plain.comp)
    ref = np.bincount(coded.inv, weights=w, minlength=coded.n_joint)
    assert coded.joint_weights.tobytes() == ref.tobytes()
    comp, inv, _ = coded_by_sorting(df, variables, active)
    np.testing.assert_array_equal(coded.inv, inv)
    np.testing.assert_array_equal(coded.comp, comp)


def test_rake_table_built_on_first_read_holds_each_margin_level():
    """The raking record's table (built when first read) has one row per margin level: its
    label, the target, and the weight totals of the level before and after raking as sums of
    the rows' weights give them; read twice, it is the same frame."""
    df = _frame()
    d = sl.SurveyDesign(df, strata="h", psu="psu", weights="w")
    r = d.rake(MARGINS)
    adj = r.adjustments[-1]
    tab = adj.table
    assert tab is adj.table
    assert [str(t) for t in tab.dtypes] == ["str", "str"] + ["float64"] * 4
    assert tab["margin"].tolist() == ["a"] * 5 + ["b"] * 4
    assert tab["level"].tolist() == [f"np.int64({k})" for k in range(5)] + [
        f"np.int64({k})" for k in range(4)]
    target = [v for m in MARGINS.values() for v in m.values()]
    np.testing.assert_array_equal(tab["target"], target)
    before = np.r_[df.groupby("a")["w"].sum(), df.groupby("b")["w"].sum()]
    after = np.r_[r.weights.groupby(df["a"]).sum(), r.weights.groupby(df["b"]).sum()]
    np.testing.assert_allclose(tab["before"], before, rtol=1e-12)
    np.testing.assert_allclose(tab["after"], after, rtol=1e-12)
    np.testing.assert_array_equal(tab["discrepancy"], tab["after"] - tab["target"])
