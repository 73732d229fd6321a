"""One validation style: the checks of ``surveylib._validation``, the error hierarchy, the
deprecated keyword spellings, and a sample of call sites across the library.

Every check is tested for its class, its message (parameter, value given, what is allowed, the
fix) and its structured fields; the call sites show that the same condition gives the same class
whichever function receives it.
"""

from __future__ import annotations

import doctest
import inspect
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
import surveylib._validation as v
import surveylib.errors as errors_module
from surveylib import weighting as wt
from surveylib.models import glm

DATA = Path(__file__).parent / "conformance" / "data"


@pytest.fixture(scope="module")
def clus1() -> sl.SurveyDesign:
    return sl.SurveyDesign(pd.read_csv(DATA / "apiclus1.csv"), psu="dnum", weights="pw",
                           fpc="fpc")


@pytest.fixture
def small() -> sl.SurveyDesign:
    df = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [1.0, 2.0, 3.0, 4.0],
                       "y": [0.0, 1.0, 1.0, 0.0], "weight": 1.0})
    return sl.SurveyDesign(df, weights="weight")


def fields(err) -> tuple:
    return err.parameter, err.value, err.expected, err.hint


# ----- the checks ----------------------------------------------------------------------------
def test_invalid_argument_message_and_fields():
    err = v.invalid_argument("tol", -1, "a number > 0", "e.g. tol=1e-7")
    assert isinstance(err, sl.ParameterError) and isinstance(err, sl.SurveyDesignError)
    assert isinstance(err, ValueError)
    assert str(err) == "tol=-1 must be a number > 0; e.g. tol=1e-7."
    assert fields(err) == ("tol", -1, "a number > 0", "e.g. tol=1e-7")
    err = v.invalid_argument("calfun", "x", ["linear", "raking"], "use one of the values listed")
    assert str(err) == "calfun='x' is not one of ['linear', 'raking']; use one of the values listed."


def test_data_error_message_and_fields():
    err = v.data_error(sl.WeightingError, "margin sex: level 'x' is absent", "add it",
                       parameter="margins", value="x", expected=["m", "f"])
    assert type(err) is sl.WeightingError
    assert str(err) == "margin sex: level 'x' is absent; add it."
    assert fields(err) == ("margins", "x", ["m", "f"], "add it")


def test_check_option_accepts_and_suggests():
    assert v.check_option("raking", ("linear", "raking"), name="calfun") == "raking"
    assert v.check_option(None, (None, "holm"), name="adjust") is None
    with pytest.raises(sl.ParameterError) as info:
        v.check_option("rakng", ("linear", "raking", "logit"), name="calfun")
    err = info.value
    assert str(err) == ("calfun='rakng' is not one of ['linear', 'raking', 'logit']; "
                        "did you mean 'raking'?")
    assert fields(err) == ("calfun", "rakng", ["linear", "raking", "logit"],
                           "did you mean 'raking'?")
    with pytest.raises(sl.ParameterError, match="use one of the values listed") as info:
        v.check_option("zzz", ("linear", "raking"), name="calfun")
    assert info.value.hint == "use one of the values listed"
    with pytest.raises(sl.ParameterError, match=r"did you mean 'Fail'\?"):  # case differs
        v.check_option("fail", ("Fail", "warn"), name="on_fail")
    with pytest.raises(sl.ParameterError, match=r"on_fail=3 is not one of"):  # not a string
        v.check_option(3, ("error", "warn"), name="on_fail")
    with pytest.raises(sl.ParameterError):  # an array compares element-wise: still an error
        v.check_option(np.array([1, 2]), ("error", "warn"), name="on_fail")


@pytest.mark.parametrize(
    "call, message, expected",
    [
        (lambda: v.check_positive(0, name="tol", hint="e.g. tol=1e-7"),
         "tol=0 must be a number > 0; e.g. tol=1e-7.", "a number > 0"),
        (lambda: v.check_positive(float("nan"), name="scale"),
         "scale=nan must be a number > 0; give a number > 0.", "a number > 0"),
        (lambda: v.check_positive("1", name="tol"),
         "tol='1' must be a number > 0; give a number > 0.", "a number > 0"),
        (lambda: v.check_integer(0, name="max_iter"),
         "max_iter=0 must be an integer >= 1; e.g. max_iter=1.", "an integer >= 1"),
        (lambda: v.check_integer(2.5, name="max_iter"),
         "max_iter=2.5 must be an integer >= 1; e.g. max_iter=1.", "an integer >= 1"),
        (lambda: v.check_integer(True, name="max_iter"),
         "max_iter=True must be an integer >= 1; e.g. max_iter=1.", "an integer >= 1"),
        (lambda: v.check_probability(1.0, name="power"),
         "power=1.0 must be a number strictly between 0 and 1; e.g. power=0.5.",
         "a number strictly between 0 and 1"),
        (lambda: v.check_level(95),
         "level=95 must be a number strictly between 0 and 1; e.g. level=0.95 for a 95% interval.",
         "a number strictly between 0 and 1"),
        (lambda: v.check_number(np.inf, name="x", low=0, high=1),
         "x=inf must be a number in [0, 1]; e.g. x=0.", "a number in [0, 1]"),
        (lambda: v.check_number(2, name="x", high=1, high_open=True, hint="lower it"),
         "x=2 must be a number < 1; lower it.", "a number < 1"),
    ],
)
def test_number_checks(call, message, expected):
    with pytest.raises(sl.ParameterError) as info:
        call()
    assert str(info.value) == message
    assert info.value.expected == expected
    assert info.value.parameter in message.split("=")[0]
    assert info.value.hint and info.value.hint in message


def test_number_checks_return_the_value():
    assert v.check_integer(np.int64(3), name="max_iter") == 3
    assert type(v.check_integer(np.int64(3), name="max_iter")) is int
    assert v.check_positive(np.float32(0.5), name="tol") == 0.5
    assert v.check_level(0.9) == 0.9
    assert v.check_number(0, name="x", low=0) == 0.0


def test_check_columns_suggests_the_closest_column():
    df = pd.DataFrame({"weight": [1.0], "stratum": [1], "H": [1]})
    with pytest.raises(sl.ColumnError) as info:
        v.check_columns(df, ["wieght"], role="weights")
    err = info.value
    assert isinstance(err, KeyError) and isinstance(err, sl.SurveyDesignError)
    assert str(err) == ("weights column(s) ['wieght'] not found in the data (columns are: "
                        "['weight', 'stratum', 'H']); did you mean 'weight'?")
    assert fields(err) == ("weights", ["wieght"], ["weight", "stratum", "H"],
                           "did you mean 'weight'?")
    with pytest.raises(sl.ColumnError, match=r"did you mean 'H'\?"):  # case only
        v.check_columns(df, ["h"], role="strata")
    with pytest.raises(sl.ColumnError, match=r"did you mean 'weight' for 'wieght', 'stratum' for "
                                             r"'stratun'\?") as info:
        v.check_columns(df, ["wieght", "stratun", "zzz"], role="by", parameter="by")
    assert info.value.value == ["wieght", "stratun", "zzz"]
    with pytest.raises(sl.ColumnError, match="check the spelling against the data's columns"):
        v.check_columns(df, ["zzz"], role="by")
    v.check_columns(df, ["weight", "H"], role="by")  # present: no error


def test_close_matches():
    assert v.close_matches("wieght", ["weight", "height", "w"]) == ["weight"]
    assert v.close_matches("W", ["w", "weight"]) == ["w"]
    assert v.close_matches("zzz", ["weight"]) == []
    assert v.did_you_mean("binomal", ["gaussian", "binomial", "poisson"]) == \
        "did you mean 'binomial'?"
    assert v.did_you_mean("zzz", ["a"]) is None


@pytest.mark.parametrize(
    "values, problem",
    [([1.0, np.nan], "1 missing value(s) (first at positions [1])"),
     ([1.0, np.inf], "infinite values (first at positions [1])"),
     ([1.0, 0.0, -2.0], "2 non-positive value(s) (min -2, first at positions [1, 2])")],
)
def test_check_weights(values, problem):
    with pytest.raises(sl.WeightError) as info:
        v.check_weights(np.array(values), col="pw")
    err = info.value
    assert str(err).startswith(f"weights column 'pw' has {problem}; ")
    assert fields(err)[:3] == ("weights", "pw", "finite numbers > 0")
    assert err.hint and str(err).endswith(err.hint + ".")


def test_numeric_column_and_design_key_fill_fields():
    df = pd.DataFrame({"s": ["a", "b"], "h": [1.0, np.nan]})
    with pytest.raises(sl.ColumnError, match="not numeric") as info:
        v.numeric_column(df, "s", role="analysis")
    assert fields(info.value)[:3] == ("analysis", "s", "a numeric column")
    with pytest.raises(sl.SurveyDesignError, match="missing") as info:
        v.design_key(df, "h", role="strata")
    assert (info.value.parameter, info.value.value) == ("strata", "h")


def test_validation_docstring_examples():
    result = doctest.testmod(v, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ----- deprecated spellings ------------------------------------------------------------------
def test_renamed_keywords_decorator():
    @v.renamed_keywords(since="0.2.0", removed="0.3.0", maxit="max_iter")
    def f(x, *, max_iter=10):
        return x + max_iter

    assert list(inspect.signature(f).parameters) == ["x", "max_iter"]
    with pytest.warns(DeprecationWarning) as record:
        assert f(1, maxit=5) == 6
    assert str(record[0].message) == ("maxit= is deprecated since 0.2.0 and will be removed in "
                                      "0.3.0; use max_iter=")
    assert record[0].filename == __file__  # the warning points at the caller
    with pytest.raises(TypeError, match="give only max_iter="):
        f(1, maxit=5, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(1, max_iter=2) == 3


def _same_weights(a, b):
    np.testing.assert_array_equal(a.weights.to_numpy(), b.weights.to_numpy())


TOTALS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069.0}


@pytest.mark.parametrize("old, new", [({"maxit": 7}, {"max_iter": 7}),
                                      ({"epsilon": 1e-3}, {"tol": 1e-3})])
def test_calibrate_old_spellings_warn_and_work(clus1, old, new):
    name = next(iter(old))
    message = (f"{name}= is deprecated since 0.2.0 and will be removed in 0.3.0; "
               f"use {next(iter(new))}=")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = clus1.calibrate(TOTALS, calfun="raking", **new)
        ref_fn = wt.calibrate(clus1, TOTALS, calfun="raking", **new)
    with pytest.warns(DeprecationWarning, match=message):
        got = clus1.calibrate(TOTALS, calfun="raking", **old)
    with pytest.warns(DeprecationWarning, match=message):
        got_fn = wt.calibrate(clus1, TOTALS, calfun="raking", **old)
    _same_weights(ref, got)
    _same_weights(ref_fn, got_fn)
    _same_weights(ref, ref_fn)
    assert got.adjustments[-1].iterations == ref.adjustments[-1].iterations
    assert ref.adjustments[-1].spec[next(iter(new))] == next(iter(new.values()))


def test_calibrate_spellings_on_replicate_designs(clus1):
    rep = clus1.to_replicates("jk1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new spellings warn nowhere inside the library
        ref = rep.calibrate(TOTALS, calfun="raking", max_iter=80, tol=1e-10)
    with pytest.warns(DeprecationWarning) as record:
        got = rep.calibrate(TOTALS, calfun="raking", maxit=80, epsilon=1e-10)
    assert sorted(str(w.message).split("=")[0] for w in record) == ["epsilon", "maxit"]
    _same_weights(ref, got)
    np.testing.assert_array_equal(ref.mean("api00").se, got.mean("api00").se)


def test_glm_maxiter_is_deprecated(clus1):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = clus1.glm("api00 ~ ell", max_iter=50)
        ref_fn = glm(clus1, "api00 ~ ell", max_iter=50)
    msg = "maxiter= is deprecated since 0.2.0 and will be removed in 0.3.0; use max_iter="
    with pytest.warns(DeprecationWarning, match=msg):
        got = clus1.glm("api00 ~ ell", maxiter=50)
    with pytest.warns(DeprecationWarning, match=msg):
        got_fn = glm(clus1, "api00 ~ ell", maxiter=50)
    for fit in (ref_fn, got, got_fn):
        np.testing.assert_array_equal(fit.estimate, ref.estimate)
        np.testing.assert_array_equal(fit.se, ref.se)
    with pytest.warns(sl.ConvergenceWarning, match="raise max_iter"):
        clus1.glm("I((api00 > 700) + 0) ~ ell + meals", family="binomial", max_iter=1)


def test_one_spelling_in_the_weighting_signatures():
    from surveylib.ordinal import olr
    from surveylib.weighting import replicate_weighting as rw

    sigs = [wt.calibrate, wt.rake, wt.trim, sl.SurveyDesign.calibrate, sl.SurveyDesign.rake,
            sl.SurveyDesign.trim, sl.ReplicateDesign.calibrate, sl.ReplicateDesign.rake,
            sl.ReplicateDesign.trim, sl.SurveyDesign.glm, glm, sl.SurveyDesign.olr, olr,
            rw.calibrate, rw.rake, rw.trim]
    for f in sigs:
        params = set(inspect.signature(f).parameters)
        assert {"max_iter", "tol"} <= params, f
        assert not params & {"maxit", "maxiter", "epsilon"}, f


# ----- exports -------------------------------------------------------------------------------
def test_every_error_and_warning_class_is_exported():
    defined = {name: obj for name, obj in vars(errors_module).items()
               if inspect.isclass(obj) and issubclass(obj, (Exception, Warning))
               and obj.__module__ == errors_module.__name__}
    assert {"ReplicateError", "CodebookError", "ReconstructionError", "PlanningError",
            "StudyNotFoundError", "ParameterError"} <= set(defined)
    for name, cls in defined.items():
        assert getattr(sl, name) is cls, name
        assert name in sl.__all__, name
        assert name in errors_module.__doc__, f"{name} missing from the documented hierarchy"
        if issubclass(cls, Warning):
            assert issubclass(cls, sl.SurveyWarning)
        else:
            assert issubclass(cls, sl.SurveyDesignError)


def test_no_error_or_warning_class_is_defined_outside_errors():
    """Every user-facing error and warning lives in surveylib.errors (and so is exported)."""
    import importlib
    import pkgutil

    stray = []
    for info in pkgutil.walk_packages(sl.__path__, prefix="surveylib."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, (sl.SurveyDesignError, sl.SurveyWarning))
                    and obj.__module__ != errors_module.__name__):
                stray.append(f"{obj.__module__}.{name}")
    assert not stray, f"define these in surveylib/errors.py and export them: {stray}"
    for name in ("SamplingError", "CertaintyWarning", "DispositionError"):
        assert name in sl.__all__


def test_all_is_sorted_and_resolves():
    assert sl.__all__ == sorted(sl.__all__)
    assert len(set(sl.__all__)) == len(sl.__all__)
    for name in sl.__all__:
        assert hasattr(sl, name), name


# ----- the same condition gives the same class across the library ---------------------------
@pytest.mark.parametrize(
    "call, parameter, value, hint",
    [
        (lambda d: d.calibrate(TOTALS, calfun="rakng"), "calfun", "rakng",
         "did you mean 'raking'?"),
        (lambda d: d.rake({"stype": TOTALS["stype"]}, on_fail="warm"), "on_fail", "warm",
         "did you mean 'warn'?"),
        (lambda d: d.proportion("stype", ci_method="logti"), "ci_method", "logti",
         "did you mean 'logit'?"),
        (lambda d: d.quantile("api00", qrule="mathh"), "qrule", "mathh", "did you mean 'math'?"),
        (lambda d: d.glm("api00 ~ ell", family="binomal"), "family", "binomal",
         "did you mean 'binomial'?"),
        (lambda d: d.crosstab("stype", "sch.wide").test(method="waald"), "method", "waald",
         "did you mean 'wald'?"),
        (lambda d: d.mean("api00").ci(level=95), "level", 95,
         "e.g. level=0.95 for a 95% interval"),
        (lambda d: d.rake({"stype": TOTALS["stype"]}, tol=2), "tol", 2, None),
        (lambda d: d.rake({"stype": TOTALS["stype"]}, max_iter=0), "max_iter", 0,
         "e.g. max_iter=100"),
        (lambda d: d.calibrate(TOTALS, tol=0.0), "tol", 0.0, "e.g. tol=1e-7"),
        (lambda d: d.trim(upper=50, recalibrate=True, max_iter=0), "max_iter", 0, None),
        (lambda d: d.calibrate(TOTALS, bounds=(2, 3)), "bounds", (2, 3), None),
        (lambda d: d.poststratify("stype", [1, 2, 3]), "population", [1, 2, 3], None),
    ],
)
def test_invalid_arguments_are_parameter_errors(clus1, call, parameter, value, hint):
    with pytest.raises(sl.ParameterError) as info:
        call(clus1)
    err = info.value
    assert err.parameter == parameter
    assert err.value == value
    assert str(err).startswith(f"{parameter}=")
    assert err.expected is not None and err.hint
    assert err.hint in str(err)
    if hint is not None:
        assert err.hint == hint


def test_lonely_psu_option_suggests():
    df = pd.DataFrame({"h": [1, 1, 2], "w": 1.0})
    with pytest.raises(sl.ParameterError, match=r"did you mean 'adjust'\?") as info:
        sl.SurveyDesign(df, strata="h", weights="w", lonely_psu="ajust")
    assert info.value.expected == ["fail", "remove", "adjust", "average", "certainty"]


@pytest.mark.parametrize(
    "call, parameter, value, suggestion",
    [
        (lambda df: sl.SurveyDesign(df, weights="wieght"), "weights", ["wieght"], "weight"),
        (lambda df: sl.SurveyDesign(df, weights="weight").mean("X"), "analysis", ["X"], "x"),
        (lambda df: sl.SurveyDesign(df, weights="weight").calibrate({"xx": 10.0}), "totals",
         ["xx"], "x"),
        (lambda df: sl.SurveyDesign(df, weights="weight").calibrate({"G": {"a": 2, "b": 2}}),
         "totals", ["G"], "g"),
        (lambda df: sl.SurveyDesign(df, weights="weight").rake({"gg": {"a": 2, "b": 2}}),
         "margins", ["gg"], "g"),
        (lambda df: sl.SurveyDesign(df, weights="weight").weight_summary(by="gg"), "by",
         ["gg"], "g"),
    ],
)
def test_unknown_columns_are_column_errors_with_a_suggestion(call, parameter, value,
                                                             suggestion):
    df = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [1.0, 2.0, 3.0, 4.0], "weight": 1.0})
    with pytest.raises(sl.ColumnError) as info:
        call(df)
    err = info.value
    assert err.parameter == parameter
    assert err.value == value
    assert err.hint == f"did you mean {suggestion!r}?"
    assert list(df.columns) == err.expected


def test_misspelt_population_level_is_named(small):
    with pytest.raises(sl.WeightingError) as info:
        small.poststratify("g", {"a": 5, "bb": 5})
    err = info.value
    assert "level(s) ['b'] of column 'g' occur in the sample" in str(err)
    assert err.hint.startswith("is 'b' the table's 'bb'? ")
    assert (err.parameter, err.value, err.expected) == ("population", ["b"], ["a", "bb"])


def test_weighting_data_errors_fill_fields(small):
    with pytest.raises(sl.WeightingError) as info:
        small.rake({"g": {"a": 2, "b": 2}, "x": {1.0: 1, 2.0: 1, 3.0: 1, 4.0: 2}})
    err = info.value
    assert err.parameter == "margins" and err.hint == "rescale one of them, or give shares"
    assert str(err).endswith("; rescale one of them, or give shares.")
    with pytest.raises(sl.WeightingError) as info:
        small.calibrate({"x": 10.0})
    assert info.value.parameter == "totals" and "intercept=False" in info.value.hint
    two_way = sl.SurveyDesign(pd.DataFrame({"g": ["a", "a", "b", "b"], "h": ["u", "v", "u", "v"],
                                            "w": [1.0, 2.0, 3.0, 4.0]}), weights="w")
    with pytest.raises(sl.ConvergenceError) as info:
        two_way.rake({"g": {"a": 5, "b": 5}, "h": {"u": 5, "v": 5}}, max_iter=1)
    assert info.value.parameter == "on_fail"
    assert "pass on_fail='warn'" in str(info.value)


def test_the_python_blocks_of_the_errors_section_run(capsys):
    import re

    page = Path(__file__).resolve().parents[1] / "docs" / "conventions.md"
    section = page.read_text().split("## Errors and warnings", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    with warnings.catch_warnings():
        for block in blocks:
            exec(compile(block, str(page), "exec"), {})  # noqa: S102
        assert any(f[0] == "error" and f[2] is sl.ConvergenceWarning for f in warnings.filters)
    assert capsys.readouterr().out == "lonely_psu ajust did you mean 'adjust'?\n"
