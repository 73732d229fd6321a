"""AAPOR final and interim dispositions, and the Standard Definitions outcome rates.

Disposition codes follow the AAPOR Standard Definitions (2023, tables 1-4): ``1.1`` complete
(I), ``1.2`` partial (P), ``2.1x`` refusal and break-off (R), ``2.2x`` non-contact (NC),
``2.3x`` other eligible non-interview (O), ``3.1x`` unknown if household/occupied (UH),
``3.2x``-``3.9x`` unknown, other (UO), ``4.x`` not eligible (NE).  Sub-codes are kept in the
data and grouped by their first digits (``2.111`` is a refusal).  Code ``0`` marks a case not
yet worked during fieldwork (interim status); it is counted with the unknown-eligibility cases
(UH) and shown separately as ``pending``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._validation import as_pandas, check_columns
from ..errors import DispositionError

__all__ = ["CATEGORIES", "DispositionError", "RATES", "aapor_rates", "classify"]

CATEGORIES = ("I", "P", "R", "NC", "O", "UH", "UO", "NE", "pending")
RATES = ("RR1", "RR2", "RR3", "RR4", "RR5", "RR6", "COOP1", "COOP2", "COOP3", "COOP4",
         "REF1", "REF2", "REF3", "CON1", "CON2", "CON3")

_PREFIX = {("1", "1"): "I", ("1", "2"): "P", ("2", "1"): "R", ("2", "2"): "NC",
           ("2", "3"): "O", ("3", "1"): "UH"}


def _category(code) -> str | None:
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return None
    text = str(code).strip()
    if text in CATEGORIES:
        return text
    if text in ("0", "0.0"):
        return "pending"
    major, _, minor = text.partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()):
        return None
    if major == "4":
        return "NE"
    if not minor:
        return None
    if major == "3" and minor[0] in "23456789":
        return "UO"
    return _PREFIX.get((major, minor[0]))


def classify(codes, *, mapping: Mapping | None = None) -> pd.Series:
    """The AAPOR category of each disposition code.

    Parameters
    ----------
    codes : array_like or Series
        AAPOR numeric codes (``"1.1"``, ``2.11``, ``"3.20"``, ...), category names
        (``"I"``, ``"NC"``, ...) or the survey's own codes given in ``mapping``.
    mapping : dict, optional
        The survey's own codes -> AAPOR codes or categories (``{"done": "1.1", 7: "NC"}``).

    Returns
    -------
    Series of str
        One of ``I, P, R, NC, O, UH, UO, NE, pending``.

    Raises
    ------
    DispositionError
        A code is missing or neither an AAPOR code nor in ``mapping``; the error lists every
        unknown code (``value``).

    Examples
    --------
    >>> from surveylib.fieldwork import classify
    >>> classify(["1.1", "2.12", 2.2, "3.19", "4.7", "0"]).tolist()
    ['I', 'R', 'NC', 'UH', 'NE', 'pending']
    """
    s = pd.Series(codes) if not isinstance(codes, pd.Series) else codes
    uniq = pd.unique(s)
    table = {}
    for u in uniq:  # one lookup per distinct code, not per case
        key = mapping.get(u, mapping.get(str(u), u)) if mapping else u
        table[u] = _category(key)
    bad = [u for u, c in table.items() if c is None]
    if bad:
        raise DispositionError(
            f"{len(bad)} disposition code(s) are not AAPOR codes: {bad[:10]}; recode them "
            "(1.1 complete, 1.2 partial, 2.1x refusal/break-off, 2.2x non-contact, 2.3x other, "
            "3.1x unknown if household, 3.2x-3.9x unknown other, 4.x not eligible, 0 not yet "
            "worked) or give mapping={code: aapor_code}.",
            parameter="disposition", value=bad, expected=list(CATEGORIES),
            hint="pass mapping= for the survey's own codes",
        )
    return s.map(table).astype(object).rename("aapor")


def _rates(c: pd.DataFrame, e: np.ndarray) -> pd.DataFrame:
    I, P, R, NC, O = (c[k].to_numpy(float) for k in ("I", "P", "R", "NC", "O"))  # noqa: E741
    U = (c["UH"] + c["UO"] + c["pending"]).to_numpy(float)
    IP = I + P
    known = IP + R + NC + O
    with np.errstate(divide="ignore", invalid="ignore"):
        d1, d3, d5 = known + U, known + e * U, known
        out = {
            "RR1": I / d1, "RR2": IP / d1, "RR3": I / d3, "RR4": IP / d3,
            "RR5": I / d5, "RR6": IP / d5,
            "COOP1": I / (IP + R + O), "COOP2": IP / (IP + R + O),
            "COOP3": I / (IP + R), "COOP4": IP / (IP + R),
            "REF1": R / d1, "REF2": R / d3, "REF3": R / d5,
            "CON1": (IP + R + O) / d1, "CON2": (IP + R + O) / d3, "CON3": (IP + R + O) / d5,
        }
    return pd.DataFrame(out, index=c.index)


def aapor_rates(data, *, disposition: str, by=None, e=None, mapping=None) -> pd.DataFrame:
    """AAPOR response, cooperation, refusal and contact rates, overall and by stratum.

    Parameters
    ----------
    data : DataFrame
        One row per sampled case (not modified).
    disposition : str
        Disposition column (see :func:`classify`).
    by : str, optional
        Stratum (or any grouping) column; a row ``"(all)"`` is always added.
    e : float, optional
        Estimated share of the unknown-eligibility cases that are eligible (RR3, RR4, REF2,
        CON2).  Default: the share eligible among cases of known eligibility in the same row,
        ``(I+P+R+NC+O) / (I+P+R+NC+O+NE)`` (AAPOR's proportional allocation, "CASRO").
    mapping : dict, optional
        The survey's own codes -> AAPOR codes (see :func:`classify`).

    Returns
    -------
    DataFrame
        Indexed by group (``"(all)"`` last), with the counts ``I, P, R, NC, O, UH, UO, NE,
        pending``, ``e`` and the rates ``RR1``-``RR6``, ``COOP1``-``COOP4``, ``REF1``-``REF3``,
        ``CON1``-``CON3`` (NaN when a denominator is 0).

    Notes
    -----
    With ``U = UH + UO (+ pending)``: ``RR1 = I / ((I+P) + (R+NC+O) + U)``, ``RR2`` the same
    with ``I+P`` above; ``RR3``/``RR4`` replace ``U`` by ``e U``; ``RR5``/``RR6`` drop it.
    ``COOP1 = I / ((I+P)+R+O)``, ``COOP2 = (I+P) / ((I+P)+R+O)``, ``COOP3 = I / ((I+P)+R)``,
    ``COOP4 = (I+P) / ((I+P)+R)``.  ``REF1-3 = R`` over the RR1, RR3, RR5 denominators;
    ``CON1-3 = ((I+P)+R+O)`` over the same.  AAPOR Standard Definitions (2023), sect. 4.
    """
    df = as_pandas(data)
    cols = [disposition] + ([by] if by is not None else [])
    check_columns(df, cols, role="fieldwork")
    cat = classify(df[disposition], mapping=mapping)
    groups = df[by].astype(object).where(df[by].notna(), "(missing)") if by is not None else None
    counts = pd.crosstab(groups if groups is not None else pd.Series("(all)", index=df.index),
                         cat).reindex(columns=list(CATEGORIES), fill_value=0)
    if by is not None:
        counts.loc["(all)"] = counts.sum(axis=0)
    counts.index.name = by
    known = counts[["I", "P", "R", "NC", "O"]].sum(axis=1).to_numpy(float)
    if e is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ev = known / (known + counts["NE"].to_numpy(float))
        ev = np.where(np.isfinite(ev), ev, 1.0)
    else:
        ev = np.full(len(counts), float(e))
        if not 0 <= float(e) <= 1:
            raise DispositionError(f"e={e!r} must be a proportion in [0, 1].", parameter="e",
                                   value=e, expected="[0, 1]")
    out = counts.astype(np.int64)
    out["e"] = ev
    return pd.concat([out, _rates(counts, ev)], axis=1)
