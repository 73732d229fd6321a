"""Exceptions and warnings raised by surveylib.

Every user-facing failure is a :class:`SurveyDesignError` (a ``ValueError``) or a subclass, and
every message names the column, stratum or value at fault and says what to do about it.
Warnings are typed so that a replication script can escalate them with ``warnings.simplefilter``.
Every class here is importable from :mod:`surveylib`.

The hierarchy::

    ValueError
    └── SurveyDesignError            any invalid design, data or argument
        ├── ParameterError           an argument outside its allowed values (unknown option,
        │                            number out of range, wrong type)
        ├── ColumnError (KeyError)   a named column is absent or of the wrong kind
        ├── WeightError              weights missing, non-finite or non-positive
        ├── LonelyPSUError           a stratum with one PSU under lonely_psu="fail"
        ├── WeightingError           post-stratification, raking, calibration, trimming
        │   └── ConvergenceError     an iterative weighting step did not converge
        ├── ReplicateError           replicate weights or replicate settings
        ├── CodebookError            a codebook, or data that disagree with it
        ├── ReconstructionError      published tables no integer microdata can meet
        ├── PlanningError            an invalid or infeasible sample-size request
        ├── SamplingError            a frame, size measure or selection request
        ├── DispositionError         an unknown or missing fieldwork disposition code
        ├── StudyNotFoundError       a study folder or file is not found
        └── BackendError             a design over DuckDB or Spark cannot do what was asked
            ├── SourceError          the source cannot be opened or queried
            ├── EmptySourceError     the source (or a query's selection) has no rows
            └── NotPushedDownError   the method needs the rows in memory

    UserWarning
    └── SurveyWarning
        ├── SingletonWarning         a lonely PSU was handled by a lonely-PSU rule
        ├── ConvergenceWarning       an iteration stopped at its tolerance or limit
        ├── AssumptionWarning        a default was assumed where the data said nothing
        └── CertaintyWarning         units were taken with certainty (probability >= 1)

The same condition raises the same class everywhere: an invalid option or out-of-range number
is a :class:`ParameterError` whichever function receives it (checked by
:mod:`surveylib._validation`), a missing column a :class:`ColumnError`.  Every error carries the
structured fields ``parameter``, ``value``, ``expected`` and ``hint`` (see
:class:`SurveyDesignError`).  Deprecated keyword spellings emit the built-in
``DeprecationWarning``.
"""

from __future__ import annotations


class SurveyDesignError(ValueError):
    """Invalid survey design, data or estimator arguments.

    Besides the message, an error carries structured fields (``None`` when they do not apply),
    so a program can react to it without parsing text:

    ``parameter``  the argument, column or option at fault (``"weights"``, ``"lonely_psu"``);
    ``value``      the value given;
    ``expected``   what was expected (a list of allowed values, a range, a type);
    ``hint``       what to do about it, in a few words.
    """

    def __init__(self, message: str = "", *, parameter=None, value=None, expected=None,
                 hint=None):
        super().__init__(message)
        self.parameter = parameter
        self.value = value
        self.expected = expected
        self.hint = hint


class ParameterError(SurveyDesignError):
    """An argument has a value that is not allowed: an unknown option, a number out of its
    range, or a value of the wrong type.

    The message reads ``parameter=value <what is allowed>; <the fix>``, e.g.
    ``calfun='probit' is not one of ['linear', 'raking', 'logit']; did you mean 'logit'?``.
    """


class ColumnError(SurveyDesignError, KeyError):
    """A named column is absent or of the wrong kind."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class WeightError(SurveyDesignError):
    """Weights are missing, non-finite or non-positive."""


class LonelyPSUError(SurveyDesignError):
    """A stratum has a single PSU and ``lonely_psu='fail'``."""


class WeightingError(SurveyDesignError):
    """Post-stratification, raking, calibration or trimming cannot be carried out."""


class ConvergenceError(WeightingError):
    """An iterative weighting step did not converge."""


class ReplicateError(SurveyDesignError):
    """Replicate weights or replicate settings are invalid."""


class CodebookError(SurveyDesignError):
    """A codebook or a data file disagrees with its codebook."""


class ReconstructionError(SurveyDesignError):
    """Published constraints cannot be met by any integer microdata."""


class PlanningError(SurveyDesignError):
    """A sample-size, allocation or power request is invalid or infeasible."""


class SamplingError(SurveyDesignError):
    """A frame, size measure, allocation or selection request cannot be used.

    Besides the structured fields of :class:`SurveyDesignError`, ``stratum`` names the stratum
    at fault (``None`` when it does not apply).
    """

    def __init__(self, message: str = "", *, stratum=None, **fields):
        super().__init__(message, **fields)
        self.stratum = stratum


class DispositionError(SurveyDesignError):
    """A disposition code is unknown or missing; ``value`` lists the codes, ``expected`` the
    AAPOR categories or code patterns."""


class StudyNotFoundError(SurveyDesignError):
    """A study folder (analyses, instruments, microdata, frames) or file is not found."""


class BackendError(SurveyDesignError):
    """A design over data kept in an engine (DuckDB, Spark) cannot do what was asked."""


class SourceError(BackendError):
    """The source cannot be opened or a query over it fails (connection, path, SQL)."""


class EmptySourceError(BackendError):
    """The source (or the rows a query selects) has no rows."""


class NotPushedDownError(BackendError):
    """The method needs the rows in memory; the message says what to do instead."""


class SurveyWarning(UserWarning):
    """Base class of surveylib warnings."""


class SingletonWarning(SurveyWarning):
    """A stratum with one PSU was handled by a lonely-PSU rule."""


class ConvergenceWarning(SurveyWarning):
    """An iterative step stopped at its tolerance or iteration limit."""


class AssumptionWarning(SurveyWarning):
    """A default or an assumption was used where the data said nothing."""


class CertaintyWarning(SurveyWarning):
    """Units whose size gives an inclusion probability of 1 or more were taken with certainty."""
