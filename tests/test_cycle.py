"""The monthly cycle (`workbench demo`) end to end on a small city, two months.

Every stage notebook runs through Papermill in a private workspace; the test checks what
a user finds afterwards: signed grade folders, a replayable draw, evaluations, the
results of the first month's plan fed into the second month's ingest, MLflow runs, and
an index of leadership reports.
"""

import pandas as pd
import pytest

from workbench import cli, cycle, governance
from workbench.workspace import integrity

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]


def test_cycle_months_end_the_month_before_the_data():
    assert cycle.cycle_months("2026-10-31", 6) == (
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
    )
    assert cycle.cycle_months("2026-01-15", 2) == ("2025-11", "2025-12")
    with pytest.raises(ValueError, match="at least one month"):
        cycle.cycle_months("2026-10-31", 0)


@pytest.mark.slow
def test_demo_runs_two_months_through_every_stage(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "pyproject.toml").write_text("# test home\n")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv(integrity.KEY_ENV_FILE, str(home / ".workbench" / "signing.key"))
    monkeypatch.delenv(integrity.KEY_ENV, raising=False)
    monkeypatch.delenv(governance.URI_VARIABLE, raising=False)
    args = ["demo", "--entities", "3000", "--months", "24", "--seed", "7", "--cycle", "2"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    first, second = "2026-08", "2026-09"
    assert f"[1/2 {first}] train (模型训练): done" in out
    assert f"[1/2 {first}] promote (模型晋级): done" in out
    assert f"[2/2 {second}] ingest (数据归集): done" in out
    assert "lift" in out and "reports/index.html" in out and "workbench ui" in out

    data = home / "data"
    for month in (first, second):
        assert integrity.verify(data / "grades" / month).ok
        assert (data / "sampling" / month / "demo_monthly" / "public" / "notice.html").is_file()
        assert (data / "evaluation" / month / "demo_monthly" / "summary.json").is_file()
        assert (home / "reports" / month / "leadership.pdf").is_file()
    index = (home / "reports" / "index.html").read_text(encoding="utf-8")
    assert f"{first}/leadership.html" in index and f"{second}/leadership.html" in index
    # the first plan's results are inspections of the second month's ingest
    results = pd.read_parquet(data / "evaluation" / first / "demo_monthly" / "results.parquet")
    inspections = pd.read_parquet(data / "ingest" / second / "tables" / "inspections.parquet")
    fed = inspections[inspections["plan_id"] == "demo_monthly"]
    assert len(fed) > 0 and set(fed["task_id"]) <= set(results["task_id"])
    assert cli.main(["sample", "demo_monthly", "--month", second, "--replay"]) == 0
    # MLflow holds a training run, a grading run per month and a health run per month,
    # each kind in the family's experiment for that purpose
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=governance.tracking_uri())
    stages = {}
    for purpose in governance.PURPOSES:
        experiment = client.get_experiment_by_name(governance.experiment_name("generic", purpose))
        runs = client.search_runs([experiment.experiment_id])
        stages[purpose] = sorted(r.data.tags.get("stage", "") for r in runs)
    assert stages == {
        "training": ["train"],
        "grading": ["grade", "grade"],
        "monitoring": ["health", "health"],
    }
