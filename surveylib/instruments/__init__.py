"""Questionnaire codebooks and the harmonization of survey waves.

A codebook is a YAML file (``codebook_<year>.yaml`` in a study's ``instruments/`` folder) that says, for every column of a
survey wave, what it measures, how it is coded, which codes mean "missing", which columns carry
the sampling design, and where in the source documents each fact comes from. This module reads and
validates codebooks, and uses them to label, check and clean data frames of codes.

The analysis-ready frame holds **codes** (integers), with missing-data codes such as 8 "don't know"
kept as codes. Estimators should be given :meth:`Codebook.missing_to_na` of that frame; labels are
for display (:meth:`Codebook.apply_labels`).

The harmonization map (``instruments/harmonization.yaml``) says which items are comparable across
waves and defines the common universe used for comparisons (urban residents aged 18+; see
:func:`universe_mask` and :func:`common_universe`).

Examples
--------
>>> from surveylib.instruments import load_codebook
>>> cb = load_codebook(2007)
>>> cb.survey, cb.n
('attitudes2007', 588)
>>> cb.value_labels("attitude")[3]
'indifferent'
>>> cb.design_columns()
{'strata': 'stratum', 'weights': 'weight', 'fpc': 'fpc'}
"""

from __future__ import annotations

from ._schema import (
    CODED_TYPES,
    HARMONIZATION_METHODS,
    INTEGER_TYPES,
    QUESTION_SOURCES,
    ROLES,
    STATUSES,
    VARIABLE_TYPES,
    validate_codebook,
)
from .codebook import Codebook, ItemSet, Variable
from .harmonization import (
    Harmonization,
    HarmonizedItem,
    common_universe,
    load_harmonization,
    universe_mask,
)
from .loading import codebook_path, find_instruments_dir, load_codebook

__all__ = [
    "CODED_TYPES",
    "HARMONIZATION_METHODS",
    "INTEGER_TYPES",
    "QUESTION_SOURCES",
    "ROLES",
    "STATUSES",
    "VARIABLE_TYPES",
    "Codebook",
    "Harmonization",
    "HarmonizedItem",
    "ItemSet",
    "Variable",
    "codebook_path",
    "common_universe",
    "find_instruments_dir",
    "load_codebook",
    "load_harmonization",
    "universe_mask",
    "validate_codebook",
]
