"""The lonely-PSU rule within domains (R ``options(survey.adjust.domain.lonely = TRUE)``).

The R fixtures (``ddomlonely_*_adl`` in tests/conformance/fixtures/design.json) check the
subset and ``by`` cases against R; here a closed form on a four-PSU design, the error for a
rule the option cannot apply, and the covariance between domains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surveylib as sl
from surveylib.variance.taylor import Scores, taylor_vcov, taylor_vcov_from_totals

# stratum A: PSUs 1, 2 (domain rows only in PSU 1); stratum B: PSUs 3, 4 (domain rows in both)
DATA = pd.DataFrame({
    "h": ["A", "A", "A", "A", "B", "B", "B", "B"],
    "psu": [1, 1, 2, 2, 3, 3, 4, 4],
    "dom": [1, 1, 0, 0, 1, 0, 1, 1],
    "y": [3.0, 5.0, 4.0, 6.0, 2.0, 7.0, 1.0, 8.0],
    "w": [2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0],
})


def design(**kw):
    return sl.SurveyDesign(DATA, strata="h", psu="psu", weights="w", **kw)


def test_total_on_a_subset_in_closed_form():
    """adjust: stratum A's lone domain PSU is a deviation from zero, scaled n/(n-1) = 2;
    stratum B is centred as usual."""
    sub = DATA["dom"] == 1
    t = (DATA["w"] * DATA["y"] * sub).groupby(DATA["psu"]).sum().to_numpy()  # PSU totals
    a = 2 * t[0] ** 2
    b = 2 * ((t[2] - t[2:].mean()) ** 2 + (t[3] - t[2:].mean()) ** 2)
    usual = 2 * ((t[0] - t[:2].mean()) ** 2 + (t[1] - t[:2].mean()) ** 2) + b
    adl = design(lonely_psu="adjust", adjust_domain_lonely=True).subset(sub).total("y")
    plain = design(lonely_psu="adjust").subset(sub).total("y")
    assert adl.se.iloc[0] ** 2 == pytest.approx(a + b, rel=1e-12)
    assert plain.se.iloc[0] ** 2 == pytest.approx(usual, rel=1e-12)


def test_average_drops_the_stratum_and_rescales():
    """average: stratum A (lonely in the domain) is dropped, B's contribution times 2/1."""
    sub = DATA["dom"] == 1
    t = (DATA["w"] * DATA["y"] * sub).groupby(DATA["psu"]).sum().to_numpy()
    b = 2 * ((t[2] - t[2:].mean()) ** 2 + (t[3] - t[2:].mean()) ** 2)
    got = design(lonely_psu="average", adjust_domain_lonely=True).subset(sub).total("y")
    assert got.se.iloc[0] ** 2 == pytest.approx(b * 2 / 1, rel=1e-12)


def test_by_domain_adjusts_each_domain_block_not_between_domains():
    d_adl = design(lonely_psu="adjust", adjust_domain_lonely=True)
    d = design(lonely_psu="adjust")
    by_adl, by = d_adl.total("y", by="dom"), d.total("y", by="dom")
    for dom in (0, 1):  # each domain's SE equals that of its own subset
        sub = d_adl.subset(DATA["dom"] == dom).total("y")
        assert by_adl.se.iloc[dom] == pytest.approx(sub.se.iloc[0], rel=1e-12)
    # the covariance between the domains is the unadjusted one (as R's svyby covmat)
    assert by_adl.vcov_matrix[0, 1] == pytest.approx(by.vcov_matrix[0, 1], rel=1e-12)


def test_scores_path_equals_totals_path():
    rng = np.random.default_rng(1)
    d = design(lonely_psu="adjust")
    stages = d.stages
    x = rng.normal(size=(len(DATA), 3))
    presence = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1], [1, 0, 1]], dtype=bool)
    totals = Scores.from_dense(x).unit_totals(stages[0].unit, stages[0].n_psu)
    a = taylor_vcov(Scores.from_dense(x), stages, lonely_psu="adjust", presence=presence)
    b = taylor_vcov_from_totals(totals, stages, lonely_psu="adjust", presence=presence)
    np.testing.assert_allclose(a, b, rtol=1e-13)
    plain = taylor_vcov_from_totals(totals, stages, lonely_psu="adjust")
    assert not np.allclose(a, plain)  # columns 0 and 2 are lonely in a stratum


def test_the_option_needs_adjust_or_average():
    with pytest.raises(sl.errors.ParameterError, match="lonely_psu='adjust' or 'average'"):
        design(lonely_psu="remove", adjust_domain_lonely=True)
    with pytest.raises(sl.errors.ParameterError, match="adjust_domain_lonely"):
        design(lonely_psu="adjust", adjust_domain_lonely="yes")
    assert design(lonely_psu="adjust", adjust_domain_lonely=True).adjust_domain_lonely
    assert "within domains" in design(lonely_psu="average",
                                      adjust_domain_lonely=True).describe()
