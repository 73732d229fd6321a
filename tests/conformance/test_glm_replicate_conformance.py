"""GLMs on replicate-weight designs against R ``svyglm`` (fixtures/glm_replicate.json, from
tests/conformance/r/glm_replicate.R): R refits the model with every replicate's weights and
takes the replicate covariance of the coefficients; JK1 (with and without ``mse``) and
bootstrap weights; gaussian, quasibinomial and quasipoisson."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "glm_replicate.json").read_text())


def r_name(term: str) -> str:
    """Our coefficient name for an R one (``stypeH`` is patsy's ``C(stype)[T.H]``)."""
    if term == "(Intercept)":
        return "Intercept"
    if term.startswith("stype"):
        return f"C(stype)[T.{term[5:]}]"
    return term


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["id"] for c in FIXTURE["cases"]])
def test_replicate_glm_refits_like_r(case):
    df = pd.read_csv(HERE / "data" / case["data"])
    df["sch_wide_yes"] = (df["sch.wide"] == "Yes") * 1.0
    kw = {"scale": case["scale"]} if case["scale"] is not None else {}
    d = sl.ReplicateDesign(df, weights="pw", rep_weights=case["rep_weights"],
                           type=case["type"], mse=case["mse"], **kw)
    fit = d.glm(case["formula"], family=case["family"], tol=1e-13)
    names = [r_name(t) for t in case["terms"]]
    est = fit.estimate.loc[names].to_numpy()
    np.testing.assert_allclose(est, case["coef"], rtol=1e-9)
    order = [list(fit.terms).index(n) for n in names]
    v = fit.vcov_matrix[np.ix_(order, order)]
    np.testing.assert_allclose(v, np.array(case["vcov"]), rtol=1e-8)
