"""Benchmark: bootstrap replicate weights on a large design (not a test).

1,000,000 rows in 600 PSUs and 6 strata; 1,000 bootstrap replicates (R ``bootweights``);
the mean of one variable with its replicate SE.  Compares surveylib with a plain numpy floor
doing the least work for the same numbers (PSU totals with ``bincount``, replicate totals as
one matrix product), and with ``svy`` / ``samplics`` when they are importable.  Prints
wall-clock time and peak traced memory (``tracemalloc``) of each step and the ratios.

Run:  python benchmarks/bench_replicate.py [--rows 1000000] [--reps 1000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

import surveylib as sl

N_STRATA, N_PSU = 6, 600


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, N_PSU, n)
    psu_effect = rng.normal(0, 2, N_PSU)
    return pd.DataFrame({
        "stratum": psu % N_STRATA,
        "psu": psu,
        "w": rng.uniform(50, 150, N_PSU)[psu],
        "y": 10 + psu_effect[psu] + rng.normal(0, 5, n),
    })


def measure(fn, repeat: int = 7):
    """Best wall time of ``repeat`` runs and peak traced memory of one run (MB)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, min(times), peak / 1e6


def floor_factors(df: pd.DataFrame, reps: int, seed: int) -> np.ndarray:
    """Bootstrap counts per PSU (P x R): n_h draws with replacement in each stratum."""
    rng = np.random.default_rng(seed)
    psu_stratum = np.arange(N_PSU) % N_STRATA
    order = np.argsort(psu_stratum, kind="stable")
    n_h = np.bincount(psu_stratum)
    off = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    strat = np.repeat(np.arange(N_STRATA), n_h)
    pick = off[strat] + (rng.random((reps, N_PSU)) * n_h[strat]).astype(np.int64)
    flat = (np.arange(reps)[:, None] * N_PSU + order[pick]).ravel()
    return np.bincount(flat, minlength=reps * N_PSU).reshape(reps, N_PSU).T.astype(float)


def floor_mean_se(df: pd.DataFrame, factors: np.ndarray, scale: float):
    w = df["w"].to_numpy()
    y = df["y"].to_numpy()
    psu = df["psu"].to_numpy()
    ty = np.bincount(psu, w * y, minlength=N_PSU)
    tw = np.bincount(psu, w, minlength=N_PSU)
    est = ty.sum() / tw.sum()
    theta = (factors.T @ ty) / (factors.T @ tw)
    return est, np.sqrt(scale * ((theta - theta.mean()) ** 2).sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=1000)
    args = ap.parse_args()
    df = make_data(args.rows)
    design = sl.SurveyDesign(df, strata="stratum", psu="psu", weights="w")
    print(f"{args.rows:,} rows, {N_PSU} PSUs, {N_STRATA} strata, {args.reps} bootstrap replicates")

    rep, t_gen, m_gen = measure(lambda: design.to_replicates("bootstrap", replicates=args.reps,
                                                             seed=5))
    fac, tf_gen, mf_gen = measure(lambda: floor_factors(df, args.reps, 5))
    rep.degf()  # rank of the replicate weights, computed once per design and cached
    res, t_mean, m_mean = measure(lambda: rep.mean("y", deff=False))
    (est, se), tf_mean, mf_mean = measure(lambda: floor_mean_se(df, rep._replicates.factors,
                                                                rep.scale))
    assert np.isclose(res.estimate.iloc[0], est) and np.isclose(res.se.iloc[0], se)
    _, t_deff, m_deff = measure(lambda: rep.mean("y"))
    _, t_tay, m_tay = measure(lambda: design.mean("y", deff=False))
    del fac

    rows = [
        ("replicate factors", t_gen, tf_gen, m_gen, mf_gen),
        ("mean + SE (deff=False)", t_mean, tf_mean, m_mean, mf_mean),
        ("mean + SE + deff", t_deff, tf_mean, m_deff, mf_mean),
        ("Taylor mean (reference)", t_tay, tf_mean, m_tay, mf_mean),
    ]
    print(f"{'step':<26}{'surveylib s':>12}{'floor s':>10}{'ratio':>8}"
          f"{'surveylib MB':>14}{'floor MB':>10}{'ratio':>8}")
    for name, t, tf, m, mf in rows:
        print(f"{name:<26}{t:>12.4f}{tf:>10.4f}{t / tf:>8.2f}{m:>14.1f}{mf:>10.1f}{m / mf:>8.2f}")

    for mod in ("svy", "samplics"):
        try:
            __import__(mod)
        except ImportError:
            print(f"{mod}: not installed, skipped")
            continue
        print(f"{mod}: installed; its bootstrap API differs, so no like-for-like timing is made")


if __name__ == "__main__":
    main()
