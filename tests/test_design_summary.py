"""``d.summary()`` (R ``summary.survey.design``): per-stratum table by closed form, printing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import surveylib as sl

DATA = Path(__file__).parent / "conformance" / "data"


def test_summary_table_counts_psus_rows_and_weights_per_stratum():
    df = pd.read_csv(DATA / "apiclus2.csv")
    df["h"] = np.where(df["dnum"] % 2 == 0, "even", "odd")
    d = sl.SurveyDesign(df, strata="h", psu="dnum", weights="pw", nest=True)
    sub = d.subset((df["stype"] != "H").to_numpy())
    table = sub.summary().to_frame().set_index("stratum")
    kept = df[df["stype"] != "H"]
    np.testing.assert_array_equal(table["psus"], df.groupby("h")["dnum"].nunique())
    np.testing.assert_array_equal(table["rows"], kept.groupby("h").size())
    np.testing.assert_allclose(table["weight_sum"], kept.groupby("h")["pw"].sum(), rtol=1e-12)
    assert table["population_psus"].isna().all()  # no fpc


def test_summary_prints_weights_df_and_steps_and_shows_in_a_notebook():
    df = pd.read_csv(DATA / "apistrat.csv")
    d = sl.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")
    text = str(d.summary())
    assert text == d.summary().summary()
    w = df["pw"]
    assert f"weights {w.min():.6g} to {w.max():.6g} (CV {w.std(ddof=0) / w.mean():.3g})" in text
    assert "df 197 (PSUs - strata)" in text
    table = d.summary().to_frame().set_index("stratum")
    np.testing.assert_array_equal(table.loc[["E", "H", "M"], "population_psus"],
                                  df.groupby("stype")["fpc"].first().loc[["E", "H", "M"]])
    raked = d.poststratify("stype", {"E": 4421, "H": 755, "M": 1018})
    assert "post" in str(raked.summary()).lower()
    html = d._repr_html_()
    assert "<table" in html and "Survey design" in html
    rep = d.to_replicates("jkn")
    assert "rank of the replicate weights" in str(rep.summary())
