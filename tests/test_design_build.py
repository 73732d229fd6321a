"""Building a design's stages from integer ids without hashing (the bincount fast path).

Integer id columns with a small range are coded arithmetically
(:func:`surveylib._validation.integer_codes`); every other column goes through
``pandas.factorize``.  Both paths must give the same codes, stages, labels and errors: each
test builds the design twice, once from integer columns and once from the same ids as floats
(which take the factorize path), and compares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib._stages import _nested_integer_ids
from surveylib._validation import PRESENCE_PREFIX, factorize_column, integer_codes, integer_range
from surveylib.errors import SurveyDesignError


@pytest.mark.parametrize("values", [
    np.array([3, 0, 2, 1, 3, 0]),                                  # contiguous from 0
    np.array([7, -2, 7, 40, 13, -2]),                              # gaps and negatives
    np.array([-128, 127, 0, -128, 5], dtype=np.int8),              # the whole int8 range
    np.array([2**63 - 1, 2**63 - 5, 2**63 - 1], dtype=np.int64),   # near int64's top
    np.array([-2**63, -2**63 + 3, -2**63], dtype=np.int64),        # int64's bottom
    np.array([2**64 - 1, 2**64 - 3, 2**64 - 1], dtype=np.uint64),  # beyond int64
    np.array([5, 9, 5, 1], dtype=np.uint16),
])
def test_integer_codes_equal_sorted_factorize(values):
    codes, uniques = integer_codes(values)
    ref_codes, ref_uniques = pd.factorize(values, sort=True)
    np.testing.assert_array_equal(codes, ref_codes)
    assert codes.dtype == np.int64
    assert uniques.dtype == values.dtype
    assert uniques.tolist() == ref_uniques.tolist()


@pytest.mark.parametrize("values", [
    np.array([0, 10**12, 5]),                          # range far beyond the row count
    np.array([-2**63, 2**63 - 1], dtype=np.int64),     # the whole int64 range
    np.array([1.0, 2.0]),                              # not integers
    np.array([True, False]),
    np.array([], dtype=np.int64),
])
def test_integer_codes_refuses_what_it_cannot_code(values):
    assert integer_codes(values) is None


@pytest.mark.parametrize("values", [
    np.r_[np.arange(600), np.arange(5000) % 600].astype(np.int64),  # ids from 0: one pass
    np.r_[0, np.full(PRESENCE_PREFIX + 10, 9), -3].astype(np.int64),  # a negative after the prefix
    np.array([0, 5, -2**63], dtype=np.int64),                    # int64's bottom reads as 2**63
    np.array([0, 2**63 - 1], dtype=np.int64),                    # int64's top
    np.array([0, -1, 7], dtype=np.int8),
    np.array([0, 255, 7], dtype=np.uint8),
    np.array([0, 2**64 - 1], dtype=np.uint64),
    np.r_[np.full(PRESENCE_PREFIX, 4), 0].astype(np.int64),    # 0 only after the prefix
    np.array([3, 1, 2], dtype=np.int32),                       # no 0: min and max
])
def test_integer_range_equals_min_and_max(values):
    """The one-pass range of ids from 0 (maximum read as unsigned) equals ``min`` and ``max``,
    with their types, whatever the sign of the values after the first rows."""
    lo, hi = integer_range(values)
    assert (lo, hi) == (values.min(), values.max())
    assert type(lo) is type(values.min()) and type(hi) is type(values.max())


def _frame(rng, n=400, offset=0, scale=1, spread=7):
    """Strata and PSU ids (PSUs nested in strata), second-stage ids, weights and y."""
    psu = rng.integers(0, 40, n)
    return pd.DataFrame({
        "h": (psu % 4) * scale * 3 - 5 + offset,
        "psu": psu * scale * spread - 100 + offset,
        "ssu": rng.integers(0, 3, n) * scale + offset,
        "w": rng.uniform(1, 3, n),
        "y": rng.normal(size=n),
    })


def _as_float(df, cols):
    return df.assign(**{c: df[c].astype(float) for c in cols})


def _same_stages(a, b):
    assert len(a.stages) == len(b.stages)
    for sa, sb in zip(a.stages, b.stages, strict=True):
        np.testing.assert_array_equal(sa.unit, sb.unit)
        np.testing.assert_array_equal(sa.unit_stratum, sb.unit_stratum)
        np.testing.assert_array_equal(sa.n_units, sb.n_units)
        np.testing.assert_array_equal(sa.popsize, sb.popsize)
        assert [_number(x) for x in sa.stratum_labels] == [_number(x) for x in sb.stratum_labels]


def _number(label):
    return label if isinstance(label, str) else float(label)  # "(all)" when unstratified


@pytest.mark.parametrize("offset, scale, spread", [
    (0, 1, 1), (-1000, 1, 1),    # strata x PSU table small: coded together (_nested_integer_ids)
    (0, 1, 7),                   # each column coded by integer_codes
    (10**15, 1, 7), (0, 10**9, 1),  # ranges too wide: factorize
])
@pytest.mark.parametrize("kw", [
    {"strata": "h", "psu": "psu"},
    {"strata": "h", "psu": "psu", "nest": True},
    {"psu": "psu"},
    {"strata": "h", "psu": ["psu", "ssu"], "nest": True},
])
def test_integer_ids_give_the_stages_of_factorized_ids(kw, offset, scale, spread):
    df = _frame(np.random.default_rng(3), offset=offset, scale=scale, spread=spread)
    cols = [c for c in ("h", "psu", "ssu") if c in str(kw)]
    a = sl.SurveyDesign(df, weights="w", **kw)
    b = sl.SurveyDesign(_as_float(df, cols), weights="w", **kw)
    _same_stages(a, b)
    assert a.mean("y").se.iloc[0] == b.mean("y").se.iloc[0]


def test_multistage_fpc_labels_and_errors_match_the_factorize_path():
    rng = np.random.default_rng(5)
    df = _frame(rng)
    df["N1"], df["N2"] = 100, 50
    kw = {"strata": "h", "psu": ["psu", "ssu"], "fpc": ["N1", "N2"], "nest": True,
          "lonely_psu": "adjust"}
    _same_stages(sl.SurveyDesign(df, **kw), sl.SurveyDesign(_as_float(df, ["h", "psu", "ssu"]), **kw))
    df.loc[df["psu"] == df["psu"].iloc[0], "N2"] = 2  # fewer units than sampled in one PSU
    with pytest.raises(SurveyDesignError) as a:
        sl.SurveyDesign(df, **kw)
    with pytest.raises(SurveyDesignError) as b:
        sl.SurveyDesign(_as_float(df, ["h", "ssu"]), **kw)  # the PSU label keeps its type
    assert str(a.value) == str(b.value)
    assert repr(int(df["psu"].iloc[0])) in str(a.value)


def test_psu_crossing_strata_names_the_same_ids_on_both_paths():
    df = pd.DataFrame({"h": [1, 1, 2, 2, 3, 3], "psu": [9, 4, 4, 7, 9, 2], "w": 1.0})
    msgs = []
    for frame in (df, df.assign(h=df["h"].astype(float))):  # int psu ids; strata either way
        with pytest.raises(SurveyDesignError, match="repeat across strata") as e:
            sl.SurveyDesign(frame, strata="h", psu="psu", weights="w")
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    # the ids of rows whose stratum differs from their PSU's first row's, in row order
    assert "(e.g. [np.int64(4), np.int64(9)])" in msgs[0]


def test_strata_and_psus_coded_together_only_when_nested():
    df = _frame(np.random.default_rng(4), spread=1)
    assert _nested_integer_ids(df, "h", "psu") is not None
    assert _nested_integer_ids(df.assign(h=df["h"].astype(float)), "h", "psu") is None
    crossing = df.assign(psu=df["psu"] % 3)
    assert _nested_integer_ids(crossing, "h", "psu") is None
    with pytest.raises(SurveyDesignError, match="repeat across strata"):
        sl.SurveyDesign(crossing, strata="h", psu="psu", weights="w")
    # with a bad fpc too, the fpc error comes first, as on the factorize path
    for frame in (crossing, crossing.assign(psu=crossing["psu"].astype(float))):
        with pytest.raises(SurveyDesignError, match="values <= 0"):
            sl.SurveyDesign(frame.assign(N=0), strata="h", psu="psu", fpc="N")


def test_missing_ids_raise_the_missing_value_error():
    df = pd.DataFrame({"h": [1, 1, 2, 2], "psu": [1, 2, 3, 4], "w": 1.0})
    for col, values in (("psu", [1.0, np.nan, 3.0, 4.0]),
                        ("psu", pd.array([1, None, 3, 4], dtype="Int64")),
                        ("h", pd.array([1, 1, None, 2], dtype="Int64"))):
        bad = df.assign(**{col: values})
        with pytest.raises(SurveyDesignError, match=rf"column '{col}' has 1 missing value\(s\) "
                                                    r"\(first rows at positions \[\d\]\)"):
            sl.SurveyDesign(bad, strata="h", psu="psu", weights="w")


def test_factor_codes_of_integer_columns_equal_factorize():
    s = pd.Series([30, -4, 30, 7, -4])
    codes, levels, ok = factorize_column(s)
    assert codes.tolist() == [2, 0, 2, 1, 0] and ok.all()
    assert levels == [-4, 7, 30] and all(type(v) is int for v in levels)
    assert not codes.flags.writeable
    unsorted_codes, unsorted, _ = factorize_column(s, sort=False)  # first appearance: factorize
    assert unsorted == [30, -4, 7] and unsorted_codes.tolist() == [0, 1, 0, 2, 1]


def test_proportion_levels_of_a_full_design_and_of_a_subset():
    """A full design's integer column uses every distinct value (no count needed); a subset
    or a categorical's unused category drops the levels no active row has."""
    df = pd.DataFrame({"h": [1, 1, 1, 2, 2, 2], "psu": [1, 2, 3, 4, 5, 6],
                       "c": [0, 5, 5, 9, 0, 9], "w": 1.0})
    d = sl.SurveyDesign(df, strata="h", psu="psu", weights="w")
    assert d.proportion("c").to_frame()["level"].tolist() == [0, 5, 9]
    sub = d.subset(df["c"] != 5).proportion("c").to_frame()
    assert sub["level"].tolist() == [0, 9] and sub["estimate"].tolist() == [0.5, 0.5]
    cat = df.assign(c=pd.Categorical(df["c"], categories=[0, 5, 7, 9]))
    d2 = sl.SurveyDesign(cat, strata="h", psu="psu", weights="w")
    assert d2.proportion("c").to_frame()["level"].tolist() == [0, 5, 9]


@pytest.mark.parametrize("values", [
    np.r_[np.zeros(5000, dtype=np.int64), 1, 2],                # levels first seen after the prefix
    np.r_[np.tile([0, 1, 3], 2000), 2].astype(np.int64),        # a level only in the last row
    np.r_[np.tile([0, 4], 3000), 1].astype(np.int64),           # gaps in the range (2, 3 absent)
    np.tile(np.arange(7, dtype=np.int64), 1000),                # every level in the first rows
    np.r_[np.tile([3, 1], 3000), 2].astype(np.int64),           # from 1, not 0
])
def test_levels_found_from_the_first_rows_equal_a_scan_of_every_row(values):
    """The levels of a small integer range are read off the first rows when those hold every
    value of the range, else off every row; ids from 0 are their own codes (a read-only view,
    the input left writeable and unchanged)."""
    before = values.copy()
    codes, uniques = integer_codes(values)
    ref_codes, ref_uniques = pd.factorize(values, sort=True)
    np.testing.assert_array_equal(codes, ref_codes)
    assert uniques.tolist() == ref_uniques.tolist()
    assert values.flags.writeable and np.array_equal(values, before)
    if values.min() == 0 and len(uniques) == values.max() + 1:
        assert np.shares_memory(codes, values) and not codes.flags.writeable


def test_nested_pairs_by_blocks_equal_one_scatter(monkeypatch):
    """The (PSU, stratum) table built block by block equals the one built from every row at
    once; blocks smaller than the rows so that several are used."""
    import surveylib._stages as stages

    rng = np.random.default_rng(5)
    psu = rng.integers(0, 300, 5000)
    df = pd.DataFrame({"h": psu % 7, "psu": psu, "w": 1.0})
    whole = _nested_integer_ids(df, "h", "psu")
    monkeypatch.setattr(stages, "PAIR_BLOCK", 64)
    blocks = _nested_integer_ids(df, "h", "psu")
    for a, b in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(a, b)
    crossing = df.assign(h=np.where(np.arange(5000) == 4999, (psu[-1] + 1) % 7, df["h"]))
    assert _nested_integer_ids(crossing, "h", "psu") is None  # found in the last block


def test_validity_of_an_integer_column_is_a_read_only_true_mask():
    """An integer column has no missing values: its validity is all True without a
    comparison, read-only and equal to ``codes >= 0``; a float column with NaN keeps its mask."""
    codes, _, ok = factorize_column(pd.Series(np.arange(10) % 3))
    assert ok.shape == codes.shape and ok.all() and not ok.flags.writeable
    np.testing.assert_array_equal(ok, codes >= 0)
    codes, _, ok = factorize_column(pd.Series([1.0, np.nan, 2.0]))
    assert ok.tolist() == [True, False, True] and not ok.flags.writeable


def test_integer_columns_of_a_design_share_one_validity_mask():
    """The integer columns of one frame share one read-only all-True mask (no new mask, and
    its page faults, per column); a column with missing values keeps its own."""
    df = pd.DataFrame({"a": np.arange(12) % 3, "b": np.arange(12) % 4,
                       "c": [1.0, np.nan] * 6, "w": 1.0})
    d = sl.SurveyDesign(df, weights="w")
    _, _, ok_a = d.factor_codes("a")
    _, _, ok_b = d.factor_codes("b")
    _, _, ok_c = d.factor_codes("c")
    assert ok_a is ok_b and ok_a.all() and not ok_a.flags.writeable and len(ok_a) == 12
    assert ok_c.tolist() == [True, False] * 6
    shares = d.proportion("b")
    np.testing.assert_allclose(shares.estimate.to_numpy(), [0.25] * 4, rtol=1e-15)


def test_weights_are_a_new_series_zero_outside_a_subset():
    """``weights`` is the design's weights as a new array (changing it leaves the design as it
    was), with 0 for the rows a subset leaves out."""
    df = pd.DataFrame({"w": [1.0, 2.0, 3.0, 4.0], "a": [0, 1, 0, 1]})
    d = sl.SurveyDesign(df, weights="w")
    s = d.weights
    s.iloc[0] = 99.0
    assert d.weights.tolist() == [1.0, 2.0, 3.0, 4.0] and df["w"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert d.subset(df["a"] == 1).weights.tolist() == [0.0, 2.0, 0.0, 4.0]
