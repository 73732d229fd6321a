"""The core problem: integer counts ``x[stratum, group, attitude]`` meeting every attitude
figure of a wave, at minimum L1 distance from a prior (see :mod:`.build` for the steps)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ReconstructionError
from . import milp
from ._alloc import largest_remainder, perturbed
from .config import ReconstructionConfig
from .model import (
    ATT_CODES,
    N_ATT,
    N_E,
    N_H,
    WaveResult,
    describe_tags,
    dont_know_cells,
    number,
    wave_targets,
)


def _cell_index(h, e, a) -> int:
    return (h * N_E + e) * N_ATT + a


def _mask(h=None, e=None, a=None) -> np.ndarray:
    m = np.zeros((N_H, N_E, N_ATT))
    hs = slice(None) if h is None else ([h] if np.isscalar(h) else list(h))
    es = slice(None) if e is None else ([e] if np.isscalar(e) else list(e))
    a_ = slice(None) if a is None else ([a] if np.isscalar(a) else list(a))
    m[np.ix_(*(range(N_H) if isinstance(hs, slice) else hs,  # type: ignore[arg-type]  # np.ix_ takes ranges and lists of ints
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
    sel = tw[(tw["statistic"] == "share") & (tw["variable"] == "attitude")
             & (tw["domain_var"] == "ethnic")]
    first = sel.drop_duplicates(["domain_level", "level"]).set_index(["domain_level", "level"])
    dist = np.zeros((N_E, N_ATT))
    for e in range(N_E):
        for k in (1, 2, 3, 4, 5):
            if (str(e + 1), str(k)) not in first.index:
                raise ReconstructionError(
                    f"no Table 7.1 share for ethnic={e + 1}, attitude={k}: cannot build the prior."
                )
            dist[e, ATT_CODES.index(k)] = number(str(first.at[(str(e + 1), str(k)), "value"]))
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
    n = int(number(tot["value"].iloc[0]))
    n_e = np.zeros(N_E)
    for e in range(N_E):
        sel = counts[(counts["domain_var"] == "ethnic") & (counts["domain_level"] == str(e + 1))]
        if sel.empty:
            raise ReconstructionError(f"wave {wave}: no published group size for ethnic={e + 1}.")
        n_e[e] = number(sel["value"].iloc[0])
    prior = _core_prior(n, pop, n_e, cfg, _table71(tw))
    names: list[tuple] = [(cfg.study.stratum_codes[h], e + 1, ATT_CODES[a]) for h in range(N_H) for e in range(N_E)
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
        p.add_share(row["id"], num, den, number(row["lower"]) / 100, number(row["upper"]) / 100)
    for row in tw.to_dict("records"):
        tid, stat = row["id"], row["statistic"]
        dom = _domain_index(row)
        if stat == "count":
            p.add_equal(tid, _mask(**dom), number(row["value"]))
        elif row["variable"] != "attitude":
            continue
        elif stat == "share":
            num = _mask(**dom, a=_att_levels(row["level"]))
            den = _mask(**dom, a=VALID)
            p.add_share(tid, num, den, number(row["lower"]) / 100, number(row["upper"]) / 100)
        elif stat == "mean":
            num = _mask(**dom) * np.tile(SCORES, N_H * N_E)
            den = _mask(**dom, a=VALID)
            p.add_share(tid, num, den, number(row["lower"]), number(row["upper"]))
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
        lo_pp, hi_pp = number(row["lower"]) / 100, number(row["upper"]) / 100
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
    n = int(number(tot["value"].iloc[0])) if not tot.empty else 0
    n_dk = sum(count for _, _, count in dont_know_cells(wave, cfg))
    proportional = largest_remainder(n - n_dk, pop)
    fixed = core_problem(wave, targets, cfg, pop, sizes=proportional)
    if milp.feasible(fixed, **milp.solver_options(cfg)):
        sizes, allocation = proportional, "proportional to N_h (largest remainder), fixed"
    else:
        # stage 1: stratum sizes nearest to proportional allocation that admit a solution
        base = core_problem(wave, targets, cfg, pop)
        size_map = np.vstack([_mask(h=h, a=VALID) for h in range(N_H)])
        size_map = np.hstack([size_map, np.zeros((N_H, base.nvar - N_CELLS))])
        free = milp.solve(base, describe=describe, context=ctx, **milp.solver_options(cfg),
                          terms=[(size_map, proportional, 1.0)])
        sizes = _valid_by_stratum(free[:N_CELLS].reshape(N_H, N_E, N_ATT)).astype(np.int64)
        allocation = ("solver-chosen: proportional allocation cannot meet the regional figures; "
                      "sizes at minimum L1 distance from the proportional prior")
    final = core_problem(wave, targets, cfg, pop, sizes=sizes, other=other)
    cells = np.eye(final.nvar)[:N_CELLS]
    x = milp.solve(final, describe=describe, context=ctx, **milp.solver_options(cfg),
                   terms=[(cells, perturbed(final.prior[:N_CELLS], cfg, wave, 7), 1.0)])
    return x[:N_CELLS].reshape(N_H, N_E, N_ATT), allocation
