"""The summary of a design (R ``summary.survey.design``): strata, PSUs, weights, df, steps.

``d.summary()`` returns a :class:`DesignSummary`, which prints as text, shows as a table in a
notebook, and gives its per-stratum table with ``to_frame()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .results import Printable, format_df


@dataclass(frozen=True)
class DesignSummary(Printable):
    """Per-stratum table of a design and a footer of its weights, df and weighting steps.

    ``table`` has one row per first-stage stratum: ``stratum``, ``psus`` (sampled PSUs),
    ``population_psus`` (from the fpc; NaN without one), ``rows`` (rows in the design) and
    ``weight_sum``.
    """

    table: pd.DataFrame
    inference: str
    kind: str

    def _title(self) -> str:
        return f"Survey design ({self.kind})"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def summarise(design) -> DesignSummary:
    """The :class:`DesignSummary` of ``design`` (see :meth:`SurveyDesign.summary`)."""
    st = design.stages[0]
    active = design.active
    w = design.estimation_weights
    rows_per_psu = np.bincount(st.unit, weights=active, minlength=st.n_psu)
    stratum_of_row = st.unit_stratum[st.unit]
    table = pd.DataFrame({
        "stratum": st.stratum_labels,
        "psus": st.n_units,
        "population_psus": np.where(np.isinf(st.popsize), np.nan, st.popsize),
        "rows": np.bincount(st.unit_stratum, weights=rows_per_psu,
                            minlength=st.n_strata).astype(int),
        "weight_sum": np.bincount(stratum_of_row, weights=w, minlength=st.n_strata),
    })
    if design.strata_column is None:
        table["stratum"] = "(unstratified)"
    wa = design.base_weights[active]
    cv = float(wa.std() / wa.mean()) if len(wa) and wa.mean() != 0 else float("nan")
    parts = [f"{len(design)} rows in the design",
             f"weights {wa.min():.6g} to {wa.max():.6g} (CV {cv:.3g})",
             f"df {format_df(design.degf())} ({design.engine.df_rule})",
             design.describe()]
    return DesignSummary(table=table, inference="; ".join(parts), kind=design.engine.kind)
