"""Codebooks built from a data file's own metadata, and labelled frames.

SPSS and Stata files carry most of a codebook: variable labels, value labels, user-missing
declarations (SPSS discrete values and ranges; Stata's extended missing values ``.a`` to
``.z``) and, in SPSS, each variable's measurement level. :func:`codebook_from_metadata`
turns the metadata ``pyreadstat`` reads into a :class:`~surveylib.instruments.Codebook`
(without provenance, which only a codebook of reconstructed data needs), and
:func:`labelled_frame` turns a frame of codes into the frame estimators label their results
from: coded columns become ``Categorical`` columns of their value labels (ordered for SPSS
ordinal variables), missing codes become NA, and the variable labels go to
``frame.attrs["variable_labels"]``.

The rules:

* a numeric variable with value labels and a measurement level other than ``scale`` is
  ``categorical``; its codes are the labelled codes plus any unlabelled whole number found
  in the data (labelled by the number itself), in numeric order;
* every other numeric variable is ``numeric`` (a ``scale`` variable's value labels, such as
  99 "refused" on an age, only name its missing codes);
* SPSS user-missing values (discrete values and ranges) are the variable's missing codes,
  labelled by their value label or "user-missing"; text variables are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .codebook import Codebook

#: Key of ``DataFrame.attrs`` holding a frame's variable labels (name -> label).
VARIABLE_LABELS = "variable_labels"
#: Key of ``DataFrame.attrs`` holding how many values of each variable were user-missing.
USER_MISSING = "user_missing"

_NUMERIC_READSTAT = {"double", "float", "int8", "int16", "int32", "int64"}


def _is_whole(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(
        x, bool | np.bool_) and np.isfinite(x) and float(x).is_integer()


def user_missing_masks(data: pd.DataFrame, meta) -> dict[str, np.ndarray]:
    """Rows whose value the file declares user-missing, per variable (only variables with any).

    SPSS: a value equal to a discrete missing value or inside a missing range. Stata
    (read with ``user_missing=True``): an extended missing value, which pyreadstat gives as
    its letter (``"a"`` .. ``"z"``).
    """
    out: dict[str, np.ndarray] = {}
    ranges = getattr(meta, "missing_ranges", None) or {}
    for name, spans in ranges.items():
        if name not in data.columns:
            continue
        values = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        hit = np.zeros(len(values), dtype=bool)
        for span in spans:
            lo, hi = span.get("lo"), span.get("hi")
            if _is_number(lo) and _is_number(hi):
                with np.errstate(invalid="ignore"):
                    hit |= (values >= lo) & (values <= hi)
        if hit.any():
            out[name] = hit
    for name in getattr(meta, "missing_user_values", None) or {}:
        if name in data.columns:
            hit = data[name].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
            if hit.any():
                out[name] = hit
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def numeric_codes(data: pd.DataFrame, meta) -> pd.DataFrame:
    """A copy of ``data`` whose numeric variables are ``float64`` (Stata's extended missing
    letters become NaN; SPSS user-missing values stay as their codes)."""
    out = data.copy()
    kinds = getattr(meta, "readstat_variable_types", None) or {}
    for name in out.columns:
        if kinds.get(name) in _NUMERIC_READSTAT and out[name].dtype == object:
            out[name] = pd.to_numeric(out[name].where(~out[name].map(
                lambda v: isinstance(v, str))), errors="coerce").astype("float64")
    return out


def _unique_labels(labels: Mapping[int, str]) -> dict[int, str]:
    """Labels made unique (a repeated label gets its code appended), non-empty."""
    seen: dict[str, int] = {}
    for label in labels.values():
        key = " ".join(str(label).split()).casefold()
        seen[key] = seen.get(key, 0) + 1
    out = {}
    for code, label in labels.items():
        text = str(label).strip() or str(code)
        key = " ".join(text.split()).casefold()
        out[code] = f"{text} ({code})" if seen.get(key, 0) > 1 else text
    return out


def _variable_entry(name: str, values: pd.Series, meta, masks) -> dict[str, Any]:
    label = (getattr(meta, "column_names_to_labels", None) or {}).get(name) or name
    measure = (getattr(meta, "variable_measure", None) or {}).get(name, "unknown")
    file_labels = (getattr(meta, "variable_value_labels", None) or {}).get(name) or {}
    numeric_labels = {int(k): v for k, v in file_labels.items() if _is_whole(k)}
    present = values.dropna()
    hit = masks.get(name)
    missing_values = set(values[hit].dropna().tolist()) if hit is not None else set()
    declared = set()
    for span in (getattr(meta, "missing_ranges", None) or {}).get(name, []):
        lo, hi = span.get("lo"), span.get("hi")
        declared |= {c for c in numeric_labels if _is_number(lo) and lo <= c <= hi}
        if _is_whole(lo) and lo == hi:
            declared.add(int(lo))
    missing = {int(v) for v in missing_values if _is_whole(v)} | declared
    entry: dict[str, Any] = {"name": name, "label": str(label).strip() or name}
    observed = set(present.tolist()) - missing_values
    coded = (
        measure != "scale"
        and any(c not in missing for c in numeric_labels)
        and all(_is_whole(v) for v in observed)
        and len(file_labels) == len(numeric_labels)
    )
    if coded:
        codes = {int(v): str(int(v)) for v in observed}
        codes.update({c: lab for c, lab in numeric_labels.items() if c not in missing})
        labels = _unique_labels({c: codes[c] for c in sorted(codes)}
                                | {c: numeric_labels.get(c, "user-missing")
                                   for c in sorted(missing)})
        entry.update(type="categorical", codes={c: labels[c] for c in sorted(codes)},
                     ordered=measure == "ordinal")
    else:
        entry["type"] = "numeric"
        labels = {c: numeric_labels.get(c, "user-missing") for c in sorted(missing)}
        labels = _unique_labels(labels)
    if missing:
        entry["missing_codes"] = {c: labels[c] for c in sorted(missing)}
    return entry


def codebook_from_metadata(
    data: pd.DataFrame, meta, *, survey: str, source: str = "<file>"
) -> Codebook:
    """The codebook a data file's metadata describes (see the module docstring for the rules).

    Parameters
    ----------
    data : pandas.DataFrame
        The file's values as pyreadstat reads them with ``user_missing=True`` (user-missing
        values present), numeric columns as numbers (see :func:`numeric_codes`).
    meta : pyreadstat metadata
        What ``pyreadstat.read_sav`` or ``read_dta`` returned with the data.
    survey : str
        Identifier of the survey (the file's name, say).
    source : str
        Where the metadata came from, for messages.

    Returns
    -------
    Codebook
        Without provenance; ``wave`` has ``survey``, ``n`` (rows of the file) and ``title``
        (the file label) when the file has one.

    Examples
    --------
    >>> import types, pandas as pd
    >>> meta = types.SimpleNamespace(
    ...     column_names_to_labels={"q1": "Trust in people"},
    ...     variable_value_labels={"q1": {1: "a lot", 2: "not at all", 9: "refused"}},
    ...     missing_ranges={"q1": [{"lo": 9.0, "hi": 9.0}]}, variable_measure={"q1": "ordinal"},
    ...     readstat_variable_types={"q1": "double"}, file_label=None)
    >>> cb = codebook_from_metadata(pd.DataFrame({"q1": [1.0, 2.0, 9.0, 3.0]}), meta,
    ...                             survey="demo")
    >>> cb.value_labels("q1"), cb.variable("q1").ordered, cb.variable("q1").label
    ({1: 'a lot', 2: 'not at all', 3: '3', 9: 'refused'}, True, 'Trust in people')
    """
    masks = user_missing_masks(data, meta)
    kinds = getattr(meta, "readstat_variable_types", None) or {}
    variables = [
        _variable_entry(name, data[name], meta, masks)
        for name in data.columns
        if kinds.get(name, "double") in _NUMERIC_READSTAT
        and pd.api.types.is_numeric_dtype(data[name])
        and not pd.api.types.is_bool_dtype(data[name])
    ]
    wave: dict[str, Any] = {"survey": survey, "n": max(len(data), 1)}
    title = getattr(meta, "file_label", None)
    if title:
        wave["title"] = str(title)
    return Codebook.from_dict({"wave": wave, "variables": variables}, source=source)


def labelled_frame(
    codes: pd.DataFrame, codebook: Codebook, *, masks: Mapping[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """Codes turned into labels: what estimators label their results from.

    Rows in ``masks`` (user-missing values of the file) and the codebook's missing codes
    become NA; coded columns become ``Categorical`` columns of their labels (ordered for
    ordinal variables; categories in code order); ``attrs["variable_labels"]`` maps each
    column the codebook describes to its label, and ``attrs["user_missing"]`` counts the
    values set to NA per variable. ``codes`` is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> from surveylib.instruments import load_codebook
    >>> out = labelled_frame(pd.DataFrame({"attitude": [2, 8, 1]}), load_codebook(2007))
    >>> out["attitude"].tolist(), out.attrs["user_missing"], out.attrs["variable_labels"]
    (['good', nan, 'very good'], {'attitude': 1}, {'attitude': 'Attitude towards migrants from China'})
    """
    out = codes.copy()
    counted: dict[str, int] = {}
    for name, hit in (masks or {}).items():
        if name in out.columns and hit.any():
            out[name] = out[name].mask(hit)
            counted[name] = int(hit.sum())
    for name, var in codebook.variables.items():
        if name in out.columns and var.missing_codes:
            hit = out[name].isin(list(var.missing_codes)).to_numpy(dtype=bool)
            if hit.any():
                out[name] = out[name].mask(hit)
                counted[name] = counted.get(name, 0) + int(hit.sum())
    out = codebook.apply_labels(out, missing="na")
    out.attrs = {
        VARIABLE_LABELS: {n: v.label for n, v in codebook.variables.items() if n in out.columns},
        USER_MISSING: counted,
    }
    return out
