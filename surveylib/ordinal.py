"""Proportional-odds (ordinal) regression for complex samples: R ``survey::svyolr``.

:func:`olr` fits the cumulative-link model ``P(Y <= k | x) = F(zeta_k - x'beta)`` for an
ordered outcome with ``K >= 3`` levels (a 5-point attitude scale, an income band) by
maximising the sampling-weighted log-likelihood, and gives the coefficients ``beta`` and the
cutpoints ``zeta`` design-based (sandwich) standard errors: the per-row estimating functions
times the inverse Hessian are linearised scores for the design's single variance engine, as
R's ``svyolr`` passes them to ``svyrecvar``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._validation import check_option, renamed_keywords
from .errors import ConvergenceWarning, SurveyDesignError
from .results import CoefficientAccessors, format_df
from .variance.taylor import Scores

METHODS = ("logistic", "probit", "cloglog", "cauchit")
FRAME_COLUMNS = ["term", "kind", "estimate", "se", "t", "p_value", "ci_low", "ci_high", "df"]
_HESS_STEP = 1e-3  # R optim(hessian=TRUE): optimhess with ndeps = 1e-3


def _dlogis(x):
    e = np.exp(-np.abs(x))
    return e / (1.0 + e) ** 2


_LINKS = {  # (cdf, density) as R's plogis/dlogis, pnorm/dnorm, survey's pgumbel/dgumbel, ...
    "logistic": (special.expit, _dlogis),
    "probit": (special.ndtr, stats.norm.pdf),
    "cloglog": (lambda x: np.exp(-np.exp(-x)), lambda x: np.exp(-x - np.exp(-x))),
    "cauchit": (stats.cauchy.cdf, stats.cauchy.pdf),
}


@dataclass(frozen=True, repr=False)  # prints its summary (CoefficientAccessors)
class OLRResult(CoefficientAccessors):
    """A fitted survey-weighted proportional-odds model.

    Attributes
    ----------
    formula, method : str
    terms : list of str
        Coefficient names (patsy's, e.g. ``Q("avg.ed")``, ``stype[T.H]``) followed by the
        cutpoint names ``"low|high"`` of adjacent outcome levels (R's ``zeta`` names).
    values : ndarray
        Coefficients then cutpoints.
    vcov_matrix : ndarray
        Design-based covariance of ``values``.
    n_coef : int
        Number of coefficients (the rest are cutpoints).
    levels : list
        Outcome levels, lowest first.
    dfs : float
        Design df minus the number of coefficients (R ``svyolr``'s ``df.residual``).
    n : int
        Rows used.
    deviance : float
        ``-2`` times the weighted log-likelihood with weights scaled to mean 1 (R).
    inference : str
        Footer: how inference was done.
    term_columns : dict
        Each model term (patsy's name) -> the names of its coefficients (cutpoints belong to
        no term); :func:`surveylib.inference.wald` tests terms by name with it, as R
        ``regTermTest``.

    Notes
    -----
    The accessor protocol (``.estimate``, ``.se``, ``.vcov``, ``.ci()``, ``.df``,
    ``.to_frame()``) covers coefficients and cutpoints; ``.coef`` and ``.zeta`` give each part.
    ``.to_frame()`` has the columns
    ``["term", "kind", "estimate", "se", "t", "p_value", "ci_low", "ci_high", "df"]`` with
    ``kind`` ``"coefficient"`` or ``"cutpoint"``.
    """

    formula: str
    method: str
    terms: list
    values: np.ndarray
    vcov_matrix: np.ndarray
    n_coef: int
    levels: list
    dfs: float
    n: int
    deviance: float
    inference: str
    term_columns: dict = field(default_factory=dict)

    frame_columns = tuple(FRAME_COLUMNS)

    @property
    def index(self) -> pd.Index:
        return pd.Index(self.terms, name="term")

    @property
    def coef(self) -> pd.Series:
        """The regression coefficients ``beta`` (R ``coef(m)`` without the cutpoints)."""
        return self.estimate.iloc[: self.n_coef]

    @property
    def zeta(self) -> pd.Series:
        """The cutpoints (R ``m$zeta``), increasing."""
        return self.estimate.iloc[self.n_coef:]

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        table = self._coefficient_table(level)
        table.insert(1, "kind", ["coefficient"] * self.n_coef
                     + ["cutpoint"] * (len(self.terms) - self.n_coef))
        return table[FRAME_COLUMNS]

    def _title(self) -> str:
        levels = " < ".join(str(x) for x in self.levels)
        return (f"Survey-weighted ordinal regression ({self.method} link): {self.formula}\n"
                f"P(Y <= k) = F(zeta_k - x'beta); levels {levels}; {self.n} rows; deviance "
                f"{self.deviance:.6g}")

    def _footer(self) -> str:
        return (f"Design-based sandwich SEs; t tests with {format_df(self.dfs)} df (design df - "
                f"{self.n_coef} coefficients)\n{self.inference}")


def _outcome(series: pd.Series, name: str) -> tuple[np.ndarray, list]:
    """Level codes 1..K (0 = missing) and the levels, lowest first."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        if not series.cat.ordered:
            raise SurveyDesignError(
                f"outcome {name!r} is an unordered categorical; say the order of its levels, "
                f"e.g. df[{name!r}] = df[{name!r}].cat.as_ordered() (categories in their listed "
                "order) or pd.Categorical(df[col], categories=[...], ordered=True)."
            )
        levels = list(series.cat.categories)
        codes = series.cat.codes.to_numpy().astype(np.int64) + 1
    elif pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        raise SurveyDesignError(
            f"outcome {name!r} ({series.dtype}) has no order; give an ordered categorical, "
            f"e.g. pd.Categorical(df[{name!r}], categories=[...], ordered=True), or integer "
            "codes (ordered by value)."
        )
    else:
        x = series.to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(x)
        if np.any(x[ok] != np.round(x[ok])):
            raise SurveyDesignError(
                f"outcome {name!r} has non-integer values; an ordinal outcome needs integer "
                "codes or an ordered categorical (e.g. pd.cut(...) of a numeric variable)."
            )
        distinct = np.unique(x[ok])
        codes = np.where(ok, np.searchsorted(distinct, np.where(ok, x, distinct[0])) + 1, 0)
        levels = [int(v) for v in distinct]
    return codes.astype(np.int64), levels


def _model_frame(design, formula: str):
    try:
        import patsy
    except ImportError as exc:  # pragma: no cover - patsy ships with statsmodels
        raise SurveyDesignError("olr() needs the patsy package (pip install patsy).") from exc
    if formula.count("~") != 1:
        raise SurveyDesignError(f"formula {formula!r} must have the form 'outcome ~ predictors'.")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    name = lhs
    if lhs.startswith("Q(") and lhs.endswith(")"):
        name = lhs[2:-1].strip().strip("\"'")
    data = design.data
    if name not in data.columns:
        raise SurveyDesignError(
            f"the outcome {lhs!r} of {formula!r} is not a column of the data; the left-hand side "
            "must be a column name (Q(\"name\") for names that are not identifiers)."
        )
    codes, levels = _outcome(data[name], name)
    if len(levels) < 3:
        raise SurveyDesignError(
            f"outcome {name!r} has {len(levels)} level(s) {levels}; ordinal regression needs "
            "3 or more — for two levels use glm(..., family='binomial')."
        )
    keep = design.active & (codes > 0)
    frame = data.loc[keep].copy()
    for c in frame.columns:
        if pd.api.types.is_string_dtype(frame[c]) and not isinstance(frame[c].dtype,
                                                                     pd.CategoricalDtype):
            frame[c] = frame[c].astype(object)
    try:
        X = patsy.dmatrix(rhs, frame, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise SurveyDesignError(
            f"cannot build the model {formula!r}: {exc}. Column names that are not Python "
            "identifiers need Q(\"name\"), e.g. Q(\"avg.ed\")."
        ) from exc
    if "Intercept" not in X.columns:
        raise SurveyDesignError(
            f"{formula!r} has no intercept; the cutpoints play its part, so remove '- 1' / '+ 0'."
        )
    pos = np.flatnonzero(keep)[frame.index.get_indexer(X.index)]
    cols = list(X.columns)
    term_columns = {term: cols[sl] for term, sl in X.design_info.term_name_slices.items()
                    if term != "Intercept"}
    X = X.drop(columns="Intercept")
    y = codes[pos]
    used = np.bincount(y, minlength=len(levels) + 1)[1:]
    if (used == 0).any():
        empty = [levels[i] for i in np.flatnonzero(used == 0)]
        raise SurveyDesignError(
            f"outcome {name!r} has no respondents at level(s) {empty} among the rows used; "
            "drop unused categories (s.cat.remove_unused_categories()) or merge levels."
        )
    return y, X.to_numpy(dtype=float), term_columns, pos, levels


class _Likelihood:
    """R ``svyolr``'s ``fmin`` / ``gmini`` in the (beta, theta) parametrisation.

    ``theta = (zeta_1, log(zeta_2 - zeta_1), ...)`` keeps the cutpoints increasing; outer
    cutpoints are -100 and 100 as in R.
    """

    def __init__(self, y, X, wt, method):
        self.y, self.X, self.wt = y, X, wt
        self.pc = X.shape[1]
        self.q = int(y.max()) - 1
        self.F, self.f = _LINKS[method]
        k = np.arange(1, self.q + 1)
        self.Y1 = (k[None, :] == y[:, None]).astype(float)
        self.Y2 = (k[None, :] == (y - 1)[:, None]).astype(float)

    def zeta(self, theta):
        return np.cumsum(np.concatenate([theta[:1], np.exp(theta[1:])]))

    def _parts(self, par):
        beta, theta = par[: self.pc], par[self.pc:]
        with np.errstate(over="ignore", invalid="ignore"):  # wild optimiser trial points
            gam = np.concatenate([[-100.0], self.zeta(theta), [100.0]])
            eta = self.X @ beta
            hi, lo = gam[self.y] - eta, gam[self.y - 1] - eta
            return theta, self.F(hi) - self.F(lo), self.f(hi), self.f(lo)

    def value(self, par):
        _, pr, _, _ = self._parts(par)
        if not np.all(pr > 0):
            return np.inf  # as R's fmin
        return float(-np.sum(self.wt * np.log(pr)))

    def row_scores(self, par, logdiff):
        """Per-row gradient of ``-w log pr`` (R ``gmini``), in theta if ``logdiff``."""
        theta, pr, p1, p2 = self._parts(par)
        with np.errstate(divide="ignore", invalid="ignore"):  # trial points with pr = 0
            g1 = self.X * (self.wt * (p1 - p2) / pr)[:, None]
            g2 = -(self.Y1 * p1[:, None] - self.Y2 * p2[:, None]) * (self.wt / pr)[:, None]
        if logdiff:
            with np.errstate(invalid="ignore"):
                g2 = g2 @ self.jacobian(theta)
        return np.hstack([g1, g2])

    def gradient(self, par):
        return self.row_scores(par, logdiff=True).sum(axis=0)

    def jacobian(self, theta):
        """d zeta / d theta (R's ``jacobian``)."""
        k = len(theta)
        J = np.zeros((k, k))
        J[:, 0] = 1.0
        e = np.exp(theta)
        for i in range(1, k):
            J[i:, i] = e[i]
        return J

    def hessian(self, par, step):
        """Central differences of the analytic gradient, symmetrised (R ``optimhess``)."""
        p = len(par)
        H = np.empty((p, p))
        for i in range(p):
            e = np.zeros(p)
            e[i] = step
            H[i] = (self.gradient(par + e) - self.gradient(par - e)) / (2 * step)
        return 0.5 * (H + H.T)


def _start(lik: _Likelihood) -> np.ndarray:
    """Cutpoints from the weighted cumulative shares, coefficients 0."""
    share = np.bincount(lik.y, weights=lik.wt, minlength=lik.q + 2)[1:]
    cum = np.cumsum(share)[:-1] / share.sum()
    zeta = np.log(cum / (1 - cum)) if lik.F is special.expit else stats.norm.ppf(cum)
    theta = np.concatenate([zeta[:1], np.log(np.diff(zeta))])
    return np.concatenate([np.zeros(lik.pc), theta])


@renamed_keywords(since="0.2.0", removed="0.3.0", maxiter="max_iter")
def olr(design, formula: str, *, method: str = "logistic", max_iter: int = 500,
        tol: float = 1e-10) -> OLRResult:
    """Proportional-odds regression with design-based standard errors (R ``svyolr``).

    Parameters
    ----------
    design : SurveyDesign
    formula : str
        ``"outcome ~ predictors"``.  The outcome is a column: an **ordered** categorical
        (levels in the order of its categories, e.g. from ``pd.cut``) or integer codes
        (levels ordered by value, e.g. 1-5 for a Likert item); it needs 3 or more levels, each
        observed.  Predictors are a patsy formula with an intercept (which the cutpoints
        replace); strings become treatment-coded factors.  Rows missing the outcome or a
        predictor are dropped; the design is kept for variances.
    method : {"logistic", "probit", "cloglog", "cauchit"}
        The link ``F`` (R's ``method``; ``"cloglog"`` uses R's Gumbel ``exp(-exp(-x))``).
    max_iter, tol : int, float
        Optimiser limits: BFGS, then Newton steps until the largest gradient component is
        below ``tol`` times the total weight (a :class:`~surveylib.errors.ConvergenceWarning`
        otherwise).  ``maxiter=`` is the deprecated spelling of ``max_iter=`` (until 0.3.0).

    Returns
    -------
    OLRResult

    Notes
    -----
    The model is ``P(Y <= k | x) = F(zeta_k - x'beta)``; a positive ``beta`` moves
    respondents towards *higher* levels (R ``MASS::polr``/``svyolr`` sign convention).
    Estimates maximise ``sum_i w_i log P(Y = y_i | x_i)`` over ``beta`` and
    ``theta = (zeta_1, log(zeta_2 - zeta_1), ...)``.  As R, the Hessian ``H`` is the central
    difference (step 1e-3 in ``theta``) of the analytic gradient (``optim``'s
    ``hessian=TRUE``), mapped to the ``(beta, zeta)`` scale with the Jacobian ``A``:
    ``V_m = A H^+ A'``.  The linearised score of row ``i`` is ``U_i V_m`` with ``U_i`` its
    contribution to the gradient in ``(beta, zeta)``, and the covariance is the design's Taylor
    covariance of these scores (R ``svyolr`` -> ``svyrecvar``).  ``df`` is the design's degrees
    of freedom minus the number of coefficients (R).  R stops its BFGS at a relative change of
    the log-likelihood of about 1.5e-8, which leaves its default estimates up to ~1e-4
    (relative) from the maximum; surveylib iterates to the maximum, and agrees with R run with
    ``control=list(reltol=1e-15)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, surveylib as sl
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=300)
    >>> att = np.digitize(x + rng.logistic(size=300), [-1.5, -0.5, 0.5, 1.5]) + 1
    >>> df = pd.DataFrame({"att": att, "x": x, "psu": np.repeat(np.arange(30), 10),
    ...                    "w": rng.uniform(1, 3, 300)})
    >>> fit = sl.SurveyDesign(df, psu="psu", weights="w").olr("att ~ x")
    >>> fit.terms
    ['x', '1|2', '2|3', '3|4', '4|5']
    >>> bool(0.5 < fit.coef["x"] < 1.5)
    True
    """
    check_option(method, METHODS, name="method")
    y, X, term_columns, pos, levels = _model_frame(design, formula)
    names = [c for cols in term_columns.values() for c in cols]
    if len(y) == 0:
        raise SurveyDesignError(f"no rows of the design are complete on the variables of {formula!r}.")
    wt = design.base_weights[pos]
    if X.shape[1]:
        Xc = np.hstack([np.ones((len(y), 1)), X]) * np.sqrt(wt)[:, None]
        if np.linalg.matrix_rank(Xc) < Xc.shape[1]:
            raise SurveyDesignError(
                f"the predictors of {formula!r} are collinear (with each other or the "
                "intercept); drop or merge the redundant terms."
            )
    lik = _Likelihood(y, X, wt, method)
    par = _fit(lik, _start(lik), max_iter, tol, formula)
    pc, q = lik.pc, lik.q
    theta = par[pc:]
    zeta = lik.zeta(theta)
    vc = np.linalg.pinv(lik.hessian(par, _HESS_STEP), rcond=np.sqrt(np.finfo(float).eps))
    A = np.eye(pc + q)
    A[pc:, pc:] = lik.jacobian(np.concatenate([zeta[:1], np.log(np.diff(zeta))]))
    Vm = A @ vc @ A.T
    active = design.active
    n_all = len(active)
    scores = np.zeros((n_all, pc + q))
    scores[pos] = lik.row_scores(par, logdiff=False) @ Vm
    used = np.zeros(n_all, dtype=bool)
    used[pos] = True
    same = used.sum() == active.sum() and used[active].all()
    d = design if same else design.subset(used)
    V = d.engine.vcov_scores(Scores.from_dense(scores))
    cut_names = [f"{levels[i]}|{levels[i + 1]}" for i in range(q)]
    deviance = 2 * lik.value(par) / wt.mean()
    dfs = float(d.degf() - pc)
    text = d.describe() + f"; df = {d.degf()} (PSUs - strata) - {pc}"
    return OLRResult(formula, method, names + cut_names, np.concatenate([par[:pc], zeta]), V,
                     pc, levels, dfs, int(len(y)), float(deviance), text, term_columns)


def _fit(lik, start, max_iter, tol, formula):
    """Maximise the weighted log-likelihood: BFGS, then Newton steps on the gradient."""
    scale = lik.wt.sum()
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # trial points
        res = optimize.minimize(lambda p: lik.value(p) / scale, start,
                                jac=lambda p: lik.gradient(p) / scale, method="BFGS",
                                options={"gtol": 1e-9, "maxiter": max_iter})
    par = res.x
    for _ in range(50):
        g = lik.gradient(par)
        if np.max(np.abs(g)) < tol * scale:
            return par
        H = lik.hessian(par, 1e-5)
        step = np.linalg.lstsq(H, g, rcond=None)[0]
        f0 = lik.value(par)
        t = 1.0
        while lik.value(par - t * step) > f0 + 1e-12 * abs(f0) and t > 1e-8:
            t /= 2
        par = par - t * step
    g = lik.gradient(par)
    if not np.max(np.abs(g)) < tol * scale:
        warnings.warn(
            f"the ordinal model {formula!r} did not converge (largest gradient component "
            f"{np.max(np.abs(g)) / scale:.3g} per unit weight); the estimates may be unreliable "
            "— check for empty or separated outcome levels.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return par
