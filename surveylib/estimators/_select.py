"""Weighted quantiles of one variable without sorting all of it: the rows near each target
are sorted, the rest only counted and summed.

For the step rules (``math``/``hf1``, ``school``/``hf2``) a quantile at ``p`` is read off the
sorted values at the position where the cumulative weight passes ``p * sum(w)``.  Only the
rows around that position need sorting: a systematic sample of the values brackets the
targets between two values ``lo < hi``; the rows with ``lo < x <= hi`` (a few per cent of
them) are sorted stably; the rows with ``x <= lo`` contribute their count and their weight
total to every position in the block.  About five passes over the rows (comparisons, masked
sums) and a sort of the block replace the ``O(n log n)`` stable sort of every row.

**Exactness.**  The full-sort path (:func:`~.quantiles.cumulative_weights`) decides each
position on R's cumulative sums: extended precision, summed row by row in sorted order, and
rounded to double.  Here the weight total below the block is summed in another order, so a
cumulative weight may differ from R's in its last bits.  Every decision is therefore
*certified*.  R's cumulative sums and total are within ``(n 2^-64 + u) T`` of the exact ones
(``T`` the total, ``u = 2^-53``).  The sums here are first taken in double, within ``n u T``
in any order; if a decision is too close for that, they are retaken on split weights: a high
part on a grid ``g`` coarse enough that every sum of it is exact in double, and a low part
whose sums err by at most ``n^2 u g`` (:func:`split_weights`).  A decision whose margin
``|F - p * total|`` exceeds ``B``, eight times the sum of these errors plus an allowance for
the target's own rounding, is R's decision, and no exact hit ``F = p * total`` is possible
within it.  When the weights lie on the grid (integers, equal dyadic weights: the low parts
are all zero) every partial sum is exact, in any order and in R's extended precision alike,
so the block's sums are R's own and even an exact hit (an even number of equal weights at the
median) is decided as R decides it.  Otherwise a decision inside ``B`` even on split sums, or
a target that two brackets miss, sends the variable to the full sort; weights that are not all
positive never take this path.  The numbers are always those of the full sort.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..errors import SurveyDesignError
from ._qrules import STEP, cumulative_weights, rule_quantiles

#: unit roundoff of double precision and of x86 extended precision
U, U_EXT = 2.0**-53, 2.0**-64
#: rows in the systematic sample that places the brackets
SAMPLE = 8192
#: fewest rows for which selecting beats sorting them all
MIN_ROWS = 50_000
#: most domains read one by one (beyond, one sort by domain and value costs less)
MAX_DOMAINS = 256


def split_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``w = hi + lo`` exactly, ``hi`` on a grid ``g`` so coarse that any sum of up to
    ``len(w)`` of its values is exact in double, and ``|lo| <= g / 2``; returns
    ``(hi, lo, g)``.

    With ``|w| < 2^e`` and ``b = 52 - ceil(log2(n + 1))`` bits kept, ``g = 2^(e - b)``: every
    partial sum is a multiple of ``g`` below ``n 2^e = 2^(e - b) n 2^b < 2^53 g``.  Adding and
    subtracting ``1.5 * 2^(52) g`` rounds each weight to the grid (Dekker's splitting).
    """
    n = len(w)
    e = int(np.frexp(np.max(np.abs(w)))[1])
    bits = 52 - int(np.ceil(np.log2(n + 1)))
    g = float(np.ldexp(1.0, e - bits))
    big = 1.5 * g * 2.0**52
    hi = (w + big) - big
    return hi, w - hi, g


class _Block(NamedTuple):
    """The rows with ``lo < x <= hi`` sorted stably, and what lies below them."""

    lo: float  # the bracket's lower value (-inf: none)
    below: int  # rows with x <= lo
    xs: np.ndarray  # the block's values, sorted
    before: float  # the weight of the rows below
    within: np.ndarray  # cumulative weights within the block (extended precision)
    cum: np.ndarray  # cumulative weights from the first row (double)


class Selection:
    """Step-rule quantiles of ``x`` under weights ``w > 0`` (the valid rows of one domain),
    sorted only near their targets; anything it cannot certify is answered by ``full()``,
    the full-sort distribution (an object with ``quantiles(probs, qrule)``).

    Sums are first taken in double (error at most ``n u T`` in any order); only when a
    decision is too close for that bound are they retaken split (:func:`split_weights`),
    before falling back to the full sort.
    """

    def __init__(self, x: np.ndarray, w: np.ndarray, full: Callable):
        self.x, self.w, self.n = x, w, len(x)
        self._full_factory, self._full = full, None
        self.split: tuple[np.ndarray, np.ndarray] | None = None
        self.exact = False  # every sum exact (weights on the split's grid): no bound needed
        self.total = float(np.sum(w))
        self._set_bound(self.n * U * self.total)
        self.blocks: list[_Block] = []

    def _set_bound(self, sum_error: float) -> None:
        """``B`` for sums that err by at most ``sum_error`` (module docstring)."""
        err = (self.n * U_EXT + 2 * U) * self.total + sum_error
        self.bound = 8 * err + 4 * U * self.total

    def full(self):
        """The full-sort distribution, built on first need."""
        if self._full is None:
            self._full = self._full_factory()
        return self._full

    def group(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """The sorted values and weights of domain ``d`` (from the full sort)."""
        return self.full().group(d)

    def quantiles(self, probs, qrule: str) -> np.ndarray:
        """Quantiles at ``probs`` (a vector or a 1 x J array) under a step rule; (1 x J)."""
        if self._full is None:
            p = np.asarray(probs, dtype=np.float64).reshape(-1)
            out = self._certified(p, STEP[qrule])
            if out is None and self.split is None:  # too close for double sums: split them
                self._split_sums()
                out = self._certified(p, STEP[qrule])
            if out is not None:
                return out[None, :]
        return self.full().quantiles(probs, qrule)

    def _certified(self, p: np.ndarray, rule: str) -> np.ndarray | None:
        """Certified quantiles at ``p`` from the blocks, sorting up to two more blocks for
        the targets none covers; None if some target stays uncertified."""
        out = self._from_blocks(p, rule)
        for widen in (1.0, 4.0):  # one bracket, then a wider one
            todo = np.isnan(out)
            if not todo.any():
                return out
            self._add_blocks(p[todo], widen)
            out[todo] = self._from_blocks(p[todo], rule)
        return None if np.isnan(out).any() else out

    def _from_blocks(self, p: np.ndarray, rule: str) -> np.ndarray:
        """The certified quantile at each ``p`` from the blocks sorted so far (``rule``:
        ``"math"`` or ``"school"``); NaN where no block certifies it."""
        out = np.full(len(p), np.nan)
        target = p * self.total
        b, n = self.bound, self.n
        for blk in self.blocks:
            below, xs, cum, m = blk.below, blk.xs, blk.cum, len(blk.xs)
            if m == 0:
                continue
            c = np.searchsorted(cum, target, side="right")  # block positions with F <= p T
            low = np.where(c > 0, cum[np.maximum(c - 1, 0)],
                           blk.before if below > 0 else -np.inf)
            high = np.where(c < m, cum[np.minimum(c, m - 1)],
                            np.inf if below + m == n else -np.inf)
            # R's position: the last with F <= p T (the first if none), and the value after
            # it unless p - F / T == 0 (an exact hit)
            pos = np.maximum(below + c, 1) - 1
            nxt = np.minimum(pos + 1, n - 1) - below
            if self.exact:  # every sum is R's own: its decision, exact hits included
                ok = (target >= low) & (target < high) & (nxt >= 0) & (nxt < m)
                at = pos - below  # pos in the block (-1: the row just below it)
                f_pos = np.where(at >= 0, cum[np.clip(at, 0, m - 1)], blk.before)
                hit = p - f_pos / self.total == 0
                ok &= ~hit | (at >= 0)  # a hit reads x[pos] too
                q_low, q_up = xs[np.clip(at, 0, m - 1)], xs[np.clip(nxt, 0, m - 1)]
                value = np.where(hit, q_low if rule == "math" else (q_low + q_up) / 2, q_up)
            else:  # a margin beyond the bound: R's decision, and no exact hit
                ok = (target - low > b) & (high - target > b) & (nxt >= 0) & (nxt < m)
                value = xs[np.clip(nxt, 0, m - 1)]
            out = np.where(np.isnan(out) & ok, value, out)
        return out

    def _below(self, le: np.ndarray) -> np.longdouble:
        """The weight of the rows in mask ``le``: in double, or split when :attr:`split`
        (the high parts' sums are exact, multiples of ``g``).  ``einsum``, not ``dot``:
        OpenBLAS runs long dot products on threads, which stall when the machine is busy."""
        parts = (self.w,) if self.split is None else self.split
        return sum((np.longdouble(np.einsum("i,i->", part, le)) for part in parts),
                   np.longdouble(0))

    def _split_sums(self) -> None:
        """Retake the total and every block's weight below with the split weights."""
        hi, lo, g = split_weights(self.w)
        self.split = (hi, lo)
        self.total = float(np.sum(hi) + np.sum(lo))
        self._set_bound(self.n * self.n * U * g)
        # weights on the grid (integers, halves, equal dyadic weights): every partial sum is
        # exact, in any order and in R's extended precision alike, so decisions are R's
        self.exact = not lo.any()
        for i, blk in enumerate(self.blocks):
            before = self._below(self.x <= blk.lo)
            self.blocks[i] = _Block(blk.lo, blk.below, blk.xs, float(before), blk.within,
                                    (before + blk.within).astype(np.float64))

    def _add_blocks(self, p: np.ndarray, widen: float) -> None:
        """Sort the rows between sample values that bracket the shares ``p``: one block per
        cluster of nearby shares."""
        x, w, n = self.x, self.w, self.n
        step = max(1, n // SAMPLE)
        sx, sw = x[::step], w[::step]
        order = np.argsort(sx, kind="stable")
        sx, share = sx[order], np.cumsum(sw[order]) / np.sum(sw)
        kish = np.sum(sw) ** 2 / np.sum(sw**2)
        margin = widen * (3.5 * np.sqrt(0.25 / kish) + 2.0 / len(sx))
        p = np.unique(p)
        cut = np.flatnonzero(np.diff(p) > 4 * margin) + 1
        for group in np.split(p, cut):  # a few clusters of probabilities
            i_lo = np.searchsorted(share, group[0] - margin, side="left") - 1
            i_hi = np.searchsorted(share, group[-1] + margin, side="left")
            if i_lo >= 0:  # the bracket starts below the run of values at the lower target
                i_lo = np.searchsorted(sx, sx[i_lo], side="left") - 1
            self._add_block(sx[i_lo] if i_lo >= 0 else -np.inf,
                            sx[i_hi] if i_hi < len(sx) else np.inf)

    def _add_block(self, lo: float, hi: float) -> None:
        """Sort the rows with ``lo < x <= hi`` (stably) and sum the weight below them."""
        x, w = self.x, self.w
        le_lo = x <= lo
        rows = np.flatnonzero(~le_lo & (x <= hi))
        xb = x[rows]
        order = np.argsort(xb)  # unstable; ties are put back in row order below
        xb = xb[order]
        if len(xb) > 1 and (tie := xb[1:] == xb[:-1]).any():
            run = np.concatenate([[0], np.cumsum(~tie)])
            order = np.sort(run * len(xb) + order) % len(xb)  # by value, then row
        within = np.cumsum(w[rows[order]].astype(np.longdouble))
        before = self._below(le_lo)
        self.blocks.append(_Block(float(lo), int(np.count_nonzero(le_lo)), xb, float(before),
                                  within, (before + within).astype(np.float64)))


class SortedDistribution:
    """A variable's valid values sorted by (domain, value), with their weights, domains and
    (for the step rules) cumulative weights: R's ``order`` and ``cumsum``."""

    def __init__(self, var, y, w, g, valid, n_groups, qrule, by_cols):
        if n_groups == 1:  # one domain: a stable sort of x alone (R `order`)
            rows = None if valid.all() else np.flatnonzero(valid)
            xv = y if rows is None else y[rows]
            order = np.argsort(xv, kind="stable")
            if rows is not None:
                order = rows[order]
            gs = np.zeros(len(order), dtype=np.int64)
        else:
            order = np.lexsort((y, np.where(valid, g, n_groups)))  # by domain, then x
            order = order[valid[order]]
            gs = g[order]
        if np.any(np.bincount(gs, minlength=n_groups) == 0):
            raise SurveyDesignError(f"variable {var!r} has no values in some domain of {by_cols}.")
        self.xs, self.ws, self.gs, self.n_groups = y[order], w[order], gs, n_groups
        self.cum = cumulative_weights(self.ws, gs, n_groups) if qrule in STEP else None

    def quantiles(self, probs, qrule):
        """Quantiles at ``probs`` (a vector, or one row of probabilities per domain)."""
        return rule_quantiles(self.xs, self.ws, self.gs, self.n_groups, probs, qrule, self.cum)

    def group(self, d):
        """The sorted values and weights of domain ``d``."""
        sel = self.gs == d
        return self.xs[sel], self.ws[sel]


class DomainDistribution:
    """A variable's distribution in each of several domains (``by=``): the valid rows grouped
    by domain once (a stable sort of the domain codes keeps each domain's rows in row order),
    each domain then read as one domain is (:func:`distribution`)."""

    def __init__(self, var, y, w, g, valid, n_groups, qrule, by_cols):
        code = np.where(valid, g, n_groups)
        counts = np.bincount(code, minlength=n_groups + 1)
        if np.any(counts[:n_groups] == 0):
            raise SurveyDesignError(f"variable {var!r} has no values in some domain of {by_cols}.")
        small = np.int16 if n_groups < np.iinfo(np.int16).max else np.int64
        order = np.argsort(code.astype(small), kind="stable")  # a radix sort for int16
        ends = np.cumsum(counts[:n_groups])
        xs, ws = y[order[:ends[-1]]], w[order[:ends[-1]]]
        self.parts = [one_domain(var, xs[a:b], ws[a:b], qrule, by_cols)
                      for a, b in zip(ends - counts[:n_groups], ends, strict=True)]

    def quantiles(self, probs, qrule):
        """Quantiles at ``probs`` (a vector, or one row of probabilities per domain)."""
        probs = np.asarray(probs, dtype=np.float64)
        rows = probs if probs.ndim == 2 else np.broadcast_to(probs, (len(self.parts), len(probs)))
        return np.vstack([part.quantiles(r, qrule) for part, r in zip(self.parts, rows, strict=True)])

    def group(self, d):
        """The sorted values and weights of domain ``d``."""
        return self.parts[d].group(0)


def one_domain(var, x, w, qrule, by_cols):
    """The distribution of the values ``x`` (weights ``w``) of one domain: by selection for a
    step rule on :data:`MIN_ROWS` rows or more with positive weights, else sorted whole."""
    n = len(x)

    def full():
        return SortedDistribution(var, x, w, np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool),
                                  1, qrule, by_cols)

    if qrule in STEP and n >= MIN_ROWS and w.min() > 0:
        return Selection(x, w, full)
    return full()


def distribution(var, y, w, g, valid, n_groups, qrule, by_cols):
    """Where a variable's quantiles are read from: selection (:class:`Selection`) in every
    domain with many rows under a step rule (up to :data:`MAX_DOMAINS` domains), else the full
    sort (:class:`SortedDistribution`; for several domains one sort by domain and value)."""
    n_valid = np.count_nonzero(valid)
    if qrule not in STEP or n_valid < MIN_ROWS:
        return SortedDistribution(var, y, w, g, valid, n_groups, qrule, by_cols)
    if n_groups > 1:
        large = np.bincount(g[valid], minlength=n_groups) >= MIN_ROWS
        if n_groups > MAX_DOMAINS or not large.any():
            return SortedDistribution(var, y, w, g, valid, n_groups, qrule, by_cols)
        return DomainDistribution(var, y, w, g, valid, n_groups, qrule, by_cols)
    every = n_valid == len(valid)
    return one_domain(var, y if every else y[valid], w if every else w[valid], qrule, by_cols)
