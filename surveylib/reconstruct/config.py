"""Every assumption of the reconstruction, as one documented, immutable configuration object.

Nothing in the published sources fixes these values; each is a prior or a reading of an
ambiguous text, and each is listed (with its default) in ``microdata/PROVENANCE.md``.
Override any field with ``ReconstructionConfig(...)``, ``cfg.replace(...)`` or a mapping passed
as ``config=`` to :func:`~surveylib.reconstruct.reconstruct_all`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import AssumptionWarning, ReconstructionError

STRATA = (1, 2, 3, 4, 5, 6)
WAVES = (2007, 2012)

#: Relative urban population of the six strata (Northern incl. Astana, Eastern, Southern,
#: Western, Central, Almaty city).  ESTIMATE, used only when frames/strata_frame.csv is absent:
#: approximate urban populations of the oblasts around the 2009 census (thousands, not verified
#: against an official table) grouped as in shared/data/README.md with Astana in Northern.
FALLBACK_RELATIVE_URBAN = {1: 2100, 2: 820, 3: 2130, 4: 1230, 5: 1050, 6: 1365}
#: Sourced: 2009 census urban population 8,662,400 (shared/data/frame_sources.csv).
FALLBACK_URBAN_TOTAL_2009 = 8_662_400
#: ESTIMATE: share of the urban population in the survey universe (18+ in 2007, 15+ in 2012)
#: and growth of the urban population between 2009 and the wave.
FALLBACK_UNIVERSE_FACTOR = {2007: 0.74 * 0.98, 2012: 0.78 * 1.04}


def _fallback_population() -> dict[int, dict[int, int]]:
    total = sum(FALLBACK_RELATIVE_URBAN.values())
    return {
        w: {
            h: int(round(FALLBACK_URBAN_TOTAL_2009 * FALLBACK_UNIVERSE_FACTOR[w] * v / total, -3))
            for h, v in FALLBACK_RELATIVE_URBAN.items()
        }
        for w in WAVES
    }


@dataclass(frozen=True)
class ReconstructionConfig:
    """Assumptions and resolutions of the reconstruction (all documented in PROVENANCE.md).

    Parameters
    ----------
    seed : int
        Seed of the ``numpy.random.Generator`` used for every random draw.
    frame_path : str or None
        Stratum population file (relative to the repository root or absolute), with columns
        ``wave``/``year``, ``stratum`` (code 1-6) and a population column (``N_h``, ``N``,
        ``population`` or ``urban_pop``).  If absent, ``fallback_population`` is used and an
        :class:`~surveylib.errors.AssumptionWarning` is issued.
    fallback_population : dict
        ``{wave: {stratum: N_h}}``, an estimate (see ``FALLBACK_*`` in this module).
    ethnic_mix : dict
        Prior ethnic composition (Kazakh, Russian, Other) of each stratum's urban population.
    other2007_resolution : {"widen", "base77", "none"}
        NOTES b3.  ``widen``: the Other-2007 'poor' cell is allowed +-1 pp.  ``base77``: one
        Other-2007 respondent answers "don't know" and shares are valid percents.  ``none``:
        strict rounding everywhere (infeasible: raises ReconstructionError).
    mean_text_conflict : {"table", "text", "both"}
        NOTES b4 (T150/T151 vs Table 7.1).  ``both`` imposes both readings (infeasible).
    culture_2007_resolution : {"subset", "exclude", "conflict"}
        NOTES b6 (11% vs 10.2%).  ``subset``: seed 004's figures are means over
        ``culture_subset_items``; ``exclude``: T170/T171 not imposed; ``conflict``: both imposed
        on the same item set (infeasible).
    sum_of_rounded : tuple of target ids
        Text figures read as the sum of two rounded Table 7.1 cells (e.g. 2007 negative 18 =
        poor 15 + very poor 3), tolerance +-1 pp instead of +-0.5.  Default: the 2007 total
        negative share (T107/T119), for which strict rounding has no integer solution together
        with the ethnic-group figures.
    use_claims : bool
        Impose the checkable qualitative claims (T123-T125, T130, T197, T203-T205) as solver
        constraints.  They are verified either way.
    claim_margin : float
        Minimum gap (a proportion) for "higher than" claims.
    kazakh_ratio : (float, float)
        "almost twice as many positive responses" (T205): interval of the ratio of the Kazakh
        to the non-Kazakh pooled interest share.
    southern_mean_bounds : (float or None, float or None)
        Optional bounds on the unpublished 2012 Southern mean (default: free).
    """

    seed: int = 20070512
    frame_path: str | None = "frames/strata_frame.csv"
    fallback_population: Mapping = field(default_factory=_fallback_population)
    ethnic_mix: Mapping = field(default_factory=lambda: {
        1: (0.45, 0.42, 0.13), 2: (0.40, 0.52, 0.08), 3: (0.58, 0.17, 0.25),
        4: (0.68, 0.25, 0.07), 5: (0.38, 0.46, 0.16), 6: (0.52, 0.33, 0.15),
    })
    other2007_resolution: str = "widen"
    mean_text_conflict: str = "table"
    culture_2007_resolution: str = "subset"
    culture_subset_items: tuple = ("fam_history", "fam_traditions", "fam_literature", "fam_art")
    sum_of_rounded: tuple = ("T107", "T119")
    south_kazakhstan_stratum: int = 3
    use_claims: bool = True
    claim_margin: float = 0.005
    kazakh_ratio: tuple = (1.7, 2.0)
    southern_mean_bounds: tuple = (None, None)
    # --- priors for the items (shares; published totals override them where they exist)
    familiarity_prior: Mapping = field(default_factory=lambda: {
        # relative profile within each group; rescaled by the solver to the published means
        "fam_foreign_policy": 1.0, "fam_economy": 1.3, "fam_sport": 1.2, "fam_demography": 1.1,
        "fam_politics": 0.6, "fam_history": 1.2, "fam_customs": 1.0, "fam_traditions": 1.2,
        "fam_literature": 0.7, "fam_art": 0.8, "fam_music": 0.7, "fam_cinema": 1.3,
        "fam_cuisine": 1.6, "fam_language": 0.5,
    })
    reasons_prior: Mapping = field(default_factory=lambda: {
        2007: {"reason_citizenship": 0.06, "reason_marriage": 0.06, "reason_other": 0.08},
        2012: {"reason_other": 0.08},
    })
    labour_prior: Mapping = field(default_factory=lambda: {
        # unpublished categories 3 no impact, 4 positive, 8 don't know (relative weights)
        2007: {3: 0.30, 4: 0.08, 8: 0.16},
        2012: {3: 0.29, 4: 0.08, 8: 0.16},
    })
    education_multipliers: Mapping = field(default_factory=lambda: {
        "kazakh": 1.85, "young": 1.6, "almaty": 1.5,
    })
    age_prior: Mapping = field(default_factory=lambda: {
        # shares of agegrp codes 1 (15-17), 2 (18-29), 3 (30-39), 4 (40-49), 5 (50-59), 6 (60+)
        2007: {2: 0.29, 3: 0.20, 4: 0.19, 5: 0.15, 6: 0.17},
        2012: {1: 0.06, 2: 0.28, 3: 0.19, 4: 0.17, 5: 0.15, 6: 0.15},
    })
    female_share: float = 0.54
    educ_prior: Mapping = field(default_factory=lambda: {
        # adults (18+): 1 incomplete secondary, 2 general secondary, 3 secondary vocational,
        # 4 incomplete higher, 5 higher
        2007: {1: 0.07, 2: 0.30, 3: 0.32, 4: 0.08, 5: 0.23},
        2012: {1: 0.05, 2: 0.27, 3: 0.32, 4: 0.09, 5: 0.27},
    })
    settlement_centre_share: float = 0.62
    # --- strength of the associations built into the draws (log-odds per unit)
    tilt_age_attitude: float = 1.2
    tilt_educ_attitude: float = 1.0
    tilt_fam_educ: float = 0.5
    tilt_reasons_attitude: float = 0.6
    tilt_labour_attitude: float = 0.8
    tilt_edu_educ: float = 0.4
    solver_time_limit: float = 60.0

    def replace(self, **changes) -> ReconstructionConfig:
        """Return a copy with ``changes`` applied (unknown names raise ReconstructionError)."""
        return coerce_config(self, changes)

    def as_dict(self) -> dict:
        """JSON-ready dictionary of every knob (keys as strings, tuples as lists)."""
        def conv(v):
            if isinstance(v, Mapping):
                return {str(k): conv(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
            if isinstance(v, (tuple, list)):
                return [conv(x) for x in v]
            return v

        return {f.name: conv(getattr(self, f.name)) for f in dataclasses.fields(self)}


def coerce_config(base: ReconstructionConfig | None, config) -> ReconstructionConfig:
    """Turn ``None`` / a config / a mapping of overrides into a :class:`ReconstructionConfig`."""
    cfg = base if base is not None else ReconstructionConfig()
    if config is None:
        return cfg
    if isinstance(config, ReconstructionConfig):
        return config
    if not isinstance(config, Mapping):
        raise ReconstructionError(
            f"config must be None, a ReconstructionConfig or a mapping, got {type(config).__name__}."
        )
    names = {f.name for f in dataclasses.fields(ReconstructionConfig)}
    unknown = sorted(set(config) - names)
    if unknown:
        raise ReconstructionError(
            f"unknown configuration keys {unknown}; valid keys are {sorted(names)}."
        )
    return dataclasses.replace(cfg, **dict(config))


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


_POP_COLUMNS = ("urban_pop_adult", "N_h", "N", "population", "urban_pop", "urban_population",
                "pop", "fpc")


def stratum_population(cfg: ReconstructionConfig, wave: int) -> tuple[np.ndarray, str]:
    """Population sizes ``N_h`` of the six strata for ``wave`` and a description of their source."""
    path = None
    if cfg.frame_path:
        path = Path(cfg.frame_path)
        if not path.is_absolute():
            path = repo_root() / path
    if path is not None and path.exists():
        frame = pd.read_csv(path)
        wave_col = next((c for c in ("wave", "frame_year", "year") if c in frame.columns), None)
        pop_col = next((c for c in _POP_COLUMNS if c in frame.columns), None)
        h_col = next((c for c in ("stratum_code", "stratum") if c in frame.columns), None)
        if wave_col is None or pop_col is None or h_col is None:
            raise ReconstructionError(
                f"{path}: need columns 'wave' (or 'frame_year'), 'stratum_code' (or 'stratum') "
                f"and one of {_POP_COLUMNS}; found {list(frame.columns)}. Fix the frame or set "
                "frame_path=None."
            )
        sub = frame[pd.to_numeric(frame[wave_col], errors="coerce") == wave]
        strata = pd.to_numeric(sub[h_col], errors="coerce")
        pops = dict(zip(strata, pd.to_numeric(sub[pop_col], errors="coerce"), strict=True))
        missing = [h for h in STRATA if not (h in pops and np.isfinite(pops[h]) and pops[h] > 0)]
        if missing:
            raise ReconstructionError(
                f"{path}: wave {wave} has no positive population for strata {missing}."
            )
        return np.array([float(pops[h]) for h in STRATA]), f"{cfg.frame_path} ({pop_col})"
    fb = cfg.fallback_population
    if wave not in fb:
        raise ReconstructionError(f"fallback_population has no wave {wave}.")
    warnings.warn(
        f"stratum frame {cfg.frame_path!r} not found: using the documented fallback estimate "
        f"of N_h for wave {wave} (ReconstructionConfig.fallback_population).",
        AssumptionWarning,
        stacklevel=3,
    )
    return (
        np.array([float(fb[wave][h]) for h in STRATA]),
        "fallback estimate (ReconstructionConfig.fallback_population; see PROVENANCE.md)",
    )
