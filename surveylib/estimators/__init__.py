"""Design-based estimators.

Every estimator is a ratio of weighted totals or a total computed for *cells* (domain x
variable x level) in one vectorised pass, with its covariance from the design's variance
engine (``design.engine``); no estimator carries a variance formula of its own.

========================  =========================================  ======================
function                  statistic                                  R
========================  =========================================  ======================
:func:`mean`              ``sum(w y) / sum(w)``                      ``svymean``
:func:`total`             ``sum(w y)``                               ``svytotal``
:func:`ratio`             ``sum(w y) / sum(w x)``                    ``svyratio``
:func:`proportion`        shares of each level, R's interval methods ``svymean``/``svyciprop``
:func:`var`               population variance of a variable          ``svyvar``
:func:`quantile`          weighted quantiles, Woodruff intervals     ``svyquantile``
========================  =========================================  ======================

The package: :mod:`._cells` (cells, domains, the call to the engine, the result),
:mod:`.totals` (means, totals, ratios, shares, variances), :mod:`.intervals` (proportion
intervals), :mod:`.quantiles`.  ``docs/adding_an_estimator.md`` shows how a new one is added.
"""

from .intervals import CI_METHODS
from .quantiles import INTERVAL_TYPES, QRULES, quantile
from .totals import mean, proportion, ratio, total, var

__all__ = ["CI_METHODS", "INTERVAL_TYPES", "QRULES", "mean", "proportion", "quantile", "ratio",
           "total", "var"]
