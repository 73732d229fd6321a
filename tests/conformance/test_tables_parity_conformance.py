"""svychisq's observed and expected tables and R's spellings of the statistic
(fixtures/tables_parity.json, written by r/tables_parity.R).

Each test's R call is in the fixture (``r_call``); designs are built here as in the R script.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.inference import R_STATISTIC

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "tables_parity.json").read_text())
CASES = FIXTURE["cases"]
RTOL = 1e-8


@cache
def design(name: str):
    if name in ("dstrat", "dsub"):
        d = sl.SurveyDesign(pd.read_csv(HERE / "data" / "apistrat.csv"), strata="stype",
                            weights="pw", fpc="fpc")
        return d if name == "dstrat" else d.subset((d.data["yr.rnd"] == "No").to_numpy())
    d = sl.SurveyDesign(pd.read_csv(HERE / "data" / "apiclus1.csv"), psu="dnum", weights="pw",
                        fpc="fpc")
    if name == "dclus1":
        return d
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        return d.to_replicates("jk1")  # as.svrepdesign(dclus1, type="JK1")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_observed_and_expected_tables(case):
    res = design(case["design"]).crosstab(case["row"], case["col"]).test()
    for name in ("observed", "expected"):
        t = getattr(res, name)
        assert [str(v) for v in t.index] == case["row_levels"]
        assert [str(v) for v in t.columns] == case["col_levels"]
        np.testing.assert_allclose(t.to_numpy(), case[name], rtol=RTOL, err_msg=name)
    np.testing.assert_allclose(res.expected.to_numpy().sum(), res.observed.to_numpy().sum(),
                               rtol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c["design"] != "rclus1"],
                         ids=[c["id"] for c in CASES if c["design"] != "rclus1"])
@pytest.mark.parametrize("r_name", ["F", "Chisq", "Wald", "adjWald"])
def test_r_spellings_of_the_statistic(case, r_name):
    """statistic="Chisq"/"Wald"/"adjWald" as in R, equal to surveylib's own spelling."""
    tab = design(case["design"]).crosstab(case["row"], case["col"])
    res = tab.test(r_name)
    own = tab.test({v: k for k, v in R_STATISTIC.items()}[r_name])
    assert res == own
    exp = case["tests"][r_name]
    np.testing.assert_allclose(res.statistic, exp["statistic"], rtol=RTOL)
    np.testing.assert_allclose(res.p_value, exp["p_value"], rtol=RTOL)


def test_by_domains_carry_their_tables():
    tests = design("dstrat").crosstab("stype", "sch.wide", by="yr.rnd").test("Wald")
    sub = next(c for c in CASES if c["id"] == "sub_stype_schwide")
    np.testing.assert_allclose(tests["No"].observed.to_numpy(), sub["observed"], rtol=RTOL)
