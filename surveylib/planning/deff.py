"""Design effects of a past survey as planning inputs (:func:`deff_from_result`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import PlanningError

__all__ = ["DeffSummary", "deff_from_result"]


@dataclass(frozen=True)
class DeffSummary:
    """Summary of the design effects of a past survey, for use as planning inputs.

    Attributes
    ----------
    mean, median, min, max : float
        Over the finite design effects of the result.
    count : int
        Number of finite design effects summarised.
    values : pandas.Series
        The design effects summarised (a copy).
    """

    mean: float
    median: float
    min: float
    max: float
    count: int
    values: pd.Series

    def __repr__(self) -> str:
        return (
            f"DeffSummary(mean={self.mean:.3f}, median={self.median:.3f}, "
            f"min={self.min:.3f}, max={self.max:.3f}, count={self.count})"
        )


def deff_from_result(result) -> DeffSummary:
    """Summarise the design effects of an estimator result for planning.

    Parameters
    ----------
    result : object
        Anything with a ``.deff`` attribute holding a pandas Series (or array) of design
        effects, e.g. the result of a surveylib estimator on last wave's design.

    Returns
    -------
    DeffSummary
        ``mean``, ``median``, ``min`` and ``max`` over the finite design effects; pass
        ``mean`` (typical) or ``max`` (conservative) as ``deff=`` to the planning functions.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from surveylib.planning import deff_from_result
    >>> res = SimpleNamespace(deff=pd.Series([1.2, 1.8, 1.6], index=["a", "b", "c"]))
    >>> deff_from_result(res).max
    1.8
    """
    if not hasattr(result, "deff"):
        raise PlanningError(
            f"{type(result).__name__} has no .deff; pass an estimator result computed "
            "with design effects (e.g. design.mean(..., deff=True))."
        )
    deff = result.deff
    deff = deff() if callable(deff) else deff
    if isinstance(deff, pd.DataFrame):
        deff = deff.stack()
    s = deff if isinstance(deff, pd.Series) else pd.Series(np.ravel(deff))
    vals = pd.to_numeric(s, errors="coerce").astype(np.float64)
    finite = vals[np.isfinite(vals.to_numpy())]
    if finite.empty:
        raise PlanningError(
            "the result's .deff holds no finite design effects; recompute it with "
            "design effects or give deff= by hand."
        )
    if (finite <= 0).any():
        raise PlanningError(
            f"the result's .deff has a non-positive value for {finite.index[finite <= 0][0]!r}; "
            "design effects are > 0."
        )
    arr = finite.to_numpy()
    return DeffSummary(
        float(arr.mean()),
        float(np.median(arr)),
        float(arr.min()),
        float(arr.max()),
        int(arr.size),
        finite.copy(),
    )
