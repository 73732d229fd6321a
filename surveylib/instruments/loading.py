"""Finding and reading codebooks.

:func:`find_instruments_dir` asks :func:`surveylib.study.locate` where the study's codebooks
are; :func:`codebook_path` and :func:`load_codebook` take ``instruments_dir=`` to look elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CodebookError
from ..study import locate
from ._schema import _is_int, _read_yaml
from .codebook import Codebook

# --------------------------------------------------------------------------------------- locating


def find_instruments_dir(start: str | os.PathLike[str] | None = None) -> Path:
    """Find a study's ``instruments/`` folder.

    Without ``start``, the study is found by :func:`surveylib.study.locate` (the environment
    variable ``SURVEYLIB_STUDY``, the working directory or one of its parents, or an installed
    study registered under the entry-point group ``surveylib.studies``).  With ``start``,
    ``start`` and each of its parents are searched for a folder ``instruments`` that holds at
    least one ``codebook_*.yaml`` file.

    Parameters
    ----------
    start : path-like, optional
        Folder to start an upward search from.

    Returns
    -------
    pathlib.Path
        The ``instruments`` folder.

    Raises
    ------
    StudyNotFoundError
        Without ``start``, when no study with an ``instruments/`` folder is found (the message
        names ``--instruments DIR`` and ``SURVEYLIB_STUDY``).
    CodebookError
        With ``start``, when no such folder is found; pass explicit file paths instead.

    Examples
    --------
    >>> find_instruments_dir().name
    'instruments'
    """
    if start is None:
        return locate().require("instruments")
    origin = Path(start).resolve()
    for folder in (origin, *origin.parents):
        candidate = folder / "instruments"
        if candidate.is_dir() and any(candidate.glob("codebook_*.yaml")):
            return candidate
    raise CodebookError(
        f"no 'instruments/' folder with codebook_*.yaml files was found in {origin} or any "
        "folder above it; pass the codebook's file path explicitly, e.g. "
        "load_codebook('path/to/codebook_2007.yaml'), or instruments_dir='path/to/instruments'"
    )


def codebook_path(wave: int, *, instruments_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of a wave's codebook, ``codebook_<wave>.yaml`` in the study's instruments folder.

    Parameters
    ----------
    wave : int
        Survey year, e.g. 2007.
    instruments_dir : path-like, optional
        Folder holding the codebooks; found with :func:`find_instruments_dir` when omitted.

    Examples
    --------
    >>> codebook_path(2012).name
    'codebook_2012.yaml'
    """
    if not _is_int(wave):
        raise CodebookError(
            f"wave must be an integer year such as 2007, got {wave!r}; pass a file path for "
            "other codebooks"
        )
    folder = Path(instruments_dir) if instruments_dir is not None else find_instruments_dir()
    path = folder / f"codebook_{int(wave)}.yaml"
    if not path.is_file():
        available = sorted(p.stem.removeprefix("codebook_") for p in folder.glob("codebook_*.yaml"))
        raise CodebookError(
            f"there is no codebook for wave {wave} in {folder} (available: "
            f"{', '.join(available) or 'none'}); add codebook_{wave}.yaml or pass a file path"
        )
    return path


def load_codebook(
    path_or_wave: int | str | os.PathLike[str] | Codebook,
    *,
    instruments_dir: str | os.PathLike[str] | None = None,
) -> Codebook:
    """Read and validate a codebook.

    Parameters
    ----------
    path_or_wave : int, path-like or Codebook
        A wave year (``2007`` reads ``instruments/codebook_2007.yaml``, found with
        :func:`find_instruments_dir`), a path to a codebook YAML file, or a
        :class:`Codebook` (returned as is).
    instruments_dir : path-like, optional
        Folder to look in when a year is given.

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        If the file is missing, is not YAML, or breaks the schema.

    Examples
    --------
    >>> cb = load_codebook(2007)
    >>> cb.variable("attitude").ordered
    True
    >>> load_codebook(codebook_path(2007)).n
    588
    """
    if isinstance(path_or_wave, Codebook):
        return path_or_wave
    if _is_int(path_or_wave):
        path = codebook_path(int(path_or_wave), instruments_dir=instruments_dir)
    elif isinstance(path_or_wave, str | os.PathLike):
        path = Path(path_or_wave)
    else:
        raise CodebookError(
            f"load_codebook needs a wave year (e.g. 2007) or a file path, got {path_or_wave!r}"
        )
    return Codebook.from_dict(_read_yaml(path), source=str(path))
