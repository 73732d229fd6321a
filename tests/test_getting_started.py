"""The five-line path of README.md and docs/getting_started.md, run as written.

A labelled SPSS file and a Stata file are written with pyreadstat (value labels, variable
labels, user-missing codes), read with no codebook, and the labelled weighted frequency
table must equal, number for number, the one computed from the raw codes with the missing
codes set to NA by hand.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import surveylib as sl
from surveylib.errors import AssumptionWarning

ROOT = Path(__file__).resolve().parents[1]
TRUST = {1: "a lot", 2: "some", 3: "little", 4: "none"}
LABELS = {"region": "Region", "sex": "Sex", "trust": "Trust in people", "wt": "Weight"}


def raw_frame(n: int = 240, seed: int = 7) -> pd.DataFrame:
    """Random codes (not estimates of anything); 8 and 9 are "don't know" and "refused"."""
    rng = np.random.default_rng(seed)
    region = np.repeat([1.0, 2.0, 3.0, 4.0], n // 4)
    trust = rng.choice([1.0, 2.0, 3.0, 4.0, 8.0, 9.0], size=n, p=[.2, .3, .2, .15, .1, .05])
    return pd.DataFrame({"region": region, "sex": rng.choice([1.0, 2.0], size=n),
                         "trust": trust, "wt": rng.uniform(0.5, 3.0, size=n)})


def write_sav(path: Path) -> pd.DataFrame:
    raw = raw_frame()
    pyreadstat.write_sav(
        raw, str(path), column_labels=LABELS,
        variable_value_labels={"region": {1: "North", 2: "South", 3: "East", 4: "West"},
                               "sex": {1: "man", 2: "woman"},
                               "trust": {**TRUST, 8: "don't know", 9: "refused"}},
        missing_ranges={"trust": [8, 9]},
        variable_measure={"region": "nominal", "sex": "nominal", "trust": "ordinal",
                          "wt": "scale"})
    return raw


def write_dta(path: Path) -> pd.DataFrame:
    raw = raw_frame()
    coded = raw.astype(object)
    coded["trust"] = raw["trust"].map(lambda v: {8.0: "a", 9.0: "b"}.get(v, v)).astype(object)
    pyreadstat.write_dta(
        coded, str(path), column_labels=LABELS,
        variable_value_labels={"region": {1: "North", 2: "South", 3: "East", 4: "West"},
                               "sex": {1: "man", 2: "woman"}, "trust": TRUST},
        missing_user_values={"trust": ["a", "b"]})
    return raw


def numeric_path(raw: pd.DataFrame):
    """The same frequencies from the raw codes: missing codes to NA by hand."""
    codes = raw.assign(trust=raw["trust"].where(raw["trust"] < 8))
    d = sl.SurveyDesign(codes, strata="region", weights="wt")
    return d.proportion("trust", by="sex", na_rm=True)


def first_python_block(path: Path) -> str:
    return re.search(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S).group(1)


@pytest.mark.parametrize("reader, writer, name", [
    (sl.read_spss, write_sav, "survey.sav"), (sl.read_stata, write_dta, "survey.dta")])
def test_labelled_file_gives_the_numeric_frequencies(tmp_path, reader, writer, name):
    raw = writer(tmp_path / name)
    with pytest.warns(AssumptionWarning, match="trust"):
        df = reader(tmp_path / name)
    d = sl.SurveyDesign(df, strata="region", weights="wt")
    est = d.proportion("trust", by="sex", na_rm=True)
    ref = numeric_path(raw)
    f, g = est.to_frame(), ref.to_frame()
    assert f["level"].tolist() == [TRUST[int(c)] for c in g["level"]]
    assert f["sex"].tolist() == ["man" if s == 1 else "woman" for s in g["sex"]]
    for col in ("estimate", "se", "ci_low", "ci_high", "df", "deff", "n"):
        np.testing.assert_allclose(f[col].to_numpy(float), g[col].to_numpy(float),
                                   rtol=1e-12, err_msg=col)
    assert est.labels == {"trust": "Trust in people", "sex": "Sex"}
    tab = sl.publication_table(est)
    assert tab.body.index[0] == ("Trust in people", "a lot")
    assert tab.body.columns.name == "Sex"


@pytest.mark.parametrize("doc", ["README.md", "docs/getting_started.md"])
def test_the_five_line_path_runs_as_written(tmp_path, monkeypatch, doc):
    code = first_python_block(ROOT / doc)
    assert 'sl.read_spss("survey.sav")' in code and "publication_table" in code
    raw = write_sav(tmp_path / "survey.sav")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        exec(compile(code, doc, "exec"), scope)
    html = (tmp_path / "trust.html").read_text(encoding="utf-8")
    ref = numeric_path(raw).to_frame()
    for r in ref.itertuples():
        assert f"{100 * r.estimate:.1f} [{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}]" in html
    assert "Trust in people" in html and "Holm" in html
    assert (tmp_path / "trust.png").read_bytes()[:4] == b"\x89PNG"
    bars = scope["est"].plot().axes[0].patches
    np.testing.assert_allclose([b.get_height() for b in bars], 100 * ref["estimate"],
                               rtol=1e-12)


def test_empty_levels_dropped_by_default_kept_on_request(tmp_path):
    write_sav(tmp_path / "survey.sav")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        df = sl.read_spss(tmp_path / "survey.sav", labelled=False)
    cb_labels = {**TRUST, 8: "don't know", 9: "refused"}
    # the documented route of a codebook frame: missing codes to NA, then labels with the
    # missing categories kept (they are now empty)
    labelled = df.assign(trust=pd.Categorical(
        df["trust"].where(df["trust"] < 8).map(cb_labels), categories=list(cb_labels.values()),
        ordered=True))
    d = sl.SurveyDesign(labelled, strata="region", weights="wt")
    dropped = d.proportion("trust", na_rm=True)
    assert dropped.to_frame()["level"].tolist() == list(TRUST.values())
    kept = d.proportion("trust", na_rm=True, drop_empty=False)
    f = kept.to_frame()
    assert f["level"].tolist() == list(cb_labels.values())
    # R svymean(~factor) on unused levels: share 0 with SE 0; the other shares unchanged
    np.testing.assert_array_equal(f["estimate"].to_numpy()[4:], 0.0)
    np.testing.assert_array_equal(f["se"].to_numpy()[4:], 0.0)
    np.testing.assert_allclose(f["estimate"].to_numpy()[:4], dropped.values, rtol=1e-14)
    np.testing.assert_allclose(f["se"].to_numpy()[:4], dropped.se.to_numpy(), rtol=1e-12)
    assert d.total("trust", na_rm=True).to_frame()["level"].tolist() == list(TRUST.values())
    tab = d.crosstab("sex", "trust")
    assert tab.col_levels == list(TRUST.values())
    assert d.crosstab("sex", "trust", drop_empty=False).col_levels == list(cb_labels.values())
