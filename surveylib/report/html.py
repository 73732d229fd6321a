"""Text, Markdown and self-contained HTML renderings of replication results.

Every string that comes from data (labels, notes, quantities) is escaped with
:func:`html.escape` before it enters the HTML; rounding happens only here.  The report's title
and banner are the study's (:class:`~surveylib.report.ReportInfo`).
"""

from __future__ import annotations

import base64
import math
from html import escape
from importlib import resources

import numpy as np
import pandas as pd

from . import ReportInfo

AUDIT_SHOW = ["target_id", "wave", "domain", "quantity", "published", "reproduced", "se",
              "ci_low", "ci_high", "status", "design_weighted", "calibrated", "common_18plus"]
TEST_SHOW = ["test_id", "claim", "weighting", "universe", "statistic", "df_denom", "p_value",
             "p_adjusted", "method", "decision", "supported"]


def fmt(v, digits: int = 2) -> str:
    """Display rounding (the only place numbers are rounded)."""
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            return ""
        if float(v).is_integer() and abs(v) >= 10:
            return f"{float(v):.0f}"
        if v != 0 and abs(v) < 0.001:
            return f"{float(v):.2e}"
        return f"{float(v):.{digits}f}"
    if v is pd.NA:
        return ""
    return str(v)


def fmt_col(name: str, v) -> str:
    """Column-aware display: p-values with 4 decimals (or "<0.0001")."""
    if name.startswith("p_") and isinstance(v, (float, np.floating)) and math.isfinite(v):
        return "<0.0001" if v < 1e-4 else f"{v:.4f}"
    return fmt(v)


def _shown(d: pd.DataFrame) -> pd.DataFrame:
    return d.apply(lambda col: col.map(lambda v: fmt_col(str(col.name), v))) if len(d) else d


def _frame_text(df: pd.DataFrame, cols=None) -> str:
    if df is None or len(df) == 0:
        return "  (none)"
    d = df[[c for c in (cols or df.columns) if c in df.columns]]
    shown = _shown(d)
    return shown.to_string(index=False)


def text_report(res) -> str:
    """Plain-text report of one :class:`~surveylib.report.ExhibitResult`."""
    out = [f"== {res.title} ==", f"Source: {res.source}", f"Method: {res.method}", ""]
    out.append(f"Published vs reproduced ({res.n_pass} pass, {res.n_fail} fail), with the "
               "reproduced value's SE and CI:")
    out.append(_frame_text(res.audit, AUDIT_SHOW))
    for name, table in sorted(res.tables.items()):
        out += ["", f"-- {name} --", _frame_text(table)]
    out += ["", "-- tests --", _frame_text(res.tests, TEST_SHOW)]
    if res.notes:
        out += ["", "Notes:"] + [f"  - {n}" for n in res.notes]
    if res.gaps:
        out += ["", "Gaps:"] + [f"  - {g}" for g in res.gaps]
    return "\n".join(out)


# ------------------------------------------------------------------------------- markdown
def _md_table(df: pd.DataFrame, cols=None) -> str:
    if df is None or len(df) == 0:
        return "_(none)_\n"
    d = df[[c for c in (cols or df.columns) if c in df.columns]]
    head = "| " + " | ".join(str(c) for c in d.columns) + " |"
    sep = "|" + "|".join("---" for _ in d.columns) + "|"
    lines = [head, sep]
    for row in d.itertuples(index=False):
        cells = [fmt_col(str(c), v).replace("|", "\\|").replace("\n", " ")
                 for c, v in zip(d.columns, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown_report(results, audit: pd.DataFrame, assumptions: list, gaps: list,
                    figure_files: dict, *, info: ReportInfo | None = None) -> str:
    """``report.md``: banner, audit summary, every exhibit with tables, tests and figures."""
    info = ReportInfo() if info is None else info
    n_fail = int((audit["status"] == "fail").sum()) if len(audit) else 0
    n_pass = int((audit["status"] == "pass").sum()) if len(audit) else 0
    lines = [f"# {info.title}", ""] + ([f"> **{info.banner}**", ""] if info.banner else [])
    lines += [f"Audit: {n_pass} published figures reproduced within tolerance, {n_fail} outside; "
             f"{int((audit['status'] == 'conflict').sum()) if len(audit) else 0} conflicting "
             "published figures (not counted).", ""]
    lines += ["## Contents", ""] + [f"- [{r.title}](#{r.key})" for r in results] + [""]
    for r in results:
        lines += [f"<a id=\"{r.key}\"></a>", f"## {r.title}", "", f"*Source:* {r.source}", "",
                  f"*Method:* {r.method}", ""]
        for f in r.figures:
            if f.key in figure_files:
                lines += [f"![{f.title}]({figure_files[f.key]})", ""]
        lines += [f"### Published vs reproduced ({r.n_pass} pass, {r.n_fail} fail)", "",
                  _md_table(r.audit, AUDIT_SHOW)]
        for name, table in sorted(r.tables.items()):
            lines += [f"### {name}", "", _md_table(table)]
        lines += ["### Tests", "", _md_table(r.tests, TEST_SHOW)]
        if r.notes:
            lines += ["### Notes", ""] + [f"- {n}" for n in r.notes] + [""]
        if r.gaps:
            lines += ["### Gaps", ""] + [f"- {g}" for g in r.gaps] + [""]
    lines += [f"## {info.assumptions_title}", ""]
    lines += [f"- {a}" for a in assumptions] or ["_(none recorded)_"]
    lines += ["", "## Gaps", ""] + ([f"- {g}" for g in gaps] or ["_(none)_"]) + [""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- html
def css() -> str:
    return resources.files("surveylib.report").joinpath("report.css").read_text(encoding="utf-8")


def html_table(df: pd.DataFrame, cols=None, *, status_col: str | None = None) -> str:
    """A DataFrame as an escaped HTML table (rounded for display)."""
    if df is None or len(df) == 0:
        return "<p class=\"empty\">(none)</p>"
    d = df[[c for c in (cols or df.columns) if c in df.columns]]
    head = "".join(f"<th>{escape(str(c))}</th>" for c in d.columns)
    body = []
    for row in d.to_dict(orient="records"):
        cls = ""
        if status_col and status_col in row:
            cls = f" class=\"st-{escape(str(row[status_col]).replace(' ', '-'))}\""
        cells = []
        for c, v in row.items():
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            td = '<td class="num">' if num else "<td>"
            cells.append(f"{td}{escape(fmt_col(str(c), v))}</td>")
        body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return (f"<table><thead><tr>{head}</tr></thead><tbody>" + "".join(body)
            + "</tbody></table>")


def _ul(items) -> str:
    if not items:
        return "<p class=\"empty\">(none)</p>"
    return "<ul>" + "".join(f"<li>{escape(str(i))}</li>" for i in items) + "</ul>"


def html_report(results, audit: pd.DataFrame, assumptions: list, gaps: list,
                figures_png: dict, *, info: ReportInfo | None = None) -> str:
    """Self-contained ``index.html``: inline CSS, figures as base64 PNG, escaped text."""
    info = ReportInfo() if info is None else info
    n_fail = int((audit["status"] == "fail").sum()) if len(audit) else 0
    n_pass = int((audit["status"] == "pass").sum()) if len(audit) else 0
    n_conf = int((audit["status"] == "conflict").sum()) if len(audit) else 0
    verdict = "all published figures within tolerance" if n_fail == 0 else \
        f"{n_fail} published figure(s) outside tolerance"
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>{escape(info.short_title or info.title, quote=False)}</title>",
             f"<style>{css()}</style></head><body>"]
    if info.banner:
        parts.append(f"<div class=\"banner\">{escape(info.banner)}</div>")
    parts += [f"<h1>{escape(info.title, quote=False)}</h1>",
              f"<p class=\"verdict {'ok' if n_fail == 0 else 'bad'}\">Audit: {n_pass} pass, "
              f"{n_fail} fail, {n_conf} conflicting published figures (not counted) &mdash; "
              f"{escape(verdict)}.</p>", "<nav><h2>Contents</h2><ul>"]
    parts += [f"<li><a href=\"#{escape(r.key)}\">{escape(r.title)}</a> "
              f"<span class=\"{'ok' if r.n_fail == 0 else 'bad'}\">({r.n_pass} pass, "
              f"{r.n_fail} fail)</span></li>" for r in results]
    parts += ["<li><a href=\"#audit\">Audit of every published figure</a></li>",
              "<li><a href=\"#assumptions\">Assumptions</a></li>",
              "<li><a href=\"#gaps\">Gaps</a></li></ul></nav>"]
    for r in results:
        parts += [f"<section id=\"{escape(r.key)}\"><h2>{escape(r.title)}</h2>",
                  f"<p class=\"source\">Source: {escape(r.source)}</p>",
                  f"<p class=\"method\">{escape(r.method)}</p>"]
        for f in r.figures:
            png = figures_png.get(f.key)
            if png is None:
                continue
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(f"<figure><img alt=\"{escape(f.title)}\" "
                         f"src=\"data:image/png;base64,{b64}\"><figcaption>{escape(f.title)}"
                         "</figcaption></figure>")
        parts += [f"<h3>Published vs reproduced ({r.n_pass} pass, {r.n_fail} fail)</h3>",
                  html_table(r.audit, AUDIT_SHOW, status_col="status")]
        for name, table in sorted(r.tables.items()):
            parts += [f"<details><summary>{escape(name)}</summary>", html_table(table),
                      "</details>"]
        parts += ["<h3>Tests</h3>", html_table(r.tests, TEST_SHOW, status_col="decision")]
        if r.notes:
            parts += ["<h3>Notes</h3>", _ul(r.notes)]
        if r.gaps:
            parts += ["<h3>Gaps</h3>", _ul(r.gaps)]
        parts.append("</section>")
    parts += ["<section id=\"audit\"><h2>Audit of every published figure</h2>",
              html_table(audit, ["exhibit", *AUDIT_SHOW, "tolerance", "note"],
                         status_col="status"), "</section>",
              f"<section id=\"assumptions\"><h2>{escape(info.assumptions_title, quote=False)}</h2>",
              _ul(assumptions), "</section>",
              "<section id=\"gaps\"><h2>Gaps</h2>", _ul(gaps), "</section>",
              "</body></html>"]
    return "\n".join(parts) + "\n"
