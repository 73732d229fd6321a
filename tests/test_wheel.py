"""The installed package is a library with its study: build the wheel, install it in a fresh
virtual environment outside the checkout, and use it from a folder that is not a study.

The wheel is built from a copy of the files the package declares (so the checkout gets no
``build/`` folder) with ``pip wheel --no-deps``; the virtual environment sees the system's
site-packages (numpy, pandas, ... need not be downloaded) but its own ``surveylib`` comes first.
Every command must succeed or exit 2 with one line ``surveylib: error: ...``; the commands run
side by side, each in its own process, to keep the test near half a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("pyproject.toml", "README.md", "surveylib", "analyses", "instruments", "microdata",
           "frames")

#: Run by the venv's python from a folder outside the checkout; prints one JSON object.
#: The two input errors go through the installed ``surveylib.cli.main`` in this process.
PROBE = r"""
import contextlib, io, json, sys
from pathlib import Path
import pandas as pd
out = {}
import surveylib as sl
from surveylib import cli, study
out["file"] = sl.__file__
paths = study.locate()
out["root"], out["source"] = str(paths.root), paths.source
df = pd.read_csv(paths.file("microdata", "kz2012_reconstructed.csv"))
d = sl.SurveyDesign(df, strata="stratum", weights="weight", fpc="fpc")
est = d.mean("age")
out["mean"], out["se"] = float(est.estimate.iloc[0]), float(est.se.iloc[0])
try:
    out["codebook_n"] = sl.load_codebook(2012).n
except Exception as exc:
    out["codebook_error"] = f"{type(exc).__name__}: {exc}"
Path("a_file").write_text("x")
for key, argv in (("bad_out", ["replicate", "--out", "a_file/report"]),
                  ("no_study", ["replicate", "--study", "nothing", "--out", "r2"])):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(argv)
    out[key] = [code, "", err.getvalue()]
print(json.dumps(out))
"""


def _build_requirements_missing(log: str) -> bool:
    return "satisfies the requirement setuptools" in log or "No matching distribution" in log


@pytest.fixture(scope="module")
def venv():
    """(python, surveylib script, work folder outside the checkout) of a fresh install."""
    base = Path(tempfile.mkdtemp(prefix="surveylib-wheel-"))
    try:
        src = base / "src"
        src.mkdir()
        for name in SHIPPED:
            item = ROOT / name
            if item.is_dir():
                shutil.copytree(item, src / name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(item, src / name)
        dist = base / "dist"
        build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                                "-w", str(dist), str(src)],
                               capture_output=True, text=True, timeout=300)
        if build.returncode != 0 and _build_requirements_missing(build.stdout + build.stderr):
            pytest.skip("pip cannot get the build requirements (setuptools>=68) here")
        assert build.returncode == 0, build.stdout + build.stderr
        wheel = next(dist.glob("surveylib-*.whl"))
        env_dir = base / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                        str(env_dir)], check=True, timeout=120)
        python = env_dir / "bin" / "python"
        subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                        "--no-deps", "--no-index", str(wheel)], check=True, timeout=300)
        work = base / "work"
        work.mkdir()
        yield {"python": python, "script": env_dir / "bin" / "surveylib", "work": work,
               "wheel": wheel, "env": env_dir}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SURVEYLIB_STUDY")}
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.fixture(scope="module")
def runs(venv):
    """Every command, started together (each is a process of its own) from the work folder."""
    script, work = str(venv["script"]), venv["work"]
    commands = {
        "probe": [str(venv["python"]), "-c", PROBE],
        "version": [script, "--version"],
        "replicate": [script, "replicate", "--out", str(work / "report"), "--exhibit",
                      "diagram_7_2", "--quiet"],
        "plan": [script, "plan", "--out", str(work / "plan")],
        "verify": [script, "verify"],
        "reconstruct": [script, "reconstruct", "--out", str(work / "microdata_again")],
    }
    procs = {k: subprocess.Popen(c, cwd=work, env=_env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
             for k, c in commands.items()}
    out = {}
    for k, p in procs.items():
        stdout, stderr = p.communicate(timeout=600)
        out[k] = (p.returncode, stdout, stderr)
    return out


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("surveylib: error: "), stderr
    return lines[0]


def _ok(result):
    code, stdout, stderr = result
    assert code == 0, stderr
    return stdout


# -------------------------------------------------------------------------------- the wheel
def test_wheel_holds_the_library_and_the_study(venv):
    names = set(zipfile.ZipFile(venv["wheel"]).namelist())
    source = {str(p.relative_to(ROOT)) for p in (ROOT / "surveylib").rglob("*.py")}
    assert source <= names, f"not in the wheel: {sorted(source - names)}"
    assert "surveylib/report/report.css" in names
    for folder in ("analyses", "instruments", "microdata", "frames"):
        shipped = {f"surveylib_kazakhstan/{p.relative_to(ROOT)}"
                   for p in (ROOT / folder).iterdir() if p.is_file() and p.suffix != ".pyc"}
        assert shipped <= names, f"not in the wheel: {sorted(shipped - names)}"
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)


# ---------------------------------------------------------------------- the library in it
def test_import_runs_from_the_venv_on_the_shipped_study(runs, venv):
    probe = json.loads(_ok(runs["probe"]))
    assert Path(probe["file"]).is_relative_to(venv["env"]), probe["file"]
    assert Path(probe["root"]).is_relative_to(venv["env"]), probe["root"]
    assert probe["source"] == "installed study 'kazakhstan'"


def test_estimator_on_shipped_data_matches_the_checkout(runs):
    import pandas as pd

    import surveylib as sl

    probe = json.loads(_ok(runs["probe"]))
    df = pd.read_csv(ROOT / "microdata" / "kz2012_reconstructed.csv")
    est = sl.SurveyDesign(df, strata="stratum", weights="weight", fpc="fpc").mean("age")
    assert probe["mean"] == pytest.approx(float(est.estimate.iloc[0]), rel=1e-12)
    assert probe["se"] == pytest.approx(float(est.se.iloc[0]), rel=1e-12)


def test_load_codebook_finds_the_installed_study(runs):
    probe = json.loads(_ok(runs["probe"]))
    assert probe.get("codebook_n") == 544, probe.get("codebook_error")


# ------------------------------------------------------------------------- every command
def test_version(runs):
    import surveylib

    assert _ok(runs["version"]).strip() == f"surveylib {surveylib.__version__}"


def test_replicate(runs, venv):
    _ok(runs["replicate"])
    res = json.loads((venv["work"] / "report" / "results.json").read_text(encoding="utf-8"))
    assert res["exhibits"]["diagram_7_2"]["n_fail"] == 0
    assert res["exhibits"]["diagram_7_2"]["n_pass"] > 0
    assert (venv["work"] / "report" / "index.html").stat().st_size > 0


def test_plan(runs, venv):
    _ok(runs["plan"])
    assert (venv["work"] / "plan" / "plan.md").read_text(encoding="utf-8").startswith("# Wave-3")


def test_verify(runs):
    assert "0 failures" in _ok(runs["verify"])


def test_reconstruct_is_byte_identical(runs, venv):
    _ok(runs["reconstruct"])
    again = venv["work"] / "microdata_again"
    for name in ("kz2007_reconstructed.csv", "kz2012_reconstructed.csv"):
        assert (again / name).read_bytes() == (ROOT / "microdata" / name).read_bytes()


def test_input_errors_are_one_line_exit_2(runs):
    probe = json.loads(_ok(runs["probe"]))
    for key, words in (("bad_out", "under the file"), ("no_study", "no analyses/ folder")):
        code, _, stderr = probe[key]
        assert code == 2, stderr
        assert words in _one_error_line(stderr)
