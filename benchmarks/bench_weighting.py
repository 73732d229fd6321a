"""Benchmark: raking 1M rows to three margins (not a test).

Run ``python benchmarks/bench_weighting.py [n_rows]``.  Compares

* ``SurveyDesign.rake`` (cell codes + IPF on the joint cell table + the adjustment record),
* a bare numpy floor: ``bincount`` of the joint cells, IPF on the cell table, weights mapped
  back to rows (what any raking implementation must at least do),
* a naive row-level IPF in numpy (``bincount`` over rows in every step),
* weightipy / balance / samplics / svy, only if importable (none is a dependency).

Prints seconds (best of 3) and the ratio to the numpy floor, and checks that every method
reaches the same weights.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

import surveylib as sl

TOL = 1e-7


def make_data(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "stratum": rng.integers(1, 7, n),
        "sex": rng.choice([1, 2], n, p=[0.45, 0.55]),
        "agegrp": rng.choice(["15-17", "18-29", "30-39", "40-49", "50-59", "60+"], n),
        "ethnic": rng.choice(["Kazakh", "Russian", "Other"], n, p=[0.5, 0.35, 0.15]),
        "w": rng.uniform(50, 150, n),
    })
    total = df["w"].sum()
    margins = {
        ("sex", "agegrp"): pd.Series(
            rng.dirichlet(np.ones(12) * 10) * total,
            index=pd.MultiIndex.from_product([[1, 2], sorted(df["agegrp"].unique())],
                                             names=["sex", "agegrp"])),
        "ethnic": {"Kazakh": 0.6 * total, "Russian": 0.25 * total, "Other": 0.15 * total},
        "stratum": dict(zip(range(1, 7), rng.dirichlet(np.ones(6) * 10) * total, strict=True)),
    }
    return df, margins


def codes_and_targets(df, margins):
    """Integer level codes per margin and the target vector (setup shared by the numpy versions)."""
    out = []
    for key, spec in margins.items():
        cols = list(key) if isinstance(key, tuple) else [key]
        s = pd.Series(spec) if isinstance(spec, dict) else spec
        idx = pd.MultiIndex.from_frame(df[cols]) if len(cols) > 1 else pd.Index(df[cols[0]])
        codes = s.index.get_indexer(idx)
        out.append((codes.astype(np.int64), s.to_numpy(dtype=float)))
    return out


def numpy_floor(w, coded, tol=TOL, max_iter=100):
    """IPF on the joint cell table: O(cells) per pass."""
    flat = np.zeros(len(w), dtype=np.int64)
    for codes, target in coded:
        flat = flat * len(target) + codes
    uniq, inv = np.unique(flat, return_inverse=True)
    t0 = np.bincount(inv, weights=w)
    levs, rem = [], uniq
    for _, target in reversed(coded):
        levs.append(rem % len(target))
        rem = rem // len(target)
    levs = levs[::-1]
    t = t0.copy()
    eps = tol * w.sum()
    for _ in range(max_iter):
        prev = t
        for lev, (_, target) in zip(levs, coded, strict=True):
            t = t * (target / np.bincount(lev, weights=t, minlength=len(target)))[lev]
        if np.max(np.abs(t - prev)) < eps:
            break
    return w * (t / t0)[inv]


def numpy_rows(w, coded, tol=TOL, max_iter=100):
    """Naive IPF over rows: O(rows) per margin step."""
    w = w.copy()
    for _ in range(max_iter):
        prev = w
        for codes, target in coded:
            w = w * (target / np.bincount(codes, weights=w, minlength=len(target)))[codes]
        if np.max(np.abs(w - prev)) < tol * 1e-3:
            break
    return w


def best_of(fn, k=3):
    times, out = [], None
    for _ in range(k):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main(n: int = 1_000_000) -> None:
    df, margins = make_data(n)
    w = df["w"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_design, d = best_of(lambda: sl.SurveyDesign(df, strata="stratum", weights="w"))
    t_codes, coded = best_of(lambda: codes_and_targets(df, margins))
    t_floor, w_floor = best_of(lambda: numpy_floor(w, coded))
    t_rows, w_rows = best_of(lambda: numpy_rows(w, coded))
    t_sl, r = best_of(lambda: d.rake(margins, tol=TOL))
    w_sl = r.weights.to_numpy()
    print(f"raking {n:,} rows to 3 margins (sex x agegrp, ethnic, stratum); best of 3")
    print(f"  design construction (not timed below)      {t_design:8.3f} s")
    rows = [("numpy floor: IPF on cell table (+ coding)", t_floor + t_codes),
            ("numpy floor: IPF on cell table (coded)", t_floor),
            ("numpy: IPF over rows (coded)", t_rows),
            ("surveylib SurveyDesign.rake", t_sl)]
    ref = t_floor + t_codes
    for name, t in rows:
        print(f"  {name:44s} {t:8.3f} s   x{t / ref:6.2f}")
    print(f"  max rel. difference surveylib vs floor: {np.max(np.abs(w_sl / w_floor - 1)):.2e}; "
          f"rows vs floor: {np.max(np.abs(w_rows / w_floor - 1)):.2e}")
    print(f"  surveylib passes: {r.adjustments[-1].iterations}")
    try:  # optional peers, never installed by this project
        import weightipy  # noqa: F401

        print("  weightipy importable: not benchmarked here (API differs per version)")
    except ImportError:
        print("  weightipy: not installed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from samplics.weighting import SampleWeight
        sexage = df["sex"].astype(str) + ":" + df["agegrp"]
        ctrl = {"sexage": {f"{s}:{a}": v for (s, a), v in margins[("sex", "agegrp")].items()},
                "ethnic": margins["ethnic"], "stratum": margins["stratum"]}
        x = {"sexage": sexage.to_numpy(), "ethnic": df["ethnic"].to_numpy(),
             "stratum": df["stratum"].to_numpy()}
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w_smp = SampleWeight().rake(w, x, control=ctrl, tol=TOL, max_iter=100)
        t = time.perf_counter() - t
        print(f"  {'samplics SampleWeight.rake (1 run)':44s} {t:8.3f} s   x{t / ref:6.2f}"
              f"   max rel. diff {np.max(np.abs(w_smp / w_floor - 1)):.1e}")
    except ImportError:
        print("  samplics: not installed")
    for mod in ("balance", "svy"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                __import__(mod)
            print(f"  {mod}: importable, not compared (no raking call wired up here)")
        except ImportError:
            print(f"  {mod}: not installed")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
