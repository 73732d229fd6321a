"""Questionnaire codebooks and the harmonization of survey waves.

A codebook says, for every column of a survey wave, what it measures, how it is coded and
which codes mean "missing". It is built from a data file's own metadata (value and variable
labels, user-missing declarations, measurement levels: :func:`codebook_from_metadata`, which
:func:`surveylib.read_spss` and :func:`surveylib.read_stata` use when no codebook is given),
or written as a YAML file (``codebook_<year>.yaml`` in a study's ``instruments/`` folder),
which may also be laid over a file's codebook (:meth:`Codebook.overlay`: harmonised codes,
universes, item groups, multiple-response sets). A YAML codebook of reconstructed data also
records provenance: which columns carry the sampling design and where in the source documents
each fact comes from (:func:`records_provenance`). This module reads and validates codebooks,
and uses them to label, check and clean data frames of codes.

The frame of codes holds integers, with missing-data codes such as 8 "don't know" kept as
codes; :func:`labelled_frame` (what the readers return by default without a codebook) turns
it into labelled categoricals with missing codes as NA, which estimators label their results
from.

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
    PROVENANCE_KEYS,
    QUESTION_SOURCES,
    ROLES,
    STATUSES,
    VARIABLE_TYPES,
    records_provenance,
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
from .metadata import codebook_from_metadata, labelled_frame

__all__ = [
    "CODED_TYPES",
    "HARMONIZATION_METHODS",
    "INTEGER_TYPES",
    "PROVENANCE_KEYS",
    "QUESTION_SOURCES",
    "ROLES",
    "STATUSES",
    "VARIABLE_TYPES",
    "Codebook",
    "Harmonization",
    "HarmonizedItem",
    "ItemSet",
    "Variable",
    "codebook_from_metadata",
    "codebook_path",
    "common_universe",
    "find_instruments_dir",
    "labelled_frame",
    "load_codebook",
    "load_harmonization",
    "records_provenance",
    "universe_mask",
    "validate_codebook",
]
