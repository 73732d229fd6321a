"""Tests of surveylib.fieldwork: AAPOR rates, R-indicators, precision reached, weights, CLI.

Expected values are computed by hand from the formulas quoted in each test's docstring
(AAPOR Standard Definitions 2023; Schouten, Cobben and Bethlehem 2009; Schouten, Shlomo and
Skinner 2011; Cochran 1977).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from surveylib.errors import SurveyDesignError
from surveylib.fieldwork import (
    DispositionError,
    aapor_rates,
    classify,
    fieldwork_status,
    moe_progress,
    r_indicator,
    response_propensities,
    weights_preview,
)
from surveylib.fieldwork.cli import main as fieldwork_main


def _worked_example() -> pd.DataFrame:
    codes_a = (["1.1"] * 40 + ["1.2"] * 5 + ["2.11"] * 12 + ["2.12"] * 8 + ["2.20"] * 15
               + ["2.30"] * 5 + ["3.10"] * 10 + ["3.20"] * 3 + ["3.90"] * 2 + ["4.10"] * 10)
    codes_b = ["1.1"] * 10 + ["2.10"] * 10 + ["2.21"] * 5 + ["0"] * 5
    return pd.DataFrame({"h": ["a"] * len(codes_a) + ["b"] * len(codes_b),
                         "disp": codes_a + codes_b})


def test_aapor_rates_worked_example():
    """Stratum a: I=40, P=5, R=20 (2.11, 2.12), NC=15, O=5, UH=10, UO=5 (3.20, 3.90), NE=10.

    e = (I+P+R+NC+O) / (I+P+R+NC+O+NE) = 85/95; the RR3 denominator is 85 + e*15 = 1870/19.
    RR1 = I/(I+P+R+NC+O+UH+UO) = 40/100; RR2 = 45/100; RR3 = 40*19/1870 = 76/187;
    RR4 = 45*19/1870 = 171/374; RR5 = 40/85 = 8/17; RR6 = 45/85 = 9/17.
    COOP1 = I/((I+P)+R+O) = 40/70; COOP2 = 45/70; COOP3 = I/((I+P)+R) = 40/65; COOP4 = 45/65.
    REF1 = R/100 = 0.2; REF2 = 20*19/1870 = 38/187; REF3 = 20/85 = 4/17.
    CON1 = ((I+P)+R+O)/100 = 0.7; CON2 = 70*19/1870 = 133/187; CON3 = 70/85 = 14/17.

    Stratum b: I=10, R=10, NC=5, 5 not yet worked (code 0, counted as unknown), NE=0, so
    e = 1: RR1 = RR3 = 10/30, RR5 = 10/25, COOP1 = 10/20, CON1 = 20/30.
    """
    df = _worked_example()
    before = df.copy()
    r = aapor_rates(df, disposition="disp", by="h")
    pd.testing.assert_frame_equal(df, before)
    a = r.loc["a"]
    assert a[["I", "P", "R", "NC", "O", "UH", "UO", "NE", "pending"]].tolist() == \
        [40, 5, 20, 15, 5, 10, 5, 10, 0]
    expect = {"e": 85 / 95, "RR1": 0.4, "RR2": 0.45, "RR3": 76 / 187, "RR4": 171 / 374,
              "RR5": 8 / 17, "RR6": 9 / 17, "COOP1": 4 / 7, "COOP2": 9 / 14, "COOP3": 8 / 13,
              "COOP4": 9 / 13, "REF1": 0.2, "REF2": 38 / 187, "REF3": 4 / 17, "CON1": 0.7,
              "CON2": 133 / 187, "CON3": 14 / 17}
    for k, v in expect.items():
        assert a[k] == pytest.approx(v, rel=1e-14), k
    b = r.loc["b"]
    assert (b["pending"], b["e"]) == (5, 1.0)
    assert (b["RR1"], b["RR3"], b["RR5"], b["COOP1"], b["CON1"]) == pytest.approx(
        (10 / 30, 10 / 30, 10 / 25, 10 / 20, 20 / 30))
    tot = r.loc["(all)"]
    assert tot["I"] == 50 and tot["RR1"] == pytest.approx(50 / 130)
    # a given e replaces the estimate
    assert aapor_rates(df, disposition="disp", e=0.5).loc["(all)", "RR3"] == pytest.approx(
        50 / (110 + 0.5 * 20))


def test_unknown_disposition_codes_are_an_error():
    df = pd.DataFrame({"disp": ["1.1", "9.9", "done", "2.2"]})
    with pytest.raises(DispositionError, match="not AAPOR codes") as e:
        aapor_rates(df, disposition="disp")
    assert e.value.value == ["9.9", "done"] and e.value.parameter == "disposition"
    assert isinstance(e.value, SurveyDesignError)
    ok = classify(df["disp"], mapping={"9.9": "4.1", "done": "I"})
    assert ok.tolist() == ["I", "NE", "I", "NC"]


def test_r_indicator_closed_form():
    """Two groups of 50, response 30/50 and 20/50: the saturated logistic model gives
    rho = 0.6 and 0.4, rho_bar = 0.5, S^2 = 100 * 0.01 / 99, R = 1 - 2 sqrt(1/99);
    P_U(g) = sqrt(sum N_k (rho_k - rho_bar)^2 / N) = 0.1, category partials
    sqrt(1/2) * (+-0.1); P_C(g) = S (no other variable)."""
    df = pd.DataFrame({"g": ["x"] * 50 + ["y"] * 50,
                       "r": [1] * 30 + [0] * 20 + [1] * 20 + [0] * 30})
    res = r_indicator(df, respondent="r", covariates="g")
    assert res.r == pytest.approx(1 - 2 * math.sqrt(1 / 99), rel=1e-9)
    assert res.mean == pytest.approx(0.5)
    p = res.partial.set_index(["variable", "level"])
    assert p.loc[("g", ""), "unconditional"] == pytest.approx(0.1, rel=1e-9)
    assert p.loc[("g", ""), "conditional"] == pytest.approx(math.sqrt(1 / 99), rel=1e-9)
    assert p.loc[("g", "x"), "unconditional"] == pytest.approx(math.sqrt(0.5) * 0.1, rel=1e-9)
    assert p.loc[("g", "y"), "unconditional"] == pytest.approx(-math.sqrt(0.5) * 0.1, rel=1e-9)


def test_partial_r_indicators_separate_the_variable_that_matters():
    """Response depends on g only (0.6 / 0.4 in every category of z): the main-effects model
    gives z a zero coefficient, so P_U(z) = P_C(z) = 0 and P_C(g) = S = sqrt(1/99) as above.
    Weights: design weights 2 for every case leave R unchanged apart from N - 1 = 199."""
    rows = []
    for g, k in (("x", 30), ("y", 20)):
        for z in ("u", "v"):
            rows += [(g, z, 1)] * (k // 2) + [(g, z, 0)] * ((50 - k) // 2)
    df = pd.DataFrame(rows, columns=["g", "z", "r"])
    res = r_indicator(df, respondent="r", covariates=["g", "z"])
    p = res.partial.set_index(["variable", "level"])
    assert p.loc[("z", ""), "unconditional"] == pytest.approx(0.0, abs=1e-9)
    assert p.loc[("z", ""), "conditional"] == pytest.approx(0.0, abs=1e-9)
    assert p.loc[("g", ""), "conditional"] == pytest.approx(math.sqrt(1 / 99), rel=1e-9)
    w = r_indicator(df.assign(d=2.0), respondent="r", covariates=["g", "z"], weights="d")
    assert w.sd == pytest.approx(math.sqrt(200 * 0.01 / 199), rel=1e-9)
    rho = response_propensities(df, respondent="r", covariates=["g", "z"])
    np.testing.assert_allclose(rho, np.where(df["g"] == "x", 0.6, 0.4), atol=1e-10)


def test_moe_progress_closed_form():
    """moe = z sqrt(p(1-p)/n) (Cochran 1977, 3.2, no fpc): planned 100 -> 1.96 * 0.05;
    25 completes so far -> 1.96 * 0.1; no completes -> inf."""
    df = pd.DataFrame({"h": ["a"] * 40 + ["b"] * 10, "done": [1] * 25 + [0] * 25})
    m = moe_progress(df, stratum="h", respondent="done", plan={"a": 100, "b": 50})
    z = stats.norm.ppf(0.975)
    assert m.loc["a", "moe_planned"] == pytest.approx(z * 0.05)
    assert m.loc["a", "moe_now"] == pytest.approx(z * 0.1)
    assert m.loc["a", "moe_ratio"] == pytest.approx(2.0)
    assert m.loc["b", "completes"] == 0 and np.isinf(m.loc["b", "moe_now"])


def test_weights_preview_factor():
    """Class a: weights 10, 10, 20 (eligible 40), respondents 10 and 20 (30): factor 4/3;
    class b: 5, 5, respondent one (5): factor 2, adjusted weight 10."""
    df = pd.DataFrame({"h": ["a", "a", "a", "b", "b"], "w": [10.0, 10.0, 20.0, 5.0, 5.0],
                       "r": [True, False, True, True, False]})
    t = weights_preview(df, respondent="r", weight="w", classes="h").set_index("h")
    assert t.loc["a", "factor"] == pytest.approx(4 / 3)
    assert t.loc["b", "factor"] == pytest.approx(2.0)
    assert t.loc["b", "mean_weight"] == pytest.approx(10.0)
    assert t.loc["a", "mean_weight"] == pytest.approx(20.0)
    # weights 40/3 and 80/3: cv = 1/3, 1 + cv^2 = 10/9
    assert t.loc["a", "deff_weighting"] == pytest.approx(10 / 9)


def _sample_file(tmp_path, codes=None):
    df = _worked_example()
    rng = np.random.default_rng(3)
    df["w"] = np.where(df["h"] == "a", 50.0, 80.0)
    df["size"] = rng.choice(["small", "large"], len(df))
    if codes is not None:
        df.loc[: len(codes) - 1, "disp"] = codes
    path = tmp_path / "sample.csv"
    df.to_csv(path, index=False)
    pd.DataFrame({"stratum": ["a", "b"], "n": [60, 20]}).to_csv(tmp_path / "plan.csv",
                                                               index=False)
    return path


def test_status_and_cli(tmp_path, capsys):
    path = _sample_file(tmp_path)
    data = pd.read_csv(path, dtype={"disp": str})
    st = fieldwork_status(data, disposition="disp", stratum="h", weight="w",
                          frame_vars=["h", "size"], plan={"a": 60, "b": 20})
    assert st.rates.loc["a", "RR1"] == pytest.approx(0.4)
    assert st.moe.loc["a", "completes"] == 45 and st.weights is not None
    assert -1 <= st.r_indicator.r <= 1
    code = fieldwork_main(["status", str(path), "--disposition", "disp", "--stratum", "h",
                           "--weight", "w", "--frame-vars", "h,size", "--plan",
                           str(tmp_path / "plan.csv")])
    out = capsys.readouterr().out
    assert code == 0 and "RR1" in out and "R-indicator" in out
    page = (tmp_path / "sample_status.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "Margin of error" in page
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_cli_bad_codes_and_missing_file(tmp_path, capsys):
    path = _sample_file(tmp_path, codes=["7.7"])
    assert fieldwork_main(["status", str(path), "--disposition", "disp"]) == 2
    assert "7.7" in capsys.readouterr().err
    assert fieldwork_main(["status", str(tmp_path / "nope.csv")]) == 2
    assert fieldwork_main(["nonsense"]) == 2
