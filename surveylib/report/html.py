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


#: Column headers in words (a column not listed keeps its name with underscores as spaces).
HEADERS = {
    "target_id": "figure", "exhibit": "exhibit", "wave": "wave", "domain": "domain",
    "quantity": "what is measured", "unit": "unit", "published": "published",
    "reproduced": "reproduced", "se": "standard error", "ci_low": "95% CI from",
    "ci_high": "95% CI to", "status": "status", "design_weighted": "with design weights",
    "calibrated": "calibrated to the census", "common_18plus": "reproduced, ages 18+ only",
    "tolerance": "tolerance", "note": "note", "test_id": "test", "claim": "claim",
    "weighting": "weighting", "universe": "population", "estimate": "estimate",
    "statistic": "test statistic", "df_num": "df (numerator)", "df_denom": "df (denominator)",
    "p_value": "p-value", "p_adjusted": "adjusted p-value", "method": "method",
    "decision": "decision", "supported": "supported", "holds": "holds in the shipped files",
    "estimate_min": "lowest estimate over the draws",
    "estimate_max": "highest estimate over the draws", "draws": "draws",
    "share_holding": "share of draws in which it holds", "verdict": "verdict",
    "deff": "design effect", "n": "respondents",
}
#: Columns holding p-values (the only ones formatted as p-values).
P_COLUMNS = ("p_value", "p_adjusted")
#: Columns shown as percentages of 0..1 shares.
PERCENT_COLUMNS = ("share_holding", "power")


def header(name: str) -> str:
    """A column's header in words."""
    return HEADERS.get(name, str(name).replace("_", " "))


def fmt(v, digits: int = 2) -> str:
    """Display rounding (the only place numbers are rounded): ``digits`` decimals for every
    float; a non-zero value that would show as 0 gets two significant digits instead."""
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return ""
        if v != 0 and abs(v) < 0.5 * 10 ** -digits:
            places = min(8, 1 - int(math.floor(math.log10(abs(v)))))
            return f"{v:.{places}f}"
        return f"{v:.{digits}f}"
    if v is pd.NA:
        return ""
    return str(v)


def fmt_col(name: str, v) -> str:
    """Column-aware display: p-values with 4 decimals (or "<0.0001"), shares as percents."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v):
        if name in P_COLUMNS:
            return "<0.0001" if v < 1e-4 else f"{v:.4f}"
        if name in PERCENT_COLUMNS:
            return f"{100 * v:.0f}%"
    return fmt(v)


def relabel(text: str, labels) -> str:
    """``text`` with every code of ``labels`` ((code, words) pairs) replaced by its words."""
    import re

    for code, words in labels:
        if code in text:  # the pattern matches only where the code occurs: skip the regex
            text = re.sub(rf"(?<![\w.]){re.escape(code)}(?![\w])", words, text)
    return text


def _cell(name: str, v, labels=()) -> str:
    out = fmt_col(name, v)
    return relabel(out, labels) if labels and isinstance(v, str) else out


def _shown(d: pd.DataFrame) -> pd.DataFrame:
    shown = d.apply(lambda col: col.map(lambda v: fmt_col(str(col.name), v))) if len(d) else d
    return shown.rename(columns=header)


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
def _md_table(df: pd.DataFrame, cols=None, labels=()) -> str:
    if df is None or len(df) == 0:
        return "_(none)_\n"
    d = df[[c for c in (cols or df.columns) if c in df.columns]]
    head = "| " + " | ".join(_md(header(str(c))) for c in d.columns) + " |"
    sep = "|" + "|".join("---" for _ in d.columns) + "|"
    lines = [head, sep]
    for row in d.itertuples(index=False):
        cells = [_md(_cell(str(c), v, labels)).replace("|", "\\|").replace("\n", " ")
                 for c, v in zip(d.columns, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _ids(audit: pd.DataFrame, status: str) -> list:
    if not len(audit):
        return []
    return list(dict.fromkeys(audit.loc[audit["status"] == status, "target_id"].astype(str)))


ROBUST_SHOW = ["exhibit", "test_id", "universe", "claim", "estimate", "estimate_min",
               "estimate_max", "share_holding", "verdict"]


def headline(audit: pd.DataFrame, robust: pd.DataFrame | None = None) -> tuple[str, list]:
    """The report's verdict class (ok / mixed / bad) and its lines, computed from the audit.

    Figures reproduced within tolerance, those only under an assumed reading, failures,
    conflicts, claims in words supported or not, and (with draws) the conclusions that hold in
    every reconstruction.
    """
    st = audit["status"] if len(audit) else pd.Series([], dtype=str)
    within, assumed = int((st == "pass").sum()), _ids(audit, "pass (assumed reading)")
    fails, conflicts = _ids(audit, "fail"), _ids(audit, "conflict")
    sup, nsup = _ids(audit, "claim supported"), _ids(audit, "claim not supported")
    nsup_only = [i for i in nsup if i not in sup]
    sup_only = [i for i in sup if i not in nsup]
    mixed = [i for i in nsup if i in sup]
    n_fig = within + len(assumed) + len(fails)
    lines = [f"Published figures: {within + len(assumed)} of {n_fig} reproduced within "
             f"tolerance ({len(assumed)} of them only under an assumed reading of the "
             f"publication: {', '.join(assumed) or 'none'}); {len(fails)} outside"
             + (f" ({', '.join(fails)})" if fails else "")
             + f"; {len(conflicts)} contradict another published figure and are not counted"
             + (f" ({', '.join(conflicts)})" if conflicts else "") + "."]
    n_claims = len(sup_only) + len(nsup_only) + len(mixed)
    lines.append(f"Claims in words: {len(sup_only)} of {n_claims} supported"
                 + (f"; not supported: {', '.join(nsup_only)}" if nsup_only else "")
                 + (f"; supported in one check and not in another: {', '.join(mixed)}"
                    if mixed else "") + ".")
    if robust is not None and len(robust):
        k = int(robust["draws"].iloc[0])
        r = robust[robust["universe"] == "wave"]
        rob = r[r["verdict"] == "holds in every reconstruction"]
        dep = r[r["verdict"] == "depends on the reconstruction"]
        lines.append(f"Over {k} reconstructions that all reproduce the publication: "
                     f"{len(rob)} conclusions hold in every one, {len(dep)} depend on the "
                     "reconstruction (as published populations; see Robustness).")
        lines += [f"Robust: {c}" for c in rob["claim"]]
    else:
        lines.append("Robustness over reconstructions not computed (run `surveylib replicate "
                     "--draws K`): every conclusion below rests on one reconstruction.")
    cls = "bad" if fails else ("mixed" if (nsup or assumed) else "ok")
    return cls, lines


def _section_count(r) -> str:
    sup, nsup = r.n_claims
    parts = []
    if r.n_pass or r.n_fail:
        parts.append(f"{r.n_pass} within tolerance, {r.n_fail} outside")
    if sup or nsup:
        parts.append(f"claims: {sup} supported, {nsup} not")
    if not parts:
        parts.append(f"no published figure to reproduce; {len(r.tests)} tests below")
    return "; ".join(parts)


def _md(text) -> str:
    """Text from data made inert in Markdown: ``&``, ``<`` and ``>`` escaped as in HTML, since
    Markdown passes raw HTML through (a label ``<script>`` must not run in a viewer)."""
    return escape(str(text), quote=False)


def markdown_report(results, audit: pd.DataFrame, assumptions: list, gaps: list,
                    figure_files: dict, *, info: ReportInfo | None = None,
                    robustness: pd.DataFrame | None = None, not_checkable=()) -> str:
    """``report.md``: banner, headline, every exhibit with tables, tests and figures.

    Every string from data is escaped as in ``index.html`` (:func:`_md`)."""
    info = ReportInfo() if info is None else info
    lab = info.labels
    _, head = headline(audit, robustness)
    lines = [f"# {_md(info.title)}", ""] + ([f"> **{_md(info.banner)}**", ""] if info.banner else [])
    lines += [f"- {_md(relabel(h, lab))}" for h in head] + [""]
    lines += ["## Contents", ""] + [f"- [{_md(r.title)}](#{_md(r.key)})" for r in results]
    lines += ["- [Robustness over reconstructions](#robustness)", ""]
    for r in results:
        lines += [f"<a id=\"{escape(str(r.key))}\"></a>", f"## {_md(r.title)}", "",
                  f"*Source:* {_md(r.source)}", "", f"*Method:* {_md(relabel(r.method, lab))}", ""]
        for f in r.figures:
            if f.key in figure_files:
                lines += [f"![{_md(f.title)}]({figure_files[f.key]})", ""]
        lines += [f"### Published vs reproduced ({_section_count(r)})", "",
                  _md_table(r.audit, AUDIT_SHOW, lab)]
        for name, table in sorted(r.tables.items()):
            lines += [f"### {_md(name)}", "", _md_table(table, None, lab)]
        lines += ["### Tests", "", _md_table(r.tests, TEST_SHOW, lab)]
        if r.notes:
            lines += ["### Notes", ""] + [f"- {_md(relabel(n, lab))}" for n in r.notes] + [""]
        if r.gaps:
            lines += ["### Gaps", ""] + [f"- {_md(g)}" for g in r.gaps] + [""]
    lines += ["<a id=\"robustness\"></a>", "## Robustness over reconstructions", ""]
    lines += ([_md_table(robustness, ROBUST_SHOW, lab)] if robustness is not None
              else ["_Not computed: run `surveylib replicate --draws K`._", ""])
    lines += [f"## {_md(info.assumptions_title)}", ""]
    lines += [f"- {_md(a)}" for a in assumptions] or ["_(none recorded)_"]
    every = list(not_checkable) + list(gaps)
    lines += ["", "## Gaps: what cannot be checked", ""]
    lines += ([f"- {_md(g)}" for g in every] or ["_(none)_"]) + [""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- html
def css() -> str:
    return resources.files("surveylib.report").joinpath("report.css").read_text(encoding="utf-8")


def html_table(df: pd.DataFrame, cols=None, *, status_col: str | None = None,
               labels=()) -> str:
    """A DataFrame as an escaped HTML table (rounded for display, headers in words)."""
    if df is None or len(df) == 0:
        return "<p class=\"empty\">(none)</p>"
    d = df[[c for c in (cols or df.columns) if c in df.columns]]
    head = "".join(f"<th>{escape(header(str(c)))}</th>" for c in d.columns)
    body = []
    for row in d.to_dict(orient="records"):
        cls = ""
        if status_col and status_col in row:
            key = "".join(ch if ch.isalnum() else "-" for ch in str(row[status_col]))
            cls = f" class=\"st-{escape(key)}\""
        cells = []
        for c, v in row.items():
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            td = '<td class="num">' if num else "<td>"
            cells.append(f"{td}{escape(_cell(str(c), v, labels))}</td>")
        body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return (f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>")


def _ul(items) -> str:
    if not items:
        return "<p class=\"empty\">(none)</p>"
    return "<ul>" + "".join(f"<li>{escape(str(i))}</li>" for i in items) + "</ul>"


def html_report(results, audit: pd.DataFrame, assumptions: list, gaps: list,
                figures_png: dict, *, info: ReportInfo | None = None,
                robustness: pd.DataFrame | None = None, not_checkable=()) -> str:
    """Self-contained ``index.html``: inline CSS, figures as base64 PNG, escaped text."""
    info = ReportInfo() if info is None else info
    lab = info.labels
    cls, head = headline(audit, robustness)
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             f"<title>{escape(info.short_title or info.title, quote=False)}</title>",
             f"<style>{css()}</style></head><body>"]
    if info.banner:
        parts.append(f"<div class=\"banner\">{escape(info.banner)}</div>")
    parts += [f"<h1>{escape(info.title, quote=False)}</h1>",
              f"<div class=\"verdict {cls}\"><ul>"
              + "".join(f"<li>{escape(relabel(h, lab))}</li>" for h in head) + "</ul></div>",
              "<nav><h2>Contents</h2><ul>"]
    parts += [f"<li><a href=\"#{escape(r.key)}\">{escape(r.title)}</a> "
              f"<span class=\"{'ok' if r.n_fail == 0 else 'bad'}\">({escape(_section_count(r))})"
              "</span></li>" for r in results]
    parts += ["<li><a href=\"#robustness\">Robustness over reconstructions</a></li>",
              "<li><a href=\"#audit\">Audit of every published figure</a></li>",
              "<li><a href=\"#assumptions\">Assumptions</a></li>",
              "<li><a href=\"#gaps\">Gaps: what cannot be checked</a></li></ul></nav>"]
    for r in results:
        parts += [f"<section id=\"{escape(r.key)}\"><h2>{escape(r.title)}</h2>",
                  f"<p class=\"source\">Source: {escape(r.source)}</p>",
                  f"<p class=\"method\">{escape(relabel(r.method, lab))}</p>"]
        for f in r.figures:
            png = figures_png.get(f.key)
            if png is None:
                continue
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(f"<figure><img alt=\"{escape(f.title)}\" "
                         f"src=\"data:image/png;base64,{b64}\"><figcaption>{escape(f.title)}"
                         "</figcaption></figure>")
        parts += [f"<h3>Published vs reproduced ({escape(_section_count(r))})</h3>",
                  html_table(r.audit, AUDIT_SHOW, status_col="status", labels=lab)]
        for name, table in sorted(r.tables.items()):
            parts += [f"<details><summary>{escape(name)}</summary>",
                      html_table(table, labels=lab), "</details>"]
        parts += ["<h3>Tests</h3>", html_table(r.tests, TEST_SHOW, status_col="decision",
                                               labels=lab)]
        if r.notes:
            parts += ["<h3>Notes</h3>", _ul([relabel(n, lab) for n in r.notes])]
        if r.gaps:
            parts += ["<h3>Gaps</h3>", _ul(r.gaps)]
        parts.append("</section>")
    parts += ["<section id=\"robustness\"><h2>Robustness over reconstructions</h2>"]
    if robustness is not None:
        parts += ["<p>Each conclusion recomputed on every reconstruction (each reproduces every "
                  "published figure): the estimate's range, the share of reconstructions in "
                  "which it holds (significant at 5% after the same adjustment, in the same "
                  "direction) and the verdict.</p>",
                  html_table(robustness, ROBUST_SHOW, status_col="verdict", labels=lab)]
    else:
        parts.append("<p class=\"empty\">Not computed: run <code>surveylib replicate --draws "
                     "K</code>.</p>")
    parts += ["</section>",
              "<section id=\"audit\"><h2>Audit of every published figure</h2>",
              html_table(audit, ["exhibit", *AUDIT_SHOW, "tolerance", "note"],
                         status_col="status", labels=lab), "</section>",
              f"<section id=\"assumptions\"><h2>{escape(info.assumptions_title, quote=False)}"
              "</h2>", _ul(assumptions), "</section>",
              "<section id=\"gaps\"><h2>Gaps: what cannot be checked</h2>",
              _ul(list(not_checkable) + list(gaps)), "</section>",
              "</body></html>"]
    return "\n".join(parts) + "\n"
