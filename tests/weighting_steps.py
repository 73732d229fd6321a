"""Applying the weighting steps of ``tests/conformance/fixtures/weighting.json`` and
``replicate_weighting.json`` (written by ``tests/conformance/r/weighting.R`` and
``replicate_weighting.R``) to a design: the one translation of a fixture step into a surveylib
call, shared by the in-memory, the backend and the replicate-design tests."""

from __future__ import annotations

import pandas as pd

from surveylib import weighting as wt


def pop_frame(p: dict) -> pd.DataFrame:
    """A fixture's population table: the levels of its variables and their counts."""
    df = pd.DataFrame({v: lev for v, lev in zip(p["variables"], p["levels"], strict=True)})
    df["count"] = p["values"]
    return df


def apply_step(d, step: dict):
    """``d`` (in memory or over an engine, Taylor or replicate) weighted by one fixture step.

    A setting the step does not record is R's default, which is surveylib's: the steps of
    ``replicate_weighting.json`` give a calibration no ``epsilon``/``maxit`` (R's 1e-7 and 50)
    and a trim no ``strict`` (``False``: their reference clips and shares the cut once, the
    non-strict rule, written out in ``replicate_weighting.R``'s header).
    """
    op = step["op"]
    if op == "poststratify":
        return d.poststratify(step["by"], pop_frame(step["population"]))
    if op == "rake":
        margins = {tuple(p["variables"]): pop_frame(p) for p in step["margins"]}
        return d.rake(margins, tol=step["tol"], max_iter=step["max_iter"])
    if op == "calibrate":
        if "totals_tables" in step:
            totals = {}
            for p in step["totals_tables"]:
                v = p["variables"]
                totals[tuple(v) if len(v) > 1 else v[0]] = pop_frame(p)
        else:
            totals = step["totals"]
        return d.calibrate(totals, calfun=step["calfun"], bounds=step.get("bounds"),
                           tol=step.get("epsilon", 1e-7), max_iter=step.get("maxit", 50))
    if op == "trim":
        return d.trim(upper=step.get("upper"), lower=step.get("lower"),
                      strict=step.get("strict", False))
    if op == "nonresponse":
        return wt.nonresponse_adjust(d, step["respondent"], step["classes"])
    raise AssertionError(op)
