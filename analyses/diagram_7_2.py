"""Diagram 7.2: "What are your attitudes towards migrants from China?" 2007 vs 2012.

Reproduces the five-category distribution of both waves and the text figures around it
(indifferent 55 -> 44, poor 15 -> 28, positive 26 -> 23, negative 18 -> 33, means 2.9 / 3.1,
"decreased by 11 percent"). The diagram's legend marks bars with "a meaningful increase /
decrease compared to 2007"; which bars is not recoverable from the text (NOTES.md b11), so the
markers are recomputed here:

* test: for each answer category, the share in 2012 minus the share in 2007, design-based
  t test of independent samples (``surveylib.inference.compare``), two-sided;
* level: 5%;
* multiple comparisons: Holm adjustment over the five categories of one comparison;
* a bar is marked when the adjusted p-value is below 0.05, "increase" if the share rose.

Run ``python -m analyses.diagram_7_2`` (from the study root).
"""

from __future__ import annotations

import warnings

import pandas as pd

from surveylib.errors import SurveyWarning
from surveylib.report import ExhibitResult, FigureSpec, Series

from . import _common as C

KEY = "diagram_7_2"
TITLE = "Diagram 7.2. What are your attitudes towards migrants from China? (percent)"
SOURCE = ("001_a1594d49cb0d8857.txt lines 5884-5901 (text), 5939-5943 (caption and legend); "
          "004_3ac6aa67cbfb1bf0.txt lines 364-370")
AUDIT_IDS = ["T101", "T102", "T103", "T104", "T105", "T106", "T107", "T108", "T109", "T110",
             "T111", "T116", "T117", "T118", "T119", "T120", "T121"]
CATEGORIES = ("very good", "good", "indifferent", "poor", "very poor")
PUBLISHED = {2007: (1, 25, 55, 15, 3), 2012: (2, 21, 44, 28, 5)}
METHOD = (
    "Valid percents from SurveyDesign.proportion('attitude') with logit 95% CIs (design df). "
    "'Meaningful' change: for each category the 2012 - 2007 difference of shares, design-based "
    "t test of two independent samples (surveylib.inference.compare), two-sided at the 5% "
    "level, Holm-adjusted over the five categories; computed for every weighting and for the "
    "18+ harmonised universe. The figure shows the as-published (unweighted) comparison."
)


def category_tests(ctx: C.Context) -> pd.DataFrame:
    rows = []
    for weighting in ctx.weightings:
        for universe in ctx.universes:
            res = ctx.compare("att", stat="proportion", adjust="holm",  # valid percents
                              weighting=weighting, universe=universe)
            if res is None:
                continue
            for r in res.to_dict("records"):
                cat = CATEGORIES[int(float(r["level"])) - 1]
                sig = bool(r["p_adjusted"] < C.ALPHA)
                direction = "increase" if r["estimate"] > 0 else "decrease"
                rows.append(C.claim_row(
                    KEY, f"change {cat}",
                    f"share '{cat}' 2012 - 2007 = {100 * r['estimate']:+.1f} pp "
                    f"(SE {100 * r['se']:.1f})", weighting=weighting, universe=universe,
                    estimate=100 * r["estimate"],
                    statistic=r["statistic"], df_denom=r["df"], p_value=r["p_value"],
                    p_adjusted=r["p_adjusted"], method=r["method"] + " over 5 categories",
                    null="the share is the same in 2007 and 2012",
                    decision=f"meaningful {direction}" if sig else "no meaningful change",
                    supported=sig))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SurveyWarning)
                dist = ctx._inference().compare_distribution(
                    ctx.design(2007, weighting, universe), ctx.design(2012, weighting, universe),
                    "att", wave_col="survey_wave", labels=("2007", "2012"))
            for w in caught:
                msg = f"distribution test ({weighting}): {w.message}"
                if msg not in ctx.notes:
                    ctx.notes.append(msg)
            rows.append(C.claim_row(
                KEY, "distribution", "the attitude distribution changed between 2007 and 2012",
                weighting=weighting, universe=universe, statistic=dist.statistic,
                df_num=dist.df_num, df_denom=dist.df_denom, p_value=dist.p_value,
                method="surveylib.inference.compare_distribution: " + dist.method,
                null=dist.null,
                decision="reject" if dist.p_value < C.ALPHA else "do not reject",
                supported=bool(dist.p_value < C.ALPHA)))
    return C.tests_frame(rows)


def run(data: dict | None = None, *, study=None) -> ExhibitResult:
    ctx = C.Context(data, study=study)
    dist = C.grouped(ctx, "proportion", "attitude", scale=100)
    grouped_shares = C.grouped(ctx, "proportion", "att_pos", scale=100)
    neg = C.grouped(ctx, "proportion", "att_neg", scale=100)
    summary = pd.concat([grouped_shares.assign(indicator="positive (very good + good)"),
                         neg.assign(indicator="negative (poor + very poor)")],
                        ignore_index=True)
    summary = summary[summary["level"].astype(float) == 1.0].drop(columns=["level",
                                                                            "level_label"])
    means = C.grouped(ctx, "mean", "att")
    tests = category_tests(ctx)
    markers = []
    shown = C.pick(tests, weighting="unweighted", universe="wave") if len(tests) else tests
    for r in shown.to_dict("records"):
        cat = r["test_id"].removeprefix("change ")
        if r["supported"] and cat in CATEGORIES:
            kind = "increase" if "increase" in r["decision"] else "decrease"
            markers.append((1, CATEGORIES.index(cat), kind))
    series = []
    for w in C.WAVES:
        sel = C.pick(dist, wave=w, weighting="unweighted", universe="wave").sort_values("level")
        series.append(Series(str(w), tuple(sel["estimate"]), tuple(sel["ci_low"]),
                             tuple(sel["ci_high"]), tuple(float(v) for v in PUBLISHED[w])))
    fig = FigureSpec(KEY, "What are your attitudes towards migrants from China? (percent, "
                     "unweighted, 95% CI; red = published)", tuple(CATEGORIES), tuple(series),
                     markers=tuple(markers), marker_labels=C.MARKER_LABELS,
                     note="" if markers or len(tests) else
                     "Markers not computed: between-wave tests unavailable.")
    figs = [fig]
    # age-harmonised companion figure (18+ in both waves)
    series18 = []
    for w in C.WAVES:
        sel = C.pick(dist, wave=w, weighting="unweighted", universe="common").sort_values("level")
        series18.append(Series(f"{w} (18+)", tuple(sel["estimate"]), tuple(sel["ci_low"]),
                               tuple(sel["ci_high"])))
    figs.append(FigureSpec(f"{KEY}_18plus", "Same, age-harmonised: urban residents 18+ in both "
                           "waves (unweighted, 95% CI)", tuple(CATEGORIES), tuple(series18)))
    notes = ["The legend 'a meaningful decrease/increase compared to 2007' is printed twice "
             "(001:5895-5896, 5942-5943) but the flagged bars are image-only; the markers here "
             "are recomputed by the stated test.",
             "T121 ('decreased by 11 percent', seed 004) is the change in percentage points "
             "(55 -> 44)."]
    if len(tests):
        flagged = ", ".join(f"{CATEGORIES[c]} ({k})" for _, c, k in markers) or "none"
        notes.append(f"Bars flagged (unweighted, as published universes): {flagged}.")
    notes += ctx.notes
    return ExhibitResult(
        key=KEY, title=TITLE, source=SOURCE, method=METHOD,
        audit=C.audit_table(ctx, KEY, AUDIT_IDS),
        tables={"distribution (percent)": dist, "positive / negative (percent)": summary,
                "mean score": means},
        tests=tests, figures=figs, notes=notes, gaps=list(ctx.gaps))


if __name__ == "__main__":
    C.main(run)
