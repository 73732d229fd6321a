"""Per-stratum inputs: population sizes and values aligned to the strata by label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PlanningError
from ._checks import as_array


def strata_series(strata_sizes) -> pd.Series:
    """Population sizes ``N_h`` as a float Series named ``"N"``, indexed by stratum (checked)."""
    if isinstance(strata_sizes, pd.Series):
        s = strata_sizes.copy()
    elif isinstance(strata_sizes, Mapping):
        s = pd.Series(dict(strata_sizes))
    else:
        s = pd.Series(np.asarray(strata_sizes).ravel() if np.ndim(strata_sizes) else [])
    if len(s) == 0:
        raise PlanningError("strata_sizes is empty; give one population size per stratum.")
    if not s.index.is_unique:
        dup = s.index[s.index.duplicated()][0]
        raise PlanningError(
            f"stratum {dup!r} appears twice in strata_sizes; labels must be unique."
        )
    vals = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(vals) | (vals < 1) | (vals != np.round(vals))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise PlanningError(
            f"strata_sizes for stratum {s.index[k]!r} is {s.iloc[k]!r}; population sizes "
            "must be whole numbers >= 1 (drop empty strata from the frame)."
        )
    return pd.Series(vals, index=s.index, name="N")


def per_stratum(name: str, value, index: pd.Index) -> np.ndarray:
    """Align a scalar, a Series/dict keyed by stratum, or an array to the strata."""
    if isinstance(value, Mapping):
        value = pd.Series(dict(value))
    if isinstance(value, pd.Series):
        missing = index.difference(value.index)
        if len(missing):
            raise PlanningError(
                f"{name} has no value for stratum {missing[0]!r}; give one value per stratum "
                "(its index must hold the labels of strata_sizes)."
            )
        extra = value.index.difference(index)
        if len(extra):
            raise PlanningError(
                f"{name} has a value for stratum {extra[0]!r}, which is not in strata_sizes."
            )
        value = value.reindex(index).to_numpy()
    arr = as_array(name, value)
    if arr.ndim == 0:
        return np.full(len(index), float(arr))
    arr = arr.ravel()
    if arr.shape[0] != len(index):
        raise PlanningError(
            f"{name} has {arr.shape[0]} values for {len(index)} strata; give one per stratum "
            "or a pandas Series indexed by stratum."
        )
    return arr


def first_bad(index: pd.Index, bad: np.ndarray) -> Any:
    """Label of the first stratum flagged in ``bad`` (for error messages)."""
    return index[int(np.flatnonzero(bad)[0])]
