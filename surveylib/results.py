"""Result objects: one protocol for every statistic and every test.

Every result of surveylib answers the same accessors where they apply:

* ``.estimate`` and ``.se`` (pandas Series), ``.vcov`` (a DataFrame), ``.ci(level, df)`` (a
  DataFrame with the columns ``ci_low`` and ``ci_high``), all indexed by the same labels;
  ``.df`` (a number, or a Series when rows differ);
* ``.to_frame()``: a tidy DataFrame whose columns are fixed by the result's type (the key
  columns, such as the ``by`` variables, then the class's ``frame_columns``); arguments such as
  ``level`` change values, never column names;
* ``summary()`` (text, the same as ``str()``) and ``_repr_html_()`` (an HTML table and a footer
  saying how inference was done: the design, its degrees of freedom, variance method,
  lonely-PSU rule, weight adjustments).  Rounding happens only here.

Estimates (:class:`Estimate`), model coefficients (:class:`CoefficientAccessors`) and the
tables, contrasts and wave comparisons of :mod:`surveylib.inference` share
:class:`StatisticAccessors` and :class:`Printable`.  Tests are frozen dataclasses with the null
hypothesis in words: :class:`TestResult` (F and chi-square tests) and :class:`TTestResult`
(one t statistic; its ``estimate``, ``se`` and ``df`` are numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._validation import check_level
from .errors import SurveyDesignError

FRAME_COLUMNS = ["variable", "level", "estimate", "se", "ci_low", "ci_high", "df", "deff", "n"]
TEST_FRAME_COLUMNS = ["statistic", "df_num", "df_denom", "p_value", "method", "null"]
_LAZY_FIELDS = ("dfs", "inference", "keys", "values", "vcov_matrix", "n", "deff_values",
                "cell_index")
"""Estimate fields that may be given as zero-argument callables (computed on first read)."""
TTEST_FRAME_COLUMNS = ["estimate", "se", "statistic", "df", "p_value", "ci_low", "ci_high",
                       "method", "null"]


def variable_labels(data: pd.DataFrame) -> dict[str, str]:
    """Variable labels of a frame: ``data.attrs["variable_labels"]`` (set by
    :func:`surveylib.read_spss` and :func:`surveylib.read_stata`), or empty."""
    labels = data.attrs.get("variable_labels") if isinstance(data, pd.DataFrame) else None
    return {str(k): str(v) for k, v in (labels or {}).items()}


def attach_labels(result, data: pd.DataFrame):
    """Give a freshly made :class:`Estimate` the variable labels of its variables and ``by``
    columns from ``data`` (see :func:`variable_labels`); returns it."""
    labels = variable_labels(data)
    if labels:
        names = {*map(str, result.keys["variable"]), *result.by}
        object.__setattr__(result, "labels", {k: v for k, v in labels.items() if k in names})
    return result


def critical_value(level: float, df) -> np.ndarray:
    """Two-sided critical value: t with ``df`` degrees of freedom, normal where df is infinite."""
    # scipy.special's stdtrit and ndtri are the functions behind stats.t.ppf and
    # stats.norm.ppf: the same numbers without ~0.15 ms of argument handling per call
    from scipy import special  # imported on first use: `import surveylib` stays quick
    check_level(level)
    df = np.asarray(df, dtype=float)
    q = 1 - (1 - level) / 2
    with np.errstate(invalid="ignore"):
        t = special.stdtrit(np.where(np.isinf(df) | (df <= 0), 1.0, df), q)
    return np.where(np.isinf(df), special.ndtri(q), np.where(df > 0, t, np.nan))


def given_df(df) -> float:
    """A degrees-of-freedom argument given by the user: a positive number or ``inf``."""
    try:
        value = float(df)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0:  # also refuses NaN
        raise SurveyDesignError(
            f"df={df!r} must be a positive number of degrees of freedom, or float('inf') for "
            "normal quantiles.", parameter="df", value=df, expected="> 0 or inf")
    return value


def labelled_frame(result, level: float) -> pd.DataFrame:
    """The tidy frame of a result whose ``labels`` index its rows: the label columns, then
    ``estimate``, ``se``, ``ci_low``, ``ci_high`` (at ``level``) and ``df``."""
    ci = result.ci(level)
    out = result.labels.to_frame(index=False)
    out["estimate"] = result.values
    out["se"] = result.se.to_numpy()
    out["ci_low"] = ci["ci_low"].to_numpy()
    out["ci_high"] = ci["ci_high"].to_numpy()
    out["df"] = np.broadcast_to(np.asarray(result.dfs, dtype=float), (len(result.values),))
    return out


def format_df(x) -> str:
    """Degrees of freedom for display: an integer where whole, else 4 significant digits."""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.4g}"


def format_p(p) -> str:
    """A p-value for display: 4 significant digits, scientific below 1e-4."""
    return f"{p:.4g}" if p >= 1e-4 else f"{p:.3e}"


def text_table(frame: pd.DataFrame, *, digits: int = 4, width: int = 120,
               index: bool = False) -> str:
    """A frame as text, floats to ``digits`` significant digits (display only)."""
    with pd.option_context("display.float_format", f"{{:.{digits}g}}".format,
                           "display.width", width):
        return frame.to_string(index=index)


def html_table(frame: pd.DataFrame, *, digits: int = 4, index: bool = False) -> str:
    """A frame as an HTML table with labels and values escaped (display only)."""
    return frame.to_html(index=index, float_format=f"{{:.{digits}g}}".format, escape=True)


def html_text(text: str) -> str:
    """Escaped text with its line breaks kept."""
    return escape(text).replace("\n", "<br>")


class Printable:
    """Printing shared by every result: ``summary()`` = ``str()`` = ``repr()``, and a notebook
    ``_repr_html_``.

    A subclass provides ``_title()`` (a heading), ``_display_frame()`` (by default
    ``to_frame()``) and ``inference`` (the footer, returned by ``_footer()``); ``_digits`` and
    ``_width`` set the display.
    """

    _digits = 4
    _width = 120
    if TYPE_CHECKING:  # provided by the subclass
        inference: Any

        def to_frame(self) -> pd.DataFrame: ...

    def _title(self) -> str:
        raise NotImplementedError

    def _display_frame(self) -> pd.DataFrame:
        return self.to_frame()

    def _footer(self) -> str:
        return self.inference

    def _body_text(self) -> str:
        return text_table(self._display_frame(), digits=self._digits, width=self._width)

    def _body_html(self) -> str:
        return html_table(self._display_frame(), digits=self._digits)

    def summary(self) -> str:
        """The result as text: heading, table and the footer saying how inference was done."""
        return "\n".join(p for p in (self._title(), self._body_text(), self._footer()) if p)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return (f"<div><b>{html_text(self._title())}</b>{self._body_html()}"
                f"<small>{html_text(self._footer())}</small></div>")

    def to_html(self) -> str:
        """The notebook view as an HTML fragment (heading, table, footer; labels escaped)."""
        return self._repr_html_()

    def plot(self, **options):
        """A matplotlib ``Figure`` of the result: see :func:`surveylib.plotting.plot`."""
        from .plotting import plot

        return plot(self, **options)


class StatisticAccessors:
    """The accessor protocol shared by every result with estimates (estimates, tables,
    contrasts, comparisons, models).

    A subclass provides ``index``, ``values``, ``vcov_matrix`` and ``dfs`` (a number, or one
    per row); ``_estimate_name`` names the estimate Series.  Results of models also map each
    model term to its coefficients in ``term_columns`` (used by
    :func:`surveylib.inference.wald` to test terms, as R ``regTermTest``).
    """

    _estimate_name = "estimate"
    if TYPE_CHECKING:  # provided by the subclass, as attributes or properties
        @property
        def index(self) -> pd.Index: ...
        @property
        def values(self) -> np.ndarray: ...
        @property
        def vcov_matrix(self) -> np.ndarray: ...
        @property
        def dfs(self) -> Any: ...

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

    def ci(self, level: float = 0.95, df=None) -> pd.DataFrame:
        """Wald intervals ``estimate ± q se``, ``q`` from t on the result's df.

        Parameters
        ----------
        level : float
            Confidence level.
        df : float, optional
            Degrees of freedom of the t quantile instead of the result's; ``float("inf")``
            gives normal quantiles (R ``confint.default``).
        """
        check_level(level)
        q = critical_value(level, self.dfs if df is None else given_df(df))
        se = self.se.to_numpy()
        return pd.DataFrame({"ci_low": self.values - q * se, "ci_high": self.values + q * se},
                            index=self.index)


class CoefficientAccessors(StatisticAccessors, Printable):
    """Model coefficients (``terms``, ``values``, ``vcov_matrix``, scalar ``dfs``): Wald
    intervals and t tests on the residual degrees of freedom; printing shows ``summary()``."""

    _digits = 5
    if TYPE_CHECKING:  # provided by the subclass, as are a scalar ``dfs`` and the rest
        @property
        def terms(self) -> Sequence[str]: ...

    def _coefficient_table(self, level: float) -> pd.DataFrame:
        """term, estimate, se, t, p_value, ci_low, ci_high, df — one row a coefficient."""
        from scipy import stats  # imported on first use: `import surveylib` stays quick
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


@dataclass(frozen=True, repr=False)  # prints its summary (Printable)
class Estimate(StatisticAccessors, Printable):
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
    labels : Mapping[str, str]
        Variable labels of the variables and ``by`` columns (from the data's
        ``attrs["variable_labels"]``); tables and charts use them as headers.
    cell_index : Index or None
        The :attr:`index` of the cells when the producer builds it without the key frame
        (:func:`surveylib.estimators._cells.key_index`; it must equal the index built from
        ``keys``); ``None`` (the default, or returned by a callable): built from ``keys``.

    Notes
    -----
    ``dfs`` and ``inference`` may be given as zero-argument callables: they are then computed
    on first use and kept (R likewise computes ``degf`` only when an interval asks for it; for
    replicate designs it is the rank of the replicate weights, the costliest step of an
    estimate).  So may ``keys``, ``values``, ``vcov_matrix``, ``n`` and ``deff_values`` (a
    crosstab's counts, which its default test does not need), and ``cell_index``: an estimate
    whose ``.se`` is read builds its index and never its key frame.
    """

    frame_columns = tuple(FRAME_COLUMNS)

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if name in _LAZY_FIELDS and callable(value):
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
    dfs: np.ndarray  # or a callable at construction, called on first read (above)
    by: tuple
    inference: str  # likewise
    ci_method: str = "wald"
    interval: Callable | None = field(default=None, repr=False, compare=False)
    labels: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    cell_index: pd.Index | None = field(default=None, repr=False, compare=False)

    def label(self, name: str) -> str:
        """The variable label of ``name``, or ``name`` itself when it has none."""
        return self.labels.get(name, name)

    # ----- index used by the pandas accessors ---------------------------------------------
    @property
    def index(self) -> pd.Index:
        """(by..., variable[, level]) labels of the cells; built once.

        ``pd.MultiIndex.from_frame`` of the key columns (``level`` only when some cell has
        one), a plain Index of ``variable`` when it is the only column; :attr:`cell_index`
        when the producer gave it.
        """
        cached = self.__dict__.get("_index")
        if cached is not None:
            return cached
        idx = self.cell_index
        if idx is not None:
            object.__setattr__(self, "_index", idx)
            return idx
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
        low, high = self._interval_ends(level, df)
        return pd.DataFrame({"ci_low": low, "ci_high": high}, index=self.index)

    def _se_values(self) -> np.ndarray:
        """``se`` as an array (the Series without its index, which costs more to build)."""
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.clip(np.diag(self.vcov_matrix), 0, None))

    def _interval_ends(self, level: float, df=None) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) arrays of :meth:`ci`."""
        check_level(level)
        dfs = self.dfs if df is None else np.full(len(self.values), given_df(df))
        if self.interval is not None:
            return self.interval(level, dfs)
        half = critical_value(level, dfs) * self._se_values()
        return self.values - half, self.values + half

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy frame: one row per cell with fixed column names."""
        low, high = self._interval_ends(level)
        keys = self.keys
        columns = {c: keys[c].to_numpy(copy=True) if isinstance(keys[c].dtype, np.dtype)
                   else keys[c].reset_index(drop=True) for c in (*self.by, "variable", "level")}
        columns.update(
            estimate=self.values, se=self._se_values(), ci_low=np.asarray(low),
            ci_high=np.asarray(high), df=self.dfs, deff=self.deff_values,
            n=self.n.astype(np.int64))
        # one constructor call: a column assigned at a time costs a block insert each
        return pd.DataFrame({c: columns[c] for c in (*self.by, *FRAME_COLUMNS)},
                            index=pd.RangeIndex(len(keys)))

    # ----- display -----------------------------------------------------------------------
    def _display_frame(self) -> pd.DataFrame:
        f = self.to_frame()
        if f["level"].isna().all():
            f = f.drop(columns="level")
        return f

    def _title(self) -> str:
        named = [f"{v}: {self.labels[v]}" for v in dict.fromkeys(self.keys["variable"])
                 if v in self.labels]
        return f"{self.statistic.capitalize()} estimates" + (
            f" ({'; '.join(named)})" if named else "")


# ----- tests -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestResult(Printable):
    """Result of a design-based test (frozen).

    Attributes
    ----------
    statistic : float
        The test statistic, as R reports it: an F statistic for ``method`` "F", "wald",
        "adjwald" and F-form Wald tests; Pearson's X² for "chisq", "lincom" and "saddlepoint"
        (whose p-values come from its design-corrected reference distribution); X² for the
        chi-square form of a Wald test.
    df_num, df_denom : float
        Degrees of freedom of the reference distribution.  ``df_denom`` is ``inf`` for a
        chi-square reference.  For "lincom" and "saddlepoint" they are the number of
        eigenvalues of the design-effect matrix and the denominator df (``d0 * nu``) of the
        weighted sum of F variables whose tail gives the p-value.
    p_value : float
        Upper-tail p-value.
    method : str
        How the test was done, in words.
    null : str
        The null hypothesis, in words.
    inference : str
        Footer: the design the test was computed on.

    Notes
    -----
    ``to_frame()`` is one row with the columns ``["statistic", "df_num", "df_denom",
    "p_value", "method", "null"]``.
    """

    __test__ = False  # not a pytest test class
    frame_columns = tuple(TEST_FRAME_COLUMNS)

    statistic: float
    df_num: float
    df_denom: float
    p_value: float
    method: str
    null: str
    inference: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row: statistic, df_num, df_denom, p_value, method, null."""
        return pd.DataFrame([{c: getattr(self, c) for c in TEST_FRAME_COLUMNS}])

    def _title(self) -> str:
        return self.method

    def summary(self) -> str:
        dfs = f"df = {format_df(self.df_num)}" + (
            "" if np.isinf(self.df_denom) else f", {format_df(self.df_denom)}"
        )
        text = (f"{self.method}\n  statistic = {self.statistic:.4f}, {dfs}, p-value = "
                f"{format_p(self.p_value)}\n  null hypothesis: {self.null}")
        return text + (f"\n{self.inference}" if self.inference else "")

    def __repr__(self) -> str:
        return (
            f"TestResult(statistic={self.statistic:.6g}, df_num={format_df(self.df_num)}, "
            f"df_denom={format_df(self.df_denom)}, p_value={format_p(self.p_value)}, "
            f"method={self.method!r}, null={self.null!r})"
        )


@dataclass(frozen=True, repr=False)  # prints its summary (Printable)
class TTestResult(Printable):
    """Result of a design-based t test (R ``svyttest``; frozen).

    Attributes
    ----------
    estimate : float
        Difference of domain means (second level minus first), the mean, or the mean
        difference of a pair.
    se : float
        Its design-based standard error.
    statistic : float
        ``(estimate - mu) / se``.
    df : float
        Degrees of freedom of the t reference: design df minus 1 (R's choice for every form).
    p_value : float
        Two-sided p-value.
    ci_low, ci_high : float
        Confidence interval for ``estimate`` at ``level`` with ``df`` degrees of freedom.
    level : float
    method : str
    null : str
        The null hypothesis, in words.
    inference : str
        Footer: the design the test was computed on.
    label : str
        What is estimated (``"api00"``, ``"api00 - api99"``, ``"api00: Yes - No"``); labels
        the rows of ``vcov`` and ``ci()``.

    Notes
    -----
    One statistic, so ``estimate``, ``se`` and ``df`` are numbers; ``vcov`` (1 x 1) and
    ``ci(level)`` are frames labelled by ``label``.  ``to_frame()`` is one row with the
    columns ``["estimate", "se", "statistic", "df", "p_value", "ci_low", "ci_high", "method",
    "null"]`` (the interval at ``level``).
    """

    __test__ = False
    frame_columns = tuple(TTEST_FRAME_COLUMNS)

    estimate: float
    se: float
    statistic: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    level: float
    method: str
    null: str
    inference: str = ""
    label: str = "estimate"

    @property
    def index(self) -> pd.Index:
        return pd.Index([self.label], name="estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        return pd.DataFrame([[self.se**2]], index=self.index, columns=self.index)

    def ci(self, level: float | None = None, df=None) -> pd.DataFrame:
        """Interval ``estimate ± q se``, ``q`` from t on ``df`` (default the test's level)."""
        level = self.level if level is None else level
        q = float(critical_value(level, self.df if df is None else given_df(df)))
        return pd.DataFrame({"ci_low": [self.estimate - q * self.se],
                             "ci_high": [self.estimate + q * self.se]}, index=self.index)

    def to_frame(self) -> pd.DataFrame:
        """One row: estimate, se, statistic, df, p_value, ci_low, ci_high, method, null."""
        return pd.DataFrame([{c: getattr(self, c) for c in TTEST_FRAME_COLUMNS}])

    def _title(self) -> str:
        return self.method

    def summary(self) -> str:
        text = (
            f"{self.method}\n  estimate = {self.estimate:.6g} (SE {self.se:.4g}), "
            f"{self.level:.0%} CI [{self.ci_low:.6g}, {self.ci_high:.6g}]\n"
            f"  t = {self.statistic:.4f}, df = {format_df(self.df)}, p-value = "
            f"{format_p(self.p_value)}\n  null hypothesis: {self.null}"
        )
        return text + (f"\n{self.inference}" if self.inference else "")
