"""A second, independent implementation where it is known to be right: samplics (test-only).

samplics is archived and has known defects (its Rao–Scott test, replicate-row order), so it is
used only for stratified-cluster means, totals and shares with replacement, where its
Taylor variance is the textbook one.  R survey (tests/conformance) remains the authority.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveylib as sl

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    samplics = pytest.importorskip("samplics")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

DATA = Path(__file__).parent / "conformance" / "data"


def samplics_estimate(param, y, df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = TaylorEstimator(param)
        est.estimate(y=y, samp_weight=df["pw"].to_numpy(), stratum=df["stype"].to_numpy(),
                     psu=df["dnum"].to_numpy(), remove_nan=False, **kw)
    return est


@pytest.fixture(scope="module")
def strat_clus():
    # apistrat with districts as PSUs nested in school type: a stratified cluster design
    df = pd.read_csv(DATA / "apistrat.csv")
    return df.assign(dnum=df["stype"].astype(str) + "-" + df["dnum"].astype(str))


@pytest.mark.parametrize("param, method", [(PopParam.mean, "mean"), (PopParam.total, "total")])
def test_mean_and_total_match_samplics(strat_clus, param, method):
    d = sl.SurveyDesign(strat_clus, strata="stype", psu="dnum", weights="pw")
    ours = getattr(d, method)("api00")
    theirs = samplics_estimate(param, strat_clus["api00"].to_numpy(), strat_clus)
    point = theirs.point_est if np.isscalar(theirs.point_est) else list(theirs.point_est.values())[0]
    stderr = theirs.stderror if np.isscalar(theirs.stderror) else list(theirs.stderror.values())[0]
    assert ours.values[0] == pytest.approx(float(point), rel=1e-10)
    assert ours.se.iloc[0] == pytest.approx(float(stderr), rel=1e-8)
