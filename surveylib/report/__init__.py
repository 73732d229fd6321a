"""Replication reports: exhibit results, figures, HTML/Markdown rendering and the runner.

A study (see :mod:`surveylib.study`) has one script per published exhibit in its
``analyses/`` folder whose ``run()`` returns an :class:`ExhibitResult`: the published
figures next to the reproduced ones with their tolerances, tables, tests and figures.  The
runner (:func:`run_replication`) collects them and writes ``report.md``, ``index.html``,
``audit.csv``, ``results.json`` and PNG figures; the report's title and banners are the
study's (:class:`ReportInfo`).  A figure (:class:`FigureSpec`) is drawn by
:func:`surveylib.plotting.plot_bars`, the renderer of every chart of the library.

The containers here hold numbers computed elsewhere (surveylib estimators, the inference and
weighting modules); nothing in this package estimates anything.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..plotting import BarSeries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "AUDIT_COLUMNS",
    "TEST_COLUMNS",
    "ExhibitResult",
    "FigureSpec",
    "ReportInfo",
    "Series",
    "main_replicate",
    "run_replication",
]

#: Columns of every exhibit's audit table (one row per published figure).
AUDIT_COLUMNS = [
    "exhibit", "target_id", "wave", "domain", "quantity", "unit", "published", "reproduced",
    "se", "ci_low", "ci_high", "tolerance", "diff", "status", "design_weighted", "calibrated",
    "common_18plus", "note",
]

#: Columns of every exhibit's test table (between-wave comparisons and claims in words).
TEST_COLUMNS = [
    "exhibit", "test_id", "claim", "weighting", "universe", "estimate", "statistic", "df_num",
    "df_denom",
    "p_value", "p_adjusted", "method", "null", "decision", "supported",
]

#: Audit statuses. ``fail`` makes the runner's exit code non-zero; ``conflict`` marks a
#: published figure that contradicts another published figure and cannot be met;
#: ``pass (assumed reading)`` a figure within tolerance only under a documented reading of
#: the publication; claims in words are ``claim supported`` / ``claim not supported`` and are
#: not counted as figures.
STATUSES = ("pass", "pass (assumed reading)", "fail", "conflict", "claim supported",
            "claim not supported", "not reproducible")
#: Statuses of published figures reproduced within tolerance.
WITHIN = ("pass", "pass (assumed reading)")
#: Statuses of claims in words.
CLAIMS = ("claim supported", "claim not supported")


#: One series of a bar figure: a value per category, its confidence interval and the published
#: value per category (NaN where none) -- :class:`surveylib.plotting.BarSeries`.
Series = BarSeries


@dataclass(frozen=True)
class FigureSpec:
    """Data of one figure in the style of the published diagrams (grouped bars)."""

    key: str
    title: str
    categories: tuple
    series: tuple
    ylabel: str = "percent"
    horizontal: bool = False
    markers: tuple = ()  # (series index, category index, "increase" | "decrease")
    note: str = ""
    ylim: tuple | None = None
    #: legend text per marker kind, e.g. (("increase", "▲ up since the last wave"),)
    marker_labels: tuple = ()

    def plot(self) -> Figure:
        """The figure, drawn by :func:`surveylib.plotting.plot_bars`.

        Horizontal when asked, or when more than four categories have long labels; values
        labelled past their interval's end, in percent (``45%``) when the value axis is a
        percentage (``ylabel`` names "percent": shares, power), else with two decimals.
        """
        from ..plotting import plot_bars

        long_labels = max((len(str(c)) for c in self.categories), default=0) > 14
        horizontal = self.horizontal or (long_labels and len(self.categories) > 4)
        return plot_bars(self.categories, self.series, orient="h" if horizontal else "v",
                         value_label=self.ylabel, title=self.title, limits=self.ylim,
                         value_format="{:.0f}%" if "percent" in self.ylabel else "{:.2f}",
                         markers=self.markers, marker_labels=dict(self.marker_labels),
                         note=self.note)


@dataclass(frozen=True)
class ReportInfo:
    """The texts of a replication report that belong to the study, not to the library.

    A study gives them as ``REPORT`` (keyword arguments of this class) in its
    ``analyses/__init__.py``.

    Attributes
    ----------
    title : str
        Heading of ``report.md`` and ``index.html``.
    short_title : str
        The HTML page's ``<title>`` (default: ``title``).
    banner : str
        A notice shown above the report (e.g. what the data are); none when empty.
    data_notice : str
        The same notice in a few words, stored as ``"banner"`` in ``results.json``.
    assumptions_title : str
        Heading of the assumptions section.
    labels : tuple of (code, words)
        Words shown instead of a code (a variable name such as ``att_pos``, a value such as
        ``common``) wherever it appears in a table cell or claim text.
    """

    title: str = "Replication report"
    short_title: str = ""
    banner: str = ""
    data_notice: str = ""
    assumptions_title: str = "Assumptions"
    #: words for codes shown in tables and texts (variable names, column values)
    labels: tuple = ()


@dataclass
class ExhibitResult:
    """Everything one analysis script reproduces for one published exhibit.

    Attributes
    ----------
    key : str
        Module name, e.g. ``"table_7_1"``.
    title, source : str
        Exhibit title and where it is printed (seed file and lines).
    method : str
        How the numbers were computed (designs, universes, tests, adjustments), in words.
    audit : DataFrame
        One row per published figure, columns :data:`AUDIT_COLUMNS`.
    tables : dict of DataFrame
        Reproduced tables (estimates with se, ci, df, deff, n) keyed by a short name.
    tests : DataFrame
        Between-wave tests and claim tests, columns :data:`TEST_COLUMNS`.
    figures : list of FigureSpec
    notes, gaps : list of str
        Remarks, and what could not be computed and why.
    """

    key: str
    title: str
    source: str
    method: str
    audit: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AUDIT_COLUMNS))
    tables: dict = field(default_factory=dict)
    tests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TEST_COLUMNS))
    figures: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    gaps: list = field(default_factory=list)

    # ------------------------------------------------------------------ summaries
    @property
    def n_fail(self) -> int:
        return int((self.audit["status"] == "fail").sum()) if len(self.audit) else 0

    @property
    def n_pass(self) -> int:
        """Published figures within tolerance (as printed or under an assumed reading)."""
        return int(self.audit["status"].isin(WITHIN).sum()) if len(self.audit) else 0

    @property
    def n_claims(self) -> tuple:
        """(supported, not supported) claims in words in the audit."""
        if not len(self.audit):
            return 0, 0
        st = self.audit["status"]
        return int((st == CLAIMS[0]).sum()), int((st == CLAIMS[1]).sum())

    @property
    def passed(self) -> bool:
        return self.n_fail == 0

    def to_text(self) -> str:
        """Plain-text report: published vs reproduced, estimates with SE and CI, tests."""
        from .html import text_report

        return text_report(self)

    def to_dict(self) -> dict:
        """JSON-ready content (floats rounded to 10 significant digits, NaN as null)."""
        return {
            "key": self.key,
            "title": self.title,
            "source": self.source,
            "method": self.method,
            "n_pass": self.n_pass,
            "n_fail": self.n_fail,
            "audit": frame_records(self.audit),
            "tables": {k: frame_records(v) for k, v in sorted(self.tables.items())},
            "tests": frame_records(self.tests),
            "notes": list(self.notes),
            "gaps": list(self.gaps),
            "figures": [f.key for f in self.figures],
        }


def _clean(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return None
        return float(f"{v:.10g}")
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (pd.Timestamp,)):
        return str(v)
    return v


def frame_records(df: pd.DataFrame) -> list:
    """A DataFrame as a list of dicts with JSON-safe, deterministic values."""
    if df is None or len(df) == 0:
        return []
    out = []
    for row in df.to_dict(orient="records"):
        out.append({str(k): _clean(v) for k, v in row.items()})
    return out


def dumps(obj) -> str:
    """Deterministic JSON (sorted keys)."""
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)


def run_replication(out_dir, *, study=None, progress: bool = True) -> int:
    """Run every analysis and write the report; see :func:`surveylib.report.runner.run_replication`."""
    from .runner import run_replication as _run

    return _run(out_dir, study=study, progress=progress)


def main_replicate(argv=None) -> int:
    """Command-line entry point of ``surveylib replicate``."""
    from .runner import main_replicate as _main

    return _main(argv)
