"""Model health: PSI against hand-computed values, warnings at the thresholds, MLflow."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from evaluation_data import SCHEME, make_codes, private_home, write_grades

from workbench import governance, workspace
from workbench.errors import NotReadyError
from workbench.scoring.train import population_stability
from workbench.stages import health
from workbench.workspace import integrity


def test_psi_against_hand_computed_values():
    # categorical: A 50/30/20 % → 40/40/20 %
    ref = pd.Series(list("AAAAABBBCC"))
    cur = pd.Series(list("AAAABBBBCC"))
    by_hand = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.4 - 0.3) * math.log(0.4 / 0.3)
    assert health.psi(ref, cur) == pytest.approx(by_hand)
    assert by_hand == pytest.approx(0.051082, abs=1e-6)
    # numeric, two bins: reference 1,2,3,4 → median 2.5; current 1,1,1,3
    by_hand = (0.75 - 0.5) * math.log(0.75 / 0.5) + (0.25 - 0.5) * math.log(0.25 / 0.5)
    assert health.psi(pd.Series([1.0, 2, 3, 4]), pd.Series([1.0, 1, 1, 3]), bins=2) == (
        pytest.approx(by_hand)
    )
    assert by_hand == pytest.approx(0.274653, abs=1e-6)
    # missing values are a bin of their own; an emptied bin costs via the 1e-6 floor
    # reference 1,2,3,NaN: edges −∞,2,∞ → [1] [2,3] [NaN] = .25 .5 .25; current 1,1,NaN,NaN
    e, a = [0.25, 0.5, 0.25], [0.5, 1e-6, 0.5]
    by_hand = sum((x - y) * math.log(x / y) for x, y in zip(a, e, strict=True))
    value = health.psi(pd.Series([1.0, 2, 3, np.nan]), pd.Series([1.0, 1, np.nan, np.nan]), bins=2)
    assert value == pytest.approx(by_hand)


def test_psi_matches_the_training_gate_on_scores():
    rng = np.random.default_rng(1)
    ref, cur = rng.normal(600, 40, 5000), rng.normal(610, 45, 4000)
    assert health.psi(pd.Series(ref), pd.Series(cur)) == pytest.approx(
        population_stability(ref, cur)
    )
    assert health.psi(pd.Series(ref), pd.Series(ref)) == pytest.approx(0.0)


def test_warning_levels_at_the_thresholds():
    assert health.psi_level(0.0999) == "stable"
    assert health.psi_level(0.10) == "warn"
    assert health.psi_level(0.2499) == "warn"
    assert health.psi_level(0.25) == "alert"
    assert health.psi_level(float("nan")) == "stable"


# ----------------------------------------------------------------------------- a month
def _month_files(month, scores, grades, indicators):
    codes = make_codes(len(scores), seed=9)
    frame = pd.DataFrame({"uscc": codes, "score": scores, "grade": grades, "pd": 0.01})
    write_grades(month, frame)
    folder = workspace.data_dir() / "indicators" / month
    folder.mkdir(parents=True, exist_ok=True)
    indicators.assign(uscc=codes, snapshot=pd.Timestamp(f"{month}-01")).to_parquet(
        folder / "indicators.parquet"
    )
    catalog = {"indicators": [{"id": "age_months", "name": "成立月数"}], "packs": []}
    (folder / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False), "utf-8")


def _grades_of(scores):
    return np.select([scores >= 620, scores >= 580, scores >= 550], ["A", "B", "C"], "D")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with private_home(tmp_path_factory.mktemp("health-home")):
        yield


@pytest.fixture(scope="module")
def three_months(home):
    rng = np.random.default_rng(5)
    n = 4000
    base = rng.normal(600, 40, n)
    ind = pd.DataFrame(
        {
            "age_months": rng.gamma(2, 30, n),
            "pen_count_36m": rng.poisson(0.2, n).astype(float),
            "entity_type": rng.choice(["company", "individual_business"], n, p=[0.4, 0.6]),
        }
    )
    _month_files("2026-07", base, _grades_of(base), ind)
    same = base + rng.normal(0, 1, n)  # a quiet month
    _month_files("2026-08", same, _grades_of(same), ind)
    shifted = base - 35  # scores fall: risk rises across the register
    moved = ind.assign(
        pen_count_36m=ind["pen_count_36m"] + rng.poisson(1.0, n),  # a penalty campaign
        entity_type=rng.choice(["company", "individual_business"], n, p=[0.58, 0.42]),
    )
    _month_files("2026-09", shifted, _grades_of(shifted), moved)
    migration = pd.DataFrame(
        {"A": [900, 10, 0, 0, 5], "B": [100, 800, 20, 0, 7], "C": [0, 50, 300, 5, 2],
         "D": [0, 0, 30, 100, 1], "退出": [3, 4, 0, 1, 0]},
        index=pd.Index(["A", "B", "C", "D", "新增"]),
    )  # fmt: skip
    migration.to_csv(
        workspace.data_dir() / "grades" / "2026-09" / "migration.csv", encoding="utf-8-sig"
    )
    integrity.write_manifest(workspace.data_dir() / "grades" / "2026-09", {"month": "2026-09"})
    return n


def test_quiet_month_is_stable(three_months):
    report = health.run_health("2026-08")
    assert report["previous"] == "2026-07"
    assert report["psi_score"] < 0.01 and report["warnings"] == []
    assert report["retrain_recommended"] is False
    psi = pd.read_csv(health.health_dir("2026-08") / "psi.csv", encoding="utf-8-sig")
    assert set(psi["kind"]) == {"score", "grade", "indicator"}
    assert set(psi.loc[psi["kind"] == "indicator", "indicator"]) == {
        "age_months", "pen_count_36m", "entity_type"
    }  # fmt: skip
    assert psi.loc[psi["indicator"] == "age_months", "name"].iloc[0] == "成立月数"


def test_shifted_month_warns_and_recommends_retraining(three_months):
    report = health.run_health("2026-09")
    levels = {w["indicator"]: w["level"] for w in report["warnings"]}
    assert levels["score"] == "alert" and levels["pen_count_36m"] == "alert"
    assert levels["entity_type"] == "warn"  # 40/60 → 58/42: PSI ≈ 0.13 in theory
    assert "age_months" not in levels
    assert report["retrain_recommended"] and len(report["retrain_reasons"]) >= 2
    psi = pd.read_csv(health.health_dir("2026-09") / "psi.csv", encoding="utf-8-sig")
    assert psi.loc[psi["indicator"] == "score", "level_zh"].iloc[0] == "显著变化"
    # migration by hand (rows previous, columns current): same 900+800+300+100,
    # to lower risk B→A 10 + C→B 20 + D→C 5, to higher risk A→B 100 + B→C 50 + C→D 30
    m = report["migration"]
    assert (m["same"], m["to_lower_risk"], m["to_higher_risk"]) == (2100, 35, 180)
    assert (m["new"], m["exited"]) == (15, 8)
    trend = pd.read_csv(health.health_dir("2026-09") / "grade_trend.csv", encoding="utf-8-sig")
    assert sorted(trend["month"].unique()) == ["2026-07", "2026-08", "2026-09"]
    assert trend.groupby("month")["share"].sum().round(9).eq(1).all()
    assert list(trend.loc[trend["month"] == "2026-09", "grade"]) == SCHEME["grades"]


def test_entity_type_psi_sits_where_the_shares_put_it(three_months):
    ref = pd.read_parquet(workspace.data_dir() / "indicators/2026-08/indicators.parquet")
    cur = pd.read_parquet(workspace.data_dir() / "indicators/2026-09/indicators.parquet")
    e = ref["entity_type"].value_counts(normalize=True)
    a = cur["entity_type"].value_counts(normalize=True)
    by_hand = sum((a[k] - e[k]) * math.log(a[k] / e[k]) for k in e.index)
    assert health.psi(ref["entity_type"], cur["entity_type"]) == pytest.approx(by_hand)
    assert 0.10 <= by_hand < 0.25


def test_first_month_and_missing_month(three_months):
    first = health.run_health("2026-07")
    assert first["previous"] is None and first["warnings"] == []
    with pytest.raises(NotReadyError, match="no grade file for 2031-01"):
        health.run_health("2031-01")


def test_health_is_logged_to_mlflow_under_the_champion(three_months):
    from mlflow import MlflowClient

    uri = governance.tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = governance.ensure_experiment("generic")
    training = client.create_run(experiment, run_name="a training run")
    client.set_terminated(training.info.run_id)
    name = governance.model_name("generic")
    client.create_registered_model(name)
    version = client.create_model_version(
        name, source=f"runs:/{training.info.run_id}/model", run_id=training.info.run_id
    )
    client.set_registered_model_alias(name, governance.CHAMPION, version.version)

    report = health.run_health("2026-09", log_mlflow=True)
    run = client.get_run(report["mlflow_run_id"])
    assert run.data.tags["champion_run_id"] == training.info.run_id
    assert run.data.tags["champion_version"] == str(version.version)
    assert run.data.metrics["psi_score"] == pytest.approx(report["psi_score"])
    assert run.data.metrics["retrain_recommended"] == 1.0
    assert "psi.pen_count_36m" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "health")}
    assert artifacts == {"health/psi.csv", "health/health.json"}
