"""The study's conclusions, recomputed on one reconstruction (one draw of the microdata).

``surveylib replicate --draws K`` rebuilds the respondent files K times
(``surveylib reconstruct --draws``), each reproducing every published figure, and calls
:func:`tests` on every draw.  The report then shows, for each conclusion, the range of its
estimate over the draws, the share of draws in which it holds (significant at 5% after the
same multiplicity adjustment as in the report, in the claimed direction), and a verdict.

The tests are the exhibits' own test functions, run as published (unweighted) in both
universes (each wave's own, and 18+ in both waves): between-wave tests (Table 7.1 means,
Diagram 7.2 categories, Diagram 7.3 regional shares, familiarity, reasons and labour), the
subgroup claims, the Almaty comparisons of Diagram 6.1 and every pair of 2012 regional means.
"""

from __future__ import annotations

import pandas as pd

from . import _common as C
from . import (
    diagram_6_1,
    diagram_7_1,
    diagram_7_2,
    diagram_7_3,
    reasons_labour,
    subgroup_claims,
    table_7_1,
)

#: Columns of the frame :func:`tests` returns (one row per conclusion and universe).
COLUMNS = ["exhibit", "test_id", "universe", "claim", "estimate", "p_adjusted", "supported"]


def tests(data: dict | None = None, *, study=None) -> pd.DataFrame:
    """Every between-wave test, subgroup claim and regional comparison on ``data``."""
    ctx = C.Context(data, study=study, weightings=("unweighted",))
    region = C.tests_frame(diagram_7_3.change_tests(ctx, "att_pos", "positive")
                           + diagram_7_3.change_tests(ctx, "att_neg", "negative"))
    frames = [
        table_7_1.wave_tests(ctx),
        diagram_7_2.category_tests(ctx),
        C.tests_frame(region.to_dict("records") + diagram_7_3.claim_rows(region)
                      + diagram_7_3.region_pairs(ctx)),
        diagram_7_1.familiarity_tests(ctx),
        C.tests_frame(reasons_labour.family_tests(ctx, reasons_labour.TESTED_REASONS,
                                                  "3 reasons")
                      + reasons_labour.family_tests(ctx, ("labour_1", "labour_2"),
                                                    "2 labour answers")),
        diagram_6_1.almaty_tests(ctx),
        subgroup_claims.claim_tests(ctx)[0],
    ]
    out = pd.concat([f for f in frames if len(f)], ignore_index=True)
    out["p_adjusted"] = out["p_adjusted"].fillna(out["p_value"])
    out["supported"] = out["supported"].astype(bool)
    return out[COLUMNS].reset_index(drop=True)
