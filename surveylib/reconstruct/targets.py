"""Published figures of the 2007 / 2012 Kazakhstan attitude surveys as machine-readable constraints.

The raw rows come from ``shared/seeds/published_targets.csv`` (id, wave, quote, value, ...).  This
module adds, for every row of the two attitude surveys, what the figure is a statistic *of*:

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

Every exception to the rounding rule is decided by :class:`~surveylib.reconstruct.config.
ReconstructionConfig` and written into this column, so the table is the single record of what
the reconstruction promises.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..errors import ReconstructionError

SURVEYS = ("attitudes2007", "attitudes2012")

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

ETHNIC_CODES = {"Kazakh": "1", "Russian": "2", "Other": "3"}
STRATUM_CODES = {
    "Northern": "1",
    "Eastern": "2",
    "Southern": "3",
    "Western": "4",
    "Central": "5",
    "Almaty": "6",
}
STRATUM_NAMES = {int(v): k for k, v in STRATUM_CODES.items()}
ETHNIC_NAMES = {int(v): k for k, v in ETHNIC_CODES.items()}

# Attitude categories named in the `quantity` text (checked longest first).
_ATTITUDE_LEVELS = (
    ("positive + indifferent", "1|2|3"),
    ("share positive", "1|2"),
    ("share negative", "4|5"),
    ("share indifferent", "3"),
    ('"very good"', "1"),
    ('"good"', "2"),
    ('"indifferent"', "3"),
    ('"very poor"', "5"),
    ('"poor"', "4"),
)

# Non-attitude percent figures: id -> (variable, level).  Familiarity levels are item groups.
_ITEM_TARGETS = {
    "T162": ("familiarity", "all"),
    "T163": ("familiarity", "all"),
    "T164": ("familiarity", "modern"),
    "T165": ("familiarity", "modern"),
    "T166": ("familiarity", "culture"),
    "T167": ("familiarity", "culture"),
    "T168": ("familiarity", "modern"),
    "T169": ("familiarity", "modern"),
    "T170": ("familiarity", "culture_seed004"),
    "T171": ("familiarity", "culture_seed004"),
    "T172": ("reason_work", "1"),
    "T174": ("reason_work", "1"),
    "T173": ("reason_trade", "1"),
    "T175": ("reason_trade", "1"),
    "T176": ("reason_property", "1"),
    "T177": ("reason_property", "1"),
    "T178": ("labour", "1"),
    "T179": ("labour", "1"),
    "T182": ("labour", "1"),
    "T183": ("labour", "1"),
    "T180": ("labour", "2"),
    "T181": ("labour", "2"),
    "T184": ("reason_citizenship", "1"),
    "T185": ("reason_citizenship", "1"),
    "T186": ("reason_citizenship", "1"),
    "T190": ("reason_citizenship", "1"),
    "T187": ("reason_marriage", "1"),
    "T188": ("reason_marriage", "1"),
    "T189": ("reason_marriage", "1"),
    "T191": ("reason_marriage", "1"),
    "T192": ("edu_acq", "1"),
    "T198": ("edu_acq", "1"),
    "T193": ("edu_self", "1"),
    "T199": ("edu_self", "1"),
    "T194": ("edu_child", "1"),
    "T200": ("edu_child", "1"),
    "T195": ("sino_self", "1"),
    "T201": ("sino_self", "1"),
    "T196": ("sino_child", "1"),
    "T202": ("sino_child", "1"),
}

#: Qualitative claims checked by a named rule in :mod:`surveylib.reconstruct.verify`
#: (id -> operationalisation).  Claims not listed are ``info``.
CLAIM_RULES = {
    "T123": "increase in negative share 2007->2012 in Northern exceeds that of Eastern, Southern "
    "and Central",
    "T124": "increase in negative share 2007->2012 in Western exceeds that of Eastern, Southern "
    "and Central",
    "T125": "increase in negative share 2007->2012 in Almaty exceeds that of Eastern, Southern "
    "and Central",
    "T129": "2012 mean of Northern, Western and Almaty each exceeds the Eastern and Central means "
    "(the Southern mean is unpublished and not constrained; see docs/reconstruction.md)",
    "T130": "2007->2012 positive share rises in Eastern and Central only (does not rise in "
    "Northern, Southern, Western, Almaty)",
    "T140": "2012 mean attitude is higher (worse) than in 2007 in every ethnic group "
    "(the 'most starkly among Kazakhs' part is not checked: the published Table 7.1 means "
    "rise by 0.2 / 0.2 / 0.3)",
    "T153": "2012 mean attitude of Other < mean of Kazakhs",
    "T154": "2012 mean attitude of Russians < mean of Kazakhs",
    "T155": "2012 mean attitude of ages 18-29 < mean of ages 40+",
    "T156": "2012 mean attitude of ages 30-39 < mean of ages 40+",
    "T157": "2012 mean attitude of higher education (educ=5) < mean of all other levels",
    "T158": "2012 mean familiarity (all items) of educ=5 > educ 1-4",
    "T197": "2012: Almaty share exceeds every other stratum's share on each Diagram 6.1 item",
    "T203": "2012: pooled share of yes to edu_self/edu_child/sino_self/sino_child is highest "
    "among ages 15-29 (vs 30-39, 40-49, 50-59, 60+)",
    "T204": "2012: pooled interest share of educ 2-5 exceeds that of educ 1 (incomplete "
    "secondary or less)",
    "T205": "2012: pooled interest share of Kazakhs / that of Russians+Other lies in the "
    "configured 'almost twice' interval",
}

# Design rows that can be checked on microdata: counts and minimum ages.
_INFO_IDS = {
    "T017": "number of oblasts: a frame fact, not a microdata statistic",
    "T018": "number of regions: a frame fact (the microdata have 5 regions + Almaty = 6 strata)",
    "T025": "number of oblasts: a frame fact, not a microdata statistic",
    "T026": "number of regions: a frame fact (the microdata have 5 regions + Almaty = 6 strata)",
    "T040": "number of oblasts: a frame fact, not a microdata statistic",
    "T041": "number of regions: a frame fact (the microdata have 5 regions + Almaty = 6 strata)",
    "T021": "sampling error 4.1%: not a microdata statistic. For information: the SRS 95% margin "
    "at p=0.5 is 4.04 pp for n=588 and 4.20 pp for n=544, so the 2012 statement needs a design "
    "effect below 0.95",
    "T029": "sampling error 4.1%: see T021",
    "T032": "sampling error 4.1%: see T021",
}


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


def _domain(domain: str) -> tuple[str, str]:
    if domain == "total":
        return "", ""
    key, _, rest = domain.partition("=")
    rest = rest.strip()
    if key == "ethnicity":
        for name, code in ETHNIC_CODES.items():
            if rest.startswith(name):
                return "ethnic", code
    if key == "region":
        for name, code in STRATUM_CODES.items():
            if rest.startswith(name):
                return "stratum", code
    return "", ""


def _attitude_level(quantity: str) -> str | None:
    q = quantity.lower()
    for key, level in _ATTITUDE_LEVELS:
        if key.lower() in q:
            return level
    return None


def annotate(published: pd.DataFrame, config=None) -> pd.DataFrame:
    """Return the attitude-survey rows of ``published`` with the added constraint columns.

    Parameters
    ----------
    published : DataFrame
        The rows of ``published_targets.csv`` (all columns as strings).
    config : ReconstructionConfig, optional
        Decides the documented exceptions (Other-2007 cell, T150/T151, 11% vs 10.2%).
    """
    from .config import ReconstructionConfig

    cfg = config if config is not None else ReconstructionConfig()
    rows = published[published["survey"].isin(SURVEYS)].copy()
    if rows.empty:
        raise ReconstructionError(
            "published targets hold no rows of surveys attitudes2007/attitudes2012; pass the "
            "shared/seeds/published_targets.csv file."
        )
    out = []
    for rec in rows.to_dict("records"):
        rec = {k: ("" if pd.isna(v) else str(v)) for k, v in rec.items()}
        ann = dict.fromkeys(ADDED_COLUMNS, "")
        tid, unit, topic, value = rec["id"], rec["unit"], rec["topic"], rec["value"]
        ann["domain_var"], ann["domain_level"] = _domain(rec["domain"])
        if tid in _INFO_IDS:
            ann.update(statistic="info", role="info", resolution=_INFO_IDS[tid])
        elif unit == "claim":
            if tid in CLAIM_RULES:
                ann.update(statistic="claim", role="check", tolerance_rule=CLAIM_RULES[tid])
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
                level = "" if unit == "mean" else _attitude_level(rec["quantity"])
                if unit == "percent" and level is None:
                    raise ReconstructionError(
                        f"{tid}: cannot tell which attitude category {rec['quantity']!r} counts; "
                        "extend _ATTITUDE_LEVELS in surveylib/reconstruct/targets.py."
                    )
                ann.update(variable="attitude", level=level)
            elif tid in _ITEM_TARGETS:
                ann["variable"], ann["level"] = _ITEM_TARGETS[tid]
            else:
                raise ReconstructionError(
                    f"{tid}: no variable is known for {rec['quantity']!r}; extend _ITEM_TARGETS."
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


def _set(table: pd.DataFrame, tid: str, **values) -> None:
    idx = table.index[table["id"] == tid]
    for k, v in values.items():
        table.loc[idx, k] = v


def _apply_resolutions(table: pd.DataFrame, cfg) -> pd.DataFrame:
    """Write the configured exceptions into the table (see docs/reconstruction.md)."""
    # b3: Other ethnicities 2007 (n=78) have no integer solution.
    if cfg.other2007_resolution == "widen":
        _set(table, "T091", lower=Decimal("15"), upper=Decimal("17"),
             tolerance_rule="widened to [v-1, v+1]",
             resolution="NOTES b3: with n=78 the printed 1/35/45/16/3 has no integer solution; "
             "the 'poor' cell is widened to +-1 pp (13/78 = 16.7% is reproduced). Alternative: "
             "other2007_resolution='base77'.")
    elif cfg.other2007_resolution == "base77":
        _set(table, "T145", lower=Decimal("18"), upper=Decimal("20"),
             tolerance_rule="sum of two rounded cells: [v-1, v+1]",
             resolution="NOTES b3, base 77: one Other-2007 respondent answers 'don't know' "
             "(code 8) and percentages are valid percents of 77. The text's 19% negative is "
             "then the sum of the printed 16 + 3 (14/77 = 18.2%), so its tolerance is that of a "
             "sum of two rounded cells.")
    elif cfg.other2007_resolution != "none":
        raise ReconstructionError(
            f"other2007_resolution={cfg.other2007_resolution!r}; use 'widen', 'base77' or 'none'."
        )
    # b4: T150/T151 (text order of the 2007 means) conflict with Table 7.1 (T079/T093).
    text_ids, table_ids = ("T150", "T151"), ("T079", "T093")
    if cfg.mean_text_conflict == "table":
        for tid in text_ids:
            _set(table, tid, role="excluded",
                 resolution="NOTES b4: the text's '2.8, 2.9 and 3.0 respectively' read in order "
                 "conflicts with Table 7.1 (Russians 2.9, Other 2.8); Table 7.1 is kept, the "
                 "text is taken to list the values in a different order.")
    elif cfg.mean_text_conflict == "text":
        for tid in table_ids:
            _set(table, tid, role="excluded",
                 resolution="NOTES b4: Table 7.1 mean dropped in favour of the text (T150/T151).")
    elif cfg.mean_text_conflict != "both":
        raise ReconstructionError(
            f"mean_text_conflict={cfg.mean_text_conflict!r}; use 'table', 'text' or 'both'."
        )
    # b6: 11% (seed 001) vs 10.2% (seed 004) for the 2007 culture mean.
    if cfg.culture_2007_resolution == "subset":
        items = ", ".join(cfg.culture_subset_items)
        for tid in ("T170", "T171"):
            _set(table, tid,
                 resolution="NOTES b6: seed 004 averages a narrower set of culture items "
                 f"('literature, art, traditions' and history: {items}); seed 001's 11% / 9% is "
                 "the mean over all culture items. Both figures then hold at once.")
    elif cfg.culture_2007_resolution == "exclude":
        _set(table, "T171", role="excluded",
             resolution="NOTES b6: 10.2 conflicts with seed 001's 11; seed 001 kept.")
        _set(table, "T170", role="excluded", resolution="seed 004 figure dropped with T171.")
        table.loc[table["id"].isin(["T170", "T171"]), "level"] = "culture"
    elif cfg.culture_2007_resolution == "conflict":
        table.loc[table["id"].isin(["T170", "T171"]), "level"] = "culture"
    else:
        raise ReconstructionError(
            f"culture_2007_resolution={cfg.culture_2007_resolution!r}; use 'subset', 'exclude' "
            "or 'conflict'."
        )
    # b4-like: text shares that are sums of two printed (rounded) cells.
    for tid in cfg.sum_of_rounded:
        sel = table[table["id"] == tid]
        if sel.empty:
            raise ReconstructionError(f"sum_of_rounded names {tid}, which is not a target.")
        v = Decimal(sel["value"].iloc[0])
        _set(table, tid, lower=v - 1, upper=v + 1,
             tolerance_rule="sum of two rounded cells: [v-1, v+1)",
             resolution="printed as the sum of two rounded Table 7.1 cells (e.g. 15 + 3 = 18); "
             "strict rounding of the sum has no integer solution together with the "
             "ethnic-group figures (ReconstructionConfig.sum_of_rounded).")
    # c: concerns in the "cities of South Kazakhstan" read as the Southern stratum.
    _set(table, "T188", domain_level=str(cfg.south_kazakhstan_stratum),
         resolution="'cities of South Kazakhstan' read as stratum "
         f"{cfg.south_kazakhstan_stratum} (config south_kazakhstan_stratum).")
    return table


def build_targets_table(published_csv: str | Path, config=None) -> pd.DataFrame:
    """Read ``published_targets.csv`` and return the annotated attitude-survey rows."""
    published = pd.read_csv(published_csv, dtype=str, keep_default_na=False)
    return annotate(published, config)


def default_targets_path() -> Path:
    """The project copy ``microdata/targets.csv`` (repository root relative to this file)."""
    return Path(__file__).resolve().parents[2] / "microdata" / "targets.csv"


def load_targets(path: str | Path | None = None, config=None) -> pd.DataFrame:
    """Load the annotated targets.

    ``path`` may be the project copy (already annotated) or the raw ``published_targets.csv``;
    either way the configured resolutions are (re)applied, so a non-default ``config`` changes
    the tolerances of the documented exceptions.
    """
    p = Path(path) if path is not None else default_targets_path()
    if not p.exists():
        raise ReconstructionError(
            f"targets file {p} not found; regenerate it with "
            "`surveylib reconstruct targets --from shared/seeds/published_targets.csv`."
        )
    raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    base_cols = [c for c in raw.columns if c not in ADDED_COLUMNS]
    return annotate(raw[base_cols], config)
