"""Multiple reconstruction and the robustness of the report's conclusions over the draws.

Known answers: every draw reproduces every published figure (recomputed here with
``surveylib.reconstruct.verify`` on the written files); verdicts are computed from the share
of draws (closed form on synthetic frames); the same seed gives the same draws, byte for byte,
on 1 worker or 2.
"""

from __future__ import annotations

import filecmp
import io
from pathlib import Path

import pandas as pd
import pytest

from surveylib.reconstruct import failures, load_config, load_targets, verify
from surveylib.reconstruct.draws import Progress, plan_draw, reconstruct_draws
from surveylib.reconstruct.milp import DRAW_GAP, DRAW_NODES, solver_options
from surveylib.report.robustness import VERDICTS, summarise, verdict
from surveylib.report.runner import run_replication
from surveylib.study import locate

K = 2


@pytest.fixture(scope="module")
def draws(tmp_path_factory):
    out = tmp_path_factory.mktemp("draws")
    manifest, _ = reconstruct_draws(out, draws=K, seed=11, jobs=2, progress=False)
    return out, manifest


def test_every_draw_reproduces_every_published_figure(draws):
    out, manifest = draws
    assert list(manifest["draw"]) == list(range(1, K + 1))
    base = load_config()
    for r in manifest.to_dict("records"):
        folder = out / r["folder"]
        cfg = base.replace(**plan_draw(base, r["draw"], 11, r["attempt"]).changes)
        frames = {w: pd.read_csv(folder / f"kz{w}_reconstructed.csv") for w in (2007, 2012)}
        table = verify(frames, targets=load_targets(folder / "targets.csv", config=cfg),
                       config=cfg)
        assert failures(table).empty, r["folder"]
        assert len(table) == r["checked"]


def test_draws_differ(draws):
    out, manifest = draws
    a = pd.read_csv(out / "draw_001" / "kz2012_reconstructed.csv")
    b = pd.read_csv(out / "draw_002" / "kz2012_reconstructed.csv")
    assert not a.equals(b)
    assert manifest["seed"].nunique() == K


def test_draws_are_seeded_and_do_not_depend_on_the_number_of_workers(draws, tmp_path):
    """The fixture ran K draws on 2 workers; 1 worker, same seed, writes the same bytes."""
    out, manifest = draws
    again, _ = reconstruct_draws(tmp_path, draws=K, seed=11, jobs=1, progress=False)
    assert filecmp.cmp(out / "draws.csv", tmp_path / "draws.csv", shallow=False)
    pd.testing.assert_frame_equal(manifest.drop(columns="seconds"),
                                  again.drop(columns="seconds"))
    for folder in manifest["folder"]:
        names = sorted(p.name for p in (out / folder).iterdir())
        assert names == sorted(p.name for p in (tmp_path / folder).iterdir())
        assert "verification.csv" in names
        match, mismatch, errors = filecmp.cmpfiles(out / folder, tmp_path / folder, names,
                                                   shallow=False)
        assert (mismatch, errors) == ([], []), folder


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown, piped, quiet = Terminal(), io.StringIO(), Terminal()
    for stream, enabled in ((shown, True), (piped, True), (quiet, False)):
        bar = Progress(3, "draws", stream=stream, enabled=enabled)
        for _ in range(3):
            bar.step()
    assert piped.getvalue() == "" and quiet.getvalue() == ""
    text = shown.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "[draws] " + "#" * 30 + " 3/3" in text
    assert "1/3" in text and "s left" in text


def test_a_draw_stops_at_a_gap_the_shipped_files_at_the_optimum():
    cfg = load_config()
    assert cfg.prior_noise == 0
    assert solver_options(cfg) == {"time_limit": cfg.solver_time_limit}
    opts = solver_options(cfg.replace(prior_noise=0.5))
    assert opts["mip_rel_gap"] == DRAW_GAP and opts["node_limit"] == DRAW_NODES
    assert opts["explain"] is False


def test_plan_draws_cover_the_alternative_readings():
    cfg = load_config()
    plans = [plan_draw(cfg, i, 5) for i in range(1, 41)]
    readings = cfg.study.draws["readings"]
    for knob, values in readings.items():
        assert {p.changes[knob] for p in plans} == set(values), knob
    noise = [p.changes["prior_noise"] for p in plans]
    lo, hi = cfg.study.draws["prior_noise"]
    assert lo <= min(noise) and max(noise) <= hi
    assert plan_draw(cfg, 3, 5).changes == plans[2].changes


def test_verdicts_are_computed():
    assert verdict(5, 5) == VERDICTS[0]
    assert verdict(1, 5) == VERDICTS[1]
    assert verdict(0, 5) == VERDICTS[2]
    keys = {"exhibit": ["x", "x", "x"], "test_id": ["a", "b", "c"],
            "universe": ["wave"] * 3, "claim": ["A", "B", "C"]}
    shipped = pd.DataFrame({**keys, "estimate": [1.0, -2.0, 0.5], "p_adjusted": [0.01] * 3,
                            "supported": [True, True, False]})
    d1 = shipped.assign(estimate=[1.5, -1.0, 0.2], supported=[True, True, False])
    # b significant in the other direction: does not hold
    d2 = shipped.assign(estimate=[0.5, 1.0, 0.7], supported=[True, True, False])
    s = summarise(shipped, [d1, d2]).set_index("test_id")
    assert s.loc["a", "verdict"] == VERDICTS[0] and s.loc["a", "share_holding"] == 1.0
    assert s.loc["b", "verdict"] == VERDICTS[1] and s.loc["b", "share_holding"] == 0.5
    assert s.loc["c", "verdict"] == VERDICTS[2]
    assert (s.loc["a", "estimate_min"], s.loc["a", "estimate_max"]) == (0.5, 1.5)
    assert s.loc["b", "estimate_max"] == 1.0


def test_replicate_with_draws_reports_robust_conclusions(tmp_path):
    code = run_replication(tmp_path, study=locate(), progress=False,
                           exhibits=["design_facts"], draws=K, draws_seed=3, jobs=2)
    assert code == 0
    robust = pd.read_csv(tmp_path / "robustness.csv")
    assert set(robust["verdict"]) <= set(VERDICTS)
    assert (robust["draws"] == K).all()
    # the verdict agrees with the share, row by row
    expected = [verdict(round(s * K), K) for s in robust["share_holding"]]
    assert robust["verdict"].tolist() == expected
    assert {"table_7_1", "diagram_7_3", "subgroup_claims"} <= set(robust["exhibit"])
    assert (robust["test_id"] == "2012 mean Southern vs Almaty city").any()
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f"Over {K} reconstructions" in html
    assert Path(tmp_path / "draws" / "draws.csv").exists()
