"""End-to-end coverage of the wave-3 chain: frame -> allocation -> selection -> interviews with
nonresponse -> weights -> estimate -> comparison with 2012 (a simulation, not a test).

    python benchmarks/sim_wave3_chain.py [--reps 500] [--seed 2025] [--method brewer]
                                         [--frame frames/towns_2021.csv | --synthetic]

**Population.**  With the real frame (the default when ``frames/towns_2021.csv`` exists) the
primary units are the frame's towns; each town's dwellings are ``round(population / 3.5)``
(3.5 persons per dwelling: a simulation assumption, not a sourced figure) and a town larger
than ``--segment`` dwellings (default 2,000) is cut into equal listing segments, as a large
city is cut into enumeration areas in the field, so that the first-stage units (``psu``) are
the segments of the towns and no town is a certainty unit with a single PSU.  The frame
variable ``large`` is "town of 500,000 inhabitants or more" (Almaty, Astana, Shymkent,
Aktobe, Karaganda: half the frame's population).  1-4 adults per dwelling; each
adult holds a positive attitude (codes 1-2 of the 2012 question) with a probability built from
the 2012 file's share in the town's stratum plus 0.05 (the wave-3 change), +0.6 on the logit in
large towns, and a town and a segment effect (sd 0.25 each on the logit).  The wave-3
population value ``P3`` is the share over all adults of the frame.  ``--synthetic`` (or a
missing frame) uses the synthetic population of 6 regions x 300 towns of earlier versions.

**Each replication.**  1. ``planning.allocate`` spreads 1,200 completed interviews over the
strata in proportion to their adults; ``units_from_interviews`` turns them into PSUs (10
dwellings per PSU, anticipated response 0.7).  2. PSUs by PPS of dwellings (``--method``,
default Brewer), 10 dwellings per PSU (systematic), one adult per dwelling (Kish grid).
3. Response with propensity 0.55 in large and 0.80 in small towns (the outcome is more common in
large towns, so ignoring it biases the share).  4. Weights: design weight x 1/p_within, then the
weighting-class nonresponse adjustment with classes stratum x large.  5. The share with a 95%
Taylor interval (strata = design strata, PSU = segment, with-replacement first stage).
6. The wave-3 analysis against 2012: ``surveylib.inference.compare(d2012, d3, "positive",
stat="mean")`` (the difference wave 3 - 2012, ``Var = V_2012 + V_3``, df = min), with the 2012
design built as ``analyses/_wave3_inputs.py`` builds it from ``microdata/kz2012_reconstructed.csv``
(strata, weights, fpc).  Two intervals are checked:

* **fixed 2012 file** — the published reconstructed file as it is; the target is
  ``P3 - p12`` with ``p12`` the file's estimate.  The 2012 sample does not vary over
  replications, yet the interval carries its variance, so coverage is *above* nominal by
  construction (conditional coverage; reported, not expected to be 95%).
* **redrawn 2012** — the 2012 file read as a population (each respondent standing for
  ``weight`` adults, which is the file's design: weights are constant within strata) and a new
  2012 sample drawn from it in every replication with the file's design (``n_h`` respondents
  per stratum, with replacement, fpc as in the file).  The target ``P3 - P12`` (``P12`` = the
  file's estimate = this population's value) is then a fixed population difference and the
  interval should cover it at the nominal rate.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import surveylib as sl
from surveylib.inference import compare
from surveylib.instruments import load_codebook
from surveylib.io import read_csv
from surveylib.sampling import (
    METHODS,
    CertaintyWarning,
    kish_grid,
    select_dwellings,
    select_units,
    units_from_interviews,
)

ROOT = Path(__file__).resolve().parents[1]
TOWNS_FRAME = ROOT / "frames" / "towns_2021.csv"
MICRODATA_2012 = ROOT / "microdata" / "kz2012_reconstructed.csv"
REGIONS = ("north", "east", "south", "west", "central", "almaty")
PERSONS_PER_DWELLING = 3.5  # simulation assumption
CHANGE = 0.05  # simulated wave-3 change of the positive share (probability scale, per stratum)


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _persons(dwellings: np.ndarray, p_unit: np.ndarray, rng):
    """Adults (1-4) per dwelling and their 0/1 outcomes, dwellings of a unit contiguous."""
    d_unit = np.repeat(np.arange(len(dwellings)), dwellings)
    adults = rng.integers(1, 5, len(d_unit))
    y = rng.random((len(d_unit), 4)) < p_unit[d_unit][:, None]
    y &= np.arange(4)[None, :] < adults[:, None]
    start = np.cumsum(dwellings) - dwellings
    return d_unit, adults, y, start


def make_population(seed: int = 2025, towns_per_region: int = 300):
    """Synthetic frame of towns and the persons in their dwellings (a fixed finite population)."""
    rng = np.random.default_rng(seed)
    n_towns = towns_per_region * len(REGIONS)
    region = np.repeat(np.arange(len(REGIONS)), towns_per_region)
    dwellings = np.maximum(20, np.round(rng.lognormal(5.0, 0.7, n_towns))).astype(np.int64)
    med = pd.Series(dwellings).groupby(region).transform("median").to_numpy()
    large = dwellings > med
    town_effect = rng.normal(0, 0.3, n_towns)
    frame = pd.DataFrame({"town": np.arange(n_towns), "region": np.array(REGIONS)[region],
                          "dwellings": dwellings, "large": np.where(large, "large", "small")})
    p_town = _expit(-0.6 + 0.15 * region + 0.8 * large + town_effect)
    d_unit, adults, y, start = _persons(dwellings, p_town, rng)
    frame["adults"] = np.bincount(d_unit, weights=adults, minlength=n_towns)
    return {"frame": frame, "unit": "town", "adults": adults, "y": y, "start": start,
            "truth": float(y.sum() / adults.sum()), "kind": "synthetic"}


def load_2012(path=MICRODATA_2012) -> pd.DataFrame:
    """The 2012 reconstructed file with ``positive`` = attitude 1-2 (NaN when missing)."""
    cb = load_codebook(2012)
    data = cb.missing_to_na(read_csv(path, codebook=cb))
    att = pd.to_numeric(data["attitude"], errors="coerce")
    return data.assign(positive=np.where(att.isna(), np.nan, att.isin([1, 2]).astype(float)),
                       stratum=data["stratum"].astype(int))


def design_2012(data: pd.DataFrame):
    """As analyses/_wave3_inputs.py: strata, weights and fpc of the reconstructed file."""
    return sl.SurveyDesign(data, strata="stratum", weights="weight", fpc="fpc")


def make_town_population(path=TOWNS_FRAME, seed: int = 2025, *, segment: int = 2000,
                         data12: pd.DataFrame | None = None):
    """The real towns frame cut into listing segments, with simulated dwellings and adults."""
    rng = np.random.default_rng(seed)
    towns = pd.read_csv(path)
    data12 = load_2012() if data12 is None else data12
    p12 = design_2012(data12).mean("positive", by="stratum", na_rm=True, deff=False)
    p12 = pd.Series(p12.values, index=p12.keys["stratum"].astype(int).to_numpy())
    dw_town = np.maximum(1, np.round(towns["population"].to_numpy() / PERSONS_PER_DWELLING)).astype(np.int64)
    n_seg = np.ceil(dw_town / segment).astype(np.int64)
    t_of = np.repeat(np.arange(len(towns)), n_seg)
    k = np.arange(n_seg.sum()) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    dwellings = (dw_town[t_of] * (k + 1)) // n_seg[t_of] - (dw_town[t_of] * k) // n_seg[t_of]
    large = towns["population"].to_numpy() >= 500_000
    stratum = towns["stratum"].to_numpy().astype(int)
    base = np.clip(p12.reindex(stratum).to_numpy() + CHANGE, 0.02, 0.98)
    logit = (np.log(base / (1 - base)) + 0.6 * (large - large.mean()) + rng.normal(0, 0.25, len(towns)))
    p_seg = _expit(logit[t_of] + rng.normal(0, 0.25, len(t_of)))
    d_unit, adults, y, start = _persons(dwellings, p_seg, rng)
    frame = pd.DataFrame({"segment": np.arange(len(t_of)), "town": towns["town"].to_numpy()[t_of],
                          "region": stratum[t_of], "dwellings": dwellings,
                          "large": np.where(large[t_of], "large", "small")})
    frame["adults"] = np.bincount(d_unit, weights=adults, minlength=len(t_of))
    return {"frame": frame, "unit": "segment", "adults": adults, "y": y, "start": start,
            "truth": float(y.sum() / adults.sum()), "kind": f"towns frame {Path(path).name}",
            "data12": data12}


def redraw_2012(data12: pd.DataFrame, rng) -> pd.DataFrame:
    """A new 2012 sample from the file read as a population: n_h with replacement per stratum."""
    h = data12["stratum"].to_numpy()
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    if len(starts) != len(np.unique(h)):
        order = np.argsort(h, kind="stable")
        data12, h = data12.iloc[order], h[order]
        starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(h)])
    pick = np.repeat(starts, sizes) + (rng.random(len(h)) * np.repeat(sizes, sizes)).astype(np.int64)
    return data12.iloc[pick].reset_index(drop=True)


def one_replication(pop, rng, *, method: str = "brewer", n_interviews: int = 1200,
                    m: int = 10, response_rate: float = 0.7):
    frame = pop["frame"]
    alloc = sl.planning.allocate(n_interviews, frame.groupby("region")["adults"].sum())
    units = units_from_interviews(alloc, m, response_rate=response_rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertaintyWarning)
        sel = select_units(frame, units, method=method, stratum="region", size="dwellings",
                           unit=pop["unit"], seed=rng)
    dw = select_dwellings(sel, m, dwellings="dwellings", seed=rng)
    row = pop["start"][dw[pop["unit"]].to_numpy()] + dw["dwelling"].to_numpy() - 1
    kish = kish_grid(pop["adults"][row], seed=rng)
    y = pop["y"][row, kish["line"].to_numpy() - 1].astype(float)
    propensity = np.where(dw["large"].to_numpy() == "large", 0.55, 0.80)
    resp = rng.random(len(dw)) < propensity
    data = dw.assign(positive=y, resp=resp, w=dw["weight"].to_numpy() / kish["p_within"].to_numpy())
    design = sl.SurveyDesign(data, strata="design_stratum", psu="psu", weights="w", fpc="fpc",
                             lonely_psu="adjust")
    adjusted = sl.weighting.nonresponse_adjust(design, "resp", ["region", "large"])
    est = adjusted.mean("positive", deff=False)
    ci = est.ci(0.95)
    out = [float(est.estimate.iloc[0]), float(ci["ci_low"].iloc[0]), float(ci["ci_high"].iloc[0]),
           float(np.average(y[resp], weights=data["w"].to_numpy()[resp]))]
    if "data12" in pop:
        d3 = adjusted.subset(adjusted.data["resp"].to_numpy())
        for d12 in (pop["design12"], design_2012(redraw_2012(pop["data12"], rng))):
            c = compare(d12, d3, "positive", stat="mean", na_rm=True)
            cc = c.ci()
            out += [float(c.estimate.iloc[0]), float(cc["ci_low"].iloc[0]), float(cc["ci_high"].iloc[0]),
                    float(c.estimate_a[0])]
    return out


def _coverage(lo, hi, target, reps):
    cov = float(((lo <= target) & (target <= hi)).mean())
    return cov, float(np.sqrt(cov * (1 - cov) / reps))


def run(reps: int = 500, seed: int = 2025, *, method: str = "brewer", population=None,
        frame=TOWNS_FRAME) -> dict:
    """Coverage of the 95% intervals over ``reps`` seeded replications."""
    if population is not None:
        pop = population
    elif frame is not None and Path(frame).exists():
        pop = make_town_population(frame, seed)
    else:
        pop = make_population(seed)
    if "data12" in pop and "design12" not in pop:
        pop["design12"] = design_2012(pop["data12"])
    rng = np.random.default_rng(seed + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SingletonWarning)
        res = np.array([one_replication(pop, rng, method=method) for _ in range(reps)])
    cov, cov_se = _coverage(res[:, 1], res[:, 2], pop["truth"], reps)
    out = {"reps": reps, "method": method, "population": pop["kind"], "truth": pop["truth"],
           "n_units": len(pop["frame"]), "coverage": cov, "coverage_se": cov_se,
           "mean_estimate": float(res[:, 0].mean()), "sd_estimate": float(res[:, 0].std(ddof=1)),
           "mean_halfwidth": float(((res[:, 2] - res[:, 1]) / 2).mean()),
           "bias_unadjusted": float(res[:, 3].mean() - pop["truth"])}
    if res.shape[1] > 4:
        p12 = float(res[0, 7])  # the fixed file's estimate (the redrawn population's value)
        target = pop["truth"] - p12
        for name, j in (("fixed2012", 4), ("redrawn2012", 8)):
            c, se = _coverage(res[:, j + 1], res[:, j + 2], target, reps)
            out.update({f"{name}_coverage": c, f"{name}_coverage_se": se,
                        f"{name}_mean_difference": float(res[:, j].mean()),
                        f"{name}_sd_difference": float(res[:, j].std(ddof=1)),
                        f"{name}_mean_halfwidth": float(((res[:, j + 2] - res[:, j + 1]) / 2).mean())})
        out.update({"p2012": p12, "true_difference": target})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--method", default="brewer", choices=list(METHODS))
    ap.add_argument("--frame", default=str(TOWNS_FRAME), help="towns frame CSV (default: %(default)s)")
    ap.add_argument("--segment", type=int, default=2000, help="dwellings per listing segment")
    ap.add_argument("--synthetic", action="store_true", help="the synthetic 6 x 300-town population")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    pop = None
    if not args.synthetic and Path(args.frame).exists():
        pop = make_town_population(args.frame, args.seed, segment=args.segment)
    elif not args.synthetic:
        print(f"frame {args.frame} not found: using the synthetic population")
    r = run(args.reps, args.seed, method=args.method, population=pop,
            frame=None if args.synthetic else args.frame)
    print(f"{r['population']} ({r['n_units']} PSUs); method {r['method']}, {r['reps']} replications, "
          f"{time.perf_counter() - t0:.1f} s")
    print(f"wave-3 population share {r['truth']:.5f}; mean estimate {r['mean_estimate']:.5f} "
          f"(sd {r['sd_estimate']:.5f}, mean CI half-width {r['mean_halfwidth']:.5f})")
    print(f"coverage of 95% intervals {100 * r['coverage']:.1f}% "
          f"(binomial se {100 * r['coverage_se']:.1f} points)")
    print(f"bias without the nonresponse adjustment {r['bias_unadjusted']:+.5f}")
    if "true_difference" in r:
        print(f"2012 file estimate {r['p2012']:.5f}; target difference P3 - P12 = {r['true_difference']:+.5f}")
        for name, label in (("fixed2012", "fixed 2012 file"), ("redrawn2012", "2012 redrawn")):
            print(f"  {label}: mean difference {r[name + '_mean_difference']:+.5f} "
                  f"(sd {r[name + '_sd_difference']:.5f}, mean half-width {r[name + '_mean_halfwidth']:.5f}); "
                  f"coverage {100 * r[name + '_coverage']:.1f}% (se {100 * r[name + '_coverage_se']:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
