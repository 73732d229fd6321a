"""Command line: ``surveylib reconstruct {run,verify,targets}``.

``run``     rebuild the microdata folder (default ``microdata/`` of the repository);
``verify``  recompute every published figure from the files and exit 1 on any failure;
``targets`` rebuild ``microdata/targets.csv`` from ``shared/seeds/published_targets.csv``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from ..errors import SurveyDesignError
from .config import coerce_config, repo_root


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="surveylib reconstruct",
                                description="Reconstructed microdata of the 2007/2012 surveys "
                                "(RECONSTRUCTED — not the original survey data).")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="rebuild the microdata files")
    run.add_argument("--out", default=str(repo_root() / "microdata"))
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--config", default=None, help="JSON file of ReconstructionConfig overrides")
    run.add_argument("--no-sav", action="store_true")
    ver = sub.add_parser("verify", help="published vs reproduced figures; exit 1 on failure")
    ver.add_argument("--dir", default=str(repo_root() / "microdata"))
    ver.add_argument("--config", default=None)
    ver.add_argument("--weighted", action="store_true",
                     help="use design weights (the published figures are unweighted)")
    ver.add_argument("--all", action="store_true", help="print every row, not only failures")
    tg = sub.add_parser("targets", help="rebuild targets.csv from published_targets.csv")
    tg.add_argument("--from", dest="source", required=True)
    tg.add_argument("--out", default=str(repo_root() / "microdata" / "targets.csv"))
    tg.add_argument("--config", default=None)
    return p


def _config(path):
    if path is None:
        return coerce_config(None, None)
    return coerce_config(None, json.loads(Path(path).read_text(encoding="utf-8")))


def main(argv=None) -> int:
    """Entry point; returns the exit status (0 ok, 1 verification failure, 2 error)."""
    from . import reconstruct_all
    from .output import write_csv
    from .targets import build_targets_table, load_targets
    from .verify import failures, verify

    args = _parser().parse_args(argv)
    try:
        cfg = _config(args.config)
        if args.command == "run":
            frames = reconstruct_all(args.out, seed=args.seed, config=cfg, sav=not args.no_sav)
            for wave, df in sorted(frames.items()):
                print(f"wave {wave}: {len(df)} respondents written to {args.out}")
            return 0
        if args.command == "targets":
            table = build_targets_table(args.source, cfg)
            write_csv(table, Path(args.out))
            print(f"{len(table)} targets written to {args.out}")
            return 0
        folder = Path(args.dir)
        frames = {}
        for wave in (2007, 2012):
            f = folder / f"kz{wave}_reconstructed.csv"
            if not f.exists():
                print(f"missing {f}; run `surveylib reconstruct run` first", file=sys.stderr)
                return 2
            frames[wave] = pd.read_csv(f)
        tpath = folder / "targets.csv"
        table = verify(frames, targets=load_targets(tpath if tpath.exists() else None,
                                                    config=cfg),
                       config=cfg, weighted=args.weighted)
        bad = failures(table)
        show = table if args.all else bad
        cols = ["id", "wave", "statistic", "variable", "level", "domain_var", "domain_level",
                "published", "reproduced", "lower", "upper", "role", "pass"]
        with pd.option_context("display.width", 200, "display.max_rows", 1000):
            if not show.empty:
                print(show[cols].to_string(index=False))
        print(f"{int(table['pass'].sum())} of {len(table)} published figures reproduced; "
              f"{len(bad)} failures (excluded conflicts: "
              f"{', '.join(table.loc[table['role'] == 'excluded', 'id']) or 'none'}).")
        return 1 if len(bad) else 0
    except SurveyDesignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
