"""The wave-3 plan as Markdown: one function per section of ``plan.md``.

:func:`render_markdown` is :meth:`PlanResult.to_markdown`; rounding happens here only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._wave3_inputs import CATEGORIES, CATEGORY_LABELS

__all__ = ["pct", "pp", "render_markdown"]


def render_markdown(plan, *, figure: str | None = "power_curve.png") -> str:
    """The plan as Markdown, sections in order (``figure``: the PNG linked from section 5)."""
    sections = (
        _recommendation(plan),
        _assumptions(plan),
        _national_size(plan),
        _allocation(plan),
        _power(plan),
        _minimum_detectable_change(plan),
        _power_curves(plan, figure),
        _baseline(plan),
        _footer(),
    )
    return "\n".join(line for section in sections for line in section)


def _recommendation(plan) -> list[str]:
    i = plan.inputs
    rec = plan.recommended
    rec_row = plan.allocation_summary.set_index("allocation").loc["recommended"]
    return [
        "# Wave-3 sample design: attitudes to migrants from China, urban Kazakhstan (15+)",
        "",
        f"**Recommendation: {plan.n_total} completed interviews "
        f"({plan.n_to_contact} contacts at a {pct(i['response_rate'], 0)} response rate), "
        f"{_allocation_name(i)} allocation with at least {int(rec['floor'].min())} "
        f"interviews per stratum.** National margin of error "
        f"±{pct(rec_row['national_moe'], 2)} (target ±{pct(i['moe'], 2)}), every region "
        f"within ±{pct(rec_row['max_regional_moe'], 2)} (target ±{pct(i['regional_moe'], 2)}), "
        f"at {pct(i['level'], 0)} confidence for a share of 50% and design effect "
        f"{plan.deff:.3f}.",
        "",
    ]


def _assumptions(plan) -> list[str]:
    return [
        "## Assumptions",
        "",
        *[f"* {a}" for a in plan.assumptions],
        "",
    ]


def _national_size(plan) -> list[str]:
    return [
        "## 1. National sample size",
        "",
        "```text",
        str(plan.sample_size),
        "```",
        "",
        f"Total used: **{plan.n_total}** ({plan.n_basis}).",
        "",
    ]


def _allocation(plan) -> list[str]:
    i = plan.inputs
    rec = plan.recommended
    return [
        "## 2. Allocation over the six strata",
        "",
        f"Margins of error at {pct(i['level'], 0)} confidence for a share of 50%, design "
        f"effect {plan.deff:.3f}, finite population correction from the frame. The "
        f"recommended allocation is {_allocation_name(i)} with a floor per stratum: the "
        f"interviews needed for ±{pct(i['regional_moe'], 1)} in that stratum.",
        "",
        _md_table(
            plan.allocation_summary.assign(
                national_moe=lambda d: d["national_moe"].map(lambda v: "±" + pct(v, 2)),
                max_regional_moe=lambda d: d["max_regional_moe"].map(lambda v: "±" + pct(v, 2)),
                meets_national=lambda d: d["meets_national"].map(_yes),
                meets_regional=lambda d: d["meets_regional"].map(_yes),
            ),
            {
                "allocation": "allocation",
                "n": "n",
                "min_n": "smallest n_h",
                "max_n": "largest n_h",
                "national_moe": "national MOE",
                "max_regional_moe": "widest regional MOE",
                "meets_national": f"±{pct(i['moe'], 1)} national",
                "meets_regional": f"±{pct(i['regional_moe'], 1)} every region",
                "n_for_national_moe": f"n for ±{pct(i['moe'], 1)} national",
            },
        ),
        "",
        "Per stratum (n and margin of error):",
        "",
        _md_table(_wide_allocations(plan), None),
        "",
        "Recommended design per stratum:",
        "",
        _md_table(
            rec.assign(
                share_of_n=rec["share_of_n"].map(lambda v: pct(v, 1)),
                share_of_N=rec["share_of_N"].map(lambda v: pct(v, 1)),
                moe=rec["moe"].map(lambda v: "±" + pct(v, 2)),
                weight=rec["weight"].map(lambda v: f"{v:,.0f}"),
                N=rec["N"].map(lambda v: f"{v:,}"),
            ),
            {
                "stratum": "stratum",
                "N": "N (urban 15+)",
                "share_of_N": "% of N",
                "floor": "floor",
                "n": "n",
                "share_of_n": "% of n",
                "n_to_contact": "contacts",
                "moe": "MOE",
                "weight": "design weight",
            },
        ),
        "",
    ]


def _power(plan) -> list[str]:
    i = plan.inputs
    return [
        "## 3. Power to detect changes of the 2007-2012 size",
        "",
        f"Two-sided test at the {pct(1 - i['level'], 0)} level (normal approximation, "
        "effective sizes n/deff). Wave 3 is compared with 2012; the change assumed is the "
        "2007-2012 change repeated from the 2012 level. The first row of each category is "
        "the 2007-2012 comparison itself as fielded.",
        "",
        _md_table(
            plan.power.assign(
                p1=lambda d: d["p1"].map(lambda v: pct(v, 1)),
                p2=lambda d: d["p2"].map(lambda v: pct(v, 1)),
                change=lambda d: d["change"].map(lambda v: pp(v, 1)),
                deff1=lambda d: d["deff1"].map(lambda v: f"{v:.3f}"),
                deff2=lambda d: d["deff2"].map(lambda v: f"{v:.3f}"),
                power=lambda d: d["power"].map(lambda v: f"{v:.3f}"),
            ),
            {
                "category": "category",
                "scenario": "comparison",
                "p1": "p1",
                "p2": "p2",
                "change": "change",
                "n1": "n1",
                "n2": "n2",
                "deff1": "deff1",
                "deff2": "deff2",
                "power": "power",
            },
        ),
        "",
        f"Interviews needed for power {i['target_power']:g}:",
        "",
        _md_table(
            plan.power_n.assign(
                p1=lambda d: d["p1"].map(lambda v: pct(v, 1)),
                p2=lambda d: d["p2"].map(lambda v: pct(v, 1)),
                change=lambda d: d["change"].map(lambda v: pp(v, 1)),
                n_wave3_vs_2012=lambda d: d["n_wave3_vs_2012"].map(
                    lambda v: "not reachable (2012 n too small)" if np.isnan(v) else f"{v:.0f}"
                ),
            ),
            {
                "category": "category",
                "p1": "p1",
                "p2": "p2",
                "change": "change",
                "n_wave3_vs_2012": "wave-3 n against 2012",
                "n_per_wave_equal": "n per wave, two equal waves",
            },
        ),
        "",
    ]


def _minimum_detectable_change(plan) -> list[str]:
    i = plan.inputs
    return [
        f"## 4. Minimum detectable change from 2012 (power {i['target_power']:g})",
        "",
        f"Smallest increase / decrease (percentage points) from the 2012 share detectable "
        f"with power {i['target_power']:g}, comparing 2012 (its achieved n per area) with "
        f"wave 3 (recommended n per area). '-' = not detectable in that direction. "
        "Observed = 2012 minus 2007.",
        "",
        _md_table(_wide_mde(plan), None),
        "",
    ]


def _power_curves(plan, figure: str | None) -> list[str]:
    lines = [
        "## 5. Power curves",
        "",
    ]
    if figure:
        lines += [
            f"![power curves]({figure})",
            "",
        ]
    lines += [
        f"`{figure or 'power_curve.png'}`: power to detect each 2007-2012-sized change "
        f"from the 2012 level as a function of the wave-3 size (solid: against 2012 with its "
        f"n; dashed: two waves of the same size, e.g. wave 3 against a wave 4); vertical "
        f"lines mark 2012's n = {plan.inputs['n_2012']} and the recommended n = "
        f"{plan.n_total}. The data are in `PlanResult.power_curve`.",
        "",
    ]
    return lines


def _baseline(plan) -> list[str]:
    return [
        "## Baseline shares",
        "",
        _md_table(
            plan.baseline.assign(
                p_2007=lambda d: d["p_2007"].map(lambda v: pct(v, 1)),
                p_2012=lambda d: d["p_2012"].map(lambda v: pct(v, 1)),
                change=lambda d: d["change"].map(lambda v: pp(v, 1)),
            ),
            {"label": "category", "p_2007": "2007", "p_2012": "2012", "change": "change"},
        ),
        "",
    ]


def _footer() -> list[str]:
    return [
        "---",
        "Computed by `analyses/wave3_plan.py` with `surveylib.planning` "
        "(sample_size_proportion, allocate, stratum_moe, stratified_moe, "
        "power_two_proportions, mde_two_proportions, deff_from_result); formulas and sources "
        "in docs/planning.md.",
        "",
    ]


def _wide_allocations(plan) -> pd.DataFrame:
    a = plan.allocations
    order = list(dict.fromkeys(a["allocation"]))
    out = pd.DataFrame({"stratum": list(dict.fromkeys(a["stratum"]))})
    out["N"] = a.drop_duplicates("stratum")["N"].map(lambda v: f"{v:,}").to_numpy()
    for name in order:
        part = a[a["allocation"] == name].set_index("stratum").loc[out["stratum"]]
        out[f"{name} n"] = part["n"].to_numpy()
        out[f"{name} MOE"] = ["±" + pct(v, 1) for v in part["moe"]]
    return out


def _wide_mde(plan) -> pd.DataFrame:
    m = plan.mde
    areas = list(dict.fromkeys(m["area"]))
    rows = []
    for cat in CATEGORIES:
        row = {"category": CATEGORY_LABELS.get(cat, cat)}
        for area in areas:
            r = m[(m["area"] == area) & (m["category"] == cat)].iloc[0]
            up = "-" if np.isnan(r["mde_increase"]) else f"+{100 * r['mde_increase']:.1f}"
            down = "-" if np.isnan(r["mde_decrease"]) else f"-{100 * r['mde_decrease']:.1f}"
            row[area] = f"{up} / {down}"
        nat = m[(m["area"] == "National") & (m["category"] == cat)].iloc[0]
        row["observed (national)"] = pp(nat["observed_change"], 1)
        rows.append(row)
    head = {"category": "category (n 2012 -> wave 3)"}
    for area in areas:
        r = m[m["area"] == area].iloc[0]
        head[area] = f"{area} ({int(r['n_2012'])} -> {int(r['n_wave3'])})"
    return pd.DataFrame(rows).rename(columns=head)


# ------------------------------------------------------------------------------ helpers


def pct(v: float, digits: int) -> str:
    return f"{100 * v:.{digits}f}%"


def pp(v: float, digits: int) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{100 * v:+.{digits}f} pp"


def _yes(v: bool) -> str:
    return "yes" if v else "no"


def _allocation_name(inputs: Mapping[str, Any]) -> str:
    if inputs["allocation"] == "power":
        return f"power (N_h^{inputs['power_exponent']:g})"
    return str(inputs["allocation"])


def _md_table(df: pd.DataFrame, columns: Mapping[str, str] | None) -> str:
    if columns is not None:
        df = df[list(columns)].rename(columns=dict(columns))
    head = [str(c) for c in df.columns]
    body = [[_cell(v) for v in row] for row in df.itertuples(index=False)]
    numeric = [all(_looks_numeric(r[j]) for r in body) and bool(body) for j in range(len(head))]
    rule = ["---:" if num else "---" for num in numeric]
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


def _cell(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return _yes(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return "-" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def _looks_numeric(s: str) -> bool:
    t = s.replace(",", "").replace("%", "").replace("±", "").replace(" pp", "").replace("+", "")
    try:
        float(t)
    except ValueError:
        return False
    return True
