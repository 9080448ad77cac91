"""The indicator engine on Spark (Spark 指标计算): the DuckDB engine's SQL, transpiled.

There is one definition of every indicator: the SQL that :class:`~.engine.Engine` writes
(DuckDB dialect). This module never writes an indicator itself; it takes those very
statements (:meth:`Engine.statements`) and transpiles each with sqlglot to Spark SQL:

- ``SELECT * REPLACE (…)`` / ``* EXCLUDE (…)`` (DuckDB only) are expanded into explicit
  columns with the schemas Spark reports for the views created so far;
- decimal literals (``1.0``) become ``DOUBLE``: DuckDB averages them as doubles, Spark as
  ``DECIMAL`` with five places, which would round the peer and relation shares;
- ``CREATE TEMP TABLE`` becomes a cached temporary view.

The ingest's Parquet tables are Spark views ``raw_<table>`` (an absent event table is an
empty one, as in DuckDB), so the as-of views and the matrix are the same, row for row;
``tests/test_spark_parity.py`` checks it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from workbench import contract

from .catalog import Catalog
from .engine import _SQL_TYPES, Engine

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


def to_spark_sql(statement: str, schema: dict[str, dict[str, str]]) -> tuple[str | None, bool, str]:
    """One DuckDB statement as Spark SQL: ``(view name or None, cache it?, SELECT text)``.

    Args:
        statement: a ``CREATE [OR REPLACE] VIEW|TEMP TABLE name AS SELECT …`` or a SELECT.
        schema: column name → type of every view the statement may read (stars are
            expanded with it).
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify

    tree = sqlglot.parse_one(statement, read="duckdb")
    name, table = None, False
    if isinstance(tree, exp.Create):
        name, table = tree.this.name, tree.args.get("kind") == "TABLE"
        tree = tree.expression
    tree = qualify(
        tree,
        schema=schema,
        dialect="duckdb",
        quote_identifiers=True,
        validate_qualify_columns=False,
    )

    def decimal_as_double(node):
        if isinstance(node, exp.Literal) and node.is_number and not node.is_int:
            return exp.cast(node.copy(), "DOUBLE")
        return node

    return name, table, tree.transform(decimal_as_double).sql("spark")


class SparkEngine:
    """The indicator matrix of one ingest computed by Spark.

    Args:
        tables_dir: ``tables/`` of an ingest output; on a cluster, a path every executor
            can read (shared file system, HDFS, object store).
        spark: the session (:func:`workbench.sparksession.session`).
    """

    def __init__(self, tables_dir: str | Path, spark: SparkSession):
        self.tables_dir = Path(tables_dir)
        self.spark = spark
        self._cached: list[DataFrame] = []
        self.schema: dict[str, dict[str, str]] = {}
        for name, table in contract.TABLES.items():
            path = self.tables_dir / f"{name}.parquet"
            if path.is_file():
                frame = spark.read.parquet(str(path))
            else:
                frame = spark.createDataFrame([], schema=self._empty_schema(table))
            self._register(f"raw_{name}", frame)

    @staticmethod
    def _empty_schema(table) -> str:
        """The Spark DDL of an absent table: the same column types as DuckDB's empty view."""
        from sqlglot import exp

        return ", ".join(
            f"`{c.name}` "
            + exp.DataType.build(_SQL_TYPES.get(c.kind, "VARCHAR"), dialect="duckdb").sql("spark")
            for c in table.columns
        )

    def _register(self, name: str, frame: DataFrame) -> None:
        frame.createOrReplaceTempView(name)
        self.schema[name] = {f.name: f.dataType.simpleString() for f in frame.schema.fields}

    def frame(self, snapshot: str | pd.Timestamp, catalog: Catalog) -> DataFrame:
        """The matrix as a Spark DataFrame (lazy; same columns as :meth:`Engine.compute`)."""
        snapshot = pd.Timestamp(snapshot).normalize()
        with Engine(self.tables_dir) as duck:
            *setup, final = duck.statements(snapshot, catalog)
        for statement in setup:
            name, table, sql = to_spark_sql(statement, self.schema)
            frame = self.spark.sql(sql)
            if table:  # a TEMP TABLE is materialised once, as in DuckDB
                frame = frame.cache()
                frame.count()
                self._cached.append(frame)
            self._register(name, frame)
        return self.spark.sql(to_spark_sql(final, self.schema)[2])

    def compute(self, snapshot: str | pd.Timestamp, catalog: Catalog) -> pd.DataFrame:
        """The indicator matrix as pandas, typed and ordered as :meth:`Engine.compute`'s."""
        from workbench.sparksession import to_pandas

        return to_matrix(to_pandas(self.frame(snapshot, catalog)), catalog, snapshot)

    def close(self) -> None:
        """Drop the cached intermediate tables (the session stays for the next user)."""
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def to_matrix(frame: pd.DataFrame, catalog: Catalog, snapshot) -> pd.DataFrame:
    """Rows collected from Spark, typed as the DuckDB engine's matrix (floats, text, order)."""
    frame = frame.sort_values("uscc", kind="stable").reset_index(drop=True)
    frame["snapshot"] = pd.to_datetime(frame["snapshot"])
    for pack in catalog.packs:
        frame[f"in_{pack.id}"] = frame[f"in_{pack.id}"].astype(bool)
    for ind in catalog.all:
        if ind.categorical:
            frame[ind.id] = frame[ind.id].astype("str")
        else:
            frame[ind.id] = frame[ind.id].astype("float64")
    log.info(
        "indicators (Spark) as of %s: %d enterprises × %d indicators",
        pd.Timestamp(snapshot).date(),
        len(frame),
        len(catalog.all),
    )
    return frame


def compute_indicators(
    tables_dir: str | Path, snapshot: str, catalog: Catalog, spark: SparkSession
) -> pd.DataFrame:
    """Compute the indicator matrix of one snapshot on Spark (convenience)."""
    with SparkEngine(tables_dir, spark) as engine:
        return engine.compute(snapshot, catalog)
