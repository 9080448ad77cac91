"""Spark and DuckDB compute the same indicators (Spark local mode).

The Spark engine runs the DuckDB engine's own SQL, transpiled by sqlglot; this checks the
result on the session's small city, for one snapshot: counts exactly, everything else
within 1e-9 relative, categories and pack flags exactly.
"""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.indicators import load_catalog
from workbench.indicators.engine import Engine

pytest.importorskip("pyspark")
pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="Spark needs Java (./run setup installs it)"
)

EXACT = {"count", "exists", "distinct", "days_since", "peers_count", "related_count"}


@pytest.fixture(scope="module")
def both(clean_city, tmp_path_factory):
    """The same snapshot's matrix from DuckDB and from Spark."""
    from workbench import sparksession
    from workbench.indicators.spark import SparkEngine
    from workbench.stages import ingest

    out = tmp_path_factory.mktemp("spark-parity") / "ingest"
    report = ingest.run_ingest(clean_city, None, out)
    snapshot = str((pd.Timestamp(report["snapshot"]) - pd.offsets.MonthEnd(1)).date())
    catalog = load_catalog()
    tables = Path(report["out"]) / "tables"
    with Engine(tables) as engine:
        duck = engine.compute(snapshot, catalog)
    with SparkEngine(tables, sparksession.session()) as engine:
        spark = engine.compute(snapshot, catalog)
    return catalog, duck, spark


def test_same_enterprises_columns_and_types(both):
    _, duck, spark = both
    assert len(duck) > 0
    assert list(spark.columns) == list(duck.columns)
    assert spark["uscc"].tolist() == duck["uscc"].tolist()
    assert (spark.dtypes == duck.dtypes).all()
    assert (spark["snapshot"] == duck["snapshot"]).all()


def test_counts_exactly_and_ratios_within_1e_9(both):
    catalog, duck, spark = both
    checked = set()
    for ind in catalog.all:
        left, right = duck[ind.id], spark[ind.id]
        if ind.categorical:
            pd.testing.assert_series_equal(right, left, check_exact=True)
        elif ind.aggregation in EXACT:
            assert np.array_equal(right.to_numpy(), left.to_numpy(), equal_nan=True), ind.id
        else:
            assert np.allclose(right, left, rtol=1e-9, atol=0, equal_nan=True), ind.id
        checked.add(ind.aggregation)
    assert {"count", "ratio"} <= checked  # both kinds are in the catalog and compared


def test_the_spark_sql_is_transpiled_not_written(both):
    from workbench.indicators.spark import to_spark_sql

    statement = "CREATE OR REPLACE TEMP TABLE t AS SELECT * REPLACE (1.0 AS a) FROM v"
    name, table, sql = to_spark_sql(statement, {"v": {"a": "int", "b": "string"}})
    assert (name, table) == ("t", True)
    assert "REPLACE" not in sql.upper() and "`b`" in sql and "CAST(1.0 AS DOUBLE)" in sql
