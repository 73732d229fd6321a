"""Quantiles with Woodruff intervals over an engine (R ``svyquantile``, ``interval.type=
"mean"``, ``qrule="math"`` or ``"school"``).

**The weighted distribution function, computed exactly in the engine.**  One query groups the
rows in the design by (domain, distinct value ``x``) and sums their weights; window functions
give, per domain, the cumulative weight ``F(x) = sum_{x' <= x} w`` (``SUM(w) OVER (PARTITION
BY domain ORDER BY x)``), the total and the next distinct value.  Only the rows where
``F(x) <= p * total < F(next)`` (and the first two of each domain) come back.  The rule is
R's ``qrule_math`` / ``qrule_school`` read on distinct values, which is the same quantile as
on rows: with ``k`` the number of distinct values with ``F <= p * total``,

* ``k >= 1``: the ``k``-th value ``v`` if ``F(v) = p * total`` exactly (``"school"``: the
  mean of ``v`` and the next value), else the next value;
* ``k = 0`` (``p * total`` below the first value's weight): the first value if it has more
  than one row, else the second (R's ``last()`` of an empty set is the first row, and the
  rule then takes the following row).

Cumulative weights are summed exactly, as ``DECIMAL(38, 18)`` (each weight rounded to 18
decimal places), and rounded once to double, as R rounds its extended-precision ``cumsum``:
so an exact hit ``F(v) = p * total`` (equal weights, an even count at the median) is decided
as in R, where a double-precision running sum would miss it by a few ulps.  Weight totals
must stay below 10^20.

**The interval** (Woodruff 1952): ``p_hat``, the share of the domain at or below the
quantile, is a pushed-down share (:func:`.estimate.coded_shares`: the level
``CASE WHEN x <= q_domain THEN 1 ELSE 0 END``) with the design's variance engine (Taylor,
weighting residuals, or replicates) and each domain's degrees of freedom; the interval
``p_hat -/+ t se`` is mapped back through the same rule (one more window query), and ``se`` is
its length over ``2 t``, as R.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import as_list, check_level, check_option
from ..errors import SurveyDesignError, SurveyWarning
from ..estimators._cells import footer, key_frame
from ..results import Estimate, critical_value
from .errors import NotPushedDownError
from .estimate import check_numeric, coded_shares, missing_error
from .queries import conjunction, num, present
from .tables import literal

#: how far outside [0, 1] a Woodruff CDF limit may fall by rounding alone (as in memory)
SHARE_TOL = 1e-12
QRULES = ("math", "school", "hf1", "hf2")
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
    dec = f"CAST({design.weight_sql} AS DECIMAL(38, {DECIMALS}))"
    sql = (f"WITH g AS (SELECT {sel}, SUM({dec}) AS w, COUNT(*) AS n "
           f"FROM {src.table} WHERE {where} GROUP BY {group}), "
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
        nx = f["nx"].to_numpy(float)
        for j in range(J):
            p = targets[d, j]
            hit = np.flatnonzero(cum <= p * tot)
            if not len(hit):  # k = 0
                second = nx[0] if not np.isnan(nx[0]) else x[0]
                out[d, j] = x[0] if n[0] > 1 else second
                continue
            i = hit[np.argmax(cum[hit])]
            upper = nx[i] if not np.isnan(nx[i]) else x[i]
            if p - cum[i] / tot == 0:
                out[d, j] = x[i] if qrule == "math" else (x[i] + upper) / 2
            else:
                out[d, j] = upper
    return out


def quantile(design, variables, probs=(0.5,), *, by=None, na_rm=False, qrule="math",
             level=0.95, df=None, interval_type="mean") -> Estimate:
    """Weighted quantiles with Woodruff intervals pushed down (see
    :func:`surveylib.estimators.quantile`; ``qrule`` ``"math"``/``"school"``,
    ``interval_type="mean"``)."""
    if interval_type != "mean":
        raise NotPushedDownError(
            f"interval_type={interval_type!r} is not pushed down (it needs the rows or every "
            "replicate's distribution function); use interval_type='mean' (R's default).",
            parameter="interval_type", value=interval_type, expected=["mean"])
    check_option(qrule, QRULES, name="qrule")
    qrule = {"hf1": "math", "hf2": "school"}.get(qrule, qrule)
    check_level(level)
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    if ((probs <= 0) | (probs >= 1)).any():
        raise SurveyDesignError(f"probs={probs.tolist()} must lie strictly between 0 and 1.",
                                parameter="probs", value=probs.tolist(), expected="(0, 1)")
    variables, by = as_list(variables), as_list(by)
    check_numeric(design, variables)
    design.check_columns(by, role="by")
    src, q = design.source, design.source.quote
    where = conjunction([design.where] + [f"{q(c)} IS NOT NULL" for c in by])
    if by:
        dkeys = src.fetch(f"SELECT DISTINCT {', '.join(q(c) for c in by)} FROM {src.table} "
                          f"WHERE {where}")
        dkeys = dkeys.sort_values(by, kind="stable").reset_index(drop=True)
    else:
        dkeys = pd.DataFrame(index=[0])
    D, P = len(dkeys), len(probs)
    if not na_rm:
        miss = src.fetch("SELECT " + ", ".join(
            f"SUM(CASE WHEN {present(q, v)} THEN 0 ELSE 1 END) AS m{i}"
            for i, v in enumerate(variables)) + f" FROM {src.table} WHERE {where}").iloc[0]
        for i, v in enumerate(variables):
            if int(miss[f"m{i}"] or 0):
                missing_error(v, int(miss[f"m{i}"]), "quantiles over respondents with a value")
    per_var = []
    for var in variables:
        rows = _cdf_rows(design, var, by, dkeys, np.tile(probs, (D, 1)))
        if rows["dom"].nunique() < D:
            raise SurveyDesignError(f"variable {var!r} has no values in some domain of {by}.")
        qhat = _rule(rows, np.tile(probs, (D, 1)), qrule)
        shares = []
        for j in range(P):
            qv = _domain_value(q, by, dkeys, qhat[:, j])
            level_sql = (f"(CASE WHEN {present(q, var)} THEN (CASE WHEN {num(q, var)} <= {qv} "
                         "THEN 1 ELSE 0 END) END)")
            est, v, nobs, dfs, skeys = coded_shares(design, var, level_sql, 2, by=by)
            if by:  # the share query's domains are those with rows: align them
                pos = pd.MultiIndex.from_frame(skeys).get_indexer(
                    pd.MultiIndex.from_frame(dkeys))
            else:
                pos = np.zeros(1, dtype=np.int64)
            cell = pos * 2 + 1  # level 1: at or below the quantile
            shares.append((est[cell], np.sqrt(np.clip(np.diag(v)[cell], 0, None)),
                           nobs[cell], dfs[cell]))
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
        """Woodruff interval: the CDF interval mapped back through the rule in the engine."""
        t = critical_value(lvl, dfs_use)
        p_low, p_up = phat - t * se_p, phat + t * se_p
        low, high = np.empty(len(qhat)), np.empty(len(qhat))
        for vi, (var, _, _) in enumerate(per_var):
            sel = v_i == vi
            grid = np.zeros((D, P, 2))
            grid[d_i[sel], p_i[sel], 0] = p_low[sel]
            grid[d_i[sel], p_i[sel], 1] = p_up[sel]
            inside = (grid >= -SHARE_TOL) & (grid <= 1 + SHARE_TOL)
            targets = np.clip(grid, 0, 1).reshape(D, 2 * P)
            qs = _rule(_cdf_rows(design, var, by, dkeys, targets), targets, qrule)
            qs = np.where(inside.reshape(D, 2 * P), qs, np.nan).reshape(D, P, 2)
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
                    inference=footer(design, "wald") + f"; Woodruff intervals (mean), "
                                                       f"qrule={qrule!r}",
                    interval=bounds)
