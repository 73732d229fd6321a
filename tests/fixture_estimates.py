"""Running an estimate of an R fixture case (``tests/conformance/fixtures/design.json`` and
``replicate.json``, written by ``tests/conformance/r/design.R`` and ``replicate.R``) on a
design: the one translation of a case's ``"estimator"`` and ``"args"`` into a surveylib call,
shared by the in-memory and the backend conformance tests."""

from __future__ import annotations


def run_estimate(d, case: dict, **options):
    """``d``'s estimate (in memory or over an engine, Taylor or replicate) of ``case``.

    The case's ``args`` give the variables, ``by``, ``na_rm`` (absent: False; with several
    variables R drops the rows missing on any of them: ``na_rm="complete"``), a share's
    ``ci_method`` (absent: ``"wald"``, R ``svymean``'s interval) and a quantile's ``level``
    and, where given, ``qrule`` and ``interval_type``; a quantile takes the design's df when
    the R call says ``df=degf``.  ``options`` go to every estimator (``deff="replace"``).
    """
    a = case["args"]
    variables, by = a["variables"], a["by"]
    na_rm = a.get("na_rm", False)
    if na_rm and len(variables) > 1:
        na_rm = "complete"  # R drops rows missing on any variable of the formula
    est = case["estimator"]
    if est == "mean":
        return d.mean(variables, by=by, na_rm=na_rm, **options)
    if est == "total":
        return d.total(variables, by=by, na_rm=na_rm, **options)
    if est == "ratio":
        return d.ratio(variables, a["denominator"], by=by, na_rm=na_rm, **options)
    if est == "proportion":
        return d.proportion(variables, by=by, na_rm=na_rm,
                            ci_method=a.get("ci_method") or "wald", **options)
    if est == "quantile":
        df = case["df"] if "df=degf" in case["r_call"] else None
        rule = {k: a[k] for k in ("qrule", "interval_type") if k in a}  # absent: R's default
        return d.quantile(variables, a["probs"], by=by, na_rm=na_rm, level=a["level"], df=df,
                          **rule, **options)
    raise AssertionError(est)
