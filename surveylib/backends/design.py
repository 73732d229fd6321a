"""Survey designs over data that stay in an engine (DuckDB in-process, Spark on a cluster).

A :class:`LazySurveyDesign` takes the arguments of :class:`~surveylib.SurveyDesign`; what it
keeps in Python is small:

* the **unit table**, one row per PSU of the finest stage (``GROUP BY strata, psu, fpc``),
  from which an ordinary in-memory design over the *units* is built — its stages, lonely-PSU
  checks, degrees of freedom, weights from an fpc and replicate factors are those of
  :class:`~surveylib.SurveyDesign`, unchanged;
* the SQL predicates of ``subset``.

Each estimate sends one ``GROUP BY unit, domain`` per variable group to the engine
(:mod:`.queries`), maps the returned rows to the units, and hands the per-(unit, cell) sums to
the same variance engine the in-memory path uses (``engine.vcov_sums``; see
:mod:`.estimate`).  The rows are never collected to Python.  Under element sampling (no
``psu=``) every row is its own unit: the design keeps one row per stratum and each estimate
returns per-(stratum, domain) sums and Gram matrices instead of per-unit sums, for any number
of rows (:mod:`._element`); only replicates made from it (``to_replicates``) bring back one
row per respondent, up to ``max_units``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import LONELY_PSU_RULES, as_list, check_option
from ..design import SurveyDesign
from ..errors import SurveyDesignError, WeightError
from ._element import (
    ElementDesign,
    element_design,
    row_units,
    strata_table,
    stratum_index,
)
from .base import LazyDesign
from .errors import BackendError, EmptySourceError, NotPushedDownError
from .queries import num, present
from .sources import open_source

ONE = "__surveylib_one"
#: the unit table's column of each unit's first row in the source
ORDER = "__surveylib_first_row"
#: the column of a count's unit (row of the unit table, or stratum) once located
UNIT = "__surveylib_unit"


class LazySurveyDesign(LazyDesign):
    """A design whose data stay in DuckDB or Spark (same arguments as ``SurveyDesign``).

    Parameters
    ----------
    data : str, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        A Parquet or CSV path, a SQL query or table name (with ``connection``), a DuckDB
        relation, or a Spark DataFrame.
    strata, psu, weights, probs, fpc, nest, lonely_psu
        As :class:`~surveylib.SurveyDesign`.
    connection : duckdb.DuckDBPyConnection, optional
        The connection holding the tables a query or table name refers to.
    max_units : int
        Most units (PSUs) whose sums may come back to Python (rows, for replicates made from
        a design without ``psu=``).

    Examples
    --------
    >>> import duckdb
    >>> from surveylib.backends import LazySurveyDesign
    >>> con = duckdb.connect()
    >>> _ = con.sql("CREATE TABLE t AS SELECT * FROM (VALUES (1, 1, 1.0, 2.0), (1, 2, 3.0, 2.0),"
    ...             " (2, 3, 2.0, 3.0), (2, 4, 6.0, 3.0)) v(h, psu, y, w)")
    >>> d = LazySurveyDesign("t", connection=con, strata="h", psu="psu", weights="w")
    >>> round(float(d.mean("y").estimate.iloc[0]), 4)   # (2*1 + 2*3 + 3*2 + 3*6) / 10
    3.2
    """

    def design_columns(self) -> list:
        """The columns that define the design (strata, PSUs, weights, fpc)."""
        return [c for c in (self.strata_column, self.weights_column, self.probs_column) if c] \
            + list(self.psu_columns) + list(self.fpc_columns)

    def __init__(self, data, *, strata=None, psu=None, weights=None, probs=None, fpc=None,
                 nest: bool = False, lonely_psu: str = "fail", connection=None,
                 max_units: int = 1_000_000):
        check_option(lonely_psu, LONELY_PSU_RULES, name="lonely_psu")
        if weights is not None and probs is not None:
            raise SurveyDesignError("give weights= or probs=, not both.")
        if isinstance(strata, (list, tuple)):
            if len(strata) != 1:
                raise SurveyDesignError("strata= takes one column (first-stage strata).",
                                        parameter="strata", value=strata)
            strata = strata[0]
        self.source = src = open_source(data, connection=connection)
        self.strata_column = strata
        self.psu_columns = tuple(as_list(psu))
        self.fpc_columns = tuple(as_list(fpc))
        self.weights_column, self.probs_column = weights, probs
        self.max_units = int(max_units)
        self.nest = bool(nest)
        for role, cols in (("strata", [strata] if strata else []), ("psu", self.psu_columns),
                           ("weights", [c for c in (weights, probs) if c]),
                           ("fpc", self.fpc_columns)):
            self.check_columns(cols, role=role, numeric=role in ("weights", "fpc"))
        q = src.quote
        wcol = weights if weights is not None else probs
        if weights is not None:
            self.sampling_weight_sql = num(q, weights)
        elif probs is not None:
            self.sampling_weight_sql = f"(1.0 / {num(q, probs)})"
        else:
            self.sampling_weight_sql = "1.0"
        self.element = not self.psu_columns
        self.unit_keys = ([strata] if strata else []) + list(self.psu_columns)
        units, stats = self._profile(wcol)  # one scan: units, row count and weight checks
        if strata and not self.element and not units.duplicated(list(self.psu_columns)).any():
            # the PSU ids alone name the units (ids not reused across strata): queries group
            # by them and rows are matched to units on them -- one key less to hash per row
            # (the mean's query at 10M rows: 0.178 -> 0.142 s of CPU)
            self.unit_keys = list(self.psu_columns)
        self.n_rows = int(stats["n"])
        if wcol is not None:
            self._check_weights(wcol, "weights" if weights is not None else "probs", stats)
        # the in-memory side: the design of the unit table, or for element sampling under
        # Taylor one row per stratum (._element)
        self.local: SurveyDesign | ElementDesign
        if self.element:
            self.local = element_design(self, units, weights=weights, probs=probs,
                                        lonely_psu=lonely_psu)
        else:
            if weights is not None or probs is not None:
                units[ONE] = 1.0
            self.local = SurveyDesign(
                units, strata=strata, psu=list(self.psu_columns) or None,
                weights=ONE if (weights is not None or probs is not None) else None,
                fpc=list(self.fpc_columns) or None, nest=nest, lonely_psu=lonely_psu)
        self.units = units
        self.filters: tuple = ()
        self.unit_weight = np.asarray(self.local.base_weights, dtype=float)
        self.weight_source = (f"weights {weights!r}" if weights is not None else
                              f"probs {probs!r}" if probs is not None else
                              self.local.weight_source)

    # ----- construction ---------------------------------------------------------------------
    def _check_weights(self, col: str, kind: str, r) -> None:
        if int(r["missing"] or 0):
            raise WeightError(f"{kind} column {col!r} has {int(r['missing'])} missing value(s) "
                              "in " + self.source.label + "; give every respondent a weight or "
                              "drop those rows in the query.", parameter=kind, value=col)
        if not np.isfinite(float(r["hi"])):
            raise WeightError(f"{kind} column {col!r} has infinite values; check the column.",
                              parameter=kind, value=col)
        if int(r["bad"] or 0):
            raise WeightError(f"{kind} column {col!r} has {int(r['bad'])} non-positive "
                              f"value(s) (min {float(r['lo']):g}); sampling weights must be > 0.",
                              parameter=kind, value=col)
        if kind == "probs" and float(r["hi"]) > 1:
            raise SurveyDesignError(f"probs column {col!r} has values above 1 (max "
                                    f"{float(r['hi']):g}); did you mean weights=?",
                                    parameter="probs", value=col)

    def _profile(self, wcol):
        """The unit table (one row per unit of the finest stage with its strata, ids and fpc)
        and, in the same scan, the row count and the weight column's checks."""
        src, q = self.source, self.source.quote
        cols = self.unit_keys + [c for c in self.fpc_columns if c not in self.unit_keys]
        stats = {"n": "COUNT(*)"}
        if wcol is not None:
            ok, v = present(q, wcol), num(q, wcol)
            stats.update(missing=f"SUM(CASE WHEN NOT {ok} THEN 1 ELSE 0 END)",
                         bad=f"SUM(CASE WHEN {ok} AND {v} <= 0 THEN 1 ELSE 0 END)",
                         lo=f"MIN({v})", hi=f"MAX({v})")
        if self.element:  # one row per stratum
            summary, total = strata_table(self, stats)
            if not total["n"]:
                raise EmptySourceError(f"{src.label} has no rows; a design needs respondents.",
                                       parameter="data", value=src.label)
            return summary, total
        else:  # with each unit's first row (the order R numbers replicates by)
            stats[ORDER] = "MIN(__surveylib_row)"
            agg = ", ".join(f"{e} AS {name}" for name, e in stats.items())
            key = ", ".join(q(c) for c in cols)
            row = ("monotonically_increasing_id()" if src.engine == "spark"
                   else "row_number() OVER ()")
            used = ", ".join(q(c) for c in dict.fromkeys(cols + ([wcol] if wcol else [])))
            summary = src.fetch(f"SELECT {key}, {agg} FROM (SELECT {used}, {row} AS "
                                f"__surveylib_row FROM {src.table}) s GROUP BY {key}")
        total = {"n": summary["n"].sum()} if len(summary) else {"n": 0}
        if wcol is not None and len(summary):
            total.update(missing=summary["missing"].sum(), bad=summary["bad"].sum(),
                         lo=summary["lo"].min(), hi=summary["hi"].max())
        if not total["n"]:
            raise EmptySourceError(f"{src.label} has no rows; a design needs respondents.",
                                   parameter="data", value=src.label)
        if len(summary) > self.max_units:
            raise NotPushedDownError(
                f"the design has {len(summary)} PSUs, more than max_units="
                f"{self.max_units}; raise max_units if the per-PSU sums fit in memory.",
                parameter="max_units", value=self.max_units)
        return summary[cols + [ORDER]].reset_index(drop=True), total

    # ----- the interface the estimators use ---------------------------------------------------
    @property
    def weight_sql(self) -> str:
        """Each row's weight (SQL): the sampling weight, or after a weighting step the weight
        before it times the factor of the row's cell (reading it fits the step; see
        :class:`~.weighting.CellWeighting`)."""
        if self.adjustments:
            return self.adjustments[0].weight_sql
        return self.sampling_weight_sql

    def fit_weights(self) -> LazySurveyDesign:
        """Fit the weighting step now (``rake()`` and ``poststratify()`` record it and fit it
        at the first estimate, from that estimate's own scan): one scan of the (PSU, cell)
        table, so that errors that depend on the data (a level absent from a margin, raking
        not converging) are raised here.  Returns the design itself; without a step it does
        nothing: ``d.rake(margins).fit_weights()``."""
        for adj in self.adjustments:
            adj.fit()
        return self

    @property
    def engine(self):
        """The variance engine over the units (that of the in-memory design of the units)."""
        return self.local.engine

    @property
    def lonely_psu(self) -> str:
        return self.local.lonely_psu

    def degf(self):
        """Degrees of freedom (R ``degf``), from the units with rows in the design."""
        return self.local.degf()

    def describe(self) -> str:
        text = self.local.describe().replace(self.local.weight_source, self.weight_source)
        text = text.split("; subset of")[0]
        if self.filters:
            text += "; subset " + " and ".join(self.filters)
        for adj in self.adjustments:
            text += "; " + adj.describe()
        return text + f"; data in {self.source.engine} ({self.source.label})"

    def unit_index(self, frame: pd.DataFrame) -> np.ndarray:
        """The unit (row of the unit table) of every row of a query result."""
        if self.element and self.engine.kind == "taylor":  # the unit table holds the strata
            return stratum_index(self, frame)
        if self.element:  # units of a stratum are exchangeable: the r-th row is its r-th unit
            h = self.strata_column
            if h is None:
                return np.arange(len(frame))
            starts = self.units.groupby(h, sort=False).cumcount().eq(0)
            first = pd.Series(np.flatnonzero(starts), index=self.units[h][starts].to_numpy())
            order = frame[h].reset_index(drop=True)
            rank = order.groupby(order, sort=False).cumcount().to_numpy()
            return first.reindex(order.to_numpy()).to_numpy().astype(np.int64) + rank
        keys = self.unit_keys
        idx = pd.MultiIndex.from_frame(self.units[keys]).get_indexer(
            pd.MultiIndex.from_frame(frame[keys]))
        if (idx < 0).any():
            raise BackendError(f"{self.source.label} changed since the design was built: "
                               "some PSUs are new; build the design again.",
                               parameter="data", value=self.source.label)
        return idx

    def subset(self, condition: str) -> LazySurveyDesign:
        """Restrict estimation to rows meeting a SQL condition, keeping the whole design for
        variances (R ``subset``); e.g. ``d.subset("age >= 18 AND region = 'North'")``."""
        self._check_condition(condition)
        where = self.evolve(filters=self.filters + (condition,)).where
        return self.restricted(condition, self.count_rows(self.subset_keys(), where))

    def subset_keys(self) -> list:
        """The columns a subset's design is made from: the rows of each unit (each stratum
        under element sampling, whose rows are not enumerated)."""
        if self.element:
            return [self.strata_column] if self.strata_column else []
        return list(self.unit_keys)

    def locate(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` (counts by :meth:`subset_keys`) with the unit of each (its row of the unit
        table; the stratum under element sampling) in a column :data:`UNIT`, found once for
        the subsets of many domains (:meth:`restricted` reads it)."""
        if self.element and self.engine.kind != "taylor":  # counts by stratum: ranked within
            return rows
        return rows.assign(**{UNIT: self.unit_index(rows)})

    def restricted(self, condition: str, rows: pd.DataFrame) -> LazySurveyDesign:
        """The subset of the rows meeting ``condition`` made from ``rows``, their counts by
        :meth:`subset_keys` (no query): the units (strata) with rows are the in-memory
        design's active ones, so its ``degf()`` is R's ``degf`` of the subset."""
        new = self.evolve(filters=self.filters + (condition,))
        src = self.source
        n = int(rows["n"].sum())
        if not n:
            raise EmptySourceError(f"the subset {condition!r} of {src.label} contains no rows.",
                                   parameter="condition", value=condition)
        new.remember_len(n)
        if self.element:
            h = self.strata_column
            if self.engine.kind == "taylor":  # rows per stratum
                local = self.local
                assert isinstance(local, ElementDesign), "Taylor element design"  # internal invariant, not user input
                counts = np.zeros(len(self.units))
                if h is None:
                    counts[0] = n
                else:
                    counts[self.units_of(rows)] = rows["n"].to_numpy(float)
                return new.evolve(local=local.with_counts(np.minimum(counts,
                                                                     local.active_counts)))
            # replicates of an element design: the first rows of each stratum
            if h is None:
                active = np.arange(len(self.units)) < n
            else:
                rank = self.units.groupby(h, sort=False).cumcount().to_numpy()
                limit = pd.Series(rows["n"].to_numpy(), index=rows[h].to_numpy())
                active = rank < limit.reindex(self.units[h].to_numpy()).fillna(0).to_numpy()
        else:
            active = np.zeros(len(self.units), dtype=bool)
            active[self.units_of(rows)] = True
        local = self.unit_design.with_active(active & np.asarray(self.unit_design.active))
        return new.evolve(local=local)

    def units_of(self, rows: pd.DataFrame) -> np.ndarray:
        """The unit of every row of ``rows``: its column :data:`UNIT` (:meth:`locate`), else
        :meth:`unit_index`."""
        return rows[UNIT].to_numpy() if UNIT in rows else self.unit_index(rows)

    def to_replicates(self, method: str, replicates=None, seed=None, rho=None, *, mse=False):
        """Replicate weights generated from the PSU ids (R ``as.svrepdesign``): the P x R
        factors are made locally from the unit table, ordered by first appearance of the
        PSUs in the source; the engine sums per PSU and the factors apply to those sums.

        Under element sampling (no ``psu=``) each row needs its factor, so the rows come back
        to Python (one per respondent, at most ``max_units``) and are numbered, within their
        stratum, in the order the engine returns them: jackknife variances do not depend on
        it, but bootstrap draws for a given seed differ from the in-memory design's."""
        if self.adjustments:
            raise NotPushedDownError(
                "replicates of a weighted design re-weight every replicate; that is not pushed "
                "down: make the replicates first, or build SurveyDesign(design.in_memory(...)).",
                parameter="method", value=method)
        ordered = row_units(self) if self.element else self._ordered()
        rep = ordered.unit_design.to_replicates(method, replicates, seed, rho, mse=mse)
        return ordered.evolve(local=rep)

    @property
    def unit_design(self) -> SurveyDesign:
        """The in-memory design of the unit table (every design but an element design under
        Taylor, whose in-memory side is one row per stratum)."""
        local = self.local
        assert isinstance(local, SurveyDesign), "an element design has no unit table"  # internal invariant, not user input
        return local

    def _ordered(self):
        """This design with its unit table in order of first appearance in the source (the
        order R's replicate constructors number PSUs and strata by; each unit's first row was
        found by the scan that built the unit table)."""
        if self.element:  # units of a stratum are exchangeable: kept in stratum order
            return self
        perm = np.argsort(self.units[ORDER].to_numpy(), kind="stable")
        units = self.units.iloc[perm].reset_index(drop=True)
        new = self.evolve(units=units)
        # the in-memory design of the units, rebuilt in the new order (its stages follow rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rebuilt = SurveyDesign(
                units, strata=self.strata_column, psu=list(self.psu_columns),
                weights=ONE if ONE in units else None, fpc=list(self.fpc_columns) or None,
                nest=self.nest, lonely_psu=self.lonely_psu)
        active = np.asarray(self.unit_design.active)[perm]
        return new.evolve(local=rebuilt.with_active(active),
                         unit_weight=np.asarray(rebuilt.base_weights, dtype=float))

