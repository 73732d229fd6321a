"""The ``surveylib`` command.

``surveylib replicate``   run a study's exhibit scripts and write the report folder
``surveylib reconstruct`` regenerate a study's reconstructed microdata (byte-identical)
``surveylib verify``      recompute every published figure from the microdata
``surveylib plan``        the study's next-wave plan: sample size, allocation, power

``surveylib --version`` prints the version; ``surveylib COMMAND --help`` a command's options.
Which study a command works on is decided by :mod:`surveylib.study` (``--study DIR`` and
one option per study folder; see ``docs/cli.md``).

Exit codes: 0 success; 1 a published figure outside its tolerance (``replicate``, ``verify``);
2 a usage or input error, reported as one line ``surveylib: error: ...`` on stderr.

The parser is :mod:`argparse` from the standard library: subcommands, generated help and
usage errors with exit code 2 are all it takes, and a command line for reproducing published
figures should not add a dependency (click or typer) that can break it.  Each subcommand
lives in its module as ``configure(parser)`` (adds its options) and ``run(args) -> int``;
only the chosen subcommand's module is imported and configured.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from . import __version__
from .errors import SurveyDesignError

__all__ = ["COMMANDS", "build_parser", "main"]


class UsageError(Exception):
    """A command line that argparse cannot parse (reported as one line, exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error raised (one line in :func:`main`) instead of printed."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


@dataclass(frozen=True)
class Command:
    """One subcommand: its one-line help and where its ``configure``/``run`` pair lives."""

    help: str
    load: Callable[[], tuple[Callable, Callable]]


def _replicate():
    from .report import runner

    return runner.configure, runner.run


def _reconstruct():
    from .reconstruct import cli

    return cli.configure_reconstruct, cli.run_reconstruct


def _verify():
    from .reconstruct import cli

    return cli.configure_verify, cli.run_verify


def _plan():
    from . import plan_cli

    return plan_cli.configure, plan_cli.run


def _fieldwork():
    from .fieldwork import cli

    return cli.configure, cli.run


#: The subcommands, in the order ``surveylib --help`` lists them.
COMMANDS = {
    "replicate": Command("run every exhibit of a study and write the report "
                         "(exit 1 if a published figure is out of tolerance)", _replicate),
    "reconstruct": Command("regenerate the reconstructed microdata from the published tables",
                           _reconstruct),
    "verify": Command("recompute every published figure from the microdata "
                      "(exit 1 if one is out of tolerance)", _verify),
    "plan": Command("plan the next wave: sample size, allocation, power", _plan),
    "fieldwork": Command("follow a wave's fieldwork: response rates, R-indicators, margins of "
                         "error reached", _fieldwork),
}


def build_parser(argv=()) -> argparse.ArgumentParser:
    """The ``surveylib`` parser; the subcommand named in ``argv`` (if any) gets its options."""
    parser = _Parser(
        prog="surveylib",
        description="Design-based analysis of sample surveys: replicate, reconstruct and "
                    "verify a study's published figures, and plan its next wave.",
        epilog="Exit codes: 0 success, 1 a published figure outside tolerance, 2 a usage or "
               "input error. 'surveylib COMMAND --help' shows a command's options; "
               "docs/cli.md how a study's folders are found.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        if name == chosen:  # import and configure only the command that runs
            configure, run = command.load()
            configure(p)
            p.set_defaults(run=run)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv=None) -> int:
    """Run the ``surveylib`` command; returns the exit code (0, 1 or 2, see the module doc)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        return int(args.run(args))
    except SystemExit as exc:  # --help and --version have printed their text
        return exc.code if isinstance(exc.code, int) else 0
    except (UsageError, SurveyDesignError, OSError) as exc:
        print(f"surveylib: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
