"""Two-way tables: weighted counts and shares of ``row`` by ``col`` (R ``svytable``,
``svymean(~interaction(row, col))``), with the tests of independence of
:mod:`surveylib.inference.raoscott` (R ``svychisq``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._validation import as_list, check_columns, check_option
from ..errors import ColumnError, SurveyDesignError
from ..estimators._cells import Cells, domains, footer
from ..results import (
    FRAME_COLUMNS,
    Estimate,
    Printable,
    html_table,
    text_table,
    variable_labels,
)
from .raoscott import CHISQ_METHODS, independence_test, method_name

if TYPE_CHECKING:
    from ..design import SurveyDesign

MAX_LEVELS = 200


def observed_levels(s: pd.Series, keep: np.ndarray) -> list:
    """Levels of ``s`` observed on rows ``keep`` (categorical order, else sorted)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        used = np.unique(codes[keep & (codes >= 0)])
        return [s.cat.categories[i] for i in used]
    return sorted(pd.unique(s[keep].dropna()).tolist())


def _table_codes(design, row: str, col: str, drop_empty: bool = True):
    """Level codes of row and col among complete active rows (-1 elsewhere), and the levels
    (without ``drop_empty``, a categorical's categories all).

    When every row is in the design and has both values, the levels of a column that is not
    categorical are all observed (they are its distinct values): its codes are then the
    design's cached codes themselves, with no pass over the rows to count or recode them.
    """
    df = design.data
    active = design.active
    check_columns(df, [row, col], role="crosstab")
    if row == col:
        raise SurveyDesignError(f"crosstab needs two different variables, got {row!r} twice.")
    coded = {var: design.factor_codes(var) for var in (row, col)}  # cached per data; -1 = NA
    ok_r, ok_c = coded[row][2], coded[col][2]
    every = bool(active.all()) and bool(ok_r.all()) and bool(ok_c.all())
    complete = active if every else active & ok_r & ok_c
    if not every and not complete.any():
        raise SurveyDesignError(f"no rows of the design have values of both {row!r} and {col!r}.")
    out = []
    for var in (row, col):
        s = df[var]
        codes, levels_all, _ = coded[var]
        n_lev = len(levels_all)
        categorical = isinstance(s.dtype, pd.CategoricalDtype)
        observed_all = every and not categorical  # every level observed on the table's rows
        if observed_all:
            n_all = n_lev
        else:
            n_all = int(np.count_nonzero(np.bincount(codes[active & (codes >= 0)],
                                                     minlength=n_lev)))
        if n_all > MAX_LEVELS:
            raise ColumnError(
                f"variable {var!r} has {n_all} distinct values; a crosstab is for categorical "
                f"variables with at most {MAX_LEVELS} levels — recode it into groups first "
                "(e.g. pandas.cut for a numeric variable)."
            )
        if not drop_empty and categorical:
            keep = np.ones(n_lev, dtype=bool)  # a categorical's categories all
            levels = list(s.cat.categories)
        else:
            keep = (np.ones(n_lev, dtype=bool) if observed_all
                    else np.bincount(codes[complete], minlength=n_lev) > 0)
            if categorical:
                levels = [s.cat.categories[i] for i in np.flatnonzero(keep)]
            else:  # the distinct values as Python scalars, sorted (as observed_levels)
                levels = sorted(pd.Index(levels_all)[keep].tolist())
        lookup = pd.Index(levels).get_indexer(pd.Index(levels_all))  # the few levels
        to_level = np.where(keep, lookup, -1)
        if every and np.array_equal(to_level, np.arange(n_lev)):  # the codes are the levels'
            out.append((codes, levels))
            continue
        out.append((np.where(complete, to_level[np.maximum(codes, 0)], -1).astype(np.int64),
                    levels))
    (rc, rl), (cc, cl) = out
    return rc, rl, cc, cl, complete


@dataclass(frozen=True, repr=False)  # prints its summary (Printable)
class Crosstab(Printable):
    """Two-way design-based table of ``row`` by ``col`` (optionally within domains ``by``).

    Attributes
    ----------
    row, col : str
        The two variables.
    by : tuple of str
        Domain variables.
    row_levels, col_levels : list
        Levels observed on rows with both variables present (empty levels are dropped, as R's
        ``factor()`` drops them).
    counts : Estimate
        Estimated population counts of every cell (R ``svytotal(~interaction(row, col))``),
        keyed by ``[*by, row]`` with ``variable = col`` and ``level`` = the column level.
    cell_shares : Estimate
        Share of the (domain) population in each cell, same keys; the cells of a domain sum
        to 1 (R ``svymean(~interaction(row, col))``).
    row_shares : Estimate
        Share of each column level within each row level (R ``svyby(~col, ~row, svymean)``).
    col_shares : Estimate
        Share of each row level within each column level, keyed by ``[*by, col]`` with
        ``variable = row``.

    Notes
    -----
    Every part answers the accessor protocol (``.estimate``, ``.se``, ``.vcov``, ``.ci()``,
    ``.to_frame()``); so does the table itself, for its estimated counts (``to_frame()`` has
    the columns ``[*by, row, *FRAME_COLUMNS]`` of :class:`~surveylib.results.Estimate`).
    :meth:`test` tests independence of row and col.
    """

    frame_columns = tuple(FRAME_COLUMNS)

    row: str
    col: str
    by: tuple
    row_levels: list
    col_levels: list
    counts: Estimate
    cell_shares: Estimate
    _design: SurveyDesign = field(repr=False, compare=False)
    _codes: tuple = field(default=(), repr=False, compare=False)  # (row, col, complete)
    _drop_empty: bool = field(default=True, repr=False, compare=False)

    # ----- shares within rows and within columns: computed on first use ----------------------
    @functools.cached_property
    def _coded_design(self):
        """The design over the data with row and col recoded to the table's levels."""
        rc, cc, complete = self._codes
        df = self._design.data
        tmp = df.assign(**{
            self.row: pd.Categorical.from_codes(np.where(complete, rc, -1),
                                                categories=self.row_levels),
            self.col: pd.Categorical.from_codes(np.where(complete, cc, -1),
                                                categories=self.col_levels)})
        tmp.attrs.update(df.attrs)  # variable labels (surveylib.results.variable_labels)
        return self._design.with_data(tmp)

    def _shares(self, var: str, within: str) -> Estimate:
        """Shares of ``var``'s levels within each level of ``within`` (and ``by``)."""
        return self._coded_design.proportion(var, by=[*self.by, within], na_rm=True,
                                             ci_method="mean", drop_empty=self._drop_empty)

    @functools.cached_property
    def row_shares(self) -> Estimate:
        """Share of each column level within each row level (R ``svyby(~col, ~row,
        svymean)``); computed on first use."""
        return self._shares(self.col, self.row)

    @functools.cached_property
    def col_shares(self) -> Estimate:
        """Share of each row level within each column level; computed on first use."""
        return self._shares(self.row, self.col)

    # ----- the accessor protocol, for the estimated counts ----------------------------------
    @property
    def estimate(self) -> pd.Series:
        return self.counts.estimate

    @property
    def se(self) -> pd.Series:
        return self.counts.se

    @property
    def vcov(self) -> pd.DataFrame:
        return self.counts.vcov

    @property
    def df(self):
        return self.counts.df

    @property
    def inference(self) -> str:
        return self.counts.inference

    def ci(self, level: float = 0.95, df=None) -> pd.DataFrame:
        """Intervals of the estimated counts (see :meth:`Estimate.ci`)."""
        return self.counts.ci(level, df)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """The estimated counts, one row per cell (see :meth:`Estimate.to_frame`)."""
        return self.counts.to_frame(level)

    def table(self, what: str = "counts") -> pd.DataFrame:
        """The estimates as a row x col table (one block per domain with ``by``).

        Parameters
        ----------
        what : {"counts", "cell", "row", "col"}
        """
        check_option(what, ("counts", "cell", "row", "col"), name="what")
        est = {"counts": self.counts, "cell": self.cell_shares, "row": self.row_shares,
               "col": self.col_shares}[what]
        f = est.to_frame()
        index = [*self.by, self.col if what == "col" else self.row]
        t = f.pivot_table(index=index, columns="level", values="estimate", sort=False,
                          observed=True)
        t.columns.name = self.row if what == "col" else self.col
        return t

    def test(self, method: str = "F"):
        """Test independence of row and col, as R ``svychisq(~row+col, design, statistic=)``.

        Parameters
        ----------
        method : {"F", "chisq", "wald", "adjwald", "lincom", "saddlepoint"}
            R's spellings ``"Chisq"``, ``"Wald"`` and ``"adjWald"`` are accepted too.
            * ``"F"`` (default, R's): Rao–Scott second-order correction; Pearson's X² over the
              trace of the design-effect matrix Delta, referred to F(d0, d0 nu) with
              d0 = tr(Delta)² / tr(Delta²) and nu the design df;
            * ``"chisq"``: first-order correction, X² / mean(eigenvalues) ~ chi²((r-1)(c-1));
            * ``"wald"``: Wald test of the (r-1)(c-1) interaction contrasts of the cell totals,
              divided by its df and referred to F(df, nu);
            * ``"adjwald"``: the same scaled by (nu - df + 1)/nu, referred to F(df, nu - df + 1);
            * ``"lincom"``: X² referred to its asymptotic distribution, a weighted sum of
              chi²(1) with the eigenvalues of Delta as weights, against chi²(d0 nu)/(d0 nu);
              computed by Imhof's numerical inversion (R uses Davies/Farebrother from the
              CompQuadForm package, or falls back to the saddlepoint approximation without it);
            * ``"saddlepoint"``: the same distribution by the saddlepoint approximation
              (R ``survey:::saddle``).

        Returns
        -------
        ChisqTestResult (a TestResult with R's ``observed`` and ``expected`` tables), or dict
        of them keyed by domain (a tuple of ``by`` values) when
        the table was made with ``by=``.

        Notes
        -----
        Rao & Scott (1981, 1984); R ``survey::svychisq.survey.design`` (survey 4.1).  Pearson's
        X² is computed from the weighted table scaled to N, the number of rows in the
        (domain) design, as R does.  Zero cells enter with share 0 (and are skipped in
        D^-1, as R).
        """
        method = method_name(method)
        check_option(method, CHISQ_METHODS, name="method")
        nr, nc = len(self.row_levels), len(self.col_levels)
        levels = (self.row_levels, self.col_levels)
        wald = method in ("wald", "adjwald")  # only the Wald tests use the counts
        if not self.by:
            design = self._design
            return independence_test(design, self.cell_shares.values,
                                      self.cell_shares.vcov_matrix,
                                      self.counts.values if wald else None,
                                      self.counts.vcov_matrix if wald else None, nr, nc,
                                      len(design), design.degf(), method, self.row, self.col,
                                      levels)
        out = {}
        keys = self.cell_shares.keys
        dom_cols = list(self.by)
        dom_keys = keys[dom_cols].drop_duplicates()
        data = self._design.data
        for _, dk in dom_keys.iterrows():
            sel = np.ones(len(keys), dtype=bool)
            mask = np.ones(len(data), dtype=bool)
            for c in dom_cols:
                sel &= (keys[c] == dk[c]).to_numpy()
                mask &= (data[c] == dk[c]).fillna(False).to_numpy(dtype=bool)
            idx = np.flatnonzero(sel)
            sub = self._design.subset(mask)
            key = tuple(dk[c] for c in dom_cols)
            out[key if len(key) > 1 else key[0]] = independence_test(
                sub, self.cell_shares.values[idx],
                self.cell_shares.vcov_matrix[np.ix_(idx, idx)],
                self.counts.values[idx] if wald else None,
                self.counts.vcov_matrix[np.ix_(idx, idx)] if wald else None, nr, nc,
                len(sub), sub.degf(), method, self.row, self.col, levels,
            )
        return out

    # ----- display -----------------------------------------------------------------------
    def _title(self) -> str:
        return f"Crosstab of {self.row} by {self.col}"

    def _body_text(self) -> str:
        counts = text_table(self.table("counts"), index=True)
        shares = text_table(self.table("row"), index=True)
        return f"Estimated counts\n{counts}\nRow shares\n{shares}"

    def _body_html(self) -> str:
        return ("<p>Estimated counts</p>" + html_table(self.table("counts"), index=True)
                + "<p>Row shares</p>" + html_table(self.table("row"), index=True))


def _frozen_codes(design, row: str, col: str, drop_empty: bool) -> tuple:
    """:func:`_table_codes` plus each row's cell code (-1 where incomplete), read-only: the
    design and its data never change, so a design memoises them for its next tables."""
    rc, rl, cc, cl, complete = _table_codes(design, row, col, drop_empty)
    if complete.all():  # no -1 to keep
        cell_code = rc * len(cl)
        cell_code += cc
    else:
        cell_code = np.where(complete, rc * len(cl) + cc, -1)
    for a in (rc, cc, complete, cell_code):
        a.flags.writeable = False
    return rc, rl, cc, cl, complete, cell_code


def crosstab(design, row: str, col: str, *, by=None, drop_empty: bool = True) -> Crosstab:
    """Design-based two-way table of ``row`` by ``col``.

    Parameters
    ----------
    design : SurveyDesign
    row, col : str
        Categorical columns (at most 200 levels each).  Rows missing either are left out of
        every estimate (R ``svychisq(na.rm=TRUE)``); the design is kept for variances.
    by : str or list of str, optional
        Domain column(s): one table (and one test) per domain, with the full design.
    drop_empty : bool, default True
        Leave out levels no complete row has (as R ``svychisq`` and ``svytable``, whose
        ``factor()`` drops them; the same default as :func:`~surveylib.estimators.proportion`).
        ``False`` keeps a categorical's unused categories as zero rows/columns of the table.

    Returns
    -------
    Crosstab

    Examples
    --------
    >>> import pandas as pd, surveylib as sl
    >>> df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "sex": list("FMFMFMFM"),
    ...                    "vote": list("yyny" "nnyy"), "w": [1.0, 2, 1, 2, 3, 3, 1, 1]})
    >>> tab = sl.SurveyDesign(df, strata="h", weights="w").crosstab("sex", "vote")
    >>> round(float(tab.counts.estimate.sum()), 1)
    14.0
    """
    rc, rl, cc, cl, complete, cell_code = design.memo(
        ("inference", "crosstab codes", row, col, bool(drop_empty)),
        lambda: _frozen_codes(design, row, col, drop_empty))
    by_cols = as_list(by)
    if row in by_cols or col in by_cols:
        raise SurveyDesignError(f"by={by_cols} must not contain the table's variables {row!r}, {col!r}.")
    nr, nc = len(rl), len(cl)
    # the cells of the table are the levels of one code: one reduction over (PSU, cell) gives
    # the cell shares and the counts (and the chi-square tests, which need only these); the
    # counts' covariance is computed when first read (the default test needs only the shares')
    g, dkeys, by_cols = domains(design, by_cols)
    cells = Cells(design, g, len(dkeys), by_key=("by", *by_cols), domain_keys=dkeys)
    cells.add(complete, None, None, "__cells", levels=[None] * (nr * nc), level_index=cell_code)
    labels = {k: v for k, v in variable_labels(design.data).items() if k in by_cols}
    labelling = (dkeys, by_cols, row, col, rl, cl)
    shares = _table_estimate(design, cells, "ratio", labelling, labels)
    counts = _table_estimate(design, cells, "total", labelling, labels)
    return Crosstab(row=row, col=col, by=tuple(by_cols), row_levels=list(rl),
                    col_levels=list(cl), counts=counts, cell_shares=shares, _design=design,
                    _codes=(rc, cc, complete), _drop_empty=drop_empty)


def _table_estimate(design, cells: Cells, kind: str, labelling: tuple, labels: dict) -> Estimate:
    """The cell shares (``kind="ratio"``, computed now) or counts (``"total"``, computed on
    first read of any of their numbers) of a table as an :class:`Estimate`.

    Cells in row-major order (row level, then column level), domains within each cell; keys
    ``[*by, row, variable=col, level]`` (:func:`_table_keys`), built on first read.
    """
    n_dom = cells.D
    k = cells.k // n_dom

    def compute():  # (domain, cell) -> (cell, domain): cell-major, domains within
        est, v, nobs, deffs = cells.compute(kind, True)
        if n_dom == 1:
            return est, v, np.asarray(nobs), np.asarray(deffs)
        order = np.arange(len(est)).reshape(n_dom, k).T.ravel()
        return (est[order], v[np.ix_(order, order)], np.asarray(nobs)[order],
                np.asarray(deffs)[order])

    part = functools.cache(compute)
    if kind == "ratio":
        part()  # the shares now: their warnings and errors belong to the call
    by_cols, row = labelling[1], labelling[2]
    # fields given as callables are computed on first read (Estimate's lazy fields)
    return Estimate(
        statistic="mean" if kind == "ratio" else "total",
        keys=lambda: _table_keys(*labelling),  # type: ignore[arg-type]
        values=lambda: part()[0],  # type: ignore[arg-type]
        vcov_matrix=lambda: part()[1],  # type: ignore[arg-type]
        n=lambda: part()[2],  # type: ignore[arg-type]
        deff_values=lambda: part()[3],  # type: ignore[arg-type]
        dfs=lambda: np.full(cells.k, float(design.degf())),  # type: ignore[arg-type]
        by=(*by_cols, row),
        inference=lambda: footer(design, "wald"),  # type: ignore[arg-type]
        labels=labels,
    )


def _table_keys(dkeys: pd.DataFrame, by_cols: list, row, col, rl, cl) -> pd.DataFrame:
    """Keys of a table's cells (cell-major, domains within): the ``by`` columns, ``row``,
    ``variable`` (= ``col``) and ``level`` (the column level)."""
    n_dom, nc = len(dkeys), len(cl)
    cell = np.repeat(np.arange(len(rl) * nc), n_dom)
    dom = np.tile(np.arange(n_dom), len(rl) * nc)
    keys = {c: dkeys[c].take(dom).reset_index(drop=True) for c in by_cols}
    keys[row] = pd.Series(_objects(rl)[cell // nc], dtype=object)
    keys["variable"] = pd.Series(col, index=pd.RangeIndex(len(cell)))
    keys["level"] = pd.Series(_objects(cl)[cell % nc], dtype=object)
    return pd.DataFrame(keys)


def _objects(values: list) -> np.ndarray:
    """A list as a 1-d object array (its items kept as they are)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
