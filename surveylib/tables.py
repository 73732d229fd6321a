"""Publication tables: labelled wide tables of estimates, exported for papers.

:func:`publication_table` lays out estimates as a paper prints them (gtsummary's
``tbl_svysummary``, SPSS Complex Samples' tables): one row per level of each variable (its
value label), one column per domain or wave, each cell the estimate with its confidence
interval or standard error, a row of unweighted counts, and a marker on the cells that differ
significantly from a reference column, with the multiplicity adjustment named in the notes.
The :class:`PublicationTable` it returns exports to Markdown, HTML, LaTeX, Excel and Word.

Rendering is delegated to well-kept libraries rather than written here: pandas' ``Styler``
(HTML and LaTeX, through Jinja2), ``tabulate`` (Markdown, through ``DataFrame.to_markdown``),
``openpyxl`` (Excel) and ``python-docx`` (Word). They are the ``tables`` extra:
``pip install "surveylib[tables]"``.

Examples
--------
>>> import pandas as pd, surveylib as sl
>>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "vote": list("yynnyyny"),
...                    "w": [1.0, 2, 1, 2, 3, 1, 1, 2]})
>>> est = sl.SurveyDesign(df, strata="h", weights="w").proportion("vote", by="h")
>>> tab = publication_table(est, interval="se", digits=1)
>>> tab.body.loc[("vote", "y"), 1]
'50.0 (30.4)'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import check_level, check_option
from .errors import SurveyDesignError
from .inference.multiplicity import adjust_pvalues
from .io import atomic_write
from .results import Estimate

__all__ = ["ADJUSTMENTS", "PublicationTable", "publication_table"]

#: Multiplicity adjustments: name -> (method of ``adjust_pvalues``, words for notes).
ADJUSTMENTS = {
    "holm": ("holm", "Holm's step-down method"),
    "bonferroni": ("bonferroni", "the Bonferroni method"),
    "bh": ("bh", "the Benjamini–Hochberg false discovery rate"),
    "none": ("none", "no adjustment for multiple comparisons"),
}
N_ROW = "Unweighted n"
VALUE_COLUMNS = ["variable", "level", "column", "estimate", "se", "ci_low", "ci_high", "df",
                 "n", "difference", "p_value", "p_adjusted", "marker"]


def _need(module: str, package: str):
    """Import an optional rendering library, naming the extra that installs it."""
    try:
        if module == "docx":
            import docx
            return docx
        if module == "openpyxl":
            import openpyxl
            return openpyxl
    except ImportError:
        pass
    raise SurveyDesignError(
        f"this export needs the package {package!r}; install it with "
        "pip install \"surveylib[tables]\"", parameter="package", value=package)


@dataclass(frozen=True)
class PublicationTable:
    """A labelled wide table of estimates (made by :func:`publication_table`).

    Attributes
    ----------
    body : DataFrame
        The table as printed: rows ``(variable label, level label)`` (with a row
        ``"Unweighted n"`` per variable), columns the domains or waves, cells text.
    values : DataFrame
        The numbers behind every cell, one row per variable x level x column, with the
        columns ``variable, level, column, estimate, se, ci_low, ci_high, df, n, difference,
        p_value, p_adjusted, marker`` (estimates on the printed scale: percentages when the
        table shows them).
    title : str
    notes : tuple of str
        What the cells hold, what n counts, what the marker means and how p-values were
        adjusted.
    """

    body: pd.DataFrame
    values: pd.DataFrame
    title: str
    notes: tuple

    def __str__(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _write(self, text: str, path) -> str:
        if path is not None:
            atomic_write(path, lambda tmp: open(tmp, "w", encoding="utf-8").write(text))
        return text

    def to_markdown(self, path: str | os.PathLike[str] | None = None) -> str:
        """The table as GitHub Markdown (via ``tabulate``), title above and notes below."""
        try:
            grid = self.body.reset_index().to_markdown(index=False)
        except ImportError:
            _need("tabulate", "tabulate")
        notes = "\n".join(f"- {n}" for n in self.notes)
        return self._write(f"**{self.title}**\n\n{grid}\n\n{notes}\n", path)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """The table as HTML (pandas ``Styler``), caption the title, notes in a footer."""
        html = self.body.style.set_caption(escape(self.title)).format(escape="html") \
            .format_index(escape="html", axis=0).format_index(escape="html", axis=1).to_html()
        notes = "".join(f"<p class=\"note\">{escape(n)}</p>" for n in self.notes)
        return self._write(f"<div class=\"surveylib-table\">{html}{notes}</div>\n", path)

    def to_latex(self, path: str | os.PathLike[str] | None = None) -> str:
        """The table as a LaTeX ``table`` (pandas ``Styler``, booktabs rules), notes below."""
        styler = self.body.style.format(escape="latex").format_index(escape="latex", axis=0) \
            .format_index(escape="latex", axis=1)
        tex = styler.to_latex(caption=_latex_escape(self.title), hrules=True,
                              environment="table", multirow_align="t")
        notes = "\n".join(f"\\par\\footnotesize {_latex_escape(n)}" for n in self.notes)
        return self._write(tex.replace("\\end{table}", notes + "\n\\end{table}"), path)

    def _rows(self) -> list[list[str]]:
        """Header row then body rows as text: variable label, level, cells."""
        header = [str(self.body.index.names[0] or ""), str(self.body.index.names[1] or ""),
                  *map(str, self.body.columns)]
        rows: list[list[str]] = [header]
        for (var, lev), cells in zip(self.body.index, self.body.to_numpy(), strict=True):
            rows.append([str(var), str(lev), *map(str, cells)])
        return rows

    def to_excel(self, path: str | os.PathLike[str]):
        """An Excel workbook: sheet ``table`` (title, the table, notes) and sheet ``values``
        (the numbers behind the cells). Written with ``openpyxl``, atomically."""
        openpyxl = _need("openpyxl", "openpyxl")
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "table"
        sheet.append([self.title])
        for row in self._rows():
            sheet.append(row)
        sheet.append([])
        for note in self.notes:
            sheet.append([note])
        values = book.create_sheet("values")
        values.append(VALUE_COLUMNS)
        for rec in self.values[VALUE_COLUMNS].itertuples(index=False):
            values.append([None if (isinstance(v, float) and np.isnan(v)) else
                           (v.item() if isinstance(v, np.generic) else v) for v in rec])
        return atomic_write(path, lambda tmp: book.save(tmp))

    def to_docx(self, path: str | os.PathLike[str]):
        """A Word document: the title, the table and the notes (``python-docx``), atomically."""
        docx = _need("docx", "python-docx")
        document = docx.Document()
        document.add_paragraph(self.title, style="Caption")
        rows = self._rows()
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                table.cell(i, j).text = text
        for note in self.notes:
            document.add_paragraph(note)
        return atomic_write(path, lambda tmp: document.save(tmp))


def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                 ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(a, b)
    return text


def _cells(results, columns) -> tuple[pd.DataFrame, Mapping[str, str], str, bool]:
    """Tidy cells (variable, level, column, estimate, se, ci, df, n, row in its vcov, source)
    of an Estimate split by ``columns``, or of a mapping of independent Estimates."""
    if isinstance(results, Estimate):
        by = list(results.by)
        if columns is None:
            if len(by) > 1:
                raise SurveyDesignError(
                    f"the estimate has several by columns {by}; say which one makes the "
                    "table's columns with columns=", parameter="columns", expected=by)
            columns = by[0] if by else None
        if columns is not None and columns not in by:
            raise SurveyDesignError(
                f"columns={columns!r} is not a by column of the estimate (its by columns: "
                f"{by}); estimate with by={columns!r} first", parameter="columns",
                value=columns, expected=by)
        frame = results.to_frame()
        frame["column"] = frame[columns] if columns is not None else "Total"
        frame["row"] = np.arange(len(frame))
        frame["source"] = 0
        name = results.label(columns) if columns is not None else ""
        return frame, dict(results.labels), name, False
    if not isinstance(results, Mapping) or not results:
        raise SurveyDesignError(
            "publication_table needs an Estimate or a mapping {column label: Estimate} of "
            f"independent samples (waves); got {type(results).__name__}")
    parts: list[pd.DataFrame] = []
    labels: dict[str, str] = {}
    for i, (key, est) in enumerate(results.items()):
        if not isinstance(est, Estimate) or est.by:
            raise SurveyDesignError(
                f"results[{key!r}] must be an Estimate without by= (one per wave); split "
                "domains with columns= on one estimate instead", parameter="results", value=key)
        f = est.to_frame()
        f["column"], f["row"], f["source"] = key, np.arange(len(f)), i
        parts.append(f)
        labels.update(est.labels)
    return pd.concat(parts, ignore_index=True), labels, "", True


def publication_table(
    results, *, columns: str | None = None, interval: str = "ci", level: float = 0.95,
    digits: int = 1, percent: bool | None = None, reference=None, adjust: str = "holm",
    alpha: float = 0.05, marker: str = "*", title: str | None = None,
) -> PublicationTable:
    """A labelled wide table of estimates with CIs or SEs, unweighted n and significance marks.

    Parameters
    ----------
    results : Estimate or mapping of str to Estimate
        One estimate whose domains (a ``by`` column) become the columns, or one estimate per
        wave, ``{"2007": est_2007, "2012": est_2012}``: the waves are taken as independent
        samples.
    columns : str, optional
        The ``by`` column whose values make the columns (default: the estimate's only one;
        without ``by`` the table has one column, "Total").
    interval : {"ci", "se"}
        Each cell's estimate with its confidence interval ``[low, high]`` or its standard
        error ``(se)``.
    level : float
        Confidence level of the intervals.
    digits : int
        Decimals shown.
    percent : bool, optional
        Show shares as percentages (default: for proportions).
    reference : optional
        The column the others are tested against (a domain value or a wave's key); cells that
        differ from it at ``alpha`` after the adjustment get ``marker``. ``None``: no tests.
    adjust : {"holm", "bonferroni", "bh", "none"}
        Multiplicity adjustment over every test of the table (statsmodels
        ``multipletests``), named in the notes.
    alpha : float
        Significance level of the markers.
    marker : str
        Appended to a significant cell.
    title : str, optional
        Default: the statistic and the variables' labels.

    Returns
    -------
    PublicationTable

    Notes
    -----
    A domain's difference from the reference domain of the same design is tested with its
    design-based variance ``V_cc + V_rr - 2 V_cr`` (the domains' covariance from one pass,
    as R ``svycontrast`` on ``svyby(covmat=TRUE)``) on the design's degrees of freedom;
    the difference between independent waves with ``V_c + V_r`` on the smaller of the two
    degrees of freedom (as :func:`surveylib.inference.compare`).  Each is a two-sided t test.
    Intervals are those of the estimates (:meth:`Estimate.ci`).
    """
    check_option(interval, ("ci", "se"), name="interval")
    check_option(adjust, tuple(ADJUSTMENTS), name="adjust")
    check_level(level)
    if not 0 < alpha < 1:
        raise SurveyDesignError(f"alpha={alpha!r} must lie strictly between 0 and 1.",
                                parameter="alpha", value=alpha)
    cells, labels, column_name, independent = _cells(results, columns)
    first = results if isinstance(results, Estimate) else next(iter(results.values()))
    statistic = first.statistic
    ci = (pd.concat([e.ci(level) for e in results.values()], ignore_index=True)
          if independent else first.ci(level).reset_index(drop=True))
    cells["ci_low"], cells["ci_high"] = ci["ci_low"].to_numpy(), ci["ci_high"].to_numpy()
    if percent is None:
        percent = statistic == "proportion"
    scale = 100.0 if percent else 1.0
    cells["level"] = cells["level"].where(cells["level"].notna(), "")
    order = list(dict.fromkeys(zip(cells["variable"], cells["level"], strict=True)))
    column_order = list(dict.fromkeys(cells["column"]))
    if reference is not None and reference not in column_order:
        raise SurveyDesignError(
            f"reference={reference!r} is not a column of the table (columns: {column_order})",
            parameter="reference", value=reference, expected=column_order)
    cells["difference"], cells["p_value"] = np.nan, np.nan
    if reference is not None:
        _test(cells, results, reference, independent)
    tested = cells["p_value"].notna().to_numpy()
    cells["p_adjusted"] = np.nan
    method = ADJUSTMENTS[adjust][0]
    if tested.any():
        p = adjust_pvalues(cells.loc[tested, "p_value"].to_numpy(), method)
        cells.loc[tested, "p_adjusted"] = p
    cells["marker"] = np.where(cells["p_adjusted"].to_numpy() < alpha, marker, "")
    for c in ("estimate", "se", "ci_low", "ci_high", "difference"):
        cells[c] = cells[c] * scale
    fmt = f"{{:.{digits}f}}"

    def text(r) -> str:
        est = fmt.format(r.estimate)
        extra = (f"[{fmt.format(r.ci_low)}, {fmt.format(r.ci_high)}]" if interval == "ci"
                 else f"({fmt.format(r.se)})")
        return f"{est} {extra}{r.marker}"

    cells["text"] = [text(r) for r in cells.itertuples()]
    rows, body = [], {}
    for var in dict.fromkeys(v for v, _ in order):
        for v, lev in order:
            if v == var:
                rows.append((labels.get(var, var), str(lev) if lev != "" else "estimate"))
                sel = (cells["variable"] == v) & (cells["level"] == lev)
                body[rows[-1]] = cells[sel].set_index("column")["text"]
        rows.append((labels.get(var, var), N_ROW))
        ns = cells[cells["variable"] == var].groupby("column", sort=False)["n"].max()
        body[rows[-1]] = ns.map(lambda n: f"{int(n):,}")
    table = pd.DataFrame(body).T.reindex(columns=column_order).fillna("")
    table.index = pd.MultiIndex.from_tuples(rows, names=["variable", "level"])
    table.columns.name = column_name or None
    unit = "%" if percent else ""
    notes = [f"Cells: estimate{' in %' if percent else ''} with its "
             + (f"{level:.0%} confidence interval in brackets" if interval == "ci"
                else f"standard error{' (' + unit + ')' if unit else ''} in parentheses")
             + f"; {statistic} estimates weighted and design-based.",
             f"{N_ROW}: respondents with a value, unweighted."]
    if reference is not None:
        how = ("independent samples, difference variance V_c + V_r, df the smaller of the two"
               if independent else "domains of one design, difference variance "
               "V_c + V_r - 2 Cov(c, r)")
        notes.append(
            f"{marker} differs from {reference} at the {alpha:g} level (two-sided t test; "
            f"{how}); p-values adjusted with {ADJUSTMENTS[adjust][1]} over "
            f"{int(tested.sum())} comparisons.")
    if title is None:
        names = "; ".join(labels.get(v, v) for v in dict.fromkeys(cells["variable"]))
        title = f"{statistic.capitalize()} estimates: {names}"
    values = cells.assign(level=cells["level"].astype(object))[VALUE_COLUMNS].reset_index(
        drop=True)
    return PublicationTable(body=table, values=values, title=title, notes=tuple(notes))


def _test(cells: pd.DataFrame, results, reference, independent: bool) -> None:
    """Fill ``difference`` and ``p_value`` of every non-reference cell (two-sided t)."""
    ref = cells[cells["column"] == reference].set_index(["variable", "level"])
    others = cells.index[cells["column"] != reference]
    keys = list(zip(cells.loc[others, "variable"], cells.loc[others, "level"], strict=True))
    present = np.array([k in ref.index for k in keys], dtype=bool)
    others, keys = others[present], [k for k, p in zip(keys, present, strict=True) if p]
    if not len(others):
        return
    r = ref.loc[keys]
    diff = cells.loc[others, "estimate"].to_numpy() - r["estimate"].to_numpy()
    se_c, se_r = cells.loc[others, "se"].to_numpy(), r["se"].to_numpy()
    df = np.minimum(cells.loc[others, "df"].to_numpy(dtype=float), r["df"].to_numpy(dtype=float))
    if independent:
        var = se_c**2 + se_r**2
    else:
        cov = results.vcov_matrix[cells.loc[others, "row"].to_numpy(), r["row"].to_numpy()]
        var = se_c**2 + se_r**2 - 2 * cov
    se = np.sqrt(np.clip(var, 0, None))
    ok = se > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(diff / se), df)
    cells.loc[others, "difference"] = diff
    cells.loc[others, "p_value"] = np.where(ok, p, np.nan)
