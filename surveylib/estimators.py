"""Design-based estimators (Taylor linearisation).

Every estimator here is a ratio of weighted totals or a total, computed for *cells*
(domain x variable x level) in one vectorised pass:

* ``mean``: ``sum(w y) / sum(w)`` within the domain, scores ``w (y - mean) / sum(w)``
  (R ``svymean``);
* ``proportion``: the mean of the indicator of each level (R ``svymean(~factor)``);
* ``ratio``: ``sum(w y) / sum(w x)``, scores ``w (y - R x) / sum(w x)`` (R ``svyratio``);
* ``total``: ``sum(w y)``, scores ``w y`` (R ``svytotal``);
* ``quantile``: the weighted quantile with a Woodruff interval (R ``svyquantile``).

Domains zero-extend the scores outside the domain, so the whole design enters every
variance (R ``svyby`` / ``subset``).  The scores go to the design's single variance engine.

Design effects (``deff=True``, R's default ``deff=TRUE``) compare with simple random sampling
*without* replacement of the same number of respondents from a population of size
``sum(w)``; ``deff="replace"`` compares with sampling with replacement (Stata's ``deft``
squared uses the latter).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import (
    as_list,
    check_columns,
    check_level,
    check_option,
    factorize_column,
    numeric_column,
)
from .errors import ColumnError, SurveyDesignError, SurveyWarning
from .results import Estimate, critical_value
from .variance.taylor import Scores

CI_METHODS = ("logit", "xlogit", "wald", "mean", "asin", "beta", "wilson", "likelihood")
QRULES = ("math", "school")


# ----- cells ---------------------------------------------------------------------------------
def _domains(design, by) -> tuple[np.ndarray, pd.DataFrame, list]:
    """Domain code of every row (-1 outside any domain) and the domain key table.

    Domains are the sorted combinations of the ``by`` values that have rows in the
    (sub)design, as R ``svyby``.  The coding of the data is cached on the design.
    """
    by_cols = as_list(by)
    n = len(design._data)
    if not by_cols:  # one domain: a read-only broadcast of 0 takes no memory
        return np.broadcast_to(np.int64(0), (n,)), pd.DataFrame(index=[0]), []
    check_columns(design._data, by_cols, role="by")
    g_all, keys_all = design._cached(("domains", tuple(by_cols)),
                                     lambda: _code_domains(design._data, by_cols), per_design=False)
    active = design._active
    if g_all.min() >= 0 and (active.all() or np.all(np.bincount(g_all, weights=active) > 0)):
        return g_all, keys_all, by_cols
    inside = g_all >= 0
    counts = np.bincount(g_all[inside], weights=active[inside], minlength=len(keys_all))
    present = np.flatnonzero(counts > 0)
    if len(present) == 0:
        raise SurveyDesignError(f"no rows of the design have values of {by_cols}.")
    remap = np.full(len(keys_all), -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    g = np.where(inside, remap[np.where(inside, g_all, 0)], -1)
    return g, keys_all.iloc[present].reset_index(drop=True), by_cols


def _code_domains(data: pd.DataFrame, by_cols: list) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes 0..D-1 of the sorted distinct ``by`` combinations (-1 where a value is missing)."""
    frame = data[by_cols]
    if len(by_cols) == 1:
        codes, uniques = pd.factorize(frame[by_cols[0]], sort=True)
        g = codes.astype(np.int64)
        keys = pd.DataFrame({by_cols[0]: uniques})
    else:
        g = frame.groupby(by_cols, sort=True, dropna=True, observed=True).ngroup().to_numpy()
        g = np.where(np.isnan(g.astype(float)), -1, g).astype(np.int64)
        first = np.full(int(g.max()) + 1, -1, dtype=np.int64)
        rows = np.flatnonzero(g >= 0)[::-1]
        first[g[rows]] = rows
        keys = frame.iloc[first].reset_index(drop=True)
    g.flags.writeable = False
    return g, keys


def _variable_values(design, var, *, na_rm: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numeric values of ``var`` (0 where missing) and its validity mask; cached per data."""

    def compute():
        y = numeric_column(design._data, var, role="analysis")
        ok = ~np.isnan(y)
        if not ok.all():
            y = np.where(ok, y, 0.0)
        y = y.view()
        y.flags.writeable = False
        ok.flags.writeable = False
        return y, ok

    y, ok = design._cached(("numeric", var), compute, per_design=False)
    if not na_rm and not ok[design._active].all():
        bad = int((~ok & design._active).sum())
        raise SurveyDesignError(
            f"variable {var!r} has {bad} missing value(s) in the design; pass na_rm=True to "
            "estimate over respondents with a value (the design is kept for variances)."
        )
    return y, ok


def _check_na_rm(na_rm) -> None:
    if na_rm not in (True, False, "complete"):
        raise SurveyDesignError(f"na_rm={na_rm!r} must be True, False or 'complete'.")


def _numeric_columns(design, variables, na_rm) -> dict:
    """Values and validity of each variable; ``na_rm='complete'`` keeps rows valid on all."""
    _check_na_rm(na_rm)
    variables = as_list(variables)
    check_columns(design._data, variables, role="analysis")
    out = {v: _variable_values(design, v, na_rm=bool(na_rm)) for v in variables}
    if na_rm == "complete":
        joint = np.logical_and.reduce([ok for _, ok in out.values()])
        out = {v: (y, joint) for v, (y, _) in out.items()}
    return out


def _levels(design, var, *, na_rm: bool) -> tuple[np.ndarray, list, np.ndarray]:
    """Level codes of a categorical variable (-1 = missing), its levels, validity mask."""

    codes, levels, ok = design._cached(("levels", var), lambda: factorize_column(design._data[var]),
                                       per_design=False)
    levels = list(levels)
    if len(levels) > 200:
        raise ColumnError(
            f"variable {var!r} has {len(levels)} distinct values; proportion() is for "
            "categorical variables — use mean() for a numeric one, or recode it into groups."
        )
    if not na_rm and not ok[design._active].all():
        bad = int((~ok & design._active).sum())
        raise SurveyDesignError(
            f"variable {var!r} has {bad} missing value(s) in the design; pass na_rm=True to "
            "estimate shares among respondents with a value."
        )
    return codes, levels, ok


class _Cells:
    """Accumulates blocks of a ratio-of-totals estimator, then computes everything at once."""

    def __init__(self, design, g: np.ndarray, n_domains: int, by_key=None):
        self.design = design
        self.by_key = by_key  # names the domain coding, for cached per-PSU sums
        self.w = design._estimation_weights()
        self.g = g
        self.D = n_domains
        self._blocks = None
        # per add(): kind, first cell, levels, valid rows, domain x levels code (relative to
        # the first cell, 0 where invalid), y or level codes, x, whether every row is valid
        self.groups = []
        self.keys = []  # per block: list of (domain, variable, level) in cell order
        self.k = 0

    def _memo(self, key, compute):
        """Cache on the design when the domain coding is named, else compute."""
        if self.by_key is None:
            return compute()
        return self.design._cached((*key, self.by_key), compute)

    def _rows_in_domains(self):
        """Rows in some domain with non-zero weight, and whether that is every row."""

        def compute():
            rows = (self.g >= 0) & (self.w != 0)  # calibrated weights may be negative
            rows.flags.writeable = False
            return rows, bool(rows.all())

        return self._memo(("rows in domains",), compute)

    @property
    def blocks(self) -> list:
        """(valid, cell codes, y, x) per block; a categorical gives one indicator block a level.

        Built on first use: the per-PSU fast path never needs the indicators.
        """
        if self._blocks is None:
            out = []
            for kind_g, base, L, valid, dom, values, x, _ in self.groups:
                if kind_g == "numeric":
                    out.append((valid, dom + base, values, x))
                else:
                    out.extend((valid, dom + base + j, (values == j).astype(float), x)
                               for j in range(L))
            self._blocks = out
        return self._blocks

    def add(self, valid, y, x, variable, levels=(None,), level_index=None):
        """Add cells (domain x level) for one variable; ``level_index`` gives each row's level.

        ``x=None`` means a denominator of 1 for every row (means and shares).
        """
        rows, every_row = self._rows_in_domains()
        L = len(levels)
        base = self.k
        all_valid = every_row and bool(valid.all())
        if all_valid:
            valid = rows
            dom = (self.g if self.D == 1 else  # one domain, every row in it: all zeros
                   self._memo(("domain x levels", L), lambda: self.g * L))
        else:
            valid = valid & rows
            dom = np.where(valid, self.g, 0) * L
        if level_index is None:
            self.groups.append(("numeric", base, 1, valid, dom, y, x, all_valid))
        else:
            self.groups.append(("levels", base, L, valid, dom, level_index, x, all_valid))
        self._blocks = None
        self.keys.extend((d, variable, lev) for d in range(self.D) for lev in levels)
        self.k += self.D * L

    def compute(self, kind: str, deff):
        """Estimates, covariance, counts and design effects of every cell in one pass.

        Returns ``(estimates, vcov, n, deff, scores or None)`` and keeps ``n`` as ``nobs``.
        Rows outside a cell's domain carry weight 0, so they add nothing anywhere.
        """
        out = self._compute(kind, deff)
        self.nobs = out[2]
        return out

    def _compute(self, kind: str, deff):
        if self._fast_path_applies(kind):
            return self._compute_by_units(kind, deff)
        by_units = getattr(self.design, "_cells_by_units", None)  # replicate factors per PSU
        out = by_units(self, kind, deff) if by_units is not None else None
        if out is not None:
            return out
        k, w = self.k, self.w
        num, den, wsum, nobs = (np.zeros(k) for _ in range(4))
        wvs = []
        for valid, cells, y, x in self.blocks:
            wv = w * valid
            wvs.append(wv)
            num += np.bincount(cells, wv * y, minlength=k)
            ws = np.bincount(cells, wv, minlength=k)
            wsum += ws
            den += ws if x is None else np.bincount(cells, wv * x, minlength=k)
            nobs += np.bincount(cells, valid, minlength=k)
        empty = nobs == 0
        if kind != "total" and np.any((den == 0) & ~empty):
            raise SurveyDesignError("a denominator total is zero in some domain; the ratio is undefined.")
        safe_den = np.where(den == 0, 1.0, den)
        est = num if kind == "total" else num / safe_den
        ybar = num / np.where(wsum == 0, 1.0, wsum)
        blocks = []
        resid_ss = np.zeros(k)
        for (_valid, cells, y, x), wv in zip(self.blocks, wvs, strict=True):
            if kind == "total":
                vals = wv * y
                if deff is not False:
                    e = y - ybar[cells]
                    resid_ss += np.bincount(cells, wv * e * e, minlength=k)
            else:
                e = y - (est[cells] if x is None else est[cells] * x)
                we = wv * e
                vals = we / safe_den[cells]
                if deff is not False:
                    resid_ss += np.bincount(cells, we * e, minlength=k)
            blocks.append((vals, cells))
        scores = Scores(tuple(blocks), k)
        v = self.design.engine.vcov_cells(self.blocks, kind, est, k, scores)
        deffs = self._deff(kind, deff, v, resid_ss, wsum, den, nobs)
        return np.where(empty, np.nan, est), v, nobs, deffs, scores

    # ----- the fast path: totals within PSUs, no per-row scores ------------------------------
    _MAX_UNIT_CELLS = 4  # fall back when units x cells exceeds this many times the rows

    def _fast_path_applies(self, kind: str) -> bool:
        """Taylor designs without weight adjustments, means/shares/totals, modest unit x cells.

        Ratios with a non-constant denominator keep the per-row path (exact centring).
        """
        d = self.design
        if d.engine.kind != "taylor" or d.adjustments:
            return False
        if any(g[6] is not None for g in self.groups):
            return False
        units = d._finest_stage().n_psu
        return units * self.k <= self._MAX_UNIT_CELLS * max(len(self.w), 1)

    def _compute_by_units(self, kind: str, deff):
        """Everything from per-(PSU, cell) sums: one or two ``bincount`` per variable.

        For a mean in cell c the PSU total of the scores is ``(WY_uc - ybar_c W_uc) / W_c``
        (the per-row scores summed within the PSU), so no n-vector of scores is formed.
        Values are first shifted by the variable's overall weighted mean, which leaves
        means' deviations and all variances unchanged and keeps the subtraction well
        conditioned.
        """
        d, k, w, D = self.design, self.k, self.w, self.D
        st = d._finest_stage()
        P = st.n_psu
        WY, WW = np.zeros((P, k)), np.zeros((P, k))
        nobs = np.zeros(k)
        wyy = np.zeros(k)
        shift = np.zeros(k)
        share_cells = np.zeros(k, dtype=bool)
        for kind_g, base, L, valid, dom, values, _, all_valid in self.groups:
            width = D * L
            span = slice(base, base + width)
            wv = w if all_valid else w * valid
            if all_valid:  # rows per domain do not depend on the variable
                n_dom = self._memo(("rows per domain",),
                                   lambda: np.bincount(self.g, minlength=D).astype(float))
            if kind_g == "levels":
                if all_valid:
                    key = self._memo(("PSU x domain x levels", L),
                                     lambda width=width, dom=dom: st.unit * width + dom) + values
                else:
                    key = st.unit * width + dom + np.where(valid, values, 0)
                    n_dom = np.bincount(dom // L, valid, minlength=D)
                sums = np.bincount(key, wv, minlength=P * width).reshape(P, D, L)
                WY[:, span] += sums.reshape(P, width)
                WW[:, span] += np.repeat(sums.sum(axis=2), L, axis=1)
                nobs[span] = np.repeat(n_dom, L)
                share_cells[span] = True
                continue
            if D == 1:
                key = st.unit
            elif all_valid:
                key = self._memo(("PSU x domain",), lambda: st.unit * D + self.g)
            else:
                key = st.unit * D + dom
            # any constant shift leaves deviations unchanged; one near the mean keeps the
            # per-PSU subtraction below well conditioned
            m = 0.0 if kind == "total" else float(values[:4096].mean())
            yv = values - m if m else values
            wyv = wv * yv
            WY[:, span] += np.bincount(key, wyv, minlength=P * D).reshape(P, D)
            if all_valid:
                WW[:, span] += self._memo(("PSU x domain weights",), lambda key=key: np.bincount(
                    key, w, minlength=P * D).reshape(P, D))
            else:
                WW[:, span] += np.bincount(key, wv, minlength=P * D).reshape(P, D)
                n_dom = np.bincount(dom, valid, minlength=D)
            nobs[span] = n_dom
            if deff is not False:
                wyy[span] += (np.bincount(dom, wyv * yv, minlength=D) if D > 1
                              else np.dot(wyv, yv))
            shift[span] = m
        num, wsum = WY.sum(axis=0), WW.sum(axis=0)
        wyy = np.where(share_cells, num, wyy)  # an indicator equals its square
        empty = nobs == 0
        safe_w = np.where(wsum == 0, 1.0, wsum)
        if kind == "total":
            est = num
            totals = WY
            resid_ss = wyy - num**2 / safe_w
        else:
            est_shifted = num / safe_w
            est = est_shifted + shift
            totals = (WY - est_shifted * WW) / safe_w
            resid_ss = wyy - 2 * est_shifted * num + est_shifted**2 * wsum
        from .variance.taylor import taylor_vcov_from_totals

        v = taylor_vcov_from_totals(totals, d._stages, lonely_psu=d._lonely_psu,
                                    active=d._active, multistage=d._multistage)
        deffs = self._deff(kind, deff, v, resid_ss, wsum, wsum, nobs)
        return np.where(empty, np.nan, est), v, nobs, deffs, None

    @staticmethod
    def _deff(kind, deff, v, resid_ss, wsum, den, nobs):
        if deff is False:
            return np.full(len(wsum), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = resid_ss / wsum * nobs / (nobs - 1)
            if kind == "total":
                mult = wsum**2
            else:
                mult = (wsum / den) ** 2
            if deff == "replace":
                vsrs = s2 * mult / nobs
            else:
                if np.any(wsum < nobs):
                    warnings.warn(
                        "the weights sum to less than the sample size in some domain, so the "
                        "without-replacement design effect is undefined (NaN); are the weights "
                        "scaled to the population? Use deff='replace'.",
                        SurveyWarning,
                        stacklevel=4,
                    )
                vsrs = np.where(wsum < nobs, np.nan, s2 * mult * (wsum - nobs) / (wsum * nobs))
            return np.diag(v) / vsrs


def _key_frame(keys_list, domain_keys: pd.DataFrame, by_cols: list) -> pd.DataFrame:
    d = np.array([k[0] for k in keys_list], dtype=np.int64)
    out = domain_keys.iloc[d].reset_index(drop=True) if by_cols else pd.DataFrame(index=range(len(d)))
    out["variable"] = [k[1] for k in keys_list]
    out["level"] = pd.Series([k[2] for k in keys_list], dtype=object)
    return out


def _is_numeric(s: pd.Series) -> bool:
    return not isinstance(s.dtype, pd.CategoricalDtype) and (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    )


def _check_deff(deff):
    if deff not in (True, False, "replace"):
        raise SurveyDesignError(f"deff={deff!r} must be True, False or 'replace'.")


def _finish(design, statistic, cells, kind, deff, by_cols, domain_keys, *, ci_method="wald",
            interval_factory=None, domain_df=False):
    est, v, nobs, deffs, _ = cells.compute(kind, deff)
    keys = _key_frame(cells.keys, domain_keys, by_cols)
    if domain_df:
        dfs = _cell_domain_df(design, cells)
    else:  # computed when an interval or the footer first needs it
        def dfs():
            return np.full(len(est), float(design.degf()))
    interval = interval_factory(est, v, dfs) if interval_factory else None
    return Estimate(
        statistic=statistic,
        keys=keys,
        values=est,
        vcov_matrix=v,
        n=nobs,
        deff_values=deffs,
        dfs=dfs,
        by=tuple(by_cols),
        inference=lambda: _footer(design, ci_method),
        ci_method=ci_method,
        interval=interval,
    )


def _cell_domain_df(design, cells) -> np.ndarray:
    """Each cell's domain degrees of freedom (the levels of a variable share their domain's)."""
    dfs = np.zeros(cells.k)
    D = cells.D
    for _, base, L, valid, dom, *_ in cells.groups:
        domain = dom // L if L > 1 else dom  # the domain code of every valid row
        d = design.engine.domain_df(valid, domain, D)
        touched = np.bincount(domain[valid], minlength=D) > 0
        dfs[base:base + D * L] = np.repeat(np.where(touched, d, 0.0), L)
    return dfs


def _footer(design, ci_method: str, df=None) -> str:
    df = design.degf() if df is None else df
    text = design.describe() + f"; df = {df} ({design.engine.df_rule})"
    if ci_method != "wald":
        text += f"; proportion intervals: {ci_method}"
    return text


# ----- public estimators -----------------------------------------------------------------------
def mean(design, variables, *, by=None, na_rm: bool = False, deff=True) -> Estimate:
    """Weighted means with Taylor-linearised standard errors.

    Parameters
    ----------
    design : SurveyDesign
    variables : str or list of str
        Numeric column(s).
    by : str or list of str, optional
        Domain column(s); every domain is estimated in one pass with the full design.
    na_rm : bool or "complete"
        ``True`` drops rows with a missing value of *that variable* (the design is kept, as R
        ``na.rm=TRUE``); ``"complete"`` drops rows missing on *any* of the variables, which is
        what R does for a formula with several variables.
    deff : True, False or "replace"
        Design effect vs SRS without (True, R's default) or with replacement.

    Notes
    -----
    ``ybar = sum(w y)/sum(w)``; linearised score ``w (y - ybar)/sum(w)``; variance from the
    design's engine (R ``svymean``, ``svyby(..., svymean, covmat=TRUE)``).  Intervals use t with
    the design's degrees of freedom (PSUs minus strata).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 2, 2], "y": [1.0, 3.0, 2.0, 6.0], "w": [1.0, 1, 2, 2]})
    >>> r = sl.SurveyDesign(df, strata="h", weights="w").mean("y")
    >>> round(float(r.estimate.iloc[0]), 4)   # (1 + 3 + 2*2 + 2*6) / (1 + 1 + 2 + 2)
    3.3333
    """
    _check_deff(deff)
    g, dkeys, by_cols = _domains(design, by)
    cells = _Cells(design, g, len(dkeys), by_key=("by", *by_cols))
    columns = _numeric_columns(design, variables, na_rm)
    for var, (y, ok) in columns.items():
        cells.add(ok, y, None, var)
    return _finish(design, "mean", cells, "ratio", deff, by_cols, dkeys)


def total(design, variables, *, by=None, na_rm: bool = False, deff=True) -> Estimate:
    """Estimated population totals ``sum(w y)`` (R ``svytotal``); options as :func:`mean`.

    Notes
    -----
    Scores are ``w y`` (zero outside the domain).  The design effect compares with SRS of
    ``n`` from a population of ``sum(w)`` (R ``svytotal(deff=TRUE)``).
    """
    _check_deff(deff)
    g, dkeys, by_cols = _domains(design, by)
    cells = _Cells(design, g, len(dkeys), by_key=("by", *by_cols))
    _check_na_rm(na_rm)
    variables = as_list(variables)
    check_columns(design._data, variables, role="analysis")
    numeric = [v for v in variables if _is_numeric(design._data[v])]
    columns = _numeric_columns(design, numeric, na_rm)
    for var in variables:
        if var in columns:
            y, ok = columns[var]
            cells.add(ok, y, None, var)
        else:
            codes, levels, ok = _levels(design, var, na_rm=bool(na_rm))
            cells.add(ok, None, None, var, levels=levels, level_index=codes)
    return _finish(design, "total", cells, "total", deff, by_cols, dkeys)


def ratio(design, numerator, denominator, *, by=None, na_rm: bool = False, deff=True) -> Estimate:
    """Ratio of totals ``sum(w y)/sum(w x)`` (R ``svyratio``).

    ``numerator`` and ``denominator`` are column names or equal-length lists (paired).
    With ``na_rm=True`` rows missing either variable are dropped from that ratio.
    The ``variable`` of each row is ``"num/den"``.
    """
    _check_deff(deff)
    nums, dens = as_list(numerator), as_list(denominator)
    if len(dens) == 1 and len(nums) > 1:
        dens = dens * len(nums)
    if len(nums) != len(dens):
        raise SurveyDesignError(
            f"ratio() pairs numerators with denominators: got {len(nums)} and {len(dens)}."
        )
    g, dkeys, by_cols = _domains(design, by)
    cells = _Cells(design, g, len(dkeys), by_key=("by", *by_cols))
    for a, b in zip(nums, dens, strict=True):
        check_columns(design._data, [a, b], role="analysis")
        y, oky = _variable_values(design, a, na_rm=na_rm)
        x, okx = _variable_values(design, b, na_rm=na_rm)
        cells.add(oky & okx, y, x, f"{a}/{b}")
    return _finish(design, "ratio", cells, "ratio", deff, by_cols, dkeys)


def proportion(design, variables, *, by=None, na_rm: bool = False, ci_method: str = "logit",
               deff=True) -> Estimate:
    """Shares of every level of categorical variable(s), with their covariance.

    Parameters
    ----------
    ci_method : {"logit", "xlogit", "wald", "mean", "asin", "beta", "wilson", "likelihood"}
        Interval for each share, as R ``svyciprop`` (``"logit"`` default; ``"mean"`` is an
        alias of ``"wald"``; ``"beta"`` is Korn–Graubard).  ``"wilson"`` is the Wilson score
        interval at the effective sample size ``p(1-p)/v`` with a t quantile (not in R).
        ``"likelihood"`` is R's Rao–Scott-scaled profile-likelihood interval (see Notes).
        Intervals with ``ci_method`` other than Wald use the degrees of freedom of the domain
        (R ``svyby(..., svyciprop)``), Wald intervals the design's.

    Notes
    -----
    Levels are a categorical's categories (unused levels give 0) or the sorted distinct
    values.  Each share is the mean of a level indicator (R ``svymean(~factor(x))``).

    ``ci_method="likelihood"`` follows R ``svyciprop(method="likelihood")``, i.e.
    ``confint.svyglm(method="likelihood")`` on the intercept-only quasibinomial fit: the
    intercept ``b0`` is fitted by R's IRLS (``glm.fit``, tolerance 1e-8), the profile
    ``z(b) = sign(b - b0) sqrt((D(b) - D(b0)) / phi)`` (``D`` the deviance with weights
    scaled to mean 1, ``phi`` the design-based variance of the Pearson residuals, R
    ``svyvar``) is evaluated at ``b0 +/- k del se`` for ``k = 1..9`` until ``|z| >= zmax``
    (R ``profile.glm``: ``zmax = sqrt(F_{1, n-1}(1 - alpha))``, ``del = zmax / 5``), and the
    ends solve ``z(b) = +/- t_{df} sqrt(lambda)`` with ``lambda`` the ratio of the design-based
    to the model-based variance of ``b0`` (the Rao–Scott scaling).  As R, the root is read off
    an interpolating cubic spline (``stats::spline``, "fmm", ``3 x`` the profile points) by
    linear interpolation (``approx``), so the ends equal R's to rounding rather than being
    exact roots of the profile.  For replicate designs the variance of ``b0`` is the
    replicate variance of its linearised scores (R refits the model per replicate).

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "a": list("yynnyynn"),
    ...                    "w": [1.0, 2, 1, 2, 3, 1, 1, 2]})
    >>> r = sl.SurveyDesign(df, strata="h", weights="w").proportion("a", ci_method="likelihood")
    >>> round(float(r.estimate.iloc[1]), 4)   # share of "y": (1 + 2 + 3 + 1) / 13
    0.5385
    >>> lo, hi = r.ci().iloc[1]
    >>> bool(lo < 0.5385 < hi)
    True
    """
    _check_deff(deff)
    check_option(ci_method, CI_METHODS, name="ci_method")
    g, dkeys, by_cols = _domains(design, by)
    cells = _Cells(design, g, len(dkeys), by_key=("by", *by_cols))
    for var in as_list(variables):
        check_columns(design._data, [var], role="analysis")
        codes, levels, ok = _levels(design, var, na_rm=na_rm)
        cells.add(ok, None, None, var, levels=levels, level_index=codes)
    method = "wald" if ci_method == "mean" else ci_method
    factory = None if method == "wald" else (lambda est, v, dfs: _prop_interval(method, est, v, cells))
    return _finish(design, "proportion", cells, "ratio", deff, by_cols, dkeys, ci_method=method,
                   interval_factory=factory, domain_df=method != "wald")


def _prop_interval(method, est, v, cells):
    se = np.sqrt(np.clip(np.diag(v), 0, None))
    n_rows = cells.nobs  # rows of each cell's domain with a value (R nrow(design))

    if method == "likelihood":
        return _likelihood_interval(est, cells)

    def interval(level, dfs):
        check_level(level)
        alpha = 1 - level
        q = critical_value(level, dfs)
        p = est
        with np.errstate(divide="ignore", invalid="ignore"):
            if method in ("logit", "xlogit"):
                eta = np.log(p / (1 - p))
                half = q * se / (p * (1 - p))
                return _expit(eta - half), _expit(eta + half)
            if method == "asin":
                a = np.arcsin(np.sqrt(p))
                half = q * se / (2 * np.sqrt(p * (1 - p)))
                return np.sin(a - half) ** 2, np.sin(a + half) ** 2
            if method == "beta":
                # R svyciprop(method="beta") uses the design's df and nrow(design) - 1
                n_eff = p * (1 - p) / se**2
                ratio = stats.t.ppf(alpha / 2, n_rows - 1) / stats.t.ppf(alpha / 2, dfs)
                n_eff = n_eff * ratio**2
                low = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
                high = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
                return low, high
            if method == "wilson":
                n_eff = p * (1 - p) / se**2
                z2 = q**2
                centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
                half = q / (1 + z2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2))
                return centre - half, centre + half
        raise SurveyDesignError(f"unknown ci_method {method!r}")

    return interval


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


# ----- profile-likelihood proportion intervals (R svyciprop(method="likelihood")) -------------
def _likelihood_interval(est, cells):
    """R ``svyciprop(method="likelihood")`` for every cell: fit, then an interval factory.

    Everything that does not depend on the level is computed once here: the intercept-only
    IRLS fit of R ``glm.fit`` (weights scaled to mean 1 within the domain), the deviance at the
    fit, the Pearson dispersion (R ``svyvar``), and the design-based and model-based
    variances of the intercept (R ``svy.varcoef`` and ``summary.glm``'s ``cov.unscaled``).
    """
    k = cells.k
    w = cells.w
    W, S1, n, nmiss = (np.zeros(k) for _ in range(4))
    for valid, c, y, _ in cells.blocks:
        wv = w * valid
        W += np.bincount(c, wv, minlength=k)
        S1 += np.bincount(c, wv * y, minlength=k)
        n += np.bincount(c, valid, minlength=k)
    usable = (n > 1) & (S1 > 0) & (S1 < W)
    safe_W = np.where(W > 0, W, 1.0)
    scale = np.where(W > 0, n / safe_W, 0.0)  # w~ = w / mean(w) in the domain (R rescale=TRUE)
    s1 = S1 * scale  # sum of w~ over y = 1
    s0 = n - s1  # sum of w~ over y = 0 (sum w~ = n)

    def dev(mu):  # binomial deviance of a constant mean
        with np.errstate(divide="ignore", invalid="ignore"):
            return -2.0 * (s1 * np.log(mu) + s0 * np.log1p(-mu))

    # R glm.fit, first iteration from mustart = (w~ y + 0.5) / (w~ + 1), row by row
    dev_old = np.zeros(k)
    sum_ww = np.zeros(k)
    sum_wwz = np.zeros(k)
    for valid, c, y, _ in cells.blocks:
        wt = w * scale[c] * valid
        mu0 = (wt * y + 0.5) / (wt + 1.0)
        eta0 = np.log(mu0 / (1.0 - mu0))
        mu0 = _expit(eta0)
        with np.errstate(divide="ignore", invalid="ignore"):
            dres = -2.0 * wt * np.where(y > 0, np.log(mu0), np.log1p(-mu0))
        dev_old += np.bincount(c, np.where(valid, dres, 0.0), minlength=k)
        g = _logit_mu_eta(eta0)
        ww = wt * g * g / (mu0 * (1.0 - mu0))
        z = eta0 + (y - mu0) / g
        sum_ww += np.bincount(c, np.where(valid, ww, 0.0), minlength=k)
        sum_wwz += np.bincount(c, np.where(valid, ww * z, 0.0), minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = sum_wwz / sum_ww
    mu = _expit(eta)
    d = dev(mu)
    done = ~usable | (np.abs(d - dev_old) / (np.abs(d) + 0.1) < 1e-8)
    for _ in range(24):  # R glm.control(): epsilon 1e-8, maxit 25; later steps are per cell
        if done.all():
            break
        g = _logit_mu_eta(eta)
        var = mu * (1.0 - mu)
        # with a constant mean, sum(ww z)/sum(ww) = eta + sum(w~ (y - mu)) / (n mu.eta)
        new_ww = n * g * g / var
        with np.errstate(divide="ignore", invalid="ignore"):
            new_eta = eta + (s1 - n * mu) / (n * g)
        new_mu = _expit(new_eta)
        new_d = dev(new_mu)
        step = ~done
        conv = np.abs(new_d - d) / (np.abs(new_d) + 0.1) < 1e-8
        eta = np.where(step, new_eta, eta)
        mu = np.where(step, new_mu, mu)
        sum_ww = np.where(step, new_ww, sum_ww)
        d = np.where(step, new_d, d)
        done = done | conv
    if not done.all():
        warnings.warn(
            "the intercept-only fit behind the likelihood interval did not converge in 25 IRLS "
            "iterations for some share (as R glm.fit); its interval may be unreliable.",
            SurveyWarning,
            stacklevel=5,
        )
    # design-based variance of the intercept: scores w~ (y - mu) / (n mu.eta) (R svy.varcoef)
    blocks = []
    sd1, sd2 = np.zeros(k), np.zeros(k)
    g = _logit_mu_eta(eta)
    for valid, c, y, _ in cells.blocks:
        wv = w * valid
        with np.errstate(divide="ignore", invalid="ignore"):
            blocks.append((wv * scale[c] * (y - mu[c]) / (n[c] * g[c]), c))
            # R residuals.svyglm(type="pearson"): (y - mu) / sqrt(mu (1 - mu)), the prior and
            # sampling weights cancelling, for the dispersion
            r = np.where(valid, (y - mu[c]) / np.sqrt(mu[c] * (1 - mu[c])), 0.0)
        sd1 += np.bincount(c, wv * r, minlength=k)
        sd2 += np.bincount(c, wv * r * r, minlength=k)
    v_eta = np.diag(cells.design.engine.vcov_scores(Scores(tuple(blocks), k)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # R svyvar: n/(n-1) times the weighted mean square about the weighted mean
        phi = (sd2 / safe_W - (sd1 / safe_W) ** 2) * n / (n - 1)
        lam = v_eta * sum_ww  # design variance / model variance (1 / sum of IRLS weights)
    se_eta = np.sqrt(np.clip(v_eta, 0, None))

    def interval(level, dfs):
        check_level(level)
        dfs = np.broadcast_to(np.asarray(dfs, dtype=float), (k,))
        low, high = np.full(k, np.nan), np.full(k, np.nan)
        ok = usable & (dfs > 0) & (se_eta > 0) & np.isfinite(lam)
        if (usable & ~ok).any() or (~usable & (n > 0)).any():
            warnings.warn(
                "no likelihood interval (NaN) for share(s) that are 0 or 1, or whose domain has "
                "one row, no degrees of freedom or zero variance; use ci_method='beta' there.",
                SurveyWarning,
                stacklevel=3,
            )
        if not ok.any():
            return low, high
        # R confint.svyglm: alpha = pnorm(q sqrt(lambda)) / 2, cutoffs qnorm(2 alpha)
        q_lo = np.where(np.isinf(dfs), stats.norm.ppf((1 - level) / 2),
                        stats.t.ppf((1 - level) / 2, np.where(np.isinf(dfs) | (dfs <= 0), 1.0, dfs)))
        with np.errstate(invalid="ignore", divide="ignore"):
            half_alpha = stats.norm.cdf(q_lo * np.sqrt(lam)) / 2
            cut = stats.norm.ppf(2 * half_alpha)
            # R profile.glm for quasi families: zmax = sqrt(qf(alpha, 1, n - p, lower = FALSE))
            zmax = np.sqrt(stats.f.isf(half_alpha, 1, n - 1))
        delta = zmax / 5
        steps = np.arange(1, 10)
        for j in np.flatnonzero(ok):
            zs, bs = [0.0], [eta[j]]
            for sgn in (-1.0, 1.0):
                b = eta[j] + sgn * steps * delta[j] * se_eta[j]
                pb = _expit(b)
                zz = (-2.0 * (s1[j] * np.log(pb) + s0[j] * np.log1p(-pb)) - d[j]) / phi[j]
                if (zz <= -0.001).any():
                    raise SurveyDesignError(
                        "profiling the likelihood interval found a better fit than the IRLS "
                        "estimate (R stops here too); use ci_method='logit' for this share."
                    )
                z = sgn * np.sqrt(np.maximum(zz, 0.0))
                stop = np.flatnonzero(np.abs(z) >= zmax[j])  # R: while |z| < zmax, < 10 steps
                last = stop[0] + 1 if len(stop) else len(z)
                zs.extend(z[:last])
                bs.extend(b[:last])
            zs, bs = np.asarray(zs), np.asarray(bs)
            order = np.argsort(zs, kind="stable")
            zs, bs = zs[order], bs[order]
            sx, sy = _r_spline(bs, zs)
            low[j], high[j] = _expit(_r_approx(sy, sx, np.array([cut[j], -cut[j]])))
        if np.isnan(low[ok]).any() or np.isnan(high[ok]).any():
            warnings.warn(
                "a likelihood interval end lies outside the profiled range (R gives NA there "
                "too); it is reported as NaN.",
                SurveyWarning,
                stacklevel=3,
            )
        return low, high

    return interval


def _logit_mu_eta(eta):
    """R ``binomial()$mu.eta`` (C ``logit_mu_eta``), with its thresholds."""
    eta = np.asarray(eta, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(eta)
        val = e / (1.0 + e) ** 2
    return np.where((eta > 30.0) | (eta < -30.0), np.finfo(float).eps, val)


def _r_spline(x, y):
    """R ``spline(x, y)`` with its defaults: "fmm" spline at ``3 length(x)`` equispaced points.

    ``x`` must be sorted (ties averaged as R's ``regularize.values``); returns (xout, yout).
    """
    n_out = 3 * len(x)
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):
        y = np.bincount(inv, y) / np.bincount(inv)
        x = ux
    xmin, xmax = float(x[0]), float(x[-1])
    i = np.arange(n_out, dtype=float)
    by = (xmax - xmin) / (n_out - 1)
    xout = np.where(i < n_out // 2, xmin + i * by, xmax - (n_out - 1 - i) * by)
    xout[0], xout[-1] = xmin, xmax
    b, c, dd = _fmm_coef(np.asarray(x, float), np.asarray(y, float))
    # R spline_eval: the knot interval x[i] <= u < x[i+1] (the last knot uses the last piece)
    idx = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, len(x) - 1)
    dx = xout - x[idx]
    return xout, y[idx] + dx * (b[idx] + dx * (c[idx] + dx * dd[idx]))


def _fmm_coef(x, y):
    """Forsythe–Malcolm–Moler cubic spline coefficients, as R's C ``fmm_spline``."""
    n = len(x)
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
        return b, c, d
    d[:-1] = np.diff(x)
    slopes = np.diff(y) / d[:-1]
    b[1:-1] = 2.0 * (d[:-2] + d[1:-1])
    c[1:-1] = slopes[1:] - slopes[:-1]
    b[0], b[-1] = -d[0], -d[n - 2]
    c[0] = c[-1] = 0.0
    if n > 3:
        c0 = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        cn = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c0 * d[0] * d[0] / (x[3] - x[0])
        c[-1] = -cn * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
    for i in range(1, n):  # tridiagonal elimination: a recurrence over a dozen knots
        t = d[i - 1] / b[i - 1]
        b[i] -= t * d[i - 1]
        c[i] -= t * c[i - 1]
    c[-1] /= b[-1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[-1] = (y[-1] - y[-2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[-1])
    b[:-1] = (y[1:] - y[:-1]) / d[:-1] - d[:-1] * (c[1:] + 2.0 * c[:-1])
    d[:-1] = (c[1:] - c[:-1]) / d[:-1]
    c *= 3.0
    d[-1] = d[n - 2]
    return b, c, d


def _r_approx(x, y, xout):
    """R ``approx(x, y, xout)``: linear interpolation, NaN outside the range, ties averaged."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):
        y = np.bincount(inv, y) / np.bincount(inv)
        x = ux
    out = np.interp(xout, x, y)
    return np.where((xout < x[0]) | (xout > x[-1]), np.nan, out)


# ----- quantiles -------------------------------------------------------------------------------
def _weighted_quantiles(x_sorted, w_sorted, group_sorted, n_groups, probs, qrule):
    """Quantiles within each group of data sorted by (group, x); R ``qs`` + ``qrule_*``.

    ``probs`` is a vector or an (n_groups x J) array; returns (n_groups x J).  Cumulative
    weights are summed in extended precision and rounded to double, as R's ``cumsum`` does,
    so exact hits (``cumw == p * sum(w)``) are decided as in R.
    """
    cum = np.cumsum(w_sorted.astype(np.longdouble))
    starts = np.searchsorted(group_sorted, np.arange(n_groups), side="left")
    ends = np.searchsorted(group_sorted, np.arange(n_groups), side="right")
    before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], np.longdouble(0))
    within = (cum - np.repeat(before, ends - starts)).astype(np.float64)
    totals = within[ends - 1]
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        probs = np.broadcast_to(probs, (n_groups, len(probs)))
    out = np.empty(probs.shape)
    for j in range(probs.shape[1]):  # a handful of probabilities; rows are vectorised
        target = probs[:, j] * totals  # p * sum(w), in double as in R
        # cumulative weights rise within a group, so the last position with cumw <= target
        # is start + (number of such positions) - 1; R's `last` gives the first if none
        count = np.bincount(group_sorted, weights=within <= target[group_sorted],
                            minlength=n_groups).astype(np.int64)
        pos = starts + np.maximum(count, 1) - 1
        nxt = np.minimum(pos + 1, ends - 1)
        exact = probs[:, j] - within[pos] / totals == 0
        qlow, qup = x_sorted[pos], x_sorted[nxt]
        out[:, j] = np.where(exact, qlow if qrule == "math" else (qlow + qup) / 2, qup)
    return out


def quantile(design, variables, probs=(0.5,), *, by=None, na_rm: bool = False,
             qrule: str = "math", level: float = 0.95, df=None) -> Estimate:
    """Weighted quantiles with Woodruff confidence intervals (R ``svyquantile``, survey 4.x).

    Parameters
    ----------
    probs : sequence of float
        Quantile probabilities in (0, 1).
    qrule : {"math", "school"}
        ``"math"`` (R's default): the smallest x with cumulative weight share >= p (the
        inverse of the weighted CDF); ``"school"`` averages the two order statistics at an
        exact hit.

    Notes
    -----
    The interval inverts a Wald interval for the CDF at the estimate (Woodruff 1952; R
    ``interval.type="mean"``, the default of survey 4.1): ``p_hat = mean(x <= q)`` with its
    design-based SE, ``[p_hat -/+ t se]`` mapped back through the same quantile rule.  The
    reported SE is the interval's length over ``2 t`` (R's convention).  With ``by=``, each
    domain uses its own degrees of freedom, as R ``svyby(..., svyquantile)``; ``df=`` overrides
    them for every cell (R's ``df`` argument), ``df=float("inf")`` gives normal quantiles.
    """
    check_option(qrule, QRULES, name="qrule")
    check_level(level)
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    if ((probs <= 0) | (probs >= 1)).any():
        raise SurveyDesignError(f"probs={probs.tolist()} must lie strictly between 0 and 1.")
    g, dkeys, by_cols = _domains(design, by)
    D, P = len(dkeys), len(probs)
    w_all = design._estimation_weights()
    ind_cells = _Cells(design, g, D, by_key=("by", *by_cols))
    per_var = []  # (name, sorted x, sorted w, sorted domain, quantiles D x P)
    for var, (y, ok) in _numeric_columns(design, variables, na_rm).items():
        valid = ok & (g >= 0) & (w_all != 0)
        order = np.lexsort((y, np.where(valid, g, D)))  # stable: by domain, then x (R `order`)
        order = order[valid[order]]
        gs, xs, ws = g[order], y[order], w_all[order]
        if np.any(np.bincount(gs, minlength=D) == 0):
            raise SurveyDesignError(f"variable {var!r} has no values in some domain of {by_cols}.")
        q = _weighted_quantiles(xs, ws, gs, D, probs, qrule)
        per_var.append((var, xs, ws, gs, q))
        for j, p in enumerate(probs):  # Woodruff: the share at or below each quantile
            ind = (y <= q[np.where(valid, g, 0), j]).astype(float)
            ind_cells.add(valid, ind, None, var, levels=(float(p),))
    phat, v, nobs, _, _ = ind_cells.compute("ratio", False)
    se_p = np.sqrt(np.clip(np.diag(v), 0, None))
    V = len(per_var)
    # ind_cells are ordered (variable, prob, domain); results are (domain, variable, prob)
    d_i, v_i, p_i = (a.ravel() for a in np.indices((D, V, P)))
    idx = (v_i * P + p_i) * D + d_i
    qhat = np.array([per_var[vi][4][d, j] for d, vi, j in zip(d_i, v_i, p_i, strict=True)])
    dfs = _cell_domain_df(design, ind_cells)[idx] if df is None else np.full(len(idx), float(df))

    def bounds(lvl, dfs_use):
        """Woodruff interval: the CDF interval mapped back through the quantile rule."""
        half = critical_value(lvl, dfs_use) * se_p[idx]
        p_low, p_up = phat[idx] - half, phat[idx] + half
        low, high = np.empty(len(idx)), np.empty(len(idx))
        for vi, (_, xs, ws, gs, _) in enumerate(per_var):
            sel = v_i == vi
            grid = np.zeros((D, P, 2))
            grid[d_i[sel], p_i[sel], 0] = p_low[sel]
            grid[d_i[sel], p_i[sel], 1] = p_up[sel]
            inside = (grid >= 0) & (grid <= 1)
            qs = _weighted_quantiles(xs, ws, gs, D, np.clip(grid, 0, 1).reshape(D, 2 * P), qrule)
            qs = np.where(inside.reshape(D, 2 * P), qs, np.nan).reshape(D, P, 2)
            low[sel] = qs[d_i[sel], p_i[sel], 0]
            high[sel] = qs[d_i[sel], p_i[sel], 1]
        return low, high

    low, high = bounds(level, dfs)
    se = (high - low) / (2 * critical_value(level, dfs))
    if np.isnan(se).any():
        warnings.warn(
            "a Woodruff interval ran past the range of the data for some quantile (R gives NaN "
            "there too); its interval end and SE are reported as NaN.",
            SurveyWarning,
            stacklevel=3,
        )
    names = [per_var[vi][0] for vi in v_i]
    keys = list(zip(d_i.tolist(), names, [float(probs[j]) for j in p_i], strict=True))
    return Estimate(
        statistic="quantile",
        keys=_key_frame(keys, dkeys, by_cols),
        values=qhat,
        vcov_matrix=np.diag(se**2),
        n=nobs[idx],
        deff_values=np.full(len(qhat), np.nan),
        dfs=dfs,
        by=tuple(by_cols),
        inference=_footer(design, "wald") + f"; Woodruff intervals, qrule={qrule!r}",
        interval=bounds,
    )
