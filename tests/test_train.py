"""Training on generated cities: out-of-time validation, grade order, MLflow round trip."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from workbench import cli, governance, labels, synth
from workbench.indicators import load_catalog
from workbench.panel import build_panel, latest_labelled_snapshot, month_ends
from workbench.train import train_family

DATA_SNAPSHOT = synth.DEFAULT_END


@pytest.fixture(scope="module")
def city_panel(city_20k):
    base = city_20k
    definition = labels.load_label_definition()
    last = latest_labelled_snapshot(DATA_SNAPSHOT, definition)
    snapshots = month_ends(str((last - pd.DateOffset(months=12)).date()), str(last.date()))
    return build_panel(
        base / "ingest" / "tables", snapshots, load_catalog(), definition, DATA_SNAPSHOT
    )


@pytest.mark.parametrize("scheme", ["national_4", "five_class"])
def test_out_of_time_validation_and_grade_order(city_panel, scheme):
    result = train_family(city_panel, load_catalog(), scheme_id=scheme)
    m = result.metrics
    valid_months = set(result.validation["snapshot"].dt.strftime("%Y-%m"))
    train_months = set(result.params["train_snapshots"])
    assert max(train_months) < min(result.params["valid_snapshots"])  # out of time
    assert len(valid_months) == 3
    assert m["valid_auc"] > 0.65 and m["valid_ks"] > 0.2
    assert m["psi_score"] < 0.1
    table = result.grade_table
    assert list(table["grade"]) == list(result.model.scheme.scheme.codes)
    assert table["bad_rate"].is_monotonic_increasing and m["grades_monotone"] == 1.0, table


def test_points_table_carries_chinese_names(city_panel):
    result = train_family(city_panel, load_catalog())
    assert result.points_table["名称"].notna().all()
    assert set(result.points_table["Variable"]) == set(result.model.features)


def test_train_promote_and_score_in_a_new_process(tmp_path, capsys):
    """The README flow on the session's small city: train, promote, load @champion."""
    from workbench.indicators.stage import latest_ingest
    from workbench.ingest import resolve_parameters, run_ingest

    params = resolve_parameters()
    run_ingest(params.data, params.snapshot, params.out)
    out = tmp_path / "model"
    assert (
        cli.main(["train", "--data", str(latest_ingest()), "--out", str(out), "--no-notebook"]) == 0
    )
    summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
    run_id = summary["run_id"]
    gates = tmp_path / "gates.yaml"
    gates.write_text(
        "auc_min: 0.5\nks_min: 0.0\npsi_max: 0.5\ngrades_monotone: false\nmax_missing_share: 1.0\n",
        encoding="utf-8",
    )
    assert cli.main(["promote", run_id, "--gates", str(gates)]) == 0
    assert "champion" in capsys.readouterr().out
    assert governance.champion_version("generic") == summary["version"]
    validation = pd.read_parquet(out / "validation.parquet")
    panel_rows = tmp_path / "rows.parquet"
    # score the validation rows again from the registry, in a fresh interpreter
    from workbench.model import GradingModel

    model = GradingModel.load(out / "model.pkl")
    frame = _validation_features(out, model)
    frame.to_parquet(panel_rows)
    code = (
        "import sys, pandas as pd, mlflow\n"
        "from workbench import governance\n"
        "mlflow.set_tracking_uri(governance.tracking_uri())\n"
        "m = mlflow.pyfunc.load_model('models:/workbench-generic@champion')\n"
        "out = m.predict(pd.read_parquet(sys.argv[1]))\n"
        "out.to_parquet(sys.argv[2])\n"
    )
    result_path = tmp_path / "scored.parquet"
    subprocess.run([sys.executable, "-c", code, str(panel_rows), str(result_path)], check=True)
    scored = pd.read_parquet(result_path)
    assert scored["model_grade"].tolist() == validation["model_grade"].tolist()
    assert scored["score"].round(6).tolist() == validation["score"].round(6).tolist()


def _validation_features(out, model):
    """Rebuild the validation rows' features from the panel the stage used."""
    from workbench.indicators import Engine
    from workbench.indicators.stage import latest_ingest

    validation = pd.read_parquet(out / "validation.parquet")
    frames = []
    with Engine(latest_ingest() / "tables") as engine:
        for snapshot, part in validation.groupby("snapshot", sort=False):
            matrix = engine.compute(snapshot, load_catalog()).set_index("uscc")
            frames.append(matrix.loc[part["uscc"], model.features])
    return pd.concat(frames).reset_index(drop=True)


def test_lightgbm_reference_is_reported(city_panel):
    result = train_family(city_panel, load_catalog())
    m = result.metrics
    assert 0.6 < m["reference_lgbm_auc"] < 1.0
    assert m["gap_to_reference"] == pytest.approx(m["reference_lgbm_auc"] - m["valid_auc"])
