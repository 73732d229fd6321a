"""Reading and writing survey files (SPSS ``.sav``, Stata ``.dta``, CSV).

:func:`read_spss` and :func:`read_stata` need no codebook: the file's own value labels,
variable labels, user-missing declarations and measurement levels make one, and the frame
they return is **labelled**: coded variables are ``Categorical`` columns of their labels,
user-missing values are NA (counted in a warning), variable labels are in
``frame.attrs["variable_labels"]``. Estimates, publication tables and charts take their level
labels and headers from it::

    df = sl.read_spss("wave.sav")
    d = sl.SurveyDesign(df, strata="region", weights="wt")
    d.proportion("trust", na_rm=True)

Given a codebook (a YAML file or a wave year of the study), a reader lays it over the file's
metadata, checks the file against it, and returns the study's **frame of codes**: codes as
integers (``int64``, or nullable ``Int64`` where a value is system-missing), missing-data
codes such as 8 "don't know" kept as codes, weights and other numeric columns as ``float64``,
checked with :meth:`~surveylib.instruments.Codebook.validate_frame` (``labelled=True`` labels
it instead). Hand estimators :meth:`~surveylib.instruments.Codebook.missing_to_na` of it.

Writers are atomic (a temporary file in the target folder is moved into place with
``os.replace``), so a crash never leaves a half-written file, and deterministic, so regenerating a
file from the same frame gives identical bytes.

Examples
--------
>>> import tempfile, pathlib
>>> import pandas as pd
>>> from surveylib.instruments import load_codebook
>>> cb = load_codebook(2007)
>>> df = pd.DataFrame({"resp_id": [1, 2], "attitude": [3, 8]})
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = write_spss(df, pathlib.Path(tmp) / "wave.sav", cb)
...     back = read_spss(path, codebook=cb, require_design=False)
>>> back.equals(df)
True
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AssumptionWarning, CodebookError
from .instruments import (
    INTEGER_TYPES,
    Codebook,
    codebook_from_metadata,
    labelled_frame,
    load_codebook,
)
from .instruments._schema import _norm_label
from .instruments.metadata import numeric_codes, user_missing_masks

__all__ = ["atomic_write", "read_csv", "read_spss", "read_stata", "write_csv", "write_spss"]

_SPSS_MAX_DISCRETE_MISSING = 3
_SPSS_FILE_LABEL_MAX = 64


def _resolve(codebook: Codebook | int | str | os.PathLike[str]) -> Codebook:
    if codebook is None:
        raise CodebookError(
            "a codebook is required: pass codebook=2007 (a wave year), a codebook file path or a "
            "Codebook from surveylib.instruments.load_codebook"
        )
    return load_codebook(codebook)


def output_mode(mode: int = 0o644) -> int:
    """``mode`` less the process umask: the permissions of a file (0o644) or folder (0o755)
    surveylib writes, as ``open`` and ``mkdir`` would give them (``mkstemp`` gives 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def atomic_write(path: str | os.PathLike[str], writer: Callable[[str], object]) -> Path:
    """Run ``writer(tmp_path)`` on a temporary file beside ``path``, then move it into place.

    Every file surveylib writes goes through here, so a crash never leaves half a file.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CodebookError(
            f"cannot write {target}: folder {folder} does not exist; create it first"
        )
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, output_mode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _coerce(df: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Give codebook columns their analysis dtypes (returns a new frame; bad columns untouched).

    Whole-number columns of coded, integer and id variables become ``int64`` (``Int64`` when
    they contain NA); numeric and weight columns become ``float64``. Columns whose values cannot
    be converted are left as they are for :meth:`Codebook.validate_frame` to report.
    """
    out = df.copy()
    for name, var in codebook.variables.items():
        if name not in out.columns:
            continue
        col = out[name]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            continue
        values = col.astype("float64")
        if var.type in INTEGER_TYPES:
            present = values.notna()
            if not (values[present] % 1 == 0).all():
                continue
            out[name] = col.astype("int64") if present.all() else col.astype("Int64")
        else:
            out[name] = values
    return out


def _labels_problems(meta, codebook: Codebook) -> list[str]:
    problems: list[str] = []
    file_labels = getattr(meta, "variable_value_labels", {}) or {}
    for name, labels in file_labels.items():
        if name not in codebook.variables:
            continue
        ours = codebook.value_labels(name)
        for code, label in labels.items():
            if not (isinstance(code, int | float | np.number) and float(code).is_integer()):
                problems.append(
                    f"variable {name!r}: the file labels the non-integer value {code!r} ({label!r}); "
                    "codes must be integers"
                )
                continue
            code = int(code)
            if code not in ours:
                problems.append(
                    f"variable {name!r}, code {code}: the file labels it {label!r} but the codebook "
                    f"has no code {code}; add it to the codebook or recode the file"
                )
            elif _norm_label(label) != _norm_label(ours[code]):
                problems.append(
                    f"variable {name!r}, code {code}: the file labels it {label!r} but the codebook "
                    f"labels it {ours[code]!r}"
                )
    declared = getattr(meta, "missing_ranges", {}) or {}
    for name, ranges in declared.items():
        var = codebook.variables.get(name)
        if var is None or not var.codes:
            continue
        for rng in ranges:
            lo, hi = rng.get("lo"), rng.get("hi")
            if not all(isinstance(v, int | float | np.number) for v in (lo, hi)):
                continue
            clash = sorted(c for c in var.codes if lo <= c <= hi)
            if clash:
                problems.append(
                    f"variable {name!r}: the file declares code(s) {clash} as user-missing but the "
                    f"codebook treats them as answers ({', '.join(repr(var.codes[c]) for c in clash)})"
                )
    return problems


def _reader_error(path, kind: str, exc: Exception) -> CodebookError:
    return CodebookError(f"cannot read {path} as {kind} ({exc}); check the file",
                         parameter="path", value=str(path))


def _report(path, counted: dict[str, int]) -> None:
    if counted:
        listing = ", ".join(f"{name} ({n})" for name, n in counted.items())
        warnings.warn(
            f"{Path(path).name}: values the file declares user-missing were set to NA: "
            f"{listing}; pass labelled=False to keep them as codes",
            AssumptionWarning, stacklevel=4)


def _read_labelled_file(path, df, meta, codebook, *, labelled, check_labels,
                        require_design) -> pd.DataFrame:
    """What read_spss and read_stata share once pyreadstat has read the file."""
    codes = numeric_codes(df, meta)
    masks = user_missing_masks(df, meta)
    own = codebook_from_metadata(codes, meta, survey=Path(path).stem, source=str(path))
    if codebook is None:
        cb = own
        labelled = True if labelled is None else labelled
    else:
        top = load_codebook(codebook)
        if check_labels:
            problems = _labels_problems(meta, top)
            if problems:
                listing = "\n".join(f"  - {p}" for p in problems)
                raise CodebookError(
                    f"value labels in {path} disagree with codebook {top.survey} ({top.source}):\n"
                    f"{listing}\nCorrect the codebook or the file; pass check_labels=False only "
                    "after checking that the codes mean the same thing."
                )
        cb = own.overlay(top)
        labelled = False if labelled is None else labelled
    out = _coerce(codes, cb)
    cb.validate_frame(out, require_design=require_design)
    if not labelled:
        return out
    result = labelled_frame(out, cb, masks=masks)
    _report(path, result.attrs.get("user_missing", {}))
    return result


def read_spss(
    path: str | os.PathLike[str],
    *,
    codebook: Codebook | int | str | os.PathLike[str] | None = None,
    labelled: bool | None = None,
    check_labels: bool = True,
    require_design: bool = True,
) -> pd.DataFrame:
    """Read an SPSS ``.sav`` file: labelled from its own metadata, or checked against a codebook.

    Without a codebook, the file's metadata is the codebook
    (:func:`~surveylib.instruments.codebook_from_metadata`): coded variables become
    ``Categorical`` columns of their value labels (ordered for ordinal variables), values the
    file declares user-missing (discrete values and ranges) become NA, with an
    :class:`~surveylib.errors.AssumptionWarning` counting them, and variable labels go to
    ``frame.attrs["variable_labels"]``, from which estimates, tables and charts take their
    headers.

    With a codebook (a wave year, a YAML file or a :class:`~surveylib.instruments.Codebook`),
    it is laid over the file's own (:meth:`~surveylib.instruments.Codebook.overlay`): the
    file's value labels are first compared with the codebook's (ignoring case and repeated
    spaces) — a code labelled differently, a labelled code the codebook does not know, or a
    codebook answer code declared user-missing in the file is an error — and the frame is
    checked with :meth:`~surveylib.instruments.Codebook.validate_frame`. The frame then holds
    codes, missing codes kept (the study's analysis-ready frame), unless ``labelled=True``.

    Parameters
    ----------
    path : path-like
        The ``.sav`` file.
    codebook : Codebook, int or path-like, optional
        A codebook to lay over the file's metadata and check the file against.
    labelled : bool, optional
        Labelled categoricals with missing values as NA (default without a codebook), or
        codes with missing codes kept (default with one).
    check_labels : bool, default True
        Compare the file's value labels with the codebook's.
    require_design : bool, default True
        Require the codebook's design columns (strata, weight, fpc). Pass ``False`` for a
        fieldwork file whose weights are not yet built.

    Returns
    -------
    pandas.DataFrame
        Columns in file order; numeric columns as float64; codes as integers when not
        labelled.

    Raises
    ------
    CodebookError
        If the file cannot be read, labels disagree (naming variable, code and both labels)
        or the data break the codebook.

    Examples
    --------
    See the module docstring for a write/read round trip, and ``docs/getting_started.md``.
    """
    import pyreadstat  # imported when a .sav/.dta file is read or written: the CSV path skips it

    try:
        df, meta = pyreadstat.read_sav(str(path), user_missing=True, apply_value_formats=False)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise _reader_error(path, "an SPSS .sav file", exc) from None
    return _read_labelled_file(path, df, meta, codebook, labelled=labelled,
                               check_labels=check_labels, require_design=require_design)


def read_stata(
    path: str | os.PathLike[str],
    *,
    codebook: Codebook | int | str | os.PathLike[str] | None = None,
    labelled: bool | None = None,
    check_labels: bool = True,
    require_design: bool = True,
) -> pd.DataFrame:
    """Read a Stata ``.dta`` file, as :func:`read_spss` reads an SPSS file.

    Value labels become the categories of coded variables (Stata files record no
    measurement level, so none is ordered), variable labels go to
    ``frame.attrs["variable_labels"]`` and extended missing values (``.a`` to ``.z``) become
    NA, counted in an :class:`~surveylib.errors.AssumptionWarning`. Options as
    :func:`read_spss`.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> import pandas as pd, pyreadstat
    >>> df = pd.DataFrame({"q1": [1.0, 2.0, 1.0], "w": [1.0, 2.0, 1.5]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "w.dta"
    ...     pyreadstat.write_dta(df, str(path), column_labels={"q1": "Trust", "w": "Weight"},
    ...                          variable_value_labels={"q1": {1: "yes", 2: "no"}})
    ...     back = read_stata(path)
    >>> back["q1"].tolist(), back.attrs["variable_labels"]["q1"]
    (['yes', 'no', 'yes'], 'Trust')
    """
    import pyreadstat  # imported when a .sav/.dta file is read or written: the CSV path skips it

    try:
        df, meta = pyreadstat.read_dta(str(path), user_missing=True, apply_value_formats=False)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise _reader_error(path, "a Stata .dta file", exc) from None
    return _read_labelled_file(path, df, meta, codebook, labelled=labelled,
                               check_labels=check_labels, require_design=require_design)


def read_csv(
    path: str | os.PathLike[str],
    *,
    codebook: Codebook | int | str | os.PathLike[str] | None = None,
    labelled: bool = False,
    require_design: bool = True,
) -> pd.DataFrame:
    """Read a CSV file of codes (the same frame as :func:`read_spss` with a codebook).

    The file has a header row of variable names and one row per respondent; empty cells are
    system-missing. A CSV file has no metadata: without a codebook the values are returned as
    read (``pandas.read_csv``). With one, the frame is checked against it; text in a coded
    column is reported (convert labels to codes first, e.g. with
    :meth:`~surveylib.instruments.Codebook.code_for`).

    Parameters
    ----------
    path : path-like
        The CSV file (UTF-8, comma-separated).
    codebook : Codebook, int or path-like, optional
        The wave's codebook, a wave year or a codebook file.
    labelled : bool, default False
        With a codebook, return labelled categoricals with missing codes as NA
        (:func:`~surveylib.instruments.labelled_frame`) instead of codes.
    require_design : bool, default True
        Require the codebook's design columns (strata, weight, fpc).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> df = pd.DataFrame({"resp_id": [1, 2, 3], "ethnic": [1, 2, 3]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_csv(df, pathlib.Path(tmp) / "w.csv")
    ...     read_csv(path, codebook=2007, require_design=False).dtypes.tolist()
    [dtype('int64'), dtype('int64')]
    """
    try:
        df = pd.read_csv(path, encoding="utf-8")
    except FileNotFoundError:
        raise CodebookError(f"CSV file {path} does not exist; check the path") from None
    if codebook is None:
        return df
    cb = _resolve(codebook)
    out = _coerce(df, cb)
    cb.validate_frame(out, require_design=require_design)
    return labelled_frame(out, cb) if labelled else out


def write_spss(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    codebook: Codebook | int | str | os.PathLike[str],
) -> Path:
    """Write a frame of codes to an SPSS ``.sav`` file with variable and value labels.

    Variable labels, value labels (substantive and missing codes), user-missing declarations
    (the codebook's ``missing_codes``, so SPSS treats them as missing) and measurement levels
    (nominal, ordinal, scale) come from the codebook. Columns the codebook does not describe are
    written without labels. The index is not written. The write is atomic.

    Parameters
    ----------
    df : pandas.DataFrame
        Codes; checked with ``validate_frame(require_design=False)`` first. Not modified.
    path : path-like
        Target ``.sav`` file; its folder must exist.
    codebook : Codebook, int or path-like
        The wave's codebook.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    See the module docstring.
    """
    cb = _resolve(codebook)
    cb.validate_frame(df, require_design=False)
    data = df.reset_index(drop=True).copy()
    for name in data.columns:
        col = data[name]
        if isinstance(
            col.dtype, pd.api.extensions.ExtensionDtype
        ) and pd.api.types.is_numeric_dtype(col):
            data[name] = col.astype("float64")
    column_labels: dict[str, str | None] = {}
    value_labels: dict[str, dict[int | float, str]] = {}
    missing_ranges: dict[str, list] = {}
    measure: dict[str, str] = {}
    for name in data.columns:
        var = cb.variables.get(name)
        if var is None:
            continue
        column_labels[name] = var.label
        labels: dict[int | float, str] = {code: text for code, text in var.all_codes.items()}
        if labels:
            value_labels[name] = labels
        if var.missing_codes:
            codes = sorted(var.missing_codes)
            if len(codes) <= _SPSS_MAX_DISCRETE_MISSING:
                missing_ranges[name] = codes
            elif codes == list(range(codes[0], codes[-1] + 1)):
                missing_ranges[name] = [{"lo": codes[0], "hi": codes[-1]}]
            else:
                raise CodebookError(
                    f"variable {name!r} has {len(codes)} scattered missing codes {codes}; SPSS "
                    "allows at most 3 discrete missing values or one range: renumber them"
                )
        if var.type in ("categorical", "binary", "id"):
            measure[name] = "ordinal" if var.ordered else "nominal"
        else:
            measure[name] = "scale"

    def writer(tmp: str) -> None:
        import pyreadstat  # imported when a .sav file is written

        pyreadstat.write_sav(
            data,
            tmp,
            file_label=cb.title[:_SPSS_FILE_LABEL_MAX],
            column_labels=column_labels,
            variable_value_labels=value_labels,
            missing_ranges=missing_ranges,
            variable_measure=measure,
        )

    return atomic_write(path, writer)


def write_csv(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    codebook: Codebook | int | str | os.PathLike[str] | None = None,
) -> Path:
    """Write a frame to CSV atomically and deterministically.

    UTF-8, comma-separated, ``\\n`` line endings, a header row, no index, empty cells for NA,
    floats in their shortest round-trip form: the same frame always gives the same bytes, and
    :func:`read_csv` gives the frame back.

    Parameters
    ----------
    df : pandas.DataFrame
        Not modified.
    path : path-like
        Target file; its folder must exist.
    codebook : Codebook, int or path-like, optional
        If given, ``df`` is checked against it (``require_design=False``) before writing.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_csv(pd.DataFrame({"a": [1, 2], "w": [0.1, 2.5]}), pathlib.Path(tmp) / "x.csv")
    ...     p.read_bytes()
    b'a,w\\n1,0.1\\n2,2.5\\n'
    """
    if not isinstance(df, pd.DataFrame):
        raise CodebookError(f"write_csv needs a pandas DataFrame, got {type(df).__name__}")
    if codebook is not None:
        _resolve(codebook).validate_frame(df, require_design=False)

    def writer(tmp: str) -> None:
        df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")

    return atomic_write(path, writer)
