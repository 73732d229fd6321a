"""Speed and memory of the Taylor estimators against a numpy floor and peers, in one run.

    python benchmarks/bench_estimators.py [--rows 1000000]

Data: ``--rows`` rows, 6 strata, 600 PSUs, a numeric y, a 5-level categorical and a 10-level
domain.  Tasks: mean + SE; all proportions of the categorical; the mean in 10 domains.
The floor is the least numpy work that gives the same numbers (group sums with bincount and
the between-PSU sum of squares); svy and samplics are timed when importable (``pip install
.[bench]``).  Prints seconds, peak memory traced by tracemalloc (Python allocations only: svy's
Rust core is not traced, so its memory column reads near zero), and ratios to the floor.
Not a test.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

import surveylib as sl


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, 600, n)
    stratum = psu % 6
    return pd.DataFrame({
        "stratum": stratum,
        "psu": psu,
        "w": rng.uniform(50, 150, n),
        "y": rng.normal(50, 10, n) + stratum,
        "cat": rng.integers(0, 5, n),
        "dom": rng.integers(0, 10, n),
    })


def floor_vcov(totals: np.ndarray, psu_stratum: np.ndarray, n_h: np.ndarray) -> np.ndarray:
    k = totals.shape[1]
    sums = np.zeros((len(n_h), k))
    np.add.at(sums, psu_stratum, totals)
    centred = totals - (sums / n_h[:, None])[psu_stratum]
    c = (n_h / (n_h - 1))[psu_stratum]
    return (centred * c[:, None]).T @ centred


def floor_cells(df: pd.DataFrame, cell: np.ndarray, k: int, y: np.ndarray) -> np.ndarray:
    """Ratio-of-totals means of y in k cells with their covariance (the numpy floor)."""
    w = df["w"].to_numpy()
    psu = df["psu"].to_numpy()
    num = np.bincount(cell, w * y, minlength=k)
    den = np.bincount(cell, w, minlength=k)
    est = num / den
    score = w * (y - est[cell]) / den[cell]
    totals = np.bincount(psu * k + cell, score, minlength=600 * k).reshape(600, k)
    psu_stratum = np.arange(600) % 6
    n_h = np.bincount(psu_stratum).astype(float)
    return floor_vcov(totals, psu_stratum, n_h)


def floor_shares(df: pd.DataFrame, cat: np.ndarray, levels: int) -> np.ndarray:
    """Shares of every level with their covariance: one bincount over (PSU, level)."""
    w = df["w"].to_numpy()
    psu = df["psu"].to_numpy()
    wl = np.bincount(psu * levels + cat, w, minlength=600 * levels).reshape(600, levels)
    wp = wl.sum(axis=1, keepdims=True)
    total = wp.sum()
    p = wl.sum(axis=0) / total
    totals = (wl - p * wp) / total  # PSU totals of w (1[y = l] - p_l) / sum(w)
    psu_stratum = np.arange(600) % 6
    n_h = np.bincount(psu_stratum).astype(float)
    return floor_vcov(totals, psu_stratum, n_h)


def floor_tasks(df):
    n = len(df)
    y = df["y"].to_numpy()
    cat = df["cat"].to_numpy()
    dom = df["dom"].to_numpy()
    return {
        "mean + SE": lambda: floor_cells(df, np.zeros(n, dtype=np.int64), 1, y),
        "all proportions": lambda: floor_shares(df, cat, 5),
        "10 domain means": lambda: floor_cells(df, dom, 10, y),
    }


def surveylib_tasks(df, *, cold: bool = False):
    """The three tasks on one design (warm: its cached codes and PSU sums are reused), or,
    with ``cold=True``, each call on a newly built design (construction included)."""

    def design():
        return sl.SurveyDesign(df, strata="stratum", psu="psu", weights="w")

    d = design()
    get = design if cold else (lambda: d)
    return {
        "mean + SE": lambda: get().mean("y", deff=False).se,
        "all proportions": lambda: get().proportion("cat", ci_method="wald", deff=False).se,
        "10 domain means": lambda: get().mean("y", by="dom", deff=False).se,
    }


def svy_tasks(df):
    try:
        import polars as pl
        import svy
    except ImportError:
        return None
    frame = pl.DataFrame({c: df[c].to_numpy() for c in df.columns})
    est = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="w")).estimation
    return {
        "mean + SE": lambda: est.mean("y"),
        "all proportions": lambda: est.prop("cat"),
        "10 domain means": lambda: est.mean("y", by="dom"),
    }


def samplics_tasks(df):
    try:
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam
    except ImportError:
        return None

    def run(param, y, domain=None):
        est = TaylorEstimator(param)
        est.estimate(y=y, samp_weight=df["w"].to_numpy(), stratum=df["stratum"].to_numpy(),
                     psu=df["psu"].to_numpy(), domain=domain, remove_nan=False)
        return est

    return {
        "mean + SE": lambda: run(PopParam.mean, df["y"].to_numpy()),
        "all proportions": lambda: run(PopParam.prop, df["cat"].to_numpy()),
        "10 domain means": lambda: run(PopParam.mean, df["y"].to_numpy(), df["dom"].to_numpy()),
    }


def measure(fn, repeat: int = 3) -> tuple[float, float]:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    df = make_data(args.rows)
    data_mb = df.memory_usage(deep=True).sum() / 2**20
    print(f"{args.rows:,} rows, 6 strata, 600 PSUs; data {data_mb:.0f} MiB")
    peers = {"surveylib": surveylib_tasks(df), "sl (cold)": surveylib_tasks(df, cold=True),
             "samplics": samplics_tasks(df), "svy": svy_tasks(df)}
    floor = floor_tasks(df)
    print(f"{'task':<18}{'tool':<11}{'seconds':>9}{'peak MiB':>10}{'x floor':>9}{'mem/data':>9}")
    for task, fn in floor.items():
        t_floor, m_floor = measure(fn)
        print(f"{task:<18}{'numpy':<11}{t_floor:>9.3f}{m_floor:>10.0f}{1.0:>9.2f}{m_floor / data_mb:>9.2f}")
        for name, tasks in peers.items():
            if tasks is None:
                continue
            try:
                t, m = measure(tasks[task])
            except Exception as exc:  # a peer's API may differ between releases
                print(f"{task:<18}{name:<11} failed: {type(exc).__name__}: {str(exc)[:60]}")
                continue
            print(f"{task:<18}{name:<11}{t:>9.3f}{m:>10.0f}{t / t_floor:>9.2f}{m / data_mb:>9.2f}")
    missing = [k for k, v in peers.items() if v is None]
    if missing:
        print(f"not installed (pip install '.[bench]'): {', '.join(missing)}")


if __name__ == "__main__":
    main()
