"""Subbootstrap replicate designs carry R's type label (R: as.svrepdesign(d,
type="subbootstrap")$type == "subbootstrap"); the label changes no number."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import surveylib as sl

DATA = Path(__file__).parent / "conformance" / "data"


def test_subbootstrap_is_labelled_subbootstrap():
    d = sl.SurveyDesign(pd.read_csv(DATA / "apiclus1.csv"), psu="dnum", weights="pw")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SurveyWarning)
        sub = d.to_replicates("subbootstrap", replicates=20, seed=1)
        boot = d.to_replicates("bootstrap", replicates=20, seed=1)
    assert sub.type == "subbootstrap" and boot.type == "bootstrap"
    assert "subbootstrap" in sl.replicate.REPLICATE_TYPES
    # R subbootweights: scale 1/(R-1); the SE is the replicates' spread around their mean
    w = sub.replicate_weights().to_numpy()
    y = d.data["api00"].to_numpy()
    thetas = (w * y[:, None]).sum(0) / w.sum(0)
    se = np.sqrt(np.sum((thetas - thetas.mean()) ** 2) / (20 - 1))
    assert sub.mean("api00").se.iloc[0] == np.float64(se) or abs(
        sub.mean("api00").se.iloc[0] / se - 1) < 1e-12
