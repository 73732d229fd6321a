"""Stratified selection of primary units from a frame, and of dwellings within them.

:func:`select_units` draws the first stage and returns the selected units as a DataFrame that
:class:`~surveylib.SurveyDesign` reads directly; :func:`select_dwellings` adds a fixed number of
dwellings per selected unit.  See ``docs/sampling.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._validation import as_list, as_pandas, check_columns
from ._common import CertaintyWarning, SamplingError, as_generator
from .methods import brewer, sampford, srs, systematic, systematic_pps
from .probabilities import _check_n, check_size, inclusion_probabilities

__all__ = ["METHODS", "OUTPUT_COLUMNS", "inclusion_frame", "select_dwellings", "select_units",
           "units_from_interviews"]

#: method -> (uses the size measure, function of one stratum)
METHODS = {
    "srs": False,
    "systematic": False,
    "pps_systematic": True,
    "pps_random_systematic": True,
    "brewer": True,
    "sampford": True,
}

#: columns added by :func:`select_units` / :func:`inclusion_frame`
OUTPUT_COLUMNS = ("design_stratum", "psu", "pi", "weight", "fpc", "certainty", "list_order")


def _allocation(n, labels: list) -> dict:
    """Units to select per stratum from an int, a dict, a Series or a one-column DataFrame."""
    if isinstance(n, pd.DataFrame):
        if "n" not in n.columns:
            raise SamplingError("an allocation DataFrame needs a column 'n' (units per stratum).",
                                parameter="n", value=list(n.columns), expected="column 'n'")
        n = n["n"]
    if isinstance(n, pd.Series):
        n = n.to_dict()
    if isinstance(n, Mapping):
        keys = {str(k): k for k in n}
        missing = [h for h in labels if h not in n and str(h) not in keys]
        extra = [k for k in n if k not in labels and str(k) not in {str(h) for h in labels}]
        if missing or extra:
            raise SamplingError(
                f"the allocation and the frame have different strata: missing from the "
                f"allocation {missing[:10]}, not in the frame {extra[:10]}.",
                parameter="n", value=extra or missing, expected=labels[:20],
                hint="give one entry per frame stratum (0 to skip a stratum)",
            )
        return {h: (n[h] if h in n else n[keys[str(h)]]) for h in labels}
    if len(labels) > 1:
        raise SamplingError(
            f"n={n!r} is one number but the frame has {len(labels)} strata; give a dict or "
            "Series of units per stratum (e.g. from units_from_interviews()).",
            parameter="n", value=n, expected="dict or Series per stratum",
        )
    return {labels[0]: n}


def units_from_interviews(allocation, dwellings_per_unit: int, *, response_rate: float = 1.0):
    """Primary units per stratum needed for an allocation of completed interviews.

    ``ceil(n_h / (m r))`` with ``m`` dwellings per unit and anticipated response rate ``r``;
    ``allocation`` is the Series returned by :func:`surveylib.planning.allocate` or a dict.

    Examples
    --------
    >>> from surveylib.sampling import units_from_interviews
    >>> units_from_interviews({"a": 400, "b": 130}, 10, response_rate=0.5).tolist()
    [80, 26]
    """
    s = pd.Series(dict(allocation)) if isinstance(allocation, Mapping) else pd.Series(allocation)
    m = int(dwellings_per_unit)
    if m < 1 or not 0 < response_rate <= 1:
        raise SamplingError(
            f"dwellings_per_unit={dwellings_per_unit!r} must be >= 1 and response_rate="
            f"{response_rate!r} in (0, 1].", parameter="dwellings_per_unit",
        )
    need = s.astype(float) / (m * response_rate) - 1e-9
    return pd.Series(np.ceil(need.to_numpy()), index=need.index, name="n").astype(np.int64)


def _stratum_probabilities(method, size, n, h):
    """(pi, certainty) of the units of one stratum."""
    N = len(size)
    _check_n(n, N, stratum=h)
    if not METHODS[method]:
        return np.full(N, n / N), np.zeros(N, dtype=bool)
    a = check_size(size, stratum=h)
    pik = inclusion_probabilities(a, n)
    return pik, pik >= 1


def inclusion_frame(frame, n, *, method: str = "pps_systematic", stratum=None, size=None,
                    unit=None, sort_by=None, seed=None) -> pd.DataFrame:
    """The whole frame with each unit's inclusion probability and design columns (no draw).

    Parameters and columns as :func:`select_units`, plus ``list_order`` (the unit's position in
    the stratum's systematic list; random for ``pps_random_systematic``, which is why ``seed``
    is taken).  :func:`select_units` is this frame followed by the draw.
    """
    df = as_pandas(frame, what="frame")
    if method not in METHODS:
        raise SamplingError(f"method={method!r} is not one of {list(METHODS)}.",
                            parameter="method", value=method, expected=list(METHODS))
    clash = [c for c in OUTPUT_COLUMNS if c in df.columns]
    if clash:
        raise SamplingError(f"the frame already has column(s) {clash}, which the selection "
                            "adds; rename them.", parameter="frame", value=clash)
    cols = [c for c in [stratum, size, unit] if c is not None] + as_list(sort_by)
    check_columns(df, cols, role="frame")
    if METHODS[method] and size is None:
        raise SamplingError(f"method={method!r} selects with probability proportional to size: "
                            "give size= (the size-measure column).", parameter="size")
    if unit is not None and df[unit].duplicated().any():
        raise SamplingError(f"unit column {unit!r} has repeated ids; each frame unit needs one id.",
                            parameter="unit", value=df[unit][df[unit].duplicated()].iloc[0])
    strata = df[stratum] if stratum is not None else pd.Series("(all)", index=df.index)
    if strata.isna().any():
        raise SamplingError(f"stratum column {stratum!r} has missing values; give every frame "
                            "unit a stratum.", parameter="stratum")
    labels = sorted(pd.unique(strata).tolist(), key=str)
    alloc = _allocation(n, labels)
    rng = as_generator(seed)
    codes = pd.Categorical(strata, categories=labels).codes
    sizes = df[size].to_numpy(dtype=float) if size is not None else np.ones(len(df))
    pi = np.zeros(len(df))
    cert = np.zeros(len(df), dtype=bool)
    order = np.zeros(len(df), dtype=np.int64)
    if sort_by is not None:
        base = np.lexsort([df[c].to_numpy() for c in reversed(as_list(sort_by))])
    else:
        base = np.arange(len(df))
    for k, h in enumerate(labels):  # one pass per stratum, vectorised over its units
        rows = base[codes[base] == k]
        if method == "pps_random_systematic":
            rows = rows[rng.permutation(len(rows))]
        p, c = _stratum_probabilities(method, sizes[rows], alloc[h], h)
        pi[rows], cert[rows], order[rows] = p, c, np.arange(len(rows))
    if cert.any():
        warnings.warn(
            f"{int(cert.sum())} unit(s) are so large that their inclusion probability reached 1 "
            f"({_names(df, unit, cert)}); they are taken with certainty, each as its own design "
            "stratum, and the rest of their stratum's allocation is spread over the other units "
            "in proportion to size.",
            CertaintyWarning, stacklevel=3,
        )
    out = df.copy()
    psu = df[unit].to_numpy() if unit is not None else df.index.to_numpy()
    lab = strata.astype(str).to_numpy().astype(object)
    out["design_stratum"] = np.where(cert, lab + ":certainty:" + pd.Series(psu).astype(str).to_numpy(),
                                     lab)
    out["psu"] = psu
    out["pi"] = pi
    with np.errstate(divide="ignore"):
        out["weight"] = np.where(pi > 0, 1.0 / np.where(pi > 0, pi, 1.0), np.inf)
    n_units = np.bincount(codes[~cert], minlength=len(labels)).astype(float)
    fpc = n_units[codes] if not METHODS[method] else np.full(len(df), np.inf)
    out["fpc"] = np.where(cert, 1.0, fpc)
    out["certainty"] = cert
    out["list_order"] = order
    return out


def _names(df, unit, mask) -> str:
    ids = (df[unit] if unit is not None else df.index.to_series())[mask].astype(str).tolist()
    return ", ".join(ids[:8]) + (" ..." if len(ids) > 8 else "")


def select_units(frame, n, *, method: str = "pps_systematic", stratum=None, size=None,
                 unit=None, sort_by=None, seed=None) -> pd.DataFrame:
    """Select primary units within strata; the result is ready for ``SurveyDesign``.

    Parameters
    ----------
    frame : DataFrame
        One row per primary unit (not modified).
    n : int, dict, Series or DataFrame
        Units to select per stratum (certainty units included), e.g.
        :func:`units_from_interviews` of a :func:`surveylib.planning.allocate` result.
    method : {"srs", "systematic", "pps_systematic", "pps_random_systematic", "brewer", "sampford"}
        ``srs`` and ``systematic`` (in ``sort_by`` order) select with equal probability;
        the others with probability proportional to ``size``: systematic in ``sort_by`` order
        (or frame order), systematic after a random permutation of the stratum, Brewer's or
        Sampford's method.
    stratum, size, unit : str, optional
        Stratum column, size-measure column (PPS methods), unit-id column (default: the frame
        index).
    sort_by : str or list of str, optional
        Order of the list within strata for systematic methods (implicit stratification).
    seed : int or numpy.random.Generator, optional
        The random source; the same seed gives the same sample.

    Returns
    -------
    DataFrame
        The selected units, with the frame's columns and ``design_stratum`` (the stratum; a
        certainty unit is its own stratum ``"<h>:certainty:<id>"``), ``psu`` (unit id), ``pi``
        (first-order inclusion probability), ``weight`` (``1 / pi``), ``fpc`` (number of frame
        units in the stratum for equal-probability methods; ``inf`` — the with-replacement
        approximation — for PPS methods; 1 for certainty units), ``certainty`` and
        ``list_order``.  ``SurveyDesign(out, strata="design_stratum", psu="psu",
        weights="weight", fpc="fpc")`` is the first-stage design.

    Raises
    ------
    SamplingError
        Unknown method, missing columns, a size missing or <= 0, a stratum with fewer units
        than its allocation, an allocation whose strata differ from the frame's.

    Warns
    -----
    CertaintyWarning
        Units whose probability reached 1 are taken with certainty (R
        ``inclusionprobabilities`` does the same without saying so).
    """
    rng = as_generator(seed)  # one stream: the random order (if any), then the draws
    full = inclusion_frame(frame, n, method=method, stratum=stratum, size=size, unit=unit,
                           sort_by=sort_by, seed=rng)
    chosen = np.zeros(len(full), dtype=bool)
    strata = full["design_stratum"].where(~full["certainty"], "__certainty__").to_numpy()
    for h in pd.unique(strata):  # one draw per stratum
        rows = np.flatnonzero(strata == h)
        if h == "__certainty__":
            chosen[rows] = True
            continue
        rows = rows[np.argsort(full["list_order"].to_numpy()[rows], kind="stable")]
        pik = full["pi"].to_numpy()[rows]
        chosen[rows] = _draw(method, pik, rng).astype(bool)
    out = full.loc[chosen]
    out = out.sort_values(["design_stratum", "list_order"], kind="stable")
    return out


def _draw(method: str, pik: np.ndarray, rng) -> np.ndarray:
    N, n = len(pik), int(round(pik.sum()))
    if method == "srs":
        return srs(N, n, seed=rng)
    if method == "systematic":
        return systematic(N, n, seed=rng)
    if method in ("pps_systematic", "pps_random_systematic"):
        return systematic_pps(pik, seed=rng)
    if method == "brewer":
        return brewer(pik, seed=rng)
    return sampford(pik, seed=rng)


def select_dwellings(units, m: int, *, dwellings: str, seed=None) -> pd.DataFrame:
    """A fixed number ``m`` of dwellings in each selected unit, by systematic sampling.

    Parameters
    ----------
    units : DataFrame
        Output of :func:`select_units`.
    m : int
        Dwellings per unit (a unit with fewer than ``m`` is taken completely).
    dwellings : str
        Column with the number of dwellings ``M_i`` listed in each unit.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    DataFrame
        One row per selected dwelling: the unit's columns, ``dwelling`` (number 1..M_i in the
        unit's listing), ``pi_dwelling`` (``min(m, M_i) / M_i``), and ``pi`` and ``weight``
        replaced by the overall probability ``pi_i * pi_dwelling`` and its inverse.  With
        ``size`` = dwellings in a PPS first stage the sample is self-weighting.

    Notes
    -----
    Within a unit the dwellings ``floor(u + j M_i / m) + 1``, ``j = 0..m-1``, ``u`` uniform on
    [0, M_i/m), are taken: systematic sampling with a fractional interval, which gives every
    dwelling probability ``m / M_i`` exactly.
    """
    df = as_pandas(units, what="units")
    check_columns(df, [dwellings, "pi", "weight"], role="selected units")
    M = df[dwellings].to_numpy(dtype=float)
    if not np.isfinite(M).all() or (M < 1).any() or (M != np.round(M)).any():
        raise SamplingError(f"dwellings column {dwellings!r} must hold whole counts >= 1 for "
                            "every selected unit.", parameter="dwellings")
    if int(m) < 1:
        raise SamplingError(f"m={m!r} dwellings per unit must be >= 1.", parameter="m", value=m)
    rng = as_generator(seed)
    take = np.minimum(int(m), M).astype(np.int64)
    rep = np.repeat(np.arange(len(df)), take)
    j = np.arange(take.sum()) - np.repeat(np.cumsum(take) - take, take)
    step = M[rep] / take[rep]
    u = rng.random(len(df))[rep] * step
    number = np.floor(u + j * step).astype(np.int64) + 1
    out = df.iloc[rep].reset_index(drop=True)
    out["dwelling"] = number
    out["pi_dwelling"] = take[rep] / M[rep]
    out["pi"] = out["pi"].to_numpy() * out["pi_dwelling"].to_numpy()
    out["weight"] = 1.0 / out["pi"].to_numpy()
    return out
