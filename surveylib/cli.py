"""The ``surveylib`` command.

``surveylib replicate``   run every published table and diagram and write the report folder
``surveylib reconstruct`` regenerate the reconstructed microdata (byte-identical)
``surveylib verify``      recompute every published figure from the microdata
``surveylib plan``        the wave-3 sample-size, allocation and power plan

Each subcommand's options: ``surveylib SUBCOMMAND --help``.
"""

from __future__ import annotations

import sys
from importlib import import_module

COMMANDS = {
    "replicate": ("surveylib.report.runner", "main_replicate",
                  "run the full replication of the 2007/2012 waves and write the report"),
    "reconstruct": ("surveylib.reconstruct.cli", "main",
                    "regenerate the reconstructed microdata in microdata/"),
    "verify": ("surveylib.reconstruct.cli", "main",
               "recompute every published figure from the microdata"),
    "plan": ("surveylib.plan_cli", "main", "plan the third wave: n, allocation, power"),
}


def _usage() -> str:
    lines = ["usage: surveylib COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<12} {help_}" for name, (_, _, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"surveylib: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    entry = getattr(import_module(module), func)
    if name == "verify":
        rest = ["verify", *rest]
    elif name == "reconstruct" and (not rest or rest[0] not in ("run", "targets", "verify")):
        rest = ["run", *rest]
    return int(entry(rest) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
