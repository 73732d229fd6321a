"""Why Chinese migrants come, the labour market, and the citizenship / marriage concerns.

Published (001:5738-5757, 5850-5879; 004:364): Chinese come mainly to work 57 -> 62%, to trade
49 -> 47%, to buy property 4 -> 11% (multiple response); Chinese migration means tough
competition on the labour market 24 -> 31%, only specific niches 22 -> 16%; in 2012 11% worry
about Han Chinese receiving citizenship on a mass scale (Almaty 15, Northern 14) and 11% that
Chinese come to marry and stay (Southern cities 14, Almaty 12).

Tests: change 2012 - 2007 of each published share (``surveylib.inference.compare``,
two-sided 5%, Holm within the reasons family and within the labour family).

Run ``python -m analyses.reasons_labour`` (from the study root).
"""

from __future__ import annotations

import numpy as np

from surveylib.report import ExhibitResult, FigureSpec, Series

from . import _common as C

KEY = "reasons_labour"
TITLE = ("Reasons Chinese migrants come, impact on the labour market, and concerns about "
         "citizenship and marriage (percent)")
SOURCE = ("001_a1594d49cb0d8857.txt lines 5738-5757 (concerns), 5850-5860 (reasons), "
          "5862-5879 (labour market); 004_3ac6aa67cbfb1bf0.txt line 364")
AUDIT_IDS = [f"T{i}" for i in range(172, 192)]
REASONS = ("reason_work", "reason_trade", "reason_property", "reason_citizenship",
           "reason_marriage", "reason_other")
TESTED_REASONS = ("reason_work", "reason_trade", "reason_property")
PUB_REASONS = {2007: {"reason_work": 57, "reason_trade": 49, "reason_property": 4},
               2012: {"reason_work": 62, "reason_trade": 47, "reason_property": 11,
                      "reason_citizenship": 11, "reason_marriage": 11}}
PUB_LABOUR = {2007: {1: 24, 2: 22}, 2012: {1: 31, 2: 16}}
REGIONS = ("Northern", "Eastern", "Southern", "Western", "Central", "Almaty city")
PUB_CONCERN = {"reason_citizenship": {"Almaty city": 15, "Northern": 14},
               "reason_marriage": {"Southern": 14, "Almaty city": 12}}
METHOD = (
    "Multiple-response reasons: each item's share of all respondents (SurveyDesign.mean of the "
    "0/1 item); labour market: SurveyDesign.proportion('labour') over all respondents (don't "
    "know kept in the base, as the reconstruction assumes); concerns by region: domain means "
    "by stratum. Wave changes: surveylib.inference.compare, two-sided 5%, Holm within a family "
    "(3 reasons published for both waves; 2 labour answers)."
)


def _label(cb, var: str) -> str:
    return cb.variable(var).label.split(": ", 1)[-1]


def family_tests(ctx: C.Context, variables, family: str) -> list:
    rows = []
    for weighting in ctx.weightings:
        for universe in ctx.universes:
            res = []
            for var in variables:
                r = ctx.compare(var, weighting=weighting, universe=universe)
                if r is None:
                    break
                res.append((var, r.iloc[0].to_dict()))
            if len(res) < len(variables):
                continue
            adj = C.holm([r["p_value"] for _, r in res])
            for (var, r), pa in zip(res, adj, strict=True):
                sig = bool(pa < C.ALPHA)
                rows.append(C.claim_row(
                    KEY, f"change {var}", f"{var}: 2012 - 2007 = {100 * r['estimate']:+.1f} pp",
                    weighting=weighting, universe=universe, estimate=100 * r["estimate"],
                    statistic=r["statistic"],
                    df_denom=r["df"], p_value=r["p_value"], p_adjusted=pa,
                    method=r["method"] + f"; Holm over {family}",
                    null="the share is the same in 2007 and 2012",
                    decision=("significant " + ("increase" if r["estimate"] > 0 else
                                                "decrease")) if sig else "no significant change",
                    supported=sig))
    return rows


def run(data: dict | None = None, *, study=None) -> ExhibitResult:
    ctx = C.Context(data, study=study)
    cb = ctx.codebooks[2012]
    reasons = C.grouped(ctx, "mean", list(REASONS), scale=100)
    reasons.insert(5, "reason", [_label(cb, v) for v in reasons["variable"]])
    labour = C.grouped(ctx, "proportion", "labour", scale=100)
    concerns = C.grouped(ctx, "mean", ["reason_citizenship", "reason_marriage"], "stratum",
                         scale=100, waves=(2012,))
    tests = C.tests_frame(family_tests(ctx, TESTED_REASONS, "3 reasons")
                          + family_tests(ctx, ("labour_1", "labour_2"), "2 labour answers"))
    figs = []
    series = []
    for w in C.WAVES:
        s = C.pick(reasons, wave=w, weighting="unweighted", universe="wave")
        s = s.set_index("variable").loc[list(REASONS)]
        series.append(Series(str(w), tuple(s["estimate"]), tuple(s["ci_low"]),
                             tuple(s["ci_high"]),
                             tuple(float(PUB_REASONS[w].get(v, np.nan)) for v in REASONS)))
    figs.append(FigureSpec(f"{KEY}_reasons", "Chinese citizens mainly come to Kazakhstan to ... "
                           "(multiple response, percent of respondents, unweighted, 95% CI; "
                           "red = published)", tuple(_label(cb, v) for v in REASONS),
                           tuple(series), horizontal=True,
                           note="2007 citizenship/marriage and every 'other' value are "
                           "reconstruction assumptions (unpublished)."))
    codes = [1, 2, 3, 4, 8]
    series = []
    for w in C.WAVES:
        s = C.pick(labour, wave=w, weighting="unweighted", universe="wave")
        s = s.set_index(s["level"].astype(float).astype(int)).reindex(codes)
        series.append(Series(str(w), tuple(s["estimate"]), tuple(s["ci_low"]),
                             tuple(s["ci_high"]),
                             tuple(float(PUB_LABOUR[w].get(c, np.nan)) for c in codes)))
    figs.append(FigureSpec(f"{KEY}_labour", "Impact of Chinese migration on the labour market "
                           "(percent, unweighted, 95% CI; red = published)",
                           tuple(ctx.label(2012, "labour", c) for c in codes), tuple(series),
                           horizontal=True))
    series = []
    for var in ("reason_citizenship", "reason_marriage"):
        s = C.pick(concerns, variable=var, weighting="unweighted", universe="wave")
        s = s.set_index("group").loc[list(REGIONS)]
        series.append(Series(_label(cb, var), tuple(s["estimate"]), tuple(s["ci_low"]),
                             tuple(s["ci_high"]),
                             tuple(float(PUB_CONCERN[var].get(g, np.nan)) for g in REGIONS)))
    figs.append(FigureSpec(f"{KEY}_concerns", "2012 concerns by region: mass citizenship and "
                           "marriage (percent, unweighted, 95% CI; red = published)", REGIONS,
                           tuple(series)))
    notes = ["The 2012 concerns (11% / 11%) are read as the reasons 'to obtain citizenship' and "
             "'to marry and stay' of the same multiple-response question (seed 004 wording, "
             "NOTES.md b9); their 2007 values are unknown, so they are not compared.",
             "'cities of South Kazakhstan' (14%, marriage) is read as the Southern stratum.",
             "The labour-market question's other answer options and their shares are "
             "assumptions of the reconstruction."]
    return ExhibitResult(
        key=KEY, title=TITLE, source=SOURCE, method=METHOD,
        audit=C.audit_table(ctx, KEY, AUDIT_IDS),
        tables={"reasons (percent)": reasons, "labour market (percent)": labour,
                "concerns by region 2012 (percent)": concerns},
        tests=tests, figures=figs, notes=notes, gaps=list(ctx.gaps))


if __name__ == "__main__":
    C.main(run)
