"""The SQL of an estimate of an element design (:mod:`._element`): each numeric column's shift
and the one ``GROUP BY`` of a call.

:func:`shifts` takes each column's mean over at most ``SHIFT_ROWS`` rows (one ``LIMIT`` query,
memoised by the design); :class:`Query` writes the row *components* ``u = (1, y - c_y,
x - c_x, o, ...)`` of the call's variables and the query that returns, per (stratum, domain,
level, weighting cell), the count, the sums ``S = sum w u``, the Gram sums ``G = sum w^2 u u'``
(and ``sum w u u'`` for design effects).  :func:`._element.estimate` runs it and solves for the
estimates and their covariance; the module docstring of :mod:`._element` gives the algebra.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .queries import Aggregate, dedupe, nulls, num, present

#: rows the shift of a column is taken from
SHIFT_ROWS = 4096
#: the 0/1 key of the rows of a later ``subset`` among those a weighting step weighted
IN = "__surveylib_in"


def shifts(design, columns) -> dict:
    """Each column's shift: its mean over at most ``SHIFT_ROWS`` rows with a value (one
    ``LIMIT`` query for the columns not seen before; memoised by the design)."""
    cache = design.__dict__.setdefault("shift_cache", {})
    need = list(dict.fromkeys(c for c in columns if c not in cache))
    if need:
        src, q = design.source, design.source.quote
        avg = ", ".join(f"AVG(CASE WHEN {present(q, c)} THEN {num(q, c)} END) AS m_{j}"
                        for j, c in enumerate(need))
        cols = ", ".join(q(c) for c in need)
        frame = src.fetch(f"SELECT {avg} FROM (SELECT {cols} FROM {src.table} "
                          f"LIMIT {SHIFT_ROWS}) s")
        for j, c in enumerate(need):
            v = pd.to_numeric(frame[f"m_{j}"], errors="coerce").iloc[0]
            cache[c] = float(v) if pd.notna(v) and np.isfinite(v) else 0.0
    return {c: cache[c] for c in columns}


def _product(*factors) -> str:
    parts = [f"({f})" for f in factors if f != "1.0"]
    return " * ".join(parts) if parts else "1.0"


class Query:
    """The components and the one ``GROUP BY`` of a call (see the module docstring)."""

    def __init__(self, plan, oks, shift, *, guard, squares):
        d = plan.design
        q = d.source.quote
        self.adj = d.adjustments[0] if d.adjustments else None
        comps = ["1.0"]

        def add(e):
            if e not in comps:
                comps.append(e)
            return comps.index(e)

        self.index = {}
        for i, (_label, y, x, lev) in enumerate(plan.specs):
            if lev is not None:
                continue
            ok = oks[i]

            def value(col, ok=ok):
                e = f"{num(q, col)} - CAST({shift[col]!r} AS DOUBLE)"
                return f"CASE WHEN {ok} THEN {e} ELSE 0.0 END" if guard else e

            io = add(f"CASE WHEN {ok} THEN 1.0 ELSE 0.0 END") if guard else 0
            self.index[i] = (add(value(y)), add(value(x)) if x else None, io)
        self.comps, m = comps, len(comps)
        w = self.adj.base_weight_sql if self.adj else d.weight_sql
        exprs = {"n": "1"}
        exprs.update({f"s_{j}": _product(w, comps[j]) for j in range(m)})
        pairs = [(j, k) for j in range(m) for k in range(j, m)]
        exprs.update({f"g_{j}_{k}": _product(w, w, comps[j], comps[k]) for j, k in pairs})
        if squares:
            exprs.update({f"h_{j}_{k}": _product(w, comps[j], comps[k]) for j, k in pairs})
        raking = self.adj is not None and self.adj.raking
        self.unweighted = [j for j in range(1, m) if raking or
                           any(j == io for _, _, io in self.index.values())]
        exprs.update({f"c_{j}": comps[j] for j in self.unweighted})
        if not guard:  # NULLs counted; NaN shows in the sums (.queries.suspect)
            exprs.update({f"miss_{i}": nulls(q, plan.specs[i][1:3]) for i in self.index})
        keys = {}
        if d.strata_column:
            keys[d.strata_column] = q(d.strata_column)
        keys.update({b: q(b) for b in plan.by})
        for i, (label, y, _x, lev) in enumerate(plan.specs):
            if lev is not None:
                keys[f"lev_{i}"] = plan.level_sql.get(label) or q(y)
        where = d.where
        self.flag = False
        if self.adj is not None:
            keys.update({v: q(v) for v in self.adj.variables})
            where = d.weight_where
            if d.where != where:  # rows the step weighted but a later subset leaves out
                keys[IN] = f"CASE WHEN {d.where} THEN 1 ELSE 0 END"
                self.flag = True
        unique, self.alias = dedupe(exprs)
        sel = [f"{e} AS {q(a)}" for a, e in keys.items()]
        sel += [f"{e.sql if isinstance(e, Aggregate) else f'SUM({e})'} AS {name}"
                for name, e in unique.items()]
        src = d.source
        self.sql = f"SELECT {', '.join(sel)} FROM {src.table} WHERE {where}"
        if keys:
            self.sql += f" GROUP BY {', '.join(keys.values())}"

    def fetch(self, design) -> pd.DataFrame:
        frame = design.source.fetch(self.sql)
        for name, first in self.alias.items():
            frame[name] = frame[first]
        return frame
