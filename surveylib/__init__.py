"""surveylib: design-based analysis and weighting of sample surveys."""

from . import planning, weighting  # noqa: E402  (modules of functions)
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
from .inference import (
    Comparison,
    ContrastResult,
    Crosstab,
    TestResult,
    TTestResult,
    compare,
    compare_distribution,
    contrast,
    stack_waves,
    wald,
)
from .instruments import (
    Codebook,
    common_universe,
    load_codebook,
    load_harmonization,
    universe_mask,
)
from .io import read_csv, read_spss, read_stata, write_csv, write_spss
from .models import GLMResult
from .ordinal import OLRResult
from .replicate import ReplicateDesign
from .results import Estimate
from .tables import publication_table

__version__ = "0.1.0"

__all__ = [
    "AssumptionWarning",
    "Codebook",
    "ColumnError",
    "Comparison",
    "ContrastResult",
    "Crosstab",
    "GLMResult",
    "OLRResult",
    "TestResult",
    "TTestResult",
    "compare",
    "compare_distribution",
    "contrast",
    "stack_waves",
    "wald",
    "weighting",
    "common_universe",
    "load_codebook",
    "load_harmonization",
    "read_csv",
    "planning",
    "read_spss",
    "read_stata",
    "publication_table",
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
