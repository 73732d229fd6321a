"""Errors of designs over data kept in an engine (all :class:`SurveyDesignError` subclasses).

Each carries the structured fields of :class:`~surveylib.errors.SurveyDesignError`
(``parameter``, ``value``, ``expected``, ``hint``); ``value`` names the source or column.
"""

from __future__ import annotations

from ..errors import SurveyDesignError


class BackendError(SurveyDesignError):
    """A design over an engine (DuckDB, Spark) cannot do what was asked."""


class SourceError(BackendError):
    """The source cannot be opened or a query over it fails (connection, path, SQL)."""


class EmptySourceError(BackendError):
    """The source (or the rows a query selects) has no rows."""


class NotPushedDownError(BackendError):
    """The method needs the rows in memory; the message says what to do instead."""
