"""Multiple reconstruction: K respondent files, each reproducing every published figure.

One reconstruction is one point of a large set of respondent files that all fit a
publication.  :func:`reconstruct_draws` writes ``K`` of them, spread over that set in two ways
the study declares in its reconstruction file (``study: draws:``):

* **alternative readings** — each draw takes one value of every knob listed under
  ``readings`` (uniformly at random; e.g. another resolution of a conflict, another frame),
  and a value drawn uniformly from each interval under ``ranges`` (e.g. association
  strengths);
* **perturbed priors** — every integer problem (the core and each item problem) is solved at
  minimum L1 distance from its prior multiplied by log-normal noise whose sd (the knob
  ``prior_noise``) is drawn uniformly from the interval ``prior_noise``; a larger sd moves
  the optimum further along the feasible set, in a random direction.  Each draw also has its
  own seed, so the rank-based assignment of unpublished columns differs.

Every draw is checked with :func:`~surveylib.reconstruct.verify.verify`; a draw whose
readings have no solution, or that misses a figure, is redrawn (``attempt`` + 1, up to
``max_attempts``) and the attempts are recorded.  Draw ``i`` depends only on ``(seed, i)``,
so the files are the same whatever the number of worker processes: each draw's integer
problems stop at a relative gap and a node count
(:func:`~surveylib.reconstruct.milp.solver_options`), not at the wall-clock limit (kept as a
safety net) that the machine's load could move.

What draws cannot represent: readings the study did not list, priors far outside the noise
(the L1 optimum of a perturbed prior is a vertex near it, not a uniform sample of the
feasible set), and anything about the original respondents beyond the published figures.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ReconstructionError
from ..io import write_csv
from ._alloc import generator
from .config import ReconstructionConfig, coerce_config

__all__ = ["DRAW_COLUMNS", "Draw", "plan_draw", "reconstruct_draws"]

#: Columns of ``draws.csv``, the manifest of a multiple reconstruction.
DRAW_COLUMNS = ("draw", "folder", "attempt", "seed", "readings", "checked", "failed",
                "seconds")


@dataclass(frozen=True)
class Draw:
    """One planned reconstruction: its number, attempt, seed and knob changes."""

    index: int
    attempt: int
    seed: int
    changes: Mapping

    @property
    def folder(self) -> str:
        return f"draw_{self.index:03d}"

    def readings(self) -> str:
        """The knob changes as one line, ``knob=value; ...`` (floats to 3 decimals)."""
        def show(v):
            return f"{v:.3f}" if isinstance(v, float) else str(v)

        return "; ".join(f"{k}={show(v)}" for k, v in self.changes.items() if k != "seed")


def plan_draw(cfg: ReconstructionConfig, index: int, seed: int, attempt: int = 0) -> Draw:
    """The knob changes of draw ``index`` (a function of ``seed``, ``index`` and ``attempt``)."""
    spec = cfg.study.draws if cfg.study is not None else {}
    rng = generator(seed, 7, index, attempt)
    changes: dict = {"seed": int(rng.integers(1, 2**31 - 1))}
    for knob, values in (spec.get("readings") or {}).items():
        values = list(values)
        changes[knob] = _thaw(values[int(rng.integers(len(values)))])
    lo, hi = spec.get("prior_noise") or (0.0, 0.0)
    changes["prior_noise"] = float(rng.uniform(float(lo), float(hi)))
    for knob, (lo, hi) in (spec.get("ranges") or {}).items():
        changes[knob] = float(rng.uniform(float(lo), float(hi)))
    unknown = sorted(set(changes) - set(cfg.names))
    if unknown:
        raise ReconstructionError(
            f"the study's draws section names knobs {unknown} that its config does not "
            "declare; add them to `config:` in the reconstruction file.",
            parameter="draws", value=unknown)
    return Draw(index, attempt, changes["seed"], changes)


def _thaw(v):
    """Plain (picklable) copy of a frozen config value."""
    if isinstance(v, Mapping):
        return {k: _thaw(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [_thaw(x) for x in v]
    return v


@functools.lru_cache(maxsize=4)
def _study(paths):
    """The study spec of ``paths``, read once per worker process (it is not picklable)."""
    from .spec import load_config

    return load_config(paths=paths).study


def _run_one(knobs: dict, paths, out: str, index: int, seed: int, max_attempts: int,
             analyse: Callable | None):
    """Worker: reconstruct draw ``index`` into ``out/draw_NNN`` (redrawn until it verifies).

    Each attempt is built and verified in memory; only the attempt that reproduces every
    published figure is written.
    """
    from . import write_reconstruction
    from .build import build_all
    from .targets import load_targets
    from .verify import failures, verify

    t0 = time.perf_counter()
    base = ReconstructionConfig(knobs, study=_study(paths))
    errors = []
    for attempt in range(max_attempts):
        draw = plan_draw(base, index, seed, attempt)
        cfg = base.replace(**draw.changes)
        try:
            targets = load_targets(config=cfg)
            results = build_all(targets, cfg)
        except ReconstructionError as exc:
            errors.append(f"attempt {attempt} ({draw.readings()}): {str(exc)[:200]}")
            continue
        table = verify({w: r.data for w, r in results.items()}, targets=targets, config=cfg)
        failed = len(failures(table))
        if failed:
            errors.append(f"attempt {attempt}: {failed} figures out of tolerance")
            continue
        folder = Path(out) / draw.folder
        folder.mkdir(parents=True, exist_ok=True)
        write_reconstruction(folder, results, targets, cfg, table, sav=False)
        record = {"draw": index, "folder": draw.folder, "attempt": attempt, "seed": draw.seed,
                  "readings": draw.readings(), "checked": int(len(table)), "failed": failed,
                  "seconds": round(time.perf_counter() - t0, 1)}
        result = analyse(folder) if analyse is not None else None
        return record, result
    raise ReconstructionError(
        f"draw {index}: no attempt out of {max_attempts} reproduced every published figure: "
        + " | ".join(errors), parameter="draws", value=index)


class Progress:
    """A one-line progress bar (``[draws] ####---- 12/200, 34 s, about 310 s left``).

    Parameters
    ----------
    total : int
        Steps to count.
    label : str
        Shown in brackets before the bar.
    stream : file-like, optional
        Where to write (default ``sys.stderr``).
    enabled : bool
        ``False`` (``--quiet``) writes nothing; so does a ``stream`` that is not a terminal,
        so that logs and pipes never receive carriage returns.
    """

    def __init__(self, total: int, label: str, *, stream=None, enabled: bool = True):
        self.total, self.label, self.done = int(total), label, 0
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(enabled) and callable(isatty) and bool(isatty())
        self.t0 = time.perf_counter()

    def line(self) -> str:
        """The bar's current text (without the leading carriage return)."""
        elapsed = time.perf_counter() - self.t0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        text = (f"[{self.label}] {'#' * filled}{'-' * (width - filled)} "
                f"{self.done}/{self.total}, {elapsed:.0f} s")
        if 0 < self.done < self.total:
            text += f", about {elapsed / self.done * (self.total - self.done):.0f} s left"
        return text

    def step(self, n: int = 1) -> None:
        """Count ``n`` more steps and redraw the bar (a newline after the last)."""
        self.done += n
        if not self.enabled:
            return
        end = "\n" if self.done >= self.total else ""
        self.stream.write("\r" + self.line() + end)
        self.stream.flush()


def reconstruct_draws(out_dir, *, draws: int, seed: int | None = None, config=None,
                      jobs: int | None = None, progress: bool = True, max_attempts: int = 20,
                      analyse: Callable | None = None):
    """Write ``draws`` reconstructions into ``out_dir/draw_001`` ... and ``draws.csv``.

    Parameters
    ----------
    out_dir : path-like
        Folder to write into (created).  Each draw's folder holds the respondent CSV files,
        ``targets.csv`` (its readings), ``verification.csv`` and ``provenance.json``.
    draws : int
        Number of reconstructions, K >= 1.
    seed : int, optional
        Master seed (default: the config's ``seed``); draw ``i`` depends on ``(seed, i)`` only,
        so the files are the same whatever ``jobs`` and ``draws`` (draw 3 of K = 5 is draw 3
        of K = 200).
    config : ReconstructionConfig or mapping, optional
        The base configuration (default: the located study's).
    jobs : int, optional
        Worker processes (default: the number of CPUs; 1 runs in this process).
    progress : bool
        Show a progress bar on stderr (only when stderr is a terminal).
    max_attempts : int
        Attempts allowed per draw before it is an error (an attempt that misses a figure is
        redrawn: about one in three does, mostly claim T204).
    analyse : callable, optional
        ``analyse(folder) -> object``, run on each draw's folder in the worker (picklable,
        e.g. a module-level function); the results are returned in draw order.

    Returns
    -------
    (DataFrame, list)
        The manifest (columns :data:`DRAW_COLUMNS`, also written as ``draws.csv``) and the
        ``analyse`` results (``None`` each when no ``analyse`` is given).

    Notes
    -----
    Time (see ``docs/reconstruction.md``, "How long it takes"): an attempt costs about 1 s of
    one core (integer problems, verification), a draw about 1.5 attempts, plus the
    ``analyse`` hook; the draws are spread over ``jobs`` processes, finished draws are counted
    in any order, and the results are put back in draw order.

    Examples
    --------
    >>> manifest, _ = reconstruct_draws("draws", draws=3, seed=1)  # doctest: +SKIP
    """
    if int(draws) < 1:
        raise ReconstructionError(f"--draws {draws}: give a number of draws >= 1.",
                                  parameter="draws", value=draws)
    cfg = coerce_config(None, config)
    if cfg.study is None or cfg.study.paths is None:
        raise ReconstructionError("a multiple reconstruction needs the study's folders.")
    master = int(cfg.seed if seed is None else seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    knobs = {k: _thaw(v) for k, v in cfg.items()}
    args = [(knobs, cfg.study.paths, str(out), i, master, max_attempts, analyse)
            for i in range(1, int(draws) + 1)]
    jobs = max(1, min(int(jobs or os.cpu_count() or 1), int(draws)))
    bar = Progress(int(draws), "draws", enabled=progress)
    results: list = [None] * len(args)
    if jobs == 1:
        for k, a in enumerate(args):
            results[k] = _run_one(*a)
            bar.step()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_run_one, *a): k for k, a in enumerate(args)}
            try:
                for f in as_completed(futures):
                    results[futures[f]] = f.result()
                    bar.step()
            except BaseException:
                for f in futures:  # a draw failed (or Ctrl-C): do not start the others
                    f.cancel()
                raise
    manifest = pd.DataFrame([r for r, _ in results], columns=list(DRAW_COLUMNS))
    write_csv(manifest.drop(columns="seconds"), out / "draws.csv")
    return manifest, [x for _, x in results]


def draw_folders(out_dir) -> list[Path]:
    """The draw folders listed in ``out_dir/draws.csv``, in draw order."""
    path = Path(out_dir) / "draws.csv"
    if not path.exists():
        raise ReconstructionError(f"{path} not found; run `surveylib reconstruct --draws K "
                                  f"--out {out_dir}` first.", parameter="draws",
                                  value=str(path))
    manifest = pd.read_csv(path)
    return [Path(out_dir) / f for f in manifest["folder"]]


def spread(values) -> tuple[float, float]:
    """(min, max) of finite values (NaN, NaN when none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return (float(v.min()), float(v.max())) if v.size else (float("nan"), float("nan"))
