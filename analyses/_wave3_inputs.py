"""Inputs of the wave-3 plan: the stratum frame, the 2007/2012 baseline and its design effects.

:func:`load_frame` reads one frame year of ``frames/strata_frame.csv``; :func:`load_baseline`
estimates the attitude shares, sample sizes and design effects of the past waves from the
reconstructed microdata (or takes the published Table 7.1 shares); :func:`planning_deff` turns a
past wave's design effects into the design effect the plan uses. The categories planned for and
the other constants of the plan are defined here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from surveylib import planning
from surveylib.design import SurveyDesign
from surveylib.errors import AssumptionWarning, PlanningError
from surveylib.instruments import load_codebook
from surveylib.io import read_csv
from surveylib.study import locate

__all__ = [
    "ALLOCATIONS",
    "BASELINES",
    "CATEGORIES",
    "CATEGORY_LABELS",
    "CHANGES",
    "DEFF_FLOOR",
    "FRAME_PATH",
    "MICRODATA_DIR",
    "MICRODATA_FILES",
    "STUDY",
    "TARGETS_FILE",
    "WAVES",
    "WORST_CASE_P",
    "Baseline",
    "load_baseline",
    "load_frame",
    "planning_deff",
]

#: This study's folders (the study root is the folder above this ``analyses/`` folder).
STUDY = locate(Path(__file__).resolve().parents[1])
FRAME_PATH = (STUDY.frames or STUDY.root / "frames") / "strata_frame.csv"
MICRODATA_DIR = STUDY.microdata or STUDY.root / "microdata"
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
#: Deff estimates below this are not carried into the plan (see :func:`planning_deff`).
DEFF_FLOOR = 1.0
WORST_CASE_P = 0.5


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


def planning_deff(summary: planning.DeffSummary | None, how: str) -> tuple[float, str]:
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
