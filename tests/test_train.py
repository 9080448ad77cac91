"""Training on generated cities: out-of-time validation, grade order, MLflow round trip."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import cli, governance
from workbench.demo import synth
from workbench.demo.synth.ceiling import truth_ceiling
from workbench.indicators import load_catalog
from workbench.scoring import labels
from workbench.scoring import train as train_module
from workbench.scoring.grades import load_schemes
from workbench.scoring.panel import build_panel, latest_labelled_snapshot
from workbench.scoring.scorecard import BASE_POINTS
from workbench.scoring.train import (
    embargoed_snapshots,
    graded_alike,
    split_with_embargo,
    train_family,
)
from workbench.views.training import _reference_order, model_card

DATA_SNAPSHOT = synth.DEFAULT_END


@pytest.fixture(scope="module")
def city_panel(city_20k):
    """The default panel of the train stage: 10 training month ends, a 12-month embargo, 3
    validation month ends."""
    definition = labels.load_label_definition()
    train, valid = embargoed_snapshots(
        latest_labelled_snapshot(DATA_SNAPSHOT, definition),
        horizon_months=definition.horizon_months,
    )
    return build_panel(
        city_20k / "ingest" / "tables", train + valid, load_catalog(), definition, DATA_SNAPSHOT
    )


@pytest.fixture(scope="module")
def trained(city_panel):
    """One training run per preset scheme (the LightGBM reference once)."""
    return {
        scheme: train_family(
            city_panel, load_catalog(), scheme_id=scheme, reference=scheme == "national_4"
        )
        for scheme in ("national_4", "five_class")
    }


@pytest.mark.parametrize(("scheme", "grades"), [("national_4", "ABCD"), ("five_class", "ABCDE")])
def test_out_of_time_validation_and_strict_grade_order(trained, scheme, grades):
    result = trained[scheme]
    m, p = result.metrics, result.params
    valid_months = set(result.validation["snapshot"].dt.strftime("%Y-%m"))
    assert len(valid_months) == 3
    # out of time, and every training label window ends before validation begins
    last_train = pd.Timestamp(max(p["train_snapshots"]))
    assert p["embargo_months"] == 12
    assert last_train + pd.DateOffset(months=12) <= pd.Timestamp(min(p["valid_snapshots"]))
    assert m["valid_auc"] > 0.65 and m["valid_ks"] > 0.2
    assert m["psi_score"] < 0.1
    table = result.grade_table
    assert "".join(table["grade"]) == grades
    assert (table["bad_rate"].diff().dropna() > 0).all(), table  # strictly rising A → D/E
    assert m["grades_monotone"] == 1.0


def test_scorecard_is_within_002_of_lightgbm(trained):
    """The issue's margin, on the 20,000-enterprise city (default seed).

    Measured on the embargoed split (scorecard minus LightGBM reference, validation AUC):
    20k cities of seeds 2026, 1, 2, 3: −0.014, −0.004, −0.013, −0.017; 50k: −0.003,
    −0.008, −0.013, −0.001; the 100k demo city −0.007. Without the embargo (training labels
    overlapping the validation months) LightGBM recognised enterprises and was 0.03–0.10
    ahead on the demo city.
    """
    m = trained["national_4"].metrics
    assert 0.6 < m["reference_lgbm_auc"] < 1.0
    assert m["gap_to_reference"] == pytest.approx(m["reference_lgbm_auc"] - m["valid_auc"])
    assert m["gap_to_reference"] <= 0.02, m


def test_the_reference_is_graded_as_the_scorecard_is(trained, city_panel, monkeypatch):
    """The reference's grades: same scheme, same scale, cutoffs from its own training PDs.

    Fed the scorecard's own PDs, :func:`graded_alike` gives back the scorecard's grade
    table, and a training run whose reference predicts exactly the card's PDs logs the
    card's own order for it.
    """
    result = trained["national_4"]
    fitted = result.model.scorecard
    np.testing.assert_allclose(
        fitted.score_from_pd(fitted.pd_from_score(result.train_scores)), result.train_scores
    )
    v = result.validation
    y_valid = v["label"].astype(int).to_numpy()
    train_pd = fitted.pd_from_score(result.train_scores)
    again = graded_alike(
        load_schemes()["national_4"], fitted, train_pd, v["pd"].to_numpy(), y_valid, v["uscc"]
    )
    columns = ["grade", "count", "enterprises", "bad_rate", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(again[columns], result.grade_table[columns])

    def the_card(train, valid, names, categorical, seed=0):
        return fitted.pd(train), fitted.pd(valid)

    monkeypatch.setattr(train_module, "lightgbm_reference", the_card)
    m = train_family(city_panel, load_catalog(), scheme_id="national_4").metrics
    assert m["valid_auc"] == result.metrics["valid_auc"]  # the same card, trained again
    assert m["reference_lgbm_auc"] == pytest.approx(m["valid_auc"])
    assert m["reference_lgbm_grades_monotone"] == m["grades_monotone"]
    assert m["reference_lgbm_order_z"] == pytest.approx(m["grades_order_z"])
    assert "参照模型 LightGBM 按同一方案分级" in model_card(result)


def test_the_model_card_reads_the_references_order_with_its_noise():
    flat = {"grades_monotone": 0.0, "grades_order_z": -0.4}
    both = _reference_order(
        {**flat, "reference_lgbm_grades_monotone": 0.0, "reference_lgbm_order_z": -0.9}
    )
    assert "都在抽样误差之内" in both
    beyond = _reference_order(
        {**flat, "reference_lgbm_grades_monotone": 0.0, "reference_lgbm_order_z": -2.6}
    )
    assert "最弱一步 z = -2.60" in beyond and "抽样误差之内" not in beyond
    card_beyond = {"grades_monotone": 0.0, "grades_order_z": -2.4}
    ref_rises = {"reference_lgbm_grades_monotone": 1.0, "reference_lgbm_order_z": 0.7}
    assert "抽样误差之内" not in _reference_order({**card_beyond, **ref_rises})
    empty = {**flat, "reference_lgbm_grades_monotone": 0.0, "reference_lgbm_order_z": float("nan")}
    assert "有等级没有验证样本" in _reference_order(empty)
    assert _reference_order(flat) == ""  # a run without the reference


def test_points_table_carries_chinese_names(trained):
    result = trained["national_4"]
    assert result.points_table["名称"].notna().all()
    assert set(result.points_table["Variable"]) == {BASE_POINTS, *result.model.features}


def test_embargo_purges_training_labels_that_overlap_validation():
    months = pd.date_range("2024-01-31", "2025-12-31", freq="ME")
    rows = pd.DataFrame({"snapshot": months.repeat(2), "label": [0.0, 1.0] * len(months)})
    train, valid, purged = split_with_embargo(rows, pd.Timestamp("2025-06-30"), 12)
    assert train["snapshot"].max() == pd.Timestamp("2024-06-30")
    assert valid["snapshot"].min() == pd.Timestamp("2025-06-30")
    assert purged == list(pd.date_range("2024-07-31", "2025-05-31", freq="ME"))
    train0, _, purged0 = split_with_embargo(rows, pd.Timestamp("2025-06-30"), 0)
    assert train0["snapshot"].max() == pd.Timestamp("2025-05-31") and not purged0
    # a contiguous 13-month panel cannot be validated on its last quarter with the embargo
    with pytest.raises(ValueError, match="on or before 2024-08-31"):
        train_family(rows[rows["snapshot"].between("2024-10-01", "2025-10-31")], load_catalog())


def test_embargoed_snapshots():
    train, valid = embargoed_snapshots("2025-10-31", horizon_months=12)
    assert [d.strftime("%Y-%m-%d") for d in valid] == ["2025-08-31", "2025-09-30", "2025-10-31"]
    assert train[0] == pd.Timestamp("2023-11-30") and train[-1] == pd.Timestamp("2024-08-31")
    assert len(train) == 10
    train, valid = embargoed_snapshots(
        "2025-02-28", horizon_months=6, train_months=2, valid_months=1
    )
    assert train == [pd.Timestamp("2024-07-31"), pd.Timestamp("2024-08-31")]
    with pytest.raises(ValueError, match="train_months"):
        embargoed_snapshots("2025-02-28", horizon_months=6, train_months=0)


def test_truth_ceiling_is_label_consistent(trained, city_20k):
    result = trained["national_4"]
    ceiling = truth_ceiling(result.validation, city_20k / "city" / "_truth")
    bad_rate = result.validation["label"].mean()
    # the label-consistent limit is above any model, and above the violation-only ranking
    assert ceiling["truth_label_auc"] > result.metrics["reference_lgbm_auc"] + 0.05
    assert ceiling["truth_label_auc"] > ceiling["truth_violation_auc"]
    assert ceiling["truth_label_mean_pd"] == pytest.approx(bad_rate, rel=0.15)
    assert truth_ceiling(result.validation, city_20k / "no_truth") == {}


def test_train_promote_and_score_in_a_new_process(clean_city, tmp_path, monkeypatch, capsys):
    """The README flow on the session's small city, in a private workspace: train, promote,
    load @champion."""
    from workbench.stages.ingest import run_ingest

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    ingested = run_ingest(clean_city, None)
    out = tmp_path / "model"
    assert cli.main(["train", "--data", ingested["out"], "--out", str(out), "--no-notebook"]) == 0
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
    from workbench.scoring.model import GradingModel

    model = GradingModel.load(out / "model.pkl")
    frame = _validation_features(out, model, Path(ingested["out"]))
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


def _validation_features(out, model, ingested):
    """Rebuild the validation rows' features from the panel the stage used."""
    from workbench.indicators import Engine

    validation = pd.read_parquet(out / "validation.parquet")
    frames = []
    with Engine(ingested / "tables") as engine:
        for snapshot, part in validation.groupby("snapshot", sort=False):
            matrix = engine.compute(snapshot, load_catalog()).set_index("uscc")
            frames.append(matrix.loc[part["uscc"], model.features])
    return pd.concat(frames).reset_index(drop=True)
