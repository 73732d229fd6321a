"""Per-(unit, cell) weighted sums: the only thing a variance engine needs from the data.

Every estimator of surveylib is a ratio of weighted totals (or a total) over *cells*
(domain x variable x level).  Before any variance algebra the data are reduced, once, to

* ``wy[u, c]`` the sum of ``w y`` over the rows of unit ``u`` that feed cell ``c``,
* ``wx[u, c]`` the same sum of ``w x`` (``w`` when the cell has no denominator),
* ``n[c]`` the number of rows feeding cell ``c``, and, for design effects,
* ``wyy[c]`` (and ``wxy``, ``wxx`` for ratios) the weighted sums of squares and products.

Units are those the engine asks for (the PSUs of the finest stage for Taylor linearisation,
the first-stage PSUs for replicate factors).  The engines turn these small tables into a
covariance (:mod:`surveylib.variance.engine`).  This module computes them in memory with
``numpy.bincount``; another backend (a database ``GROUP BY unit, cell``) need only return the
same :class:`CellSums`.

A :class:`CellGroup` describes which rows feed which cells: one numeric variable gives one
cell per domain; a categorical variable with ``L`` levels gives ``L`` cells per domain, each
fed by the rows of that level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: rows per block when a product of two row vectors is summed (bounds temporaries)
ROW_BLOCK = 65536


@dataclass(frozen=True)
class CellGroup:
    """The rows and values behind the cells of one variable.

    Attributes
    ----------
    base : int
        Index of the group's first cell; its cells are ``base + domain * levels + level``.
    levels : int
        Number of levels (1 for a numeric variable).
    categorical : bool
        Whether ``values`` holds level codes (each level's indicator is summed) rather than
        numbers.
    valid : (n,) bool
        Rows that feed the group's cells (in a domain, with weight and a value).
    dom : (n,) int64
        ``domain * levels`` of every valid row (0 elsewhere); may be a read-only broadcast.
    values : (n,) float or int64
        The variable's values, or its level codes (-1 where missing).
    x : (n,) float or None
        The denominator's values (``None``: a denominator of 1 for every row).
    shared : tuple or None
        A key naming the row set when it is the design's full set of rows with weight in a
        domain (sums that depend only on the rows are then memoised under it).
    every_row : bool
        Whether ``valid`` is every row of the data (no masking needed at all).
    """

    base: int
    levels: int
    categorical: bool
    valid: np.ndarray
    dom: np.ndarray
    values: np.ndarray
    x: np.ndarray | None
    shared: tuple | None
    every_row: bool

    def cells(self, n_domains: int) -> slice:
        """The slice of cell indices this group fills."""
        return slice(self.base, self.base + n_domains * self.levels)


@dataclass(frozen=True)
class CellSums:
    """Weighted sums per (unit, cell) and per cell; see the module docstring.

    ``shift[c]`` is a constant subtracted from ``y`` before summing (it keeps the per-unit
    subtraction of a mean well conditioned); ``wyy`` is summed on the shifted values.
    ``wsum`` is the sum of ``w`` per cell (equal to :attr:`den` without denominators);
    ``wxy`` and ``wxx`` are ``None`` unless some cell has a denominator.  ``dshift`` (two
    arrays ``(a, b)``, or ``None`` for zeros) are constants near the means of ``y`` and ``x``
    the squares were summed around, beyond ``shift``: ``wyy``, ``wxy``, ``wxx`` are sums on
    ``y - shift - a`` and ``x - b`` (ratio residuals ``y - R x`` of large values nearly
    proportional, and squares of values large against their spread, lose most digits in the
    unshifted expansion).  Sums that are not centred (totals; replicate engines) have their
    squares taken around such an ``a``.
    """

    wy: np.ndarray
    wx: np.ndarray
    n: np.ndarray
    shift: np.ndarray
    wsum: np.ndarray | None = None
    wyy: np.ndarray | None = None
    wxy: np.ndarray | None = None
    wxx: np.ndarray | None = None
    categorical: np.ndarray | None = None
    dshift: tuple | None = None

    @property
    def num(self) -> np.ndarray:
        """Sum of ``w (y - shift)`` per cell."""
        return self.wy.sum(axis=0)

    @property
    def den(self) -> np.ndarray:
        """Sum of ``w x`` (or ``w``) per cell."""
        return self.wx.sum(axis=0)

    def resid_ss(self, kind: str, est_shifted: np.ndarray) -> np.ndarray:
        """Weighted residual sum of squares per cell, for design effects.

        ``sum w (y - c)^2`` with ``c`` the cell's estimate (ratios and means:
        ``sum w (y - R x)^2``) or, for totals, its mean ``sum w y / sum w``.
        """
        num = self.num
        wyy = np.where(self.categorical, num, self.wyy)  # type: ignore[arg-type]  # set with squares=True, which design effects use
        if self.wxy is None and self.dshift is not None:  # squares taken around shift + a
            num = num - self.dshift[0] * self.wsum
            est_shifted = est_shifted - self.dshift[0]
        if kind == "total":
            return wyy - num**2 / np.where(self.wsum == 0, 1.0, self.wsum)  # type: ignore[arg-type]  # likewise
        r = est_shifted
        if self.wxy is None:
            return wyy - 2 * r * num + r**2 * self.wsum
        ss = wyy - 2 * r * self.wxy + r**2 * self.wxx
        if self.dshift is None:
            return ss
        # sum w (y - R x)^2 = sum w (a' - R b' + c)^2 with a' = y - a, b' = x - b and
        # c = a - R b; the cross term is 2 c (sum w y - R sum w x - c sum w) = -2 c^2 sum w
        c = self.dshift[0] - r * self.dshift[1]
        return ss - c**2 * self.wsum


def product_sums(key: np.ndarray, a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """``bincount(key, a * b)`` by blocks of rows, so no n-vector of products is formed."""
    out = np.zeros(size)
    for i in range(0, len(key), ROW_BLOCK):
        j = i + ROW_BLOCK
        out += np.bincount(key[i:j], a[i:j] * b[i:j], minlength=size)
    return out


def unit_cell_sums(groups, *, w: np.ndarray, g: np.ndarray, n_domains: int, k: int,
                   unit: np.ndarray, n_units: int, center: bool, squares: bool,
                   memo: Callable) -> CellSums:
    """Per-(unit, cell) sums of every group of cells in one pass over the rows per variable.

    Parameters
    ----------
    groups : sequence of CellGroup
    w : (n,) estimation weights (zero outside the design's rows)
    g : (n,) domain code of every row (-1 outside every domain)
    n_domains, k : number of domains and of cells
    unit, n_units : each row's unit code and the number of units
    center : subtract a constant near each numeric variable's mean before summing (the
        Taylor engine's centring; exact algebraically, better conditioned numerically)
    squares : also sum the squares and cross-products design effects need
    memo : ``memo(key, compute)`` memoises values that depend only on the design's rows
        (called with keys from ``CellGroup.shared``)
    """
    D, P = n_domains, n_units
    WY, WX = np.zeros((P, k)), np.zeros((P, k))
    n = np.zeros(k)
    shift = np.zeros(k)
    wyy: Any = np.zeros(k) if squares else None  # arrays where set, else None
    wxy: Any
    wxx: Any
    wxy = wxx = None
    dshift: Any = None  # (a, b) per cell: the shifts of y and x in a ratio's squares
    wsum = np.zeros(k)
    categorical = np.zeros(k, dtype=bool)
    for grp in groups:
        L = grp.levels
        width = D * L
        span = grp.cells(D)
        valid, dom, shared = grp.valid, grp.dom, grp.shared

        def cached(name, compute, shared=shared):
            return memo((*shared, name), compute) if shared else compute()

        wv = w if grp.every_row else cached("weights", lambda valid=valid: w * valid)

        def domain_counts(valid=valid, dom=dom, L=L, every_row=grp.every_row):
            if D == 1:
                return np.array([float(np.count_nonzero(valid))])
            domain = dom // L if L > 1 else dom
            if every_row:  # no mask to weigh by
                return np.bincount(domain, minlength=D).astype(float)
            return np.bincount(domain, valid, minlength=D)

        n[span] = np.repeat(cached("rows per domain", domain_counts), L)
        if grp.categorical:  # key: unit * (D L) + domain * L + level
            lev = grp.values if grp.every_row else np.where(valid, grp.values, 0)
            key = (unit * L if D == 1 else
                   cached(("unit x domain x levels", L),
                          lambda dom=dom, width=width: unit * width + dom)) + lev
            sums = np.bincount(key, wv, minlength=P * width).reshape(P, D, L)
            WY[:, span] += sums.reshape(P, width)
            WX[:, span] += np.repeat(sums.sum(axis=2), L, axis=1)
            categorical[span] = True
            continue
        key = unit if D == 1 else cached("unit x domain", lambda dom=dom: unit * D + dom)
        values = grp.values
        m = 0.0
        if center and grp.x is None:  # a constant shift leaves a mean's deviations unchanged;
            m = float(values[:4096].mean())  # one near the mean keeps them well conditioned
        yv = values - m if m else values
        if squares:
            wyv = wv * yv
        else:  # yv is not needed again: weight it in place (one n-vector, not two)
            wyv = np.multiply(wv, yv, out=yv if m else None)
        WY[:, span] += np.bincount(key, wyv, minlength=P * D).reshape(P, D)
        if grp.x is None:
            WX[:, span] += cached("unit x domain weights", lambda key=key, wv=wv: (
                np.bincount(key, wv, minlength=P * D).reshape(P, D)))
        else:
            WX[:, span] += product_sums(key, wv, grp.x, P * D).reshape(P, D)
            wsum[span] = np.bincount(dom, wv, minlength=D) if D > 1 else wv.sum()
        shift[span] = m
        if squares and grp.x is None:
            if not center:  # the sums are not centred: the squares around a near the mean
                a = float(values[:4096].mean())
                if dshift is None:
                    dshift = (np.zeros(k), np.zeros(k))
                dshift[0][span] = a
                yv = values - a
                wyv = wv * yv
            wyy[span] = np.bincount(dom, wyv * yv, minlength=D) if D > 1 else np.dot(wyv, yv)
        elif squares:  # a ratio: the squares on y - a and x - b, a and b near the means
            if wxy is None:
                wxy, wxx = np.zeros(k), np.zeros(k)
            if dshift is None:
                dshift = (np.zeros(k), np.zeros(k))
            a, b = float(values[:4096].mean()), float(grp.x[:4096].mean())
            ya, xb = values - a, grp.x - b
            wya, wxb = wv * ya, wv * xb
            wyy[span] = np.bincount(dom, wya * ya, minlength=D) if D > 1 else np.dot(wya, ya)
            wxy[span] = (np.bincount(dom, wxb * ya, minlength=D) if D > 1
                         else np.dot(wxb, ya))
            wxx[span] = (np.bincount(dom, wxb * xb, minlength=D) if D > 1
                         else np.dot(wxb, xb))
            dshift[0][span], dshift[1][span] = a, b
    den = WX.sum(axis=0)
    has_x = np.zeros(k, dtype=bool)
    for grp in groups:
        has_x[grp.cells(D)] = grp.x is not None
    wsum = np.where(has_x, wsum, den)
    if wxy is not None:  # cells without a denominator: x = 1 (y around shift + dshift[0])
        num = WY.sum(axis=0) if dshift is None else WY.sum(axis=0) - dshift[0] * wsum
        wxy, wxx = np.where(has_x, wxy, num), np.where(has_x, wxx, wsum)
    return CellSums(WY, WX, n, shift, wsum, wyy, wxy, wxx, categorical, dshift)
