"""Selection methods for one stratum: arrays of probabilities in, 0/1 sample indicators out.

Each function takes its own random-number source (``seed=``: an integer, a
``numpy.random.Generator``, or ``None``) and never touches global state.  Units with
probability ``<= eps`` or ``>= 1 - eps`` are decided without randomness (0 or 1), as in R
``sampling``.
"""

from __future__ import annotations

import numpy as np

from ._common import SamplingError, as_generator

__all__ = ["brewer", "sampford", "srs", "systematic", "systematic_pps"]

EPS = 1e-6


def _pik(pik) -> np.ndarray:
    p = np.asarray(pik, dtype=float).ravel()
    if np.isnan(p).any():
        raise SamplingError(
            "there are missing values in the inclusion probabilities; compute them with "
            "inclusion_probabilities() from a complete size measure.",
            parameter="pik", value=int(np.isnan(p).sum()),
        )
    if (p < 0).any() or (p > 1 + 1e-9).any():
        raise SamplingError(
            "inclusion probabilities must lie in [0, 1]; use inclusion_probabilities() to cap "
            "large units at 1 (certainty).", parameter="pik", expected="[0, 1]",
        )
    return p


def _sample_size(p: np.ndarray) -> int:
    n = p.sum()
    if abs(n - round(n)) > 1e-6:
        raise SamplingError(
            f"the inclusion probabilities sum to {n:.6g}, not a whole number; a fixed-size "
            "method needs probabilities that sum to the sample size.",
            parameter="pik", value=float(n), expected="integer sum",
        )
    return int(round(n))


def srs(N: int, n: int, *, seed=None) -> np.ndarray:
    """Simple random sampling without replacement of ``n`` of ``N`` units (0/1 indicators).

    The ``n`` units with the smallest of ``N`` independent uniforms are taken, so every subset
    of size ``n`` is equally likely (``pi_k = n / N``).

    Examples
    --------
    >>> from surveylib.sampling import srs
    >>> int(srs(10, 4, seed=1).sum())
    4
    """
    if not 0 <= n <= N:
        raise SamplingError(f"srs: n={n} must lie in [0, N={N}].", parameter="n", value=n,
                            expected=f"0..{N}")
    rng = as_generator(seed)
    keys = rng.random(N)
    s = np.zeros(N, dtype=np.int64)
    s[np.argsort(keys, kind="stable")[:n]] = 1
    return s


def systematic_pps(pik, *, seed=None, eps: float = EPS) -> np.ndarray:
    """Systematic sampling with unequal probabilities in the order given (R ``UPsystematic``).

    With cumulated probabilities ``V_0 = 0, V_k = pi_1 + ... + pi_k`` and one uniform start
    ``u``, unit ``k`` is selected iff ``frac(V_{k-1} - u) > frac(V_k - u)``, i.e. iff an
    element of ``u, u+1, u+2, ...`` falls in ``[V_{k-1}, V_k)``.  One uniform is drawn; with the
    same uniform the selection equals R's bit for bit.

    Examples
    --------
    >>> from surveylib.sampling import systematic_pps
    >>> systematic_pps([0.2, 0.7, 0.8, 0.3], seed=3).tolist()
    [1, 0, 1, 0]
    """
    p = _pik(pik)
    s = (p >= 1 - eps).astype(np.int64)
    inner = (p > eps) & (p < 1 - eps)
    p1 = p[inner]
    if len(p1) == 0:
        return s
    u = float(np.asarray(as_generator(seed).random(1)).ravel()[0])
    a = (np.concatenate([[0.0], np.cumsum(p1)]) - u) % 1.0
    s[inner] = (a[:-1] > a[1:]).astype(np.int64)
    return s


def systematic(N: int, n: int, *, seed=None) -> np.ndarray:
    """Equal-probability systematic sampling of ``n`` of ``N`` units in list order.

    Systematic PPS with ``pi_k = n / N`` (fractional interval ``N / n``): every unit has
    probability ``n / N`` exactly, also when ``N / n`` is not a whole number.
    """
    if not 0 <= n <= N:
        raise SamplingError(f"systematic: n={n} must lie in [0, N={N}].", parameter="n",
                            value=n, expected=f"0..{N}")
    return systematic_pps(np.full(N, n / N), seed=seed)


def brewer(pik, *, seed=None, eps: float = EPS) -> np.ndarray:
    """Brewer's draw-by-draw πps method (Brewer 1975; R ``UPbrewer``).

    At draw ``i = 1..n`` a not-yet-selected unit ``k`` is chosen with probability proportional
    to ``pi_k ((n - a) - pi_k) / ((n - a) - pi_k (n - i + 1))``, ``a`` the sum of the
    probabilities of the units already drawn.  The inclusion probabilities are exactly
    ``pik``.  ``n`` uniforms are drawn (one per draw, in one call), and a unit is chosen as the
    first whose cumulated probability exceeds the uniform, as R does.
    """
    p = _pik(pik)
    s = (p >= 1 - eps).astype(np.int64)
    inner = (p > eps) & (p < 1 - eps)
    pb = p[inner]
    if len(pb) == 0:
        return s
    n = _sample_size(pb)
    u = np.asarray(as_generator(seed).random(n), dtype=float).ravel()
    sb = np.zeros(len(pb))
    nn = pb.sum()
    for i in range(1, n + 1):  # one pass per draw, vectorised over units
        a = np.sum(pb * sb)
        w = (1 - sb) * pb * ((nn - a) - pb) / ((nn - a) - pb * (nn - i + 1))
        c = np.cumsum(w / np.sum(w))
        j = min(int(np.searchsorted(c, u[i - 1], side="right")), len(pb) - 1)
        sb[j] = 1
    s[inner] = sb.astype(np.int64)
    return s


def sampford(pik, *, seed=None, eps: float = EPS, max_iter: int = 100_000) -> np.ndarray:
    """Sampford's (1967) rejective πps method (R ``UPsampford``).

    One unit is drawn with probability ``pi_k / n`` and ``n - 1`` more with replacement with
    probability proportional to ``pi_k / (1 - pi_k)``; the sample is kept when no unit was
    drawn twice.  The inclusion probabilities are exactly ``pik``.  Attempts are drawn in
    batches of 256 (vectorised) and the first acceptable one is kept.

    Raises
    ------
    SamplingError
        No sample without repeats in ``max_iter`` attempts (R stops at 500): probabilities
        very close to 1 make acceptance rare; take those units with certainty or use Brewer's
        method.
    """
    p = _pik(pik)
    s = (p >= 1 - eps).astype(np.int64)
    inner = (p > eps) & (p < 1 - eps)
    pb = p[inner]
    if len(pb) == 0:
        return s
    n = _sample_size(pb)
    rng = as_generator(seed)
    y = pb / (1 - pb)
    y = y / y.sum()
    first = pb / pb.sum()
    batch, tried = 256, 0
    while tried < max_iter:
        sb = rng.multinomial(1, first, size=batch) + rng.multinomial(n - 1, y, size=batch)
        ok = np.flatnonzero((sb <= 1).all(axis=1))
        if len(ok):
            s[inner] = sb[ok[0]]
            return s
        tried += batch
    raise SamplingError(
        f"Sampford's method found no sample without repeated units in {max_iter} attempts; "
        "units with probabilities near 1 make acceptance rare: take them with certainty or use "
        "method='brewer'.",
        parameter="max_iter", value=max_iter,
    )
