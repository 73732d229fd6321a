"""Where a study's files are: the one place in surveylib that knows about folders.

surveylib is a general library; a *study* is content that uses it: a folder holding some of

* ``analyses/``    one script per published exhibit (run by ``surveylib replicate``),
* ``instruments/`` codebooks per wave and the harmonization map,
* ``microdata/``   respondent files (for the Kazakhstan study: reconstructed, with provenance),
* ``frames/``      population figures for the strata, with sources.

:func:`locate` finds them, in this order:

1. folders given explicitly (the command line's ``--study``, ``--analyses``, ``--microdata``,
   ``--instruments``, ``--frames``, or the arguments of :func:`locate`);
2. the environment variable ``SURVEYLIB_STUDY`` (a study root);
3. the current working directory or one of its parents, when it holds ``analyses/`` or
   ``instruments/`` (a source checkout of a study);
4. a study installed as a package, registered under the entry-point group
   ``surveylib.studies`` (the first in name order; ``name=`` picks one).

Nothing else in the library builds a path to a study folder.  The study's scripts are code,
not library: :func:`load_package` and :func:`load_module` import them from their folder
(registered in ``sys.modules``, nothing put on ``sys.path``), so the library never imports
them by name.  A command run without a study gets a
:class:`~surveylib.errors.StudyNotFoundError` saying which folder it needs and how to point
to it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .errors import StudyNotFoundError

#: the study folders, in the order they are described
FOLDERS = ("analyses", "instruments", "microdata", "frames")
#: entry-point group under which an installed package registers a study root
ENTRY_POINT_GROUP = "surveylib.studies"
#: environment variable naming a study root
ENV_VAR = "SURVEYLIB_STUDY"


@dataclass(frozen=True)
class StudyPaths:
    """The folders of one study; a folder is ``None`` when the study does not have it.

    Use :func:`locate` to build one; :meth:`require` to get a folder or a clear error.
    """

    root: Path | None
    analyses: Path | None = None
    instruments: Path | None = None
    microdata: Path | None = None
    frames: Path | None = None
    source: str = field(default="explicit", compare=False)

    def require(self, folder: str) -> Path:
        """The folder ``folder`` (one of :data:`FOLDERS`), or :class:`StudyNotFoundError`."""
        if folder not in FOLDERS:
            raise ValueError(f"folder={folder!r} is not one of {list(FOLDERS)}")
        path = getattr(self, folder)
        if path is None or not path.is_dir():
            where = f" (looked in {path})" if path is not None else ""
            raise StudyNotFoundError(
                f"no {folder}/ folder found{where}; point to it with --{folder} DIR or --study "
                f"DIR, or set {ENV_VAR} to a study root.",
                parameter=folder,
                value=None if path is None else str(path),
                hint=f"--{folder} DIR",
            )
        return path

    def file(self, folder: str, name: str) -> Path:
        """A file inside a study folder; :class:`StudyNotFoundError` if it is missing."""
        path = self.require(folder) / name
        if not path.exists():
            raise StudyNotFoundError(
                f"{path} not found in the study's {folder}/ folder.",
                parameter=folder, value=str(path), hint=f"--{folder} DIR",
            )
        return path

    def analyses_package(self):
        """The study's ``analyses/`` folder, imported as a package (see :func:`load_package`)."""
        return load_package(self.require("analyses"))

    def analyses_module(self, name: str):
        """The module ``name`` of the study's ``analyses/`` folder (see :func:`load_module`)."""
        return load_module(self.analyses_package(), name)


def _from_root(root: Path, source: str) -> StudyPaths:
    root = Path(root).expanduser().resolve()
    found = {f: (root / f if (root / f).is_dir() else None) for f in FOLDERS}
    return StudyPaths(root=root, source=source, **found)


def _looks_like_study(folder: Path) -> bool:
    return (folder / "analyses").is_dir() or (folder / "instruments").is_dir()


def installed_studies() -> dict[str, Path]:
    """Study roots registered by installed packages (entry-point group ``surveylib.studies``).

    An entry point names a package whose folder is the study root, e.g. in a study's
    ``pyproject.toml``: ``[project.entry-points."surveylib.studies"] kazakhstan = "my_pkg"``.
    The package may be a namespace package (a folder without ``__init__.py``, which is how
    surveylib's wheel ships its own study): its first folder that holds a study is the root.
    """
    out = {}
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            spec = importlib.util.find_spec(ep.value)
        except (ImportError, ValueError):
            continue
        places = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
        root = next((p for p in places if p.is_dir() and _looks_like_study(p)), None)
        if root is not None:
            out[ep.name] = root
    return out


def locate(root=None, *, analyses=None, instruments=None, microdata=None, frames=None,
           name: str | None = None, cwd=None) -> StudyPaths:
    """Find a study's folders (see the module docstring for the order).

    Parameters
    ----------
    root : path-like, optional
        A study root holding some of ``analyses/``, ``instruments/``, ``microdata/``,
        ``frames/``.
    analyses, instruments, microdata, frames : path-like, optional
        One folder each; they override the root's.
    name : str, optional
        An installed study's entry-point name (default: the first installed one).
    cwd : path-like, optional
        Where to start looking upwards (default the current working directory).

    Returns
    -------
    StudyPaths
        Folders that are not found are ``None``; :meth:`StudyPaths.require` raises for them.
    """
    if root is not None:
        base = _from_root(Path(root), "explicit")
    elif os.environ.get(ENV_VAR):
        base = _from_root(Path(os.environ[ENV_VAR]), f"${ENV_VAR}")
    else:
        start = Path(cwd if cwd is not None else os.getcwd()).resolve()
        here = next((p for p in (start, *start.parents) if _looks_like_study(p)), None)
        if here is not None and name is None:
            base = _from_root(here, "working directory")
        else:
            studies = installed_studies()
            if name is not None and name not in studies:
                raise StudyNotFoundError(
                    f"no installed study named {name!r}; installed: {sorted(studies) or 'none'}.",
                    parameter="name", value=name, expected=sorted(studies),
                )
            pick = name or next(iter(studies), None)
            base = (_from_root(studies[pick], f"installed study {pick!r}") if pick
                    else StudyPaths(root=None, source="none"))
    given = {"analyses": analyses, "instruments": instruments, "microdata": microdata,
             "frames": frames}
    changes = {k: Path(v).expanduser().resolve() for k, v in given.items() if v is not None}
    if not changes:
        return base
    return StudyPaths(root=base.root, source=base.source,
                      **{f: changes.get(f, getattr(base, f)) for f in FOLDERS})


def add_study_arguments(parser, folders=FOLDERS) -> None:
    """Add ``--study DIR`` and one ``--FOLDER DIR`` option per study folder to an argparse
    parser (the command line's way of pointing :func:`locate` elsewhere)."""
    parser.add_argument("--study", metavar="DIR", default=None,
                        help=f"study root holding {', '.join(f + '/' for f in folders)} "
                             f"(default: ${ENV_VAR}, the working directory or an installed "
                             "study)")
    text = {"analyses": "folder of the exhibit scripts",
            "instruments": "folder of the codebooks and harmonization map",
            "microdata": "folder of the respondent files",
            "frames": "folder of the population figures for the strata"}
    for f in folders:
        parser.add_argument(f"--{f}", metavar="DIR", default=None,
                            help=f"{text[f]} (default: the study root's {f}/)")


def from_args(args) -> StudyPaths:
    """:func:`locate` with the options added by :func:`add_study_arguments`."""
    return locate(getattr(args, "study", None),
                  **{f: getattr(args, f, None) for f in FOLDERS})


# ------------------------------------------------------------------ a study's scripts as code
def load_package(folder, *, name: str = "analyses"):
    """Import a folder of scripts as a package without putting anything on ``sys.path``.

    The package is registered in ``sys.modules`` (as ``name``, or ``name_2``, ``name_3`` ...
    when ``name`` is already taken by another folder), so the scripts' relative imports
    (``from . import _common``) and dataclasses work.  Importing the same folder again returns
    the module already loaded.

    Parameters
    ----------
    folder : path-like
        A folder holding ``__init__.py``.
    name : str
        The package name to register.

    Raises
    ------
    StudyNotFoundError
        If ``folder`` has no ``__init__.py``.
    """
    folder = Path(folder).expanduser().resolve()
    init = folder / "__init__.py"
    if not init.is_file():
        raise StudyNotFoundError(
            f"{folder} is not a package of scripts (no __init__.py); point --analyses to the "
            "study's analyses/ folder.",
            parameter="analyses", value=str(folder), hint="--analyses DIR",
        )
    for i in range(1, 1000):
        key = name if i == 1 else f"{name}_{i}"
        loaded = sys.modules.get(key)
        if loaded is None:
            break
        if [str(Path(p).resolve()) for p in getattr(loaded, "__path__", [])] == [str(folder)]:
            return loaded
    spec = importlib.util.spec_from_file_location(key, init,
                                                  submodule_search_locations=[str(folder)])
    return _execute(spec)


def load_module(package, name: str):
    """The submodule ``name`` of a package made by :func:`load_package` (imported once).

    Raises
    ------
    StudyNotFoundError
        If the package's folder has no ``name.py``.
    """
    key = f"{package.__name__}.{name}"
    if key in sys.modules:
        return sys.modules[key]
    folder = Path(package.__path__[0])
    path = folder / f"{name}.py"
    if not path.is_file():
        raise StudyNotFoundError(f"{path} not found: the study's analyses/ folder has no "
                                 f"script {name!r}.", parameter="analyses", value=str(path))
    module = _execute(importlib.util.spec_from_file_location(key, path))
    setattr(package, name, module)  # as the import system does for a submodule
    return module


def _execute(spec):
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # before running it: relative imports and dataclasses
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)
        raise
    return module
