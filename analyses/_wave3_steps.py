"""The steps of the wave-3 plan, each computing one number or one table of :class:`PlanResult`.

:func:`analyses.wave3_plan.run` calls them in order: :func:`prepare` checks the options and loads
the inputs into a :class:`PlanSetting`; then the national size (:func:`national_size`,
:func:`regional_floors`, :func:`total_size`), the allocations (:func:`allocations`,
:func:`allocation_table`, :func:`allocation_summary`, :func:`recommended_table`), the power
tables, minimum detectable changes and power curves (in :mod:`analyses._wave3_change`) and the
text around them (:func:`assumptions`, :func:`plan_inputs`, :func:`baseline_table`). Every
number comes from :mod:`surveylib.planning`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from surveylib import planning
from surveylib.errors import PlanningError

from ._wave3_inputs import (
    ALLOCATIONS,
    CATEGORIES,
    CATEGORY_LABELS,
    WAVES,
    WORST_CASE_P,
    Baseline,
    load_baseline,
    load_frame,
    planning_deff,
)
from ._wave3_markdown import pct

__all__ = [
    "PlanSetting",
    "allocation_summary",
    "allocation_table",
    "allocations",
    "assumptions",
    "baseline_table",
    "key_shares",
    "n_to_contact",
    "national_size",
    "plan_inputs",
    "prepare",
    "recommended_table",
    "regional_floors",
    "total_size",
]


# ------------------------------------------------------------------- options and inputs


@dataclass(frozen=True, eq=False)
class PlanSetting:
    """The checked options of :func:`~analyses.wave3_plan.run` and the inputs loaded for them.

    ``N`` is the frame's ``N`` column as floats (index stratum name); ``deff`` the design effect
    of wave 3 and ``deff_source`` where it comes from; ``deff_past`` the design effects of 2007
    and 2012 used for the past waves in power comparisons.
    """

    moe: float
    level: float
    regional_moe: float
    response_rate: float
    target_power: float
    allocation: str
    power_exponent: Any
    key_category: str
    frame: pd.DataFrame
    N: pd.Series
    base: Baseline
    deff: float
    deff_source: str
    deff_past: Mapping[int, float]


def _check_fraction(name: str, value, *, upper_open: bool = True, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PlanningError(f"{name}={value!r} must be a number, e.g. {example}.")
    v = float(value)
    ok = 0 < v < 1 if upper_open else 0 < v <= 1
    if not math.isfinite(v) or not ok:
        interval = "(0, 1)" if upper_open else "(0, 1]"
        raise PlanningError(f"{name}={value!r} must be in {interval}, e.g. {example}.")
    return v


def prepare(
    *,
    moe,
    level,
    regional_moe,
    response_rate,
    allocation,
    power_exponent,
    deff,
    frame_year,
    target_power,
    key_category,
    baseline,
    microdata_dir: str | os.PathLike[str] | None,
    frame_path: str | os.PathLike[str] | None,
) -> PlanSetting:
    """Check the options of :func:`~analyses.wave3_plan.run`, load the frame and the baseline,
    and settle the design effects (``deff``: a number, ``"mean"``, ``"max"`` or ``None``)."""
    moe = _check_fraction("moe", moe, example="0.03 for ±3 points")
    regional_moe = _check_fraction("regional_moe", regional_moe, example="0.08 for ±8 points")
    level = _check_fraction("level", level, example="0.95")
    response_rate = _check_fraction("response_rate", response_rate, upper_open=False, example="0.5")
    target_power = _check_fraction("target_power", target_power, example="0.8")
    if allocation not in ALLOCATIONS:
        raise PlanningError(f"allocation={allocation!r} is not one of {list(ALLOCATIONS)}.")
    if key_category not in CATEGORIES:
        raise PlanningError(f"key_category={key_category!r} is not one of {list(CATEGORIES)}.")
    if isinstance(deff, str) and deff not in ("mean", "max"):
        raise PlanningError(f"deff={deff!r}: give a number > 0, 'mean', 'max' or None.")

    frame = load_frame(frame_path, frame_year)
    past_frames = {w: load_frame(frame_path, w) for w in WAVES}
    base = load_baseline(
        baseline=baseline, microdata_dir=microdata_dir, frames=past_frames, frame_path=frame_path
    )
    deff_value, deff_source, deff_past = _design_effects(deff, base)
    return PlanSetting(
        moe=moe,
        level=level,
        regional_moe=regional_moe,
        response_rate=response_rate,
        target_power=target_power,
        allocation=allocation,
        power_exponent=power_exponent,
        key_category=key_category,
        frame=frame,
        N=frame["N"].astype("float64"),
        base=base,
        deff=deff_value,
        deff_source=deff_source,
        deff_past=MappingProxyType(deff_past),
    )


def _design_effects(deff, base: Baseline) -> tuple[float, str, dict[int, float]]:
    """Design effect of wave 3 (and where it comes from) and of the past waves."""
    if deff is None or isinstance(deff, str):
        how = "mean" if deff is None else deff
        deff_value, deff_source = planning_deff(base.deff[2012], how)
        deff_past = {w: planning_deff(base.deff[w], how)[0] for w in WAVES}
        return deff_value, deff_source, deff_past
    if (
        isinstance(deff, bool)
        or not isinstance(deff, (int, float, np.integer, np.floating))
        or not math.isfinite(float(deff))
        or float(deff) <= 0
    ):
        raise PlanningError(
            f"deff={deff!r} must be a number > 0 (1 is simple random sampling), "
            "'mean', 'max' or None."
        )
    deff_past = {w: planning_deff(base.deff[w], "mean")[0] for w in WAVES}
    return float(deff), "given by the user", deff_past


# ------------------------------------------------------------------ 1. national size


def national_size(s: PlanSetting) -> planning.SampleSize:
    """National size for ``moe`` at ``p = 0.5`` with the frame's finite population correction."""
    return planning.sample_size_proportion(
        WORST_CASE_P,
        s.moe,
        level=s.level,
        deff=s.deff,
        N=float(s.N.sum()),
        response_rate=s.response_rate,
    )


def regional_floors(s: PlanSetting) -> pd.Series:
    """Interviews needed in each stratum for the regional margin of error (worst case p)."""
    return pd.Series(
        {
            h: planning.sample_size_proportion(
                WORST_CASE_P, s.regional_moe, level=s.level, deff=s.deff, N=float(s.N[h])
            ).n_required
            for h in s.N.index
        },
        name="floor",
        dtype="int64",
    )


def key_shares(s: PlanSetting) -> pd.Series:
    """2012 share of ``key_category`` per stratum (index stratum name): Neyman's ``p=``."""
    code_to_name = dict(zip(s.frame["stratum_code"], s.frame.index, strict=True))
    key_p = (
        s.base.stratum_shares[2012][s.key_category].rename(index=code_to_name).reindex(s.N.index)
    )
    if key_p.isna().any():
        raise PlanningError(
            f"2012 baseline has no share of {s.key_category!r} for stratum "
            f"{key_p.index[key_p.isna()][0]!r}; check the stratum codes of the microdata."
        )
    return key_p


def total_size(
    s: PlanSetting,
    size: planning.SampleSize,
    floors: pd.Series,
    key_p: pd.Series,
    *,
    hold_national_moe: bool,
) -> tuple[int, str]:
    """Recommended total and why: the national size or the sum of the floors, whichever is
    larger, then (``hold_national_moe``) raised until the recommended allocation meets ``moe``."""
    if int(floors.sum()) > size.n_required:
        n_total = int(floors.sum())
        n_basis = (
            f"the regional floors add to {n_total}, more than the {size.n_required} needed "
            "nationally"
        )
    else:
        n_total = size.n_required
        n_basis = "the national size; the regional floors fit within it"
    if hold_national_moe:
        n_hold = _n_for_national(s, s.allocation, n_total, key_p, min_n=floors)
        if n_hold < 0:
            raise PlanningError(
                f"no sample smaller than the population meets moe={s.moe:g} with the "
                f"{s.allocation} allocation; accept a larger moe."
            )
        if n_hold > n_total:
            n_basis = (
                f"raised from {n_total} to {n_hold}, the smallest total at which the "
                f"recommended {s.allocation} allocation with regional floors still meets "
                f"±{pct(s.moe, 1)} nationally: its unequal weights widen the national margin"
            )
            n_total = n_hold
    return n_total, n_basis


def n_to_contact(n: float, response_rate: float) -> int:
    """Units to contact for ``n`` completed interviews at the response rate (rounded up)."""
    return math.ceil(n / response_rate * (1 - 1e-12))


# -------------------------------------------------------------------- 2. allocations


def _allocate(s: PlanSetting, method, n, key_p, *, min_n=None) -> pd.Series:
    kwargs: dict[str, Any] = {"method": method}
    if method == "neyman":
        kwargs["p"] = key_p
    if method == "power":
        kwargs["power_exponent"] = s.power_exponent
    if min_n is not None:
        kwargs["min_n"] = min_n
    return planning.allocate(n, s.N, **kwargs)


def _n_for_national(s: PlanSetting, method, n_start, key_p, *, min_n=None) -> int:
    """Smallest n >= n_start whose allocation meets the national margin of error (-1: none)."""
    limit = int(s.N.sum())
    for n in range(int(n_start), limit + 1):
        alloc = _allocate(s, method, n, key_p, min_n=min_n)
        nat = planning.stratified_moe(
            alloc, p=WORST_CASE_P, strata_sizes=s.N, level=s.level, deff=s.deff
        )
        if nat <= s.moe:
            return n
    return -1


def _stratum_moe(s: PlanSetting, alloc: pd.Series) -> pd.DataFrame:
    return planning.stratum_moe(alloc, p=WORST_CASE_P, strata_sizes=s.N, level=s.level, deff=s.deff)


def allocations(
    s: PlanSetting, n_total: int, floors: pd.Series, key_p: pd.Series
) -> dict[str, pd.Series]:
    """Proportional, Neyman and power allocations of ``n_total`` and the recommended one
    (``allocation`` with the regional floors as ``min_n``)."""
    allocs = {m: _allocate(s, m, n_total, key_p) for m in ("proportional", "neyman", "power")}
    allocs["recommended"] = _allocate(s, s.allocation, n_total, key_p, min_n=floors)
    return allocs


def allocation_table(s: PlanSetting, allocs: Mapping[str, pd.Series]) -> pd.DataFrame:
    """One row per allocation x stratum: ``allocation, stratum, N, n, moe, meets_regional``."""
    rows = []
    for name, alloc in allocs.items():
        smoe = _stratum_moe(s, alloc)
        for h in s.N.index:
            rows.append(
                {
                    "allocation": name,
                    "stratum": h,
                    "N": int(s.N[h]),
                    "n": int(alloc[h]),
                    "moe": float(smoe.loc[h, "moe"]),
                    "meets_regional": bool(smoe.loc[h, "moe"] <= s.regional_moe),
                }
            )
    return pd.DataFrame(rows)


def allocation_summary(
    s: PlanSetting,
    allocs: Mapping[str, pd.Series],
    size: planning.SampleSize,
    floors: pd.Series,
    key_p: pd.Series,
) -> pd.DataFrame:
    """One row per allocation: sizes, national and widest regional margins, whether they meet
    the targets, and the total each allocation needs for the national margin."""
    rows = []
    for name, alloc in allocs.items():
        smoe = _stratum_moe(s, alloc)
        nat = planning.stratified_moe(
            alloc, p=WORST_CASE_P, strata_sizes=s.N, level=s.level, deff=s.deff
        )
        if name == "recommended":
            start = max(size.n_required, int(floors.sum()))
            n_nat = _n_for_national(s, s.allocation, start, key_p, min_n=floors)
        else:
            n_nat = _n_for_national(s, name, size.n_required, key_p)
        rows.append(
            {
                "allocation": name,
                "n": int(alloc.sum()),
                "min_n": int(alloc.min()),
                "max_n": int(alloc.max()),
                "national_moe": float(nat),
                "max_regional_moe": float(smoe["moe"].max()),
                "meets_national": bool(nat <= s.moe),
                "meets_regional": bool((smoe["moe"] <= s.regional_moe).all()),
                "n_for_national_moe": int(n_nat),
            }
        )
    return pd.DataFrame(rows)


def recommended_table(s: PlanSetting, rec_alloc: pd.Series, floors: pd.Series) -> pd.DataFrame:
    """The recommended design per stratum: sizes, shares, contacts, margin and design weight."""
    N = s.N
    return pd.DataFrame(
        {
            "stratum": N.index.to_numpy(),
            "N": s.frame["N"].to_numpy(),
            "share_of_N": (N / N.sum()).to_numpy(),
            "floor": floors.to_numpy(),
            "n": rec_alloc.to_numpy().astype("int64"),
            "share_of_n": (rec_alloc / rec_alloc.sum()).to_numpy(),
            "n_to_contact": [n_to_contact(v, s.response_rate) for v in rec_alloc],
            "moe": _stratum_moe(s, rec_alloc)["moe"].to_numpy(),
            "weight": (N / rec_alloc).to_numpy(),
        }
    )


# ---------------------------------------------------------------- text and inputs


def assumptions(s: PlanSetting) -> tuple[str, ...]:
    """Every assumption the plan rests on, in words."""
    frame, N = s.frame, s.N
    statuses = sorted(set(frame["status"]))
    out = [
        f"Population: urban residents aged {int(frame['adult_age_min'].iloc[0])}+ from "
        f"frames/strata_frame.csv, frame year {int(frame['frame_year'].iloc[0])} "
        f"(N = {int(N.sum()):,}). Every stratum figure has status "
        f"'{'/'.join(statuses)}': urban shares of several oblasts are pooled or carried across "
        "years and one national adult share is used for all strata (frames/README.md), so the "
        "allocation is only as good as these estimates.",
        f"Design effect {s.deff:.3f}: {s.deff_source}. The same design effect is assumed "
        "within every stratum; a clustered (multi-stage) wave 3 needs a larger one "
        "(pass deff=).",
        f"Response rate {pct(s.response_rate, 0)} (assumed; no response rate was reported for "
        "2007 or 2012): contacts = completed interviews / response rate.",
        f"Margins of error are for a share of {WORST_CASE_P:g} (the widest), at "
        f"{pct(s.level, 0)} confidence, with the finite population correction of the frame.",
        f"Power and minimum detectable changes: two-sided test at level {1 - s.level:g}, normal "
        "approximation with effective sizes n/deff (planning.power_two_proportions); waves are "
        "independent samples. The wave-3 change assumed equals the 2007-2012 change, starting from "
        "the 2012 share.",
        "2007 covered ages 18+, 2012 and wave 3 ages 15+; the 2007-2012 changes mix a change of "
        "attitude with the change of universe, as in the published comparison.",
        *s.base.notes,
    ]
    if int(frame["adult_age_min"].iloc[0]) != 15:
        out.append(
            f"The frame year {int(frame['frame_year'].iloc[0])} counts adults aged "
            f"{int(frame['adult_age_min'].iloc[0])}+, not the 15+ universe of wave 3."
        )
    return tuple(out)


def plan_inputs(s: PlanSetting, *, deff, hold_national_moe: bool) -> Mapping[str, Any]:
    """The options of the plan as run (``deff`` as given), its frame year, baseline source and
    the 2007 and 2012 sample sizes (read-only)."""
    return MappingProxyType(
        {
            "moe": s.moe,
            "level": s.level,
            "regional_moe": s.regional_moe,
            "response_rate": s.response_rate,
            "allocation": s.allocation,
            "power_exponent": float(s.power_exponent),
            "deff": deff,
            "frame_year": int(s.frame["frame_year"].iloc[0]),
            "target_power": s.target_power,
            "key_category": s.key_category,
            "hold_national_moe": bool(hold_national_moe),
            "baseline": s.base.source,
            "n_2007": int(s.base.n[2007]),
            "n_2012": int(s.base.n[2012]),
        }
    )


def baseline_table(s: PlanSetting) -> pd.DataFrame:
    """Shares of every category in 2007 and 2012 and the change (index category)."""
    shares = s.base.shares
    return pd.DataFrame(
        {
            "label": [CATEGORY_LABELS.get(c, c) for c in shares.index],
            "p_2007": shares[2007].to_numpy(),
            "p_2012": shares[2012].to_numpy(),
            "change": (shares[2012] - shares[2007]).to_numpy(),
        },
        index=pd.Index(list(shares.index), name="category"),
    )
