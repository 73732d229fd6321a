"""Publication tables: every exported cell checked against the estimates it shows.

Expected numbers come from the estimates themselves (tested against R elsewhere) and from
closed forms: a domain difference's variance is V_cc + V_rr - 2 V_cr of the estimate's
covariance; Holm's adjustment multiplies the smallest of k p-values by k.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import surveylib as sl
from surveylib.tables import publication_table

DATA = Path(__file__).parent / "conformance" / "data"


@pytest.fixture(scope="module")
def design():
    df = pd.read_csv(DATA / "apistrat.csv")
    df.attrs["variable_labels"] = {"sch.wide": "Met school-wide target", "stype": "School type"}
    return sl.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")


@pytest.fixture(scope="module")
def est(design):
    return design.proportion("sch.wide", by="stype")


def expected_cells(est, digits=1):
    f = est.to_frame()
    return {(r.stype, r.level): f"{100 * r.estimate:.{digits}f} [{100 * r.ci_low:.{digits}f}, "
            f"{100 * r.ci_high:.{digits}f}]" for r in f.itertuples()}


def test_cells_labels_and_n(est):
    tab = publication_table(est)
    assert tab.body.index.get_level_values(0).unique().tolist() == ["Met school-wide target"]
    assert tab.body.columns.name == "School type" and list(tab.body.columns) == ["E", "H", "M"]
    for (col, lev), text in expected_cells(est).items():
        assert tab.body.loc[("Met school-wide target", lev), col] == text
    n = est.to_frame().groupby("stype")["n"].first()
    assert tab.body.loc[("Met school-wide target", "Unweighted n")].tolist() == [
        str(n[c]) for c in "EHM"]


def test_markers_against_reference_use_the_domain_covariance(est):
    tab = publication_table(est, reference="E", adjust="holm")
    v = est.vcov_matrix
    f = est.to_frame()
    rows = {(r.stype, r.level): i for i, r in enumerate(f.itertuples())}
    p = {}
    for c in "HM":
        for lev in ("No", "Yes"):
            i, j = rows[(c, lev)], rows[("E", lev)]
            d = est.values[i] - est.values[j]
            se = np.sqrt(v[i, i] + v[j, j] - 2 * v[i, j])
            p[(c, lev)] = 2 * stats.t.sf(abs(d / se), est.dfs[i])
    vals = tab.values.set_index(["column", "level"])
    for key, pv in p.items():
        assert vals.loc[key, "p_value"] == pytest.approx(pv, rel=1e-10)
    # Holm over the 4 tests: the smallest p-value times 4
    assert vals["p_adjusted"].min() == pytest.approx(4 * min(p.values()), rel=1e-10)
    assert "Holm" in tab.notes[-1] and "4 comparisons" in tab.notes[-1]
    marked = {k for k, pv in vals["p_adjusted"].items() if pv < 0.05}
    for (col, lev) in marked:
        assert tab.body.loc[("Met school-wide target", lev), col].endswith("*")
    assert not tab.body["E"].str.endswith("*").any()


def test_waves_as_columns_are_independent(design):
    a = design.subset(design.data["stype"] == "E").proportion("sch.wide")
    b = design.subset(design.data["stype"] == "H").proportion("sch.wide")
    tab = publication_table({"2007": a, "2012": b}, reference="2007", interval="se",
                            adjust="none", digits=2)
    diff = b.values - a.values
    se = np.sqrt(a.se.to_numpy() ** 2 + b.se.to_numpy() ** 2)
    p = 2 * stats.t.sf(np.abs(diff / se), min(float(a.df), float(b.df)))
    got = tab.values[tab.values["column"] == "2012"]["p_value"].to_numpy()
    np.testing.assert_allclose(got, p, rtol=1e-10)
    assert tab.body.loc[("Met school-wide target", "Yes"), "2012"].startswith(
        f"{100 * b.values[1]:.2f} ({100 * b.se.iloc[1]:.2f})")
    assert "no adjustment" in tab.notes[-1]


def _check_text_export(text: str, tab) -> None:
    for (_, lev), row in tab.body.iterrows():
        for cell in row:
            assert cell in text, (lev, cell)


def test_markdown_latex_html_cell_by_cell(est, tmp_path):
    tab = publication_table(est, reference="E")
    md = tab.to_markdown(tmp_path / "t.md")
    assert (tmp_path / "t.md").read_text(encoding="utf-8") == md
    lines = [ln for ln in md.splitlines() if ln.startswith("| Met")]
    expected = expected_cells(est)
    for ln in lines[:2]:
        parts = [p.strip() for p in ln.strip("|").split("|")]
        lev = parts[1]
        assert [p.rstrip("*") for p in parts[2:]] == [expected[(c, lev)] for c in "EHM"]
    tex = tab.to_latex()
    for lev in ("No", "Yes"):
        row = next(ln for ln in tex.splitlines() if f"& {lev} &" in ln)
        cells = [c.strip().rstrip("\\").strip().rstrip("*") for c in row.split("&")[2:]]
        assert cells == [expected[(c, lev)] for c in "EHM"]
    assert "\\% with its 95\\% confidence" in tex
    html = tab.to_html()
    back = pd.read_html(io.StringIO(html))[0]
    got = back.iloc[:, 2:].astype(str).to_numpy()
    np.testing.assert_array_equal(got, tab.body.to_numpy())


def test_excel_and_word_read_back(est, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    docx = pytest.importorskip("docx")
    tab = publication_table(est, reference="H")
    tab.to_excel(tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    rows = list(book["table"].iter_rows(values_only=True))
    assert rows[0][0] == tab.title
    assert list(rows[1][2:]) == ["E", "H", "M"]
    body = [list(r[2:]) for r in rows[2:2 + len(tab.body)]]
    assert body == tab.body.to_numpy().tolist()
    values = pd.DataFrame(list(book["values"].iter_rows(values_only=True))[1:],
                          columns=tab.values.columns)
    np.testing.assert_allclose(values["estimate"].to_numpy(float),
                               tab.values["estimate"].to_numpy(float), rtol=1e-15)
    assert rows[-1][0] == tab.notes[-1]
    tab.to_docx(tmp_path / "t.docx")
    document = docx.Document(tmp_path / "t.docx")
    table = document.tables[0]
    cells = [[c.text for c in r.cells][2:] for r in table.rows]
    assert cells[0] == ["E", "H", "M"] and cells[1:] == tab.body.to_numpy().tolist()
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == tab.title and texts[-1] == tab.notes[-1]


def test_errors_name_the_fix(est, design):
    with pytest.raises(sl.SurveyDesignError, match="reference='X' is not a column"):
        publication_table(est, reference="X")
    with pytest.raises(sl.SurveyDesignError, match="columns='cname' is not a by column"):
        publication_table(est, columns="cname")
    with pytest.raises(sl.SurveyDesignError, match="without by="):
        publication_table({"a": est})
    two = design.proportion("sch.wide", by=["stype", "both"])
    with pytest.raises(sl.SurveyDesignError, match="say which one"):
        publication_table(two)
    assert re.search(r"\d", publication_table(design.mean("api00")).body.iloc[0, 0])
