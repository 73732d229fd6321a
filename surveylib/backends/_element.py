"""Element sampling over an engine (no ``psu=``): every row its own unit, no unit table.

Under element sampling the Taylor covariance of stratum ``h`` is
``c_h [sum_i z_i z_i' - (sum_i z_i)(sum_i z_i)' / n_h]`` over the rows ``i`` of the stratum
(:func:`surveylib.variance.taylor.taylor_vcov_gram`), and every row's score vector ``z_i`` is
a linear function of a few numbers of the row: with the row's *components*
``u = (1, y_1 - c_1, x_1 - c_1', o_1, ...)`` (``o_v`` the row has a value of ``v``; ``c`` a
shift, below) the row's contribution to cell ``k`` is ``w (A_g u)_k`` for a K x m matrix
``A_g`` fixed by the row's *group* ``g`` = (stratum, domain, level of each categorical,
cell of a weighting step).  So one query

    SELECT stratum, domain, levels, COUNT(*), SUM(w u_j), SUM(w w u_j u_l) [, SUM(w u_j u_l)]
    ... GROUP BY stratum, domain, levels

returns all the engine needs, for any number of rows: per group the sums ``S_g = sum w u``
and the Gram matrix ``G_g = sum w^2 u u'``; then ``sum_i z_i = sum_g A_g S_g`` and
``sum_i z_i z_i' = sum_g A_g G_g A_g'`` per stratum.  The design keeps one row per stratum
(its sample size ``n_h``, population ``N_h`` and rows in the (sub)design): ``n_h`` counts the
rows a ``subset`` leaves out (their scores are zero), as R's ``subset`` keeps the design.

**After a weighting step** (:mod:`.weighting`) each row's residual is ``z_i = a_i - M[c] v_i``
with ``v_i = phi_c w_i`` (``phi`` the cell's factor after post-stratification, 1 for raking),
which is ``w (A_g - phi_c M[c] e_0') u`` with ``e_0`` the constant component: the query also
groups by the weighting cells and runs over every row the step weighted, with a 0/1 key for
the rows of a later ``subset`` (outside it ``a_i = 0`` but the residual is not).

**Numerics.**  ``sum w^2 y^2`` and the subtraction of the mean cancel when the mean is large
against the spread.  Each numeric column is therefore shifted by ``c`` before its products
are summed (exact: the constant component carries ``c``): ``c`` is the mean of the column
over at most 4,096 rows (a ``LIMIT`` query, memoised by the design), within a few standard
deviations of the mean.  When the covariance still loses more than 6 digits to cancellation
(``sum_g (|A_g| sqrt(diag G_g))^2`` over the result, per cell) the query is run once more
with each column shifted by its own estimate.  The sums are the engine's ``SUM`` of doubles.

The SQL (the shifts' ``LIMIT`` query and the ``GROUP BY``) is written in
:mod:`._element_query`.  Replicates made from an element design (``to_replicates``) need a
factor per row: that path still brings back one row per respondent (:func:`row_units`), up to
``max_units``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation_design import check_lonely, design_weights
from ..errors import SurveyDesignError
from ..estimators._cells import design_effects
from ..variance.engine import TaylorEngine
from ..variance.taylor import Stage
from ._element_query import IN, Query, shifts
from .errors import NotPushedDownError
from .queries import num, present, suspect

#: digits the covariance may lose to cancellation before the query is run again
MAX_LOST = 1e6


class ElementDesign:
    """The in-memory side of an element design over an engine: one row per stratum.

    It stands where a design over PSUs keeps the in-memory design of its unit table
    (``LazySurveyDesign.local``): ``engine`` (a :class:`~surveylib.variance.engine.
    TaylorEngine` over one stage whose units, the rows, are not enumerated -- only each
    stratum's ``n_units`` and ``popsize``), ``degf()``, ``describe()``, ``base_weights``
    (each stratum's weight factor: ``N_h / n_h`` with weights from the fpc, else 1) and
    ``active_counts`` (rows of each stratum in the (sub)design).
    """

    def __init__(self, stage, *, strata, fpc, lonely_psu, weight_source, base_weights,
                 active_counts=None):
        self.stage = stage
        self.strata_column = strata
        self.fpc_columns = tuple(fpc)
        self.lonely_psu = lonely_psu
        self.weight_source = weight_source
        self.base_weights = base_weights
        self.active_counts = (stage.n_units.astype(float) if active_counts is None
                              else np.asarray(active_counts, dtype=float))
        self.engine = TaylorEngine((stage,), lonely_psu=lonely_psu,
                                   active=self.active_counts > 0, multistage=False)

    def with_counts(self, counts) -> ElementDesign:
        """This design restricted to ``counts`` rows per stratum (a subset)."""
        return ElementDesign(self.stage, strata=self.strata_column, fpc=self.fpc_columns,
                             lonely_psu=self.lonely_psu, weight_source=self.weight_source,
                             base_weights=self.base_weights, active_counts=counts)

    def degf(self) -> int:
        """Rows minus strata among the rows in the design (R ``degf``)."""
        return int(self.active_counts.sum() - np.count_nonzero(self.active_counts))

    def describe(self) -> str:
        kind = [f"{self.stage.n_strata} strata" if self.strata_column else "unstratified",
                "element sampling", self.weight_source,
                "fpc " + "+".join(self.fpc_columns) if self.fpc_columns
                else "with replacement (no fpc)", f"lonely_psu={self.lonely_psu!r}"]
        return "Taylor linearisation; " + "; ".join(kind)


def strata_table(design, stats: dict):
    """One scan: per stratum the row count, the fpc's range and the weight checks
    (``stats``: name -> SQL aggregate).  Returns ``(table, totals)``."""
    src, q = design.source, design.source.quote
    h = design.strata_column
    aggs = dict(stats)
    for j, c in enumerate(design.fpc_columns):
        aggs[f"fpc_lo_{j}"] = f"MIN({num(q, c)})"
        aggs[f"fpc_hi_{j}"] = f"MAX({num(q, c)})"
        aggs[f"fpc_na_{j}"] = f"SUM(CASE WHEN {present(q, c)} THEN 0 ELSE 1 END)"
    sel = ", ".join(f"{e} AS {name}" for name, e in aggs.items())
    if h:
        table = src.fetch(f"SELECT {q(h)}, {sel} FROM {src.table} GROUP BY {q(h)}")
        table = table.sort_values(h, kind="stable").reset_index(drop=True)
    else:
        table = src.fetch(f"SELECT {sel} FROM {src.table}")
    totals = {"n": table["n"].sum()} if len(table) else {"n": 0}
    if "missing" in stats and len(table):
        totals.update(missing=table["missing"].sum(), bad=table["bad"].sum(),
                      lo=table["lo"].min(), hi=table["hi"].max())
    if h and table[h].isna().any():
        raise SurveyDesignError(f"strata column {h!r} has missing values; give every row a "
                                "stratum.", parameter="strata", value=h)
    return table, totals


def element_design(design, table, *, weights, probs, lonely_psu) -> ElementDesign:
    """The :class:`ElementDesign` of the per-stratum ``table``, checked as the in-memory
    design checks its stages (fpc constant in a stratum and not below the sample; lonely
    strata)."""
    n = table["n"].to_numpy(np.int64)
    H = len(n)
    labels = (table[design.strata_column].to_numpy(dtype=object) if design.strata_column
              else np.array(["(all)"], dtype=object))
    popsize = np.full(H, np.inf)
    cols = design.fpc_columns
    if cols:
        for j, c in enumerate(cols):
            if int(table[f"fpc_na_{j}"].sum()):
                raise SurveyDesignError(f"fpc column {c!r} has missing values.",
                                        parameter="fpc", value=c)
        lo = np.array([table[f"fpc_lo_{j}"].to_numpy(float) for j in range(len(cols))])
        hi = np.array([table[f"fpc_hi_{j}"].to_numpy(float) for j in range(len(cols))])
        if (lo <= 0).any():
            raise SurveyDesignError(
                f"fpc column(s) {list(cols)} have values <= 0; give population counts "
                "or sampling fractions in (0, 1].")
        varies = np.flatnonzero(hi[0] - lo[0] > 1e-9 * np.abs(hi[0]))
        if len(varies):
            raise SurveyDesignError(
                f"fpc column {cols[0]!r} varies within stratum {labels[varies[0]]!r} "
                "(stage 1); the fpc must be constant within each stratum.")
        popsize = n / hi[0] if not (hi > 1).any() else hi[0]
        small = np.flatnonzero(popsize < n - 1e-9)
        if len(small):
            raise SurveyDesignError(
                f"fpc column {cols[0]!r} gives a population of {popsize[small[0]]:g} units in "
                f"stratum {labels[small[0]]!r} (stage 1) but {n[small[0]]} were sampled; the "
                "fpc must be the population count (>= the sample) or the sampling fraction.")
    empty = np.zeros(0, dtype=np.int64)
    stage = Stage(empty, empty, n, popsize, labels)  # the rows (units) are not enumerated
    check_lonely((stage,), strata_col=design.strata_column, lonely_psu=lonely_psu)
    if weights is not None or probs is not None:
        base = np.ones(H)
        source = f"weights {weights!r}" if weights is not None else f"probs {probs!r}"
    elif cols:
        base, source = popsize / n, "weights from fpc"
    else:  # warns as the in-memory design does
        base, source = design_weights(pd.DataFrame(index=range(H)), (), weights=None,
                                      probs=None, fpc_cols=())
    return ElementDesign(stage, strata=design.strata_column, fpc=cols, lonely_psu=lonely_psu,
                         weight_source=source, base_weights=np.asarray(base, dtype=float))


def stratum_index(design, frame: pd.DataFrame) -> np.ndarray:
    """The stratum (row of the design's per-stratum table) of every row of a query result."""
    h = design.strata_column
    if h is None:
        return np.zeros(len(frame), dtype=np.int64)
    idx = pd.Index(design.units[h]).get_indexer(frame[h])
    if (idx < 0).any():
        raise SurveyDesignError(f"{design.source.label} has strata the design was not built "
                                "on (it changed since); build the design again.",
                                parameter="data", value=design.source.label)
    return idx


def row_units(design):
    """The design with one unit per row (the unit table the replicate factors need): rows of
    a stratum are numbered in the order the engine returns them, the first ``active`` of each
    stratum in the (sub)design.  Allowed up to ``max_units`` rows."""
    from ..design import SurveyDesign

    src, q = design.source, design.source.quote
    if design.n_rows > design.max_units:
        raise NotPushedDownError(
            f"replicates of a design without psu= need a factor for each of the "
            f"{design.n_rows} rows of {src.label}, more than max_units={design.max_units}; "
            "give the cluster column as psu= (or a row id column), or raise max_units.",
            parameter="psu", value=None, hint="psu='<cluster id column>'")
    h = design.strata_column
    cols = ([h] if h else []) + [c for c in design.fpc_columns if c != h]
    units = src.fetch(f"SELECT {', '.join(q(c) for c in cols) if cols else '1 AS one'} "
                      f"FROM {src.table}")
    if h:
        units = units.sort_values(h, kind="stable").reset_index(drop=True)
    one = "__surveylib_one"
    weighted = design.weights_column is not None or design.probs_column is not None
    if weighted:
        units[one] = 1.0
    local = SurveyDesign(units, strata=h, weights=one if weighted else None,
                         fpc=list(design.fpc_columns) or None, lonely_psu=design.lonely_psu)
    if h:
        rank = units.groupby(h, sort=False).cumcount().to_numpy()
        limit = design.local.active_counts[stratum_index(design, units)]
    else:
        rank, limit = np.arange(len(units)), design.local.active_counts[0]
    local = local.with_active(rank < limit)
    return design.evolve(units=units, local=local,
                         unit_weight=np.asarray(local.base_weights, dtype=float))


# ----- estimates ---------------------------------------------------------------------------
def estimate(plan, kind, deff):
    """``plan.run`` of an element design (:class:`.estimate._Plan`): ``(est, vcov, n, deff,
    domain keys, cell keys)``; each cell's domain degrees of freedom go to
    ``plan.element_df``."""
    from .estimate import conj, missing_error

    d = plan.design
    q = d.source.quote
    oks = {i: conj(present(q, y), present(q, x) if x else None)
           for i, (_l, y, x, lev) in enumerate(plan.specs) if lev is None}
    if plan.na_rm == "complete" and oks:
        every = conj(*oks.values())
        oks = dict.fromkeys(oks, every)
    shift = shifts(d, [c for i in oks for c in plan.specs[i][1:3] if c])
    known = d.__dict__.setdefault("missing_cache", {})
    guard = any(known.get((d.where, ok), False) for ok in oks.values())
    again = True
    while True:
        query = Query(plan, oks, shift, guard=guard, squares=deff is not False)
        frame = query.fetch(d)
        inside = frame[IN].to_numpy(bool) if query.flag else slice(None)
        if not guard:  # where missing values may be, the guarded query counts them
            sums = [c for c in frame if c.startswith(("s_", "g_", "h_", "c_"))]
            if any(suspect(frame.loc[inside], f"miss_{i}", []) for i in oks) or \
                    not np.isfinite(frame[sums].to_numpy(float)).all():
                guard = True
                continue
            known.update({(d.where, ok): False for ok in oks.values()})
        else:  # the rows in the design without a value: their count less the present ones
            n_in = frame["n"].to_numpy(float)[inside]
            miss = {i: int(round(n_in.sum() - frame[f"c_{query.index[i][2]}"].to_numpy(
                float)[inside].sum())) for i in oks}
            known.update({(d.where, oks[i]): m > 0 for i, m in miss.items()})
            bad = [i for i, m in miss.items() if m]
            if bad and not plan.na_rm:
                _l, y, x, _ = plan.specs[bad[0]]
                missing_error(y if x is None else f"{y}/{x}", miss[bad[0]],
                              "over respondents with a value")
        out, lost, new_shift = _solve(plan, query, frame, shift, kind, deff)
        if lost > MAX_LOST and again and new_shift != shift:
            shift, again = new_shift, False
            d.__dict__["shift_cache"].update(new_shift)
            continue
        return out


def _solve(plan, query, frame, shift, kind, deff):
    from .estimate import is_nan, missing_error

    d, adj = plan.design, query.adj
    G, m = len(frame), len(query.comps)
    ind = frame[IN].to_numpy(bool) if query.flag else np.ones(G, dtype=bool)
    hs = stratum_index(d, frame)
    if plan.by:
        byok = frame[plan.by].notna().all(axis=1).to_numpy() & ind
        dkeys = frame.loc[byok, plan.by].drop_duplicates().sort_values(plan.by, kind="stable")
        dkeys = dkeys.reset_index(drop=True)
        if dkeys.empty:
            raise SurveyDesignError(f"no rows of the design have values of {plan.by}.")
        plan.index = pd.MultiIndex.from_frame(dkeys)
        dom = np.full(G, -1, dtype=np.int64)
        dom[byok] = plan.index.get_indexer(pd.MultiIndex.from_frame(frame.loc[byok, plan.by]))
    else:
        dkeys = pd.DataFrame(index=[0])
        dom = np.where(ind, 0, -1)
    D = len(dkeys)

    def col(name):
        return frame[name].to_numpy(float)

    S1 = np.stack([col(f"s_{j}") for j in range(m)], axis=1)
    pairs = [(j, k) for j in range(m) for k in range(j, m)]

    def square(prefix):
        out = np.empty((G, m, m))
        for j, k in pairs:
            out[:, j, k] = out[:, k, j] = col(f"{prefix}_{j}_{k}")
        return out

    G2 = square("g")
    U = np.zeros((G, m))
    U[:, 0] = col("n")
    for j in query.unweighted:
        U[:, j] = col(f"c_{j}")
    uw = d.unit_weight[hs]  # weights from the fpc: a factor per stratum
    S1, G2 = S1 * uw[:, None], G2 * (uw**2)[:, None, None]
    if adj is not None:
        cell = adj.cell_index(frame)
        f = adj.factors[cell]
    else:
        f = np.ones(G)
    fin = f * ind  # the new weight's factor for the rows in the design
    sizes = [D * (1 if lev is None else len(lev)) for _, _, _, lev in plan.specs]
    K = int(sum(sizes))
    Y, X, W = (np.zeros((G, K, m)) for _ in range(3))
    categorical = np.zeros(K, dtype=bool)
    keys_out, base = [], 0
    rows_in = dom >= 0
    for i, ((label, y, x, lev), size) in enumerate(zip(plan.specs, sizes, strict=True)):
        if lev is None:
            iy, ix, io = query.index[i]
            g = np.flatnonzero(rows_in)
            k = base + dom[g]
            Y[g, k, iy] = 1.0
            Y[g, k, io] += shift[y]
            if ix is None:
                X[g, k, io] = 1.0
            else:
                X[g, k, ix] = 1.0
                X[g, k, io] += shift[x]
            W[g, k, io] = 1.0
            keys_out.extend((dd, label, None) for dd in range(D))
        else:
            L = len(lev)
            level = frame[f"lev_{i}"]
            ok = level.notna().to_numpy() & ~is_nan(level)
            if not plan.na_rm and (rows_in & ~ok).any():
                missing_error(y, int(col("n")[rows_in & ~ok].sum()),
                              "shares among respondents with a value")
            code = pd.Index(lev).get_indexer(level.where(ok, lev[0] if lev else None))
            g = np.flatnonzero(rows_in & ok & (code >= 0))
            first = base + dom[g] * L
            Y[g, first + code[g], 0] = 1.0
            for lv in range(L):
                X[g, first + lv, 0] = W[g, first + lv, 0] = 1.0
            categorical[base:base + size] = True
            keys_out.extend((dd, label, lv) for dd in range(D) for lv in lev)
        base += size
    S1n = S1 * fin[:, None]
    num_, den = np.einsum("gkm,gm->k", Y, S1n), np.einsum("gkm,gm->k", X, S1n)
    wsum = np.einsum("gkm,gm->k", W, S1n)
    counts = np.einsum("gkm,gm->gk", W, U)
    nobs = counts.sum(axis=0)
    empty = nobs == 0
    if kind != "total" and np.any((den == 0) & ~empty):
        raise SurveyDesignError(
            "a denominator total is zero in some domain; the ratio is undefined.")
    safe = np.where(den == 0, 1.0, den)
    est = num_ if kind == "total" else num_ / safe
    A = Y.copy() if kind == "total" else (Y - est[None, :, None] * X) / safe[None, :, None]
    A *= fin[:, None, None]
    if adj is not None:  # residuals on the step: z = a - M[c] phi_c w
        C = adj.n_cells
        sw, su = np.zeros((C, K)), np.zeros((C, K))
        np.add.at(sw, cell, np.einsum("gkm,gm->gk", A, S1))
        if adj.raking:
            inv = np.divide(1.0, fin, out=np.zeros(G), where=fin != 0)
            np.add.at(su, cell, np.einsum("gkm,gm->gk", A * inv[:, None, None], U))
        M = adj.cell_multipliers(sw, su)
        phi = np.ones(G) if adj.raking else f
        A[:, :, 0] -= phi[:, None] * M[cell]
    H = d.local.stage.n_strata
    sums = np.zeros((H, K))
    np.add.at(sums, hs, np.einsum("gkm,gm->gk", A, S1))
    B = np.einsum("gkm,gmn->gkn", A, G2)
    gram = np.zeros((H, K, K))
    order = np.argsort(hs, kind="stable")
    starts = np.searchsorted(hs[order], np.arange(H + 1))
    for h in range(H):  # one product per stratum (no G x K x K temporary)
        idx = order[starts[h]:starts[h + 1]]
        if len(idx):
            gram[h] = np.tensordot(B[idx], A[idx], axes=([0, 2], [0, 2]))
    v = d.engine.vcov_gram(sums, gram, present=d.local.active_counts > 0)
    # digits lost to cancellation, per numeric cell: the size of the summed terms over the
    # spread they leave
    root = np.sqrt(np.clip(np.einsum("gmm->gm", G2), 0.0, None))
    size_ = (np.einsum("gkm,gm->gk", np.abs(A), root) ** 2).sum(axis=0)
    n_h = d.local.stage.n_units.astype(float)
    spread = np.einsum("hkk->k", gram) - (sums**2 / n_h[:, None]).sum(axis=0)
    numeric = ~categorical & ~empty & (size_ > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(numeric, size_ / np.abs(spread), 0.0)
    lost = float(np.nan_to_num(ratio, nan=np.inf).max()) if K else 0.0
    new_shift = dict(shift)
    base = 0
    for i, size in enumerate(sizes):  # each column shifted by its estimate over all domains
        if i in query.index:
            _l, y, x, _ = plan.specs[i]
            span = slice(base, base + size)
            total_w = wsum[span].sum()
            if total_w > 0:
                new_shift[y] = float(num_[span].sum() / total_w)
                if x is not None:
                    new_shift[x] = float(den[span].sum() / total_w)
        base += size
    if deff is not False:
        H1 = square("h") * (uw * fin)[:, None, None]
        centre = est if kind != "total" else num_ / np.where(wsum == 0, 1.0, wsum)
        dev = Y - centre[None, :, None] * X
        resid = np.einsum("gkm,gmn,gkn->k", dev, H1, dev)
        deffs = design_effects(kind, deff, v, resid, wsum, den, nobs)
    else:
        deffs = np.full(K, np.nan)
    per_stratum = np.zeros((H, K))
    np.add.at(per_stratum, hs, counts)
    plan.element_df = per_stratum.sum(axis=0) - (per_stratum > 0).sum(axis=0)
    out = (np.where(empty, np.nan, est), v, nobs, deffs, dkeys, keys_out)
    return out, lost, new_shift
