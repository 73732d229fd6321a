"""Choosing the respondent in a selected household, with the within-household probability.

* :func:`kish_grid` — Kish's (1949) selection tables: each household is assigned one of eight
  tables in fixed proportions, and the table gives the line number of the adult to interview
  for 1, 2, ..., 6+ adults in the household listing (men oldest to youngest, then women).
* :func:`birthday_select` — the last- or next-birthday method: the adult whose birthday was
  most recently before (or comes next after) the reference date.

The probability recorded for the chosen adult multiplies the dwelling's inclusion probability
(``weight * 1 / p``): Kish's probabilities are exact properties of the tables; the birthday
methods are taken at their nominal ``1 / k`` (birthdays independent of the order of listing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_pandas, check_columns
from ._common import SamplingError, as_generator

__all__ = ["KISH_TABLES", "birthday_select", "kish_grid", "kish_probabilities"]

#: Kish (1949) selection tables: name -> (share of households, line selected for 1..6+ adults)
KISH_TABLES = {
    "A": (1 / 6, (1, 1, 1, 1, 1, 1)),
    "B1": (1 / 12, (1, 1, 1, 1, 2, 2)),
    "B2": (1 / 12, (1, 1, 1, 2, 2, 2)),
    "C": (1 / 6, (1, 1, 2, 2, 3, 3)),
    "D": (1 / 6, (1, 2, 2, 3, 4, 4)),
    "E1": (1 / 12, (1, 2, 3, 3, 3, 5)),
    "E2": (1 / 12, (1, 2, 3, 4, 5, 5)),
    "F": (1 / 6, (1, 2, 3, 4, 5, 6)),
}
_NAMES = list(KISH_TABLES)
_SHARE = np.array([KISH_TABLES[t][0] for t in _NAMES])
_LINE = np.array([KISH_TABLES[t][1] for t in _NAMES])  # 8 tables x 6 sizes


def kish_probabilities() -> pd.DataFrame:
    """The probability that line ``j`` is selected in a household of ``k`` adults.

    Returns
    -------
    DataFrame
        Rows ``k = 1..6`` (6 stands for 6 or more), columns ``j = 1..6``: the total share of
        the tables that pick line ``j``.  It is ``1 / k`` for ``k`` = 1, 2, 3, 4 and 6; for 5
        adults it is (1/6, 1/6, 1/4, 1/6, 1/4); in households of 7+ adults lines 7+ are never
        chosen (probability 0) — Kish's known approximations.

    Examples
    --------
    >>> from surveylib.sampling import kish_probabilities
    >>> kish_probabilities().loc[3, [1, 2, 3]].round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    P = np.zeros((6, 6))
    for k in range(6):
        np.add.at(P[k], _LINE[:, k] - 1, _SHARE)
    return pd.DataFrame(P, index=pd.Index(range(1, 7), name="adults"),
                        columns=pd.Index(range(1, 7), name="line"))


def kish_grid(adults, *, table=None, seed=None) -> pd.DataFrame:
    """Select one adult per household with Kish's tables.

    Parameters
    ----------
    adults : array_like of int
        Number of eligible adults in each household (>= 1).
    table : array_like of str, optional
        The Kish table assigned to each household (``"A"``, ``"B1"``, ... ``"F"``), e.g. printed
        on the contact sheet; by default each household is assigned a table at random in the
        Kish proportions (1/6 for A, C, D, F; 1/12 for B1, B2, E1, E2).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    DataFrame
        One row per household: ``adults``, ``kish_table``, ``line`` (the line number in the
        household listing of the adult to interview) and ``p_within`` (the probability that
        this line is chosen, from :func:`kish_probabilities`).  Households of 7 or more
        adults use the 6+ column: lines 7+ are never chosen, and the chosen line's
        probability is 1/6.
    """
    k = np.asarray(adults, dtype=float).ravel()
    if not np.isfinite(k).all() or (k < 1).any() or (k != np.round(k)).any():
        raise SamplingError("adults must be whole numbers >= 1 for every household (a household "
                            "without an eligible adult has no respondent: drop it).",
                            parameter="adults", expected="integers >= 1")
    k = k.astype(np.int64)
    if table is None:
        rng = as_generator(seed)
        t = np.searchsorted(np.cumsum(_SHARE), rng.random(len(k)), side="right")
        t = np.minimum(t, len(_NAMES) - 1)
    else:
        names = np.asarray(table, dtype=object).ravel()
        bad = ~np.isin(names, _NAMES)
        if bad.any():
            raise SamplingError(f"unknown Kish table {names[bad][0]!r}; tables are {_NAMES}.",
                                parameter="table", value=names[bad][0], expected=_NAMES)
        t = np.array([_NAMES.index(x) for x in names], dtype=np.int64)
    col = np.minimum(k, 6) - 1
    line = _LINE[t, col]
    P = kish_probabilities().to_numpy()
    return pd.DataFrame({"adults": k, "kish_table": np.asarray(_NAMES, dtype=object)[t],
                         "line": line, "p_within": P[col, line - 1]})


def birthday_select(persons, *, household: str, birthday: str, reference,
                    which: str = "last") -> pd.DataFrame:
    """Select the adult with the last (most recent) or next birthday in each household.

    Parameters
    ----------
    persons : DataFrame
        One row per eligible adult (not modified).
    household : str
        Household id column.
    birthday : str
        Date of birth column (any date; only month and day are used).
    reference : date-like
        The day of the interview or contact.  A birthday on that day counts as the "last".
    which : {"last", "next"}

    Returns
    -------
    DataFrame
        The selected persons' rows with ``adults`` (eligible adults in the household) and
        ``p_within = 1 / adults`` (the method's nominal probability).  Ties (the same birthday)
        go to the first listed person.

    Examples
    --------
    >>> import pandas as pd
    >>> from surveylib.sampling import birthday_select
    >>> p = pd.DataFrame({"hh": [1, 1, 2], "name": ["a", "b", "c"],
    ...                   "dob": pd.to_datetime(["1980-03-01", "1975-11-20", "1990-07-07"])})
    >>> birthday_select(p, household="hh", birthday="dob", reference="2025-06-01")["name"].tolist()
    ['a', 'c']
    """
    if which not in ("last", "next"):
        raise SamplingError(f"which={which!r} is not 'last' or 'next'.", parameter="which",
                            value=which, expected=["last", "next"])
    df = as_pandas(persons, what="persons")
    check_columns(df, [household, birthday], role="household selection")
    dob = pd.to_datetime(df[birthday], errors="coerce")
    if dob.isna().any():
        raise SamplingError(f"birthday column {birthday!r} has {int(dob.isna().sum())} missing "
                            "or unreadable date(s); ask the household for each adult's birthday.",
                            parameter="birthday")
    ref = pd.Timestamp(reference)
    # day of the year on a leap-year calendar, so 29 February has its own place
    doy = (dob.dt.month.to_numpy() - 1) * 31 + dob.dt.day.to_numpy()
    r = (ref.month - 1) * 31 + ref.day
    span = 12 * 31
    dist = (r - doy) % span if which == "last" else (doy - r - 1) % span
    codes, _ = pd.factorize(df[household])
    order = np.lexsort((np.arange(len(df)), dist, codes))
    first = np.ones(len(order), dtype=bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    pick = np.sort(order[first])
    out = df.iloc[pick].copy()
    sizes = np.bincount(codes)
    out["adults"] = sizes[codes[pick]]
    out["p_within"] = 1.0 / out["adults"].to_numpy()
    return out
