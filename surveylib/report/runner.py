"""Run every replication script and write the report (``surveylib replicate``).

Outputs in ``out_dir`` (all written atomically, byte-identical run to run):

* ``report.md`` - Markdown report with the figures linked from ``figures/``;
* ``index.html`` - self-contained page (inline CSS, figures as base64 PNG);
* ``figures/<key>.png`` - one PNG per figure;
* ``audit.csv`` - every published figure: published, reproduced, se, CI, status;
* ``results.json`` - every exhibit's audit, tables, tests, notes and gaps (sorted keys).

The exit code is 0 when every published figure is within tolerance, 1 when at least one is
not, and 2 when an analysis could not run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pandas as pd

from . import AUDIT_COLUMNS, dumps
from .figures import render
from .html import html_report, markdown_report

#: The exhibits in report order (module names in the repository's ``analyses/`` folder).
EXHIBITS = ("table_7_1", "diagram_7_2", "diagram_7_3", "diagram_7_1", "reasons_labour",
            "diagram_6_1", "sample_error", "subgroup_claims", "wave3_report")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _import_analyses():
    root = repo_root()
    if not (root / "analyses").is_dir():
        raise FileNotFoundError(
            f"{root / 'analyses'} not found: run from a source checkout of surveylib, where the "
            "replication scripts live."
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("analyses._common")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def assumptions_from(prov: dict) -> list[str]:
    """Readable lines from ``microdata/provenance.json`` (what is assumed, and why)."""
    if not prov:
        return ["microdata/provenance.json not found"]
    out = []
    for k in ("notice", "what", "seed"):
        if k in prov:
            out.append(f"{k}: {_short(prov[k])}")
    solver = prov.get("solver")
    if isinstance(solver, dict):
        out += [f"solver {k}: {_short(v)}" for k, v in sorted(solver.items())]
    tol = prov.get("tolerances")
    if isinstance(tol, dict):
        if "default" in tol:
            out.append(f"tolerance (default): {_short(tol['default'])}")
        for e in tol.get("exceptions", []) or []:
            if isinstance(e, dict) and e.get("resolution"):
                out.append(f"tolerance/resolution {e.get('id', '')}: {_short(e['resolution'])}")
    waves = prov.get("waves")
    if isinstance(waves, dict):
        for w in sorted(waves):
            info = waves[w]
            if not isinstance(info, dict):
                continue
            for k, v in sorted(info.items()):
                if k == "columns" and isinstance(v, dict):
                    for col, spec in sorted(v.items()):
                        if isinstance(spec, dict) and spec.get("note"):
                            out.append(f"{w} column {col}: {_short(spec['note'])}")
                elif not isinstance(v, (dict, list)):
                    out.append(f"{w} {k}: {_short(v)}")
    config = prov.get("config")
    if isinstance(config, dict):
        out += [f"config {k}: {_short(v, 300)}" for k, v in sorted(config.items())]
    known = {"notice", "what", "seed", "solver", "tolerances", "waves", "config"}
    out += [f"{k}: {_short(v)}" for k, v in sorted(prov.items()) if k not in known]
    return out


def _short(v, limit: int = 600) -> str:
    if isinstance(v, dict) and {"id", "text"} <= set(v):
        s = f"{v['id']}: {v['text']}"
    elif isinstance(v, (dict, list)):
        s = dumps(v).replace("\n", " ")
    else:
        s = str(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def run_all(data=None, *, microdata_dir=None, progress: bool = True, exhibits=EXHIBITS):
    """Run the analyses; returns (results, errors) where errors maps exhibit -> message."""
    common = _import_analyses()
    if data is None:
        data = common.load_data(microdata_dir)
    results, errors = [], {}
    for key in exhibits:
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"analyses.{key}")
            res = mod.run(data)
        except Exception as exc:  # report and go on: the exit code says it failed
            errors[key] = f"{type(exc).__name__}: {exc}"
            if progress:
                print(f"[replicate] {key}: ERROR {errors[key]}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
            continue
        results.append(res)
        if progress:
            print(f"[replicate] {key}: {res.n_pass} pass, {res.n_fail} fail, "
                  f"{len(res.tests)} tests, {len(res.gaps)} gaps "
                  f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return results, errors


def exit_code(audit: pd.DataFrame, errors: dict) -> int:
    """2 if an analysis could not run, 1 if a published figure is outside tolerance, else 0."""
    if errors:
        return 2
    return 1 if len(audit) and (audit["status"] == "fail").any() else 0


def run_replication(out_dir, *, progress: bool = True, microdata_dir=None) -> int:
    """Run all analyses and write the report files to ``out_dir``; returns the exit code."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    common = _import_analyses()
    results, errors = run_all(microdata_dir=microdata_dir, progress=progress)
    prov = common.provenance(microdata_dir)
    assumptions = assumptions_from(prov)
    audits = [r.audit for r in results if len(r.audit)]
    audit = (pd.concat(audits, ignore_index=True) if audits
             else pd.DataFrame(columns=AUDIT_COLUMNS))
    gaps = sorted({g for r in results for g in r.gaps}
                  | {f"{k} could not run: {m}" for k, m in errors.items()})
    pngs, files = {}, {}
    for r in results:
        for f in r.figures:
            png = render(f)
            pngs[f.key] = png
            files[f.key] = f"figures/{f.key}.png"
            write_atomic(out / files[f.key], png)
    if progress:
        print(f"[replicate] {len(pngs)} figures written", file=sys.stderr)
    write_atomic(out / "audit.csv", audit.to_csv(index=False, float_format="%.10g",
                                                 lineterminator="\n"))
    payload = {
        "banner": "RECONSTRUCTED microdata, not the original survey files",
        "exhibits": {r.key: r.to_dict() for r in results},
        "errors": errors,
        "gaps": gaps,
        "assumptions": assumptions,
        "summary": {
            "pass": int((audit["status"] == "pass").sum()),
            "fail": int((audit["status"] == "fail").sum()),
            "conflict": int((audit["status"] == "conflict").sum()),
        },
    }
    write_atomic(out / "results.json", dumps(payload) + "\n")
    write_atomic(out / "report.md", markdown_report(results, audit, assumptions, gaps, files))
    write_atomic(out / "index.html", html_report(results, audit, assumptions, gaps, pngs))
    n_fail = payload["summary"]["fail"]
    code = exit_code(audit, errors)
    if progress:
        print(f"[replicate] audit: {payload['summary']['pass']} pass, {n_fail} fail, "
              f"{payload['summary']['conflict']} conflict; wrote {out} "
              f"({time.perf_counter() - t0:.1f} s); exit code {code}", file=sys.stderr)
    return code


def main_replicate(argv=None) -> int:
    """``surveylib replicate [OUT_DIR] [--microdata DIR] [--quiet]``."""
    parser = argparse.ArgumentParser(
        prog="surveylib replicate",
        description="Reproduce every published table and diagram of the Kazakhstan attitude "
        "surveys (2007, 2012) from the reconstructed microdata and write report.md, index.html, "
        "audit.csv, results.json and figures/.",
    )
    parser.add_argument("out_dir", nargs="?", default=None,
                        help="output folder (default: ./replication)")
    parser.add_argument("--out", dest="out_opt", default=None,
                        help="output folder (same as the positional argument)")
    parser.add_argument("--microdata", default=None,
                        help="folder with kz2007_reconstructed.csv, kz2012_reconstructed.csv, "
                        "targets.csv and provenance.json (default: the repository's microdata/)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.out_dir and args.out_opt and args.out_dir != args.out_opt:
        parser.error("give the output folder once (positional or --out)")
    out_dir = args.out_opt or args.out_dir or "replication"
    return run_replication(out_dir, progress=not args.quiet, microdata_dir=args.microdata)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_replicate())
