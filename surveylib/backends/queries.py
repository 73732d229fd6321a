"""The SQL surveylib sends to an engine: one ``GROUP BY`` per call, returning per-(unit, domain)
sums (or per-(unit, domain, level) for a categorical variable).

Everything here is text; :class:`~surveylib.backends.sources.Source` runs it.  ``q`` quotes an
identifier; ``w`` is the weight expression (a column, ``1/probs`` or ``1``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def num(q, col: str) -> str:
    """A column as DOUBLE."""
    return f"CAST({q(col)} AS DOUBLE)"


def present(q, col: str, *, numeric: bool = True) -> str:
    """The column has a value (not NULL; not NaN for a number)."""
    if not numeric:
        return f"({q(col)} IS NOT NULL)"
    return f"({q(col)} IS NOT NULL AND NOT isnan({num(q, col)}))"


@dataclass(frozen=True)
class Aggregate:
    """An expression that is an aggregate itself (``grouped`` does not wrap it in ``SUM``),
    with ``row``, its value on one row (a query without ``GROUP BY``)."""

    sql: str
    row: str


def nulls(q, cols) -> Aggregate:
    """The NULLs of ``cols`` (``x`` may be None), ``COUNT(*) - COUNT(c)`` summed over the
    columns: 0 exactly when no row has a NULL (a row NULL in two columns counts twice).  The
    engine answers ``COUNT(c)`` from the column's validity, without a test per row; NaN is
    left to the sums (:func:`suspect`)."""
    cols = [q(c) for c in cols if c is not None]
    return Aggregate(" + ".join(f"(COUNT(*) - COUNT({c}))" for c in cols),
                     "CASE WHEN " + " OR ".join(f"{c} IS NULL" for c in cols)
                     + " THEN 1 ELSE 0 END")


def suspect(frame, counts: str, sums) -> bool:
    """Whether an unguarded query may have run over missing values: its NULL count
    ``counts`` is not 0, or one of the ``sums`` (columns of ``frame``) is not finite -- a NaN
    value makes the sums it enters NaN (the weights are checked: never NULL or NaN), and a
    sum that is infinite or NULL is treated alike (the guarded query then counts exactly)."""
    if frame[counts].to_numpy(float).sum() != 0:
        return True
    cols = [c for c in sums if c in frame]
    return bool(cols) and not np.isfinite(frame[cols].to_numpy(float)).all()


def conjunction(parts) -> str:
    """``(a) AND (b) ...``; ``TRUE`` parts are dropped (Spark reads ``WHERE (TRUE)`` after a
    table name as column aliases of the table)."""
    parts = [p for p in parts if p and p != "TRUE"]
    return " AND ".join(f"({p})" for p in parts) if parts else "TRUE"


def grouped(table: str, keys: list, exprs: dict, where: str, *, aggregate: bool) -> str:
    """``SELECT keys, SUM(expr) AS name ... FROM table WHERE where GROUP BY keys``; without
    ``aggregate`` (element sampling: every row its own unit) the row values themselves."""
    if aggregate:
        cols = [f"{e.sql if isinstance(e, Aggregate) else f'SUM({e})'} AS {name}"
                for name, e in exprs.items()]
    else:
        cols = [f"{e.row if isinstance(e, Aggregate) else e} AS {name}"
                for name, e in exprs.items()]
    sql = f"SELECT {', '.join(list(keys) + cols)} FROM {table} WHERE {where}"
    if aggregate and keys:
        sql += f" GROUP BY {', '.join(keys)}"
    return sql


def numeric_exprs(q, w: str, items: list, *, squares: bool, guard: bool = True,
                  unweighted: bool = False, shift: dict | None = None) -> dict:
    """Sums for numeric cells: ``items`` holds ``(y, x or None, ok)`` per variable.

    With ``guard`` every sum is restricted to the rows where ``ok`` (the values are present)
    and ``miss_i`` counts the rows where not ``ok``; without it the sums run over every row
    and ``miss_i`` counts only NULLs (:func:`nulls`, no test per row) -- exact when no value
    is missing, which the caller checks with :func:`suspect` (NaN shows in the sums; a query
    with the guards otherwise).  Sums of the same expression (``wx`` of a mean is ``ws``;
    the counts) are given the same text, so that
    :func:`dedupe` computes them once.  ``unweighted`` adds the unweighted sums ``uy_i``,
    ``ux_i`` (residuals on a raking step).  ``shift`` (column -> constant) takes the squares
    on ``y - a`` and ``x - b`` (design effects of values large against their spread).
    """
    out = {}
    for i, (y, x, ok) in enumerate(items):
        def masked(e, zero="0.0", ok=ok):
            return f"CASE WHEN {ok} THEN {e} ELSE {zero} END" if guard else e

        yv = num(q, y)
        xv = num(q, x) if x is not None else None
        out[f"wy_{i}"] = masked(f"{w} * {yv}")
        out[f"ws_{i}"] = masked(w)
        out[f"wx_{i}"] = masked(f"{w} * {xv}") if xv else out[f"ws_{i}"]
        out[f"n_{i}"] = masked("1", "0")
        out[f"miss_{i}"] = f"CASE WHEN {ok} THEN 0 ELSE 1 END" if guard else nulls(q, (y, x))
        if squares:
            ys, xs = yv, xv
            if shift:  # the shifted values, each once in the text
                ys = f"({yv} - CAST({shift[y]!r} AS DOUBLE))"
                xs = f"({xv} - CAST({shift[x]!r} AS DOUBLE))" if xv else None
            out[f"wyy_{i}"] = masked(f"{w} * {ys} * {ys}")
            if xv:
                out[f"wxy_{i}"] = masked(f"{w} * {xs} * {ys}")
                out[f"wxx_{i}"] = masked(f"{w} * {xs} * {xs}")
        if unweighted:
            out[f"uy_{i}"] = masked(yv)
            out[f"ux_{i}"] = masked(xv) if xv else out[f"n_{i}"]
    return out


def dedupe(exprs: dict) -> tuple[dict, dict]:
    """``(unique, alias)``: the distinct expressions under their first name, and every other
    name mapped to that first name (copy its column after the query)."""
    first: dict = {}
    alias = {}
    for name, e in exprs.items():
        if e in first:
            alias[name] = first[e]
        else:
            first[e] = name
    return {name: e for e, name in first.items()}, alias


def replicate_exprs(q, reps: list, items: list, *, guard: bool = True) -> dict:
    """Per-replicate sums for stored replicate-weight columns: ``Σ w_r y`` and ``Σ w_r x``.

    Without ``guard`` (the caller has checked that no value is missing, as for
    :func:`numeric_exprs`) the sums are the floor's own ``w_r * y`` and ``w_r`` (ratios:
    ``w_r * x``).  With it each sum is ``w_r * v`` with ``v = CASE WHEN ok THEN y ELSE 0.0
    END`` the same expression for every replicate, which the engine computes once per row (a
    common subexpression): one product per replicate and row, not a conditional.
    """
    out = {}
    for i, (y, x, ok) in enumerate(items):
        yv = num(q, y) if y is not None else None
        xv = num(q, x) if x is not None else None
        if guard:
            yv = f"(CASE WHEN {ok} THEN {yv or '1.0'} ELSE 0.0 END)"
            xv = f"(CASE WHEN {ok} THEN {xv or '1.0'} ELSE 0.0 END)"
        for r, col in enumerate(reps):
            wr = num(q, col)
            out[f"ry_{i}_{r}"] = f"{wr} * {yv}" if yv else wr
            out[f"rx_{i}_{r}"] = f"{wr} * {xv}" if xv else wr
    return out
