"""Diagram 7.1: familiarity with China's culture, traditions, modern economic and social life.

Published (001:5818-5837, 004:354): the mean share of "yes" over all items 21% (2007) and 23%
(2012); over the "modern life" items (foreign policy, economic and athletic achievements,
demographic situation) 39% and 49%; over the "culture, history, customs and traditions" items
11% and 9% (seed 004: 10.2% and 9%). The individual item values are image-only; the item list
is the codebook's (instruments/codebook_*.yaml, groups ``modern`` and ``culture``), which is an
assumption chosen to fit the published group means.

A group mean is the mean over respondents of each respondent's share of "yes" answers over
the group's items, which equals the mean of the item shares (all items share one base).
Changes 2012 - 2007: ``surveylib.inference.compare``, two-sided 5%, Holm over the three groups.

Run ``python -m analyses.diagram_7_1`` (from the study root).
"""

from __future__ import annotations

import pandas as pd

from surveylib.report import ExhibitResult, FigureSpec, Series

from . import _common as C

KEY = "diagram_7_1"
TITLE = ("Diagram 7.1. Familiarity with culture, traditions, modern economic and social life "
         "of China in 2007 and 2012 (percent answering 'yes')")
SOURCE = ("001_a1594d49cb0d8857.txt lines 5818-5837 (text), 5870-5873 (caption); "
          "004_3ac6aa67cbfb1bf0.txt line 354")
AUDIT_IDS = [f"T{i}" for i in range(162, 172)]
GROUPS = {"fam_all": "all items", "fam_modern": "modern life", "fam_culture": "culture",
          "fam_culture_seed004": "culture (seed 004 subset)"}
PUBLISHED = {(2007, "fam_all"): 21, (2012, "fam_all"): 23, (2007, "fam_modern"): 39,
             (2012, "fam_modern"): 49, (2007, "fam_culture"): 11, (2012, "fam_culture"): 9,
             (2007, "fam_culture_seed004"): 10.2, (2012, "fam_culture_seed004"): 9}
METHOD = (
    "Item shares: SurveyDesign.mean over the 0/1 items; group means: SurveyDesign.mean of each "
    "respondent's share of 'yes' over the group's items (= mean of item shares), 95% CIs with "
    "design df. Wave change per group: surveylib.inference.compare (independent samples, "
    "two-sided t test, 5%), Holm over the three published groups."
)


def familiarity_tests(ctx: C.Context) -> pd.DataFrame:
    """2012 - 2007 change of the three familiarity means, Holm over the three."""
    rows = []
    for weighting in ctx.weightings:
        for universe in ctx.universes:
            res = []
            for var in ("fam_all", "fam_modern", "fam_culture"):
                r = ctx.compare(var, weighting=weighting, universe=universe)
                if r is None:
                    break
                res.append((var, r.iloc[0].to_dict()))
            if len(res) < 3:
                continue
            adj = C.holm([r["p_value"] for _, r in res])
            for (var, r), pa in zip(res, adj, strict=True):
                sig = bool(pa < C.ALPHA)
                rows.append(C.claim_row(
                    KEY, f"change {GROUPS[var]}",
                    f"familiarity ({GROUPS[var]}) 2012 - 2007 = {100 * r['estimate']:+.1f} pp",
                    weighting=weighting, universe=universe, estimate=100 * r["estimate"],
                    statistic=r["statistic"],
                    df_denom=r["df"], p_value=r["p_value"], p_adjusted=pa,
                    method=r["method"] + "; Holm over 3 groups",
                    null="the mean familiarity is the same in 2007 and 2012",
                    decision=("significant " + ("increase" if r["estimate"] > 0 else
                                                "decrease")) if sig else "no significant change",
                    supported=sig))
    return C.tests_frame(rows)


def run(data: dict | None = None, *, study=None) -> ExhibitResult:
    ctx = C.Context(data, study=study)
    cb = ctx.codebooks[2012]
    items = list(cb.group("familiarity"))
    item_tab = C.grouped(ctx, "mean", items, scale=100)
    item_tab.insert(5, "item", [cb.variable(v).label.removeprefix("Familiar with: ")
                                for v in item_tab["variable"]])
    item_tab.insert(6, "item_group", ["modern" if v in cb.group("modern") else "culture"
                                      for v in item_tab["variable"]])
    group_tab = C.grouped(ctx, "mean", list(GROUPS), scale=100)
    group_tab.insert(5, "item_group", group_tab["variable"].map(GROUPS))
    tests = familiarity_tests(ctx)
    figs = []
    labels = tuple(cb.variable(v).label.removeprefix("Familiar with: ") for v in items)
    series = []
    for w in C.WAVES:
        s = C.pick(item_tab, wave=w, weighting="unweighted", universe="wave")
        s = s.set_index("variable").loc[items]
        series.append(Series(str(w), tuple(s["estimate"]), tuple(s["ci_low"]),
                             tuple(s["ci_high"])))
    figs.append(FigureSpec(f"{KEY}_items", "Are you familiar with...? (share answering 'yes', "
                           "unweighted, 95% CI). Item values are reconstructed assumptions.",
                           labels, tuple(series), horizontal=True))
    gseries = []
    for w in C.WAVES:
        s = C.pick(group_tab, wave=w, weighting="unweighted", universe="wave")
        s = s.set_index("variable").loc[list(GROUPS)]
        gseries.append(Series(str(w), tuple(s["estimate"]), tuple(s["ci_low"]),
                              tuple(s["ci_high"]),
                              tuple(float(PUBLISHED[(w, g)]) for g in GROUPS)))
    markers = []
    if len(tests):
        t = C.pick(tests, weighting="unweighted", universe="wave")
        for i, g in enumerate(GROUPS):
            r = t[t["test_id"] == f"change {GROUPS[g]}"]
            if len(r) and bool(r["supported"].iloc[0]):
                markers.append((1, i, "increase" if "increase" in r["decision"].iloc[0]
                                else "decrease"))
    figs.append(FigureSpec(f"{KEY}_groups", "Mean share of 'yes' by item group (unweighted, "
                           "95% CI; red = published)", tuple(GROUPS.values()), tuple(gseries),
                           markers=tuple(markers), marker_labels=C.MARKER_LABELS))
    notes = ["T166 (seed 001: culture 11% in 2007) and T171 (seed 004: 10.2%) cannot both be "
             "the same average; the reconstruction reads seed 004 as a narrower item subset "
             f"({', '.join(C.culture_seed004_items(ctx.provenance))}), NOTES.md b6.",
             "Item list, item values and the item-level differences are assumptions of the "
             "reconstruction; only the group means are published."]
    return ExhibitResult(
        key=KEY, title=TITLE, source=SOURCE, method=METHOD,
        audit=C.audit_table(ctx, KEY, AUDIT_IDS),
        tables={"item shares (percent)": item_tab, "group means (percent)": group_tab},
        tests=tests, figures=figs, notes=notes, gaps=list(ctx.gaps))


if __name__ == "__main__":
    C.main(run)
