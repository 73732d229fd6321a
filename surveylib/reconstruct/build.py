"""Build reconstructed respondent files for the 2007 and 2012 waves.

Steps per wave (2012 first, because its regional figures are richer and the cross-wave claims
are then linear in the 2007 counts):

1. **core**: integer counts ``x[stratum, ethnic, attitude]`` meeting every attitude figure
   (Table 7.1, Diagrams 7.2/7.3 text), at minimum L1 distance from the prior
   ``n_h(proportional) x ethnic mix (raked to Table 7.1's group sizes) x Table 7.1 distribution``;
   stratum sizes are fixed at proportional allocation when that is feasible, otherwise left to the
   solver (recorded in the provenance).
2. **respondents**: counts expanded to rows; age group, education, sex, exact age and settlement
   are drawn from documented priors by rank-based assignment (exact margins, associations set by
   the ``tilt_*`` knobs, so that the published subgroup claims hold).
3. **items**: familiarity items, reasons, labour market and (2012) Diagram 6.1 items are solved
   as separate small integer problems conditioned on the fixed core, then assigned to respondents
   within cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from ..errors import ReconstructionError
from . import milp
from ._alloc import (
    assign_within_groups,
    generator,
    gumbel,
    largest_remainder,
    split_by_rank,
)
from .config import ReconstructionConfig, stratum_population

ATT_CODES = (1, 2, 3, 4, 5, 8)  # 8 = don't know (excluded from valid percents)
N_ATT = len(ATT_CODES)
N_H, N_E = 6, 3
AGE_BANDS = {1: (15, 17), 2: (18, 29), 3: (30, 39), 4: (40, 49), 5: (50, 59), 6: (60, 84)}
EDU_ITEMS = ("edu_acq", "edu_self", "edu_child", "sino_self", "sino_child")
INTEREST_ITEMS = ("edu_self", "edu_child", "sino_self", "sino_child")
REASONS = ("reason_work", "reason_trade", "reason_property", "reason_citizenship",
           "reason_marriage", "reason_other")
LABOUR_CODES = (1, 2, 3, 4, 8)


@dataclass
class WaveResult:
    """Microdata of one wave and the record of how it was made."""

    wave: int
    data: pd.DataFrame
    population: np.ndarray
    population_source: str
    allocation: str
    counts: np.ndarray  # core counts [stratum, ethnic, attitude code]
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------- targets helpers
def _num(v: str) -> float:
    return float(Decimal(v))


def wave_targets(targets: pd.DataFrame, wave: int, *, roles=("constraint",)) -> pd.DataFrame:
    return targets[(targets["wave"] == str(wave)) & targets["role"].isin(roles)]


def describe_tags(targets: pd.DataFrame):
    """Render conflicting tags as 'T091 (\"Poor 15 28 ...\", 16 percent, ethnicity=Other)'."""
    by_id = targets.set_index("id")

    def render(tags):
        parts = []
        for tag in tags:
            if tag in by_id.index:
                r = by_id.loc[tag]
                parts.append(f"{tag} ({r['wave']} {r['domain']}: {r['value']} {r['unit']}, "
                             f"quote \"{r['quote']}\", tolerance [{r['lower']}, {r['upper']}))")
            else:
                parts.append(tag)
        return "; ".join(parts)

    return render


def codebook(wave: int, cfg: ReconstructionConfig):
    """The wave's codebook from the study's instruments folder."""
    from ..instruments import load_codebook

    return load_codebook(wave, instruments_dir=cfg.study.instruments_dir())


def familiarity_groups(wave: int, cfg: ReconstructionConfig) -> dict:
    """Item groups of the ``fam_*`` items from the wave's codebook (or the study's default)."""
    groups: dict = {}
    for name, var in codebook(wave, cfg).variables.items():
        if name.startswith("fam_") and var.group:
            groups.setdefault(str(var.group), []).append(name)
    if groups.get("modern") and groups.get("culture"):
        return {k: tuple(v) for k, v in groups.items()}
    return {k: tuple(v) for k, v in cfg.study.familiarity_default.items()}


def item_sets(wave: int, cfg: ReconstructionConfig) -> dict:
    """The familiarity item sets a published figure can average: the groups, ``all`` and the
    study's knob-named sets (``study.item_sets``), each checked to lie within its group."""
    groups = familiarity_groups(wave, cfg)
    items = [i for g in ("modern", "culture") for i in groups[g]]
    sets = {"modern": tuple(groups["modern"]), "culture": tuple(groups["culture"]),
            "all": tuple(items)}
    for name, rule in cfg.study.item_sets.items():
        chosen = tuple(getattr(cfg, rule["knob"]))
        missing = set(chosen) - set(groups.get(rule.get("within"), items))
        if missing:
            raise ReconstructionError(
                f"{rule['knob']} {sorted(missing)} are not {rule.get('within', 'familiarity')} "
                f"items of codebook_{wave}.", parameter=rule["knob"], value=sorted(missing))
        sets[name] = chosen
    return sets


def dont_know_cells(wave: int, cfg: ReconstructionConfig) -> list:
    """``(tag, group index, count)`` of the "don't know" answers the study's knobs allow."""
    out = []
    groups = tuple(cfg.study.ethnic)
    for knob, choices in cfg.study.dont_know.items():
        choice = str(cfg.get(knob))
        for cell in choices.get(choice, ()):
            if int(cell["wave"]) == wave:
                out.append((f"config:{knob}={choice}", groups.index(int(cell["ethnic"])),
                            int(cell["count"])))
    return out


# --------------------------------------------------------------------------- core problem
def _cell_index(h, e, a) -> int:
    return (h * N_E + e) * N_ATT + a


def _mask(h=None, e=None, a=None) -> np.ndarray:
    m = np.zeros((N_H, N_E, N_ATT))
    hs = slice(None) if h is None else ([h] if np.isscalar(h) else list(h))
    es = slice(None) if e is None else ([e] if np.isscalar(e) else list(e))
    a_ = slice(None) if a is None else ([a] if np.isscalar(a) else list(a))
    m[np.ix_(*(range(N_H) if isinstance(hs, slice) else hs,
               range(N_E) if isinstance(es, slice) else es,
               range(N_ATT) if isinstance(a_, slice) else a_))] = 1.0
    return m.reshape(-1)


VALID = [ATT_CODES.index(k) for k in (1, 2, 3, 4, 5)]
N_CELLS = N_H * N_E * N_ATT
SCORES = np.array([1, 2, 3, 4, 5, 0], dtype=float)


def _domain_index(row) -> dict:
    if row["domain_var"] == "ethnic":
        return {"e": int(row["domain_level"]) - 1}
    if row["domain_var"] == "stratum":
        return {"h": int(row["domain_level"]) - 1}
    return {}


def _att_levels(level: str) -> list:
    return [ATT_CODES.index(int(k)) for k in level.split("|")]


def _core_prior(n: int, pop: np.ndarray, n_e: np.ndarray, cfg: ReconstructionConfig,
                att_dist: np.ndarray) -> np.ndarray:
    n_h = n * pop / pop.sum()
    mix = np.array([cfg.ethnic_mix[h] for h in cfg.study.stratum_codes], dtype=float)
    m = n_h[:, None] * mix / mix.sum(axis=1, keepdims=True)
    for _ in range(200):  # IPF on the stratum x ethnic margins
        m *= (n_e / m.sum(axis=0))[None, :]
        m *= (n_h / m.sum(axis=1))[:, None]
    prior = m[:, :, None] * att_dist[None, :, :]
    return prior.reshape(-1)


def _table71(tw: pd.DataFrame) -> np.ndarray:
    """Attitude distribution (including a zero 'don't know') per ethnic group from Table 7.1."""
    dist = np.zeros((N_E, N_ATT))
    for e in range(N_E):
        for k in (1, 2, 3, 4, 5):
            sel = tw[(tw["statistic"] == "share") & (tw["variable"] == "attitude")
                     & (tw["domain_var"] == "ethnic") & (tw["domain_level"] == str(e + 1))
                     & (tw["level"] == str(k))]
            if sel.empty:
                raise ReconstructionError(
                    f"no Table 7.1 share for ethnic={e + 1}, attitude={k}: cannot build the prior."
                )
            dist[e, ATT_CODES.index(k)] = _num(sel["value"].iloc[0])
        dist[e] /= dist[e].sum()
    return dist


def core_problem(wave: int, targets: pd.DataFrame, cfg: ReconstructionConfig, pop: np.ndarray,
                 *, sizes=None, other: WaveResult | None = None) -> milp.CountProblem:
    """The attitude problem of one wave (``sizes`` fixes the valid counts per stratum)."""
    tw = wave_targets(targets, wave)
    counts = tw[tw["statistic"] == "count"]
    tot = counts[counts["domain_var"] == ""]
    if tot.empty:
        raise ReconstructionError(f"wave {wave}: no published sample size among the targets.")
    n = int(_num(tot["value"].iloc[0]))
    n_e = np.zeros(N_E)
    for e in range(N_E):
        sel = counts[(counts["domain_var"] == "ethnic") & (counts["domain_level"] == str(e + 1))]
        if sel.empty:
            raise ReconstructionError(f"wave {wave}: no published group size for ethnic={e + 1}.")
        n_e[e] = _num(sel["value"].iloc[0])
    prior = _core_prior(n, pop, n_e, cfg, _table71(tw))
    names = [(cfg.study.stratum_codes[h], e + 1, ATT_CODES[a]) for h in range(N_H) for e in range(N_E)
             for a in range(N_ATT)]
    # auxiliary integer counts for stratum-level figures of the other items (concerns, Diagram
    # 6.1 Almaty values): they make the stratum size admit an integer count in the interval
    aux = tw[(tw["statistic"] == "share") & (tw["domain_var"] == "stratum")
             & (tw["variable"] != "attitude")]
    names += [("aux", r) for r in aux["id"]]
    prior = np.concatenate([prior, np.zeros(len(aux))])
    ub = np.full(len(names), float(n))
    dk = ATT_CODES.index(8)
    dont_know = dont_know_cells(wave, cfg)
    allowed = {e for _, e, _ in dont_know}
    for h in range(N_H):
        for e in range(N_E):
            if e not in allowed:
                ub[_cell_index(h, e, dk)] = 0.0
    p = milp.CountProblem.empty(names, prior, ub)
    for tag, e, count in dont_know:
        p.add_equal(tag, _mask(e=e, a=dk), float(count))
    for j, row in enumerate(aux.to_dict("records")):
        num = np.zeros(len(names))
        num[N_CELLS + j] = 1.0
        den = np.concatenate([_mask(h=int(row["domain_level"]) - 1), np.zeros(len(aux))])
        p.add_share(row["id"], num, den, _num(row["lower"]) / 100, _num(row["upper"]) / 100)
    for row in tw.to_dict("records"):
        tid, stat = row["id"], row["statistic"]
        dom = _domain_index(row)
        if stat == "count":
            p.add_equal(tid, _mask(**dom), _num(row["value"]))
        elif row["variable"] != "attitude":
            continue
        elif stat == "share":
            num = _mask(**dom, a=_att_levels(row["level"]))
            den = _mask(**dom, a=VALID)
            p.add_share(tid, num, den, _num(row["lower"]) / 100, _num(row["upper"]) / 100)
        elif stat == "mean":
            num = _mask(**dom) * np.tile(SCORES, N_H * N_E)
            den = _mask(**dom, a=VALID)
            p.add_share(tid, num, den, _num(row["lower"]), _num(row["upper"]))
    for knob, where in cfg.study.mean_bounds.items():
        lo, hi = getattr(cfg, knob)
        if int(where["wave"]) != wave or (lo is None and hi is None):
            continue
        h = cfg.study.stratum_codes.index(int(where["stratum"]))
        num = _mask(h=h) * np.tile(SCORES, N_H * N_E)
        p.add_share(f"config:{knob}", num, _mask(h=h, a=VALID),
                    -np.inf if lo is None else lo, np.inf if hi is None else hi,
                    strict_upper=False)
    if sizes is not None:
        for h in range(N_H):
            p.add_equal("allocation:stratum sizes", _mask(h=h, a=VALID), float(sizes[h]))
    if other is not None:
        _cross_wave_rows(p, wave, targets, cfg, other, sizes)
    return p


def _valid_by_stratum(counts: np.ndarray) -> np.ndarray:
    return counts[:, :, VALID].sum(axis=(1, 2)).astype(float)


def _cross_wave_rows(p, wave, targets, cfg, other: WaveResult, sizes) -> None:
    """Rows linking this (earlier) wave to the already solved ``other`` wave."""
    oc = other.counts
    o_valid = oc[:, :, VALID].sum(axis=1)  # [h, valid att]
    # T121: change in share indifferent, percentage points (row tagged in the later wave)
    diff = targets[(targets["statistic"] == "diff") & (targets["role"] == "constraint")]
    for row in diff.to_dict("records"):
        lvl = [ATT_CODES.index(int(k)) for k in row["level"].split("|")]
        s_other = oc[:, :, lvl].sum() / oc[:, :, VALID].sum()
        lo_pp, hi_pp = _num(row["lower"]) / 100, _num(row["upper"]) / 100
        # other - this in [lo, hi)  <=>  this in (other - hi, other - lo]
        p.add_share(row["id"], _mask(a=lvl), _mask(a=VALID), s_other - hi_pp + 1e-7,
                    s_other - lo_pp, strict_upper=False)
    if not cfg.use_claims or sizes is None:
        return
    valid_this = np.asarray(sizes, dtype=float)
    pos, neg = [ATT_CODES.index(1), ATT_CODES.index(2)], [ATT_CODES.index(4), ATT_CODES.index(5)]
    o_tot = o_valid.sum(axis=1)
    o_pos = o_valid[:, [0, 1]].sum(axis=1) / o_tot
    o_neg = o_valid[:, [3, 4]].sum(axis=1) / o_tot
    claims = set(targets.loc[targets["statistic"] == "claim", "id"])
    m = cfg.claim_margin
    if "T130" in claims:  # positive share does not rise in N, S, W, Almaty
        for h in (0, 2, 3, 5):
            p.add_share("T130", _mask(h=h, a=pos), _mask(h=h, a=VALID), o_pos[h], np.inf)
    for tid, h in (("T123", 0), ("T124", 3), ("T125", 5)):
        if tid not in claims:
            continue
        for k in (1, 2, 4):  # Eastern, Southern, Central
            # (o_neg_h - neg_h/v_h) >= (o_neg_k - neg_k/v_k) + m
            coef = _mask(h=k, a=neg) / valid_this[k] - _mask(h=h, a=neg) / valid_this[h]
            p.add(tid, coef, lo=m + o_neg[k] - o_neg[h])


def solve_core(wave: int, targets: pd.DataFrame, cfg: ReconstructionConfig, pop: np.ndarray,
               other: WaveResult | None = None) -> tuple[np.ndarray, str]:
    """Core counts ``[stratum, ethnic, attitude]`` and a description of the allocation used."""
    describe = describe_tags(targets)
    ctx = f"wave {wave} attitudes"
    tw = wave_targets(targets, wave)
    tot = tw[(tw["statistic"] == "count") & (tw["domain_var"] == "")]
    n = int(_num(tot["value"].iloc[0])) if not tot.empty else 0
    n_dk = sum(count for _, _, count in dont_know_cells(wave, cfg))
    proportional = largest_remainder(n - n_dk, pop)
    fixed = core_problem(wave, targets, cfg, pop, sizes=proportional)
    if milp.feasible(fixed, time_limit=cfg.solver_time_limit):
        sizes, allocation = proportional, "proportional to N_h (largest remainder), fixed"
    else:
        # stage 1: stratum sizes nearest to proportional allocation that admit a solution
        base = core_problem(wave, targets, cfg, pop)
        size_map = np.vstack([_mask(h=h, a=VALID) for h in range(N_H)])
        size_map = np.hstack([size_map, np.zeros((N_H, base.nvar - N_CELLS))])
        free = milp.solve(base, describe=describe, context=ctx, time_limit=cfg.solver_time_limit,
                          terms=[(size_map, proportional, 1.0)])
        sizes = _valid_by_stratum(free[:N_CELLS].reshape(N_H, N_E, N_ATT)).astype(np.int64)
        allocation = ("solver-chosen: proportional allocation cannot meet the regional figures; "
                      "sizes at minimum L1 distance from the proportional prior")
    final = core_problem(wave, targets, cfg, pop, sizes=sizes, other=other)
    cells = np.eye(final.nvar)[:N_CELLS]
    x = milp.solve(final, describe=describe, context=ctx, time_limit=cfg.solver_time_limit,
                   terms=[(cells, final.prior[:N_CELLS], 1.0)])
    return x[:N_CELLS].reshape(N_H, N_E, N_ATT), allocation


# --------------------------------------------------------------------------- respondents
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
    agegrp = groups[split_by_rank(key, age_counts)]
    # exact age: spread systematically over the band (youngest band starts at the minimum age)
    lo = np.array([AGE_BANDS[g][0] for g in agegrp])
    width = np.array([AGE_BANDS[g][1] - AGE_BANDS[g][0] + 1 for g in agegrp])
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
        mean = _num(sel["value"].iloc[0]) / 100 if not sel.empty else 0.2
        idx = [k for k, i in enumerate(items) if i in sets[g]]
        prior[idx] = n * mean * w[idx] / w[idx].mean()
    p = milp.CountProblem.empty(items, prior, float(n))
    for row in tf.to_dict("records"):
        if row["level"] not in sets:
            raise ReconstructionError(f"{row['id']}: unknown familiarity group {row['level']!r}.")
        coef = np.array([1.0 if i in sets[row["level"]] else 0.0 for i in items])
        _share_rows_const(p, row["id"], coef, n * coef.sum(), _num(row["lower"]) / 100,
                          _num(row["upper"]) / 100)
    y = milp.solve(p, describe=describe_tags(targets), context=f"wave {wave} familiarity",
                   time_limit=cfg.solver_time_limit)
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
            share[r] = _num(sel["value"].iloc[0]) / 100
        elif r in cfg.reasons_prior.get(wave, {}):
            share[r] = float(cfg.reasons_prior[wave][r])
        else:
            raise ReconstructionError(
                f"wave {wave}: no published figure and no reasons_prior for {r}; add one to the "
                "config."
            )
    prior = np.array([share[r] * n_h[h - 1] for r, h in names])
    ub = np.array([n_h[h - 1] for r, h in names])
    p = milp.CountProblem.empty(names, prior, ub)
    for row in tr.to_dict("records"):
        coef = np.array([1.0 if r == row["variable"] else 0.0 for r, h in names])
        den = float(n)
        if row["domain_var"] == "stratum":
            hh = int(row["domain_level"])
            coef *= np.array([1.0 if h == hh else 0.0 for r, h in names])
            den = n_h[hh - 1]
        _share_rows_const(p, row["id"], coef, den, _num(row["lower"]) / 100,
                          _num(row["upper"]) / 100)
    y = milp.solve(p, describe=describe_tags(targets), context=f"wave {wave} reasons",
                   time_limit=cfg.solver_time_limit).reshape(len(REASONS), N_H)
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
        prior_share[c] = _num(sel["value"].iloc[0]) / 100
    rest = 1 - prior_share[1] - prior_share[2]
    lp = cfg.labour_prior[wave]
    tot = sum(lp.values())
    for c in (3, 4, 8):
        prior_share[c] = rest * lp[c] / tot
    prior = np.array([prior_share[c] * n for c in LABOUR_CODES])
    p = milp.CountProblem.empty(list(LABOUR_CODES), prior, float(n))
    p.add_equal("sample size", np.ones(len(LABOUR_CODES)), float(n))
    for row in tl.to_dict("records"):
        coef = np.array([1.0 if str(c) == row["level"] else 0.0 for c in LABOUR_CODES])
        _share_rows_const(p, row["id"], coef, float(n), _num(row["lower"]) / 100,
                          _num(row["upper"]) / 100)
    y = milp.solve(p, describe=describe_tags(targets), context=f"wave {wave} labour",
                   time_limit=cfg.solver_time_limit)
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
        total[item] = _num(sel["value"].iloc[0]) / 100
    prior = np.concatenate([
        m * factor * total[item] * n / float((m * factor).sum()) for item in EDU_ITEMS])
    ub = np.tile(m, len(EDU_ITEMS))
    names = [(item, int(c)) for item in EDU_ITEMS for c in range(n_cells)]
    p = milp.CountProblem.empty(names, prior, ub)
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
        _share_rows_const(p, row["id"], coef, den, _num(row["lower"]) / 100,
                          _num(row["upper"]) / 100)
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
                   time_limit=cfg.solver_time_limit).reshape(len(EDU_ITEMS), n_cells)
    rng = generator(cfg.seed, wave, 6)
    educ = df["educ"].to_numpy()
    out = {}
    for k, item in enumerate(EDU_ITEMS):
        keys = cfg.tilt_edu_educ * (educ >= 2) + gumbel(rng, n)
        out[item] = assign_within_groups(cell, y[k], keys).astype(np.int64)
    return df.assign(**out)


# --------------------------------------------------------------------------- waves
def column_order(wave: int, columns, cfg: ReconstructionConfig) -> list:
    """Columns in codebook order, then the core columns, the rest, ``weight`` and ``fpc``."""
    order = list(codebook(wave, cfg).variables)
    base = ["resp_id", "wave", "stratum", "settlement", "sex", "age", "agegrp", "educ", "ethnic",
            "attitude"]
    seq = [c for c in order if c in columns] + [c for c in base if c in columns]
    rest = [c for c in columns if c not in seq and c not in ("weight", "fpc")]
    cols = list(dict.fromkeys(seq + rest))
    cols = [c for c in cols if c not in ("weight", "fpc")] + ["weight", "fpc"]
    return cols


def build_wave(wave: int, targets: pd.DataFrame, cfg: ReconstructionConfig,
               other: WaveResult | None = None) -> WaveResult:
    pop, source = stratum_population(cfg, wave)
    counts, allocation = solve_core(wave, targets, cfg, pop, other=other)
    df = expand(counts, wave, cfg)
    df = add_demographics(df, wave, cfg)
    df = add_familiarity(df, wave, targets, cfg)
    df = add_reasons(df, wave, targets, cfg)
    df = add_labour(df, wave, targets, cfg)
    df = add_education_items(df, wave, targets, cfg)
    n_h = np.bincount(df["stratum"].to_numpy(), minlength=7)[1:]
    big_n = pop[df["stratum"].to_numpy() - 1]
    df = df.assign(weight=big_n / n_h[df["stratum"].to_numpy() - 1], fpc=big_n)
    df = df[column_order(wave, df.columns, cfg)]
    return WaveResult(wave, df.reset_index(drop=True), pop, source, allocation, counts)


def build_all(targets: pd.DataFrame, cfg: ReconstructionConfig) -> dict:
    """Both waves: 2012 first, then 2007 with the cross-wave figures (T121, T123-T125, T130)."""
    w12 = build_wave(2012, targets, cfg)
    w07 = build_wave(2007, targets, cfg, other=w12)
    return {2007: w07, 2012: w12}
