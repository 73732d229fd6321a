"""Weighting: design weights, nonresponse adjustment, post-stratification, raking,
calibration, trimming and diagnostics.

Every step is a function from design to design: it returns a new
:class:`~surveylib.SurveyDesign` whose ``adjustments`` end with a record of the step (factors,
targets, convergence diagnostics), and the Taylor variance residualises on that record as R
``survey`` does.  The same steps are methods of the design (``d.poststratify``, ``d.rake``,
``d.calibrate``, ``d.trim``, ``d.weight_summary``).  See ``docs/weighting.md``.
"""

from .adjustments import (
    Calibration,
    NonresponseAdjustment,
    PostStratification,
    Raking,
    Trimming,
)
from .calibration import calibrate, model_matrix
from .diagnostics import margin_table, plot_weights, weight_summary
from .frame import design_weights, from_frame, nonresponse_adjust
from .raking import poststratify, rake
from .trimming import trim

__all__ = [
    "Calibration",
    "NonresponseAdjustment",
    "PostStratification",
    "Raking",
    "Trimming",
    "calibrate",
    "design_weights",
    "from_frame",
    "margin_table",
    "model_matrix",
    "nonresponse_adjust",
    "plot_weights",
    "poststratify",
    "rake",
    "trim",
    "weight_summary",
]
