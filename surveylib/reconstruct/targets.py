"""Published figures as machine-readable constraints.

The raw rows come from a table of published figures (for the Kazakhstan study
``shared/seeds/published_targets.csv``: id, survey, wave, quote, value, unit, domain, ...).  This
module adds, for every row of the study's surveys (``study.surveys`` of its reconstruction file),
what the figure is a statistic *of*:

``variable``, ``level``
    the microdata column and the code(s) counted (``"1|2"`` = code 1 or 2; the familiarity group
    means use ``variable="familiarity"`` with the group name as level).
``domain_var``, ``domain_level``
    the subpopulation (``ethnic``/``stratum`` and its code), empty for the whole sample.
``statistic``
    ``share`` (percent of valid answers), ``mean``, ``count``, ``min``, ``diff`` (a change between
    the waves, in percentage points), ``claim`` (a qualitative statement checked by a named rule)
    or ``info`` (a design fact or caption that says nothing about the microdata).
``lower``, ``upper``, ``tolerance_rule``
    the interval of unrounded values that print as the published figure.  Rounding half up:
    an integer percent ``v`` means ``v - 0.5 <= p < v + 0.5``, a one-decimal figure ``v`` means
    ``v - 0.05 <= p < v + 0.05`` (so 28 -> [27.5, 28.5), 3.1 -> [3.05, 3.15), 10.2 -> [10.15,
    10.25)).  Counts are exact.
``role``
    ``constraint`` (imposed by the solver and verified), ``check`` (verified only),
    ``excluded`` (a conflicting figure deliberately not imposed; still reported by ``verify``)
    or ``info``.
``resolution``
    why a figure deviates from the default rule, or how a conflict was resolved.

Every exception to the rounding rule is decided by a knob of the
:class:`~surveylib.reconstruct.config.ReconstructionConfig` and written into this column by the
edits the study's reconstruction file lists for the knob's value (``study.choices``), so the
table is the single record of what the reconstruction promises.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ReconstructionError
from ..study import locate

#: Columns added to the published rows, in this order.
ADDED_COLUMNS = (
    "variable",
    "level",
    "domain_var",
    "domain_level",
    "statistic",
    "lower",
    "upper",
    "tolerance_rule",
    "role",
    "resolution",
)

def _decimals(value: str) -> int:
    return len(value.split(".")[1]) if "." in value else 0


def rounding_interval(value: str, *, half_width: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """Interval of unrounded values that print as ``value`` (round half up), as Decimals.

    >>> rounding_interval("28")
    (Decimal('27.5'), Decimal('28.5'))
    >>> rounding_interval("3.1")
    (Decimal('3.05'), Decimal('3.15'))
    """
    v = Decimal(value)
    if half_width is None:
        half_width = Decimal(5) / (Decimal(10) ** (_decimals(value) + 1))
    return v - half_width, v + half_width


def _domain(domain: str, spec) -> tuple[str, str]:
    if domain == "total":
        return "", ""
    key, _, rest = domain.partition("=")
    rest = rest.strip()
    if key == "ethnicity":
        for code, name in spec.ethnic.items():
            if rest.startswith(name):
                return "ethnic", str(code)
    if key == "region":
        for code, name in spec.strata.items():
            if rest.startswith(name):
                return "stratum", str(code)
    return "", ""


def _attitude_level(quantity: str, spec) -> str | None:
    q = quantity.lower()
    for key, level in spec.attitude_levels:
        if key.lower() in q:
            return level
    return None


def annotate(published: pd.DataFrame, config=None) -> pd.DataFrame:
    """Return the study's rows of ``published`` with the added constraint columns.

    Parameters
    ----------
    published : DataFrame
        The rows of the published-figures table (all columns as strings).
    config : ReconstructionConfig or mapping, optional
        The study's knobs (default: the located study's :func:`load_config`); its choices
        decide the documented exceptions.
    """
    from .config import coerce_config

    cfg = coerce_config(None, config)
    spec = cfg.study
    rows = published[published["survey"].isin(spec.surveys)].copy()
    if rows.empty:
        raise ReconstructionError(
            f"published targets hold no rows of surveys {', '.join(spec.surveys)}; pass the "
            "study's table of published figures."
        )
    out = []
    for rec in rows.to_dict("records"):
        rec = {k: ("" if pd.isna(v) else str(v)) for k, v in rec.items()}
        ann: dict[str, Any] = dict.fromkeys(ADDED_COLUMNS, "")
        tid, unit, topic, value = rec["id"], rec["unit"], rec["topic"], rec["value"]
        ann["domain_var"], ann["domain_level"] = _domain(rec["domain"], spec)
        if tid in spec.info_ids:
            ann.update(statistic="info", role="info", resolution=spec.info_ids[tid])
        elif unit == "claim":
            if tid in spec.claim_rules:
                ann.update(statistic="claim", role="check", tolerance_rule=spec.claim_rules[tid])
            else:
                ann.update(statistic="info", role="info",
                           resolution="qualitative statement with no checkable content")
        elif unit in ("text", "date"):
            ann.update(statistic="info", role="info")
        elif unit == "count":
            lo = hi = Decimal(value)
            ann.update(variable="resp_id", statistic="count", lower=lo, upper=hi,
                       tolerance_rule="exact count", role="constraint")
        elif unit == "years":
            ann.update(variable="age", statistic="min", lower=Decimal(value), upper=Decimal(value),
                       tolerance_rule="youngest respondent is exactly this age", role="check")
        elif unit == "percentage points":
            lo, hi = rounding_interval(value.lstrip("-"))
            sign = -1 if value.startswith("-") else 1
            lo, hi = (lo, hi) if sign > 0 else (-hi, -lo)
            ann.update(variable="attitude", level="3", statistic="diff", lower=lo, upper=hi,
                       tolerance_rule="rounded change in percentage points, |change| in "
                       f"[{rounding_interval(value.lstrip('-'))[0]}, "
                       f"{rounding_interval(value.lstrip('-'))[1]})",
                       role="constraint")
        elif unit in ("percent", "mean"):
            if topic == "attitude":
                level = "" if unit == "mean" else _attitude_level(rec["quantity"], spec)
                if unit == "percent" and level is None:
                    raise ReconstructionError(
                        f"{tid}: cannot tell which attitude category {rec['quantity']!r} counts; "
                        f"extend study.attitude_levels in {spec.source}."
                    )
                ann.update(variable="attitude", level=level)
            elif tid in spec.item_targets:
                ann["variable"], ann["level"] = spec.item_targets[tid]
            else:
                raise ReconstructionError(
                    f"{tid}: no variable is known for {rec['quantity']!r}; extend "
                    f"study.item_targets in {spec.source}."
                )
            lo, hi = rounding_interval(value)
            rule = ("rounding: integer percent, [v-0.5, v+0.5)" if _decimals(value) == 0 and unit
                    == "percent" else f"rounding: {_decimals(value)} decimal(s), "
                    f"[v-{Decimal(5) / Decimal(10) ** (_decimals(value) + 1)}, "
                    f"v+{Decimal(5) / Decimal(10) ** (_decimals(value) + 1)})")
            ann.update(statistic="share" if unit == "percent" else "mean", lower=lo, upper=hi,
                       tolerance_rule=rule, role="constraint")
        else:
            ann.update(statistic="info", role="info")
        rec.update(ann)
        out.append(rec)
    table = pd.DataFrame(out)
    table = _apply_resolutions(table, cfg)
    for col in ("lower", "upper"):
        table[col] = table[col].map(lambda v: "" if v == "" else format(Decimal(v).normalize(), "f"))
    return table.astype(str)


def _knob_text(value) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _edit(table: pd.DataFrame, edit, values: dict, where: str) -> None:
    """Set the columns of one published row named by ``edit["id"]``."""
    idx = table.index[table["id"] == edit.get("id")]
    if idx.empty:
        raise ReconstructionError(
            f"{where} edits {edit.get('id')!r}, which is not a published row of the study.")
    for key, val in edit.items():
        if key == "id":
            continue
        if key not in table.columns:
            raise ReconstructionError(f"{where} sets unknown column {key!r}.")
        if key in ("lower", "upper"):
            val = Decimal(str(val))
        elif isinstance(val, str):
            val = val.format_map(values)
        table.loc[idx, key] = val


def _options(names) -> str:
    names = [repr(str(n)) for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _apply_resolutions(table: pd.DataFrame, cfg) -> pd.DataFrame:
    """Write the configured exceptions into the table (see docs/reconstruction.md).

    For every knob named in the study's ``choices``, the edits listed under the knob's value
    (or under ``"*"``, any value) are applied; then the ids of the knob ``sum_of_rounded`` get
    the tolerance of a sum of two rounded cells, ``[v-1, v+1)``.
    """
    spec = cfg.study
    values = {k: _knob_text(v) for k, v in cfg.items()}
    for knob, options in spec.choices.items():
        choice = cfg.get(knob)
        key = str(choice)
        if key not in options and "*" not in options:
            raise ReconstructionError(
                f"{knob}={choice!r}; use {_options(options)}.",
                parameter=knob, value=choice, expected=[str(o) for o in options])
        for edit in options.get(key, options.get("*", ())):
            _edit(table, edit, values, f"{spec.source}: choice {knob}={key}")
    rule = spec.sum_of_rounded
    for tid in cfg.get("sum_of_rounded", ()):
        sel = table[table["id"] == tid]
        if sel.empty:
            raise ReconstructionError(f"sum_of_rounded names {tid}, which is not a target.")
        v = Decimal(sel["value"].iloc[0])
        _edit(table, {"id": tid, "lower": v - 1, "upper": v + 1,
                      "tolerance_rule": rule.get("tolerance_rule", "sum of two rounded cells: "
                                                 "[v-1, v+1)"),
                      "resolution": rule.get("resolution", "")}, values, "sum_of_rounded")
    return table


def build_targets_table(published_csv: str | Path, config=None) -> pd.DataFrame:
    """Read a published-figures table and return the study's annotated rows."""
    published = pd.read_csv(published_csv, dtype=str, keep_default_na=False)
    return annotate(published, config)


def load_targets(path: str | Path | None = None, config=None) -> pd.DataFrame:
    """Load the annotated targets.

    ``path`` may be a study's annotated copy (``targets.csv``) or the raw table of published
    figures; either way the configured resolutions are (re)applied, so a non-default ``config``
    changes the tolerances of the documented exceptions.  Default: ``targets.csv`` in the
    study's microdata folder (:func:`surveylib.study.locate`, or the folders of
    ``config.study``).
    """
    from .config import coerce_config

    cfg = coerce_config(None, config)
    if path is None:
        paths = cfg.study.paths if cfg.study.paths is not None else locate()
        p = paths.require("microdata") / "targets.csv"
    else:
        p = Path(path)
    if not p.exists():
        raise ReconstructionError(
            f"targets file {p} not found; regenerate it with "
            "`surveylib reconstruct targets --from PUBLISHED.csv`.",
            parameter="targets", value=str(p),
        )
    raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    base_cols = [c for c in raw.columns if c not in ADDED_COLUMNS]
    return annotate(raw[base_cols], cfg)
