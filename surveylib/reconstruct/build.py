"""Build reconstructed respondent files for the 2007 and 2012 waves.

Steps per wave (2012 first, because its regional figures are richer and the cross-wave claims
are then linear in the 2007 counts):

1. **core**: integer counts ``x[stratum, ethnic, attitude]`` meeting every attitude figure
   (Table 7.1, Diagrams 7.2/7.3 text), at minimum L1 distance from the prior
   ``n_h(proportional) x ethnic mix (raked to Table 7.1's group sizes) x Table 7.1 distribution``;
   stratum sizes are fixed at proportional allocation when that is feasible, otherwise left to the
   solver (recorded in the provenance).
2. **respondents**: counts expanded to rows; age group, education, sex, exact age and settlement
   are drawn from documented priors by rank-based assignment (exact margins, associations set by
   the ``tilt_*`` knobs, so that the published subgroup claims hold).
3. **items**: familiarity items, reasons, labour market and (2012) Diagram 6.1 items are solved
   as separate small integer problems conditioned on the fixed core, then assigned to respondents
   within cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import ReconstructionConfig, stratum_population
from .core import solve_core
from .items import (
    add_demographics,
    add_education_items,
    add_familiarity,
    add_labour,
    add_reasons,
    expand,
)
from .model import WaveResult, codebook

__all__ = ["WaveResult", "build_all", "build_wave", "column_order", "solve_core"]


def column_order(wave: int, columns, cfg: ReconstructionConfig) -> list:
    """Columns in codebook order, then the core columns, the rest, ``weight`` and ``fpc``."""
    order = list(codebook(wave, cfg).variables)
    base = ["resp_id", "wave", "stratum", "settlement", "sex", "age", "agegrp", "educ", "ethnic",
            "attitude"]
    seq = [c for c in order if c in columns] + [c for c in base if c in columns]
    rest = [c for c in columns if c not in seq and c not in ("weight", "fpc")]
    cols = list(dict.fromkeys(seq + rest))
    cols = [c for c in cols if c not in ("weight", "fpc")] + ["weight", "fpc"]
    return cols


def build_wave(wave: int, targets: pd.DataFrame, cfg: ReconstructionConfig,
               other: WaveResult | None = None) -> WaveResult:
    pop, source = stratum_population(cfg, wave)
    counts, allocation = solve_core(wave, targets, cfg, pop, other=other)
    df = expand(counts, wave, cfg)
    df = add_demographics(df, wave, cfg)
    df = add_familiarity(df, wave, targets, cfg)
    df = add_reasons(df, wave, targets, cfg)
    df = add_labour(df, wave, targets, cfg)
    df = add_education_items(df, wave, targets, cfg)
    n_h = np.bincount(df["stratum"].to_numpy(), minlength=7)[1:]
    big_n = pop[df["stratum"].to_numpy() - 1]
    df = df.assign(weight=big_n / n_h[df["stratum"].to_numpy() - 1], fpc=big_n)
    df = df[column_order(wave, df.columns, cfg)]
    return WaveResult(wave, df.reset_index(drop=True), pop, source, allocation, counts)


def build_all(targets: pd.DataFrame, cfg: ReconstructionConfig) -> dict:
    """Both waves: 2012 first, then 2007 with the cross-wave figures (T121, T123-T125, T130)."""
    w12 = build_wave(2012, targets, cfg)
    w07 = build_wave(2007, targets, cfg, other=w12)
    return {2007: w07, 2012: w12}
