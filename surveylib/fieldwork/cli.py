"""``surveylib fieldwork status SAMPLE_FILE``: print the fieldwork status and write an HTML page.

The lead wires :func:`configure` and :func:`run` into the top-level command.  Exit codes as
the other commands: 0 success, 2 invalid options or input (a
:class:`~surveylib.errors.SurveyDesignError`, e.g. unknown disposition codes).

Examples
--------
``surveylib fieldwork status sample.csv --disposition disp --stratum region --weight w
--frame-vars region,size_class --plan plan.csv --html status.html``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..errors import SurveyDesignError
from .html import status_html, write_atomic
from .monitor import fieldwork_status

__all__ = ["configure", "main", "run"]


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``status`` subcommand and its options to ``parser``."""
    sub = parser.add_subparsers(dest="fieldwork_command", required=True, metavar="ACTION",
                                help="status: the fieldwork so far, from a sample file")
    st = sub.add_parser("status", help="outcome rates, R-indicator, precision and weights so far")
    st.add_argument("sample_file", metavar="SAMPLE_FILE",
                    help="CSV: one row per sampled case with its disposition")
    st.add_argument("--disposition", default="disposition",
                    help="disposition column (AAPOR codes); default %(default)s")
    st.add_argument("--stratum", default=None, help="stratum column (default: none)")
    st.add_argument("--weight", default=None, help="design-weight column")
    st.add_argument("--frame-vars", default=None,
                    help="comma-separated frame variables for the R-indicator")
    st.add_argument("--plan", default=None,
                    help="CSV with columns stratum,n: planned completes per stratum")
    st.add_argument("--e", type=float, default=None,
                    help="eligibility rate of unknown cases (default: estimated)")
    st.add_argument("--html", default=None,
                    help="HTML page to write (default: SAMPLE_FILE's name + _status.html)")
    return parser


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SurveyDesignError(f"sample file {str(path)!r} not found.", parameter="sample_file",
                                value=str(path))
    return pd.read_csv(path)


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; returns the exit code."""
    try:
        path = Path(args.sample_file)
        data = _read(path)
        plan = None
        if args.plan:
            p = _read(Path(args.plan))
            if list(p.columns[:2]) != ["stratum", "n"]:
                raise SurveyDesignError("the plan CSV needs columns stratum,n.",
                                        parameter="plan", value=list(p.columns))
            plan = pd.Series(p["n"].to_numpy(), index=p["stratum"].to_numpy())
            if args.stratum and data[args.stratum].dtype != object:
                plan.index = plan.index.astype(data[args.stratum].dtype)
        fv = args.frame_vars.split(",") if args.frame_vars else None
        status = fieldwork_status(data, disposition=args.disposition, stratum=args.stratum,
                                  weight=args.weight, frame_vars=fv, plan=plan, e=args.e)
        out = Path(args.html) if args.html else path.with_name(path.stem + "_status.html")
        write_atomic(out, status_html(status, title=f"Fieldwork status: {path.name}"))
    except SurveyDesignError as exc:
        print(f"surveylib fieldwork: error: {exc}", file=sys.stderr)
        return 2
    print(status.to_text())
    print(f"\nwrote {out}")
    return 0


def main(argv=None) -> int:
    """``python -m surveylib.fieldwork.cli status ...`` (until the top-level CLI has it)."""
    parser = configure(argparse.ArgumentParser(prog="surveylib fieldwork"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
