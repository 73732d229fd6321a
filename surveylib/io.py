"""Reading and writing survey files (SPSS ``.sav`` and CSV) against a codebook.

Every reader returns the same **analysis-ready frame**: one row per respondent, one column per
variable, codes as integers (``int64``, or nullable ``Int64`` where a value is system-missing),
missing-data codes such as 8 "don't know" kept as codes, weights and other numeric columns as
``float64``. The frame has been checked with :meth:`~surveylib.instruments.Codebook.validate_frame`.
Hand estimators :meth:`~surveylib.instruments.Codebook.missing_to_na` of it.

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
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from .errors import CodebookError
from .instruments import INTEGER_TYPES, Codebook, load_codebook
from .instruments._schema import _norm_label

__all__ = ["read_csv", "read_spss", "write_csv", "write_spss"]

_SPSS_MAX_DISCRETE_MISSING = 3
_SPSS_FILE_LABEL_MAX = 64


def _resolve(codebook: Codebook | int | str | os.PathLike[str]) -> Codebook:
    if codebook is None:
        raise CodebookError(
            "a codebook is required: pass codebook=2007 (a wave year), a codebook file path or a "
            "Codebook from surveylib.instruments.load_codebook"
        )
    return load_codebook(codebook)


def _atomic_write(path: str | os.PathLike[str], writer: Callable[[str], None]) -> Path:
    """Run ``writer(tmp_path)`` on a temporary file beside ``path``, then move it into place."""
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
        os.chmod(tmp, 0o644)
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


def read_spss(
    path: str | os.PathLike[str],
    *,
    codebook: Codebook | int | str | os.PathLike[str],
    check_labels: bool = True,
    require_design: bool = True,
) -> pd.DataFrame:
    """Read an SPSS ``.sav`` file into the analysis-ready frame.

    User-missing values declared in the file (e.g. 8 "don't know") are kept as codes. The file's
    value labels are compared with the codebook's (ignoring case and repeated spaces): a code
    labelled differently, a labelled code the codebook does not know, or a codebook answer code
    declared user-missing in the file is an error. The data are then checked with
    :meth:`~surveylib.instruments.Codebook.validate_frame`.

    Parameters
    ----------
    path : path-like
        The ``.sav`` file.
    codebook : Codebook, int or path-like
        The wave's codebook, a wave year (``2007``) or a codebook file.
    check_labels : bool, default True
        Compare the file's value labels with the codebook.
    require_design : bool, default True
        Require the design columns (strata, weight, fpc). Pass ``False`` for a fieldwork file
        whose weights are not yet built.

    Returns
    -------
    pandas.DataFrame
        Codes as integers, missing codes kept, numeric columns as float64; columns in file order.

    Raises
    ------
    CodebookError
        If labels disagree (naming variable, code and both labels) or the data break the codebook.

    Examples
    --------
    See the module docstring for a write/read round trip.
    """
    cb = _resolve(codebook)
    try:
        df, meta = pyreadstat.read_sav(str(path), user_missing=True, apply_value_formats=False)
    except pyreadstat.ReadstatError as exc:
        raise CodebookError(
            f"cannot read {path} as an SPSS .sav file ({exc}); check the file"
        ) from None
    if check_labels:
        problems = _labels_problems(meta, cb)
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise CodebookError(
                f"value labels in {path} disagree with codebook {cb.survey} ({cb.source}):\n"
                f"{listing}\nCorrect the codebook or the file; pass check_labels=False only after "
                "checking that the codes mean the same thing."
            )
    out = _coerce(df, cb)
    cb.validate_frame(out, require_design=require_design)
    return out


def read_csv(
    path: str | os.PathLike[str],
    *,
    codebook: Codebook | int | str | os.PathLike[str],
    require_design: bool = True,
) -> pd.DataFrame:
    """Read a CSV file of codes into the analysis-ready frame (the same frame as :func:`read_spss`).

    The file has a header row of variable names and one row per respondent; empty cells are
    system-missing. Text in a coded column is reported (convert labels to codes first, e.g. with
    :meth:`~surveylib.instruments.Codebook.code_for`).

    Parameters
    ----------
    path : path-like
        The CSV file (UTF-8, comma-separated).
    codebook : Codebook, int or path-like
        The wave's codebook, a wave year or a codebook file.
    require_design : bool, default True
        Require the design columns (strata, weight, fpc).

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
    cb = _resolve(codebook)
    try:
        df = pd.read_csv(path, encoding="utf-8")
    except FileNotFoundError:
        raise CodebookError(f"CSV file {path} does not exist; check the path") from None
    out = _coerce(df, cb)
    cb.validate_frame(out, require_design=require_design)
    return out


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
    value_labels: dict[str, dict[int, str]] = {}
    missing_ranges: dict[str, list] = {}
    measure: dict[str, str] = {}
    for name in data.columns:
        var = cb.variables.get(name)
        if var is None:
            continue
        column_labels[name] = var.label
        labels = dict(var.all_codes)
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
        pyreadstat.write_sav(
            data,
            tmp,
            file_label=cb.title[:_SPSS_FILE_LABEL_MAX],
            column_labels=column_labels,
            variable_value_labels=value_labels,
            missing_ranges=missing_ranges,
            variable_measure=measure,
        )

    return _atomic_write(path, writer)


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

    return _atomic_write(path, writer)
