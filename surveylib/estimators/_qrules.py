"""R's quantile rules (``survey:::qrule_*``) on data sorted by (group, value): the step rules
vectorised over groups, Hyndman & Fan's types 3-9 group by group."""

from __future__ import annotations

import numpy as np

#: the step rules and the rule each is: R's ``math`` = ``hf1``, ``school`` = ``hf2``
STEP = {"math": "math", "hf1": "math", "school": "school", "hf2": "school"}


def cumulative_weights(w_sorted, group_sorted, n_groups):
    """Cumulative weights within each group of data sorted by group, for
    :func:`weighted_quantiles`: ``(within, starts, ends, totals)``.

    Summed in extended precision and rounded to double, as R's ``cumsum`` does, so exact hits
    (``cumw == p * sum(w)``) are decided as in R.  Computed once per variable and reused for
    the quantiles and the ends of their intervals.
    """
    cum = np.cumsum(w_sorted.astype(np.longdouble))
    if n_groups == 1:  # one group: nothing to subtract
        n = len(w_sorted)
        within = cum.astype(np.float64)
        starts, ends = np.array([0]), np.array([n])
    else:
        starts = np.searchsorted(group_sorted, np.arange(n_groups), side="left")
        ends = np.searchsorted(group_sorted, np.arange(n_groups), side="right")
        before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], np.longdouble(0))
        within = (cum - np.repeat(before, ends - starts)).astype(np.float64)
    return within, starts, ends, within[ends - 1]


def weighted_quantiles(x_sorted, w_sorted, group_sorted, n_groups, probs, qrule, cum=None):
    """Quantiles within each group of data sorted by (group, x); R ``qs`` + ``qrule_*``.

    ``probs`` is a vector or an (n_groups x J) array; returns (n_groups x J).  ``cum`` is
    :func:`cumulative_weights` of the data, when already computed.
    """
    within, starts, ends, totals = (cumulative_weights(w_sorted, group_sorted, n_groups)
                                    if cum is None else cum)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        probs = np.broadcast_to(probs, (n_groups, len(probs)))
    out = np.empty(probs.shape)
    for j in range(probs.shape[1]):  # a handful of probabilities; rows are vectorised
        target = probs[:, j] * totals  # p * sum(w), in double as in R
        # cumulative weights rise within a group, so the last position with cumw <= target
        # is start + (number of such positions) - 1; R's `last` gives the first if none
        if n_groups == 1:
            count = np.array([np.count_nonzero(within <= target[0])])
        else:
            count = np.bincount(group_sorted, weights=within <= target[group_sorted],
                                minlength=n_groups).astype(np.int64)
        pos = starts + np.maximum(count, 1) - 1
        nxt = np.minimum(pos + 1, ends - 1)
        exact = probs[:, j] - within[pos] / totals == 0
        qlow, qup = x_sorted[pos], x_sorted[nxt]
        out[:, j] = np.where(exact, qlow if qrule == "math" else (qlow + qup) / 2, qup)
    return out


def _qs(x, w, p):
    """R ``survey:::qs`` on sorted ``x``: positions and weight gaps around ``p``."""
    cum = np.cumsum(w.astype(np.longdouble)).astype(np.float64)
    tot = cum[-1]
    hits = np.flatnonzero(cum <= p * tot)
    pos = hits[-1] if len(hits) else 0  # R's `last`: the first position if none
    nxt = pos if pos == len(x) - 1 else pos + 1
    return pos, nxt, p - cum[pos] / tot, cum[nxt] / tot - p


def _one_quantile(x, w, p, qrule):
    """R ``qrule_<qrule>(x, w, p)`` for one group, ``x`` sorted and ``w > 0``."""
    if qrule == "hf3":
        ux, inv = np.unique(x, return_inverse=True)
        uw = np.bincount(inv, w)
        pos, nxt, wlow, _ = _qs(ux, uw, p)
        return ux[pos] if wlow == 0 and (pos + 1) % 2 == 0 else ux[nxt]
    if qrule == "hf4":
        pos, nxt, wlow, wup = _qs(x, w, p)
        with np.errstate(invalid="ignore"):  # p at the largest value: NaN, as R
            gamma = wlow / (wup + wlow)
        return x[pos] * (1 - gamma) + x[nxt] * gamma
    cum = np.cumsum(w.astype(np.longdouble)).astype(np.float64)
    prev = np.concatenate([[0.0], cum[:-1]])
    n = len(x)
    if qrule == "hf5":
        pk = (cum - w / 2) / cum[-1]
    elif qrule == "hf6":
        pk = cum / (cum[-1] + w[-1])
    elif qrule == "hf7":  # R divides by the second-to-last cumulative weight
        pk = prev / cum[n - 2] if n > 1 else np.zeros(1)
    elif qrule == "hf8":
        pk = (prev * 1 / 3 + cum * 2 / 3) / (cum[-1] + w[-1] / 3)
    else:  # hf9
        pk = (prev * 3 / 8 + cum * 5 / 8) / (cum[-1] + w[-1] / 4)
    return float(np.interp(p, pk, x))  # R approx(pk, x, p, rule=2)


def rule_quantiles(x_sorted, w_sorted, group_sorted, n_groups, probs, qrule, cum=None):
    """Quantiles within each group of data sorted by (group, x) under any of R's rules.

    ``probs`` is a vector or an (n_groups x J) array; returns (n_groups x J).  The step rules
    (math/hf1, school/hf2) are vectorised over groups (:func:`weighted_quantiles`); the others
    are computed group by group.
    """
    if qrule in STEP:
        return weighted_quantiles(x_sorted, w_sorted, group_sorted, n_groups, probs,
                                  STEP[qrule], cum)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        probs = np.broadcast_to(probs, (n_groups, len(probs)))
    starts = np.searchsorted(group_sorted, np.arange(n_groups), side="left")
    ends = np.searchsorted(group_sorted, np.arange(n_groups), side="right")
    out = np.empty(probs.shape)
    for d in range(n_groups):  # a few domains
        x, w = x_sorted[starts[d]:ends[d]], w_sorted[starts[d]:ends[d]]
        out[d] = [_one_quantile(x, w, p, qrule) for p in probs[d]]
    return out
