"""The ``surveylib reconstruct`` and ``surveylib verify`` commands.

The top-level command line (:mod:`surveylib.cli`) builds one subparser per command with
:func:`configure_reconstruct` / :func:`configure_verify` and runs it with
:func:`run_reconstruct` / :func:`run_verify`, which return the exit status:

* 0: done (reconstruct), or every published figure reproduced (verify);
* 1: verify found a published figure outside its tolerance.

Bad input (a study folder that is not there, a missing or invalid ``--config``, an unwritable
``--out``) raises a :class:`~surveylib.errors.SurveyDesignError` subclass with a one-line
message; the top-level command line prints it and exits 2.

The study's folders come from :func:`surveylib.study.from_args` (``--study``, ``--microdata``,
``--instruments``, ``--frames``); its knobs and published-table facts from its reconstruction
file (``<microdata>/reconstruction.yaml``), with ``--config FILE`` overriding knobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import ReconstructionError
from ..study import add_study_arguments, from_args
from .spec import load_config, read_yaml

#: study folders each command reads
RECONSTRUCT_FOLDERS = ("instruments", "microdata", "frames")
VERIFY_FOLDERS = ("instruments", "microdata")

_VERIFY_SHOWN = ["id", "wave", "statistic", "variable", "level", "domain_var", "domain_level",
                 "published", "reproduced", "lower", "upper", "role", "pass"]


def _add_config_option(parser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", default=None,
        help="JSON or YAML mapping of knob overrides applied to the study's "
             "reconstruction.yaml (e.g. {\"other2007_resolution\": \"base77\"})")


def configure_reconstruct(parser) -> None:
    """Add the options of ``surveylib reconstruct`` to an argparse (sub)parser."""
    parser.description = (
        "Rebuild the reconstructed microdata from the published figures (RECONSTRUCTED — not "
        "the original survey data): respondent files, targets.csv, verification.csv and the "
        "provenance record. Same seed and configuration give byte-identical files.")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="folder to write into (default: the study's microdata folder)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="seed of every random draw (default: the study's `seed` knob)")
    _add_config_option(parser)
    parser.add_argument("--targets", metavar="FILE", default=None,
                        help="published figures, annotated (targets.csv) or raw "
                             "(published_targets.csv) (default: the study's targets.csv)")
    parser.add_argument("--no-sav", action="store_true",
                        help="write CSV files only, no SPSS .sav files")
    parser.add_argument("--draws", type=int, default=None, metavar="K",
                        help="write K reconstructions (OUT/draw_001 ...), each reproducing every "
                             "published figure, spread over the alternative readings and "
                             "perturbed priors of the study's `draws` section; --seed is then "
                             "the master seed")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="worker processes for --draws (default: number of CPUs); the "
                             "files do not depend on it")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar for --draws (it is shown on stderr only when "
                             "stderr is a terminal)")
    add_study_arguments(parser, RECONSTRUCT_FOLDERS)


def configure_verify(parser) -> None:
    """Add the options of ``surveylib verify`` to an argparse (sub)parser."""
    parser.description = (
        "Recompute every published figure from the respondent files and compare it with its "
        "tolerance. Exit status 1 when a figure is out of tolerance.")
    parser.add_argument("--dir", metavar="DIR", default=None,
                        help="folder of the respondent files to check (default: the study's "
                             "microdata folder)")
    _add_config_option(parser)
    parser.add_argument("--weighted", action="store_true",
                        help="use the design weights and fpc (the published figures are "
                             "unweighted, so they are not expected to hold)")
    parser.add_argument("--all", action="store_true",
                        help="print every figure, not only the failures")
    add_study_arguments(parser, VERIFY_FOLDERS)


def _config(args):
    """The study's configuration with the ``--config`` overrides applied."""
    cfg = load_config(paths=from_args(args))
    if args.config is None:
        return cfg
    overrides = read_yaml(Path(args.config), "--config file")
    if overrides is None:
        return cfg
    if not isinstance(overrides, Mapping):
        raise ReconstructionError(
            f"--config {args.config} must hold a mapping of knob -> value, not a "
            f"{type(overrides).__name__}.", parameter="config", value=str(args.config))
    return cfg.replace(**{str(k): v for k, v in overrides.items()})


def run_reconstruct(args) -> int:
    """Run ``surveylib reconstruct`` with parsed ``args``; returns 0."""
    from . import reconstruct_all

    cfg = _config(args)
    if args.draws is not None:
        from .draws import reconstruct_draws

        if args.out is None:
            raise ReconstructionError("--draws K needs --out DIR (the shipped microdata folder "
                                      "holds the single reconstruction).", parameter="out")
        manifest, _ = reconstruct_draws(Path(args.out), draws=args.draws, seed=args.seed,
                                        config=cfg, jobs=args.jobs,
                                        progress=not args.quiet)
        print(f"{len(manifest)} reconstructions written to {args.out} (draws.csv); each "
              "reproduces every published figure (verification.csv in each folder)")
        return 0
    out = Path(args.out) if args.out is not None else cfg.study.paths.require("microdata")
    frames = reconstruct_all(out, seed=args.seed, config=cfg, targets=args.targets,
                             sav=not args.no_sav)
    for wave, df in sorted(frames.items()):
        print(f"wave {wave}: {len(df)} respondents written to {out}")
    return 0


def run_verify(args) -> int:
    """Run ``surveylib verify`` with parsed ``args``; 0 if every figure is reproduced, else 1."""
    from .targets import load_targets
    from .verify import failures, verify

    cfg = _config(args)
    folder = Path(args.dir) if args.dir is not None else cfg.study.paths.require("microdata")
    frames = {}
    for wave in cfg.study.waves:
        path = folder / cfg.study.file_name(wave, "csv")
        if not path.exists():
            raise ReconstructionError(
                f"{path} not found; run `surveylib reconstruct --out {folder}` first or pass "
                "--dir DIR.", parameter="dir", value=str(path))
        frames[wave] = pd.read_csv(path)
    tpath = folder / "targets.csv"
    table = verify(frames, targets=load_targets(tpath if tpath.exists() else None, config=cfg),
                   config=cfg, weighted=args.weighted)
    bad = failures(table)
    show = table if args.all else bad
    with pd.option_context("display.width", 200, "display.max_rows", 1000):
        if not show.empty:
            print(show[_VERIFY_SHOWN].to_string(index=False))
    print(f"{int(table['pass'].sum())} of {len(table)} published figures reproduced; "
          f"{len(bad)} failures (excluded conflicts: "
          f"{', '.join(table.loc[table['role'] == 'excluded', 'id']) or 'none'}).")
    return 1 if len(bad) else 0
