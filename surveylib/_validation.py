"""Validation helpers shared by every module.

One place decides what counts as bad input and how it is reported: the same condition gives the
same message everywhere, and every message names the column, stratum or value and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import ColumnError, SurveyDesignError, WeightError

LONELY_PSU_RULES = ("fail", "remove", "adjust", "average", "certainty")


def as_pandas(data, *, what: str = "data") -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame (polars frames are converted), never a view to mutate."""
    if isinstance(data, pd.DataFrame):
        return data
    mod = type(data).__module__
    if mod.startswith("polars"):
        try:
            return data.to_pandas()
        except ImportError:  # polars needs pyarrow for some dtypes; go column by column
            return pd.DataFrame({c: data[c].to_numpy() for c in data.columns})
    raise SurveyDesignError(
        f"{what} must be a pandas or polars DataFrame, got {type(data).__name__}; "
        "wrap it with pandas.DataFrame(...) first."
    )


def as_list(cols) -> list:
    """Normalise a column argument (None, a name, or a sequence of names) to a list."""
    if cols is None:
        return []
    if isinstance(cols, str) or not isinstance(cols, Iterable):
        return [cols]
    return list(cols)


def check_columns(df: pd.DataFrame, cols: Sequence, *, role: str) -> None:
    """Raise :class:`ColumnError` naming every column of ``cols`` absent from ``df``."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        close = {c: [k for k in df.columns if str(k).lower() == str(c).lower()] for c in missing}
        hint = "; ".join(f"did you mean {close[c][0]!r}?" for c in missing if close[c])
        raise ColumnError(
            f"{role} column(s) {missing} not found in the data "
            f"(columns are: {list(df.columns)[:20]}{' ...' if df.shape[1] > 20 else ''})"
            + (f"; {hint}" if hint else "")
        )


def check_option(value, allowed: Sequence, *, name: str) -> None:
    if value not in allowed:
        raise SurveyDesignError(f"{name}={value!r} is not one of {list(allowed)}.")


def numeric_column(df: pd.DataFrame, col, *, role: str, allow_na: bool = True) -> np.ndarray:
    """Return a float64 array of ``df[col]``; a non-numeric column is an error naming it."""
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    ):
        raise ColumnError(
            f"{role} column {col!r} is not numeric (dtype {s.dtype}); "
            "use proportion() for a categorical variable, or convert the column to numbers."
        )
    if s.dtype == np.float64:  # a read-only view, no copy (NaN is already the missing value)
        arr = s.to_numpy()
    else:
        arr = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not allow_na and np.isnan(arr).any():
        bad = int(np.isnan(arr).sum())
        raise SurveyDesignError(
            f"{role} column {col!r} has {bad} missing value(s); design columns must be complete."
        )
    return arr


def design_key(df: pd.DataFrame, col, *, role: str, labels: bool = False):
    """Integer codes of a design column (strata or cluster ids); NaN is an error.

    Codes follow the sorted values; with ``labels=True`` the sorted values are returned too.
    """
    s = df[col]
    if s.isna().any():
        rows = list(np.flatnonzero(s.isna().to_numpy())[:5])
        raise SurveyDesignError(
            f"{role} column {col!r} has {int(s.isna().sum())} missing value(s) "
            f"(first rows at positions {rows}); every respondent needs a {role}."
        )
    codes, uniques = pd.factorize(s, sort=True)
    codes = codes.astype(np.int64)
    return (codes, np.asarray(uniques, dtype=object)) if labels else codes


def check_weights(w: np.ndarray, *, col: str, kind: str = "weights") -> None:
    """Weights must be finite and positive."""
    if np.isnan(w).any():
        rows = list(np.flatnonzero(np.isnan(w))[:5])
        raise WeightError(
            f"{kind} column {col!r} has {int(np.isnan(w).sum())} missing value(s) "
            f"(first at positions {rows}); give every respondent a weight or drop those rows."
        )
    if not np.isfinite(w).all():
        raise WeightError(f"{kind} column {col!r} has infinite values; check the column.")
    if (w <= 0).any():
        rows = list(np.flatnonzero(w <= 0)[:5])
        raise WeightError(
            f"{kind} column {col!r} has {int((w <= 0).sum())} non-positive value(s) "
            f"(min {w.min():g}, first at positions {rows}); sampling weights must be > 0 — "
            "drop out-of-scope rows with subset() instead of zero weights."
        )


def check_level(level: float) -> None:
    if not (0 < level < 1):
        raise SurveyDesignError(f"level={level!r} must be strictly between 0 and 1 (e.g. 0.95).")


def boolean_mask(mask, n: int, df: pd.DataFrame) -> np.ndarray:
    """Turn a boolean Series/array or a ``DataFrame.query`` string into a boolean array."""
    if isinstance(mask, str):
        try:
            sel = df.eval(mask)
        except Exception as exc:  # pandas raises many types here
            raise SurveyDesignError(f"could not evaluate subset expression {mask!r}: {exc}") from exc
        mask = sel
    if isinstance(mask, pd.Series):
        if mask.isna().any():
            raise SurveyDesignError(
                f"subset mask has {int(mask.isna().sum())} missing value(s); "
                "decide whether those rows are in the domain (fillna(False))."
            )
        arr = mask.to_numpy()
    else:
        arr = np.asarray(mask)
    if arr.shape != (n,):
        raise SurveyDesignError(f"subset mask has shape {arr.shape}, the design has {n} rows.")
    if arr.dtype != bool:
        if arr.dtype.kind in "iu" and set(np.unique(arr)) <= {0, 1}:
            arr = arr.astype(bool)
        else:
            raise SurveyDesignError(f"subset mask must be boolean, got dtype {arr.dtype}.")
    return arr


def factorize_column(s: pd.Series, *, sort: bool = True) -> tuple[np.ndarray, list, np.ndarray]:
    """(codes, levels, ok) of a column: read-only int64 codes (-1 = missing) into ``levels``.

    A categorical keeps its categories (unused ones included) in their order; other columns
    get their distinct values, sorted when ``sort``.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = list(s.cat.categories)
        codes = s.cat.codes.to_numpy().astype(np.int64)
    else:
        codes, uniq = pd.factorize(s, sort=sort)
        levels = list(uniq)
        codes = codes.astype(np.int64)
    ok = codes >= 0
    codes.flags.writeable = False
    ok.flags.writeable = False
    return codes, levels, ok
