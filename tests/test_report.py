"""surveylib.report: the replication runner, its files, figures and HTML escaping."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from surveylib.errors import SurveyDesignError
from surveylib.plotting import to_png
from surveylib.report import (
    AUDIT_COLUMNS,
    ExhibitResult,
    FigureSpec,
    ReportInfo,
    Series,
    main_replicate,
)
from surveylib.report.html import html_report, markdown_report, text_report
from surveylib.report.runner import assumptions_from, exit_code, write_atomic
from surveylib.study import locate

ROOT = Path(__file__).resolve().parents[1]
HAS_DATA = (ROOT / "microdata" / "kz2007_reconstructed.csv").exists()
STUDY = locate(ROOT)
EXHIBITS = STUDY.analyses_package().EXHIBITS
EVIL = "<script>alert('x')</script>"
INFO = ReportInfo(title="A study", banner="RECONSTRUCTED DATA: a notice", data_notice="notice")


def render(spec: FigureSpec) -> bytes:
    """A figure's PNG as the runner writes it: drawn by surveylib.plotting."""
    return to_png(spec.plot())


@pytest.fixture(scope="module")
def replication(tmp_path_factory):
    if not HAS_DATA:
        pytest.skip("reconstructed microdata not built")
    out = tmp_path_factory.mktemp("replication")
    code = main_replicate([str(out), "--quiet", "--study", str(ROOT)])
    return out, code


def _evil_result() -> ExhibitResult:
    audit = pd.DataFrame([{c: None for c in AUDIT_COLUMNS}])
    audit.loc[0, ["exhibit", "target_id", "domain", "quantity", "status"]] = [
        "evil", "T999", EVIL, EVIL, "pass"]
    fig = FigureSpec("evil_fig", f"title {EVIL}", (EVIL, "b"),
                     (Series(EVIL, (1.0, 2.0), (0.5, 1.5), (1.5, 2.5)),))
    return ExhibitResult(key="evil", title=f"Evil {EVIL}", source=EVIL, method=EVIL,
                         audit=audit, tables={EVIL: pd.DataFrame({EVIL: [EVIL]})},
                         figures=[fig], notes=[EVIL], gaps=[EVIL])


# ------------------------------------------------------------------------------ the run
def test_replication_succeeds_and_writes_every_file(replication):
    out, code = replication
    assert code == 0
    for name in ("report.md", "index.html", "audit.csv", "results.json"):
        assert (out / name).stat().st_size > 0
    assert len(list((out / "figures").glob("*.png"))) >= len(EXHIBITS)


def test_html_is_self_contained_and_has_every_exhibit(replication):
    out, _ = replication
    html = (out / "index.html").read_text(encoding="utf-8")
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert "RECONSTRUCTED" in html and "<style>" in html
    assert "data:image/png;base64," in html
    assert 'src="http' not in html and "<link" not in html
    for key in EXHIBITS:
        assert f'id="{key}"' in html
        assert key in res["exhibits"]
    md = (out / "report.md").read_text(encoding="utf-8")
    for key in EXHIBITS:
        assert res["exhibits"][key]["title"] in md
    assert "Assumptions" in html and "provenance" in html


def test_audit_csv_and_results_json(replication):
    out, _ = replication
    audit = pd.read_csv(out / "audit.csv")
    assert list(audit.columns) == AUDIT_COLUMNS
    assert (audit["status"] != "fail").all()
    assert (audit["status"] == "pass").sum() >= 130
    text = (out / "results.json").read_text(encoding="utf-8")
    res = json.loads(text)
    assert res["summary"]["fail"] == 0
    assert text == json.dumps(res, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def test_exit_code():
    ok = pd.DataFrame({"status": ["pass", "conflict", "claim"]})
    bad = pd.DataFrame({"status": ["pass", "fail"]})
    assert exit_code(ok, {}) == 0
    assert exit_code(bad, {}) == 1
    assert exit_code(ok, {"table_7_1": "boom"}) == 2


# ------------------------------------------------------------------------------ escaping
def test_html_escapes_labels_from_data():
    res = _evil_result()
    png = {"evil_fig": render(res.figures[0])}
    html = html_report([res], res.audit, [EVIL], [EVIL], png, info=INFO)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert INFO.banner in html and "<h1>A study</h1>" in html
    evil = html_report([res], res.audit, [], [], png, info=ReportInfo(title=EVIL, banner=EVIL))
    assert "<script>" not in evil


def test_report_texts_come_from_the_study():
    """Without the study's texts the report has a neutral title and no banner."""
    res = _evil_result()
    plain = html_report([res], res.audit, [], [], {})
    assert "<h1>Replication report</h1>" in plain and 'class="banner"' not in plain
    md = markdown_report([res], res.audit, [], [], {})
    assert md.startswith("# Replication report\n\n- Published figures:")


def test_text_and_markdown_render_the_same_content():
    res = _evil_result()
    assert "Evil" in text_report(res)
    md = markdown_report([res], res.audit, [], [], {"evil_fig": "figures/evil_fig.png"},
                         info=INFO)
    assert "figures/evil_fig.png" in md and "RECONSTRUCTED" in md


# ------------------------------------------------------------------------ determinism
def test_figure_bytes_are_deterministic():
    spec = _evil_result().figures[0]
    assert render(spec) == render(spec)
    assert render(spec)[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_atomic(tmp_path):
    p = tmp_path / "sub" / "f.txt"
    write_atomic(p, "a")
    write_atomic(p, "b")
    assert p.read_text() == "b"
    assert [x.name for x in p.parent.iterdir()] == ["f.txt"]


def test_assumptions_from_provenance():
    lines = assumptions_from({"notice": "RECONSTRUCTED", "config": {"seed": 1}})
    assert any("RECONSTRUCTED" in x for x in lines)
    assert assumptions_from({}) == ["microdata/provenance.json not found"]


def test_main_replicate_help(capsys):
    assert main_replicate(["--help"]) == 0
    assert "replicate" in capsys.readouterr().out


def test_marker_legend_names_the_comparison():
    """A figure's marker legend is the study's text; the library's default is neutral."""
    base = dict(key="m", title="t", categories=("a", "b"),
                series=(Series("x", (1.0, 2.0)), Series("y", (2.0, 3.0))),
                markers=((1, 0, "increase"),))
    plain = render(FigureSpec(**base))
    labelled = render(FigureSpec(**base, marker_labels=(("increase", "up since 1999"),)))
    assert plain != labelled
    assert render(FigureSpec(**base, marker_labels=(("decrease", "unused"),))) == plain


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))


def test_p_value_format_only_on_p_values_and_consistent_decimals():
    from surveylib.report.html import fmt, fmt_col, header

    assert fmt_col("p_value", 0.00001) == "<0.0001"
    assert fmt_col("p_adjusted", 0.01234) == "0.0123"
    assert fmt_col("p_2012", 0.00001) != "<0.0001"  # a share named p_..., not a p-value
    assert fmt(1.0) == "1.00" and fmt(25.0) == "25.00"
    assert fmt(0.000382) == "0.00038"  # no scientific notation
    assert fmt_col("share_holding", 0.5) == "50%"
    assert header("ci_low") == "95% CI from" and header("df_denom") == "df (denominator)"


def test_headline_says_what_fails():
    """A failed claim in words keeps the headline from reading 'all within tolerance'."""
    from surveylib.report.html import headline

    audit = pd.DataFrame({"target_id": ["T1", "T2", "T3", "T4"],
                          "status": ["pass", "pass (assumed reading)", "claim supported",
                                     "claim not supported"]})
    cls, lines = headline(audit)
    assert cls == "mixed"
    assert lines[0].startswith("Published figures: 2 of 2 reproduced within tolerance (1 of "
                               "them only under an assumed reading of the publication: T2)")
    assert lines[1] == "Claims in words: 1 of 2 supported; not supported: T4."
    assert headline(audit.iloc[:1])[0] == "ok"
    assert headline(pd.DataFrame({"target_id": ["T9"], "status": ["fail"]}))[0] == "bad"


# ------------------------------------------------------------- markdown escaping, file modes, swap
@pytest.mark.parametrize("evil", [EVIL, "<img src=x onerror=alert(1)>", "a & <b>bold</b>"])
def test_markdown_escapes_labels_as_html_does(evil):
    res = _evil_result().__class__(
        key="evil", title=f"Evil {evil}", source=evil, method=evil, audit=_evil_result().audit,
        tables={evil: pd.DataFrame({evil: [evil]})}, figures=[], notes=[evil], gaps=[evil])
    md = markdown_report([res], res.audit, [evil], [evil], {},
                         info=ReportInfo(title=evil, banner=evil))
    html = html_report([res], res.audit, [evil], [evil], {}, info=ReportInfo(title=evil, banner=evil))
    from html import escape
    raw_tag = evil[evil.index("<"):evil.index(">") + 1]
    assert raw_tag not in md and raw_tag not in html
    assert escape(evil, quote=False) in md
    assert md.count(escape(evil, quote=False)) >= 8  # title, banner, source, method, table, ...


def _fake_results():
    a = _evil_result()
    b = ExhibitResult(key="second", title="Second", source="s", method="m", audit=a.audit,
                      tables={}, figures=[FigureSpec("second_fig", "t", ("x", "y"),
                                                     (Series("s", (1.0, 2.0), (0.5, 1.5),
                                                             (1.5, 2.5)),))])
    return [a, b]


def _run(monkeypatch, out, results):
    from surveylib.report import runner
    monkeypatch.setattr(runner, "run_all", lambda study, **kw: (results, {}))
    return runner.run_replication(out, study=STUDY, progress=False)


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_report_files_have_output_mode_less_umask(monkeypatch, tmp_path, umask, mode):
    import os
    old = os.umask(umask)
    try:
        _run(monkeypatch, tmp_path / "rep", _fake_results())
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "rep").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"report.md", "index.html", "audit.csv", "results.json",
                                       "evil_fig.png", "second_fig.png"}
    for p in files:
        assert p.stat().st_mode & 0o777 == mode, p
    assert (tmp_path / "rep").stat().st_mode & 0o777 == 0o777 & ~umask


@pytest.mark.parametrize("where", ["figure", "html", "results"])
def test_interrupted_report_leaves_the_old_one_intact(monkeypatch, tmp_path, where):
    from surveylib.report import runner
    out = tmp_path / "rep"
    _run(monkeypatch, out, _fake_results()[:1])
    (out / "notes.txt").write_text("the user's own file")
    before = _snapshot(out)
    results = _fake_results()
    if where == "figure":  # a figure that cannot be drawn (in the worker or here)
        second = results[1]
        results[1] = ExhibitResult(key=second.key, title=second.title, source=second.source,
                                   method=second.method, audit=second.audit, tables={},
                                   figures=[FigureSpec("second_fig", "t", ("x", "y"),
                                                       (Series("s", (1.0, 2.0, 3.0)),))])
    elif where == "html":
        monkeypatch.setattr(runner, "html_report", lambda *a, **k: 1 / 0)
    else:
        monkeypatch.setattr(runner, "dumps", lambda *a, **k: 1 / 0)
    with pytest.raises((SurveyDesignError, ZeroDivisionError)):
        _run(monkeypatch, out, results)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no staging folder left behind


def test_a_new_report_replaces_the_old_set_and_keeps_other_files(monkeypatch, tmp_path):
    out = tmp_path / "rep"
    _run(monkeypatch, out, _fake_results())
    (out / "notes.txt").write_text("mine")
    _run(monkeypatch, out, _fake_results()[:1])
    assert not (out / "figures" / "second_fig.png").exists()  # no stale file of the old run
    assert (out / "figures" / "evil_fig.png").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_unwritable_parent_of_out_is_a_clear_error_before_any_run(monkeypatch, tmp_path):
    import tempfile

    from surveylib.report import runner

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    ran = []
    monkeypatch.setattr(runner, "run_all", lambda study, **kw: ran.append(1) or ([], {}))
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(SurveyDesignError, match=r"cannot be written \(Permission denied\)"):
        runner.run_replication(tmp_path / "rep", study=STUDY, progress=False)
    assert not ran


# ------------------------------------------------------------------ figures in a worker
def _spec(key: str, values=(1.0, 2.0)) -> FigureSpec:
    return FigureSpec(key, f"figure {key}", ("a", "b"),
                      (Series("s", values, (0.5, 1.5), (1.5, 2.5)),))


def test_painter_worker_draws_the_bytes_drawn_in_process():
    """The worker's PNGs are the runner's own (to_png of spec.plot()), in order."""
    from surveylib.report.painter import FigurePainter

    specs = [_spec("one"), _spec("two", (3.0, 1.0)), _spec("three", (0.2, 0.4))]
    results = [ExhibitResult(key=f"x{i}", title="", source="", method="", figures=[s])
               for i, s in enumerate(specs)]
    painter = FigurePainter()
    for r in [*results, results[0]]:  # a result handed over twice is drawn once
        painter.submit(r)
    got = painter.pngs()
    assert list(got) == ["one", "two", "three"]
    assert got == {s.key: render(s) for s in specs}


def test_painter_raises_a_figure_error_in_the_runner():
    """A figure that cannot be drawn raises its own error in this process, worker or not."""
    from surveylib.report.painter import FigurePainter

    bad = FigureSpec("bad", "three values for two categories", ("a", "b"),
                     (Series("s", (1.0, 2.0, 3.0)),))
    for parallel in (True, False):
        painter = FigurePainter(parallel=parallel)
        painter.submit(ExhibitResult(key="x", title="", source="", method="",
                                     figures=[_spec("ok"), bad]))
        with pytest.raises(SurveyDesignError, match="3 values for 2 categories"):
            painter.pngs()
