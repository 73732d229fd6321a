"""The weighted distribution of a variable over its distinct values, fetched whole when it is
small, for quantiles and their Woodruff interval ends computed locally.

Survey items usually take few distinct values (scales of 1–5 or 0–10, counts, rounded
amounts), so the whole weighted distribution function fits in a small table.  One query,

``SELECT by..., x, SUM(w), COUNT(*) FROM t WHERE ... GROUP BY by..., x LIMIT m + 1``

where the groups of NULL and NaN ``x`` count the missing values (and every group gives the
domains), returns it; more than ``m`` rows (:data:`MAX_DISTINCT`) means "too many
distinct values", and the caller falls back to the window query of :mod:`.quantiles`.

**Exactness.**  The quantile rule compares cumulative weights with ``p * total`` and tests
exact hits ``F(v) = p * total`` (equal weights, an even count at the median), which R decides
on its extended-precision ``cumsum`` rounded once to double.  The reference here is the exact
sum of the weights rounded to 18 decimal places (``DECIMAL(38, 18)``), rounded once to double.
The first query sums the weights in double precision; every decision is then *certified*:
the cumulative weight is at most ``B = 2 E + 8 * 2^-64 (G + N_d) T + 1e-18 N_d + 16 ulp(tot_d)``
away from the exact one, with ``E = 1.01 u sum_v n_v S_v`` over the domain's values (a sum of
``n`` doubles in any order errs by at most ``(n - 1) u`` times the sum; ``u = 2^-53``, ``S_v``
and ``n_v`` a value's weight and rows), ``N_d`` rows, ``tot_d`` the domain's total, ``G``
values and ``T`` the total over all domains (the local extended-precision cumulative sums err
by ``2^-64`` per term, the rounding to 18 decimals by ``0.5e-18`` per row), so a decision
whose margins ``|F - p * tot|`` exceed ``B`` is the exact one.  A decision within ``B`` (an
exact hit, or a near one) re-runs the query with ``SUM(CAST(w AS DECIMAL(38, 18)))`` returned
as text, and the cumulative sums are formed exactly in Python integers and rounded once (``int / int`` is
correctly rounded): the same numbers as the window query's exact ``DECIMAL`` sums.

**After a weighting step** (post-stratification, raking) every query reads the rows joined to
a table of the cells' factors, and a row's weight is ``w * f`` computed in the engine before
any sum (:func:`weighted_rows`): the same double as the in-memory row weight, so the
reference, the bound and the exact pass above are unchanged (the factor is inside each row's
weight, not applied to sums).
"""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd

from ..errors import SurveyDesignError
from .estimate import missing_error
from .queries import conjunction, num, present
from .tables import literal

#: most distinct (domain, value) pairs fetched; beyond, the window query is used
MAX_DISTINCT = 1_000_000
#: decimal places of the weights in the exact sums (DECIMAL(38, 18))
DECIMALS = 18
X_COL, W_COL, N_COL = "__surveylib_x", "__surveylib_w", "__surveylib_n"
ERR_COL = "__surveylib_err"
#: the factor of a row's cell after a weighting step (:func:`weighted_rows`)
F_COL = "__surveylib_factor"
_CONTEXT = decimal.Context(prec=80)
#: the unit roundoff of double precision
U = 2.0 ** -53


def as_units(value) -> int:
    """A DECIMAL(38, 18) sum (text from the engine, or already an integer) in units of
    10^-18, exactly."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return int(_CONTEXT.scaleb(decimal.Decimal(str(value)), DECIMALS))


def weighted_rows(design, where: str) -> tuple[str, str]:
    """The rows of the source that satisfy ``where``, as the body of a ``FROM`` clause, and
    each row's weight in them (SQL).

    Without a weighting step: ``table WHERE where`` and the design's weight.  After one
    (post-stratification, raking: :class:`~.weighting.CellWeighting`), the source ``LEFT
    JOIN`` a small inline table of the step's factor per cell (``VALUES``, one row per cell,
    the factors as double literals), and the weight ``w * f``: the weight before the step
    times the row's factor, the same double as the in-memory row weight (and as the step's
    ``weight_sql``, whose nested ``CASE`` over the cells cost 3-5x the plain query against
    the join's 1.5-2.5x; grouping by the cells as the estimates do multiplies the groups by
    the cells, up to 12x the plain query with many distinct values).  A row outside every
    cell (a NULL level) gets a NULL weight, as under the ``CASE``.  ``where`` filters the
    source before the join (a query over the rows of a few bins joins only those).
    """
    src = design.source
    adj = design.adjustments[0] if design.adjustments else None
    if adj is None:
        return f"{src.table} WHERE {where}", design.weight_sql
    q = src.quote
    names = [f"__surveylib_v{i}" for i in range(len(adj.variables))]
    rows = []
    for cell, factor in zip(adj.cells.itertuples(index=False), adj.factors, strict=True):
        if not pd.isna(list(cell)).any():  # a NULL level matches no row (as in the CASE)
            rows.append("(" + ", ".join([literal(v) for v in cell]
                                        + [f"{float(factor):.17e}"]) + ")")
    on = " AND ".join(f"__surveylib_s.{q(v)} = __surveylib_f.{n}"
                      for v, n in zip(adj.variables, names, strict=True))
    table = (f"(SELECT __surveylib_s.*, __surveylib_f.{F_COL} FROM (SELECT * FROM {src.table} "
             f"WHERE {where}) AS __surveylib_s LEFT JOIN (VALUES {', '.join(rows)}) AS "
             f"__surveylib_f({', '.join(names)}, {F_COL}) ON {on}) AS __surveylib_t")
    return table, f"({adj.base_weight_sql} * {F_COL})"


def distribution_sql(design, var, by, *, limit=None, exact=False) -> str:
    """The GROUP BY (domain, value) query: double-precision weight sums (``exact``: the exact
    DECIMAL sums as text, present values only)."""
    q = design.source.quote
    keys = [q(c) for c in by]
    xkey = num(q, var)  # NULL and NaN are groups of their own: the missing values
    extra = [present(q, var)] if exact else []
    where = conjunction([design.where] + [f"{k} IS NOT NULL" for k in keys] + extra)
    rows, weight = weighted_rows(design, where)
    wsum = (f"CAST(SUM(CAST({weight} AS DECIMAL(38, {DECIMALS}))) AS STRING)" if exact
            else f"SUM({weight})")
    sel = ", ".join(keys + [f"{xkey} AS {X_COL}", f"{wsum} AS {W_COL}", f"COUNT(*) AS {N_COL}"])
    sql = f"SELECT {sel} FROM {rows} GROUP BY {', '.join(keys + [xkey])}"
    return sql if limit is None else sql + f" LIMIT {int(limit) + 1}"


class Distribution:
    """The weighted distribution of one variable by domain, over its sorted distinct values.

    ``x``, ``n`` (rows) and ``cum`` (cumulative weight within the domain, rounded once to
    double) are sorted by (domain, value); ``starts``/``ends`` delimit each domain, ``tot`` is
    its total.  Build with :func:`fetch_distribution` (every value), or from part of the
    values (:mod:`._histogram`): then ``totals`` gives each domain's total weight and rows,
    and ``exact_frame(targets)`` the exact frame and totals for those targets.
    """

    def __init__(self, design, var, by, dkeys, frame, n_missing, *, totals=None,
                 exact_frame=None):
        self.design, self.var, self.by, self.dkeys = design, var, list(by), dkeys
        self.n_missing = n_missing  #: rows in the domains without a value
        self.exact_frame = exact_frame or self._exact_distribution
        self._load(frame, exact=False, totals=totals)

    def _exact_distribution(self, targets):
        sql = distribution_sql(self.design, self.var, self.by, exact=True)
        return self.design.source.fetch(sql), None

    def _load(self, frame, *, exact, totals=None):
        by, D = self.by, len(self.dkeys)
        if by:
            g = pd.MultiIndex.from_frame(self.dkeys).get_indexer(
                pd.MultiIndex.from_frame(frame[by]))
        else:
            g = np.zeros(len(frame), dtype=np.int64)
        x = frame[X_COL].to_numpy(float)
        order = np.lexsort((x, g))
        self.x, self.g = x[order], g[order]
        self.n = frame[N_COL].to_numpy(float)[order]
        size = np.bincount(self.g, minlength=D)
        if (size == 0).any():
            raise SurveyDesignError(f"variable {self.var!r} has no values in some domain of "
                                    f"{by}.", parameter="by", value=by)
        self.ends = np.cumsum(size)
        self.starts = self.ends - size
        rows = np.bincount(self.g, self.n, D) if totals is None else totals[1]
        self.exact = exact
        if exact:
            self._exact_cum(frame[W_COL].to_numpy(object)[order],
                            None if totals is None else totals[0])
            return
        w = frame[W_COL].to_numpy(float)[order]
        cw = np.cumsum(w.astype(np.longdouble))
        before = np.where(self.starts > 0, cw[np.maximum(self.starts - 1, 0)],
                          np.longdouble(0))
        self.cum = (cw - np.repeat(before, size)).astype(np.float64)
        self.tot = self.cum[self.ends - 1] if totals is None else np.asarray(totals[0], float)
        # the engine's sum of n doubles errs by at most (n - 1) u times their sum
        err = 1.01 * U * self.n * w
        if ERR_COL in frame:  # a pseudo-value carries the bound of the bins it stands for
            given = frame[ERR_COL].to_numpy(float)[order]
            err = np.where(np.isnan(given), err, given)
        err = np.bincount(self.g, err, D) + (0.0 if totals is None else totals[2])
        self.bound = (2 * err + 8 * 2.0 ** -64 * (len(x) + rows) * self.tot.sum()
                      + 1e-18 * rows + 16 * np.spacing(self.tot))

    def _exact_cum(self, sums, totals):
        """Exact cumulative sums of the DECIMAL(38, 18) sums (text, or integers in units of
        10^-18), rounded once; ``totals`` (integers) if not the last cumulative sums."""
        scale = 10**DECIMALS
        ints = [as_units(s) for s in sums]
        cum = np.empty(len(ints))
        tot = np.empty(len(self.starts))
        for d, (s, e) in enumerate(zip(self.starts.tolist(), self.ends.tolist(), strict=True)):
            acc = 0
            for i in range(s, e):
                acc += ints[i]
                cum[i] = acc / scale  # int / int: correctly rounded
            tot[d] = (acc if totals is None else totals[d]) / scale
        self.cum, self.tot = cum, tot
        self.bound = np.zeros(len(self.tot))

    def _counts(self, targets):
        """``k[d, j]``: the number of distinct values of domain ``d`` with ``F <= p * tot``,
        and whether every such decision is certain (see the module docstring)."""
        t = targets * self.tot[:, None]  # p * total, in double as in R
        D, J = targets.shape
        k = np.empty((D, J), dtype=np.int64)
        for j in range(J):  # a handful of targets; the values are vectorised
            k[:, j] = np.bincount(self.g, self.cum <= t[self.g, j], D).astype(np.int64)
        if self.exact:
            return k, True
        size = (self.ends - self.starts)[:, None]
        b = self.bound[:, None]
        lo = self.starts[:, None] + np.maximum(k, 1) - 1
        hi = self.starts[:, None] + np.minimum(k, size - 1)
        low_ok = (k == 0) | (t - self.cum[lo] > b)
        high_ok = (k == size) | (self.cum[hi] - t > b)
        return k, bool((low_ok & high_ok).all())

    def quantiles(self, targets, qrule):
        """R's rule on the distinct values (``math``/``school``: see :mod:`.quantiles`;
        ``hf3``: R ``qrule_hf3``, which works on the distinct values): D x J quantiles of the
        D x J target shares.  An uncertain decision refetches the exact sums first."""
        targets = np.asarray(targets, dtype=float)
        k, certain = self._counts(targets)
        if not certain:
            frame, totals = self.exact_frame(targets)
            self._load(frame, exact=True, totals=totals)
            k, _ = self._counts(targets)
        first = self.starts[:, None]
        pos = first + np.maximum(k, 1) - 1
        nxt = np.minimum(pos + 1, self.ends[:, None] - 1)
        hit = targets - self.cum[pos] / self.tot[:, None] == 0
        x = self.x
        if qrule == "hf3":  # the k-th value at an exact hit with k even, else the next
            return np.where(hit & (np.maximum(k, 1) % 2 == 0), x[pos], x[nxt])
        at_hit = x[pos] if qrule == "math" else (x[pos] + x[nxt]) / 2
        out = np.where((k >= 1) & hit, at_hit, x[nxt])
        # k = 0: the first value if it has several rows (R's rule on rows), else the second
        return np.where((k == 0) & (self.n[first] > 1), x[first], out)


def domain_keys(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The domains present in a fetched table, sorted (one row with no columns without ``by``)."""
    if not by:
        return pd.DataFrame(index=[0])
    keys = frame[by].drop_duplicates().sort_values(by, kind="stable")
    return keys.reset_index(drop=True)


def fetch_distribution(design, var, by, dkeys, *, na_rm, limit=None):
    """The :class:`Distribution` of ``var`` by ``by`` (domains: ``dkeys``, or those of the
    query when None), or ``(None, None)`` if there are more than ``limit`` distinct (domain,
    value) pairs (default :data:`MAX_DISTINCT`).  Missing values raise unless ``na_rm``.
    Returns ``(distribution, dkeys)``.
    """
    limit = MAX_DISTINCT if limit is None else int(limit)
    frame = design.source.fetch(distribution_sql(design, var, by, limit=limit))
    if len(frame) > limit:
        return None, dkeys
    x = pd.to_numeric(frame[X_COL], errors="coerce")
    missing = x.isna().to_numpy()
    n_missing = int(frame.loc[missing, N_COL].sum())
    if n_missing and not na_rm:
        missing_error(var, n_missing, "quantiles over respondents with a value")
    if dkeys is None:
        dkeys = domain_keys(frame, by)
    if by and dkeys.empty:
        raise SurveyDesignError(f"no rows of the design have values of {by}.")
    frame = frame[~missing].assign(**{X_COL: x[~missing]})
    return Distribution(design, var, by, dkeys, frame, n_missing), dkeys
