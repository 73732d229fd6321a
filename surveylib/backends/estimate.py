"""Means, totals, ratios and shares of a :class:`~surveylib.backends.LazySurveyDesign`.

Each call is reduced in the engine to per-(unit, domain[, level]) sums — one ``GROUP BY``
for the numeric variables, one per categorical variable — which are mapped to the units of the
design and assembled into the same :class:`~surveylib.variance.sums.CellSums` the in-memory
path builds with ``unit_cell_sums``.  The covariance is then the design engine's
``vcov_sums`` (Taylor: stratified between-PSU covariance of the unit totals of the scores;
replicates: the P x R factors applied to the unit sums), and the design effects, labels and
result are built by the same helpers as :mod:`surveylib.estimators`.

Cells are ordered as in memory: variable by variable, domain by domain, level by level, with
domains the sorted distinct ``by`` values among the rows in the design (R ``svyby``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_list, check_option
from ..errors import ColumnError, SurveyDesignError
from ..estimators._cells import (
    check_deff,
    check_na_rm,
    design_effects,
    footer,
    key_frame,
    ratio_pairs,
)
from ..estimators.intervals import CI_METHODS, proportion_interval
from ..results import Estimate
from ..variance.sums import CellSums
from ._deff import residual_squares
from .errors import NotPushedDownError
from .queries import (
    dedupe,
    grouped,
    num,
    numeric_exprs,
    present,
    replicate_exprs,
    suspect,
)

LEVEL = "__surveylib_level"
#: the sums of weighted values (scaled by the factor of their cell after a weighting step)
WEIGHTED = ("wy", "wx", "ws", "wyy", "wxy", "wxx")


class _Cells:
    """What an interval factory reads from a call's cells (rows per cell)."""

    def __init__(self, nobs):
        self.nobs = nobs


def check_numeric(design, variables, role="analysis"):
    design.check_columns(variables, role=role)
    for v in variables:
        if not design.source.is_numeric(v):
            raise ColumnError(
                f"{role} column {v!r} is not numeric (type {design.source.schema()[v]}); use "
                "proportion() for a categorical variable, or convert the column to numbers.",
                parameter=role, value=v, expected="a numeric column")


def _levels(design, var, drop_empty: bool = True) -> list:
    """Sorted distinct values of ``var`` (as ``factorize(sort=True)``): those of the design's
    rows (``drop_empty``, as in memory), or of every row of the table (the analogue of a
    factor's unused levels: share 0, SE 0)."""
    cache = design.__dict__.setdefault("level_cache", {})
    key = (var, drop_empty)
    if key not in cache:
        src, q = design.source, design.source.quote
        numeric = src.is_numeric(var)
        where = conj(design.where if drop_empty else "", present(q, var, numeric=numeric))
        vals = src.fetch(f"SELECT DISTINCT {q(var)} AS v FROM {src.table} WHERE {where}")["v"]
        cache[key] = list(vals.sort_values(kind="stable"))
        if len(cache[key]) > 200:
            raise ColumnError(f"variable {var!r} has {len(cache[key])} distinct values; "
                              "proportion() is for categorical variables.", parameter=var,
                              value=len(cache[key]))
    return cache[key]


def missing_error(var, bad, what):
    raise SurveyDesignError(
        f"variable {var!r} has {bad} missing value(s) in the design; pass na_rm=True to "
        f"estimate {what} (the design is kept for variances).", parameter="na_rm",
        value=False, hint="na_rm=True")


class _Plan:
    """The cells of one call: ``specs`` holds ``(label, y, x, levels)`` per variable
    (``levels=None`` for a numeric variable)."""

    def __init__(self, design, by, na_rm):
        check_na_rm(na_rm)
        self.design, self.na_rm = design, na_rm
        self.by = as_list(by)
        design.check_columns(self.by, role="by")
        self.specs = []
        self.level_sql = {}  # label -> SQL expression of a categorical's level (default: y)
        self.element_df = None  # each cell's domain df, set by the element path
        self.shift = None  # column -> constant the squares are taken around (design effects)

    def run(self, kind, deff):
        if self.design.element and self.design.engine.kind == "taylor":
            return self._run_element(kind, deff)
        d, src = self.design, self.design.source
        q = src.quote
        # after a weighting step the rows are also grouped by its cells, summed with the
        # weight before the step, and the cells' factors applied here (see .weighting); a
        # step not yet fitted is fitted from these rows when they are every row it weights
        adj = d.adjustments[0] if d.adjustments else None
        fit_here = adj is not None and not adj.fitted and adj.covers(d)
        cols = d.unit_keys + self.by + (list(adj.variables) if adj else [])
        keys = [q(c) for c in dict.fromkeys(cols)]
        w = adj.base_weight_sql if adj else d.weight_sql
        numeric = [(label, y, x) for label, y, x, lev in self.specs if lev is None]
        reps = d.rep_columns
        frames = []
        self.oks = {}
        if numeric:
            oks = [conj(present(q, y), present(q, x) if x else None) for _, y, x in numeric]
            if self.na_rm == "complete":
                oks = [conj(*oks)] * len(oks)
            items = [(y, x, ok) for (_, y, x), ok in zip(numeric, oks, strict=True)]
            self.oks.update(zip((lab for lab, _, _ in numeric), oks, strict=True))
            frames.append(self._numeric_sums(keys, w, items, squares=deff is not False,
                                             unweighted=adj is not None and adj.raking,
                                             cover=fit_here))
        owner = []  # the frame of each variable
        for label, y, _x, lev in self.specs:
            if lev is None:
                owner.append(0)
                continue
            exprs = {"ws": w, "n": "1"}
            exprs.update({f"rw_{r}": num(q, c) for r, c in enumerate(reps)})
            frames.append(src.fetch(_categorical_sql(d, keys, y, exprs,
                                                     self.level_sql.get(label))))
            owner.append(len(frames) - 1)
        self.owner = owner
        if fit_here:  # the weight and row sums over every row (na_rm guards none of them)
            adj.fit_from(frames[0], *(("cw", "cn") if numeric else ("ws", "n")))
        if adj is not None:
            weighted = ["ws"] + [f"{s}_{i}" for s in WEIGHTED for i in range(len(numeric))]
            frames = [adj.apply(f, [c for c in weighted if c in f]) for f in frames]
        self.frames = frames
        out = self._assemble(frames, kind, deff)
        if self.shift is None and self.retry_shift:  # design effects lost > 6 digits
            self.shift = self.retry_shift
            return self.run(kind, deff)
        return out

    def _run_element(self, kind, deff):
        """Element sampling (no ``psu=``): per-stratum sums and Gram matrices, no unit table
        (:mod:`._element`)."""
        from ._element import estimate as element_estimate

        return element_estimate(self, kind, deff)

    def _numeric_sums(self, keys, w, items, *, squares, unweighted, cover=False):
        """The numeric variables' sums, in one query.  The sums run over every row unless some
        variable is known to have missing values in the design; where the query may have run
        over missing values (:func:`~.queries.suspect`: NULLs counted, or a sum not finite)
        it is run again with the sums restricted to present values, which also counts the
        missing values exactly (the design remembers them; without ``na_rm`` they are an
        error naming that count).  ``cover`` adds ``cw``, ``cn``: the weight and the row
        count summed over every row (the same text as ``ws_i``, ``n_i`` when these are
        unguarded: summed once)."""
        d = self.design
        src, q = d.source, d.source.quote
        known = d.__dict__.setdefault("missing_cache", {})
        guard = any(known.get((d.where, ok), False) for _, _, ok in items)
        reps = list(d.rep_columns)
        while True:
            exprs = numeric_exprs(q, w, items, squares=squares, guard=guard,
                                  unweighted=unweighted, shift=self.shift)
            exprs.update(replicate_exprs(q, reps, items, guard=guard))
            if cover:
                exprs.update(cw=w, cn="1")
            unique, alias = dedupe(exprs)
            frame = src.fetch(grouped(src.table, keys, unique, d.where,
                                      aggregate=not d.element))
            for name, first in alias.items():
                frame[name] = frame[first]
            if guard:
                miss = [int(frame[f"miss_{i}"].sum()) for i in range(len(items))]
                known.update({(d.where, ok): m > 0 for (_, _, ok), m in zip(items, miss,
                                                                               strict=True)})
                return frame
            sums = [[f"{s}_{i}" for s in (*WEIGHTED, "uy", "ux")]
                    + [f"r{v}_{i}_{r}" for v in "yx" for r in range(len(reps))]
                    for i in range(len(items))]
            if not any(suspect(frame, f"miss_{i}", sums[i]) for i in range(len(items))):
                known.update({(d.where, ok): False for _, _, ok in items})
                return frame
            guard = True

    def _assemble(self, frames, kind, deff):
        d = self.design
        inside = [f[self.by].notna().all(axis=1) if self.by else pd.Series(True, index=f.index)
                  for f in frames]
        if self.by:
            dkeys = pd.concat([f.loc[m, self.by] for f, m in zip(frames, inside, strict=True)])
            dkeys = dkeys.drop_duplicates().sort_values(self.by, kind="stable")
            dkeys = dkeys.reset_index(drop=True)
            if dkeys.empty:
                raise SurveyDesignError(f"no rows of the design have values of {self.by}.")
            index = pd.MultiIndex.from_frame(dkeys)
            self.index = index
        else:
            dkeys = pd.DataFrame(index=[0])
        D = len(dkeys)
        P = len(d.units)
        sizes = [D * (1 if lev is None else len(lev)) for _, _, _, lev in self.specs]
        k = int(sum(sizes))
        acc = {name: np.zeros(P * k) for name in ("wy", "wx")}
        vec = {name: np.zeros(k) for name in ("n", "wsum", "wyy", "wxy", "wxx")}
        R = len(d.rep_columns)
        rep = {"y": np.zeros((k, R)), "x": np.zeros((k, R))}
        has_x = np.zeros(k, dtype=bool)
        categorical = np.zeros(k, dtype=bool)
        present_units = {}
        base, keys_out = 0, []
        numeric_seen = 0
        for (label, y, x, lev), size, j in zip(self.specs, sizes, self.owner, strict=True):
            f = frames[j]
            rows = f[inside[j]]
            g = (index.get_indexer(pd.MultiIndex.from_frame(rows[self.by])) if self.by
                 else np.zeros(len(rows), dtype=np.int64))
            pr = d.unit_index(rows)
            lw = d.unit_weight[pr]
            if lev is None:
                i = numeric_seen
                numeric_seen += 1
                miss = int(f[f"miss_{i}"].sum())
                if miss and not self.na_rm:
                    missing_error(y if x is None else f"{y}/{x}", miss, "over respondents "
                                   "with a value")
                cell = base + g
                key = pr * k + cell
                acc["wy"] += np.bincount(key, lw * rows[f"wy_{i}"].to_numpy(float), P * k)
                acc["wx"] += np.bincount(key, lw * rows[f"wx_{i}"].to_numpy(float), P * k)
                cnt = rows[f"n_{i}"].to_numpy(float)
                vec["n"] += np.bincount(cell, cnt, k)
                vec["wsum"] += np.bincount(cell, lw * rows[f"ws_{i}"].to_numpy(float), k)
                for s in ("wyy", "wxy", "wxx"):
                    if f"{s}_{i}" in rows:
                        vec[s] += np.bincount(cell, lw * rows[f"{s}_{i}"].to_numpy(float), k)
                has_x[base:base + size] = x is not None
                if R:
                    np.add.at(rep["y"], cell, rows[[f"ry_{i}_{r}" for r in range(R)]].to_numpy(
                        float))
                    np.add.at(rep["x"], cell, rows[[f"rx_{i}_{r}" for r in range(R)]].to_numpy(
                        float))
                self._present(present_units, g, pr, cnt, base, 1)
                keys_out.extend((dd, label, None) for dd in range(D))
            else:
                L = len(lev)
                level = rows[LEVEL]
                ok = level.notna().to_numpy() & ~is_nan(level)
                if not ok.all() and not self.na_rm:
                    missing_error(y, int(rows.loc[~ok, "n"].sum()),
                                   "shares among respondents with a value")
                code = pd.Index(lev).get_indexer(level.where(ok, lev[0] if lev else None))
                rows, g, pr, lw, code = rows[ok], g[ok], pr[ok], lw[ok], code[ok]
                ws = lw * rows["ws"].to_numpy(float)
                cnt = rows["n"].to_numpy(float)
                cell = base + g * L + code
                acc["wy"] += np.bincount(pr * k + cell, ws, P * k)
                dom = np.bincount(pr * D + g, ws, P * D).reshape(P, D)
                wx = np.zeros((P, k))
                wx[:, base:base + size] = np.repeat(dom, L, axis=1)
                acc["wx"] += wx.ravel()
                n_dom = np.bincount(g, cnt, D)
                vec["n"][base:base + size] = np.repeat(n_dom, L)
                categorical[base:base + size] = True
                if R:
                    rw = rows[[f"rw_{r}" for r in range(R)]].to_numpy(float)
                    np.add.at(rep["y"], cell, rw)
                    rdom = np.zeros((D, R))
                    np.add.at(rdom, g, rw)
                    rep["x"][base:base + size] = np.repeat(rdom, L, axis=0)
                self._present(present_units, g, pr, cnt, base, L)
                keys_out.extend((dd, label, lv) for dd in range(D) for lv in lev)
            base += size
        self.rep = rep if R else None
        if d.adjustments:
            from .weighting import cell_sums

            self.weighting = cell_sums(self, k, D)
        else:
            self.weighting = None
        return self._finish(acc, vec, has_x, categorical, k, P, kind, deff, dkeys,
                            keys_out, present_units)

    @staticmethod
    def _present(out, g, pr, cnt, base, L):
        """The units with rows in each (variable, domain): for domain degrees of freedom."""
        for dd in np.unique(g[cnt > 0]):
            out[(base, int(dd), L)] = np.unique(pr[(g == dd) & (cnt > 0)])

    def _finish(self, acc, vec, has_x, categorical, k, P, kind, deff, dkeys, keys_out,
                present_units):
        d = self.design
        engine = d.engine
        if self.rep is None:
            unit, n_units = engine.sum_units
            to_unit = (unit[:, None] * k + np.arange(k)[None, :]).ravel()
            wy = np.bincount(to_unit, acc["wy"], n_units * k).reshape(n_units, k)
            wx = np.bincount(to_unit, acc["wx"], n_units * k).reshape(n_units, k)
        else:  # stored replicate columns: one unit; the replicates carry the design
            wy, wx = acc["wy"].reshape(P, k), acc["wx"].reshape(P, k)
        nobs = vec["n"]
        num, den = wy.sum(axis=0), wx.sum(axis=0)
        wsum = np.where(has_x, vec["wsum"], den)
        empty = nobs == 0
        if kind != "total" and np.any((den == 0) & ~empty):
            raise SurveyDesignError(
                "a denominator total is zero in some domain; the ratio is undefined.")
        est = num if kind == "total" else num / np.where(den == 0, 1.0, den)
        shift = np.zeros(k)
        # the scores of a ratio are divided by its denominator total, those of a mean by Σw
        if self.weighting is not None:  # scores residualised on the weighting step
            from .weighting import residualised_vcov

            v = residualised_vcov(self, acc, kind, est, den, nobs)
        elif self.rep is None:
            v = engine.vcov_sums(kind, CellSums(wy, wx, nobs, shift, den), est)
        else:
            v = replicate_columns_vcov(engine, kind, self.rep, est, nobs)
        deffs = None
        self.retry_shift = None
        if deff is not False:
            resid = residual_squares(self, kind, est, nobs, len(dkeys), {
                **vec, "num": num, "den": den, "wsum": wsum, "has_x": has_x,
                "categorical": categorical})
            deffs = design_effects(kind, deff, v, resid, wsum, den, nobs)
        else:
            deffs = np.full(k, np.nan)
        self.present_units = present_units
        return np.where(empty, np.nan, est), v, nobs, deffs, dkeys, keys_out

    def domain_df(self, k, D):
        """Each cell's domain degrees of freedom (the engine's rule over the units with rows
        in the domain)."""
        if self.element_df is not None:
            return self.element_df
        if self.rep is not None:
            return self._replicate_domain_df(k, D)
        engine, P = self.design.engine, len(self.design.units)
        out = np.zeros(k)
        zeros = np.zeros(P, dtype=np.int64)
        for (base, dd, L), units in self.present_units.items():
            valid = np.zeros(P, dtype=bool)
            valid[units] = True
            out[base + dd * L: base + (dd + 1) * L] = engine.domain_df(valid, zeros, 1)[0]
        return out


    def _replicate_domain_df(self, k, D):
        """Stored replicate columns: the rank of each domain's rows' replicate weights - 1."""
        d, q = self.design, self.design.source.quote
        out = np.zeros(k)
        base = 0
        for label, y, _x, lev in self.specs:
            L = 1 if lev is None else len(lev)
            if lev is None:
                ok = self.oks[label]
            elif label in self.level_sql:
                ok = f"({self.level_sql[label]}) IS NOT NULL"
            else:
                ok = present(q, y, numeric=d.source.is_numeric(y))
            ranks = d.domain_df(self.by, ok)
            if self.by:
                g = self.index.get_indexer(pd.MultiIndex.from_frame(ranks[self.by]))
                r = np.zeros(D)
                r[g[g >= 0]] = ranks["rank"].to_numpy(float)[g >= 0] - 1
            else:
                r = np.full(D, float(ranks["rank"].iloc[0]) - 1)
            out[base:base + D * L] = np.repeat(r, L)
            base += D * L
        return out


def replicate_columns_vcov(engine, kind, rep, est, nobs):
    """Replicate covariance from the K x R replicate sums of stored replicate columns:
    ``theta_r = sum(w_r y) / sum(w_r x)`` (totals: ``sum(w_r y)``), cells without rows left
    at 0 as in memory."""
    if kind == "total":
        thetas = rep["y"].T
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = np.where(rep["x"].T != 0, rep["y"].T / rep["x"].T, np.nan)
    used = nobs > 0
    thetas = np.where(used[None, :], thetas, 0.0)
    return engine.vcov_replicates(thetas, np.where(used, est, 0.0))


def conj(*parts) -> str:
    return " AND ".join(p for p in parts if p)


def is_nan(s: pd.Series) -> np.ndarray:
    """Where a result column holds a float NaN (a missing value that is not NULL)."""
    return pd.to_numeric(s, errors="coerce").isna().to_numpy() & s.notna().to_numpy() \
        & pd.api.types.is_float_dtype(s)


def _categorical_sql(d, keys, var, exprs, level=None) -> str:
    """Per-(unit, domain, level) sums; ``level`` is a SQL expression of the level (default
    the column ``var``)."""
    q, src = d.source.quote, d.source
    level = level or q(var)
    sel = keys + [f"{level} AS {LEVEL}"]
    if d.element:
        cols = [f"{e} AS {name}" for name, e in exprs.items()]
        return f"SELECT {', '.join(sel + cols)} FROM {src.table} WHERE {d.where}"
    cols = [f"SUM({e}) AS {name}" for name, e in exprs.items()]
    return (f"SELECT {', '.join(sel + cols)} FROM {src.table} WHERE {d.where} "
            f"GROUP BY {', '.join(keys + [level])}")


def _result(design, plan, statistic, kind, deff, *, ci_method="wald", interval=None):
    est, v, nobs, deffs, dkeys, keys_out = plan.run(kind, deff)
    D = len(dkeys)
    factory = None
    if interval is not None:
        dfs = plan.domain_df(len(est), D)
        factory = proportion_interval(interval, est, v, _Cells(nobs))
    else:
        def dfs():
            return np.full(len(est), float(design.degf()))
    return Estimate(statistic=statistic, keys=key_frame(keys_out, dkeys, plan.by),
                    values=est, vcov_matrix=v, n=nobs, deff_values=deffs, dfs=dfs,
                    by=tuple(plan.by), inference=lambda: footer(design, ci_method),
                    ci_method=ci_method, interval=factory)


def mean(design, variables, *, by=None, na_rm=False, deff=True) -> Estimate:
    """Weighted means pushed down (see :func:`surveylib.estimators.mean`)."""
    check_deff(deff)
    plan = _Plan(design, by, na_rm)
    variables = as_list(variables)
    check_numeric(design, variables)
    plan.specs = [(v, v, None, None) for v in variables]
    return _result(design, plan, "mean", "ratio", deff)


def total(design, variables, *, by=None, na_rm=False, deff=True,
          drop_empty=True) -> Estimate:
    """Totals pushed down; a non-numeric variable gives the total of each level (of the
    design's rows; ``drop_empty=False``: of every row of the table)."""
    check_deff(deff)
    plan = _Plan(design, by, na_rm)
    variables = as_list(variables)
    design.check_columns(variables, role="analysis")
    plan.specs = [(v, v, None, None) if design.source.is_numeric(v) else
                  (v, v, None, _levels(design, v, drop_empty)) for v in variables]
    return _result(design, plan, "total", "total", deff)


def ratio(design, numerator, denominator, *, by=None, na_rm=False, deff=True) -> Estimate:
    """Ratios of totals pushed down (see :func:`surveylib.estimators.ratio`)."""
    check_deff(deff)
    nums, dens = ratio_pairs(numerator, denominator)
    plan = _Plan(design, by, bool(na_rm))
    check_numeric(design, nums + dens)
    plan.specs = [(f"{a}/{b}", a, b, None) for a, b in zip(nums, dens, strict=True)]
    return _result(design, plan, "ratio", "ratio", deff)


def proportion(design, variables, *, by=None, na_rm=False, ci_method="logit",
               deff=True, drop_empty=True) -> Estimate:
    """Shares of every level pushed down (see :func:`surveylib.estimators.proportion`): the
    levels of the design's rows, or (``drop_empty=False``) of every row of the table."""
    check_deff(deff)
    check_option(ci_method, CI_METHODS, name="ci_method")
    method = "wald" if ci_method == "mean" else ci_method
    if method == "likelihood":
        raise NotPushedDownError(
            "ci_method='likelihood' refits a model on the rows, which stay in the engine; use "
            "ci_method='logit' (or 'beta', 'asin', 'xlogit', 'wilson', 'wald').",
            parameter="ci_method", value=ci_method, expected=[m for m in CI_METHODS
                                                              if m != "likelihood"])
    plan = _Plan(design, by, na_rm)
    variables = as_list(variables)
    design.check_columns(variables, role="analysis")
    plan.specs = [(v, v, None, _levels(design, v, drop_empty)) for v in variables]
    return _result(design, plan, "proportion", "ratio", deff, ci_method=method,
                   interval=None if method == "wald" else method)


def coded_cells(design, label, level_sql, n_levels, *, by, kind, statistic) -> Estimate:
    """Totals (``kind="total"``) or shares (``"ratio"``) of the integer levels
    ``0..n_levels-1`` of a SQL expression (NULL: the row is left out, the design kept) --
    the cells of a crosstab."""
    plan = _Plan(design, by, True)
    plan.specs = [(label, label, None, list(range(n_levels)))]
    plan.level_sql = {label: level_sql}
    return _result(design, plan, statistic, kind, True)


def coded_shares(design, label, level_sql, n_levels, *, by):
    """Shares of the integer levels of a SQL expression by domain, with their covariance and
    each cell's domain degrees of freedom: ``(est, vcov, n, df, domain keys)``, cells ordered
    domain by domain, level by level."""
    plan = _Plan(design, by, True)
    plan.specs = [(label, label, None, list(range(n_levels)))]
    plan.level_sql = {label: level_sql}
    est, v, nobs, _deffs, dkeys, _keys = plan.run("ratio", False)
    return est, v, nobs, plan.domain_df(len(est), len(dkeys)), dkeys

