"""Wave-3 sample design for the survey of attitudes to migrants from China (urban Kazakhstan, 15+).

:func:`run` puts the planning library (:mod:`surveylib.planning`) together with the stratum frame
(``frames/strata_frame.csv``) and the 2007/2012 reconstructed microdata (``microdata/``) and
returns a :class:`PlanResult`:

1. the national sample size for a target margin of error at the anticipated design effect
   (:func:`~surveylib.planning.sample_size_proportion`, worst case ``p = 0.5``);
2. proportional, Neyman and power allocations of that size over the six strata, and a
   recommended compromise -- the chosen allocation with a floor in every stratum equal to the
   interviews needed for the regional margin of error -- with per-stratum and national
   margins of error (:func:`~surveylib.planning.allocate`, :func:`~surveylib.planning.stratum_moe`,
   :func:`~surveylib.planning.stratified_moe`);
3. the power to detect changes of the size seen between 2007 and 2012 (poor, indifferent,
   positive), for a third wave of 2012's size and of the recommended size
   (:func:`~surveylib.planning.power_two_proportions`);
4. the minimum detectable change from the 2012 level per attitude category, nationally and per
   region (:func:`~surveylib.planning.mde_two_proportions`);
5. power curves over the wave-3 sample size (a PNG when written with :meth:`PlanResult.write`).

Every assumption the numbers rest on is listed in ``PlanResult.assumptions`` and in the printed
plan. Run ``python -m analyses.wave3_plan [OUT_DIR]`` to print the plan (and write
``plan.md`` and ``power_curve.png`` into ``OUT_DIR``), or ``surveylib plan --help``.

:func:`run` calls one step per number or table of the plan; the steps live in modules beside
this one: ``_wave3_inputs`` (frame, baseline, design effects, constants), ``_wave3_steps``
(options, national size, allocations, assumptions), ``_wave3_change`` (power, minimum
detectable changes, power curves), ``_wave3_result`` (:class:`PlanResult`, its figure and
files) and ``_wave3_markdown`` (the sections of ``plan.md``). The public names of the plan are
importable from here.
"""

from __future__ import annotations

import os
import sys

from . import _wave3_change as change
from . import _wave3_steps as steps
from ._wave3_inputs import (
    ALLOCATIONS,
    BASELINES,
    CATEGORIES,
    CATEGORY_LABELS,
    CHANGES,
    DEFF_FLOOR,
    FRAME_PATH,
    MICRODATA_DIR,
    MICRODATA_FILES,
    STUDY,
    TARGETS_FILE,
    WAVES,
    WORST_CASE_P,
    Baseline,
    load_baseline,
    load_frame,
)
from ._wave3_result import PlanResult

__all__ = [
    "ALLOCATIONS",
    "BASELINES",
    "CATEGORIES",
    "CHANGES",
    "Baseline",
    "PlanResult",
    "load_baseline",
    "load_frame",
    "run",
    # constants of the plan, defined in _wave3_inputs
    "CATEGORY_LABELS",
    "DEFF_FLOOR",
    "FRAME_PATH",
    "MICRODATA_DIR",
    "MICRODATA_FILES",
    "STUDY",
    "TARGETS_FILE",
    "WAVES",
    "WORST_CASE_P",
]


def run(
    *,
    moe: float = 0.03,
    level: float = 0.95,
    regional_moe: float = 0.08,
    response_rate: float = 0.5,
    allocation: str = "power",
    power_exponent: float = 0.5,
    deff: float | str | None = None,
    frame_year: int | str = "latest",
    target_power: float = 0.8,
    key_category: str = "poor",
    hold_national_moe: bool = True,
    baseline: str = "auto",
    microdata_dir: str | os.PathLike[str] | None = None,
    frame_path: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
) -> PlanResult:
    """Recommended wave-3 design for the urban population aged 15+.

    Parameters
    ----------
    moe : float, default 0.03
        National margin of error for a share (half-width of the CI), e.g. 0.03 = ±3 points.
    level : float, default 0.95
        Confidence level of the margins of error; ``1 - level`` is the test level for power.
    regional_moe : float, default 0.08
        Margin of error guaranteed in every stratum (worst case p = 0.5).
    response_rate : float, default 0.5
        Anticipated response rate (assumed: none was reported for 2007 or 2012).
    allocation : {"power", "proportional", "neyman", "equal"}, default "power"
        Allocation rule of the recommended design, applied with the regional floors.
    power_exponent : float, default 0.5
        Exponent ``q`` of the power allocation ``n_h ∝ N_h^q`` (Kish 1988).
    deff : float, {"mean", "max"} or None
        Anticipated design effect. ``None`` (= ``"mean"``) estimates it as the mean design
        effect of the 2012 attitude shares under the stratified design; ``"max"`` takes the
        largest; a number is used as given. Estimates below 1 are raised to 1. Without
        microdata the estimate is replaced by 1 (stated in the output).
    frame_year : int or "latest"
        Year of ``frames/strata_frame.csv`` giving the stratum populations ``N_h``.
    target_power : float, default 0.8
        Power at which minimum detectable changes are computed.
    key_category : str, default "poor"
        Category whose 2012 stratum shares define the Neyman allocation.
    hold_national_moe : bool, default True
        A disproportionate allocation widens the national margin of error (Kish's weighting
        effect). ``True`` raises the total to the smallest n at which the recommended allocation
        still meets ``moe``; ``False`` keeps the national size of
        :func:`~surveylib.planning.sample_size_proportion` and reports the wider margin.
    baseline : {"auto", "microdata", "published"}
        Where the 2007/2012 shares come from (see :func:`load_baseline`).
    microdata_dir, frame_path : path, optional
        Override the repository locations (``microdata/``, ``frames/strata_frame.csv``).
    out_dir : path, optional
        If given, ``plan.md`` and ``power_curve.png`` are written there.

    Returns
    -------
    PlanResult

    Raises
    ------
    surveylib.errors.PlanningError
        For invalid options (``moe <= 0``, ``level`` outside (0, 1), unknown allocation, ...).
    """
    s = steps.prepare(
        moe=moe,
        level=level,
        regional_moe=regional_moe,
        response_rate=response_rate,
        allocation=allocation,
        power_exponent=power_exponent,
        deff=deff,
        frame_year=frame_year,
        target_power=target_power,
        key_category=key_category,
        baseline=baseline,
        microdata_dir=microdata_dir,
        frame_path=frame_path,
    )
    # 1. national size, regional floors and the recommended total
    size = steps.national_size(s)
    floors = steps.regional_floors(s)
    key_p = steps.key_shares(s)
    n_total, n_basis = steps.total_size(s, size, floors, key_p, hold_national_moe=hold_national_moe)
    # 2. allocations of that total
    allocs = steps.allocations(s, n_total, floors, key_p)
    recommended = allocs["recommended"]
    result = PlanResult(
        inputs=steps.plan_inputs(s, deff=deff, hold_national_moe=hold_national_moe),
        deff=float(s.deff),
        deff_source=s.deff_source,
        sample_size=size,
        n_total=int(n_total),
        n_basis=n_basis,
        n_to_contact=int(steps.n_to_contact(n_total, s.response_rate)),
        frame=s.frame,
        baseline=steps.baseline_table(s),
        allocations=steps.allocation_table(s, allocs),
        allocation_summary=steps.allocation_summary(s, allocs, size, floors, key_p),
        recommended=steps.recommended_table(s, recommended, floors),
        # 3. power for changes of the 2007-2012 size, 4. minimum detectable changes, 5. curves
        power=change.power_table(s, n_total),
        power_n=change.power_n_table(s),
        mde=change.mde_table(s, recommended, n_total),
        power_curve=change.power_curve_table(s, n_total),
        assumptions=steps.assumptions(s),
    )
    if out_dir is not None:
        result.write(out_dir)
    return result


if __name__ == "__main__":  # pragma: no cover
    plan = run(out_dir=sys.argv[1] if len(sys.argv) > 1 else None)
    print(plan.to_markdown())
