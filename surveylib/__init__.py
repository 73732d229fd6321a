"""surveylib: design-based analysis and weighting of sample surveys."""

from . import planning, weighting  # noqa: E402  (modules of functions)
from .design import SurveyDesign
from .errors import (
    AssumptionWarning,
    CertaintyWarning,
    CodebookError,
    ColumnError,
    ConvergenceError,
    ConvergenceWarning,
    DispositionError,
    LonelyPSUError,
    ParameterError,
    PlanningError,
    ReconstructionError,
    ReplicateError,
    SamplingError,
    SingletonWarning,
    StudyNotFoundError,
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
    "CertaintyWarning",
    "Codebook",
    "CodebookError",
    "ColumnError",
    "Comparison",
    "ContrastResult",
    "ConvergenceError",
    "ConvergenceWarning",
    "Crosstab",
    "DispositionError",
    "Estimate",
    "GLMResult",
    "LonelyPSUError",
    "OLRResult",
    "ParameterError",
    "PlanningError",
    "ReconstructionError",
    "ReplicateDesign",
    "ReplicateError",
    "SamplingError",
    "SingletonWarning",
    "StudyNotFoundError",
    "SurveyDesign",
    "SurveyDesignError",
    "SurveyWarning",
    "TTestResult",
    "TestResult",
    "WeightError",
    "WeightingError",
    "common_universe",
    "compare",
    "compare_distribution",
    "contrast",
    "load_codebook",
    "load_harmonization",
    "planning",
    "publication_table",
    "read_csv",
    "read_spss",
    "read_stata",
    "stack_waves",
    "universe_mask",
    "wald",
    "weighting",
    "write_csv",
    "write_spss",
]
