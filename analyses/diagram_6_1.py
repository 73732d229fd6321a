"""Diagram 6.1: obtaining education in China and sinology, 2012 (total and Almaty).

Published (001:5353-5401, 5440-5441; N=544, 2012 only): acquaintances studying / having studied
in China 16% (Almaty 17); want education in China themselves 12% (17), for their children 18%
(23); want a sinology specialisation in Kazakhstan themselves 13% (27), for their children 16%
(39). "Most pronounced in Almaty" is tested item by item: design-based two-group t test of
Almaty versus the other five regions (``surveylib.inference.ttest``), two-sided 5%, Holm over
the five items. The age, education and ethnic claims of the same passage are in
``subgroup_claims.py``.

Run ``python -m analyses.diagram_6_1`` (from the study root).
"""

from __future__ import annotations

import pandas as pd

from surveylib.report import ExhibitResult, FigureSpec, Series

from . import _common as C

KEY = "diagram_6_1"
TITLE = ("Diagram 6.1. The actual situation and prospects of obtaining education in China, "
         "2012 (percent), total and Almaty")
SOURCE = "001_a1594d49cb0d8857.txt lines 5353-5401 (text), 5440-5441 (caption); N=544"
AUDIT_IDS = ["T192", "T193", "T194", "T195", "T196", "T198", "T199", "T200", "T201", "T202"]
ITEMS = C.EDU_ITEMS
PUB_TOTAL = {"edu_acq": 16, "edu_self": 12, "edu_child": 18, "sino_self": 13, "sino_child": 16}
PUB_ALMATY = {"edu_acq": 17, "edu_self": 17, "edu_child": 23, "sino_self": 27,
              "sino_child": 39}
METHOD = (
    "Shares of 'yes' (no and don't know in the base) from SurveyDesign.mean of the 0/1 items, "
    "total and by stratum (domain estimates of the full design), 95% CIs with design df. "
    "Almaty vs the rest: surveylib.inference.ttest (two groups, df = design df - 1), two-sided "
    "5%, Holm over the five items. 2012 only (15+); the 18+ domain is shown next to it."
)


def almaty_tests(ctx: C.Context) -> pd.DataFrame:
    """T197: Almaty above the other regions on each item (t tests, Holm over 5 items)."""
    rows = []
    for weighting in ctx.weightings:
        for universe in ctx.universes:
            res = [(v, ctx.ttest(2012, v, "g_almaty", weighting=weighting, universe=universe))
                   for v in ITEMS]
            if any(r is None for _, r in res):
                continue
            adj = C.holm([r.p_value for _, r in res])
            for (v, r), pa in zip(res, adj, strict=True):
                ok = bool(r.estimate > 0 and pa < C.ALPHA)
                rows.append(C.claim_row(
                    KEY, f"T197 {v}", f"{v}: Almaty - other regions = "
                    f"{100 * r.estimate:+.1f} pp", weighting=weighting, universe=universe,
                    estimate=100 * r.estimate,
                    statistic=r.statistic, df_denom=r.df, p_value=r.p_value, p_adjusted=pa,
                    method="inference.ttest (two groups), Holm over 5 items", null=r.null,
                    decision="Almaty significantly higher" if ok else "not significantly higher",
                    supported=ok))
    return C.tests_frame(rows)


def run(data: dict | None = None, *, study=None) -> ExhibitResult:
    ctx = C.Context(data, study=study)
    cb = ctx.codebooks[2012]
    tab = C.grouped(ctx, "mean", list(ITEMS), "stratum", scale=100, waves=(2012,))
    tab.insert(5, "item", [cb.variable(v).label for v in tab["variable"]])
    tests = almaty_tests(ctx)
    labels = tuple(cb.variable(v).label for v in ITEMS)
    series = []
    tot = C.pick(tab, weighting="unweighted", universe="wave", group="Total")
    tot = tot.set_index("variable").loc[list(ITEMS)]
    series.append(Series("Total", tuple(tot["estimate"]), tuple(tot["ci_low"]),
                         tuple(tot["ci_high"]), tuple(float(PUB_TOTAL[v]) for v in ITEMS)))
    alm = C.pick(tab, weighting="unweighted", universe="wave", group="Almaty city")
    alm = alm.set_index("variable").loc[list(ITEMS)]
    series.append(Series("Almaty", tuple(alm["estimate"]), tuple(alm["ci_low"]),
                         tuple(alm["ci_high"]), tuple(float(PUB_ALMATY[v]) for v in ITEMS)))
    fig = FigureSpec(KEY, "Education in China and sinology, 2012 (percent 'yes', unweighted, "
                     "95% CI; red = published)", labels, tuple(series), horizontal=True)
    notes = ["Values for the other five regions, the 'no'/'don't know' categories and the "
             "question wording are not published; they are reconstruction assumptions.",
             "Whether 2007 asked these items is unknown; no wave comparison is possible."]
    return ExhibitResult(
        key=KEY, title=TITLE, source=SOURCE, method=METHOD,
        audit=C.audit_table(ctx, KEY, AUDIT_IDS), tables={"items by region (percent)": tab},
        tests=tests, figures=[fig], notes=notes, gaps=list(ctx.gaps))


if __name__ == "__main__":
    C.main(run)
