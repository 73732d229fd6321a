"""Quantiles of a variable with many distinct values (incomes, amounts): a histogram, then
the values of the few bins that hold the targets.

1. **Bins** (one scan): ``GROUP BY domain, bin`` with ``bin = floor((x - lo) * BINS / (hi -
   lo))`` clamped to ``[0, BINS - 1]`` (``lo``/``hi`` from a sample of the rows; any range
   serves, as the bins only need to be in the order of ``x``: subtraction, multiplication,
   clamping and ``floor`` are monotone in IEEE arithmetic, and the same expression puts a row
   in the same bin in every query).  Each bin's weight, rows and largest value come back; the
   group of NULL/NaN ``x`` counts the missing values.
2. **Values** (one scan per set of targets): the cumulative bin weights locate the bin that
   holds each target ``p * total`` (the first whose cumulative weight exceeds it);
   ``GROUP BY domain, x`` over the rows of those bins gives their distinct values.  A
   :class:`~._distribution.Distribution` is built over those values (with the next bin's
   when the target lies in the first bin: below the first value's weight the rule may take
   the second value), each run of selected bins preceded by one pseudo-value (the largest value of the bin before, carrying the weight
   of every bin in between), so that the rule's "last value with ``F <= p * total``" and "the
   next value" are the true ones.  Decisions are certified as for the whole distribution;
   an uncertain one re-runs both queries with exact ``DECIMAL(38, 18)`` sums.

More than ``MAX_DISTINCT`` values in the selected bins (a heavy bin) gives ``None``: the
caller then uses the window query.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SurveyDesignError
from . import _distribution
from ._distribution import (
    DECIMALS,
    ERR_COL,
    N_COL,
    W_COL,
    X_COL,
    Distribution,
    U,
    as_units,
    weighted_rows,
)
from .errors import NotPushedDownError
from .estimate import missing_error
from .queries import conjunction, num, present
from .tables import literal

#: bins of the histogram
BINS = 4096
#: rows read to decide between the whole distribution and the histogram
SAMPLE = 100_000
_B, _M = "__surveylib_bin", "__surveylib_max"


def sample_range(design, var, by):
    """From the first ``SAMPLE`` rows with a value: ``(distinct, rows, lo, hi)``."""
    src, q = design.source, design.source.quote
    where = conjunction([design.where, present(q, var)] + [f"{q(c)} IS NOT NULL" for c in by])
    r = src.fetch(f"SELECT COUNT(DISTINCT x) AS nd, COUNT(*) AS n, MIN(x) AS lo, MAX(x) AS hi "
                  f"FROM (SELECT {num(q, var)} AS x FROM {src.table} WHERE {where} "
                  f"LIMIT {SAMPLE}) s").iloc[0]
    return int(r["nd"] or 0), int(r["n"] or 0), r["lo"], r["hi"]


class Histogram:
    """The binned distribution of ``var`` by domain (see the module docstring)."""

    def __init__(self, design, var, by, dkeys, *, na_rm, lo, hi):
        self.design, self.var, self.by = design, var, list(by)
        q = design.source.quote
        lo = float(lo) if lo is not None and np.isfinite(lo) else 0.0
        hi = float(hi) if hi is not None and np.isfinite(hi) else lo
        scale = BINS / (hi - lo) if hi > lo and np.isfinite(BINS / (hi - lo)) else 0.0
        self.bin_sql = (f"CAST(FLOOR(LEAST(GREATEST(({num(q, var)} - {lo!r}) * {scale!r}, 0.0), "
                        f"{float(BINS - 1)!r})) AS BIGINT)")
        self.where = conjunction([design.where] + [f"{q(c)} IS NOT NULL" for c in by])
        frame = design.source.fetch(self._bins_sql(exact=False))
        b = pd.to_numeric(frame[_B], errors="coerce")
        missing = b.isna().to_numpy()
        self.n_missing = int(frame.loc[missing, N_COL].sum())
        if self.n_missing and not na_rm:
            missing_error(var, self.n_missing, "quantiles over respondents with a value")
        self.dkeys = _distribution.domain_keys(frame, by) if dkeys is None else dkeys
        self.bins = {False: self._arrange(frame[~missing], exact=False)}

    def _bins_sql(self, *, exact):
        q = self.design.source.quote
        keys = [q(c) for c in self.by]
        where = conjunction([self.where, present(q, self.var)]) if exact else self.where
        rows, w = weighted_rows(self.design, where)
        if exact:
            key, wsum = self.bin_sql, f"CAST(SUM(CAST({w} AS DECIMAL(38, {DECIMALS}))) AS STRING)"
        else:
            key, wsum = f"(CASE WHEN {present(q, self.var)} THEN {self.bin_sql} END)", f"SUM({w})"
        sel = ", ".join(keys + [f"{key} AS {_B}", f"{wsum} AS {W_COL}", f"COUNT(*) AS {N_COL}",
                                f"MAX({num(q, self.var)}) AS {_M}"])
        return f"SELECT {sel} FROM {rows} GROUP BY {', '.join(keys + [key])}"

    def _domain_codes(self, frame):
        if not self.by:
            return np.zeros(len(frame), dtype=np.int64)
        return pd.MultiIndex.from_frame(self.dkeys).get_indexer(
            pd.MultiIndex.from_frame(frame[self.by]))

    def _arrange(self, frame, *, exact):
        """Per domain: bin ids, weights (double, or exact integers), rows, largest values and
        cumulative weights, sorted by bin."""
        g = self._domain_codes(frame)
        bins = frame[_B].to_numpy(np.int64)
        order = np.lexsort((bins, g))
        out = []
        for d in range(len(self.dkeys)):
            sel = order[g[order] == d]
            if exact:
                w = [as_units(v) for v in frame[W_COL].to_numpy(object)[sel]]
                cum = list(np.cumsum(np.array(w, dtype=object))) if w else []
                cumd = np.array([c / 10**DECIMALS for c in cum], dtype=float)
            else:
                w = frame[W_COL].to_numpy(float)[sel]
                cum = np.cumsum(w.astype(np.longdouble))
                cumd = cum.astype(np.float64)
            n = frame[N_COL].to_numpy(float)[sel]
            out.append({"bin": bins[sel], "w": w, "cum": cum, "cumd": cumd, "n": n,
                        "err": np.zeros(len(n)) if exact else 1.01 * U * n * w,
                        "max": frame[_M].to_numpy(float)[sel]})
        if any(len(o["bin"]) == 0 for o in out):
            raise SurveyDesignError(f"variable {self.var!r} has no values in some domain of "
                                    f"{self.by}.", parameter="by", value=self.by)
        return out

    def _selected(self, bins, targets):
        """Per domain, the positions (in ``bins[d]``) of the bins holding the targets."""
        out = []
        for d, b in enumerate(bins):
            t = targets[d] * b["cumd"][-1]
            pos = np.minimum(np.searchsorted(b["cumd"], t, side="right"), len(b["bin"]) - 1)
            if (pos == 0).any() and len(pos) and len(b["bin"]) > 1:
                # below the first value's weight the rule may take the second value, which
                # can lie in the next bin (the only "next value" outside the target's bin)
                pos = np.concatenate([pos, [1]])
            out.append(np.unique(pos))
        return out

    def partial(self, targets, *, exact):
        """The values of the bins holding ``targets`` with the pseudo-values before each run:
        ``(frame, (totals, rows))`` for :class:`Distribution`, or None if too many."""
        if exact not in self.bins:
            self.bins[exact] = self._arrange(
                self.design.source.fetch(self._bins_sql(exact=True)), exact=True)
        bins = self.bins[exact]
        chosen = self._selected(bins, targets)
        q = self.design.source.quote
        conds = []
        for d, pos in enumerate(chosen):
            ids = ", ".join(str(int(i)) for i in bins[d]["bin"][pos])
            cond = [f"{self.bin_sql} IN ({ids})"]
            if self.by:
                cond += [f"{q(c)} = {literal(v)}" for c, v in zip(
                    self.by, self.dkeys.iloc[d], strict=True)]
            conds.append(conjunction(cond))
        keys = [q(c) for c in self.by]
        xv = num(q, self.var)
        where = conjunction([self.where, present(q, self.var),
                             " OR ".join(f"({c})" for c in conds)])
        rows, w = weighted_rows(self.design, where)
        wsum = (f"CAST(SUM(CAST({w} AS DECIMAL(38, {DECIMALS}))) AS STRING)" if exact
                else f"SUM({w})")
        limit = _distribution.MAX_DISTINCT
        sel = ", ".join(keys + [f"{xv} AS {X_COL}", f"{wsum} AS {W_COL}", f"COUNT(*) AS {N_COL}"])
        values = self.design.source.fetch(
            f"SELECT {sel} FROM {rows} GROUP BY {', '.join(keys + [xv])} LIMIT {limit + 1}")
        if len(values) > limit:
            return None
        g = self._domain_codes(values)
        values = values.assign(**{X_COL: values[X_COL].astype(float)})
        pseudo = []
        for d, pos in enumerate(chosen):
            b = bins[d]
            runs = np.flatnonzero(np.diff(np.concatenate([[-2], pos])) > 1)  # run starts
            prev_end = -1
            for r, start in enumerate(runs):
                i0 = int(pos[start])
                if i0 > 0:  # the bins since the last run: one value, the largest of the last
                    carried = b["cum"][i0 - 1] - (b["cum"][prev_end] if prev_end >= 0 else 0)
                    lo = prev_end + 1
                    row = {X_COL: b["max"][i0 - 1], W_COL: carried, N_COL: 2.0,
                           ERR_COL: float(b["err"][lo:i0].sum()) if not exact else 0.0}
                    if self.by:
                        row.update(zip(self.by, self.dkeys.iloc[d], strict=True))
                    pseudo.append(row)
                end = runs[r + 1] - 1 if r + 1 < len(runs) else len(pos) - 1
                prev_end = int(pos[end])
        frame = values[g >= 0]
        if pseudo:
            frame = pd.concat([frame, pd.DataFrame(pseudo)], ignore_index=True)
        if not exact:
            frame = frame.assign(**{W_COL: frame[W_COL].astype(float)})
        tot = [b["cum"][-1] for b in bins]
        rows = np.array([b["n"].sum() for b in bins])
        if exact:
            return frame, (tot, rows)
        err = np.array([float(np.sum(b["err"])) for b in bins])  # of the total
        return frame, (np.array(tot, dtype=float), rows, err)

    def locator(self, qrule):
        """``targets -> quantiles`` (None when the selected bins hold too many values)."""
        def locate(targets):
            targets = np.asarray(targets, dtype=float)
            first = self.partial(targets, exact=False)
            if first is None:
                return None

            def exact_frame(t):
                out = self.partial(t, exact=True)
                if out is None:  # bins moved by the exact sums hold too many values
                    raise NotPushedDownError(
                        f"the quantiles of {self.var!r} fall in bins with more than "
                        f"{_distribution.MAX_DISTINCT} distinct values; collect the rows with "
                        "d.in_memory(columns) and use SurveyDesign.quantile.",
                        parameter="variables", value=self.var, hint="d.in_memory([...])")
                return out

            dist = Distribution(self.design, self.var, self.by, self.dkeys, first[0],
                                self.n_missing, totals=first[1], exact_frame=exact_frame)
            return dist.quantiles(targets, qrule)
        return locate
