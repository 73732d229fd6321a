"""Any statistic within domains (R ``svyby(formula, by, design, FUN)`` with any ``FUN``).

The built-in estimators take ``by=`` and compute every domain in one pass, with the
covariances between domains; :func:`by_domains` is for everything else (a model, a test
statistic's estimate, a function of your own that returns a result): it calls the function
on the domain's subset design (which keeps the whole design for variances, as R) and stacks
the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

from .._validation import as_list
from ..errors import SurveyDesignError
from ..results import Printable, StatisticAccessors, labelled_frame
from ._cells import domains

BY_FRAME_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df"]


@dataclass(frozen=True, repr=False)  # prints its summary (Printable)
class DomainResults(StatisticAccessors, Printable):
    """The results of one statistic in each domain, stacked (R ``svyby`` with any ``FUN``).

    Attributes
    ----------
    labels : MultiIndex
        The ``by`` values, then the labels of each domain's result.
    values, vcov_matrix, dfs : ndarray
        Estimates; their covariance, block-diagonal by domain (R ``svyby``'s default
        ``covmat=FALSE`` keeps only the variances; the covariances within a domain are
        kept here); each estimate's degrees of freedom.
    results : dict
        Each domain's key (a value, or a tuple for several ``by`` columns) -> its result.
    by : tuple of str
    inference : str

    Notes
    -----
    ``to_frame()`` has the ``by`` columns and the labels of the results, then ``["estimate",
    "se", "ci_low", "ci_high", "df"]``.
    """

    frame_columns = tuple(BY_FRAME_COLUMNS)

    labels: pd.MultiIndex
    values: np.ndarray
    vcov_matrix: np.ndarray
    dfs: np.ndarray
    results: dict
    by: tuple
    inference: str

    @property
    def index(self) -> pd.Index:
        return self.labels

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        return labelled_frame(self, level)

    def _title(self) -> str:
        return f"Estimates by {', '.join(self.by)}"


def by_domains(design, by, fn: Callable) -> DomainResults:
    """``fn(domain_design)`` for each domain of ``by``, stacked (R ``svyby(..., FUN)``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    by : str or list of str
        Domain column(s); domains are their observed combinations, sorted, as R.
    fn : callable
        Takes a design and returns a result with ``values``, ``vcov_matrix``, ``dfs`` and
        ``index`` (any surveylib estimate, a model, a contrast, a pooled result, ...), e.g.
        ``lambda d: d.quantile("y", [0.25, 0.75])`` or ``lambda d: d.glm("y ~ x")``.

    Returns
    -------
    DomainResults

    Notes
    -----
    Each domain is estimated on ``design.subset(domain)``, which keeps every stratum and PSU
    for the variance (R ``svyby``'s subsets).  Covariances between domains are not computed
    (R's ``covmat=TRUE`` is available for the built-in estimators through their own ``by=``).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"g": list("aabb"), "y": [1.0, 3, 2, 6], "w": 1.0})
    >>> r = sl.SurveyDesign(df, weights="w").by_domains("g", lambda d: d.mean("y"))
    >>> r.estimate.tolist()
    [2.0, 4.0]
    """
    by_cols = as_list(by)
    if not by_cols:
        raise SurveyDesignError("by_domains needs domain column(s) in by=.", parameter="by")
    g, keys, _ = domains(design, by_cols)
    results, frames, values, blocks, dfs = {}, [], [], [], []
    for k, row in enumerate(keys.itertuples(index=False, name=None)):
        res = fn(design.subset(design.active & (g == k)))
        missing = [a for a in ("values", "vcov_matrix", "dfs", "index") if not hasattr(res, a)]
        if missing:
            raise SurveyDesignError(
                f"fn returned a {type(res).__name__}, which lacks {missing}; return a surveylib "
                "result (an estimate, a model, a contrast).", parameter="fn")
        key = row if len(row) > 1 else row[0]
        results[key] = res
        inner = res.index.to_frame(index=False)
        inner = inner.rename(columns={c: f"{c}_" for c in inner.columns if c in by_cols})
        frames.append(pd.concat([pd.DataFrame([row] * len(inner), columns=by_cols), inner],
                                axis=1))
        v = np.asarray(res.values, dtype=float)
        values.append(v)
        blocks.append(np.asarray(res.vcov_matrix, dtype=float))
        dfs.append(np.broadcast_to(np.asarray(res.dfs, dtype=float), v.shape))
    labels = pd.MultiIndex.from_frame(pd.concat(frames, ignore_index=True))
    first = next(iter(results.values()))
    return DomainResults(labels, np.concatenate(values), block_diag(*blocks), np.concatenate(dfs),
                         results, tuple(by_cols),
                         f"each domain of {by_cols} estimated on its subset design; "
                         f"no covariances between domains\n{getattr(first, 'inference', '')}")
