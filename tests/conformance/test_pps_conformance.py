"""PPS designs without replacement against R ``svydesign(pps=)`` (fixtures/pps.json, written by
tests/conformance/r/pps.R): Brewer (one and two stages), Overton, Hartley-Rao (``HR()`` and
``HR(psum)``), known joint probabilities (``ppsmat``) with the Horvitz-Thompson and
Yates-Grundy forms, stratified and not; means and totals with their covariance, a subset
mean, domain means and the degrees of freedom."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.errors import SurveyDesignError

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "pps.json").read_text())
RTOL = 1e-8


@cache
def data(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / name)


def build(case) -> sl.SurveyDesign:
    pps = case["pps"]
    if pps == "joint":
        pps = sl.JointProbabilities(data("election_jointprob.csv").to_numpy())
    elif pps == "hartley-rao":
        pps = sl.HartleyRao(case.get("psum"))
    two_stage = case["name"].endswith("2stage")
    kw = dict(psu=["dnum", "snum"], fpc=["p1", "p2"]) if two_stage else dict(fpc="p")
    return sl.SurveyDesign(data(case["data"]), strata=case["strata"], pps=pps,
                           pps_variance=case["variance"], **kw)


CASES = list(FIXTURE["cases"].values())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_mean_and_total_with_covariance(case):
    d = build(case)
    for stat in ("mean", "total"):
        res = getattr(d, stat)(case["variables"])
        np.testing.assert_allclose(res.estimate.to_numpy(), case[stat], rtol=RTOL)
        np.testing.assert_allclose(res.vcov_matrix, np.array(case[f"{stat}_vcov"]), rtol=RTOL)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_subset_domains_and_df(case):
    d = build(case)
    var = case["variables"][0]
    sub = d.subset(data(case["data"])["big"] == 1).mean(var)
    assert sub.estimate.iloc[0] == pytest.approx(case["subset_mean"], rel=RTOL)
    assert sub.se.iloc[0] == pytest.approx(case["subset_se"], rel=RTOL)
    by = d.mean(var, by="big").to_frame()
    order = [int(b) for b in case["by_levels"]]
    got = by.set_index("big").loc[order]
    np.testing.assert_allclose(got["estimate"].to_numpy(), case["by_mean"], rtol=RTOL)
    np.testing.assert_allclose(got["se"].to_numpy(), case["by_se"], rtol=RTOL)
    assert d.degf() == case["degf"]


def test_brewer_without_unequal_probabilities_is_the_stratified_fpc_formula():
    """With equal probabilities n_h/N_h in every stratum Brewer's per-unit 1 - pi is the
    stratum's fpc: the design equals the ordinary one (closed form)."""
    df = data("election_pps.csv").assign(frac=lambda t: np.where(t["stratum"] == 1, 0.1, 0.2))
    a = sl.SurveyDesign(df, strata="stratum", fpc="frac", pps="brewer").total("Bush")
    b = sl.SurveyDesign(df, strata="stratum", fpc="frac").total("Bush")
    assert a.se.iloc[0] == pytest.approx(b.se.iloc[0], rel=1e-12)


def test_other_estimators_use_the_pps_variance():
    """A proportion's SE is that of the mean of its indicator (the same Dcheck)."""
    df = data("election_pps.csv").assign(bush_won=lambda t: (t["Bush"] > t["Kerry"]) * 1.0,
                                         won=lambda t: np.where(t["Bush"] > t["Kerry"], "B", "K"))
    d = sl.SurveyDesign(df, fpc="p", pps="overton")
    p = d.proportion("won", ci_method="wald").to_frame().set_index("level")
    m = d.mean("bush_won")
    assert p.loc["B", "se"] == pytest.approx(m.se.iloc[0], rel=1e-12)
    assert "pps=overton (HT)" in d.describe()


def test_bad_pps_input_says_what_to_give():
    el = data("election_pps.csv")
    with pytest.raises(SurveyDesignError, match="'brewer', 'overton', 'hartley-rao'"):
        sl.SurveyDesign(el, fpc="p", pps="sampford")
    with pytest.raises(SurveyDesignError, match="needs joint inclusion probabilities"):
        sl.SurveyDesign(el, fpc="p", pps="brewer", pps_variance="YG")
    with pytest.raises(SurveyDesignError, match="'HT'"):
        sl.SurveyDesign(el, fpc="p", pps="overton", pps_variance="ht")
    with pytest.raises(SurveyDesignError, match="inclusion probability"):
        sl.SurveyDesign(el.assign(N=1000), fpc="N", pps="brewer")
    cl = data("apiclus2_pps.csv")
    with pytest.raises(SurveyDesignError, match="one stage"):
        sl.SurveyDesign(cl, psu=["dnum", "snum"], fpc=["p1", "p2"], pps="overton")
    district = cl["dnum"] == 83  # three schools
    bad = cl.assign(p1=np.where(district & (cl.index == district.idxmax()), 0.5, cl["p1"]))
    with pytest.raises(SurveyDesignError, match="varies within a unit"):
        sl.SurveyDesign(bad, psu=["dnum", "snum"], fpc=["p1", "p2"], pps="brewer")
    with pytest.raises(SurveyDesignError, match="40 x 40"):
        sl.SurveyDesign(el, fpc="p", pps=sl.JointProbabilities(np.eye(3)))
    with pytest.raises(SurveyDesignError, match="no value for stratum"):
        sl.SurveyDesign(el, strata="stratum", fpc="p", pps=sl.HartleyRao({1: 0.05}))
