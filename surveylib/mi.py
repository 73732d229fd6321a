"""Analyses of multiply imputed survey data: Rubin's rules over one design per imputation
(R ``mitools``: ``with(imputationList, ...)`` and ``MIcombine``).

A statistic is computed on each completed data set's design with any surveylib function that
returns a result of the protocol (:mod:`surveylib.results`); :func:`mi_combine` pools the
results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SurveyDesignError
from .results import Printable, StatisticAccessors, format_df, labelled_frame

MI_FRAME_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "missinfo"]


@dataclass(frozen=True, repr=False)  # prints its summary (Printable)
class MIResult(StatisticAccessors, Printable):
    """Estimates pooled over imputations by Rubin's rules (R ``MIresult``; frozen).

    Attributes
    ----------
    labels : Index
        The labels of the pooled estimates (the first result's index).
    values : ndarray
        Mean of the estimates over the imputations.
    vcov_matrix : ndarray
        Total covariance ``W + (1 + 1/m) B``.
    dfs : ndarray
        Degrees of freedom of each estimate (Rubin 1987; Barnard & Rubin 1999 when
        ``df_complete`` is finite).
    missinfo : ndarray
        Fraction of missing information of each estimate.
    nimp : int
        Number of imputations.
    inference : str
        Footer.

    Notes
    -----
    ``to_frame()`` has the label columns, then ``["estimate", "se", "ci_low", "ci_high", "df",
    "missinfo"]``; intervals use t with each estimate's df, as ``summary(MIcombine(...))``.
    """

    frame_columns = tuple(MI_FRAME_COLUMNS)

    labels: pd.Index
    values: np.ndarray
    vcov_matrix: np.ndarray
    dfs: np.ndarray
    missinfo: np.ndarray
    nimp: int
    inference: str

    @property
    def index(self) -> pd.Index:
        return self.labels

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One row per estimate: labels, estimate, se, interval at ``level``, df, missinfo."""
        out = labelled_frame(self, level)
        out["missinfo"] = self.missinfo
        return out

    def _title(self) -> str:
        return f"Multiple-imputation estimates (Rubin's rules, {self.nimp} imputations)"


def with_designs(designs: Sequence, fn: Callable) -> list:
    """``fn(design)`` for each imputation's design (R ``with(svyimputationList, ...)``).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> from surveylib.mi import mi_combine, with_designs
    >>> ds = [sl.SurveyDesign(pd.DataFrame({"y": [1.0, 2, v], "w": 1.0}), weights="w")
    ...       for v in (3.0, 6.0)]
    >>> fit = mi_combine(with_designs(ds, lambda d: d.mean("y")))
    >>> float(fit.estimate.iloc[0])
    2.5
    """
    return [fn(d) for d in designs]


def mi_combine(results: Sequence, *, df_complete: float = float("inf")) -> MIResult:
    """Pool results over imputations by Rubin's rules (R ``mitools::MIcombine``).

    Parameters
    ----------
    results : sequence of results
        One result per imputation (an Estimate, a GLM, a contrast, ... — anything with
        ``values``, ``vcov_matrix`` and ``index``), all with the same labels.
    df_complete : float
        Degrees of freedom of the complete-data analysis; ``inf`` (R's default) gives Rubin's
        (1987) df, a finite value Barnard & Rubin's (1999) small-sample df.

    Returns
    -------
    MIResult

    Notes
    -----
    With ``m`` imputations, estimates ``q_j`` and covariances ``U_j``: ``qbar = mean q_j``,
    ``W = mean U_j``, ``B`` the sample covariance of the ``q_j``, ``T = W + (1 + 1/m) B``;
    ``r = (1 + 1/m) diag(B) / diag(W)``, ``df = (m - 1)(1 + 1/r)^2`` and the fraction of
    missing information ``(r + 2/(df + 3)) / (r + 1)``, as R ``MIcombine.default``.
    """
    results = list(results)
    m = len(results)
    if m < 2:
        raise SurveyDesignError(f"mi_combine needs results from at least two imputations; got {m}.",
                                parameter="results")
    labels = results[0].index
    for j, r in enumerate(results[1:], start=2):
        if not r.index.equals(labels):
            raise SurveyDesignError(
                f"the result of imputation {j} has other estimates ({list(r.index)[:5]}) than "
                f"the first ({list(labels)[:5]}); give every imputation the same analysis "
                "(domains present in every imputation).", parameter="results")
    Q = np.vstack([np.asarray(r.values, dtype=float) for r in results])
    W = np.mean([np.asarray(r.vcov_matrix, dtype=float) for r in results], axis=0)
    B = np.atleast_2d(np.cov(Q, rowvar=False))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (1 + 1 / m) * np.diag(B) / np.diag(W)
        df = (m - 1) * (1 + 1 / r) ** 2
        if np.isfinite(df_complete):
            dfobs = (df_complete + 1) / (df_complete + 3) * df_complete * np.diag(W) / np.diag(W + B)
            df = 1 / (1 / dfobs + 1 / df)
        missinfo = (r + 2 / (df + 3)) / (r + 1)
    first = getattr(results[0], "inference", "")
    text = (f"Rubin's rules over {m} imputations; df "
            + ("Rubin (1987)" if not np.isfinite(df_complete)
               else f"Barnard-Rubin with complete-data df {format_df(df_complete)}")
            + (f"\nimputation 1: {first}" if first else ""))
    return MIResult(labels, Q.mean(axis=0), W + (1 + 1 / m) * B, df, missinfo, m, text)
