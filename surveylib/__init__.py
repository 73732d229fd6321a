"""surveylib: design-based analysis and weighting of sample surveys."""

from typing import TYPE_CHECKING

from .design import SurveyDesign
from .errors import (
    AssumptionWarning,
    BackendError,
    CertaintyWarning,
    CodebookError,
    ColumnError,
    ConvergenceError,
    ConvergenceWarning,
    DispositionError,
    EmptySourceError,
    LonelyPSUError,
    NotPushedDownError,
    ParameterError,
    PlanningError,
    ReconstructionError,
    ReplicateError,
    SamplingError,
    SingletonWarning,
    SourceError,
    StudyNotFoundError,
    SurveyDesignError,
    SurveyWarning,
    WeightError,
    WeightingError,
)
from .replicate import ReplicateDesign
from .results import Estimate
from .variance.pps import HartleyRao, JointProbabilities

if TYPE_CHECKING:  # imported on first use (below), so `import surveylib` stays quick
    from . import fieldwork, mi, planning, sampling, weighting
    from .estimators.byany import DomainResults
    from .inference import (
        ChisqTestResult,
        Comparison,
        ContrastResult,
        Crosstab,
        LRTResult,
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
    from .mi import MIResult, mi_combine, with_designs
    from .models import GLMResult
    from .ordinal import OLRResult
    from .tables import publication_table


def _inference():
    import surveylib.inference as module  # not `from . import`: that would ask __getattr__

    return module


def _instruments():
    import surveylib.instruments as module  # not `from . import`: that would ask __getattr__

    return module


def _io():
    import surveylib.io as module  # not `from . import`: that would ask __getattr__

    return module


def _mi():
    import surveylib.mi as module  # not `from . import`: that would ask __getattr__

    return module


def _models():
    import surveylib.models as module  # not `from . import`: that would ask __getattr__

    return module


def _ordinal():
    import surveylib.ordinal as module  # not `from . import`: that would ask __getattr__

    return module


def _tables():
    import surveylib.tables as module  # not `from . import`: that would ask __getattr__

    return module


def _byany():
    import surveylib.estimators.byany as module

    return module


def _planning():
    import surveylib.planning as module  # not `from . import`: that would ask __getattr__

    return module


def _weighting():
    import surveylib.weighting as module  # not `from . import`: that would ask __getattr__

    return module


def _fieldwork():
    import surveylib.fieldwork as module  # not `from . import`: that would ask __getattr__

    return module


def _sampling():
    import surveylib.sampling as module  # not `from . import`: that would ask __getattr__

    return module


#: names imported on first use, and the module that holds each (PEP 562)
_LAZY = {
    **dict.fromkeys(["ChisqTestResult", "Comparison", "ContrastResult", "Crosstab", "LRTResult",
                     "TestResult", "TTestResult", "compare", "compare_distribution", "contrast",
                     "stack_waves", "wald"], _inference),
    **dict.fromkeys(["Codebook", "common_universe", "load_codebook", "load_harmonization",
                     "universe_mask"], _instruments),
    **dict.fromkeys(["read_csv", "read_spss", "read_stata", "write_csv", "write_spss"], _io),
    **dict.fromkeys(["MIResult", "mi_combine", "with_designs"], _mi),
    "GLMResult": _models,
    "OLRResult": _ordinal,
    "publication_table": _tables,
    "DomainResults": _byany,
}
_MODULES = {"planning": _planning, "weighting": _weighting, "fieldwork": _fieldwork,
            "sampling": _sampling, "mi": _mi}


def __getattr__(name):
    if name in _MODULES:
        module = _MODULES[name]()
    elif name in _LAZY:
        module = getattr(_LAZY[name](), name)
    else:
        raise AttributeError(f"module 'surveylib' has no attribute {name!r}")
    globals()[name] = module
    return module


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_MODULES))


__version__ = "0.2.0"

__all__ = [
    "AssumptionWarning",
    "BackendError",
    "CertaintyWarning",
    "ChisqTestResult",
    "Codebook",
    "CodebookError",
    "ColumnError",
    "Comparison",
    "ContrastResult",
    "ConvergenceError",
    "ConvergenceWarning",
    "Crosstab",
    "DispositionError",
    "DomainResults",
    "EmptySourceError",
    "Estimate",
    "GLMResult",
    "HartleyRao",
    "JointProbabilities",
    "LRTResult",
    "LonelyPSUError",
    "MIResult",
    "NotPushedDownError",
    "OLRResult",
    "ParameterError",
    "PlanningError",
    "ReconstructionError",
    "ReplicateDesign",
    "ReplicateError",
    "SamplingError",
    "SingletonWarning",
    "SourceError",
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
    "fieldwork",
    "load_codebook",
    "load_harmonization",
    "mi",
    "mi_combine",
    "planning",
    "publication_table",
    "read_csv",
    "read_spss",
    "read_stata",
    "sampling",
    "stack_waves",
    "universe_mask",
    "wald",
    "weighting",
    "with_designs",
    "write_csv",
    "write_spss",
]
