"""Errors of designs over data kept in an engine (all :class:`SurveyDesignError` subclasses,
defined with every other error in :mod:`surveylib.errors`).

Each carries the structured fields of :class:`~surveylib.errors.SurveyDesignError`
(``parameter``, ``value``, ``expected``, ``hint``); ``value`` names the source or column.
"""

from __future__ import annotations

from ..errors import BackendError, EmptySourceError, NotPushedDownError, SourceError

__all__ = ["BackendError", "EmptySourceError", "NotPushedDownError", "SourceError"]
