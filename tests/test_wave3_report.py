"""The wave-3 plan in the replication report is the plan itself, not a second computation."""

import warnings
from pathlib import Path

import pandas as pd

from surveylib.errors import AssumptionWarning
from surveylib.study import locate

STUDY = locate(Path(__file__).resolve().parents[1])
wave3_plan = STUDY.analyses_module("wave3_plan")
wave3_report = STUDY.analyses_module("wave3_report")


def test_report_exhibit_carries_the_plan_tables():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        plan = wave3_plan.run()
    res = wave3_report.run()
    pd.testing.assert_frame_equal(res.tables["recommended_allocation"], plan.recommended)
    pd.testing.assert_frame_equal(res.tables["power"], plan.power)
    assert str(plan.n_total) in res.method
    power_bars = res.figures[0].series
    assert {s.name for s in power_bars} == set(plan.power["scenario"])
    first = plan.power.iloc[0]
    match = [s for s in power_bars if s.name == first["scenario"]][0]
    assert match.values[0] == 100 * first["power"]
