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
plan. Run ``python analyses/wave3_plan.py [OUT_DIR]`` to print the plan (and write
``plan.md`` and ``power_curve.png`` into ``OUT_DIR``), or ``surveylib plan --help``.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from surveylib import planning
from surveylib.design import SurveyDesign
from surveylib.errors import AssumptionWarning, PlanningError
from surveylib.instruments import load_codebook
from surveylib.io import read_csv

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
]

REPO = Path(__file__).resolve().parents[1]
FRAME_PATH = REPO / "frames" / "strata_frame.csv"
MICRODATA_DIR = REPO / "microdata"
MICRODATA_FILES = {2007: "kz2007_reconstructed.csv", 2012: "kz2012_reconstructed.csv"}
TARGETS_FILE = "targets.csv"
WAVES = (2007, 2012)

#: Attitude categories planned for: name -> attitude codes counted (1 very good ... 5 very poor).
CATEGORIES: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "very good": (1,),
        "good": (2,),
        "indifferent": (3,),
        "poor": (4,),
        "very poor": (5,),
        "positive": (1, 2),
        "negative": (4, 5),
    }
)
CATEGORY_LABELS = {
    "positive": "positive (very good + good)",
    "negative": "negative (poor + very poor)",
}
#: The 2007 -> 2012 changes whose size the plan must be able to detect.
CHANGES = ("poor", "indifferent", "positive")
ALLOCATIONS = ("proportional", "neyman", "power", "equal")
BASELINES = ("auto", "microdata", "published")
#: Deff estimates below this are not carried into the plan (see :func:`_planning_deff`).
DEFF_FLOOR = 1.0
WORST_CASE_P = 0.5


# ------------------------------------------------------------------------------ inputs


def load_frame(
    path: str | os.PathLike[str] | None = None, year: int | str = "latest"
) -> pd.DataFrame:
    """The stratum frame of one frame year, indexed by stratum name in stratum-code order.

    Returns columns ``stratum_code``, ``N`` (urban adult population), ``urban_pop_total``,
    ``adult_age_min``, ``status``, ``frame_year``.
    """
    path = Path(FRAME_PATH if path is None else path)
    if not path.exists():
        raise PlanningError(
            f"frame file {path} not found; regenerate it with `python frames/build_frames.py` "
            "or pass frame_path=."
        )
    frame = pd.read_csv(path)
    years = sorted(int(y) for y in frame["frame_year"].unique())
    if year == "latest":
        year = years[-1]
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise PlanningError(
            f"frame_year={year!r} is not a year; give one of {years} or 'latest'."
        ) from None
    if year not in years:
        raise PlanningError(
            f"frame_year={year} is not in {path.name}; give one of {years} or 'latest'."
        )
    sub = frame[frame["frame_year"] == year].sort_values("stratum_code")
    out = pd.DataFrame(
        {
            "stratum_code": sub["stratum_code"].astype("int64").to_numpy(),
            "N": sub["urban_pop_adult"].astype("int64").to_numpy(),
            "urban_pop_total": sub["urban_pop_total"].astype("int64").to_numpy(),
            "adult_age_min": sub["adult_age_min"].astype("int64").to_numpy(),
            "status": sub["status"].astype(str).to_numpy(),
            "frame_year": year,
        },
        index=pd.Index(sub["stratum"].astype(str).to_numpy(), name="stratum"),
    )
    return out


@dataclass(frozen=True, eq=False)
class Baseline:
    """Attitude shares of the past waves, the planning inputs taken from them.

    Attributes
    ----------
    source : str
        ``"microdata"`` (design-based estimates from the reconstructed files) or
        ``"published"`` (Table 7.1 totals from ``microdata/targets.csv``).
    shares : pandas.DataFrame
        National share of every category in :data:`CATEGORIES`; index category, columns waves.
    n : Mapping
        Completed interviews with a valid attitude answer, per wave.
    stratum_shares : Mapping
        Per wave, a DataFrame indexed by stratum code with one column per category.
    stratum_n : Mapping
        Per wave, a Series of valid answers per stratum code.
    deff : Mapping
        Per wave, the :class:`~surveylib.planning.DeffSummary` of the design effects of the five
        attitude shares, or ``None`` when no microdata were used.
    notes : tuple of str
        Assumptions made in building the baseline.
    """

    source: str
    shares: pd.DataFrame
    n: Mapping[int, int]
    stratum_shares: Mapping[int, pd.DataFrame]
    stratum_n: Mapping[int, pd.Series]
    deff: Mapping[int, planning.DeffSummary | None]
    notes: tuple[str, ...]


def _category_shares(level_share: Mapping[int, float]) -> dict[str, float]:
    return {
        c: float(sum(level_share.get(k, 0.0) for k in codes)) for c, codes in CATEGORIES.items()
    }


def _wave_from_microdata(path: Path, wave: int):
    cb = load_codebook(wave)
    data = cb.missing_to_na(read_csv(path, codebook=cb))
    design = SurveyDesign(data, strata="stratum", weights="weight", fpc="fpc")
    national = design.proportion("attitude", na_rm=True)
    levels = {int(float(k[-1])): float(v) for k, v in national.estimate.items()}
    by = design.proportion("attitude", by="stratum", na_rm=True).to_frame()
    by["level"] = by["level"].astype(float).astype("int64")
    by["stratum"] = by["stratum"].astype(float).astype("int64")
    per_stratum = {
        int(h): _category_shares(dict(zip(part["level"], part["estimate"], strict=True)))
        for h, part in by.groupby("stratum", sort=True)
    }
    valid = data["attitude"].notna()
    stratum_n = data.loc[valid].groupby("stratum").size().astype("int64")
    stratum_n.index = stratum_n.index.astype("int64")
    return (
        _category_shares(levels),
        int(valid.sum()),
        pd.DataFrame.from_dict(per_stratum, orient="index")[list(CATEGORIES)],
        stratum_n,
        planning.deff_from_result(national),
    )


def _published_shares(targets_path: Path) -> dict[int, dict[str, float]]:
    if not targets_path.exists():
        raise PlanningError(
            f"published targets file {targets_path} not found; regenerate it with "
            "`surveylib reconstruct targets --from shared/seeds/published_targets.csv`."
        )
    t = pd.read_csv(targets_path, dtype=str, keep_default_na=False)
    rows = t[(t["variable"] == "attitude") & (t["domain_var"] == "") & (t["statistic"] == "share")]
    out: dict[int, dict[str, float]] = {}
    for wave in WAVES:
        w = rows[rows["wave"] == str(wave)].drop_duplicates("level")
        level_share = {lvl: float(v) / 100.0 for lvl, v in zip(w["level"], w["value"], strict=True)}
        shares = {}
        for c, codes in CATEGORIES.items():
            key = "|".join(str(k) for k in codes)
            if key in level_share:
                shares[c] = level_share[key]
            elif all(str(k) in level_share for k in codes):
                shares[c] = sum(level_share[str(k)] for k in codes)
            else:
                raise PlanningError(
                    f"{targets_path.name} has no {wave} share for attitude level {key!r}."
                )
        out[wave] = shares
    return out


def load_baseline(
    *,
    baseline: str = "auto",
    microdata_dir: str | os.PathLike[str] | None = None,
    frames: Mapping[int, pd.DataFrame] | None = None,
    frame_path: str | os.PathLike[str] | None = None,
) -> Baseline:
    """Shares, sample sizes and design effects of 2007 and 2012.

    ``baseline="microdata"`` estimates them from ``microdata/kz{2007,2012}_reconstructed.csv``
    with the stratified design (strata ``stratum``, weights ``weight``, fpc ``fpc``);
    ``"published"`` takes the Table 7.1 totals (``microdata/targets.csv``) with the codebook
    sample sizes, spreads each wave's sample proportionally over its frame and assumes the
    national shares in every stratum; ``"auto"`` uses the microdata when both files exist and
    otherwise falls back to the published table with an :class:`AssumptionWarning`.
    """
    if baseline not in BASELINES:
        raise PlanningError(f"baseline={baseline!r} is not one of {list(BASELINES)}.")
    folder = Path(MICRODATA_DIR if microdata_dir is None else microdata_dir)
    paths = {w: folder / f for w, f in MICRODATA_FILES.items()}
    have = all(p.exists() for p in paths.values())
    if baseline == "microdata" and not have:
        missing = [str(p) for p in paths.values() if not p.exists()]
        raise PlanningError(
            f"microdata file(s) {missing} not found; run `surveylib reconstruct` or use "
            "baseline='published' (Table 7.1 shares, deff 1)."
        )
    if baseline == "microdata" or (baseline == "auto" and have):
        shares, n, st_shares, st_n, deff = {}, {}, {}, {}, {}
        for w in WAVES:
            shares[w], n[w], st_shares[w], st_n[w], deff[w] = _wave_from_microdata(paths[w], w)
        notes = (
            "Baseline shares, sample sizes and design effects are design-based estimates from the "
            "reconstructed microdata ("
            + ", ".join(f"microdata/{MICRODATA_FILES[w]}" for w in WAVES)
            + "): stratified design, weights N_h/n_h, fpc N_h; the files are a reconstruction "
            "consistent with the published tables, not the original data.",
        )
        return Baseline(
            "microdata",
            pd.DataFrame(shares)[list(WAVES)].rename_axis("category"),
            MappingProxyType(n),
            MappingProxyType(st_shares),
            MappingProxyType(st_n),
            MappingProxyType(deff),
            notes,
        )
    if baseline == "auto":
        warnings.warn(
            f"reconstructed microdata not found in {folder}: using the published Table 7.1 "
            "shares with design effect 1 and proportional stratum samples.",
            AssumptionWarning,
            stacklevel=2,
        )
    published = _published_shares(folder / TARGETS_FILE)
    frames = dict(frames or {})
    shares, n, st_shares, st_n = {}, {}, {}, {}
    for w in WAVES:
        shares[w] = published[w]
        n[w] = int(load_codebook(w).n)
        fr = frames.get(w)
        if fr is None:
            fr = load_frame(frame_path, w)
        alloc = planning.allocate(n[w], fr.set_index("stratum_code")["N"], method="proportional")
        st_n[w] = alloc.astype("int64").rename(None)
        st_shares[w] = pd.DataFrame([published[w]] * len(fr), index=fr["stratum_code"].to_numpy())
    notes = (
        "Baseline shares are the published Table 7.1 totals (microdata/targets.csv); the "
        "reconstructed microdata were not used.",
        "Per-stratum 2007/2012 sample sizes are a proportional allocation of the published n over "
        "the frame of that year, and every stratum is assumed to have the national shares "
        "(regional shares are not published), so Neyman allocation equals proportional.",
    )
    return Baseline(
        "published",
        pd.DataFrame(shares)[list(WAVES)].rename_axis("category"),
        MappingProxyType(n),
        MappingProxyType(st_shares),
        MappingProxyType(st_n),
        MappingProxyType({w: None for w in WAVES}),
        notes,
    )


def _planning_deff(summary: planning.DeffSummary | None, how: str) -> tuple[float, str]:
    """Design effect for planning from a past wave's deff summary (``how`` = mean or max)."""
    if summary is None:
        return 1.0, "assumed 1 (simple random sampling): no microdata, so no design effect estimate"
    raw = float(getattr(summary, how))
    text = (
        f"{how} of the design effects of the {summary.count} attitude shares of 2012 "
        f"(stratified design, range {summary.min:.3f}-{summary.max:.3f}) = {raw:.3f}"
    )
    if raw < DEFF_FLOOR:
        return DEFF_FLOOR, (
            text + f"; below {DEFF_FLOOR:g}, so {DEFF_FLOOR:g} is used: the 2012 gain came from "
            "stratification with near-proportional allocation and does not carry to a "
            "disproportionate allocation or to estimates within one stratum"
        )
    return raw, text


# ------------------------------------------------------------------------------ result


@dataclass(frozen=True, eq=False)
class PlanResult:
    """The recommended wave-3 design and the tables behind it.

    Attributes
    ----------
    inputs : Mapping
        The arguments of :func:`run` (read-only).
    deff : float
        Design effect used throughout; ``deff_source`` says where it comes from.
    sample_size : surveylib.planning.SampleSize
        National size for the target margin of error (``p = 0.5``).
    n_total : int
        Recommended completed interviews: ``sample_size.n_required``, or the sum of the regional
        floors when that is larger (``n_basis`` says which).
    n_to_contact : int
        Units to contact at the assumed response rate.
    frame : DataFrame
        Stratum frame used (index stratum).
    baseline : DataFrame
        Shares of every category in 2007 and 2012 and the change: index category (a key of
        :data:`CATEGORIES`), columns ``label, p_2007, p_2012, change``.
    allocations : DataFrame
        One row per allocation x stratum: ``allocation, stratum, N, n, moe, meets_regional``.
    allocation_summary : DataFrame
        One row per allocation: ``allocation, n, min_n, max_n, national_moe,
        max_regional_moe, meets_national, meets_regional, n_for_national_moe``.
    recommended : DataFrame
        The recommended allocation: ``stratum, N, floor, n, n_to_contact, share_of_n,
        share_of_N, moe, weight``.
    power : DataFrame
        One row per change x scenario: ``category, scenario, p1, p2, change, n1, n2, deff1,
        deff2, power``.
    power_n : DataFrame
        Interviews needed for the target power, per change: ``category, p1, p2, change,
        n_wave3_vs_2012`` (wave-3 size against 2012 as fielded; NaN when even a census of
        wave 3 cannot reach it because 2012's sample is too small) and ``n_per_wave_equal``
        (each of two future waves of equal size).
    mde : DataFrame
        One row per area x category: ``area, category, p_2012, n_2012, n_wave3, mde_increase,
        mde_decrease, observed_change``.
    power_curve : DataFrame
        ``category, comparison, p1, p2, change, n1, n2, power`` over a grid of wave-3 sizes.
    assumptions : tuple of str
        Every assumption the plan rests on.
    """

    inputs: Mapping[str, Any]
    deff: float
    deff_source: str
    sample_size: planning.SampleSize
    n_total: int
    n_basis: str
    n_to_contact: int
    frame: pd.DataFrame
    baseline: pd.DataFrame
    allocations: pd.DataFrame
    allocation_summary: pd.DataFrame
    recommended: pd.DataFrame
    power: pd.DataFrame
    power_n: pd.DataFrame
    mde: pd.DataFrame
    power_curve: pd.DataFrame
    assumptions: tuple[str, ...]

    def __str__(self) -> str:
        return self.to_markdown()

    # ----- display -------------------------------------------------------------------------
    def to_markdown(self, *, figure: str | None = "power_curve.png") -> str:
        """The plan as Markdown (rounding happens here only)."""
        i = self.inputs
        pct = _pct
        rec = self.recommended
        summ = self.allocation_summary.set_index("allocation")
        rec_row = summ.loc["recommended"]
        lines = [
            "# Wave-3 sample design: attitudes to migrants from China, urban Kazakhstan (15+)",
            "",
            f"**Recommendation: {self.n_total} completed interviews "
            f"({self.n_to_contact} contacts at a {pct(i['response_rate'], 0)} response rate), "
            f"{_allocation_name(i)} allocation with at least {int(rec['floor'].min())} "
            f"interviews per stratum.** National margin of error "
            f"±{pct(rec_row['national_moe'], 2)} (target ±{pct(i['moe'], 2)}), every region "
            f"within ±{pct(rec_row['max_regional_moe'], 2)} (target ±{pct(i['regional_moe'], 2)}), "
            f"at {pct(i['level'], 0)} confidence for a share of 50% and design effect "
            f"{self.deff:.3f}.",
            "",
            "## Assumptions",
            "",
            *[f"* {a}" for a in self.assumptions],
            "",
            "## 1. National sample size",
            "",
            "```text",
            str(self.sample_size),
            "```",
            "",
            f"Total used: **{self.n_total}** ({self.n_basis}).",
            "",
            "## 2. Allocation over the six strata",
            "",
            f"Margins of error at {pct(i['level'], 0)} confidence for a share of 50%, design "
            f"effect {self.deff:.3f}, finite population correction from the frame. The "
            f"recommended allocation is {_allocation_name(i)} with a floor per stratum: the "
            f"interviews needed for ±{pct(i['regional_moe'], 1)} in that stratum.",
            "",
            _md_table(
                self.allocation_summary.assign(
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
            _md_table(self._wide_allocations(), None),
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
            "## 3. Power to detect changes of the 2007-2012 size",
            "",
            f"Two-sided test at the {pct(1 - i['level'], 0)} level (normal approximation, "
            "effective sizes n/deff). Wave 3 is compared with 2012; the change assumed is the "
            "2007-2012 change repeated from the 2012 level. The first row of each category is "
            "the 2007-2012 comparison itself as fielded.",
            "",
            _md_table(
                self.power.assign(
                    p1=lambda d: d["p1"].map(lambda v: pct(v, 1)),
                    p2=lambda d: d["p2"].map(lambda v: pct(v, 1)),
                    change=lambda d: d["change"].map(lambda v: _pp(v, 1)),
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
                self.power_n.assign(
                    p1=lambda d: d["p1"].map(lambda v: pct(v, 1)),
                    p2=lambda d: d["p2"].map(lambda v: pct(v, 1)),
                    change=lambda d: d["change"].map(lambda v: _pp(v, 1)),
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
            f"## 4. Minimum detectable change from 2012 (power {i['target_power']:g})",
            "",
            f"Smallest increase / decrease (percentage points) from the 2012 share detectable "
            f"with power {i['target_power']:g}, comparing 2012 (its achieved n per area) with "
            f"wave 3 (recommended n per area). '-' = not detectable in that direction. "
            "Observed = 2012 minus 2007.",
            "",
            _md_table(self._wide_mde(), None),
            "",
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
            f"lines mark 2012's n = {self.inputs['n_2012']} and the recommended n = "
            f"{self.n_total}. The data are in `PlanResult.power_curve`.",
            "",
            "## Baseline shares",
            "",
            _md_table(
                self.baseline.assign(
                    p_2007=lambda d: d["p_2007"].map(lambda v: pct(v, 1)),
                    p_2012=lambda d: d["p_2012"].map(lambda v: pct(v, 1)),
                    change=lambda d: d["change"].map(lambda v: _pp(v, 1)),
                ),
                {"label": "category", "p_2007": "2007", "p_2012": "2012", "change": "change"},
            ),
            "",
            "---",
            "Computed by `analyses/wave3_plan.py` with `surveylib.planning` "
            "(sample_size_proportion, allocate, stratum_moe, stratified_moe, "
            "power_two_proportions, mde_two_proportions, deff_from_result); formulas and sources "
            "in docs/planning.md.",
            "",
        ]
        return "\n".join(lines)

    def _wide_allocations(self) -> pd.DataFrame:
        a = self.allocations
        order = list(dict.fromkeys(a["allocation"]))
        out = pd.DataFrame({"stratum": list(dict.fromkeys(a["stratum"]))})
        out["N"] = a.drop_duplicates("stratum")["N"].map(lambda v: f"{v:,}").to_numpy()
        for name in order:
            part = a[a["allocation"] == name].set_index("stratum").loc[out["stratum"]]
            out[f"{name} n"] = part["n"].to_numpy()
            out[f"{name} MOE"] = ["±" + _pct(v, 1) for v in part["moe"]]
        return out

    def _wide_mde(self) -> pd.DataFrame:
        m = self.mde
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
            row["observed (national)"] = _pp(nat["observed_change"], 1)
            rows.append(row)
        head = {"category": "category (n 2012 -> wave 3)"}
        for area in areas:
            r = m[m["area"] == area].iloc[0]
            head[area] = f"{area} ({int(r['n_2012'])} -> {int(r['n_wave3'])})"
        return pd.DataFrame(rows).rename(columns=head)

    # ----- figure and files ----------------------------------------------------------------
    def plot(self):
        """Power curves as a :class:`matplotlib.figure.Figure` (not registered with pyplot)."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.5, 4.8))
        ax = fig.add_subplot()
        c = self.power_curve
        colours = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange"]
        for k, cat in enumerate(dict.fromkeys(c["category"])):
            colour = colours[k % len(colours)]
            for comp, style in zip(dict.fromkeys(c["comparison"]), ("-", "--"), strict=False):
                part = c[(c["category"] == cat) & (c["comparison"] == comp)].sort_values("n2")
                label = None
                if style == "-":
                    first = part.iloc[0]
                    label = (
                        f"{cat}: {100 * first['p1']:.0f}% -> {100 * first['p2']:.0f}% "
                        f"({100 * first['change']:+.0f} pp)"
                    )
                ax.plot(part["n2"], part["power"], style, color=colour, label=label)
        ax.axhline(self.inputs["target_power"], color="grey", linestyle=":", linewidth=1)
        for n, text in ((self.inputs["n_2012"], "2012 n"), (self.n_total, "recommended n")):
            ax.axvline(n, color="black", linestyle=":", linewidth=1)
            ax.annotate(text, (n, 0.02), rotation=90, fontsize="small", ha="right", va="bottom")
        ax.set_xlabel("wave-3 completed interviews")
        ax.set_ylabel("power")
        ax.set_ylim(0, 1.02)
        ax.set_title(
            "Power to detect a 2007-2012-sized change from 2012\n"
            "(solid: vs 2012 as fielded; dashed: two waves of equal size)",
            fontsize="medium",
        )
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        return fig

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``plan.md`` and ``power_curve.png`` into ``out_dir`` (created if absent).

        Both files are written atomically and are byte-identical from run to run.
        """
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        png = folder / "power_curve.png"
        md = folder / "plan.md"
        fig = self.plot()
        _atomic(
            png, lambda tmp: fig.savefig(tmp, format="png", dpi=120, metadata={"Software": None})
        )
        text = self.to_markdown(figure=png.name)
        _atomic(md, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        return {"plan": md, "figure": png}


# ------------------------------------------------------------------------------ helpers


def _pct(v: float, digits: int) -> str:
    return f"{100 * v:.{digits}f}%"


def _pp(v: float, digits: int) -> str:
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


def _atomic(path: Path, writer) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_fraction(name: str, value, *, upper_open: bool = True, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PlanningError(f"{name}={value!r} must be a number, e.g. {example}.")
    v = float(value)
    ok = 0 < v < 1 if upper_open else 0 < v <= 1
    if not math.isfinite(v) or not ok:
        interval = "(0, 1)" if upper_open else "(0, 1]"
        raise PlanningError(f"{name}={value!r} must be in {interval}, e.g. {example}.")
    return v


def _regional_floors(N: pd.Series, regional_moe, level, deff) -> pd.Series:
    """Interviews needed in each stratum for the regional margin of error (worst case p)."""
    return pd.Series(
        {
            h: planning.sample_size_proportion(
                WORST_CASE_P, regional_moe, level=level, deff=deff, N=float(N[h])
            ).n_required
            for h in N.index
        },
        name="floor",
        dtype="int64",
    )


def _allocate(method, n, N, *, key_p, power_exponent, min_n=None) -> pd.Series:
    kwargs: dict[str, Any] = {"method": method}
    if method == "neyman":
        kwargs["p"] = key_p
    if method == "power":
        kwargs["power_exponent"] = power_exponent
    if min_n is not None:
        kwargs["min_n"] = min_n
    return planning.allocate(n, N, **kwargs)


def _n_for_national(method, n_start, N, moe, level, deff, **kw) -> int:
    """Smallest n >= n_start whose allocation meets the national margin of error (-1: none)."""
    limit = int(N.sum())
    for n in range(int(n_start), limit + 1):
        alloc = _allocate(method, n, N, **kw)
        nat = planning.stratified_moe(alloc, p=WORST_CASE_P, strata_sizes=N, level=level, deff=deff)
        if nat <= moe:
            return n
    return -1


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


# --------------------------------------------------------------------------------- run


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
    code_to_name = dict(zip(frame["stratum_code"], frame.index, strict=True))

    # ---- design effect
    if deff is None or isinstance(deff, str):
        how = "mean" if deff is None else deff
        deff_value, deff_source = _planning_deff(base.deff[2012], how)
        deff_past = {w: _planning_deff(base.deff[w], how)[0] for w in WAVES}
    else:
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
        deff_value = float(deff)
        deff_source = "given by the user"
        deff_past = {w: _planning_deff(base.deff[w], "mean")[0] for w in WAVES}

    # ---- 1. national sample size
    N = frame["N"].astype("float64")
    size = planning.sample_size_proportion(
        WORST_CASE_P,
        moe,
        level=level,
        deff=deff_value,
        N=float(N.sum()),
        response_rate=response_rate,
    )
    floors = _regional_floors(N, regional_moe, level, deff_value)
    if int(floors.sum()) > size.n_required:
        n_total = int(floors.sum())
        n_basis = (
            f"the regional floors add to {n_total}, more than the {size.n_required} needed "
            "nationally"
        )
    else:
        n_total = size.n_required
        n_basis = "the national size; the regional floors fit within it"

    # ---- 2. allocations
    key_p = base.stratum_shares[2012][key_category].rename(index=code_to_name).reindex(N.index)
    if key_p.isna().any():
        raise PlanningError(
            f"2012 baseline has no share of {key_category!r} for stratum "
            f"{key_p.index[key_p.isna()][0]!r}; check the stratum codes of the microdata."
        )
    kw = {"key_p": key_p, "power_exponent": power_exponent}
    if hold_national_moe:
        n_hold = _n_for_national(allocation, n_total, N, moe, level, deff_value, min_n=floors, **kw)
        if n_hold < 0:
            raise PlanningError(
                f"no sample smaller than the population meets moe={moe:g} with the "
                f"{allocation} allocation; accept a larger moe."
            )
        if n_hold > n_total:
            n_basis = (
                f"raised from {n_total} to {n_hold}, the smallest total at which the "
                f"recommended {allocation} allocation with regional floors still meets "
                f"±{_pct(moe, 1)} nationally: its unequal weights widen the national margin"
            )
            n_total = n_hold
    n_to_contact = math.ceil(n_total / response_rate * (1 - 1e-12))
    allocs = {m: _allocate(m, n_total, N, **kw) for m in ("proportional", "neyman", "power")}
    allocs["recommended"] = _allocate(allocation, n_total, N, min_n=floors, **kw)
    long_rows, summary_rows = [], []
    for name, alloc in allocs.items():
        smoe = planning.stratum_moe(
            alloc, p=WORST_CASE_P, strata_sizes=N, level=level, deff=deff_value
        )
        nat = planning.stratified_moe(
            alloc, p=WORST_CASE_P, strata_sizes=N, level=level, deff=deff_value
        )
        for h in N.index:
            long_rows.append(
                {
                    "allocation": name,
                    "stratum": h,
                    "N": int(N[h]),
                    "n": int(alloc[h]),
                    "moe": float(smoe.loc[h, "moe"]),
                    "meets_regional": bool(smoe.loc[h, "moe"] <= regional_moe),
                }
            )
        if name == "recommended":
            n_nat = _n_for_national(
                allocation,
                max(size.n_required, int(floors.sum())),
                N,
                moe,
                level,
                deff_value,
                min_n=floors,
                **kw,
            )
        else:
            n_nat = _n_for_national(name, size.n_required, N, moe, level, deff_value, **kw)
        summary_rows.append(
            {
                "allocation": name,
                "n": int(alloc.sum()),
                "min_n": int(alloc.min()),
                "max_n": int(alloc.max()),
                "national_moe": float(nat),
                "max_regional_moe": float(smoe["moe"].max()),
                "meets_national": bool(nat <= moe),
                "meets_regional": bool((smoe["moe"] <= regional_moe).all()),
                "n_for_national_moe": int(n_nat),
            }
        )
    allocations = pd.DataFrame(long_rows)
    allocation_summary = pd.DataFrame(summary_rows)
    rec_alloc = allocs["recommended"]
    rec_moe = planning.stratum_moe(
        rec_alloc, p=WORST_CASE_P, strata_sizes=N, level=level, deff=deff_value
    )
    recommended = pd.DataFrame(
        {
            "stratum": N.index.to_numpy(),
            "N": frame["N"].to_numpy(),
            "share_of_N": (N / N.sum()).to_numpy(),
            "floor": floors.to_numpy(),
            "n": rec_alloc.to_numpy().astype("int64"),
            "share_of_n": (rec_alloc / rec_alloc.sum()).to_numpy(),
            "n_to_contact": [math.ceil(v / response_rate * (1 - 1e-12)) for v in rec_alloc],
            "moe": rec_moe["moe"].to_numpy(),
            "weight": (N / rec_alloc).to_numpy(),
        }
    )

    # ---- 3. power for 2007 -> 2012-sized changes
    n07, n12 = base.n[2007], base.n[2012]
    d07, d12 = deff_past[2007], deff_past[2012]
    shares = base.shares
    power_rows = []
    for cat in CHANGES:
        p07, p12 = float(shares.loc[cat, 2007]), float(shares.loc[cat, 2012])
        change = p12 - p07
        p3 = float(np.clip(p12 + change, 0.0, 1.0))
        scenarios = [
            ("2007 vs 2012 (as fielded)", p07, p12, n07, n12, d07, d12),
            (f"2012 vs wave 3 at 2012's n ({n12})", p12, p3, n12, n12, d12, deff_value),
            (
                f"2012 vs wave 3 at recommended n ({n_total})",
                p12,
                p3,
                n12,
                n_total,
                d12,
                deff_value,
            ),
        ]
        for label, p1, p2, n1, n2, e1, e2 in scenarios:
            pw = planning.power_two_proportions(p1, p2, n1, n2, deff1=e1, deff2=e2, level=level)
            power_rows.append(
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
    power = pd.DataFrame(power_rows)
    need_rows = []
    for cat in CHANGES:
        p12 = float(shares.loc[cat, 2012])
        p3 = float(np.clip(2 * p12 - float(shares.loc[cat, 2007]), 0.0, 1.0))
        equal = planning.sample_size_two_proportions(
            p12, p3, power=target_power, deff1=deff_value, deff2=deff_value, level=level
        )
        need_rows.append(
            {
                "category": cat,
                "p1": p12,
                "p2": p3,
                "change": p3 - p12,
                "n_wave3_vs_2012": _n2_for_power(
                    p12, p3, n12, d12, deff_value, level, target_power, int(N.sum())
                ),
                "n_per_wave_equal": int(equal.n1),
            }
        )
    power_n = pd.DataFrame(need_rows)

    # ---- 4. minimum detectable effects, national and per region
    areas = [("National", shares[2012], n12, n_total, shares[2012] - shares[2007])]
    for h in N.index:
        code = int(frame.loc[h, "stratum_code"])
        s12 = base.stratum_shares[2012].loc[code]
        s07 = base.stratum_shares[2007].loc[code] if base.source == "microdata" else None
        obs = (s12 - s07) if s07 is not None else pd.Series(np.nan, index=s12.index)
        areas.append((h, s12, int(base.stratum_n[2012].loc[code]), int(rec_alloc[h]), obs))
    mde_rows = []
    for area, s12, a_n12, a_n3, obs in areas:
        for cat in CATEGORIES:
            p1 = float(s12[cat])
            res = {}
            for direction in ("increase", "decrease"):
                try:
                    res[direction] = planning.mde_two_proportions(
                        p1,
                        a_n12,
                        a_n3,
                        power=target_power,
                        deff1=d12,
                        deff2=deff_value,
                        level=level,
                        direction=direction,
                    ).effect
                except PlanningError:
                    res[direction] = float("nan")
            mde_rows.append(
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
    mde = pd.DataFrame(mde_rows)

    # ---- 5. power curves over the wave-3 size
    top = max(3000, 2 * n_total)
    grid = np.unique(np.concatenate([np.arange(100, top + 1, 50), [n12, n_total]])).astype("int64")
    curve_rows = []
    for cat in CHANGES:
        p12 = float(shares.loc[cat, 2012])
        change = p12 - float(shares.loc[cat, 2007])
        p3 = float(np.clip(p12 + change, 0.0, 1.0))
        for comparison, n1, e1 in (
            ("vs 2012 as fielded", np.full(grid.shape, n12), d12),
            ("two waves of equal size", grid, deff_value),
        ):
            pw = planning.power_two_proportions(
                p12, p3, n1, grid, deff1=e1, deff2=deff_value, level=level
            )
            curve_rows.append(
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
    power_curve = pd.concat(curve_rows, ignore_index=True)

    # ---- assumptions, stated
    statuses = sorted(set(frame["status"]))
    assumptions = [
        f"Population: urban residents aged {int(frame['adult_age_min'].iloc[0])}+ from "
        f"frames/strata_frame.csv, frame year {int(frame['frame_year'].iloc[0])} "
        f"(N = {int(N.sum()):,}). Every stratum figure has status "
        f"'{'/'.join(statuses)}': urban shares of several oblasts are pooled or carried across "
        "years and one national adult share is used for all strata (frames/README.md), so the "
        "allocation is only as good as these estimates.",
        f"Design effect {deff_value:.3f}: {deff_source}. The same design effect is assumed "
        "within every stratum; a clustered (multi-stage) wave 3 needs a larger one "
        "(pass deff=).",
        f"Response rate {_pct(response_rate, 0)} (assumed; no response rate was reported for 2007 "
        "or 2012): contacts = completed interviews / response rate.",
        f"Margins of error are for a share of {WORST_CASE_P:g} (the widest), at "
        f"{_pct(level, 0)} confidence, with the finite population correction of the frame.",
        f"Power and minimum detectable changes: two-sided test at level {1 - level:g}, normal "
        "approximation with effective sizes n/deff (planning.power_two_proportions); waves are "
        "independent samples. The wave-3 change assumed equals the 2007-2012 change, starting from "
        "the 2012 share.",
        "2007 covered ages 18+, 2012 and wave 3 ages 15+; the 2007-2012 changes mix a change of "
        "attitude with the change of universe, as in the published comparison.",
        *base.notes,
    ]
    if int(frame["adult_age_min"].iloc[0]) != 15:
        assumptions.append(
            f"The frame year {int(frame['frame_year'].iloc[0])} counts adults aged "
            f"{int(frame['adult_age_min'].iloc[0])}+, not the 15+ universe of wave 3."
        )

    inputs = MappingProxyType(
        {
            "moe": moe,
            "level": level,
            "regional_moe": regional_moe,
            "response_rate": response_rate,
            "allocation": allocation,
            "power_exponent": float(power_exponent),
            "deff": deff,
            "frame_year": int(frame["frame_year"].iloc[0]),
            "target_power": target_power,
            "key_category": key_category,
            "hold_national_moe": bool(hold_national_moe),
            "baseline": base.source,
            "n_2007": int(n07),
            "n_2012": int(n12),
        }
    )
    baseline_table = pd.DataFrame(
        {
            "label": [CATEGORY_LABELS.get(c, c) for c in shares.index],
            "p_2007": shares[2007].to_numpy(),
            "p_2012": shares[2012].to_numpy(),
            "change": (shares[2012] - shares[2007]).to_numpy(),
        },
        index=pd.Index(list(shares.index), name="category"),
    )
    result = PlanResult(
        inputs=inputs,
        deff=float(deff_value),
        deff_source=deff_source,
        sample_size=size,
        n_total=int(n_total),
        n_basis=n_basis,
        n_to_contact=int(n_to_contact),
        frame=frame,
        baseline=baseline_table,
        allocations=allocations,
        allocation_summary=allocation_summary,
        recommended=recommended,
        power=power,
        power_n=power_n,
        mde=mde,
        power_curve=power_curve,
        assumptions=tuple(assumptions),
    )
    if out_dir is not None:
        result.write(out_dir)
    return result


if __name__ == "__main__":  # pragma: no cover
    plan = run(out_dir=sys.argv[1] if len(sys.argv) > 1 else None)
    print(plan.to_markdown())
