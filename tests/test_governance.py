"""Model governance in real MLflow: log, register, promote through gates, load, serve.

Every test gets its own store (``WORKBENCH_HOME`` → ``tmp_path``); no mocks.
"""

import json
import os
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd
import pytest

from workbench import config, governance
from workbench.errors import ParameterError, WorkbenchError
from workbench.scoring.grades import load_schemes
from workbench.scoring.model import GradingModel
from workbench.scoring.scorecard import fit_scorecard

FAMILY = "test"

# Two warnings MLflow 3.17 raises from its own code on first import, ignored for MLflow's
# modules only: its sqlalchemy store configures a ``noload`` relationship (deprecated in
# SQLAlchemy 2.1), and ``mlflow.pyfunc`` infers its agent schemas from ``Any`` hints.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]


@pytest.fixture(scope="module")
def trained():
    """A tiny grading model on synthetic data with a known logistic truth."""
    rng = np.random.default_rng(11)
    n = 4000
    age = rng.exponential(60, n)
    penalties = rng.poisson(0.3, n).astype("int64")
    kind = rng.choice(["company", "individual_business", "cooperative"], n, p=[0.3, 0.6, 0.1])
    logit = -2.5 - 0.015 * age + 0.9 * penalties + np.where(kind == "individual_business", 0.5, 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"age": age, "penalties": penalties, "kind": kind})
    frame.loc[frame.index[::17], "age"] = np.nan  # missing values must pass the signature
    scorecard = fit_scorecard(
        frame, y, categorical=["kind"], monotonic={"age": "descending", "penalties": "ascending"}
    )
    scheme = load_schemes()["national_4"].calibrate(scorecard.score(frame), scorecard.pd(frame))
    model = GradingModel(FAMILY, scorecard, scheme, catalog_fingerprint="sha256:test")
    return model, frame


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv(governance.URI_VARIABLE, raising=False)
    monkeypatch.delenv(config.CONF_ENV, raising=False)  # the packaged defaults apply
    return tmp_path


PASSING = {
    "valid_auc": 0.74,
    "valid_ks": 0.36,
    "psi_score": 0.03,
    "grades_monotone": 1,
    "max_feature_missing_share": 0.06,
}


def _log(trained, tmp_path, metrics=PASSING, **params):
    model, frame = trained
    report = tmp_path / "report"
    report.mkdir(exist_ok=True)
    (report / "model_card.md").write_text("# 模型卡\n内部参考不对外公开\n", encoding="utf-8")
    model.scorecard.points_table().to_csv(report / "points.csv", index=False)
    return governance.log_training_run(
        model,
        params={"scheme": "national_4", "binning": {"min_bin_share": 0.05}, "packs": [], **params},
        metrics=metrics,
        artifacts={"report": report},
        input_example=frame.head(5),
    )


def test_log_register_promote_and_load_in_a_new_process(trained, store):
    model, frame = trained
    run = _log(trained, store)
    assert run.model_name == "workbench-test" and run.version == "1"
    assert str(store / "mlflow" / "mlflow.db") in governance.tracking_uri()

    import mlflow

    client = mlflow.MlflowClient(governance.tracking_uri())
    logged = client.get_run(run.run_id)
    assert logged.data.params["binning.min_bin_share"] == "0.05"
    assert logged.data.params["packs"] == "[]"
    assert logged.data.tags["workbench.family"] == FAMILY
    assert logged.data.tags["git_commit"]
    # which configuration trained it: the fingerprint of the effective files
    assert logged.data.params["config_fingerprint"] == config.current().fingerprint
    assert logged.data.params["config_folder"] == "defaults"
    assert logged.info.status == "FINISHED"
    experiment = client.get_experiment(logged.info.experiment_id)
    assert experiment.name == "workbench-test"
    # a machine-learning experiment: the UI opens on its runs, not on GenAI traces
    assert experiment.tags[governance.KIND_TAG] == "custom_model_development"
    assert experiment.tags[governance.PURPOSE_TAG] == "training"
    assert logged.info.run_name == f"train-{FAMILY}-national_4"  # no invented name
    assert experiment.artifact_location == (store / "mlflow" / "artifacts" / FAMILY).as_uri()
    names = {a.path for a in client.list_artifacts(run.run_id, "report")}
    assert names == {"report/model_card.md", "report/points.csv"}
    assert not (store / "mlruns").exists() and not os.path.exists("mlruns")

    result = governance.promote(run.run_id)
    assert result.promoted, result.message
    assert governance.champion_version(FAMILY) == run.version
    # every gate's verdict is a tag of the training run, with the value and the threshold
    tags = client.get_run(run.run_id).data.tags
    assert tags["gates"] == "passed"
    assert tags["gate.auc_min"] == f"passed: valid_auc {PASSING['valid_auc']:.4g} ≥ 0.65"
    assert {f"gate.{c.gate}" for c in result.checks} <= set(tags)

    # a fresh process knows nothing but the store's URI and the model's alias
    sample = frame.sample(300, random_state=3)
    sample.to_parquet(store / "frame.parquet")
    child = textwrap.dedent(
        f"""
        import mlflow, pandas as pd
        from workbench.governance import model_input
        model = mlflow.pyfunc.load_model("models:/workbench-test@champion")
        frame = pd.read_parquet({str(store / "frame.parquet")!r})
        model.predict(model_input(frame)).to_parquet({str(store / "out.parquet")!r})
        """
    )
    env = dict(os.environ, MLFLOW_TRACKING_URI=governance.tracking_uri())
    done = subprocess.run(
        [sys.executable, "-c", child],
        env=env,
        cwd=store,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = pd.read_parquet(store / "out.parquet")
    expected = model.predict(sample).reset_index(drop=True)
    assert list(out.columns) == ["score", "pd", "model_grade"]
    np.testing.assert_allclose(out["score"], expected["score"], rtol=1e-12)
    np.testing.assert_allclose(out["pd"], expected["pd"], rtol=1e-12)
    assert out["model_grade"].tolist() == expected["model_grade"].tolist()

    # and in this process, through the helper
    again = governance.load_champion(FAMILY).predict(governance.model_input(sample))
    assert again["model_grade"].tolist() == expected["model_grade"].tolist()


def test_failing_gate_leaves_the_champion(trained, store):
    first = _log(trained, store)
    assert governance.promote(first.run_id).promoted
    weak = _log(trained, store, metrics={**PASSING, "valid_auc": 0.612, "psi_score": 0.31})
    result = governance.promote(weak.run_id)
    assert not result.promoted
    assert governance.champion_version(FAMILY) == first.version
    assert "gate valid_auc ≥ 0.65 failed: 0.612" in result.message
    assert "gate psi_score < 0.25 failed: 0.31" in result.message
    # every gate is printed, the passed ones with their values too
    assert f"gate valid_ks ≥ 0.25 passed: {PASSING['valid_ks']:.4g}" in result.message
    assert len(result.message.splitlines()) == 1 + len(result.checks)
    import mlflow

    tags = mlflow.MlflowClient(governance.tracking_uri()).get_run(weak.run_id).data.tags
    assert tags["gates"] == "failed" and tags["gate.auc_min"].startswith("failed: valid_auc")
    assert result.previous == first.version and result.challenger is None
    assert governance.champion_version(FAMILY, "challenger") is None

    # a metric the run did not log fails its gate rather than passing silently
    bare = _log(trained, store, metrics={"valid_auc": 0.8})
    assert "gate valid_ks ≥ 0.25 failed: not logged" in governance.promote(bare.run_id).message


def test_second_promotion_moves_the_champion_to_challenger(trained, store):
    first, second = _log(trained, store), _log(trained, store)
    assert (first.version, second.version) == ("1", "2")
    governance.promote(first.run_id)
    result = governance.promote(second.run_id)
    assert result.promoted and result.challenger == "1"
    assert governance.champion_version(FAMILY) == "2"
    assert governance.champion_version(FAMILY, "challenger") == "1"


def test_promoting_an_unknown_run_names_the_runs_that_exist(trained, store):
    run = _log(trained, store)
    with pytest.raises(WorkbenchError) as caught:
        governance.promote("deadbeef")
    message = str(caught.value)
    assert isinstance(caught.value, governance.PromotionError)
    assert "\n" not in message  # one line for the CLI
    assert message.startswith(f"no MLflow run deadbeef in {governance.tracking_uri()}; ")
    assert f"experiment workbench-{FAMILY}: {run.run_id}" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_grading_resolves_the_champion_and_logs_a_run_naming_it(trained, store):
    import mlflow

    model, frame = trained
    run = _log(trained, store)
    with pytest.raises(governance.ModelNotFoundError, match="no version with alias 'champion'"):
        governance.resolve_alias(FAMILY)
    governance.promote(run.run_id)
    loaded, ref = governance.load_grading_model(FAMILY)
    assert ref == governance.ModelRef(run.model_name, run.version, run.run_id, "champion")
    expected = model.predict(frame)["model_grade"].tolist()
    assert loaded.predict(frame)["model_grade"].tolist() == expected

    table = store / "distribution.csv"
    table.write_text("grade,enterprises\n", encoding="utf-8")
    grading_id = governance.log_grading_run(
        ref, FAMILY, params={"snapshot": "2026-09"}, metrics={"enterprises": len(frame)},
        artifacts=[table],
    )  # fmt: skip
    logged = mlflow.MlflowClient(governance.tracking_uri()).get_run(grading_id)
    assert logged.info.status == "FINISHED"
    assert logged.info.run_name == f"grade-{FAMILY}-v{run.version}-2026-09"
    assert logged.data.tags["stage"] == "grade"
    assert logged.data.tags["model_run_id"] == run.run_id
    # grading runs have an experiment of their own, apart from the training runs
    experiment = mlflow.MlflowClient(governance.tracking_uri()).get_experiment(
        logged.info.experiment_id
    )
    assert experiment.name == governance.experiment_name(FAMILY, "grading")
    assert experiment.tags[governance.KIND_TAG] == "custom_model_development"
    assert logged.data.tags["model_version"] == run.version
    assert logged.data.params["config_fingerprint"] == config.current().fingerprint
    assert logged.data.metrics["enterprises"] == len(frame)
    # a grading run is not a training run: promoting it says so
    with pytest.raises(governance.PromotionError, match="grade run.*registered no model"):
        governance.promote(grading_id)


def test_a_failure_while_logging_marks_the_run_failed(trained, store):
    import mlflow
    from mlflow.exceptions import MlflowException

    # a parameter name MLflow refuses: the run exists by then, and must not stay RUNNING
    with pytest.raises(MlflowException, match="Invalid value"):
        _log(trained, store, **{"weight*": 1})
    client = mlflow.MlflowClient(governance.tracking_uri())
    experiment = client.get_experiment_by_name(governance.model_name(FAMILY))
    (failed,) = client.search_runs([experiment.experiment_id])
    assert failed.info.status == "FAILED"
    assert failed.data.params["config_fingerprint"] == config.current().fingerprint

    # the same for any run opened by the workbench (grading, health): an error mid-block
    with pytest.raises(ZeroDivisionError), governance.open_run(FAMILY, run_name="x") as run:
        run.log_metrics({"enterprises": 3})
        _ = 1 / 0
    logged = client.get_run(run.run_id)
    assert logged.info.status == "FAILED" and logged.data.metrics["enterprises"] == 3


def test_gates_file(tmp_path):
    gates = governance.load_gates()
    assert gates == governance.Gates()  # the packaged file says what the defaults say
    custom = tmp_path / "gates.yaml"
    custom.write_text("auc_min: 0.7\npsi_max: null\n", encoding="utf-8")
    loaded = governance.load_gates(custom)
    assert loaded.auc_min == 0.7 and loaded.psi_max is None and loaded.ks_min == 0.25
    checks = {c.gate: c for c in loaded.check({**PASSING, "psi_score": 0.9})}
    assert checks["psi_max"].passed and checks["auc_min"].passed
    assert checks["grades_order_z_min"].verdict == "off"  # off unless a bureau sets it
    custom.write_text("grades_monotone: false\ngrades_order_z_min: -1.645\n", encoding="utf-8")
    lenient = governance.load_gates(custom)
    noisy = {**PASSING, "grades_monotone": 0, "grades_order_z": -0.8}
    assert all(c.passed for c in lenient.check(noisy))
    shown = {c.gate: c for c in lenient.check({**noisy, "grades_order_z": -2.4})}
    assert not shown["grades_order_z_min"].passed
    assert shown["grades_order_z_min"].message == "gate grades_order_z ≥ -1.645 failed: -2.4"
    custom.write_text("auc_minimum: 0.7\n", encoding="utf-8")
    with pytest.raises(governance.GateConfigError, match=r"gates.yaml: key 'auc_minimum'"):
        governance.load_gates(custom)
    custom.write_text("ks_min: high\n", encoding="utf-8")
    with pytest.raises(governance.GateConfigError, match=r"gates.yaml: key 'ks_min' is 'high'"):
        governance.load_gates(custom)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def _post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def test_a_real_server_finds_the_run_and_the_champion(trained, store, monkeypatch):
    run = _log(trained, store)
    governance.promote(run.run_id)
    with governance.MLflowServer(log_path=store / "server.log") as server:
        assert server.url.startswith("http://127.0.0.1:")
        api = f"{server.url}/api/2.0/mlflow"
        runs = _post(f"{api}/runs/search", {"experiment_ids": [run.experiment_id]})["runs"]
        assert [r["info"]["run_id"] for r in runs] == [run.run_id]
        models = _get(f"{api}/registered-models/search")["registered_models"]
        assert [m["name"] for m in models] == ["workbench-test"]
        query = urllib.parse.urlencode({"name": "workbench-test", "alias": "champion"})
        version = _get(f"{api}/registered-models/alias?{query}")["model_version"]
        assert version["run_id"] == run.run_id and version["version"] == run.version

        # one setting switches the workbench to the server: log and promote through it
        monkeypatch.setenv(governance.URI_VARIABLE, server.url)
        second = _log(trained, store)
        assert governance.promote(second.run_id).promoted
        version = _get(f"{api}/registered-models/alias?{query}")["model_version"]
        assert version["run_id"] == second.run_id
        pgid = server.process.pid
    with pytest.raises(ProcessLookupError):  # the whole process group is gone
        os.killpg(pgid, 0)


def test_server_refuses_a_non_loopback_host(store):
    with pytest.raises(ParameterError, match="not loopback"):
        governance.MLflowServer(host="0.0.0.0")
