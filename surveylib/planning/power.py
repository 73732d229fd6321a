"""Power of a comparison of two independent samples, at given sizes and over a grid of sizes.

:func:`power_two_proportions`, :func:`power_two_means`; :func:`power_curve` and
:func:`plot_power_curve` for a grid of sample sizes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PlanningError
from ._checks import (
    MEAN_METHODS,
    PROPORTION_METHODS,
    UNSET,
    as_array,
    as_scalar,
    check_alternative,
    check_level,
    check_method,
    check_power_target,
    check_prob,
    check_ratio,
    renamed_option,
    scalar_or_array,
)
from ._power_formulas import effective_sizes, mean_power, mean_sds, prop_power

__all__ = ["power_two_proportions", "power_two_means", "power_curve", "plot_power_curve"]


def power_two_proportions(
    p1, p2, n1, n2, *, deff1=1.0, deff2=1.0, level=0.95, alternative="two-sided", method="normal"
):
    """Power to detect the difference between proportions of two independent samples.

    Parameters
    ----------
    p1, p2 : float or array_like
        Anticipated proportions in samples (waves) 1 and 2.
    n1, n2 : float or array_like
        Completed interviews; arrays broadcast against each other and ``p1``, ``p2``.
    deff1, deff2 : float, default 1.0
        Design effects; the formulas use effective sizes ``n1/deff1`` and ``n2/deff2``.
    level : float, default 0.95
        ``1 - level`` is the significance level.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: H1 ``p1 > p2``; ``"less"``: H1 ``p1 < p2`` (R's convention).
    method : {"normal", "power.prop.test", "arcsine"}
        ``"normal"``: unpooled normal approximation, ``se^2 = p1 q1/m1 + p2 q2/m2``,
        both rejection tails counted for a two-sided test. ``"power.prop.test"``: R's
        ``power.prop.test`` (strict = FALSE): pooled variance under H0, unpooled under
        H1, one rejection tail; for ``n1 != n2`` the pooled proportion is
        ``(m1 p1 + m2 p2)/(m1 + m2)`` (Fleiss et al. 2003, sect. 4.2, without continuity
        correction). ``"arcsine"``: Cohen's ``h = 2 asin sqrt(p1) - 2 asin sqrt(p2)``
        with ``h sqrt(m1 m2 / (m1 + m2))``, as ``pwr::pwr.2p2n.test``.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> from surveylib.planning import power_two_proportions
    >>> round(power_two_proportions(0.5, 0.75, 50, 50, method="power.prop.test"), 4)
    0.7402
    """
    alternative = check_alternative(alternative)
    method = check_method(method, PROPORTION_METHODS)
    level = check_level(level)
    p1 = check_prob("p1", p1)
    p2 = check_prob("p2", p2)
    m1, m2 = effective_sizes(n1, n2, deff1, deff2)
    return scalar_or_array(prop_power(p1, p2, m1, m2, level, alternative, method))


def power_two_means(
    delta,
    sd,
    n1,
    n2,
    *,
    sd2=None,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
):
    """Power to detect a difference ``delta = mu1 - mu2`` between two independent means.

    Parameters
    ----------
    delta : float or array_like
        Anticipated difference of means, group 1 minus group 2.
    sd : float
        Anticipated standard deviation (of group 1, and of group 2 unless ``sd2``).
    n1, n2 : float or array_like
        Completed interviews.
    sd2 : float, optional
        Standard deviation of group 2 (``method="normal"`` only).
    deff1, deff2, level, alternative
        As in :func:`power_two_proportions`.
    method : {"normal", "power.t.test"}
        ``"normal"``: ``se^2 = sd^2/m1 + sd2^2/m2``, both tails for two-sided.
        ``"power.t.test"``: R's ``power.t.test`` (two-sample, strict = FALSE): non-central
        t with ``df = m1 + m2 - 2`` and ``ncp = delta / (sd sqrt(1/m1 + 1/m2))``, one
        rejection tail.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> from surveylib.planning import power_two_means
    >>> round(power_two_means(1, 1, 20, 20, method="power.t.test"), 3)
    0.869
    """
    alternative = check_alternative(alternative)
    method = check_method(method, MEAN_METHODS)
    level = check_level(level)
    sd, sd2 = mean_sds(sd, sd2, method)
    delta = as_array("delta", delta)
    m1, m2 = effective_sizes(n1, n2, deff1, deff2)
    return scalar_or_array(mean_power(delta, sd, sd2, m1, m2, level, alternative, method))


def power_curve(
    p1,
    p2,
    n,
    *,
    ratio=1.0,
    deff1=1.0,
    deff2=1.0,
    level=0.95,
    alternative="two-sided",
    method="normal",
):
    """Power of a two-proportion comparison over a grid of sample sizes.

    Parameters
    ----------
    p1 : float
        Baseline proportion.
    p2 : float or sequence of float
        Alternative proportions, one curve each.
    n : sequence of float
        Sizes ``n1`` of sample 1; ``n2 = ratio * n1``.
    ratio, deff1, deff2, level, alternative, method
        As in :func:`sample_size_two_proportions`.

    Returns
    -------
    pandas.DataFrame
        One row per ``p2`` x ``n`` with columns ``p1``, ``p2``, ``difference``
        (``p2 - p1``), ``n1``, ``n2``, ``power``, ``method``.

    Examples
    --------
    >>> from surveylib.planning import power_curve
    >>> curve = power_curve(0.3, [0.33, 0.35], [500, 1000, 2000])
    >>> curve.shape
    (6, 7)
    """
    ratio = check_ratio(ratio)
    p1 = float(check_prob("p1", as_scalar("p1", p1)))
    p2s = np.atleast_1d(check_prob("p2", p2)).ravel()
    ns = np.atleast_1d(as_array("n", n)).ravel()
    P2, N1 = np.meshgrid(p2s, ns, indexing="ij")
    pw = power_two_proportions(
        p1,
        P2.ravel(),
        N1.ravel(),
        ratio * N1.ravel(),
        deff1=deff1,
        deff2=deff2,
        level=level,
        alternative=alternative,
        method=method,
    )
    return pd.DataFrame(
        {
            "p1": p1,
            "p2": P2.ravel(),
            "difference": P2.ravel() - p1,
            "n1": N1.ravel(),
            "n2": ratio * N1.ravel(),
            "power": np.atleast_1d(pw),
            "method": method,
        }
    )


def plot_power_curve(curve, *, power=0.8, ax=None, target_power=UNSET):
    """Draw a power curve from :func:`power_curve` (one line per ``p2``).

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`power_curve`.
    power : float or None, default 0.8
        Target power, drawn as a dashed horizontal reference line; ``None`` for none (the
        ``power=`` of :func:`sample_size_two_proportions` and :func:`mde_two_proportions`).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure (not registered with pyplot) otherwise.
    target_power : float or None, optional
        Deprecated name of ``power``; it emits a :class:`DeprecationWarning` and is removed in
        surveylib 0.2.0.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from surveylib.planning import power_curve, plot_power_curve
    >>> fig = plot_power_curve(power_curve(0.3, [0.33, 0.35], [500, 1000, 2000]))
    >>> len(fig.axes[0].lines)
    3
    """
    from matplotlib.figure import Figure

    power = renamed_option("plot_power_curve", "target_power", "power", target_power, power, 0.8)
    need = {"p1", "p2", "n1", "power"}
    if not isinstance(curve, pd.DataFrame) or not need <= set(curve.columns):
        raise PlanningError(
            f"curve must be the DataFrame returned by power_curve() (columns {sorted(need)})."
        )
    if ax is None:
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for p2, part in curve.groupby("p2", sort=True):
        part = part.sort_values("n1")
        ax.plot(
            part["n1"],
            part["power"],
            marker="o",
            label=f"p2 = {p2:g} (diff {p2 - part['p1'].iloc[0]:+.3g})",
        )
    if power is not None:
        ax.axhline(
            check_power_target(power),
            linestyle="--",
            color="grey",
            label=f"power {power:g}",
        )
    ax.set_xlabel("n1 (completed interviews, sample 1)")
    ax.set_ylabel("power")
    ax.set_ylim(0, 1)
    method = curve["method"].iloc[0] if "method" in curve.columns else ""
    ax.set_title(f"Power to detect a change from p1 = {curve['p1'].iloc[0]:g} ({method})")
    ax.legend(loc="lower right", fontsize="small")
    return fig
