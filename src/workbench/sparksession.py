"""One Spark session for the workbench (Spark 会话): local mode by default, a cluster on request.

Spark is the engine for more than one machine (``workbench grade --engine spark``); the
parity tests run it in local mode. The session is small on purpose: two local cores, few
shuffle partitions (the default 200 would make a small city take minutes), no web UI, no
progress bars, errors only — a grading run's log stays readable. Dates are compared in
UTC so that ``CAST(timestamp AS DATE)`` means the same day as in DuckDB.

``pyspark`` (PyPI) and Java 17+ (Debian ``default-jre-headless``, installed by ``./run``)
are needed only when Spark is asked for: importing this module does not import pyspark.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

LOCAL = "local[2]"
#: Shuffle partitions of a local session: a few per core keeps a small city quick.
LOCAL_SHUFFLE_PARTITIONS = 4


class SparkUnavailable(WorkbenchError):
    """Spark was asked for but pyspark or Java is missing: says what to install."""


def session(master: str = LOCAL, app: str = "workbench") -> SparkSession:
    """The process's Spark session on ``master`` (created once, then reused).

    Args:
        master: ``local[N]`` (this machine), a cluster master URL (``spark://host:7077``,
            ``yarn``, ``k8s://…``), or a Spark Connect address (``sc://host:15002``).
        app: the application name shown by the cluster.

    Raises:
        SparkUnavailable: pyspark is not installed, or (for a local or classic master) no
            ``java`` is on the PATH.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "the Spark engine needs pyspark: pip install 'pyspark>=4,<5' (./run setup does)"
        ) from None
    if master.startswith("sc://"):
        with pandas3_tolerated():
            return SparkSession.builder.remote(master).appName(app).getOrCreate()
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkUnavailable(
            "the Spark engine needs Java 17 or later: apt-get install default-jre-headless "
            "(./run setup does) or set JAVA_HOME"
        )
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        # Python workers run this interpreter (the venv with workbench and the model's
        # libraries), not whatever python3 is first on the PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1")
    with pandas3_tolerated():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_pandas(frame) -> pd.DataFrame:
    """Collect a Spark DataFrame to the driver as pandas (through Arrow).

    pyspark 4.3 warns on every collect that it "does not yet fully support pandas >= 3";
    the columns collected here are plain doubles, strings, booleans and one date, which
    convert exactly (the parity test compares them with DuckDB's), so the warning is muted
    for this call only.
    """
    with pandas3_tolerated():
        return frame.toPandas()


@contextmanager
def pandas3_tolerated() -> Iterator[None]:
    """Mute pyspark 4.3's warnings about pandas 3 (see :func:`to_pandas`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "PySpark does not yet fully support pandas", category=FutureWarning
        )
        # its Arrow conversion still passes pandas 3's deprecated copy= (harmless)
        warnings.filterwarnings("ignore", "The copy keyword is deprecated", module="pyspark")
        yield
