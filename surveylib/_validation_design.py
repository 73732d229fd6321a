"""Validation of a survey design's arguments, weights and lonely PSUs (for :class:`SurveyDesign`).

The constructor of :class:`~surveylib.design.SurveyDesign` runs, in this order:
:func:`design_columns` (the arguments and the columns they name), the stages
(:func:`surveylib._stages.build_stages`: ids, nesting, fpc), :func:`design_weights` (weights,
probabilities, weights from the fpc, or equal weights with a warning), then
:func:`check_single_psu` and :func:`check_lonely` (strata with one PSU, by the lonely-PSU
rule).  Every message names the column, stratum or value and the fix; the order of the checks
fixes which error a design with several faults reports.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._validation import (
    LONELY_PSU_RULES,
    as_list,
    check_columns,
    check_option,
    check_weights,
    numeric_column,
)
from .errors import (
    AssumptionWarning,
    LonelyPSUError,
    ParameterError,
    SingletonWarning,
    SurveyDesignError,
)


def design_columns(df: pd.DataFrame, *, strata, psu, weights, probs, fpc, lonely_psu,
                   adjust_domain_lonely) -> tuple:
    """Check a design's arguments against the data; return ``(strata column or None, psu
    columns, fpc columns)``."""
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise SurveyDesignError(
            f"the data have duplicated column names {list(dict.fromkeys(dup))[:10]}; every "
            "column needs its own name (rename or drop the duplicates first).",
            parameter="data", value=list(dict.fromkeys(dup))[:10],
            hint="df.loc[:, ~df.columns.duplicated()]")
    check_option(lonely_psu, LONELY_PSU_RULES, name="lonely_psu")
    check_option(adjust_domain_lonely, (False, True), name="adjust_domain_lonely")
    if adjust_domain_lonely and lonely_psu not in ("adjust", "average"):
        raise ParameterError(
            f"adjust_domain_lonely=True applies the 'adjust' or 'average' rule within "
            f"domains, but lonely_psu={lonely_psu!r}; set lonely_psu='adjust' or 'average'.",
            parameter="adjust_domain_lonely", value=True,
            expected="lonely_psu='adjust' or 'average'")
    if weights is not None and probs is not None:
        raise SurveyDesignError("give weights= or probs=, not both.")
    psu_cols = as_list(psu)
    fpc_cols = as_list(fpc)
    strata_col = strata
    if isinstance(strata, (list, tuple)):
        if len(strata) != 1:
            raise SurveyDesignError(
                "strata= takes one column (first-stage strata); combine several columns "
                "into one first, e.g. df['h'] = df['a'].astype(str) + ':' + df['b'].astype(str)."
            )
        strata_col = strata[0]
    check_columns(df, [c for c in [strata_col] if c is not None], role="strata")
    check_columns(df, psu_cols, role="psu")
    check_columns(df, [c for c in [weights, probs] if c is not None], role="weights")
    check_columns(df, fpc_cols, role="fpc")
    if fpc_cols and psu_cols and len(fpc_cols) != len(psu_cols):
        raise SurveyDesignError(
            f"fpc= names {len(fpc_cols)} column(s) but psu= has {len(psu_cols)} stage(s); "
            "give one fpc column per stage, or none."
        )
    if fpc_cols and not psu_cols and len(fpc_cols) != 1:
        raise SurveyDesignError("without psu= the design has one stage: give one fpc column.")
    if len(df) == 0:
        raise SurveyDesignError("the data has no rows.")
    return strata_col, psu_cols, fpc_cols


def design_weights(df: pd.DataFrame, stages: tuple, *, weights, probs, fpc_cols
                   ) -> tuple[np.ndarray, str]:
    """The sampling weight of every row and where it came from, in words: the weights
    column, the inverse of the probabilities column, the product of ``N_h / n_h`` (or
    ``1 / pi``) over the stages with an fpc, or 1 with an :class:`AssumptionWarning`."""
    w, source, _ = weights_and_sum(df, stages, weights=weights, probs=probs, fpc_cols=fpc_cols,
                                   stacklevel=4)
    return w, source


def weights_and_sum(df: pd.DataFrame, stages: tuple, *, weights, probs, fpc_cols,
                    stacklevel: int = 3) -> tuple[np.ndarray, str, float | None]:
    """:func:`design_weights` and, for a weights column, ``float(w.sum())`` as the check of
    the weights took it (``None`` otherwise): the design keeps it, so the first weighting
    step does not sum the rows again.  ``stacklevel`` points the equal-weights warning at
    the caller of ``SurveyDesign(...)`` (3 when called from its constructor)."""
    n = len(df)
    if weights is not None:
        w = numeric_column(df, weights, role="weights")
        total = check_weights(w, col=weights)
        return w, f"weights {weights!r}", total
    if probs is not None:
        p = numeric_column(df, probs, role="probs")
        check_weights(p, col=probs, kind="probs")
        if p.max() > 1:
            raise SurveyDesignError(
                f"probs column {probs!r} has values above 1 (max {p.max():g}); "
                "inclusion probabilities lie in (0, 1] — did you mean weights=?"
            )
        return 1.0 / p, f"probs {probs!r}", None
    if fpc_cols:
        w = np.ones(n)
        for st in stages[: len(fpc_cols)]:
            w = w * st.unit_weight_factor[st.unit]
        return w, "weights from fpc", None
    warnings.warn(
        "no weights, probs or fpc given: assuming equal probability (weight 1 for "
        "every row), as R svydesign does.",
        AssumptionWarning,
        stacklevel=stacklevel,
    )
    return np.ones(n), "equal weights", None


def check_single_psu(stage, psu_cols) -> None:
    """A design with one first-stage PSU has no design-based variance (R refuses it)."""
    if stage.n_psu > 1 or not len(stage.lonely_strata()):
        return  # two or more PSUs, or a single certainty PSU (sampled with certainty)
    what = f"one PSU (column {psu_cols[0]!r})" if psu_cols else "one row"
    raise LonelyPSUError(
        f"the design has {what}: a design-based variance needs at least two PSUs, and no "
        "lonely_psu rule can supply one. Add the other PSUs of the sample, or declare the "
        "unit a certainty unit with an fpc equal to the sample (fpc=1 as a fraction).",
        parameter="psu", value=psu_cols[0] if psu_cols else None)


def check_lonely(stages, *, strata_col, lonely_psu: str) -> None:
    """Strata with one PSU in the stages whose variance is used: an error under
    ``lonely_psu="fail"``, else a :class:`SingletonWarning` naming them and the rule."""
    for s, st in enumerate(stages):
        lonely = st.lonely_strata()
        if not len(lonely):
            continue
        names = [str(x) for x in st.stratum_labels[lonely][:10]]
        if s > 0:
            where = f"stage {s + 1} (within PSUs)"
        elif strata_col is None:
            where = "the (unstratified) design"
        else:
            where = f"stratum {strata_col!r}"
        if lonely_psu == "fail":
            raise LonelyPSUError(
                f"{len(lonely)} stratum/strata of {where} have only one PSU: {names}"
                f"{' ...' if len(lonely) > 10 else ''}. Choose lonely_psu='adjust' (centre at "
                "the grand mean), 'average', 'remove' or 'certainty', or merge the stratum "
                "with a neighbour."
            )
        warnings.warn(
            f"{len(lonely)} stratum/strata of {where} have one PSU ({names}); "
            f"handled by lonely_psu={lonely_psu!r}.",
            SingletonWarning,
            stacklevel=3,  # the caller of SurveyDesign(...)
        )
