"""Fieldwork status: outcome rates, representativeness, precision reached, weights preview."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import planning
from .._validation import as_list, as_pandas, check_columns
from ..design import SurveyDesign
from ..errors import SurveyDesignError
from ..weighting import nonresponse_adjust
from .dispositions import aapor_rates, classify
from .representativeness import RIndicator, r_indicator

__all__ = ["FieldworkStatus", "fieldwork_status", "moe_progress", "weights_preview"]


def moe_progress(data, *, stratum: str, respondent: str, plan, strata_sizes=None, p=0.5,
                 deff=1.0, level: float = 0.95) -> pd.DataFrame:
    """Margin of error reached so far in each stratum, against the plan.

    Parameters
    ----------
    data : DataFrame
        Sample cases with a stratum and a respondent (completed interview) indicator.
    stratum, respondent : str
        Columns.
    plan : dict or Series
        Planned completed interviews per stratum (e.g. :func:`surveylib.planning.allocate`).
    strata_sizes : dict or Series, optional
        Population sizes for the finite population correction.
    p, deff, level
        As :func:`surveylib.planning.stratum_moe`.

    Returns
    -------
    DataFrame
        Indexed by stratum: ``planned_n``, ``completes``, ``share`` (completes / planned),
        ``moe_planned``, ``moe_now`` (``inf`` without completes) and ``moe_ratio``.
    """
    df = as_pandas(data)
    check_columns(df, [stratum, respondent], role="fieldwork")
    planned: pd.Series = pd.Series(dict(plan)) if not isinstance(plan, pd.Series) else plan
    done = df.loc[df[respondent].astype(bool), stratum].value_counts()
    done = done.reindex(planned.index, fill_value=0).astype(np.int64)
    kw = {"p": p, "deff": deff, "level": level}
    if strata_sizes is not None:
        kw["strata_sizes"] = strata_sizes
    m_plan = planning.stratum_moe(planned, **kw)["moe"]
    now = pd.Series(np.inf, index=planned.index)
    has = done > 0
    if has.any():
        kw_now = dict(kw)
        if strata_sizes is not None:
            kw_now["strata_sizes"] = pd.Series(dict(strata_sizes))[has[has].index]
        now[has] = planning.stratum_moe(done[has], **kw_now)["moe"]
    out = pd.DataFrame({"planned_n": planned.astype(np.int64), "completes": done,
                        "share": done / planned, "moe_planned": m_plan, "moe_now": now})
    out["moe_ratio"] = out["moe_now"] / out["moe_planned"]
    out.index.name = stratum
    return out


def weights_preview(data, *, respondent: str, weight: str, classes) -> pd.DataFrame:
    """Nonresponse-adjusted weights as they stand: :func:`surveylib.weighting.nonresponse_adjust`.

    Parameters
    ----------
    data : DataFrame
        The eligible cases (respondents and nonrespondents) with their design weights.
    respondent, weight : str
        Response indicator and design-weight column.
    classes : str or list of str
        Weighting classes (e.g. the stratum).

    Returns
    -------
    DataFrame
        One row per class: the adjustment table (``n_eligible``, ``n_respondents``,
        ``weighted_eligible``, ``weighted_respondents``, ``factor``) plus the respondents'
        mean adjusted weight and Kish's design effect of weighting ``1 + cv^2`` in the class.
    """
    df = as_pandas(data)
    cols = as_list(classes)
    design = SurveyDesign(df, weights=weight)
    adj = nonresponse_adjust(design, respondent, cols)
    tab = adj.adjustments[-1].table.copy()
    w = adj.weights
    resp = df[respondent].astype(bool).to_numpy()
    key = df[cols].astype(str).agg("\x1f".join, axis=1)
    wr = pd.DataFrame({"key": key[resp].to_numpy(), "w": w[resp]})
    g = wr.groupby("key")["w"]
    tab_key = tab[cols].astype(str).agg("\x1f".join, axis=1)
    mean = g.mean().reindex(tab_key).to_numpy()
    cv2 = (g.std(ddof=0) / g.mean()).pow(2).reindex(tab_key).to_numpy()
    tab["mean_weight"] = mean
    tab["deff_weighting"] = 1 + cv2
    return tab


@dataclass(frozen=True)
class FieldworkStatus:
    """What :func:`fieldwork_status` found: rates, R-indicator, precision, weights."""

    rates: pd.DataFrame
    r_indicator: RIndicator | None
    moe: pd.DataFrame | None
    weights: pd.DataFrame | None
    notes: tuple = ()

    def to_text(self) -> str:
        """Plain-text summary (numbers rounded for display only)."""
        cols = ["I", "P", "R", "NC", "O", "UH", "UO", "NE", "pending", "RR1", "RR3", "COOP1",
                "REF1", "CON1"]
        parts = ["Fieldwork status", "", "AAPOR outcome rates",
                 self.rates[cols].round(4).to_string()]
        if self.r_indicator is not None:
            parts += ["", str(self.r_indicator), "partial R-indicators",
                      self.r_indicator.partial.round(4).to_string(index=False)]
        if self.moe is not None:
            parts += ["", "margin of error reached (proportion 0.5)", self.moe.round(4).to_string()]
        if self.weights is not None:
            parts += ["", "nonresponse-adjusted weights (preview)",
                      self.weights.round(4).to_string(index=False)]
        parts += [f"note: {n}" for n in self.notes]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()


def fieldwork_status(data, *, disposition: str, stratum: str | None = None,
                     weight: str | None = None, frame_vars=None, plan=None,
                     strata_sizes=None, e=None, mapping=None, p=0.5, deff=1.0,
                     level: float = 0.95) -> FieldworkStatus:
    """Everything the fieldwork manager looks at, from the sample file.

    Parameters
    ----------
    data : DataFrame
        One row per sampled case with its current (interim or final) disposition.
    disposition : str
        Disposition column (AAPOR codes, see :func:`classify`).
    stratum, weight : str, optional
        Stratum and design-weight columns.
    frame_vars : list of str, optional
        Frame variables for the propensity model (R-indicator); default: the stratum.
    plan : dict or Series, optional
        Planned completes per stratum, for the margin of error against the plan.
    strata_sizes, e, mapping, p, deff, level
        As :func:`aapor_rates` and :func:`moe_progress`.

    Returns
    -------
    FieldworkStatus

    Notes
    -----
    Respondents are completes and partials (I, P); the eligible cases for propensities and
    weights are I, P, R, NC and O (the unknown-eligibility and pending cases are left out,
    which treats them as ineligible for these two summaries).
    """
    df = as_pandas(data)
    rates = aapor_rates(df, disposition=disposition, by=stratum, e=e, mapping=mapping)
    cat = classify(df[disposition], mapping=mapping)
    eligible = cat.isin(["I", "P", "R", "NC", "O"]).to_numpy()
    work = df.loc[eligible].copy()
    work["__respondent"] = cat[eligible].isin(["I", "P"]).to_numpy()
    notes = []
    fv = as_list(frame_vars) or ([stratum] if stratum else [])
    ri = None
    if fv and len(work) > 1 and 0 < work["__respondent"].mean() < 1:
        ri = r_indicator(work, respondent="__respondent", covariates=fv, weights=weight)
    else:
        notes.append("R-indicator not computed (no frame variables, or no variation in response)")
    moe = None
    if plan is not None and stratum is not None:
        moe = moe_progress(df.assign(__respondent=cat.isin(["I", "P"]).to_numpy()),
                           stratum=stratum, respondent="__respondent", plan=plan,
                           strata_sizes=strata_sizes, p=p, deff=deff, level=level)
    wp = None
    if weight is not None and stratum is not None and work["__respondent"].any():
        try:
            wp = weights_preview(work, respondent="__respondent", weight=weight, classes=stratum)
        except SurveyDesignError as exc:  # a class without respondents yet: say so
            notes.append(f"weights preview not available yet: {exc}")
    return FieldworkStatus(rates=rates, r_indicator=ri, moe=moe, weights=wp, notes=tuple(notes))
