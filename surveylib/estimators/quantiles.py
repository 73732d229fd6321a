"""Quantiles (R ``svyquantile``): Woodruff intervals on any design, and replicate quantiles.

The quantile rules are R's ``qrule_*`` (``math``, ``school`` and Hyndman & Fan's ``hf1`` to
``hf9``); the Woodruff interval's CDF share and its SE are ordinary cells (:mod:`._cells`), so
it uses the design's engine like every other estimator.  The interval for the CDF share can be
R's Wald (``mean``), logit (``xlogit``), arcsine (``asin``) or beta (``beta``) interval.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import check_level, check_option
from ..errors import SurveyDesignError, SurveyWarning
from ..results import Estimate, critical_value
from ._cells import (
    Cells,
    cell_domain_df,
    domains,
    footer,
    key_frame,
    key_index,
    labels_memo,
    numeric_columns,
)
from ._fuller import score_interval
from ._qrules import STEP, rule_quantiles, weighted_quantiles
from ._select import distribution

#: how far outside [0, 1] a Woodruff CDF limit may fall by rounding alone
SHARE_TOL = 1e-12
QRULES = ("math", "school", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9")
REPLICATE_QRULES = ("math", "school", "hf1", "hf2")
INTERVAL_TYPES = ("mean", "beta", "xlogit", "asin", "score", "quantile")


def _check_probs(probs) -> np.ndarray:
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    if ((probs <= 0) | (probs >= 1)).any():
        raise SurveyDesignError(f"probs={probs.tolist()} must lie strictly between 0 and 1.",
                                parameter="probs", value=probs.tolist(), expected="(0, 1)")
    return probs


def share_interval(method, phat, se, lvl, dfs, n, ddf):
    """R ``woodruffCI``'s interval for the CDF share ``phat``: Wald on the share (``mean``),
    on its logit (``xlogit``) or arcsine square root (``asin``), or a beta interval with
    effective sample size ``phat (1 - phat) / se^2`` scaled by ``(t_{n-1} / t_df)^2``
    (``beta``, with ``n`` rows and ``ddf`` the design df of the domain)."""
    from scipy import stats  # imported on first use: `import surveylib` stays quick
    q = critical_value(lvl, dfs)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "xlogit":
            e, s = np.log(phat / (1 - phat)), se / (phat * (1 - phat))
            return 1 / (1 + np.exp(-(e - q * s))), 1 / (1 + np.exp(-(e + q * s)))
        if method == "asin":
            a, s = np.arcsin(np.sqrt(phat)), se / (2 * np.sqrt(phat * (1 - phat)))
            return np.sin(a - q * s) ** 2, np.sin(a + q * s) ** 2
        if method == "beta":
            alpha = 1 - lvl
            neff = phat * (1 - phat) / se**2 * (stats.t.ppf(alpha / 2, n - 1)
                                                / stats.t.ppf(alpha / 2, ddf)) ** 2
            return (stats.beta.ppf(alpha / 2, neff * phat, neff * (1 - phat) + 1),
                    stats.beta.ppf(1 - alpha / 2, neff * phat + 1, neff * (1 - phat)))
    return phat - q * se, phat + q * se


def quantile(design, variables, probs=(0.5,), *, by=None, na_rm: bool = False,
             qrule: str = "math", level: float = 0.95, df=None,
             interval_type: str = "mean") -> Estimate:
    """Weighted quantiles with Woodruff confidence intervals (R ``svyquantile``, survey 4.x).

    Parameters
    ----------
    interval_type : {"mean", "beta", "xlogit", "asin", "quantile"}
        ``"mean"`` (R's default): the Woodruff interval below, on any design; ``"xlogit"``,
        ``"asin"`` and ``"beta"`` replace its Wald interval for the CDF share by R's logit,
        arcsine-square-root or beta interval (``woodruffCI(method=)``); ``"score"`` is R's
        score-test ("Fuller") interval (``ffullerCI``; its ends found by R's root finder,
        :mod:`surveylib.estimators._fuller`).
        ``"quantile"`` (replicate designs only): the quantile is recomputed with every
        replicate's weights and ``se`` is their replicate standard deviation, the interval
        ``q +/- t se`` (R ``interval.type="quantile"``); jackknife replicates do not give
        valid SEs for quantiles (a warning, as R).
    probs : sequence of float
        Quantile probabilities in (0, 1).
    qrule : {"math", "school", "hf1", ..., "hf9"}
        ``"math"`` (R's default, = ``"hf1"``): the smallest x with cumulative weight share
        >= p (the inverse of the weighted CDF); ``"school"`` (= ``"hf2"``) averages the two
        order statistics at an exact hit; ``"hf3"``–``"hf9"`` are R's weighted versions of
        Hyndman & Fan's (1996) types 3–9 (``survey:::qrule_hf3`` ...; ``hf7`` divides by the
        second-to-last cumulative weight, as R).  Replicate quantiles
        (``interval_type="quantile"``) take the step rules ``math``/``school``/``hf1``/``hf2``.

    Notes
    -----
    The interval inverts a Wald interval for the CDF at the estimate (Woodruff 1952; R
    ``interval.type="mean"``, the default of survey 4.1): ``p_hat = mean(x <= q)`` with its
    design-based SE, ``[p_hat -/+ t se]`` mapped back through the same quantile rule.  The
    reported SE is the interval's length over ``2 t`` (R's convention).  With ``by=``, each
    domain uses its own degrees of freedom, as R ``svyby(..., svyquantile)``; ``df=`` overrides
    them for every cell (R's ``df`` argument), ``df=float("inf")`` gives normal quantiles.

    Under a step rule a domain of 50,000 rows or more is not sorted whole: the rows near
    each target are (:mod:`._select`), and every decision is certified to be the one R's
    cumulative sums make, or the domain is sorted whole after all (the numbers are the same
    either way).
    """
    check_option(interval_type, INTERVAL_TYPES, name="interval_type")
    if interval_type == "quantile":
        return _replicate_quantile(design, variables, probs, by=by, na_rm=na_rm, qrule=qrule,
                                   level=level, df=df)
    check_option(qrule, QRULES, name="qrule")
    check_level(level)
    probs = _check_probs(probs)
    g, dkeys, by_cols = domains(design, by)
    D, P = len(dkeys), len(probs)
    w_all = design.estimation_weights
    method = interval_type
    ind_cells = Cells(design, g, D, by_key=("by", *by_cols))
    per_var = []  # (name, distribution, quantiles D x P, valid rows, values)
    for var, (y, ok) in numeric_columns(design, variables, na_rm).items():
        valid = ok & (g >= 0) & (w_all != 0)
        dist = distribution(var, y, w_all, g, valid, D, qrule, by_cols)
        q = dist.quantiles(probs, qrule)
        per_var.append((var, dist, q, valid, y))
        for j, p in enumerate(probs):  # Woodruff: the share at or below each quantile
            at = q[0, j] if D == 1 else q[np.where(valid, g, 0), j]
            ind = (y <= at).astype(float)
            ind_cells.add(valid, ind, None, var, levels=(float(p),))
    phat, v, nobs, _ = ind_cells.compute("ratio", False)
    se_p = np.sqrt(np.clip(np.diag(v), 0, None))
    V = len(per_var)
    # ind_cells are ordered (variable, prob, domain); results are (domain, variable, prob)
    d_i, v_i, p_i = (a.ravel() for a in np.indices((D, V, P)))
    idx = (v_i * P + p_i) * D + d_i
    qhat = np.array([per_var[vi][2][d, j] for d, vi, j in zip(d_i, v_i, p_i, strict=True)])
    dom_df = cell_domain_df(design, ind_cells)[idx]
    dfs = dom_df if df is None else np.full(len(idx), float(df))

    def bounds(lvl, dfs_use):
        """Woodruff interval: the CDF interval mapped back through the quantile rule."""
        p_low, p_up = share_interval(method, phat[idx], se_p[idx], lvl, dfs_use, nobs[idx],
                                      dom_df)
        low, high = np.empty(len(idx)), np.empty(len(idx))
        if method == "score":
            return _score_bounds(lvl, dfs_use)
        for vi, (_, dist, *_) in enumerate(per_var):
            sel = v_i == vi
            grid = np.zeros((D, P, 2))
            grid[d_i[sel], p_i[sel], 0] = p_low[sel]
            grid[d_i[sel], p_i[sel], 1] = p_up[sel]
            # a share of exactly 0 or 1 can come out a rounding error outside [0, 1] (its
            # SE is 0 up to rounding): such ends are the extreme values, as in R
            inside = (grid >= -SHARE_TOL) & (grid <= 1 + SHARE_TOL)
            qs = dist.quantiles(np.clip(grid, 0, 1).reshape(D, 2 * P), qrule)
            qs = np.where(inside.reshape(D, 2 * P), qs, np.nan).reshape(D, P, 2)
            low[sel] = qs[d_i[sel], p_i[sel], 0]
            high[sel] = qs[d_i[sel], p_i[sel], 1]
        return low, high

    def _score_bounds(lvl, dfs_use):
        low, high = np.empty(len(idx)), np.empty(len(idx))
        for k, (d, vi, j) in enumerate(zip(d_i, v_i, p_i, strict=True)):
            var, dist, _, valid, y = per_var[vi]
            rows = valid & (g == d)
            xd, wd = dist.group(d)

            def at(share, xd=xd, wd=wd):
                return rule_quantiles(xd, wd, np.zeros(len(xd), dtype=np.int64), 1, [share],
                                      qrule)[0, 0]

            low[k], high[k] = score_interval(design.subset(rows), var, y[rows], float(probs[j]),
                                             lvl, float(dfs_use[k]), at)
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
        keys=lambda: key_frame(keys, dkeys, by_cols),  # type: ignore[arg-type]  # a callable: Estimate builds it on first read
        cell_index=lambda: key_index(keys, dkeys, by_cols, memo=labels_memo(design)),  # type: ignore[arg-type]  # likewise
        values=qhat,
        vcov_matrix=np.diag(se**2),
        n=nobs[idx],
        deff_values=np.full(len(qhat), np.nan),
        dfs=dfs,
        by=tuple(by_cols),
        inference=footer(design, "wald") + f"; Woodruff intervals ({method}), qrule={qrule!r}",
        interval=bounds,
    )



# ----- replicate quantiles (interval_type="quantile") -------------------------------------------
def _rep_quantile_one(xs, wmat, p, qrule):
    """Quantile of sorted ``xs`` under every column of weights ``wmat`` (m x R), R ``qs``."""
    m, r = wmat.shape
    cum = np.cumsum(wmat.astype(np.longdouble), axis=0).astype(np.float64)
    tot = cum[-1]
    target = p * tot
    pos_any = (cum <= target[None, :]).sum(axis=0) - 1  # last row with cum <= target
    idx = np.arange(m)[:, None]
    nz = wmat != 0
    last_nz = np.maximum.accumulate(np.where(nz, idx, -1), axis=0)
    next_nz = np.flip(np.minimum.accumulate(np.flip(np.where(nz, idx, m), axis=0), axis=0), axis=0)
    first_nz = next_nz[0]
    cols = np.arange(r)
    pos = np.where(pos_any >= 0, last_nz[np.maximum(pos_any, 0), cols], -1)
    pos = np.where(pos < 0, first_nz, pos)  # R's `last` with no hit: the first observation
    after = np.where(pos + 1 < m, next_nz[np.minimum(pos + 1, m - 1), cols], m)
    nxt = np.where(after >= m, pos, after)
    exact = p - cum[pos, cols] / tot == 0
    qlow, qup = xs[pos], xs[nxt]
    return np.where(exact, qlow if qrule == "math" else (qlow + qup) / 2, qup)


def _replicate_quantile(design, variables, probs, *, by, na_rm, qrule, level, df):
    """Quantiles recomputed under every replicate (R ``interval.type="quantile"``)."""
    check_option(qrule, REPLICATE_QRULES, name="qrule")
    qrule = STEP[qrule]
    check_level(level)
    probs = _check_probs(probs)
    engine = design.engine
    if engine.kind != "replicate":
        raise SurveyDesignError(
            "interval_type='quantile' recomputes the quantile under each replicate weight, so "
            "it needs a replicate design; use d.to_replicates(...) or interval_type='mean'.",
            parameter="interval_type", value="quantile", expected=["mean"],
            hint="d.to_replicates('bootstrap')")
    if engine.type in ("JK1", "JKn"):
        warnings.warn("jackknife replicate weights may not give valid standard errors for "
                      "quantiles (R warns too); consider interval_type='mean'.",
                      SurveyWarning, stacklevel=3)
    g, dkeys, by_cols = domains(design, by)
    D, P = len(dkeys), len(probs)
    w_all = design.estimation_weights
    n_rep = engine.n_replicates
    keys, values, ses, nobs, dfs = [], [], [], [], []
    chunk = max(1, int(2e7 // max(1, len(w_all))))
    for var, (y, ok) in numeric_columns(design, variables, na_rm).items():
        valid = ok & (g >= 0) & (w_all > 0)
        for d in range(D):
            rows = np.flatnonzero(valid & (g == d))
            if len(rows) == 0:
                raise SurveyDesignError(f"variable {var!r} has no values in some domain of {by_cols}.")
            rows = rows[np.argsort(y[rows], kind="stable")]
            xs = y[rows]
            q_full = weighted_quantiles(xs, w_all[rows], np.zeros(len(rows), dtype=np.int64),
                                              1, probs, qrule)[0]
            thetas = np.empty((n_rep, P))
            for start in range(0, n_rep, chunk):  # chunks of replicates bound memory
                stop = min(start + chunk, n_rep)
                wm = engine.replicate_weight_block(rows, start, stop)
                for j, p in enumerate(probs):
                    thetas[start:stop, j] = _rep_quantile_one(xs, wm, p, qrule)
            v = engine.vcov_replicates(thetas, q_full)
            mask = np.zeros(len(valid), dtype=bool)
            mask[rows] = True
            cell_df = engine.rows_df(mask) if df is None else float(df)
            for j, p in enumerate(probs):
                keys.append((d, var, float(p)))
                values.append(q_full[j])
                ses.append(np.sqrt(max(v[j, j], 0.0)))
                nobs.append(len(rows))
                dfs.append(cell_df)
    values, ses, dfs = np.array(values), np.array(ses), np.array(dfs, dtype=float)
    order = np.argsort([k[0] for k in keys], kind="stable")  # (domain, variable, prob)
    keys = [keys[i] for i in order]
    values, ses, dfs = values[order], ses[order], dfs[order]
    nobs = np.array(nobs, dtype=float)[order]

    def bounds(lvl, dfs_use):
        half = critical_value(lvl, dfs_use) * ses
        return values - half, values + half

    return Estimate(
        statistic="quantile",
        keys=lambda: key_frame(keys, dkeys, by_cols),  # a callable: Estimate builds it on first read
        cell_index=lambda: key_index(keys, dkeys, by_cols, memo=labels_memo(design)),  # likewise
        values=values,
        vcov_matrix=np.diag(ses**2),
        n=nobs,
        deff_values=np.full(len(values), np.nan),
        dfs=dfs,
        by=tuple(by_cols),
        inference=footer(design, "wald") + f"; replicate quantiles, qrule={qrule!r}",
        interval=bounds,
    )
