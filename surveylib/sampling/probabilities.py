"""First- and second-order inclusion probabilities of without-replacement designs.

Pure array functions.  :func:`inclusion_probabilities` is R ``sampling::inclusionprobabilities``;
:func:`joint_systematic` is R ``sampling::UPsystematicpi2`` (exact for systematic PPS in a fixed
order); :func:`joint_hartley_rao` is the Hartley–Rao (1962) approximation used for systematic
PPS in random order and, as a stated approximation, for Brewer's and Sampford's methods.
"""

from __future__ import annotations

import numpy as np

from ._common import SamplingError

__all__ = ["check_size", "inclusion_probabilities", "joint_hartley_rao", "joint_systematic"]


def check_size(size, *, name: str = "size", stratum=None) -> np.ndarray:
    """The size measure as a float array; missing, non-finite, zero or negative is an error.

    A zero size would give a unit no chance of selection, i.e. leave it out of the frame's
    coverage; R ``inclusionprobabilities`` only warns.  Here it is an error naming the units:
    drop them from the frame (and say so in the documentation of the frame) or give them a
    minimum size.
    """
    a = np.asarray(size, dtype=float).ravel()
    where = "" if stratum is None else f" in stratum {stratum!r}"
    bad = ~np.isfinite(a)
    if bad.any():
        raise SamplingError(
            f"size measure {name!r}{where} is missing or not finite for {int(bad.sum())} unit(s) "
            f"(first at positions {list(np.flatnonzero(bad)[:5])}); give every frame unit a size.",
            parameter=name, value=int(bad.sum()), expected="finite sizes > 0",
            hint="fill the size or drop the unit from the frame", stratum=stratum,
        )
    bad = a <= 0
    if bad.any():
        raise SamplingError(
            f"size measure {name!r}{where} is zero or negative for {int(bad.sum())} unit(s) "
            f"(first at positions {list(np.flatnonzero(bad)[:5])}); a unit of size 0 could "
            "never be selected.",
            parameter=name, value=float(a[bad][0]), expected="sizes > 0",
            hint="drop units outside the population or give them a minimum size",
            stratum=stratum,
        )
    return a


def inclusion_probabilities(size, n) -> np.ndarray:
    """Inclusion probabilities proportional to ``size`` for a sample of ``n``, capped at 1.

    Parameters
    ----------
    size : array_like
        Positive size measures of the units of one stratum.
    n : int
        Sample size (number of units, certainty units included).

    Returns
    -------
    numpy.ndarray
        ``pi_k = n a_k / sum(a)``; units with ``pi_k >= 1`` are set to 1 (certainty) and the
        remaining ``n - l`` are shared among the others in proportion to size, repeated until
        no probability exceeds 1.  The probabilities sum to ``n``.

    Raises
    ------
    SamplingError
        A size is missing, zero or negative, or ``n`` exceeds the number of units.

    Notes
    -----
    The algorithm and its arithmetic are those of R ``sampling::inclusionprobabilities(a, n)``
    (Tillé 2006, sect. 2.10); the tests compare at 1e-12.

    Examples
    --------
    >>> from surveylib.sampling import inclusion_probabilities
    >>> inclusion_probabilities([1, 2, 3, 14], 2).round(4).tolist()
    [0.1667, 0.3333, 0.5, 1.0]
    """
    a = check_size(size)
    n = _check_n(n, len(a))
    pik = n * a / a.sum()
    big = pik >= 1
    l_now = int(big.sum())
    if l_now:
        l_prev = 0
        while l_now != l_prev:
            x = pik[~big]
            pik[~big] = (n - l_now) * (x / x.sum())
            pik[big] = 1.0
            l_prev = l_now
            big = pik >= 1
            l_now = int(big.sum())
    return pik


def _check_n(n, n_units: int, stratum=None) -> int:
    try:
        value = float(n)
    except (TypeError, ValueError):
        value = float("nan")
    where = "" if stratum is None else f" for stratum {stratum!r}"
    if not np.isfinite(value) or value != round(value) or value < 0:
        raise SamplingError(
            f"sample size n={n!r}{where} must be a whole number >= 0.",
            parameter="n", value=n, expected="whole number >= 0", stratum=stratum,
        )
    if value > n_units:
        raise SamplingError(
            f"the allocation asks for {int(value)} units{where} but the frame has only "
            f"{n_units}; lower the allocation (at most {n_units}) or merge the stratum.",
            parameter="n", value=int(value), expected=f"<= {n_units}",
            hint="take the stratum completely or re-allocate", stratum=stratum,
        )
    return int(value)


def joint_systematic(pik) -> np.ndarray:
    """Exact joint inclusion probabilities of systematic PPS sampling in the given order.

    Parameters
    ----------
    pik : array_like
        Inclusion probabilities in the order of the systematic list, summing to an integer.

    Returns
    -------
    numpy.ndarray
        ``N x N`` matrix ``pi_kl``; the diagonal is ``pik``.  Units with ``pi`` of 0 or 1 get
        ``pi_k pi_l``.

    Notes
    -----
    With cumulated probabilities ``V_k`` and random start ``u`` in [0, 1), unit ``k`` is
    selected iff ``frac(V_{k-1} - u) > frac(V_k - u)``.  The sample is constant for ``u``
    between consecutive sorted values of ``frac(V_k)``, so ``pi_kl = sum_j p_j M_kj M_lj``
    over those intervals ``j`` (lengths ``p_j``, indicators ``M``) — R
    ``sampling::UPsystematicpi2``, whose arithmetic this follows.

    Examples
    --------
    >>> from surveylib.sampling import joint_systematic
    >>> joint_systematic([0.5, 0.5, 0.5, 0.5]).round(2).tolist()[0]
    [0.5, 0.0, 0.5, 0.0]
    """
    pik = np.asarray(pik, dtype=float).ravel()
    inner = (pik > 0) & (pik < 1)
    p1 = pik[inner]
    N = len(p1)
    out = np.outer(pik, pik)
    if N == 0:
        return out
    total = p1.sum()
    if abs(total - round(total)) > 1e-6:
        raise SamplingError(
            f"the inclusion probabilities sum to {total:.6g}, not a whole number; systematic "
            "sampling needs a fixed sample size.",
            parameter="pik", value=float(total), expected="integer sum",
        )
    Vk = np.cumsum(p1)
    Vk1 = Vk % 1.0
    if Vk1[-1] != 0:
        Vk1[-1] = 0.0
    r = np.append(np.sort(Vk1), 1.0)
    cent = (r[:N] + r[1:]) / 2.0
    p = r[1:] - r[:N]
    A = (np.concatenate([[0.0], Vk])[:, None] - cent[None, :]) % 1.0
    M = (A[:N, :] > A[1:, :]).astype(float)
    out[np.ix_(inner, inner)] = (M * p[None, :]) @ M.T
    return out


def joint_hartley_rao(pik) -> np.ndarray:
    """Hartley–Rao approximation to the joint inclusion probabilities of a fixed-size πps design.

    Parameters
    ----------
    pik : array_like
        Inclusion probabilities of one stratum, summing to the sample size ``n``; units with
        probability 1 (certainty) are handled exactly (``pi_kl = pi_l``).

    Returns
    -------
    numpy.ndarray
        ``N x N`` matrix with ``pik`` on the diagonal.

    Notes
    -----
    Hartley and Rao (1962, eq. 5.15) derived, to order ``O(N^-3)``, for systematic PPS from a
    randomly ordered list::

        pi_kl = (n-1)/n pi_k pi_l + (n-1)/n^2 (pi_k^2 pi_l + pi_k pi_l^2)
                - (n-1)/n^3 pi_k pi_l S2 + 2(n-1)/n^3 (pi_k^3 pi_l + pi_k pi_l^3 + pi_k^2 pi_l^2)
                - 3(n-1)/n^4 (pi_k^2 pi_l + pi_k pi_l^2) S2 + 3(n-1)/n^5 pi_k pi_l S2^2
                - 2(n-1)/n^4 pi_k pi_l S3

    with ``S2 = sum pi^2`` and ``S3 = sum pi^3`` (Tillé 2006, sect. 7.2.4).  It is used here as
    a stated approximation for Brewer's and Sampford's methods too; the tests measure its
    error against Sampford's exact probabilities (R ``UPsampfordpi2``).
    """
    pik = np.asarray(pik, dtype=float).ravel()
    out = np.outer(pik, pik)
    inner = (pik > 0) & (pik < 1)
    q = pik[inner]
    n = q.sum()
    if len(q) == 0:
        return out
    if n < 1.5:  # one unit drawn: no pairs
        block = np.zeros((len(q), len(q)))
    else:
        S2, S3 = np.sum(q**2), np.sum(q**3)
        a, b = q[:, None], q[None, :]
        ab = a * b
        c = n - 1
        block = (c / n * ab + c / n**2 * (a * ab + ab * b) - c / n**3 * ab * S2
                 + 2 * c / n**3 * (a**3 * b + a * b**3 + ab**2)
                 - 3 * c / n**4 * (a * ab + ab * b) * S2 + 3 * c / n**5 * ab * S2**2
                 - 2 * c / n**4 * ab * S3)
    np.fill_diagonal(block, q)
    out[np.ix_(inner, inner)] = block
    return out
