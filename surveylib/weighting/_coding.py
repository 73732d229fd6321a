"""Coding the rows being weighted to the joint cells of some variables (integer arithmetic).

Used by :mod:`surveylib.weighting._population` (matching rows to population tables) and by
raking, which codes every margin variable at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import PRESENCE_PREFIX, factorize_column

# Every per-row step is integer arithmetic on level codes: each column is factorised once (and
# cached on the design, shared with the estimators' categorical codes), the rows being weighted
# are coded to the joint cells of the variables with one ``bincount``, and everything that
# compares levels -- matching them to a population table, as values or as text -- happens on
# the small table of distinct values and joint cells, never on the rows.

_DENSE_CELLS = 1 << 22  # joint code spaces up to this size are compressed with bincount


def _factorize(s: pd.Series, *, sort: bool) -> tuple[np.ndarray, list, np.ndarray]:
    """(codes, levels, ok) of a column: int64 codes (-1 = missing) into ``levels``."""
    return factorize_column(s, sort=sort)


def column_codes(source, var) -> tuple[np.ndarray, list, np.ndarray]:
    """Level codes of column ``var`` (-1 = missing), its distinct values and validity.

    ``source`` is a design (its :meth:`~surveylib.SurveyDesign.factor_codes`, cached per data and
    shared with the estimators' categorical codes) or a DataFrame (coded afresh).
    """
    if isinstance(source, pd.DataFrame):
        return _factorize(source[var], sort=False)
    try:
        return source.factor_codes(var, sort=True)
    except TypeError:  # values that do not sort (mixed types): code them unsorted
        return source.factor_codes(var, sort=False)


def _compress(flat: np.ndarray, size: int) -> np.ndarray:
    """Codes ``0..K-1`` of the distinct values of ``flat`` (in increasing order of value)."""
    if size <= max(_DENSE_CELLS, 4 * len(flat)):
        present = np.bincount(flat, minlength=size) > 0
        remap = np.cumsum(present) - 1
        return remap[flat]
    return np.unique(flat, return_inverse=True)[1].reshape(-1)


@dataclass(frozen=True, eq=False)
class CodedRows:
    """The rows being weighted, coded to the joint cells of some variables.

    Attributes
    ----------
    variables : tuple of str
    levels : tuple of lists, the distinct values of each variable in the data
    inv : (n_active,) int64, the joint cell of each active row (in row order)
    comp : (n_vars, K) int64, each joint cell's code of each variable (-1 = missing)
    active : (n,) bool
    counts : (K,) int64, active rows per joint cell (counted on first use: the messages that
        report them)
    joint_weights : (K,) float or None, the sum of the weights of the rows of each joint cell
        when :func:`code_rows` was given weights (``np.bincount(inv, weights)``, bit for bit)
    """

    variables: tuple
    levels: tuple
    inv: np.ndarray
    comp: np.ndarray
    active: np.ndarray
    joint_weights: np.ndarray | None = None

    @property
    def n_joint(self) -> int:
        return self.comp.shape[1]

    @functools.cached_property
    def counts(self) -> np.ndarray:
        return np.bincount(self.inv, minlength=self.n_joint)

    def rows_in(self, joint_mask: np.ndarray) -> np.ndarray:
        """Positions (in the data) of the active rows whose joint cell is in ``joint_mask``."""
        return np.flatnonzero(self.active)[joint_mask[self.inv]]

    def to_rows(self, per_joint: np.ndarray, fill=-1) -> np.ndarray:
        """A per-joint-cell array spread to every row (``fill`` outside the active rows)."""
        out = np.full(len(self.active), fill, dtype=per_joint.dtype)
        out[self.active] = per_joint[self.inv]
        return out


def _cells_present(flat: np.ndarray, size: int) -> np.ndarray:
    """Which of the values ``0..size-1`` occur in ``flat``: read off the first
    ``PRESENCE_PREFIX`` rows when those hold every value, else off every row."""
    present = np.zeros(size, dtype=bool)
    present[flat[:PRESENCE_PREFIX]] = True
    if not present.all():
        present[flat] = True
    return present


JOINT_BLOCK = 1 << 17  # rows per block of joint values: summed by cell while in cache


def _joint_values(codes: list, radices: list, shifts: list, n: int, size: int,
                  weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The mixed-radix value of every row (a new int64 array; ``size``, the product of the
    radices, at most ``2**62``) and, with ``weights``, the sum of the weights of the rows of
    each value ``0..size-1``.

    Built block by block: each block's values are summed by ``np.add.at`` while they are in
    cache, which makes the additions of ``np.bincount(values, weights)`` in the same order
    (each value's weights added one by one in row order), so the sums are the same to the
    bit, without a second pass over a new n-vector (and numpy's add.at is faster than
    bincount's two passes).
    """
    flat = np.empty(n, dtype=np.int64)
    sums = None if weights is None else np.zeros(size)
    m = len(codes)
    for i in range(0, n, JOINT_BLOCK):
        f = flat[i:i + JOINT_BLOCK]
        if m == 0:
            f[:] = 0
        else:  # ((c0 + s0) r1 + c1 + s1) r2 + ...: the first code times the next radix
            scale = radices[1] if m > 1 else 1
            np.multiply(codes[0][i:i + JOINT_BLOCK], scale, out=f)
            if shifts[0]:
                f += scale
            for j in range(1, m):
                if j > 1:
                    f *= radices[j]
                f += codes[j][i:i + JOINT_BLOCK]
                if shifts[j]:
                    f += 1
        if sums is not None and weights is not None:
            np.add.at(sums, f, weights[i:i + JOINT_BLOCK])
    return flat, sums


def code_rows(source, variables, active: np.ndarray, *,
              weights: np.ndarray | None = None) -> CodedRows:
    """Code the ``active`` rows of ``source`` (design or DataFrame) to the joint cells of
    ``variables``: one multiply-add per variable and row, then the cells present.

    ``weights`` (one per active row), when given, are summed by joint cell as the rows are
    coded (:attr:`CodedRows.joint_weights`).

    The joint cells are numbered in the lexicographic order of the variables' codes (missing,
    -1, first).  A variable with missing values takes ``levels + 1`` digits (its code + 1),
    one without ``levels`` (its code): the order, and so the numbering, is the same.  When
    every combination occurs (read off the first rows when they hold them all), the mixed-radix
    value of a row is its joint cell, with no second pass to renumber the rows.
    """
    variables = tuple(variables)
    n_act = int(np.count_nonzero(active))  # (a sum of booleans is 10x slower)
    everyone = n_act == len(active)
    codes, levels, shifts = [], [], []
    for v in variables:
        c, lev, ok = column_codes(source, v)
        codes.append(c if everyone else c[active])
        levels.append(lev)
        shifts.append(int(not (ok if everyone else ok[active]).all()))  # 1: code + 1, 0 = NA
    radices = [len(lev) + shift for lev, shift in zip(levels, shifts, strict=True)]
    size = int(np.prod(radices, dtype=object)) if radices else 1
    if n_act and size <= max(_DENSE_CELLS, 4 * n_act):
        # the cells present, and each cell's codes read off its mixed-radix value (no pass
        # over the rows to find a row of each cell)
        flat, sums = _joint_values(codes, radices, shifts, n_act, size, weights)
        present_mask = _cells_present(flat, size)
        present = np.flatnonzero(present_mask)
        if len(present) == size:  # every combination: the values are the joint cells
            inv = flat
        else:  # (each cell's sum is its value's: the same rows, added in the same order)
            inv = (np.cumsum(present_mask) - 1).take(flat)  # flat is new (writeable): take
            sums = None if sums is None else sums[present]
        comp = np.empty((len(codes), len(present)), dtype=np.int64)
        rem = present
        for j in range(len(codes) - 1, -1, -1):
            rem, digit = np.divmod(rem, radices[j])
            comp[j] = digit - shifts[j]
        return CodedRows(variables, tuple(levels), inv, comp, active, sums)
    return _code_sparse(variables, codes, levels, shifts, active, n_act, weights)


def _code_sparse(variables, codes, levels, shifts, active, n_act, weights) -> CodedRows:
    """:func:`code_rows` for joint code spaces too large to index: the mixed-radix values
    (compressed whenever the next variable would overflow 2**62), then their distinct values
    numbered in increasing order."""
    flat: np.ndarray | None = None
    size = 1
    pending = False  # the multiplication by the next radix already done
    for j, (c, lev, shift) in enumerate(zip(codes, levels, shifts, strict=True)):
        radix = len(lev) + shift
        if flat is not None and size * radix > (1 << 62):
            flat = _compress(flat, size)
            size = int(flat.max()) + 1 if n_act else 1
        if flat is None:  # one new array for all the variables: the first code times the
            # next radix (when it cannot overflow), else the first code
            nxt = len(levels[j + 1]) + shifts[j + 1] if j + 1 < len(codes) else 1
            scale = nxt if radix * nxt <= (1 << 62) else 1
            flat = np.multiply(c, scale, dtype=np.int64) if scale > 1 else c.astype(np.int64)
            if shift:
                flat += scale
            pending = scale > 1
        else:
            if not pending:
                flat *= radix
            pending = False
            flat += c
            if shift:
                flat += 1
        size *= radix
    if flat is None:
        flat = np.zeros(n_act, dtype=np.int64)
    inv = _compress(flat, size) if n_act else flat
    k = int(inv.max()) + 1 if n_act else 0
    rep = np.zeros(k, dtype=np.int64)
    rep[inv] = np.arange(n_act)  # any row of a cell represents it: its rows share every code
    comp = np.array([c[rep] for c in codes], dtype=np.int64).reshape(len(codes), k)
    sums = None if weights is None else np.bincount(inv, weights=weights, minlength=k)
    return CodedRows(variables, tuple(levels), inv, comp, active, sums)
