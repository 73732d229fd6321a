"""Questionnaire codebooks and the harmonization of survey waves.

A codebook is a YAML file (``instruments/codebook_<year>.yaml``) that says, for every column of a
survey wave, what it measures, how it is coded, which codes mean "missing", which columns carry
the sampling design, and where in the source documents each fact comes from. This module reads and
validates codebooks, and uses them to label, check and clean data frames of codes.

The analysis-ready frame holds **codes** (integers), with missing-data codes such as 8 "don't know"
kept as codes. Estimators should be given :meth:`Codebook.missing_to_na` of that frame; labels are
for display (:meth:`Codebook.apply_labels`).

The harmonization map (``instruments/harmonization.yaml``) says which items are comparable across
waves and defines the common universe used for comparisons (urban residents aged 18+; see
:func:`universe_mask` and :func:`common_universe`).

Examples
--------
>>> from surveylib.instruments import load_codebook
>>> cb = load_codebook(2007)
>>> cb.survey, cb.n
('attitudes2007', 588)
>>> cb.value_labels("attitude")[3]
'indifferent'
>>> cb.design_columns()
{'strata': 'stratum', 'weights': 'weight', 'fpc': 'fpc'}
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .errors import CodebookError

__all__ = [
    "Codebook",
    "Harmonization",
    "HarmonizedItem",
    "ItemSet",
    "Variable",
    "codebook_path",
    "common_universe",
    "find_instruments_dir",
    "load_codebook",
    "load_harmonization",
    "universe_mask",
    "validate_codebook",
]

#: Allowed values of a variable's ``type``.
VARIABLE_TYPES = ("categorical", "binary", "integer", "numeric", "id", "weight")
#: Types whose values are codes listed under ``codes``.
CODED_TYPES = frozenset({"categorical", "binary"})
#: Types whose values must be whole numbers.
INTEGER_TYPES = frozenset({"categorical", "binary", "integer", "id"})
#: Allowed ``role`` values, mapped to the key used by :meth:`Codebook.design_columns`.
ROLES = {"strata": "strata", "weight": "weights", "fpc": "fpc", "id": None}
#: Allowed ``status`` values.
STATUSES = ("published", "assumed")
#: Allowed ``question_source`` values. There is deliberately no value for "original wording".
QUESTION_SOURCES = ("reconstructed", "derived", "administrative")
#: Allowed harmonization methods.
HARMONIZATION_METHODS = ("identical", "recode", "2012_only", "design")

_TOP_KEYS = {"codebook_version", "wave", "variables", "groups", "mrsets"}
_WAVE_REQUIRED = {"survey": str, "year": int, "universe": str, "min_age": int, "n": int}
_VAR_REQUIRED = (
    "name",
    "label",
    "question",
    "question_source",
    "type",
    "universe",
    "source_lines",
    "status",
)
_VAR_OPTIONAL = (
    "codes",
    "missing_codes",
    "ordered",
    "valid_range",
    "role",
    "group",
    "mrset",
    "note",
)
_SET_KEYS = {"label", "variables", "note", "source_lines", "kind", "counted_value"}
_SOURCE_LINE = re.compile(r"^[\w./-]+:\d+(-\d+)?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------------------- helpers


def _freeze(obj: Any) -> Any:
    """Return a read-only copy of nested dicts/lists (mappings become ``MappingProxyType``)."""
    if isinstance(obj, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(_freeze(v) for v in obj)
    return obj


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _norm_label(label: str) -> str:
    return " ".join(str(label).split()).casefold()


def _format_counts(counts: pd.Series, limit: int = 10) -> str:
    parts = []
    for value, count in counts.head(limit).items():
        shown = int(value) if _is_number(value) and float(value).is_integer() else value
        parts.append(f"{shown!r} ({int(count)} row{'s' if count != 1 else ''})")
    more = len(counts) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


# --------------------------------------------------------------------------------------- locating


def find_instruments_dir(start: str | os.PathLike[str] | None = None) -> Path:
    """Find the project's ``instruments/`` folder.

    Searches ``start`` and each of its parents for a folder ``instruments`` that holds at least
    one ``codebook_*.yaml`` file. By default the search starts at the parent of the installed
    ``surveylib`` package, which is the repository root for a source checkout or an editable
    install.

    Parameters
    ----------
    start : path-like, optional
        Folder to start from.

    Returns
    -------
    pathlib.Path
        The ``instruments`` folder.

    Raises
    ------
    CodebookError
        If no such folder is found; pass explicit file paths instead.

    Examples
    --------
    >>> find_instruments_dir().name
    'instruments'
    """
    origin = Path(start) if start is not None else Path(__file__).resolve().parent.parent
    origin = origin.resolve()
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
    """Path of the shipped codebook of a wave, ``instruments/codebook_<wave>.yaml``.

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


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CodebookError(
            f"codebook file {path} does not exist; check the path or pass a wave year such as 2007"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path} is not valid YAML ({exc}); fix the file") from None


# --------------------------------------------------------------------------------------- schema


def validate_codebook(raw: Any, *, source: str = "<codebook>") -> None:
    """Check a parsed codebook against the schema.

    All problems are collected and reported together in one :class:`CodebookError`; each line
    names the variable (or section) and the key at fault and says what to write instead.

    Parameters
    ----------
    raw : mapping
        The result of ``yaml.safe_load`` on a codebook file.
    source : str
        Name used in messages (normally the file path).

    Raises
    ------
    CodebookError
        If the codebook breaks any rule.

    Examples
    --------
    >>> validate_codebook({"wave": {}, "variables": []}, source="demo")
    Traceback (most recent call last):
    ...
    surveylib.errors.CodebookError: demo: 6 problem(s) in the codebook:
      - wave: key 'survey' is missing; add it (str)
      - wave: key 'year' is missing; add it (int)
      - wave: key 'universe' is missing; add it (str)
      - wave: key 'min_age' is missing; add it (int)
      - wave: key 'n' is missing; add it (int)
      - variables: the list is empty; describe at least one column
    """
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise CodebookError(
            f"{source}: a codebook must be a YAML mapping with keys 'wave' and 'variables', "
            f"got {type(raw).__name__}"
        )
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(
                f"top level: unknown key {key!r}{_suggest(str(key), _TOP_KEYS)}; "
                f"allowed keys are {', '.join(sorted(_TOP_KEYS))}"
            )
    _check_wave(raw.get("wave"), problems)
    variables = raw.get("variables")
    names: list[str] = []
    if not isinstance(variables, list):
        problems.append("variables: key 'variables' must be a list of variable entries")
        variables = []
    elif not variables:
        problems.append("variables: the list is empty; describe at least one column")
    for i, entry in enumerate(variables):
        name = _check_variable(entry, i, problems)
        if name is not None:
            names.append(name)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(
                f"variable {name!r}, key 'name': the name is used twice; names must be unique"
            )
        seen.add(name)
    by_name = {
        e["name"]: e for e in variables if isinstance(e, Mapping) and isinstance(e.get("name"), str)
    }
    _check_roles(by_name, problems)
    groups = raw.get("groups", {}) or {}
    mrsets = raw.get("mrsets", {}) or {}
    _check_sets(groups, "groups", "group", by_name, problems)
    _check_sets(mrsets, "mrsets", "mrset", by_name, problems)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CodebookError(f"{source}: {len(problems)} problem(s) in the codebook:\n{listing}")


def _check_wave(wave: Any, problems: list[str]) -> None:
    if not isinstance(wave, Mapping):
        problems.append(
            "wave: key 'wave' must be a mapping with survey, year, universe, min_age, n"
        )
        return
    for key, kind in _WAVE_REQUIRED.items():
        if key not in wave:
            problems.append(f"wave: key {key!r} is missing; add it ({kind.__name__})")
            continue
        value = wave[key]
        ok = _is_int(value) if kind is int else _nonempty_str(value)
        if not ok:
            problems.append(f"wave: key {key!r} must be a {kind.__name__}, got {value!r}")
    if _is_int(wave.get("n")) and wave["n"] <= 0:
        problems.append(f"wave: key 'n' must be a positive sample size, got {wave['n']}")


def _check_codes(name: str, key: str, codes: Any, problems: list[str]) -> dict[int, str]:
    where = f"variable {name!r}, key {key!r}"
    if not isinstance(codes, Mapping) or not codes:
        problems.append(
            f'{where}: must be a non-empty mapping of integer code to label, e.g. 1: "yes"'
        )
        return {}
    good: dict[int, str] = {}
    for code, label in codes.items():
        if not _is_int(code):
            problems.append(
                f'{where}: code {code!r} is not an integer; write codes as integers (e.g. 1: "very good")'
            )
            continue
        if not _nonempty_str(label):
            problems.append(
                f"{where}: code {code} has label {label!r}; give it a non-empty text label"
            )
            continue
        good[int(code)] = label
    labels = [_norm_label(v) for v in good.values()]
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    for lab in dupes:
        problems.append(
            f"{where}: label {lab!r} is used for more than one code; labels must be unique"
        )
    return good


def _check_variable(entry: Any, index: int, problems: list[str]) -> str | None:
    if not isinstance(entry, Mapping):
        problems.append(
            f"variables[{index}]: each entry must be a mapping, got {type(entry).__name__}"
        )
        return None
    raw_name = entry.get("name")
    if not _nonempty_str(raw_name) or not _NAME.match(raw_name):
        problems.append(
            f"variables[{index}], key 'name': {raw_name!r} is not a valid column name; use letters, "
            "digits and underscores, starting with a letter"
        )
        name = f"variables[{index}]"
        valid_name = None
    else:
        name = raw_name
        valid_name = raw_name
    where = f"variable {name!r}"
    allowed = set(_VAR_REQUIRED) | set(_VAR_OPTIONAL)
    for key in entry:
        if key not in allowed:
            problems.append(f"{where}, key {key!r}: unknown key{_suggest(str(key), allowed)}")
    for key in _VAR_REQUIRED:
        if key not in entry:
            problems.append(
                f"{where}, key {key!r}: missing; every variable needs {', '.join(_VAR_REQUIRED)}"
            )
    for key in ("label", "question", "universe"):
        if key in entry and not _nonempty_str(entry[key]):
            problems.append(f"{where}, key {key!r}: must be a non-empty string, got {entry[key]!r}")
    if "question_source" in entry and entry["question_source"] not in QUESTION_SOURCES:
        problems.append(
            f"{where}, key 'question_source': {entry['question_source']!r} is not allowed; use one of "
            f"{', '.join(QUESTION_SOURCES)} (the original questionnaire wording is not available)"
        )
    vtype = entry.get("type")
    if "type" in entry and vtype not in VARIABLE_TYPES:
        problems.append(
            f"{where}, key 'type': {vtype!r} is not a type{_suggest(str(vtype), VARIABLE_TYPES)}; "
            f"use one of {', '.join(VARIABLE_TYPES)}"
        )
    status = entry.get("status")
    if "status" in entry and status not in STATUSES:
        problems.append(
            f"{where}, key 'status': {status!r} is not allowed; use published or assumed"
        )
    if "note" in entry and not _nonempty_str(entry["note"]):
        problems.append(f"{where}, key 'note': must be a non-empty string")
    if status == "assumed" and not _nonempty_str(entry.get("note")):
        problems.append(
            f"{where}, key 'note': an assumed variable needs a note saying what is assumed"
        )
    lines = entry.get("source_lines")
    if "source_lines" in entry:
        if not isinstance(lines, list) or not all(
            isinstance(s, str) and _SOURCE_LINE.match(s) for s in lines
        ):
            problems.append(
                f"{where}, key 'source_lines': must be a list of 'file:line' or 'file:first-last' "
                f"strings, got {lines!r}"
            )
        elif status == "published" and not lines:
            problems.append(
                f"{where}, key 'source_lines': a published variable needs at least one source line"
            )
    codes: dict[int, str] = {}
    if vtype in CODED_TYPES:
        if "codes" not in entry:
            problems.append(f"{where}, key 'codes': a {vtype} variable needs its codes and labels")
        else:
            codes = _check_codes(name, "codes", entry["codes"], problems)
        if vtype == "binary" and codes and set(codes) != {0, 1}:
            problems.append(
                f"{where}, key 'codes': a binary variable is coded 0 and 1, got {sorted(codes)}"
            )
    elif "codes" in entry and vtype in VARIABLE_TYPES:
        problems.append(
            f"{where}, key 'codes': a {vtype} variable has no value codes; use type categorical"
        )
    if "missing_codes" in entry:
        if vtype in ("id", "weight"):
            problems.append(
                f"{where}, key 'missing_codes': a {vtype} column cannot have missing codes"
            )
        missing = _check_codes(name, "missing_codes", entry["missing_codes"], problems)
        overlap = sorted(set(missing) & set(codes))
        if overlap:
            problems.append(
                f"{where}, key 'missing_codes': code(s) {overlap} are also substantive codes; a code "
                "is either a category or a missing-data code"
            )
    if "ordered" in entry:
        if not isinstance(entry["ordered"], bool):
            problems.append(f"{where}, key 'ordered': must be true or false")
        elif entry["ordered"] and vtype != "categorical":
            problems.append(f"{where}, key 'ordered': only categorical variables can be ordered")
    if "valid_range" in entry:
        vr = entry["valid_range"]
        if vtype not in ("integer", "numeric"):
            problems.append(
                f"{where}, key 'valid_range': only integer and numeric variables have a range"
            )
        elif not (
            isinstance(vr, list)
            and len(vr) == 2
            and all(_is_number(v) for v in vr)
            and vr[0] <= vr[1]
        ):
            problems.append(
                f"{where}, key 'valid_range': must be [low, high] with low <= high, got {vr!r}"
            )
    if "role" in entry:
        role = entry["role"]
        needed = {
            "strata": CODED_TYPES,
            "weight": {"weight"},
            "fpc": {"numeric", "integer"},
            "id": {"id"},
        }
        if role not in ROLES:
            problems.append(
                f"{where}, key 'role': {role!r} is not a role; use one of {', '.join(ROLES)}"
            )
        elif vtype in VARIABLE_TYPES and vtype not in needed[role]:
            problems.append(
                f"{where}, key 'role': role {role} needs type {' or '.join(sorted(needed[role]))}, "
                f"got {vtype}"
            )
    for key in ("group", "mrset"):
        if key in entry and not _nonempty_str(entry[key]):
            problems.append(f"{where}, key {key!r}: must be the name of an entry under {key}s")
    return valid_name


def _check_roles(by_name: Mapping[str, Mapping], problems: list[str]) -> None:
    for role in ROLES:
        holders = [n for n, e in by_name.items() if e.get("role") == role]
        if len(holders) > 1:
            problems.append(
                f"variables {holders}, key 'role': role {role} is given to more than one variable; "
                "keep it on one"
            )


def _check_sets(
    sets: Any, section: str, tag: str, by_name: Mapping[str, Mapping], problems: list[str]
) -> None:
    if not isinstance(sets, Mapping):
        problems.append(f"{section}: must be a mapping of set name to its label and variables")
        return
    for set_name, spec in sets.items():
        where = f"{section}.{set_name}"
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: must be a mapping with 'label' and 'variables'")
            continue
        for key in spec:
            if key not in _SET_KEYS:
                problems.append(f"{where}, key {key!r}: unknown key{_suggest(str(key), _SET_KEYS)}")
        if not _nonempty_str(spec.get("label")):
            problems.append(f"{where}, key 'label': must be a non-empty string")
        members = spec.get("variables")
        if not isinstance(members, list) or not members:
            problems.append(f"{where}, key 'variables': must be a non-empty list of variable names")
            members = []
        if len(set(map(str, members))) != len(members):
            problems.append(f"{where}, key 'variables': a variable is listed twice")
        for member in members:
            if member not in by_name:
                problems.append(
                    f"{where}, key 'variables': {member!r} is not a variable in this codebook"
                    f"{_suggest(str(member), by_name)}"
                )
        if section == "mrsets":
            counted = spec.get("counted_value", 1)
            if spec.get("kind", "dichotomies") != "dichotomies":
                problems.append(f"{where}, key 'kind': only 'dichotomies' sets are supported")
            if not _is_int(counted):
                problems.append(
                    f"{where}, key 'counted_value': must be an integer code, got {counted!r}"
                )
            for member in members:
                entry = by_name.get(member)
                if entry is not None and entry.get("type") != "binary":
                    problems.append(
                        f"{where}, key 'variables': {member!r} is {entry.get('type')}; a dichotomy "
                        "set holds binary variables"
                    )
    for name, entry in by_name.items():
        target = entry.get(tag)
        if target is None or not isinstance(target, str):
            continue
        spec = sets.get(target) if isinstance(sets, Mapping) else None
        if spec is None:
            problems.append(
                f"variable {name!r}, key {tag!r}: {target!r} is not defined under {section}"
                f"{_suggest(target, sets if isinstance(sets, Mapping) else [])}"
            )
        elif isinstance(spec, Mapping) and name not in (spec.get("variables") or []):
            problems.append(
                f"variable {name!r}, key {tag!r}: {section}.{target} does not list {name!r}; "
                "add it to that set's variables"
            )


# --------------------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Variable:
    """One column of a survey wave, as described by its codebook entry.

    Attributes
    ----------
    name, label, question, question_source, type, universe, status : str
        See ``instruments/README.md`` for the meaning of each key.
    codes : Mapping[int, str]
        Substantive codes and labels, in codebook order (empty for non-coded types).
    missing_codes : Mapping[int, str]
        Codes that mean "no substantive answer" (e.g. 8 "don't know").
    ordered : bool
        Whether the codes form an ordinal scale.
    valid_range : tuple of two numbers or None
        Allowed range of an integer or numeric variable.
    role : str or None
        ``strata``, ``weight``, ``fpc`` or ``id`` for design columns.
    group, mrset : str or None
        Name of the item group or multiple-response set the variable belongs to.
    source_lines : tuple of str
        ``file:line`` references into the source documents.
    note : str or None
        What is assumed, and why.
    """

    name: str
    label: str
    question: str
    question_source: str
    type: str
    universe: str
    status: str
    source_lines: tuple[str, ...]
    codes: Mapping[int, str]
    missing_codes: Mapping[int, str]
    ordered: bool = False
    valid_range: tuple[float, float] | None = None
    role: str | None = None
    group: str | None = None
    mrset: str | None = None
    note: str | None = None

    @property
    def is_coded(self) -> bool:
        """True for categorical and binary variables."""
        return self.type in CODED_TYPES

    @property
    def all_codes(self) -> Mapping[int, str]:
        """Substantive codes followed by missing codes."""
        return MappingProxyType({**self.codes, **self.missing_codes})


@dataclass(frozen=True)
class ItemSet:
    """A named set of variables: an item ``group`` or a multiple-response set (``mrset``).

    Iterating over it yields the variable names, so ``df[list(cb.group("modern"))]`` works.
    """

    name: str
    label: str
    variables: tuple[str, ...]
    kind: str
    note: str | None = None
    source_lines: tuple[str, ...] = ()
    counted_value: int | None = None

    def __iter__(self):
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)


@dataclass(frozen=True)
class Codebook:
    """A validated, read-only codebook of one survey wave.

    Build it with :func:`load_codebook` or :meth:`Codebook.from_dict`.

    Attributes
    ----------
    wave : Mapping
        Wave metadata (survey, year, universe, min_age, n, fieldwork, design facts...).
    variables : Mapping[str, Variable]
        Variables in codebook order.
    groups, mrsets : Mapping[str, ItemSet]
        Item groups and multiple-response sets.
    source : str
        Where the codebook was read from.

    Examples
    --------
    >>> cb = load_codebook(2012)
    >>> cb.year, cb.min_age
    (2012, 15)
    >>> list(cb.variables)[:3]
    ['resp_id', 'wave', 'stratum']
    """

    wave: Mapping[str, Any]
    variables: Mapping[str, Variable]
    groups: Mapping[str, ItemSet]
    mrsets: Mapping[str, ItemSet]
    source: str = "<codebook>"

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str = "<codebook>") -> Codebook:
        """Validate a parsed codebook (see :func:`validate_codebook`) and build the object.

        Examples
        --------
        >>> raw = {
        ...     "wave": {"survey": "demo", "year": 2020, "universe": "adults", "min_age": 18, "n": 10},
        ...     "variables": [{
        ...         "name": "q1", "label": "Trust", "question": "Do you trust people?",
        ...         "question_source": "reconstructed", "type": "binary",
        ...         "codes": {0: "no", 1: "yes"}, "universe": "all", "source_lines": [],
        ...         "status": "assumed", "note": "example"}],
        ... }
        >>> Codebook.from_dict(raw).value_labels("q1")
        {0: 'no', 1: 'yes'}
        """
        validate_codebook(raw, source=source)
        variables = {}
        for entry in raw["variables"]:
            vr = entry.get("valid_range")
            variables[entry["name"]] = Variable(
                name=entry["name"],
                label=entry["label"],
                question=entry["question"],
                question_source=entry["question_source"],
                type=entry["type"],
                universe=entry["universe"],
                status=entry["status"],
                source_lines=tuple(entry["source_lines"]),
                codes=MappingProxyType({int(k): v for k, v in (entry.get("codes") or {}).items()}),
                missing_codes=MappingProxyType(
                    {int(k): v for k, v in (entry.get("missing_codes") or {}).items()}
                ),
                ordered=bool(entry.get("ordered", False)),
                valid_range=(vr[0], vr[1]) if vr is not None else None,
                role=entry.get("role"),
                group=entry.get("group"),
                mrset=entry.get("mrset"),
                note=entry.get("note"),
            )

        def sets(section: str, kind: str) -> Mapping[str, ItemSet]:
            out = {}
            for name, spec in (raw.get(section) or {}).items():
                out[name] = ItemSet(
                    name=name,
                    label=spec["label"],
                    variables=tuple(spec["variables"]),
                    kind=kind,
                    note=spec.get("note"),
                    source_lines=tuple(spec.get("source_lines") or ()),
                    counted_value=int(spec.get("counted_value", 1)) if kind == "mrset" else None,
                )
            return MappingProxyType(out)

        return cls(
            wave=_freeze(raw["wave"]),
            variables=MappingProxyType(variables),
            groups=sets("groups", "group"),
            mrsets=sets("mrsets", "mrset"),
            source=source,
        )

    # ----------------------------------------------------------------- metadata
    @property
    def survey(self) -> str:
        """Survey identifier, e.g. ``'attitudes2007'``."""
        return self.wave["survey"]

    @property
    def year(self) -> int:
        """Year of the wave."""
        return self.wave["year"]

    @property
    def min_age(self) -> int:
        """Lowest age in the wave's universe."""
        return self.wave["min_age"]

    @property
    def n(self) -> int:
        """Published sample size."""
        return self.wave["n"]

    @property
    def title(self) -> str:
        """Human-readable title (falls back to the survey identifier)."""
        return self.wave.get("title", self.survey)

    def __repr__(self) -> str:
        return (
            f"Codebook(survey={self.survey!r}, year={self.year}, n={self.n}, "
            f"variables={len(self.variables)}, source={self.source!r})"
        )

    # ----------------------------------------------------------------- lookups
    def variable(self, name: str) -> Variable:
        """The :class:`Variable` called ``name``.

        Raises
        ------
        CodebookError
            If the codebook has no such variable.

        Examples
        --------
        >>> load_codebook(2007).variable("ethnic").codes[2]
        'Russian'
        """
        try:
            return self.variables[name]
        except (KeyError, TypeError):
            raise CodebookError(
                f"variable {name!r} is not in codebook {self.survey}{_suggest(str(name), self.variables)}; "
                f"check the spelling or add it to {self.source}"
            ) from None

    def value_labels(self, name: str) -> dict[int, str]:
        """Code-to-label mapping of a variable, substantive codes first, then missing codes.

        Examples
        --------
        >>> load_codebook(2007).value_labels("labour")
        {1: 'tough competition for jobs', 2: 'only specific niches', 3: 'no noticeable impact', 4: 'positive: brings jobs/investment', 8: "don't know"}
        """
        return dict(self.variable(name).all_codes)

    def labels_for(self, name: str, codes: Iterable[Any]) -> list[str | None]:
        """Labels of a sequence of codes (missing codes included; NA gives ``None``).

        Raises
        ------
        CodebookError
            If a code is not in the codebook; the message lists every unknown code.

        Examples
        --------
        >>> load_codebook(2007).labels_for("attitude", [1, 5, 8])
        ['very good', 'very poor', "don't know"]
        """
        labels = self.value_labels(name)
        values = pd.Series(list(codes), dtype=object)
        na = values.isna()
        mapped = values.map(
            lambda v: labels.get(int(v)) if _is_number(v) and float(v).is_integer() else None
        )
        unknown = values[~na & mapped.isna()]
        if len(unknown):
            raise CodebookError(
                f"variable {name!r} has no label for code(s) {_format_counts(unknown.value_counts(sort=False))}; "
                f"its codes are {sorted(labels)}"
            )
        return [
            None if is_na else lab for lab, is_na in zip(mapped.tolist(), na.tolist(), strict=True)
        ]

    def code_for(self, name: str, label: str) -> int:
        """Code of a label (exact match first, then ignoring case and repeated spaces).

        Raises
        ------
        CodebookError
            If no code has that label; the message lists the variable's labels.

        Examples
        --------
        >>> cb = load_codebook(2007)
        >>> cb.code_for("attitude", "Indifferent")
        3
        >>> cb.code_for("attitude", "neutral")
        Traceback (most recent call last):
        ...
        surveylib.errors.CodebookError: variable 'attitude' has no code labelled 'neutral'; its labels are 1 'very good', 2 'good', 3 'indifferent', 4 'poor', 5 'very poor', 8 "don't know", 9 'refusal'
        """
        labels = self.value_labels(name)
        for code, lab in labels.items():
            if lab == label:
                return code
        wanted = _norm_label(label)
        for code, lab in labels.items():
            if _norm_label(lab) == wanted:
                return code
        listing = ", ".join(f"{c} {lab!r}" for c, lab in labels.items())
        raise CodebookError(
            f"variable {name!r} has no code labelled {label!r}; its labels are {listing or '(none)'}"
        )

    def group(self, name: str) -> ItemSet:
        """The item group called ``name`` (e.g. the familiarity items ``'modern'``).

        Examples
        --------
        >>> len(load_codebook(2007).group("culture"))
        9
        """
        try:
            return self.groups[name]
        except KeyError:
            raise CodebookError(
                f"group {name!r} is not in codebook {self.survey}; its groups are "
                f"{', '.join(self.groups) or '(none)'}"
            ) from None

    def mrset(self, name: str) -> ItemSet:
        """The multiple-response set called ``name``.

        Examples
        --------
        >>> load_codebook(2012).mrset("reasons").variables[:2]
        ('reason_work', 'reason_trade')
        """
        try:
            return self.mrsets[name]
        except KeyError:
            raise CodebookError(
                f"multiple-response set {name!r} is not in codebook {self.survey}; its sets are "
                f"{', '.join(self.mrsets) or '(none)'}"
            ) from None

    def design_columns(self) -> dict[str, str | None]:
        """Names of the design columns: ``{'strata': ..., 'weights': ..., 'fpc': ...}``.

        A role the codebook does not define maps to ``None``.

        Examples
        --------
        >>> load_codebook(2012).design_columns()["strata"]
        'stratum'
        """
        out: dict[str, str | None] = {"strata": None, "weights": None, "fpc": None}
        for var in self.variables.values():
            key = ROLES.get(var.role) if var.role else None
            if key is not None:
                out[key] = var.name
        return out

    # ----------------------------------------------------------------- frames
    def _present(self, df: pd.DataFrame) -> list[Variable]:
        return [v for name, v in self.variables.items() if name in df.columns]

    def validate_frame(
        self, df: pd.DataFrame, *, require_all: bool = False, require_design: bool = True
    ) -> None:
        """Check a frame of codes against the codebook.

        Checks, for every codebook variable present in ``df``: numeric dtype; whole numbers for
        coded, integer and id columns; codes listed in the codebook (offending values are reported
        with their counts); values inside ``valid_range``; unique, non-missing ids; complete,
        positive design columns; one ``fpc`` value per stratum. Columns the codebook does not
        describe are ignored. All problems are reported together.

        Parameters
        ----------
        df : pandas.DataFrame
            Codes, one row per respondent. It is not modified.
        require_all : bool, default False
            Also require every codebook variable to be present.
        require_design : bool, default True
            Require the design columns (strata, weight, fpc) to be present.

        Raises
        ------
        CodebookError
            Listing every problem found.

        Examples
        --------
        >>> import pandas as pd
        >>> cb = load_codebook(2007)
        >>> cb.validate_frame(pd.DataFrame({"attitude": [1, 3, 7, 7]}), require_design=False)
        Traceback (most recent call last):
        ...
        surveylib.errors.CodebookError: frame does not match codebook attitudes2007 (...codebook_2007.yaml):
          - column 'attitude' has codes not in the codebook: 7 (2 rows); add them under attitude's codes or missing_codes, or recode them
        """
        if not isinstance(df, pd.DataFrame):
            raise CodebookError(f"validate_frame needs a pandas DataFrame, got {type(df).__name__}")
        problems: list[str] = []
        if df.columns.duplicated().any():
            dup = sorted(set(map(str, df.columns[df.columns.duplicated()])))
            problems.append(f"columns {dup} appear more than once; keep one of each")
        design = {
            v.name: v.role for v in self.variables.values() if v.role in ("strata", "weight", "fpc")
        }
        for name, role in design.items():
            if require_design and name not in df.columns:
                problems.append(
                    f"design column {name!r} (role {role}) is missing; add it to the frame, or pass "
                    "require_design=False for a frame without design variables"
                )
        if require_all:
            absent = [n for n in self.variables if n not in df.columns and n not in design]
            if absent:
                problems.append(
                    f"codebook variables {absent} are missing from the frame; add them or pass "
                    "require_all=False"
                )
        if not df.columns.duplicated().any():
            for var in self._present(df):
                problems.extend(self._column_problems(var, df[var.name]))
            strata, fpc = self.design_columns()["strata"], self.design_columns()["fpc"]
            if strata in df.columns and fpc in df.columns and not problems:
                per = df.groupby(strata, dropna=False)[fpc].nunique(dropna=False)
                bad = per[per > 1]
                if len(bad):
                    problems.append(
                        f"column {fpc!r} (fpc) takes several values within stratum/strata "
                        f"{[int(s) for s in bad.index]}; N_h must be one number per stratum"
                    )
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise CodebookError(
                f"frame does not match codebook {self.survey} ({self.source}):\n{listing}"
            )

    def _column_problems(self, var: Variable, s: pd.Series) -> list[str]:
        name = var.name
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            return [
                f"column {name!r} has dtype {s.dtype}, not numbers; surveylib frames hold numeric "
                "codes: convert labels with Codebook.code_for, or read files with "
                "surveylib.io.read_csv / read_spss"
            ]
        out: list[str] = []
        values = s.astype("float64")
        present = values.notna()
        if var.type in INTEGER_TYPES:
            frac = values[present & (values % 1 != 0)]
            if len(frac):
                out.append(
                    f"column {name!r} ({var.type}) holds non-whole numbers: "
                    f"{_format_counts(frac.value_counts(sort=False))}; codes must be integers"
                )
                return out
        missing_codes = list(var.missing_codes)
        if var.is_coded:
            unknown = values[present & ~values.isin(list(var.all_codes))]
            if len(unknown):
                out.append(
                    f"column {name!r} has codes not in the codebook: "
                    f"{_format_counts(unknown.value_counts().sort_index())}; add them under "
                    f"{name}'s codes or missing_codes, or recode them"
                )
        if var.valid_range is not None:
            lo, hi = var.valid_range
            outside = values[
                present & ~values.isin(missing_codes) & ((values < lo) | (values > hi))
            ]
            if len(outside):
                out.append(
                    f"column {name!r} has values outside its valid range [{lo}, {hi}]: "
                    f"{_format_counts(outside.value_counts().sort_index())}; correct them or declare "
                    "them as missing_codes"
                )
        if var.type == "id":
            if (~present).any():
                out.append(
                    f"column {name!r} (id) has {int((~present).sum())} missing value(s); every row needs an id"
                )
            dup = values[present & values.duplicated(keep=False)]
            if len(dup):
                out.append(
                    f"column {name!r} (id) has repeated ids: "
                    f"{_format_counts(dup.value_counts().sort_index())}; ids must be unique"
                )
        if var.role in ("strata", "weight", "fpc"):
            if (~present).any():
                out.append(
                    f"design column {name!r} has {int((~present).sum())} missing value(s); every row "
                    "needs a value"
                )
            if var.role in ("weight", "fpc"):
                bad = values[present & ~(np.isfinite(values) & (values > 0))]
                if len(bad):
                    out.append(
                        f"design column {name!r} has non-positive or infinite values: "
                        f"{_format_counts(bad.value_counts().sort_index())}; {var.role} must be > 0"
                    )
        return out

    def missing_to_na(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of ``df`` with every missing-data code set to NA.

        Integer columns that receive NA become ``float64`` (``NaN``), so the result can be handed
        to numpy-based estimators; nullable ``Int64`` columns stay ``Int64``. Columns the codebook
        does not describe are copied unchanged. ``df`` itself is not modified.

        Examples
        --------
        >>> import pandas as pd
        >>> cb = load_codebook(2007)
        >>> cb.missing_to_na(pd.DataFrame({"attitude": [1, 8, 9, 4]}))["attitude"].tolist()
        [1.0, nan, nan, 4.0]
        """
        out = df.copy()
        for var in self._present(df):
            if var.missing_codes:
                col = out[var.name]
                hit = col.isin(list(var.missing_codes))
                if hit.any():
                    out[var.name] = col.mask(hit)
        return out

    def apply_labels(self, df: pd.DataFrame, *, missing: str = "keep") -> pd.DataFrame:
        """Return a copy of ``df`` with coded columns turned into labelled ``Categorical`` columns.

        Ordinal variables (``ordered: true``) become ordered categoricals. Integer, numeric, id
        and weight columns, and columns not in the codebook, are copied unchanged.

        Parameters
        ----------
        df : pandas.DataFrame
            Codes; validated first for the columns being labelled.
        missing : {'keep', 'na'}, default 'keep'
            ``'keep'`` labels missing-data codes too (they become the last categories, after
            the substantive ones, so order comparisons involving them are meaningless);
            ``'na'`` turns them into NA.

        Raises
        ------
        CodebookError
            If a column holds codes the codebook does not know.

        Examples
        --------
        >>> import pandas as pd
        >>> cb = load_codebook(2007)
        >>> out = cb.apply_labels(pd.DataFrame({"attitude": [2, 3, 8]}))
        >>> out["attitude"].tolist()
        ['good', 'indifferent', "don't know"]
        >>> out["attitude"].cat.ordered
        True
        """
        if missing not in ("keep", "na"):
            raise CodebookError(f"missing must be 'keep' or 'na', got {missing!r}")
        coded = [v for v in self._present(df) if v.is_coded]
        if coded:
            self.validate_frame(df[[v.name for v in coded]], require_design=False)
        out = df.copy()
        for var in coded:
            mapping = dict(var.codes) if missing == "na" else dict(var.all_codes)
            labels = out[var.name].map(mapping)
            out[var.name] = pd.Categorical(
                labels, categories=list(mapping.values()), ordered=var.ordered
            )
        return out


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


# --------------------------------------------------------------------------------------- waves


@dataclass(frozen=True)
class HarmonizedItem:
    """How one variable is compared between waves.

    Attributes
    ----------
    name : str
    method : str
        ``identical``, ``recode``, ``2012_only`` or ``design``.
    recode : Mapping[int, Mapping[int, int | None]]
        For ``recode`` items: per wave, old code to new code (``None`` = leave the comparison).
    note : str
    """

    name: str
    method: str
    recode: Mapping[int, Mapping[int, int | None]]
    note: str

    @property
    def comparable(self) -> bool:
        """True when the item can be compared between waves (identical or recode)."""
        return self.method in ("identical", "recode")


@dataclass(frozen=True)
class Harmonization:
    """The harmonization map of the survey waves (read with :func:`load_harmonization`).

    Examples
    --------
    >>> h = load_harmonization()
    >>> h.item("attitude").method, h.item("edu_self").comparable
    ('identical', False)
    >>> h.min_age(2012), h.min_age(2012, universe="wave")
    (18, 15)
    """

    waves: tuple[int, ...]
    items: Mapping[str, HarmonizedItem]
    universe: Mapping[str, Any]
    source: str = "<harmonization>"

    def item(self, name: str) -> HarmonizedItem:
        """The harmonization entry of variable ``name``."""
        try:
            return self.items[name]
        except KeyError:
            raise CodebookError(
                f"variable {name!r} has no entry in the harmonization map {self.source}"
                f"{_suggest(name, self.items)}; add one saying how it compares between waves"
            ) from None

    def comparable_items(self) -> tuple[str, ...]:
        """Names of the items that can be compared between waves."""
        return tuple(n for n, it in self.items.items() if it.comparable)

    @property
    def age_variable(self) -> str:
        """Column holding age, used by the universe rule."""
        return self.universe["common"]["variable"]

    def min_age(self, wave: int, *, universe: str = "common") -> int:
        """Lowest age of ``universe`` (``'common'`` for comparisons or ``'wave'``) in ``wave``."""
        self._check_wave(wave)
        if universe == "common":
            return int(self.universe["common"]["min_age"])
        if universe == "wave":
            return int(self.universe["wave"][wave]["min_age"])
        raise CodebookError(f"universe must be 'common' or 'wave', got {universe!r}")

    def _check_wave(self, wave: Any) -> None:
        if not _is_int(wave) or int(wave) not in self.waves:
            raise CodebookError(
                f"wave {wave!r} is not in the harmonization map; its waves are "
                f"{', '.join(map(str, self.waves))}"
            )

    def apply_recodes(self, df: pd.DataFrame, wave: int) -> pd.DataFrame:
        """Return a copy of ``df`` with the wave's harmonization recodes applied.

        Codes mapped to ``None`` become NA; other codes are unchanged.

        Examples
        --------
        >>> import pandas as pd
        >>> h = load_harmonization()
        >>> h.apply_recodes(pd.DataFrame({"agegrp": [1, 2, 6]}), 2012)["agegrp"].tolist()
        [nan, 2.0, 6.0]
        """
        self._check_wave(wave)
        out = df.copy()
        for item in self.items.values():
            table = item.recode.get(int(wave))
            if not table or item.name not in out.columns:
                continue
            col = out[item.name]
            dropped = [old for old, new in table.items() if new is None]
            moved = {old: new for old, new in table.items() if new is not None}
            if moved:
                col = col.replace(moved)
            if dropped:
                col = col.mask(col.isin(dropped))
            out[item.name] = col
        return out


def _validate_harmonization(raw: Any, source: str) -> None:
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise CodebookError(f"{source}: the harmonization map must be a YAML mapping")
    waves = raw.get("waves")
    if not (isinstance(waves, list) and waves and all(_is_int(w) for w in waves)):
        problems.append("key 'waves': must be a list of wave years, e.g. [2007, 2012]")
        waves = []
    uni = raw.get("universe")
    if not isinstance(uni, Mapping):
        problems.append("key 'universe': must describe the 'common' and per-'wave' universes")
    else:
        common = uni.get("common")
        if not (
            isinstance(common, Mapping)
            and _is_int(common.get("min_age"))
            and _nonempty_str(common.get("variable"))
        ):
            problems.append(
                "universe.common: needs 'variable' (the age column) and an integer 'min_age'"
            )
        per_wave = uni.get("wave")
        for w in waves:
            entry = per_wave.get(w) if isinstance(per_wave, Mapping) else None
            if not (isinstance(entry, Mapping) and _is_int(entry.get("min_age"))):
                problems.append(f"universe.wave.{w}: needs an integer 'min_age'")
    items = raw.get("items")
    if not isinstance(items, Mapping) or not items:
        problems.append("key 'items': must map each variable to its method")
        items = {}
    for name, spec in items.items():
        where = f"item {name!r}"
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: must be a mapping with 'method' and 'note'")
            continue
        method = spec.get("method")
        if method not in HARMONIZATION_METHODS:
            problems.append(
                f"{where}, key 'method': {method!r} is not allowed; use one of {', '.join(HARMONIZATION_METHODS)}"
            )
        if not _nonempty_str(spec.get("note")):
            problems.append(f"{where}, key 'note': say what the comparison rests on")
        recode = spec.get("recode")
        if method == "recode":
            if not isinstance(recode, Mapping) or not recode:
                problems.append(
                    f"{where}, key 'recode': a recode item needs wave -> {{old: new}} tables"
                )
            else:
                for w, table in recode.items():
                    if w not in waves:
                        problems.append(f"{where}, key 'recode': wave {w!r} is not in 'waves'")
                    if not isinstance(table, Mapping) or not all(
                        _is_int(k) and (v is None or _is_int(v)) for k, v in table.items()
                    ):
                        problems.append(
                            f"{where}, key 'recode': wave {w} must map integer codes to integer codes or null"
                        )
        elif recode is not None:
            problems.append(f"{where}, key 'recode': only method 'recode' takes a recode table")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CodebookError(
            f"{source}: {len(problems)} problem(s) in the harmonization map:\n{listing}"
        )


def load_harmonization(
    path: str | os.PathLike[str] | None = None,
    *,
    instruments_dir: str | os.PathLike[str] | None = None,
) -> Harmonization:
    """Read and validate the harmonization map (``instruments/harmonization.yaml`` by default).

    Parameters
    ----------
    path : path-like, optional
        Explicit file; otherwise ``harmonization.yaml`` in the instruments folder.
    instruments_dir : path-like, optional
        Folder to look in when ``path`` is omitted.

    Examples
    --------
    >>> "attitude" in load_harmonization().comparable_items()
    True
    """
    if path is None:
        folder = Path(instruments_dir) if instruments_dir is not None else find_instruments_dir()
        path = folder / "harmonization.yaml"
    path = Path(path)
    raw = _read_yaml(path)
    _validate_harmonization(raw, str(path))
    items = {
        name: HarmonizedItem(
            name=name,
            method=spec["method"],
            recode=_freeze({int(w): dict(t) for w, t in (spec.get("recode") or {}).items()}),
            note=spec["note"],
        )
        for name, spec in raw["items"].items()
    }
    return Harmonization(
        waves=tuple(int(w) for w in raw["waves"]),
        items=MappingProxyType(items),
        universe=_freeze(raw["universe"]),
        source=str(path),
    )


def universe_mask(
    df: pd.DataFrame,
    wave: int,
    *,
    universe: str = "common",
    harmonization: Harmonization | None = None,
) -> pd.Series:
    """Boolean mask of the rows of a wave that fall in a universe.

    With ``universe='common'`` (the default for wave comparisons) this is "aged 18+" in every
    wave. Use it as a **domain** (``design.subset(mask)``) so that variances keep every stratum's
    full sample; :func:`common_universe` drops rows instead.

    Parameters
    ----------
    df : pandas.DataFrame
        One wave's frame with the age column (``age``).
    wave : int
        The wave's year.
    universe : {'common', 'wave'}
        ``'common'``: the universe shared by all waves; ``'wave'``: the wave's own universe.
    harmonization : Harmonization, optional
        Defaults to :func:`load_harmonization`.

    Raises
    ------
    CodebookError
        If the age column is missing or has missing values, or if rows lie below the wave's own
        minimum age (they cannot belong to the wave).

    Examples
    --------
    >>> import pandas as pd
    >>> universe_mask(pd.DataFrame({"age": [15, 17, 18, 40]}), 2012).tolist()
    [False, False, True, True]
    """
    h = harmonization if harmonization is not None else load_harmonization()
    cutoff = h.min_age(wave, universe=universe)
    own = h.min_age(wave, universe="wave")
    col = h.age_variable
    if col not in df.columns:
        raise CodebookError(
            f"column {col!r} is missing; the {universe} universe of wave {wave} is defined by age, "
            "so the frame needs it"
        )
    age = df[col]
    if not pd.api.types.is_numeric_dtype(age) or pd.api.types.is_bool_dtype(age):
        raise CodebookError(f"column {col!r} has dtype {age.dtype}; ages must be numbers")
    if age.isna().any():
        raise CodebookError(
            f"column {col!r} has {int(age.isna().sum())} missing value(s); those rows cannot be "
            "placed in or out of the universe: impute or drop them first"
        )
    below = age[age < own]
    if len(below):
        raise CodebookError(
            f"column {col!r} has ages below wave {wave}'s minimum of {own}: "
            f"{_format_counts(below.value_counts().sort_index())}; these rows are outside the "
            "survey's universe: check the wave or the data"
        )
    return (age >= cutoff).rename(f"universe_{universe}")


def common_universe(
    df: pd.DataFrame, wave: int, *, harmonization: Harmonization | None = None
) -> pd.DataFrame:
    """Rows of a wave inside the universe common to all waves (urban residents aged 18+).

    For 2012 this drops respondents aged 15-17; for 2007 it returns every row. The result is a
    new frame (the index is kept). For standard errors of wave comparisons prefer
    ``design.subset(universe_mask(df, wave))``, which keeps the full design.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [16, 18, 65], "attitude": [2, 3, 4]})
    >>> common_universe(df, 2012)["age"].tolist()
    [18, 65]
    """
    mask = universe_mask(df, wave, harmonization=harmonization)
    return df.loc[mask].copy()
