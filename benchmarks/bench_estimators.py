"""Speed and memory of the Taylor estimators against a numpy floor and peers, in one run.

    python benchmarks/bench_estimators.py [--rows 1000000] [--repeat 3] [--tasks NAME ...]
                                          [--tools numpy surveylib "sl (cold)" svy samplics]

Data: ``--rows`` rows, 6 strata, 600 PSUs, a numeric y, a binary yb, a 5-level categorical
``cat``, a 6-level ``c6``, a 4-level ``age4``, a 10-level domain and a positive x.  Tasks:
mean + SE; all proportions of ``cat`` (Wald interval); the mean in 10 domains; the shares of
``cat`` with the default logit interval; the median with its Woodruff SE; the Rao–Scott test of
``cat`` x ``c6`` (5 x 6); raking to the margins of ``cat`` and ``age4`` (integer codes); a
logistic GLM ``yb ~ y + C(age4)``; the ratio of the totals of ``y`` and ``x`` with its SE.

The floor is the least numpy work that gives the same numbers from integer codes with no
validation, labels or result objects: group sums with ``bincount`` and the between-PSU sum of
squares (shares and the 5 x 6 table: one ``bincount`` over PSU x cell; the median: the rows
near it sorted, the rest summed, and the Wald interval of the CDF share; raking: IPF on the 20-cell table
and one pass to expand; the GLM: the one-hot design matrix, IRLS with one log per row for the
deviance, and the PSU totals of the score weights times x, multiplied by the inverse
information; the ratio: one bincount of ``w y`` and one of ``w x`` over the PSUs).  svy is
timed on every task and samplics on the first three and the ratio, when importable
(``pip install .[bench]``); svy's ``prop`` has no Wald interval, so its "all proportions" is
the logit one.

Every (task, tool) runs in its own subprocess (``_isolated.py``): seconds are the best of
``--repeat`` calls, memory the increment of the subprocess's peak resident set over its
baseline after imports and data.  "surveylib" repeats the call on one design (its cached codes
and PSU sums reused); "sl (cold)" builds a new design inside every timed call.  Not a test.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
from _isolated import emit, measure, run_worker

TOOLS = ("numpy", "surveylib", "sl (cold)", "svy", "samplics")
RAKE_CAT = {k: 2e7 for k in range(5)}
RAKE_AGE = {0: 3e7, 1: 3e7, 2: 2e7, 3: 2e7}


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
        "c6": rng.integers(0, 6, n),
        "age4": rng.integers(0, 4, n),
        "yb": (rng.uniform(size=n) < 0.3 + 0.1 * (stratum % 3)).astype(float),
        "x": rng.gamma(4.0, 5.0, n) + stratum,  # drawn last: the columns above are unchanged
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
    return shares_vcov(psu_level_weights(df, cat, levels))[0]


def psu_level_weights(df: pd.DataFrame, cat: np.ndarray, levels: int) -> np.ndarray:
    """The 600 x levels table of weight sums per (PSU, level): one bincount."""
    w = df["w"].to_numpy()
    psu = df["psu"].to_numpy()
    return np.bincount(psu * levels + cat, w, minlength=600 * levels).reshape(600, levels)


def shares_vcov(wl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The covariance of the shares of every level and the shares, from ``wl``."""
    wp = wl.sum(axis=1, keepdims=True)
    total = wp.sum()
    p = wl.sum(axis=0) / total
    totals = (wl - p * wp) / total  # PSU totals of w (1[y = l] - p_l) / sum(w)
    psu_stratum = np.arange(600) % 6
    n_h = np.bincount(psu_stratum).astype(float)
    return floor_vcov(totals, psu_stratum, n_h), p


PSU_STRATUM = np.arange(600) % 6
N_H = np.bincount(PSU_STRATUM).astype(float)
DEGF = 600 - 6


def floor_logit_shares(df: pd.DataFrame, cat: np.ndarray, levels: int):
    """Shares with their covariance and the logit interval at the design df."""
    from scipy import stats
    v, p = shares_vcov(psu_level_weights(df, cat, levels))
    se = np.sqrt(np.diag(v))
    half = stats.t.ppf(0.975, DEGF) * se / (p * (1 - p))
    eta = np.log(p / (1 - p))
    return 1 / (1 + np.exp(-(eta - half))), 1 / (1 + np.exp(-(eta + half)))


def floor_median(df: pd.DataFrame):
    """Median (R's qrule "math") and its Woodruff SE without sorting every row: the rows
    between two values of a systematic sample that bracket the shares 0.5 +/- 0.025 are
    sorted (the median and both interval ends fall among them), the rest only summed; the
    share at or below the median by PSU (one bincount) and its interval mapped back."""
    from scipy import stats
    y, w, psu = df["y"].to_numpy(), df["w"].to_numpy(), df["psu"].to_numpy()
    total = w.sum()
    s = np.sort(y[:: len(y) // 8192])
    lo, hi = s[int(0.475 * len(s))], s[int(0.525 * len(s))]
    le = y <= lo
    rows = np.flatnonzero(~le & (y <= hi))
    order = np.argsort(y[rows])
    ys = y[rows][order]
    cum = np.einsum("i,i->", w, le) + np.cumsum(w[rows[order]])

    def at(p):
        return ys[np.searchsorted(cum, p * total, side="right")]

    q = at(0.5)
    below = y <= q
    phat = np.einsum("i,i->", w, below) / total
    totals = np.bincount(psu, w * (below - phat), minlength=600)[:, None] / total
    se_p = np.sqrt(floor_vcov(totals, PSU_STRATUM, N_H)[0, 0])
    t = stats.t.ppf(0.975, DEGF)
    return q, (at(phat + t * se_p) - at(phat - t * se_p)) / (2 * t)


def floor_raoscott(df: pd.DataFrame, nr: int = 5, nc: int = 6):
    """Rao–Scott second-order F test of cat x c6: one bincount over PSU x 30 cells gives the
    shares and their covariance, then the algebra on the 30 x 30 matrices (R svychisq)."""
    from scipy import stats
    k = nr * nc
    cell = df["cat"].to_numpy() * nc + df["c6"].to_numpy()
    V, p = shares_vcov(psu_level_weights(df, cell, k))  # the shares come from the same table
    N = len(df)
    r, c = np.repeat(np.arange(nr), nc), np.tile(np.arange(nc), nr)
    X1 = np.column_stack([np.ones(k)] + [(r == i) * 1.0 for i in range(1, nr)]
                         + [(c == j) * 1.0 for j in range(1, nc)])
    X12 = np.column_stack([((r == i) & (c == j)) * 1.0 for j in range(1, nc)
                           for i in range(1, nr)])
    C = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    idg = 1 / p
    delta = np.linalg.solve((C.T * (idg / N)) @ C, (C.T * idg) @ V @ (idg[:, None] * C))
    tr = np.trace(delta)
    d0 = tr**2 / np.trace(delta @ delta)
    e = np.bincount(r, p)[r] * np.bincount(c, p)[c]
    stat = N * np.sum((p - e) ** 2 / e) / tr
    return stat, stats.f.sf(stat, d0, d0 * DEGF)


def floor_rake(df: pd.DataFrame, tol: float = 1e-7):
    """IPF on the 20-cell table of cat x age4, then one pass to expand the weights."""
    w = df["w"].to_numpy()
    cell = df["cat"].to_numpy() * 4 + df["age4"].to_numpy()
    t0 = np.bincount(cell, w, minlength=20)
    lev = [np.arange(20) // 4, np.arange(20) % 4]
    tg = [np.array(list(RAKE_CAT.values())), np.array(list(RAKE_AGE.values()))]
    T = t0
    eps = tol * w.sum()
    for _ in range(100):
        prev = T
        for lv, t in zip(lev, tg, strict=True):
            T = T * (t / np.bincount(lv, T, minlength=len(t)))[lv]
        if np.max(np.abs(T - prev)) < eps:
            break
    return w * (T / t0)[cell]


def floor_ratio(df: pd.DataFrame):
    """Ratio of totals sum(w y) / sum(w x) and its SE: one bincount of w y and one of w x over
    the PSUs; the PSU totals of the scores are (WY - R WX) / sum(w x) (R svyratio)."""
    y, x, w, psu = (df[c].to_numpy() for c in ("y", "x", "w", "psu"))
    wy = np.bincount(psu, w * y, minlength=600)
    wx = np.bincount(psu, w * x, minlength=600)
    den = wx.sum()
    r = wy.sum() / den
    totals = ((wy - r * wx) / den)[:, None]
    return r, np.sqrt(floor_vcov(totals, PSU_STRATUM, N_H)[0, 0])


def floor_glm(df: pd.DataFrame, tol: float = 1e-12):
    """Logistic regression of yb on y and the 3 treatment columns of age4 (IRLS from R's
    start, R's stopping rule) with the covariance of the PSU totals of its scores.

    Minimal: the 0/1 response's deviance takes one log per row; the last step's X'WX is the
    one inverted; the PSU totals of ``w x (y - mu)`` are multiplied by its inverse (p x p)
    rather than every row's score.
    """
    y, x, a = df["yb"].to_numpy(), df["y"].to_numpy(), df["age4"].to_numpy()
    psu = df["psu"].to_numpy()
    w = df["w"].to_numpy()
    w = w / w.mean()
    X = np.empty((len(y), 5))
    X[:, 0], X[:, 1] = 1.0, x
    X[:, 2:] = a[:, None] == np.arange(1, 4)
    one = y == 1

    def dev(mu):
        return -2 * np.sum(w * np.log(np.where(one, mu, 1 - mu)))

    mu = (w * y + 0.5) / (w + 1)
    eta = np.log(mu / (1 - mu))
    old = dev(mu)
    for _ in range(100):
        g = mu * (1 - mu)
        ww = w * g
        A = X.T @ (X * ww[:, None])
        beta = np.linalg.solve(A, X.T @ (ww * (eta + (y - mu) / g)))
        eta = X @ beta
        mu = 1 / (1 + np.exp(-eta))
        new = dev(mu)
        if abs(new - old) / (abs(new) + 0.1) < tol:
            break
        old = new
    sw = (y - mu) / (mu * (1 - mu)) * ww
    totals = np.column_stack([np.bincount(psu, sw * X[:, j], minlength=600) for j in range(5)])
    return beta, floor_vcov(totals @ np.linalg.inv(A), PSU_STRATUM, N_H)


def floor_tasks(df):
    n = len(df)
    y = df["y"].to_numpy()
    cat = df["cat"].to_numpy()
    dom = df["dom"].to_numpy()
    return {
        "mean + SE": lambda: floor_cells(df, np.zeros(n, dtype=np.int64), 1, y),
        "all proportions": lambda: floor_shares(df, cat, 5),
        "10 domain means": lambda: floor_cells(df, dom, 10, y),
        "proportion logit": lambda: floor_logit_shares(df, cat, 5),
        "median Woodruff": lambda: floor_median(df),
        "Rao-Scott 5x6": lambda: floor_raoscott(df),
        "rake 2 margins": lambda: floor_rake(df),
        "GLM logit 4-lev": lambda: floor_glm(df),
        "ratio": lambda: floor_ratio(df),
    }


def surveylib_tasks(df, *, cold: bool = False):
    """The tasks on one design (warm: its cached codes and PSU sums are reused), or, with
    ``cold=True``, each call on a newly built design (construction included)."""
    import surveylib as sl

    def design():
        return sl.SurveyDesign(df, strata="stratum", psu="psu", weights="w")

    d = design()
    get = design if cold else (lambda: d)
    margins = {"cat": RAKE_CAT, "age4": RAKE_AGE}
    return {
        "mean + SE": lambda: get().mean("y", deff=False).se,
        "all proportions": lambda: get().proportion("cat", ci_method="wald", deff=False).se,
        "10 domain means": lambda: get().mean("y", by="dom", deff=False).se,
        "proportion logit": lambda: get().proportion("cat", deff=False).ci(),
        "median Woodruff": lambda: get().quantile("y", 0.5).se,
        "Rao-Scott 5x6": lambda: get().crosstab("cat", "c6").test().p_value,
        "rake 2 margins": lambda: get().rake(margins).weights,
        "GLM logit 4-lev": lambda: get().glm("yb ~ y + C(age4)", family="binomial").se,
        "ratio": lambda: get().ratio("y", "x", deff=False).se,
    }


def svy_tasks(df):
    try:
        import polars as pl
        import svy
    except ImportError:
        return None
    frame = pl.DataFrame({c: df[c].to_numpy() for c in df.columns})
    sample = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="w"))
    est = sample.estimation
    margins = {"cat": RAKE_CAT, "age4": RAKE_AGE}
    return {
        "mean + SE": lambda: est.mean("y"),
        "all proportions": lambda: est.prop("cat"),  # svy has no Wald interval: logit
        "10 domain means": lambda: est.mean("y", by="dom"),
        "proportion logit": lambda: est.prop("cat"),
        "median Woodruff": lambda: est.median("y"),
        "Rao-Scott 5x6": lambda: sample.categorical.tabulate("cat", "c6").stats,
        "rake 2 margins": lambda: sample.weighting.rake(controls=margins, tol=1e-7),
        "GLM logit 4-lev": lambda: sample.glm.fit("yb", x=["y", svy.Cat("age4")],
                                                  family="binomial").coefs,
        "ratio": lambda: est.ratio("y", "x"),
    }


def samplics_tasks(df):
    try:
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam
    except ImportError:
        return None

    def run(param, y, domain=None, x=None):
        est = TaylorEstimator(param)
        est.estimate(y=y, samp_weight=df["w"].to_numpy(), x=x, stratum=df["stratum"].to_numpy(),
                     psu=df["psu"].to_numpy(), domain=domain, remove_nan=False)
        return est

    return {
        "mean + SE": lambda: run(PopParam.mean, df["y"].to_numpy()),
        "all proportions": lambda: run(PopParam.prop, df["cat"].to_numpy()),
        "10 domain means": lambda: run(PopParam.mean, df["y"].to_numpy(), df["dom"].to_numpy()),
        "ratio": lambda: run(PopParam.ratio, df["y"].to_numpy(), x=df["x"].to_numpy()),
    }


def tool_tasks(tool: str, df):
    if tool == "numpy":
        return floor_tasks(df)
    if tool in ("surveylib", "sl (cold)"):
        return surveylib_tasks(df, cold=tool == "sl (cold)")
    return {"svy": svy_tasks, "samplics": samplics_tasks}[tool](df)


def worker(task: str, tool: str, rows: int, repeat: int) -> None:
    """Measure one (task, tool) in this process and print the result line."""
    import warnings
    df = make_data(rows)
    tasks = tool_tasks(tool, df)
    if tasks is None or task not in tasks:
        emit({"error": "not installed" if tasks is None else "no such task"})
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m, _ = measure(tasks[task], repeat)
    emit(m)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tasks", nargs="*", help="task names (default: all)")
    ap.add_argument("--tools", nargs="*", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(*args.worker, args.rows, args.repeat)
        return
    df = make_data(args.rows)
    data_mb = df.memory_usage(deep=True).sum() / 2**20
    names = args.tasks or list(floor_tasks(df))
    del df
    print(f"{args.rows:,} rows, 6 strata, 600 PSUs; data {data_mb:.0f} MiB; best of "
          f"{args.repeat}; each task and tool in its own subprocess")
    print(f"{'task':<18}{'tool':<11}{'seconds':>9}{'x floor':>9}{'+RSS MiB':>10}")
    script = os.path.abspath(__file__)
    for task in names:
        t_floor = None
        for tool in ["numpy", *[t for t in args.tools if t != "numpy"]]:
            r = run_worker(script, [task, tool, "--rows", args.rows, "--repeat", args.repeat],
                           timeout=600)
            if "error" in r:
                if r["error"] not in ("not installed", "no such task"):
                    print(f"{task:<18}{tool:<11} failed: {r['error']}")
                continue
            t = r["seconds"]
            t_floor = t if tool == "numpy" else t_floor
            ratio = t / t_floor if t_floor else float("nan")
            print(f"{task:<18}{tool:<11}{t:>9.4f}{ratio:>9.2f}"
                  f"{r['peak_mib'] - r['base_mib']:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
