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
from .instruments import (
    Codebook,
    common_universe,
    load_codebook,
    load_harmonization,
    universe_mask,
)
from .io import read_csv, read_spss, write_csv, write_spss
from .replicate import ReplicateDesign
from .results import Estimate

__version__ = "0.1.0"

__all__ = [
    "AssumptionWarning",
    "Codebook",
    "ColumnError",
    "common_universe",
    "load_codebook",
    "load_harmonization",
    "read_csv",
    "read_spss",
    "ReplicateDesign",
    "universe_mask",
    "write_csv",
    "write_spss",
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
