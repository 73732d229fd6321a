"""Replicate factors (``combined_weights=False``) without scale/rscales against R
``svrepdesign(combined.weights = FALSE)`` (fixtures/replicate_factors.json, from
tests/conformance/r/replicate_factors.R): R guesses JK1's scale and JKn's rscales from the
factors as given; multiplying them by the sampling weights first gave wrong SEs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "replicate_factors.json").read_text())


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["type"] for c in FIXTURE["cases"]])
def test_guessed_scales_from_factors_equal_r(case):
    df = pd.read_csv(HERE / "data" / "jk_factors.csv")
    with pytest.warns(sl.AssumptionWarning, match="guessed from"):
        d = sl.ReplicateDesign(df, weights="w", rep_weights="f*", type=case["type"],
                               combined_weights=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        m = d.mean(["y", "x"])
        np.testing.assert_allclose(m.estimate.to_numpy(), case["mean"], rtol=1e-12)
        np.testing.assert_allclose(m.se.to_numpy(), case["mean_se"], rtol=1e-8)
        assert d.total("y").se.iloc[0] == pytest.approx(case["total_se"], rel=1e-8)
        assert d.ratio("y", "x").se.iloc[0] == pytest.approx(case["ratio_se"], rel=1e-8)
