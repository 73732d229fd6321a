"""Raking 1M rows to three margins: surveylib against a numpy floor and peers (not a test).

    python benchmarks/bench_weighting.py [--rows 1000000] [--repeat 3]

Data, generated in the run: ``--rows`` rows with sex (2) x age group (6), ethnicity (3) and
region (6), base weights uniform on [50, 150], and population margins for sex x age (12 cells),
ethnicity and region with the same total.  Tools, each in its own subprocess:

* numpy floor -- codes of the margin levels (``Index.get_indexer``), ``bincount`` of the joint
  cells, IPF on the 216-cell table, weights mapped back to rows; also timed without the coding;
* surveylib -- ``SurveyDesign.rake`` (codes, IPF on the cell table, the adjustment record) on
  one design: the column codes are cached on the design's data after the first call, as the
  estimators' are;
* surveylib, cold -- the same on a newly built design each call (construction and coding the
  columns included), the fair comparison with tools that keep no state between calls;
* svy -- ``Sample.weighting.rake(controls=...)``;
* samplics -- ``SampleWeight().rake``;
* weightipy -- ``weight_dataframe(df, scheme_from_dict(...))``;
* balance -- not installable here next to numpy 2.4 (on Python 3.11 it requires numpy < 2,
  scipy < 1.14 and scikit-learn < 1.4); run if importable.

Peers get a ready-made sex x age column (built outside the timing); surveylib and the floor
code the two columns themselves.  Every tool runs to a tight tolerance (1e-10 in its own
criterion) so that all reach the same fixed point; the script prints each tool's largest
relative difference from surveylib's weights.  weightipy ignores base weights (it rakes from
1), so its weights are compared with surveylib raking constant weights, after scaling to the
same total.

Time is the best of ``--repeat`` calls.  Memory is the resident set (RSS) of the subprocess, which
sees Rust and C allocations: the baseline after imports and data, the peak during the calls
(``VmHWM`` after a reset through ``/proc/self/clear_refs``), and the increment.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings

import numpy as np
from _isolated import emit, measure, run_worker

TOL = 1e-10
AGES = ["15-17", "18-29", "30-39", "40-49", "50-59", "60+"]
TOOLS = ("numpy floor", "surveylib", "surveylib, cold", "svy", "samplics", "weightipy",
         "balance")


# --------------------------------------------------------------------------- data and floor

def make_data(n: int, seed: int = 1):
    import pandas as pd
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "sex": rng.choice([1, 2], n, p=[0.45, 0.55]),
        "agegrp": rng.choice(AGES, n),
        "ethnic": rng.choice(["Kazakh", "Russian", "Other"], n, p=[0.5, 0.35, 0.15]),
        "region": rng.integers(1, 7, n),
        "w": rng.uniform(50, 150, n),
    })
    total = df["w"].sum()
    margins = {
        ("sex", "agegrp"): pd.Series(
            rng.dirichlet(np.ones(12) * 10) * total,
            index=pd.MultiIndex.from_product([[1, 2], AGES], names=["sex", "agegrp"])),
        "ethnic": {"Kazakh": 0.6 * total, "Russian": 0.25 * total, "Other": 0.15 * total},
        "region": dict(zip(range(1, 7), rng.dirichlet(np.ones(6) * 10) * total, strict=True)),
    }
    return df, margins


def flat_margins(df, margins):
    """Peers' form: a ready-made 'sexage' column and {column: {level: total}}."""
    df = df.copy()
    df["sexage"] = df["sex"].astype(str) + ":" + df["agegrp"]
    ctrl = {"sexage": {f"{s}:{a}": float(v) for (s, a), v in margins[("sex", "agegrp")].items()},
            "ethnic": {k: float(v) for k, v in margins["ethnic"].items()},
            "region": {k: float(v) for k, v in margins["region"].items()}}
    return df, ctrl


def codes_and_targets(df, margins):
    """Integer level codes per margin and the target vector."""
    import pandas as pd
    out = []
    for key, spec in margins.items():
        cols = list(key) if isinstance(key, tuple) else [key]
        s = pd.Series(spec) if isinstance(spec, dict) else spec
        idx = pd.MultiIndex.from_frame(df[cols]) if len(cols) > 1 else pd.Index(df[cols[0]])
        out.append((s.index.get_indexer(idx).astype(np.int64), s.to_numpy(dtype=float)))
    return out


def numpy_ipf(w, coded, tol=TOL, max_iter=1000):
    """IPF on the joint cell table (O(cells) per pass), stopping as R's rake does."""
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
    t, eps = t0.copy(), tol * w.sum()
    for _ in range(max_iter):
        prev = t
        for lev, (_, target) in zip(levs, coded, strict=True):
            t = t * (target / np.bincount(lev, weights=t, minlength=len(target)))[lev]
        if np.max(np.abs(t - prev)) < eps:
            break
    return w * (t / t0)[inv]


# --------------------------------------------------------------------------- the tools
# Each setup returns (task, aux): task() returns the final weights; aux() (untimed) returns
# extra reference weights to save, or None.

def setup_floor(df, margins, coded_only=False):
    w = df["w"].to_numpy()
    if coded_only:
        coded = codes_and_targets(df, margins)
        return (lambda: numpy_ipf(w, coded)), None
    return (lambda: numpy_ipf(w, codes_and_targets(df, margins))), None


def setup_surveylib(df, margins, cold=False):
    import surveylib as sl

    def design(data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sl.SurveyDesign(data, weights="w")
    d = design(df)
    d1 = design(df.assign(w=1.0))

    def unit():  # reference for weightipy, which rakes from constant weights
        return d1.rake(margins, tol=TOL, max_iter=1000).weights.to_numpy()
    if cold:
        return (lambda: design(df).rake(margins, tol=TOL, max_iter=1000).weights.to_numpy()), None
    return (lambda: d.rake(margins, tol=TOL, max_iter=1000).weights.to_numpy()), unit


def setup_svy(df, margins):
    import polars as pl
    import svy
    fdf, ctrl = flat_margins(df, margins)
    sample = svy.Sample(pl.from_pandas(fdf[["sexage", "ethnic", "region", "w"]]),
                        svy.Design(wgt="w"))

    def task():
        r = sample.weighting.rake(controls=ctrl, tol=TOL, max_iter=1000)
        return r.data["rk_wgt"].to_numpy()
    return task, None


def setup_samplics(df, margins):
    warnings.simplefilter("ignore")
    from samplics.weighting import SampleWeight
    fdf, ctrl = flat_margins(df, margins)
    w = fdf["w"].to_numpy()
    x = {k: fdf[k].to_numpy() for k in ctrl}
    return (lambda: np.asarray(SampleWeight().rake(w, x, control=ctrl, tol=TOL, ctrl_tol=TOL,
                                                   max_iter=1000), dtype=float)), None


def setup_weightipy(df, margins):
    import weightipy as wp
    fdf, ctrl = flat_margins(df, margins)
    fdf = fdf[["sexage", "ethnic", "region"]]
    total = sum(ctrl["region"].values())
    dist = {k: {lev: 100 * v / total for lev, v in m.items()} for k, m in ctrl.items()}
    scheme = wp.scheme_from_dict(dist, rim_params={"max_iterations": 1000, "convcrit": 1e-12})

    def task():
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):  # weightipy prints its convergence
            out = wp.weight_dataframe(fdf, scheme, weight_column="wt")
        return out["wt"].to_numpy(dtype=float)
    return task, None


def setup_balance(df, margins):
    import balance  # noqa: F401  (not installable next to numpy 2.4 on Python 3.11)
    raise NotImplementedError("balance is importable but its raking call is not wired up")


SETUP = {"numpy floor": setup_floor, "surveylib": setup_surveylib,
         "surveylib, cold": lambda df, m: setup_surveylib(df, m, cold=True), "svy": setup_svy,
         "samplics": setup_samplics, "weightipy": setup_weightipy, "balance": setup_balance,
         "numpy floor, coded": lambda df, m: setup_floor(df, m, coded_only=True)}


# --------------------------------------------------------------------------- subprocess machinery

def worker(tool: str, rows: int, repeat: int, outdir: str) -> None:
    try:
        df, margins = make_data(rows)
        task, aux = SETUP[tool](df, margins)
    except ImportError as exc:
        emit({"error": f"not importable ({exc.name})"})
        return
    res, out = measure(task, repeat)
    np.save(os.path.join(outdir, f"{tool}.npy"), out)
    if aux is not None:
        np.save(os.path.join(outdir, f"{tool} unit.npy"), aux())
    emit({k: res[k] for k in ("seconds", "base_mib", "peak_mib")})


def run(tool, rows, repeat, outdir, timeout):
    return run_worker(os.path.abspath(__file__),
                      [tool, "--rows", rows, "--repeat", repeat, "--outdir", outdir], timeout)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--outdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.rows, args.repeat, args.outdir)
        return

    import importlib.metadata as md
    vers = []
    for pkg in ("numpy", "pandas", "polars", "surveylib", "svy", "samplics", "weightipy",
                "balance"):
        try:
            vers.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            vers.append(f"{pkg} -")
    print(f"raking {args.rows:,} rows to sex x agegrp (12), ethnic (3), region (6); "
          f"tol {TOL:g}; best of {args.repeat}; {', '.join(vers)}")
    print("memory: RSS of the tool's subprocess in MiB (base = after imports and data; "
          "peak during the calls; task = peak - base)")
    print(f"{'tool':<20}{'seconds':>9}{'base':>7}{'peak':>7}{'task':>7}"
          f"{'t/floor':>9}{'t/surveylib':>12}{'task/floor':>11}  max rel. diff vs surveylib")
    tools = ["numpy floor", "numpy floor, coded"] + [t for t in TOOLS[1:] if t in args.tools]
    with tempfile.TemporaryDirectory() as outdir:
        res = {t: run(t, args.rows, args.repeat, outdir, args.timeout) for t in tools}
        ref = np.load(os.path.join(outdir, "surveylib.npy")) if "seconds" in res.get(
            "surveylib", {}) else None
        ref_unit = (np.load(os.path.join(outdir, "surveylib unit.npy"))
                    if ref is not None else None)
        fl, sl_ = res["numpy floor"], res.get("surveylib", {})
        for tool in tools:
            r = res[tool]
            if "error" in r:
                print(f"{tool:<20} {r['error']}")
                continue
            diff = ""
            if ref is not None:
                w = np.load(os.path.join(outdir, f"{tool}.npy"))
                if tool == "weightipy":
                    w = w * ref_unit.sum() / w.sum()
                    diff = (f"{np.max(np.abs(w / ref_unit - 1)):.1e} "
                            "(vs surveylib raking constant weights)")
                else:
                    diff = f"{np.max(np.abs(w / ref - 1)):.1e}"
            task = max(r["peak_mib"] - r["base_mib"], 1.0)
            ftask = max(fl["peak_mib"] - fl["base_mib"], 1.0)
            print(f"{tool:<20}{r['seconds']:>9.3f}{r['base_mib']:>7.0f}{r['peak_mib']:>7.0f}"
                  f"{task:>7.0f}{r['seconds'] / fl['seconds']:>9.2f}"
                  f"{r['seconds'] / sl_.get('seconds', np.nan):>12.2f}{task / ftask:>11.2f}  {diff}")


if __name__ == "__main__":
    main()
