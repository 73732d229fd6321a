"""Designs over data that stay in an engine: DuckDB (in-process) or Spark (a cluster).

:class:`LazySurveyDesign` takes :class:`~surveylib.SurveyDesign`'s arguments over a Parquet or
CSV path, a DuckDB table, relation or SQL query, or a Spark DataFrame; estimates push one
``GROUP BY`` per call into the engine and compute the covariance locally with the same variance
engine as in memory.  See ``docs/scale.md``.
"""

from .design import LazySurveyDesign
from .errors import BackendError, EmptySourceError, NotPushedDownError, SourceError
from .replicate import LazyReplicateDesign

__all__ = ["LazySurveyDesign", "LazyReplicateDesign", "BackendError", "EmptySourceError", "NotPushedDownError",
           "SourceError"]
