"""The replicate-weight variance engine.

A replicate design carries R sets of replicate weights.  Every estimator here is a ratio of
weighted totals (or a total) over cells, so its replicate estimates come straight from replicate
totals: ``theta_r = sum(w_r y) / sum(w_r x)``.  The covariance of the cells is (R ``svrVar``)::

    V = scale * sum_r rscales_r (theta_r - c)(theta_r - c)'

with ``c`` the mean of the replicates that have ``rscales > 0`` or, with ``mse=True``, the
full-sample estimate.  Replicates that give an undefined estimate (a zero denominator) are left
out of that cell's sums with a warning, as R's ``na.action`` drops them.

Replicate weights are held in one of two forms:

* factors per PSU (``factors`` P x R and each row's PSU code): ``w_r = w * factors[psu, r]``.
  Replicate totals are ``factors' @ T`` with ``T`` the P x K PSU totals of ``w y`` — an n x R
  matrix is never formed.  Designs made by ``to_replicates`` use this form.
* analysis-weight columns (``columns``, a :class:`~surveylib.variance.stored.StoredColumns`
  reading the data's own n x R columns in place): every value array of every cell is
  multiplied with a block of rows of the columns while it is in cache (one pass over the
  columns per estimate), never an n x K or a second n x R matrix.

This module also builds the replicate factors of R's ``jk1weights``, ``jknweights``,
``brrweights`` (with R's ``hadamard``), ``bootweights`` and ``subbootweights``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ReplicateError, SurveyWarning
from .stored import StoredColumns

# Hadamard matrices of orders 28 and 36 as stored in R survey's `hadamard.list` (0/1 form);
# orders 4 and 16 there are Sylvester matrices, built below.
_H28 = (
    "1111111111111111111111111111",
    "1001110001110001110001111000",
    "1000001111001101001101111000",
    "1000001110110010111001100110",
    "1001101000001111100011010110",
    "1001010100101100010110101110",
    "1000110011010010001110011110",
    "0101100010101010011111110000",
    "0100010110110101100111010100",
    "0100011011001011110010101100",
    "0101011000010111011101001010",
    "0100101101100100111010011010",
    "0101100101011001101100100110",
    "0010110100011110101011101000",
    "0011011001100110101100110100",
    "0010101100111011010100011100",
    "0011000111010111010010110010",
    "0011001011111000100111001010",
    "0010110011101101011001000110",
    "1110101001010100010111100100",
    "1111000101100011001011001100",
    "1111000010011100111000011100",
    "1110010101001010110101010010",
    "1110011000111001001010110010",
    "1110100010100111100100101010",
    "1101111111111110000000000000",
    "1011111110000001111110000000",
    "0111111110000000000001111110",
)
_H36 = (
    "111111111111111111111111111111111111",
    "010111000111110111001000010101100100",
    "101110001111101110010000101011001000",
    "011100011111011100100001010110010010",
    "111000111110111001000010101100100100",
    "110001111101110010000101011001001010",
    "100011111011100100001010110010010110",
    "000111110111001000010101100100101110",
    "001111101110010000101011001001011100",
    "011111011100100001010110010010111000",
    "111110111001000010101100100101110000",
    "111101110010000101011001001011100010",
    "111011100100001010110010010111000110",
    "110111001000010101100100101110001110",
    "101110010000101011001001011100011110",
    "011100100001010110010010111000111110",
    "111001000010101100100101110001111100",
    "110010000101011001001011100011111010",
    "100100001010110010010111000111110110",
    "001000010101100100101110001111101110",
    "010000101011001001011100011111011100",
    "100001010110010010111000111110111000",
    "000010101100100101110001111101110010",
    "000101011001001011100011111011100100",
    "001010110010010111000111110111001000",
    "010101100100101110001111101110010000",
    "101011001001011100011111011100100000",
    "010110010010111000111110111001000010",
    "101100100101110001111101110010000100",
    "011001001011100011111011100100001010",
    "110010010111000111110111001000010100",
    "100100101110001111101110010000101010",
    "001001011100011111011100100001010110",
    "010010111000111110111001000010101100",
    "100101110001111101110010000101011000",
    "001011100011111011100100001010110010",
)


def _primes_3mod4(limit: int) -> np.ndarray:
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = False
    p = np.flatnonzero(sieve)
    return p[p % 4 == 3]


# R survey's `paley` knows the primes p = 3 (mod 4) up to 7919
_PALEY_PRIMES = _primes_3mod4(7919)


def _from_strings(rows) -> np.ndarray:
    return np.array([[c == "1" for c in r] for r in rows], dtype=np.int8)


def _double(h: np.ndarray) -> np.ndarray:
    return np.block([[h, h], [h, 1 - h]])


def _sylvester(order: int) -> np.ndarray:
    h = np.ones((1, 1), dtype=np.int8)
    while h.shape[0] < order:
        h = _double(h)
    return h


def _precooked() -> list:
    return [_sylvester(4), _sylvester(16), _from_strings(_H28), _from_strings(_H36)]


_SIZES = np.array([4, 16, 28, 36])


def _paley_prime(p: int) -> np.ndarray:
    """Paley construction of order p + 1 (0/1 form), as R survey's ``paley(prime=p)``."""
    m = np.add.outer(np.arange(p), np.arange(p)) % p
    residues = np.unique(np.concatenate([[0], (np.arange(1, (p - 1) // 2 + 1) ** 2) % p]))
    core = np.where(np.isin(m, residues), 0, 1).astype(np.int8)
    top = np.ones((1, p), dtype=np.int8)
    return np.hstack([np.ones((p + 1, 1), dtype=np.int8), np.vstack([top, core])])


def _paley(n: int, nmax: int | None = None) -> np.ndarray | None:
    """R survey's ``paley(n, nmax)``: a Paley-type matrix of order > n, or None."""
    nmax = 2 * n if nmax is None else nmax
    nceil = nn = n + 4 - n % 4
    if n % 4 + 4 == n % 8:
        while nn % 8 == 0:
            nn //= 2
        if nn - 1 in _PALEY_PRIMES:
            m = _paley_prime(nn - 1)
            while nn < nceil:
                m = _double(m)
                nn *= 2
            return m
    if n > _PALEY_PRIMES[-1]:
        return None
    p = int(_PALEY_PRIMES[_PALEY_PRIMES >= n][0])
    if p + 1 > nceil + 4 and nceil + 4 < nmax:
        return _paley(nceil + 3)
    if p > nmax:
        return None
    return _paley_prime(p)


def hadamard(n: int) -> np.ndarray:
    """A 0/1 Hadamard matrix with more than ``n`` rows, the one R survey's ``hadamard(n)`` gives.

    BRR with ``n`` strata uses rows 2..n+1 (one per stratum) and every column (one per
    replicate), so the number of replicates is the order of this matrix.
    """
    m = n - n % 4
    lists = _precooked()
    pre = np.flatnonzero((m < _SIZES) & (m + 4 >= _SIZES))
    if len(pre):
        return lists[int(pre[0])]
    if np.all(m < _SIZES):
        return lists[0]
    expo = np.maximum(0, np.ceil(np.log2((n + 1) / _SIZES)))
    sizes = _SIZES * 2 ** expo.astype(np.int64)
    best = int(np.argmin(sizes - n))
    h = None
    if sizes[best] - n > 4:
        h = _paley(n, int(sizes[best]))
    if h is None:
        h = lists[best]
        for _ in range(int(expo[best])):
            h = _double(h)
    return h


# ----- replicate factors per PSU ----------------------------------------------------------------
def first_appearance(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Row position where each code first appears (codes 0..n_codes-1)."""
    first = np.full(n_codes, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def jk1_factors(n_psu: int, psu_order: np.ndarray) -> np.ndarray:
    """Delete-one-PSU jackknife factors (P x P), R ``jk1weights``.

    Replicate ``r`` drops the PSU ``psu_order[r]`` (R orders PSUs by first appearance) and
    multiplies the others by ``P/(P-1)``.
    """
    if n_psu < 2:
        raise ReplicateError("the jackknife needs at least 2 PSUs; the design has 1.")
    a = np.full((n_psu, n_psu), n_psu / (n_psu - 1))
    a[psu_order, np.arange(n_psu)] = 0.0
    return a


def jkn_factors(unit_stratum, n_units, fraction, psu_order, stratum_order, lonely_psu,
                stratum_labels):
    """Stratified delete-one-PSU jackknife, R ``jknweights``.

    Returns ``(factors P x R, rscales (R,), scale)``.  Each stratum ``h`` with ``n_h >= 2``
    PSUs gives ``n_h`` replicates that drop one of its PSUs and multiply the others in ``h`` by
    ``n_h/(n_h-1)``; ``rscales = f_h (n_h-1)/n_h`` with ``f_h = 1 - n_h/N_h``.  Strata sampled
    completely (``f_h = 0``) give none.  A stratum with one PSU follows ``lonely_psu`` as R:
    ``adjust`` adds one replicate that drops it and multiplies every other PSU by
    ``H/(H-1)`` (``rscales = (H-1)/H``); ``average`` scales the variance by P/R.
    """
    n_psu = len(unit_stratum)
    n_strata = len(n_units)
    lonely = (n_units == 1) & (fraction > 0)
    if lonely.any() and lonely_psu == "fail":
        raise ReplicateError(
            f"stratum/strata {list(stratum_labels[lonely][:10])} have one PSU; the jackknife "
            "cannot drop it. Build the design with lonely_psu='adjust', 'average', 'remove' or "
            "'certainty'."
        )
    regular = (n_units >= 2) & (fraction > 0)
    rank = np.empty(n_strata, dtype=np.int64)
    rank[stratum_order] = np.arange(n_strata)
    # replicate columns: regular strata's PSUs (and adjust-lonely strata) in R's order
    psu_rank = np.empty(n_psu, dtype=np.int64)
    psu_rank[psu_order] = np.arange(n_psu)
    psu_regular = regular[unit_stratum] | ((lonely_psu == "adjust") & lonely[unit_stratum])
    rep_psu = np.flatnonzero(psu_regular)
    rep_psu = rep_psu[np.lexsort((psu_rank[rep_psu], rank[unit_stratum[rep_psu]]))]
    rep_stratum = unit_stratum[rep_psu]
    n_rep = len(rep_psu)
    if n_rep == 0:
        raise ReplicateError(
            "every stratum was sampled completely (or has one PSU): the jackknife has no "
            "replicates, the variance is zero."
        )
    same = unit_stratum[:, None] == rep_stratum[None, :]
    nh = n_units[rep_stratum].astype(np.float64)
    with np.errstate(divide="ignore"):
        inflate = np.where(nh > 1, nh / np.maximum(nh - 1, 1), 1.0)
    a = np.where(same, inflate[None, :], 1.0)
    a[rep_psu, np.arange(n_rep)] = 0.0
    rscales = fraction[rep_stratum] * (nh - 1) / nh
    adj = lonely[rep_stratum]
    if adj.any():
        h = float(n_strata)
        a[:, adj] = np.where(same[:, adj], 0.0, h / (h - 1))
        rscales[adj] = (h - 1) / h
    scale = 1.0
    if n_rep < n_psu and lonely_psu == "average":
        scale = n_psu / n_rep
    return a, rscales, scale


def brr_factors(unit_stratum, n_units, psu_order, stratum_labels, rho: float) -> np.ndarray:
    """Balanced repeated replication (Fay when ``rho > 0``) factors, R ``brrweights``.

    Every stratum must have exactly two PSUs.  Strata are taken in the order of their labels as
    strings (R's ``order(as.character(strata))``), PSUs within a stratum in order of first
    appearance; stratum ``k`` follows row ``k+1`` of :func:`hadamard` (number of strata): where
    it is 1 the first PSU gets ``2 - rho`` and the second ``rho``, where 0 the reverse.
    """
    bad = np.flatnonzero(n_units != 2)
    if len(bad):
        shown = ", ".join(f"{stratum_labels[h]!r} ({n_units[h]} PSUs)" for h in bad[:10])
        raise ReplicateError(
            f"BRR and Fay need exactly 2 PSUs in every stratum; {len(bad)} stratum/strata do "
            f"not: {shown}{' ...' if len(bad) > 10 else ''}. Pair PSUs into pseudo-strata of "
            "two (variance strata), or use method='jkn' or 'bootstrap'."
        )
    n_strata = len(n_units)
    labels = np.array([str(x) for x in stratum_labels], dtype=object)
    rank = np.empty(n_strata, dtype=np.int64)
    rank[np.argsort(labels, kind="stable")] = np.arange(n_strata)
    psu_rank = np.empty(len(unit_stratum), dtype=np.int64)
    psu_rank[psu_order] = np.arange(len(unit_stratum))
    # is each PSU the first (by appearance) of the two in its stratum?
    other_first = np.full(n_strata, np.iinfo(np.int64).max)
    np.minimum.at(other_first, unit_stratum, psu_rank)
    is_first = psu_rank == other_first[unit_stratum]
    h = hadamard(n_strata)
    sign = h[1 + rank[unit_stratum], :].astype(bool)  # P x R: 1 -> first PSU in the half
    in_half = sign == is_first[:, None]
    return np.where(in_half, 2.0 - rho, rho)


def bootstrap_factors(unit_stratum, n_units, popsize, replicates: int, rng, *, sub: bool):
    """Rao–Wu bootstrap factors (P x R), R ``bootweights`` / ``subbootweights``.

    In each stratum ``m_h`` PSUs are drawn with replacement from its ``n_h`` and a PSU's factor
    is the number of times it was drawn: ``m_h = n_h`` (``sub=False``, R ``bootweights``) or
    ``m_h = n_h - 1`` rescaled by ``n_h/(n_h-1)`` (``sub=True``, Rao & Wu 1988, R
    ``subbootweights``).  With a finite ``popsize`` (and ``sub=False``) the ``n_h`` draws are
    without replacement from a pseudo-population of ``N_h`` units that repeats the PSUs (R
    ``bootstratum``).
    """
    n_psu = len(unit_stratum)
    order = np.argsort(unit_stratum, kind="stable")  # PSUs grouped by stratum
    offsets = np.concatenate([[0], np.cumsum(n_units)[:-1]])
    m = n_units - 1 if sub else n_units.copy()
    finite = np.isfinite(popsize) & (not sub)
    counts: np.ndarray = np.zeros((n_psu, replicates))  # P x R, built in place (C order)
    draw = np.where(finite, 0, m)
    total = int(draw.sum())
    if total:
        strat = np.repeat(np.arange(len(n_units)), draw)
        u = rng.random((replicates, total))
        pick = offsets[strat] + np.minimum((u * n_units[strat]).astype(np.int64),
                                           n_units[strat] - 1)
        flat = (order[pick] * replicates + np.arange(replicates)[:, None]).ravel()
        counts = np.bincount(flat, minlength=replicates * n_psu).reshape(n_psu, replicates)
        counts = counts.astype(np.float64)
    for h in np.flatnonzero(finite):  # without-replacement bootstrap: one draw per stratum
        psus = order[offsets[h]: offsets[h] + n_units[h]]
        nh, big_n = int(n_units[h]), int(round(popsize[h]))
        copies = np.full(nh, big_n // nh, dtype=np.int64)
        copies[rng.permutation(nh)[: big_n % nh]] += 1
        counts[psus, :] = rng.multivariate_hypergeometric(copies, nh, size=replicates).T
    if sub:
        counts = counts * (n_units / (n_units - 1.0))[unit_stratum][:, None]
    return counts


# ----- replicate weights and the covariance ---------------------------------------------------
@dataclass(frozen=True)
class ReplicateWeights:
    """Replicate weights: factors per PSU (``factors`` P x R, ``unit`` (n,)) or analysis-weight
    columns (``columns``: a :class:`~surveylib.variance.stored.StoredColumns`, or an n x R
    array, which is wrapped in one).  ``scale``, ``rscales`` and ``mse`` give the variance
    formula.

    The object is immutable; ``_ranks`` memoises :meth:`rank` of factor designs by the set of
    PSUs with rows, so every design sharing these replicates (subsets, domains) reuses it.
    """

    scale: float
    rscales: np.ndarray
    mse: bool
    factors: np.ndarray | None = None
    unit: Any = None  # (n,) array of PSU codes when factors is set, else None
    columns: Any = None  # StoredColumns (an (n, R) array is wrapped in one) when factors is None
    _ranks: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if self.columns is not None and not isinstance(self.columns, StoredColumns):
            object.__setattr__(self, "columns", StoredColumns.from_matrix(self.columns))

    @property
    def n_replicates(self) -> int:
        return len(self.rscales)

    def replicate_totals(self, blocks, w: np.ndarray, k: int, n_values: int = 1) -> list:
        """Replicate totals (R x K each) of the value arrays of every block, summed into cells.

        ``blocks`` holds ``(valid, cells, values_1, ..., values_m)`` with ``m = n_values``;
        ``values=None`` means 1.  ``w`` multiplies the values for factor designs (the full-sample
        weight); column designs carry the weights in their columns.
        """
        if self.factors is not None:
            p = self.factors.shape[0]
            t: list[np.ndarray] = [np.zeros(p * k) for _ in range(n_values)]
            for valid, cells, *values in blocks:
                key = self.unit if k == 1 else self.unit * k + cells
                wv = w * valid
                for j, v in enumerate(values):
                    t[j] += np.bincount(key, wv if v is None else wv * v, minlength=p * k)
            return [self.factors.T @ tj.reshape(p, k) for tj in t]
        return self.columns.totals(blocks, k, n_values)

    def vcov(self, thetas: np.ndarray, est: np.ndarray) -> np.ndarray:
        """``scale * sum_r rscales_r (theta_r - c)(theta_r - c)'`` (R ``svrVar``)."""
        return replicate_vcov(thetas, est, self.scale, self.rscales, self.mse)

    def analysis_weights(self, w: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """n x R analysis weights (for a subset of ``rows``); only for modest sizes."""
        if self.factors is not None:
            idx = slice(None) if rows is None else rows
            return w[idx, None] * self.factors[self.unit[idx]]
        return self.columns.dense() if rows is None else self.columns.take(rows)

    def rank(self, active: np.ndarray) -> int:
        """Rank of the analysis weights of the rows in ``active`` (R ``degf`` + 1).

        Factor designs: a row's analysis weights are ``w_i > 0`` times its PSU's factors, so
        the n x R matrix has the row space of the factors of the PSUs with a row in ``active``
        -- the rank is that of a P' x R matrix, memoised by that set of PSUs.
        """
        if self.factors is not None:
            rows = self.unit if active.all() else self.unit[active]
            present = np.bincount(rows, minlength=self.factors.shape[0]) > 0
            return self.rank_of_units(present)
        n_rows = int(np.count_nonzero(active))
        if n_rows > 4 * self.n_replicates and n_rows > 20000:
            return _rank_gram(_normalise_gram(self.columns.gram(active)))
        return _rank(self.columns.take(np.flatnonzero(active)))

    def rank_of_units(self, present: np.ndarray) -> int:
        """Rank of the factors of the PSUs in ``present`` (a boolean mask over PSUs)."""
        key = np.packbits(present).tobytes()
        if key not in self._ranks:
            f: np.ndarray = self.factors if present.all() else self.factors[present]  # type: ignore[assignment, index]  # only called on factor designs
            self._ranks[key] = _rank(f)
        return self._ranks[key]


def _normalise_gram(g: np.ndarray) -> np.ndarray:
    """``D^-1 G D^-1`` with ``D`` the column norms of ``G = X'X`` (zero columns left at zero)."""
    norms = np.sqrt(np.diag(g).copy())
    inv = 1.0 / np.where(norms > 0, norms, 1.0)
    return g * inv[:, None] * inv[None, :]


def _rank(x: np.ndarray) -> int:
    """Number of singular values above ``1e-7`` times the largest (the numerical rank).

    Proved from the smaller Gram matrix when possible (:func:`_rank_by_gram`, about three
    times faster), else counted from the singular values themselves.
    """
    if x.size == 0:
        return 0
    r = _rank_by_gram(x)
    return r if r is not None else _rank_svd(x)


def _rank_svd(x: np.ndarray) -> int:
    if x.shape[0] < x.shape[1]:
        x = x.T  # same singular values; LAPACK is fastest on the tall orientation
    s = np.linalg.svd(np.ascontiguousarray(x), compute_uv=False)
    return int((s > s[0] * 1e-7).sum()) if s[0] > 0 else 0


_EPS = float(np.finfo(np.float64).eps)


def _rank_by_gram(x: np.ndarray) -> int | None:
    """The count of :func:`_rank_svd` proved from ``G = A A'``, or None when it cannot be.

    ``A`` is ``x`` or its transpose, with ``m <= n`` rows; its singular values are the square
    roots of G's eigenvalues.  ``lo <= s_1^2`` is a Rayleigh quotient of G (a few power steps)
    and ``bound = max row sum of |A||A|' >= ||G||_2``; forming G and the eigensolver perturb
    its eigenvalues by at most ``err = (n + 10 m) eps bound``.  With ``cut = 1e-8 lo``:

    * the eigenvalues above ``cut`` belong to singular values with
      ``s^2 >= cut - err > 2e-14 s_1^2`` (checked: ``lo >= bound / 100`` and a small ``err``),
      i.e. ``s > 1.4e-7 s_1``, which the SVD counts;
    * the ``k`` eigenvalues at or below ``cut`` have eigenvectors ``V`` (m x k); by
      Courant--Fischer the ``k`` smallest singular values are at most ``||A' V||``, and when
      that (plus its rounding) is below ``5e-10 sqrt(lo)`` they are below ``1e-9 s_1``, which
      the SVD does not count (its own error is about ``m eps s_1``).

    So the count is ``m - k``.  Otherwise (a singular value between about ``1e-9`` and
    ``1e-4`` times the largest, or a badly conditioned first step) return None.
    """
    from scipy import linalg

    a = x if x.shape[0] <= x.shape[1] else x.T
    m, n = a.shape
    absa = np.abs(a)
    bound = float((absa @ (absa.T @ np.ones(m))).max())
    if not (np.isfinite(bound) and bound > 0):
        return None
    g = a @ a.T
    v = np.abs(g).sum(axis=1)
    for _ in range(4):  # power steps from the row sums
        norm = np.linalg.norm(v)
        if norm == 0:
            return None
        u = v / norm
        v = g @ u
    lo = float(u @ v) * (1 - 1e-12)
    err = (n + 10 * m) * _EPS * bound
    if not (lo >= bound / 100 and 1e-8 * lo - err > 2e-14 * bound):
        return None
    cut = 1e-8 * lo
    ev, vecs = linalg.eigh(g, subset_by_value=(-np.inf, cut), driver="evr", check_finite=False)
    k = len(ev)
    if k:
        small = float(np.linalg.norm(a.T @ vecs))
        small += m * _EPS * np.sqrt(np.trace(g) * k)  # rounding of the product
        if not small <= 5e-10 * np.sqrt(lo):
            return None
    return m - k


def _rank_gram(g: np.ndarray) -> int:
    ev = np.linalg.eigvalsh(g)
    top = ev.max()
    return int((ev > top * 1e-14).sum()) if top > 0 else 0


def replicate_vcov(thetas, est, scale, rscales, mse) -> np.ndarray:
    """Replicate covariance of K statistics from their R x K replicate values (R ``svrVar``).

    Replicates whose value is NaN are left out of the sums for that statistic (with a
    warning), as R drops replicates with missing results.
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    bad = ~np.isfinite(thetas)
    rs = np.asarray(rscales, dtype=np.float64)
    if bad.any():
        warnings.warn(
            f"{int(bad.any(axis=1).sum())} replicate(s) gave an undefined estimate (a zero "
            "denominator, e.g. a domain absent from a replicate) and were left out of the "
            "variance of that estimate, as R does.",
            SurveyWarning,
            stacklevel=5,
        )
    if mse:
        centre = np.asarray(est, dtype=np.float64)
    else:
        use = (~bad) & (rs > 0)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = np.where(use, thetas, 0.0).sum(axis=0) / use.sum(axis=0)
    d = np.where(bad, 0.0, thetas - centre[None, :]) * np.sqrt(rs)[:, None]
    return scale * (d.T @ d)
