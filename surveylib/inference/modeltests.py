"""Tests and information criteria of survey-weighted GLMs (R ``regTermTest(method="LRT")``,
``anova.svyglm``, ``AIC.svyglm``, ``BIC.svyglm``).

Everything is read from a :class:`~surveylib.models.GLMResult` through its public fields: the
design-based covariance ``vcov_matrix``, the model-based ``naive_cov``, the deviance, and the
rows used (``response``, ``model_matrix``, ``prior_weights``) to refit a sub-model on the same
rows.  The Rao–Scott working likelihood-ratio test (Lumley & Scott 2013, *Partial likelihood
ratio tests for the Cox model under complex sampling*, and 2014, *Tests for regression models
fitted to survey data*, Aust. N. Z. J. Stat. 56) refers the difference in deviance to the
distribution of ``sum_i lambda_i chi2_1`` (F form: divided by ``chi2_df / df``), with
``lambda`` the eigenvalues of ``V0^{-1} V`` — the design effects of the tested coefficients —
and takes its tail by the saddlepoint approximation, as R.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import check_option
from ..errors import SurveyDesignError
from ..models import deviance, fit_irls
from ..results import TestResult
from .contrasts import contrast, wald
from .raoscott import pfsum


@dataclass(frozen=True, repr=False)  # TestResult's repr
class LRTResult(TestResult):
    """A Rao–Scott working likelihood-ratio test (R ``regTermTestLRT``; frozen).

    ``statistic`` is the difference in deviance (R ``chisq``), ``df_num`` the number of tested
    coefficients and ``df_denom`` the denominator df (``inf`` for the chi-square form);
    ``eigenvalues`` are the design effects ``lambda`` (R ``$lambda``) whose weighted sum of
    chi-squares is the reference distribution.
    """

    __test__ = False
    eigenvalues: tuple = ()


def _check_glm(fit, what: str) -> None:
    if getattr(fit, "naive_cov", None) is None or getattr(fit, "model_matrix", None) is None:
        raise SurveyDesignError(
            f"{what} needs a survey GLM fitted by surveylib.glm / design.glm(); got "
            f"{type(fit).__name__}.", parameter="fit", value=type(fit).__name__,
            expected="GLMResult")


def _tested(fit, terms) -> tuple[np.ndarray, list]:
    """Positions of the coefficients of the named terms (or coefficients)."""
    names = contrast(fit, terms).names
    return np.array([fit.terms.index(n) for n in names]), names


def _design_effects(fit, idx: np.ndarray) -> np.ndarray:
    """Eigenvalues of ``V0^{-1} V`` for the tested coefficients (R ``misspec``)."""
    V0 = np.asarray(fit.naive_cov)[np.ix_(idx, idx)]
    V = np.asarray(fit.vcov_matrix)[np.ix_(idx, idx)]
    lam = np.linalg.eigvals(np.linalg.solve(V0, V))
    return np.sort(np.real(lam))[::-1]


def lrt(fit, terms, *, df=None) -> LRTResult:
    """Rao–Scott working likelihood-ratio test that the coefficients of ``terms`` are zero
    (R ``regTermTest(fit, ~terms, method="LRT")``).

    Parameters
    ----------
    fit : GLMResult
    terms : str or list of str
        Model terms (patsy's names, or R's without ``Q("...")``) or coefficient names.
    df : float, optional
        Denominator degrees of freedom; default the model's residual df (R's default, an F
        form); ``float("inf")`` gives the chi-square form (R ``df=Inf``).

    Returns
    -------
    LRTResult
        ``statistic`` = deviance of the fit without the terms minus the fit's deviance.

    Notes
    -----
    The smaller model is refitted on the rows the full model used.  R refits with
    ``update()``, i.e. on every row complete for the smaller model: where the tested term has
    missing values R's two deviances come from different rows; surveylib's do not (they agree
    whenever the tested terms have no missing values).
    """
    _check_glm(fit, "lrt()")
    idx, names = _tested(fit, terms)
    keep = np.setdiff1d(np.arange(len(fit.terms)), idx)
    X0 = np.asarray(fit.model_matrix)[:, keep]
    y, w = np.asarray(fit.response), np.asarray(fit.prior_weights)
    if X0.shape[1] == 0:  # no coefficient left: eta = 0
        mu0 = {"gaussian": 0.0, "binomial": 0.5, "poisson": 1.0}[fit.family]
        dev0 = deviance(fit.family, y, np.full(len(y), mu0), w)
    else:
        _, _, dev0 = fit_irls(y, X0, w, fit.family, label=f"{fit.formula} without {names}")
    chisq = float(dev0 - fit.deviance)
    lam = _design_effects(fit, idx)
    ddf = float(fit.dfs) if df is None else float(df)
    p = pfsum(chisq, lam, ddf)
    form = "chi-square form" if np.isinf(ddf) else f"F form, {ddf:g} df"
    return LRTResult(chisq, float(len(idx)), ddf, p,
                     f"Rao-Scott working likelihood-ratio test ({form}; saddlepoint tail)",
                     f"the coefficient(s) {names} equal 0", fit.inference,
                     eigenvalues=tuple(float(v) for v in lam))


def anova(fit0, fit1, *, test: str = "F", method: str = "LRT") -> TestResult:
    """Compare two nested survey GLMs (R ``anova(fit0, fit1)`` on ``svyglm`` fits).

    Parameters
    ----------
    fit0, fit1 : GLMResult
        Nested models (the terms of one contain the other's), fitted on the same rows.
    test : {"F", "Chisq"}
        R's spelling: an F form with the bigger model's residual df, or the chi-square form.
    method : {"LRT", "Wald"}
        The Rao–Scott working likelihood-ratio test (R's default) or the Wald test of the
        extra terms.

    Returns
    -------
    TestResult
        As R's, which calls ``regTermTest`` on the bigger model with the extra terms.
    """
    check_option(test, ("F", "Chisq"), name="test")
    check_option(method, ("LRT", "Wald"), name="method")
    t0, t1 = set(fit0.term_columns), set(fit1.term_columns)
    if not (t0 <= t1 or t1 <= t0):
        raise SurveyDesignError(
            f"the models {fit0.formula!r} and {fit1.formula!r} are not nested by terms; "
            "give two models one of whose terms contain the other's.", parameter="fit1")
    big, small = (fit1, t0) if t0 <= t1 else (fit0, t1)
    if big.n != (fit0 if big is fit1 else fit1).n:
        raise SurveyDesignError(
            f"the models {fit0.formula!r} ({fit0.n} rows) and {fit1.formula!r} ({fit1.n} rows) "
            "were fitted on different rows (missing values in the extra terms); fit both on "
            "the rows complete for the bigger model (design.subset).", parameter="fit1")
    extra = [t for t in big.term_columns if t not in small]
    if not extra:
        raise SurveyDesignError("the two models have the same terms.", parameter="fit1")
    df = None if test == "F" else float("inf")
    if method == "LRT":
        return lrt(big, extra, df=df)
    return wald(big, extra, form="F" if test == "F" else "chisq")


def aic(fit, *, k: float = 2.0) -> pd.Series:
    """Design-based AIC of a survey GLM (R ``AIC.svyglm``; Lumley & Scott 2015, *AIC and BIC
    for modeling with complex survey data*, J. Surv. Stat. Methodol. 3).

    Returns
    -------
    Series
        ``eff_p`` (the effective number of parameters ``sum lambda`` over the non-intercept
        coefficients), ``AIC`` (``deviance + k eff_p``) and ``deltabar`` (mean design effect,
        NaN for an intercept-only model), as R's ``c(eff.p, AIC, deltabar)``.
    """
    _check_glm(fit, "aic()")
    if fit.family == "gaussian":
        return _aic_gaussian(fit, k)
    idx = np.array([j for j, t in enumerate(fit.terms) if t != "Intercept"], dtype=int)
    lam = _design_effects(fit, idx) if len(idx) else np.zeros(1)
    deltabar = float(np.mean(lam)) if len(idx) else float("nan")
    return pd.Series({"eff_p": float(lam.sum()), "AIC": fit.deviance + k * float(lam.sum()),
                      "deltabar": deltabar}, name=fit.formula)


def _aic_gaussian(fit, k: float) -> pd.Series:
    """R ``extractAIC_svylm``: the Gaussian likelihood with the design-based dispersion
    ``sigma2``, effective parameters from the design effects of the slopes and of ``sigma2``;
    R divides all three numbers by ``sigma2``, and so does surveylib."""
    w = np.asarray(fit.prior_weights)
    N = float(w.sum())
    s2 = float(fit.dispersion().estimate.iloc[0])
    keep = np.array([j for j, t in enumerate(fit.terms) if t != "Intercept"], dtype=int)
    V0 = np.asarray(fit.naive_cov)[np.ix_(keep, keep)]
    V = np.asarray(fit.vcov_matrix)[np.ix_(keep, keep)]
    d_mu = np.diag(np.linalg.solve(V0, V)) if len(keep) else np.zeros(0)
    u = -1 / (2 * s2) + (fit.response - fit.fitted) ** 2 / (2 * s2**2)
    d_s2 = float(np.sum(w * u**2)) / (N / (2 * s2**2))
    eff_p = float(d_mu.sum()) + d_s2
    aic = N * np.log(s2) + N + N * np.log(2 * np.pi) + k * eff_p
    return pd.Series({"eff_p": eff_p / s2, "AIC": aic / s2,
                      "deltabar": float(np.mean(np.append(d_mu, d_s2))) / s2}, name=fit.formula)


def bic(fit, maximal) -> pd.Series:
    """Design-based BIC of a survey GLM relative to a maximal model (R ``BIC(fit,
    maximal=)``; Lumley & Scott 2015).

    Returns
    -------
    Series
        ``p`` (coefficients of ``fit``), ``BIC`` (Wald statistic of the maximal model's extra
        coefficients + ``p log n`` + ``log det Delta`` + the maximal model's deviance, with
        ``Delta`` their design-effect matrix) and ``neff`` (``n / det(Delta)^(1/(pM - p))``,
        NaN when the models are the same), as R's ``c(p, BIC, neff)``.
    """
    _check_glm(fit, "bic()")
    _check_glm(maximal, "bic()")
    missing = [t for t in fit.terms if t not in maximal.terms]
    if missing:
        raise SurveyDesignError(
            f"the coefficients {missing} of {fit.formula!r} are not in the maximal model "
            f"{maximal.formula!r}.", parameter="maximal")
    n = fit.n + (0 if "Intercept" in fit.terms else 1)  # R: 1 + df.null
    idx = np.array([j for j, t in enumerate(maximal.terms) if t not in fit.terms], dtype=int)
    pm, pM = len(fit.terms), len(maximal.terms)
    if len(idx):
        b = np.asarray(maximal.values)[idx]
        V = np.asarray(maximal.vcov_matrix)[np.ix_(idx, idx)]
        V0 = np.asarray(maximal.naive_cov)[np.ix_(idx, idx)]
        w = float(b @ np.linalg.solve(V, b))
        det = float(np.linalg.det(np.linalg.solve(V0, V)))
        neff = n / det ** (1 / (pM - pm))
    else:
        w, det, neff = 0.0, 1.0, float("nan")
    return pd.Series({"p": float(pm), "BIC": w + pm * np.log(n) + np.log(det) + maximal.deviance,
                      "neff": neff}, name=fit.formula)
