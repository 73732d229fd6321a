"""End-to-end coverage of the wave-3 chain: frame -> allocation -> selection -> interviews with
nonresponse -> weights -> estimate (a simulation, not a test).

    python benchmarks/sim_wave3_chain.py [--reps 500] [--seed 2025] [--method brewer]

One finite population is generated once (``--seed``): 6 regions x 300 towns, town sizes
lognormal (dwellings), a frame variable ``large`` (town above the regional median size),
1-4 adults per dwelling, and a 0/1 outcome per adult whose prevalence depends on the region,
on ``large`` and on a town effect.  Each replication then

1. allocates 1,200 completed interviews to the regions in proportion to their adults
   (:func:`surveylib.planning.allocate`) and turns them into towns with 10 dwellings per town
   and an anticipated response rate of 0.7 (:func:`surveylib.sampling.units_from_interviews`);
2. selects towns with probability proportional to dwellings (``--method``, default Brewer),
   10 dwellings per town by systematic sampling, and one adult per dwelling by the Kish grid;
3. simulates response with propensity 0.55 in large towns and 0.80 in small ones (a frame
   variable, and the outcome is more common in large towns, so ignoring it biases the mean);
4. weights: design weight x 1/p_within, then weighting-class nonresponse adjustment with
   classes region x large (:func:`surveylib.weighting.nonresponse_adjust`);
5. estimates the adult prevalence with a 95% interval (Taylor, strata = design strata, PSU =
   town, with-replacement first stage) and records whether it covers the population value.

Prints the coverage of the 95% intervals with its binomial standard error, the mean
estimate against the truth, and (for comparison) the bias of the estimate without the
nonresponse adjustment.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import surveylib as sl
from surveylib.sampling import (
    METHODS,
    CertaintyWarning,
    kish_grid,
    select_dwellings,
    select_units,
    units_from_interviews,
)

REGIONS = ("north", "east", "south", "west", "central", "almaty")


def make_population(seed: int = 2025, towns_per_region: int = 300):
    """Frame of towns and the persons in their dwellings (a fixed finite population)."""
    rng = np.random.default_rng(seed)
    n_towns = towns_per_region * len(REGIONS)
    region = np.repeat(np.arange(len(REGIONS)), towns_per_region)
    dwellings = np.maximum(20, np.round(rng.lognormal(5.0, 0.7, n_towns))).astype(np.int64)
    med = pd.Series(dwellings).groupby(region).transform("median").to_numpy()
    large = dwellings > med
    town_effect = rng.normal(0, 0.3, n_towns)
    frame = pd.DataFrame({"town": np.arange(n_towns), "region": np.array(REGIONS)[region],
                          "dwellings": dwellings, "large": np.where(large, "large", "small")})
    # dwellings and adults
    d_town = np.repeat(np.arange(n_towns), dwellings)
    d_no = np.arange(len(d_town)) - np.repeat(np.cumsum(dwellings) - dwellings, dwellings) + 1
    adults = rng.integers(1, 5, len(d_town))
    p_town = 1 / (1 + np.exp(-(-0.6 + 0.15 * region + 0.8 * large + town_effect)))
    y_dw_adult = rng.random((len(d_town), 4)) < p_town[d_town][:, None]
    y_dw_adult &= np.arange(4)[None, :] < adults[:, None]
    truth = y_dw_adult.sum() / adults.sum()
    frame["adults"] = np.bincount(d_town, weights=adults, minlength=n_towns)
    return {"frame": frame, "adults": adults, "y": y_dw_adult, "start": np.cumsum(dwellings)
            - dwellings, "truth": float(truth), "d_no": d_no}


def one_replication(pop, rng, *, method: str = "brewer", n_interviews: int = 1200,
                    m: int = 10, response_rate: float = 0.7):
    frame = pop["frame"]
    alloc = sl.planning.allocate(n_interviews, frame.groupby("region")["adults"].sum())
    units = units_from_interviews(alloc, m, response_rate=response_rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertaintyWarning)
        sel = select_units(frame, units, method=method, stratum="region", size="dwellings",
                           unit="town", seed=rng)
    dw = select_dwellings(sel, m, dwellings="dwellings", seed=rng)
    row = pop["start"][dw["town"].to_numpy()] + dw["dwelling"].to_numpy() - 1
    k = pop["adults"][row]
    kish = kish_grid(k, seed=rng)
    y = pop["y"][row, kish["line"].to_numpy() - 1].astype(float)
    propensity = np.where(dw["large"].to_numpy() == "large", 0.55, 0.80)
    resp = rng.random(len(dw)) < propensity
    data = dw.assign(y=y, resp=resp, w=dw["weight"].to_numpy() / kish["p_within"].to_numpy())
    design = sl.SurveyDesign(data, strata="design_stratum", psu="psu", weights="w", fpc="fpc",
                             lonely_psu="adjust")
    adjusted = sl.weighting.nonresponse_adjust(design, "resp", ["region", "large"])
    est = adjusted.mean("y", deff=False)
    ci = est.ci(0.95)
    naive = float(np.average(y[resp], weights=data["w"].to_numpy()[resp]))
    return (float(est.estimate.iloc[0]), float(ci["ci_low"].iloc[0]),
            float(ci["ci_high"].iloc[0]), naive)


def run(reps: int = 500, seed: int = 2025, *, method: str = "brewer", population=None) -> dict:
    """Coverage of the 95% intervals over ``reps`` seeded replications."""
    pop = population if population is not None else make_population(seed)
    rng = np.random.default_rng(seed + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.SingletonWarning)
        res = np.array([one_replication(pop, rng, method=method) for _ in range(reps)])
    covered = (res[:, 1] <= pop["truth"]) & (pop["truth"] <= res[:, 2])
    return {"reps": reps, "method": method, "truth": pop["truth"],
            "coverage": float(covered.mean()),
            "coverage_se": float(np.sqrt(covered.mean() * (1 - covered.mean()) / reps)),
            "mean_estimate": float(res[:, 0].mean()), "sd_estimate": float(res[:, 0].std(ddof=1)),
            "mean_halfwidth": float(((res[:, 2] - res[:, 1]) / 2).mean()),
            "bias_unadjusted": float(res[:, 3].mean() - pop["truth"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--method", default="brewer", choices=list(METHODS))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    r = run(args.reps, args.seed, method=args.method)
    print(f"method {r['method']}, {r['reps']} replications, {time.perf_counter() - t0:.1f} s")
    print(f"population prevalence {r['truth']:.5f}; mean estimate {r['mean_estimate']:.5f} "
          f"(sd {r['sd_estimate']:.5f}, mean CI half-width {r['mean_halfwidth']:.5f})")
    print(f"coverage of 95% intervals {100 * r['coverage']:.1f}% "
          f"(binomial se {100 * r['coverage_se']:.1f} points)")
    print(f"bias without the nonresponse adjustment {r['bias_unadjusted']:+.5f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
