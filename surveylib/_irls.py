"""The numerics of :func:`surveylib.models.glm`: IRLS (R ``glm.fit``), the families' deviance,
the collinearity check and the batched refits of replicate designs.

Every function takes arrays (response ``y``, model matrix ``X``, prior weights ``w``) and knows
nothing of designs.  The single-fit IRLS reuses its n-length and n x p buffers across
iterations; a 0/1 response takes one logarithm per row for the deviance instead of two.  Both
give the same bits as the textbook expressions they replace (the operations are the same, in
the same order, on the same values).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ConvergenceWarning, SurveyDesignError

EPS = np.finfo(np.float64).eps


def linkinv(family, eta):
    """The canonical inverse link (logistic or exp)."""
    return 1 / (1 + np.exp(-eta)) if family == "binomial" else np.exp(eta)


def mu_eta(family, mu):
    """``d mu / d eta``, the variance function for canonical links."""
    return mu * (1 - mu) if family == "binomial" else mu


def unit_deviance(family, y, mu):
    """Half the deviance of each observation, ``d(y, mu) / 2``, for binomial and poisson."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if family == "binomial":
            return np.where(y > 0, y * np.log(y / mu), 0) + np.where(
                y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0)
        return np.where(y > 0, y * np.log(y / mu), 0) - (y - mu)


def deviance_columns(family, y, mu, W) -> np.ndarray:
    """:func:`deviance` of each column of fitted means ``mu`` with weights ``W`` (binomial
    and poisson; the batched IRLS needs no gaussian deviance)."""
    return 2 * np.sum(W * unit_deviance(family, y, mu), axis=0)


def variance_function(family: str, mu: np.ndarray) -> np.ndarray:
    """The family's variance function ``V(mu)`` (= ``d mu / d eta`` for canonical links)."""
    if family == "binomial":
        return mu * (1 - mu)
    return mu if family == "poisson" else np.ones_like(mu)


def pearson_residuals(family: str, y, mu, w) -> np.ndarray:
    """R ``residuals.glm(type="pearson")``: ``(y - mu) sqrt(w) / sqrt(V(mu))``."""
    return (y - mu) * np.sqrt(w) / np.sqrt(variance_function(family, mu))


def deviance(family: str, y, mu, w) -> float:
    """Weighted deviance ``sum w d(y, mu)`` of the family (R ``family()$dev.resids``)."""
    if family in ("binomial", "poisson"):
        return float(2 * np.sum(w * unit_deviance(family, y, mu)))
    return float(np.sum(w * (y - mu) ** 2))


class Deviance:
    """:func:`deviance` of ``family`` for fixed ``y`` and ``w``, called once per IRLS step.

    For a 0/1 response (binomial) the unit deviance is ``log(1 / mu)`` where ``y = 1`` and
    ``log(1 / (1 - mu))`` where ``y = 0``: what :func:`unit_deviance` computes there (the
    other term is masked to 0, and ``1 * x`` and ``x + 0`` are exact), with one logarithm per
    row and no temporaries.
    """

    def __init__(self, family: str, y: np.ndarray, w: np.ndarray):
        self.family, self.y, self.w = family, y, w
        self.ones = None
        if family == "binomial":
            ones = y == 1
            if np.count_nonzero(ones) + np.count_nonzero(y == 0) == len(y):
                self.ones = ones
                self.buf = np.empty(len(y))

    def __call__(self, mu) -> float:
        if self.ones is None:
            return deviance(self.family, self.y, mu, self.w)
        buf = self.buf
        np.subtract(1, mu, out=buf)
        np.copyto(buf, mu, where=self.ones)
        with np.errstate(divide="ignore"):
            np.divide(1, buf, out=buf)
            np.log(buf, out=buf)
        buf *= self.w
        return float(2 * np.sum(buf))

    def at_constant(self, mu0: float) -> float:
        """The deviance at the constant mean ``mu0`` (the null deviance)."""
        if self.ones is None:
            return deviance(self.family, self.y, np.full(len(self.y), mu0), self.w)
        with np.errstate(divide="ignore"):
            logs = np.log(np.divide(1, np.array([1 - mu0, mu0])))
        np.take(logs, self.ones.view(np.int8), out=self.buf)
        self.buf *= self.w
        return float(2 * np.sum(self.buf))


def check_rank(X, w, terms, label) -> None:
    """Raise when the columns of ``sqrt(w) X`` are collinear, as ``np.linalg.matrix_rank``
    decides (singular values above ``max(n, p) eps`` times the largest).

    The SVD of the n x p matrix is needed only when the p x p Gram matrix ``X' W X`` is close
    to singular: its computed eigenvalues are within ``p (n + p + 2) eps`` of the largest of
    the exact squared singular values (the error of forming and diagonalising it), so a
    smallest eigenvalue above ``max(1e-6, 100 p n eps)`` times the largest means a smallest
    singular value near ``1e-3`` times the largest or more, far above ``matrix_rank``'s
    threshold: full rank either way.
    """
    n, p = X.shape
    G = X.T @ (X * w[:, None])
    if np.isfinite(G).all():
        ev = np.linalg.eigvalsh(G)
        if ev[0] > ev[-1] * max(1e-6, 100 * p * n * EPS):
            return
    sw = X * np.sqrt(w)[:, None]
    rank = np.linalg.matrix_rank(sw)
    if rank < p:
        _, r = np.linalg.qr(sw)
        small = [terms[j] for j in np.flatnonzero(np.abs(np.diag(r)) < 1e-10 * np.abs(r).max())]
        raise SurveyDesignError(
            f"the predictors of {label!r} are collinear ({rank} of {p} columns "
            f"independent; check {small}); drop or merge the redundant terms."
        )


def fit_irls(y, X, w, family: str, *, max_iter: int = 100, tol: float = 1e-12,
             label: str = "model"):
    """IRLS fit of ``y`` on the columns of ``X`` with prior weights ``w`` (R ``glm.fit``).

    Returns
    -------
    tuple
        Coefficients, fitted means, deviance.  Used to refit sub-models on the rows of a fit
        (R ``update(fit, . ~ . - term)`` in ``regTermTest(method="LRT")``).
    """
    fit = irls(y, X, w, family, max_iter, tol, label)
    return fit.beta, fit.mu, fit.deviance


@dataclass(frozen=True)
class IRLSFit:
    """What :func:`irls` returns.

    ``score_w`` are the score weights ``w (y - mu)`` in R's form (working residual at the
    final fit times the working weights ``ww`` of the last step); ``A`` is ``X' diag(ww) X``,
    which R inverts; ``dev`` the :class:`Deviance` of the fit (for the null deviance).
    """

    beta: np.ndarray
    mu: np.ndarray
    score_w: np.ndarray
    ww: np.ndarray
    A: np.ndarray
    deviance: float
    iterations: int
    dev: Deviance


def irls(y, X, w, family, max_iter, tol, label) -> IRLSFit:
    """R ``glm.fit``: same start, same IRLS steps, same convergence rule (relative change of
    the deviance below ``tol``)."""
    dev_of = Deviance(family, y, w)
    if family == "gaussian":
        A = X.T @ (X * w[:, None])
        beta = np.linalg.solve(A, X.T @ (w * y))
        mu = X @ beta
        return IRLSFit(beta=beta, mu=mu, score_w=w * (y - mu), ww=w, A=A,
                       deviance=float(np.sum(w * (y - mu) ** 2)), iterations=1, dev=dev_of)
    binomial = family == "binomial"
    mu = (w * y + 0.5) / (w + 1) if binomial else y + 0.1
    eta = np.log(mu / (1 - mu)) if binomial else np.log(mu)
    dev_old = dev_of(mu)
    wx = np.empty_like(X)  # X * ww, every step
    ww, r = np.empty(len(y)), np.empty(len(y))
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        if binomial:  # ww = g = mu (1 - mu)
            np.subtract(1, mu, out=ww)
            ww *= mu
        else:
            ww[:] = mu
        np.subtract(y, mu, out=r)
        r /= ww
        r += eta  # r = z = eta + (y - mu) / g
        ww *= w  # ww = w g
        np.multiply(X, ww[:, None], out=wx)
        A = X.T @ wx
        r *= ww
        beta = np.linalg.solve(A, X.T @ r)
        np.matmul(X, beta, out=eta)
        if binomial:  # mu = 1 / (1 + exp(-eta)), in place
            np.negative(eta, out=mu)
            np.exp(mu, out=mu)
            mu += 1
            np.divide(1, mu, out=mu)
        else:
            np.exp(eta, out=mu)
        dev = dev_of(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            break
        dev_old = dev
    else:
        warnings.warn(
            f"IRLS for {label!r} did not converge in {max_iter} iterations (relative deviance "
            f"change still >= {tol:g}); the estimates may be unreliable — check for separation "
            "or raise max_iter.",
            ConvergenceWarning,
            stacklevel=3,
        )
    score_w = (y - mu) / mu_eta(family, mu) * ww
    return IRLSFit(beta=beta, mu=mu, score_w=score_w, ww=ww, A=A, deviance=dev,
                   iterations=it, dev=dev_of)


def irls_batch(y, X, W, beta0, family, max_iter, tol, label) -> np.ndarray:
    """IRLS (R ``glm.fit`` from ``start = beta0``) for each column of prior weights ``W``
    (n x B) at once; returns the B x p coefficients."""

    def solve(ww, z):
        A = np.einsum("ni,nb,nj->bij", X, ww, X, optimize=True)
        rhs = np.einsum("ni,nb->bi", X, ww * z, optimize=True)
        return np.linalg.solve(A, rhs[:, :, None])[:, :, 0]

    if family == "gaussian":
        return solve(W, np.broadcast_to(y[:, None], W.shape))
    B = np.tile(beta0, (W.shape[1], 1))
    eta = X @ B.T
    mu = linkinv(family, eta)
    yy = y[:, None]
    dev_old = deviance_columns(family, yy, mu, W)
    done = np.zeros(W.shape[1], dtype=bool)
    for _ in range(max_iter):
        g = mu_eta(family, mu)
        step = solve(W * g, eta + (yy - mu) / g)
        B = np.where(done[:, None], B, step)
        eta = X @ B.T
        mu = linkinv(family, eta)
        dev = deviance_columns(family, yy, mu, W)
        done |= np.abs(dev - dev_old) / (np.abs(dev) + 0.1) < tol
        if done.all():
            return B
        dev_old = dev
    warnings.warn(
        f"IRLS for {label!r} did not converge in {max_iter} iterations for "
        f"{int((~done).sum())} replicate(s); their coefficients, and so the SEs, may be "
        "unreliable — check for separation or raise max_iter.", ConvergenceWarning, stacklevel=4)
    return B
