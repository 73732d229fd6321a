"""Respondents and items: counts expanded to rows, demographics drawn from priors, and the item
problems conditioned on the fixed core (see :mod:`.build` for the steps)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ReconstructionError
from . import milp
from ._alloc import (
    assign_within_groups,
    generator,
    gumbel,
    largest_remainder,
    perturbed,
    split_by_rank,
)
from .config import ReconstructionConfig
from .model import (
    AGE_BANDS,
    ATT_CODES,
    EDU_ITEMS,
    INTEREST_ITEMS,
    LABOUR_CODES,
    N_ATT,
    N_E,
    N_H,
    REASONS,
    describe_tags,
    familiarity_groups,
    item_sets,
    number,
    wave_targets,
)


def expand(counts: np.ndarray, wave: int, cfg: ReconstructionConfig) -> pd.DataFrame:
    """One row per counted respondent, in a seeded random order grouped by stratum."""
    flat = counts.reshape(-1)
    idx = np.repeat(np.arange(flat.size), flat)
    h, rem = np.divmod(idx, N_E * N_ATT)
    e, a = np.divmod(rem, N_ATT)
    rng = generator(cfg.seed, wave, 1)
    perm = rng.permutation(len(idx))
    h, e, a = h[perm], e[perm], a[perm]
    order = np.argsort(h, kind="stable")
    return pd.DataFrame({
        "resp_id": np.arange(1, len(idx) + 1, dtype=np.int64),
        "wave": np.full(len(idx), wave, dtype=np.int64),
        "stratum": (h[order] + 1).astype(np.int64),
        "ethnic": (e[order] + 1).astype(np.int64),
        "attitude": np.asarray(ATT_CODES, dtype=np.int64)[a[order]],
    })


def add_demographics(df: pd.DataFrame, wave: int, cfg: ReconstructionConfig) -> pd.DataFrame:
    """Age group, age, education, sex and settlement from the configured priors.

    Rank-based: each margin is met exactly (largest-remainder counts), and the order in which
    respondents receive the categories follows a noisy key, so that the more tolerant are
    younger and more educated (2012 claims T155-T157) with strength ``tilt_*``.
    """
    n = len(df)
    score = np.where(df["attitude"].to_numpy() == 8, 3, df["attitude"].to_numpy()).astype(float)
    rng = generator(cfg.seed, wave, 2)
    age_prior = cfg.age_prior[wave]
    groups = np.array(sorted(age_prior), dtype=np.int64)
    age_counts = largest_remainder(n, [age_prior[g] for g in groups])
    key = cfg.tilt_age_attitude * (score - 3.0) + rng.logistic(size=n)
    if groups[0] == 1 and cfg.get("youngest_attitudes", "tilted") == "random":
        # the under-18 group (age group 1) drawn at random, the adults by rank on attitude
        agegrp = np.empty(n, dtype=np.int64)
        young = split_by_rank(rng.uniform(size=n), np.array([age_counts[0], n - age_counts[0]]))
        agegrp[young == 0] = groups[0]
        agegrp[young == 1] = groups[1:][split_by_rank(key[young == 1], age_counts[1:])]
    else:
        agegrp = groups[split_by_rank(key, age_counts)]
    # exact age: spread systematically over the band (youngest band starts at the minimum age)
    lo = np.array([AGE_BANDS[g][0] for g in agegrp])  # type: ignore[index]  # numpy ints key as ints
    width = np.array([AGE_BANDS[g][1] - AGE_BANDS[g][0] + 1 for g in agegrp])  # type: ignore[index]  # likewise
    rank = rank_in(agegrp, rng.uniform(size=n))
    size = np.bincount(agegrp, minlength=7)[agegrp]
    age = lo + (rank * width) // np.maximum(size, 1)
    # education: 15-17 are in school (educ 1); adults by prior, more tolerant -> higher
    educ = np.ones(n, dtype=np.int64)
    adult = agegrp >= 2
    eprior = cfg.educ_prior[wave]
    levels = np.array(sorted(eprior), dtype=np.int64)
    ecounts = largest_remainder(int(adult.sum()), [eprior[k] for k in levels])
    ekey = -cfg.tilt_educ_attitude * (score[adult] - 3.0) + rng.logistic(size=int(adult.sum()))
    educ[adult] = levels[split_by_rank(ekey, ecounts)]
    # sex: exact share, random
    female = largest_remainder(n, [1 - cfg.female_share, cfg.female_share])
    sex = np.array([1, 2], dtype=np.int64)[split_by_rank(rng.uniform(size=n), female)]
    # settlement: Almaty city is a city of republican significance; elsewhere a fixed share
    stratum = df["stratum"].to_numpy()
    n_h = np.bincount(stratum, minlength=7)
    want = np.array([0] + [n_h[h] if h == 6 else int(round(n_h[h] * cfg.settlement_centre_share))
                           for h in cfg.study.stratum_codes])
    centre = assign_within_groups(stratum, want, rng.uniform(size=n))
    out = df.assign(settlement=np.where(centre, 1, 2).astype(np.int64), sex=sex,
                    age=age.astype(np.int64), agegrp=agegrp, educ=educ)
    return out


def rank_in(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    from ._alloc import rank_within

    return rank_within(groups, -keys)  # ascending keys -> rank 0 first


# --------------------------------------------------------------------------- item problems
def _share_rows_const(p: milp.CountProblem, tid: str, coef, den: float, lower: float,
                      upper: float) -> None:
    p.add(tid, coef, lo=lower * den, hi=upper * den - milp.STRICT)


def add_familiarity(df: pd.DataFrame, wave: int, targets: pd.DataFrame,
                    cfg: ReconstructionConfig) -> pd.DataFrame:
    """Yes/no familiarity items whose group means meet the published figures (Diagram 7.1)."""
    sets = {k: set(v) for k, v in item_sets(wave, cfg).items()}
    groups = familiarity_groups(wave, cfg)
    items = [i for g in ("modern", "culture") for i in groups[g]]
    n = len(df)
    tw = wave_targets(targets, wave)
    tf = tw[tw["variable"] == "familiarity"]
    # prior: profile weights scaled to the published group means
    w = np.array([cfg.familiarity_prior.get(i, 1.0) for i in items], dtype=float)
    prior = np.zeros(len(items))
    for g in ("modern", "culture"):
        sel = tf[tf["level"] == g]
        mean = number(sel["value"].iloc[0]) / 100 if not sel.empty else 0.2
        idx = [k for k, i in enumerate(items) if i in sets[g]]
        prior[idx] = n * mean * w[idx] / w[idx].mean()
    p = milp.CountProblem.empty(items, perturbed(prior, cfg, wave, 3), float(n))
    for row in tf.to_dict("records"):
        if row["level"] not in sets:
            raise ReconstructionError(f"{row['id']}: unknown familiarity group {row['level']!r}.")
        coef = np.array([1.0 if i in sets[row["level"]] else 0.0 for i in items])
        _share_rows_const(p, row["id"], coef, n * coef.sum(), number(row["lower"]) / 100,
                          number(row["upper"]) / 100)
    y = milp.solve(p, describe=describe_tags(targets), context=f"wave {wave} familiarity",
                   **milp.solver_options(cfg))
    rng = generator(cfg.seed, wave, 3)
    educ = df["educ"].to_numpy().astype(float)
    out = {}
    zeros = np.zeros(n, dtype=np.int64)
    for k, item in enumerate(items):
        keys = cfg.tilt_fam_educ * educ + gumbel(rng, n)
        out[item] = assign_within_groups(zeros, np.array([y[k]]), keys).astype(np.int64)
    return df.assign(**out)


def add_reasons(df: pd.DataFrame, wave: int, targets: pd.DataFrame,
                cfg: ReconstructionConfig) -> pd.DataFrame:
    """Multiple-response reasons: totals and stratum shares (2012 concerns) met exactly."""
    n = len(df)
    stratum = df["stratum"].to_numpy()
    n_h = np.bincount(stratum, minlength=7)[1:].astype(float)
    tw = wave_targets(targets, wave)
    tr = tw[tw["variable"].isin(REASONS)]
    names = [(r, h) for r in REASONS for h in cfg.study.stratum_codes]
    share = {}
    for r in REASONS:
        sel = tr[(tr["variable"] == r) & (tr["domain_var"] == "")]
        if not sel.empty:
            share[r] = number(sel["value"].iloc[0]) / 100
        elif r in cfg.reasons_prior.get(wave, {}):
            share[r] = float(cfg.reasons_prior[wave][r])
        else:
            raise ReconstructionError(
                f"wave {wave}: no published figure and no reasons_prior for {r}; add one to the "
                "config."
            )
    prior = np.array([share[r] * n_h[h - 1] for r, h in names])
    ub = np.array([n_h[h - 1] for r, h in names])
    p = milp.CountProblem.empty(names, perturbed(prior, cfg, wave, 4), ub)
    for row in tr.to_dict("records"):
        coef = np.array([1.0 if r == row["variable"] else 0.0 for r, h in names])
        den = float(n)
        if row["domain_var"] == "stratum":
            hh = int(row["domain_level"])
            coef *= np.array([1.0 if h == hh else 0.0 for r, h in names])
            den = n_h[hh - 1]
        _share_rows_const(p, row["id"], coef, den, number(row["lower"]) / 100,
                          number(row["upper"]) / 100)
    y = milp.solve(p, describe=describe_tags(targets), context=f"wave {wave} reasons",
                   **milp.solver_options(cfg)).reshape(len(REASONS), N_H)
    rng = generator(cfg.seed, wave, 4)
    score = np.where(df["attitude"].to_numpy() == 8, 3, df["attitude"].to_numpy()).astype(float)
    tilt = {"reason_property": 1.0, "reason_citizenship": 1.0, "reason_marriage": 1.0}
    out = {}
    for k, r in enumerate(REASONS):
        keys = cfg.tilt_reasons_attitude * tilt.get(r, 0.0) * (score - 3.0) + gumbel(rng, n)
        counts = np.concatenate([[0], y[k]])
        out[r] = assign_within_groups(stratum, counts, keys).astype(np.int64)
    return df.assign(**out)


def add_labour(df: pd.DataFrame, wave: int, targets: pd.DataFrame,
               cfg: ReconstructionConfig) -> pd.DataFrame:
    """Single-response labour-market item; base = all respondents (don't know included)."""
    n = len(df)
    tw = wave_targets(targets, wave)
    tl = tw[tw["variable"] == "labour"]
    prior_share = {}
    for c in (1, 2):
        sel = tl[tl["level"] == str(c)]
        if sel.empty:
            raise ReconstructionError(f"wave {wave}: no published labour share for code {c}.")
        prior_share[c] = number(sel["value"].iloc[0]) / 100
    rest = 1 - prior_share[1] - prior_share[2]
    lp = cfg.labour_prior[wave]
    tot = sum(lp.values())
    for c in (3, 4, 8):
        prior_share[c] = rest * lp[c] / tot
    prior = np.array([prior_share[c] * n for c in LABOUR_CODES])
    p = milp.CountProblem.empty(list(LABOUR_CODES), perturbed(prior, cfg, wave, 5), float(n))
    p.add_equal("sample size", np.ones(len(LABOUR_CODES)), float(n))
    for row in tl.to_dict("records"):
        coef = np.array([1.0 if str(c) == row["level"] else 0.0 for c in LABOUR_CODES])
        _share_rows_const(p, row["id"], coef, float(n), number(row["lower"]) / 100,
                          number(row["upper"]) / 100)
    y = milp.solve(p, describe=describe_tags(targets), context=f"wave {wave} labour",
                   **milp.solver_options(cfg))
    rng = generator(cfg.seed, wave, 5)
    score = np.where(df["attitude"].to_numpy() == 8, 3, df["attitude"].to_numpy()).astype(float)
    # 'tough competition' goes preferentially to negative attitudes; the rest at random
    keys = -cfg.tilt_labour_attitude * (score - 3.0) + rng.logistic(size=n)
    first = split_by_rank(keys, np.array([y[0], n - y[0]]))
    labour = np.empty(n, dtype=np.int64)
    labour[first == 0] = 1
    others = np.flatnonzero(first == 1)
    cat = split_by_rank(rng.uniform(size=len(others)), y[1:])
    labour[others] = np.asarray(LABOUR_CODES[1:])[cat]
    return df.assign(labour=labour)


def add_education_items(df: pd.DataFrame, wave: int, targets: pd.DataFrame,
                        cfg: ReconstructionConfig) -> pd.DataFrame:
    """Diagram 6.1 items (2012): totals and Almaty values exact, claims T197/T203/T205 imposed."""
    tw = wave_targets(targets, wave)
    te = tw[tw["variable"].isin(EDU_ITEMS)]
    if te.empty:
        return df
    n = len(df)
    stratum = df["stratum"].to_numpy() - 1
    ethnic = df["ethnic"].to_numpy() - 1
    g5 = np.clip(df["agegrp"].to_numpy() - 2, 0, 4)  # 0 = 15-29, 1 = 30-39, ..., 4 = 60+
    cell = (stratum * N_E + ethnic) * 5 + g5
    n_cells = N_H * N_E * 5
    m = np.bincount(cell, minlength=n_cells).astype(float)
    ch, rem = np.divmod(np.arange(n_cells), N_E * 5)
    ce, cg = np.divmod(rem, 5)
    mult = cfg.education_multipliers
    factor = (np.where(ce == 0, mult["kazakh"], 1.0) * np.where(cg == 0, mult["young"], 1.0)
              * np.where(ch == 5, mult["almaty"], 1.0))
    total = {}
    for item in EDU_ITEMS:
        sel = te[(te["variable"] == item) & (te["domain_var"] == "")]
        if sel.empty:
            raise ReconstructionError(f"wave {wave}: no published total for {item}.")
        total[item] = number(sel["value"].iloc[0]) / 100
    prior = np.concatenate([
        m * factor * total[item] * n / float((m * factor).sum()) for item in EDU_ITEMS])
    ub = np.tile(m, len(EDU_ITEMS))
    names = [(item, int(c)) for item in EDU_ITEMS for c in range(n_cells)]
    p = milp.CountProblem.empty(names, perturbed(prior, cfg, wave, 6), ub)
    item_of = np.repeat(np.arange(len(EDU_ITEMS)), n_cells)
    h_of, e_of, g_of = np.tile(ch, len(EDU_ITEMS)), np.tile(ce, len(EDU_ITEMS)), np.tile(cg, len(EDU_ITEMS))
    n_h = np.bincount(stratum, minlength=N_H).astype(float)
    for row in te.to_dict("records"):
        coef = (item_of == EDU_ITEMS.index(row["variable"])).astype(float)
        den = float(n)
        if row["domain_var"] == "stratum":
            hh = int(row["domain_level"]) - 1
            coef *= (h_of == hh)
            den = n_h[hh]
        _share_rows_const(p, row["id"], coef, den, number(row["lower"]) / 100,
                          number(row["upper"]) / 100)
    claims = set(targets.loc[(targets["statistic"] == "claim") & (targets["wave"] == str(wave)),
                             "id"])
    mg = cfg.claim_margin
    if cfg.use_claims and "T197" in claims:  # Almaty highest on every item
        for k in range(len(EDU_ITEMS)):
            a_coef = ((item_of == k) & (h_of == 5)) / n_h[5]
            for h in range(N_H - 1):
                p.add("T197", a_coef - ((item_of == k) & (h_of == h)) / n_h[h], lo=mg)
    interest = np.isin(item_of, [EDU_ITEMS.index(i) for i in INTEREST_ITEMS])
    if cfg.use_claims and "T203" in claims:  # 15-29 highest pooled interest
        m_g = np.bincount(g5, minlength=5).astype(float) * len(INTEREST_ITEMS)
        young = (interest & (g_of == 0)) / m_g[0]
        for g in range(1, 5):
            if m_g[g] > 0:
                p.add("T203", young - (interest & (g_of == g)) / m_g[g], lo=mg)
    if cfg.use_claims and "T205" in claims:  # Kazakhs almost twice the others
        m_k = float((ethnic == 0).sum()) * len(INTEREST_ITEMS)
        m_nk = float((ethnic != 0).sum()) * len(INTEREST_ITEMS)
        kaz, oth = (interest & (e_of == 0)) / m_k, (interest & (e_of != 0)) / m_nk
        r_lo, r_hi = cfg.kazakh_ratio
        p.add("T205", kaz - r_lo * oth, lo=0.0)
        p.add("T205", kaz - r_hi * oth, hi=-milp.STRICT)
    y = milp.solve(p, describe=describe_tags(targets), context=f"wave {wave} education items",
                   **milp.solver_options(cfg)).reshape(len(EDU_ITEMS), n_cells)
    rng = generator(cfg.seed, wave, 6)
    educ = df["educ"].to_numpy()
    out = {}
    for k, item in enumerate(EDU_ITEMS):
        keys = cfg.tilt_edu_educ * (educ >= 2) + gumbel(rng, n)
        out[item] = assign_within_groups(cell, y[k], keys).astype(np.int64)
    return df.assign(**out)
