"""Every assumption of a reconstruction, as one immutable set of named knobs.

Nothing in the published sources fixes these values; each is a prior or a reading of an
ambiguous text.  The study declares its knobs and their values in the ``config:`` section of its
reconstruction file (``microdata/reconstruction.yaml``, read by
:func:`~surveylib.reconstruct.spec.load_config`), and every one is recorded with its value in
``provenance.json`` / ``PROVENANCE.md``.  Override knobs with ``cfg.replace(...)``, a mapping
passed as ``config=`` to :func:`~surveylib.reconstruct.reconstruct_all`, or ``--config FILE`` on
the command line.

The knobs the solver reads (see ``docs/reconstruction.md`` for each one's meaning):
``seed``, ``frame_path``, ``fallback_population``, ``ethnic_mix``, ``sum_of_rounded``,
``use_claims``, ``claim_margin``, ``kazakh_ratio``, the item priors (``familiarity_prior``,
``reasons_prior``, ``labour_prior``, ``education_multipliers``, ``age_prior``, ``female_share``,
``educ_prior``, ``settlement_centre_share``), the ``tilt_*`` association strengths and
``solver_time_limit``; knobs named in the study's ``choices``, ``dont_know``, ``item_sets`` and
``mean_bounds`` sections are read through them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import AssumptionWarning, ReconstructionError
from .spec import StudySpec, freeze


class ReconstructionConfig:
    """Named knobs (read as attributes, ``cfg.seed``) plus the study they belong to.

    Parameters
    ----------
    knobs : Mapping
        Knob name -> value, in the order they are recorded.
    study : StudySpec, optional
        The study's published-table facts (``cfg.study``); required to build or verify.

    Examples
    --------
    >>> cfg = ReconstructionConfig({"seed": 1, "female_share": 0.5})
    >>> cfg.replace(seed=2).seed, cfg.seed
    (2, 1)
    """

    __slots__ = ("_knobs", "study")

    def __init__(self, knobs: Mapping, *, study: StudySpec | None = None):
        if not isinstance(knobs, Mapping):
            raise ReconstructionError(
                f"knobs must be a mapping of name -> value, got {type(knobs).__name__}.")
        object.__setattr__(self, "_knobs", freeze(dict(knobs)))
        object.__setattr__(self, "study", study)

    def __getattr__(self, name: str):
        knobs = object.__getattribute__(self, "_knobs")
        if name in knobs:
            return knobs[name]
        raise AttributeError(
            f"the reconstruction config has no knob {name!r}; its knobs are {sorted(knobs)}.")

    def __setattr__(self, name, value):
        raise AttributeError("ReconstructionConfig is immutable; use cfg.replace(...).")

    def __eq__(self, other) -> bool:
        return (isinstance(other, ReconstructionConfig) and self.as_dict() == other.as_dict()
                and self.study == other.study)

    __hash__ = None  # type: ignore[assignment]  # unhashable: equality compares the knobs

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in list(self._knobs.items())[:3])
        return f"ReconstructionConfig({shown}, ... {len(self._knobs)} knobs)"

    @property
    def names(self) -> tuple:
        """The knob names, in recorded order."""
        return tuple(self._knobs)

    def items(self):
        """``(name, value)`` pairs of the knobs, in recorded order (values read-only)."""
        return self._knobs.items()

    def get(self, name: str, default=None):
        """A knob's value, or ``default`` when the study does not declare it."""
        return self._knobs.get(name, default)

    def replace(self, **changes) -> ReconstructionConfig:
        """A copy with ``changes`` applied (unknown names raise ReconstructionError)."""
        return coerce_config(self, changes)

    def as_dict(self) -> dict:
        """JSON-ready dictionary of every knob (keys as strings, tuples as lists)."""
        def conv(v):
            if isinstance(v, Mapping):
                return {str(k): conv(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
            if isinstance(v, tuple | list):
                return [conv(x) for x in v]
            return v

        return {k: conv(v) for k, v in self._knobs.items()}


def coerce_config(base: ReconstructionConfig | None, config) -> ReconstructionConfig:
    """Turn ``None`` / a config / a mapping of overrides into a :class:`ReconstructionConfig`.

    ``base`` defaults to the located study's configuration
    (:func:`~surveylib.reconstruct.spec.load_config`).
    """
    if isinstance(config, ReconstructionConfig):
        return config
    if config is not None and not isinstance(config, Mapping):
        raise ReconstructionError(
            f"config must be None, a ReconstructionConfig or a mapping, got {type(config).__name__}."
        )
    if base is None:
        from .spec import load_config

        base = load_config()
    if not config:
        return base
    names = set(base.names)
    unknown = sorted(set(config) - names)
    if unknown:
        raise ReconstructionError(
            f"unknown configuration keys {unknown}; valid keys are {sorted(names)}.",
            parameter="config", value=unknown, expected=sorted(names),
        )
    return ReconstructionConfig({**dict(base.items()), **dict(config)}, study=base.study)


_POP_COLUMNS = ("urban_pop_adult", "N_h", "N", "population", "urban_pop", "urban_population",
                "pop", "fpc")


def stratum_population(cfg: ReconstructionConfig, wave: int) -> tuple[np.ndarray, str]:
    """Population sizes ``N_h`` of the strata for ``wave`` and a description of their source."""
    strata = cfg.study.stratum_codes
    path = cfg.study.resolve(cfg.frame_path) if cfg.frame_path else None
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
        codes = pd.to_numeric(sub[h_col], errors="coerce")
        pops = dict(zip(codes, pd.to_numeric(sub[pop_col], errors="coerce"), strict=True))
        missing = [h for h in strata if not (h in pops and np.isfinite(pops[h]) and pops[h] > 0)]
        if missing:
            raise ReconstructionError(
                f"{path}: wave {wave} has no positive population for strata {missing}."
            )
        return np.array([float(pops[h]) for h in strata]), f"{cfg.frame_path} ({pop_col})"
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
        np.array([float(fb[wave][h]) for h in strata]),
        "fallback estimate (ReconstructionConfig.fallback_population; see PROVENANCE.md)",
    )
