"""Provenance record of a reconstruction: what constrains which column, and what is assumed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy

from .config import ReconstructionConfig
from .model import EDU_ITEMS, REASONS, WaveResult, familiarity_groups
from .output import NOTICE

ASSUMED_COLUMNS = {
    "resp_id": "sequential within the file (rows grouped by stratum, seeded order)",
    "settlement": "assumption: Almaty city = 1; elsewhere settlement_centre_share of each stratum",
    "sex": "assumption: female_share of the sample, at random",
    "age": "assumption: spread evenly over each age band (youngest band starts at the minimum age)",
    "agegrp": "assumption: age_prior margins; assigned by rank on attitude (tilt_age_attitude) so "
    "that ages 18-29 and 30-39 are more tolerant (claims T155, T156)",
    "educ": "assumption: educ_prior margins for adults, 15-17 = incomplete secondary; assigned by "
    "rank on attitude (tilt_educ_attitude) so that higher education is more tolerant (T157)",
    "weight": "N_h / n_h from the stratum frame (design weight)",
    "fpc": "N_h, the stratum's urban population in the wave's universe (18+ / 15+)",
}


def _column_targets(targets: pd.DataFrame, wave: int) -> dict:
    t = targets[(targets["wave"] == str(wave)) & targets["role"].isin(["constraint", "check"])]
    out: dict = {}
    for r in t.to_dict("records"):
        var = r["variable"] or ("claims" if r["statistic"] == "claim" else "")
        if not var:
            continue
        if var == "resp_id":
            var = "ethnic" if r["domain_var"] == "ethnic" else "resp_id"
        out.setdefault(var, []).append(r["id"])
        if r["domain_var"] == "stratum":
            out.setdefault("stratum", []).append(r["id"])
    return {k: sorted(v) for k, v in sorted(out.items())}


def build_provenance(results: dict[int, WaveResult], targets: pd.DataFrame, cfg: ReconstructionConfig,
                     verification: pd.DataFrame, files: dict) -> dict:
    waves = {}
    for wave, res in sorted(results.items()):
        codes = cfg.study.stratum_codes
        n_h = np.bincount(res.data["stratum"].to_numpy(), minlength=max(codes) + 1)
        groups = familiarity_groups(wave, cfg)
        cols = _column_targets(targets, wave)
        column_notes = cfg.study.provenance.get("columns", {})
        fam = cols.pop("familiarity", [])
        columns = {}
        for c in res.data.columns:
            if c == "stratum":
                columns[c] = {"constrained_by": cols.get("stratum", []),
                              "note": f"allocation: {res.allocation}"}
            elif c in cols:
                columns[c] = {"constrained_by": cols[c]}
            elif c.startswith("fam_"):
                columns[c] = {"constrained_by": fam, "note": "item totals chosen by the solver "
                              "so that the group means meet the published figures; individual "
                              "item values are assumptions (familiarity_prior profile); "
                              "assigned with tilt_fam_educ"}
            elif c in REASONS or c in EDU_ITEMS:
                columns[c] = {"constrained_by": [], "note": "no published figure: prior only"}
            elif c in ASSUMED_COLUMNS:
                columns[c] = {"constrained_by": [], "note": ASSUMED_COLUMNS[c]}
            else:
                columns[c] = {"constrained_by": []}
            if c in column_notes:  # the study's own statement (e.g. what is assumed)
                note = columns[c].get("note", "")
                columns[c]["note"] = f"{note}; {column_notes[c]}" if note else column_notes[c]
        waves[str(wave)] = {
            "file_csv": files.get((wave, "csv"), ""),
            "file_sav": files.get((wave, "sav"), ""),
            "n": int(len(res.data)),
            "allocation": res.allocation,
            "population_source": res.population_source,
            "strata": {
                cfg.study.strata[h]: {"code": h, "N_h": float(res.population[i]),
                                      "n_h": int(n_h[h]),
                                      "weight": float(res.population[i] / n_h[h])}
                for i, h in enumerate(codes)
            },
            "familiarity_groups": {k: list(v) for k, v in sorted(groups.items())},
            "columns": columns,
        }
    v = verification
    text = cfg.study.provenance
    exceptions = targets[targets["resolution"] != ""][["id", "wave", "role", "lower", "upper",
                                                       "tolerance_rule", "resolution"]]
    return {
        "notice": NOTICE,
        "what": text.get("what", "Respondent-level microdata reconstructed to reproduce every "
                         "published figure. These files are NOT the original data."),
        "seed": int(cfg.seed),
        "solver": {
            "method": "integer cell counts by mixed-integer linear programming, minimum L1 "
            "distance to a documented prior; infeasible sets reported with an irreducible "
            "conflicting subset of targets (deletion filter)",
            "implementation": f"scipy.optimize.milp (HiGHS), scipy {scipy.__version__}",
            "order": text.get("order", "later wave first, then the earlier one with the "
                              "cross-wave figures as linear constraints"),
        },
        "tolerances": {
            "default": "round half up: integer percent v -> [v-0.5, v+0.5); one decimal v -> "
            "[v-0.05, v+0.05); counts exact",
            "exceptions": exceptions.to_dict("records"),
        },
        "verification": {
            "design": text.get("design", "SurveyDesign(df, strata='stratum') with equal weights"),
            "checked": int(len(v)),
            "passed": int(v["pass"].sum()),
            "failed_not_excluded": int(((~v["pass"]) & (v["role"] != "excluded")).sum()),
            "excluded": sorted(v.loc[v["role"] == "excluded", "id"].tolist()),
            "file": "verification.csv",
        },
        "config": cfg.as_dict(),
        "config_status": dict(text.get("knobs", {})),
        "waves": waves,
    }


def render_markdown(prov: dict, targets: pd.DataFrame) -> str:
    lines = [
        f"# {prov['notice']}",
        "",
        prov["what"],
        "",
        "Regenerate with `surveylib reconstruct run` (or `surveylib.reconstruct.reconstruct_all`); "
        "check with `surveylib reconstruct verify`. Regeneration with the same seed and "
        "configuration is byte-identical.",
        "",
        "## Files",
        "",
    ]
    for wave, w in sorted(prov["waves"].items()):
        lines.append(f"- `{w['file_csv']}`" + (f", `{w['file_sav']}`" if w["file_sav"] else "")
                     + f": wave {wave}, n = {w['n']} (SPSS file label: \"{prov['notice']}\")")
    lines += ["- `targets.csv`: the published figures with their constraint annotation",
              "- `verification.csv`: published vs reproduced for every checkable figure",
              "- `provenance.json`: this record, machine-readable", ""]
    lines += ["## Seed, solver, tolerances", "",
              f"- seed: `{prov['seed']}` (every random step uses its own "
              "`numpy.random.Generator` derived from it)",
              f"- solver: {prov['solver']['implementation']}; {prov['solver']['method']}",
              f"- order: {prov['solver']['order']}",
              f"- tolerance: {prov['tolerances']['default']}", ""]
    v = prov["verification"]
    lines += ["## Verification", "",
              f"{v['passed']} of {v['checked']} checked figures reproduced within tolerance "
              f"({v['design']}); failures outside the documented exclusions: "
              f"{v['failed_not_excluded']}; excluded conflicting figures: "
              f"{', '.join(v['excluded']) or 'none'}.", ""]
    lines += ["## Exceptions to the rounding rule and conflict resolutions", "",
              "| id | wave | role | interval | rule | resolution |", "|---|---|---|---|---|---|"]
    for e in prov["tolerances"]["exceptions"]:
        interval = f"[{e['lower']}, {e['upper']})" if e["lower"] else ""
        lines.append(f"| {e['id']} | {e['wave']} | {e['role']} | {interval} | "
                     f"{e['tolerance_rule']} | {e['resolution']} |")
    lines += ["", "## Strata and design columns", ""]
    for wave, w in sorted(prov["waves"].items()):
        lines += [f"### {wave}", "", f"- allocation: {w['allocation']}",
                  f"- N_h source: {w['population_source']}", "",
                  "| stratum | code | N_h | n_h | weight |", "|---|---|---|---|---|"]
        for name, s in w["strata"].items():
            lines.append(f"| {name} | {s['code']} | {s['N_h']:.0f} | {s['n_h']} | "
                         f"{s['weight']:.4f} |")
        lines += ["", "| column | constrained by published figures | note |", "|---|---|---|"]
        for col, c in w["columns"].items():
            ids = ", ".join(c["constrained_by"]) or "—"
            lines.append(f"| `{col}` | {ids} | {c.get('note', '')} |")
        lines.append("")
    lines += ["## Assumptions (configurable knobs and their values)", "",
              "Every knob is a field of `surveylib.reconstruct.ReconstructionConfig`; the values "
              "below are the ones used for these files; the last column says what each rests on "
              "(ASSUMPTION: no source).", "", "| knob | value | source |", "|---|---|---|"]
    status = prov.get("config_status", {})
    for k, val in prov["config"].items():
        lines.append(f"| `{k}` | `{_short(val)}` | {status.get(k, '')} |")
    lines.append("")
    return "\n".join(lines)


def _short(val) -> str:
    import json

    return json.dumps(val, sort_keys=True, ensure_ascii=False).replace("|", "\\|")
