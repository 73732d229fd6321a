"""The two-way table and its Rao–Scott tests over an engine (R ``svychisq``).

The cells of ``row`` x ``col`` are one categorical variable whose level is computed in SQL,
``(CASE row WHEN r_1 THEN 0 ...) * n_col + (CASE col WHEN c_1 THEN 0 ...)`` (NULL where either
is missing: those rows leave the table and stay in the design, R ``na.rm=TRUE``); one
``GROUP BY unit, domain, cell`` gives the per-(PSU, cell) sums of the counts and shares, and
the variance engine their covariances.  The tests are :func:`surveylib.inference.raoscott.
independence_test` on those small matrices, unchanged; by domains, on each domain's subset
design, its rows and df, all made from one grouped query (:meth:`~.base.LazyDesign.
domain_subsets`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .._validation import as_list
from ..errors import ColumnError, SurveyDesignError
from ..inference.raoscott import CHISQ_METHODS, independence_test, method_name
from ..inference.tables import MAX_LEVELS, Crosstab
from ..results import Estimate
from .estimate import coded_cells
from .queries import conjunction, present


def literal(value) -> str:
    """A value as a SQL literal (strings quoted, booleans and numbers as themselves)."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def level_case(q, col: str, levels: list) -> str:
    """``CASE col WHEN level_0 THEN 0 ... END`` (NULL for any other value)."""
    whens = " ".join(f"WHEN {literal(v)} THEN {i}" for i, v in enumerate(levels))
    return f"(CASE {q(col)} {whens} END)"


def domain_condition(q, values: dict) -> str:
    """The SQL condition of one domain (``col = value AND ...``)."""
    return conjunction(f"{q(c)} = {literal(v)}" for c, v in values.items())


class LazyCrosstab(Crosstab):
    """A :class:`~surveylib.inference.tables.Crosstab` over an engine: its shares within rows
    and columns are the engine's proportions (on first use) and its tests by domain run on
    the design's SQL subset of each domain (every domain's made from one grouped query)."""

    def _shares(self, var: str, within: str) -> Estimate:
        """Shares of ``var``'s levels within each level of ``within``, pushed down."""
        return self._design.proportion(var, by=[*self.by, within], na_rm=True, ci_method="mean")

    def test(self, method: str = "F"):
        """Test independence of row and col (see :meth:`Crosstab.test`)."""
        if not self.by:
            return super().test(method)
        method = method_name(method)
        if method not in CHISQ_METHODS:
            return super().test(method)  # raises the usual error
        design = self.design
        q = design.source.quote
        keys = self.cell_shares.keys
        dom_cols = list(self.by)
        nr, nc = len(self.row_levels), len(self.col_levels)
        domains = keys[dom_cols].drop_duplicates()
        conditions = {tuple(dk): domain_condition(q, dict(zip(dom_cols, dk, strict=True)))
                      for dk in domains.itertuples(index=False, name=None)}
        # every domain's subset design, rows and df from one grouped query (not 2 per domain)
        subsets = design.domain_subsets(dom_cols, conditions)
        rows = {(k if isinstance(k, tuple) else (k,)): np.asarray(idx, dtype=np.int64)
                for k, idx in keys.groupby(dom_cols, sort=False).indices.items()}  # its cells
        out = {}
        for key in conditions:
            idx = rows[key]
            sub, n, df = subsets[key]
            out[key if len(key) > 1 else key[0]] = independence_test(
                sub, self.cell_shares.values[idx],
                self.cell_shares.vcov_matrix[np.ix_(idx, idx)], self.counts.values[idx],
                self.counts.vcov_matrix[np.ix_(idx, idx)], nr, nc, n, df,
                method, self.row, self.col, (self.row_levels, self.col_levels))
        return out

    @property
    def design(self):
        """The design the table was made from."""
        return self._design


def crosstab(design, row: str, col: str, *, by=None) -> LazyCrosstab:
    """Two-way table of ``row`` by ``col`` pushed down (see
    :func:`surveylib.inference.crosstab`; levels are those observed on rows with both)."""
    design.check_columns([row, col], role="crosstab")
    if row == col:
        raise SurveyDesignError(f"crosstab needs two different variables, got {row!r} twice.")
    by_cols = as_list(by)
    if row in by_cols or col in by_cols:
        raise SurveyDesignError(f"by={by_cols} must not contain the table's variables "
                                f"{row!r}, {col!r}.")
    design.check_columns(by_cols, role="by")
    src, q = design.source, design.source.quote
    both = conjunction([present(q, v, numeric=src.is_numeric(v)) for v in (row, col)])
    pairs = src.fetch(f"SELECT DISTINCT {q(row)} AS r, {q(col)} AS c FROM {src.table} "
                      f"WHERE {conjunction([design.where, both])}")
    if pairs.empty:
        raise SurveyDesignError(f"no rows of the design have values of both {row!r} and "
                                f"{col!r}.", parameter="crosstab", value=[row, col])
    levels = []
    for var, name in ((row, "r"), (col, "c")):
        lev = sorted(pd.unique(pairs[name]).tolist())
        if len(lev) > MAX_LEVELS:
            raise ColumnError(
                f"variable {var!r} has {len(lev)} distinct values; a crosstab is for "
                f"categorical variables with at most {MAX_LEVELS} levels — recode it into "
                "groups first (a CASE expression in the query).", parameter="crosstab",
                value=var)
        levels.append(lev)
    rl, cl = levels
    nr, nc = len(rl), len(cl)
    cell = f"({level_case(q, row, rl)} * {nc} + {level_case(q, col, cl)})"
    label = f"{row} x {col}"
    counts = coded_cells(design, label, cell, nr * nc, by=by_cols, kind="total",
                         statistic="total")
    shares = coded_cells(design, label, cell, nr * nc, by=by_cols, kind="ratio",
                         statistic="mean")
    counts, shares = (_relabel(e, by_cols, row, col, rl, cl) for e in (counts, shares))
    return LazyCrosstab(row=row, col=col, by=tuple(by_cols), row_levels=rl, col_levels=cl,
                        counts=counts, cell_shares=shares, _design=design)


def _relabel(est: Estimate, by_cols, row, col, rl, cl) -> Estimate:
    """Keys ``[*by, variable, level=cell]`` -> ``[*by, row, variable=col, level]``."""
    k = est.keys["level"].astype(int).to_numpy()
    nc = len(cl)
    keys = est.keys[by_cols].reset_index(drop=True).copy()
    keys[row] = pd.Series([rl[i] for i in k // nc], dtype=object)
    keys["variable"] = col
    keys["level"] = pd.Series([cl[j] for j in k % nc], dtype=object)
    return dataclasses.replace(est, keys=keys, by=(*by_cols, row))
