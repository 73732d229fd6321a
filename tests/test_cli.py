"""The `surveylib` command: subcommands, help, version, study options and exit codes.

Exit codes (docs/cli.md): 0 success, 1 a published figure outside tolerance, 2 a usage or
input error reported as one line ``surveylib: error: ...`` on stderr, without a traceback.
A small study written into a temporary folder shows that the runner works on any study, not
only the Kazakhstan one shipped with the library.
"""

from __future__ import annotations

import json
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import surveylib
from surveylib import cli
from surveylib.study import load_module, load_package, locate

ROOT = Path(__file__).resolve().parents[1]
#: reconstruct/verify come from surveylib.reconstruct.cli (configure_*/run_*), another branch

EXHIBIT = '''
"""One published figure, 42, reproduced from the study's microdata/value.txt."""
import pandas as pd

from surveylib.report import AUDIT_COLUMNS, ExhibitResult, FigureSpec, Series

from . import helper


def run(data=None, *, study=None):
    value = helper.read_value(study)
    row = {c: None for c in AUDIT_COLUMNS}
    row.update(exhibit="one", target_id="F1", published=42.0, reproduced=value,
               status="pass" if abs(value - 42.0) < 0.5 else "fail")
    fig = FigureSpec("one_fig", "the figure", ("a",), (Series("s", (value,)),))
    return ExhibitResult(key="one", title="Figure one", source="page 1", method="a count",
                         audit=pd.DataFrame([row], columns=AUDIT_COLUMNS), figures=[fig])
'''
HELPER = '''
def read_value(study):
    return float((study.require("microdata") / "value.txt").read_text())
'''
INIT = '''
EXHIBITS = ("one", "broken")
REPORT = {"title": "A toy study", "data_notice": "toy data"}
'''
BROKEN = '''
def run(data=None, *, study=None):
    if (study.require("microdata") / "break").exists():
        raise RuntimeError("this exhibit cannot run")
    from . import one
    res = one.run(data, study=study)
    res.key = "broken"
    res.audit = res.audit.assign(exhibit="broken", target_id="F2")
    res.figures = []
    return res
'''


def _write(folder: Path, files: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@pytest.fixture
def toy(tmp_path):
    """A study root with analyses/ (two exhibits, a helper) and microdata/value.txt = 42."""
    root = tmp_path / "toy"
    _write(root / "analyses", {"__init__.py": INIT, "one.py": EXHIBIT, "helper.py": HELPER,
                               "broken.py": BROKEN})
    _write(root / "microdata", {"value.txt": "42"})
    return root


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("surveylib: error: ")
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------------ the command
def test_help_lists_every_command(capsys):
    code, out, _ = _run(["--help"], capsys)
    assert code == 0
    for name in cli.COMMANDS:
        assert name in out
    assert "Exit codes" in out


def test_version_has_one_source(capsys):
    code, out, _ = _run(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"surveylib {surveylib.__version__}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "surveylib.__version__"}


def test_unknown_command_is_one_line_exit_2(capsys):
    code, _, err = _run(["frobnicate"], capsys)
    assert code == 2
    assert "invalid choice: 'frobnicate'" in _one_error_line(err)


def test_no_command_is_usage_error(capsys):
    code, _, err = _run([], capsys)
    assert code == 2
    assert "COMMAND" in _one_error_line(err)


def test_unknown_option_is_one_line_exit_2(capsys):
    code, _, err = _run(["replicate", "--bogus"], capsys)
    assert code == 2
    assert "--bogus" in _one_error_line(err)


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_every_option_has_help(name):
    parser = cli.build_parser([name])
    sub = next(a for a in parser._actions if a.dest == "command").choices[name]
    options = [a for a in sub._actions if a.dest != "help"]
    assert options, f"{name} has no options"
    for action in options:
        assert action.help and len(action.help) > 10, (name, action.option_strings)


# ------------------------------------------------------------------- replicate, any study
def test_replicate_a_study_given_by_folder(toy, tmp_path, capsys):
    out = tmp_path / "report"
    code, _, err = _run(["replicate", "--study", str(toy), "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(res["exhibits"]) == {"one", "broken"}
    assert res["banner"] == "toy data" and res["summary"] == {"pass": 2, "fail": 0,
                                                               "conflict": 0}
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<h1>A toy study</h1>" in html
    assert html.index('id="one"') < html.index('id="broken"')  # the study's order
    assert (out / "figures" / "one_fig.png").stat().st_size > 0


def test_replicate_exit_1_when_a_published_figure_is_out_of_tolerance(toy, tmp_path, capsys):
    other = _write(tmp_path / "other_microdata", {"value.txt": "40"})
    code, _, _ = _run(["replicate", "--study", str(toy), "--microdata", str(other),
                       "--out", str(tmp_path / "r"), "--quiet"], capsys)
    assert code == 1
    res = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert res["summary"]["fail"] == 2


def test_replicate_only_some_exhibits(toy, tmp_path, capsys):
    code, _, _ = _run(["replicate", "--study", str(toy), "--exhibit", "one",
                       "--out", str(tmp_path / "r"), "--quiet"], capsys)
    assert code == 0
    res = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert set(res["exhibits"]) == {"one"}


def test_replicate_exit_2_when_an_exhibit_cannot_run(toy, tmp_path, capsys):
    (toy / "microdata" / "break").write_text("")
    code, _, err = _run(["replicate", "--study", str(toy), "--out", str(tmp_path / "r")],
                        capsys)
    assert code == 2
    assert "broken: ERROR RuntimeError: this exhibit cannot run" in err
    res = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert res["errors"] == {"broken": "RuntimeError: this exhibit cannot run"}


def test_unknown_exhibit_is_exit_2(toy, tmp_path, capsys):
    code, _, err = _run(["replicate", "--study", str(toy), "--exhibit", "two",
                         "--out", str(tmp_path / "r")], capsys)
    assert code == 2
    assert "unknown exhibit 'two'" in _one_error_line(err)


def test_out_under_a_file_fails_before_any_exhibit_runs(toy, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    (toy / "microdata" / "break").write_text("")  # an exhibit that ran would print an ERROR
    for out in (blocker, blocker / "report"):
        code, _, err = _run(["replicate", "--study", str(toy), "--out", str(out)], capsys)
        assert code == 2
        line = _one_error_line(err)
        assert str(out) in line and "[replicate]" not in err
    assert "under the file" in line


def test_missing_study_folder_is_exit_2(tmp_path, capsys):
    code, _, err = _run(["replicate", "--study", str(tmp_path), "--out", str(tmp_path / "r")],
                        capsys)
    assert code == 2
    assert "no analyses/ folder found" in _one_error_line(err)


def test_missing_input_file_is_exit_2(toy, tmp_path, capsys):
    (toy / "analyses" / "__init__.py").write_text(
        INIT + "\ndef load(study):\n    return open(study.microdata / 'absent.csv').read()\n")
    code, _, err = _run(["replicate", "--study", str(toy), "--out", str(tmp_path / "r")],
                        capsys)
    assert code == 2
    assert "absent.csv" in _one_error_line(err)


def test_plan_needs_a_plan_script(toy, capsys):
    code, _, err = _run(["plan", "--study", str(toy)], capsys)
    assert code == 2
    assert "no plan script" in _one_error_line(err)


# ------------------------------------------------------------ the study's scripts as code
def test_study_scripts_load_as_a_package_without_sys_path(toy):
    before = list(sys.path)
    paths = locate(toy)
    pkg = paths.analyses_package()
    assert pkg.EXHIBITS == ("one", "broken")
    one = paths.analyses_module("one")
    assert one.run(study=paths).audit["reproduced"].tolist() == [42.0]  # relative import works
    assert load_package(toy / "analyses") is pkg and load_module(pkg, "one") is one
    assert sys.path == before


def test_a_second_study_gets_its_own_package_name(toy, tmp_path):
    other = tmp_path / "second"
    _write(other / "analyses", {"__init__.py": "EXHIBITS = ('x',)\n"})
    a, b = load_package(toy / "analyses"), load_package(other / "analyses")
    assert a is not b and a.__name__ != b.__name__
    assert b.EXHIBITS == ("x",)


def test_a_missing_script_is_a_study_error(toy):
    from surveylib.errors import StudyNotFoundError

    with pytest.raises(StudyNotFoundError, match="no script 'absent'"):
        locate(toy).analyses_module("absent")


# ------------------------------------------------- the Kazakhstan study of this checkout
def test_verify_recomputes_published_figures_from_shipped_microdata(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = _run(["verify"], capsys)
    assert code == 0
    assert "0 failures" in out


def test_plan_prints_the_plan(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = _run(["plan", "--baseline", "published", "--deff", "1.5"], capsys)
    assert code == 0
    assert out.startswith("# Wave-3")


def test_plan_out_under_a_file_is_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    blocker = tmp_path / "f"
    blocker.write_text("x")
    code, _, err = _run(["plan", "--out", str(blocker / "plan")], capsys)
    assert code == 2
    assert "under the file" in _one_error_line(err)


@pytest.mark.parametrize("name", ["replicate", "plan"])
def test_docs_name_every_option(name):
    """docs/cli.md lists every option of the commands defined here."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    parser = cli.build_parser([name])
    sub = next(a for a in parser._actions if a.dest == "command").choices[name]
    flags = [f for a in sub._actions for f in a.option_strings if f.startswith("--")]
    assert flags and all(f"`{f}" in text for f in flags if f != "--help"), flags
