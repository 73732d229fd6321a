"""Design-based tests: tables and Rao–Scott, t tests, linear contrasts, Wald tests, waves.

Everything here is built on the estimators of :mod:`surveylib.estimators` (their estimates and
full covariance matrices) and on the design's single variance engine; no function carries a
variance formula of its own.

* :func:`crosstab` — weighted counts and cell/row/column shares of a two-way table, and
  :meth:`Crosstab.test`, the Rao–Scott and Wald tests of independence of R ``svychisq``;
* :func:`ttest` — two-group, one-sample and paired t tests (R ``svyttest``);
* :func:`contrast` and :func:`wald` — linear contrasts of any estimate (R ``svycontrast``) and
  Wald tests of several contrasts;
* :func:`compare`, :func:`stack_waves`, :func:`compare_distribution` — change between two
  independent survey waves.

Conventions and the points where surveylib and R differ are in ``docs/inference.md``.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats

from ._validation import as_list, check_columns, check_level, check_option
from .errors import ColumnError, SurveyDesignError, SurveyWarning
from .results import Estimate, StatisticAccessors, critical_value

MAX_LEVELS = 200
CHISQ_METHODS = ("F", "chisq", "wald", "adjwald", "lincom", "saddlepoint")
_R_METHOD = {"F": "F", "chisq": "Chisq", "wald": "Wald", "adjwald": "adjWald",
             "lincom": "lincom", "saddlepoint": "saddlepoint"}


# ----- test results ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TestResult:
    """Result of a design-based test.

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
    """

    __test__ = False  # not a pytest test class

    statistic: float
    df_num: float
    df_denom: float
    p_value: float
    method: str
    null: str

    def __str__(self) -> str:
        dfs = f"df = {_fmt(self.df_num)}" + (
            "" if np.isinf(self.df_denom) else f", {_fmt(self.df_denom)}"
        )
        return (
            f"{self.method}\n  statistic = {self.statistic:.4f}, {dfs}, p-value = "
            f"{_fmt_p(self.p_value)}\n  null hypothesis: {self.null}"
        )

    def __repr__(self) -> str:
        return (
            f"TestResult(statistic={self.statistic:.6g}, df_num={_fmt(self.df_num)}, "
            f"df_denom={_fmt(self.df_denom)}, p_value={_fmt_p(self.p_value)}, "
            f"method={self.method!r}, null={self.null!r})"
        )


@dataclass(frozen=True)
class TTestResult:
    """Result of a design-based t test (R ``svyttest``).

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
    """

    __test__ = False

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

    def __str__(self) -> str:
        return (
            f"{self.method}\n  estimate = {self.estimate:.6g} (SE {self.se:.4g}), "
            f"{self.level:.0%} CI [{self.ci_low:.6g}, {self.ci_high:.6g}]\n"
            f"  t = {self.statistic:.4f}, df = {_fmt(self.df)}, p-value = {_fmt_p(self.p_value)}\n"
            f"  null hypothesis: {self.null}"
        )

    __repr__ = __str__


def _fmt(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.4g}"


def _fmt_p(p) -> str:
    return f"{p:.4g}" if p >= 1e-4 else f"{p:.3e}"


# ----- two-way tables -------------------------------------------------------------------------
def _observed_levels(s: pd.Series, keep: np.ndarray) -> list:
    """Levels of ``s`` observed on rows ``keep`` (categorical order, else sorted)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        used = np.unique(codes[keep & (codes >= 0)])
        return [s.cat.categories[i] for i in used]
    return sorted(pd.unique(s[keep].dropna()).tolist())


def _table_codes(design, row: str, col: str):
    """Level codes of row and col among complete active rows (-1 elsewhere), and the levels."""
    df = design._data
    check_columns(df, [row, col], role="crosstab")
    if row == col:
        raise SurveyDesignError(f"crosstab needs two different variables, got {row!r} twice.")
    complete = design._active & df[row].notna().to_numpy() & df[col].notna().to_numpy()
    if not complete.any():
        raise SurveyDesignError(f"no rows of the design have values of both {row!r} and {col!r}.")
    out = []
    for var in (row, col):
        s = df[var]
        n_all = s[design._active].nunique(dropna=True)
        if n_all > MAX_LEVELS:
            raise ColumnError(
                f"variable {var!r} has {n_all} distinct values; a crosstab is for categorical "
                f"variables with at most {MAX_LEVELS} levels — recode it into groups first "
                "(e.g. pandas.cut for a numeric variable)."
            )
        levels = _observed_levels(s, complete)
        lookup = pd.Index(levels)
        codes = np.where(complete, lookup.get_indexer(s.to_numpy(dtype=object)), -1)
        out.append((codes.astype(np.int64), levels))
    (rc, rl), (cc, cl) = out
    return rc, rl, cc, cl, complete


@dataclass(frozen=True)
class Crosstab:
    """Two-way design-based table of ``row`` by ``col`` (optionally within domains ``by``).

    Attributes
    ----------
    row, col : str
        The two variables.
    by : tuple of str
        Domain variables.
    row_levels, col_levels : list
        Levels observed on rows with both variables present (empty levels are dropped, as R's
        ``factor()`` drops them).
    counts : Estimate
        Estimated population counts of every cell (R ``svytotal(~interaction(row, col))``),
        keyed by ``[*by, row]`` with ``variable = col`` and ``level`` = the column level.
    cell_shares : Estimate
        Share of the (domain) population in each cell, same keys; the cells of a domain sum
        to 1 (R ``svymean(~interaction(row, col))``).
    row_shares : Estimate
        Share of each column level within each row level (R ``svyby(~col, ~row, svymean)``).
    col_shares : Estimate
        Share of each row level within each column level, keyed by ``[*by, col]`` with
        ``variable = row``.

    Every part answers the accessor protocol (``.estimate``, ``.se``, ``.vcov``, ``.ci()``,
    ``.to_frame()``).  :meth:`test` tests independence of row and col.
    """

    row: str
    col: str
    by: tuple
    row_levels: list
    col_levels: list
    counts: Estimate
    cell_shares: Estimate
    row_shares: Estimate
    col_shares: Estimate
    _design: object = field(repr=False, compare=False)
    _codes: tuple = field(repr=False, compare=False)

    def table(self, what: str = "counts") -> pd.DataFrame:
        """The estimates as a row x col table (one block per domain with ``by``).

        Parameters
        ----------
        what : {"counts", "cell", "row", "col"}
        """
        check_option(what, ("counts", "cell", "row", "col"), name="what")
        est = {"counts": self.counts, "cell": self.cell_shares, "row": self.row_shares,
               "col": self.col_shares}[what]
        f = est.to_frame()
        index = [*self.by, self.col if what == "col" else self.row]
        t = f.pivot_table(index=index, columns="level", values="estimate", sort=False,
                          observed=True)
        t.columns.name = self.row if what == "col" else self.col
        return t

    def test(self, method: str = "F"):
        """Test independence of row and col, as R ``svychisq(~row+col, design, statistic=)``.

        Parameters
        ----------
        method : {"F", "chisq", "wald", "adjwald", "lincom", "saddlepoint"}
            * ``"F"`` (default, R's): Rao–Scott second-order correction; Pearson's X² over the
              trace of the design-effect matrix Delta, referred to F(d0, d0 nu) with
              d0 = tr(Delta)² / tr(Delta²) and nu the design df;
            * ``"chisq"``: first-order correction, X² / mean(eigenvalues) ~ chi²((r-1)(c-1));
            * ``"wald"``: Wald test of the (r-1)(c-1) interaction contrasts of the cell totals,
              divided by its df and referred to F(df, nu);
            * ``"adjwald"``: the same scaled by (nu - df + 1)/nu, referred to F(df, nu - df + 1);
            * ``"lincom"``: X² referred to its asymptotic distribution, a weighted sum of
              chi²(1) with the eigenvalues of Delta as weights, against chi²(d0 nu)/(d0 nu);
              computed by Imhof's numerical inversion (R uses Davies/Farebrother from the
              CompQuadForm package, or falls back to the saddlepoint approximation without it);
            * ``"saddlepoint"``: the same distribution by the saddlepoint approximation
              (R ``survey:::saddle``).

        Returns
        -------
        TestResult, or dict of TestResult keyed by domain (a tuple of ``by`` values) when
        the table was made with ``by=``.

        Notes
        -----
        Rao & Scott (1981, 1984); R ``survey::svychisq.survey.design`` (survey 4.1).  Pearson's
        X² is computed from the weighted table scaled to N, the number of rows in the
        (domain) design, as R does.  Zero cells enter with share 0 (and are skipped in
        D^-1, as R).
        """
        check_option(method, CHISQ_METHODS, name="method")
        rc, cc = self._codes
        nr, nc = len(self.row_levels), len(self.col_levels)
        if not self.by:
            return _independence_test(self._design, self.cell_shares.values,
                                      self.cell_shares.vcov_matrix, self.counts.values,
                                      self.counts.vcov_matrix, nr, nc, len(self._design),
                                      self._design.degf(), method, self.row, self.col)
        out = {}
        keys = self.cell_shares.keys
        dom_cols = list(self.by)
        dom_keys = keys[dom_cols].drop_duplicates()
        data = self._design._data
        for _, dk in dom_keys.iterrows():
            sel = np.ones(len(keys), dtype=bool)
            mask = np.ones(len(data), dtype=bool)
            for c in dom_cols:
                sel &= (keys[c] == dk[c]).to_numpy()
                mask &= (data[c] == dk[c]).fillna(False).to_numpy(dtype=bool)
            idx = np.flatnonzero(sel)
            sub = self._design.subset(mask)
            key = tuple(dk[c] for c in dom_cols)
            out[key if len(key) > 1 else key[0]] = _independence_test(
                sub, self.cell_shares.values[idx],
                self.cell_shares.vcov_matrix[np.ix_(idx, idx)], self.counts.values[idx],
                self.counts.vcov_matrix[np.ix_(idx, idx)], nr, nc, len(sub), sub.degf(),
                method, self.row, self.col,
            )
        return out

    def __str__(self) -> str:
        with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 120):
            body = self.table("counts").to_string()
            shares = self.table("row").to_string()
        return (f"Crosstab of {self.row} by {self.col}\nEstimated counts\n{body}\n"
                f"Row shares\n{shares}\n{self.counts.inference}")

    __repr__ = __str__


def crosstab(design, row: str, col: str, *, by=None) -> Crosstab:
    """Design-based two-way table of ``row`` by ``col``.

    Parameters
    ----------
    design : SurveyDesign
    row, col : str
        Categorical columns (at most 200 levels each).  Rows missing either are left out of
        every estimate (R ``svychisq(na.rm=TRUE)``); the design is kept for variances.
    by : str or list of str, optional
        Domain column(s): one table (and one test) per domain, with the full design.

    Returns
    -------
    Crosstab

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "sex": list("FMFMFMFM"),
    ...                    "vote": list("yyny" "nnyy"), "w": [1.0, 2, 1, 2, 3, 3, 1, 1]})
    >>> tab = sl.SurveyDesign(df, strata="h", weights="w").crosstab("sex", "vote")
    >>> round(float(tab.counts.estimate.sum()), 1)
    14.0
    """
    rc, rl, cc, cl, complete = _table_codes(design, row, col)
    by_cols = as_list(by)
    if row in by_cols or col in by_cols:
        raise SurveyDesignError(f"by={by_cols} must not contain the table's variables {row!r}, {col!r}.")
    nr, nc = len(rl), len(cl)
    df = design._data
    cell = np.where(complete, rc * nc + cc, -1)
    ind = {f"__cell{k}": np.where(complete, (cell == k).astype(float), np.nan) for k in range(nr * nc)}
    extra = pd.DataFrame(ind, index=df.index)
    tmp = df.copy(deep=False)
    tmp[row] = pd.Categorical.from_codes(np.where(complete, rc, -1), categories=rl)
    tmp[col] = pd.Categorical.from_codes(np.where(complete, cc, -1), categories=cl)
    tmp = pd.concat([tmp, extra], axis=1)
    tdesign = design._replace(_data=tmp)
    names = list(ind)
    counts = tdesign.total(names, by=by_cols or None, na_rm=True)
    shares = tdesign.mean(names, by=by_cols or None, na_rm=True)
    counts, shares = (_relabel_cells(e, by_cols, row, col, rl, cl) for e in (counts, shares))
    row_shares = tdesign.proportion(col, by=[*by_cols, row], na_rm=True, ci_method="mean")
    col_shares = tdesign.proportion(row, by=[*by_cols, col], na_rm=True, ci_method="mean")
    return Crosstab(row=row, col=col, by=tuple(by_cols), row_levels=rl, col_levels=cl,
                    counts=counts, cell_shares=shares, row_shares=row_shares,
                    col_shares=col_shares, _design=design, _codes=(rc, cc))


def _relabel_cells(est: Estimate, by_cols, row, col, rl, cl) -> Estimate:
    """Keys ``[*by, variable='__cellK']`` -> ``[*by, row, variable=col, level]``."""
    k = est.keys["variable"].str.slice(6).astype(int).to_numpy()
    nc = len(cl)
    keys = est.keys[by_cols].reset_index(drop=True).copy()
    keys[row] = pd.Series([rl[i] for i in k // nc], dtype=object)
    keys["variable"] = col
    keys["level"] = pd.Series([cl[j] for j in k % nc], dtype=object)
    return dataclasses.replace(est, keys=keys, by=(*by_cols, row))


def _independence_test(design, p, V, totals, Vt, nr, nc, N, nu, method, row, col) -> TestResult:
    """R svychisq.survey.design for one table (cells in row-major order)."""
    null = f"{row} and {col} are independent"
    # levels without rows in this (domain) table are dropped, as R's factor() drops them
    r = np.repeat(np.arange(nr), nc)
    c = np.tile(np.arange(nc), nr)
    keep_r = np.bincount(r, p, minlength=nr) > 0
    keep_c = np.bincount(c, p, minlength=nc) > 0
    if not (keep_r.all() and keep_c.all()):
        sel = keep_r[r] & keep_c[c]
        p, totals = p[sel], totals[sel]
        V, Vt = V[np.ix_(sel, sel)], Vt[np.ix_(sel, sel)]
        nr, nc = int(keep_r.sum()), int(keep_c.sum())
    if nr < 2 or nc < 2:
        raise SurveyDesignError(
            f"the table of {row!r} by {col!r} has {nr} x {nc} observed levels; a test of "
            "independence needs at least two levels of each."
        )
    r = np.repeat(np.arange(nr), nc)
    c = np.tile(np.arange(nc), nr)
    if method in ("wald", "adjwald"):
        T = totals
        R = np.bincount(r, T, minlength=nr)
        C = np.bincount(c, T, minlength=nc)
        Ntot = T.sum()
        Y = T - R[r] * C[c] / Ntot
        J = np.eye(nr * nc)
        J -= (r[:, None] == r[None, :]) * C[c][:, None] / Ntot
        J -= (c[:, None] == c[None, :]) * R[r][:, None] / Ntot
        J += (R[r] * C[c] / Ntot**2)[:, None]
        VY = J @ Vt @ J.T
        use = (r > 0) & (c > 0)
        try:
            x2 = float(Y[use] @ np.linalg.solve(VY[np.ix_(use, use)], Y[use]))
        except np.linalg.LinAlgError as exc:
            raise SurveyDesignError(
                f"the covariance of the interaction contrasts of {row!r} x {col!r} is singular "
                "(too few PSUs for the table's size); use method='F' or merge levels."
            ) from exc
        numdf = (nr - 1) * (nc - 1)
        if method == "wald":
            stat, ddf = x2 / numdf, float(nu)
            how = "Design-based Wald test of association (F form)"
        else:
            ddf = float(nu - numdf + 1)
            stat = x2 * ddf / (numdf * nu)
            how = "Design-based adjusted Wald test of association (F form)"
        if ddf <= 0:
            raise SurveyDesignError(
                f"the adjusted Wald test needs more design df ({nu}) than table df ({numdf}); "
                "use method='F'."
            )
        return TestResult(stat, float(numdf), ddf, float(stats.f.sf(stat, numdf, ddf)), how, null)

    X1 = np.column_stack([np.ones(nr * nc)] + [(r == i).astype(float) for i in range(1, nr)]
                         + [(c == j).astype(float) for j in range(1, nc)])
    X12 = np.column_stack([((r == i) & (c == j)).astype(float)
                           for j in range(1, nc) for i in range(1, nr)])
    Cmat = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    with np.errstate(divide="ignore"):
        idg = np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p))
    denom = (Cmat.T * (idg / N)) @ Cmat
    numr = (Cmat.T * idg) @ V @ (idg[:, None] * Cmat)
    Delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(Delta))
    d0 = tr**2 / float(np.trace(Delta @ Delta))
    pr = np.bincount(r, p, minlength=nr)
    pc = np.bincount(c, p, minlength=nc)
    e = pr[r] * pc[c]
    x2 = float(N * np.sum((p - e) ** 2 / e))
    K = Delta.shape[0]
    if method == "F":
        stat = x2 / tr
        return TestResult(stat, d0, d0 * nu, float(stats.f.sf(stat, d0, d0 * nu)),
                          "Pearson's X^2 with Rao & Scott second-order adjustment (F)", null)
    if method == "chisq":
        pval = float(stats.chi2.sf(x2 / np.mean(np.diag(Delta)), K))
        return TestResult(x2, float(K), float("inf"), pval,
                          "Pearson's X^2 with Rao & Scott first-order adjustment "
                          "(X^2 / mean eigenvalue ~ chi^2)", null)
    lam = np.sort(np.real(np.linalg.eigvals(Delta)))[::-1]
    ddf = d0 * nu
    if method == "saddlepoint":
        pval = _pfsum_saddlepoint(x2, lam, ddf)
        how = "Pearson's X^2: saddlepoint approximation to its design-based distribution"
    else:
        pval = _pfsum_exact(x2, lam, ddf)
        how = "Pearson's X^2: exact design-based distribution (Imhof inversion)"
    return TestResult(x2, float(K), ddf, pval, how, null)


# ----- tail probabilities of weighted sums of chi-squares --------------------------------------
def _saddle(x: float, lam: np.ndarray, mult: np.ndarray) -> float:
    """R ``survey:::saddle(x, rep(lam, mult))``: upper tail of sum lam_i chi2_1 at x (NaN if
    the saddlepoint is too close to 0)."""
    d = lam.max()
    lam = lam / d
    x = x / d
    n = mult.sum()

    def k0(z):
        return -np.sum(mult * np.log(1 - 2 * z * lam)) / 2

    def k1(z):
        return np.sum(mult * lam / (1 - 2 * z * lam))

    def k2(z):
        return 2 * np.sum(mult * lam**2 / (1 - 2 * z * lam) ** 2)

    if np.any(lam < 0):
        lmin = np.max(1 / (2 * lam[lam < 0])) * 0.99999
    elif x > np.sum(mult * lam):
        lmin = -0.01
    else:
        lmin = -n / (2 * x)
    lmax = np.min(1 / (2 * lam[lam > 0])) * 0.99999
    z = optimize.brentq(lambda zz: k1(zz) - x, lmin, lmax, xtol=1e-15, rtol=1e-15, maxiter=500)
    w = np.sign(z) * np.sqrt(2 * (z * x - k0(z)))
    v = z * np.sqrt(k2(z))
    if abs(z) < 1e-4:
        return float("nan")
    return float(stats.norm.sf(w + np.log(v / w) / w))


def _pfsum_saddlepoint(x: float, a: np.ndarray, ddf: float) -> float:
    """R ``survey:::pFsum(x, 1, a, ddf, lower.tail=FALSE, method="saddlepoint")``.

    P(sum a_i chi2_1 > x chi2_ddf / ddf) by the saddlepoint approximation of the linear
    combination ``sum a_i chi2_1 - (x/ddf) chi2_1 x floor(ddf)`` at 0 (R repeats the last
    weight ``floor(ddf)`` times); Satterthwaite's F approximation where the saddlepoint is
    undefined, as R.
    """
    tr = np.mean(a)
    tr2 = np.mean(a**2) / tr**2
    scale = tr * tr2
    ndf = len(a) / tr2
    rval = float(stats.f.sf(x / ndf / scale, ndf, ddf))
    lam = np.concatenate([a, [-x / ddf]])
    mult = np.concatenate([np.ones(len(a)), [np.floor(ddf)]])
    s = _saddle(0.0, lam, mult)
    return rval if np.isnan(s) else s


def _pfsum_exact(x: float, a: np.ndarray, ddf: float) -> float:
    """P(sum a_i chi2_1 - (x/ddf) chi2_ddf > 0) by Imhof's (1961) inversion formula."""
    lam = np.concatenate([a, [-x / ddf]])
    h = np.concatenate([np.ones(len(a)), [ddf]])

    def integrand(u):
        theta = 0.5 * np.sum(h * np.arctan(lam * u))
        logrho = np.sum(h / 4 * np.log1p((lam * u) ** 2))
        return np.sin(theta) * np.exp(-logrho) / u

    val, _ = integrate.quad(integrand, 0, np.inf, limit=1000, epsabs=1e-12, epsrel=1e-10)
    return float(min(max(0.5 + val / np.pi, 0.0), 1.0))


# ----- t tests --------------------------------------------------------------------------------
def ttest(design, var, *, by=None, mu: float = 0.0, level: float = 0.95,
          na_rm: bool = False) -> TTestResult:
    """Design-based t test (R ``svyttest``).

    Parameters
    ----------
    design : SurveyDesign
    var : str or (str, str)
        Numeric column; a pair ``(a, b)`` tests the mean of ``a - b`` (paired test).
    by : str, optional
        A two-level group: tests the difference of the domain means (second level minus
        first, levels in categorical or sorted order), as R ``svyttest(y ~ g)``.
    mu : float
        Hypothesised mean (one-sample and paired forms; R: ``svyttest(I(y - mu) ~ 0)``).
    level : float
        Confidence level of the interval.
    na_rm : bool
        Drop rows missing ``var`` (or the group) instead of raising; the design is kept.

    Returns
    -------
    TTestResult

    Notes
    -----
    Every form uses ``df = design df - 1`` (R: ``degf(design) - 1`` for the one-sample form,
    and the residual df ``degf + 1 - 2`` of ``svyglm(y ~ g)`` for the two-group form), where
    the design df counts PSUs minus strata among rows with data.  The two-group SE is that of
    the difference of domain means with their covariance, which equals the regression SE.

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 2, 2, 2], "g": list("ababab"),
    ...                    "y": [1.0, 2, 3, 4, 6, 5], "w": [1.0, 1, 2, 2, 1, 1]})
    >>> r = sl.SurveyDesign(df, strata="h", weights="w").ttest("y", by="g")
    >>> round(r.estimate, 4)
    0.5
    """
    check_level(level)
    data = design._data
    if isinstance(var, (tuple, list)):
        if len(var) != 2:
            raise SurveyDesignError(f"a paired t test takes two columns, got {list(var)}.")
        a, b = var
        check_columns(data, [a, b], role="ttest")
        name = f"{a} - {b}"
        tmp = data.copy(deep=False)
        tmp[name] = pd.to_numeric(data[a]) - pd.to_numeric(data[b])
        design = design._replace(_data=tmp)
        kind = "paired"
    else:
        check_columns(data, [var], role="ttest")
        name = var
        kind = "two" if by is not None else "one"
    if by is not None and kind == "paired":
        raise SurveyDesignError("give either a pair of columns or by=, not both.")
    d = design
    ok = d._data[name].notna().to_numpy().copy()
    if by is not None:
        if isinstance(by, (list, tuple)):
            raise SurveyDesignError("ttest(by=) takes one grouping column.")
        check_columns(d._data, [by], role="by")
        ok &= d._data[by].notna().to_numpy()
    if not ok[d._active].all():
        if not na_rm:
            bad = int((~ok & d._active).sum())
            raise SurveyDesignError(
                f"{bad} row(s) of the design miss {name!r}" + (f" or {by!r}" if by else "")
                + "; pass na_rm=True to drop them (the design is kept for variances)."
            )
        d = d.subset(ok)
    df = float(d.degf() - 1)
    if kind == "two":
        m = d.mean(name, by=by)
        if len(m.values) != 2:
            raise SurveyDesignError(
                f"by={by!r} has {len(m.values)} levels in the design; a two-group t test needs "
                "exactly two — subset the design or recode the group."
            )
        levels = list(m.keys[by])
        c = np.array([-1.0, 1.0])
        est = float(c @ m.values)
        se = float(np.sqrt(c @ m.vcov_matrix @ c))
        method = f"Design-based two-sample t test of {name} by {by} ({levels[1]} - {levels[0]})"
        null = f"the mean of {name} is equal in {by} = {levels[0]!r} and {by} = {levels[1]!r}"
        mu_use = 0.0
        if mu != 0.0:
            raise SurveyDesignError("mu= applies to one-sample and paired tests, not by=.")
    else:
        m = d.mean(name)
        est = float(m.values[0])
        se = float(np.sqrt(m.vcov_matrix[0, 0]))
        mu_use = float(mu)
        what = "paired" if kind == "paired" else "one-sample"
        method = f"Design-based {what} t test of {name}"
        null = f"the mean of {name} is {mu_use:g}"
    t = (est - mu_use) / se
    p = float(2 * stats.t.sf(abs(t), df))
    q = float(critical_value(level, df))
    return TTestResult(est, se, float(t), df, p, est - q * se, est + q * se, level, method, null)


# ----- contrasts ------------------------------------------------------------------------------
def _short_labels(est) -> list:
    """A compact label per cell: the values of the key columns that vary across cells."""
    keys = est.keys
    cols = [c for c in keys.columns if keys[c].nunique(dropna=False) > 1]
    if not cols:
        cols = ["variable"]
    if len(cols) == 1:
        return keys[cols[0]].tolist()
    return list(keys[cols].itertuples(index=False, name=None))


def _contrast_matrix(est, coefficients) -> tuple[np.ndarray, list]:
    k = len(est.values)
    index = list(est.index)
    short = _short_labels(est)

    def from_dict(d):
        v = np.zeros(k)
        for key, wgt in d.items():
            if key in index:
                pos = index.index(key)
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




@dataclass(frozen=True)
class ContrastResult:
    """Linear contrasts ``L @ estimate`` of a result with their covariance ``L V L'``.

    Answers the accessor protocol (``.estimate``, ``.se``, ``.vcov``, ``.ci()``, ``.df``,
    ``.to_frame()``); ``.to_frame()`` has the columns ``["contrast", "estimate", "se", "t",
    "p_value", "ci_low", "ci_high", "df"]``.
    """

    names: list
    values: np.ndarray
    vcov_matrix: np.ndarray
    dfs: float
    matrix: np.ndarray
    inference: str

    @property
    def estimate(self) -> pd.Series:
        return pd.Series(self.values, index=pd.Index(self.names, name="contrast"), name="estimate")

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.clip(np.diag(self.vcov_matrix), 0, None)),
                         index=pd.Index(self.names, name="contrast"), name="se")

    @property
    def vcov(self) -> pd.DataFrame:
        return pd.DataFrame(self.vcov_matrix, index=self.names, columns=self.names)

    @property
    def df(self):
        return int(self.dfs) if float(self.dfs).is_integer() else self.dfs

    def ci(self, level: float = 0.95, df=None) -> pd.DataFrame:
        q = critical_value(level, self.dfs if df is None else float(df))
        se = self.se.to_numpy()
        return pd.DataFrame({"ci_low": self.values - q * se, "ci_high": self.values + q * se},
                            index=pd.Index(self.names, name="contrast"))

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
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

    def __str__(self) -> str:
        with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 120):
            body = self.to_frame().to_string(index=False)
        return f"Linear contrasts\n{body}\n{self.inference}"

    __repr__ = __str__


def contrast(result, coefficients) -> ContrastResult:
    """Linear contrasts of the cells of an estimate (R ``svycontrast``).

    Parameters
    ----------
    result : Estimate or GLMResult (anything with ``values``/``vcov_matrix``)
    coefficients : array, matrix, dict or DataFrame
        One coefficient per cell (in ``result.to_frame()`` order); a matrix or a DataFrame
        (one row per contrast); a dict ``{cell: weight}`` for one contrast, where a cell is an
        element of ``result.index`` or its short label (the key values that vary across
        cells, e.g. the domain ``"E"``); or a dict ``{name: vector or {cell: weight}}`` for
        several named contrasts.

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
    dfs = np.broadcast_to(np.asarray(getattr(result, "dfs", np.nan), dtype=float), (L.shape[1],))
    used = np.any(L != 0, axis=0)
    df = float(np.min(dfs[used])) if used.any() else float(np.min(dfs))
    return ContrastResult(names, values, V, df, L, getattr(result, "inference", ""))


def wald(result, matrix, *, rhs=None, form: str = "F") -> TestResult:
    """Wald test that several linear contrasts of an estimate are zero (or ``rhs``).

    Parameters
    ----------
    result : Estimate or GLMResult
    matrix : array (q x cells), or anything :func:`contrast` accepts
    rhs : array of length q, optional
        Hypothesised values (default 0).
    form : {"F", "chisq"}
        ``"F"``: ``X² / q`` referred to F(q, df) with the result's degrees of freedom (R
        ``regTermTest``'s default F form); ``"chisq"``: ``X² = b' V^-1 b`` referred to chi²(q).

    Returns
    -------
    TestResult
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
    null = f"all {q} contrast(s) {c.names} equal " + ("0" if rhs is None else f"{list(np.ravel(rhs))}")
    if form == "chisq":
        return TestResult(x2, float(q), float("inf"), float(stats.chi2.sf(x2, q)),
                          "Wald test (chi-square form)", null)
    return TestResult(x2 / q, float(q), c.dfs, float(stats.f.sf(x2 / q, q, c.dfs)),
                      "Wald test (F form: X^2/q ~ F(q, design df))", null)


# ----- waves ----------------------------------------------------------------------------------
def stack_waves(design_a, design_b, *, wave_col: str = "wave", labels=("a", "b")):
    """One design holding two independent waves, strata nested in wave.

    Parameters
    ----------
    design_a, design_b : SurveyDesign
        Independent samples with the same kind of design: both stratified or neither, the
        same number of cluster stages, fpc at the same stages, the same lonely-PSU rule.
    wave_col : str
        Name of the new wave column (must not already exist).
    labels : (str, str)
        Values of ``wave_col`` for the two waves.

    Returns
    -------
    SurveyDesign
        Rows of both waves; strata ``"<label>:<stratum>"`` (the wave when unstratified), PSU
        ids nested within strata, the waves' current weights (after any weighting) and fpc as
        population counts.  Subsets of either wave stay subsets.  The columns
        ``_stack_stratum``, ``_stack_psu<k>``, ``_stack_weight`` and ``_stack_fpc<k>`` hold the
        design.

    Notes
    -----
    With disjoint strata the Taylor covariance of any wave-a estimate with any wave-b
    estimate is zero, so contrasts between waves have variance ``V_a + V_b``.  Weighting
    records (raking, calibration) are not carried over: the stacked design treats the final
    weights as fixed, and a :class:`SurveyWarning` says so.
    """
    from .design import SurveyDesign

    da, db = design_a, design_b
    if wave_col in da._data.columns or wave_col in db._data.columns:
        raise ColumnError(f"wave_col={wave_col!r} already exists in the data; choose another name.")
    if len(labels) != 2 or labels[0] == labels[1]:
        raise SurveyDesignError(f"labels={labels!r} must be two different values.")
    problems = []
    if (da._strata_col is None) != (db._strata_col is None):
        problems.append("one design is stratified and the other is not")
    if len(da._psu_cols) != len(db._psu_cols):
        problems.append(f"cluster stages differ ({list(da._psu_cols)} vs {list(db._psu_cols)})")
    if len(da._fpc_cols) != len(db._fpc_cols):
        problems.append(f"fpc differs ({list(da._fpc_cols)} vs {list(db._fpc_cols)})")
    if da._lonely_psu != db._lonely_psu:
        problems.append(f"lonely_psu differs ({da._lonely_psu!r} vs {db._lonely_psu!r})")
    if problems:
        raise SurveyDesignError(
            "stack_waves needs designs of the same kind: " + "; ".join(problems)
            + ". Rebuild one wave's SurveyDesign to match the other."
        )
    if da._adjustments or db._adjustments:
        warnings.warn(
            "stack_waves keeps the final weights but not the weighting record (raking/"
            "calibration), so variances of the stacked design treat the weights as fixed.",
            SurveyWarning,
            stacklevel=2,
        )
    n_stage = len(da._psu_cols)
    new_cols = ["_stack_stratum", "_stack_weight"] + [f"_stack_psu{k + 1}" for k in range(n_stage)] + [
        f"_stack_fpc{k + 1}" for k in range(len(da._fpc_cols))]
    clash = [c for c in new_cols if c in da._data.columns or c in db._data.columns]
    if clash:
        raise ColumnError(f"columns {clash} are reserved by stack_waves; rename them first.")

    def frame(d, label):
        out = d._data.copy(deep=False)
        if d._strata_col is None:
            strata = np.full(len(out), f"{label}", dtype=object)
        else:
            strata = np.asarray([f"{label}:{s}" for s in d._data[d._strata_col].astype(str)],
                                dtype=object)
        add = {wave_col: np.full(len(out), label, dtype=object), "_stack_stratum": strata,
               "_stack_weight": d._weights}
        for k, c in enumerate(d._psu_cols):
            add[f"_stack_psu{k + 1}"] = d._data[c].astype(str).to_numpy(dtype=object)
        for k in range(len(d._fpc_cols)):
            st = d._stages[k]
            add[f"_stack_fpc{k + 1}"] = st.popsize[st.unit_stratum[st.unit]]
        return pd.concat([out.reset_index(drop=True), pd.DataFrame(add)], axis=1)

    stacked = pd.concat([frame(da, labels[0]), frame(db, labels[1])], ignore_index=True)
    fpc = [f"_stack_fpc{k + 1}" for k in range(len(da._fpc_cols))] or None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        out = SurveyDesign(
            stacked, strata="_stack_stratum",
            psu=[f"_stack_psu{k + 1}" for k in range(n_stage)] or None,
            weights="_stack_weight", fpc=fpc, nest=True, lonely_psu=da._lonely_psu,
        )
    active = np.concatenate([da._active, db._active])
    return out if active.all() else out.subset(active)


def _adjust(p: np.ndarray, method) -> np.ndarray:
    if method is None:
        return p.copy()
    m = len(p)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ps)
    else:  # bh
        adj = np.minimum.accumulate((m / np.arange(m, 0, -1)) * ps[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


@dataclass(frozen=True)
class Comparison(StatisticAccessors):
    """Differences ``b - a`` between two independent waves, one row per domain x level.

    ``.to_frame()`` has the columns ``[*by, "variable", "level", "estimate_a", "estimate_b",
    "difference", "se", "df", "t", "p_value", "p_adjusted", "ci_low", "ci_high", "change"]``;
    ``.estimate``/``.se``/``.vcov``/``.ci()``/``.df`` refer to the differences.
    """

    _estimate_name = "difference"

    keys: pd.DataFrame
    by: tuple
    estimate_a: np.ndarray
    estimate_b: np.ndarray
    values: np.ndarray
    vcov_matrix: np.ndarray
    dfs: np.ndarray
    level: float
    adjust: str | None
    alpha: float
    inference: str

    @property
    def index(self) -> pd.Index:
        cols = [*self.by, "variable"] + (["level"] if self.keys["level"].notna().any() else [])
        if len(cols) == 1:
            return pd.Index(self.keys[cols[0]], name=cols[0])
        return pd.MultiIndex.from_frame(self.keys[cols])


    def ci(self, level: float | None = None, df=None) -> pd.DataFrame:
        level = self.level if level is None else level
        dfs = self.dfs if df is None else np.full(len(self.values), float(df))
        q = critical_value(level, dfs)
        se = self.se.to_numpy()
        return pd.DataFrame({"ci_low": self.values - q * se, "ci_high": self.values + q * se},
                            index=self.index)

    def to_frame(self) -> pd.DataFrame:
        se = self.se.to_numpy()
        zero = se == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(zero, 0.0, self.values / np.where(zero, 1.0, se))
        p = np.where(zero, 1.0, 2 * stats.t.sf(np.abs(t), self.dfs))
        padj = _adjust(p, self.adjust)
        sig = padj < self.alpha
        change = np.where(sig & (self.values > 0), "increase",
                          np.where(sig & (self.values < 0), "decrease", "no significant change"))
        ci = self.ci()
        out = self.keys.reset_index(drop=True).copy()
        out["estimate_a"] = self.estimate_a
        out["estimate_b"] = self.estimate_b
        out["difference"] = self.values
        out["se"] = se
        out["df"] = self.dfs
        out["t"] = t
        out["p_value"] = p
        out["p_adjusted"] = padj
        out["ci_low"] = ci["ci_low"].to_numpy()
        out["ci_high"] = ci["ci_high"].to_numpy()
        out["change"] = change
        return out

    def __str__(self) -> str:
        with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 140):
            body = self.to_frame().to_string(index=False)
        return f"Change between waves (b - a)\n{body}\n{self.inference}"

    __repr__ = __str__


def compare(design_a, design_b, var: str, *, by=None, stat: str = "proportion",
            level: float = 0.95, adjust=None, alpha: float = 0.05, df: str = "min",
            na_rm: bool = False) -> Comparison:
    """Change in a mean or in the shares of a categorical variable between two waves.

    Parameters
    ----------
    design_a, design_b : SurveyDesign
        Two independent samples (the earlier wave first); differences are ``b - a``.
    var : str
        Column present in both waves.
    by : str or list of str, optional
        Domains; every domain must occur in both waves.
    stat : {"proportion", "mean"}
    level : float
        Confidence level of the intervals of the differences.
    adjust : {None, "holm", "bh"}
        Multiple-testing adjustment of the p-values over all rows (Holm's step-down
        family-wise method, or Benjamini–Hochberg false discovery rate).
    alpha : float
        Significance level for the ``change`` label ("increase", "decrease", "no significant
        change"), applied to the adjusted p-values.
    df : {"min", "satterthwaite"}
        Degrees of freedom of the t reference: the smaller of the two designs' df (default,
        conservative), or Welch–Satterthwaite ``(v_a + v_b)² / (v_a²/df_a + v_b²/df_b)``.
    na_rm : bool
        As in the estimators.

    Returns
    -------
    Comparison

    Notes
    -----
    The waves are independent samples, so ``Var(b - a) = V_a + V_b`` (covariances included);
    this equals R's ``svycontrast`` of ``svyby(~var, ~wave, svymean, covmat=TRUE)`` on the
    stacked design (:func:`stack_waves`).  A level seen in one wave only has share 0 with
    variance 0 in the other.  R would refer the t statistic to the stacked design's df
    (df_a + df_b), which is less conservative than both choices here.
    """
    check_option(stat, ("proportion", "mean"), name="stat")
    check_option(adjust, (None, "holm", "bh"), name="adjust")
    check_option(df, ("min", "satterthwaite"), name="df")
    check_level(level)
    if not 0 < alpha < 1:
        raise SurveyDesignError(f"alpha={alpha!r} must lie strictly between 0 and 1.")
    for d, name in ((design_a, "design_a"), (design_b, "design_b")):
        if var not in d._data.columns:
            raise ColumnError(f"variable {var!r} is not in {name}; compare needs it in both waves.")
    by_cols = as_list(by)
    da, db = design_a, design_b
    if stat == "proportion":
        levels = sorted(set(_observed_levels(da._data[var], da._active & da._data[var].notna().to_numpy()))
                        | set(_observed_levels(db._data[var], db._active & db._data[var].notna().to_numpy())),
                        key=_sort_key)
        if isinstance(da._data[var].dtype, pd.CategoricalDtype):
            cats = [c for c in da._data[var].cat.categories if c in levels]
            levels = cats + [lv for lv in levels if lv not in cats]
        if len(levels) > MAX_LEVELS:
            raise ColumnError(f"variable {var!r} has {len(levels)} levels; compare(stat='proportion') "
                              f"is for categorical variables (at most {MAX_LEVELS} levels).")
        dtype = pd.CategoricalDtype(levels)

        def prep(d):
            tmp = d._data.copy(deep=False)
            tmp[var] = d._data[var].astype(object).astype(dtype)
            return d._replace(_data=tmp)

        ea = prep(da).proportion(var, by=by_cols or None, na_rm=na_rm, ci_method="mean")
        eb = prep(db).proportion(var, by=by_cols or None, na_rm=na_rm, ci_method="mean")
    else:
        ea = da.mean(var, by=by_cols or None, na_rm=na_rm)
        eb = db.mean(var, by=by_cols or None, na_rm=na_rm)
    ka = [tuple(map(str, r)) for r in ea.keys.itertuples(index=False, name=None)]
    kb = [tuple(map(str, r)) for r in eb.keys.itertuples(index=False, name=None)]
    if ka != kb:
        only_a = [k for k in ka if k not in kb][:5]
        only_b = [k for k in kb if k not in ka][:5]
        raise SurveyDesignError(
            f"the domains of {by_cols} differ between the waves (only in a: {only_a}; only in "
            f"b: {only_b}); subset both designs to the common domains first."
        )
    V = ea.vcov_matrix + eb.vcov_matrix
    dfa, dfb = float(da.degf()), float(db.degf())
    if df == "min":
        dfs = np.full(len(ea.values), min(dfa, dfb))
        df_text = f"df = min({dfa:g}, {dfb:g})"
    else:
        va, vb = np.diag(ea.vcov_matrix), np.diag(eb.vcov_matrix)
        with np.errstate(divide="ignore", invalid="ignore"):
            dfs = (va + vb) ** 2 / (va**2 / dfa + vb**2 / dfb)
        dfs = np.where(va + vb > 0, dfs, min(dfa, dfb))
        df_text = "Satterthwaite df"
    text = (f"independent waves, Var(b - a) = V_a + V_b; {df_text}"
            + (f"; p-values adjusted by {adjust}" if adjust else "")
            + f"\n  a: {da.describe()}\n  b: {db.describe()}")
    return Comparison(keys=ea.keys.reset_index(drop=True), by=tuple(by_cols),
                      estimate_a=ea.values, estimate_b=eb.values, values=eb.values - ea.values,
                      vcov_matrix=V, dfs=dfs, level=level, adjust=adjust, alpha=alpha,
                      inference=text)


def _sort_key(x):
    return (0, x, "") if isinstance(x, (int, float, np.integer, np.floating)) else (1, 0, str(x))


def compare_distribution(design_a, design_b, var: str, *, method: str = "F",
                         wave_col: str = "wave", labels=("a", "b")) -> TestResult:
    """Rao–Scott test that the distribution of ``var`` is the same in two independent waves.

    The waves are stacked into one design with strata nested in wave (:func:`stack_waves`)
    and wave x ``var`` is tested for independence (:meth:`Crosstab.test`), as R
    ``svychisq(~wave + var, stacked_design)``.

    Parameters
    ----------
    method : str
        Any method of :meth:`Crosstab.test` ("F" by default).

    Returns
    -------
    TestResult
    """
    stacked = stack_waves(design_a, design_b, wave_col=wave_col, labels=labels)
    res = crosstab(stacked, wave_col, var).test(method)
    return dataclasses.replace(res, null=f"the distribution of {var} is the same in both waves")
