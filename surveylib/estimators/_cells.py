"""Cells: what every estimator of this package is made of.

Every estimator is a ratio of weighted totals or a total, computed for *cells* (domain x
variable x level) in one vectorised pass.  :class:`Cells` collects the cells of one call (each
variable a :class:`~surveylib.variance.sums.CellGroup`), then asks the design's variance engine
for everything at once:

* when the engine can work from per-(unit, cell) sums (``engine.takes_sums``), the data are
  reduced once by :func:`~surveylib.variance.sums.unit_cell_sums` and the engine's
  ``vcov_sums`` gives the covariance — no per-row score is formed;
* otherwise (weighting adjustments to residualise on, replicate-weight columns, a ratio on a
  Taylor design) the per-row linearised scores go to the engine's ``vcov_cells``.

Domains zero-extend the scores outside the domain, so the whole design enters every variance
(R ``svyby`` / ``subset``).  This module also codes domains and columns and builds the
:class:`~surveylib.results.Estimate` of a call.

Design effects (``deff=True``, R's default ``deff=TRUE``) compare with simple random sampling
*without* replacement of the same number of respondents from a population of size ``sum(w)``;
``deff="replace"`` compares with sampling with replacement (Stata's ``deft`` squared uses the
latter).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import as_list, check_columns, integer_codes
from ..errors import ColumnError, SurveyDesignError, SurveyWarning
from ..results import Estimate
from ..variance.stored import row_chunks
from ..variance.sums import CellGroup, unit_cell_sums
from ..variance.taylor import Scores


# ----- cells ---------------------------------------------------------------------------------
def domains(design, by) -> tuple[np.ndarray, pd.DataFrame, list]:
    """Domain code of every row (-1 outside any domain) and the domain key table.

    Domains are the sorted combinations of the ``by`` values that have rows in the
    (sub)design, as R ``svyby``.  The coding of the data is cached on the design.
    """
    by_cols = as_list(by)
    if not by_cols:  # one domain: a read-only broadcast of 0 takes no memory; its key table
        # is made once per design, as the by= tables are once per data
        keys = design.memo(("estimators", "one domain"), lambda: pd.DataFrame(index=[0]))
        return np.broadcast_to(np.int64(0), (len(design.active),)), keys, []
    data = design.data
    check_columns(data, by_cols, role="by")
    g_all, keys_all = design.memo(("estimators", "domains", tuple(by_cols)),
                                  lambda: code_domains(data, by_cols), scope="data")
    active = design.active
    if g_all.min() >= 0 and (active.all() or np.all(np.bincount(g_all, weights=active) > 0)):
        return g_all, keys_all, by_cols
    inside = g_all >= 0
    counts = np.bincount(g_all[inside], weights=active[inside], minlength=len(keys_all))
    present = np.flatnonzero(counts > 0)
    if len(present) == 0:
        raise SurveyDesignError(f"no rows of the design have values of {by_cols}.")
    remap = np.full(len(keys_all), -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    g = np.where(inside, remap[np.where(inside, g_all, 0)], -1)
    return g, keys_all.iloc[present].reset_index(drop=True), by_cols


def code_domains(data: pd.DataFrame, by_cols: list) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes 0..D-1 of the sorted distinct ``by`` combinations (-1 where a value is missing)."""
    frame = data[by_cols]
    if len(by_cols) == 1:
        s = frame[by_cols[0]]
        coded = integer_codes(s.to_numpy()) if isinstance(s.dtype, np.dtype) else None
        codes, uniques = coded if coded is not None else pd.factorize(s, sort=True)
        g = codes.astype(np.int64)
        keys = pd.DataFrame({by_cols[0]: uniques})
    else:
        g = frame.groupby(by_cols, sort=True, dropna=True, observed=True).ngroup().to_numpy()
        g = np.where(np.isnan(g.astype(float)), -1, g).astype(np.int64)
        first = np.full(int(g.max()) + 1, -1, dtype=np.int64)
        rows = np.flatnonzero(g >= 0)[::-1]
        first[g[rows]] = rows
        keys = frame.iloc[first].reset_index(drop=True)
    g.flags.writeable = False
    return g, keys




def variable_values(design, var, *, na_rm: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numeric values of ``var`` (0 where missing) and its validity mask (cached per data);
    an error naming the variable when it has missing values and ``na_rm`` is false.

    The checks read only the design's rows and the column, so their outcome is memoised on
    the design: a second estimate of ``var`` makes no pass over the rows to check it.
    """
    y, ok = design.numeric_column(var)
    n_inf, first_inf, any_value, n_missing = design.memo(
        ("estimators", "checked values", var), lambda: _value_checks(y, ok, design.active))
    if n_inf:
        raise SurveyDesignError(
            f"variable {var!r} has {n_inf} infinite value(s) in the design; survey "
            "estimates need finite values: recode them, or set them to NaN and pass "
            "na_rm=True.", parameter=var, value=float(y[first_inf]))
    if not any_value:
        raise SurveyDesignError(
            f"variable {var!r} has no non-missing value in the design; there is nothing to "
            "estimate.", parameter=var)
    if not na_rm and n_missing:
        _missing_error(var, n_missing, "estimate over respondents with a value (the design is "
                                       "kept for variances)")
    return y, ok


def _value_checks(y: np.ndarray, ok: np.ndarray, active: np.ndarray) -> tuple:
    """(infinite values, the first one's row, whether any value is present, missing values)
    among the design's rows."""
    inf = np.isinf(y)
    n_inf, first = 0, -1
    if inf.any():  # rare: only then the masks
        inf &= ok & active
        n_inf = int(np.count_nonzero(inf))
        first = int(np.flatnonzero(inf)[0]) if n_inf else -1
    if np.count_nonzero(ok) == len(ok):  # nothing missing: no mask to combine
        return n_inf, first, bool(active.any()), 0
    return n_inf, first, bool((ok & active).any()), int(np.count_nonzero(~ok & active))


def _refuse_missing(var, ok, active, what: str) -> None:
    """The error for missing values of ``var`` in the design when ``na_rm`` is false."""
    if not ok.all() and not ok[active].all():
        _missing_error(var, int((~ok & active).sum()), what)


def _missing_error(var, bad: int, what: str):
    """Raise the error for ``bad`` missing values of ``var`` in the design."""
    raise SurveyDesignError(
        f"variable {var!r} has {bad} missing value(s) in the design; pass na_rm=True to "
        f"{what}.", parameter="na_rm", value=False, hint="na_rm=True")


def ratio_pairs(numerator, denominator) -> tuple[list, list]:
    """Numerators paired with denominators (one denominator serves every numerator)."""
    nums, dens = as_list(numerator), as_list(denominator)
    if len(dens) == 1 and len(nums) > 1:
        dens = dens * len(nums)
    if len(nums) != len(dens):
        raise SurveyDesignError(
            f"ratio() pairs numerators with denominators: got {len(nums)} and {len(dens)}.",
            parameter="denominator", value=dens)
    return nums, dens


def check_variables(variables) -> list:
    """The variables of an estimator call as a list; at least one."""
    out = as_list(variables)
    if not out:
        raise SurveyDesignError("no variables given: name at least one column to estimate.",
                                parameter="variables", value=variables)
    return out


def check_na_rm(na_rm) -> None:
    if na_rm not in (True, False, "complete"):
        raise SurveyDesignError(f"na_rm={na_rm!r} must be True, False or 'complete'.",
                                parameter="na_rm", value=na_rm,
                                expected=[True, False, "complete"])


def numeric_columns(design, variables, na_rm) -> dict:
    """Values and validity of each variable; ``na_rm='complete'`` keeps rows valid on all."""
    check_na_rm(na_rm)
    variables = check_variables(variables)
    design.memo(("estimators", "columns present", tuple(variables)),  # once per data
                lambda: check_columns(design.data, variables, role="analysis"), scope="data")
    out = {v: variable_values(design, v, na_rm=bool(na_rm)) for v in variables}
    if na_rm == "complete":
        joint = np.logical_and.reduce([ok for _, ok in out.values()])
        out = {v: (y, joint) for v, (y, _) in out.items()}
    return out


def levels_of(design, var, *, na_rm: bool) -> tuple[np.ndarray, list, np.ndarray]:
    """Level codes of a categorical variable (-1 = missing), its levels, validity mask."""
    codes, levels, ok = design.factor_codes(var)
    levels = list(levels)
    if len(levels) > 200:
        raise ColumnError(
            f"variable {var!r} has {len(levels)} distinct values; proportion() is for "
            "categorical variables — use mean() for a numeric one, or recode it into groups.",
            parameter=var, value=len(levels))
    if not na_rm:
        _refuse_missing(var, ok, design.active, "estimate shares among respondents with a value")
    return codes, levels, ok


class Cells:
    """Accumulates the cells of one estimator call, then computes everything at once.

    ``g`` is each row's domain code (-1 outside every domain), ``n_domains`` the number of
    domains and ``by_key`` a key naming that domain coding (sums that depend only on the
    design's rows are then memoised on the design under it).
    """

    def __init__(self, design, g: np.ndarray, n_domains: int, by_key=None, domain_keys=None):
        self.design = design
        self.domain_keys = domain_keys  # the by= values of each domain, for messages
        self.by_key = by_key
        self.w = design.estimation_weights
        self.g = g
        self.D = n_domains
        self.groups: list[CellGroup] = []
        self.keys: list = []  # (domain, variable, level) of every cell, in cell order
        self.k = 0
        self.nobs = None
        self._blocks: list | None = None
        self._sums: dict = {}  # per-(unit, cell) sums by (center, squares): computed once per call

    def memo(self, key, compute):
        """Memoise on the design when the domain coding is named, else compute."""
        if self.by_key is None:
            return compute()
        return self.design.memo(("estimators", *self.by_key, *key), compute)

    def _rows_in_domains(self):
        """Rows in some domain with non-zero weight, and whether that is every row."""

        def compute():
            one = self.g.strides == (0,) and (not self.g.size or self.g[0] >= 0)
            rows = self.w != 0  # calibrated weights may be negative
            if not one:  # not the one-domain broadcast of 0, which holds every row
                rows &= self.g >= 0
            rows.flags.writeable = False
            return rows, bool(rows.all())

        return self.memo(("rows in domains",), compute)

    def add(self, valid, y, x, variable, levels=(None,), level_index=None):
        """Add cells (domain x level) for one variable; ``level_index`` gives each row's level.

        ``x=None`` means a denominator of 1 for every row (means and shares).
        """
        rows, every_row = self._rows_in_domains()
        L = len(levels)
        same = bool(valid.all()) or (self.by_key is not None
                                     and np.array_equal(valid & rows, rows))
        if same:  # the variable is valid on every row with weight in a domain
            valid = rows
            if every_row and (self.D == 1 or L == 1):
                dom = self.g  # every row in a domain: g itself (all zeros for one domain)
            else:
                dom = self.memo(("domain x levels", L),
                                lambda: np.where(rows, self.g, 0) * L)
        else:
            valid = valid & rows
            dom = np.where(valid, self.g, 0) * L
        categorical = level_index is not None
        self.groups.append(CellGroup(
            base=self.k, levels=L, categorical=categorical, valid=valid, dom=dom,
            values=level_index if categorical else y, x=x,
            shared=("rows",) if same and self.by_key is not None else None,
            every_row=same and every_row))
        self._blocks = None
        self._sums = {}
        self.keys.extend((d, variable, lev) for d in range(self.D) for lev in levels)
        self.k += self.D * L

    @property
    def blocks(self) -> list:
        """(valid, cell codes, y, x) per block; a categorical gives one indicator block a level.

        Built on first use: the path from sums never needs the indicators.
        """
        if self._blocks is None:
            out = []
            for grp in self.groups:
                if not grp.categorical:
                    out.append((grp.valid, _offset(grp.dom, grp.base), grp.values, grp.x))
                else:
                    out.extend((grp.valid, grp.dom + grp.base + j,
                                (grp.values == j).astype(float), grp.x)
                               for j in range(grp.levels))
            self._blocks = out
        return self._blocks

    def compute(self, kind: str, deff, transform=None):
        """Estimates, covariance, counts and design effects of every cell in one pass.

        Returns ``(estimates, vcov, n, deff)`` and keeps ``n`` as ``nobs``.  ``kind`` is
        ``"ratio"`` (``sum(w y) / sum(w x)``, ``x = 1`` for means and shares) or ``"total"``.
        Rows outside a cell's domain carry weight 0, so they add nothing anywhere.

        With a ``transform`` (:class:`~surveylib.variance.engine.Transform`), the estimates
        and covariance are those of ``f`` of the cells (design effects are NaN; ``n`` stays
        per cell).
        """
        engine = self.design.engine
        if engine.needs_presence:
            engine = engine.with_presence(self.presence(*engine.sum_units))
        denominator = any(grp.x is not None for grp in self.groups)
        # a zero denominator gives an infinite or undefined cell (warned about by name);
        # numpy's own warnings for it would say nothing more
        with np.errstate(divide="ignore", invalid="ignore"):
            if engine.takes_sums(k=self.k, n_rows=len(self.w), denominator=denominator):
                out = self._from_sums(engine, kind, deff, transform)
            else:
                out = self._from_rows(engine, kind, deff, transform)
        self.nobs = out[2]
        if transform is None:
            return out
        est, v, nobs, _ = out
        return transform.f(est), v, nobs, np.full(len(v), np.nan)

    def presence(self, unit: np.ndarray, n_units: int) -> np.ndarray:
        """(units x cells) bool: the units with rows in each cell's domain (a variable's
        levels share their domain's units)."""
        out = np.zeros((n_units, self.k), dtype=bool)
        for grp in self.groups:
            L = grp.levels
            valid = grp.valid
            domain = (grp.dom // L)[valid]
            seen = np.bincount(unit[valid] * self.D + domain,
                               minlength=n_units * self.D).reshape(n_units, self.D) > 0
            out[:, grp.cells(self.D)] = np.repeat(seen, L, axis=1)
        return out

    def _check_denominators(self, kind, den, empty):
        """A zero denominator makes that cell's ratio infinite (or undefined), as in R; the
        other cells are unaffected.  A warning names the cells."""
        zero = np.flatnonzero((den == 0) & ~empty) if kind != "total" else []
        if len(zero):
            names = [self.describe_cell(c) for c in zero[:5]]
            warnings.warn(
                f"the denominator total is zero in {len(zero)} cell(s) ({'; '.join(names)}"
                f"{' ...' if len(zero) > 5 else ''}); their ratio is reported as +/-inf or NaN "
                "(as R) and their SE is undefined.", SurveyWarning, stacklevel=5)

    def describe_cell(self, c: int) -> str:
        """A cell in words: its variable, level and domain."""
        d, variable, level = self.keys[c]
        text = f"variable {variable!r}" + ("" if level is None else f", level {level!r}")
        if self.D > 1 and self.domain_keys is not None and len(self.domain_keys.columns):
            row = self.domain_keys.iloc[d]
            return text + ", domain " + ", ".join(f"{k}={v!r}" for k, v in row.items())
        return text + (f", domain {d}" if self.D > 1 else "")

    def _from_sums(self, engine, kind: str, deff, transform=None):
        """Everything from per-(unit, cell) sums (:func:`unit_cell_sums`)."""
        unit, n_units = engine.sum_units
        # categorical cells are never centred, so a total and a ratio of the same cells share
        # one reduction (crosstab asks for both)
        center = (engine.center_sums and kind != "total"
                  and not all(grp.categorical for grp in self.groups))
        how = (center, deff is not False)
        if how not in self._sums:
            self._sums[how] = unit_cell_sums(
                self.groups, w=self.w, g=self.g, n_domains=self.D, k=self.k, unit=unit,
                n_units=n_units, center=center, squares=how[1], memo=self.memo)
        sums = self._sums[how]
        num, den, nobs = sums.num, sums.den, sums.n
        empty = nobs == 0
        self._check_denominators(kind, den, empty)
        if kind == "total":
            est_shifted = est = num
        else:
            est_shifted = num / den
            est = est_shifted + sums.shift
        v = engine.vcov_sums(kind, sums, est_shifted, transform)
        if transform is not None:
            return np.where(empty, np.nan, est), v, nobs, None
        resid_ss = sums.resid_ss(kind, est_shifted) if deff is not False else None
        deffs = design_effects(kind, deff, v, resid_ss, sums.wsum, den, nobs)
        return np.where(empty, np.nan, est), v, nobs, deffs

    def _from_rows(self, engine, kind: str, deff, transform=None):
        """Per-row linearised scores, for engines that need the rows.

        The cell sums (and the residual sums of squares of the design effects) are taken
        over chunks of :data:`ROW_CHUNK` rows, so their temporaries are O(chunk), not n; the
        scores are formed only when the engine reads them (``vcov_cells`` gets a callable).
        """
        k, w = self.k, self.w
        num, den, wsum, nobs = (np.zeros(k) for _ in range(4))
        for valid, cells, y, x in self.blocks:
            for s in row_chunks(len(w)):
                _chunk_sums(k, cells[s], valid[s], w[s], y[s], None if x is None else x[s],
                            num, den, wsum, nobs)
        empty = nobs == 0
        self._check_denominators(kind, den, empty)
        safe_den = np.where(den == 0, 1.0, den)
        est = num if kind == "total" else num / den
        ybar = num / np.where(wsum == 0, 1.0, wsum)
        resid_ss = np.zeros(k)
        if deff is not False:
            for valid, cells, y, x in self.blocks:
                for s in row_chunks(len(w)):
                    c = cells[s]
                    wv = w[s] * valid[s]
                    if kind == "total":
                        e = y[s] - ybar[c]
                        resid_ss += np.bincount(c, wv * e * e, minlength=k)
                    else:
                        e = y[s] - (est[c] if x is None else est[c] * x[s])
                        resid_ss += np.bincount(c, wv * e * e, minlength=k)

        def scores() -> Scores:
            blocks = []
            for valid, cells, y, x in self.blocks:
                wv = w * valid
                if kind == "total":
                    vals = wv * y
                else:
                    e = y - (est[cells] if x is None else est[cells] * x)
                    vals = wv * e / safe_den[cells]
                blocks.append((vals, cells))
            return Scores(tuple(blocks), k)

        v = engine.vcov_cells(self.blocks, kind, est, k, scores, transform)
        if transform is not None:
            return np.where(empty, np.nan, est), v, nobs, None
        deffs = design_effects(kind, deff, v, resid_ss, wsum, den, nobs)
        return np.where(empty, np.nan, est), v, nobs, deffs


def _chunk_sums(k, c, ok, w, y, x, num, den, wsum, nobs) -> None:
    """Add a chunk of rows' ``sum(w y)``, ``sum(w x)``, ``sum(w)`` and row counts per cell
    (``x=None``: 1) to ``num``, ``den``, ``wsum``, ``nobs``.

    One cell (``k == 1``, every row's code 0) is summed by ``einsum`` and ``sum`` (vectorised,
    about ten times faster than ``bincount``'s one addition at a time; the results may differ
    in the last bit); with several cells ``bincount`` adds per cell.  Rows not ``ok`` carry
    weight 0.  (``einsum``, not BLAS ``dot``: OpenBLAS threads a dot product of a chunk's
    length, and threaded calls stall on a busy machine.)
    """
    every = bool(ok.all())
    wv = w if every else w * ok  # w * True is w
    if k == 1:
        ws = np.array([wv.sum()])
        num += np.einsum("i,i->", wv, y)
        wsum += ws
        den += ws if x is None else np.einsum("i,i->", wv, x)
        nobs += len(ok) if every else np.count_nonzero(ok)
        return
    num += np.bincount(c, wv * y, minlength=k)
    ws = np.bincount(c, wv, minlength=k)
    wsum += ws
    den += ws if x is None else np.bincount(c, wv * x, minlength=k)
    nobs += np.bincount(c, minlength=k) if every else np.bincount(c, ok, minlength=k)


def _offset(dom: np.ndarray, base: int) -> np.ndarray:
    """``dom + base`` (a read-only broadcast stays one: no n-vector for a single domain)."""
    if base == 0:
        return dom
    if dom.strides == (0,):
        return np.broadcast_to(dom[:1] + base, dom.shape)
    return dom + base


def design_effects(kind, deff, v, resid_ss, wsum, den, nobs):
    """Design effects of the cells: ``diag(v)`` over the SRS variance (see module notes)."""
    if deff is False:
        return np.full(len(wsum), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = resid_ss / wsum * nobs / (nobs - 1)
        if kind == "total":
            mult = wsum**2
        else:
            mult = (wsum / den) ** 2
        if deff == "replace":
            vsrs = s2 * mult / nobs
        else:
            if np.any(wsum < nobs):
                warnings.warn(
                    "the weights sum to less than the sample size in some domain, so the "
                    "without-replacement design effect is undefined (NaN); are the weights "
                    "scaled to the population? Use deff='replace'.",
                    SurveyWarning,
                    stacklevel=5,
                )
            vsrs = np.where(wsum < nobs, np.nan, s2 * mult * (wsum - nobs) / (wsum * nobs))
        return np.diag(v) / vsrs


def key_frame(keys_list, domain_keys: pd.DataFrame, by_cols: list) -> pd.DataFrame:
    """The label columns of a result: the ``by`` columns, ``variable`` and ``level``."""
    d = np.array([k[0] for k in keys_list], dtype=np.int64)
    columns: dict = {}
    for c in domain_keys.columns if by_cols else ():  # each key column's rows d, its dtype kept
        col = domain_keys[c]
        columns[c] = (col.to_numpy()[d] if isinstance(col.dtype, np.dtype)
                      else col.iloc[d].reset_index(drop=True))
    columns["variable"] = [k[1] for k in keys_list]
    columns["level"] = pd.Series([k[2] for k in keys_list], dtype=object)
    # one constructor call: an iloc frame and two inserted columns cost ~3x as much per estimate
    return pd.DataFrame(columns, index=pd.RangeIndex(len(d)))


#: level values whose factorisation :func:`key_index` reproduces (one type in a column)
_PLAIN_LEVELS = (str, int, float, np.integer, np.floating, np.bool_)
#: label types whose equal values are the same label (their Index may be memoised)
_EXACT_LABELS = (str, int, np.integer, np.bool_)


def key_index(keys_list, domain_keys: pd.DataFrame, by_cols: list, *,
              memo=None) -> pd.Index | None:
    """The index of a result's cells straight from its keys, without the key frame.

    Equal (labels, names, each level's values and dtype, codes) to what
    :attr:`Estimate.index <surveylib.results.Estimate.index>` builds from
    :func:`key_frame`: ``pd.MultiIndex.from_frame`` of the ``by`` columns, ``variable`` and,
    when some cell has one, ``level``, each column factorised as pandas does (distinct values
    sorted, the column's dtype kept); a plain Index of ``variable`` when that is the only
    column.  About 0.1 ms instead of 1.5 ms for the frame and ``from_frame``.

    ``memo(key, compute)`` (the design's, scope "data"), when given, keeps the Index of each
    set of string labels: a string Index is converted to Arrow, about 0.25 ms right after a
    pass over a large array (the labels' Index is immutable; the result holds views of it).

    Returns ``None`` where a column is of a kind whose factorisation this does not reproduce
    (a categorical, object or date ``by`` column, a variable name that is not a string,
    levels of mixed types or with NaN, a ``by`` column named like a key column): the result
    then builds its index from the key frame.
    """
    variables = [k[1] for k in keys_list]
    if not variables or any(type(v) is not str for v in variables):
        return None
    levels = [k[2] for k in keys_list]
    present = [lev for lev in levels if lev is not None]
    if not by_cols and not present:
        return _label_index(variables, None, memo).rename("variable")
    names = [*by_cols, "variable"] + (["level"] if present else [])
    if len(set(names)) != len(names) or list(domain_keys.columns) != list(by_cols):
        return None
    d = np.fromiter((k[0] for k in keys_list), dtype=np.int64, count=len(keys_list))
    index_levels, codes = [], []
    for c in by_cols:
        coded = _by_level(domain_keys[c], memo)
        if coded is None:
            return None
        index_levels.append(coded[0])
        codes.append(coded[1][d])
    # the level column of the key frame holds objects: its Index keeps object dtype
    plain = [(variables, None)] + ([(levels, object)] if present else [])
    for values, dtype in plain:
        coded = _plain_level(values, dtype, memo)
        if coded is None:
            return None
        index_levels.append(coded[0])
        codes.append(coded[1])
    return pd.MultiIndex(levels=index_levels, codes=codes,  # type: ignore[arg-type]  # Index levels and ndarray codes, as pandas builds them; the stubs want sequences
                         names=names, verify_integrity=False)


def _by_level(col: pd.Series, memo) -> tuple[pd.Index, np.ndarray] | None:
    """(sorted distinct values as an Index of the column's dtype, each domain's code) of a
    domain key column of integers, booleans, floats (no NaN or -0.0) or strings; else None."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "iubf" or dtype.itemsize < (4 if dtype.kind == "f" else 1):
            return None
        values = col.to_numpy()
        if dtype.kind == "f" and (np.isnan(values).any() or np.signbit(values[values == 0]).any()):
            return None
        distinct = np.unique(values)
        return pd.Index(distinct), np.searchsorted(distinct, values)
    if isinstance(dtype, pd.StringDtype):
        labels = col.tolist()
        if any(type(v) is not str for v in labels):
            return None
        return _plain_level(labels, dtype, memo)
    return None


def _plain_level(values: list, dtype, memo) -> tuple[pd.Index, np.ndarray] | None:
    """(sorted distinct values as an Index of ``dtype`` — inferred when None — and each
    value's code, -1 for None) of strings or numbers of one type without NaN; else None."""
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if len(kinds) != 1 or not issubclass(next(iter(kinds)), _PLAIN_LEVELS):
        return None
    if any(v != v for v in present):  # NaN: a missing value to pandas
        return None
    distinct = sorted(dict.fromkeys(present))  # as pandas' hash table: the first of equals
    position = {v: i for i, v in enumerate(distinct)}
    codes = np.array([-1 if v is None else position[v] for v in values], dtype=np.int64)
    return _label_index(distinct, dtype, memo), codes


def _label_index(labels: list, dtype, memo) -> pd.Index:
    """``pd.Index(labels, dtype=dtype)``, kept by ``memo`` when the labels are strings or
    integers of one type (the key is then exact: equal labels of one such type are the same
    label; floats are not kept, as -0.0 equals 0.0)."""
    kinds = {type(v) for v in labels}
    kind = kinds.pop() if len(kinds) == 1 else None
    if memo is None or kind is None or not issubclass(kind, _EXACT_LABELS):
        return pd.Index(labels, dtype=dtype)
    return memo(("estimators", "labels", str(dtype), kind, tuple(labels)),
                lambda: pd.Index(labels, dtype=dtype))


def labels_memo(design):
    """``memo(key, compute)`` on the design's data, for :func:`key_index`."""
    return lambda key, compute: design.memo(key, compute, scope="data")


def is_numeric(s: pd.Series) -> bool:
    return not isinstance(s.dtype, pd.CategoricalDtype) and (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    )


def check_deff(deff):
    if deff not in (True, False, "replace"):
        raise SurveyDesignError(f"deff={deff!r} must be True, False or 'replace'.",
                                parameter="deff", value=deff, expected=[True, False, "replace"])


def finish(design, statistic, cells, kind, deff, by_cols, domain_keys, *, ci_method="wald",
           interval_factory=None, domain_df=False) -> Estimate:
    """Compute the cells and wrap them in an :class:`~surveylib.results.Estimate`."""
    est, v, nobs, deffs = cells.compute(kind, deff)
    keys = cells.keys
    # the df are computed when an interval, the df column or the footer first needs them
    # (a callable: Estimate computes it on first read)
    def dfs() -> np.ndarray:
        if domain_df:
            return cell_domain_df(design, cells)
        return np.full(len(est), float(design.degf()))
    interval = interval_factory(est, v, dfs) if interval_factory else None
    return Estimate(
        statistic=statistic,
        # the key frame and the index are built on first read, the index from the keys: an
        # estimate whose .se is read never builds the frame (1.5 ms of pandas per call)
        keys=lambda: key_frame(keys, domain_keys, by_cols),  # type: ignore[arg-type]  # a callable: Estimate builds it on first read
        cell_index=lambda: key_index(keys, domain_keys, by_cols, memo=labels_memo(design)),  # type: ignore[arg-type]  # likewise
        values=est,
        vcov_matrix=v,
        n=nobs,
        deff_values=deffs,
        dfs=dfs,  # type: ignore[arg-type]  # a callable: Estimate computes it on first read
        by=tuple(by_cols),
        inference=lambda: footer(design, ci_method),  # type: ignore[arg-type]  # a callable: Estimate computes it on first read
        ci_method=ci_method,
        interval=interval,
    )


def cell_domain_df(design, cells) -> np.ndarray:
    """Each cell's domain degrees of freedom (the levels of a variable share their domain's).

    A group fed by every row with weight in a domain (the usual case) has the domain df of
    the design's rows, memoised on the design with the domain coding: a second estimate over
    the same domains does not count PSUs again.
    """
    dfs = np.zeros(cells.k)
    D = cells.D
    for grp in cells.groups:
        L = grp.levels

        def compute(grp=grp, L=L):
            # the domain of every valid row (one domain: dom is all zeros already)
            domain = grp.dom // L if L > 1 and D > 1 else grp.dom
            d = design.engine.domain_df(grp.valid, domain, D)
            if D == 1:
                touched = np.array([bool(np.any(grp.valid))])
            else:  # rows outside the group have domain 0 and weight 0 here
                touched = np.bincount(domain, weights=grp.valid, minlength=D) > 0
            return np.where(touched, d, 0.0)

        d = cells.memo(("domain df", *grp.shared), compute) if grp.shared else compute()
        dfs[grp.cells(D)] = np.repeat(d, L)
    return dfs


def footer(design, ci_method: str, df=None) -> str:
    """The line under a result saying how inference was done."""
    df = design.degf() if df is None else df
    text = design.describe() + f"; df = {df} ({design.engine.df_rule})"
    if ci_method != "wald":
        text += f"; proportion intervals: {ci_method}"
    return text
