"""Where the data stay: a DuckDB connection or a Spark session, seen through SQL.

A :class:`Source` names a table the engine can scan (a view over a DuckDB relation, a Parquet
or CSV file, a SQL query, or a Spark DataFrame) and runs the aggregation queries that
:mod:`surveylib.backends.queries` writes; only their small results come back to Python, as
pandas frames.  Both engines speak the same SQL for what surveylib asks (``SUM``, ``COUNT``,
``CASE``, ``GROUP BY``, ``CAST``, ``isnan``); the differences are the identifier quote and how a
table is registered.

:func:`open_source` picks the source from what it is given; the data are never collected.
"""

from __future__ import annotations

import itertools
import re

import pandas as pd

from .errors import SourceError

_counter = itertools.count()

#: SQL type names (lower case, prefix) that hold numbers
NUMERIC_TYPES = ("tinyint", "smallint", "int", "bigint", "hugeint", "utinyint", "usmallint",
                 "uinteger", "ubigint", "uhugeint", "float", "double", "real", "decimal",
                 "boolean", "long", "short", "byte", "numeric")


class Source:
    """A table in an engine, queried with SQL; subclasses say how to run a query.

    Attributes
    ----------
    table : str
        The SQL table expression every query reads (a quoted view name).
    label : str
        What the table is, for messages (a path, a query, ``"Spark DataFrame"``).
    engine : str
        ``"duckdb"`` or ``"spark"``.
    """

    engine = ""
    quote_char = '"'

    def __init__(self, table: str, label: str):
        self.table = table
        self.label = label

    def quote(self, name: str) -> str:
        """A quoted identifier."""
        q = self.quote_char
        return q + str(name).replace(q, q + q) + q

    def fetch(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return its (small) result as a pandas frame."""
        try:
            return self._run(sql)
        except Exception as exc:  # the engines raise many types; say which source failed
            raise SourceError(
                f"the {self.engine} query over {self.label} failed: {exc}",
                parameter="data", value=self.label,
                hint="check the connection, the path and the column names") from exc

    def _run(self, sql: str) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def schema(self) -> dict:
        """Column name -> SQL type name (lower case) of the table."""
        raise NotImplementedError  # pragma: no cover - abstract

    def is_numeric(self, column: str) -> bool:
        return self.schema()[column].startswith(NUMERIC_TYPES)


class DuckDBSource(Source):
    """A table of DuckDB (in-process; no server), queried through ``run`` (``sql -> relation``:
    a connection's ``sql``, or a relation's own ``query`` under a view name)."""

    engine = "duckdb"

    def __init__(self, run, table: str, label: str):
        super().__init__(table, label)
        self.run = run
        self._schema: dict | None = None

    def _run(self, sql: str) -> pd.DataFrame:
        return self.run(sql).df()

    def schema(self) -> dict:
        if self._schema is None:
            try:
                rel = self.run(f"SELECT * FROM {self.table} LIMIT 0")
            except Exception as exc:
                raise SourceError(f"DuckDB could not read {self.label}: {exc}",
                                  parameter="data", value=self.label,
                                  hint="check the path, the query or the table name") from exc
            self._schema = {c: str(t).lower() for c, t in zip(rel.columns, rel.types,
                                                               strict=True)}
        return self._schema


class SparkSource(Source):
    """A temporary view over a Spark DataFrame; queries run on the cluster (or local[n])."""

    engine = "spark"
    quote_char = "`"

    def __init__(self, spark, table: str, label: str, frame):
        super().__init__(table, label)
        self.spark = spark
        self.frame = frame

    def _run(self, sql: str) -> pd.DataFrame:
        result = self.spark.sql(sql)
        rows = result.collect()
        return pd.DataFrame([tuple(r) for r in rows], columns=result.columns)

    def schema(self) -> dict:
        return {c: t.lower() for c, t in self.frame.dtypes}


def _is_path(text: str) -> bool:
    return bool(re.search(r"\.(parquet|pq|csv|tsv|csv\.gz)$", text.strip(), re.IGNORECASE))


def _from_relation(rel, label: str) -> DuckDBSource:
    """A source over a DuckDB relation: every query runs on the relation's own connection."""
    name = f"surveylib_src_{next(_counter)}"
    return DuckDBSource(lambda sql: rel.query(name, sql), f'"{name}"', label)


def open_source(data, *, connection=None) -> Source:
    """The :class:`Source` behind ``data``.

    Parameters
    ----------
    data : str, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        A path to a Parquet or CSV file; a SQL query (``"SELECT ..."``) or a table name in
        ``connection``; a DuckDB relation; or a Spark DataFrame.
    connection : duckdb.DuckDBPyConnection, optional
        The DuckDB connection that holds the tables a query or table name refers to (default:
        a new in-memory connection, enough for paths).
    """
    if type(data).__module__.startswith("pyspark"):
        name = f"surveylib_src_{next(_counter)}"
        try:
            data.createOrReplaceTempView(name)
            spark = data.sparkSession
        except Exception as exc:
            raise SourceError(f"could not register the Spark DataFrame as a view: {exc}",
                              parameter="data", value="Spark DataFrame") from exc
        return SparkSource(spark, f"`{name}`", "the Spark DataFrame", data)
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - the 'scale' extra installs it
        raise SourceError("DuckDB is not installed; pip install 'surveylib[scale]'.",
                          parameter="data", value=type(data).__name__) from exc
    if isinstance(data, duckdb.DuckDBPyRelation):
        return _from_relation(data, "the DuckDB relation")
    if not isinstance(data, str):
        raise SourceError(
            f"data of type {type(data).__name__} is not a source surveylib can push work to; "
            "give a Parquet/CSV path, a SQL query, a DuckDB table name or relation, or a "
            "Spark DataFrame (in-memory frames go to SurveyDesign).",
            parameter="data", value=type(data).__name__)
    con = connection if connection is not None else duckdb.connect()
    text = data.strip()
    if _is_path(text):
        reader = "read_parquet" if re.search(r"\.(parquet|pq)$", text, re.I) else "read_csv_auto"
        sql = f"SELECT * FROM {reader}('" + text.replace("'", "''") + "')"
        label = text
    elif re.match(r"(?is)^\s*(select|with|from)\b", text):
        sql, label = text, f"the query {text[:60]!r}"
    else:
        sql, label = 'SELECT * FROM "' + text.replace('"', '""') + '"', f"table {text!r}"
    try:
        rel = con.sql(sql)
    except Exception as exc:
        raise SourceError(f"DuckDB could not open {label}: {exc}", parameter="data",
                          value=label, hint="check the path, the query or the table name"
                          ) from exc
    return _from_relation(rel, label)
