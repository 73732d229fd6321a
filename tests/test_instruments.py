"""Tests of surveylib.instruments: codebook schema, lookups, frame checks, harmonization."""

from __future__ import annotations

import copy
import csv
import dataclasses
import doctest
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import surveylib as sl
import surveylib.instruments as instruments
from surveylib.errors import CodebookError, SurveyDesignError
from surveylib.instruments import (
    Codebook,
    codebook_path,
    common_universe,
    find_instruments_dir,
    load_codebook,
    load_harmonization,
    universe_mask,
    validate_codebook,
)

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"


# ----------------------------------------------------------------------------- fixtures


def minimal_raw() -> dict:
    """A small valid codebook: design columns, one ordinal item, a group and an mrset."""
    return {
        "codebook_version": 1,
        "wave": {"survey": "demo", "year": 2020, "universe": "adults", "min_age": 18, "n": 10},
        "variables": [
            {
                "name": "stratum",
                "label": "Stratum",
                "question": "Not asked.",
                "question_source": "administrative",
                "type": "categorical",
                "role": "strata",
                "codes": {1: "North", 2: "South"},
                "universe": "all",
                "source_lines": ["001_x.txt:1"],
                "status": "published",
            },
            {
                "name": "weight",
                "label": "Weight",
                "question": "Not asked.",
                "question_source": "derived",
                "type": "weight",
                "role": "weight",
                "universe": "all",
                "source_lines": [],
                "status": "assumed",
                "note": "made up",
            },
            {
                "name": "q1",
                "label": "Trust",
                "question": "How much do you trust people?",
                "question_source": "reconstructed",
                "type": "categorical",
                "ordered": True,
                "codes": {1: "a lot", 2: "some", 3: "none"},
                "missing_codes": {9: "refusal"},
                "universe": "all",
                "source_lines": ["001_x.txt:10-12"],
                "status": "published",
            },
            {
                "name": "b1",
                "label": "Item b1",
                "question": "Do you know b1?",
                "question_source": "reconstructed",
                "type": "binary",
                "codes": {0: "no", 1: "yes"},
                "group": "g",
                "mrset": "m",
                "universe": "all",
                "source_lines": [],
                "status": "assumed",
                "note": "made up",
            },
        ],
        "groups": {"g": {"label": "Group g", "variables": ["b1"]}},
        "mrsets": {
            "m": {"label": "Set m", "kind": "dichotomies", "counted_value": 1, "variables": ["b1"]}
        },
    }


def var(raw: dict, name: str) -> dict:
    return next(v for v in raw["variables"] if v["name"] == name)


@pytest.fixture(scope="module")
def cb2007() -> Codebook:
    return load_codebook(2007)


@pytest.fixture(scope="module")
def cb2012() -> Codebook:
    return load_codebook(2012)


# ----------------------------------------------------------------------------- shipped files


@pytest.mark.parametrize("wave, n, min_age", [(2007, 588, 18), (2012, 544, 15)])
def test_shipped_codebooks_validate(wave, n, min_age):
    cb = load_codebook(wave)
    assert cb.year == wave
    assert cb.n == n  # 001:6045-6046
    assert cb.min_age == min_age  # 001:6046-6047
    assert cb.design_columns() == {"strata": "stratum", "weights": "weight", "fpc": "fpc"}
    assert list(cb.variable("stratum").codes.values()) == [
        "Northern",
        "Eastern",
        "Southern",
        "Western",
        "Central",
        "Almaty city",
    ]
    # the questionnaire wording is never claimed to be original
    assert {v.question_source for v in cb.variables.values()} <= {
        "reconstructed",
        "derived",
        "administrative",
    }


def test_shipped_codebooks_follow_agreed_variable_list(cb2007, cb2012):
    """Every name agreed in instruments/VARIABLES.md (backticked identifiers) is in a codebook."""
    text = (REPO / "instruments" / "VARIABLES.md").read_text(encoding="utf-8")
    agreed = {
        n
        for n in re.findall(r"`([a-z_]+)`", text)
        if n not in {"fam_", "modern", "culture", "reasons", "fam"}
    }
    both = set(cb2007.variables) | set(cb2012.variables)
    assert agreed - both == set()
    assert not any(n.startswith(("edu_", "sino_")) for n in cb2007.variables)
    assert {"edu_acq", "edu_self", "edu_child", "sino_self", "sino_child"} <= set(cb2012.variables)


def test_attitude_scale_matches_publication(cb2007, cb2012):
    # 001:5885-5887 and Table 7.1 rows 5970-5974
    for cb in (cb2007, cb2012):
        v = cb.variable("attitude")
        assert dict(v.codes) == {
            1: "very good",
            2: "good",
            3: "indifferent",
            4: "poor",
            5: "very poor",
        }
        assert v.ordered and v.status == "published"
        assert dict(v.missing_codes) == {8: "don't know", 9: "refusal"}


def _published(target_id: str) -> float:
    with open(SEEDS / "published_targets.csv", encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["id"] == target_id)
    return float(row["value"])


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside the repository")
@pytest.mark.parametrize(
    "wave, overall, modern, culture",
    [(2007, "T162", "T164", "T166"), (2012, "T163", "T165", "T167")],
)
def test_familiarity_item_counts_reproduce_published_overall_mean(wave, overall, modern, culture):
    """Unweighted item mean with the chosen 5 modern + 9 culture items gives the published total.

    If every modern item sat at the modern mean and every culture item at the culture mean, the
    mean over all items is (m*modern + c*culture)/(m + c); it must round to the published overall
    mean (NOTES.md b6).
    """
    cb = load_codebook(wave)
    m, c = len(cb.group("modern")), len(cb.group("culture"))
    assert set(cb.group("familiarity")) == set(cb.group("modern")) | set(cb.group("culture"))
    implied = (m * _published(modern) + c * _published(culture)) / (m + c)
    assert abs(implied - _published(overall)) <= 0.5


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside the repository")
@pytest.mark.parametrize("wave", [2007, 2012])
def test_source_lines_point_into_the_seeds(wave):
    raw = yaml.safe_load(codebook_path(wave).read_text(encoding="utf-8"))
    refs = list(raw["wave"]["source_lines"]) + list(raw["wave"]["design"]["source_lines"])
    for entry in raw["variables"]:
        refs += entry["source_lines"]
    for section in ("groups", "mrsets"):
        for spec in raw[section].values():
            refs += spec.get("source_lines", [])
    assert refs
    for ref in refs:
        fname, lines = ref.split(":")
        path = SEEDS / fname
        assert path.is_file(), ref
        n_lines = len(path.read_text(encoding="utf-8").splitlines())
        last = int(lines.split("-")[-1])
        first = int(lines.split("-")[0])
        assert 1 <= first <= last <= n_lines, ref


def test_harmonization_covers_both_codebooks(cb2007, cb2012):
    h = load_harmonization()
    names = set(cb2007.variables) | set(cb2012.variables)
    assert set(h.items) == names
    for name, item in h.items.items():
        if item.method == "2012_only":
            assert name in cb2012.variables and name not in cb2007.variables
        else:
            assert name in cb2007.variables and name in cb2012.variables
        for wave, table in item.recode.items():
            cb = cb2007 if wave == 2007 else cb2012
            assert set(table) <= set(cb.variable(name).all_codes)
    assert h.item("attitude").comparable
    assert not h.item("sino_child").comparable
    assert h.min_age(2007) == h.min_age(2012) == 18
    assert (h.min_age(2007, universe="wave"), h.min_age(2012, universe="wave")) == (18, 15)


# ----------------------------------------------------------------------------- schema errors


def _mutations():
    def drop(key, name="q1"):
        def f(raw):
            del var(raw, name)[key]

        return f

    def setkey(key, value, name="q1"):
        def f(raw):
            var(raw, name)[key] = value

        return f

    def dup_name(raw):
        raw["variables"].append(copy.deepcopy(var(raw, "q1")))

    def group_unknown_member(raw):
        raw["groups"]["g"]["variables"].append("nonexistent")

    def tag_unknown_group(raw):
        var(raw, "b1")["group"] = "nope"

    def group_missing_tagged(raw):
        raw["groups"]["g"]["variables"] = ["q1"]

    def mrset_non_binary(raw):
        raw["mrsets"]["m"]["variables"].append("q1")

    def mrset_unknown(raw):
        var(raw, "b1")["mrset"] = "other"

    def two_strata(raw):
        var(raw, "q1")["role"] = "strata"

    return [
        ("missing key", drop("label"), ["'q1'", "'label'"]),
        ("missing codes", drop("codes"), ["'q1'", "'codes'"]),
        ("bad type", setkey("type", "ordinal"), ["'q1'", "'type'", "categorical"]),
        ("bad status", setkey("status", "guessed"), ["'q1'", "'status'"]),
        (
            "code not integer",
            setkey("codes", {"one": "a lot", 2: "some"}),
            ["'q1'", "'codes'", "'one'"],
        ),
        ("code is bool", setkey("codes", {True: "a lot", 2: "some"}), ["'q1'", "'codes'", "True"]),
        ("empty label", setkey("codes", {1: "", 2: "some"}), ["'q1'", "'codes'", "code 1"]),
        ("label not string", setkey("codes", {1: 5, 2: "some"}), ["'q1'", "'codes'", "code 1"]),
        ("duplicate label", setkey("codes", {1: "same", 2: "Same"}), ["'q1'", "'codes'", "'same'"]),
        (
            "missing overlaps codes",
            setkey("missing_codes", {3: "dk"}),
            ["'q1'", "'missing_codes'", "[3]"],
        ),
        ("empty label text", setkey("label", "  "), ["'q1'", "'label'"]),
        (
            "original wording claimed",
            setkey("question_source", "original"),
            ["'q1'", "'question_source'"],
        ),
        ("unknown key", setkey("lable", "x"), ["'q1'", "'lable'", "did you mean 'label'"]),
        ("bad source line", setkey("source_lines", ["line 10"]), ["'q1'", "'source_lines'"]),
        ("published without source", setkey("source_lines", []), ["'q1'", "'source_lines'"]),
        ("assumed without note", setkey("status", "assumed"), ["'q1'", "'note'"]),
        ("ordered not bool", setkey("ordered", "yes"), ["'q1'", "'ordered'"]),
        (
            "binary not 0/1",
            setkey("codes", {1: "yes", 2: "no"}, "b1"),
            ["'b1'", "'codes'", "0 and 1"],
        ),
        ("range on coded", setkey("valid_range", [1, 3]), ["'q1'", "'valid_range'"]),
        ("role type mismatch", setkey("type", "numeric", "stratum"), ["'stratum'", "'role'"]),
        ("unknown role", setkey("role", "psu"), ["'q1'", "'role'", "'psu'"]),
        ("duplicate name", dup_name, ["'q1'", "'name'", "unique"]),
        (
            "group member unknown",
            group_unknown_member,
            ["groups.g", "'variables'", "'nonexistent'"],
        ),
        ("variable tag unknown group", tag_unknown_group, ["'b1'", "'group'", "'nope'"]),
        ("group does not list tagged", group_missing_tagged, ["'b1'", "'group'", "groups.g"]),
        ("mrset member not binary", mrset_non_binary, ["mrsets.m", "'q1'", "binary"]),
        ("variable tag unknown mrset", mrset_unknown, ["'b1'", "'mrset'", "'other'"]),
        ("role given twice", two_strata, ["'role'", "strata", "'q1'", "'stratum'"]),
    ]


@pytest.mark.parametrize("case, mutate, fragments", _mutations(), ids=[m[0] for m in _mutations()])
def test_schema_errors_name_variable_and_key(case, mutate, fragments):
    raw = minimal_raw()
    validate_codebook(raw)  # the fixture itself is valid
    mutate(raw)
    with pytest.raises(CodebookError) as info:
        validate_codebook(raw, source="demo.yaml")
    message = str(info.value)
    assert message.startswith("demo.yaml:")
    for fragment in fragments:
        assert fragment in message, (case, message)


def test_schema_errors_wave_and_top_level():
    raw = minimal_raw()
    raw["wave"]["n"] = "588"
    del raw["wave"]["min_age"]
    raw["varaibles"] = []
    with pytest.raises(CodebookError) as info:
        validate_codebook(raw)
    msg = str(info.value)
    assert "3 problem(s)" in msg
    assert "wave: key 'n'" in msg and "wave: key 'min_age'" in msg
    assert "'varaibles'" in msg and "did you mean 'variables'" in msg
    with pytest.raises(CodebookError, match="must be a YAML mapping"):
        validate_codebook(["not", "a", "mapping"])


def test_codebook_error_is_a_value_error():
    assert issubclass(CodebookError, SurveyDesignError) and issubclass(CodebookError, ValueError)


# ----------------------------------------------------------------------------- loading


def test_load_codebook_explicit_path_and_dir(tmp_path):
    path = tmp_path / "codebook_2020.yaml"
    path.write_text(yaml.safe_dump(minimal_raw()), encoding="utf-8")
    assert load_codebook(path).survey == "demo"
    assert load_codebook(str(path)).survey == "demo"
    assert load_codebook(2020, instruments_dir=tmp_path).source == str(path)
    cb = load_codebook(path)
    assert load_codebook(cb) is cb


def test_load_codebook_errors(tmp_path):
    with pytest.raises(CodebookError, match="no codebook for wave 1999.*2007, 2012"):
        load_codebook(1999)
    with pytest.raises(CodebookError, match="does not exist"):
        load_codebook(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("wave: [unclosed", encoding="utf-8")
    with pytest.raises(CodebookError, match="not valid YAML"):
        load_codebook(bad)
    with pytest.raises(CodebookError, match="wave year"):
        load_codebook(3.5)
    with pytest.raises(CodebookError, match="no 'instruments/' folder"):
        find_instruments_dir(tmp_path)


def test_find_instruments_dir_from_package():
    assert find_instruments_dir() == REPO / "instruments"
    assert find_instruments_dir(REPO / "surveylib") == REPO / "instruments"


def test_codebook_is_frozen(cb2007):
    with pytest.raises(dataclasses.FrozenInstanceError):
        cb2007.source = "x"
    with pytest.raises(TypeError):
        cb2007.variables["new"] = None
    with pytest.raises(TypeError):
        cb2007.variable("attitude").codes[6] = "awful"
    with pytest.raises(TypeError):
        cb2007.wave["n"] = 1


# ----------------------------------------------------------------------------- lookups


def test_value_labels_and_lookups(cb2007):
    assert cb2007.value_labels("ethnic") == {1: "Kazakh", 2: "Russian", 3: "Other"}
    assert cb2007.labels_for("attitude", [5, 1, 9]) == ["very poor", "very good", "refusal"]
    assert cb2007.labels_for("attitude", pd.Series([2.0, np.nan])) == ["good", None]
    assert cb2007.code_for("attitude", "very poor") == 5
    assert cb2007.code_for("attitude", "  VERY   poor ") == 5
    assert cb2007.code_for("attitude", "don't know") == 8
    assert cb2007.value_labels("age") == {}


@pytest.mark.parametrize("wave", [2007, 2012])
def test_code_for_inverts_labels_for_every_code(wave):
    cb = load_codebook(wave)
    for name, v in cb.variables.items():
        codes = list(v.all_codes)
        labels = cb.labels_for(name, codes)
        assert [cb.code_for(name, lab) for lab in labels] == codes


def test_label_with_no_code(cb2007):
    with pytest.raises(CodebookError) as info:
        cb2007.code_for("ethnic", "Uzbek")
    msg = str(info.value)
    assert "'ethnic'" in msg and "'Uzbek'" in msg and "1 'Kazakh'" in msg


def test_unknown_code_in_labels_for(cb2007):
    with pytest.raises(CodebookError, match=r"'attitude'.*7 \(2 rows\), 2\.5 \(1 row\)"):
        cb2007.labels_for("attitude", [7, 1, 7, 2.5])


def test_unknown_variable_suggests(cb2007):
    with pytest.raises(CodebookError, match="did you mean 'attitude'"):
        cb2007.variable("atitude")


def test_groups_and_mrsets(cb2007, cb2012):
    modern = cb2007.group("modern")
    assert list(modern) == [
        "fam_foreign_policy",
        "fam_economy",
        "fam_sport",
        "fam_demography",
        "fam_politics",
    ]
    assert all(cb2007.variable(n).group == "modern" for n in modern)
    assert len(cb2007.group("culture")) == 9 and len(cb2007.group("familiarity")) == 14
    assert list(cb2007.group("familiarity")) == list(cb2012.group("familiarity"))
    reasons = cb2012.mrset("reasons")
    assert reasons.counted_value == 1 and "reason_citizenship" in reasons
    with pytest.raises(CodebookError, match="group 'nope'.*modern, culture"):
        cb2007.group("nope")
    with pytest.raises(CodebookError, match="set 'nope'.*reasons"):
        cb2007.mrset("nope")


# ----------------------------------------------------------------------------- frames


def frame_2007() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "resp_id": [1, 2, 3, 4, 5, 6],
            "stratum": [1, 1, 2, 2, 6, 6],
            "weight": [10.0, 10.0, 20.0, 20.0, 5.0, 5.0],
            "fpc": [20.0, 20.0, 40.0, 40.0, 10.0, 10.0],
            "age": [18, 25, 40, 61, 33, 70],
            "attitude": [1, 3, 8, 4, 9, 5],
            "ethnic": [1, 2, 3, 1, 2, 1],
            "extra": ["a", "b", "c", "d", "e", "f"],
        }
    )


def test_validate_frame_accepts_good_frame(cb2007):
    df = frame_2007()
    before = df.copy()
    cb2007.validate_frame(df)
    pd.testing.assert_frame_equal(df, before)


def test_unknown_codes_named_with_counts(cb2007):
    df = frame_2007().assign(attitude=[1, 7, 7, 12, 3, 3])
    with pytest.raises(CodebookError) as info:
        cb2007.validate_frame(df)
    msg = str(info.value)
    assert "column 'attitude' has codes not in the codebook: 7 (2 rows), 12 (1 row)" in msg


def test_missing_design_columns(cb2007):
    df = frame_2007().drop(columns=["weight", "fpc"])
    with pytest.raises(CodebookError) as info:
        cb2007.validate_frame(df)
    msg = str(info.value)
    assert "design column 'weight' (role weight) is missing" in msg
    assert "design column 'fpc' (role fpc) is missing" in msg
    cb2007.validate_frame(df, require_design=False)


def test_require_all(cb2007):
    with pytest.raises(CodebookError, match="'fam_art'"):
        cb2007.validate_frame(frame_2007(), require_all=True)


@pytest.mark.parametrize(
    "column, values, fragment",
    [
        (
            "attitude",
            ["good", "poor", "good", "poor", "good", "poor"],
            "column 'attitude' has dtype",
        ),
        ("attitude", [1.5, 1, 1, 1, 1, 1], "non-whole numbers: 1.5 (1 row)"),
        ("ethnic", [True, False, True, False, True, False], "column 'ethnic' has dtype bool"),
        (
            "age",
            [16, 25, 40, 61, 33, 120],
            "outside its valid range [18, 99]: 16 (1 row), 120 (1 row)",
        ),
        ("resp_id", [1, 1, 3, 4, 5, 6], "repeated ids: 1 (2 rows)"),
        ("weight", [10.0, 0.0, 20.0, 20.0, np.inf, 5.0], "non-positive or infinite values"),
        ("stratum", [1, 1, 2, 2, 6, np.nan], "design column 'stratum' has 1 missing value"),
        (
            "fpc",
            [20.0, 21.0, 40.0, 40.0, 10.0, 10.0],
            "'fpc' (fpc) takes several values within stratum",
        ),
    ],
)
def test_validate_frame_problems(cb2007, column, values, fragment):
    df = frame_2007()
    df[column] = values
    with pytest.raises(CodebookError) as info:
        cb2007.validate_frame(df)
    assert fragment in str(info.value)


def test_missing_to_na(cb2007):
    df = frame_2007()
    before = df.copy()
    out = cb2007.missing_to_na(df)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert out["attitude"].isna().tolist() == [False, False, True, False, True, False]
    assert out["attitude"].dropna().tolist() == [1, 3, 4, 5]
    pd.testing.assert_series_equal(out["ethnic"], df["ethnic"])
    nullable = cb2007.missing_to_na(df.astype({"attitude": "Int64"}))
    assert str(nullable["attitude"].dtype) == "Int64"
    assert nullable["attitude"].isna().sum() == 2


def test_apply_labels(cb2007):
    df = frame_2007()
    before = df.copy()
    out = cb2007.apply_labels(df)
    pd.testing.assert_frame_equal(df, before)
    att = out["attitude"]
    assert att.cat.ordered
    assert list(att.cat.categories) == [
        "very good",
        "good",
        "indifferent",
        "poor",
        "very poor",
        "don't know",
        "refusal",
    ]
    assert att.tolist() == [
        "very good",
        "indifferent",
        "don't know",
        "poor",
        "refusal",
        "very poor",
    ]
    assert not out["ethnic"].cat.ordered
    pd.testing.assert_series_equal(out["age"], df["age"])
    na = cb2007.apply_labels(df, missing="na")["attitude"]
    assert na.isna().sum() == 2 and "refusal" not in na.cat.categories
    with pytest.raises(CodebookError, match="'attitude'.*7"):
        cb2007.apply_labels(df.assign(attitude=[7, 1, 1, 1, 1, 1]))
    with pytest.raises(CodebookError, match="missing must be"):
        cb2007.apply_labels(df, missing="drop")


# ----------------------------------------------------------------------------- universe


def test_common_universe_drops_under_18_in_2012():
    df = pd.DataFrame({"age": [15, 16, 17, 18, 45, 80], "attitude": [1, 2, 3, 4, 5, 3]})
    before = df.copy()
    out = common_universe(df, 2012)
    pd.testing.assert_frame_equal(df, before)
    assert out["age"].tolist() == [18, 45, 80]
    assert out.index.tolist() == [3, 4, 5]
    mask = universe_mask(df, 2012)
    assert mask.tolist() == [False, False, False, True, True, True]
    assert universe_mask(df, 2012, universe="wave").all()


def test_common_universe_2007_keeps_all_and_rejects_minors():
    df = pd.DataFrame({"age": [18, 30, 70]})
    pd.testing.assert_frame_equal(common_universe(df, 2007), df)
    with pytest.raises(CodebookError, match="below wave 2007's minimum of 18: 16 \\(1 row\\)"):
        common_universe(pd.DataFrame({"age": [16, 30]}), 2007)


def test_universe_errors():
    with pytest.raises(CodebookError, match="column 'age' is missing"):
        common_universe(pd.DataFrame({"x": [1]}), 2012)
    with pytest.raises(CodebookError, match="1 missing value"):
        common_universe(pd.DataFrame({"age": [20, np.nan]}), 2012)
    with pytest.raises(CodebookError, match="wave 2010 is not in the harmonization map"):
        common_universe(pd.DataFrame({"age": [20]}), 2010)


def test_apply_recodes_agegrp():
    h = load_harmonization()
    df = pd.DataFrame({"agegrp": [1, 2, 3, 6], "attitude": [1, 2, 3, 4]})
    out = h.apply_recodes(df, 2012)
    assert out["agegrp"].isna().tolist() == [True, False, False, False]
    pd.testing.assert_frame_equal(h.apply_recodes(df, 2007), df)
    assert df["agegrp"].tolist() == [1, 2, 3, 6]


def test_harmonization_validation(tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "waves": [2007, 2012],
                "universe": {
                    "common": {"variable": "age", "min_age": 18},
                    "wave": {2007: {"min_age": 18}},
                },
                "items": {
                    "x": {"method": "same"},
                    "y": {"method": "identical", "note": "n", "recode": {2012: {1: 2}}},
                },
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(CodebookError) as info:
        load_harmonization(path)
    msg = str(info.value)
    assert "universe.wave.2012" in msg
    assert "item 'x', key 'method'" in msg and "item 'x', key 'note'" in msg
    assert "item 'y', key 'recode'" in msg


# ----------------------------------------------------------------------------- docstrings


def test_docstring_examples_run():
    """Every module of the package, with the package's public names in scope."""
    import pkgutil

    attempted = failed = 0
    for info in pkgutil.iter_modules(instruments.__path__, "surveylib.instruments."):
        module = __import__(info.name, fromlist=["_"])
        result = doctest.testmod(
            module, extraglobs=dict(vars(instruments)),
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False,
        )
        attempted += result.attempted
        failed += result.failed
    result = doctest.testmod(instruments, optionflags=doctest.ELLIPSIS, verbose=False)
    assert attempted + result.attempted > 20
    assert failed + result.failed == 0


# ----------------------------------------------------------------------------- finding the study


def test_codebook_found_through_the_study_environment_variable(tmp_path, monkeypatch):
    """SURVEYLIB_STUDY pointing at a copy of the study: load_codebook(2012) reads the copy."""
    study = tmp_path / "study"
    (study / "instruments").mkdir(parents=True)
    raw = yaml.safe_load(codebook_path(2012, instruments_dir=REPO / "instruments").read_text(
        encoding="utf-8"))
    raw["wave"]["survey"] = "copy_of_2012"
    (study / "instruments" / "codebook_2012.yaml").write_text(yaml.safe_dump(raw),
                                                              encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("SURVEYLIB_STUDY", str(study))
    cb = load_codebook(2012)
    assert cb.survey == "copy_of_2012"
    assert cb.source == str((study / "instruments" / "codebook_2012.yaml").resolve())
    assert find_instruments_dir() == (study / "instruments").resolve()


def test_missing_instruments_folder_names_the_option(tmp_path, monkeypatch):
    from surveylib.errors import StudyNotFoundError
    from surveylib.study import installed_studies

    if installed_studies():
        pytest.skip("an installed study would be found instead")
    monkeypatch.delenv("SURVEYLIB_STUDY", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StudyNotFoundError, match="--instruments DIR") as info:
        load_codebook(2007)
    assert "\n" not in str(info.value)
    assert info.value.parameter == "instruments"
    # an explicit folder still works without any study
    assert load_codebook(2007, instruments_dir=REPO / "instruments").n == 588


def test_package_keeps_the_public_names():
    for name in instruments.__all__:
        assert getattr(instruments, name) is not None, name
    assert instruments.Codebook.__module__ == "surveylib.instruments.codebook"


# ----- unreadable codebook files give a CodebookError naming the path --------------------------
_GOOD_YAML = "variables:\n  q1:\n    label: Trust\n"


@pytest.mark.parametrize("make, match", [
    (lambda p: p.mkdir(), "is a folder, not a file"),
    (lambda p: p.write_bytes(b"variables:\n  q1:\n    label: Caf\xe9\n"), "not UTF-8 text"),
    (lambda p: p.write_bytes("variables:\n  q1:\n    label: Trust\n".encode("utf-16")),
     "not UTF-8 text"),
    (lambda p: p.write_text("variables:\n  q1:\n    label: A\n  q1:\n    label: B\n"),
     r"key 'q1' is given twice.*line 2, again on line 4"),
    (lambda p: p.write_text("variables:\n  q1:\n    label: A\n    label: B\n"),
     r"key 'label' is given twice"),
    (lambda p: p.write_text("variables:\n  q1:\n    values: {1: yes, 2: no, 1: maybe}\n"),
     r"key 1 is given twice"),
])
def test_unreadable_codebook_is_a_codebook_error_naming_the_path(tmp_path, make, match):
    from surveylib.errors import CodebookError
    path = tmp_path / "codebook.yaml"
    make(path)
    with pytest.raises(CodebookError, match=match) as info:
        sl.load_codebook(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("reader, name", [("read_spss", "nope.sav"), ("read_stata", "nope.dta")])
def test_reading_a_missing_data_file_is_a_codebook_error(tmp_path, reader, name):
    from surveylib.errors import CodebookError
    path = tmp_path / name
    with pytest.raises(CodebookError, match="does not exist") as info:
        getattr(sl, reader)(path)
    assert str(path) in str(info.value)
