"""What every step of a build shares: the core's codes, the wave record, target helpers and
the study's codebook-derived item sets."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from ..errors import ReconstructionError
from .config import ReconstructionConfig

ATT_CODES = (1, 2, 3, 4, 5, 8)  # 8 = don't know (excluded from valid percents)
N_ATT = len(ATT_CODES)
N_H, N_E = 6, 3
AGE_BANDS = {1: (15, 17), 2: (18, 29), 3: (30, 39), 4: (40, 49), 5: (50, 59), 6: (60, 84)}
EDU_ITEMS = ("edu_acq", "edu_self", "edu_child", "sino_self", "sino_child")
INTEREST_ITEMS = ("edu_self", "edu_child", "sino_self", "sino_child")
REASONS = ("reason_work", "reason_trade", "reason_property", "reason_citizenship",
           "reason_marriage", "reason_other")
LABOUR_CODES = (1, 2, 3, 4, 8)


@dataclass
class WaveResult:
    """Microdata of one wave and the record of how it was made."""

    wave: int
    data: pd.DataFrame
    population: np.ndarray
    population_source: str
    allocation: str
    counts: np.ndarray  # core counts [stratum, ethnic, attitude code]
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------- targets helpers
def number(v: str) -> float:
    return float(Decimal(v))


def wave_targets(targets: pd.DataFrame, wave: int, *, roles=("constraint",)) -> pd.DataFrame:
    return targets[(targets["wave"] == str(wave)) & targets["role"].isin(roles)]


def describe_tags(targets: pd.DataFrame):
    """Render conflicting tags as 'T091 (\"Poor 15 28 ...\", 16 percent, ethnicity=Other)'."""
    by_id = targets.set_index("id")

    def render(tags):
        parts = []
        for tag in tags:
            if tag in by_id.index:
                r = by_id.loc[tag]
                parts.append(f"{tag} ({r['wave']} {r['domain']}: {r['value']} {r['unit']}, "
                             f"quote \"{r['quote']}\", tolerance [{r['lower']}, {r['upper']}))")
            else:
                parts.append(tag)
        return "; ".join(parts)

    return render


def codebook(wave: int, cfg: ReconstructionConfig):
    """The wave's codebook from the study's instruments folder (read once per file version)."""
    folder = cfg.study.instruments_dir()
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.y*ml")))
    return _codebook(wave, str(folder), stamp)


@functools.lru_cache(maxsize=8)
def _codebook(wave: int, folder: str, stamp: tuple):
    """A codebook is immutable, so one read serves every step of every draw."""
    from ..instruments import load_codebook

    return load_codebook(wave, instruments_dir=folder)


def familiarity_groups(wave: int, cfg: ReconstructionConfig) -> dict:
    """Item groups of the ``fam_*`` items from the wave's codebook (or the study's default)."""
    groups: dict = {}
    for name, var in codebook(wave, cfg).variables.items():
        if name.startswith("fam_") and var.group:
            groups.setdefault(str(var.group), []).append(name)
    if groups.get("modern") and groups.get("culture"):
        return {k: tuple(v) for k, v in groups.items()}
    return {k: tuple(v) for k, v in cfg.study.familiarity_default.items()}


def item_sets(wave: int, cfg: ReconstructionConfig) -> dict:
    """The familiarity item sets a published figure can average: the groups, ``all`` and the
    study's knob-named sets (``study.item_sets``), each checked to lie within its group."""
    groups = familiarity_groups(wave, cfg)
    items = [i for g in ("modern", "culture") for i in groups[g]]
    sets = {"modern": tuple(groups["modern"]), "culture": tuple(groups["culture"]),
            "all": tuple(items)}
    for name, rule in cfg.study.item_sets.items():
        chosen = tuple(getattr(cfg, rule["knob"]))
        missing = set(chosen) - set(groups.get(rule.get("within"), items))
        if missing:
            raise ReconstructionError(
                f"{rule['knob']} {sorted(missing)} are not {rule.get('within', 'familiarity')} "
                f"items of codebook_{wave}.", parameter=rule["knob"], value=sorted(missing))
        sets[name] = chosen
    return sets


def dont_know_cells(wave: int, cfg: ReconstructionConfig) -> list:
    """``(tag, group index, count)`` of the "don't know" answers the study's knobs allow."""
    out = []
    groups = tuple(cfg.study.ethnic)
    for knob, choices in cfg.study.dont_know.items():
        choice = str(cfg.get(knob))
        for cell in choices.get(choice, ()):
            if int(cell["wave"]) == wave:
                out.append((f"config:{knob}={choice}", groups.index(int(cell["ethnic"])),
                            int(cell["count"])))
    return out
