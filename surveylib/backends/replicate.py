"""Designs with stored replicate-weight columns whose data stay in an engine (R ``svrepdesign``
over a database; the ACS person file's 80 columns are the typical case).

Each estimate is one ``GROUP BY domain[, level]`` that sums, besides the full-sample sums,
``SUM(w_r * y)`` and ``SUM(w_r * x)`` for every replicate column ``r``: an R x K table per
call.  The replicate statistics ``theta_r = sum(w_r y) / sum(w_r x)`` (totals:
``sum(w_r y)``) and their covariance ``scale * sum_r rscales_r (theta_r - c)(theta_r - c)'``
are then the variance engine's (:class:`~surveylib.variance.engine.ReplicateEngine`,
``vcov_replicates``), as in memory.

Degrees of freedom are R's ``degf``: the rank of the replicate weights of the rows in the
design minus one.  The rank is that of the R x R Gram matrix ``sum_i w_ri w_rj`` (one scan,
``R (R + 1) / 2`` sums), columns scaled to unit norm, counting eigenvalues above ``1e-14``
times the largest -- the rule the in-memory design uses for tall columns (the square of its
``1e-7`` singular-value threshold).
"""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from .._validation import as_list
from ..errors import ReplicateError, SurveyDesignError
from ..replicate import replicate_scales
from ..variance.engine import ReplicateEngine
from ..variance.replicate import ReplicateWeights
from .base import LazyDesign
from .errors import EmptySourceError
from .queries import conjunction, num
from .sources import open_source

#: Gram matrices with more replicate columns than this are summed in several scans
GRAM_BLOCK = 40


def gram_rank(g: np.ndarray) -> int:
    """Rank of the columns whose Gram matrix is ``g`` (columns scaled to unit norm;
    eigenvalues above ``1e-14`` times the largest)."""
    norms = np.sqrt(np.clip(np.diag(g), 0.0, None))
    inv = 1.0 / np.where(norms > 0, norms, 1.0)
    ev = np.linalg.eigvalsh(g * inv[:, None] * inv[None, :])
    top = ev.max() if len(ev) else 0.0
    return int((ev > top * 1e-14).sum()) if top > 0 else 0


class LazyReplicateDesign(LazyDesign):
    """A design with stored replicate weights whose data stay in DuckDB or Spark (the
    arguments of :class:`~surveylib.replicate.ReplicateDesign`).

    Parameters
    ----------
    data : str, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        As :class:`~surveylib.backends.LazySurveyDesign`.
    weights : str
        The full-sample weight column.
    rep_weights : str or list of str
        Replicate-weight columns (analysis weights, R ``combined.weights=TRUE``): a glob
        matched against the source's columns in order, or a list.
    type, scale, rscales, mse, rho, df
        As :class:`~surveylib.replicate.ReplicateDesign` (R ``svrepdesign``).
    connection : duckdb.DuckDBPyConnection, optional
        The connection holding the tables a query or table name refers to.

    Notes
    -----
    Fay's ``rho`` is not checked against the columns (the in-memory design checks the first
    10,000 rows' ratios ``w_r / w``).

    Examples
    --------
    >>> import duckdb
    >>> from surveylib.backends import LazyReplicateDesign
    >>> con = duckdb.connect()
    >>> _ = con.sql("CREATE TABLE t AS SELECT * FROM (VALUES (1.0, 1.0, 0.0, 1.5, 1.5),"
    ...             " (2.0, 1.0, 1.5, 0.0, 1.5), (4.0, 1.0, 1.5, 1.5, 0.0)) v(y, w, r1, r2, r3)")
    >>> d = LazyReplicateDesign("t", connection=con, weights="w", rep_weights="r*",
    ...                         type="JK1", scale=2 / 3)
    >>> round(float(d.mean("y").se.iloc[0]), 6)   # the delete-one jackknife SE of the mean
    0.881917
    """

    element = False
    unit_keys: list = []

    def __init__(self, data, *, weights, rep_weights, type, scale=None, rscales=None,
                 mse: bool = False, rho=None, df=None, connection=None):
        if weights is None:
            raise ReplicateError("weights= is required: name the full-sample weight column.",
                                 parameter="weights", value=None)
        self.source = src = open_source(data, connection=connection)
        self.check_columns([weights], role="weights", numeric=True)
        cols = self._rep_columns(rep_weights)
        if weights in cols:
            raise ReplicateError(
                f"rep_weights matches the full-sample weight column {weights!r}; use a pattern "
                "that selects only the replicate columns.", parameter="rep_weights",
                value=rep_weights)
        self.check_columns(cols, role="replicate-weight", numeric=True)
        kind, scale, rscales = replicate_scales(type, len(cols), scale=scale, rscales=rscales,
                                                rho=rho)
        if df is not None and not float(df) > 0:
            raise SurveyDesignError(f"df={df!r} must be > 0, or None for the rank of the "
                                    "replicate weights minus one.", parameter="df", value=df)
        self.weights_column, self.rep_columns = weights, tuple(cols)
        self.weight_sql = num(src.quote, weights)
        self.replicates = ReplicateWeights(scale=scale, rscales=np.asarray(rscales, float),
                                           mse=bool(mse))
        self.type, self.rho, self.df_override = kind, rho, df
        self.filters: tuple = ()
        self.n_rows = self._check_values()
        self.units = pd.DataFrame(index=[0])
        self.unit_weight = np.ones(1)
        # the engine's covariance of replicate statistics (vcov_replicates) needs no rows
        self.engine = ReplicateEngine(self.replicates, weights=np.zeros(0),
                                      active=np.zeros(0, dtype=bool), df=df, type=kind)
        self.weight_source = f"weights {weights!r}"

    def _rep_columns(self, rep_weights) -> list:
        names = list(self.source.schema())
        if isinstance(rep_weights, str):
            cols = [c for c in names if fnmatch.fnmatchcase(str(c), rep_weights)]
            if not cols:
                raise ReplicateError(
                    f"rep_weights={rep_weights!r} matches no column of {self.source.label}; "
                    "give a glob such as 'repw*' or a list of the replicate-weight columns.",
                    parameter="rep_weights", value=rep_weights)
            return cols
        cols = as_list(rep_weights)
        if not cols:
            raise ReplicateError("rep_weights= names no columns; give a glob such as 'repw*' "
                                 "or a list.", parameter="rep_weights", value=rep_weights)
        return cols

    def _check_values(self) -> int:
        """One scan: the row count, and no missing or non-finite weight of any column.

        A weight is finite when it lies between -/+ the largest double: NULL fails the test,
        and so do infinities and NaN (both engines order NaN above every number).  DuckDB
        answers this comparison from a Parquet file's or a table's column statistics without
        reading the rows; elsewhere it is one comparison per weight and row."""
        src, q = self.source, self.source.quote
        cols = [self.weights_column, *self.rep_columns]
        top = "1.7976931348623157e308"
        bad = ", ".join(f"SUM(CASE WHEN {num(q, c)} BETWEEN -{top} AND {top} THEN 0 ELSE 1 "
                        f"END) AS b{i}" for i, c in enumerate(cols))
        r = src.fetch(f"SELECT COUNT(*) AS n, {bad} FROM {src.table}").iloc[0]
        if not int(r["n"]):
            raise EmptySourceError(f"{src.label} has no rows; a design needs respondents.",
                                   parameter="data", value=src.label)
        counts = np.array([int(r[f"b{i}"] or 0) for i in range(len(cols))])
        if counts[0]:
            raise ReplicateError(
                f"weights column {self.weights_column!r} has {counts[0]} missing or infinite "
                f"value(s) in {src.label}; give every respondent a weight.",
                parameter="weights", value=self.weights_column)
        if counts.any():
            which = [cols[j] for j in np.flatnonzero(counts)]
            raise ReplicateError(
                f"replicate-weight column(s) {which[:10]} have {int(counts.sum())} missing or "
                "infinite value(s); every respondent needs every replicate weight (use 0 for "
                "a respondent dropped from a replicate).", parameter="rep_weights",
                value=which[:10])
        return int(r["n"])

    # ----- the interface the estimators use ---------------------------------------------------
    def design_columns(self) -> list:
        return [self.weights_column, *self.rep_columns]

    @property
    def n_replicates(self) -> int:
        return len(self.rep_columns)

    def unit_index(self, frame: pd.DataFrame) -> np.ndarray:
        """Every row of a result belongs to the one unit (replicates carry the design)."""
        return np.zeros(len(frame), dtype=np.int64)

    def describe(self) -> str:
        text = (f"replicate weights: {self.n_replicates} columns ({self.rep_columns[0]} ... "
                f"{self.rep_columns[-1]}), type {self.type}; {self.weight_source}")
        if self.filters:
            text += "; subset " + " and ".join(self.filters)
        return text + f"; data in {self.source.engine} ({self.source.label})"

    def subset(self, condition: str) -> LazyReplicateDesign:
        """Restrict estimation to rows meeting a SQL condition (R ``subset``)."""
        self._check_condition(condition)
        new = self.evolve(filters=self.filters + (condition,))
        src = self.source
        cnt = src.fetch(f"SELECT COUNT(*) AS n FROM {src.table} WHERE {new.where}")
        if not int(cnt["n"].iloc[0]):
            raise EmptySourceError(f"the subset {condition!r} of {src.label} contains no rows.",
                                   parameter="condition", value=condition)
        return new

    def degf(self):
        """Rank of the replicate weights of the rows in the design minus one (R ``degf``),
        or the ``df`` given."""
        if self.df_override is not None:
            d = float(self.df_override)
            return int(d) if d.is_integer() else d
        ranks = self.replicate_ranks([], self.where)
        return int(ranks["rank"].iloc[0]) - 1

    def domain_degf(self, by: list) -> dict:
        """Each domain's ``subset(...).degf()`` from one grouped scan of the Gram matrices
        (keyed by the tuple of the domain's values)."""
        ranks = self.replicate_ranks(list(by), self.where)
        keys = ranks[list(by)].itertuples(index=False, name=None)
        if self.df_override is not None:
            return dict.fromkeys(keys, self.degf())
        return {k: int(r) - 1 for k, r in zip(keys, ranks["rank"], strict=True)}

    def replicate_ranks(self, by: list, where: str) -> pd.DataFrame:
        """Rank of the replicate weights of the rows meeting ``where`` in each domain of
        ``by`` (a column ``rank`` beside the domain columns), from their Gram matrices."""
        cache = self.__dict__.setdefault("rank_cache", {})
        key = (tuple(by), where)
        if key in cache:
            return cache[key]
        src, q = self.source, self.source.quote
        R = self.n_replicates
        pairs = [(i, j) for i in range(R) for j in range(i, R)]
        cols = [num(q, c) for c in self.rep_columns]
        keys = [q(b) for b in by]
        frames = []
        for a in range(0, len(pairs), GRAM_BLOCK * (GRAM_BLOCK + 1) // 2):
            block = pairs[a:a + GRAM_BLOCK * (GRAM_BLOCK + 1) // 2]
            sums = ", ".join(f"SUM({cols[i]} * {cols[j]}) AS g{i}_{j}" for i, j in block)
            sql = f"SELECT {', '.join(keys + [sums])} FROM {src.table} WHERE {where}"
            if keys:
                sql += f" GROUP BY {', '.join(keys)}"
            f = src.fetch(sql)
            frames.append(f.set_index(by) if by else f)
        whole = pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]
        ii = np.array([i for i, _ in pairs])
        jj = np.array([j for _, j in pairs])
        names = [f"g{i}_{j}" for i, j in pairs]
        ranks = []
        for row in whole[names].to_numpy(float):
            g = np.zeros((R, R))
            g[ii, jj] = row
            g[jj, ii] = row
            ranks.append(gram_rank(g))
        out = whole.reset_index() if by else pd.DataFrame(index=[0])
        out = out[list(by)].copy() if by else out
        out["rank"] = ranks
        cache[key] = out
        return out

    def domain_df(self, by: list, ok: str) -> pd.DataFrame:
        """Each domain's degrees of freedom: the rank of its rows' replicate weights - 1."""
        ranks = self.replicate_ranks(by, conjunction(self.filters + (ok,)))
        if self.df_override is not None:
            return ranks.assign(rank=float(self.df_override) + 1)
        return ranks
