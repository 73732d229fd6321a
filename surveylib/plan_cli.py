"""``surveylib plan``: the wave-3 sample-size, allocation and power plan.

The plan itself is :func:`analyses.wave3_plan.run` (in the repository's ``analyses/`` folder);
this module maps command-line flags onto its options, prints the plan as Markdown, or writes
``plan.md`` and ``power_curve.png`` into ``--out DIR``.

Exit codes: 0 success, 2 invalid options (argparse or :class:`~surveylib.errors.PlanningError`).

Examples
--------
``surveylib plan --moe 0.03 --regional-moe 0.08 --response-rate 0.5 --out report/plan``
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import sys
from pathlib import Path

from .errors import PlanningError, SurveyDesignError

__all__ = ["build_parser", "main"]

_ALLOCATIONS = ("power", "proportional", "neyman", "equal")
_BASELINES = ("auto", "microdata", "published")


def _load_plan_module():
    """Import ``analyses.wave3_plan`` (from the path, or from the repository beside the package)."""
    try:
        return importlib.import_module("analyses.wave3_plan")
    except ModuleNotFoundError:
        pass
    path = Path(__file__).resolve().parents[1] / "analyses" / "wave3_plan.py"
    if not path.exists():
        raise PlanningError(
            f"the wave-3 plan needs {path} (the analyses/ folder of the surveylib repository); "
            "run `surveylib plan` from a repository checkout."
        )
    name = "analyses.wave3_plan"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module through sys.modules
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``surveylib plan``."""
    p = argparse.ArgumentParser(
        prog="surveylib plan",
        description=(
            "Plan the third wave of the urban Kazakhstan attitude survey: national sample size, "
            "allocation over the six strata, regional precision, power and minimum detectable "
            "changes. Prints the plan as Markdown, or writes plan.md and power_curve.png "
            "with --out."
        ),
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
        help="design effect: a number, or 'mean'/'max' of the 2012 attitude-share "
        "design effects (default: mean; 1 without microdata)",
    )
    p.add_argument(
        "--frame-year",
        type=_frame_year,
        default="latest",
        help="frame year of frames/strata_frame.csv (default latest)",
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
        help="2007/2012 shares from the microdata, the published Table 7.1, or auto",
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
        help="write DIR/plan.md and DIR/power_curve.png instead of printing",
    )
    return p


def main(argv=None) -> int:
    """Run ``surveylib plan``; returns the exit code (0 success, 2 invalid options)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the error
        return exc.code if isinstance(exc.code, int) else 2
    try:
        plan_module = _load_plan_module()
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
        )
        if args.out is None:
            print(plan.to_markdown())
            return 0
        written = plan.write(args.out)
    except SurveyDesignError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wave-3 plan: n = {plan.n_total} completed interviews ({plan.n_to_contact} contacts); "
        f"wrote {written['plan']} and {written['figure']}"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
