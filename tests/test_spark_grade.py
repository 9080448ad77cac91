"""``workbench grade --engine spark``: the same signed grade folder as the DuckDB engine's.

A private workspace holds the session's small city, ingested, and a champion trained on it
and promoted with permissive gates (as in test_grading.py). One month is graded twice:
by DuckDB into a side folder, by Spark (local mode; the champion through
``mlflow.pyfunc.spark_udf``) into the workspace, where ``verify`` and ``sample`` use it.
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import PERMISSIVE_GATES
from workbench import cli, governance
from workbench.stages import grade as grading
from workbench.workspace import integrity

pytest.importorskip("pyspark")
pytestmark = [
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (./run setup)"),
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    # the small city has few bad outcomes per candidate variable; its champion is a fixture
    pytest.mark.filterwarnings("ignore::workbench.scoring.scorecard.ScorecardWarning"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]

#: Run metadata: which run made the file and when, not what it says about an enterprise.
RUN_METADATA = ("run_id", "snapshot")


@pytest.fixture(scope="module")
def graded(clean_city, tmp_path_factory):
    """One month graded by DuckDB (side folder) and by Spark (the workspace's folder)."""
    from workbench.stages import ingest
    from workbench.stages import train as train_stage

    home = tmp_path_factory.mktemp("spark-grade-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        mp.setenv(integrity.KEY_ENV_FILE, str(home / ".workbench" / "signing.key"))
        mp.delenv(integrity.KEY_ENV, raising=False)
        mp.delenv(governance.URI_VARIABLE, raising=False)
        (home / "pyproject.toml").write_text("# test home\n")
        report = ingest.run_ingest(clean_city, None)
        summary = train_stage.run_training(
            train_stage.resolve(train_stage.Parameters(data=report["out"]))
        )
        gates = home / "gates.yaml"
        gates.write_text(PERMISSIVE_GATES, encoding="utf-8")
        assert governance.promote(summary["run_id"], gates=str(gates)).promoted
        month = report["snapshot"][:7]
        duck = home / "duckdb-grades"
        assert cli.main(["grade", "--month", month, "--no-notebook", "--out", str(duck)]) == 0
        argv = ["grade", "--month", month, "--no-notebook", "--engine", "spark"]
        assert cli.main([*argv, "--spark-master", "local[2]"]) == 0
        spark = home / "data" / "grades" / month
        yield {"home": home, "month": month, "duck": duck, "spark": spark}


def test_the_grade_file_equals_duckdbs_apart_from_run_metadata(graded):
    duck, spark = grading.read_grades(graded["duck"]), grading.read_grades(graded["spark"])
    assert len(spark) > 0 and tuple(spark.columns) == grading.GRADE_COLUMNS
    keep = [c for c in spark.columns if c not in RUN_METADATA]
    pd.testing.assert_frame_equal(spark[keep], duck[keep], check_exact=False, rtol=1e-9)
    for name in ("distribution", "overrides", "region_industry", "importance"):
        left = pd.read_csv(Path(graded["duck"]) / f"{name}.csv", encoding="utf-8-sig")
        right = pd.read_csv(Path(graded["spark"]) / f"{name}.csv", encoding="utf-8-sig")
        pd.testing.assert_frame_equal(right, left, check_exact=False, rtol=1e-9)


def test_verify_accepts_the_spark_folder_and_sample_draws_from_it(graded):
    assert cli.main(["verify", str(graded["spark"])]) == 0
    month = graded["month"]
    assert cli.main(["sample", "demo_monthly", "--month", month, "--no-notebook"]) == 0
    plans = list((graded["home"] / "data" / "sampling").rglob("*.csv"))
    assert plans, "sample wrote no plan"
