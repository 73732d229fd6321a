"""Direct standardisation of domain estimates (R ``svystandardize``): e.g. attitudes by region
standardised to one age structure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._validation import as_list, check_columns
from ..errors import SurveyDesignError
from ._cells import code_domains

if TYPE_CHECKING:
    from ..design import SurveyDesign


def standardize(design, by, population, *, over=None, excluding_missing=None) -> SurveyDesign:
    """A design whose weights give every domain of ``over`` the distribution of ``by`` in
    ``population`` (R ``svystandardize(design, by=~by, over=~over, population=)``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    by : str or list of str
        The standardising variable(s) (e.g. age group).
    population : dict, Series or sequence
        The standard population's count or share of each level (combination) of ``by``: a
        dict or Series keyed by level (tuples for several variables), or a sequence in the
        order of the sorted levels, as R.  Only proportions matter.
    over : str or list of str, optional
        The domains to standardise (e.g. region); default the whole population.
    excluding_missing : str or list of str, optional
        Leave out rows missing these variables first (R ``excluding.missing=~y``), so the
        standardisation holds among the rows that will be analysed.

    Returns
    -------
    SurveyDesign
        Post-stratified on ``by`` x ``over`` to ``share(by) x total(over)``; estimate with
        ``.mean(y, by=over)`` to get directly standardised means with design-based SEs
        (the post-stratification enters the variance as R's ``postStratify``).

    Notes
    -----
    As R (``postStratify(..., partial=TRUE)``): a combination of ``by`` and ``over`` without
    respondents is left out, so that domain's shares are not exactly the standard's; the
    totals of ``over`` are the design's weighted counts.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"age": ["y", "o", "y", "o", "o"], "reg": ["a", "a", "b", "b", "b"],
    ...                    "x": [1.0, 3, 2, 4, 6], "w": 1.0})
    >>> s = sl.SurveyDesign(df, weights="w").standardize("age", {"y": 0.5, "o": 0.5}, over="reg")
    >>> s.mean("x", by="reg").estimate.round(2).tolist()
    [2.0, 3.5]
    """
    by_cols, over_cols = as_list(by), as_list(over)
    if set(by_cols) & set(over_cols):
        raise SurveyDesignError(f"by={by_cols} and over={over_cols} share a variable.",
                                parameter="over", value=over)
    if excluding_missing is not None:
        cols = as_list(excluding_missing)
        check_columns(design.data, cols, role="analysis")
        design = design.subset(design.data[cols].notna().all(axis=1).to_numpy())
    data = design.data
    check_columns(data, by_cols + over_cols, role="by")
    active = design.active & data[by_cols + over_cols].notna().all(axis=1).to_numpy()
    w = np.where(active, design.base_weights, 0.0)
    gb, kb = code_domains(data, by_cols)
    shares = _shares(population, kb, by_cols)
    if over_cols:
        go, ko = code_domains(data, over_cols)
    else:
        go, ko = np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=[0])
    inside = active & (gb >= 0) & (go >= 0)
    over_total = np.bincount(go[inside], w[inside], minlength=len(ko))
    cell = go * len(kb) + gb
    seen = np.unique(cell[inside])
    frame = pd.concat([kb.iloc[seen % len(kb)].reset_index(drop=True),
                       ko.iloc[seen // len(kb)].reset_index(drop=True)], axis=1)
    frame = frame[by_cols + over_cols] if over_cols else frame[by_cols]
    frame["Freq"] = shares[seen % len(kb)] * over_total[seen // len(kb)]
    return design.poststratify(by_cols + over_cols, frame)


def _shares(population, kb: pd.DataFrame, by_cols: list) -> np.ndarray:
    """The standard's share of each level (combination) of ``by``, in the order of ``kb``."""
    labels = [tuple(r) if len(by_cols) > 1 else r[0]
              for r in kb.itertuples(index=False, name=None)]
    if isinstance(population, (dict, pd.Series)):
        pop = dict(population.items())
        missing = [lv for lv in labels if lv not in pop and str(lv) not in map(str, pop)]
        if missing:
            raise SurveyDesignError(
                f"the standard population has no count for the level(s) {missing[:5]} of "
                f"{by_cols}.", parameter="population", value=missing[:5])
        by_str = {str(k): v for k, v in pop.items()}
        vals = np.array([pop[lv] if lv in pop else by_str[str(lv)] for lv in labels], float)
    else:
        vals = np.asarray(population, dtype=float).ravel()
        if len(vals) != len(labels):
            raise SurveyDesignError(
                f"population has {len(vals)} values but {by_cols} has {len(labels)} levels "
                f"({labels[:10]}); give one per level in that order, or a dict.",
                parameter="population")
    if np.any(vals < 0) or vals.sum() <= 0:
        raise SurveyDesignError("population counts must be non-negative with a positive sum.",
                                parameter="population")
    return vals / vals.sum()
