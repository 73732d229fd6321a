"""Diagram 7.3: attitudes towards migrants from China by region, 2007 and 2012.

Published in the text (001:5903-5929): 2012 mean scores Northern 3.5, Western 3.3, Almaty 3.0,
Eastern 2.7, Central 2.5 (Southern not given); positive share Eastern 12 -> 36 and Central
25 -> 50; Eastern 2012 positive + indifferent 93%; claims that Northern, Western and Almaty
had the largest rise of the negative share and that only Eastern and Central had a rise of the
positive share.

Tests: the 2012 - 2007 change of the positive and of the negative share in every region,
design-based t test of independent samples (``surveylib.inference.compare``), two-sided 5%,
Holm-adjusted over the six regions. The regional statements are judged on those tests.

Run ``python -m analyses.diagram_7_3`` (from the study root).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveylib.report import ExhibitResult, FigureSpec, Series

from . import _common as C

KEY = "diagram_7_3"
TITLE = ("Diagram 7.3. Attitudes towards migrants from China in 2007 and 2012, by region "
         "(percent, mean score)")
SOURCE = "001_a1594d49cb0d8857.txt lines 5903-5929 (text), 5944-5945 (caption)"
AUDIT_IDS = ["T126", "T127", "T128", "T131", "T132", "T133", "T134", "T135", "T136", "T137"]
REGIONS = ("Northern", "Eastern", "Southern", "Western", "Central", "Almaty city")
PUB_MEAN_2012 = {"Northern": 3.5, "Western": 3.3, "Almaty city": 3.0, "Eastern": 2.7,
                 "Central": 2.5}
PUB_POS = {(2007, "Eastern"): 12, (2012, "Eastern"): 36, (2007, "Central"): 25,
           (2012, "Central"): 50}
METHOD = (
    "Regional means and shares are domain estimates (by='stratum') of the full design: "
    "SurveyDesign.mean('att', by='stratum') and proportion of the positive (very good + good) "
    "and negative (poor + very poor) indicators, logit 95% CIs. Within a region the design "
    "weight is constant, so unweighted and design-weighted regional estimates coincide; "
    "calibration changes them. Changes 2012 - 2007 per region: surveylib.inference.compare "
    "(independent samples, two-sided t test, 5%), Holm over the six regions."
)


def change_tests(ctx: C.Context, indicator: str, label: str) -> list:
    rows = []
    for weighting in ctx.weightings:
        for universe in ctx.universes:
            res = ctx.compare(indicator, by="stratum", weighting=weighting, universe=universe)
            if res is None:
                continue
            adj = C.holm(res["p_value"].to_numpy())
            for r, pa in zip(res.to_dict("records"), adj, strict=True):
                region = ctx.label(2012, "stratum", r["stratum"])
                sig = bool(pa < C.ALPHA)
                rows.append(C.claim_row(
                    KEY, f"{label} change {region}",
                    f"{label} share {region}: 2012 - 2007 = {100 * r['estimate']:+.1f} pp",
                    weighting=weighting, universe=universe, estimate=100 * r["estimate"],
                    statistic=r["statistic"],
                    df_denom=r["df"], p_value=r["p_value"], p_adjusted=pa,
                    method=r["method"] + "; Holm over 6 regions",
                    null=f"the {label} share of {region} is the same in 2007 and 2012",
                    decision=("significant " + ("increase" if r["estimate"] > 0 else
                                                "decrease")) if sig else "no significant change",
                    supported=sig))
    return rows


def region_pairs(ctx: C.Context) -> list:
    """Every pair of 2012 regional means (first named minus second), Holm over the 15 pairs.

    The Southern mean is not published; its pairs show what the reconstruction makes of it.
    """
    inference = ctx._inference()
    rows = []
    if inference is None:
        return rows
    for weighting in ctx.weightings:
        for universe in ctx.universes:
            d12 = ctx.design(2012, weighting, universe)
            if d12 is None:
                continue
            est = d12.mean("att", by="stratum", na_rm=True)
            order = [int(c) for c in est.to_frame()["stratum"]]
            coefs = {}
            for i, a in enumerate(REGIONS):
                for b in REGIONS[i + 1:]:
                    v = np.zeros(len(order))
                    v[order.index(i + 1)] = 1.0
                    v[order.index(REGIONS.index(b) + 1)] = -1.0
                    coefs[(a, b)] = v
            cf = inference.contrast(est, {f"{a} - {b}": v for (a, b), v in coefs.items()})
            cf = cf.to_frame()
            adj = C.holm(cf["p_value"].to_numpy())
            for ((a, b), _), r, pa in zip(coefs.items(), cf.to_dict("records"), adj,
                                          strict=True):
                sig = bool(pa < C.ALPHA)
                hi, lo = (a, b) if r["estimate"] > 0 else (b, a)
                rows.append(C.claim_row(
                    KEY, f"2012 mean {a} vs {b}",
                    f"2012 mean score {a} - {b} = {r['estimate']:+.2f}", weighting=weighting,
                    universe=universe, estimate=r["estimate"], statistic=r["t"],
                    df_denom=r["df"], p_value=r["p_value"], p_adjusted=pa,
                    method="inference.contrast of the regional means; Holm over 15 pairs",
                    null=f"{a} and {b} have the same 2012 mean score",
                    decision=f"{hi} significantly higher (less tolerant)" if sig else
                    "no significant difference", supported=sig))
    return rows


def claim_rows(tests: pd.DataFrame) -> list:
    """The regional statements judged on the change tests (as published: unweighted)."""
    rows = []
    t = C.pick(tests, weighting="unweighted", universe="wave") if len(tests) else tests
    if not len(t):
        return rows

    def est(prefix, region):
        r = t[t["test_id"] == f"{prefix} change {region}"].iloc[0]
        return r

    pos = {g: est("positive", g) for g in REGIONS}
    neg = {g: est("negative", g) for g in REGIONS}
    only = (all(pos[g]["supported"] and "increase" in pos[g]["decision"]
                for g in ("Eastern", "Central"))
            and not any(pos[g]["supported"] and "increase" in pos[g]["decision"]
                        for g in REGIONS if g not in ("Eastern", "Central")))
    rows.append(C.claim_row(
        KEY, "T130", "only Eastern and Central had a rise in the positive share",
        method="per-region change tests above (Holm over 6 regions)",
        null="no change of the positive share in any region",
        decision="consistent" if only else "not consistent", supported=bool(only)))
    inc = [g for g in REGIONS if neg[g]["supported"] and "increase" in neg[g]["decision"]]
    for tid, g in (("T123", "Northern"), ("T124", "Western"), ("T125", "Almaty city")):
        ok = g in inc
        rows.append(C.claim_row(
            KEY, tid, f"{g}: among the greatest increases of the negative share "
            "(significant increase; ordering of point estimates is descriptive)",
            method="per-region change test above (Holm over 6 regions)",
            null=f"the negative share of {g} is the same in 2007 and 2012",
            decision="significant increase" if ok else "no significant increase",
            supported=bool(ok)))
    return rows


def run(data: dict | None = None, *, study=None) -> ExhibitResult:
    ctx = C.Context(data, study=study)
    means = C.grouped(ctx, "mean", "att", "stratum", total=False)
    pos = C.grouped(ctx, "proportion", "att_pos", "stratum", scale=100, total=False)
    neg = C.grouped(ctx, "proportion", "att_neg", "stratum", scale=100, total=False)
    shares = pd.concat([pos.assign(indicator="positive"), neg.assign(indicator="negative")],
                       ignore_index=True)
    shares = shares[shares["level"].astype(float) == 1.0].drop(columns=["level",
                                                                        "level_label"])
    rows = change_tests(ctx, "att_pos", "positive") + change_tests(ctx, "att_neg", "negative")
    tests = C.tests_frame(rows)
    tests = C.tests_frame(rows + claim_rows(tests) + region_pairs(ctx))
    figs = []
    sel = C.pick(means, wave=2012, weighting="unweighted", universe="wave").set_index("group")
    sel = sel.loc[list(REGIONS)]
    figs.append(FigureSpec(
        f"{KEY}_mean2012", "Mean attitude score by region, 2012 (1 very good ... 5 very poor; "
        "unweighted, 95% CI; red = published)", REGIONS,
        (Series("2012", tuple(sel["estimate"]), tuple(sel["ci_low"]), tuple(sel["ci_high"]),
                tuple(PUB_MEAN_2012.get(g, np.nan) for g in REGIONS)),),
        ylabel="mean score", ylim=(1, 4.2),
        note="Southern 2012 mean not published."))
    series = []
    for w in C.WAVES:
        s = C.pick(shares, wave=w, weighting="unweighted", universe="wave",
                   indicator="positive").set_index("group").loc[list(REGIONS)]
        series.append(Series(str(w), tuple(s["estimate"]), tuple(s["ci_low"]),
                             tuple(s["ci_high"]),
                             tuple(float(PUB_POS.get((w, g), np.nan)) for g in REGIONS)))
    markers = []
    if len(tests):
        t = C.pick(tests, weighting="unweighted", universe="wave")
        for i, g in enumerate(REGIONS):
            r = t[t["test_id"] == f"positive change {g}"]
            if len(r) and bool(r["supported"].iloc[0]):
                markers.append((1, i, "increase" if "increase" in r["decision"].iloc[0]
                                else "decrease"))
    figs.append(FigureSpec(
        f"{KEY}_positive", "Positive attitudes (very good + good) by region, 2007 and 2012 "
        "(percent, unweighted, 95% CI; red = published)", REGIONS, tuple(series),
        markers=tuple(markers), marker_labels=C.MARKER_LABELS))
    notes = ["Regional sample sizes are not published; the reconstruction allocates "
             "proportionally to N_h (microdata/provenance.json).",
             "Everything for the Southern region, all 2007 regional means and the per-region "
             "distributions are image-only in the source and are not audited.",
             "The year of the Northern/Western/Almaty means is implied (2012) by the context."]
    return ExhibitResult(
        key=KEY, title=TITLE, source=SOURCE, method=METHOD,
        audit=C.audit_table(ctx, KEY, AUDIT_IDS),
        tables={"mean score by region": means, "positive / negative share by region": shares},
        tests=tests, figures=figs, notes=notes, gaps=list(ctx.gaps))


if __name__ == "__main__":
    C.main(run)
