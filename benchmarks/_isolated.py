"""Run one benchmark task in its own subprocess and measure it there (shared by the scripts).

Memory is the subprocess's resident set (``VmRSS``/``VmHWM`` from ``/proc/self/status``), which
also sees allocations made by Rust or C cores that ``tracemalloc`` misses.  The worker prints
one line ``@@RESULT {json}``; the parent reads the last such line.

The scripts measure the checkout they live in: importing this module puts that checkout first
on ``sys.path`` and on the children's ``PYTHONPATH`` (an installed surveylib elsewhere, or none,
would otherwise be the one measured).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

MARK = "@@RESULT "
CHECKOUT = str(Path(__file__).resolve().parent.parent)


def use_checkout() -> None:
    """Import surveylib from this checkout, here and in every subprocess started later."""
    if CHECKOUT not in sys.path:
        sys.path.insert(0, CHECKOUT)
    parts = [CHECKOUT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))


use_checkout()


def status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(rf"^{field}:\s+(\d+)", fh.read(), re.M).group(1))


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure(task, repeat: int) -> tuple[dict, object]:
    """Best-of-``repeat`` seconds, base and peak RSS (MiB) of ``task()``, and its last output."""
    base = status_kib("VmRSS")
    reset = reset_peak()
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = task()
        times.append(time.perf_counter() - t0)
    peak = status_kib("VmHWM")
    return {"seconds": min(times), "base_mib": base / 1024, "peak_mib": peak / 1024,
            "reset": reset}, out


def emit(result: dict) -> None:
    """Print the worker's result line."""
    print(MARK + json.dumps(result), flush=True)


def run_worker(script: str, args: list, timeout: float) -> dict:
    """Run ``python script --worker ...args`` and return its result (or ``{"error": ...}``)."""
    cmd = [sys.executable, script, "--worker", *map(str, args)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in out.splitlines() if ln.startswith(MARK)]
    if not lines:
        return {"error": ((err.strip().splitlines() or [f"exit {p.returncode}"])[-1])[:90]}
    return json.loads(lines[-1][len(MARK):])
