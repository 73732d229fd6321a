"""Survey planning: sample sizes, stratum allocation, precision and power.

Everything here works before any data exist: inputs are anticipated proportions,
standard deviations, design effects and response rates, and outputs are counts of
interviews (or contacts) and anticipated margins of error or power.

* :func:`sample_size_proportion`, :func:`sample_size_mean` -- Cochran's sample size with
  a design effect, a finite population correction and a response rate.
* :func:`margin_of_error`, :func:`margin_of_error_mean` -- the inverse: precision of ``n``.
* :func:`allocate` -- proportional, equal, Neyman, cost-optimal, power and Bankier
  allocation over strata, with per-stratum bounds and integer rounding that keeps the total.
* :func:`stratum_moe`, :func:`stratified_moe` -- precision of an allocation.
* :func:`power_two_proportions`, :func:`mde_two_proportions`,
  :func:`sample_size_two_proportions` and the ``*_two_means`` counterparts -- comparing two
  independent samples (for example two waves of a repeated cross-section);
  :func:`mde_cohens_h` -- the detectable Cohen's ``h`` (``pwr.2p2n.test``).
* :func:`srs_variance` -- the variance under simple random sampling (``deff``'s denominator).
* :func:`power_curve`, :func:`plot_power_curve` -- power over a grid of sample sizes.
* :func:`deff_from_result` -- design effects of a past survey as planning inputs.

Every name is imported from here (``from surveylib.planning import allocate``); the modules
behind them, one question each:

=========================  ==========================================================
``sample_size``            sample size for a margin of error, and its inverse
``allocation``             allocation of a total over strata
``stratified``             margins of error of an allocation, per stratum and overall
``power``                  power of a two-sample comparison; power curves
``two_sample_size``        sample sizes for a target power
``mde``                    minimum detectable effects
``deff``                   design effects of a past survey
``srs``                    variance under simple random sampling
``_checks``                argument checks, rounding, quantiles, renamed options
``_strata``                per-stratum inputs aligned by label
``_power_formulas``        the two-sample power formulas as array functions
=========================  ==========================================================

Formulas, sources and the R functions matched are in ``docs/planning.md``.
"""

from __future__ import annotations

from .allocation import ALLOCATION_METHODS, allocate
from .deff import DeffSummary, deff_from_result
from .mde import MinimumDetectableEffect, mde_cohens_h, mde_two_means, mde_two_proportions
from .power import plot_power_curve, power_curve, power_two_means, power_two_proportions
from .sample_size import (
    SampleSize,
    margin_of_error,
    margin_of_error_mean,
    sample_size_mean,
    sample_size_proportion,
)
from .srs import srs_variance
from .stratified import stratified_moe, stratum_moe
from .two_sample_size import TwoSampleSize, sample_size_two_means, sample_size_two_proportions

__all__ = [
    "SampleSize",
    "TwoSampleSize",
    "MinimumDetectableEffect",
    "DeffSummary",
    "sample_size_proportion",
    "sample_size_mean",
    "margin_of_error",
    "margin_of_error_mean",
    "allocate",
    "ALLOCATION_METHODS",
    "stratum_moe",
    "stratified_moe",
    "power_two_proportions",
    "mde_two_proportions",
    "sample_size_two_proportions",
    "power_two_means",
    "mde_two_means",
    "mde_cohens_h",
    "srs_variance",
    "sample_size_two_means",
    "power_curve",
    "plot_power_curve",
    "deff_from_result",
]
