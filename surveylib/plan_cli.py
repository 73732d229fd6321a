"""``surveylib plan``: a study's next-wave plan (sample size, allocation, power).

The plan itself is the study's script named by ``PLAN`` in its ``analyses/__init__.py`` (for
the Kazakhstan study ``analyses/wave3_plan.py``), whose ``run(**options)`` returns a plan with
``to_markdown()`` and ``write(folder)``; this module maps command-line flags onto those
options, prints the plan as Markdown, or writes it into ``--out DIR``.

Exit codes: 0 success, 2 invalid options (argparse or :class:`~surveylib.errors.PlanningError`).

Examples
--------
``surveylib plan --moe 0.03 --regional-moe 0.08 --response-rate 0.5 --out report/plan``
"""

from __future__ import annotations

import argparse
import math
import sys

from . import study
from .errors import StudyNotFoundError

__all__ = ["configure", "main", "run"]

_ALLOCATIONS = ("power", "proportional", "neyman", "equal")
_BASELINES = ("auto", "microdata", "published")


def load_plan_module(paths=None):
    """The study's plan script (``PLAN`` in its ``analyses/__init__.py``), imported once."""
    paths = study.locate() if paths is None else paths
    name = getattr(paths.analyses_package(), "PLAN", None)
    if not name:
        raise StudyNotFoundError(
            f"the study's {paths.analyses} has no plan script: its __init__.py names none "
            "(PLAN = 'module name').", parameter="analyses", value=str(paths.analyses))
    return paths.analyses_module(name)


#: the former private name, kept for the tests that load the plan through it
_load_plan_module = load_plan_module


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _fraction(example: str, *, closed_top: bool = False):
    interval = "(0, 1]" if closed_top else "(0, 1)"

    def parse(text: str) -> float:
        value = _number(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(
                f"{text} must be > 0; give a proportion in {interval}, e.g. {example}"
            )
        if value > 1 or (value == 1 and not closed_top):
            raise argparse.ArgumentTypeError(
                f"{text} must be a proportion in {interval}, e.g. {example} (write 3% as 0.03)"
            )
        return value

    return parse


def _deff(text: str):
    if text in ("mean", "max"):
        return text
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text} must be > 0 (1 is simple random sampling), or 'mean'/'max' to estimate it "
            "from the 2012 microdata"
        )
    return value


def _frame_year(text: str):
    if text == "latest":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year or 'latest'") from None


def _exponent(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"{text} must be in [0, 1] (0: equal allocation, 1: proportional)"
        )
    return value


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``surveylib plan`` (an argparse parser)."""
    p.description = (
        "Plan the next wave of a study: national sample size, allocation over the strata, "
        "regional precision, power and minimum detectable changes, by the study's plan script. "
        "Prints the plan as Markdown, or writes it (plan.md and a power curve) with --out."
    )
    p.add_argument(
        "--moe",
        type=_fraction("0.03 for ±3 points"),
        default=0.03,
        help="national margin of error for a share (default 0.03)",
    )
    p.add_argument(
        "--level", type=_fraction("0.95"), default=0.95, help="confidence level (default 0.95)"
    )
    p.add_argument(
        "--regional-moe",
        type=_fraction("0.08 for ±8 points"),
        default=0.08,
        help="margin of error guaranteed in every stratum (default 0.08)",
    )
    p.add_argument(
        "--response-rate",
        type=_fraction("0.5", closed_top=True),
        default=0.5,
        help="anticipated response rate in (0, 1] (default 0.5, an assumption)",
    )
    p.add_argument(
        "--allocation",
        choices=_ALLOCATIONS,
        default="power",
        help="allocation rule of the recommended design (default power)",
    )
    p.add_argument(
        "--power-exponent",
        type=_exponent,
        default=0.5,
        help="exponent q of the power allocation N_h^q (default 0.5)",
    )
    p.add_argument(
        "--deff",
        type=_deff,
        default=None,
        help="design effect: a number, or 'mean'/'max' of the design effects estimated from "
        "the study's microdata (default: mean; 1 without microdata)",
    )
    p.add_argument(
        "--frame-year",
        type=_frame_year,
        default="latest",
        help="year of the study's stratum frame (default latest)",
    )
    p.add_argument(
        "--target-power",
        type=_fraction("0.8"),
        default=0.8,
        help="power for minimum detectable changes (default 0.8)",
    )
    p.add_argument(
        "--baseline",
        choices=_BASELINES,
        default="auto",
        help="where the past waves' shares come from: the study's microdata, its published "
        "figures, or auto (microdata when present; default)",
    )
    p.add_argument(
        "--no-hold-national-moe",
        dest="hold_national_moe",
        action="store_false",
        help="keep the national n of the sample-size formula even if the "
        "recommended allocation then misses --moe",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="write the plan (plan.md and the power curve) into DIR instead of printing it",
    )
    study.add_study_arguments(p, ("analyses", "microdata"))


def run(args) -> int:
    """Run ``surveylib plan`` with parsed options; returns the exit code (0)."""
    if args.out is not None:  # before the plan is computed: a wrong --out fails at once
        from .report.runner import writable_folder

        writable_folder(args.out)
    paths = study.from_args(args)
    plan_module = load_plan_module(paths)
    options = {"microdata_dir": args.microdata} if args.microdata is not None else {}
    plan = plan_module.run(
        moe=args.moe,
        level=args.level,
        regional_moe=args.regional_moe,
        response_rate=args.response_rate,
        allocation=args.allocation,
        power_exponent=args.power_exponent,
        deff=args.deff,
        frame_year=args.frame_year,
        target_power=args.target_power,
        baseline=args.baseline,
        hold_national_moe=args.hold_national_moe,
        **options,
    )
    if args.out is None:
        print(plan.to_markdown())
        return 0
    written = plan.write(args.out)
    print(
        f"plan: n = {plan.n_total} completed interviews ({plan.n_to_contact} contacts); "
        f"wrote {', '.join(str(v) for v in written.values())}"
    )
    return 0


def main(argv=None) -> int:
    """``surveylib plan`` on its own (see :func:`surveylib.cli.main`); returns the exit code."""
    from .cli import main as cli_main

    return cli_main(["plan", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
