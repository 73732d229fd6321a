"""Quantiles with Woodruff intervals over an engine (R ``svyquantile``, ``interval.type=
"mean"``/``"beta"``/``"xlogit"``/``"asin"``, ``qrule="math"``/``"school"``/``"hf1"``–``"hf3"``).

**Two scans.**  (1) The weighted distribution over the distinct values by domain, fetched
whole (:mod:`._distribution`: one ``GROUP BY domain, value``, which also counts the missing
values and gives the domains) when it has at most ``MAX_DISTINCT`` rows; the quantiles and
the interval ends are read from it locally.  (2) The share at or below each quantile with its
per-unit sums (the Woodruff SE).  With more distinct values, the window query below finds the
values around each target in the engine (two more scans for the interval ends and the
missing-value count).

**The rule** is R's ``qrule_math`` / ``qrule_school`` read on distinct values, which is the
same quantile as on rows: with ``k`` the number of distinct values with
``F <= p * total``,

* ``k >= 1``: the ``k``-th value ``v`` if ``F(v) = p * total`` exactly (``"school"``: the
  mean of ``v`` and the next value), else the next value;
* ``k = 0`` (``p * total`` below the first value's weight): the first value if it has more
  than one row, else the second (R's ``last()`` of an empty set is the first row, and the
  rule then takes the following row).

``"hf3"`` is R's ``qrule_hf3``, defined on the distinct values: the ``k``-th value at an
exact hit with ``k`` even, else the next.  ``"hf4"``–``"hf9"`` interpolate between the rows
next to the quantile (their order among ties is the data's row order) and are not pushed
down, nor are the ``"score"`` and ``"quantile"`` intervals (a ``NotPushedDownError`` naming
``d.in_memory``).

**The window query** (many distinct values).  One query groups the rows in the design by
(domain, distinct value ``x``) and sums their weights; window functions give, per domain, the
cumulative weight ``F(x) = sum_{x' <= x} w`` (``SUM(w) OVER (PARTITION BY domain ORDER BY
x)``), the total and the next distinct value.  Only the rows where ``F(x) <= p * total <
F(next)`` (and the first two of each domain) come back.  Cumulative weights are summed exactly, as ``DECIMAL(38, 18)`` (each weight rounded to 18
decimal places), and rounded once to double, as R rounds its extended-precision ``cumsum``:
so an exact hit ``F(v) = p * total`` (equal weights, an even count at the median) is decided
as in R, where a double-precision running sum would miss it by a few ulps.  Weight totals
must stay below 10^20.

**The interval** (Woodruff 1952): ``p_hat``, the share of the domain at or below the
quantile, is a pushed-down share (:func:`.estimate.coded_shares`: the level
``CASE WHEN x <= q_domain THEN 1 ELSE 0 END``) with the design's variance engine (Taylor,
weighting residuals, or replicates) and each domain's degrees of freedom; the interval
``p_hat -/+ t se`` (or R's beta, logit or arcsine interval of the share) is mapped back
through the same rule, and ``se`` is the interval's length over ``2 t``, as R.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import as_list, check_level, check_option
from ..errors import SurveyDesignError, SurveyWarning
from ..estimators._cells import footer, key_frame
from ..estimators.quantiles import share_interval
from ..results import Estimate, critical_value
from . import _distribution
from ._distribution import fetch_distribution, weighted_rows
from ._histogram import SAMPLE, Histogram, sample_range
from .errors import NotPushedDownError
from .estimate import check_numeric, coded_shares, missing_error
from .queries import conjunction, num, present
from .tables import literal

#: how far outside [0, 1] a Woodruff CDF limit may fall by rounding alone (as in memory)
SHARE_TOL = 1e-12
QRULES = ("math", "school", "hf1", "hf2", "hf3")
#: rules that interpolate between rows (their order among ties is the data's): not pushed down
ROW_QRULES = ("hf4", "hf5", "hf6", "hf7", "hf8", "hf9")
INTERVAL_TYPES = ("mean", "beta", "xlogit", "asin")
#: decimal places of the weights in the exact cumulative sums (DECIMAL(38, 18))
DECIMALS = 18


def _domain_value(q, by, dkeys, values) -> str:
    """SQL: ``values[d]`` for the rows of domain ``d`` (one value without domains)."""
    if not by:
        return repr(float(values[0]))
    whens = " ".join(
        f"WHEN {conjunction(f'{q(c)} = {literal(v)}' for c, v in zip(by, row, strict=True))} "
        f"THEN {float(values[d])!r}" for d, row in enumerate(dkeys.itertuples(index=False)))
    return f"(CASE {whens} END)"


def _cdf_rows(design, var, by, dkeys, targets):
    """The rows of the weighted CDF of ``var`` around each target share: ``targets`` is
    D x J; returns a frame with the domain code ``dom`` and ``x, n, cum, tot, nx, rk``."""
    src, q = design.source, design.source.quote
    keys = [q(c) for c in by]
    part = f"PARTITION BY {', '.join(keys)} " if keys else ""
    xv = num(q, var)
    where = conjunction([design.where, present(q, var)] + [f"{k} IS NOT NULL" for k in keys])
    sel = ", ".join(keys + [f"{xv} AS x"])
    group = ", ".join(keys + [xv])
    conds = ["rk <= 2"]
    for j in range(targets.shape[1]):
        t = f"{_domain_value(q, by, dkeys, targets[:, j])} * tot"
        conds.append(f"(cum <= {t} AND (ncum IS NULL OR ncum > {t}))")
    kcols = "".join(f"{k}, " for k in keys)
    rows, weight = weighted_rows(design, where)
    dec = f"CAST({weight} AS DECIMAL(38, {DECIMALS}))"
    sql = (f"WITH g AS (SELECT {sel}, SUM({dec}) AS w, COUNT(*) AS n "
           f"FROM {rows} GROUP BY {group}), "
           f"c AS (SELECT {kcols}x, n, SUM(w) OVER ({part}ORDER BY x ROWS BETWEEN UNBOUNDED "
           f"PRECEDING AND CURRENT ROW) AS cumdec, SUM(w) OVER ({part.strip()}) AS totdec, "
           f"ROW_NUMBER() OVER ({part}ORDER BY x) AS rk FROM g), "
           f"d AS (SELECT {kcols}x, n, CAST(cumdec AS DOUBLE) AS cum, CAST(totdec AS DOUBLE) "
           f"AS tot, rk, LEAD(x) OVER ({part}ORDER BY x) AS nx, CAST(LEAD(cumdec) OVER "
           f"({part}ORDER BY x) AS DOUBLE) AS ncum FROM c) "
           f"SELECT {kcols}x, n, cum, tot, rk, nx FROM d WHERE {' OR '.join(conds)}")
    rows = src.fetch(sql)
    if by:
        idx = pd.MultiIndex.from_frame(dkeys).get_indexer(pd.MultiIndex.from_frame(rows[by]))
        rows = rows.assign(dom=idx)
    else:
        rows = rows.assign(dom=0)
    return rows


def _rule(rows, targets, qrule):
    """R's step rule on distinct values (see the module docstring): D x J quantiles."""
    D, J = targets.shape
    out = np.full((D, J), np.nan)
    for d, f in rows.groupby("dom", sort=False):
        f = f.sort_values("rk")
        x, n = f["x"].to_numpy(float), f["n"].to_numpy(float)
        cum, tot = f["cum"].to_numpy(float), float(f["tot"].iloc[0])
        nx, rk = f["nx"].to_numpy(float), f["rk"].to_numpy(np.int64)
        for j in range(J):
            p = targets[d, j]
            hit = np.flatnonzero(cum <= p * tot)
            if not len(hit):  # k = 0
                second = nx[0] if not np.isnan(nx[0]) else x[0]
                out[d, j] = x[0] if n[0] > 1 and qrule != "hf3" else second
                continue
            i = hit[np.argmax(cum[hit])]
            upper = nx[i] if not np.isnan(nx[i]) else x[i]
            if qrule == "hf3":  # R qrule_hf3: the k-th value at an exact hit with k even
                out[d, j] = x[i] if p - cum[i] / tot == 0 and rk[i] % 2 == 0 else upper
            elif p - cum[i] / tot == 0:
                out[d, j] = x[i] if qrule == "math" else (x[i] + upper) / 2
            else:
                out[d, j] = upper
    return out


def _window_quantiles(design, var, by, dkeys, qrule):
    """A locator over the window query (many distinct values): targets -> quantiles."""
    def locate(targets):
        return _rule(_cdf_rows(design, var, by, dkeys, targets), targets, qrule)
    return locate


def _binned(binned, window):
    """The histogram's locator, or the window query's where its bins hold too many values."""
    def locate(targets):
        out = binned(targets)
        return window(targets) if out is None else out
    return locate


def _domains(design, by):
    """The sorted distinct ``by`` values among the rows in the design (R ``svyby``)."""
    if not by:
        return pd.DataFrame(index=[0])
    src, q = design.source, design.source.quote
    where = conjunction([design.where] + [f"{q(c)} IS NOT NULL" for c in by])
    dkeys = src.fetch(f"SELECT DISTINCT {', '.join(q(c) for c in by)} FROM {src.table} "
                      f"WHERE {where}")
    return dkeys.sort_values(by, kind="stable").reset_index(drop=True)


def _missing(design, var, by):
    src, q = design.source, design.source.quote
    where = conjunction([design.where] + [f"{q(c)} IS NOT NULL" for c in by])
    miss = src.fetch(f"SELECT SUM(CASE WHEN {present(q, var)} THEN 0 ELSE 1 END) AS m "
                     f"FROM {src.table} WHERE {where}").iloc[0]
    if int(miss["m"] or 0):
        missing_error(var, int(miss["m"]), "quantiles over respondents with a value")


def _shares_at(design, var, by, dkeys, qhat, probs, *, complete):
    """The share of each domain at or below each of its quantiles, with its SE, rows and
    domain df: one query for every probability.  The level of a row is the number of
    quantiles at or above its value, ``L = sum_j [x <= q_j]``; the quantiles rise with ``p``,
    so ``x <= q_(m)`` (the m-th smallest ``p``, from 0) is ``L >= P - m``: the share is a sum of
    the level shares, its variance ``a' V a`` over the domain's block of their covariance (or
    that of the complement, whichever share is smaller).
    """
    q = design.source.quote
    P = len(probs)
    xv = num(q, var)
    level_sql = " + ".join(
        f"(CASE WHEN {xv} <= {_domain_value(q, by, dkeys, qhat[:, j])} THEN 1 ELSE 0 END)"
        for j in range(P))
    if not complete:  # rows without a value leave the share (the design is kept)
        level_sql = f"(CASE WHEN {present(q, var)} THEN {level_sql} END)"
    est, v, nobs, dfs, skeys = coded_shares(design, var, f"({level_sql})", P + 1, by=by)
    if by:  # the share query's domains are those with rows: align them
        pos = pd.MultiIndex.from_frame(skeys).get_indexer(pd.MultiIndex.from_frame(dkeys))
    else:
        pos = np.zeros(1, dtype=np.int64)
    rank = np.empty(P, dtype=np.int64)
    rank[np.argsort(probs, kind="stable")] = np.arange(P)
    out = []
    for j in range(P):
        a = (np.arange(P + 1) >= P - rank[j]).astype(float)  # the levels at or below q_j
        cells = pos[:, None] * (P + 1) + np.arange(P + 1)[None, :]  # D x (P + 1)
        share = est[cells] @ a
        # a' V a equals b' V b for the complement b = 1 - a (the level shares sum to 1):
        # take the side with the smaller share, so that a share of 1 (no rows above q_j)
        # has variance 0 exactly, not the rounding left of cancelling covariances
        side = np.where((share > 0.5)[:, None], 1.0 - a[None, :], a[None, :])
        var_j = np.einsum("dl,dlm,dm->d", side, v[cells[:, :, None], cells[:, None, :]], side)
        first = cells[:, 0]
        out.append((share, np.sqrt(np.clip(var_j, 0, None)), nobs[first], dfs[first]))
    return out


def _check_options(design, qrule, interval_type):
    """Say which options need the rows (``NotPushedDownError`` naming ``in_memory``)."""
    if interval_type not in INTERVAL_TYPES:
        why = {"score": "the score-test interval refits the share at many candidate values",
               "quantile": "replicate quantiles need every replicate's distribution function"}
        if interval_type in why:
            raise NotPushedDownError(
                f"interval_type={interval_type!r} is not pushed down ({why[interval_type]}); "
                "use interval_type='mean' (R's default), 'beta', 'xlogit' or 'asin', or collect "
                "the rows with d.in_memory(columns) and use SurveyDesign.quantile.",
                parameter="interval_type", value=interval_type, expected=list(INTERVAL_TYPES),
                hint="d.in_memory([...])")
        check_option(interval_type, INTERVAL_TYPES, name="interval_type")
    if qrule in ROW_QRULES:
        raise NotPushedDownError(
            f"qrule={qrule!r} is not pushed down: it interpolates between the rows next to "
            "the quantile, whose order among tied values is the data's row order; use "
            f"one of {list(QRULES)}, or collect the rows with d.in_memory(columns) and use "
            "SurveyDesign.quantile.", parameter="qrule", value=qrule, expected=list(QRULES),
            hint="d.in_memory([...])")
    check_option(qrule, QRULES, name="qrule")


def quantile(design, variables, probs=(0.5,), *, by=None, na_rm=False, qrule="math",
             level=0.95, df=None, interval_type="mean") -> Estimate:
    """Weighted quantiles with Woodruff intervals pushed down (see
    :func:`surveylib.estimators.quantile`; ``qrule`` ``"math"``/``"school"``/``"hf1"``–
    ``"hf3"``, ``interval_type`` ``"mean"``/``"beta"``/``"xlogit"``/``"asin"``)."""
    _check_options(design, qrule, interval_type)
    qrule = {"hf1": "math", "hf2": "school"}.get(qrule, qrule)
    check_level(level)
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    if ((probs <= 0) | (probs >= 1)).any():
        raise SurveyDesignError(f"probs={probs.tolist()} must lie strictly between 0 and 1.",
                                parameter="probs", value=probs.tolist(), expected="(0, 1)")
    variables, by = as_list(variables), as_list(by)
    check_numeric(design, variables)
    design.check_columns(by, role="by")
    dkeys: pd.DataFrame | None = None
    locators, complete = [], []
    for var in variables:  # one GROUP BY (domain, value) each: the distribution, missing
        dist, sample = None, None
        if design.n_rows > _distribution.MAX_DISTINCT:  # are there few distinct values?
            sample = sample_range(design, var, by)
        if sample is None or sample[1] < SAMPLE or sample[0] <= SAMPLE // 4:
            dist, dkeys = fetch_distribution(design, var, by, dkeys, na_rm=na_rm)
        if dist is not None:
            locators.append(lambda targets, dist=dist: dist.quantiles(targets, qrule))
            complete.append(dist.n_missing == 0)
        elif qrule != "hf3":  # many distinct values: a histogram, then the values of its bins
            _, _, lo, hi = sample_range(design, var, by) if sample is None else sample
            hist = Histogram(design, var, by, dkeys, na_rm=na_rm, lo=lo, hi=hi)
            dkeys = hist.dkeys
            locators.append(_binned(hist.locator(qrule),
                                    _window_quantiles(design, var, by, dkeys, qrule)))
            complete.append(hist.n_missing == 0)
        else:  # hf3 needs the rank of each value: the window query
            dkeys = _domains(design, by) if dkeys is None else dkeys
            if not na_rm:
                _missing(design, var, by)
            locators.append(_window_quantiles(design, var, by, dkeys, qrule))
            complete.append(not na_rm)
    dkeys = _domains(design, by) if dkeys is None else dkeys  # (variables are never empty)
    D, P = len(dkeys), len(probs)
    per_var = []
    for var, locate, full in zip(variables, locators, complete, strict=True):
        qhat = locate(np.tile(probs, (D, 1)))
        shares = _shares_at(design, var, by, dkeys, qhat, probs, complete=full)
        per_var.append((var, qhat, shares))
    d_i, v_i, p_i = (a.ravel() for a in np.indices((D, len(variables), P)))
    pick = [per_var[vi][2][j] for vi, j in zip(v_i, p_i, strict=True)]
    phat = np.array([s[0][d] for s, d in zip(pick, d_i, strict=True)])
    se_p = np.array([s[1][d] for s, d in zip(pick, d_i, strict=True)])
    nobs = np.array([s[2][d] for s, d in zip(pick, d_i, strict=True)])
    dom_df = np.array([s[3][d] for s, d in zip(pick, d_i, strict=True)])
    qhat = np.array([per_var[vi][1][d, j] for d, vi, j in zip(d_i, v_i, p_i, strict=True)])
    dfs = dom_df if df is None else np.full(len(qhat), float(df))

    def bounds(lvl, dfs_use):
        """Woodruff interval: the CDF interval mapped back through the same rule."""
        p_low, p_up = share_interval(interval_type, phat, se_p, lvl, dfs_use, nobs, dom_df)
        low, high = np.empty(len(qhat)), np.empty(len(qhat))
        for vi, locate in enumerate(locators):
            sel = v_i == vi
            grid = np.full((D, P, 2), 0.5)
            grid[d_i[sel], p_i[sel], 0] = p_low[sel]
            grid[d_i[sel], p_i[sel], 1] = p_up[sel]
            # a share of exactly 0 or 1 can come out a rounding error outside [0, 1]: such
            # ends are the extreme values, as in memory; NaN ends (xlogit at 0) stay NaN
            inside = (grid >= -SHARE_TOL) & (grid <= 1 + SHARE_TOL)
            targets = np.where(inside, np.clip(grid, 0, 1), 0.5).reshape(D, 2 * P)
            qs = np.where(inside.reshape(D, 2 * P), locate(targets), np.nan).reshape(D, P, 2)
            low[sel], high[sel] = qs[d_i[sel], p_i[sel], 0], qs[d_i[sel], p_i[sel], 1]
        return low, high

    low, high = bounds(level, dfs)
    se = (high - low) / (2 * critical_value(level, dfs))
    if np.isnan(se).any():
        warnings.warn("a Woodruff interval ran past the range of the data for some quantile "
                      "(R gives NaN there too); its interval end and SE are reported as NaN.",
                      SurveyWarning, stacklevel=3)
    keys = list(zip(d_i.tolist(), [variables[vi] for vi in v_i],
                    [float(probs[j]) for j in p_i], strict=True))
    return Estimate(statistic="quantile", keys=key_frame(keys, dkeys, by), values=qhat,
                    vcov_matrix=np.diag(se**2), n=nobs, deff_values=np.full(len(qhat), np.nan),
                    dfs=dfs, by=tuple(by),
                    inference=footer(design, "wald") + f"; Woodruff intervals "
                                                       f"({interval_type}), qrule={qrule!r}",
                    interval=bounds)
