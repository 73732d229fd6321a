"""Tests of the wave-3 plan (analyses/wave3_plan.py) and its command (surveylib/plan_cli.py).

Every expected number is recomputed here by calling :mod:`surveylib.planning` directly with the
plan's inputs, so the tests check that the plan is assembled from the planning library (and not
from its own formulas), not that a formula gives some printed value.
"""

from __future__ import annotations

import math
import os
import pathlib
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from surveylib import planning
from surveylib.design import SurveyDesign
from surveylib.errors import AssumptionWarning, PlanningError
from surveylib.instruments import load_codebook
from surveylib.io import read_csv, write_csv
from surveylib.plan_cli import main
from surveylib.study import locate

REPO = pathlib.Path(__file__).resolve().parents[1]
wave3 = locate(REPO).analyses_module("wave3_plan")
MICRODATA = REPO / "microdata"
HAVE_MICRODATA = all(
    (MICRODATA / f).exists() for f in ("kz2007_reconstructed.csv", "kz2012_reconstructed.csv")
)


def _synthetic_wave(wave: int, frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A small stratified sample with known design columns (weights N_h/n_h, fpc N_h)."""
    rng = np.random.default_rng(seed)
    n_h = {1: 60, 2: 30, 3: 60, 4: 40, 5: 35, 6: 45}
    probs = {2007: [0.02, 0.25, 0.55, 0.15, 0.03], 2012: [0.02, 0.21, 0.44, 0.28, 0.05]}[wave]
    N = frame.set_index("stratum_code")["N"]
    rows = []
    for h, n in n_h.items():
        att = rng.choice([1, 2, 3, 4, 5], size=n, p=probs)
        att[0] = 8  # one "don't know" per stratum, dropped by missing_to_na
        for a in att:
            rows.append({"stratum": h, "attitude": int(a), "weight": N[h] / n, "fpc": float(N[h])})
    df = pd.DataFrame(rows)
    df.insert(0, "resp_id", np.arange(1, len(df) + 1))
    return df


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    """microdata-like folder: synthetic 2007/2012 files and the project's targets.csv."""
    folder = tmp_path_factory.mktemp("microdata")
    for wave, seed in ((2007, 1), (2012, 2)):
        frame = wave3.load_frame(None, wave)
        write_csv(_synthetic_wave(wave, frame, seed), folder / wave3.MICRODATA_FILES[wave])
    return folder


@pytest.fixture(scope="module")
def plan(synthetic_dir):
    return wave3.run(microdata_dir=synthetic_dir)


@pytest.fixture(scope="module")
def published_dir(tmp_path_factory):
    """A folder with only the published targets (no microdata)."""
    folder = tmp_path_factory.mktemp("published")
    shutil.copy(MICRODATA / "targets.csv", folder / "targets.csv")
    return folder


# ------------------------------------------------------------------------- sample size


def test_total_n_equals_sample_size_proportion(synthetic_dir):
    p = wave3.run(microdata_dir=synthetic_dir, hold_national_moe=False, response_rate=0.6)
    direct = planning.sample_size_proportion(
        0.5, 0.03, level=0.95, deff=p.deff, N=float(p.frame["N"].sum()), response_rate=0.6
    )
    assert p.n_total == direct.n_required
    assert p.n_to_contact == direct.n_to_contact
    assert p.sample_size == direct or p.sample_size.n_exact == direct.n_exact


def test_national_size_is_sample_size_proportion_with_given_deff(synthetic_dir):
    p = wave3.run(microdata_dir=synthetic_dir, deff=1.6, moe=0.035, level=0.9)
    direct = planning.sample_size_proportion(
        0.5, 0.035, level=0.9, deff=1.6, N=float(p.frame["N"].sum()), response_rate=0.5
    )
    assert p.deff == 1.6 and p.deff_source == "given by the user"
    assert p.sample_size.n_required == direct.n_required


def test_held_total_is_smallest_meeting_national_moe(plan):
    N = plan.frame["N"].astype(float)
    floors = plan.recommended.set_index("stratum")["floor"]

    def national(n):
        alloc = planning.allocate(n, N, method="power", power_exponent=0.5, min_n=floors)
        return planning.stratified_moe(alloc, p=0.5, strata_sizes=N, level=0.95, deff=plan.deff)

    assert plan.n_total >= plan.sample_size.n_required
    assert national(plan.n_total) <= 0.03
    if plan.n_total > max(plan.sample_size.n_required, int(floors.sum())):
        assert national(plan.n_total - 1) > 0.03


# -------------------------------------------------------------------------- allocation


def test_allocation_sums_to_n_and_meets_regional_moe(plan):
    rec = plan.recommended.set_index("stratum")
    N = plan.frame["N"].astype(float)
    assert rec["n"].sum() == plan.n_total
    floors = pd.Series(
        {
            h: planning.sample_size_proportion(
                0.5, 0.08, level=0.95, deff=plan.deff, N=N[h]
            ).n_required
            for h in N.index
        }
    )
    assert (rec["floor"] == floors).all()
    direct = planning.allocate(plan.n_total, N, method="power", power_exponent=0.5, min_n=floors)
    assert (rec["n"] == direct).all()
    moe = planning.stratum_moe(direct, p=0.5, strata_sizes=N, level=0.95, deff=plan.deff)["moe"]
    assert (moe <= 0.08).all()
    np.testing.assert_allclose(rec["moe"].to_numpy(), moe.to_numpy(), rtol=1e-12)
    summary = plan.allocation_summary.set_index("allocation")
    assert bool(summary.loc["recommended", "meets_regional"])
    assert set(summary.index) == {"proportional", "neyman", "power", "recommended"}
    for name, part in plan.allocations.groupby("allocation"):
        assert part["n"].sum() == plan.n_total, name


def test_comparison_allocations_are_the_planning_allocations(plan):
    N = plan.frame["N"].astype(float)
    a = plan.allocations
    prop = a[a["allocation"] == "proportional"].set_index("stratum")["n"]
    assert (prop == planning.allocate(plan.n_total, N, method="proportional")).all()
    power = a[a["allocation"] == "power"].set_index("stratum")["n"]
    assert (power == planning.allocate(plan.n_total, N, method="power", power_exponent=0.5)).all()


@pytest.mark.parametrize("allocation", ["proportional", "neyman", "equal"])
def test_other_allocations_still_meet_regional_moe(synthetic_dir, allocation):
    p = wave3.run(microdata_dir=synthetic_dir, allocation=allocation, regional_moe=0.1)
    assert p.recommended["n"].sum() == p.n_total
    assert (p.recommended["moe"] <= 0.1).all()


def test_floors_raise_total_when_regional_target_dominates(synthetic_dir):
    p = wave3.run(microdata_dir=synthetic_dir, moe=0.05, regional_moe=0.06)
    assert p.n_total >= p.recommended["floor"].sum() > p.sample_size.n_required
    assert (p.recommended["moe"] <= 0.06).all()


# -------------------------------------------------------------------------------- power


def test_power_equals_power_two_proportions(plan):
    assert set(plan.power["category"]) == set(wave3.CHANGES)
    for row in plan.power.itertuples(index=False):
        direct = planning.power_two_proportions(
            row.p1, row.p2, row.n1, row.n2, deff1=row.deff1, deff2=row.deff2, level=0.95
        )
        assert row.power == pytest.approx(direct, rel=1e-12)
    rec = plan.power[plan.power["scenario"].str.contains("recommended")]
    assert (rec["n2"] == plan.n_total).all()
    same = plan.power[plan.power["scenario"].str.contains("2012's n")]
    assert (same["n2"] == plan.inputs["n_2012"]).all()


def test_power_uses_baseline_changes(plan):
    b = plan.baseline
    for cat in wave3.CHANGES:
        row = plan.power[(plan.power["category"] == cat)].iloc[0]
        assert row.p1 == b.loc[cat, "p_2007"] and row.p2 == b.loc[cat, "p_2012"]
        later = plan.power[(plan.power["category"] == cat)].iloc[2]
        assert later.change == pytest.approx(b.loc[cat, "change"], abs=1e-12)


def test_power_n_and_curve_match_planning(plan):
    for row in plan.power_n.itertuples(index=False):
        equal = planning.sample_size_two_proportions(
            row.p1, row.p2, power=0.8, deff1=plan.deff, deff2=plan.deff, level=0.95
        )
        assert row.n_per_wave_equal == equal.n1
        if not math.isnan(row.n_wave3_vs_2012):
            n2 = int(row.n_wave3_vs_2012)
            args = (row.p1, row.p2, plan.inputs["n_2012"])
            kw = {"deff1": plan.power["deff1"].iloc[1], "deff2": plan.deff}
            assert planning.power_two_proportions(*args, n2, **kw) >= 0.8
            assert planning.power_two_proportions(*args, n2 - 1, **kw) < 0.8
    c = plan.power_curve.iloc[::37]
    for row in c.itertuples(index=False):
        deff1 = (
            plan.deff
            if row.comparison == "two waves of equal size"
            else plan.power["deff1"].iloc[1]
        )
        direct = planning.power_two_proportions(
            row.p1, row.p2, row.n1, row.n2, deff1=deff1, deff2=plan.deff
        )
        assert row.power == pytest.approx(direct, rel=1e-12)


def test_mde_table_matches_planning(plan):
    m = plan.mde
    areas = ["National", *plan.frame.index]
    assert list(dict.fromkeys(m["area"])) == areas
    assert len(m) == len(areas) * len(wave3.CATEGORIES)
    d12 = plan.power["deff1"].iloc[1]
    for row in m.iloc[::5].itertuples(index=False):
        for direction, value in (("increase", row.mde_increase), ("decrease", row.mde_decrease)):
            try:
                direct = planning.mde_two_proportions(
                    row.p_2012,
                    row.n_2012,
                    row.n_wave3,
                    deff1=d12,
                    deff2=plan.deff,
                    direction=direction,
                ).effect
            except PlanningError:
                direct = float("nan")
            np.testing.assert_allclose(value, direct, rtol=1e-12)
    nat = m[m["area"] == "National"]
    assert (nat["n_wave3"] == plan.n_total).all()
    regional = m[m["area"] != "National"].drop_duplicates("area").set_index("area")["n_wave3"]
    assert (regional == plan.recommended.set_index("stratum")["n"]).all()


# ------------------------------------------------------------------- deff and baseline


@pytest.mark.skipif(not HAVE_MICRODATA, reason="reconstructed microdata not in microdata/")
def test_deff_estimated_from_2012_stratified_design():
    p = wave3.run()
    cb = load_codebook(2012)
    data = cb.missing_to_na(read_csv(MICRODATA / "kz2012_reconstructed.csv", codebook=cb))
    design = SurveyDesign(data, strata="stratum", weights="weight", fpc="fpc")
    summary = planning.deff_from_result(design.proportion("attitude", na_rm=True))
    assert p.deff == pytest.approx(max(1.0, summary.mean), rel=1e-12)
    assert f"{summary.mean:.3f}" in p.deff_source
    p_max = wave3.run(deff="max")
    assert p_max.deff == pytest.approx(max(1.0, summary.max), rel=1e-12)


def test_synthetic_baseline_is_design_based(synthetic_dir, plan):
    cb = load_codebook(2012)
    data = cb.missing_to_na(read_csv(synthetic_dir / "kz2012_reconstructed.csv", codebook=cb))
    design = SurveyDesign(data, strata="stratum", weights="weight", fpc="fpc")
    est = design.proportion("attitude", na_rm=True).estimate
    poor = float(est[[k for k in est.index if float(k[-1]) == 4][0]])
    assert plan.baseline.loc["poor", "p_2012"] == pytest.approx(poor, rel=1e-12)
    assert plan.inputs["n_2012"] == int(data["attitude"].notna().sum())


def test_published_fallback_states_assumptions(published_dir):
    with pytest.warns(AssumptionWarning, match="Table 7.1"):
        p = wave3.run(microdata_dir=published_dir)
    assert p.deff == 1.0 and "assumed 1" in p.deff_source
    t = pd.read_csv(published_dir / "targets.csv", dtype=str, keep_default_na=False)
    row = t[
        (t["variable"] == "attitude")
        & (t["domain_var"] == "")
        & (t["statistic"] == "share")
        & (t["wave"] == "2012")
        & (t["level"] == "4")
    ].iloc[0]
    assert p.baseline.loc["poor", "p_2012"] == pytest.approx(float(row["value"]) / 100)
    assert p.inputs["n_2012"] == load_codebook(2012).n
    text = p.to_markdown()
    assert "Table 7.1" in text and "assumed 1" in text
    with pytest.raises(PlanningError, match="microdata file"):
        wave3.run(microdata_dir=published_dir, baseline="microdata")


def test_output_states_assumptions(plan):
    text = plan.to_markdown()
    for needle in (
        "'estimate'",
        "Response rate 50% (assumed",
        f"Design effect {plan.deff:.3f}",
        "frame year 2024",
        "## Assumptions",
    ):
        assert needle in text
    assert str(plan) == text


def test_bad_options_raise_planning_error(synthetic_dir):
    for kwargs in (
        {"moe": 0},
        {"moe": -0.03},
        {"regional_moe": 1.5},
        {"response_rate": 0},
        {"allocation": "optimal"},
        {"deff": 0},
        {"deff": "median"},
        {"frame_year": 1999},
        {"key_category": "awful"},
    ):
        with pytest.raises(PlanningError):
            wave3.run(microdata_dir=synthetic_dir, **kwargs)


# ---------------------------------------------------------------------------------- CLI


def test_cli_writes_files_deterministically(tmp_path, capsys):
    for out in ("a", "b"):
        assert main(["--moe", "0.03", "--regional-moe", "0.08", "--out", str(tmp_path / out)]) == 0
    for name in ("plan.md", "power_curve.png"):
        first, second = (tmp_path / d / name for d in ("a", "b"))
        assert first.stat().st_size > 0
        assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "a" / "plan.md").read_text(encoding="utf-8").startswith("# Wave-3")
    assert "wrote" in capsys.readouterr().out
    assert not list(tmp_path.glob("*/.*.tmp"))


def test_cli_flags_reach_run(tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        assert (
            main(
                [
                    "--moe",
                    "0.04",
                    "--response-rate",
                    "0.4",
                    "--allocation",
                    "proportional",
                    "--deff",
                    "1.5",
                    "--baseline",
                    "published",
                    "--no-hold-national-moe",
                ]
            )
            == 0
        )
    out = capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        p = wave3.run(
            moe=0.04,
            response_rate=0.4,
            allocation="proportional",
            deff=1.5,
            baseline="published",
            hold_national_moe=False,
        )
    assert out.strip() == p.to_markdown().strip()


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--moe", "0"], "--moe"),
        (["--moe", "-0.02"], "--moe"),
        (["--moe", "abc"], "--moe"),
        (["--regional-moe", "0"], "--regional-moe"),
        (["--response-rate", "1.5"], "--response-rate"),
        (["--allocation", "optimal"], "--allocation"),
        (["--deff", "0"], "--deff"),
        (["--bogus"], "--bogus"),
    ],
)
def test_cli_bad_flags_exit_2(argv, flag, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert flag in err and "error" in err


def test_cli_moe_zero_message(capsys):
    assert main(["--moe", "0"]) == 2
    err = capsys.readouterr().err
    assert "argument --moe: 0 must be > 0" in err


def test_cli_planning_error_exit_2(capsys):
    assert main(["--frame-year", "1999"]) == 2
    assert "frame_year=1999" in capsys.readouterr().err


def test_cli_runs_where_analyses_is_not_importable(tmp_path):
    """`surveylib plan` run from another folder, with `analyses` not on the path and the study
    named by SURVEYLIB_STUDY, imports the plan and its sibling modules as a package of the
    study and gives the same plan."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "surveylib").symlink_to(REPO / "surveylib", target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(site), "SURVEYLIB_STUDY": str(REPO)}
    probe = "import importlib.util as u; print(u.find_spec('analyses') is None)"
    run = [sys.executable, "-c", probe]
    assert (
        subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True).stdout.strip()
        == "True"
    )
    cli = [
        sys.executable,
        "-m",
        "surveylib.cli",
        "plan",
        "--baseline",
        "published",
        "--deff",
        "1.5",
    ]
    done = subprocess.run(cli, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        expected = wave3.run(baseline="published", deff=1.5).to_markdown()
    assert done.stdout.strip() == expected.strip()
