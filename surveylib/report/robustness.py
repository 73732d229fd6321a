"""Conclusions that hold in every reconstruction consistent with a publication.

When the microdata are reconstructed from published tables, one reconstruction is one point
of a large set of respondent files that all fit the publication.  A conclusion drawn from
the shipped reconstruction is *robust* when it holds in every draw of that set
(:func:`surveylib.reconstruct.draws.reconstruct_draws`).

A study provides ``robustness(data, study) -> DataFrame`` in its ``analyses/`` package: one
row per conclusion with the columns ``exhibit, test_id, universe, claim, estimate,
p_adjusted, supported`` (``supported``: significant at 5% after the report's multiplicity
adjustment, in the claimed direction).  :func:`summarise` turns the shipped frame and the
draws' frames into a table with the estimate's range, the share of draws in which the
conclusion holds and a computed verdict.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..study import StudyPaths

__all__ = ["KEYS", "SUMMARY_COLUMNS", "VERDICTS", "StudyRobustness", "summarise", "verdict"]

#: The three verdicts, from robust to not supported at all.
VERDICTS = ("holds in every reconstruction", "depends on the reconstruction", "holds in none")
#: Columns that identify one conclusion across draws.
KEYS = ["exhibit", "test_id", "universe"]
#: Columns of :func:`summarise`'s table.
SUMMARY_COLUMNS = [*KEYS, "claim", "estimate", "holds", "estimate_min", "estimate_max",
                   "draws", "share_holding", "verdict"]


def verdict(holding: int, draws: int) -> str:
    """The verdict for a conclusion that holds in ``holding`` of ``draws`` reconstructions.

    Examples
    --------
    >>> verdict(200, 200), verdict(3, 200), verdict(0, 200)
    ('holds in every reconstruction', 'depends on the reconstruction', 'holds in none')
    """
    if draws <= 0:
        return ""
    if holding >= draws:
        return VERDICTS[0]
    return VERDICTS[2] if holding <= 0 else VERDICTS[1]


def _holds(frame: pd.DataFrame, sign: pd.Series) -> pd.Series:
    """Supported, and (where the estimate has a sign) in the shipped estimate's direction."""
    est = np.sign(frame["estimate"].astype(float).to_numpy())
    same = sign.isna() | np.isnan(est) | (sign == 0) | (est == sign)
    return frame["supported"].astype(bool) & same


def summarise(shipped: pd.DataFrame, draws: list) -> pd.DataFrame:
    """Range, share holding and verdict of every conclusion of ``shipped`` over ``draws``.

    Parameters
    ----------
    shipped : DataFrame
        The conclusions on the shipped reconstruction (the study's ``robustness`` frame).
    draws : list of DataFrame
        The same frame computed on each draw.

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`, one row per conclusion of ``shipped``, in its order.
        ``holds`` is the shipped result; ``share_holding`` the share of draws in which the
        conclusion is significant at 5% (after the same adjustment) in the shipped direction;
        a conclusion missing from a draw counts as not holding.
    """
    base = shipped.copy()
    sign = pd.Series(np.sign(base["estimate"].astype(float).to_numpy()),
                     index=pd.MultiIndex.from_frame(base[KEYS]))
    base["holds"] = _holds(base, pd.Series(sign.to_numpy()))
    n = len(draws)
    count = pd.Series(0, index=sign.index)
    lo = pd.Series(np.inf, index=sign.index)
    hi = pd.Series(-np.inf, index=sign.index)
    for frame in draws:
        f = frame.set_index(KEYS).reindex(sign.index)
        present = f["supported"].notna().to_numpy()
        g = f.reset_index(drop=True).assign(supported=f["supported"].fillna(False).to_numpy())
        ok = _holds(g, pd.Series(sign.to_numpy())).to_numpy() & present
        count += ok.astype(int)
        est = f["estimate"].astype(float).to_numpy()
        lo = np.fmin(lo, est)
        hi = np.fmax(hi, est)
    base["estimate_min"] = np.where(np.isfinite(lo), lo, np.nan)
    base["estimate_max"] = np.where(np.isfinite(hi), hi, np.nan)
    base["draws"] = n
    base["share_holding"] = count.to_numpy() / n if n else np.nan
    base["verdict"] = [verdict(int(c), n) for c in count.to_numpy()]
    return base[SUMMARY_COLUMNS].reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class StudyRobustness:
    """The study's ``robustness`` hook applied to one draw's folder (picklable for workers).

    Parameters
    ----------
    paths : StudyPaths
        The study's folders; a draw replaces its ``microdata`` folder.
    """

    paths: StudyPaths

    def __call__(self, folder) -> pd.DataFrame:
        draw = dataclasses.replace(self.paths, microdata=Path(folder))
        package = draw.analyses_package()
        load = getattr(package, "load", None)
        data = None if load is None else load(draw)
        return package.robustness(data, study=draw)
