"""Population tables: parse counts or shares and match their levels to the sample.

A population table (a post-stratification table, a raking margin, the level totals of a
calibration variable, a sampling frame) can be given as

* a ``dict`` ``{level: value}`` (one variable) or ``{(level_1, level_2): value}`` (several);
* a ``pandas.Series`` indexed by the levels (a ``MultiIndex`` for several variables);
* a ``pandas.DataFrame`` with one column per variable plus exactly one numeric value column
  (any name, e.g. R's ``Freq``).

Levels are matched to the data by value; when some level does not match exactly, both sides are
compared as text (so ``1``, ``1.0`` and ``"1"`` are the same level; JSON and CSV files often turn
codes into strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_list, check_columns
from ..errors import WeightingError

SHARE_TOL = 1e-6


@dataclass(frozen=True)
class PopulationTable:
    """Population values of the cells of one or more variables.

    Attributes
    ----------
    variables : tuple of str
    keys : DataFrame, one column per variable, one row per cell (population order)
    values : float array, counts or shares of each cell
    is_share : bool, True when the values sum to 1 (then they are shares)
    what : str, the name used in messages (e.g. "margin ('sex', 'agegrp')")
    """

    variables: tuple
    keys: pd.DataFrame
    values: np.ndarray
    is_share: bool
    what: str

    def label(self, i: int) -> str:
        row = self.keys.iloc[i]
        if len(self.variables) == 1:
            return repr(row.iloc[0])
        return "(" + ", ".join(f"{v}={row[v]!r}" for v in self.variables) + ")"

    def scaled(self, total: float) -> np.ndarray:
        """Counts: the values; shares: the values times ``total``."""
        return self.values * total if self.is_share else self.values.copy()


def _norm(v) -> str:
    """Text form of a level used for the fallback match (1, 1.0 and "1" agree)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v).strip()


def population_table(spec, variables, *, what: str) -> PopulationTable:
    """Normalise a population ``spec`` for ``variables`` (see the module docstring)."""
    variables = tuple(as_list(variables))
    k = len(variables)
    if isinstance(spec, pd.DataFrame):
        missing = [v for v in variables if v not in spec.columns]
        if missing:
            raise WeightingError(
                f"{what}: the population table has no column(s) {missing} (columns: "
                f"{list(spec.columns)}); give one column per variable and one count column."
            )
        rest = [c for c in spec.columns if c not in variables]
        if len(rest) != 1:
            raise WeightingError(
                f"{what}: the population table must have exactly one value column besides "
                f"{list(variables)}, found {rest}; drop the extra columns."
            )
        keys = spec[list(variables)].reset_index(drop=True)
        raw = spec[rest[0]]
    elif isinstance(spec, pd.Series):
        if spec.index.nlevels != k:
            raise WeightingError(
                f"{what}: the population Series has {spec.index.nlevels} index level(s) but "
                f"{k} variable(s) {list(variables)}; index it by "
                + ("the levels." if k == 1 else "a MultiIndex of the levels.")
            )
        keys = spec.index.to_frame(index=False)
        keys.columns = list(variables)
        raw = spec.reset_index(drop=True)
    elif isinstance(spec, Mapping):
        items = list(spec.items())
        if not items:
            raise WeightingError(f"{what}: the population table is empty.")
        if k == 1:
            rows = [(key,) for key, _ in items]
        else:
            rows = []
            for key, _ in items:
                if not isinstance(key, tuple) or len(key) != k:
                    raise WeightingError(
                        f"{what}: key {key!r} must be a tuple of {k} levels, one for each of "
                        f"{list(variables)}."
                    )
                rows.append(key)
        keys = pd.DataFrame(rows, columns=list(variables))
        raw = pd.Series([v for _, v in items])
    else:
        raise WeightingError(
            f"{what}: population must be a dict, Series or DataFrame of counts or shares, "
            f"got {type(spec).__name__}."
        )
    if len(keys) == 0:
        raise WeightingError(f"{what}: the population table is empty.")
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    table = PopulationTable(variables, keys, values, False, what)
    if len(bad):
        raise WeightingError(
            f"{what}: population value for level {table.label(bad[0])} is {raw.iloc[bad[0]]!r}; "
            "population counts and shares must be finite numbers >= 0."
        )
    dup = keys.astype(str).duplicated()
    if dup.any():
        raise WeightingError(
            f"{what}: level {table.label(int(np.flatnonzero(dup.to_numpy())[0]))} appears twice in "
            "the population table; give each level once."
        )
    total = values.sum()
    if total <= 0:
        raise WeightingError(f"{what}: the population values sum to {total:g}; they must be > 0.")
    is_share = abs(total - 1.0) <= SHARE_TOL
    return PopulationTable(variables, keys, values, is_share, what)


def _codes_for(sample: pd.Series, levels: pd.Series, active: np.ndarray, *, var, what):
    """Code of each row's level in ``levels`` (-1 for rows outside ``active``)."""
    lev_index = pd.Index(levels.to_numpy(dtype=object))
    values = sample.to_numpy(dtype=object)
    na = pd.isna(sample).to_numpy() & active
    if na.any():
        raise WeightingError(
            f"{what}: column {var!r} has {int(na.sum())} missing value(s) among the rows being "
            f"weighted (first at position {int(np.flatnonzero(na)[0])}); recode them into a "
            "level of the population table or drop those rows first."
        )
    codes = np.full(len(values), -1, dtype=np.int64)
    inv, uniques = pd.factorize(pd.Series(values[active], dtype=object), sort=False)
    distinct = list(uniques)
    idx = lev_index.get_indexer(pd.Index(distinct, dtype=object))
    if (idx < 0).any():
        norm_lev = [_norm(v) for v in lev_index]
        lookup = {}
        for j, s in enumerate(norm_lev):
            lookup.setdefault(s, j)
        idx = np.array([lookup.get(_norm(v), -1) for v in distinct], dtype=np.int64)
    if (idx < 0).any():
        missing = [distinct[i] for i in np.flatnonzero(idx < 0)]
        n_rows = int(np.isin(inv, np.flatnonzero(idx < 0)).sum())
        raise WeightingError(
            f"{what}: level(s) {missing[:5]!r} of column {var!r} occur in the sample "
            f"({n_rows} row(s)) but not in the population table (levels: "
            f"{list(lev_index)[:10]}); add them to the population table or recode/collapse "
            "them in the data."
        )
    codes[active] = idx[inv]
    return codes


@dataclass(frozen=True)
class CellMatch:
    """Rows matched to the cells of a population table.

    ``cells`` is each row's cell (row of ``table.keys``), -1 outside the rows weighted.
    """

    table: PopulationTable
    cells: np.ndarray

    @property
    def n_cells(self) -> int:
        return len(self.table.values)


def match_cells(data: pd.DataFrame, table: PopulationTable, active: np.ndarray,
                weights: np.ndarray) -> CellMatch:
    """Match every active row to a cell of ``table``; errors name the level and the fix.

    Raises
    ------
    WeightingError
        A level or combination in the sample is absent from the table; a population cell with
        a positive value has no (positive-weight) rows; a sample cell has population value 0.
    """
    check_columns(data, list(table.variables), role=f"{table.what}:")
    per_var = []
    for j, v in enumerate(table.variables):
        levels = table.keys.iloc[:, j]
        uniq_levels = pd.Series(pd.unique(levels.to_numpy(dtype=object)), dtype=object)
        c = _codes_for(data[v], uniq_levels, active, var=v, what=table.what)
        key_codes = pd.Index(uniq_levels.to_numpy(dtype=object)).get_indexer(
            pd.Index(levels.to_numpy(dtype=object), dtype=object))
        per_var.append((c, key_codes, len(uniq_levels)))
    dims = tuple(m for _, _, m in per_var)
    row_flat = np.zeros(len(data), dtype=np.int64)
    key_flat = np.zeros(len(table.values), dtype=np.int64)
    for c, kc, m in per_var:
        row_flat = row_flat * m + np.where(c >= 0, c, 0)
        key_flat = key_flat * m + kc
    lookup = np.full(int(np.prod(dims)), -1, dtype=np.int64)
    lookup[key_flat] = np.arange(len(key_flat))
    cells = np.where(active, lookup[row_flat], -1)
    lost = active & (cells < 0)
    if lost.any():
        i = int(np.flatnonzero(lost)[0])
        combo = ", ".join(f"{v}={data[v].iloc[i]!r}" for v in table.variables)
        raise WeightingError(
            f"{table.what}: the combination ({combo}) occurs in the sample "
            f"({int(lost.sum())} row(s) in such combinations) but not in the population table; "
            "add the cell to the population table or collapse it with a neighbouring cell."
        )
    wsum = np.bincount(cells[active], weights=weights[active], minlength=len(table.values))
    empty = np.flatnonzero((wsum <= 0) & (table.values > 0))
    if len(empty):
        raise WeightingError(
            f"{table.what}: population cell {table.label(empty[0])} (value "
            f"{table.values[empty[0]]:g}) has no respondents in the sample"
            f"{' (and ' + str(len(empty) - 1) + ' more)' if len(empty) > 1 else ''}; "
            "collapse it with a neighbouring cell (R's partial=TRUE would silently drop it)."
        )
    zero = np.flatnonzero((wsum > 0) & (table.values == 0))
    if len(zero):
        raise WeightingError(
            f"{table.what}: population cell {table.label(zero[0])} has population 0 but "
            f"{int(np.sum(cells == zero[0]))} respondent(s) in the sample; check the population "
            "table or drop those respondents."
        )
    return CellMatch(table, cells)
