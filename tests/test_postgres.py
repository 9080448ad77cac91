"""The shared store (共享存储): MLflow on a real PostgreSQL, train → promote → grade → REST.

A throwaway PostgreSQL server is started from the Debian binaries (``./run`` installs
``postgresql``) in a temporary folder on a free loopback port; an MLflow tracking server
runs on it, and the workbench logs through that server as a reviewer's colleague would.
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from conftest import PERMISSIVE_GATES
from workbench import cli, governance
from workbench.workspace import integrity

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
pytestmark = [
    pytest.mark.skipif(
        not BINARIES, reason="PostgreSQL binaries absent (./run setup installs `postgresql`)"
    ),
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    # the small city has few events per candidate indicator; the store is under test here
    pytest.mark.filterwarnings("ignore::workbench.scoring.scorecard.ScorecardWarning"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server for this module: ``postgresql://workbench@127.0.0.1:<port>/mlflow``.

    initdb refuses to run as root, so under root the server runs as the ``postgres`` user
    the Debian package creates, in a folder that user owns.
    """
    bin_dir = Path(BINARIES[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", governance.free_port()

    def run(tool: str, *args: str) -> None:
        command = [*as_user, str(bin_dir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    run("initdb", "-D", str(data), "-U", "workbench", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    run("pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "workbench", "mlflow")
        yield f"postgresql://workbench@127.0.0.1:{port}/mlflow"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def _post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def test_train_promote_grade_on_a_postgres_store(postgres, clean_city, tmp_path, monkeypatch):
    from workbench.stages.ingest import run_ingest

    home = tmp_path / "home"
    home.mkdir()
    (home / "pyproject.toml").write_text("# test home\n")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv(integrity.KEY_ENV_FILE, str(home / ".workbench" / "signing.key"))
    monkeypatch.delenv(integrity.KEY_ENV, raising=False)
    monkeypatch.delenv(governance.URI_VARIABLE, raising=False)
    gates = tmp_path / "gates.yaml"
    gates.write_text(PERMISSIVE_GATES, encoding="utf-8")

    server = governance.MLflowServer(
        postgres, tmp_path / "artifacts", timeout=180, log_path=tmp_path / "server.log"
    )
    with server:
        monkeypatch.setenv(governance.URI_VARIABLE, server.url)
        report = run_ingest(clean_city, None)
        out = tmp_path / "model"
        assert cli.main(["train", "--data", report["out"], "--out", str(out), "--no-notebook"]) == 0
        run_id = json.loads((out / "run.json").read_text(encoding="utf-8"))["run_id"]
        assert cli.main(["promote", run_id, "--gates", str(gates)]) == 0
        month = str(pd.Period(report["snapshot"][:7], "M"))
        assert cli.main(["grade", "--month", month, "--no-notebook"]) == 0

        # a reviewer finds everything through the REST API of the server
        api = f"{server.url}/api/2.0/mlflow"
        experiments = {
            e["name"]: e
            for e in _post(f"{api}/experiments/search", {"max_results": 100})["experiments"]
        }
        training = experiments[governance.experiment_name("generic")]
        grading = experiments[governance.experiment_name("generic", "grading")]
        for experiment in (training, grading):
            tags = {t["key"]: t["value"] for t in experiment.get("tags", [])}
            assert tags[governance.KIND_TAG] == governance.KIND_ML
        (trained,) = _post(f"{api}/runs/search", {"experiment_ids": [training["experiment_id"]]})[
            "runs"
        ]
        assert trained["info"]["run_id"] == run_id
        assert trained["info"]["run_name"].startswith("train-generic-")
        run_tags = {t["key"]: t["value"] for t in trained["data"]["tags"]}
        assert run_tags["gates"] == "passed" and run_tags["gate.auc_min"].startswith("passed")
        (graded,) = _post(f"{api}/runs/search", {"experiment_ids": [grading["experiment_id"]]})[
            "runs"
        ]
        graded_tags = {t["key"]: t["value"] for t in graded["data"]["tags"]}
        assert graded_tags["model_run_id"] == run_id and graded_tags["stage"] == "grade"
        query = urllib.parse.urlencode({"name": "workbench-generic", "alias": "champion"})
        champion = _get(f"{api}/registered-models/alias?{query}")["model_version"]
        assert champion["run_id"] == run_id

    # the runs are in PostgreSQL, not in a local file
    import psycopg

    with psycopg.connect(postgres) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT run_uuid FROM runs")
        stored = {row[0] for row in cursor.fetchall()}
    assert {run_id, graded["info"]["run_id"]} <= stored
    assert not (home / "mlflow" / "mlflow.db").exists()
