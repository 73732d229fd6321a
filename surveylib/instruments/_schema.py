"""The codebook schema: allowed values, small helpers and :func:`validate_codebook`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeGuard

import numpy as np
import pandas as pd
import yaml

from ..errors import CodebookError

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
#: Allowed ``question_source`` values in a codebook of reconstructed data. There is
#: deliberately no value for "original wording" there; other codebooks may also say "original".
QUESTION_SOURCES = ("reconstructed", "derived", "administrative")
#: The provenance keys of a variable: all required once a codebook records provenance.
PROVENANCE_KEYS = ("question", "question_source", "universe", "source_lines", "status")
#: Allowed harmonization methods.
HARMONIZATION_METHODS = ("identical", "recode", "2012_only", "design")

_TOP_KEYS = {"codebook_version", "wave", "variables", "groups", "mrsets"}
_WAVE_REQUIRED = {"survey": str, "year": int, "universe": str, "min_age": int, "n": int}
_WAVE_TYPES = {**_WAVE_REQUIRED, "title": str}
_VAR_REQUIRED = ("name", "label", "type")
_VAR_OPTIONAL = (
    *PROVENANCE_KEYS,
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


def _is_int(value: object) -> TypeGuard[int | np.integer]:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_number(value: object) -> TypeGuard[int | float | np.integer | np.floating]:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _nonempty_str(value: object) -> TypeGuard[str]:
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


# --------------------------------------------------------------------------------------- schema


def records_provenance(raw: Any) -> bool:
    """Whether a parsed codebook records provenance (describes reconstructed data).

    It does when any variable gives a ``status`` or a ``question_source``; provenance is then
    all or nothing: every variable needs every key of :data:`PROVENANCE_KEYS`, and the wave
    needs ``year``, ``universe``, ``min_age`` and ``n``.  A codebook without them (built from
    a data file's own metadata, or an overlay) needs only each variable's name, label and type.
    """
    variables = raw.get("variables") if isinstance(raw, Mapping) else None
    if not isinstance(variables, list):
        return True
    return any(isinstance(e, Mapping) and ("status" in e or "question_source" in e)
               for e in variables)


def validate_codebook(raw: Any, *, source: str = "<codebook>") -> None:
    """Check a parsed codebook against the schema.

    Every variable needs a name, a label and a type; a codebook of reconstructed data (one
    that records provenance, see :func:`records_provenance`) also needs every provenance key
    of every variable and the wave's year, universe, minimum age and sample size.  All problems are collected and reported together in one :class:`CodebookError`; each line
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
    surveylib.errors.CodebookError: demo: 2 problem(s) in the codebook:
      - wave: key 'survey' is missing; add it (str)
      - variables: the list is empty; describe at least one column
    >>> validate_codebook({"wave": {"survey": "demo"}, "variables": [
    ...     {"name": "q1", "label": "Trust", "type": "categorical", "codes": {1: "yes", 2: "no"},
    ...      "status": "published"}]}, source="demo")
    Traceback (most recent call last):
    ...
    surveylib.errors.CodebookError: demo: 8 problem(s) in the codebook:
      - wave: key 'year' is missing; add it (int)
      - wave: key 'universe' is missing; add it (str)
      - wave: key 'min_age' is missing; add it (int)
      - wave: key 'n' is missing; add it (int)
      - variable 'q1', key 'question': missing; every variable needs name, label, type, question, question_source, universe, source_lines, status (the codebook records provenance)
      - variable 'q1', key 'question_source': missing; every variable needs name, label, type, question, question_source, universe, source_lines, status (the codebook records provenance)
      - variable 'q1', key 'universe': missing; every variable needs name, label, type, question, question_source, universe, source_lines, status (the codebook records provenance)
      - variable 'q1', key 'source_lines': missing; every variable needs name, label, type, question, question_source, universe, source_lines, status (the codebook records provenance)
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
    provenance = records_provenance(raw)
    _check_wave(raw.get("wave"), problems, provenance)
    variables = raw.get("variables")
    names: list[str] = []
    if not isinstance(variables, list):
        problems.append("variables: key 'variables' must be a list of variable entries")
        variables = []
    elif not variables:
        problems.append("variables: the list is empty; describe at least one column")
    for i, entry in enumerate(variables):
        name = _check_variable(entry, i, problems, provenance)
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


def _check_wave(wave: Any, problems: list[str], provenance: bool = True) -> None:
    if not isinstance(wave, Mapping):
        problems.append(
            "wave: key 'wave' must be a mapping with survey, year, universe, min_age, n"
        )
        return
    for key, kind in _WAVE_TYPES.items():
        if key not in wave:
            if key in _WAVE_REQUIRED and (provenance or key == "survey"):
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


def _check_variable(
    entry: Any, index: int, problems: list[str], provenance: bool = True
) -> str | None:
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
    required = (*_VAR_REQUIRED, *PROVENANCE_KEYS) if provenance else _VAR_REQUIRED
    for key in required:
        if key not in entry:
            why = " (the codebook records provenance)" if key in PROVENANCE_KEYS else ""
            problems.append(
                f"{where}, key {key!r}: missing; every variable needs {', '.join(required)}{why}"
            )
    for key in ("label", "question", "universe"):
        if key in entry and not _nonempty_str(entry[key]):
            problems.append(f"{where}, key {key!r}: must be a non-empty string, got {entry[key]!r}")
    sources = QUESTION_SOURCES if provenance else (*QUESTION_SOURCES, "original")
    if "question_source" in entry and entry["question_source"] not in sources:
        problems.append(
            f"{where}, key 'question_source': {entry['question_source']!r} is not allowed; use one of "
            f"{', '.join(sources)} (the original questionnaire wording is not available)"
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


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's where installed


class _UniqueKeyLoader(_SafeLoader):
    """PyYAML's safe loader (libyaml's C parser where installed: the pure-Python one took
    seconds over a replication's codebook reads) that refuses a key given twice in one
    mapping (PyYAML keeps the last)."""


def _construct_unique_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the base constructor reports it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"key {key!r} is given twice in one mapping (first on line {first}, again on line "
                f"{key_node.start_mark.line + 1}); a codebook keeps one entry per key, so remove "
                "or merge the duplicate", key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_unique_mapping)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CodebookError(
            f"codebook file {path} does not exist; check the path or pass a wave year such as 2007"
        ) from None
    except IsADirectoryError:
        raise CodebookError(
            f"codebook path {path} is a folder, not a file; give the path of the codebook's "
            ".yaml file inside it") from None
    except UnicodeDecodeError as exc:
        raise CodebookError(
            f"codebook file {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
            f"offset {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise CodebookError(f"cannot read codebook file {path} ({exc.strerror}); check the path "
                            "and its permissions") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path} is not valid YAML ({exc}); fix the file") from None
