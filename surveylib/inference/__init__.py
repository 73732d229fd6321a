"""Design-based tests: tables and Rao–Scott, t tests, linear contrasts, Wald tests, waves.

Everything here is built on the estimators of :mod:`surveylib.estimators` (their estimates and
full covariance matrices) and on the design's single variance engine; no function carries a
variance formula of its own, and a design is read only through its named interface
(``design.data``, ``design.active``, ``design.with_data(...)``, ...).  Every result follows the
protocol of :mod:`surveylib.results`.

The package, one module per seam:

* :mod:`~surveylib.inference.tables` — :func:`crosstab`, weighted counts and cell/row/column
  shares of a two-way table (:class:`Crosstab`);
* :mod:`~surveylib.inference.raoscott` — :meth:`Crosstab.test`, the Rao–Scott and Wald tests
  of independence of R ``svychisq`` and the tails of weighted sums of chi-squares;
* :mod:`~surveylib.inference.ttests` — :func:`ttest`, two-group, one-sample and paired t tests
  (R ``svyttest``);
* :mod:`~surveylib.inference.contrasts` — :func:`contrast` and :func:`wald`, linear contrasts
  of any result (R ``svycontrast``) and Wald tests of several contrasts or model terms (R
  ``regTermTest(method="Wald")``);
* :mod:`~surveylib.inference.modeltests` — :func:`lrt`, :func:`anova`, :func:`aic`,
  :func:`bic`: Rao–Scott working likelihood-ratio tests of GLM terms and design-based
  information criteria (R ``regTermTest(method="LRT")``, ``anova.svyglm``, ``AIC.svyglm``,
  ``BIC.svyglm``);
* :mod:`~surveylib.inference.waves` — :func:`compare`, :func:`stack_waves`,
  :func:`compare_distribution`: change between two independent survey waves.

Conventions and the points where surveylib and R differ are in ``docs/inference.md``.
"""

from ..results import TestResult, TTestResult
from .contrasts import ContrastResult, contrast, wald
from .modeltests import LRTResult, aic, anova, bic, lrt
from .multiplicity import adjust_pvalues
from .raoscott import CHISQ_METHODS, R_STATISTIC, ChisqTestResult
from .tables import MAX_LEVELS, Crosstab, crosstab
from .ttests import ttest
from .waves import Comparison, compare, compare_distribution, stack_waves

__all__ = [
    "adjust_pvalues",
    "CHISQ_METHODS",
    "ChisqTestResult",
    "MAX_LEVELS",
    "R_STATISTIC",
    "Comparison",
    "ContrastResult",
    "LRTResult",
    "Crosstab",
    "TTestResult",
    "TestResult",
    "aic",
    "anova",
    "bic",
    "compare",
    "compare_distribution",
    "contrast",
    "crosstab",
    "lrt",
    "stack_waves",
    "ttest",
    "wald",
]
