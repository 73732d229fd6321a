"""Tests of surveylib.io: SPSS and CSV readers/writers checked against the codebooks."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surveylib.errors as sl_errors
import surveylib.instruments as sl_instruments
import surveylib.io as sio
from surveylib.errors import CodebookError
from surveylib.instruments import Codebook, load_codebook
from surveylib.io import read_csv, read_spss, read_stata, write_csv, write_spss


@pytest.fixture(scope="module")
def cb2012() -> Codebook:
    return load_codebook(2012)


def make_frame(cb: Codebook, n: int, seed: int) -> pd.DataFrame:
    """A synthetic frame with every codebook variable, valid codes and a consistent design.

    Values are random draws, not estimates of anything; missing codes appear where defined.
    """
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    strata = np.array(sorted(cb.variable("stratum").codes))
    stratum = rng.choice(strata, size=n)
    pop = dict(zip(strata, rng.integers(50_000, 2_000_000, size=len(strata)), strict=True))
    counts = pd.Series(stratum).value_counts()
    for name, var in cb.variables.items():
        if var.role == "id":
            cols[name] = np.arange(1, n + 1, dtype="int64")
        elif var.role == "strata":
            cols[name] = stratum.astype("int64")
        elif var.role == "fpc":
            cols[name] = pd.Series(stratum).map(pop).to_numpy(dtype="float64")
        elif var.role == "weight":
            cols[name] = (pd.Series(stratum).map(pop) / pd.Series(stratum).map(counts)).to_numpy(
                dtype="float64"
            )
        elif var.is_coded:
            cols[name] = rng.choice(np.array(list(var.all_codes), dtype="int64"), size=n)
        elif var.type == "integer":
            lo, hi = var.valid_range
            cols[name] = rng.integers(int(lo), int(hi) + 1, size=n, dtype="int64")
        else:
            cols[name] = rng.normal(size=n)
    return pd.DataFrame(cols)


# ----------------------------------------------------------------------------- SPSS


def test_sav_round_trip_with_labels(tmp_path, cb2012):
    df = make_frame(cb2012, 60, seed=1)
    before = df.copy()
    path = write_spss(df, tmp_path / "w2012.sav", cb2012)
    pd.testing.assert_frame_equal(df, before)  # not mutated
    back = read_spss(path, codebook=cb2012)
    pd.testing.assert_frame_equal(back, df)

    _, meta = pyreadstat.read_sav(str(path), metadataonly=True, user_missing=True)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["attitude"] == "Attitude towards migrants from China"
    assert meta.variable_value_labels["attitude"] == {
        1: "very good",
        2: "good",
        3: "indifferent",
        4: "poor",
        5: "very poor",
        8: "don't know",
        9: "refusal",
    }
    assert meta.variable_value_labels["stratum"][6] == "Almaty city"
    declared = sorted(r["lo"] for r in meta.missing_ranges["attitude"])
    assert declared == [8, 9]
    assert meta.variable_measure["attitude"] == "ordinal"
    assert meta.variable_measure["ethnic"] == "nominal"
    assert meta.variable_measure["weight"] == "scale"
    assert meta.file_label == cb2012.title


def test_sav_round_trip_with_system_missing(tmp_path, cb2012):
    df = make_frame(cb2012, 10, seed=2)[["resp_id", "stratum", "weight", "fpc", "attitude"]]
    df["attitude"] = pd.array([1, None, 3, 8, 9, 5, None, 2, 2, 4], dtype="Int64")
    path = write_spss(df, tmp_path / "na.sav", cb2012)
    back = read_spss(path, codebook=2012)
    pd.testing.assert_frame_equal(back, df)
    assert cb2012.missing_to_na(back)["attitude"].isna().sum() == 4


def _write_raw_sav(path, df, labels, missing=None):
    pyreadstat.write_sav(df, str(path), variable_value_labels=labels, missing_ranges=missing or {})


def test_sav_disagreeing_labels(tmp_path, cb2012):
    df = pd.DataFrame({"attitude": [1.0, 3.0, 4.0], "ethnic": [1.0, 2.0, 3.0]})
    path = tmp_path / "bad.sav"
    _write_raw_sav(
        path,
        df,
        {
            "attitude": {1: "very good", 3: "neutral", 4: "poor"},
            "ethnic": {1: "Kazakh", 2: "Russian", 3: "Other", 7: "Uyghur"},
        },
    )
    with pytest.raises(CodebookError) as info:
        read_spss(path, codebook=cb2012, require_design=False)
    msg = str(info.value)
    assert (
        "variable 'attitude', code 3: the file labels it 'neutral' but the codebook labels it 'indifferent'"
        in msg
    )
    assert (
        "variable 'ethnic', code 7: the file labels it 'Uyghur' but the codebook has no code 7"
        in msg
    )
    # label wording differences in case and spacing alone are not disagreements
    ok = tmp_path / "ok.sav"
    _write_raw_sav(ok, df, {"attitude": {1: "Very  Good", 3: "INDIFFERENT"}})
    assert read_spss(ok, codebook=cb2012, require_design=False)["attitude"].tolist() == [1, 3, 4]
    # an explicit opt-out reads the codes anyway
    back = read_spss(path, codebook=cb2012, require_design=False, check_labels=False)
    assert back["attitude"].dtype == "int64"


def test_sav_user_missing_clash(tmp_path, cb2012):
    df = pd.DataFrame({"attitude": [1.0, 5.0, 8.0]})
    path = tmp_path / "clash.sav"
    _write_raw_sav(path, df, {}, missing={"attitude": [5, 8]})
    with pytest.raises(
        CodebookError, match=r"'attitude'.*code\(s\) \[5\] as user-missing.*'very poor'"
    ):
        read_spss(path, codebook=cb2012, require_design=False)


def test_sav_user_missing_kept_as_codes(tmp_path, cb2012):
    df = pd.DataFrame({"attitude": [1.0, 9.0, 8.0]})
    path = tmp_path / "um.sav"
    _write_raw_sav(
        path, df, {"attitude": {8: "don't know", 9: "refusal"}}, missing={"attitude": [8, 9]}
    )
    back = read_spss(path, codebook=cb2012, require_design=False)
    assert back["attitude"].tolist() == [1, 9, 8]


def test_read_spss_missing_design_and_bad_codes(tmp_path, cb2012):
    df = make_frame(cb2012, 20, seed=3).drop(columns=["weight"])
    path = write_spss(df, tmp_path / "nodesign.sav", cb2012)
    with pytest.raises(CodebookError, match="design column 'weight' \\(role weight\\) is missing"):
        read_spss(path, codebook=cb2012)
    assert len(read_spss(path, codebook=cb2012, require_design=False)) == 20
    raw = pd.DataFrame({"attitude": [1.0, 6.0, 6.0]})
    bad = tmp_path / "code6.sav"
    _write_raw_sav(bad, raw, {})
    with pytest.raises(
        CodebookError, match=r"'attitude' has codes not in the codebook: 6 \(2 rows\)"
    ):
        read_spss(bad, codebook=cb2012, require_design=False)


def test_write_spss_rejects_invalid_frame_and_keeps_old_file(tmp_path, cb2012, monkeypatch):
    df = make_frame(cb2012, 10, seed=4)
    path = write_spss(df, tmp_path / "keep.sav", cb2012)
    original = path.read_bytes()
    with pytest.raises(CodebookError, match="'attitude'"):
        write_spss(df.assign(attitude=7), path, cb2012)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pyreadstat, "write_sav", boom)
    with pytest.raises(OSError, match="disk full"):
        write_spss(df, path, cb2012)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.sav"]  # no temp files left


def test_read_spss_not_a_sav(tmp_path, cb2012):
    path = tmp_path / "x.sav"
    path.write_text("not spss", encoding="utf-8")
    with pytest.raises(CodebookError, match="cannot read"):
        read_spss(path, codebook=cb2012)


# ----------------------------------------------------------------------------- CSV


def test_csv_round_trip_equals_sav_frame(tmp_path, cb2012):
    df = make_frame(cb2012, 40, seed=5)
    csv_path = write_csv(df, tmp_path / "w.csv", codebook=cb2012)
    sav_path = write_spss(df, tmp_path / "w.sav", cb2012)
    from_csv = read_csv(csv_path, codebook=cb2012)
    from_sav = read_spss(sav_path, codebook=cb2012)
    pd.testing.assert_frame_equal(from_csv, df)
    pd.testing.assert_frame_equal(from_csv, from_sav)


def test_write_csv_is_byte_identical_on_regeneration(tmp_path, cb2012):
    df = make_frame(cb2012, 30, seed=6)
    first = write_csv(df, tmp_path / "a.csv").read_bytes()
    again = write_csv(df, tmp_path / "a.csv").read_bytes()
    regenerated = write_csv(read_csv(tmp_path / "a.csv", codebook=cb2012), tmp_path / "b.csv")
    assert first == again == regenerated.read_bytes()
    assert b"\r\n" not in first
    assert first.splitlines()[0].startswith(b"resp_id,wave,stratum")


def test_read_csv_with_text_labels(tmp_path, cb2012):
    path = tmp_path / "labels.csv"
    path.write_text("resp_id,attitude\n1,good\n2,poor\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="column 'attitude' has dtype .*code_for"):
        read_csv(path, codebook=cb2012, require_design=False)


def test_read_csv_blank_cells_become_nullable(tmp_path, cb2012):
    path = tmp_path / "blank.csv"
    path.write_text("resp_id,attitude,age\n1,3,20\n2,,44\n3,8,15\n", encoding="utf-8")
    df = read_csv(path, codebook=cb2012, require_design=False)
    assert str(df["attitude"].dtype) == "Int64" and df["attitude"].isna().sum() == 1
    assert df["age"].dtype == "int64"
    with pytest.raises(CodebookError, match="does not exist"):
        read_csv(tmp_path / "nope.csv", codebook=cb2012)


def test_csv_without_codebook_is_read_as_is(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "w": [0.5, 1.5]})
    path = write_csv(frame, tmp_path / "a.csv")
    pd.testing.assert_frame_equal(read_csv(path), frame)
    with pytest.raises(CodebookError, match="folder .* does not exist"):
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "missing_dir" / "a.csv")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    codes=st.lists(st.sampled_from([1, 2, 3, 4, 5, 8, 9]), min_size=1, max_size=30),
    weights=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False),
)
def test_round_trips_preserve_any_valid_frame(tmp_path_factory, codes, weights):
    cb = load_codebook(2007)
    n = len(codes)
    df = pd.DataFrame(
        {
            "resp_id": np.arange(1, n + 1, dtype="int64"),
            "stratum": np.resize(np.arange(1, 7, dtype="int64"), n),
            "weight": np.linspace(weights, weights * 3.7, n),
            "attitude": np.array(codes, dtype="int64"),
        }
    )
    tmp = tmp_path_factory.mktemp("rt")
    csv_back = read_csv(write_csv(df, tmp / "x.csv"), codebook=cb, require_design=False)
    sav_back = read_spss(write_spss(df, tmp / "x.sav", cb), codebook=cb, require_design=False)
    pd.testing.assert_frame_equal(csv_back, df)
    pd.testing.assert_frame_equal(sav_back, df)


def test_docstring_examples_run():
    result = doctest.testmod(sio, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5
    assert result.failed == 0


# ----------------------------------------------------------------------------- no codebook


def _labelled_sav(path):
    """A .sav with value labels, variable labels, measurement levels and user-missing values:
    discrete (8, 9 on ``trust``) and a range (97-99 on ``age``, a scale variable)."""
    df = pd.DataFrame({
        "trust": [1.0, 2.0, 3.0, 8.0, 9.0, 2.0, np.nan, 5.0],
        "sex": [1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 1.0, 2.0],
        "age": [25.0, 40.0, 98.0, 61.0, 33.0, 97.0, 45.0, 52.0],
        "wt": [1.0, 2.0, 1.5, 1.0, 2.5, 1.0, 1.0, 2.0],
    })
    pyreadstat.write_sav(
        df, str(path),
        column_labels={"trust": "Trust in people", "sex": "Sex", "age": "Age in years",
                       "wt": "Weight"},
        variable_value_labels={"trust": {1: "a lot", 2: "some", 3: "none", 8: "don't know",
                                         9: "refused"},
                               "sex": {1: "man", 2: "woman"}, "age": {98: "refused"}},
        missing_ranges={"trust": [8, 9], "age": [{"lo": 97, "hi": 99}]},
        variable_measure={"trust": "ordinal", "sex": "nominal", "age": "scale", "wt": "scale"})
    return df


def test_read_spss_without_codebook_labels_from_the_file(tmp_path):
    raw = _labelled_sav(tmp_path / "w.sav")
    with pytest.warns(sl_errors.AssumptionWarning, match=r"trust \(2\), age \(2\)"):
        df = read_spss(tmp_path / "w.sav")
    trust = df["trust"]
    # categories: the labelled answers in code order plus the unlabelled code 5 found in the data
    assert list(trust.cat.categories) == ["a lot", "some", "none", "5"] and trust.cat.ordered
    assert trust.tolist()[:3] == ["a lot", "some", "none"]
    assert trust.isna().tolist() == [False, False, False, True, True, False, True, False]
    assert not df["sex"].cat.ordered and df["sex"].tolist()[:2] == ["man", "woman"]
    # a scale variable stays numeric; its declared range 97-99 becomes NA
    assert df["age"].dtype == "float64"
    np.testing.assert_array_equal(df["age"].isna(), raw["age"].between(97, 99))
    assert df["wt"].tolist() == raw["wt"].tolist()
    assert df.attrs["variable_labels"] == {"trust": "Trust in people", "sex": "Sex",
                                           "age": "Age in years", "wt": "Weight"}
    assert df.attrs["user_missing"] == {"trust": 2, "age": 2}


def test_codebook_from_file_metadata(tmp_path):
    _labelled_sav(tmp_path / "w.sav")
    _, meta = pyreadstat.read_sav(str(tmp_path / "w.sav"), user_missing=True)
    data, _ = pyreadstat.read_sav(str(tmp_path / "w.sav"), user_missing=True)
    cb = sl_instruments.codebook_from_metadata(data, meta, survey="w")
    assert cb.n == 8 and cb.year is None
    trust = cb.variable("trust")
    assert dict(trust.codes) == {1: "a lot", 2: "some", 3: "none", 5: "5"}
    assert dict(trust.missing_codes) == {8: "don't know", 9: "refused"} and trust.ordered
    age = cb.variable("age")
    assert age.type == "numeric" and dict(age.missing_codes) == {97: "user-missing",
                                                                 98: "refused"}
    assert trust.question is None and trust.source_lines == ()


def test_read_spss_labelled_false_keeps_codes(tmp_path):
    raw = _labelled_sav(tmp_path / "w.sav")
    df = read_spss(tmp_path / "w.sav", labelled=False)
    assert str(df["trust"].dtype) == "Int64"
    assert df["trust"].tolist()[:5] == [1, 2, 3, 8, 9]
    assert df["age"].tolist() == raw["age"].tolist()


def test_read_spss_with_an_overlay_codebook(tmp_path):
    _labelled_sav(tmp_path / "w.sav")
    top = Codebook.from_dict({"wave": {"survey": "harmonised"}, "variables": [
        {"name": "trust", "label": "Trust (harmonised)", "type": "categorical", "ordered": True,
         "codes": {1: "A lot", 2: "Some", 3: "None", 5: "other"},
         "missing_codes": {8: "Don't know", 9: "refused"}}]})
    with pytest.warns(sl_errors.AssumptionWarning):
        df = read_spss(tmp_path / "w.sav", codebook=top, labelled=True)
    assert list(df["trust"].cat.categories) == ["A lot", "Some", "None", "other"]
    assert df.attrs["variable_labels"]["trust"] == "Trust (harmonised)"
    assert df.attrs["variable_labels"]["sex"] == "Sex"  # from the file, not in the overlay
    bad = Codebook.from_dict({"wave": {"survey": "x"}, "variables": [
        {"name": "sex", "label": "Sex", "type": "categorical", "codes": {1: "woman", 2: "man"}}]})
    with pytest.raises(CodebookError, match="'sex', code 1: the file labels it 'man'"):
        read_spss(tmp_path / "w.sav", codebook=bad)


def test_read_stata_extended_missing_and_labels(tmp_path):
    df = pd.DataFrame({"q": [1.0, 2.0, "a", 1.0, np.nan, "b"], "w": [1.0, 2, 3, 4, 5, 6]})
    path = tmp_path / "w.dta"
    pyreadstat.write_dta(df, str(path), column_labels={"q": "Question one"},
                         variable_value_labels={"q": {1: "yes", 2: "no"}},
                         missing_user_values={"q": ["a", "b"]})
    with pytest.warns(sl_errors.AssumptionWarning, match=r"q \(2\)"):
        back = read_stata(path)
    assert back["q"].tolist()[:2] == ["yes", "no"] and back["q"].isna().sum() == 3
    assert back.attrs["variable_labels"]["q"] == "Question one"
    assert back.attrs["variable_labels"]["w"] == "w"  # no label: the name
    with pytest.raises(CodebookError, match="cannot read .* as a Stata .dta file"):
        read_stata(tmp_path / "nope.dta")


def test_repeated_file_labels_are_made_unique(tmp_path):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    pyreadstat.write_sav(df, str(tmp_path / "d.sav"),
                         variable_value_labels={"x": {1: "Other", 2: "other", 3: "yes"}})
    back = read_spss(tmp_path / "d.sav")
    assert list(back["x"].cat.categories) == ["Other (1)", "other (2)", "yes"]
