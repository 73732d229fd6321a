"""Selecting the sample: inclusion probabilities, selection methods, respondents in households.

* :func:`select_units` — stratified selection of primary units (SRS, systematic, systematic
  PPS in list or random order, Brewer, Sampford) with certainty units and an allocation from
  :func:`surveylib.planning.allocate`; the output is read by :class:`~surveylib.SurveyDesign`.
* :func:`select_dwellings` — a fixed number of dwellings per selected unit.
* :func:`kish_grid`, :func:`birthday_select` — the respondent in the household, with the
  within-household probability.
* :func:`inclusion_probabilities`, :func:`joint_systematic`, :func:`joint_hartley_rao` — first-
  and second-order inclusion probabilities.

Every random step takes ``seed=`` (an integer or a ``numpy.random.Generator``).  See
``docs/sampling.md``.
"""

from ._common import CertaintyWarning, SamplingError
from .household import KISH_TABLES, birthday_select, kish_grid, kish_probabilities
from .methods import brewer, sampford, srs, systematic, systematic_pps
from .probabilities import inclusion_probabilities, joint_hartley_rao, joint_systematic
from .select import (
    METHODS,
    inclusion_frame,
    select_dwellings,
    select_units,
    units_from_interviews,
)

__all__ = [
    "KISH_TABLES",
    "METHODS",
    "CertaintyWarning",
    "SamplingError",
    "birthday_select",
    "brewer",
    "inclusion_frame",
    "inclusion_probabilities",
    "joint_hartley_rao",
    "joint_systematic",
    "kish_grid",
    "kish_probabilities",
    "sampford",
    "select_dwellings",
    "select_units",
    "srs",
    "systematic",
    "systematic_pps",
    "units_from_interviews",
]
