"""Variance for unequal-probability sampling without replacement (R ``svydesign(pps=)``).

With first-stage inclusion probabilities ``pi_i`` and joint probabilities ``pi_ij``, the
Horvitz-Thompson variance of a total is ``sum_ij Dcheck_ij T_i T_j`` over the sampled units,
where ``T_i`` are the units' totals of the weighted scores and::

    Dcheck_ij = (pi_ij - pi_i pi_j) / pi_ij          (Dcheck_ii = 1 - pi_i)

The Yates-Grundy form subtracts ``sum_ij Dcheck_ij T_j^2``.  When the joint probabilities are
not known, R ``survey`` approximates ``Dcheck`` within each stratum of ``n`` units by

* Overton (``pps="overton"``): ``1 - (n - (pi_i + pi_j)/2) / (n - 1)``;
* Hartley-Rao (``pps=HartleyRao(psum)``): ``1 - (n - pi_i - pi_j + p2) / (n - 1)`` with
  ``p2 = sum over the population of pi_k^2 / n`` (``HartleyRao()``: the sample mean of ``pi``,
  R's ``HR()``);

zero between strata, ``1 - pi_i`` on the diagonal, and (as R) zero where ``pi_i + pi_j`` (or
their mean) is exactly one.  Brewer's approximation (``pps="brewer"``) needs no matrix: it is
the ordinary stratified formula with each unit's own ``1 - pi_i`` (:mod:`.taylor`).

``Dcheck`` is stored sparse (pairs within strata only), so the cost grows with
``sum_h n_h^2``, not the square of the number of units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SurveyDesignError

PPS_METHODS = ("brewer", "overton", "hartley-rao")
PPS_VARIANCES = ("HT", "YG")


@dataclass(frozen=True)
class HartleyRao:
    """Hartley and Rao's approximation to the joint inclusion probabilities (R ``HR()``).

    Parameters
    ----------
    psum : float or mapping of stratum label to float, optional
        ``sum over the population of pi_k^2 / n_h`` (one number, or one per stratum).  Without
        it the sample mean of the inclusion probabilities is used, as R's ``HR()``.
    """

    psum: float | Mapping | None = None


@dataclass(frozen=True)
class JointProbabilities:
    """Known joint inclusion probabilities of the sampled units (R ``ppsmat``).

    Parameters
    ----------
    matrix : (P, P) array
        ``pi_ij`` of the first-stage units in the order they first appear in the data (for
        element sampling, the data's row order, as R), with ``pi_i`` on the diagonal.
    tolerance : float, default 1e-4
        Entries of ``Dcheck`` smaller than this in absolute value are set to zero (R's
        ``ppsmat(tolerance=)``).
    """

    matrix: np.ndarray
    tolerance: float = 1e-4


@dataclass(frozen=True)
class PPSVariance:
    """``Dcheck`` of the first-stage units and the variance form (``"HT"`` or ``"YG"``)."""

    dcheck: Any  # scipy.sparse.csr_matrix (scipy imported when a pps design is built)
    variance: str

    def vcov(self, totals: np.ndarray) -> np.ndarray:
        """K x K covariance from the first-stage units' totals (P x K)."""
        dt = self.dcheck @ totals
        v = totals.T @ dt
        if self.variance == "YG":
            colsum = np.asarray(self.dcheck.sum(axis=0)).ravel()
            v = v - totals.T @ (colsum[:, None] * totals)
        return v


def within_stratum_pairs(unit_stratum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair (i, j) of units in the same stratum, i == j included."""
    n_units = len(unit_stratum)
    order = np.argsort(unit_stratum, kind="stable")
    h = unit_stratum[order]
    n_h = np.bincount(unit_stratum)
    start = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    m = n_h[h]  # pairs of each unit (in sorted position)
    first = np.repeat(np.arange(n_units), m)
    offset = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    second = start[np.repeat(h, m)] + offset
    return order[first], order[second]


def approximate_dcheck(method, unit_stratum: np.ndarray, pi: np.ndarray,
                       stratum_labels: np.ndarray):
    """Overton's or Hartley-Rao's ``Dcheck`` (module docstring), sparse P x P."""
    from scipy import sparse

    i, j = within_stratum_pairs(unit_stratum)
    n = np.bincount(unit_stratum).astype(float)[unit_stratum[i]]
    if method == "overton":
        fbar = (pi[i] + pi[j]) / 2
        extra = 0.0
    else:
        fbar = pi[i] + pi[j]
        extra = _hartley_rao_p2(method, unit_stratum, pi, stratum_labels)[unit_stratum[i]]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 1.0 - (n - fbar + extra) / (n - 1.0)
    d = np.where(fbar == 1.0, 0.0, d)
    d = np.where(i == j, 1.0 - pi[i], d)
    P = len(pi)
    return sparse.csr_matrix((d, (i, j)), shape=(P, P))


def _hartley_rao_p2(method, unit_stratum, pi, stratum_labels) -> np.ndarray:
    """Hartley-Rao's ``p2`` per stratum: given, or the sample mean of ``pi`` (R ``HR()``)."""
    H = len(stratum_labels)
    psum = method.psum if isinstance(method, HartleyRao) else None
    if psum is None:
        return np.bincount(unit_stratum, weights=pi, minlength=H) / np.bincount(
            unit_stratum, minlength=H)
    if isinstance(psum, Mapping):
        missing = [lab for lab in stratum_labels if lab not in psum]
        if missing:
            raise SurveyDesignError(
                f"HartleyRao(psum=) has no value for stratum {missing[0]!r}; give one number "
                "per stratum (sum over the population of pi^2 / n_h).",
                parameter="pps", value=missing[0])
        return np.array([float(psum[lab]) for lab in stratum_labels])
    return np.full(H, float(psum))


def joint_dcheck(joint: JointProbabilities, n_units: int, unit_order: np.ndarray):
    """``Dcheck`` from known joint probabilities, rows in unit-code order (sparse)."""
    from scipy import sparse

    pij = np.asarray(joint.matrix, dtype=np.float64)
    if pij.ndim != 2 or pij.shape != (n_units, n_units):
        raise SurveyDesignError(
            f"JointProbabilities needs a {n_units} x {n_units} matrix (one row and column per "
            f"first-stage unit, in order of first appearance), got shape {pij.shape}.",
            parameter="pps", value=pij.shape)
    if not np.isfinite(pij).all() or (pij <= 0).any() or (pij > 1).any():
        raise SurveyDesignError(
            "JointProbabilities: every joint inclusion probability must be in (0, 1].",
            parameter="pps")
    if not np.allclose(pij, pij.T, rtol=0, atol=1e-12):
        raise SurveyDesignError("JointProbabilities: the matrix must be symmetric.",
                                parameter="pps")
    pij = pij[np.ix_(unit_order, unit_order)]
    diag = np.diag(pij)
    d = (pij - np.outer(diag, diag)) / pij
    d[np.abs(d) < joint.tolerance] = 0.0
    return sparse.csr_matrix(d)


def check_pps(pps, variance: str, n_stages: int) -> None:
    """Refuse a ``pps=`` / ``pps_variance=`` the design cannot use, saying what to give."""
    if pps is not None and not isinstance(pps, (HartleyRao, JointProbabilities)) and (
            not isinstance(pps, str) or pps not in PPS_METHODS):
        raise SurveyDesignError(
            f"pps={pps!r} is not a method: give 'brewer', 'overton', 'hartley-rao', "
            "HartleyRao(psum=...) or JointProbabilities(matrix).", parameter="pps", value=pps,
            expected=list(PPS_METHODS) + ["HartleyRao(...)", "JointProbabilities(...)"])
    if variance not in PPS_VARIANCES:
        raise SurveyDesignError(
            f"pps_variance={variance!r} is not 'HT' (Horvitz-Thompson) or 'YG' "
            "(Yates-Grundy).", parameter="pps_variance", value=variance,
            expected=list(PPS_VARIANCES))
    if variance == "YG" and (pps is None or pps == "brewer"):
        raise SurveyDesignError(
            "pps_variance='YG' needs joint inclusion probabilities or their approximation: "
            "give pps='overton', 'hartley-rao', HartleyRao(...) or JointProbabilities(...).",
            parameter="pps_variance", value=variance)
    if pps is not None and pps != "brewer" and n_stages > 1:
        raise SurveyDesignError(
            f"pps={pps!r} is for one stage of sampling (as R); for several stages use "
            "pps='brewer', which takes each stage's inclusion probabilities from fpc=.",
            parameter="pps", value=pps)


def pps_variance_of(pps, variance: str, stage, weights: np.ndarray) -> PPSVariance | None:
    """The ``Dcheck`` of a one-stage design with ``pps=`` (None for Brewer or no pps).

    Each unit's inclusion probability is ``1 / weight`` of its first row (R's ``allprob``:
    the probs, the inverse weights, or the fpc fractions).
    """
    if pps is None or pps == "brewer":
        return None
    first_row = np.full(stage.n_psu, -1, dtype=np.int64)
    rows = np.arange(len(stage.unit))[::-1]
    first_row[stage.unit[rows]] = rows  # the last write per unit is its first row
    if isinstance(pps, JointProbabilities):
        order = np.argsort(first_row, kind="stable")  # units in order of first appearance
        ranks = np.empty_like(order)
        ranks[order] = np.arange(len(order))
        return PPSVariance(joint_dcheck(pps, stage.n_psu, ranks), variance)
    pi = 1.0 / weights[first_row]
    if (pi > 1 + 1e-12).any():
        raise SurveyDesignError(
            "pps: some unit has weight below 1, i.e. an inclusion probability above 1; the "
            "weights (or probs, or fpc fractions) must be inverse inclusion probabilities.",
            parameter="pps")
    return PPSVariance(approximate_dcheck(pps, stage.unit_stratum, pi, stage.stratum_labels),
                       variance)
