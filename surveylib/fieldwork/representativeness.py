"""Response propensities, the R-indicator and partial R-indicators.

Schouten, Cobben and Bethlehem (2009) measure how far response departs from representative
response by the spread of response propensities ``rho_i`` estimated from frame variables:
``R = 1 - 2 S(rho)``.  Schouten, Shlomo and Skinner (2011) split it by variable (partial
R-indicators, unconditional and conditional).  Propensities come from a design-weighted
logistic regression of the response indicator on the frame variables (main effects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_list, as_pandas, check_columns
from ..errors import ConvergenceWarning, SurveyDesignError

__all__ = ["RIndicator", "r_indicator", "response_propensities"]


def _design_matrix(df: pd.DataFrame, covariates: list) -> tuple[np.ndarray, list]:
    """Intercept, dummies (first level dropped) for categorical columns, numeric as is."""
    blocks, names = [np.ones((len(df), 1))], ["(Intercept)"]
    for c in covariates:
        s = df[c]
        if s.isna().any():
            raise SurveyDesignError(
                f"frame variable {c!r} has {int(s.isna().sum())} missing value(s); propensities "
                "need complete frame variables (recode missing as its own category).",
                parameter="covariates", value=c)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            blocks.append(s.to_numpy(float)[:, None])
            names.append(c)
        else:
            codes, levels = pd.factorize(s.astype(str), sort=True)
            if len(levels) > 1:
                blocks.append((codes[:, None] == np.arange(1, len(levels))[None, :]).astype(float))
                names += [f"{c}[{lv}]" for lv in levels[1:]]
    return np.hstack(blocks), names


def response_propensities(data, *, respondent: str, covariates, weights=None,
                          max_iter: int = 50, tol: float = 1e-10) -> np.ndarray:
    """Response propensities from a weighted logistic regression on frame variables.

    Parameters
    ----------
    data : DataFrame
        The eligible sample cases, respondents and nonrespondents (not modified).
    respondent : str
        Boolean or 0/1 response indicator.
    covariates : str or list of str
        Frame variables known for every case: categorical columns enter as dummies, numeric as
        they are.
    weights : str, optional
        Design-weight column (default: equal weights).

    Returns
    -------
    numpy.ndarray
        Fitted propensities ``rho_i``.  With a saturated model (one categorical variable) they
        are the weighted response rates of its categories.

    Notes
    -----
    Fitted by iteratively reweighted least squares (Newton's method) for the weighted
    likelihood ``sum d_i [r_i log rho_i + (1 - r_i) log(1 - rho_i)]``.
    """
    df = as_pandas(data)
    cov = as_list(covariates)
    check_columns(df, [respondent, *cov] + ([weights] if weights else []), role="propensity")
    r = pd.to_numeric(df[respondent].astype(float), errors="coerce").to_numpy(float)
    if not np.isin(r, [0.0, 1.0]).all():
        raise SurveyDesignError(f"respondent column {respondent!r} must be boolean or 0/1 for "
                                "every eligible case.", parameter="respondent")
    d = df[weights].to_numpy(float) if weights else np.ones(len(df))
    X, _ = _design_matrix(df, cov)
    beta = np.zeros(X.shape[1])
    mean = np.average(r, weights=d)
    beta[0] = np.log(mean / (1 - mean)) if 0 < mean < 1 else 0.0
    for _ in range(max_iter):
        eta = np.clip(X @ beta, -30, 30)
        rho = 1 / (1 + np.exp(-eta))
        W = d * rho * (1 - rho)
        step = np.linalg.lstsq(X.T @ (W[:, None] * X), X.T @ (d * (r - rho)), rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    else:
        import warnings
        warnings.warn(f"response propensity model did not converge in {max_iter} iterations "
                      "(separation: a category with no or only respondents?).",
                      ConvergenceWarning, stacklevel=2)
    return 1 / (1 + np.exp(-np.clip(X @ beta, -30, 30)))


@dataclass(frozen=True)
class RIndicator:
    """The R-indicator and its partial indicators.

    ``r`` = 1 - 2 ``sd``; ``sd`` the design-weighted standard deviation of the propensities;
    ``mean`` their weighted mean (the expected response rate); ``partial`` one row per
    variable (``level`` empty) and per category: ``unconditional`` and (variables only)
    ``conditional``.
    """

    r: float
    sd: float
    mean: float
    n: int
    partial: pd.DataFrame

    def __str__(self) -> str:
        return (f"R-indicator {self.r:.4f} (sd of propensities {self.sd:.4f}, mean propensity "
                f"{self.mean:.4f}, n = {self.n})")


def r_indicator(data, *, respondent: str, covariates, weights=None,
                propensities=None) -> RIndicator:
    """R-indicator and partial R-indicators of response against frame variables.

    Parameters
    ----------
    data, respondent, covariates, weights
        As :func:`response_propensities` (all eligible sample cases).
    propensities : array_like, optional
        Propensities already estimated; by default :func:`response_propensities`.

    Returns
    -------
    RIndicator

    Notes
    -----
    With design weights ``d_i``, ``N = sum d_i`` and ``rho_bar = sum d_i rho_i / N``:

    * ``R = 1 - 2 S``, ``S^2 = sum d_i (rho_i - rho_bar)^2 / (N - 1)`` (Schouten, Cobben and
      Bethlehem 2009, eq. 3 and 9);
    * unconditional partial of variable ``Z`` with categories ``k``:
      ``P_U(Z) = sqrt(sum_k N_k (rho_bar_k - rho_bar)^2 / N)``, and per category
      ``P_U(Z, k) = sqrt(N_k / N) (rho_bar_k - rho_bar)`` (Schouten, Shlomo and Skinner 2011,
      eqs. 13-14);
    * conditional partial ``P_C(Z) = sqrt(sum_cells sum_{i in cell} d_i (rho_i -
      rho_bar_cell)^2 / (N - 1))`` with cells the combinations of the *other* categorical
      variables (NaN when another variable is numeric).

    Numeric variables are cut at their quartiles for the unconditional partials.
    """
    df = as_pandas(data)
    cov = as_list(covariates)
    rho = (np.asarray(propensities, dtype=float) if propensities is not None else
           response_propensities(df, respondent=respondent, covariates=cov, weights=weights))
    d = df[weights].to_numpy(float) if weights else np.ones(len(df))
    N = d.sum()
    mean = float(np.sum(d * rho) / N)
    sd = float(np.sqrt(np.sum(d * (rho - mean) ** 2) / (N - 1)))
    groups = {}
    for c in cov:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            s = pd.qcut(s, 4, duplicates="drop")
        groups[c] = pd.factorize(s.astype(str), sort=True)
    rows = []
    for c in cov:
        codes, levels = groups[c]
        Nk = np.bincount(codes, weights=d, minlength=len(levels))
        mk = np.bincount(codes, weights=d * rho, minlength=len(levels)) / Nk
        pu = float(np.sqrt(np.sum(Nk * (mk - mean) ** 2) / N))
        others = [o for o in cov if o != c]
        numeric_other = any(pd.api.types.is_numeric_dtype(df[o]) and
                            not pd.api.types.is_bool_dtype(df[o]) for o in others)
        if numeric_other:
            pc = float("nan")
        else:
            cell = (np.zeros(len(df), dtype=np.int64) if not others else
                    pd.MultiIndex.from_arrays([groups[o][0] for o in others]).factorize()[0])
            Nc = np.bincount(cell, weights=d)
            mc = np.bincount(cell, weights=d * rho) / Nc
            pc = float(np.sqrt(np.sum(d * (rho - mc[cell]) ** 2) / (N - 1)))
        rows.append({"variable": c, "level": "", "unconditional": pu, "conditional": pc})
        for k, lv in enumerate(levels):
            rows.append({"variable": c, "level": str(lv),
                         "unconditional": float(np.sqrt(Nk[k] / N) * (mk[k] - mean)),
                         "conditional": float("nan")})
    return RIndicator(r=1 - 2 * sd, sd=sd, mean=mean, n=len(df), partial=pd.DataFrame(rows))
