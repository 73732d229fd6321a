"""Confidence intervals for proportions (R ``svyciprop``).

``logit``/``xlogit``, ``asin``, ``beta`` (Korn–Graubard) and ``wilson`` are closed forms of the
share and its design-based SE; ``likelihood`` is R's Rao–Scott-scaled profile-likelihood
interval, computed for every cell at once (see :func:`_likelihood_interval`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import check_level
from ..errors import SurveyDesignError, SurveyWarning
from ..results import critical_value
from ..variance.taylor import Scores

CI_METHODS = ("logit", "xlogit", "wald", "mean", "asin", "beta", "wilson", "likelihood")


def proportion_interval(method, est, v, cells):
    """Interval factory ``interval(level, dfs)`` of the shares ``est`` (R ``svyciprop``)."""
    from scipy import stats  # imported on first use: `import surveylib` stays quick
    se = np.sqrt(np.clip(np.diag(v), 0, None))
    n_rows = cells.nobs  # rows of each cell's domain with a value (R nrow(design))

    if method == "likelihood":
        return _likelihood_interval(est, cells)

    def interval(level, dfs):
        check_level(level)
        alpha = 1 - level
        q = critical_value(level, dfs)
        p = est
        with np.errstate(divide="ignore", invalid="ignore"):
            if method in ("logit", "xlogit"):
                eta = np.log(p / (1 - p))
                half = q * se / (p * (1 - p))
                return _expit(eta - half), _expit(eta + half)
            if method == "asin":
                a = np.arcsin(np.sqrt(p))
                half = q * se / (2 * np.sqrt(p * (1 - p)))
                return np.sin(a - half) ** 2, np.sin(a + half) ** 2
            if method == "beta":
                # R svyciprop(method="beta") uses the design's df and nrow(design) - 1
                n_eff = p * (1 - p) / se**2
                ratio = stats.t.ppf(alpha / 2, n_rows - 1) / stats.t.ppf(alpha / 2, dfs)
                n_eff = n_eff * ratio**2
                low = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
                high = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
                return low, high
            if method == "wilson":
                n_eff = p * (1 - p) / se**2
                z2 = q**2
                centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
                half = q / (1 + z2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2))
                return centre - half, centre + half
        raise SurveyDesignError(f"unknown ci_method {method!r}")

    return interval


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


# ----- profile-likelihood proportion intervals (R svyciprop(method="likelihood")) -------------
def _likelihood_interval(est, cells):
    """R ``svyciprop(method="likelihood")`` for every cell: fit, then an interval factory.

    Everything that does not depend on the level is computed once here: the intercept-only
    IRLS fit of R ``glm.fit`` (weights scaled to mean 1 within the domain), the deviance at the
    fit, the Pearson dispersion (R ``svyvar``), and the design-based and model-based
    variances of the intercept (R ``svy.varcoef`` and ``summary.glm``'s ``cov.unscaled``).
    """
    from scipy import stats  # imported on first use: `import surveylib` stays quick
    k = cells.k
    w = cells.w
    W, S1, n, nmiss = (np.zeros(k) for _ in range(4))
    for valid, c, y, _ in cells.blocks:
        wv = w * valid
        W += np.bincount(c, wv, minlength=k)
        S1 += np.bincount(c, wv * y, minlength=k)
        n += np.bincount(c, valid, minlength=k)
    usable = (n > 1) & (S1 > 0) & (S1 < W)
    safe_W = np.where(W > 0, W, 1.0)
    scale = np.where(W > 0, n / safe_W, 0.0)  # w~ = w / mean(w) in the domain (R rescale=TRUE)
    s1 = S1 * scale  # sum of w~ over y = 1
    s0 = n - s1  # sum of w~ over y = 0 (sum w~ = n)

    def dev(mu):  # binomial deviance of a constant mean
        with np.errstate(divide="ignore", invalid="ignore"):
            return -2.0 * (s1 * np.log(mu) + s0 * np.log1p(-mu))

    # R glm.fit, first iteration from mustart = (w~ y + 0.5) / (w~ + 1), row by row
    dev_old = np.zeros(k)
    sum_ww = np.zeros(k)
    sum_wwz = np.zeros(k)
    for valid, c, y, _ in cells.blocks:
        wt = w * scale[c] * valid
        mu0 = (wt * y + 0.5) / (wt + 1.0)
        eta0 = np.log(mu0 / (1.0 - mu0))
        mu0 = _expit(eta0)
        with np.errstate(divide="ignore", invalid="ignore"):
            dres = -2.0 * wt * np.where(y > 0, np.log(mu0), np.log1p(-mu0))
        dev_old += np.bincount(c, np.where(valid, dres, 0.0), minlength=k)
        g = _logit_mu_eta(eta0)
        ww = wt * g * g / (mu0 * (1.0 - mu0))
        z = eta0 + (y - mu0) / g
        sum_ww += np.bincount(c, np.where(valid, ww, 0.0), minlength=k)
        sum_wwz += np.bincount(c, np.where(valid, ww * z, 0.0), minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = sum_wwz / sum_ww
    mu = _expit(eta)
    d = dev(mu)
    done = ~usable | (np.abs(d - dev_old) / (np.abs(d) + 0.1) < 1e-8)
    for _ in range(24):  # R glm.control(): epsilon 1e-8, maxit 25; later steps are per cell
        if done.all():
            break
        g = _logit_mu_eta(eta)
        var = mu * (1.0 - mu)
        # with a constant mean, sum(ww z)/sum(ww) = eta + sum(w~ (y - mu)) / (n mu.eta)
        new_ww = n * g * g / var
        with np.errstate(divide="ignore", invalid="ignore"):
            new_eta = eta + (s1 - n * mu) / (n * g)
        new_mu = _expit(new_eta)
        new_d = dev(new_mu)
        step = ~done
        conv = np.abs(new_d - d) / (np.abs(new_d) + 0.1) < 1e-8
        eta = np.where(step, new_eta, eta)
        mu = np.where(step, new_mu, mu)
        sum_ww = np.where(step, new_ww, sum_ww)
        d = np.where(step, new_d, d)
        done = done | conv
    if not done.all():
        warnings.warn(
            "the intercept-only fit behind the likelihood interval did not converge in 25 IRLS "
            "iterations for some share (as R glm.fit); its interval may be unreliable.",
            SurveyWarning,
            stacklevel=5,
        )
    # design-based variance of the intercept: scores w~ (y - mu) / (n mu.eta) (R svy.varcoef)
    blocks = []
    sd1, sd2 = np.zeros(k), np.zeros(k)
    g = _logit_mu_eta(eta)
    for valid, c, y, _ in cells.blocks:
        wv = w * valid
        with np.errstate(divide="ignore", invalid="ignore"):
            blocks.append((wv * scale[c] * (y - mu[c]) / (n[c] * g[c]), c))
            # R residuals.svyglm(type="pearson"): (y - mu) / sqrt(mu (1 - mu)), the prior and
            # sampling weights cancelling, for the dispersion
            r = np.where(valid, (y - mu[c]) / np.sqrt(mu[c] * (1 - mu[c])), 0.0)
        sd1 += np.bincount(c, wv * r, minlength=k)
        sd2 += np.bincount(c, wv * r * r, minlength=k)
    v_eta = np.diag(cells.design.engine.vcov_scores(Scores(tuple(blocks), k)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # R svyvar: n/(n-1) times the weighted mean square about the weighted mean
        phi = (sd2 / safe_W - (sd1 / safe_W) ** 2) * n / (n - 1)
        lam = v_eta * sum_ww  # design variance / model variance (1 / sum of IRLS weights)
    se_eta = np.sqrt(np.clip(v_eta, 0, None))

    def interval(level, dfs):
        check_level(level)
        dfs = np.broadcast_to(np.asarray(dfs, dtype=float), (k,))
        low, high = np.full(k, np.nan), np.full(k, np.nan)
        ok = usable & (dfs > 0) & (se_eta > 0) & np.isfinite(lam)
        if (usable & ~ok).any() or (~usable & (n > 0)).any():
            warnings.warn(
                "no likelihood interval (NaN) for share(s) that are 0 or 1, or whose domain has "
                "one row, no degrees of freedom or zero variance; use ci_method='beta' there.",
                SurveyWarning,
                stacklevel=3,
            )
        if not ok.any():
            return low, high
        # R confint.svyglm: alpha = pnorm(q sqrt(lambda)) / 2, cutoffs qnorm(2 alpha)
        q_lo = np.where(np.isinf(dfs), stats.norm.ppf((1 - level) / 2),
                        stats.t.ppf((1 - level) / 2, np.where(np.isinf(dfs) | (dfs <= 0), 1.0, dfs)))
        with np.errstate(invalid="ignore", divide="ignore"):
            half_alpha = stats.norm.cdf(q_lo * np.sqrt(lam)) / 2
            cut = stats.norm.ppf(2 * half_alpha)
            # R profile.glm for quasi families: zmax = sqrt(qf(alpha, 1, n - p, lower = FALSE))
            zmax = np.sqrt(stats.f.isf(half_alpha, 1, n - 1))
        delta = zmax / 5
        steps = np.arange(1, 10)
        for j in np.flatnonzero(ok):
            zs, bs = [0.0], [eta[j]]
            for sgn in (-1.0, 1.0):
                b = eta[j] + sgn * steps * delta[j] * se_eta[j]
                pb = _expit(b)
                zz = (-2.0 * (s1[j] * np.log(pb) + s0[j] * np.log1p(-pb)) - d[j]) / phi[j]
                if (zz <= -0.001).any():
                    raise SurveyDesignError(
                        "profiling the likelihood interval found a better fit than the IRLS "
                        "estimate (R stops here too); use ci_method='logit' for this share."
                    )
                z = sgn * np.sqrt(np.maximum(zz, 0.0))
                stop = np.flatnonzero(np.abs(z) >= zmax[j])  # R: while |z| < zmax, < 10 steps
                last = stop[0] + 1 if len(stop) else len(z)
                zs.extend(z[:last])
                bs.extend(b[:last])
            zs, bs = np.asarray(zs), np.asarray(bs)
            order = np.argsort(zs, kind="stable")
            zs, bs = zs[order], bs[order]
            sx, sy = _r_spline(bs, zs)
            low[j], high[j] = _expit(_r_approx(sy, sx, np.array([cut[j], -cut[j]])))
        if np.isnan(low[ok]).any() or np.isnan(high[ok]).any():
            warnings.warn(
                "a likelihood interval end lies outside the profiled range (R gives NA there "
                "too); it is reported as NaN.",
                SurveyWarning,
                stacklevel=3,
            )
        return low, high

    return interval


def _logit_mu_eta(eta):
    """R ``binomial()$mu.eta`` (C ``logit_mu_eta``), with its thresholds."""
    eta = np.asarray(eta, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(eta)
        val = e / (1.0 + e) ** 2
    return np.where((eta > 30.0) | (eta < -30.0), np.finfo(float).eps, val)


def _r_spline(x, y):
    """R ``spline(x, y)`` with its defaults: "fmm" spline at ``3 length(x)`` equispaced points.

    ``x`` must be sorted (ties averaged as R's ``regularize.values``); returns (xout, yout).
    """
    n_out = 3 * len(x)
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):
        y = np.bincount(inv, y) / np.bincount(inv)
        x = ux
    xmin, xmax = float(x[0]), float(x[-1])
    i = np.arange(n_out, dtype=float)
    by = (xmax - xmin) / (n_out - 1)
    xout = np.where(i < n_out // 2, xmin + i * by, xmax - (n_out - 1 - i) * by)
    xout[0], xout[-1] = xmin, xmax
    b, c, dd = _fmm_coef(np.asarray(x, float), np.asarray(y, float))
    # R spline_eval: the knot interval x[i] <= u < x[i+1] (the last knot uses the last piece)
    idx = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, len(x) - 1)
    dx = xout - x[idx]
    return xout, y[idx] + dx * (b[idx] + dx * (c[idx] + dx * dd[idx]))


def _fmm_coef(x, y):
    """Forsythe–Malcolm–Moler cubic spline coefficients, as R's C ``fmm_spline``."""
    n = len(x)
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
        return b, c, d
    d[:-1] = np.diff(x)
    slopes = np.diff(y) / d[:-1]
    b[1:-1] = 2.0 * (d[:-2] + d[1:-1])
    c[1:-1] = slopes[1:] - slopes[:-1]
    b[0], b[-1] = -d[0], -d[n - 2]
    c[0] = c[-1] = 0.0
    if n > 3:
        c0 = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        cn = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c0 * d[0] * d[0] / (x[3] - x[0])
        c[-1] = -cn * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
    for i in range(1, n):  # tridiagonal elimination: a recurrence over a dozen knots
        t = d[i - 1] / b[i - 1]
        b[i] -= t * d[i - 1]
        c[i] -= t * c[i - 1]
    c[-1] /= b[-1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[-1] = (y[-1] - y[-2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[-1])
    b[:-1] = (y[1:] - y[:-1]) / d[:-1] - d[:-1] * (c[1:] + 2.0 * c[:-1])
    d[:-1] = (c[1:] - c[:-1]) / d[:-1]
    c *= 3.0
    d[-1] = d[n - 2]
    return b, c, d


def _r_approx(x, y, xout):
    """R ``approx(x, y, xout)``: linear interpolation, NaN outside the range, ties averaged."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):
        y = np.bincount(inv, y) / np.bincount(inv)
        x = ux
    out = np.interp(xout, x, y)
    return np.where((xout < x[0]) | (xout > x[-1]), np.nan, out)


