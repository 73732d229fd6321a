"""A study's reconstruction file: its knobs and the facts about its published tables.

The general solver (:mod:`~surveylib.reconstruct.build`, :mod:`~surveylib.reconstruct.milp`,
:mod:`~surveylib.reconstruct.verify`) knows nothing about a particular survey.  A study describes
itself in a YAML file, by default ``reconstruction.yaml`` in its ``microdata/`` folder, found
with :func:`surveylib.study.locate`::

    config:   every assumption, as named knobs (recorded in provenance.json in this order)
    study:    waves, surveys, strata and group codes and names, which column each published
              figure is a statistic of, the claims with a checkable rule, and the edits of
              published rows that each choice of a knob makes (see docs/reconstruction.md)

:func:`load_config` reads it and returns a :class:`~surveylib.reconstruct.config.
ReconstructionConfig` whose ``study`` is a :class:`StudySpec`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ..errors import ReconstructionError
from ..study import StudyPaths, locate

#: name of a study's reconstruction file inside its microdata folder
SPEC_FILE = "reconstruction.yaml"

_REQUIRED = ("waves", "surveys", "strata", "ethnic", "attitude_levels", "item_targets",
             "claim_rules", "info_ids", "familiarity_default", "choices")


def freeze(obj: Any) -> Any:
    """Read-only copy of parsed YAML: mappings become mapping proxies, lists tuples."""
    if isinstance(obj, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(freeze(v) for v in obj)
    return obj


@dataclass(frozen=True)
class StudySpec:
    """What the solver needs to know about one study's published tables (see module docs).

    Attributes
    ----------
    waves : tuple of int
        The waves, in the order the published rows name them.
    surveys : tuple of str
        Values of the published rows' ``survey`` column that belong to the study.
    strata, ethnic : Mapping[int, str]
        Codes and names of the strata and of the groups (the ``region=`` / ``ethnicity=``
        domains of the published rows).
    attitude_levels : tuple of (str, str)
        Text found in a percent figure's ``quantity`` -> the attitude codes it counts.
    item_targets : Mapping[str, tuple]
        Target id -> (variable, level) for percent figures of other items.
    claim_rules, info_ids : Mapping[str, str]
        Claims with a checkable rule, and rows that are not microdata statistics (id -> why).
    familiarity_default : Mapping[str, tuple]
        Item groups used when the codebook does not give them.
    choices : Mapping
        Knob -> choice -> edits of published rows (``"*"``: any value of the knob).
    sum_of_rounded, dont_know, item_sets, mean_bounds, provenance : Mapping
        See ``docs/reconstruction.md``.
    draws : Mapping
        How a multiple reconstruction spreads its draws (:mod:`~surveylib.reconstruct.draws`):
        ``readings`` (knob -> alternative values), ``prior_noise`` ([low, high]) and
        ``ranges`` (knob -> [low, high]).
    file_stem : str
        Name of a wave's respondent files without extension (``{wave}`` is the year).
    paths : StudyPaths or None
        Where the study's folders are (codebooks, frames).
    source : str
        The file read.
    """

    waves: tuple
    surveys: tuple
    strata: Mapping
    ethnic: Mapping
    attitude_levels: tuple
    item_targets: Mapping
    claim_rules: Mapping
    info_ids: Mapping
    familiarity_default: Mapping
    choices: Mapping
    sum_of_rounded: Mapping = field(default_factory=lambda: MappingProxyType({}))
    dont_know: Mapping = field(default_factory=lambda: MappingProxyType({}))
    item_sets: Mapping = field(default_factory=lambda: MappingProxyType({}))
    mean_bounds: Mapping = field(default_factory=lambda: MappingProxyType({}))
    provenance: Mapping = field(default_factory=lambda: MappingProxyType({}))
    draws: Mapping = field(default_factory=lambda: MappingProxyType({}))
    file_stem: str = "wave{wave}_reconstructed"
    paths: StudyPaths | None = field(default=None, compare=False, repr=False)
    source: str = field(default="<study>", compare=False)

    @classmethod
    def from_dict(cls, raw: object, *, paths: StudyPaths | None = None,
                  source: str = "<study>") -> StudySpec:
        """Build from the parsed ``study:`` section; :class:`ReconstructionError` if a key is
        missing."""
        if not isinstance(raw, Mapping):
            raise ReconstructionError(f"{source}: 'study:' must be a mapping.")
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise ReconstructionError(
                f"{source}: the study section lacks {missing}; see docs/reconstruction.md.",
                parameter="study", value=sorted(raw), expected=list(_REQUIRED))
        known = {f for f in cls.__dataclass_fields__ if f not in ("paths", "source")}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ReconstructionError(
                f"{source}: unknown keys {unknown} in the study section; valid keys are "
                f"{sorted(known)}.", parameter="study", value=unknown, expected=sorted(known))
        values = {k: freeze(v) for k, v in raw.items()}
        values["strata"] = MappingProxyType({int(k): str(v) for k, v in raw["strata"].items()})
        values["ethnic"] = MappingProxyType({int(k): str(v) for k, v in raw["ethnic"].items()})
        values["waves"] = tuple(int(w) for w in raw["waves"])
        return cls(**values, paths=paths, source=source)

    @property
    def stratum_codes(self) -> tuple:
        """Stratum codes in order (1, 2, ...)."""
        return tuple(self.strata)

    def file_name(self, wave: int, ext: str) -> str:
        """A wave's respondent file name, e.g. ``kz2012_reconstructed.csv``."""
        return f"{self.file_stem.format(wave=wave)}.{ext}"

    def instruments_dir(self) -> Path:
        """The study's codebook folder (:class:`~surveylib.errors.StudyNotFoundError` if none)."""
        return (self.paths if self.paths is not None else locate()).require("instruments")

    def resolve(self, relative: str | os.PathLike) -> Path:
        """A path of the config (``frame_path``) relative to the study root.

        A path starting with ``frames/`` is looked up in the study's frames folder, so that
        ``--frames DIR`` redirects it.
        """
        path = Path(relative)
        if path.is_absolute():
            return path
        paths = self.paths if self.paths is not None else locate()
        if path.parts and path.parts[0] == "frames" and paths.frames is not None:
            return paths.frames.joinpath(*path.parts[1:])
        if paths.root is None:
            return path
        return paths.root / path


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML (or JSON) file; one-line :class:`ReconstructionError` if it cannot."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReconstructionError(f"{what} {path} not found; check the path.",
                                  parameter="path", value=str(path)) from None
    except OSError as exc:
        raise ReconstructionError(f"{what} {path} cannot be read ({exc.strerror}).",
                                  parameter="path", value=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ReconstructionError(f"{what} {path} is not valid YAML/JSON{at}; fix the file.",
                                  parameter="path", value=str(path)) from None


def load_config(path: str | os.PathLike | None = None, *, paths: StudyPaths | None = None):
    """The study's :class:`~surveylib.reconstruct.config.ReconstructionConfig`.

    Parameters
    ----------
    path : path-like, optional
        A reconstruction file; default ``reconstruction.yaml`` in the study's microdata folder.
    paths : StudyPaths, optional
        The study's folders (default :func:`surveylib.study.locate`).

    Raises
    ------
    StudyNotFoundError
        If no path is given and the study has no microdata folder or no reconstruction file.
    ReconstructionError
        If the file is not valid YAML or lacks a section.
    """
    from .config import ReconstructionConfig

    paths = paths if paths is not None else locate()
    file = Path(path) if path is not None else paths.file("microdata", SPEC_FILE)
    raw = read_yaml(file, "reconstruction file")
    if not isinstance(raw, Mapping) or not isinstance(raw.get("config"), Mapping):
        raise ReconstructionError(
            f"{file}: needs a 'config:' mapping of knobs and a 'study:' section; see "
            "docs/reconstruction.md.", parameter="path", value=str(file))
    study = StudySpec.from_dict(raw.get("study"), paths=paths, source=str(file))
    return ReconstructionConfig(raw["config"], study=study)
