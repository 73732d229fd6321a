"""What every design over an engine shares: column checks, the SQL subset, copies, the
estimators (:mod:`.estimate`) and the explicit collection :meth:`LazyDesign.in_memory`.

:class:`~.design.LazySurveyDesign` (strata, PSUs, weights) and
:class:`~.replicate.LazyReplicateDesign` (stored replicate-weight columns) fill in the rest:
the unit table, the weight expression and the variance engine.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pandas as pd

from .._validation import as_list
from ..errors import ColumnError, SurveyWarning
from . import estimate as _est
from .errors import NotPushedDownError
from .queries import conjunction
from .sources import Source

if TYPE_CHECKING:
    from ..results import Estimate


class LazyDesign:
    """The part of a design over an engine that does not depend on how variances are made.

    Subclasses set ``source`` (:class:`~.sources.Source`), ``filters`` (SQL conditions),
    ``n_rows`` and define ``design_columns()``, ``describe()``, ``degf()`` and ``engine``.
    """

    source: Source
    filters: tuple
    n_rows: int
    #: stored replicate-weight columns (none: variances from the unit table's engine)
    rep_columns: tuple = ()
    #: weighting steps done in the engine (:class:`~.weighting.CellWeighting`)
    adjustments: tuple = ()

    def check_columns(self, cols, *, role: str, numeric: bool = False) -> None:
        """Every column is in the source (and numeric where asked); errors name the column."""
        schema = self.source.schema()
        for c in cols:
            if c not in schema:
                raise ColumnError(
                    f"{role} column {c!r} is not in {self.source.label}; its columns are "
                    f"{list(schema)[:20]}.", parameter=role, value=c,
                    expected=list(schema)[:20])
            if numeric and not self.source.is_numeric(c):
                raise ColumnError(
                    f"{role} column {c!r} of {self.source.label} is not numeric (type "
                    f"{schema[c]}); convert it to numbers in the query (CAST({c} AS DOUBLE)).",
                    parameter=role, value=c, expected="a numeric column")


    @property
    def where(self) -> str:
        """The SQL predicate of the rows in the design."""
        return conjunction(self.filters)


    def evolve(self, **changes):
        """A copy with some state replaced (the design is immutable; methods return copies)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new


    # ----- estimators --------------------------------------------------------------------------
    def mean(self, variables, *, by=None, na_rm=False, deff=True) -> Estimate:
        """Weighted means (R ``svymean``); see :func:`surveylib.estimators.mean`."""
        return _est.mean(self, variables, by=by, na_rm=na_rm, deff=deff)

    def total(self, variables, *, by=None, na_rm=False, deff=True,
              drop_empty: bool = True) -> Estimate:
        """Totals (R ``svytotal``); see :func:`surveylib.estimators.total`."""
        return _est.total(self, variables, by=by, na_rm=na_rm, deff=deff,
                          drop_empty=drop_empty)

    def ratio(self, numerator, denominator, *, by=None, na_rm=False, deff=True) -> Estimate:
        """Ratios of totals (R ``svyratio``); see :func:`surveylib.estimators.ratio`."""
        return _est.ratio(self, numerator, denominator, by=by, na_rm=na_rm, deff=deff)

    def proportion(self, variables, *, by=None, na_rm=False, ci_method="logit",
                   deff=True, drop_empty: bool = True) -> Estimate:
        """Shares of every level (R ``svymean(~factor)``, ``svyciprop``)."""
        return _est.proportion(self, variables, by=by, na_rm=na_rm, ci_method=ci_method,
                               deff=deff, drop_empty=drop_empty)

    def quantile(self, variables, probs=(0.5,), *, by=None, na_rm=False, qrule="math",
                 level=0.95, df=None, interval_type="mean") -> Estimate:
        """Weighted quantiles with Woodruff intervals (R ``svyquantile``), the weighted
        distribution function computed in the engine; see :mod:`.quantiles`."""
        from .quantiles import quantile

        return quantile(self, variables, probs, by=by, na_rm=na_rm, qrule=qrule, level=level,
                        df=df, interval_type=interval_type)

    def var(self, *args, **kwargs):
        """Not pushed down: see :meth:`in_memory`."""
        raise self._needs_rows("var()", "each domain's mean before the squares")

    def crosstab(self, row, col, *, by=None):
        """Two-way table with Rao–Scott tests (R ``svychisq``); see
        :func:`surveylib.inference.crosstab` and :mod:`.tables`."""
        from .tables import crosstab

        return crosstab(self, row, col, by=by)

    def __len__(self) -> int:
        """Rows in the design (after ``subset``), counted in the engine."""
        cache = self.__dict__.setdefault("len_cache", {})
        if self.where not in cache:
            src = self.source
            cache[self.where] = int(src.fetch(f"SELECT COUNT(*) AS n FROM {src.table} WHERE "
                                              f"{self.where}")["n"].iloc[0])
        return cache[self.where]

    # ----- subsets from counted rows ------------------------------------------------------------
    def subset_keys(self) -> list:
        """The columns whose row counts make a subset's design (none here: its rows alone;
        a design over PSUs needs the units with rows, an element design the strata's rows)."""
        return []

    def count_rows(self, keys: list, where: str) -> pd.DataFrame:
        """``SELECT keys, COUNT(*) AS n FROM t WHERE where GROUP BY keys`` (one row without
        keys)."""
        src, q = self.source, self.source.quote
        cols = ", ".join(q(c) for c in keys)
        sql = f"SELECT {cols + ', ' if keys else ''}COUNT(*) AS n FROM {src.table} WHERE {where}"
        return src.fetch(sql + (f" GROUP BY {cols}" if keys else ""))

    def restricted(self, condition: str, rows: pd.DataFrame):
        """The subset of the rows meeting ``condition`` (:meth:`subset`'s design) made from
        ``rows``, their counts by :meth:`subset_keys` (:meth:`count_rows`): no query.  Here
        the SQL condition and the row count; designs whose variances need more (the units
        with rows) redefine it."""
        new = self.evolve(filters=self.filters + (condition,))
        new.remember_len(int(rows["n"].sum()))
        return new

    def locate(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` ready for :meth:`restricted` of many subsets (here as they are; a design
        over units finds each row's unit once)."""
        return rows

    def remember_len(self, n: int) -> None:
        """Record ``len(self)`` counted elsewhere (the query :meth:`__len__` would send)."""
        self.__dict__.setdefault("len_cache", {})[self.where] = int(n)

    def domain_degf(self, by: list) -> dict | None:
        """Degrees of freedom of every domain of ``by`` as its subset's ``degf()`` computes
        them, where that needs the rows (keyed by the tuple of the domain's values); ``None``
        where a subset's ``degf()`` needs no query (the unit table's or the strata's rule)."""
        return None

    def domain_subsets(self, by: list, conditions: dict) -> dict:
        """Each domain's subset, its rows and degrees of freedom, in a fixed number of queries
        whatever the number of domains.

        Parameters
        ----------
        by : list of str
            The domain columns.
        conditions : dict
            Domain (tuple of its ``by`` values) -> its SQL condition.

        Returns
        -------
        dict
            Domain -> ``(design, n, df)``: ``design`` is ``self.subset(condition)``'s
            design, ``n`` and ``df`` its ``len()`` and ``degf()``.

        Notes
        -----
        One ``GROUP BY by, subset_keys`` counts every domain's rows by unit (or stratum), from
        which each domain's design is made locally (:meth:`restricted`, the rule of
        :meth:`subset`); over stored replicate columns the ranks of every domain's replicate
        weights come from one grouped scan of their Gram matrices (:meth:`domain_degf`).  A
        domain the counts do not hold (its values not equal to any counted group's, or no
        rows) is left to :meth:`subset` and its own queries, which raise
        :class:`~.errors.EmptySourceError` where no row meets the condition.
        """
        by = list(by)
        frame = self.locate(self.count_rows(list(dict.fromkeys([*by, *self.subset_keys()])),
                                            self.where))
        groups = {(k if isinstance(k, tuple) else (k,)): idx for k, idx in
                  frame.groupby(by, sort=False, dropna=True).indices.items()}
        dfs = self.domain_degf(by) if conditions else None
        out = {}
        for key, condition in conditions.items():
            idx = groups.get(tuple(key))
            if idx is None:  # not counted: subset() queries (and says if no row meets it)
                sub = self.subset(condition)
                out[key] = (sub, len(sub), sub.degf())
                continue
            sub = self.restricted(condition, frame.iloc[idx].reset_index(drop=True))
            df = dfs.get(tuple(key)) if dfs is not None else None
            out[key] = (sub, len(sub), sub.degf() if df is None else df)
        return out

    def glm(self, *args, **kwargs):
        """Not pushed down: see :meth:`in_memory`."""
        raise self._needs_rows("glm()", "iterated per-row fits")

    def rake(self, margins, *, tol: float = 1e-7, max_iter: int = 100, bounds=None,
             on_fail: str = "error"):
        """Rake to one- or two-way margins (R ``rake``) by IPF on the cell table; the new
        weight stays an engine expression.  See :mod:`.weighting`."""
        from .weighting import rake

        if self.rep_columns:
            raise self._needs_rows("rake() of stored replicate columns",
                                   "every replicate re-raked")
        return rake(self, margins, tol=tol, max_iter=max_iter, bounds=bounds, on_fail=on_fail)

    def poststratify(self, by, population):
        """Post-stratify (R ``postStratify``) on the cell table; see :mod:`.weighting`."""
        from .weighting import poststratify

        if self.rep_columns:
            raise self._needs_rows("poststratify() of stored replicate columns",
                                   "every replicate re-weighted")
        return poststratify(self, by, population)

    def _needs_rows(self, method: str, why: str) -> NotPushedDownError:
        return NotPushedDownError(
            f"{method} is not pushed down to {self.source.engine} (it needs {why}); select the "
            "columns you need in the query, build SurveyDesign(design.in_memory(columns)) "
            "— every row comes to Python — or use mean/total/ratio/proportion, which are "
            "pushed down.", parameter="method", value=method, hint="in_memory(columns)")

    def in_memory(self, columns) -> pd.DataFrame:
        """The design columns and ``columns`` of every row, collected into a pandas frame (an
        explicit collection, with a warning of its size): for what is not pushed down."""
        cols = list(dict.fromkeys(self.design_columns() + as_list(columns)))
        self.check_columns(cols, role="analysis")
        warnings.warn(f"collecting {self.n_rows} rows x {len(cols)} columns of "
                      f"{self.source.label} into memory.", SurveyWarning, stacklevel=2)
        q = self.source.quote
        return self.source.fetch(f"SELECT {', '.join(q(c) for c in cols)} FROM "
                                 f"{self.source.table}")

    def subset(self, condition: str):
        """Restrict estimation to rows meeting a SQL condition (defined by each kind of
        design)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def design_columns(self) -> list:
        """The columns that define the design (defined by each kind of design)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def describe(self) -> str:
        """One line saying how inference is done (defined by each kind of design)."""
        raise NotImplementedError  # pragma: no cover - abstract

    @staticmethod
    def _check_condition(condition) -> None:
        if not isinstance(condition, str):
            raise NotPushedDownError(
                "a design over an engine takes its subset as a SQL condition on its columns "
                f"(e.g. \"sch_wide = 'Yes'\"), not a {type(condition).__name__}; put a mask "
                "in a column of the source and subset on it.", parameter="condition",
                value=type(condition).__name__)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"
