"""Respondent-level microdata reconstructed from published tables.

When a survey's respondent files are not public, this package builds integer microdata that
reproduce every published figure (the study's ``targets.csv``) within its rounding tolerance,
and says so plainly: every file it writes is labelled "RECONSTRUCTED — not the original survey
data" and ships with ``PROVENANCE.md`` / ``provenance.json``.

The library holds the general machinery (targets with rounding intervals, the integer program,
seeded draws, verification, provenance); the study holds its facts and assumptions in its
reconstruction file (``microdata/reconstruction.yaml``, see :mod:`.spec`), found through
:func:`surveylib.study.locate`.  The Kazakhstan study (2007/2012 attitude surveys) is the one
shipped with surveylib.

Public API
----------
reconstruct_all(out_dir, *, seed=None, config=None)
    Build both waves and write CSV, SPSS, targets, verification and provenance files.
reconstruct(config=None, *, targets=None)
    Build both waves in memory: ``{2007: DataFrame, 2012: DataFrame}``.
verify(microdata_frames, *, targets=None, config=None, weighted=False)
    Published versus reproduced value of every checkable figure.
load_config(path=None, *, paths=None)
    The study's knobs and published-table facts (a :class:`ReconstructionConfig`).
ReconstructionConfig
    Every assumption, as named knobs.
load_targets, build_targets_table
    The published figures as constraints.

Examples
--------
>>> from surveylib.reconstruct import reconstruct, verify, failures
>>> frames = reconstruct()                                   # doctest: +SKIP
>>> failures(verify(frames)).empty                           # doctest: +SKIP
True
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ReconstructionError
from .build import WaveResult, build_all
from .config import ReconstructionConfig, coerce_config
from .model import codebook
from .output import NOTICE, prepare_out_dir, write_csv, write_json, write_sav, write_text
from .provenance import build_provenance, render_markdown
from .spec import StudySpec, load_config
from .targets import build_targets_table, load_targets
from .verify import failures, verify

__all__ = [
    "NOTICE",
    "ReconstructionConfig",
    "ReconstructionError",
    "StudySpec",
    "WaveResult",
    "build_targets_table",
    "failures",
    "load_config",
    "load_targets",
    "reconstruct",
    "reconstruct_all",
    "reconstruct_waves",
    "verify",
    "write_reconstruction",
]

def reconstruct_waves(config=None, *, targets: pd.DataFrame | None = None) -> dict:
    """Both waves with their build records: ``{wave: WaveResult}``."""
    cfg = coerce_config(None, config)
    tab = targets if targets is not None else load_targets(config=cfg)
    return build_all(tab, cfg)


def reconstruct(config=None, *, targets: pd.DataFrame | None = None) -> dict:
    """Both waves in memory: ``{2007: DataFrame, 2012: DataFrame}``."""
    return {w: r.data for w, r in reconstruct_waves(config, targets=targets).items()}


def reconstruct_all(out_dir, *, seed: int | None = None, config=None,
                    targets: str | Path | None = None, sav: bool = True) -> dict:
    """Build both waves and write every file of ``microdata/`` into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Folder to write into (created if missing).
    seed : int, optional
        Overrides ``config.seed``.
    config : ReconstructionConfig or mapping, optional
        Assumptions (default: the located study's :func:`load_config`; a mapping overrides
        some of its knobs).
    targets : path-like, optional
        Annotated targets or the raw published figures (default: the study's ``targets.csv``).
    sav : bool
        Also write SPSS files.

    Returns
    -------
    dict
        ``{wave: DataFrame}``.  Files written: one CSV (and ``.sav``) per wave named by the
        study's ``file_stem``, ``targets.csv``, ``verification.csv``, ``provenance.json``,
        ``PROVENANCE.md``.  Same seed and config give identical bytes.
    """
    cfg = coerce_config(None, config)
    if seed is not None:
        cfg = cfg.replace(seed=int(seed))
    tab = load_targets(targets, config=cfg)
    out = prepare_out_dir(out_dir)
    results = build_all(tab, cfg)
    table = verify({w: r.data for w, r in results.items()}, targets=tab, config=cfg)
    return write_reconstruction(out, results, tab, cfg, table, sav=sav)


def write_reconstruction(out: Path, results: dict, targets: pd.DataFrame, cfg, table, *,
                         sav: bool = True) -> dict:
    """Write built waves (``{wave: WaveResult}``) and their check into the folder ``out``.

    ``table`` is :func:`verify`'s table of the waves against ``targets`` under ``cfg``; the
    files are those listed in :func:`reconstruct_all`.  Returns ``{wave: DataFrame}``.
    """
    out = Path(out)
    files = {}
    for wave, res in results.items():
        name = cfg.study.file_name(wave, "csv")
        write_csv(res.data, out / name)
        files[(wave, "csv")] = name
        if sav:
            name = cfg.study.file_name(wave, "sav")
            write_sav(res.data, out / name, codebook(wave, cfg))
            files[(wave, "sav")] = name
    write_csv(targets, out / "targets.csv")
    # 12 significant digits: the file records the check, not the last bit of a float sum,
    # so it does not change when the estimators' summation order does
    write_csv(_round_floats(table, 12), out / "verification.csv")
    prov = build_provenance(results, targets, cfg, table, files)
    write_json(prov, out / "provenance.json")
    write_text(render_markdown(prov, targets), out / "PROVENANCE.md")
    return {w: r.data for w, r in results.items()}


def _round_floats(df, digits: int):
    """A copy of ``df`` with float columns rounded to ``digits`` significant digits."""
    import numpy as np

    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            v = out[col].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.where((v == 0) | ~np.isfinite(v), 0, np.floor(np.log10(np.abs(v))))
            scale = 10.0 ** (digits - 1 - mag)
            out[col] = np.where(np.isfinite(v), np.round(v * scale) / scale, v)
    return out
