"""Replicate weights on 1M rows: surveylib against a numpy floor and peers (not a test).

    python benchmarks/bench_replicate.py [--rows 1000000] [--reps 100 1000] [--repeat 3]
    python benchmarks/bench_replicate.py --task stored [--rows 1000000 10000000] [--reps 80]

``--task stored`` (issue 12): ``--reps`` stored JK1 replicate-weight columns (delete-one-PSU
analysis weights, one PSU per replicate) already in the data frame, as agencies publish them;
the task is R ``svrepdesign(type="JK1", repweights=...)`` then ``svymean``:

* numpy floor -- the least numpy work on the frame's own columns: ``theta_r = (W' y)_r /
  (W' 1)_r`` by two BLAS matrix-vector products, the JK1 variance, and ``w' y / w' 1``.  Two
  ways are timed in the same subprocess and the faster is the floor (a line says which):
  "two gemv" -- ``W @ y`` and ``W @ ones(n)`` over all rows (two reads of the n x R columns
  from memory; OpenBLAS may use both cores) -- and "blocked" -- both products, and the
  full-sample sums, on each block of 2**18 values (3,276 rows for R=80) while it is in cache
  (one read of the columns; products this small run on one thread, while larger ones are
  threaded by OpenBLAS and were measured to stall for seconds on a busy machine).  Column
  sums by ``W.sum(axis=1)`` (numpy's pairwise reduction: 0.33 s against 0.14 s for
  ``W @ y`` at 10M x 80, load ~1) and ``W @ [y, 1]`` (one n x 2 product: 0.23 s) are slower
  than the products with vectors, so neither is a floor;
* surveylib -- ``ReplicateDesign(df, weights=, rep_weights="rw*", type="JK1", scale=)`` then
  ``mean("y", deff=False)`` (the design is built inside the timing: its validation reads
  every column);
* surveylib warm -- the same ``mean`` on a design built once outside the timing;
* svy -- ``Sample(Design(wgt="w", rep_wgts=JackknifeWgts(prefix="rw", n_reps=R)))`` on a
  polars copy of the frame (made outside the timing, as svy's sample is), then
  ``estimation.mean(method="replication")``;
* samplics -- ``ReplicateEstimator(jackknife, mean)`` on the n x R array of the columns.

The frame is made as one float64 block (the R columns, ``w`` and ``y``), so the memory
baseline holds the columns once; the increment ("task") is what the estimate costs beyond them.
With several ``--rows`` each size is run in turn.  The default bootstrap task follows.

Data: ``--rows`` rows in 600 PSUs and 6 strata, a weight constant within PSUs and a y with a
PSU effect, generated in the run.  Task: from a design, make ``R`` bootstrap replicates and
estimate the mean of y with its replicate SE (R ``as.svrepdesign(type="bootstrap")`` then
``svymean``).  Tools, each in its own subprocess so that its memory can be read:

* numpy floor -- the least work for the same numbers: bootstrap counts per PSU (P x R) with one
  ``bincount``, PSU totals with ``bincount``, replicate totals as one matrix product;
* surveylib -- ``design.to_replicates("bootstrap", replicates=R, seed=1).mean("y", deff=False)``;
* surveylib warm -- the same ``mean`` again on a replicate design made once, outside the
  timing (what a second estimate costs; the design caches its df and per-PSU weight sums);
* svy -- ``sample.weighting.create_bs_wgts(R)`` then ``estimation.mean(method="replication")``;
* samplics -- ``ReplicateWeight(bootstrap).replicate`` then ``ReplicateEstimator(mean)``, on
  rows sorted by stratum and PSU (unsorted rows give wrong factors in samplics 0.6).

Peers are optional; a peer that is not importable is reported and skipped.  Time is the best
of ``--repeat`` runs of the whole task.  Memory is the resident set (RSS) of the subprocess,
which sees allocations made in Rust or C as well as Python: the baseline after imports and data
(before the task; the kernel's high-water mark is then reset through ``/proc/self/clear_refs``),
the peak during the task (``VmHWM``), and the increment.  For the larger ``R`` a tool is skipped when its increment at the smallest ``R``, scaled linearly, would not fit in
the machine's available memory.

svy and samplics draw Rao-Wu rescaled replicates (``n_h - 1`` PSUs per stratum); surveylib and
the floor draw R's ``bootweights`` (``n_h`` PSUs).  Both are bootstrap SEs of the same mean and
agree within Monte Carlo error (printed); surveylib's SE is also checked exactly against the
floor formula applied to surveylib's own replicate factors.
"""

from __future__ import annotations

import argparse
import os
import re

import numpy as np
from _isolated import emit, measure, run_worker

N_STRATA, N_PSU = 6, 600
TOOLS = ("numpy floor", "surveylib", "surveylib warm", "svy", "samplics")


# --------------------------------------------------------------------------- data and floor

def make_arrays(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, N_PSU, n)
    psu_effect = rng.normal(0, 2, N_PSU)
    return {
        "stratum": psu % N_STRATA,
        "psu": psu,
        "w": rng.uniform(50, 150, N_PSU)[psu],
        "y": 10 + psu_effect[psu] + rng.normal(0, 5, n),
    }


def floor_factors(psu_stratum: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """R ``bootweights`` counts per PSU (P x R): n_h draws with replacement in each stratum."""
    rng = np.random.default_rng(seed)
    n_psu = len(psu_stratum)
    order = np.argsort(psu_stratum, kind="stable")
    n_h = np.bincount(psu_stratum)
    off = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    strat = np.repeat(np.arange(len(n_h)), n_h)
    pick = off[strat] + (rng.random((reps, n_psu)) * n_h[strat]).astype(np.int64)
    flat = (np.arange(reps)[:, None] * n_psu + order[pick]).ravel()
    return np.bincount(flat, minlength=reps * n_psu).reshape(reps, n_psu).T.astype(float)


def floor_mean_se(w, y, psu, factors, scale):
    ty = np.bincount(psu, w * y, minlength=factors.shape[0])
    tw = np.bincount(psu, w, minlength=factors.shape[0])
    theta = (factors.T @ ty) / (factors.T @ tw)
    return ty.sum() / tw.sum(), float(np.sqrt(scale * ((theta - theta.mean()) ** 2).sum()))


def boot_scale(psu_stratum: np.ndarray, reps: int) -> float:
    """R ``bootweights`` scale: nbar / ((nbar - 1)(R - 1)), nbar the harmonic mean of n_h."""
    n_h = np.bincount(psu_stratum)
    nbar = len(n_h) / np.sum(1 / n_h)
    return nbar / ((nbar - 1) * (reps - 1))


# --------------------------------------------------------------------------- the tools

def setup_floor(a, reps):
    w, y, psu = a["w"], a["y"], a["psu"]
    psu_stratum = np.zeros(N_PSU, dtype=np.int64)
    psu_stratum[psu] = a["stratum"]

    def task():
        f = floor_factors(psu_stratum, reps, 1)
        return floor_mean_se(w, y, psu, f, boot_scale(psu_stratum, reps))
    return task, None


def setup_surveylib(a, reps):
    import pandas as pd

    import surveylib as sl
    d = sl.SurveyDesign(pd.DataFrame(a), strata="stratum", psu="psu", weights="w")

    def task():
        r = d.to_replicates("bootstrap", replicates=reps, seed=1).mean("y", deff=False)
        return float(r.estimate.iloc[0]), float(r.se.iloc[0])

    def check():  # surveylib's SE equals the floor formula on surveylib's own factors
        rep = d.to_replicates("bootstrap", replicates=reps, seed=1)
        r = rep.mean("y", deff=False)
        est, se = floor_mean_se(a["w"], a["y"], a["psu"], rep._replicates.factors, rep.scale)
        return max(abs(r.estimate.iloc[0] / est - 1), abs(r.se.iloc[0] / se - 1))
    return task, check


def setup_surveylib_warm(a, reps):
    """Estimating again on a replicate design made once (outside the timing)."""
    import pandas as pd

    import surveylib as sl
    d = sl.SurveyDesign(pd.DataFrame(a), strata="stratum", psu="psu", weights="w")
    rep = d.to_replicates("bootstrap", replicates=reps, seed=1)

    def task():
        r = rep.mean("y", deff=False)
        return float(r.estimate.iloc[0]), float(r.se.iloc[0])
    return task, None


def setup_svy(a, reps):
    import polars as pl
    import svy
    sample = svy.Sample(pl.DataFrame(a), svy.Design(stratum="stratum", psu="psu", wgt="w"))

    def task():
        b = sample.weighting.create_bs_wgts(reps, rstate=1)
        e = b.estimation.mean("y", method="replication")
        row = e.to_polars().row(0, named=True)
        return float(row["est"]), float(row["se"])
    return task, None


def setup_samplics(a, reps):
    import warnings
    warnings.simplefilter("ignore")
    from samplics.estimation import ReplicateEstimator
    from samplics.utils.types import PopParam, RepMethod
    from samplics.weighting import ReplicateWeight
    # samplics 0.6 gives a PSU's rows different factors unless the rows are sorted by PSU
    # (its SE is then about 5x too small), so the rows are sorted here, outside the timing.
    order = np.lexsort((a["psu"], a["stratum"]))
    w, y, psu, stratum = (a[k][order] for k in ("w", "y", "psu", "stratum"))

    def task():
        rw = ReplicateWeight(RepMethod.bootstrap, strat=True, nb_reps=reps, rand_seed=1)
        repw = rw.replicate(w, psu, stratum)
        est = ReplicateEstimator(RepMethod.bootstrap, PopParam.mean)
        est.estimate(y=y, samp_weight=w, rep_weights=repw.iloc[:, -reps:].to_numpy(),
                     rep_coefs=1 / (reps - 1))
        return float(np.ravel(est.point_est)[0]), float(np.ravel(est.stderror)[0])
    return task, None


# --------------------------------------------------------------------------- stored JK1 columns

STORED_TOOLS = ("numpy floor", "surveylib", "surveylib warm", "svy", "samplics")


def make_stored(n: int, reps: int, seed: int = 1):
    """A frame of ``reps`` JK1 analysis-weight columns ``rw1..``, ``w`` and ``y`` in one float64
    block (built row of the block by row: no n x R temporary), and that block."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    psu = rng.integers(0, reps, n)
    w = rng.uniform(50, 150, reps)[psu]
    block = np.empty((reps + 2, n))
    for r in range(reps):  # column r: w * R/(R-1) outside PSU r, 0 in it
        np.multiply(w, np.where(psu == r, 0.0, reps / (reps - 1)), out=block[r])
    block[reps] = w
    block[reps + 1] = 10 + rng.normal(0, 2, reps)[psu] + rng.normal(0, 5, n)
    names = [f"rw{r + 1}" for r in range(reps)]
    return pd.DataFrame(block.T, columns=[*names, "w", "y"], copy=False), block


#: values per block of the "blocked" floor (and of surveylib's passes over stored columns)
FLOOR_BLOCK = 1 << 18


def floor_stored_se(W, w, y, scale, *, blocked: bool = False):
    """JK1 mean and SE from the R x n replicate columns ``W`` (the frame's own memory):
    ``theta = (W y) / (W 1)`` by matrix-vector products over all rows, or ``blocked`` (both
    products on each block of :data:`FLOOR_BLOCK` values, one read of ``W``)."""
    reps, n = W.shape
    if blocked:  # the full-sample sums in the same blocks (a dot this short is not threaded)
        rows = FLOOR_BLOCK // reps
        ones = np.ones(rows)
        num, den = np.zeros(reps), np.zeros(reps)
        wy = wsum = 0.0
        for a in range(0, n, rows):
            wb, yb = W[:, a:a + rows], y[a:a + rows]
            num += wb @ yb
            den += wb @ ones[:wb.shape[1]]
            wy += w[a:a + rows] @ yb
            wsum += w[a:a + rows].sum()
    else:
        num, den = W @ y, W @ np.ones(n)
        wy, wsum = w @ y, w.sum()
    theta = num / den
    return float(wy / wsum), float(np.sqrt(scale * ((theta - theta.mean()) ** 2).sum()))


FLOOR_VARIANTS = {"two gemv": False, "blocked": True}


def stored_floor(df, block, reps, variant: str = "two gemv"):
    def task():
        return floor_stored_se(block[:reps], block[reps], block[reps + 1], (reps - 1) / reps,
                               blocked=FLOOR_VARIANTS[variant])
    return task, None


def stored_surveylib(df, block, reps, warm=False):
    from surveylib.replicate import ReplicateDesign

    def design():
        return ReplicateDesign(df, weights="w", rep_weights="rw*", type="JK1",
                               scale=(reps - 1) / reps)
    built = design() if warm else None

    def task():
        r = (built or design()).mean("y", deff=False)
        return float(r.estimate.iloc[0]), float(r.se.iloc[0])

    def check():  # surveylib against the floor on the same columns
        est, se = stored_floor(df, block, reps)[0]()
        r = task()
        return max(abs(r[0] / est - 1), abs(r[1] / se - 1))
    return task, check


def stored_samplics(df, block, reps):
    import warnings
    warnings.simplefilter("ignore")
    from samplics.estimation import ReplicateEstimator
    from samplics.utils.types import PopParam, RepMethod

    def task():
        est = ReplicateEstimator(RepMethod.jackknife, PopParam.mean)
        est.estimate(y=block[reps + 1], samp_weight=block[reps], rep_weights=block[:reps].T,
                     rep_coefs=(reps - 1) / reps)
        return float(np.ravel(est.point_est)[0]), float(np.ravel(est.stderror)[0])
    return task, None


def stored_svy(df, block, reps):
    import polars as pl
    import svy
    from svy.core.repwgts import JackknifeWgts

    frame = pl.from_pandas(df)
    sample = svy.Sample(frame, svy.Design(wgt="w", rep_wgts=JackknifeWgts(prefix="rw",
                                                                          n_reps=reps)))

    def task():
        row = sample.estimation.mean("y", method="replication").to_polars().row(0, named=True)
        return float(row["est"]), float(row["se"])
    return task, None


SETUP_STORED = {"numpy floor": stored_floor, "surveylib": stored_surveylib,
                "surveylib warm": lambda df, b, r: stored_surveylib(df, b, r, warm=True),
                "svy": stored_svy, "samplics": stored_samplics}


SETUP = {"numpy floor": setup_floor, "surveylib": setup_surveylib,
         "surveylib warm": setup_surveylib_warm, "svy": setup_svy, "samplics": setup_samplics}


# --------------------------------------------------------------------------- subprocess machinery

def worker(tool: str, rows: int, reps: int, repeat: int, kind: str = "bootstrap") -> None:
    try:
        if kind == "stored" and tool == "numpy floor":  # the faster way is the floor
            df, block = make_stored(rows, reps)
            best = None
            for variant in FLOOR_VARIANTS:
                res, out = measure(stored_floor(df, block, reps, variant)[0], repeat)
                if best is None or res["seconds"] < best[0]["seconds"]:
                    best = (res, out)
                    res["variant"] = variant
            res, out = best
            res.update(estimate=out[0], se=out[1])
            emit(res)
            return
        if kind == "stored":
            df, block = make_stored(rows, reps)
            task, check = SETUP_STORED[tool](df, block, reps)
        else:
            a = make_arrays(rows)
            task, check = SETUP[tool](a, reps)
    except ImportError as exc:
        emit({"error": f"not installed ({exc.name})"})
        return
    res, out = measure(task, repeat)
    res.update(estimate=out[0], se=out[1])
    if check is not None:
        res["check"] = float(check())
    emit(res)


def run(tool: str, rows: int, reps: int, repeat: int, timeout: float,
        kind: str = "bootstrap") -> dict:
    return run_worker(os.path.abspath(__file__),
                      [tool, "--rows", rows, "--reps", reps, "--repeat", repeat, "--task", kind],
                      timeout)


def main_stored(args, vers: list) -> None:
    """The stored-columns table: one block of rows per ``--rows`` value."""
    reps = args.reps[0]
    print(f"{reps} stored JK1 replicate-weight columns ({reps} PSUs); mean + SE; best of "
          f"{args.repeat}; {', '.join(vers)}")
    print("memory: RSS of the tool's subprocess in MiB (base = after imports and data, which "
          "hold the columns once; peak during the task; task = peak - base); load = 1-minute "
          "load average after the tool")
    hdr = (f"{'rows':>11} {'tool':<15}{'seconds':>9}{'base':>7}{'peak':>7}{'task':>7}"
           f"{'t/floor':>9}{'task/fl':>9}{'estimate':>11}{'SE':>10}{'load':>6}")
    for rows in args.rows:
        print(hdr)
        floor = None
        for tool in [t for t in STORED_TOOLS if t in args.tools]:
            need = rows * reps * 8 / 2**20 * {"samplics": 3, "svy": 2.2}.get(tool, 1.2)
            if need > 0.8 * available_mib():
                print(f"{rows:>11,} {tool:<15} not run: about {need / 1024:.1f} GiB needed, "
                      f"{available_mib() / 1024:.1f} GiB available")
                continue
            r = run(tool, rows, reps, args.repeat, args.timeout, "stored")
            if "error" in r:
                print(f"{rows:>11,} {tool:<15} {r['error']}")
                continue
            task = r["peak_mib"] - r["base_mib"]
            if tool == "numpy floor":
                floor = r
            ft = floor["seconds"] if floor else np.nan
            fi = max(floor["peak_mib"] - floor["base_mib"], 1.0) if floor else np.nan
            print(f"{rows:>11,} {tool:<15}{r['seconds']:>9.3f}{r['base_mib']:>7.0f}"
                  f"{r['peak_mib']:>7.0f}{task:>7.0f}{r['seconds'] / ft:>9.2f}"
                  f"{max(task, 1.0) / fi:>9.2f}{r['estimate']:>11.6f}{r['se']:>10.6f}"
                  f"{os.getloadavg()[0]:>6.1f}")
            if "check" in r:
                print(f"{'':>11} {'':<15}surveylib vs the floor: max rel. diff {r['check']:.1e}")
            if "variant" in r:
                print(f"{'':>11} {'':<15}floor: {r['variant']} (the faster of "
                      f"{' and '.join(FLOOR_VARIANTS)})")


def available_mib() -> float:
    with open("/proc/meminfo") as fh:
        return int(re.search(r"MemAvailable:\s+(\d+)", fh.read()).group(1)) / 1024


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=("bootstrap", "stored"), default="bootstrap")
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--reps", type=int, nargs="+", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--tools", nargs="+", default=sorted(set(TOOLS) | set(STORED_TOOLS)))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.reps is None:
        args.reps = [80] if args.task == "stored" else [100, 1000]
    if args.worker:
        worker(args.worker, args.rows[0], args.reps[0], args.repeat, args.task)
        return

    import importlib.metadata as md
    vers = []
    for pkg in ("numpy", "pandas", "polars", "surveylib", "svy", "samplics"):
        try:
            vers.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            vers.append(f"{pkg} -")
    if args.task == "stored":
        main_stored(args, vers)
        return
    args.rows = args.rows[0]
    print(f"{args.rows:,} rows, {N_PSU} PSUs, {N_STRATA} strata; bootstrap mean + SE; "
          f"best of {args.repeat}; {', '.join(vers)}")
    print("memory: RSS of the tool's subprocess in MiB (base = after imports and data; "
          "peak during the task; task = peak - base)")
    hdr = (f"{'R':>5} {'tool':<15}{'seconds':>9}{'base':>7}{'peak':>7}{'task':>7}"
           f"{'t/floor':>9}{'peak/fl':>9}{'task/fl':>9}{'estimate':>10}{'SE':>9}")
    incr: dict[str, float] = {}
    for reps in sorted(args.reps):
        print(hdr)
        floor = None
        for tool in [t for t in TOOLS if t in args.tools]:
            if tool in incr and reps > min(args.reps):
                need = incr[tool] * reps / min(args.reps)
                if need > 0.8 * available_mib():
                    print(f"{reps:>5} {tool:<15} not run: about {need / 1024:.1f} GiB projected from "
                          f"R={min(args.reps)}, {available_mib() / 1024:.1f} GiB available")
                    continue
            r = run(tool, args.rows, reps, args.repeat, args.timeout)
            if "error" in r:
                print(f"{reps:>5} {tool:<15} {r['error']}")
                continue
            task = r["peak_mib"] - r["base_mib"]
            if reps == min(args.reps):
                incr[tool] = max(task, 1.0)
            if tool == "numpy floor":
                floor = r
            ft = floor["seconds"] if floor else np.nan
            fp = floor["peak_mib"] if floor else np.nan
            fi = max(floor["peak_mib"] - floor["base_mib"], 1.0) if floor else np.nan
            print(f"{reps:>5} {tool:<15}{r['seconds']:>9.3f}{r['base_mib']:>7.0f}{r['peak_mib']:>7.0f}"
                  f"{task:>7.0f}{r['seconds'] / ft:>9.2f}{r['peak_mib'] / fp:>9.2f}"
                  f"{max(task, 1.0) / fi:>9.2f}{r['estimate']:>10.5f}{r['se']:>9.5f}")
            if "check" in r:
                print(f"{'':>5} {'':<15}surveylib vs floor formula on its own factors: "
                      f"max rel. diff {r['check']:.1e}")


if __name__ == "__main__":
    main()
