"""The wave-3 plan as an exhibit of the replication report.

Wraps :func:`analyses.wave3_plan.run` (defaults: ±3 pp nationally, ±8 pp per region, 95 %,
50 % response, power allocation with regional floors, design effect from the 2012 attitude
shares) into an :class:`~surveylib.report.ExhibitResult`, so ``surveylib replicate`` shows the
recommended design, the power to detect changes of the 2007–2012 sizes and the minimum
detectable changes next to the published exhibits.  No published figure is audited here.
"""

from __future__ import annotations

import warnings

from surveylib.errors import AssumptionWarning
from surveylib.report import ExhibitResult, FigureSpec, Series

from . import wave3_plan


def run(data=None, *, study=None, **options) -> ExhibitResult:
    """Build the plan (``options`` go to :func:`analyses.wave3_plan.run`) as an exhibit.

    ``study`` (a :class:`surveylib.study.StudyPaths`) points the plan at other ``microdata/``
    and ``frames/`` folders; the default is this study's own.
    """
    if study is not None and study.microdata is not None:
        options.setdefault("microdata_dir", study.microdata)
    if study is not None and study.frames is not None:
        options.setdefault("frame_path", study.frames / "strata_frame.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        plan = wave3_plan.run(**options)
    power = plan.power
    categories = tuple(dict.fromkeys(power["category"]))
    scenarios = tuple(dict.fromkeys(power["scenario"]))
    series = tuple(
        Series(name=sc, values=tuple(
            100 * float(power.loc[(power["scenario"] == sc) & (power["category"] == c),
                                  "power"].iloc[0]) for c in categories))
        for sc in scenarios
    )
    figure = FigureSpec(
        key="wave3_power",
        title="Power (%) to detect changes of the 2007-2012 sizes (two-sided, 5 %)",
        categories=categories,
        series=series,
        ylabel="power, percent",
        ylim=(0, 100),
        note="changes: " + ", ".join(
            f"{c} {100 * float(power.loc[power['category'] == c, 'change'].iloc[0]):+.1f} pp"
            for c in categories),
    )
    rec = plan.allocation_summary.set_index("allocation").loc["recommended"]
    method = (
        f"surveylib.planning on the {plan.inputs['frame_year']} frame (frames/strata_frame.csv): "
        f"n = {plan.n_total} completed interviews ({plan.n_to_contact} contacts), "
        f"national margin ±{100 * rec['national_moe']:.2f} pp, every region within "
        f"±{100 * rec['max_regional_moe']:.2f} pp; design effect {plan.deff:.3f} "
        f"({plan.deff_source}). Power: two-sided test of two independent proportions at 5 % "
        "with each wave's effective sample size (planning.power_two_proportions)."
    )
    return ExhibitResult(
        key="wave3_report",
        title="Planning the third wave: sample size, allocation and power to detect change",
        source="analyses/wave3_plan.py (not a published exhibit)",
        method=method,
        tables={
            "recommended_allocation": plan.recommended,
            "allocations_compared": plan.allocation_summary,
            "power": plan.power,
            "n_for_power": plan.power_n,
            "minimum_detectable_change": plan.mde,
        },
        figures=[figure],
        notes=list(plan.assumptions),
    )


if __name__ == "__main__":
    print(run().to_text())
