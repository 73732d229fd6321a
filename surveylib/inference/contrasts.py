"""Linear contrasts (R ``svycontrast``) and Wald tests (R ``regTermTest(method="Wald")``) of any
result that follows the protocol of :mod:`surveylib.results`.

A result is read only through that protocol: ``values`` and ``vcov_matrix`` (the estimates
and their covariance), ``index`` (the label of every estimate: cells of an estimate,
coefficients of a model, contrasts, differences between waves), ``dfs`` (degrees of freedom),
``inference`` (the footer) and, for models, ``term_columns`` (each model term's
coefficients).  So :func:`contrast` and :func:`wald` work alike on an
:class:`~surveylib.results.Estimate`, a :class:`~surveylib.models.GLMResult`, an
:class:`~surveylib.ordinal.OLRResult`, a :class:`ContrastResult` or a
:class:`~surveylib.inference.waves.Comparison`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_option
from ..errors import SurveyDesignError
from ..results import Printable, StatisticAccessors, TestResult

CONTRAST_FRAME_COLUMNS = ["contrast", "estimate", "se", "t", "p_value", "ci_low", "ci_high", "df"]


# ----- reading a result through the protocol ---------------------------------------------------
def _labels(result) -> tuple[list, list]:
    """Every estimate's full label (an element of ``result.index``) and its short label (the
    values of the index levels that vary across estimates; the ``variable`` level, else the
    first, when none varies)."""
    index = result.index
    full = list(index)
    frame = index.to_frame(index=False)
    cols = [c for c in frame.columns if frame[c].nunique(dropna=False) > 1]
    if not cols:
        cols = ["variable"] if "variable" in frame.columns else [frame.columns[0]]
    if len(cols) == 1:
        return full, frame[cols[0]].tolist()
    return full, list(frame[cols].itertuples(index=False, name=None))


def _unquote(term: str) -> str:
    """patsy's ``Q("avg.ed")`` -> ``avg.ed`` (R's spelling of the same term)."""
    return re.sub(r"""Q\((["'])(.+?)\1\)""", r"\2", term)


def _term_rows(result, names: list) -> tuple[np.ndarray, list]:
    """Rows of the identity selecting the coefficients of the named terms or coefficients.

    A name is a coefficient (an element of ``result.index`` or its short label) or a model
    term (a key of ``result.term_columns``, also without patsy's ``Q("...")``), which selects
    all of that term's coefficients, as R ``regTermTest(model, ~term)``.
    """
    full, short = _labels(result)
    model_terms = dict(getattr(result, "term_columns", None) or {})
    terms = {**model_terms, **{_unquote(t): cols for t, cols in model_terms.items()}}
    picked = []
    for name in names:
        if name in full:
            picked.append(full.index(name))
        elif name in short:
            picked.append(short.index(name))
        elif name in terms:
            picked.extend(full.index(c) for c in terms[name])
        else:
            raise SurveyDesignError(
                f"{name!r} is neither a term nor a coefficient of the result; its terms are "
                f"{list(model_terms)} and its coefficients {short[:20]}.", parameter="terms",
                value=name, expected=list(model_terms)[:20] + short[:20])
    pos = sorted(set(picked))
    L = np.zeros((len(pos), len(full)))
    L[np.arange(len(pos)), pos] = 1.0
    return L, [str(full[p]) for p in pos]


def _is_names(x) -> bool:
    return isinstance(x, str) or (isinstance(x, (list, tuple)) and len(x) > 0
                                  and all(isinstance(v, str) for v in x))


def _contrast_matrix(result, coefficients) -> tuple[np.ndarray, list]:
    if _is_names(coefficients):
        return _term_rows(result, [coefficients] if isinstance(coefficients, str)
                          else list(coefficients))
    full, short = _labels(result)
    k = len(full)

    def from_dict(d):
        v = np.zeros(k)
        for key, wgt in d.items():
            if key in full:
                pos = full.index(key)
            elif key in short:
                pos = short.index(key)
            else:
                raise SurveyDesignError(
                    f"contrast names the cell {key!r}, which is not in the estimate; "
                    f"its cells are {short[:20]}."
                )
            v[pos] += float(wgt)
        return v

    def from_vec(x, name):
        x = np.asarray(x, dtype=float)
        if x.ndim != 1 or len(x) != k:
            raise SurveyDesignError(
                f"contrast {name!r} has {x.size} coefficient(s) but the estimate has {k} cells "
                f"({short[:20]}); give one coefficient per cell, or a dict of cell: weight."
            )
        return x

    if isinstance(coefficients, dict):
        vals = list(coefficients.values())
        if vals and all(isinstance(v, (dict, list, tuple, np.ndarray, pd.Series)) for v in vals):
            names = [str(n) for n in coefficients]
            rows = [from_dict(v) if isinstance(v, dict) else from_vec(v, n)
                    for n, v in zip(names, vals, strict=True)]
            return np.vstack(rows), names
        return from_dict(coefficients)[None, :], ["contrast"]
    if isinstance(coefficients, pd.DataFrame):
        return np.vstack([from_vec(r, str(n)) for n, r in coefficients.iterrows()]), [
            str(n) for n in coefficients.index]
    arr = np.asarray(coefficients, dtype=float)
    if arr.ndim == 1:
        return from_vec(arr, "contrast")[None, :], ["contrast"]
    if arr.ndim == 2:
        return np.vstack([from_vec(r, f"row {i}") for i, r in enumerate(arr)]), [
            f"contrast{i + 1}" for i in range(arr.shape[0])]
    raise SurveyDesignError("contrast coefficients must be a vector, a matrix or a dict.")


# ----- contrasts -------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)  # prints its summary (Printable)
class ContrastResult(StatisticAccessors, Printable):
    """Linear contrasts ``L @ estimate`` of a result with their covariance ``L V L'``.

    Answers the accessor protocol (``.estimate``, ``.se``, ``.vcov``, ``.ci()``, ``.df``,
    ``.to_frame()``), indexed by the contrast names; ``.to_frame()`` has the columns
    ``["contrast", "estimate", "se", "t", "p_value", "ci_low", "ci_high", "df"]``.
    """

    frame_columns = tuple(CONTRAST_FRAME_COLUMNS)

    names: list
    values: np.ndarray
    vcov_matrix: np.ndarray
    dfs: float
    matrix: np.ndarray
    inference: str

    @property
    def index(self) -> pd.Index:
        return pd.Index(self.names, name="contrast")

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One row per contrast with a t test on the result's df and the interval at ``level``."""
        se = self.se.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.values / se
        ci = self.ci(level)
        return pd.DataFrame({
            "contrast": self.names, "estimate": self.values, "se": se, "t": t,
            "p_value": 2 * stats.t.sf(np.abs(t), self.dfs),
            "ci_low": ci["ci_low"].to_numpy(), "ci_high": ci["ci_high"].to_numpy(),
            "df": np.full(len(self.values), float(self.dfs)),
        })

    def _title(self) -> str:
        return "Linear contrasts"


def contrast(result, coefficients) -> ContrastResult:
    """Linear contrasts of the estimates of a result (R ``svycontrast``).

    Parameters
    ----------
    result : Estimate, GLMResult, OLRResult, ContrastResult or Comparison
        Any result following the protocol of :mod:`surveylib.results`.
    coefficients : array, matrix, dict, DataFrame, or names
        One coefficient per cell (in ``result.to_frame()`` order); a matrix or a DataFrame
        (one row per contrast); a dict ``{cell: weight}`` for one contrast, where a cell is an
        element of ``result.index`` or its short label (the key values that vary across
        cells, e.g. the domain ``"E"``, or a model coefficient ``"ell"``); a dict
        ``{name: vector or {cell: weight}}`` for several named contrasts; or a name or list of
        names of coefficients or model terms, which selects them (one contrast each).

    Returns
    -------
    ContrastResult
        Estimates ``L b``, covariance ``L V L'``, t tests with the result's degrees of
        freedom (the smallest over the cells used when they differ).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 2, 2, 2], "g": list("ababab"),
    ...                    "y": [1.0, 2, 3, 4, 6, 5], "w": [1.0, 1, 2, 2, 1, 1]})
    >>> from surveylib.inference import contrast
    >>> m = sl.SurveyDesign(df, strata="h", weights="w").mean("y", by="g")
    >>> round(float(contrast(m, {"b": 1, "a": -1}).estimate.iloc[0]), 4)
    0.5
    """
    L, names = _contrast_matrix(result, coefficients)
    values = L @ np.asarray(result.values, dtype=float)
    V = L @ np.asarray(result.vcov_matrix, dtype=float) @ L.T
    dfs = np.broadcast_to(np.asarray(result.dfs, dtype=float), (L.shape[1],))
    used = np.any(L != 0, axis=0)
    df = float(np.min(dfs[used])) if used.any() else float(np.min(dfs))
    return ContrastResult(names, values, V, df, L, result.inference)


# ----- Wald tests ------------------------------------------------------------------------------
def wald(result, matrix, *, rhs=None, form: str = "F") -> TestResult:
    """Wald test that several linear contrasts of a result are zero (or ``rhs``).

    Parameters
    ----------
    result : Estimate, GLMResult, OLRResult, ContrastResult or Comparison
        Any result following the protocol of :mod:`surveylib.results`.
    matrix : array (q x cells), names, or anything :func:`contrast` accepts
        The contrasts.  A model term or a list of terms (``"stype"``, ``["ell", "meals"]``;
        patsy's names, or R's without ``Q("...")``) tests that all their coefficients are
        zero, as R ``regTermTest(model, ~stype, method="Wald")``; coefficient names
        (``"stype[T.H]"``) select single coefficients.
    rhs : array of length q, optional
        Hypothesised values (default 0; R ``regTermTest``'s ``null``).
    form : {"F", "chisq"}
        ``"F"``: ``X² / q`` referred to F(q, df) with the result's degrees of freedom (R
        ``regTermTest``'s default F form, with a model's residual df); ``"chisq"``:
        ``X² = b' V^-1 b`` referred to chi²(q) (R ``regTermTest(..., df=Inf)``).

    Returns
    -------
    TestResult

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> from surveylib.inference import wald
    >>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "g": list("abcdabcd"),
    ...                    "x": [1.0, 2, 3, 4, 2, 3, 5, 4], "y": [1.0, 2, 4, 3, 2, 4, 7, 5],
    ...                    "w": [1.0, 2, 1, 2, 2, 1, 2, 1]})
    >>> fit = sl.SurveyDesign(df, strata="h", weights="w").glm("y ~ x")
    >>> wald(fit, "x").df_num
    1.0
    """
    check_option(form, ("F", "chisq"), name="form")
    c = contrast(result, matrix)
    q = len(c.values)
    b = c.values - (0.0 if rhs is None else np.asarray(rhs, dtype=float))
    try:
        x2 = float(b @ np.linalg.solve(c.vcov_matrix, b))
    except np.linalg.LinAlgError as exc:
        raise SurveyDesignError(
            "the covariance of the contrasts is singular: the contrasts are linearly dependent "
            "(or a cell has zero variance); drop redundant rows of the contrast matrix."
        ) from exc
    value = "0" if rhs is None else f"{list(np.ravel(rhs))}"
    if _is_names(matrix):
        null = f"the coefficient(s) {c.names} equal {value}"
    else:
        null = f"all {q} contrast(s) {c.names} equal {value}"
    if form == "chisq":
        return TestResult(x2, float(q), float("inf"), float(stats.chi2.sf(x2, q)),
                          "Wald test (chi-square form)", null, c.inference)
    return TestResult(x2 / q, float(q), c.dfs, float(stats.f.sf(x2 / q, q, c.dfs)),
                      "Wald test (F form: X^2/q ~ F(q, df))", null, c.inference)
