"""Tests of surveylib.reconstruct.

Expected values are the published figures themselves (shared/seeds/published_targets.csv,
copied with annotations into microdata/targets.csv) and their rounding tolerances.
"""

from __future__ import annotations

import argparse
import json
import shutil
import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveylib.errors import AssumptionWarning, ReconstructionError, StudyNotFoundError
from surveylib.reconstruct import (
    NOTICE,
    failures,
    load_config,
    load_targets,
    milp,
    reconstruct_all,
    reconstruct_waves,
    verify,
)
from surveylib.reconstruct._alloc import assign_within_groups, largest_remainder
from surveylib.reconstruct.build import solve_core
from surveylib.reconstruct.cli import (
    configure_reconstruct,
    configure_verify,
    run_reconstruct,
    run_verify,
)
from surveylib.reconstruct.config import stratum_population
from surveylib.reconstruct.targets import rounding_interval
from surveylib.study import locate

ROOT = Path(__file__).resolve().parents[1]
MICRO = ROOT / "microdata"
SEEDS = ROOT.parent / "shared" / "seeds" / "published_targets.csv"


@pytest.fixture(scope="module")
def shipped():
    return {w: pd.read_csv(MICRO / f"kz{w}_reconstructed.csv") for w in (2007, 2012)}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Two independent regenerations with the default seed and configuration."""
    dirs = []
    for name in ("a", "b"):
        d = tmp_path_factory.mktemp(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AssumptionWarning)
            reconstruct_all(d)
        dirs.append(d)
    return dirs


# ----------------------------------------------------------------------------- targets
def test_rounding_intervals_follow_the_printed_precision():
    assert rounding_interval("28") == (Decimal("27.5"), Decimal("28.5"))
    assert rounding_interval("3.1") == (Decimal("3.05"), Decimal("3.15"))
    assert rounding_interval("10.2") == (Decimal("10.15"), Decimal("10.25"))


def test_targets_copy_matches_the_published_figures():
    """microdata/targets.csv carries the seed rows unchanged (value and quote)."""
    tab = load_targets()
    if SEEDS.exists():
        seeds = pd.read_csv(SEEDS, dtype=str, keep_default_na=False)
        seeds = seeds[seeds["survey"].isin(["attitudes2007", "attitudes2012"])]
        merged = tab.merge(seeds, on="id", suffixes=("", "_seed"))
        assert len(merged) == len(seeds) == len(tab)
        assert (merged["value"] == merged["value_seed"]).all()
        assert (merged["quote"] == merged["quote_seed"]).all()
    numeric = tab[tab["unit"].isin(["percent", "mean", "count"])]
    assert set(numeric["role"]) <= {"constraint", "excluded", "info"}
    assert {"T150", "T151"} == set(tab.loc[tab["role"] == "excluded", "id"])


# ----------------------------------------------------------------------------- shipped files
def test_every_published_figure_is_reproduced_by_the_shipped_microdata(shipped):
    table = verify(shipped)
    bad = failures(table)
    assert bad.empty, bad[["id", "published", "reproduced", "lower", "upper"]].to_string()
    tab = load_targets()
    checkable = tab[tab["role"].isin(["constraint", "check", "excluded"])]
    assert set(table["id"]) == set(checkable["id"])
    # the published value itself, not a copy of the solver's output, is the reference
    shares = table[table["statistic"].isin(["share", "mean"])].merge(
        tab[["id", "value"]], on="id")
    np.testing.assert_allclose(shares["published"], shares["value"].astype(float))
    ok = shares[shares["role"] != "excluded"]
    assert ((ok["reproduced"] >= ok["lower"] - 1e-9) & (ok["reproduced"] < ok["upper"])).all()


def test_table_7_1_group_sizes_and_totals(shipped):
    for wave, sizes in ((2007, (284, 226, 78)), (2012, (315, 169, 60))):
        df = shipped[wave]
        assert len(df) == sum(sizes)
        assert tuple(df["ethnic"].value_counts().sort_index()) == sizes
    assert shipped[2007]["age"].min() == 18 and shipped[2012]["age"].min() == 15


def test_design_columns(shipped):
    for df in shipped.values():
        n_h = df.groupby("stratum").size()
        w = df.groupby("stratum")["weight"].first()
        n_big = df.groupby("stratum")["fpc"].first()
        np.testing.assert_allclose(w * n_h, n_big)
        assert set(df["stratum"]) == {1, 2, 3, 4, 5, 6}


def test_provenance_says_reconstructed():
    prov = json.loads((MICRO / "provenance.json").read_text(encoding="utf-8"))
    assert prov["notice"] == NOTICE == "RECONSTRUCTED — not the original survey data"
    assert NOTICE in (MICRO / "PROVENANCE.md").read_text(encoding="utf-8")
    assert prov["verification"]["failed_not_excluded"] == 0
    assert "seed" in prov and "ethnic_mix" in prov["config"]
    pyreadstat = pytest.importorskip("pyreadstat")
    for wave in (2007, 2012):
        _, meta = pyreadstat.read_sav(MICRO / f"kz{wave}_reconstructed.sav", metadataonly=True)
        assert meta.file_label == NOTICE


# ----------------------------------------------------------------------------- regeneration
def test_regeneration_is_byte_identical(regenerated):
    a, b = regenerated
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert "kz2007_reconstructed.sav" in names and "PROVENANCE.md" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_shipped_files_are_the_regenerated_ones(regenerated):
    a, _ = regenerated
    for p in sorted(a.iterdir()):
        assert (MICRO / p.name).read_bytes() == p.read_bytes(), (
            f"microdata/{p.name} is stale: run `surveylib reconstruct run`")


def _args(configure, argv):
    parser = argparse.ArgumentParser()
    configure(parser)
    return parser.parse_args(argv)


def test_cli_verify(regenerated, tmp_path, capsys):
    a, _ = regenerated
    assert run_verify(_args(configure_verify, ["--dir", str(a)])) == 0
    assert "0 failures" in capsys.readouterr().out
    # break a published figure: every 'very poor' 2012 answer becomes 'poor'
    for name in ("kz2007_reconstructed.csv", "targets.csv"):
        (tmp_path / name).write_bytes((a / name).read_bytes())
    df = pd.read_csv(a / "kz2012_reconstructed.csv")
    df.loc[df["attitude"] == 5, "attitude"] = 4
    df.to_csv(tmp_path / "kz2012_reconstructed.csv", index=False)
    assert run_verify(_args(configure_verify, ["--dir", str(tmp_path)])) == 1
    assert "T057" in capsys.readouterr().out


def _one_line(exc_info, *parts):
    msg = str(exc_info.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, msg


@pytest.mark.parametrize("configure,run", [(configure_reconstruct, run_reconstruct),
                                           (configure_verify, run_verify)])
def test_cli_bad_config_is_a_one_line_error(configure, run, tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(ReconstructionError) as info:
        run(_args(configure, ["--config", str(missing)]))
    _one_line(info, str(missing), "not found")
    broken = tmp_path / "broken.json"
    broken.write_text('{"seed": [1, 2', encoding="utf-8")
    with pytest.raises(ReconstructionError) as info:
        run(_args(configure, ["--config", str(broken)]))
    _one_line(info, str(broken), "not valid")
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ReconstructionError) as info:
        run(_args(configure, ["--config", str(listing)]))
    _one_line(info, "mapping of knob")
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"no_such_knob": 1}), encoding="utf-8")
    with pytest.raises(ReconstructionError) as info:
        run(_args(configure, ["--config", str(unknown)]))
    _one_line(info, "unknown configuration keys ['no_such_knob']")
    choice = tmp_path / "choice.json"
    choice.write_text(json.dumps({"other2007_resolution": "guess"}), encoding="utf-8")
    with pytest.raises(ReconstructionError) as info:
        run(_args(configure, ["--config", str(choice)]))
    _one_line(info, "other2007_resolution='guess'; use 'widen', 'base77' or 'none'.")


def test_cli_unwritable_out_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ReconstructionError) as info:
        run_reconstruct(_args(configure_reconstruct, ["--out", str(blocker)]))
    _one_line(info, str(blocker), "not a folder")
    with pytest.raises(ReconstructionError) as info:
        run_reconstruct(_args(configure_reconstruct, ["--out", str(blocker / "sub")]))
    _one_line(info, "pass a writable folder with --out")


def test_cli_missing_study_folder_names_the_option(tmp_path, monkeypatch):
    monkeypatch.delenv("SURVEYLIB_STUDY", raising=False)
    with pytest.raises(StudyNotFoundError) as info:
        run_reconstruct(_args(configure_reconstruct, ["--microdata", str(tmp_path / "nope")]))
    _one_line(info, "--microdata DIR")
    with pytest.raises(ReconstructionError) as info:
        run_verify(_args(configure_verify, ["--dir", str(tmp_path)]))
    _one_line(info, "kz2007_reconstructed.csv", "--dir DIR")


def test_every_option_has_help():
    for configure in (configure_reconstruct, configure_verify):
        parser = argparse.ArgumentParser()
        configure(parser)
        for action in parser._actions:
            assert action.help, action.option_strings


def test_study_found_through_the_environment_variable(tmp_path, monkeypatch):
    """A copy of the study's folders, found through SURVEYLIB_STUDY from another folder,
    with a changed knob in its reconstruction file."""
    study = tmp_path / "study"
    for folder in ("instruments", "frames"):
        shutil.copytree(ROOT / folder, study / folder)
    (study / "microdata").mkdir()
    for name in ("targets.csv", "reconstruction.yaml"):
        shutil.copy(MICRO / name, study / "microdata" / name)
    spec = (study / "microdata" / "reconstruction.yaml").read_text(encoding="utf-8")
    (study / "microdata" / "reconstruction.yaml").write_text(
        spec.replace("seed: 20070512", "seed: 99"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SURVEYLIB_STUDY", str(study))
    cfg = load_config()
    assert cfg.seed == 99 and cfg.study.paths.root == study.resolve()
    pop, source = stratum_population(cfg, 2012)
    assert source == "frames/strata_frame.csv (urban_pop_adult)"
    assert load_targets().shape == load_targets(MICRO / "targets.csv",
                                                config=load_config(MICRO / "reconstruction.yaml",
                                                                   paths=locate(ROOT))).shape


def test_study_file_errors(tmp_path):
    bad = tmp_path / "reconstruction.yaml"
    bad.write_text("config: {seed: 1}\nstudy: {waves: [2007]}\n", encoding="utf-8")
    with pytest.raises(ReconstructionError, match="the study section lacks"):
        load_config(bad)
    bad.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ReconstructionError, match="needs a 'config:' mapping"):
        load_config(bad)


# ----------------------------------------------------------------------------- conflicts
def _core(cfg, wave=2007):
    tab = load_targets(config=cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        pop, _ = stratum_population(cfg, wave)
    return solve_core(wave, tab, cfg, pop)


def test_other_2007_without_a_resolution_is_infeasible_and_named():
    """NOTES b3: 1/35/45/16/3 of n=78 has no integer solution."""
    with pytest.raises(ReconstructionError) as err:
        _core(load_config().replace(other2007_resolution="none"))
    msg = str(err.value)
    assert "T087" in msg and "T091" in msg  # n = 78 and 'poor' 16%
    assert "Poor 15 28 17 31 13 27 16 18" in msg  # the quote is shown


def test_text_and_table_means_conflict_is_named():
    """NOTES b4: '2.8, 2.9 and 3.0 respectively' vs Table 7.1 (Russians 2.9)."""
    with pytest.raises(ReconstructionError) as err:
        _core(load_config().replace(mean_text_conflict="both"))
    msg = str(err.value)
    assert "T150" in msg or "T151" in msg
    assert "T079" in msg or "T093" in msg


def test_culture_11_vs_10_2_on_one_item_set_is_infeasible():
    cfg = load_config().replace(culture_2007_resolution="conflict")
    with pytest.raises(ReconstructionError) as err:
        reconstruct_waves(cfg)
    assert "T166" in str(err.value) and "T171" in str(err.value)


def test_base77_resolution_also_reproduces_everything():
    cfg = load_config().replace(other2007_resolution="base77")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        waves = reconstruct_waves(cfg)
    frames = {w: r.data for w, r in waves.items()}
    assert (frames[2007]["attitude"] == 8).sum() == 1
    assert failures(verify(frames, config=cfg, targets=load_targets(config=cfg))).empty


# ----------------------------------------------------------------------------- priors
def test_priors_are_configurable():
    cfg = load_config().replace(
        frame_path=None,
        ethnic_mix={h: (0.5, 0.35, 0.15) for h in range(1, 7)},
        female_share=0.6,
        seed=7,
    )
    with pytest.warns(AssumptionWarning, match="fallback"):
        waves = reconstruct_waves(cfg)
    frames = {w: r.data for w, r in waves.items()}
    fb = cfg.fallback_population[2012]
    got = frames[2012].groupby("stratum")["fpc"].first()
    assert [got[h] for h in range(1, 7)] == [fb[h] for h in range(1, 7)]
    assert (frames[2007]["sex"] == 2).sum() == round(0.6 * 588)
    assert failures(verify(frames, config=cfg)).empty


def test_unknown_config_key_is_rejected():
    with pytest.raises(ReconstructionError, match="unknown configuration keys"):
        reconstruct_waves({"no_such_knob": 1})


# ----------------------------------------------------------------------------- solver units
@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=2, max_size=5).filter(lambda c: sum(c) > 0))
def test_milp_recovers_counts_for_any_printed_distribution(counts):
    """Percentages printed from real counts always admit integer counts within +-0.5 pp."""
    n = sum(counts)
    printed = [int(Decimal(100 * c / n).quantize(Decimal(1), "ROUND_HALF_UP")) for c in counts]
    k = len(counts)
    p = milp.CountProblem.empty(list(range(k)), np.full(k, n / k), float(n))
    p.add_equal("n", np.ones(k), n)
    for j, v in enumerate(printed):
        e = np.eye(k)[j]
        p.add_share(f"T{j}", e, np.ones(k), (v - 0.5) / 100, (v + 0.5) / 100)
    x = milp.solve(p)
    assert x.sum() == n
    share = 100 * x / n
    assert np.all(share >= np.array(printed) - 0.5 - 1e-9)
    assert np.all(share < np.array(printed) + 0.5)


def test_milp_names_a_minimal_conflict():
    p = milp.CountProblem.empty(["a", "b"], [5, 5], 10.0)
    p.add_equal("N", [1, 1], 10)
    p.add_share("A60", [1, 0], [1, 1], 0.595, 0.605)  # a = 6
    p.add_share("B50", [0, 1], [1, 1], 0.495, 0.505)  # shares 60% + 50% > 100%
    p.add_share("B_free", [0, 1], [1, 1], 0.0, 1.0)
    with pytest.raises(ReconstructionError) as err:
        milp.solve(p, context="toy")
    msg = str(err.value)
    assert msg.endswith("A60, B50. Resolve the conflict in the ReconstructionConfig (see "
                        "docs/reconstruction.md) or widen a tolerance.")


def test_allocation_helpers():
    assert largest_remainder(10, [1, 1, 1]).tolist() == [4, 3, 3]
    g = np.array([0, 0, 0, 1, 1])
    chosen = assign_within_groups(g, np.array([2, 1]), np.array([0.1, 0.9, 0.5, 0.2, 0.3]))
    assert chosen.tolist() == [False, True, True, False, True]
