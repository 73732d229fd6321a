"""The index an estimate builds from its keys (``key_index``) is the one pandas builds from its
key frame: labels, names, each level's values, types and dtype, and the codes.

Estimates build their index straight from the cells' keys (about 0.1 ms) instead of
``pd.MultiIndex.from_frame`` of the key frame (about 1.5 ms with the frame); these tests pin
that the two are identical for every kind of ``by`` column, variable and level, and that the
kinds it does not reproduce fall back to the frame.
"""

import numpy as np
import pandas as pd
import pytest

import surveylib as sl


def _data(n=240, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "h": rng.integers(0, 3, n), "w": rng.uniform(1, 3, n), "y": rng.normal(size=n),
        "x": rng.uniform(1, 2, n), "ci": rng.integers(0, 4, n),
        "cs": rng.choice(["b", "a", "\u00e9", "Z"], n), "cf": rng.choice([1.5, 0.5, 2.0], n),
        "cb": rng.uniform(size=n) < 0.5, "i8": rng.integers(-2, 2, n).astype(np.int8),
        "u16": rng.integers(0, 3, n).astype(np.uint16),
        "f32": rng.choice([1.5, -0.5], n).astype(np.float32),
        "sc": pd.Categorical(rng.choice(["q", "p"], n), categories=["q", "p", "o"]),
        "so": pd.Series(rng.choice(["m", "k"], n), dtype=object), "d2": rng.integers(0, 2, n),
    })


DATA = _data()
DESIGN = sl.SurveyDesign(DATA, strata="h", weights="w")
BYS = [None, "ci", "cs", "cf", "cb", "i8", "u16", "f32", "sc", "so", ["ci", "cs"],
       ["cb", "d2"], ["sc", "ci"]]
CALLS = {
    "mean": lambda d, by: d.mean("y", by=by),
    "two means": lambda d, by: d.mean(["y", "x"], by=by),
    "total numeric and categorical": lambda d, by: d.total(["y", "cs"], by=by),
    "proportions int and str": lambda d, by: d.proportion(["ci", "cs"], by=by, ci_method="wald"),
    "proportion int levels": lambda d, by: d.proportion("ci", by=by, ci_method="wald"),
    "proportion str levels": lambda d, by: d.proportion("cs", by=by),
    "proportion float levels": lambda d, by: d.proportion("cf", by=by),
    "proportion bool levels": lambda d, by: d.proportion("cb", by=by),
    "proportion categorical": lambda d, by: d.proportion("sc", by=by, drop_empty=False),
    "proportion object": lambda d, by: d.proportion("so", by=by),
    "proportion int8 and uint16": lambda d, by: d.proportion(["i8", "u16"], by=by),
    "proportion float32": lambda d, by: d.proportion("f32", by=by),
    "ratio": lambda d, by: d.ratio("y", "x", by=by),
    "subset": lambda d, by: d.subset(DATA["h"] != 1).proportion("ci", by=by),
    "var": lambda d, by: d.var(["y", "x"], by=by),
    "quantiles": lambda d, by: d.quantile("y", [0.25, 0.5], by=by),
    "alpha": lambda d, by: d.cralpha(["y", "x"], by=by),
}


def _from_frame(result) -> pd.Index:
    """The index as built from the key frame (the reference)."""
    cols = [*result.by, "variable"]
    if result.keys["level"].notna().any():
        cols.append("level")
    if len(cols) == 1:
        return pd.Index(result.keys[cols[0]], name=cols[0])
    return pd.MultiIndex.from_frame(result.keys[cols])


def assert_identical(a: pd.Index, b: pd.Index) -> None:
    pd.testing.assert_index_equal(a, b, exact=True, check_exact=True)
    assert type(a) is type(b) and list(a.names) == list(b.names)
    if isinstance(a, pd.MultiIndex):
        for la, lb in zip(a.levels, b.levels, strict=True):
            assert la.dtype == lb.dtype
            assert [(type(v), v) for v in la] == [(type(v), v) for v in lb]
        for ca, cb in zip(a.codes, b.codes, strict=True):
            assert ca.dtype == cb.dtype and np.array_equal(ca, cb)
    else:
        assert [(type(v), v) for v in a] == [(type(v), v) for v in b]


@pytest.mark.filterwarnings("ignore::surveylib.errors.SurveyWarning")
@pytest.mark.parametrize("by", BYS, ids=str)
@pytest.mark.parametrize("call", list(CALLS), ids=str)
def test_index_equals_the_key_frames(call, by):
    result = CALLS[call](DESIGN, by)
    direct = result.cell_index  # built from the keys (None: a kind it leaves to the frame)
    assert_identical(result.index, _from_frame(result))
    if direct is not None:
        assert_identical(direct, _from_frame(result))


def test_the_common_kinds_take_the_direct_route():
    """Integer, string, bool and float ``by`` columns and levels of one type build the index
    from the keys (levels of mixed types, as ``ci`` and ``cs`` together, use the frame)."""
    for by in [None, "ci", "cs", "cb", "cf", ["ci", "cs"]]:
        for call in ("mean", "two means", "ratio", "proportion int levels",
                     "proportion str levels", "proportion float levels", "quantiles", "var"):
            result = CALLS[call](DESIGN, by)
            assert isinstance(result.cell_index, pd.Index), (call, by)


@pytest.mark.parametrize("by", ["sc", "so"])
def test_categorical_and_object_by_columns_fall_back_to_the_frame(by):
    result = DESIGN.proportion("ci", by=by)
    assert result.cell_index is None
    assert_identical(result.index, _from_frame(result))


def test_se_does_not_build_the_key_frame():
    result = DESIGN.proportion("ci", ci_method="wald", deff=False)
    se = result.se
    assert callable(object.__getattribute__(result, "keys"))  # still the unbuilt callable
    assert list(se.index) == [("ci", 0), ("ci", 1), ("ci", 2), ("ci", 3)]
    assert list(result.keys["level"]) == [0, 1, 2, 3]  # built on first read
