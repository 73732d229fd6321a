"""Survey-weighted generalised linear models with design-based (sandwich) variances.

:func:`glm` fits ``gaussian`` (identity link), ``binomial`` (logit) and ``poisson`` (log)
models by iteratively reweighted least squares with the sampling weights as prior weights, and
turns the estimating-equation contributions ``x_i w_i (y_i - mu_i)`` multiplied by the inverse
information into linearised scores for the design's variance engine — R ``svyglm``'s
``svy.varcoef``.  Formulas are patsy formulas (strings become categorical predictors with
treatment coding; ``C(x)`` makes a numeric column categorical; names that are not Python
identifiers need ``Q("sch.wide")``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._irls import (
    check_rank,
    deviance,
    fit_irls,
    irls,
    irls_batch,
    pearson_residuals,
    variance_function,
)
from ._validation import check_option, renamed_keywords
from .errors import SurveyDesignError
from .results import CoefficientAccessors, format_df
from .variance.sums import CellSums
from .variance.taylor import Scores

__all__ = ["FAMILIES", "GLMResult", "deviance", "fit_irls", "glm", "pearson_residuals",
           "replicate_vcov", "variance_function"]

FAMILIES = ("gaussian", "binomial", "poisson")
FRAME_COLUMNS = ["term", "estimate", "se", "t", "p_value", "ci_low", "ci_high", "df"]


@dataclass(frozen=True, repr=False)  # prints its summary (CoefficientAccessors)
class GLMResult(CoefficientAccessors):
    """A fitted survey-weighted GLM.

    Attributes
    ----------
    formula : str
    family : str
    terms : list of str
        Coefficient names (patsy's: ``Intercept``, ``x``, ``g[T.level]``).
    values : ndarray
        Coefficients.
    vcov_matrix : ndarray
        Design-based (sandwich) covariance of the coefficients.
    dfs : float
        Residual degrees of freedom: design df + 1 - number of coefficients (R ``svyglm``).
    n : int
        Rows used (in the design and complete on the model's variables).
    iterations : int
        IRLS iterations.
    deviance : float
        Weighted deviance with the sampling weights divided by their mean over the rows of the
        design (R ``rescale=TRUE``: the mean is taken before rows with missing values are
        dropped).
    inference : str
        Footer: how inference was done.
    term_columns : dict
        Each model term (patsy's name: ``"ell"``, ``"stype"``, ``'Q("avg.ed")'``) -> the names
        of its coefficients; :func:`surveylib.inference.wald` tests terms by name with it, as R
        ``regTermTest``.
    null_deviance : float
        Deviance of the intercept-only fit on the same rows and weights (R ``null.deviance``).
    naive_cov : ndarray
        ``(X' W X)^{-1}`` with the IRLS working weights of the last step (R ``naive.cov``):
        the model-based covariance that the Rao–Scott working likelihood-ratio tests compare
        with the design-based one.
    response, model_matrix, prior_weights, fitted : ndarray
        The rows used: ``y``, ``X``, the rescaled sampling weights and the fitted means (used
        by :mod:`surveylib.inference.modeltests` to refit sub-models on the same rows).
    design : SurveyDesign
        The design restricted to the rows used (R ``fit$survey.design``).

    Notes
    -----
    The accessor protocol (``.estimate``, ``.se``, ``.vcov``, ``.ci()``, ``.df``,
    ``.to_frame()``) works as for every surveylib result; ``.to_frame()`` has the columns
    ``["term", "estimate", "se", "t", "p_value", "ci_low", "ci_high", "df"]``.
    """

    formula: str
    family: str
    terms: list
    values: np.ndarray
    vcov_matrix: np.ndarray
    dfs: float
    n: int
    iterations: int
    deviance: float
    inference: str
    term_columns: dict = field(default_factory=dict)
    null_deviance: float = float("nan")
    naive_cov: np.ndarray | None = field(default=None, compare=False)
    response: np.ndarray | None = field(default=None, compare=False)
    model_matrix: np.ndarray | None = field(default=None, compare=False)
    prior_weights: np.ndarray | None = field(default=None, compare=False)
    fitted: np.ndarray | None = field(default=None, compare=False)
    design: object = field(default=None, compare=False)

    frame_columns = tuple(FRAME_COLUMNS)

    @property
    def index(self) -> pd.Index:
        return pd.Index(self.terms, name="term")

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        return self._coefficient_table(level)[FRAME_COLUMNS]

    def pearson_residuals(self) -> np.ndarray:
        """R ``resid(fit, "pearson")`` for a ``svyglm``, one per row used.

        R's ``residuals.svyglm`` divides the prior weights by the sampling weights rescaled
        to mean 1 over the rows used, so the residual is ``(y - mu) / sqrt(V(mu))`` times
        ``sqrt(c)``, ``c`` the mean of the prior weights over the rows used (1 when no row was
        dropped for missing values).
        """
        w = np.asarray(self.prior_weights)
        return pearson_residuals(self.family, self.response, self.fitted,
                                 np.full(len(w), w.mean()))

    def dispersion(self):
        """Design-based dispersion: the survey variance of the Pearson residuals, with its SE
        (R ``summary.svyglm``'s ``dispersion``, ``svyvar(resid(fit, "pearson"), design)``).

        Returns
        -------
        Estimate
            One cell, ``variable`` ``"pearson_residual"``.
        """
        col = "pearson_residual"
        data = self.design.data
        while col in data.columns:
            col = "_" + col
        r = np.full(len(data), np.nan)
        r[np.flatnonzero(self.design.active)] = self.pearson_residuals()
        return self.design.with_data(data.assign(**{col: r})).var(col, na_rm=True)

    def _title(self) -> str:
        link = {"gaussian": "identity", "binomial": "logit", "poisson": "log"}[self.family]
        return (f"Survey-weighted GLM: {self.formula}\nfamily {self.family} (link {link}); "
                f"{self.n} rows; {self.iterations} IRLS iteration(s)")

    def _footer(self) -> str:
        return (f"Design-based sandwich SEs; t tests with {format_df(self.dfs)} df (design df + "
                f"1 - {len(self.terms)} coefficients)\n{self.inference}")


def _design_matrices(design, formula: str):
    """The response, the model matrix, the coefficient names of each term and the rows used
    (positions in the design's data) of ``formula`` on the design's rows.

    patsy parses the formula and decides the coding (terms, contrasts, levels, column names);
    the matrix is filled by :func:`_coded_matrices` from integer codes of the categorical
    factors.  Formulas it does not take (stateful transforms such as ``center(x)``) go through
    ``patsy.dmatrices``; both give the same matrix to the last bit.
    """
    try:
        import patsy
    except ImportError as exc:  # pragma: no cover - patsy ships with statsmodels
        raise SurveyDesignError("glm() needs the patsy package (pip install patsy).") from exc
    data = design.data
    active = design.active
    frame = data if active.all() else data.loc[active]
    # patsy treats pandas' string dtype reliably only as object
    strings = {c: frame[c].astype(object) for c in frame.columns
               if pd.api.types.is_string_dtype(frame[c])
               and not isinstance(frame[c].dtype, pd.CategoricalDtype)}
    if strings:
        frame = frame.assign(**strings)
    eval_env = patsy.EvalEnvironment.capture(0)
    try:
        # a column's codes are memoised on the data (used when the rows are all of it)
        codes_of = design.factor_codes if len(frame) == len(data) else None
        built = _coded_matrices(patsy, formula, frame, eval_env, codes_of)
        if built is None:
            yd, Xd = patsy.dmatrices(formula, frame, eval_env=eval_env, NA_action="drop",
                                     return_type="dataframe")
            rows = frame.index.get_indexer(Xd.index)
            built = (yd.to_numpy(dtype=float), list(yd.columns), Xd.to_numpy(dtype=float),
                     Xd.design_info, rows)
    except patsy.PatsyError as exc:
        raise SurveyDesignError(
            f"cannot build the model {formula!r}: {exc}. Column names that are not Python "
            "identifiers need Q(\"name\"), e.g. Q(\"sch.wide\")."
        ) from exc
    y, y_names, X, info, rows = built
    if y.shape[1] == 2 and [n[n.rfind("["):] for n in y_names] == ["[False]", "[True]"]:
        # a logical response (e.g. I(x == "Yes")): patsy codes it as two indicator columns;
        # R's glm takes TRUE as 1 and FALSE as 0
        y, y_names = y[:, 1:], [y_names[1][: y_names[1].rfind("[")]]
    if y.shape[1] != 1:
        raise SurveyDesignError(
            f"the response of {formula!r} expands to {y.shape[1]} columns {y_names}; "
            "give a numeric response (for a binary outcome e.g. I(x == \"Yes\"))."
        )
    names = info.column_names
    terms = {term: names[sl] for term, sl in info.term_name_slices.items()}
    return y[:, 0], X, terms, rows if len(frame) == len(active) else np.flatnonzero(active)[rows]


def _coded_matrices(patsy, formula: str, frame: pd.DataFrame, eval_env, codes_of=None):
    """patsy's ``dmatrices(formula, frame, NA_action="drop")`` without its row-by-row coding.

    Every factor is evaluated once on all rows; a categorical one is coded with
    ``pd.factorize`` (or its categorical codes), and patsy learns the coding from a few rows
    that show it every distinct value (the levels it finds are those of all rows).  The
    columns are then filled as patsy's ``_build_subterm`` fills them (1 times each factor's
    column or contrast row, in patsy's order), on the rows complete on every factor.

    ``codes_of(column, sort=False)``, when given, returns a column's codes in order of first
    appearance (the design's memoised ``factor_codes``), used for a factor that is a column
    (``x`` or ``C(x)``) instead of factorising it again.

    Returns ``(y, y column names, X, X's DesignInfo, row positions in frame)``, or ``None``
    for a formula patsy must build itself (stateful transforms, an empty frame, values its
    coding does not know).
    """
    desc = patsy.ModelDesc.from_formula(formula)
    factors = list(dict.fromkeys(f for t in desc.lhs_termlist + desc.rhs_termlist
                                 for f in t.factors))
    n = len(frame)
    if n == 0 or not all(isinstance(f, patsy.EvalFactor) for f in factors):
        return None
    from patsy.categorical import C

    box = type(C([0]))  # what C(x) evaluates to
    raw, codes = {}, {}
    cover = [np.zeros(1, dtype=np.int64)]  # rows showing patsy every value of each factor
    for f in factors:
        state: dict = {}
        if f.memorize_passes_needed(state, eval_env):  # center(), standardize(): patsy's
            return None
        value = f.eval(state, frame)
        inner = value.data if isinstance(value, box) else value
        if isinstance(value, box) or isinstance(getattr(inner, "dtype", None),
                                                pd.CategoricalDtype):
            categorical = True
        else:
            arr = np.asarray(inner)
            categorical = not np.issubdtype(arr.dtype, np.number)
        if not categorical:
            raw[f] = value
            continue
        uniques: Any
        if isinstance(getattr(inner, "dtype", None), pd.CategoricalDtype):
            cat = pd.Categorical(inner)
            code, uniques = cat.codes.astype(np.int64), cat.categories
            if len(code) != n:
                return None
            where = np.flatnonzero(code >= 0)
            first = np.zeros(len(uniques), dtype=np.int64)
            first[code[where]] = where  # a row of every value (any row will do)
            cover.append(first[np.bincount(code[where], minlength=len(uniques)) > 0])
        else:
            column = re.fullmatch(r"C\((\w+)\)|(\w+)", f.code)
            name = column and (column.group(1) or column.group(2))
            if codes_of is not None and name in frame.columns:
                code, uniques, _ = codes_of(name, sort=False)
            else:
                code, uniques = pd.factorize(np.asarray(inner).ravel())
            if len(code) != n:
                return None
            # codes number the values in order of appearance (-1: missing), so every value
            # appears by the first row of the last, where the running maximum reaches it
            k = len(uniques)
            head = code[:int(np.argmax(code == k - 1)) + 1] if k else code[:0]
            cover.append(np.searchsorted(np.maximum.accumulate(head), np.arange(k)))
        codes[f] = (code, uniques)
    sample = frame.iloc[np.unique(np.concatenate(cover))]
    infos = patsy.design_matrix_builders([desc.lhs_termlist, desc.rhs_termlist],
                                         lambda: iter([sample]), eval_env, NA_action="drop")
    if not infos[0].column_names:
        return None  # patsy's own error: the model has no response
    values, missing = {}, np.zeros(n, dtype=bool)
    for f in factors:
        fi = infos[0].factor_infos.get(f) or infos[1].factor_infos[f]
        if fi.type == "categorical":
            if f not in codes:
                return None
            code, uniques = codes[f]
            to_level = pd.Index(list(fi.categories), dtype=object).get_indexer(
                pd.Index(list(uniques), dtype=object))
            if (to_level < 0).any():  # a value outside C(x, levels=...): patsy's error
                return None
            if code.min() < 0 or (to_level != np.arange(len(to_level))).any():
                code = np.where(code >= 0, to_level[np.maximum(code, 0)], -1)
                missing |= code < 0
            values[f] = code
        else:
            if f not in raw:
                return None
            arr = np.asarray(raw[f])
            arr = arr[:, None] if arr.ndim == 1 else arr
            if arr.ndim != 2 or arr.shape != (n, fi.num_columns) or not np.issubdtype(
                    arr.dtype, np.number):
                return None
            if arr.dtype.kind in "fc":
                nan = np.isnan(arr[:, 0]) if arr.shape[1] == 1 else np.isnan(arr).any(axis=1)
                if nan.any():
                    missing |= nan
            values[f] = arr
    if missing.any():
        rows = np.flatnonzero(~missing)
        values = {f: v[rows] for f, v in values.items()}
    else:
        rows = np.arange(n)
    y, X = (_fill(info, values, len(rows)) for info in infos)
    return y, list(infos[0].column_names), X, infos[1], rows


def _fill(info, values: dict, n: int) -> np.ndarray:
    """The columns of patsy DesignInfo ``info`` from coded factor ``values`` (patsy's
    ``_build_subterm``: the left-most factor's columns vary fastest).

    patsy forms each column as ``1 * a * b ...`` (a factor's column or contrast entry); the
    first product is exact, so the column is ``a * b ...`` in float64, written once.
    """
    out = np.empty((n, len(info.column_names)))
    start = 0
    for subterms in info.term_codings.values():
        for st in subterms:
            block = out[:, start:start + st.num_columns]
            widths = [st.contrast_matrices[f].matrix.shape[1] if f in st.contrast_matrices
                      else info.factor_infos[f].num_columns for f in st.factors]
            combos = itertools.product(*[range(k) for k in reversed(widths)])
            for i, combo in enumerate(combos):
                col = None
                for f, j in zip(st.factors, combo[::-1], strict=True):
                    if f in st.contrast_matrices:
                        v = np.asarray(st.contrast_matrices[f].matrix[:, j],
                                       dtype=np.float64).take(values[f])
                    else:
                        v = values[f][:, j]
                    col = np.asarray(v, dtype=np.float64) if col is None else col * v
                block[:, i] = 1.0 if col is None else col
            start += st.num_columns
    return out


@renamed_keywords(since="0.2.0", removed="0.3.0", maxiter="max_iter")
def glm(design, formula: str, *, family: str = "gaussian", max_iter: int = 100,
        tol: float = 1e-12, replicate_variance: str = "refit") -> GLMResult:
    """Survey-weighted GLM with design-based standard errors (R ``svyglm``).

    Parameters
    ----------
    design : SurveyDesign
    formula : str
        patsy formula, e.g. ``"api00 ~ ell + meals + C(stype)"``.  Rows missing any model
        variable are dropped (R's ``na.omit``); the design is kept for variances.
    family : {"gaussian", "binomial", "poisson"}
        With the canonical link.  ``binomial`` needs a 0/1 (or proportion) response; like R's
        ``quasibinomial``/``quasipoisson`` no dispersion enters the design-based SEs, so the
        ``quasi`` and plain families give the same results.
    max_iter, tol : int, float
        IRLS limits; convergence when the relative change in deviance is below ``tol``
        (a :class:`~surveylib.errors.ConvergenceWarning` otherwise).  ``maxiter=`` is the
        deprecated spelling of ``max_iter=`` (accepted until 0.3.0).
    replicate_variance : {"refit", "scores"}, default "refit"
        On a replicate design: refit the model with each replicate's weights (R ``svyglm``),
        or take the replicate variance of the linearised scores of the full-sample fit (what
        R's ``svyranktest`` does; faster, and equal to first order).  Taylor designs ignore it.

    Returns
    -------
    GLMResult

    Notes
    -----
    Coefficients solve ``sum_i w_i x_i (y_i - mu_i) = 0``.  With ``A = X' W X`` (IRLS
    weights), the linearised score of row ``i`` is ``w_i x_i (y_i - mu_i) A^{-1}``, and the
    covariance is the design's Taylor covariance of these scores (R ``svy.varcoef``).  On a
    replicate design the model is refitted with each replicate's weights, starting from the
    full-sample coefficients, and the covariance is that of the replicate coefficients (R
    ``svyglm.svyrep.design``).  The
    residual df is ``degf + 1 - p`` (R ``svyglm``), used for t tests and intervals.
    Collinear predictors are an error (R would report NA coefficients).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 2, 2, 2], "x": [1.0, 2, 3, 1, 2, 3],
    ...                    "y": [1.1, 1.9, 3.2, 1.0, 2.1, 2.9], "w": [1.0, 2, 1, 2, 1, 2]})
    >>> fit = sl.SurveyDesign(df, strata="h", weights="w").glm("y ~ x")
    >>> list(fit.terms)
    ['Intercept', 'x']
    """
    check_option(family, FAMILIES, name="family")
    check_option(replicate_variance, ("refit", "scores"), name="replicate_variance")
    y, X, term_columns, pos = _design_matrices(design, formula)
    terms = [c for cols in term_columns.values() for c in cols]
    active = design.active
    n_all = len(active)
    if len(y) == 0:
        raise SurveyDesignError(f"no rows of the design are complete on the variables of {formula!r}.")
    # R svyglm(rescale=TRUE): weights over their mean on every row of the design (R's
    # subset drops rows unless the design is calibrated, where they stay with weight 0)
    bw = design.base_weights
    all_rows = len(pos) == n_all  # pos is 0..n-1
    wa = bw if all_rows else bw[active]
    scale = wa.sum() / (n_all if design.adjustments else len(wa))
    w = (bw if all_rows else bw[pos]) / scale
    if family == "binomial" and (y.min() < 0 or y.max() > 1):
        raise SurveyDesignError(
            f"family='binomial' needs a response in [0, 1]; the response of {formula!r} ranges "
            f"over [{y.min():g}, {y.max():g}]. Recode it as 0/1 (e.g. I(x == 'Yes'))."
        )
    if family == "poisson" and y.min() < 0:
        raise SurveyDesignError(f"family='poisson' needs a non-negative response ({formula!r}).")
    check_rank(X, w, terms, formula)
    fit = irls(y, X, w, family, max_iter, tol, formula)
    Ainv = np.linalg.inv(fit.A)
    if len(pos) == np.count_nonzero(active):  # pos: rows of the design, so all of them
        d = design
    else:
        used = np.zeros(n_all, dtype=bool)
        used[pos] = True
        d = design.subset(used)
    if d.engine.kind == "replicate" and replicate_variance == "refit":  # R svyglm.svyrep
        V = replicate_vcov(d.engine, pos, y, X, fit.beta, family, max_iter, tol, formula)
    else:
        V = score_vcov(d.engine, pos, n_all, X, fit.score_w, Ainv)
    dfs = float(d.degf() + 1 - X.shape[1])
    text = d.describe() + f"; df = {d.degf()} (PSUs - strata) + 1 - {X.shape[1]}"
    null_dev = fit.dev.at_constant(np.average(y, weights=w))
    return GLMResult(formula, family, terms, fit.beta, V, dfs, int(len(y)), fit.iterations,
                     float(fit.deviance), text, term_columns, null_deviance=null_dev,
                     naive_cov=Ainv, response=y, model_matrix=X, prior_weights=w,
                     fitted=fit.mu, design=d)


def score_vcov(engine, pos, n_all, X, score_w, Ainv) -> np.ndarray:
    """The design-based covariance of the coefficients from the linearised scores
    ``w_i x_i (y_i - mu_i) A^{-1}`` of rows ``pos`` (R ``svy.varcoef``).

    When the engine takes per-unit sums (no weighting adjustments to residualise on), the
    unit totals of ``w_i x_i (y_i - mu_i)`` are formed column by column and multiplied by
    ``A^{-1}`` (p x p) afterwards: no n x p matrix of scores.
    """
    p = X.shape[1]
    if engine.takes_sums(k=p, n_rows=len(pos), denominator=False):
        unit, n_units = engine.sum_units
        u = unit if len(pos) == len(unit) else unit[pos]
        totals = np.column_stack([np.bincount(u, score_w * X[:, j], minlength=n_units)
                                  for j in range(p)]) @ Ainv
        sums = CellSums(totals, totals, np.ones(p), np.zeros(p))
        return engine.vcov_sums("total", sums, totals.sum(axis=0))
    row_scores = (X * score_w[:, None]) @ Ainv
    if len(pos) == n_all:  # every row of the data is used (pos is 0..n-1)
        scores = row_scores
    else:
        scores = np.zeros((n_all, p))
        scores[pos] = row_scores
    return engine.vcov_scores(Scores.from_dense(scores))


def replicate_vcov(engine, rows, y, X, beta0, family, max_iter, tol, label) -> np.ndarray:
    """Covariance of the coefficients refitted with every replicate's weights (R
    ``svyglm.svyrep.design``): IRLS from ``beta0`` for all replicates of a block at once."""
    n_rep = engine.n_replicates
    betas = np.empty((n_rep, X.shape[1]))
    block = max(1, min(n_rep, int(2**24 // max(1, len(rows)))))  # ~128 MiB of weights
    for start in range(0, n_rep, block):  # blocks of replicates, each block vectorised
        stop = min(n_rep, start + block)
        W = engine.replicate_weight_block(rows, start, stop)
        betas[start:stop] = irls_batch(y, X, W / W.sum(axis=0), beta0, family, max_iter,
                                        tol, label)
    return engine.vcov_replicates(betas, beta0)
