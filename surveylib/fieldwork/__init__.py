"""Monitoring fieldwork: AAPOR outcome rates, R-indicators, precision reached, weights preview.

* :func:`aapor_rates` — RR1-RR6, COOP1-4, REF1-3, CON1-3 by stratum from disposition codes;
* :func:`r_indicator` — the R-indicator and partial R-indicators (Schouten, Cobben and
  Bethlehem 2009; Schouten, Shlomo and Skinner 2011) from propensities on frame variables;
* :func:`moe_progress` — margin of error reached per stratum against the plan;
* :func:`weights_preview` — nonresponse-adjusted weights as they stand;
* :func:`fieldwork_status` — all of it; ``surveylib fieldwork status SAMPLE_FILE`` prints it and
  writes an HTML page.  See ``docs/fieldwork.md``.
"""

from .dispositions import CATEGORIES, RATES, DispositionError, aapor_rates, classify
from .monitor import FieldworkStatus, fieldwork_status, moe_progress, weights_preview
from .representativeness import RIndicator, r_indicator, response_propensities

__all__ = [
    "CATEGORIES",
    "RATES",
    "DispositionError",
    "FieldworkStatus",
    "RIndicator",
    "aapor_rates",
    "classify",
    "fieldwork_status",
    "moe_progress",
    "r_indicator",
    "response_propensities",
    "weights_preview",
]
