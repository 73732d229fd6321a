"""surveylib: design-based analysis and weighting of sample surveys."""

from .design import SurveyDesign
from .errors import (
    AssumptionWarning,
    ColumnError,
    ConvergenceError,
    ConvergenceWarning,
    LonelyPSUError,
    SingletonWarning,
    SurveyDesignError,
    SurveyWarning,
    WeightError,
    WeightingError,
)
from .results import Estimate

__version__ = "0.1.0"

__all__ = [
    "AssumptionWarning",
    "ColumnError",
    "ConvergenceError",
    "ConvergenceWarning",
    "Estimate",
    "LonelyPSUError",
    "SingletonWarning",
    "SurveyDesign",
    "SurveyDesignError",
    "SurveyWarning",
    "WeightError",
    "WeightingError",
]
