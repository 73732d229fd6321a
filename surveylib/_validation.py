"""Validation shared by every module: one check per condition, one error style.

One place decides what counts as bad input and how it is reported, so the same condition gives
the same error class and the same message everywhere:

======================================================  =====================================
condition                                               error
======================================================  =====================================
an argument outside its allowed values (an unknown      :class:`~surveylib.ParameterError`
option, a number out of range, a value of the wrong     (:func:`check_option`,
type)                                                   :func:`check_number` and its
                                                        wrappers, :func:`invalid_argument`)
a named column absent from the data, or not numeric     :class:`~surveylib.ColumnError`
                                                        (:func:`check_columns`,
                                                        :func:`numeric_column`)
weights missing, non-finite or non-positive             :class:`~surveylib.WeightError`
                                                        (:func:`check_weights`)
======================================================  =====================================

Every message reads ``parameter=value <what is allowed>; <the fix>`` (a column's message names
the role, the columns and the data's columns), and every error fills the structured fields
``parameter``, ``value``, ``expected`` and ``hint`` of
:class:`~surveylib.SurveyDesignError`.  Wherever a name is looked up (columns, options, keys of
a table) an unknown name is answered with the closest known one (:func:`did_you_mean`).

Renamed keywords stay accepted for one release through :func:`renamed_keywords`, which emits a
``DeprecationWarning`` naming the versions and the new spelling.
"""

from __future__ import annotations

import difflib
import functools
import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import ColumnError, ParameterError, SurveyDesignError, WeightError

LONELY_PSU_RULES = ("fail", "remove", "adjust", "average", "certainty")
CLOSE_MATCH_CUTOFF = 0.6  # difflib's default similarity ratio
SHOWN_COLUMNS = 20  # columns listed in a message about a missing column
SMALL_RANGE_SLACK = 1024  # integer ids spanning <= n + this many values: coded without hashing
PRESENCE_PREFIX = 4096  # rows scanned first for the levels of a small integer range


# ----- the message style ---------------------------------------------------------------------
def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def invalid_argument(parameter: str, value, expected, hint: str, *, shown=None) -> ParameterError:
    """The :class:`~surveylib.ParameterError` for ``parameter=value`` (to ``raise``).

    Parameters
    ----------
    parameter : str
        The argument's name as the user typed it.
    value
        The value given (``shown``, when given, is what the message prints instead of its repr,
        e.g. a type name for a large object).
    expected : str or list
        What is allowed: a list of allowed values (the message says ``is not one of [...]``) or
        a phrase (the message says ``must be <phrase>``).
    hint : str
        The fix, in a few words (``"did you mean 'logit'?"``, ``"e.g. level=0.95"``).

    Examples
    --------
    >>> err = invalid_argument("tol", 0, "a number > 0", "e.g. tol=1e-7")
    >>> str(err)
    'tol=0 must be a number > 0; e.g. tol=1e-7.'
    >>> err.parameter, err.value, err.expected, err.hint
    ('tol', 0, 'a number > 0', 'e.g. tol=1e-7')
    """
    problem = (f"is not one of {list(expected)}" if isinstance(expected, (list, tuple))
               else f"must be {expected}")
    given = repr(value) if shown is None else shown
    return ParameterError(_sentence(f"{parameter}={given} {problem}; {hint}"),
                          parameter=parameter, value=value, expected=expected, hint=hint)


def data_error(cls, problem: str, hint: str, *, parameter=None, value=None, expected=None):
    """An error of class ``cls`` about the data or a table (to ``raise``), in the house style.

    The message is ``"<problem>; <hint>."``: ``problem`` names the column, level or stratum at
    fault, ``hint`` the fix; both go into the structured fields with ``parameter`` (the argument
    that brought the table or column), ``value`` and ``expected``.

    Examples
    --------
    >>> from surveylib.errors import WeightingError
    >>> err = data_error(WeightingError, "margin sex: level 'x' is not in the population table",
    ...                  "add it to the table", parameter="margins", value="x")
    >>> str(err), err.parameter, err.hint
    ("margin sex: level 'x' is not in the population table; add it to the table.", 'margins', 'add it to the table')
    """
    return cls(_sentence(f"{problem}; {hint}"), parameter=parameter, value=value,
               expected=expected, hint=hint)


def close_matches(name, candidates, *, n: int = 1) -> list:
    """Up to ``n`` of ``candidates`` close to ``name``: the same text ignoring case first, then
    :func:`difflib.get_close_matches` on the text of the names (``'wieght'`` -> ``'weight'``)."""
    cands = list(dict.fromkeys(candidates))
    key = str(name)
    same_case = [c for c in cands if str(c).lower() == key.lower() and str(c) != key]
    by_text: dict[str, object] = {}
    for c in cands:
        by_text.setdefault(str(c), c)
    close = difflib.get_close_matches(key, list(by_text), n=n, cutoff=CLOSE_MATCH_CUTOFF)
    out = same_case + [by_text[m] for m in close if by_text[m] not in same_case]
    return out[:n]


def did_you_mean(name, candidates) -> str | None:
    """``"did you mean 'weight'?"`` for the closest of ``candidates`` to ``name``, or None."""
    match = close_matches(name, candidates)
    return f"did you mean {match[0]!r}?" if match else None


# ----- options and numbers -------------------------------------------------------------------
def check_option(value, allowed: Sequence, *, name: str):
    """Return ``value`` if it is one of ``allowed``, else raise :class:`ParameterError`.

    Examples
    --------
    >>> check_option("logit", ("linear", "raking", "logit"), name="calfun")
    'logit'
    >>> check_option("logti", ("linear", "raking", "logit"), name="calfun")
    Traceback (most recent call last):
    ...
    surveylib.errors.ParameterError: calfun='logti' is not one of ['linear', 'raking', 'logit']; did you mean 'logit'?
    """
    allowed = list(allowed)
    try:
        ok = value in allowed
    except (TypeError, ValueError):  # e.g. an array compared element-wise
        ok = False
    if ok:
        return value
    strings = [a for a in allowed if isinstance(a, str)]
    hint = (did_you_mean(value, strings) if isinstance(value, str) else None) or \
        "use one of the values listed"
    raise invalid_argument(name, value, allowed, hint)


def _is_number(value, *, integer: bool) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    kind = numbers.Integral if integer else numbers.Real
    return isinstance(value, kind)


def _range_phrase(low, high, low_open, high_open, integer) -> str:
    what = "an integer" if integer else "a number"
    if low is not None and high is not None:
        if low_open and high_open:
            return f"{what} strictly between {low:g} and {high:g}"
        return f"{what} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{what} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{what} {'<' if high_open else '<='} {high:g}"
    return what if integer else "a finite number"


def check_number(value, *, name: str, low=None, high=None, low_open: bool = False,
                 high_open: bool = False, integer: bool = False, hint: str | None = None):
    """Return ``value`` (as ``int`` or ``float``) if it is a number in the given range.

    Booleans, NaN and infinities are never numbers here.  Raises :class:`ParameterError`
    whose ``expected`` is the range in words (``"a number > 0"``, ``"an integer >= 1"``).

    Examples
    --------
    >>> check_number(3, name="max_iter", low=1, integer=True)
    3
    >>> check_number(0.0, name="tol", low=0, low_open=True, hint="e.g. tol=1e-7")
    Traceback (most recent call last):
    ...
    surveylib.errors.ParameterError: tol=0.0 must be a number > 0; e.g. tol=1e-7.
    """
    expected = _range_phrase(low, high, low_open, high_open, integer)
    ok = _is_number(value, integer=integer) and np.isfinite(float(value))
    if ok:
        v = float(value)
        ok = not ((low is not None and (v <= low if low_open else v < low))
                  or (high is not None and (v >= high if high_open else v > high)))
    if not ok:
        example = low if low is not None and not low_open else None
        raise invalid_argument(
            name, value, expected,
            hint or (f"e.g. {name}={example:g}" if example is not None else f"give {expected}"))
    return int(value) if integer else float(value)


def check_positive(value, *, name: str, hint: str | None = None) -> float:
    """A number > 0 (a tolerance, a scale, degrees of freedom)."""
    return check_number(value, name=name, low=0, low_open=True, hint=hint)


def check_integer(value, *, name: str, minimum: int = 1, hint: str | None = None) -> int:
    """An integer >= ``minimum`` (an iteration limit, a number of replicates)."""
    return check_number(value, name=name, low=minimum, integer=True, hint=hint)


def check_probability(value, *, name: str, hint: str | None = None) -> float:
    """A number strictly between 0 and 1 (a confidence level, a power, a proportion)."""
    return check_number(value, name=name, low=0, high=1, low_open=True, high_open=True,
                        hint=hint or f"e.g. {name}=0.5")


def check_level(level, *, name: str = "level") -> float:
    """A confidence level strictly between 0 and 1."""
    return check_probability(level, name=name, hint=f"e.g. {name}=0.95 for a 95% interval")


def renamed_keywords(*, since: str, removed: str, **renames):
    """Decorator: accept the old spelling of renamed keywords for one release.

    ``@renamed_keywords(since="0.2.0", removed="0.3.0", maxit="max_iter")`` lets callers pass
    ``maxit=``: it is forwarded as ``max_iter=`` with a ``DeprecationWarning`` ("maxit= is
    deprecated since 0.2.0 and will be removed in 0.3.0; use max_iter="); passing both spellings
    is a ``TypeError``, as any doubly given argument.
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{func.__name__}() got {old}= and {new}=; {old}= is the deprecated "
                            f"spelling of {new}=, give only {new}=.")
                    warnings.warn(f"{old}= is deprecated since {since} and will be removed in "
                                  f"{removed}; use {new}=", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.renamed_keywords = dict(renames)
        return wrapper

    return decorate


# ----- data ----------------------------------------------------------------------------------
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
    raise invalid_argument(what, data, "a pandas or polars DataFrame",
                           "wrap it with pandas.DataFrame(...) first",
                           shown=f"<{type(data).__name__}>")


def as_list(cols) -> list:
    """Normalise a column argument (None, a name, or a sequence of names) to a list."""
    if cols is None:
        return []
    if isinstance(cols, str) or not isinstance(cols, Iterable):
        return [cols]
    return list(cols)


def check_columns(df: pd.DataFrame, cols: Sequence, *, role: str, parameter: str | None = None
                  ) -> None:
    """Raise :class:`ColumnError` naming every column of ``cols`` absent from ``df``.

    The message lists the data's columns and suggests the closest one for each missing name
    (``'wieght'`` -> ``'weight'``).  ``parameter`` (default ``role``) fills the error's
    ``parameter`` field; its ``value`` is the list of missing names and ``expected`` the
    data's columns.
    """
    missing = [c for c in cols if c not in df.columns]
    if not missing:
        return
    columns = list(df.columns)
    close = {c: close_matches(c, columns) for c in missing}
    found = [(c, m[0]) for c, m in close.items() if m]
    if len(missing) == 1 and found:
        hint = f"did you mean {found[0][1]!r}?"
    elif found:
        hint = "did you mean " + ", ".join(f"{m!r} for {c!r}" for c, m in found) + "?"
    else:
        hint = "check the spelling against the data's columns"
    shown = f"{columns[:SHOWN_COLUMNS]}{' ...' if len(columns) > SHOWN_COLUMNS else ''}"
    raise ColumnError(
        _sentence(f"{role} column(s) {missing} not found in the data (columns are: {shown}); "
                  f"{hint}"),
        parameter=parameter or role.rstrip(":"), value=missing, expected=columns, hint=hint,
    )


def numeric_column(df: pd.DataFrame, col, *, role: str, allow_na: bool = True) -> np.ndarray:
    """Return a float64 array of ``df[col]``; a non-numeric column is an error naming it."""
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    ):
        hint = "use proportion() for a categorical variable, or convert the column to numbers"
        raise ColumnError(
            f"{role} column {col!r} is not numeric (dtype {s.dtype}); {hint}.",
            parameter=role, value=col, expected="a numeric column", hint=hint,
        )
    if s.dtype == np.float64:  # a read-only view, no copy (NaN is already the missing value)
        arr = s.to_numpy()
    else:
        arr = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not allow_na and np.isnan(arr).any():
        bad = int(np.isnan(arr).sum())
        hint = "design columns must be complete: fill them or drop those rows"
        raise SurveyDesignError(
            f"{role} column {col!r} has {bad} missing value(s); {hint}.",
            parameter=role, value=col, expected="no missing values", hint=hint,
        )
    return arr


def integer_range(values: np.ndarray) -> tuple[Any, Any]:
    """``(values.min(), values.max())`` of a non-empty integer array, as numpy scalars of its
    dtype.

    Ids from 0 (the usual coding: 0 among the first ``PRESENCE_PREFIX`` values) take one pass
    over the rows instead of two: the maximum of the values read as unsigned integers is
    their maximum when none is negative (a negative value reads as ``>= 2**(bits-1)``, above
    any non-negative one), and the minimum is then 0.  Other arrays take ``min`` and ``max``.

    Examples
    --------
    >>> [int(x) for x in integer_range(np.array([3, 0, 7]))]
    [0, 7]
    >>> [int(x) for x in integer_range(np.array([0, -5, 2]))]  # a negative: min and max
    [-5, 2]
    """
    zero = values.dtype.type(0)
    if values[:PRESENCE_PREFIX].min() == zero:
        unsigned = values.view(values.dtype.str.replace("i", "u"))
        top = unsigned.max()
        if top <= np.iinfo(values.dtype).max:  # no negative value
            return zero, values.dtype.type(top)
    return values.min(), values.max()


def integer_offsets(values: np.ndarray, *, limit: int) -> tuple[np.ndarray, int, Any] | None:
    """Offsets ``0..span-1`` of an integer array from its minimum (``intp``), ``span`` and the
    minimum, when ``span`` is at most ``limit``; ``None`` for other arrays (floats, objects,
    wide ranges).

    When the minimum is 0 and the array is already ``intp``, the offsets are the values: a
    read-only view of ``values`` is returned, with no copy and no pass over the rows.
    """
    if values.dtype.kind not in "iu" or not len(values):
        return None
    lo, hi = integer_range(values)
    span = int(hi) - int(lo) + 1  # Python ints: no overflow at the ends of int64
    if span > limit:
        return None
    if lo == 0 and values.dtype == np.intp:  # ids from 0 (the usual coding): no new array
        view = values.view()
        view.flags.writeable = False
        return view, span, lo
    # in a type that holds the offsets (int64 for narrow ints, uint64 for uint64)
    wide = values if values.dtype.itemsize == 8 else values.astype(np.int64)
    return (wide - wide.dtype.type(lo)).astype(np.intp, copy=False), span, lo


def offset_codes(offset: np.ndarray, lo, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the values present (``present[j]``: some value is ``lo + j``) in sorted order,
    and those values in the dtype of ``lo`` (from :func:`integer_offsets`)."""
    dtype = np.dtype(type(lo))
    wide = np.dtype(np.int64) if dtype.itemsize < 8 else dtype
    start = wide.type(lo)
    if present.all():  # contiguous ids: the offsets are the codes
        codes = offset.astype(np.int64, copy=False)
        uniques = np.arange(len(present))
    else:
        uniques = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[offset]
    return codes, (uniques.astype(wide) + start).astype(dtype)


def integer_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes 0..K-1 of the sorted distinct values of an integer array whose range is small,
    with those values; ``None`` for any other array (hash it with :func:`pandas.factorize`).

    The range counts as small when it is at most the number of values (plus
    ``SMALL_RANGE_SLACK``): the values are then coded from their offsets from the minimum,
    one scatter marking the offsets present and a cumulative sum, which gives the same codes
    and values as ``pandas.factorize(values, sort=True)`` without hashing.  The scatter reads
    only the first ``PRESENCE_PREFIX`` values when they already hold every value of the range
    (a few levels, or ids from 0); the codes of ids from 0 with none absent are a read-only
    view of the values themselves.

    Examples
    --------
    >>> codes, values = integer_codes(np.array([7, -2, 7, 40]))
    >>> codes.tolist(), values.tolist()
    ([1, 0, 1, 2], [-2, 7, 40])
    >>> integer_codes(np.array([0, 10**12])) is None  # range too large: hash instead
    True
    """
    found = integer_offsets(values, limit=len(values) + SMALL_RANGE_SLACK)
    if found is None:
        return None
    offset, span, lo = found
    present = np.zeros(span, dtype=bool)
    present[offset[:PRESENCE_PREFIX]] = True  # a few levels are usually all in the first rows:
    if not present.all():  # then no pass over the rest is needed to know which are present
        present[offset] = True
    return offset_codes(offset, lo, present)


def design_key(df: pd.DataFrame, col, *, role: str, labels: bool = False):
    """Integer codes of a design column (strata or cluster ids); NaN is an error.

    Codes follow the sorted values; with ``labels=True`` the sorted values are returned too.
    Integer columns with a small range are coded arithmetically (:func:`integer_codes`),
    others with :func:`pandas.factorize`.
    """
    s = df[col]
    coded = integer_codes(s.to_numpy()) if isinstance(s.dtype, np.dtype) else None
    if coded is None:
        if s.isna().any():
            rows = np.flatnonzero(s.isna().to_numpy())[:5].tolist()
            hint = f"every respondent needs a {role}: fill those rows or drop them"
            raise SurveyDesignError(
                f"{role} column {col!r} has {int(s.isna().sum())} missing value(s) "
                f"(first rows at positions {rows}); {hint}.",
                parameter=role, value=col, expected="no missing values", hint=hint,
            )
        codes, uniques = pd.factorize(s, sort=True)
        coded = codes.astype(np.int64, copy=False), uniques
    codes, uniques = coded
    return (codes, np.asarray(uniques, dtype=object)) if labels else codes


def check_weights(w: np.ndarray, *, col: str, kind: str = "weights") -> float | None:
    """Weights must be finite and positive; raise :class:`WeightError` naming the column.

    Returns ``float(w.sum())``, the sum the check takes (``None`` in the rare case that
    finite weights sum to infinity): two reductions, the minimum (NaN fails ``> 0``) and the
    sum (finite only when every value is), and the sum is kept for whoever needs it.
    """
    if len(w) and w.min() > 0:
        with np.errstate(over="ignore"):  # an overflowing sum is no error: checked below
            total = float(w.sum())
        if np.isfinite(total):
            return total
        if np.isfinite(w.max()):  # finite weights whose sum overflows
            return None
    expected = "finite numbers > 0"

    def error(problem: str, hint: str) -> WeightError:
        return WeightError(f"{kind} column {col!r} has {problem}; {hint}.", parameter=kind,
                           value=col, expected=expected, hint=hint)

    if np.isnan(w).any():
        rows = np.flatnonzero(np.isnan(w))[:5].tolist()
        raise error(f"{int(np.isnan(w).sum())} missing value(s) (first at positions {rows})",
                    "give every respondent a weight or drop those rows")
    if not np.isfinite(w).all():
        rows = np.flatnonzero(~np.isfinite(w))[:5].tolist()
        raise error(f"infinite values (first at positions {rows})",
                    "check the column (a probability of 0 gives an infinite weight)")
    if (w <= 0).any():
        rows = np.flatnonzero(w <= 0)[:5].tolist()
        raise error(
            f"{int((w <= 0).sum())} non-positive value(s) (min {w.min():g}, first at positions "
            f"{rows})",
            "sampling weights must be > 0 — drop out-of-scope rows with subset() instead of zero "
            "weights")
    return None  # no rows


def boolean_mask(mask, n: int, df: pd.DataFrame) -> np.ndarray:
    """Turn a boolean Series/array or a ``DataFrame.query`` string into a boolean array."""
    if isinstance(mask, str):
        try:
            sel = df.eval(mask)
        except Exception as exc:  # pandas raises many types here
            raise invalid_argument(
                "mask", mask, "a boolean mask or a DataFrame.query expression",
                f"the expression failed ({exc}); check its column names") from exc
        mask = sel
    if isinstance(mask, pd.Series):
        if mask.isna().any():
            hint = "decide whether those rows are in the domain (fillna(False))"
            raise SurveyDesignError(
                f"subset mask has {int(mask.isna().sum())} missing value(s); {hint}.",
                parameter="mask", expected="no missing values", hint=hint)
        arr = mask.to_numpy()
    else:
        arr = np.asarray(mask)
    if arr.shape != (n,):
        raise invalid_argument("mask", arr.shape, f"one value per row of the design ({n})",
                               "build the mask from the design's data", shown=f"<shape {arr.shape}>")
    if arr.dtype != bool:
        if arr.dtype.kind in "iu" and set(np.unique(arr)) <= {0, 1}:
            arr = arr.astype(bool)
        else:
            raise invalid_argument("mask", arr.dtype, "boolean (or 0/1)",
                                   "compare a column to a value, e.g. df['age'] >= 18",
                                   shown=f"<dtype {arr.dtype}>")
    return arr


def factorize_column(s: pd.Series, *, sort: bool = True,
                     every_row: np.ndarray | None = None) -> tuple[np.ndarray, list, np.ndarray]:
    """(codes, levels, ok) of a column: read-only int64 codes (-1 = missing) into ``levels``.

    A categorical keeps its categories (unused ones included) in their order; other columns
    get their distinct values, sorted when ``sort``.  ``every_row``, a read-only array of
    ``True`` (one per row), is returned as ``ok`` of a column without missing values that is
    coded from its integers, so the columns of one frame share it (a new 1M-row mask costs
    its page faults, about 0.4 ms, on every first call).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = list(s.cat.categories)
        codes = s.cat.codes.to_numpy().astype(np.int64)
        ok = codes >= 0
    else:
        coded = (integer_codes(s.to_numpy()) if sort and isinstance(s.dtype, np.dtype)
                 else None)
        if coded is not None:  # an integer column: no missing values, no comparison
            codes, levels = coded[0], coded[1].tolist()
            # a real array: masks combined with a broadcast of True run ~10x slower
            ok = every_row if every_row is not None else np.ones(len(codes), dtype=bool)
        else:
            codes, uniq = pd.factorize(s, sort=sort)
            levels = list(uniq)
            codes = codes.astype(np.int64)
            ok = codes >= 0
    codes.flags.writeable = False
    if ok is not every_row:
        ok.flags.writeable = False
    return codes, levels, ok
