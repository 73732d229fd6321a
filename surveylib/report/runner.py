"""Run a study's exhibit scripts and write the report (``surveylib replicate``).

Outputs in ``out_dir`` (byte-identical run to run, mode 0o644 less the umask; the set is
built in a folder beside ``out_dir`` and swapped in at the end, so a failed run leaves the
previous report whole):

* ``report.md`` - Markdown report with the figures linked from ``figures/``;
* ``index.html`` - self-contained page (inline CSS, figures as base64 PNG);
* ``figures/<key>.png`` - one PNG per figure;
* ``audit.csv`` - every published figure: published, reproduced, se, CI, status;
* ``results.json`` - every exhibit's audit, tables, tests, notes and gaps (sorted keys).

The exhibits are the study's, not the library's: the runner imports the study's
``analyses/`` folder as a package (:meth:`surveylib.study.StudyPaths.analyses_package`) and
reads from it

``EXHIBITS``             the exhibit modules in report order, each with
                         ``run(data, *, study) -> ExhibitResult``;
``REPORT`` (optional)    the report's texts, keyword arguments of :class:`ReportInfo`;
``load(study)`` (opt.)   data shared by every exhibit, read once (default ``None``: each
                         exhibit reads its own);
``assumptions(study)``   (optional) the lines of the assumptions section.

The exit code is 0 when every published figure is within tolerance, 1 when at least one is
not, and 2 when an analysis could not run.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pandas as pd

from .. import study as study_paths
from ..errors import StudyNotFoundError, SurveyDesignError
from ..io import output_mode
from . import AUDIT_COLUMNS, ReportInfo, dumps, frame_records
from .html import html_report, markdown_report
from .painter import FigurePainter

REPORT_FILES = ("report.md", "index.html", "figures", "audit.csv", "results.json",
                "robustness.csv")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file through a temporary file in the same folder and ``os.replace``; the file
    gets mode 0o644 less the umask, as every output of surveylib."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, output_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def staging_folder(out: Path) -> Path:
    """An empty folder beside ``out`` in which the new report is written before
    :func:`swap_in`."""
    try:
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
    except OSError as exc:
        raise SurveyDesignError(
            f"--out {out}: the report is built in a folder beside it and swapped in, but "
            f"{out.parent} cannot be written ({exc.strerror or exc}); give an --out folder "
            "whose parent folder is writable.", parameter="--out", value=str(out),
            hint="--out DIR") from None
    os.chmod(tmp, output_mode(0o777))
    return tmp


def swap_in(staged: Path, out: Path) -> None:
    """Replace ``out`` by the folder ``staged`` in two renames, so a reader sees the old report
    or the new one, never a mix.  Entries of the old folder that are not report files (e.g. a
    ``draws/`` folder the new run did not rebuild, or the user's own files) are moved into the
    new one; the old report files are deleted."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.replace(out, old)
    os.replace(staged, out)
    if old is not None:
        for entry in old.iterdir():
            if entry.name not in REPORT_FILES and not (out / entry.name).exists():
                os.replace(entry, out / entry.name)
        shutil.rmtree(old, ignore_errors=True)


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


class Study:
    """A study's exhibits as the runner sees them: the imported ``analyses/`` package.

    Parameters
    ----------
    paths : StudyPaths, optional
        The study's folders (default :func:`surveylib.study.locate`).
    """

    def __init__(self, paths=None):
        self.paths = study_paths.locate() if paths is None else paths
        self.package = self.paths.analyses_package()
        exhibits = getattr(self.package, "EXHIBITS", None)
        if not exhibits:
            raise StudyNotFoundError(
                f"{self.paths.analyses} defines no EXHIBITS: its __init__.py must list the "
                "exhibit scripts in report order, e.g. EXHIBITS = ('table_1', 'figure_2').",
                parameter="analyses", value=str(self.paths.analyses),
            )
        self.exhibits = tuple(exhibits)
        self.info = ReportInfo(**getattr(self.package, "REPORT", {}))

    def module(self, key: str):
        """The exhibit script ``key`` (imported once)."""
        return study_paths.load_module(self.package, key)

    def load(self):
        """The data shared by every exhibit (``None`` when the study does not say)."""
        load = getattr(self.package, "load", None)
        return None if load is None else load(self.paths)

    def assumptions(self) -> list[str]:
        """The lines of the report's assumptions section."""
        lines = getattr(self.package, "assumptions", None)
        return [] if lines is None else list(lines(self.paths))

    def select(self, keys=None) -> tuple:
        """The exhibits ``keys`` (all by default), in report order; an unknown key is an error."""
        if not keys:
            return self.exhibits
        unknown = [k for k in keys if k not in self.exhibits]
        if unknown:
            raise SurveyDesignError(
                f"unknown exhibit {unknown[0]!r}; the study's exhibits are "
                f"{', '.join(self.exhibits)}.",
                parameter="exhibit", value=unknown[0], expected=list(self.exhibits),
            )
        return tuple(k for k in self.exhibits if k in keys)


def run_all(study: Study | None = None, *, data=None, progress: bool = True, exhibits=None,
            on_result=None):
    """Run the exhibits; returns (results, errors) where errors maps exhibit -> message.

    ``on_result(result)``, when given, is called with each exhibit's result as soon as it has
    run (the runner starts drawing its figures then, see :mod:`.painter`).
    """
    study = Study() if study is None else study
    keys = study.select(exhibits)
    if data is None:
        data = study.load()
    results, errors = [], {}
    for key in keys:
        t0 = time.perf_counter()
        try:
            res = study.module(key).run(data, study=study.paths)
        except Exception as exc:  # report and go on: the exit code says it failed
            errors[key] = f"{type(exc).__name__}: {exc}"
            if progress:
                print(f"[replicate] {key}: ERROR {errors[key]}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
            continue
        results.append(res)
        if on_result is not None:
            on_result(res)
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


def writable_folder(path, *, option: str = "--out") -> Path:
    """Create the output folder ``path`` (and parents) and check a file can be written in it.

    Called before any analysis runs, so a wrong ``--out`` fails at once.

    Raises
    ------
    SurveyDesignError
        If ``path`` is a file, lies under a file, or cannot be written.
    """
    out = Path(path).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if out.exists() and not out.is_dir():
            why = "is a file, not a folder"
        elif any(p.exists() and not p.is_dir() for p in out.parents):
            under = next(p for p in out.parents if p.exists() and not p.is_dir())
            why = f"lies under the file {under}"
        else:
            why = f"cannot be written ({exc.strerror or exc})"
        raise SurveyDesignError(
            f"{option} {out} {why}; give a folder that can be created and written.",
            parameter=option, value=str(out), hint=f"{option} DIR",
        ) from None
    return out


def robustness_over_draws(study: Study, out: Path, draws: int, *, seed=None, jobs=None,
                          progress: bool = True):
    """The study's conclusions on the shipped files and on ``draws`` reconstructions.

    Writes the draws into ``out/draws`` (``surveylib reconstruct --draws``) and returns
    (summary table of :func:`surveylib.report.robustness.summarise`, draws manifest).
    """
    from ..reconstruct.draws import reconstruct_draws
    from ..reconstruct.spec import load_config
    from .robustness import StudyRobustness, summarise

    hook = getattr(study.package, "robustness", None)
    if hook is None:
        raise SurveyDesignError(
            f"{study.paths.analyses} defines no robustness(data, study): --draws needs it to "
            "recompute the conclusions on every reconstruction.", parameter="--draws",
            value=draws)
    shipped = hook(study.load(), study=study.paths)
    manifest, frames = reconstruct_draws(
        out / "draws", draws=draws, seed=seed, config=load_config(paths=study.paths),
        jobs=jobs, progress=progress, analyse=StudyRobustness(study.paths))
    return summarise(shipped, frames), manifest


def run_replication(out_dir, *, study=None, progress: bool = True, exhibits=None,
                    draws: int = 0, draws_seed=None, jobs=None) -> int:
    """Run the study's exhibits and write the report files to ``out_dir``.

    The files are written to a folder beside ``out_dir`` and swapped in at the end
    (:func:`swap_in`), so a run that fails part way leaves the previous report intact.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created; checked to be writable before anything runs).
    study : StudyPaths or Study, optional
        The study (default :func:`surveylib.study.locate`).
    progress : bool
        Print a line per exhibit on stderr.
    exhibits : sequence of str, optional
        Run only these exhibits (default: all, in the study's order).
    draws : int
        Also rebuild the microdata ``draws`` times (into ``out_dir/draws``) and report which
        conclusions hold in every reconstruction (0: not done).
    draws_seed : int, optional
        Master seed of the draws (default: the reconstruction's seed).
    jobs : int, optional
        Worker processes for the draws (default: the number of CPUs).

    Returns
    -------
    int
        The exit code: 0, 1 (a published figure outside tolerance) or 2 (an exhibit failed).
    """
    t0 = time.perf_counter()
    final = writable_folder(out_dir)
    study = study if isinstance(study, Study) else Study(study)
    out = staging_folder(final)
    try:
        code, summary = _write_report(study, out, progress=progress, exhibits=exhibits,
                                      draws=draws, draws_seed=draws_seed, jobs=jobs)
        swap_in(out, final)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    if progress:
        print(f"[replicate] audit: {summary['pass']} pass, {summary['fail']} fail, "
              f"{summary['conflict']} conflict; wrote {final} "
              f"({time.perf_counter() - t0:.1f} s); exit code {code}", file=sys.stderr)
    return code


def _write_report(study, out: Path, *, progress, exhibits, draws, draws_seed, jobs):
    """Run the exhibits and write every report file into the (staging) folder ``out``."""
    painter = FigurePainter()  # figures drawn in a worker while the next exhibits run
    try:
        return _write_files(study, out, painter, progress=progress, exhibits=exhibits,
                            draws=draws, draws_seed=draws_seed, jobs=jobs)
    finally:
        painter.close()


def _write_files(study, out: Path, painter: FigurePainter, *, progress, exhibits, draws,
                 draws_seed, jobs):
    results, errors = run_all(study, progress=progress, exhibits=exhibits,
                              on_result=painter.submit)
    assumptions = study.assumptions()
    robust = None
    if draws:
        robust, _ = robustness_over_draws(study, out, int(draws), seed=draws_seed, jobs=jobs,
                                          progress=progress)
        write_atomic(out / "robustness.csv", robust.to_csv(index=False, float_format="%.10g",
                                                           lineterminator="\n"))
    not_checkable = list(getattr(study.package, "NOT_CHECKABLE", ()))
    audits = [r.audit for r in results if len(r.audit)]
    audit = (pd.concat(audits, ignore_index=True) if audits
             else pd.DataFrame(columns=AUDIT_COLUMNS))
    gaps = sorted({g for r in results for g in r.gaps}
                  | {f"{k} could not run: {m}" for k, m in errors.items()})
    for r in results:  # (a no-op for the results run_all handed over already)
        painter.submit(r)
    pngs = painter.pngs()
    files = {key: f"figures/{key}.png" for key in pngs}
    for key, png in pngs.items():
        write_atomic(out / files[key], png)
    if progress:
        print(f"[replicate] {len(pngs)} figures written", file=sys.stderr)
    write_atomic(out / "audit.csv", audit.to_csv(index=False, float_format="%.10g",
                                                 lineterminator="\n"))
    payload = {
        "banner": study.info.data_notice,
        "exhibits": {r.key: r.to_dict() for r in results},
        "errors": errors,
        "gaps": gaps,
        "assumptions": assumptions,
        "not_checkable": not_checkable,
        "robustness": frame_records(robust) if robust is not None else [],
        "summary": {
            "pass": int((audit["status"] == "pass").sum()),
            "fail": int((audit["status"] == "fail").sum()),
            "conflict": int((audit["status"] == "conflict").sum()),
        },
    }
    write_atomic(out / "results.json", dumps(payload) + "\n")
    write_atomic(out / "report.md", markdown_report(
        results, audit, assumptions, gaps, files, info=study.info, robustness=robust,
        not_checkable=not_checkable))
    write_atomic(out / "index.html", html_report(
        results, audit, assumptions, gaps, pngs, info=study.info, robustness=robust,
        not_checkable=not_checkable))
    return exit_code(audit, errors), payload["summary"]


# ------------------------------------------------------------------------ the command line
def configure(parser) -> None:
    """Options of ``surveylib replicate`` (an argparse parser)."""
    parser.description = (
        "Run every exhibit script of a study (its analyses/ folder), compare each reproduced "
        "figure with the published one and write report.md, index.html, audit.csv, "
        "results.json and figures/ into the output folder. Exit code 0: every published figure "
        "within tolerance; 1: at least one outside; 2: a usage or input error, or an exhibit "
        "that could not run.")
    parser.add_argument("out_dir", nargs="?", default=None, metavar="OUT",
                        help="output folder (default: ./replication); the same as --out")
    parser.add_argument("--out", dest="out_opt", metavar="DIR", default=None,
                        help="output folder, created if needed (default: ./replication)")
    parser.add_argument("--exhibit", action="append", metavar="KEY", default=None,
                        help="run only this exhibit (repeat for several; default: all)")
    parser.add_argument("--quiet", action="store_true",
                        help="print no progress lines on stderr")
    parser.add_argument("--draws", type=int, default=0, metavar="K",
                        help="also rebuild the microdata K times (into OUT/draws) and report "
                             "which conclusions hold in every reconstruction (default: 0)")
    parser.add_argument("--draws-seed", type=int, default=None, metavar="S",
                        help="master seed of the draws (default: the reconstruction's seed)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="worker processes for the draws (default: number of CPUs)")
    study_paths.add_study_arguments(parser)


def run(args) -> int:
    """Run ``surveylib replicate`` with parsed options; returns the exit code."""
    if args.out_dir and args.out_opt and args.out_dir != args.out_opt:
        raise SurveyDesignError(
            f"two output folders given ({args.out_dir} and --out {args.out_opt}); give it once.",
            parameter="--out", value=args.out_opt)
    out_dir = args.out_opt or args.out_dir or "replication"
    return run_replication(out_dir, study=study_paths.from_args(args),
                           progress=not args.quiet, exhibits=args.exhibit,
                           draws=args.draws, draws_seed=args.draws_seed, jobs=args.jobs)


def main_replicate(argv=None) -> int:
    """``surveylib replicate`` on its own (see :func:`surveylib.cli.main`)."""
    from ..cli import main

    return main(["replicate", *(sys.argv[1:] if argv is None else argv)])
