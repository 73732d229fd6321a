"""Steps 3-5 of the wave-3 plan: detecting change between 2012 and wave 3.

:func:`power_table` (power for changes of the 2007-2012 size), :func:`power_n_table` (sizes
needed for the target power), :func:`mde_table` (minimum detectable changes, nationally and per
stratum) and :func:`power_curve_table` (power over a grid of wave-3 sizes); each reads the
:class:`~analyses._wave3_steps.PlanSetting` built by :func:`~analyses._wave3_steps.prepare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveylib import planning
from surveylib.errors import PlanningError

from ._wave3_inputs import CATEGORIES, CHANGES
from ._wave3_steps import PlanSetting

__all__ = ["mde_table", "power_curve_table", "power_n_table", "power_table"]


# -------------------------------------------------------------------------- 3. power


def _repeated_change(s: PlanSetting, cat: str) -> tuple[float, float]:
    """2012 share of ``cat`` and the wave-3 share after the 2007-2012 change once more."""
    shares = s.base.shares
    p12 = float(shares.loc[cat, 2012])
    return p12, float(np.clip(p12 + (p12 - float(shares.loc[cat, 2007])), 0.0, 1.0))


def power_table(s: PlanSetting, n_total: int) -> pd.DataFrame:
    """Power for the 2007-2012-sized changes: 2007 vs 2012 as fielded, and 2012 vs wave 3 at
    2012's n and at the recommended n (the change repeated from the 2012 level)."""
    n07, n12 = s.base.n[2007], s.base.n[2012]
    d07, d12 = s.deff_past[2007], s.deff_past[2012]
    rows = []
    for cat in CHANGES:
        p07 = float(s.base.shares.loc[cat, 2007])
        p12, p3 = _repeated_change(s, cat)
        scenarios = [
            ("2007 vs 2012 (as fielded)", p07, p12, n07, n12, d07, d12),
            (f"2012 vs wave 3 at 2012's n ({n12})", p12, p3, n12, n12, d12, s.deff),
            (f"2012 vs wave 3 at recommended n ({n_total})", p12, p3, n12, n_total, d12, s.deff),
        ]
        for label, p1, p2, n1, n2, e1, e2 in scenarios:
            pw = planning.power_two_proportions(p1, p2, n1, n2, deff1=e1, deff2=e2, level=s.level)
            rows.append(
                {
                    "category": cat,
                    "scenario": label,
                    "p1": p1,
                    "p2": p2,
                    "change": p2 - p1,
                    "n1": int(n1),
                    "n2": int(n2),
                    "deff1": float(e1),
                    "deff2": float(e2),
                    "power": float(pw),
                }
            )
    return pd.DataFrame(rows)


def _n2_for_power(p1, p2, n1, deff1, deff2, level, target, limit) -> float:
    """Smallest wave-3 size n2 reaching ``target`` power against a fixed n1 (NaN: none)."""

    def pw(n2):
        return planning.power_two_proportions(p1, p2, n1, n2, deff1=deff1, deff2=deff2, level=level)

    if pw(limit) < target:
        return float("nan")
    lo, hi = 1, int(limit)
    while lo < hi:
        mid = (lo + hi) // 2
        if pw(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return float(lo)


def power_n_table(s: PlanSetting) -> pd.DataFrame:
    """Interviews needed for ``target_power`` per change: wave 3 against 2012 as fielded, and
    each of two future waves of equal size."""
    rows = []
    for cat in CHANGES:
        p12 = float(s.base.shares.loc[cat, 2012])
        # 2 p12 - p07 (not p12 + (p12 - p07) as in the power table): kept as first computed.
        p3 = float(np.clip(2 * p12 - float(s.base.shares.loc[cat, 2007]), 0.0, 1.0))
        equal = planning.sample_size_two_proportions(
            p12, p3, power=s.target_power, deff1=s.deff, deff2=s.deff, level=s.level
        )
        rows.append(
            {
                "category": cat,
                "p1": p12,
                "p2": p3,
                "change": p3 - p12,
                "n_wave3_vs_2012": _n2_for_power(
                    p12,
                    p3,
                    s.base.n[2012],
                    s.deff_past[2012],
                    s.deff,
                    s.level,
                    s.target_power,
                    int(s.N.sum()),
                ),
                "n_per_wave_equal": int(equal.n1),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------- 4. minimum detectable change


def _areas(s: PlanSetting, rec_alloc: pd.Series, n_total: int) -> list[tuple]:
    """(area, 2012 shares, 2012 n, wave-3 n, observed 2007-2012 change): national, then strata."""
    shares, base = s.base.shares, s.base
    areas = [("National", shares[2012], base.n[2012], n_total, shares[2012] - shares[2007])]
    for h in s.N.index:
        code = int(s.frame.loc[h, "stratum_code"])
        s12 = base.stratum_shares[2012].loc[code]
        s07 = base.stratum_shares[2007].loc[code] if base.source == "microdata" else None
        obs = (s12 - s07) if s07 is not None else pd.Series(np.nan, index=s12.index)
        areas.append((h, s12, int(base.stratum_n[2012].loc[code]), int(rec_alloc[h]), obs))
    return areas


def mde_table(s: PlanSetting, rec_alloc: pd.Series, n_total: int) -> pd.DataFrame:
    """Smallest detectable increase and decrease from the 2012 share, per area x category
    (NaN: not detectable in that direction)."""
    rows = []
    for area, s12, a_n12, a_n3, obs in _areas(s, rec_alloc, n_total):
        for cat in CATEGORIES:
            p1 = float(s12[cat])
            res = {}
            for direction in ("increase", "decrease"):
                try:
                    res[direction] = planning.mde_two_proportions(
                        p1,
                        a_n12,
                        a_n3,
                        power=s.target_power,
                        deff1=s.deff_past[2012],
                        deff2=s.deff,
                        level=s.level,
                        direction=direction,
                    ).effect
                except PlanningError:
                    res[direction] = float("nan")
            rows.append(
                {
                    "area": area,
                    "category": cat,
                    "p_2012": p1,
                    "n_2012": int(a_n12),
                    "n_wave3": int(a_n3),
                    "mde_increase": float(res["increase"]),
                    "mde_decrease": float(res["decrease"]),
                    "observed_change": float(obs[cat]),
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------- 5. power curves


def power_curve_table(s: PlanSetting, n_total: int) -> pd.DataFrame:
    """Power over a grid of wave-3 sizes, against 2012 as fielded and for two equal waves."""
    n12, d12 = s.base.n[2012], s.deff_past[2012]
    top = max(3000, 2 * n_total)
    grid = np.unique(np.concatenate([np.arange(100, top + 1, 50), [n12, n_total]])).astype("int64")
    parts = []
    for cat in CHANGES:
        p12, p3 = _repeated_change(s, cat)
        for comparison, n1, e1 in (
            ("vs 2012 as fielded", np.full(grid.shape, n12), d12),
            ("two waves of equal size", grid, s.deff),
        ):
            pw = planning.power_two_proportions(
                p12, p3, n1, grid, deff1=e1, deff2=s.deff, level=s.level
            )
            parts.append(
                pd.DataFrame(
                    {
                        "category": cat,
                        "comparison": comparison,
                        "p1": p12,
                        "p2": p3,
                        "change": p3 - p12,
                        "n1": n1.astype("int64"),
                        "n2": grid,
                        "power": np.asarray(pw, dtype="float64"),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)
