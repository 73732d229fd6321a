""""Sample error did not exceed 4.1%" (both waves): margins of error under SRS and the design.

The methodological notes (001:6053-6054, 5557-5558) give one sampling error for both waves and
no confidence level or formula. This script computes, for each wave:

* the simple-random-sampling 95% margin at p = 0.5, ``surveylib.planning.margin_of_error(n)``;
* the design effects of the published percentages (attitude categories, positive/negative
  shares, reasons, labour answers, familiarity group means) from the design's estimators, and
  the 95% margin at p = 0.5 with the mean and with the largest design effect
  (``margin_of_error(n, deff=...)``, deffs summarised by ``planning.deff_from_result``);
* the largest half-width of the 95% confidence intervals of the published attitude shares.

"Supported" means the margin, rounded to one decimal like the published figure, is <= 4.1.

Run ``python -m analyses.sample_error`` (from the study root).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveylib import planning
from surveylib.report import AUDIT_COLUMNS, ExhibitResult, FigureSpec, Series

from . import _common as C

KEY = "sample_error"
TITLE = "Sampling error: 'sample error did not exceed 4.1%' (2007 and 2012)"
SOURCE = ("001_a1594d49cb0d8857.txt lines 6053-6054 (Section 7 Note 1), 5557-5558 "
          "(Section 6.4 Note 1)")
PUBLISHED = 4.1
SHARES = ("att_1", "att_2", "att_3", "att_4", "att_5", "att_pos", "att_neg",
          "reason_work", "reason_trade", "reason_property", "labour_1", "labour_2")
METHOD = (
    "SRS margin: planning.margin_of_error(n, p=0.5) (z = 1.96, with replacement). Design "
    "margins: the same with deff = mean or max of the design effects of the published "
    "percentages, each from SurveyDesign.mean of the 0/1 indicator (deff vs SRS with "
    "replacement, deff='replace', so the equal-weight design has a finite deff); largest CI "
    "half-width: max over the five attitude shares of (ci_high - ci_low)/2 (logit, design df)."
)


def run(data: dict | None = None, *, study=None) -> ExhibitResult:
    ctx = C.Context(data, study=study)
    rows = []
    for wave in C.WAVES:
        for weighting in C.WEIGHTINGS:
            for universe in C.UNIVERSES:
                if wave == 2007 and universe == "common":
                    continue
                d = ctx.design(wave, weighting, universe)
                if d is None:
                    continue
                n = len(d)
                deff = planning.deff_from_result(
                    d.mean(list(SHARES), na_rm=True, deff="replace"))
                att = d.proportion("attitude", na_rm=True).to_frame()
                half = float(((att["ci_high"] - att["ci_low"]) / 2).max())
                rows.append({
                    "wave": wave, "weighting": weighting, "universe": universe, "n": n,
                    "moe_srs": 100 * float(planning.margin_of_error(n)),
                    "deff_mean": deff.mean, "deff_max": deff.max,
                    "moe_design_mean_deff": 100 * float(planning.margin_of_error(
                        n, deff=deff.mean)),
                    "moe_design_max_deff": 100 * float(planning.margin_of_error(
                        n, deff=deff.max)),
                    "max_ci_halfwidth_attitude": 100 * half,
                })
    tab = pd.DataFrame(rows)
    tests = []
    audit = []
    for r in tab.to_dict("records"):
        for col, what in (("moe_srs", "SRS"), ("moe_design_mean_deff", "design, mean deff"),
                          ("moe_design_max_deff", "design, max deff")):
            ok = round(r[col], 1) <= PUBLISHED
            tests.append(C.claim_row(
                KEY, f"{r['wave']} {what}", f"{r['wave']}: 95% margin at p=0.5 ({what}) = "
                f"{r[col]:.2f} pp <= 4.1", weighting=r["weighting"], universe=r["universe"],
                statistic=r[col], method="planning.margin_of_error" +
                ("" if col == "moe_srs" else f" with deff {r['deff_mean' if 'mean' in col else 'deff_max']:.3f}"),
                null="", decision="consistent" if ok else "exceeds 4.1", supported=bool(ok)))
        if r["weighting"] != "unweighted" or r["universe"] != "wave":
            continue
        for ids in {2007: ("T021",), 2012: ("T029", "T032")}[r["wave"]]:
            audit.append({"exhibit": KEY, "target_id": ids, "wave": r["wave"], "domain": "total",
                          "quantity": "maximum sampling error (sample error did not exceed), "
                          "compared with the SRS 95% margin at p=0.5",
                          "unit": "percent", "published": PUBLISHED, "reproduced": r["moe_srs"],
                          "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                          "tolerance": "claim: <= 4.1 (not a microdata statistic)",
                          "diff": r["moe_srs"] - PUBLISHED,
                          "status": "claim supported" if round(r["moe_srs"], 1) <= PUBLISHED
                          else "claim not supported",
                          "design_weighted": float(C.pick(tab, wave=r["wave"], weighting="design",
                                                          universe="wave")["moe_design_mean_deff"]
                                                   .iloc[0]),
                          "calibrated": (float(C.pick(tab, wave=r["wave"], weighting="calibrated",
                                                      universe="wave")["moe_design_mean_deff"]
                                               .iloc[0])
                                         if len(C.pick(tab, wave=r["wave"],
                                                       weighting="calibrated")) else np.nan),
                          "common_18plus": (float(C.pick(tab, wave=r["wave"],
                                                         weighting="unweighted",
                                                         universe="common")["moe_srs"].iloc[0])
                                            if r["wave"] == 2012 else r["moe_srs"]),
                          "note": "a claim, not a figure: the SRS margin rounded to one decimal "
                          "must not exceed 4.1 (not counted in the exit code)"})
    series = []
    cats = ("SRS", "design (mean deff)", "design (max deff)")
    for wave in C.WAVES:
        for weighting in ("unweighted", "design", "calibrated"):
            s = C.pick(tab, wave=wave, weighting=weighting, universe="wave")
            if not len(s):
                continue
            s = s.iloc[0]
            series.append(Series(f"{wave} {weighting}", (s["moe_srs"], s["moe_design_mean_deff"],
                                                         s["moe_design_max_deff"]),
                                 published=(PUBLISHED, PUBLISHED, PUBLISHED)))
    fig = FigureSpec(KEY, "95% margin of error at p = 0.5 (percentage points); red = published "
                     "'did not exceed 4.1%'", cats, tuple(series), ylabel="percentage points")
    notes = ["The confidence level and formula of the published 4.1% are not stated; 95% and "
             "p = 0.5 are assumed. The SRS margin is 4.04 pp for n = 588 and 4.20 pp for n = 544, "
             "so the 2012 statement needs a design effect below about 0.95 (NOTES.md a6).",
             "Design effects describe the reconstructed microdata (proportional allocation, "
             "equal weights within strata), not the original sample."]
    return ExhibitResult(
        key=KEY, title=TITLE, source=SOURCE, method=METHOD,
        audit=pd.DataFrame(audit, columns=AUDIT_COLUMNS), tables={"margins of error": tab},
        tests=C.tests_frame(tests), figures=[fig], notes=notes, gaps=list(ctx.gaps))


if __name__ == "__main__":
    C.main(run)
