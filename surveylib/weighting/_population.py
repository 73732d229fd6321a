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

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import (
    as_list,
    check_columns,
    close_matches,
    data_error,
    invalid_argument,
)
from ..errors import WeightingError
from ._coding import CodedRows, code_rows, column_codes

__all__ = ["CellMatch", "CodedRows", "PopulationTable", "code_rows", "column_codes",
           "match_cells", "population_table"]

SHARE_TOL = 1e-6


@dataclass(frozen=True)
class PopulationTable:
    """Population values of the cells of one or more variables.

    Attributes
    ----------
    variables : tuple of str
    values : float array, counts or shares of each cell
    is_share : bool, True when the values sum to 1 (then they are shares)
    what : str, the name used in messages (e.g. "margin ('sex', 'agegrp')")
    parameter : str, the argument that gave the table (``population``, ``margins``, ``totals``),
        the ``parameter`` field of the errors about it
    given_keys : DataFrame or None, the keys as read from the table given
    levels : list or None, the levels of a dict of one variable whose keys are all ``int``
        (within int64) or all ``str`` (:func:`plain_levels`); :attr:`keys` is then built
        only when asked for
    keys : DataFrame, one column per variable, one row per cell (population order)
    """

    variables: tuple
    values: np.ndarray
    is_share: bool
    what: str
    parameter: str = "population"
    given_keys: pd.DataFrame | None = None
    levels: list | None = None

    @functools.cached_property
    def keys(self) -> pd.DataFrame:
        if self.given_keys is not None:
            return self.given_keys
        return pd.DataFrame([(x,) for x in self.levels or []], columns=list(self.variables))

    def error(self, problem: str, hint: str, *, value=None, expected=None) -> WeightingError:
        """A :class:`WeightingError` about this table: ``"<what>: <problem>; <hint>."``."""
        return data_error(WeightingError, f"{self.what}: {problem}", hint,
                          parameter=self.parameter, value=value, expected=expected)

    def label(self, i: int) -> str:
        if self.levels is not None:  # as keys.iat[i, 0] reads: int64 or str
            x = self.levels[i]
            return repr(np.int64(x) if type(x) is int else x)
        if len(self.variables) == 1:
            return repr(self.keys.iat[i, 0])
        row = self.keys.iloc[i]
        return "(" + ", ".join(f"{v}={row[v]!r}" for v in self.variables) + ")"

    def scaled(self, total: float) -> np.ndarray:
        """Counts: the values; shares: the values times ``total``."""
        return self.values * total if self.is_share else self.values.copy()


INT64_RANGE = (-(2**63), 2**63 - 1)
EXACT_INT = 2**53  # ints up to this size are exact as floats


def plain_levels(levels: list) -> list | None:
    """``levels`` when every one is an ``int`` within int64 or every one a ``str`` (``bool``
    and numpy scalars are not), else ``None``.

    Such levels compare and hash alike in a dict and in a pandas index, form an int64 or a
    string column, and, as the keys of a dict, are distinct also as text: a population table
    of them is matched with dict lookups and its key frame built only when asked for.
    """
    if all(type(x) is str for x in levels):
        return levels
    lo, hi = INT64_RANGE
    if all(type(x) is int and lo <= x <= hi for x in levels):
        return levels
    return None


def _norm(v) -> str:
    """Text form of a level used for the fallback match (1, 1.0 and "1" agree)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v).strip()


def population_table(spec, variables, *, what: str, parameter: str = "population"
                     ) -> PopulationTable:
    """Normalise a population ``spec`` for ``variables`` (see the module docstring).

    ``parameter`` names the argument that gave ``spec`` in the errors' structured field.
    """
    variables = tuple(as_list(variables))
    k = len(variables)
    empty = PopulationTable(variables, np.zeros(0), False, what, parameter,
                            given_keys=pd.DataFrame())
    levels, vals, raw = None, None, None
    keys: pd.DataFrame | None
    if isinstance(spec, pd.DataFrame):
        missing = [v for v in variables if v not in spec.columns]
        if missing:
            near = [m for v in missing for m in close_matches(v, spec.columns)]
            raise empty.error(
                f"the population table has no column(s) {missing} (columns: "
                f"{list(spec.columns)})",
                (f"did you mean {near[0]!r}? " if near else "")
                + "give one column per variable and one count column",
                value=missing, expected=list(variables))
        rest = [c for c in spec.columns if c not in variables]
        if len(rest) != 1:
            raise empty.error(
                f"the population table must have exactly one value column besides "
                f"{list(variables)}, found {rest}", "drop the extra columns", value=rest)
        keys = spec[list(variables)].reset_index(drop=True)
        raw = spec[rest[0]]
    elif isinstance(spec, pd.Series):
        if spec.index.nlevels != k:
            raise empty.error(
                f"the population Series has {spec.index.nlevels} index level(s) but {k} "
                f"variable(s) {list(variables)}",
                "index it by " + ("the levels" if k == 1 else "a MultiIndex of the levels"),
                value=spec.index.nlevels, expected=k)
        keys = spec.index.to_frame(index=False)
        keys.columns = list(variables)
        raw = spec.reset_index(drop=True)
    elif isinstance(spec, Mapping):
        items = list(spec.items())
        if not items:
            raise empty.error("the population table is empty", "give a value for every level")
        if k == 1:
            levels = plain_levels([key for key, _ in items])
            rows = [(key,) for key, _ in items] if levels is None else []
        else:
            rows = []
            for key, _ in items:
                if not isinstance(key, tuple) or len(key) != k:
                    raise empty.error(
                        f"key {key!r} is not a tuple of {k} levels",
                        f"give one level for each of {list(variables)}, e.g. "
                        f"{tuple('...' for _ in variables)}", value=key,
                        expected=f"a tuple of {k} levels")
                rows.append(key)
        keys = None if levels is not None else pd.DataFrame(rows, columns=list(variables))
        vals = [v for _, v in items]
        if not all(type(v) is float or (type(v) is int and abs(v) <= EXACT_INT) for v in vals):
            raw = pd.Series(vals)  # any other values: as pandas reads them
    else:
        raise invalid_argument(
            parameter, spec, "a dict, Series or DataFrame of counts or shares",
            "give a count per level, e.g. {level: count}", shown=f"<{type(spec).__name__}>")
    if keys is not None and len(keys) == 0:
        raise empty.error("the population table is empty", "give a value for every level")
    if raw is None:  # numbers of a dict: the floats pandas would read
        values = np.array(vals, dtype=np.float64)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    table = PopulationTable(variables, values, False, what, parameter, given_keys=keys,
                            levels=levels)
    if len(bad):
        raw = pd.Series(vals) if raw is None else raw
        raise table.error(
            f"population value for level {table.label(bad[0])} is {raw.iloc[bad[0]]!r}",
            "population counts and shares must be finite numbers >= 0",
            value=raw.iloc[bad[0]], expected="a finite number >= 0")
    dup = _text_duplicates(table.keys, spec) if levels is None else np.zeros(0, dtype=bool)
    if dup.any():
        label = table.label(int(np.flatnonzero(np.asarray(dup))[0]))
        raise table.error(f"level {label} appears twice in the population table",
                          "give each level once", value=label)
    total = values.sum()
    if total <= 0:
        raise table.error(f"the population values sum to {total:g}", "they must add up to > 0",
                          value=float(total), expected="> 0")
    is_share = abs(total - 1.0) <= SHARE_TOL
    return PopulationTable(variables, values, is_share, what, parameter, given_keys=keys,
                           levels=levels)


def _text_duplicates(keys: pd.DataFrame, spec) -> pd.Series:
    """Rows of ``keys`` whose levels as text repeat an earlier row's (``1`` and ``"1"``).

    The keys of a dict of one variable are distinct values; when they are all ``int`` or all
    ``str`` their texts are distinct too, so no row is a duplicate (no pass of ``astype(str)``).
    """
    if isinstance(spec, Mapping) and keys.shape[1] == 1:
        kinds = {type(k) for k in spec}
        if kinds == {int} or kinds == {str}:
            return pd.Series(np.zeros(len(keys), dtype=bool))
    return keys.astype(str).duplicated()


def _level_index(distinct: list, levels: pd.Series | list) -> np.ndarray:
    """Position in ``levels`` of each value of ``distinct`` (-1: absent); by value, else as text.

    ``levels`` as a list: distinct plain levels (:func:`plain_levels`), and ``distinct`` plain
    too; they are looked up in a dict, which finds what the pandas index finds for them.
    """
    if isinstance(levels, list):
        lev_index: Any = levels
        pos = {x: i for i, x in enumerate(levels)}
        idx = np.array([pos.get(x, -1) for x in distinct], dtype=np.int64)
    else:
        lev_index = pd.Index(levels.to_numpy(dtype=object))
        idx = lev_index.get_indexer(pd.Index(distinct, dtype=object))
    if (idx < 0).any():
        lookup: dict = {}
        for j, s in enumerate(_norm(v) for v in lev_index):
            lookup.setdefault(s, j)
        idx = np.array([lookup.get(_norm(v), -1) for v in distinct], dtype=np.int64)
    return idx


@dataclass(frozen=True, eq=False)
class CellMatch:
    """Rows matched to the cells of a population table.

    ``joint_cells`` is the table cell of each joint cell of ``coded``; :attr:`cells` spreads it
    to the rows (-1 outside the rows weighted).
    """

    table: PopulationTable
    coded: CodedRows
    joint_cells: np.ndarray

    @property
    def n_cells(self) -> int:
        return len(self.table.values)

    @functools.cached_property
    def cells(self) -> np.ndarray:
        return self.coded.to_rows(self.joint_cells)


def match_cells(source, table: PopulationTable, active: np.ndarray, weights: np.ndarray,
                *, coded: CodedRows | None = None,
                joint_weights: np.ndarray | None = None) -> CellMatch:
    """Match every active row to a cell of ``table``; errors name the level and the fix.

    ``source`` is a design (column codes are cached on it) or a DataFrame; ``coded`` may give
    the rows already coded on a superset of the table's variables (raking codes all margins'
    variables at once), and ``joint_weights`` the sum of ``weights`` in each of its joint
    cells (so several tables matched to one coding sum the weights once).  Levels are compared on the table of distinct values only.

    Raises
    ------
    WeightingError
        A level or combination in the sample is absent from the table; a population cell with
        a positive value has no (positive-weight) rows; a sample cell has population value 0.
    """
    data = source if isinstance(source, pd.DataFrame) else source.data
    check_columns(data, list(table.variables), role=f"{table.what}:")
    if coded is None:
        coded = code_rows(source, table.variables, active)
    per_var = []
    for j, v in enumerate(table.variables):
        comp = coded.comp[coded.variables.index(v)]
        na = comp < 0
        if na.any():
            first: Any = int(coded.rows_in(na)[0])  # the name is reused for an array below
            raise table.error(
                f"column {v!r} has {int(coded.counts[na].sum())} missing value(s) among the rows "
                f"being weighted (first at position {first})",
                "recode them into a level of the population table or drop those rows first",
                value=v, expected="no missing values")
        lev_list = coded.levels[coded.variables.index(v)]
        present = np.flatnonzero(np.bincount(comp, minlength=len(lev_list)))
        distinct = [lev_list[i] for i in present]
        uniq_levels: pd.Series | list
        if table.levels is not None and plain_levels(distinct) is not None:
            # plain levels on both sides: dict lookups; a dict's keys are distinct, in order
            uniq_levels, key_codes = table.levels, np.arange(len(table.levels))
        else:
            levels = table.keys.iloc[:, j]
            uniq_levels = pd.Series(pd.unique(levels.to_numpy(dtype=object)), dtype=object)
            key_codes = pd.Index(uniq_levels.to_numpy(dtype=object)).get_indexer(
                pd.Index(levels.to_numpy(dtype=object), dtype=object))
        idx = _level_index(distinct, uniq_levels)
        if (idx < 0).any():
            # name the absent levels in order of their first row, as a scan of the rows would
            first = np.full(coded.n_joint, len(coded.inv), dtype=np.int64)
            np.minimum.at(first, coded.inv, np.arange(len(coded.inv)))
            first_level = np.full(len(lev_list), len(coded.inv), dtype=np.int64)
            np.minimum.at(first_level, comp, first)
            absent = present[idx < 0]
            absent = absent[np.argsort(first_level[absent], kind="stable")]
            missing = [lev_list[i] for i in absent]
            bad = np.isin(comp, absent)
            near = close_matches(missing[0], list(uniq_levels))
            raise table.error(
                f"level(s) {missing[:5]!r} of column {v!r} occur in the sample "
                f"({int(coded.counts[bad].sum())} row(s)) but not in the population table "
                f"(levels: {list(uniq_levels)[:10]})",
                (f"is {missing[0]!r} the table's {near[0]!r}? " if near else "")
                + "add them to the population table or recode/collapse them in the data",
                value=missing, expected=list(uniq_levels))
        to_level = np.full(len(lev_list), -1, dtype=np.int64)
        to_level[present] = idx
        per_var.append((to_level[comp], key_codes, len(uniq_levels)))
    dims = tuple(m for _, _, m in per_var)
    joint_flat = np.zeros(coded.n_joint, dtype=np.int64)
    key_flat = np.zeros(len(table.values), dtype=np.int64)
    for c, kc, m in per_var:
        joint_flat = joint_flat * m + c
        key_flat = key_flat * m + kc
    lookup = np.full(int(np.prod(dims)), -1, dtype=np.int64)
    lookup[key_flat] = np.arange(len(key_flat))
    cells = lookup[joint_flat]
    lost = cells < 0
    if lost.any():
        i = int(coded.rows_in(lost)[0])
        combo = ", ".join(f"{v}={data[v].iloc[i]!r}" for v in table.variables)
        raise table.error(
            f"the combination ({combo}) occurs in the sample ({int(coded.counts[lost].sum())} "
            "row(s) in such combinations) but not in the population table",
            "add the cell to the population table or collapse it with a neighbouring cell",
            value=combo)
    match = CellMatch(table, coded, cells)
    w_joint = joint_weights
    if w_joint is None:
        act = coded.active
        w_joint = np.bincount(coded.inv, weights=weights if act.all() else weights[act],
                              minlength=coded.n_joint)
    wsum = np.bincount(cells, weights=w_joint, minlength=len(table.values))
    empty = np.flatnonzero((wsum <= 0) & (table.values > 0))
    if len(empty):
        label = table.label(empty[0])
        raise table.error(
            f"population cell {label} (value {table.values[empty[0]]:g}) has no respondents in "
            f"the sample{' (and ' + str(len(empty) - 1) + ' more)' if len(empty) > 1 else ''}",
            "collapse it with a neighbouring cell (R's partial=TRUE would silently drop it)",
            value=label)
    zero = np.flatnonzero((wsum > 0) & (table.values == 0))
    if len(zero):
        raise table.error(
            f"population cell {table.label(zero[0])} has population 0 but "
            f"{int(coded.counts[cells == zero[0]].sum())} respondent(s) in the sample",
            "check the population table or drop those respondents", value=table.label(zero[0]))
    return match
