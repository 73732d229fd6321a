"""Result objects: one accessor protocol for every statistic.

Every estimate (means, totals, proportions, ratios, quantiles, domain tables) answers
``.estimate``, ``.se``, ``.vcov``, ``.ci(level, df)``, ``.df``, ``.deff`` and ``.to_frame()``;
``.to_frame()`` always has the columns ``[*by, "variable", "level", "estimate", "se", "ci_low",
"ci_high", "df", "deff", "n"]``.  Rounding happens only when a result is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import check_level

FRAME_COLUMNS = ["variable", "level", "estimate", "se", "ci_low", "ci_high", "df", "deff", "n"]


def critical_value(level: float, df) -> np.ndarray:
    """Two-sided critical value: t with ``df`` degrees of freedom, normal where df is infinite."""
    check_level(level)
    df = np.asarray(df, dtype=float)
    q = 1 - (1 - level) / 2
    with np.errstate(invalid="ignore"):
        t = stats.t.ppf(q, np.where(np.isinf(df) | (df <= 0), 1.0, df))
    return np.where(np.isinf(df), stats.norm.ppf(q), np.where(df > 0, t, np.nan))


class StatisticAccessors:
    """The accessor protocol shared by every result (estimates, comparisons, models).

    A subclass provides ``index``, ``values``, ``vcov_matrix`` and ``dfs`` (a number, or one
    per row); ``_estimate_name`` names the estimate Series.
    """

    _estimate_name = "estimate"

    @property
    def estimate(self) -> pd.Series:
        return pd.Series(self.values, index=self.index, name=self._estimate_name)

    @property
    def se(self) -> pd.Series:
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.clip(np.diag(self.vcov_matrix), 0, None))
        return pd.Series(se, index=self.index, name="se")

    @property
    def vcov(self) -> pd.DataFrame:
        return pd.DataFrame(self.vcov_matrix, index=self.index, columns=self.index)

    @property
    def df(self):
        """Degrees of freedom: a number when every row shares it, else a Series."""
        dfs = np.atleast_1d(np.asarray(self.dfs, dtype=float))
        if np.all(dfs == dfs[0]):
            d = float(dfs[0])
            return int(d) if d.is_integer() else d
        return pd.Series(dfs, index=self.index, name="df")


def format_df(x) -> str:
    """Degrees of freedom for display: an integer where whole, else 4 significant digits."""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.4g}"


class CoefficientAccessors(StatisticAccessors):
    """Model coefficients (``terms``, ``values``, ``vcov_matrix``, scalar ``dfs``): Wald
    intervals and t tests on the residual degrees of freedom; printing shows ``summary()``."""

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return self.summary()

    def ci(self, level: float = 0.95, df=None) -> pd.DataFrame:
        """Wald intervals, t on the residual df by default; ``df=float("inf")`` gives normal
        quantiles (R ``confint.default``)."""
        check_level(level)
        q = critical_value(level, self.dfs if df is None else float(df))
        se = self.se.to_numpy()
        return pd.DataFrame({"ci_low": self.values - q * se, "ci_high": self.values + q * se},
                            index=self.index)

    def _coefficient_table(self, level: float) -> pd.DataFrame:
        """term, estimate, se, t, p_value, ci_low, ci_high, df — one row a coefficient."""
        se = self.se.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.values / se
        p = 2 * stats.t.sf(np.abs(t), self.dfs) if self.dfs > 0 else np.full(len(t), np.nan)
        ci = self.ci(level)
        return pd.DataFrame({
            "term": list(self.terms), "estimate": self.values, "se": se, "t": t, "p_value": p,
            "ci_low": ci["ci_low"].to_numpy(), "ci_high": ci["ci_high"].to_numpy(),
            "df": np.full(len(t), float(self.dfs)),
        })


@dataclass(frozen=True)
class Estimate(StatisticAccessors):
    """Design-based estimates of one or more cells (domain x variable x level).

    Attributes
    ----------
    statistic : str
        "mean", "total", "proportion", "ratio" or "quantile".
    keys : DataFrame
        One row per cell: the ``by`` columns, ``variable`` and ``level``.
    values, vcov, n, deff, dfs : arrays
        Point estimates, their covariance, respondents per cell, design effects and the
        degrees of freedom used for each cell's interval.
    inference : str
        Footer text saying how inference was done.

    Notes
    -----
    ``dfs`` and ``inference`` may be given as zero-argument callables: they are then computed
    on first use and kept (R likewise computes ``degf`` only when an interval asks for it; for
    replicate designs it is the rank of the replicate weights, the costliest step of an
    estimate).
    """

    _LAZY = ("dfs", "inference")

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if name in Estimate._LAZY and callable(value):
            value = value()
            if name == "dfs":
                value = np.asarray(value, dtype=float)
            object.__setattr__(self, name, value)
        return value

    statistic: str
    keys: pd.DataFrame
    values: np.ndarray
    vcov_matrix: np.ndarray
    n: np.ndarray
    deff_values: np.ndarray
    dfs: np.ndarray
    by: tuple
    inference: str
    ci_method: str = "wald"
    interval: Callable | None = field(default=None, repr=False, compare=False)

    # ----- index used by the pandas accessors ---------------------------------------------
    @property
    def index(self) -> pd.Index:
        """(by..., variable[, level]) labels of the cells; built once."""
        cached = self.__dict__.get("_index")
        if cached is not None:
            return cached
        cols = [*self.by, "variable"]
        if self.keys["level"].notna().any():
            cols.append("level")
        if len(cols) == 1:
            idx = pd.Index(self.keys[cols[0]], name=cols[0])
        else:
            idx = pd.MultiIndex.from_frame(self.keys[cols])
        object.__setattr__(self, "_index", idx)
        return idx

    @property
    def deff(self) -> pd.Series:
        return pd.Series(self.deff_values, index=self.index, name="deff")

    def ci(self, level: float = 0.95, df=None) -> pd.DataFrame:
        """Confidence intervals.

        Parameters
        ----------
        level : float
            Confidence level.
        df : float, optional
            Degrees of freedom of the t quantile; default the design's (R ``degf``).
            ``df=float("inf")`` gives normal intervals, R ``confint.svystat``'s default.
        """
        check_level(level)
        dfs = self.dfs if df is None else np.full(len(self.values), float(df))
        if self.interval is not None:
            low, high = self.interval(level, dfs)
        else:
            half = critical_value(level, dfs) * self.se.to_numpy()
            low, high = self.values - half, self.values + half
        return pd.DataFrame({"ci_low": low, "ci_high": high}, index=self.index)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy frame: one row per cell with fixed column names."""
        ci = self.ci(level)
        out = self.keys.reset_index(drop=True).copy()
        out["estimate"] = self.values
        out["se"] = self.se.to_numpy()
        out["ci_low"] = ci["ci_low"].to_numpy()
        out["ci_high"] = ci["ci_high"].to_numpy()
        out["df"] = self.dfs
        out["deff"] = self.deff_values
        out["n"] = self.n.astype(np.int64)
        return out[[*self.by, *FRAME_COLUMNS]]

    # ----- display -----------------------------------------------------------------------
    def _display_frame(self) -> pd.DataFrame:
        f = self.to_frame()
        if f["level"].isna().all():
            f = f.drop(columns="level")
        return f

    def __str__(self) -> str:
        f = self._display_frame()
        with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 120):
            body = f.to_string(index=False)
        return f"{self.statistic.capitalize()} estimates\n{body}\n{self.inference}"

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        f = self._display_frame()
        html = f.to_html(index=False, float_format="{:.4g}".format, escape=True)
        from html import escape

        return f"<div><b>{escape(self.statistic)} estimates</b>{html}<small>{escape(self.inference)}</small></div>"
