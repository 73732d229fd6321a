"""Every issue-12 measurement in one command (not a test).

    python benchmarks/bench_all.py [--repeat 9] [--skip-10m]

Runs, each in turn, with the load average before each part:

1. ``bench_estimators.py`` -- the nine Taylor tasks at 1M rows (floor, first call, warm, svy,
   samplics; time and peak RSS from a subprocess per task and tool);
2. ``bench_replicate.py`` -- the bootstrap, R = 100 and 1,000;
3. ``bench_replicate.py --task stored`` -- 80 stored JK1 replicate-weight columns at 1M and
   10M rows (``--skip-10m``: 1M only; 10M needs about 7 GiB);
4. ``bench_weighting.py`` -- raking the weighting script's 216 cells;
5. ``import surveylib`` -- cumulative import time (``python -X importtime``), best of 5;
6. ``surveylib replicate`` -- wall time, best of 3, and whether two runs write identical files.

Each part measures this checkout (``_isolated.py``).  The tables are the scripts' own; their
docstrings give each floor.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _isolated import CHECKOUT

HERE = Path(__file__).resolve().parent


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def part(title: str, args: list) -> None:
    print(f"\n## {title}  ({load()})\n$ python {' '.join(map(str, args))}", flush=True)
    subprocess.run([sys.executable, *map(str, args)], check=False)


def import_seconds(repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import surveylib"],
                             capture_output=True, text=True, cwd=CHECKOUT).stderr
        line = [ln for ln in err.splitlines() if ln.rstrip().endswith("| surveylib")][-1]
        best = min(best, int(line.split("|")[1]) / 1e6)
    return best


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(
        same_tree(a / d, b / d) for d in cmp.common_dirs)


def replicate_runs(repeat: int = 3) -> tuple[float, bool]:
    times, outs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            out = Path(tmp) / f"run{i}"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "surveylib.cli", "replicate", "--out",
                            str(out)], check=True, capture_output=True, cwd=CHECKOUT)
            times.append(time.perf_counter() - t0)
            outs.append(out)
        identical = all(same_tree(outs[0], o) for o in outs[1:])
    return min(times), identical


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--skip-10m", action="store_true")
    args = ap.parse_args(argv)
    part("Taylor estimators, 1M rows", [HERE / "bench_estimators.py", "--repeat", args.repeat])
    part("bootstrap replicates", [HERE / "bench_replicate.py", "--repeat", args.repeat])
    rows = ["1000000"] if args.skip_10m else ["1000000", "10000000"]
    part("stored replicate-weight columns",
         [HERE / "bench_replicate.py", "--task", "stored", "--rows", *rows, "--repeat", 3])
    part("raking, the weighting script", [HERE / "bench_weighting.py"])
    print(f"\n## import and replication  ({load()})", flush=True)
    print(f"import surveylib: {import_seconds():.3f} s (best of 5, -X importtime)")
    seconds, identical = replicate_runs()
    print(f"surveylib replicate: {seconds:.2f} s wall (best of 3); outputs of the runs "
          f"{'identical' if identical else 'DIFFER'}")


if __name__ == "__main__":
    main()
